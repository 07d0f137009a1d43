"""Top-level PyTorch odds: strided views, the ``*_copy`` ops, ``unsafe_*`` splits,
``nonzero_static``, and the Python-callable in-place maps.

- ``as_strided(x, size, stride, storage_offset)``: out[i] = flat[offset + sum_k i_k * stride_k]
  where flat is x's elements in row-major order (x's storage when x is contiguous).
  Backward (torch's AsStridedBackward): grad_flat[offset + sum_k i_k stride_k] += grad[i],
  so windows that overlap add up.
- ``empty_strided``, ``frombuffer``: construction (frombuffer shares the buffer's memory).
- ``<view>_copy``: the view op's result, always a new tensor, with the view op's gradient.
- ``unsafe_split`` / ``unsafe_chunk`` / ``unsafe_split_with_sizes``: split / chunk / split_with_sizes.
- ``nonzero_static(x, size, fill_value)``: nonzero(x) cut or padded with fill_value to ``size`` rows.
- ``Tensor.apply_`` / ``map_`` / ``map2_``: element-by-element Python callables, no autograd.
"""
import warnings

import numpy as np

from minigrad.autograd import Function
from minigrad.dtypes import as_dtype
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor

__all__ = ["alias_copy", "as_strided", "detach_copy", "diagonal_copy", "empty_strided", "expand_copy",
           "frombuffer", "narrow_copy", "nonzero_static", "permute_copy", "select_copy", "slice_copy",
           "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy",
           "unbind_copy", "unfold_copy", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
           "unsqueeze_copy", "view_copy"]


def _require_tensor(function, value, argument="input", position=1):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _int_tuple(function, name, value):
    if isinstance(value, (int, np.integer)):
        value = (value,)
    try:
        values = tuple(value)
    except TypeError:
        raise TypeError(f"{function}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}") from None
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{function}(): argument '{name}' must be tuple of ints, but found element "
                            f"of type {type(v).__name__}")
    return tuple(int(v) for v in values)


# ------------------------------------------------------------------- as_strided
def _storage_positions(size, stride, storage_offset, storage_size, itemsize):
    """The flat storage index of every output element, shape `size` (checked as torch's setStorage)."""
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    needed = 0 if 0 in size else storage_offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > storage_size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                           f"{storage_offset}, and itemsize {itemsize} requiring a storage size of "
                           f"{needed * itemsize} are out of bounds for storage of size "
                           f"{storage_size * itemsize}")
    positions = np.full(size, storage_offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return positions


class AsStrided(Function):
    """out = flat(a)[positions]; grad_a = scatter-add of grad into positions, reshaped as a."""

    @staticmethod
    def forward(ctx, a, positions):
        ctx.positions, ctx.shape = positions, a.shape
        flat = np.ascontiguousarray(a).reshape(-1)  # (numel,), row-major: the contiguous storage
        return flat[positions]

    @staticmethod
    def backward(ctx, grad):
        flat = np.zeros(int(np.prod(ctx.shape)), dtype=grad.dtype)
        np.add.at(flat, ctx.positions, grad)  # overlapping windows add up
        return flat.reshape(ctx.shape), None

    @staticmethod
    def backward_graph(ctx, grad):
        from minigrad.ops.shape import ScatterIntoZeros
        numel = int(np.prod(ctx.shape))
        return ScatterIntoZeros.apply(grad, (numel,), ctx.positions).reshape(ctx.shape), None


def as_strided(input, size, stride, storage_offset=0):
    """out[i_0, ..., i_k] = input.flatten()[storage_offset + sum_j i_j * stride[j]] (a new tensor).

    input.flatten() stands for PyTorch's storage: the same when input is contiguous and starts its
    storage (storage_offset None or 0 then reads from input's first element, as PyTorch's default).
    """
    _require_tensor("as_strided", input)
    size = _int_tuple("as_strided", "size", size)
    stride = _int_tuple("as_strided", "stride", stride)
    storage_offset = 0 if storage_offset is None else int(storage_offset)
    positions = _storage_positions(size, stride, storage_offset, input.array.size, input.array.itemsize)
    return AsStrided.apply(input, positions)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor of `size` whose stride() is `stride` (a view of a big-enough buffer)."""
    from minigrad.devices import check_device
    check_device(device)
    size = _int_tuple("empty_strided", "size", size)
    stride = _int_tuple("empty_strided", "stride", stride)
    dtype = as_dtype(dtype) or get_default_dtype()
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buffer = np.empty(max(needed, 1), dtype=dtype)
    itemsize = buffer.itemsize
    array = np.lib.stride_tricks.as_strided(buffer, size, tuple(s * itemsize for s in stride))
    return Tensor(array, requires_grad=requires_grad)


_frombuffer_warned = False


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor over the bytes of `buffer` (shares its memory): count elements from byte offset."""
    global _frombuffer_warned
    dtype = np.dtype(as_dtype(dtype))
    view = memoryview(buffer)
    length, itemsize = view.nbytes, dtype.itemsize
    count, offset = int(count), int(offset)
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be "
                             f"a multiple of element size ({itemsize})")
        count = (length - offset) // itemsize
    elif offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset ({offset} "
                         f"bytes) must not be greater than actual buffer length ({length} bytes)")
    if view.readonly and not _frombuffer_warned:
        _frombuffer_warned = True
        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. "
                      "This means you can write to the underlying (supposedly non-writable) buffer using "
                      "the tensor. You may want to copy the buffer to protect its data or make it writable "
                      "before converting it to a tensor. This type of warning will be suppressed for the "
                      "rest of this program.", UserWarning, stacklevel=2)
    array = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    return Tensor(array, requires_grad=requires_grad)


