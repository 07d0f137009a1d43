"""Operations that move elements around without changing them.

Their backward moves the gradient back: reshape undoes a reshape, permute
applies the inverse permutation, expand sums over the expanded axes, and
indexing scatters the gradient into a zero array (adding where an index
repeats).
"""
import math

import numpy as np
import scipy.sparse

from minigrad.autograd import Function
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.reduction import normalize_dims
from minigrad.tensor import Tensor, _to_array


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

    backward_graph = backward


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims)), None

    @staticmethod
    def backward_graph(ctx, grad):
        return grad.permute(*[int(d) for d in np.argsort(ctx.dims)]), None


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.input_shape), None

    backward_graph = backward


def add_rows(out, index, values):
    """out[index[i]] += values[i] for every i, repeated rows summed: np.add.at(out, index, values).

    out (M, ...) starts at zero; index holds integers into out's first axis
    (any shape, negatives count from the end); values has index's shape
    followed by out.shape[1:]. One sparse one-hot (M, index.size) matrix times
    the values (index.size, rest): each row adds its values in index order,
    as np.add.at does, but in one pass instead of one element at a time.
    """
    flat = index.reshape(-1).astype(np.intp, copy=False)
    if out.dtype not in (np.float32, np.float64) or flat.size == 0:
        np.add.at(out, index, values)
        return
    rows = out.shape[0]
    flat = np.where(flat < 0, flat + rows, flat)
    one_hot = scipy.sparse.csr_matrix((np.ones(flat.size, dtype=out.dtype), (flat, np.arange(flat.size))),
                                      shape=(rows, flat.size))
    out.reshape(rows, -1)[...] += one_hot @ values.reshape(flat.size, -1)


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.input_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        grad_input = np.zeros(ctx.input_shape, dtype=grad.dtype)
        index = ctx.index[0] if isinstance(ctx.index, tuple) and len(ctx.index) == 1 else ctx.index
        if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
            add_rows(grad_input, index, grad)  # rows picked by an integer array: an index may repeat
        elif _has_integer_array(ctx.index):
            np.add.at(grad_input, ctx.index, grad)  # an index may repeat: add, don't overwrite
        else:
            grad_input[ctx.index] = grad  # slices and masks pick each element at most once
        return grad_input, None

    @staticmethod
    def backward_graph(ctx, grad):
        # Scattering into zeros is linear in grad: its own gradient reads grad's elements back (a[index])
        return ScatterIntoZeros.apply(grad, ctx.input_shape, ctx.index), None


class ScatterIntoZeros(Function):
    """zeros(shape) with `values` added at `index`: GetItem's backward as an op
    of its own, so that a double backward can differentiate it (its backward
    is GetItem again)."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.input_shape, ctx.index = shape, index
        return GetItem.backward(ctx, values)[0]

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.split(grad, ctx.boundaries, axis=ctx.axis))

    @staticmethod
    def backward_graph(ctx, grad):
        edges = [0, *[int(b) for b in ctx.boundaries], grad.shape[ctx.axis]]
        return (None,) + tuple(grad.narrow(ctx.axis, start, stop - start) for start, stop in zip(edges, edges[1:]))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.moveaxis(grad, ctx.axis, 0))

    @staticmethod
    def backward_graph(ctx, grad):
        return (None,) + tuple(grad.unbind(ctx.axis))


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


def _split_integers_first(parts):
    """PyTorch applies plain ints before index tensors; NumPy counts an int as an index array.

    So for ``x[0, :, idx]`` NumPy moves the indexed axis to the front ((2, 3)
    for x of shape (2, 3, 4)) where PyTorch gives (3, 2). Indexing in two steps
    gives PyTorch's result: first the ints (and slices, None, ...), with index
    arrays kept whole as full slices; then the index arrays on what is left.
    """
    first, second = [], []
    for part in parts:
        if isinstance(part, np.ndarray) and part.ndim > 0:
            # A bool mask stands for as many dims as it has; an int array for one.
            first.extend([slice(None)] * (part.ndim if part.dtype == np.bool_ else 1))
            second.append(part)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            first.append(part)  # consumes its dim: nothing left for the second step
        elif part is Ellipsis:
            first.append(part)
            second.append(part)
        else:  # a slice or None: applied in the first step, kept whole in the second
            first.append(part)
            second.append(slice(None))
    return tuple(first), tuple(second)


def _mixes_integers_and_arrays(parts):
    has_array = any(isinstance(p, np.ndarray) and p.ndim > 0 for p in parts)
    has_integer = any(isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))
                      for p in parts)
    return has_array and has_integer


def assign(array, index, value):
    """array[index] = value with PyTorch's index order (see _split_integers_first)."""
    index = index_to_numpy(index)
    parts = index if isinstance(index, tuple) else (index,)
    if _mixes_integers_and_arrays(parts):
        first, second = _split_integers_first(parts)
        array[first][second] = value  # the first step is basic indexing: a view into array
    else:
        array[index] = value


def getitem(a, index):
    index = index_to_numpy(index)
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be integer or bool, got {part.dtype}")
    if _mixes_integers_and_arrays(parts):
        first, second = _split_integers_first(parts)
        return GetItem.apply(GetItem.apply(a, first), second)
    return GetItem.apply(a, index)


