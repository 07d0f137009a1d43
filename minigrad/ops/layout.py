"""Memory layout and PyTorch's legacy in-place shape methods.

A Tensor's ``array`` is a NumPy array, so its layout is NumPy's: ``stride()``
is ``array.strides`` divided by the element size (PyTorch counts strides in
elements, NumPy in bytes), ``storage_offset()`` is how many elements the
array starts after the start of the buffer it views, and ``is_contiguous()``
is C order. Everything lives on the CPU in the one strided layout.

Also here: ``unfold`` (sliding windows as a new last dim; its backward adds
each window's gradient back where the window came from), ``sum_to_size``,
the legacy constructor ``new``, ``resize_``/``resize_as_`` and
``fill_diagonal_``.
"""
import numpy as np

from minigrad.autograd import Function, _buffer, bump_version
from minigrad.ops.reduction import normalize_dims
from minigrad.tensor import Size, Tensor

__all__ = ["channels_last", "channels_last_3d", "contiguous_format", "memory_format",
           "preserve_format", "strided"]


class layout:
    """torch.layout: how a tensor's elements sit in memory (minigrad has only ``strided``)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level constant


strided = layout("strided")


class memory_format:
    """torch.memory_format: the dim order a contiguous tensor is laid out in."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


# ------------------------------------------------------------------ queries
def strides_of(array):
    """PyTorch's stride(): NumPy's byte strides in elements."""
    itemsize = array.itemsize
    return tuple(s // itemsize for s in array.strides)


def _dense_in_order(shape, strides, order):
    """Whether strides are those of a dense array whose dims, slowest first, are `order`
    (dims of size 1 may have any stride, as in PyTorch)."""
    expected = 1
    for axis in reversed(order):
        if shape[axis] != 1 and strides[axis] != expected:
            return False
        expected *= shape[axis]
    return True


def is_contiguous(tensor, memory_format=contiguous_format):
    """Whether the elements are dense in row-major order (or in channels_last's
    N, H, W, C order for a 4-d tensor, channels_last_3d's N, D, H, W, C for 5-d)."""
    array = tensor.array
    if array.size == 0:
        return True
    shape, strides = array.shape, strides_of(array)
    if memory_format is contiguous_format:
        return _dense_in_order(shape, strides, range(array.ndim))
    if memory_format is channels_last:
        return array.ndim == 4 and _dense_in_order(shape, strides, (0, 2, 3, 1))
    if memory_format is channels_last_3d:
        return array.ndim == 5 and _dense_in_order(shape, strides, (0, 2, 3, 4, 1))
    if memory_format is preserve_format:
        raise RuntimeError("is_contiguous: preserve_format is not a supported memory format here; "
                           "use contiguous_format, channels_last or channels_last_3d")
    raise TypeError(f"is_contiguous(): memory_format must be a minigrad.memory_format, got {memory_format!r}")


def stride(tensor, dim=None):
    """The step in elements from one index to the next of each dim (or of `dim`)."""
    strides = strides_of(tensor.array)
    if dim is None:
        return strides
    axis, = normalize_dims(dim, tensor.array.ndim)
    return strides[axis] if tensor.array.ndim else 1


def data_ptr(tensor):
    """The address of the first element."""
    return tensor.array.__array_interface__["data"][0]


def storage_offset(tensor):
    """How many elements after the start of its buffer the tensor starts."""
    array = tensor.array
    start = _buffer(array).__array_interface__["data"][0]
    return (data_ptr(tensor) - start) // array.itemsize


# -------------------------------------------------------------------- unfold
class Unfold(Function):
    """Windows of `size` elements, `step` apart, along `axis`: a new last dim.

    out[..., i, ..., k] = a[..., i * step + k, ...]; windows may overlap
    (step < size), so backward adds every window's gradient back in place.
    """

    @staticmethod
    def forward(ctx, a, axis, size, step):
        ctx.axis, ctx.size, ctx.step, ctx.input_shape = axis, size, step, a.shape
        windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=axis)  # (..., n - size + 1, ..., size)
        index = [slice(None)] * a.ndim
        index[axis] = slice(None, None, step)
        return np.ascontiguousarray(windows[tuple(index)])  # (..., (n - size) // step + 1, ..., size)

    @staticmethod
    def backward(ctx, grad):
        axis, size, step = ctx.axis, ctx.size, ctx.step
        count = grad.shape[axis]
        grad_input = np.zeros(ctx.input_shape, dtype=grad.dtype)
        target = np.moveaxis(grad_input, axis, 0)  # a view: writes land in grad_input
        for k in range(size):  # element k of every window: rows k, k + step, ...
            target[k:k + step * (count - 1) + 1:step] += np.moveaxis(grad[..., k], axis, 0)
        return grad_input, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The same scatter-add as an op: the flat input position each output element
        # reads is the unfold of arange over the input
        from minigrad.ops.shape import ScatterIntoZeros
        count = int(np.prod(ctx.input_shape))
        positions = Unfold.forward(Unfold(), np.arange(count).reshape(ctx.input_shape), ctx.axis, ctx.size,
                                   ctx.step)
        flat = ScatterIntoZeros.apply(grad.reshape(-1), (count,), positions.reshape(-1))
        return flat.reshape(*ctx.input_shape), None, None, None


