"""Reductions: sum, mean, var, max, min, argmax, argmin.

``dim`` is an int, a tuple of ints, or None (all dimensions); ``keepdim``
keeps reduced dimensions with size 1. In backward the gradient of a reduced
element is spread back over the elements it came from.

Ties: ``max()``/``min()`` over several elements at once (``dim=None``, or
``amax``/``amin``) split the gradient evenly among all elements equal to the
extreme (as PyTorch does); ``max(dim)``/``min(dim)`` return the index of the
first occurrence and route the whole gradient to it.
"""
import builtins
import functools
import math
from collections import namedtuple

import numpy as np

from minigrad.autograd import Function
from minigrad.ops import elementwise
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor

# What max(dim) / min(dim) return, as torch.return_types.max does.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def normalize_dims(dim, ndim, name="dim"):
    """dim (None, int or tuple) -> sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (int, np.integer, tuple, list)):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    rank = builtins.max(ndim, 1)
    result = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {d!r}")
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-rank}, {rank - 1}], but got {d})")
        result.append(int(d) % rank)
    if len(set(result)) != len(result):
        raise ValueError(f"{name} {dim} names a dimension more than once")
    return tuple(sorted(result)) if ndim > 0 else ()


def numpy_names(function):
    """Accept NumPy's axis= and keepdims= for dim= and keepdim= (PyTorch does too)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{function.__name__}(): give dim or axis, not both")
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            if "keepdim" in kwargs:
                raise TypeError(f"{function.__name__}(): give keepdim or keepdims, not both")
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return function(*args, **kwargs)
    return wrapper


def _regrow(grad, input_shape, axes, keepdim):
    """Give a reduced gradient back the reduced axes (size 1) so it broadcasts
    (an array, or a Tensor in a double backward)."""
    if isinstance(grad, Tensor):
        if not keepdim and axes:
            grad = grad.reshape(np.expand_dims(np.empty(grad.shape, dtype=bool), axes).shape)
        return grad.expand(input_shape)
    if not keepdim and axes:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, input_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.asarray(a.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _regrow(grad, ctx.input_shape, ctx.axes, ctx.keepdim), None, None

    backward_graph = backward


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = math.prod(a.shape[i] for i in axes)
        return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _regrow(grad / ctx.count, ctx.input_shape, ctx.axes, ctx.keepdim), None, None

    backward_graph = backward


class Var(Function):
    """sum((x - mean)^2) / (N - correction); correction=1 is the unbiased estimate."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, correction):
        count = math.prod(a.shape[i] for i in axes)
        centred = a - np.mean(a, axis=axes, keepdims=True)
        ctx.save_for_backward(centred, a)  # a: for a double backward, which differentiates centred too
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.divisor = builtins.max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sum(centred * centred, axis=axes, keepdims=keepdim) / ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        centred, _ = ctx.saved_tensors
        grad = _regrow(grad, centred.shape, ctx.axes, ctx.keepdim)
        # d/dx_i of sum_j (x_j - mean)^2 / D  =  2 (x_i - mean) / D   (the mean's own term sums to 0)
        return grad * (2.0 / ctx.divisor) * centred, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # `centred` was computed in forward: recompute it from the input, so that it is differentiated too
        _, a = ctx.saved_tensors
        centred = a - a.mean(dim=ctx.axes, keepdim=True)
        grad = _regrow(grad, centred.shape, ctx.axes, ctx.keepdim)
        return grad * (2.0 / ctx.divisor) * centred, None, None, None


class Extreme(Function):
    """max or min over `axes`, the gradient shared evenly among ties."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, numpy_reduce):
        if a.size == 0:
            raise RuntimeError("max()/min() of an empty tensor")
        out = numpy_reduce(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a == out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        is_extreme, = ctx.saved_tensors
        ties = np.sum(is_extreme, axis=ctx.axes, keepdims=True)
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axes)
        return grad * is_extreme / ties.astype(grad.dtype), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # linear in grad: the share of each element (1/ties at the extremes, else 0) is a constant
        is_extreme = ctx.saved_tensors[0].array
        share = is_extreme / np.sum(is_extreme, axis=ctx.axes, keepdims=True)
        grad = _regrow(grad, is_extreme.shape, ctx.axes, ctx.keepdim)
        return grad * elementwise._constant(share.astype(grad.dtype)), None, None, None


class PickAlongDim(Function):
    """The element at `index` (one per row, keepdim shape) along an axis; the gradient goes to it."""

    @staticmethod
    def forward(ctx, a, index, axis, keepdim):
        values = np.take_along_axis(a, index, axis=axis)
        ctx.save_for_backward(index)
        ctx.axis, ctx.keepdim, ctx.shape = axis, keepdim, a.shape
        if not keepdim:
            values, index = np.squeeze(values, axis), np.squeeze(index, axis)
        return values, index.astype(np.int64)

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axis)
        grad_input = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(grad_input, index, grad, axis=ctx.axis)
        return grad_input, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        index = ctx.saved_tensors[0].array                      # keepdim shape
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.axis)
        return _scatter_along(grad, index, ctx.axis, ctx.shape), None, None, None


