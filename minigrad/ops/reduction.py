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
import math
from collections import namedtuple

import numpy as np

from minigrad.autograd import Function
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


def _regrow(grad, input_shape, axes, keepdim):
    """Give a reduced gradient back the reduced axes (size 1) so it broadcasts."""
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


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = math.prod(a.shape[i] for i in axes)
        return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _regrow(grad / ctx.count, ctx.input_shape, ctx.axes, ctx.keepdim), None, None


class Var(Function):
    """sum((x - mean)^2) / (N - correction); correction=1 is the unbiased estimate."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, correction):
        count = math.prod(a.shape[i] for i in axes)
        centred = a - np.mean(a, axis=axes, keepdims=True)
        ctx.save_for_backward(centred)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.divisor = builtins.max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sum(centred * centred, axis=axes, keepdims=keepdim) / ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        centred, = ctx.saved_tensors
        grad = _regrow(grad, centred.shape, ctx.axes, ctx.keepdim)
        # d/dx_i of sum_j (x_j - mean)^2 / D  =  2 (x_i - mean) / D   (the mean's own term sums to 0)
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


class ExtremeAlongDim(Function):
    """max or min along one dim: values and the index of the first extreme."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, numpy_arg):
        if a.shape[axis] == 0:
            raise IndexError(f"max()/min(): dimension {axis} has size 0")
        indices = np.expand_dims(numpy_arg(a, axis=axis), axis)
        values = np.take_along_axis(a, indices, axis=axis)
        ctx.save_for_backward(indices)
        ctx.input_shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        if not keepdim:
            values, indices = np.squeeze(values, axis), np.squeeze(indices, axis)
        return values, indices.astype(np.int64)

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axis)
        grad_input = np.zeros(ctx.input_shape, dtype=grad.dtype)
        np.put_along_axis(grad_input, indices, grad, axis=ctx.axis)
        return grad_input, None, None, None


def sum(a, dim=None, keepdim=False):
    return Sum.apply(a, normalize_dims(dim, a.ndim), keepdim)


def mean(a, dim=None, keepdim=False):
    if a.dtype.kind not in "fc":
        raise TypeError(f"mean(): input dtype should be floating point, got {a.dtype}")
    return Mean.apply(a, normalize_dims(dim, a.ndim), keepdim)


def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; correction (default 1, Bessel) or the older unbiased=True/False."""
    if unbiased is not None and correction is not None:
        raise ValueError("var(): give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(a, normalize_dims(dim, a.ndim), keepdim, correction)


def _extreme(a, dim, keepdim, numpy_reduce, numpy_arg):
    if dim is None:
        return Extreme.apply(a, normalize_dims(None, a.ndim), False, numpy_reduce)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"max()/min(): dim must be one int, got {dim!r} (use amax/amin for several)")
    axis, = normalize_dims(dim, a.ndim) or (0,)
    if a.ndim == 0:
        return ValuesIndices(a, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    return ValuesIndices(*ExtremeAlongDim.apply(a, axis, keepdim, numpy_arg))


def max(a, dim=None, keepdim=False):
    """max() -> the largest element; max(dim) -> (values, indices)."""
    return _extreme(a, dim, keepdim, np.max, np.argmax)


def min(a, dim=None, keepdim=False):
    """min() -> the smallest element; min(dim) -> (values, indices)."""
    return _extreme(a, dim, keepdim, np.min, np.argmin)


def amax(a, dim=None, keepdim=False):
    """Largest elements over one or several dims (ties share the gradient)."""
    return Extreme.apply(a, normalize_dims(dim, a.ndim), keepdim, np.max)


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


def argmax(a, dim=None, keepdim=False):
    """Index of the (first) largest element, flat if dim is None."""
    return _arg(a, dim, keepdim, np.argmax)


def argmin(a, dim=None, keepdim=False):
    """Index of the (first) smallest element, flat if dim is None."""
    return _arg(a, dim, keepdim, np.argmin)
