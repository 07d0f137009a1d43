"""Every differentiable operation: one Function subclass per op, forward and
backward side by side, plus the lowercase function users call.

- ``elementwise``: + - * / **, exp, log, relu, where, maximum, ... (broadcasting)
- ``reduction``: sum, mean, var, max, min, argmax, argmin
- ``shape``: reshape, permute, expand, indexing, cat, stack
- ``linalg``: matmul
- ``conv``: conv1d/2d/3d and conv_transpose1d/2d/3d (im2col + GEMM kernels)
"""
from minigrad.ops import elementwise, linalg, reduction, shape  # noqa: F401
from minigrad.ops import conv  # noqa: F401