def _scatter_along(values, index, axis, shape):
    """zeros(shape) with values[..., i, ...] added at index[..., i, ...] along `axis`
    (put_along_axis, repeated indices summed), as a recorded op: a double backward
    differentiates it (its backward gathers the same elements back)."""
    from minigrad.ops.shape import ScatterIntoZeros  # noqa: PLC0415  (shape imports this module)
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    return ScatterIntoZeros.apply(values, tuple(shape), tuple(grid))


class ExtremeAlongDim(PickAlongDim):
    """max or min along one dim: values and the index of the first extreme."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, numpy_arg):
        if a.shape[axis] == 0:
            raise IndexError(f"max()/min(): dimension {axis} has size 0")
        index = np.expand_dims(numpy_arg(a, axis=axis), axis)
        return PickAlongDim.forward(ctx, a, index, axis, keepdim)


@numpy_names
def sum(a, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        a = a.to(dtype)
    return Sum.apply(a, normalize_dims(dim, a.ndim), keepdim)


@numpy_names
def mean(a, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        a = a.to(dtype)
    if a.dtype.kind not in "fc":
        raise TypeError(f"mean(): input dtype should be floating point, got {a.dtype}")
    return Mean.apply(a, normalize_dims(dim, a.ndim), keepdim)


@numpy_names
def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; correction (default 1, Bessel) or the older unbiased=True/False."""
    if unbiased is not None and correction is not None:
        raise ValueError("var(): give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(a, normalize_dims(dim, a.ndim), keepdim, correction)


def _extreme(a, dim, keepdim, numpy_reduce, numpy_arg):
    if isinstance(dim, Tensor):  # max(a, b): the elementwise maximum, as in PyTorch
        return (elementwise.maximum if numpy_reduce is np.max else elementwise.minimum)(a, dim)
    if dim is None:
        return Extreme.apply(a, normalize_dims(None, a.ndim), False, numpy_reduce)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"max()/min(): dim must be one int, got {dim!r} (use amax/amin for several)")
    axis, = normalize_dims(dim, a.ndim) or (0,)
    if a.ndim == 0:
        return ValuesIndices(a, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    return ValuesIndices(*ExtremeAlongDim.apply(a, axis, keepdim, numpy_arg))


@numpy_names
def max(a, dim=None, keepdim=False):
    """max() -> the largest element; max(dim) -> (values, indices)."""
    return _extreme(a, dim, keepdim, np.max, np.argmax)


@numpy_names
def min(a, dim=None, keepdim=False):
    """min() -> the smallest element; min(dim) -> (values, indices)."""
    return _extreme(a, dim, keepdim, np.min, np.argmin)


@numpy_names
def amax(a, dim=None, keepdim=False):
    """Largest elements over one or several dims (ties share the gradient)."""
    return Extreme.apply(a, normalize_dims(dim, a.ndim), keepdim, np.max)


@numpy_names
def amin(a, dim=None, keepdim=False):
    """Smallest elements over one or several dims (ties share the gradient)."""
    return Extreme.apply(a, normalize_dims(dim, a.ndim), keepdim, np.min)


def _arg(a, dim, keepdim, numpy_arg):
    if dim is None:
        result = np.asarray(numpy_arg(a.array))
        if keepdim:
            result = result.reshape((1,) * a.ndim)
    else:
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"argmax()/argmin(): dim must be one int, got {dim!r}")
        axis, = normalize_dims(dim, a.ndim) or (0,)
        result = numpy_arg(a.array.reshape(a.shape or (1,)), axis=axis)
        if keepdim:
            result = np.expand_dims(result, axis)
    return Tensor._make(np.asarray(result, dtype=np.int64), False, None)


