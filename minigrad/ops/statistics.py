"""Statistics and counting: NaN-ignoring reductions, order statistics (quantile,
kthvalue, nanmedian), covariance, histograms, unique values, differences,
numerical gradients and integrals, binary search, Poisson sampling.

Order statistics pick elements out of a sorted row, so their gradient goes
back to the element(s) picked: ``Interpolated`` holds that rule once
(out = lerp(x[below], x[above], weight)). Differences, gradients, integrals
and covariances are compositions of differentiable ops (slices, products,
sums), so their backward is the chain rule through those. Counting ops
(histc, histogram, bincount, unique, count_nonzero, bucketize, searchsorted)
return integer or count tensors that carry no gradient, as in PyTorch.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from minigrad.autograd import Function
from minigrad.ops import reduction, shape
from minigrad.ops.reduction import PickAlongDim, ValuesIndices, normalize_dims, numpy_names
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

# torch.return_types.aminmax and torch.return_types.histogram
MinMax = namedtuple("MinMax", ["min", "max"])
HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _as_tensor(a):
    return a if isinstance(a, Tensor) else Tensor(np.asarray(a))


def _constant(array):
    return Tensor._make(np.asarray(array), False, None)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _one_dim(dim, ndim, name):
    """One int dim -> a non-negative axis (a 0-d tensor has the one axis 0, as in PyTorch)."""
    if not _is_int(dim):
        raise TypeError(f"{name}(): dim must be an int, got {dim!r}")
    return normalize_dims(int(dim), ndim)[0] if ndim > 0 else normalize_dims(int(dim), 0) or 0


def _floating(a, name):
    if a.dtype.kind != "f":
        raise RuntimeError(f"{name}(): expected input to have floating point dtype but got {a.dtype}")
    return a


# ------------------------------------------------------------ NaN-ignoring reductions
class NanSum(Function):
    """sum of the non-NaN elements; d/dx_i = 1 where x_i is a number, 0 where it is NaN."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.save_for_backward(~np.isnan(a))
        ctx.axes, ctx.keepdim = axes, keepdim
        return np.asarray(np.nansum(a, axis=axes, keepdims=keepdim), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        is_number, = ctx.saved_tensors
        if not ctx.keepdim and ctx.axes:
            grad = np.expand_dims(grad, ctx.axes)
        return grad * is_number, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        is_number = ctx.saved_tensors[0].array
        grad = reduction._regrow(grad, is_number.shape, ctx.axes, ctx.keepdim)
        return grad * _constant(is_number.astype(grad.dtype)), None, None


class NanMean(Function):
    """sum of the non-NaN elements / their count (NaN where there are none); d/dx_i = 1/count."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        is_number = ~np.isnan(a)
        count = np.sum(is_number, axis=axes, keepdims=True).astype(a.dtype)
        ctx.save_for_backward(is_number, count)
        ctx.axes, ctx.keepdim = axes, keepdim
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.nansum(a, axis=axes, keepdims=True) / count
        return np.asarray(out if keepdim else np.squeeze(out, axis=axes), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        is_number, count = ctx.saved_tensors
        if not ctx.keepdim and ctx.axes:
            grad = np.expand_dims(grad, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(is_number, grad / count, 0).astype(grad.dtype), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        is_number, count = [t.array for t in ctx.saved_tensors]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(is_number, 1 / count, 0).astype(grad.dtype)   # a constant: 1/count or 0
        return reduction._regrow(grad, is_number.shape, ctx.axes, ctx.keepdim) * _constant(share), None, None


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum(x) treating NaN as 0; integers sum in int64, as sum does."""
    input = _as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != "f":
        return reduction.sum(input, dim, keepdim, dtype=np.int64 if input.dtype.kind in "biu" else None)
    return NanSum.apply(input, normalize_dims(dim, input.ndim), keepdim)


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """mean of the non-NaN elements: nansum(x) / count(not NaN)."""
    input = _as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")
    return NanMean.apply(input, normalize_dims(dim, input.ndim), keepdim)


# ------------------------------------------------------------ order statistics
class Interpolated(Function):
    """out = lerp(x.flat[below], x.flat[above], weight), or x.flat[below] when weight is None.

    below, above, weight have the output's shape. The gradient goes back to the
    two elements picked: (1 - weight) * grad to x[below], weight * grad to x[above].
    """

    @staticmethod
    def forward(ctx, a, below, above, weight):
        flat = a.reshape(-1)
        ctx.save_for_backward(below, above, weight)
        ctx.shape = a.shape
        low = np.asarray(flat[below])
        if weight is None:
            return low
        high = flat[above]
        # PyTorch's lerp: exact at both ends (weight 0 gives low, weight 1 gives high)
        return np.where(weight < 0.5, low + weight * (high - low),
                        high - (high - low) * (1 - weight)).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        below, above, weight = ctx.saved_tensors
        grad_flat = np.zeros(math.prod(ctx.shape), dtype=grad.dtype)
        if weight is None:
            np.add.at(grad_flat, below, grad)
        else:
            np.add.at(grad_flat, below, grad * (1 - weight))
            np.add.at(grad_flat, above, grad * weight)
        return grad_flat.reshape(ctx.shape), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # linear in grad: scatters (recorded, so their own backward gathers grad's elements back)
        below, above, weight = [None if t is None else t.array for t in ctx.saved_tensors]
        size = (math.prod(ctx.shape),)
        if weight is None:
            grad_flat = shape.ScatterIntoZeros.apply(grad, size, below)
        else:
            grad_flat = (shape.ScatterIntoZeros.apply(grad * _constant(1 - weight), size, below)
                         + shape.ScatterIntoZeros.apply(grad * _constant(weight), size, above))
        return grad_flat.reshape(ctx.shape), None, None, None


class EvenlyShared(Function):
    """One value picked from all the elements; its gradient is split evenly among the
    elements equal to it (all NaNs when it is NaN), as PyTorch's median() does."""

    @staticmethod
    def forward(ctx, a, value):
        is_value = np.isnan(a) if np.isnan(value) else a == value
        ctx.save_for_backward(is_value)
        return np.asarray(value, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        is_value, = ctx.saved_tensors
        return is_value * (grad / builtins.max(int(is_value.sum()), 1)), None

    @staticmethod
    def backward_graph(ctx, grad):
        is_value = ctx.saved_tensors[0].array
        share = (is_value / builtins.max(int(is_value.sum()), 1)).astype(grad.dtype)
        return grad * _constant(share), None


def _rows(array, axis):
    """array with `axis` moved last, and the flat index (into array) of every element of it."""
    flat_index = np.arange(array.size).reshape(array.shape)
    return np.moveaxis(array, axis, -1), np.moveaxis(flat_index, axis, -1)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    name = "nanquantile" if ignore_nan else "quantile"
    input = _as_tensor(input)
    if input.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint "
                           f"or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        q_values, scalar_q = q.array.reshape(-1), q.ndim == 0
        if np.any((q_values < 0) | (q_values > 1)):   # NaN passes neither test, as in PyTorch
            raise RuntimeError(f"{name}() q values must be in the range [0, 1], got {q.array}")
    else:
        if not isinstance(q, (int, float, np.integer, np.floating)) or isinstance(q, bool):
            raise TypeError(f"{name}(): q must be a float or a Tensor, got {q!r}")
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q_values, scalar_q = np.asarray([q], dtype=input.dtype), True

    array = input.array
    if dim is None:
        axis, reduced = 0, array.reshape(-1)
    else:
        axis, reduced = _one_dim(dim, input.ndim, name), array.reshape(input.shape or (1,))
    rows, flat_index = _rows(reduced, axis)                           # (..., n)
    order = np.argsort(rows, axis=-1, kind="stable")                  # NaN sorts last
    sorted_index = np.take_along_axis(flat_index, order, axis=-1)     # (..., n) flat indices
    n = rows.shape[-1]
    has_nan = np.isnan(rows)
    count = n - np.sum(has_nan, axis=-1) if ignore_nan else np.full(rows.shape[:-1], n)
    # rank of quantile q among the `count` numbers: q (count - 1), in the input's dtype
    ranks = q_values.reshape((-1,) + (1,) * (rows.ndim - 1)) * (count - 1).astype(input.dtype)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)                                       # half to even, as PyTorch
    # rows with no number (nanquantile) or any NaN (quantile): the result is NaN, the last element
    no_result = (count == 0) if ignore_nan else np.any(has_nan, axis=-1)
    ranks = np.where(no_result, n - 1, ranks)                         # (Q, ...)
    below = ranks.astype(np.int64)
    above = np.ceil(ranks).astype(np.int64)
    weight = None
    if interpolation == "linear":
        weight = (ranks - below).astype(input.dtype)
    elif interpolation == "midpoint":
        weight = np.full(ranks.shape, 0.5, dtype=input.dtype)
    pick_shape = np.broadcast_shapes(below.shape, sorted_index.shape[:-1])

    def flat(position):                                               # rank -> flat input index
        grid = np.broadcast_to(sorted_index, pick_shape + (n,))
        return np.take_along_axis(grid, np.broadcast_to(position, pick_shape)[..., None], -1)[..., 0]

    weight = None if weight is None else np.broadcast_to(weight, pick_shape).copy()
    result = Interpolated.apply(input, flat(below), flat(above), weight)   # (Q, ...)
    if keepdim:                                                       # the reduced dims stay, size 1
        if dim is None or input.ndim == 0:
            kept = (1,) * input.ndim
        else:
            kept = input.shape[:axis] + (1,) + input.shape[axis + 1:]
        result = result.reshape((len(q_values),) + tuple(kept))
    return result[0] if scalar_q else result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of each row along dim (all elements if dim is None).

    With the row sorted, rank = q (n - 1); 'linear' gives lerp(sorted[floor(rank)],
    sorted[ceil(rank)], rank - floor(rank)); 'lower'/'higher'/'nearest' round the
    rank down/up/to nearest, 'midpoint' averages the two neighbours. A row holding
    NaN gives NaN. A 1-d q puts its dimension first in the result.
    """
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile of the non-NaN elements of each row (NaN for a row of NaNs only)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


def _quick_select(values, k):
    """The position of the k-th smallest (0-based) of values, with PyTorch's CPU quickselect.

    A copy of aten's quick_select_template (median of three, Hoare partition, NaN
    largest): among equal values it picks the index PyTorch's kthvalue picks.
    """
    values = list(values)
    index = list(range(len(values)))

    def greater(x, y):                                                # x > y, NaN the largest
        return (x != x and y == y) or x > y

    def swap(i, j):
        values[i], values[j] = values[j], values[i]
        index[i], index[j] = index[j], index[i]

    left, right = 0, len(values) - 1
    while True:
        if right <= left:
            return index[k]
        if right == left + 1:
            if greater(values[left], values[right]):
                swap(left, right)
            return index[k]
        middle = left + (right - left) // 2
        swap(middle, left + 1)
        if greater(values[left + 1], values[right]):
            swap(left + 1, right)
        if greater(values[left], values[right]):
            swap(left, right)
        if greater(values[left + 1], values[left]):
            swap(left + 1, left)
        i, j, pivot = left + 1, right, values[left]
        while True:
            i += 1
            while greater(pivot, values[i]):
                i += 1
            j -= 1
            while greater(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(left, j)
        if j <= k:
            left = i
        if j >= k:
            right = j - 1


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element of each row along dim (k counts from 1).

    NaN counts as larger than every number. Among equal values the index is the one
    PyTorch's CPU quickselect ends on; the gradient goes to that element.
    """
    input = _as_tensor(input)
    axis = _one_dim(dim, input.ndim, "kthvalue")
    size = input.shape[axis] if input.ndim else 1
    if not _is_int(k):
        raise TypeError(f"kthvalue(): k must be an int, got {k!r}")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if input.ndim == 0:
        return ValuesIndices(input * 1, _constant(np.zeros((), dtype=np.int64)))
    rows = np.moveaxis(input.array, axis, -1)
    flat = rows.reshape(-1, size)                                     # (rows, n)
    # A row whose k-th value occurs once (and is a number) has one answer: the sort's.
    # Only rows with ties or NaNs there run the quickselect, to pick PyTorch's index.
    order = np.argsort(flat, axis=1, kind="stable")
    picked = order[:, k - 1].copy()
    value = flat[np.arange(len(flat)), picked]
    ambiguous = np.isnan(value) | (np.sum(flat == value[:, None], axis=1) > 1)
    for row in np.flatnonzero(ambiguous):
        picked[row] = _quick_select(flat[row].tolist(), k - 1)
    index = np.expand_dims(picked.reshape(rows.shape[:-1]), axis)     # keepdim shape
    return ValuesIndices(*PickAlongDim.apply(input, index, axis, keepdim))