def _same_rank_or_error(tensors, name):
    if len(tensors) == 0:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    return [t if isinstance(t, Tensor) else Tensor._make(_to_array(t), False, None) for t in tensors]


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


# ------------------------------------------------ more movement: flip, roll, split
class Repeat(Function):
    """Tile the input `repeats` times along each dim (np.tile).

    Backward: view grad as (r0, n0, r1, n1, ...) and sum over the copies r_i.
    """

    @staticmethod
    def forward(ctx, a, repeats):
        ctx.input_shape = (1,) * (len(repeats) - a.ndim) + a.shape
        ctx.original_shape, ctx.repeats = a.shape, repeats
        return np.tile(a, repeats)

    @staticmethod
    def backward(ctx, grad):
        split = []
        for r, n in zip(ctx.repeats, ctx.input_shape):
            split += [r, n]
        grad = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return grad.reshape(ctx.original_shape), None

    backward_graph = backward  # reshape and sum: Tensor has both


def repeat(a, *sizes):
    """Tensor.repeat: tile along each dim; len(sizes) must be at least a.ndim."""
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < a.ndim:
        raise ValueError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than "
                         f"the number of tensor dims ({a.ndim})")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeats must be non-negative, got {sizes}")
    return Repeat.apply(a, sizes)


def tile(a, dims):
    """torch.tile: like repeat, padding dims with leading 1s when there are fewer than a.ndim."""
    dims = _sizes((dims,), "tile")
    return repeat(a, (1,) * (a.ndim - len(dims)) + dims)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes), None

    @staticmethod
    def backward_graph(ctx, grad):
        return Flip.apply(grad, ctx.axes), None


def flip(a, dims):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    return Flip.apply(a, normalize_dims(dims, a.ndim))


def fliplr(a):
    if a.ndim < 2:
        raise ValueError(f"fliplr: input must have at least 2 dimensions, got shape {tuple(a.shape)}")
    return flip(a, 1)


def flipud(a):
    if a.ndim < 1:
        raise ValueError("flipud: input must have at least 1 dimension")
    return flip(a, 0)


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        negative = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad, negative, ctx.axes), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        negative = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(grad, negative, ctx.axes), None, None


def roll(a, shifts, dims=None):
    """Shift elements along dims, wrapping around; dims=None rolls the flattened tensor."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            shifts, = shifts
        return Roll.apply(a, int(shifts), None)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    axes = tuple(normalize_dims(d, a.ndim)[0] for d in dims)
    return Roll.apply(a, tuple(int(s) for s in shifts), axes)


def narrow(a, dim, start, length):
    """The slice [start, start + length) of dim (a view in PyTorch, a copy here)."""
    axis, = normalize_dims(dim, a.ndim)
    size = a.shape[axis]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
    return getitem(a, (slice(None),) * axis + (slice(start, start + length),))


def t(a):
    """Transpose a matrix; 0-d and 1-d tensors come back as they are."""
    if a.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    return a if a.ndim < 2 else transpose(a, 0, 1)


def movedim(a, source, destination):
    """Move dims `source` to positions `destination`; the others keep their order."""
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(source) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the "
                         f"same number of dims")
    source = [normalize_dims(d, a.ndim)[0] for d in source]
    destination = [normalize_dims(d, a.ndim)[0] for d in destination]
    order = [d for d in range(a.ndim) if d not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return Permute.apply(a, tuple(order))


moveaxis = movedim


def swapaxes(a, axis0, axis1):
    return transpose(a, axis0, axis1)


swapdims = swapaxes


def split(a, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last may be smaller), or of the given sizes."""
    axis, = normalize_dims(dim, a.ndim)
    size = a.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, size - start) for start in range(0, size, step)] if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if math.fsum(sizes) != size:
            raise ValueError(f"split: split sizes {sizes} must sum to the size of dim {dim} ({size})")
    pieces, start = [], 0
    for n in sizes:
        pieces.append(getitem(a, (slice(None),) * axis + (slice(start, start + n),)))
        start += n
    return tuple(pieces)


def chunk(a, chunks, dim=0):
    """At most `chunks` pieces of equal size ceil(n / chunks) along dim (the last may be smaller)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    axis, = normalize_dims(dim, a.ndim)
    size = a.shape[axis]
    return split(a, max(-(-size // chunks), 1), axis)


def unbind(a, dim=0):
    """The slices along dim, each without that dim."""
    axis, = normalize_dims(dim, a.ndim)
    return tuple(getitem(a, (slice(None),) * axis + (i,)) for i in range(a.shape[axis]))


def repeat_interleave(a, repeats, dim=None):
    """Repeat each element `repeats` times along dim (the flattened tensor if dim is None)."""
    if dim is None:
        a, axis = a.reshape(-1), 0
    else:
        axis, = normalize_dims(dim, a.ndim)
    repeats = repeats.array if isinstance(repeats, Tensor) else repeats
    positions = np.repeat(np.arange(a.shape[axis]), repeats)
    return getitem(a, (slice(None),) * axis + (positions,))