@numpy_names
def argmax(a, dim=None, keepdim=False):
    """Index of the (first) largest element, flat if dim is None."""
    return _arg(a, dim, keepdim, np.argmax)


@numpy_names
def argmin(a, dim=None, keepdim=False):
    """Index of the (first) smallest element, flat if dim is None."""
    return _arg(a, dim, keepdim, np.argmin)


# ------------------------------------------------------- more reductions, scans
def _as_tensor(a):
    return a if isinstance(a, Tensor) else Tensor(np.asarray(a))


def _move_to_end(array, axes):
    """Move `axes` to the end and merge them: (..., N) with N their total size."""
    kept = [i for i in range(array.ndim) if i not in axes]
    moved = np.transpose(array, kept + list(axes))
    return moved.reshape(moved.shape[:len(kept)] + (-1,)), kept


class Prod(Function):
    """Product over `axes`; d/dx_i = product of all the other elements (exact with zeros)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim = axes, keepdim
        return np.asarray(np.prod(a, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        flat, kept = _move_to_end(a, ctx.axes)                     # (..., N)
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = before * after                                    # product of all but element i
        moved_shape = tuple(a.shape[i] for i in kept) + tuple(a.shape[i] for i in ctx.axes)
        others = np.transpose(others.reshape(moved_shape), np.argsort(kept + list(ctx.axes)))
        return _regrow(grad, a.shape, ctx.axes, ctx.keepdim) * others, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The same exclusive products, from recorded cumprods (exact with zeros, differentiable)
        a, = ctx.saved_tensors
        kept = [i for i in range(a.ndim) if i not in ctx.axes]
        order = kept + list(ctx.axes)
        moved = a.permute(*order)
        flat = moved.reshape(tuple(moved.shape[:len(kept)]) + (-1,))          # (..., N)
        count = flat.shape[-1]
        if count == 0:
            return _regrow(grad, a.shape, ctx.axes, ctx.keepdim) * 0, None, None
        ones = elementwise._constant(np.ones(tuple(flat.shape[:-1]) + (1,), dtype=a.dtype))
        from minigrad.ops.shape import cat  # noqa: PLC0415  (shape imports this module)
        before = cumprod(cat([ones, flat.narrow(-1, 0, count - 1)], -1), -1)   # x_0 ... x_{i-1}
        # x_{i+1} ... x_{N-1}: the suffix products, (x_i ... x_{N-1}) built from the end
        reversed_index = np.arange(count - 1, -1, -1)
        tail = cumprod(cat([ones, flat[..., reversed_index[:-1]]], -1), -1)
        after = tail[..., reversed_index]
        others = (before * after).reshape(tuple(moved.shape)).permute(*[int(i) for i in np.argsort(order)])
        return _regrow(grad, a.shape, ctx.axes, ctx.keepdim) * others, None, None


@numpy_names
def prod(a, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        a = a.to(dtype)
    if a.dtype == np.bool_:
        a = a.to(np.int64)
    return Prod.apply(a, normalize_dims(dim, a.ndim), keepdim)


def _logical_reduce(numpy_function, a, dim, keepdim):
    a = _as_tensor(a)
    result = numpy_function(a.array, axis=normalize_dims(dim, a.ndim), keepdims=keepdim)
    return Tensor._make(np.asarray(result, dtype=bool), False, None)


@numpy_names
def all(a, dim=None, keepdim=False):  # noqa: A001  (PyTorch's name)
    """Whether every element (along dim) is nonzero; a bool tensor."""
    return _logical_reduce(np.all, a, dim, keepdim)


@numpy_names
def any(a, dim=None, keepdim=False):  # noqa: A001
    """Whether some element (along dim) is nonzero; a bool tensor."""
    return _logical_reduce(np.any, a, dim, keepdim)


@numpy_names
def std(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(a, dim, unbiased, keepdim, correction=correction).sqrt()


@numpy_names
def var_mean(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over the same dims."""
    return (var(a, dim, unbiased, keepdim, correction=correction), mean(a, dim, keepdim))