def _nth_element(values, nth):
    """Which index std::nth_element (libstdc++'s introselect) puts at position nth when it
    partitions the indices 0..n-1 of values by (value, index), NaN largest, as PyTorch's
    CPU nanmedian(dim) does.

    Numbers are totally ordered (equal values by index), so there the answer is the
    nth of a stable sort; NaNs are unordered among themselves, so which NaN index a row
    of NaNs gives depends on the partition steps, copied here. (If the recursion limit
    2 log2(n) is reached, libstdc++ switches to a heap select; there this sorts the
    rest instead: for a row of NaNs possibly another NaN index.)
    """
    order = list(range(len(values)))

    def less(i, j):                  # values[i] < values[j], ties by index, NaN largest (unordered)
        x, y = values[i], values[j]
        return x < y or (x == y and i < j) or (y != y and x == x)

    def swap(i, j):
        order[i], order[j] = order[j], order[i]

    first, last = 0, len(order)
    depth = 2 * (last.bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            order[first:last] = sorted(order[first:last], key=lambda i: (values[i] != values[i], values[i]))
            return order[nth]
        depth -= 1
        a, b, c = first + 1, first + (last - first) // 2, last - 1   # median of three to `first`
        if less(order[a], order[b]):
            swap(first, b if less(order[b], order[c]) else c if less(order[a], order[c]) else a)
        else:
            swap(first, a if less(order[a], order[c]) else c if less(order[b], order[c]) else b)
        low, high, pivot = first + 1, last, order[first]             # unguarded Hoare partition
        while True:
            while less(order[low], pivot):
                low += 1
            high -= 1
            while less(pivot, order[high]):
                high -= 1
            if not low < high:
                break
            swap(low, high)
            low += 1
        if low <= nth:
            first = low
        else:
            last = low
    for i in range(first + 1, last):                                  # insertion sort of the rest
        item = order[i]
        if less(item, order[first]):
            order[first + 1:i + 1] = order[first:i]
            order[first] = item
        else:
            j = i
            while less(item, order[j - 1]):
                order[j] = order[j - 1]
                j -= 1
            order[j] = item
    return order[nth]


def _nanmedian_index(array, axis):
    """Where the lower median of the non-NaN elements of each row is (a NaN if there are none).

    With a number in the row it is the ((count - 1) // 2)-th of a stable sort (NaN last);
    only rows of NaNs need _nth_element's partition steps.
    """
    rows = np.moveaxis(array, axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])                           # (rows, n)
    count = np.sum(~np.isnan(flat), axis=1)
    order = np.argsort(flat, axis=1, kind="stable")
    index = order[np.arange(len(flat)), np.maximum(count - 1, 0) // 2]
    for row in np.flatnonzero(count == 0):
        index[row] = _nth_element(flat[row].tolist(), 0)
    return np.expand_dims(index.reshape(rows.shape[:-1]), axis)


@numpy_names
def nanmedian(input, dim=None, keepdim=False):
    """Lower median of the non-NaN elements; with dim, (values, indices) per row
    (among equal values the index PyTorch's CPU nanmedian picks). NaN if there is no number.

    nanmedian() shares its gradient among all elements equal to the median, as
    PyTorch's does; nanmedian(dim) sends it to the element at the index returned.
    """
    input = _as_tensor(input)
    if dim is None:
        numbers = np.sort(input.array[~np.isnan(input.array)])
        value = numbers[(len(numbers) - 1) // 2] if len(numbers) else np.nan
        return EvenlyShared.apply(input, value)
    axis = _one_dim(dim, input.ndim, "nanmedian")
    if input.ndim == 0:
        return ValuesIndices(input * 1, _constant(np.zeros((), dtype=np.int64)))
    if input.shape[axis] == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    index = _nanmedian_index(input.array, axis)
    return ValuesIndices(*PickAlongDim.apply(input, index, axis, keepdim))


def msort(input):
    """input sorted along its first dimension: sort(input, dim=0).values."""
    from minigrad.ops.indexing import sort
    return sort(_as_tensor(input), 0).values


@numpy_names
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) of all elements or along one dim; ties share each gradient (as amin, amax)."""
    input = _as_tensor(input)
    if dim is not None and not _is_int(dim):
        raise TypeError(f"aminmax(): dim must be an int, got {dim!r}")
    axes = None if dim is None else _one_dim(dim, input.ndim, "aminmax")
    size = input.numel() if dim is None else (input.shape[axes] if input.ndim else 1)
    if size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if input.ndim == 0:
        axes = None
    return MinMax(reduction.amin(input, axes, keepdim), reduction.amax(input, axes, keepdim))


def count_nonzero(input, dim=None):
    """How many elements are nonzero (along dim: an int or a tuple); int64."""
    input = _as_tensor(input)
    if isinstance(dim, (tuple, list)):
        axes = [normalize_dims(int(d), input.ndim)[0] if input.ndim else 0 for d in dim]
        for d in axes:
            if axes.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    axes = normalize_dims(dim, input.ndim)
    return _constant(np.asarray(np.count_nonzero(input.array, axis=axes), dtype=np.int64))


# ------------------------------------------------------------ covariance
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows of input (variables) over its columns (observations).

    With weights w = fweights * aweights: mean_i = sum_j w_j x_ij / sum(w),
    cov_ik = sum_j w_j (x_ij - mean_i)(x_kj - mean_k) / (sum(w) - correction * f), where
    f = sum(w * aweights) / sum(w) with aweights and 1 without.
    """
    input = _as_tensor(input)
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input "
                           f"with {input.ndim} dimensions")
    if input.dtype.kind != "f":
        input = input.to(np.float32)
    x = input.reshape(1, -1) if input.ndim < 2 else input             # (variables, observations)
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        fweights = _as_tensor(fweights)
        if fweights.ndim > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got "
                               f"fweights with {fweights.ndim} dimensions")
        if fweights.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights "
                               f"with {fweights.dtype} dtype")
        if fweights.numel() != observations:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are "
                               f"observations in the input but got {fweights.numel()} != {observations}")
        if np.any(fweights.array < 0):
            raise RuntimeError("cov(): fweights cannot be negative")
        weights = fweights.to(x.dtype)
    if aweights is not None:
        aweights = _as_tensor(aweights)
        if aweights.ndim > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got "
                               f"aweights with {aweights.ndim} dimensions")
        if aweights.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {aweights.dtype} dtype")
        if aweights.numel() != observations:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are "
                               f"observations in the input but got {aweights.numel()} != {observations}")
        if np.any(aweights.array < 0):
            raise RuntimeError("cov(): aweights cannot be negative")
        aweights = aweights.reshape(-1)
        weights = aweights if weights is None else weights.reshape(-1) * aweights
    if weights is None:
        total = float(observations)
        average = x.mean(1)                                           # (variables,)
        norm_factor = total - correction
    else:
        weights = weights.reshape(-1)
        total = weights.sum()
        average = (x * weights).sum(1) / total
        if correction == 0:
            norm_factor = total
        elif aweights is None:
            norm_factor = total - correction
        else:
            norm_factor = total - correction * (weights * aweights).sum() / total
    factor = norm_factor.array if isinstance(norm_factor, Tensor) else norm_factor
    if factor <= 0:                                                    # PyTorch warns and divides by 0
        norm_factor = 0.0 * norm_factor
    centred = x - average.unsqueeze(1)                                # (variables, observations)
    weighted = centred if weights is None else centred * weights
    covariance = (centred @ weighted.transpose(0, 1)) / norm_factor   # (variables, variables)
    return covariance.squeeze()