def unfold(tensor, dimension, size, step):
    """All slices of `size` elements along `dimension`, `step` apart, as a new last dim:
    that dim becomes (n - size) // step + 1 long (a 0-d tensor counts as length 1)."""
    from minigrad.ops.shape import reshape
    scalar = tensor.ndim == 0
    if scalar:
        tensor = reshape(tensor, (1,))
    axis, = normalize_dims(dimension, tensor.ndim, "dimension")
    length = tensor.shape[axis]
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0 or size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size is {size}")
    windows = Unfold.apply(tensor, axis, int(size), int(step))
    return reshape(windows, (int(size),)) if scalar else windows  # a 0-d tensor: (1, size) -> (size,)


# ----------------------------------------------------------- shape methods
def sizes_from(args, name):
    """f(2, 3), f((2, 3)) and f(Size([2, 3])) all mean the shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for n in args:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{name}(): sizes must be ints, got {n!r}")
    return tuple(int(n) for n in args)


def sum_to_size(tensor, *size):
    """Sum over the dims that `size` broadcasts along, to get a tensor of that shape."""
    from minigrad.ops.reduction import sum as reduce_sum
    from minigrad.ops.shape import reshape
    shape = sizes_from(size, "sum_to_size")
    own = tuple(tensor.shape)
    lead = len(own) - len(shape)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(shape, own[lead:])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(own)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and own[lead + i] != 1)
    if not dims:
        return tensor
    return reshape(reduce_sum(tensor, dim=dims, keepdim=True), shape)  # (1,)*lead + shape -> shape


def new(tensor, *args, device=None):
    """PyTorch's legacy ``x.new(...)``, in x's dtype: ``x.new(2, 3)`` or ``x.new(Size)``
    is uninitialised of that shape, ``x.new(data)`` holds data, ``x.new()`` is empty."""
    from minigrad.devices import check_device
    if device is not None:
        check_device(device)
    dtype = tensor.array.dtype
    if not args:
        return Tensor._make(np.empty((0,), dtype=dtype), False, None)
    if isinstance(args[0], Size) and len(args) == 1:
        return Tensor._make(np.empty(tuple(args[0]), dtype=dtype), False, None)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        if any(a < 0 for a in args):
            raise RuntimeError(f"new(): negative dimension in {list(args)}")
        return Tensor._make(np.empty(tuple(int(a) for a in args), dtype=dtype), False, None)
    if len(args) != 1:
        raise TypeError(f"new(): expected sizes (ints) or one data argument, got {args!r}")
    data = args[0].array if isinstance(args[0], Tensor) else args[0]
    return Tensor._make(np.array(data, dtype=dtype), False, None)


def resize_(tensor, *sizes, memory_format=contiguous_format):
    """Give `tensor` the shape `sizes` in place: the first elements (row-major order)
    are kept, new ones are uninitialised (zeros here). Not for tensors that require grad."""
    if tensor.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = sizes_from(sizes, "resize_")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    if shape == tuple(tensor.shape):
        return tensor
    count = int(np.prod(shape, dtype=np.int64))
    flat = tensor.array.reshape(-1)
    if count <= flat.size and tensor.array.flags.c_contiguous:
        resized = flat[:count].reshape(shape)  # shares memory, as PyTorch's shrinking resize_
    else:
        resized = np.zeros(count, dtype=tensor.array.dtype)
        kept = min(count, flat.size)
        resized[:kept] = flat[:kept]
        resized = resized.reshape(shape)
    if memory_format is channels_last and len(shape) == 4:
        resized = np.ascontiguousarray(np.transpose(resized, (0, 2, 3, 1))).transpose(0, 3, 1, 2)
    tensor.array = resized
    bump_version(resized)
    return tensor


def resize_as_(tensor, other, memory_format=contiguous_format):
    """resize_ to the shape of `other`."""
    return resize_(tensor, tuple(other.shape), memory_format=memory_format)


def fill_diagonal_(tensor, fill_value, wrap=False):
    """Set the main diagonal (elements i, i, ..., i) to fill_value in place; all dims
    must be equal for ndim > 2. A tall matrix with wrap=True starts the diagonal
    again every ncols + 1 rows."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise RuntimeError(f"dimensions must larger than 1, got a tensor of {len(shape)} dimension(s)")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"all dimensions of input must be of equal length, got shape {list(shape)}")
    mask = np.zeros(shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    from minigrad.ops.elementwise import where
    value = fill_value.array if isinstance(fill_value, Tensor) else fill_value
    return tensor._inplace("fill_diagonal_", lambda t: where(mask, np.asarray(value, dtype=t.array.dtype), t))