@numpy_names
def std_mean(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over the same dims."""
    return (std(a, dim, unbiased, keepdim, correction=correction), mean(a, dim, keepdim))


class LogSumExp(Function):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))); d/dx = softmax(x)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axes)
        return grad * np.exp(a - out), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # softmax(a) = exp(a - logsumexp(a)); the saved `out` is the keepdim shape, not the
        # output, so logsumexp is recorded again to be differentiated too
        a, _ = ctx.saved_tensors
        out = LogSumExp.apply(a, ctx.axes, True)
        return _regrow(grad, a.shape, ctx.axes, ctx.keepdim) * (a - out).exp(), None, None


@numpy_names
def logsumexp(a, dim, keepdim=False):
    if a.dtype.kind not in "fc":
        a = a.to(get_default_dtype())
    return LogSumExp.apply(a, normalize_dims(dim, a.ndim), keepdim)


def _scan_axis(a, dim, name):
    if a.ndim == 0:
        return None
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): dim must be an int, got {dim!r}")
    axis, = normalize_dims(dim, a.ndim)
    return axis


class CumSum(Function):
    """Running sum; the gradient is the running sum of grad taken from the end."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis), None

    @staticmethod
    def backward_graph(ctx, grad):
        return _reverse_cumsum(grad, ctx.axis), None


def _reverse_cumsum(x, axis):
    """sum_{j >= i} x_j along axis, as recorded ops: total - cumsum + x."""
    return x.sum(axis, keepdim=True) - CumSum.apply(x, axis) + x


class CumProd(Function):
    """Running product y_j = x_0 ... x_j; d/dx_i = sum over j >= i of grad_j * y_j / x_i.

    Where an x_i is 0 that division is undefined, so those rows instead take,
    for each i, the running product with x_i replaced by 1 (exact, O(N²)).
    """

    @staticmethod
    def forward(ctx, a, axis):
        out = np.cumprod(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        a_last, out_last = np.moveaxis(a, ctx.axis, -1), np.moveaxis(out, ctx.axis, -1)
        grad_last = np.moveaxis(grad, ctx.axis, -1)                     # (..., N)
        if not np.any(a_last == 0):
            suffix = np.flip(np.cumsum(np.flip(grad_last * out_last, -1), -1), -1)
            result = suffix / a_last
        else:
            n = a_last.shape[-1]
            result = np.empty_like(grad_last)
            for i in range(n):
                without_i = a_last.copy()
                without_i[..., i] = 1
                running = np.cumprod(without_i, axis=-1)               # d y_j / d x_i for j >= i
                result[..., i] = np.sum(grad_last[..., i:] * running[..., i:], axis=-1)
        return np.moveaxis(result, -1, ctx.axis), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        axis = ctx.axis
        if not np.any(a.array == 0):
            return _reverse_cumsum(grad * out, axis) / a, None
        # d y_j / d x_i = cumprod(x with x_i replaced by 1)_j for j >= i
        from minigrad.ops.shape import stack  # noqa: PLC0415  (shape imports this module)
        n = a.shape[axis]
        columns = []
        for i in range(n):
            is_i = np.zeros((n,) + (1,) * (a.ndim - 1 - axis), dtype=a.dtype)
            is_i[i] = 1
            without_i = a * elementwise._constant(1 - is_i) + elementwise._constant(is_i)
            running = CumProd.apply(without_i, axis)
            columns.append((grad.narrow(axis, i, n - i) * running.narrow(axis, i, n - i)).sum(axis))
        return stack(columns, axis), None


def _reverse_logcumsumexp(x, axis):
    return np.flip(np.logaddexp.accumulate(np.flip(x, axis), axis=axis), axis)


class LogCumSumExp(Function):
    """y_j = log(sum_{k<=j} exp(x_k)); d/dx_i = sum_{j>=i} grad_j exp(x_i - y_j), in log space."""

    @staticmethod
    def forward(ctx, a, axis):
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            positive = np.exp(a + _reverse_logcumsumexp(np.log(np.maximum(grad, 0)) - out, ctx.axis))
            negative = np.exp(a + _reverse_logcumsumexp(np.log(np.maximum(-grad, 0)) - out, ctx.axis))
        return positive - negative, None

    @staticmethod
    def backward_graph(ctx, grad):
        # sum_{j>=i} grad_j exp(x_i - y_j) as an (..., N, N) matrix, exp(-inf) = 0 below j = i
        a, out = ctx.saved_tensors
        axis = ctx.axis
        x, y, g = a.transpose(axis, -1), out.transpose(axis, -1), grad.transpose(axis, -1)  # (..., N)
        n = x.shape[-1]
        upper = elementwise._constant(np.triu(np.ones((n, n), dtype=bool)))   # j >= i
        exponent = elementwise.where(upper, x.unsqueeze(-1) - y.unsqueeze(-2), -np.inf)  # [i, j]
        result = (exponent.exp() * g.unsqueeze(-2)).sum(-1)
        return result.transpose(axis, -1), None


class CumExtreme(Function):
    """Running max/min with the index of the (last) element that set it."""

    @staticmethod
    def forward(ctx, a, axis, take_new):
        moved = np.moveaxis(a, axis, 0)
        values, indices = np.empty_like(moved), np.zeros(moved.shape, dtype=np.int64)
        best, best_index = moved[0], np.zeros(moved.shape[1:], dtype=np.int64)
        for i in range(moved.shape[0]):
            new = take_new(moved[i], best) | (i == 0)
            best = np.where(new, moved[i], best)
            best_index = np.where(new, i, best_index)
            values[i], indices[i] = best, best_index
        ctx.save_for_backward(np.moveaxis(indices, 0, axis))
        ctx.axis, ctx.shape = axis, a.shape
        return np.moveaxis(values, 0, axis), np.moveaxis(indices, 0, axis)

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        grad_input = np.zeros(ctx.shape, dtype=grad.dtype)
        grid = list(np.indices(indices.shape, sparse=True))
        grid[ctx.axis] = indices
        np.add.at(grad_input, tuple(grid), grad)
        return grad_input, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return _scatter_along(grad, ctx.saved_tensors[0].array, ctx.axis, ctx.shape), None, None


def _scan(function, a, dim, name, dtype=None, *extra):
    a = _as_tensor(a)
    if dtype is not None:
        a = a.to(dtype)
    axis = _scan_axis(a, dim, name)
    if axis is None:  # a 0-d tensor is its own running sum/product
        return elementwise.clone(a)
    return function.apply(a, axis, *extra)


def cumsum(a, dim, *, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64  # PyTorch sums integers and bools in int64
    return _scan(CumSum, a, dim, "cumsum", dtype)


def cumprod(a, dim, *, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64
    return _scan(CumProd, a, dim, "cumprod", dtype)


def logcumsumexp(a, dim):
    if a.dtype.kind not in "fc":
        a = a.to(get_default_dtype())
    return _scan(LogCumSumExp, a, dim, "logcumsumexp")


def _cum_extreme(a, dim, take_new, name):
    a = _as_tensor(a)
    if a.ndim == 0:
        return ValuesIndices(a, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    return ValuesIndices(*CumExtreme.apply(a, _scan_axis(a, dim, name), take_new))


def cummax(a, dim):
    """(values, indices): the running maximum along dim and where it was reached (last of ties)."""
    return _cum_extreme(a, dim, np.greater_equal, "cummax")


def cummin(a, dim):
    """(values, indices): the running minimum along dim and where it was reached (last of ties)."""
    return _cum_extreme(a, dim, np.less_equal, "cummin")


def _median_index(array, axis):
    """Where the lower median ((n-1)//2-th smallest) of each row along axis is."""
    order = np.argsort(array, axis=axis, kind="stable")
    return np.take(order, [(array.shape[axis] - 1) // 2], axis=axis)


def _mode_index(array, axis):
    """Where the most frequent value (the smallest of ties) of each row last occurs."""
    rows = np.moveaxis(array, axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    index = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        values, counts = np.unique(row, return_counts=True)
        mode = values[np.argmax(counts)]  # np.unique sorts, argmax takes the first: the smallest
        index[r] = row.shape[0] - 1 - np.argmax(row[::-1] == mode)
    return np.expand_dims(index.reshape(rows.shape[:-1]), axis)


def _pick(a, dim, keepdim, find_index, name):
    a = _as_tensor(a)
    if a.numel() == 0:
        raise RuntimeError(f"{name}() of an empty tensor")
    if a.ndim == 0:
        return ValuesIndices(a, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    axis, = normalize_dims(dim, a.ndim)
    return ValuesIndices(*PickAlongDim.apply(a, find_index(a.array, axis), axis, keepdim))


@numpy_names
def median(a, dim=None, keepdim=False):
    """median() -> the lower median of all elements; median(dim) -> (values, indices)."""
    if dim is None:
        return _pick(_as_tensor(a).reshape(-1), 0, False, _median_index, "median").values
    return _pick(a, dim, keepdim, _median_index, "median")


@numpy_names
def mode(a, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along dim (the smallest of ties) and its last index."""
    return _pick(a, dim, keepdim, _mode_index, "mode")


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) over `axes`; p = inf is max |x|, -inf min |x|, 0 the count of nonzeros.

    d/dx = sign(x) |x|^(p-1) / norm^(p-1); 0 where the norm is 0 (as in PyTorch).
    For p = ±inf the gradient is sign(x), shared evenly among the ties.
    """

    @staticmethod
    def forward(ctx, a, axes, keepdim, p):
        magnitude = np.abs(a)
        if p == math.inf or p == -math.inf:
            out = (np.max if p > 0 else np.min)(magnitude, axis=axes, keepdims=True)
        elif p == 0:
            out = np.sum(magnitude != 0, axis=axes, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = np.sum(magnitude, axis=axes, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(magnitude * magnitude, axis=axes, keepdims=True))
        else:
            out = np.sum(magnitude ** p, axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim, ctx.p = axes, keepdim, p
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axes)
        if p == 0:
            return np.zeros_like(a), None, None, None
        if p == math.inf or p == -math.inf:
            is_extreme = np.abs(a) == out
            ties = np.sum(is_extreme, axis=ctx.axes, keepdims=True)
            return grad * np.sign(a) * is_extreme / ties, None, None, None
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 1:
                local = np.sign(a)
            elif p == 2:
                local = np.where(out == 0, 0, a / out)
            else:
                local = np.where(out == 0, 0, np.sign(a) * np.abs(a) ** (p - 1) / out ** (p - 1))
        return grad * local, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        a, saved_out = ctx.saved_tensors
        p, constant = ctx.p, elementwise._constant
        grad = _regrow(grad, a.shape, ctx.axes, ctx.keepdim)
        sign = np.sign(a.array)
        if p == 0:
            return grad * 0, None, None, None
        if p == math.inf or p == -math.inf:
            is_extreme = np.abs(a.array) == saved_out.array
            share = sign * is_extreme / np.sum(is_extreme, axis=ctx.axes, keepdims=True)
            return grad * constant(share.astype(a.dtype)), None, None, None
        if p == 1:
            return grad * constant(sign), None, None, None
        # the saved norm has the keepdim shape, not the output's: recorded again, to be differentiated
        out = VectorNorm.apply(a, ctx.axes, True, p)
        zero = constant(saved_out.array == 0)
        safe_out = elementwise.where(zero, 1.0, out)
        if p == 2:
            local = a / safe_out
        else:
            magnitude = a * constant(sign)
            if p < 1:  # |x|^(p-1) is infinite at 0, where sign(x) makes the gradient 0
                magnitude = elementwise.where(constant(sign == 0), 1.0, magnitude)
            local = constant(sign) * (magnitude / safe_out) ** (p - 1)
        return grad * elementwise.where(zero, 0.0, local), None, None, None


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002  (PyTorch's name)
    """torch.linalg.vector_norm: the p-norm of x flattened, or over dim."""
    x = _as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: expected a floating point input, got {x.dtype}")
    if isinstance(ord, str) or isinstance(ord, bool):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return VectorNorm.apply(x, normalize_dims(dim, x.ndim), keepdim, float(ord))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """torch.linalg.matrix_norm for ord 'fro', 1, -1, inf, -inf (max/min column or row sums)."""
    A = _as_tensor(A)
    if dtype is not None:
        A = A.to(dtype)
    rows, columns = normalize_dims(dim, A.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, columns), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed_axis, extreme_axis = (rows, columns) if ord in (1, -1) else (columns, rows)
        sums = A.abs().sum(summed_axis, keepdim=True)
        extreme = amax if ord > 0 else amin
        result = extreme(sums, extreme_axis, keepdim=True)
        return result if keepdim else result.squeeze((rows, columns))
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 1, -1, inf or -inf, got {ord!r}")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm / Tensor.norm: 'fro' (the 2-norm of the elements), a number p, or 'nuc'-free."""
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p must be 'fro' or a number, got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
