"""Every differentiable operation: one Function subclass per op, forward and
backward side by side, plus the lowercase function users call.

- ``elementwise``: + - * / **, exp, log, relu, where, maximum, ... (broadcasting)
- ``pointwise``: the rest of the elementwise math (sin, erf, fmod, round, isnan, tril, ...)
- ``bitwise``: & | ^ ~ << >> on integer tensors (logical on bool ones)
- ``reduction``: sum, mean, var, max, min, prod, cumsum, logsumexp, norms, median, ...
- ``shape``: reshape, permute, expand, indexing, cat, stack, flip, roll, split, ...
- ``indexing``: gather, scatter, index_select, masked_fill, sort, topk
- ``linalg``: matmul, mm, bmm, dot, outer, einsum
- ``pointwise_activations``: softplus, hardtanh, relu6, hardswish, mish, selu, celu, ...
- ``attention``: scaled_dot_product_attention, normalize
- ``conv``: conv1d/2d/3d and conv_transpose1d/2d/3d (im2col + GEMM kernels)
"""
from minigrad.ops import (  # noqa: F401  # noqa: F401
    activation,
    bitwise,
    conv,  # noqa: F401
    elementwise,
    indexing,
    linalg,
    pointwise,
    pointwise_activations,
    reduction,
    shape,
)
