"""Every differentiable operation: one Function subclass per op, forward and
backward side by side, plus the lowercase function users call.

- ``elementwise``: + - * / **, exp, log, sqrt, abs, clamp, where, maximum, ... (broadcasting)
- ``pointwise``: the rest of the elementwise math (sin, erf, fmod, round, isnan, tril, ...)
- ``promotion``: PyTorch's result dtypes where NumPy's differ
- ``bitwise``: & | ^ ~ << >> on integer tensors (logical on bool ones)
- ``reduction``: sum, mean, var, max, min, prod, cumsum, logsumexp, norms, median, ...
- ``shape``: reshape, permute, expand, indexing, cat, stack, flip, roll, split, ...
- ``indexing``: gather, scatter, index_select, masked_fill, sort, topk, one_hot
- ``linalg``: matmul, mm, bmm, dot, outer, einsum, linear
- ``activation``: relu, sigmoid, tanh, leaky_relu, elu, gelu, silu, prelu, softmax, log_softmax, softmin
- ``pointwise_activations``: softplus, hardtanh, relu6, hardswish, mish, selu, celu, ... (formula + derivative)
- ``dropout``: dropout, dropout2d
- ``padding``: pad (constant, reflect, replicate, circular)
- ``attention``: scaled_dot_product_attention, normalize
- ``conv``: conv1d/2d/3d and conv_transpose1d/2d/3d (im2col + GEMM kernels)
- ``pooling``: max, average, adaptive and unpooling; ``resize``: interpolate, pixel_shuffle
- ``normalization``: batch_norm, layer_norm, group_norm, instance_norm; ``loss``: the loss functions
- ``construction``: broadcast_to, meshgrid, hstack, tensor_split, diagonal, diag_embed, kron,
  tensordot, block_diag, combinations, index_add/copy/fill, ... (built from shape and linalg ops)
- ``statistics``: nanmean, quantile, kthvalue, cov, histogram, bincount, unique, diff, trapezoid, ...
- ``_args``: the argument parsing (int-or-tuple, output sizes, padding) the ops share
  with the layers and minigrad.utils
"""
from minigrad.ops import (  # noqa: F401
    activation,
    bitwise,
    construction,  # --- shapefns ---
    conv,
    dropout,
    elementwise,
    indexing,
    linalg,
    padding,
    pointwise,
    pointwise_activations,
    reduction,
    shape,
)

# --- mathfns ---
# - ``special_math``: lgamma, digamma, polygamma, Bessel i0/i1, ndtr, xlogy, zeta, gcd, frexp, ...
# - ``fused_linalg``: addmm, addbmm, baddbmm, addmv, addr, addcmul, addcdiv, cross
# - ``norm_ops``: cdist, dist, renorm
# (imported by minigrad/__init__.py, which makes them attributes of minigrad.ops)
# --- end mathfns ---
# --- inplace ---
# - ``aliases``: PyTorch's other names (greater, negative, absolute, ...), deg2rad, rsub, vdot, inner,
#   split_with_sizes, asarray, scalar_tensor, range, is_nonzero, is_signed, typename
# (imported by minigrad/__init__.py too)
# --- end inplace ---