def corrcoef(input):
    """Pearson correlation coefficients: cov_ik / sqrt(cov_ii cov_kk), clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    n = c.shape[0]
    diagonal = np.arange(n)
    stddev = c[diagonal, diagonal].sqrt()                            # (n,)
    c = c / stddev.unsqueeze(1)
    c = c / stddev.unsqueeze(0)
    return c.clamp(-1, 1)


# ------------------------------------------------------------ histograms and counts
def _linspace(start, end, steps, dtype):
    """steps evenly spaced values from start to end, rounded as PyTorch's linspace kernel does:
    start + i * step for the first half, end - (steps - 1 - i) * step for the second (in dtype)."""
    start, end = dtype.type(start), dtype.type(end)
    step = (end - start) / dtype.type(steps - 1)
    i = np.arange(steps)
    halfway = steps // 2
    return np.where(i < halfway, start + step * i.astype(dtype),
                    end - step * (steps - 1 - i).astype(dtype)).astype(dtype)


def _hist_positions(values, edges, linear):
    """Bin of each value (-1: outside [edges[0], edges[-1]]); the right edge is in the last bin.

    linear: bins of equal width, found by (x - left) * bins / (right - left) and then
    corrected by a look at the neighbouring edges (PyTorch's local search).
    """
    bins = len(edges) - 1
    left, right = edges[0], edges[-1]
    inside = (values >= left) & (values <= right)
    if linear:
        with np.errstate(invalid="ignore"):
            guess = ((values - left) * bins / (right - left)).astype(np.int64)
        guess = np.clip(np.where(inside, guess, 0), 0, bins)
        # upper_bound among edges[guess - 1 : guess + 2], minus 1: the last edge <= x near the guess
        low = np.maximum(guess - 1, 0)
        high = np.minimum(guess + 2, bins + 1)
        position = low - 1
        for step in range(3):
            candidate = low + step
            position = position + ((candidate < high) & (edges[np.minimum(candidate, bins)] <= values))
    else:
        position = np.searchsorted(edges, values, side="right") - 1
    position = np.minimum(position, bins - 1)
    return np.where(inside, position, -1)


def histc(input, bins=100, min=0, max=0):  # noqa: A002  (PyTorch's names)
    """Counts of the elements in `bins` equal-width bins over [min, max]; elements outside are
    left out. min == max == 0 uses the data's range (widened by 1 each side if it is one value).

    Element x goes to bin floor((x - min) * bins / (max - min)); x == max to the last bin.
    """
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for {input.dtype}')
    if not _is_int(bins) or bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    values = input.array.reshape(-1)
    low, high = input.dtype.type(min), input.dtype.type(max)
    if low == high and values.size:
        low, high = values.min(), values.max()
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    inside = (values >= low) & (values <= high)
    with np.errstate(invalid="ignore"):
        position = ((values[inside] - low) * bins / (high - low)).astype(np.int64)
    counts = np.bincount(np.minimum(position, bins - 1), minlength=bins)
    return _constant(counts.astype(input.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges): counts (or summed weights) of the elements in each bin.

    bins: an int (equal-width bins over `range`, default the data's min and max,
    widened by 0.5 each side if they are equal) or a 1-d tensor of increasing edges.
    Bin i holds edges[i] <= x < edges[i + 1]; the last bin also holds its right edge.
    density: hist / (sum(hist) * bin width), so it integrates to 1.
    """
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"histogramdd" not implemented for {input.dtype}')
    values = input.array.reshape(-1)
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.numel() < 2:
            raise RuntimeError(f"torch.histogram(): bins tensor should have one dimension and at "
                               f"least 2 elements, got shape {tuple(bins.shape)}")
        edges, linear = bins.array.astype(input.dtype), False
    else:
        if not _is_int(bins) or bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            if len(range) != 2:
                raise RuntimeError(f"torch.histogram(): range should have 2 elements, got {range!r}")
            low, high = (input.dtype.type(r) for r in range)
        elif values.size:
            low, high = values.min(), values.max()
        else:
            low = high = input.dtype.type(0)
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low} "
                               f"max {high} for dimension 0")
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{low}, {high}] is not finite")
        if low == high:
            low, high = low - input.dtype.type(0.5), high + input.dtype.type(0.5)
        edges, linear = _linspace(low, high, bins + 1, input.dtype), True
    weights = None
    if weight is not None:
        weight = _as_tensor(weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"torch.histogram(): weight should have the same shape as the input, "
                               f"got {tuple(weight.shape)} and {tuple(input.shape)}")
        weights = weight.array.reshape(-1)
    position = _hist_positions(values, edges, linear)
    inside = position >= 0
    hist = np.bincount(position[inside], weights=None if weights is None else weights[inside],
                       minlength=len(edges) - 1).astype(input.dtype)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / (hist.sum() * np.diff(edges))).astype(input.dtype)
    return HistogramResult(_constant(hist), _constant(edges.copy()))


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in a 1-d non-negative integer tensor
    (int64), or the sum of `weights` at each value; at least minlength bins."""
    input = _as_tensor(input)
    if input.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for {input.dtype}: bincount '
                                  f'only supports 1-d non-negative integral inputs.')
    if not _is_int(minlength) or minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if input.ndim != 1 or np.any(input.array < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _constant(np.bincount(input.array, minlength=minlength).astype(np.int64))
    weights = _as_tensor(weights)
    if weights.ndim != 1 or weights.shape[0] != input.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = np.float32 if weights.dtype == np.float32 else np.float64
    return _constant(np.bincount(input.array, weights=weights.array.astype(np.float64),
                                 minlength=minlength).astype(dtype))


def _unique_results(values, inverse, counts, return_inverse, return_counts):
    results = [_constant(values)]
    if return_inverse:
        results.append(_constant(inverse.astype(np.int64)))
    if return_counts:
        results.append(_constant(counts.astype(np.int64)))
    return results[0] if len(results) == 1 else tuple(results)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (dim=None) or distinct slices along dim, in ascending order.

    return_inverse: where each element (slice) of input is in the result, so that
    result[inverse] == input; return_counts: how often each occurs. NaNs are all
    distinct. (PyTorch's CPU unique sorts whether or not sorted=True; so does this.)
    """
    input = _as_tensor(input)
    array = input.array
    if dim is None:
        values, inverse, counts = np.unique(array.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        return _unique_results(values, inverse.reshape(array.shape), counts, return_inverse,
                               return_counts)
    axis = _one_dim(dim, input.ndim, "unique")
    if array.shape[axis] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _unique_results(array, empty, empty, return_inverse, return_counts)
    values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True, axis=axis)
    return _unique_results(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along dim) to one.

    inverse: which run each element belongs to; counts: the length of each run.
    """
    input = _as_tensor(input)
    array = input.array
    if dim is None:
        rows, axis = array.reshape(-1, 1), None                      # (N, 1): one element per row
    else:
        axis = _one_dim(dim, input.ndim, "unique_consecutive")
        moved = np.moveaxis(array, axis, 0)
        rows = moved.reshape(moved.shape[0], -1)                      # (N, rest of the slice)
    size = rows.shape[0]
    starts = np.ones(size, dtype=bool)
    if size:
        starts[1:] = np.any(rows[1:] != rows[:-1], axis=1) if rows.shape[1] else False
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), size))
    if axis is None:
        values = array.reshape(-1)[starts]
        inverse = inverse.reshape(array.shape)
    else:
        values = np.take(array, np.flatnonzero(starts), axis=axis)
    return _unique_results(values, inverse, counts, return_inverse, return_counts)


# ------------------------------------------------------------ differences, gradients, integrals
def _narrow(a, axis, start, stop):
    """a[..., start:stop, ...] along axis (differentiable)."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim: out[i] = x[i + 1] - x[i], applied n times,
    after prepend and append were joined on (bool tensors: x[i + 1] != x[i])."""
    input = _as_tensor(input)
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if not _is_int(n) or n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = _one_dim(dim, input.ndim, "diff")
    if n == 0:                                                        # PyTorch: nothing is joined on
        return input
    parts = []
    for extra in (prepend, append):
        if extra is not None:
            extra = _as_tensor(extra)
            if extra.ndim != input.ndim:
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        parts.append(extra)
    pieces = [p for p in (parts[0], input, parts[1]) if p is not None]
    x = shape.cat(pieces, axis) if len(pieces) > 1 else input
    for _ in builtins.range(n):
        size = x.shape[axis]
        if size == 0:
            break
        later, earlier = _narrow(x, axis, 1, size), _narrow(x, axis, 0, size - 1)
        x = (later != earlier) if x.dtype == np.bool_ else later - earlier
    return x


def _gradient_along(f, axis, spacing, edge_order):
    """df/dx along one axis by central differences (one-sided at the ends), as numpy.gradient.

    spacing: a number h (evenly spaced samples) or a 1-d array of the coordinates.
    """
    n = f.shape[axis]

    def at(start, stop):
        return _narrow(f, axis, start, stop)

    def along(array):                                                 # a 1-d array on this axis
        return _constant(np.asarray(array, dtype=f.dtype).reshape(
            (-1,) + (1,) * (f.ndim - axis - 1)))

    if np.ndim(spacing) == 0:
        h = float(spacing)
        interior = (at(2, n) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 2) - at(0, 1)) / h
            last = (at(n - 1, n) - at(n - 2, n - 1)) / h
        else:
            first = (at(0, 1) * -1.5 + at(1, 2) * 2 - at(2, 3) * 0.5) / h
            last = (at(n - 3, n - 2) * 0.5 - at(n - 2, n - 1) * 2 + at(n - 1, n) * 1.5) / h
    else:
        dx = np.diff(np.asarray(spacing, dtype=np.float64))
        dx1, dx2 = dx[:-1], dx[1:]
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        interior = at(0, n - 2) * along(a) + at(1, n - 1) * along(b) + at(2, n) * along(c)
        if edge_order == 1:
            first = (at(1, 2) - at(0, 1)) / float(dx[0])
            last = (at(n - 1, n) - at(n - 2, n - 1)) / float(dx[-1])
        else:
            d1, d2 = dx[0], dx[1]
            first = (at(0, 1) * float(-(2 * d1 + d2) / (d1 * (d1 + d2)))
                     + at(1, 2) * float((d1 + d2) / (d1 * d2))
                     + at(2, 3) * float(-d1 / (d2 * (d1 + d2))))
            d1, d2 = dx[-2], dx[-1]
            last = (at(n - 3, n - 2) * float(d2 / (d1 * (d1 + d2)))
                    + at(n - 2, n - 1) * float(-(d2 + d1) / (d1 * d2))
                    + at(n - 1, n) * float((2 * d2 + d1) / (d2 * (d1 + d2))))
    return shape.cat([first, interior, last], axis)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """One tensor per dim: the derivative of input along it, estimated by second-order
    central differences inside, (f[i+1] - f[i-1]) / 2h for even spacing, and first- or
    second-order one-sided differences at the two ends (edge_order 1 or 2).

    spacing: a number (the same step everywhere), a list of numbers (one step per dim)
    or a list of 1-d tensors (the coordinates of the samples along each dim).
    """
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        input = input.to(np.float32)
    if dim is None:
        axes = list(builtins.range(input.ndim))
    elif _is_int(dim):
        axes = [_one_dim(dim, input.ndim, "gradient")]
    else:
        axes = [_one_dim(d, input.ndim, "gradient") for d in dim]
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"torch.gradient: dim {tuple(dim)} names a dimension more than once")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if isinstance(spacing, (tuple, list)):
        if len(spacing) != len(axes):
            if dim is None:
                raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a "
                                   f"list of length equal to 'self.dim() = {input.ndim}', since dim "
                                   f"argument was not given, but got a list of length {len(spacing)}")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                               f"spacing and dim arguments to have the same length, but got a spacing "
                               f"argument of length {len(spacing)} and a dim argument of length "
                               f"{len(axes)}.")
        spacings = [s.array if isinstance(s, Tensor) else s for s in spacing]
    elif isinstance(spacing, Tensor):
        raise TypeError("gradient(): spacing must be a number or a list of numbers or of 1-d "
                        "tensors, got a Tensor (wrap it in a list)")
    else:
        spacings = [spacing] * len(axes)
    for axis, step in zip(axes, spacings):
        if input.shape[axis] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        if np.ndim(step) == 1 and len(step) != input.shape[axis]:
            raise RuntimeError(f"torch.gradient expected each tensor to have the size of the "
                               f"dimension it gives coordinates for ({input.shape[axis]}), got "
                               f"{len(step)} coordinates for dim {axis}")
        if np.ndim(step) > 1:
            raise RuntimeError(f"torch.gradient expected each spacing tensor to be 1-d, got "
                               f"{np.ndim(step)}-d for dim {axis}")
    return tuple(_gradient_along(input, axis, step, edge_order) for axis, step in zip(axes, spacings))


def _sample_widths(y, x, axis, name):
    """x (coordinates, 1-d or broadcasting with y) -> the widths x[i + 1] - x[i] along axis."""
    x = _as_tensor(x)
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        x = x.reshape((-1,) + (1,) * (y.ndim - axis - 1))             # broadcasts along axis
        return diff(x, dim=0)
    return diff(x, dim=axis - y.ndim)


def _integrand(y, x, dx, dim, name):
    y = _as_tensor(y)
    if y.dtype.kind != "f":
        y = y.to(np.float32)
    axis = _one_dim(dim, y.ndim, name)
    if x is not None and dx is not None:
        raise TypeError(f"{name}(): give x or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{name}(): x must be a Tensor (the sample points), got {type(x).__name__}; "
                        f"use dx= for a constant spacing")
    n = y.shape[axis]
    pairs = _narrow(y, axis, 1, n) + _narrow(y, axis, 0, builtins.max(n - 1, 0))   # y[i+1] + y[i]
    widths = _sample_widths(y, x, axis, name) if x is not None else (1 if dx is None else dx)
    return pairs * widths * 0.5, axis


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoid rule along dim: sum_i (x[i+1] - x[i]) (y[i+1] + y[i]) / 2 (dx: even spacing, default 1)."""
    areas, axis = _integrand(y, x, dx, dim, "trapezoid")
    return areas.sum(axis)