# ------------------------------------------------------------------ *_copy ops
def _copy_of(result):
    if isinstance(result, (tuple, list)):
        return tuple(part.clone() for part in result)
    return result.clone()


def _copy_op(name, view):
    """<name>_copy: view(input, *args) cloned (clone's gradient is the identity, so the view's)."""
    def copy_op(input, *args, **kwargs):
        _require_tensor(name, input)
        return _copy_of(view(input, *args, **kwargs))
    copy_op.__name__ = copy_op.__qualname__ = name
    copy_op.__doc__ = "The result of the view op as a new tensor (not a view), differentiable as the view."
    return copy_op


def _slice(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step, ...] along dim (torch.slice_copy's signature)."""
    dim = dim + input.dim() if dim < 0 else dim
    if not 0 <= dim < max(input.dim(), 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, "
                         f"{input.dim() - 1}], but got {dim})")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return input[(slice(None),) * dim + (slice(start, end, step),)]


# name = _copy_op(name, the view op it copies)
alias_copy = _copy_op("alias_copy", lambda input: input)
detach_copy = _copy_op("detach_copy", lambda input: input.detach())
diagonal_copy = _copy_op("diagonal_copy", lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2))
expand_copy = _copy_op("expand_copy", lambda input, size, *, implicit=False: input.expand(*size))
narrow_copy = _copy_op("narrow_copy", lambda input, dim, start, length: input.narrow(dim, start, length))
permute_copy = _copy_op("permute_copy", lambda input, dims: input.permute(*dims))
select_copy = _copy_op("select_copy", lambda input, dim, index: input.select(dim, index))
slice_copy = _copy_op("slice_copy", _slice)
split_copy = _copy_op("split_copy", lambda input, split_size, dim=0: input.split(split_size, dim))
split_with_sizes_copy = _copy_op("split_with_sizes_copy",
                                 lambda input, split_sizes, dim=0: input.split_with_sizes(split_sizes, dim))
