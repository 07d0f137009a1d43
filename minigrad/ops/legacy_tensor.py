"""PyTorch's legacy Tensor methods: ``resize`` / ``resize_as`` (out of place), ``set_``,
and ``angle`` / ``adjoint`` for real tensors.

- ``x.resize(*sizes)``: deprecated autograd-aware reshape (PyTorch warns); the
  number of elements must not change (resize_ is the one that may).
- ``x.set_(source)``: x now views source's memory (a write to one shows in the
  other); ``x.set_(source, storage_offset, size, stride)`` views part of it,
  counting storage_offset from source's first element; ``x.set_()`` empties x.
- ``angle(x)`` of a real x: pi where x < 0, 0 elsewhere (0 for -0.0), NaN stays NaN;
  the gradient is zero, as PyTorch's for a real input.
- ``adjoint(x)``: the conjugate transpose of the last two dims, for a real x
  the transpose (PyTorch's mH).
"""
import math
import warnings

import numpy as np

from minigrad import autograd
from minigrad.autograd import Function, _buffer, bump_version
from minigrad.ops.layout import sizes_from, storage_offset
from minigrad.ops.promotion import floating
from minigrad.tensor import Tensor


def _require_tensor(function, value, argument="input"):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' must be Tensor, not {type(value).__name__}")


# ------------------------------------------------------------------ resize
class Resize(Function):
    """A reshape that keeps the number of elements; backward reshapes the gradient back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return a.reshape(shape) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None

    backward_graph = backward


def _resize(tensor, shape, name):
    count = math.prod(shape)
    if count != tensor.numel() or any(n < 0 for n in shape):
        given = "x".join(str(n) for n in tensor.shape)
        raise RuntimeError(f"requested resize to {'x'.join(str(n) for n in shape)} ({count} elements in "
                           f"total), but the given tensor has a size of {given} ({tensor.numel()} "
                           f"elements). autograd's resize can only change the shape of a given tensor, "
                           f"while preserving the number of elements.")
    warnings.warn(f"non-inplace {name} is deprecated", UserWarning, stacklevel=4)  # at the x.resize() call
    return Resize.apply(tensor, tuple(shape))


def resize(tensor, *sizes):
    """The tensor with shape `sizes` (same elements, row-major); a view when it is contiguous."""
    _require_tensor("resize", tensor, "self")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        # PyTorch multiplies the sizes as given: a tuple is one "size" and never matches
        raise RuntimeError(f"requested resize to {tuple(sizes[0])!r} ({tuple(sizes[0])!r} elements in "
                           f"total), but the given tensor has a size of "
                           f"{'x'.join(str(n) for n in tensor.shape)} ({tensor.numel()} elements). "
                           f"autograd's resize can only change the shape of a given tensor, while "
                           f"preserving the number of elements. (pass the sizes as separate ints)")
    return _resize(tensor, sizes_from(sizes, "resize"), "resize")


def resize_as(tensor, other):
    """resize to other's shape (the numbers of elements must match)."""
    _require_tensor("resize_as", tensor, "self")
    _require_tensor("resize_as", other, "tensor")
    return _resize(tensor, tuple(other.shape), "resize_as")


# -------------------------------------------------------------------- set_
def _strided_view(source, offset, size, stride):
    """A NumPy view of source's buffer: element i at start + offset + sum_j i_j stride_j."""
    if len(size) != len(stride):
        raise RuntimeError(f"unequal size length ({len(size)}) and stride length ({len(stride)})")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"set_: negative strides are not supported, got strides {list(stride)}")
    owner = _buffer(source.array)
    if not owner.flags.c_contiguous:
        raise RuntimeError("set_: the source's memory is not one contiguous buffer; pass a contiguous "
                           "source (or call set_(source) with no offset, size and stride)")
    flat = owner.reshape(-1).view(source.array.dtype)          # the whole buffer, in source's dtype
    start = storage_offset(source) + offset
    if start < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if start + needed > flat.size:
        raise RuntimeError(f"set_: sizes {list(size)}, strides {list(stride)} and storage offset "
                           f"{offset} need {start + needed} elements, the source's memory has "
                           f"{flat.size} (minigrad does not grow it)")
    itemsize = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat[start:], shape=size,
                                           strides=tuple(s * itemsize for s in stride))


def _contiguous_strides(size):
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def set_(tensor, source=None, storage_offset=0, size=None, stride=None):
    """Make `tensor` view `source`'s memory (all of it, or `size`/`stride` from `storage_offset`)."""
    _require_tensor("set_", tensor, "self")
    if autograd.is_grad_enabled() and tensor.requires_grad:
        if tensor.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("set_: the tensor is part of the autograd graph (it has a grad_fn) and set_ "
                           "is not differentiable; call it on a detached tensor")
    if source is None:
        if size is not None or stride is not None:
            raise TypeError("set_(): size and stride need a source tensor")
        new = np.empty((0,), dtype=tensor.array.dtype)
    else:
        if not isinstance(source, Tensor):
            raise TypeError(f"set_(): argument 'source' must be Tensor, not {type(source).__name__} "
                            f"(minigrad has no Storage objects)")
        if source.array.dtype != tensor.array.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.array.dtype} to a tensor of type "
                               f"{tensor.array.dtype}")
        if autograd.is_grad_enabled() and source.requires_grad:
            raise RuntimeError("set_: the source requires grad and set_ is not differentiable; pass "
                               "source.detach() (it shares the memory too)")
        if size is None and stride is None and storage_offset == 0:
            new = source.array.view()                           # same memory, shape and strides
        else:
            if isinstance(storage_offset, bool) or not isinstance(storage_offset, (int, np.integer)):
                raise TypeError(f"set_(): storage_offset must be int, got {storage_offset!r}")
            size = tuple(source.shape) if size is None else sizes_from((size,), "set_")
            stride = _contiguous_strides(size) if stride is None else sizes_from((stride,), "set_")
            new = _strided_view(source, int(storage_offset), size, stride)
    tensor.array = new
    bump_version(new)
    return tensor


# ---------------------------------------------------------- angle, adjoint
class Angle(Function):
    """angle(x) = pi for x < 0, 0 for x >= 0 (and -0.0), NaN for NaN; gradient 0."""

    @staticmethod
    def forward(ctx, a):
        out = np.where(a < 0, np.pi, 0.0).astype(a.dtype)
        out[np.isnan(a)] = np.nan
        return out

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def backward_graph(ctx, grad):
        return Tensor._make(np.zeros_like(grad.array), False, None)


def angle(input):
    """The argument of each element; a real input gives 0 or pi (an integer or bool input
    gives float32, as in PyTorch)."""
    _require_tensor("angle", input)
    return Angle.apply(floating(input))


def adjoint(input):
    """The conjugate transpose of the last two dims; for a real tensor input.transpose(-2, -1)."""
    _require_tensor("adjoint", input)
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. "
                           f"Got {input.ndim}-D tensor.")
    return input.transpose(-2, -1)
