"""Every differentiable operation: one Function subclass per op, forward and
backward side by side, plus the lowercase function users call.

- ``elementwise``: + - * / **, exp, log, relu, where, maximum, ... (broadcasting)
- ``reduction``: sum, mean, var, max, min, argmax, argmin
- ``shape``: reshape, permute, expand, indexing, cat, stack
- ``linalg``: matmul
"""
from minigrad.ops import elementwise, linalg, reduction, shape  # noqa: F401