squeeze_copy = _copy_op("squeeze_copy", lambda input, dim=None: input.squeeze() if dim is None else input.squeeze(dim))
t_copy = _copy_op("t_copy", lambda input: input.t())
transpose_copy = _copy_op("transpose_copy", lambda input, dim0, dim1: input.transpose(dim0, dim1))
unbind_copy = _copy_op("unbind_copy", lambda input, dim=0: input.unbind(dim))
unfold_copy = _copy_op("unfold_copy", lambda input, dimension, size, step: input.unfold(dimension, size, step))
unsqueeze_copy = _copy_op("unsqueeze_copy", lambda input, dim: input.unsqueeze(dim))
view_copy = _copy_op("view_copy", lambda input, size: input.view(size))  # size: a shape or a dtype


# -------------------------------------------------------------- unsafe splits
def unsafe_split(tensor, split_size, dim=0):
    """tensor.split(split_size, dim) (torch's unsafe_ variant differs only in view tracking)."""
    _require_tensor("unsafe_split", tensor)
    return tuple(tensor.split(split_size, dim))


def unsafe_chunk(input, chunks, dim=0):
    """input.chunk(chunks, dim)."""
    _require_tensor("unsafe_chunk", input)
    return tuple(input.chunk(chunks, dim))


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """input.split_with_sizes(split_sizes, dim)."""
    _require_tensor("unsafe_split_with_sizes", input)
    return tuple(input.split_with_sizes(split_sizes, dim))


def nonzero_static(input, *, size, fill_value=-1):
    """The (size, input.dim()) int64 indices of the nonzero elements, row-major, truncated to size rows
    or padded with rows of fill_value."""
    _require_tensor("nonzero_static", input)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    size = int(size)
    found = np.argwhere(np.asarray(input.array) != 0).astype(np.int64)  # (nnz, ndim)
    out = np.full((size, input.array.ndim), int(fill_value), dtype=np.int64)
    rows = min(size, found.shape[0])
    out[:rows] = found[:rows]
    return Tensor(out)


# ------------------------------------------------------ Python-callable maps
def _check_callable_target(method, tensor):
    if tensor.requires_grad:
        raise RuntimeError(f"Can't call {method}() on Variable that requires grad. Use "
                           f"var.detach().{method}() instead.")


def _store(tensor, values):
    tensor.array[...] = np.asarray(values, dtype=object).astype(tensor.array.dtype).reshape(tensor.array.shape)
    return tensor


def apply_(self, callable):
    """self[i] = callable(self[i]) for each element, in place (CPU, slow; no autograd)."""
    _check_callable_target("apply_", self)
    values = [callable(v) for v in self.array.reshape(-1).tolist()]
    return _store(self, values)


def _broadcast_to_self(self, other):
    other_array = other.array if isinstance(other, Tensor) else np.asarray(other)
    try:
        return np.broadcast_to(other_array, self.array.shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({self.array.shape[-1] if self.array.ndim else 1}) "
                           f"must match the existing size ({other_array.shape[-1] if other_array.ndim else 1}) "
                           f"at non-singleton dimension {self.array.ndim - 1}.  Target sizes: "
                           f"{list(self.array.shape)}.  Tensor sizes: {list(other_array.shape)}") from None


def map_(self, tensor, callable):
    """self[i] = callable(self[i], tensor[i]), tensor broadcast to self (in place; no autograd)."""
    _check_callable_target("map_", self)
    _require_tensor("map_", tensor, "tensor")
    other = _broadcast_to_self(self, tensor).reshape(-1).tolist()
    values = [callable(a, b) for a, b in zip(self.array.reshape(-1).tolist(), other)]
    return _store(self, values)


def map2_(self, x, y, callable):
    """self[i] = callable(self[i], x[i], y[i]), x and y broadcast to self (in place; no autograd)."""
    _check_callable_target("map2_", self)
    _require_tensor("map2_", x, "x")
    _require_tensor("map2_", y, "y")
    xs = _broadcast_to_self(self, x).reshape(-1).tolist()
    ys = _broadcast_to_self(self, y).reshape(-1).tolist()
    values = [callable(a, b, c) for a, b, c in zip(self.array.reshape(-1).tolist(), xs, ys)]
    return _store(self, values)
