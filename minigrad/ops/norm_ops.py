"""p-norms between and within tensors: cdist (every pair of rows of two sets),
dist (the norm of a difference) and renorm (cap the norm of each slice).

cdist of x1 (..., P, M) and x2 (..., R, M) is (..., P, R):

    out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p

Its gradient with respect to x1[i] is sum_j grad[i, j] * d||d_ij||_p / d d_ij with
d_ij = x1[i] - x2[j], and minus that (summed over i) for x2[j]. For p = 2 this is
(grad / out) applied as matrix products, so backward never builds the
(..., P, R, M) tensor of differences; the other p do.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.ops.elementwise import _constant, unbroadcast, where
from minigrad.ops.fused_linalg import _broadcast_three, torch_dtype_name
from minigrad.ops.reduction import normalize_dims, vector_norm
from minigrad.tensor import Tensor

_COMPUTE_MODES = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def _differences(x1, x2):
    return x1[..., :, None, :] - x2[..., None, :, :]                 # (..., P, R, M)


class Cdist(Function):
    """The p-norm distance of every row of x1 to every row of x2 (batch dims broadcast)."""

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        if p == 2 and use_mm:
            # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b: two matrix products, no (P, R, M) tensor
            squared = ((x1 * x1).sum(-1)[..., :, None] + (x2 * x2).sum(-1)[..., None, :]
                       - 2 * np.matmul(x1, np.swapaxes(x2, -1, -2)))  # (..., P, R)
            out = np.sqrt(np.maximum(squared, 0))
        else:
            magnitude = np.abs(_differences(x1, x2))
            if p == 0:
                out = (magnitude != 0).sum(-1).astype(x1.dtype)
            elif p == 1:
                out = magnitude.sum(-1)
            elif p == 2:
                out = np.sqrt((magnitude * magnitude).sum(-1))
            elif p == math.inf:
                out = magnitude.max(-1, initial=0)
            else:
                out = (magnitude ** p).sum(-1) ** (1 / p)
        out = np.asarray(out, dtype=x1.dtype)
        ctx.save_for_backward(x1, x2, out)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, grad):
        x1, x2, out = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return np.zeros_like(x1), np.zeros_like(x2), None, None
        if p == 2:
            with np.errstate(divide="ignore", invalid="ignore"):
                weight = np.where(out == 0, 0, grad / out)                # (..., P, R)
            # sum_j w_ij (x1_i - x2_j) = (sum_j w_ij) x1_i - (w @ x2)_i
            grad_x1 = weight.sum(-1)[..., None] * x1 - np.matmul(weight, x2)
            grad_x2 = weight.sum(-2)[..., None] * x2 - np.matmul(np.swapaxes(weight, -1, -2), x1)
        else:
            difference = _differences(x1, x2)                            # (..., P, R, M)
            magnitude = np.abs(difference)
            distance = out[..., None]                                    # (..., P, R, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                if p == 1:
                    local = np.sign(difference)
                elif p == math.inf:
                    local = np.sign(difference) * (magnitude == distance)
                else:
                    local = np.where((difference == 0) | (distance == 0), 0,
                                     np.sign(difference) * (magnitude / distance) ** (p - 1))
            weighted = grad[..., None] * local                           # (..., P, R, M)
            grad_x1, grad_x2 = weighted.sum(-2), -weighted.sum(-3)
        return (unbroadcast(grad_x1.astype(x1.dtype, copy=False), x1.shape),
                unbroadcast(grad_x2.astype(x2.dtype, copy=False), x2.shape), None, None)

    @staticmethod
    def backward_graph(ctx, grad):
        # backward's formulas as recorded ops; out is the output (differentiated through it)
        x1, x2, out = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return (_constant(np.zeros(x1.shape, x1.dtype)), _constant(np.zeros(x2.shape, x2.dtype)),
                    None, None)
        if p == 2:
            zero = _constant(out.array == 0)
            weight = where(zero, 0.0, grad / where(zero, 1.0, out))                   # (..., P, R)
            grad_x1 = weight.sum(-1, keepdim=True) * x1 - weight.matmul(x2)
            grad_x2 = weight.sum(-2).unsqueeze(-1) * x2 - weight.transpose(-1, -2).matmul(x1)
        else:
            difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)                           # (..., P, R, M)
            sign = np.sign(difference.array)
            distance = out.unsqueeze(-1)                                               # (..., P, R, 1)
            if p == 1:
                local = _constant(sign)
            elif p == math.inf:
                local = _constant(sign * (np.abs(difference.array) == distance.array))
            else:
                # sign(d) (|d| / dist)^(p-1), 0 where d or dist is 0 (kept finite there)
                masked = _constant((difference.array == 0) | (distance.array == 0))
                magnitude = where(masked, 1.0, difference * _constant(sign))
                local = where(masked, 0.0, _constant(sign) * (magnitude / where(masked, 1.0, distance))
                              ** (p - 1))
            weighted = grad.unsqueeze(-1) * local                                      # (..., P, R, M)
            grad_x1, grad_x2 = weighted.sum(-2), -weighted.sum(-3)
        return (unbroadcast(grad_x1, tuple(x1.shape)), unbroadcast(grad_x2, tuple(x2.shape)),
                None, None)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R).

    compute_mode picks, for p = 2, the matrix-product formula (fast, rounds
    differently for near-equal rows) over the direct differences: always
    ('use_mm_for_euclid_dist'), never ('donot_use_mm_for_euclid_dist'), or when
    P > 25 or R > 25 (the default, also None).
    """
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"cdist(): argument '{name}' must be Tensor, not {type(x).__name__}")
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{torch_dtype_name(x.dtype)}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected scalar type {torch_dtype_name(x1.dtype)} but found "
                           f"{torch_dtype_name(x2.dtype)}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p!r}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"cdist: the batch dimensions of x1 {tuple(x1.shape)} and x2 "
                           f"{tuple(x2.shape)} cannot be broadcast together") from None
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    use_mm = (compute_mode == "use_mm_for_euclid_dist"
              or compute_mode in (None, "use_mm_for_euclid_dist_if_necessary")
              and (rows1 > 25 or rows2 > 25))
    return Cdist.apply(x1, x2, float(p), use_mm)


def dist(input, other, p=2):
    """||input - other||_p over all elements (the two broadcast)."""
    _broadcast_three("dist", input, other)
    return vector_norm(input - other, p)


def renorm(input, p, dim, maxnorm):
    """Each slice input.select(dim, i) whose p-norm exceeds maxnorm, scaled to norm maxnorm:

        out_i = input_i * maxnorm / (||input_i||_p + 1e-7)   if ||input_i||_p > maxnorm, else input_i

    The gradient goes through the norm as well (as PyTorch's).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"renorm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p = {p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point tensor as input, got "
                           f"{torch_dtype_name(input.dtype)}")
    axis = normalize_dims(dim, input.ndim)[0]
    others = tuple(i for i in range(input.ndim) if i != axis)
    norm = vector_norm(input, p, others, keepdim=True)                  # size 1 except along dim
    factor = where(norm.array > maxnorm, maxnorm / (norm + 1e-7), Tensor(np.ones((), input.dtype)))
    return input * factor