def trapz(y, x=None, *, dx=None, dim=-1):
    """The older name of trapezoid."""
    areas, axis = _integrand(y, x, dx, dim, "trapz")
    return areas.sum(axis)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid rule along dim: n - 1 partial integrals (the first interval, the first two, ...)."""
    areas, axis = _integrand(y, x, dx, dim, "cumulative_trapezoid")
    return areas.cumsum(axis)


# ------------------------------------------------------------ binary search
def _search(name, sorted_sequence, values, out_int32, side):
    """Index of each value in the sorted last dimension of sorted_sequence (leading dims matching)."""
    boundaries = _as_tensor(sorted_sequence).array
    scalar = not isinstance(values, Tensor)
    points = np.asarray(values.array if not scalar else values)
    if scalar and boundaries.ndim != 1:
        raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries "
                           f"tensor dimension is 1, but we got boundaries tensor dim({boundaries.ndim}) "
                           f"and input value's dim({points.ndim}) numel({points.size})")
    dtype = np.int32 if out_int32 else np.int64
    if boundaries.ndim <= 1:
        return _constant(np.searchsorted(boundaries.reshape(-1), points, side=side).astype(dtype))
    if boundaries.shape[:-1] != points.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first "
                           f"N-1 dimensions of boundaries tensor and input value tensor must match, but "
                           f"we got boundaries tensor {list(boundaries.shape)} and input value tensor "
                           f"{list(points.shape)}")
    rows = boundaries.reshape(-1, boundaries.shape[-1])
    queries = points.reshape(-1, points.shape[-1])
    result = np.stack([np.searchsorted(r, v, side=side) for r, v in zip(rows, queries)])
    return _constant(result.reshape(points.shape).astype(dtype))


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """i such that sorted_sequence[i - 1] < v <= sorted_sequence[i] (left), or
    sorted_sequence[i - 1] <= v < sorted_sequence[i] (right=True or side='right'),
    along the last dimension; sorter: the indices that sort that dimension."""
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if side is not None and (side == "right") != bool(right) and right:
        raise RuntimeError(f"torch.searchsorted(): side and right can't be set to opposites, got side "
                           f"of {side} while right was True")
    side = side or ("right" if right else "left")
    sequence = _as_tensor(sorted_sequence)
    if sorter is not None:
        sorter = _as_tensor(sorter)
        if tuple(sorter.shape) != tuple(sequence.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, "
                               f"but got boundary tensor {list(sequence.shape)}and got sorter tensor "
                               f"{list(sorter.shape)}")
        if sorter.dtype != np.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got "
                               f"{sorter.dtype}")
        sequence = _constant(np.take_along_axis(sequence.array, sorter.array, axis=-1))
    return _search("searchsorted", sequence, values, out_int32, side)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of input among 1-d sorted boundaries:
    i with boundaries[i - 1] < x <= boundaries[i] (right=True: boundaries[i - 1] <= x < boundaries[i])."""
    boundaries = _as_tensor(boundaries)
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return _search("bucketize", boundaries, input, out_int32, "right" if right else "left")


# ------------------------------------------------------------ sampling
class Poisson(Function):
    """A Poisson(rate) draw per element; its gradient with respect to the rates is 0 (PyTorch's)."""

    @staticmethod
    def forward(ctx, rates, rng):
        return rng.poisson(rates).astype(rates.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad), None

    @staticmethod
    def backward_graph(ctx, grad):
        return grad * 0, None


def poisson(input, generator=None):
    """One sample of Poisson(rate) for each element of input (the rates), in input's dtype."""
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"poisson_cpu" not implemented for {input.dtype}')
    if np.any(input.array < 0) or np.any(np.isnan(input.array)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Poisson.apply(input, numpy_generator(generator))

