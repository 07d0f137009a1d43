"""Three of torch's top-level functions that sit beside statistics and linear algebra:

histogramdd  counts of D-dimensional points in a grid of bins (one histogram axis per
             coordinate); bin (i_1, ..., i_D) holds the points with
             edges_d[i_d] <= x_d < edges_d[i_d + 1] for every d (the last bin of each
             axis also holds its right edge).
binomial     a draw from Binomial(count, prob) per element.
lu_unpack    (P, L, U) from the packed (LU, pivots) of linalg.lu_factor, A = P L U;
             L and U are slices of LU (tril / triu), so the gradient flows back to LU.
"""
import builtins
from collections import namedtuple

import numpy as np

from minigrad.ops.linalg_decompositions import _permutation_matrix
from minigrad.ops.pointwise import tril, triu
from minigrad.ops.statistics import _hist_positions, _linspace
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

# torch.return_types.histogramdd and torch.return_types.lu_unpack
HistogramddResult = namedtuple("histogramdd", ["hist", "bin_edges"])
LUUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])


def _constant(array):
    return Tensor._make(np.asarray(array), False, None)


def _is_int(value):
    return isinstance(value, (builtins.int, np.integer)) and not isinstance(value, builtins.bool)


# ------------------------------------------------------------------ histogramdd
def _dimension_edges(values, bins, low_high, d, dtype):
    """(edges, linear) of dimension d: bins an int (equal widths) or a 1-d tensor of edges."""
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.numel() < 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor for dimension {d} should have one dimension "
                               f"and at least 1 element, got shape {tuple(bins.shape)}")
        edges = bins.array.astype(dtype)
        if np.any(np.diff(edges) < 0):
            raise RuntimeError(f"torch.histogramdd: bin edges for dimension {d} must be increasing, got "
                               f"{edges.tolist()}")
        return edges, False
    if not _is_int(bins) or bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension {d}")
    if low_high is not None:
        low, high = (dtype.type(r) for r in low_high)
    elif values.size:
        low, high = values.min(), values.max()
    else:
        low = high = dtype.type(0)
    if low > high:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low} max {high} "
                           f"for dimension {d}")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{low}, {high}] is not finite")
    if low == high:
        low, high = low - dtype.type(0.5), high + dtype.type(0.5)
    return _linspace(low, high, bins + 1, dtype), True


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A002  (torch's names)
    """(hist, bin_edges) of the points input (*, D): hist (B_1, ..., B_D), bin_edges D tensors.

    bins: an int (the same count in every dimension), D ints, or D 1-d tensors of edges.
    range: 2 D floats (min_1, max_1, ..., min_D, max_D) for int bins (default: the data's
    min and max per dimension, widened by 0.5 each side when they are equal).
    weight (*): each point counts its weight instead of 1.
    density: hist / (sum(hist) * cell volume), so it integrates to 1 over the grid.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"histogramdd(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"histogramdd" not implemented for {input.dtype}')
    if input.ndim < 2:
        raise RuntimeError(f"torch.histogramdd: input tensor should have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    dims = input.shape[-1]
    points = input.array.reshape(-1, dims)                        # (points, D)
    if isinstance(bins, (list, tuple)):
        if len(bins) != dims:
            raise RuntimeError(f"histogramdd: The size of bins must be equal to the innermost dimension of "
                               f"the input: got {len(bins)} bins for {dims} dimensions")
        bins = list(bins)
    else:
        bins = [bins] * dims
    if range is not None:
        range = list(range)
        if len(range) != 2 * dims:
            raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram range should have "
                               f"{2 * dims} elements, but got {len(range)}")
    weights = None
    if weight is not None:
        if not isinstance(weight, Tensor):
            raise TypeError(f"histogramdd(): argument 'weight' must be Tensor, not {type(weight).__name__}")
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape "
                               f"as the input tensor excluding its innermost dimension, but got input with "
                               f"shape {list(input.shape)} and weight with shape {list(weight.shape)}")
        weights = weight.array.reshape(-1)
    edges, positions = [], []
    for d in builtins.range(dims):
        low_high = None if range is None else range[2 * d:2 * d + 2]
        dim_edges, linear = _dimension_edges(points[:, d], bins[d], low_high, d, input.dtype)
        edges.append(dim_edges)
        positions.append(_hist_positions(points[:, d], dim_edges, linear))   # -1: outside
    grid = tuple(len(e) - 1 for e in edges)                       # (B_1, ..., B_D)
    positions = np.stack(positions, axis=1) if dims else np.zeros((len(points), 0), np.int64)
    inside = np.all(positions >= 0, axis=1)
    cell = np.ravel_multi_index(tuple(positions[inside].T), grid) if inside.any() else np.zeros(0, np.int64)
    hist = np.bincount(cell, weights=None if weights is None else weights[inside],
                       minlength=int(np.prod(grid))).reshape(grid).astype(input.dtype)
    if density:
        volume = np.ones(grid)
        for d, dim_edges in enumerate(edges):
            shape = [1] * dims
            shape[d] = grid[d]
            volume = volume * np.diff(dim_edges).reshape(shape)   # broadcast (1, .., B_d, .., 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / (hist.sum() * volume)).astype(input.dtype)
    return HistogramddResult(_constant(hist), [_constant(e.copy()) for e in edges])


# --------------------------------------------------------------------- binomial
def binomial(count, prob, generator=None):
    """One draw from Binomial(count, prob) per element (count and prob broadcast together);
    the result has count's dtype and carries no gradient."""
    if not isinstance(count, Tensor) or not isinstance(prob, Tensor):
        raise TypeError(f"binomial(): count and prob must be Tensors, got {type(count).__name__} and "
                        f"{type(prob).__name__}")
    if count.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {count.dtype}")
    if prob.dtype != count.dtype:
        raise RuntimeError(f"binomial: Found dtype {prob.dtype} for prob but expected {count.dtype} (count's)")
    counts, probs = np.broadcast_arrays(count.array, prob.array)
    if np.any(counts < 0) or np.any(counts != np.floor(counts)):
        raise ValueError(f"binomial: count must hold non-negative whole numbers, got {count.array.tolist()}")
    if np.any((probs < 0) | (probs > 1) | np.isnan(probs)):
        raise ValueError(f"binomial: prob must lie in [0, 1], got {prob.array.tolist()}")
    draws = numpy_generator(generator).binomial(counts.astype(np.int64), probs)
    return _constant(draws.astype(count.dtype))


# -------------------------------------------------------------------- lu_unpack
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803  (torch's names)
    """(P, L, U) with A = P L U from lu_factor's (LU (*, m, n), pivots (*, k)), k = min(m, n):
    P (*, m, m); L (*, m, k) = tril(LU, -1) + I, U (*, k, n) = triu(LU), differentiable in LU.
    unpack_data=False gives empty L and U; unpack_pivots=False an empty P (as torch)."""
    if not isinstance(LU_data, Tensor) or not isinstance(LU_pivots, Tensor):
        raise TypeError(f"lu_unpack(): LU_data and LU_pivots must be Tensors, got {type(LU_data).__name__} "
                        f"and {type(LU_pivots).__name__}")
    if LU_data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    if LU_pivots.dtype != np.int32:
        raise RuntimeError(f"torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                           f"dtype, got {LU_pivots.dtype}. Note: this function is intended to be used with "
                           f"the output produced by torch.linalg.lu_factor")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise RuntimeError(f"torch.lu_unpack: LU_pivots should have shape {list(LU_data.shape[:-2]) + [k]} "
                           f"for LU_data of shape {list(LU_data.shape)}, got {list(LU_pivots.shape)}")
    empty = _constant(np.zeros(0, LU_data.dtype))
    if unpack_pivots:
        pivots = LU_pivots.array
        if pivots.size and (pivots.min() < 1 or pivots.max() > m):
            raise RuntimeError(f"pivots passed to lu_unpack must be between 1 and LU.size(-2) = {m} inclusive, "
                               f"got values from {pivots.min()} to {pivots.max()}. Did you properly pass the "
                               f"result of lu_factor?")
        P = _constant(_permutation_matrix(pivots, m, LU_data.dtype))
    else:
        P = empty
    if not unpack_data:
        return LUUnpackResult(P, empty, _constant(np.zeros(0, LU_data.dtype)))
    L = tril(LU_data[..., :, :k], -1) + _constant(np.eye(m, k, dtype=LU_data.dtype))   # (*, m, k)
    U = triu(LU_data[..., :k, :])                                                    # (*, k, n)
    return LUUnpackResult(P, L, U)
