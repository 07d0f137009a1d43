"""Distances and similarities between vectors: cosine similarity, p-norm distances, pdist.

Each is a composition of differentiable ops (norms, products, sums), so the
backward pass is the chain rule through them; the small constants (eps)
are where PyTorch puts them, so values agree to rounding.

Shapes: x1, x2 broadcast against each other; the vectors lie along `dim`
(cosine_similarity) or along the last dimension (pairwise_distance).
"""
import numpy as np

from minigrad.ops.reduction import vector_norm
from minigrad.ops.shape import getitem
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor


def _tensor(x, name, function):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _broadcast_shapes(x1, x2, function):
    try:
        return np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"{function}: the shapes of x1 {tuple(x1.shape)} and x2 "
                           f"{tuple(x2.shape)} cannot be broadcast together") from None


def _floating(x):
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


def _clamped_min(x, low):
    """max(x, low) whose gradient is that of x (PyTorch's clamp_min_ under no_grad)."""
    return x + Tensor(np.maximum(x.array, low) - x.array)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2, dim) / (max(||x1||, eps) * max(||x2||, eps)), each vector normalised first."""
    name = "cosine_similarity"
    x1, x2 = _floating(_tensor(x1, "x1", name)), _floating(_tensor(x2, "x2", name))
    shape = _broadcast_shapes(x1, x2, name)
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(f"{name}: dim {dim} is out of range for inputs of broadcast shape {shape}")
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    norm1 = _clamped_min(vector_norm(x1, 2, dim, keepdim=True), eps)
    norm2 = _clamped_min(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension (eps keeps the norm differentiable at 0)."""
    name = "pairwise_distance"
    x1, x2 = _floating(_tensor(x1, "x1", name)), _floating(_tensor(x2, "x2", name))
    shape = _broadcast_shapes(x1, x2, name)
    if len(shape) == 0:
        raise RuntimeError(f"{name}: expected at least 1-d inputs, got 0-d")
    return vector_norm(x1 - x2 + eps, p, -1, keepdim)


def pdist(input, p=2):
    """The p-norm distance of every pair of rows i < j of input (N, M): N(N-1)/2 values, row-major."""
    name = "pdist"
    input = _tensor(input, "input", name)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    rows = input.shape[0]
    first, second = np.triu_indices(rows, k=1)
    difference = getitem(input, first) - getitem(input, second)       # (pairs, M)
    return _norm_with_zero_gradient_at_zero(difference, p)


def _norm_with_zero_gradient_at_zero(rows, p):
    """||row||_p per row; a pair of equal rows gets gradient 0 (PyTorch's pdist backward)."""
    zero = (rows.array == 0).all(axis=1)
    if not zero.any():
        return vector_norm(rows, p, 1)
    keep = Tensor((~zero).astype(rows.dtype)[:, None])
    safe = rows * keep + Tensor(zero.astype(rows.dtype)[:, None])    # a zero row becomes ones
    return vector_norm(safe, p, 1) * keep[:, 0]
