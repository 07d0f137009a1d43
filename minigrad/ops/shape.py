"""Operations that move elements around without changing them.

Their backward moves the gradient back: reshape undoes a reshape, permute
applies the inverse permutation, expand sums over the expanded axes, and
indexing scatters the gradient into a zero array (adding where an index
repeats).
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.reduction import normalize_dims
from minigrad.tensor import Tensor


def _sizes(args, name):
    """reshape(2, 3) and reshape((2, 3)) both mean (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for size in args:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"{name}: sizes must be ints, got {args!r}")
    return tuple(int(s) for s in args)


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims)), None


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.input_shape), None


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.input_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        grad_input = np.zeros(ctx.input_shape, dtype=grad.dtype)
        if _has_integer_array(ctx.index):
            np.add.at(grad_input, ctx.index, grad)  # an index may repeat: add, don't overwrite
        else:
            grad_input[ctx.index] = grad  # slices and masks pick each element at most once
        return grad_input, None


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.split(grad, ctx.boundaries, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.moveaxis(grad, ctx.axis, 0))


def reshape(a, *shape):
    shape = _sizes(shape, "reshape")
    known = math.prod(s for s in shape if s != -1)
    inferred = shape.count(-1)
    valid = (inferred <= 1 and all(s >= -1 for s in shape) and
             (known == a.array.size if inferred == 0 else known > 0 and a.array.size % known == 0))
    if not valid:
        raise ValueError(f"reshape: shape {shape} is invalid for input of shape "
                         f"{tuple(a.shape)} ({a.array.size} elements)")
    return Reshape.apply(a, shape)


def permute(a, *dims):
    dims = _sizes(dims, "permute")
    in_range = all(-a.ndim <= d < a.ndim for d in dims)
    if not in_range or sorted(d % a.ndim for d in dims) != list(range(a.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {a.ndim} "
                         f"dimensions of a tensor of shape {tuple(a.shape)}")
    return Permute.apply(a, tuple(d % a.ndim for d in dims))


def transpose(a, dim0, dim1):
    dims = list(range(a.ndim))
    d0, = normalize_dims(dim0, a.ndim)
    d1, = normalize_dims(dim1, a.ndim)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(a, tuple(dims))


def unsqueeze(a, dim):
    if not -a.ndim - 1 <= dim <= a.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {a.ndim} dimensions "
                         f"(expected [{-a.ndim - 1}, {a.ndim}])")
    dim = dim % (a.ndim + 1)
    return Reshape.apply(a, a.shape[:dim] + (1,) + a.shape[dim:])


def squeeze(a, dim=None):
    """Remove size-1 dims (all, or the given ones; a given dim of another size stays, as in PyTorch)."""
    axes = normalize_dims(dim, a.ndim)
    shape = tuple(n for i, n in enumerate(a.shape) if not (i in axes and n == 1))
    return Reshape.apply(a, shape)


def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return Reshape.apply(a, (1,))
    start, = normalize_dims(start_dim, a.ndim, "start_dim")
    end, = normalize_dims(end_dim, a.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = a.shape[:start] + (math.prod(a.shape[start:end + 1]),) + a.shape[end + 1:]
    return Reshape.apply(a, shape)


def expand(a, *sizes):
    """Broadcast to `sizes` without copying; -1 keeps a dimension's size."""
    sizes = _sizes(sizes, "expand")
    if len(sizes) < a.ndim:
        raise ValueError(f"expand: the number of sizes {sizes} must be at least the number of "
                         f"dimensions of shape {tuple(a.shape)}")
    offset = len(sizes) - a.ndim
    shape = tuple(a.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(sizes))
    if any(s < 0 for s in shape):
        raise ValueError(f"expand: sizes {sizes} must be non-negative (-1 only for an existing "
                         f"dimension of shape {tuple(a.shape)})")
    for i, n in enumerate(a.shape):
        if n != 1 and n != shape[i + offset]:
            raise ValueError(f"expand: the size of dimension {i} ({n}) must match {sizes} or be 1 "
                             f"(tensor of shape {tuple(a.shape)})")
    return Expand.apply(a, shape)


def index_to_numpy(index):
    """Turn Tensors and lists inside an index into NumPy arrays."""
    if isinstance(index, tuple):
        return tuple(index_to_numpy(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _has_integer_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def getitem(a, index):
    index = index_to_numpy(index)
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be integer or bool, got {part.dtype}")
    return GetItem.apply(a, index)


def _same_rank_or_error(tensors, name):
    if len(tensors) == 0:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    tensors = _same_rank_or_error(tensors, "cat")
    if tensors[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis, = normalize_dims(dim, tensors[0].ndim)
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(t.shape[d] != first[d] for d in range(len(first)) if d != axis):
            raise ValueError(f"cat: sizes of tensors must match except in dimension {axis}; "
                             f"tensor 0 has shape {tuple(first)}, tensor {i} has shape {tuple(t.shape)}")
    return Cat.apply(axis, *tensors)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    tensors = _same_rank_or_error(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: expects each tensor to be equal size, but got "
                             f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} out of range [{-ndim}, {ndim - 1}]")
    return Stack.apply(dim % ndim, *tensors)
