"""Writes of one tensor into chosen places of another, out of place and differentiable.

- ``index_put(x, indices, values, accumulate)``: ``x[indices] = values`` (or ``+=``)
- ``put(x, index, source, accumulate)``: the same on the flattened x
- ``masked_scatter(x, mask, source)``: the True places of mask take the elements
  of source in row-major order
- ``select_scatter``, ``slice_scatter``, ``diagonal_scatter``: x with one
  select / slice / diagonal replaced by src
- ``index_reduce(x, dim, index, source, reduce)``: rows of x combined with
  rows of source by prod, mean, amax or amin
- ``isin(elements, test_elements)``: membership (not differentiable)

The first five are one Function, ``WriteAt``: out = x with ``out[key] = values``
for a NumPy index ``key``. Its backward: the overwritten places of x get no
gradient (all of them do when accumulating), and values get the gradient
read at ``key``, summed over what values was broadcast along.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops.elementwise import _constant, unbroadcast, where
from minigrad.ops.reduction import normalize_dims
from minigrad.ops.shape import GetItem
from minigrad.tensor import Tensor, bool_

__all__ = ["diagonal_scatter", "index_put", "index_reduce", "isin", "masked_scatter", "put",
           "select_scatter", "slice_scatter"]


class WriteAt(Function):
    """out = a with out[key] = values (accumulate: out[key] += values, repeats adding up).

    locate(array) -> (view, key): `view` is `array` or a view of it (axes
    moved), so writing view[key] writes the array.
    """

    @staticmethod
    def forward(ctx, a, values, locate, accumulate):
        ctx.locate, ctx.accumulate, ctx.values_shape = locate, accumulate, np.shape(values)
        out = a.copy()
        view, key = locate(out)
        if accumulate:
            np.add.at(view, key, values)
        else:
            view[key] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = grad
        if not ctx.accumulate:
            grad_input = grad.copy()
            view, key = ctx.locate(grad_input)
            view[key] = 0  # overwritten: the old values did not reach the output
        view, key = ctx.locate(grad)
        picked = view[key]  # the shape values were broadcast to
        if ctx.accumulate and not _is_basic(key):
            picked = np.broadcast_to(picked, np.broadcast_shapes(picked.shape, ctx.values_shape))
        return grad_input, unbroadcast(np.array(picked), ctx.values_shape), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        grad_input = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_input = grad if ctx.accumulate else WriteAt.apply(
                grad, np.zeros((), grad.dtype), ctx.locate, False)   # the overwritten places: 0
        if ctx.needs_input_grad[1]:
            grad_values = ReadAt.apply(grad, ctx.locate, ctx.values_shape, ctx.accumulate)
        return grad_input, grad_values, None, None


class ReadAt(Function):
    """WriteAt's gradient of values as an op: view(a)[key], broadcast to the region
    (accumulate) and summed back to values_shape. Linear; its backward adds g back
    at key into zeros (WriteAt with accumulate), so it can be differentiated again."""

    @staticmethod
    def forward(ctx, a, locate, values_shape, accumulate):
        ctx.locate, ctx.shape, ctx.values_shape = locate, a.shape, values_shape
        view, key = locate(a)
        picked = view[key]
        if accumulate and not _is_basic(key):
            picked = np.broadcast_to(picked, np.broadcast_shapes(picked.shape, values_shape))
        return np.array(unbroadcast(np.array(picked), values_shape))

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        view, key = ctx.locate(out)
        np.add.at(view, _integer_key(key), grad)  # a place read twice gets both gradients
        return out, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        zeros = np.zeros(ctx.shape, dtype=grad.dtype)
        return WriteAt.apply(zeros, grad, ctx.locate, True), None, None, None


def _integer_key(key):
    """key with each bool array replaced by the integer arrays of its True places
    (what np.add.at takes; the same places as indexing with key)."""
    parts = key if isinstance(key, tuple) else (key,)
    expanded = []
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype == np.bool_:
            expanded.extend(np.nonzero(part))
        else:
            expanded.append(part)
    return tuple(expanded)


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return not any(isinstance(p, np.ndarray) for p in parts)


def _same_dtype(input, values, message):
    if values.dtype != input.dtype:
        raise RuntimeError(message.format(destination=input.dtype, source=values.dtype))


def _write(input, values, locate, accumulate, region_shape):
    """WriteAt after checking that values broadcast to the written region."""
    try:
        np.broadcast_to(np.empty(values.shape, dtype=bool), region_shape)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast "
                           f"to indexing result of shape {list(region_shape)}") from None
    return WriteAt.apply(input, values, locate, bool(accumulate))


# ----------------------------------------------------------------- index_put
def index_put(input, indices, values, accumulate=False):
    """input with input[indices] = values (broadcast); accumulate=True adds, repeats adding up.

    indices: a tuple of integer or bool tensors, one per leading dim (as x[i, j]).
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' (position 1) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    key = []
    for k, index in enumerate(indices):
        array = index.array if isinstance(index, Tensor) else (None if index is None else np.asarray(index))
        if array is None:
            key.append(slice(None))
            continue
        if array.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {array.dtype} "
                             f"at position {k}")
        key.append(array.astype(np.int64) if array.dtype.kind in "iu" else array)
    key = tuple(key)
    values = values if isinstance(values, Tensor) else Tensor._make(np.asarray(values, dtype=input.dtype), False, None)
    _same_dtype(input, values, "Index put requires the source and destination dtypes match, got "
                               "{destination} for the destination and {source} for the source.")
    try:
        region = input.array[key].shape
    except IndexError as error:
        raise IndexError(f"index_put(): {error}") from None
    return _write(input, values, lambda array: (array, key), accumulate, region)


# ----------------------------------------------------------------------- put
def put(input, index, source, accumulate=False):
    """input with the flattened input's elements index[k] set to source.flatten()[k] (or += )."""
    index_array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if index_array.dtype != np.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index_array.dtype}")
    if index_array.size != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index_array.size}")
    _same_dtype(input, source, "put_(): self ({destination}) and source ({source}) must have the same "
                               "scalar type")
    count = input.numel()
    flat = index_array.reshape(-1)
    bad = flat[(flat < -count) | (flat >= count)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {bad[0]} on a tensor of {count} elements.")
    flat = np.where(flat < 0, flat + count, flat)
    from minigrad.ops.shape import reshape
    shape = tuple(input.shape)
    # a 1-d view of out (shape (numel,)): locate works on the flattened array
    out = WriteAt.apply(reshape(input, (count,)), reshape(source, (flat.size,)),
                        lambda array: (array, flat), bool(accumulate))
    return reshape(out, shape)


# ------------------------------------------------------------ masked_scatter
def masked_scatter(input, mask, source):
    """input (broadcast with mask) whose places where mask is True take source's first
    elements, in row-major order; source needs at least mask.sum() elements."""
    mask_array = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{mask_array.dtype}")
    _same_dtype(input, source, "masked_scatter_: expected self and source to have same dtypes but got "
                               "{destination} and {source}")
    shape = np.broadcast_shapes(tuple(input.shape), mask_array.shape)
    from minigrad.ops.shape import expand, reshape
    if shape != tuple(input.shape):
        input = expand(input, *shape)
    mask_array = np.broadcast_to(mask_array, shape)
    chosen = int(mask_array.sum())
    if source.numel() < chosen:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    taken = getitem_flat(reshape(source, (source.numel(),)), chosen)  # (chosen,)
    return WriteAt.apply(input, taken, lambda array: (array, mask_array), False)


def getitem_flat(flat, count):
    """The first `count` elements of a 1-d tensor (differentiable)."""
    from minigrad.ops.shape import getitem
    return getitem(flat, slice(0, count))


# ---------------------------------------------- select / slice / diagonal
def _check_src(src, region, input):
    if tuple(src.shape) != tuple(region):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(region)}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"expected src ({src.dtype}) to have the same dtype as self ({input.dtype})")


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src (of that shape)."""
    axis, = normalize_dims(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {axis}")
    key = (slice(None),) * axis + (int(index) % size,)
    _check_src(src, input.array[key].shape, input)
    return WriteAt.apply(input, src, lambda array: (array, key), False)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with input[..., start:end:step, ...] (at dim) replaced by src."""
    axis, = normalize_dims(dim, input.ndim)
    if step is None:
        step = 1
    if step <= 0:
        raise RuntimeError(f"slice step must be positive, got {step}")
    key = (slice(None),) * axis + (slice(start, end, step),)
    _check_src(src, input.array[key].shape, input)
    return WriteAt.apply(input, src, lambda array: (array, key), False)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with input.diagonal(offset, dim1, dim2) replaced by src (diagonal last)."""
    if input.ndim < 2:
        raise RuntimeError(f"diagonal_scatter: expected a tensor of at least 2 dims, got {input.ndim}")
    axis1, = normalize_dims(dim1, input.ndim, "dim1")
    axis2, = normalize_dims(dim2, input.ndim, "dim2")
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = input.shape[axis1], input.shape[axis2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    row_index = np.arange(length) - min(offset, 0)
    col_index = np.arange(length) + max(offset, 0)

    def locate(array):
        # (..., rows, cols): the two dims last; the diagonal is [..., row_index, col_index]
        return np.moveaxis(array, (axis1, axis2), (-2, -1)), (Ellipsis, row_index, col_index)

    view, key = locate(input.array)
    _check_src(src, view[key].shape, input)
    return WriteAt.apply(input, src, locate, False)


# -------------------------------------------------------------- index_reduce
class IndexReduce(Function):
    """out[.., r, ..] = reduce over the members of row r: input's row r (if include_self)
    and every source row i with index[i] == r; rows no index names stay as they are.

    Works with dim moved first: a (rows, *rest), source (len(index), *rest).
    """

    @staticmethod
    def forward(ctx, a, source, index, reduce, include_self):
        out = a.copy()
        touched = np.zeros(a.shape[0], dtype=bool)
        touched[index] = True
        if reduce == "prod":
            if not include_self:
                out[touched] = 1
            np.multiply.at(out, index, source)
        elif reduce in ("amax", "amin"):
            if not include_self:  # the rows start from the value no member can lose to
                if a.dtype.kind == "f":
                    neutral = -np.inf if reduce == "amax" else np.inf
                else:
                    info = np.iinfo(a.dtype)
                    neutral = info.min if reduce == "amax" else info.max
                out[touched] = neutral
            (np.maximum if reduce == "amax" else np.minimum).at(out, index, source)
        else:  # mean
            counts = np.zeros(a.shape[0], dtype=np.int64)
            np.add.at(counts, index, 1)
            if include_self:
                counts = counts + 1
            else:
                out[touched] = 0
            np.add.at(out, index, source)
            counts = counts.reshape((-1,) + (1,) * (a.ndim - 1))
            safe = np.where(touched.reshape(counts.shape), np.maximum(counts, 1), 1).astype(a.dtype)
            if a.dtype.kind == "f":
                out = np.where(touched.reshape(counts.shape), out / safe, out).astype(a.dtype)
            else:
                out = np.where(touched.reshape(counts.shape), out // safe, out).astype(a.dtype)
            ctx.counts = safe
        ctx.save_for_backward(a, source, out)
        ctx.index, ctx.reduce, ctx.include_self, ctx.touched = index, reduce, include_self, touched
        return out

    @staticmethod
    def backward(ctx, grad):
        a, source, out = ctx.saved_tensors
        index, touched, include_self = ctx.index, ctx.touched, ctx.include_self
        row_shape = (-1,) + (1,) * (a.ndim - 1)
        touched_rows = touched.reshape(row_shape)
        self_counts = touched_rows & include_self  # input's rows that are members of a reduction
        if ctx.reduce == "mean":
            grad_input = np.where(touched_rows, grad / ctx.counts if include_self else 0, grad)
            grad_source = grad[index] / ctx.counts[index]
        elif ctx.reduce == "prod":
            # d(prod)/d(member) = product of the other members, zeros handled exactly
            zeros = np.zeros(out.shape, dtype=np.int64)
            nonzero_product = np.ones_like(out)
            if include_self:
                zeros += (a == 0) * touched_rows
                nonzero_product = np.where(touched_rows & (a != 0), a, 1).astype(out.dtype)
            np.add.at(zeros, index, (source == 0).astype(np.int64))
            np.multiply.at(nonzero_product, index, np.where(source != 0, source, 1))

            def others(member, rows_zeros, rows_product):
                safe = np.where(member != 0, member, 1)
                return np.where(member != 0, np.where(rows_zeros == 0, rows_product / safe, 0),
                                np.where(rows_zeros == 1, rows_product, 0))
            grad_input = np.where(touched_rows, np.where(self_counts, grad * others(a, zeros, nonzero_product), 0),
                                  grad)
            grad_source = grad[index] * others(source, zeros[index], nonzero_product[index])
        else:  # amax, amin: the gradient is shared evenly among the members equal to the result
            ties = np.zeros(out.shape, dtype=out.dtype)
            self_wins = self_counts & (a == out)
            ties += self_wins
            source_wins = source == out[index]
            np.add.at(ties, index, source_wins.astype(out.dtype))
            share = grad / np.where(ties > 0, ties, 1)
            grad_input = np.where(touched_rows, np.where(self_wins, share, 0), grad)
            grad_source = np.where(source_wins, share[index], 0)
        return grad_input.astype(a.dtype), grad_source.astype(a.dtype), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        """backward with Tensor ops: mean, amax and amin are linear in grad with constant
        masks and counts; prod recomputes its partner products from the input and source
        (PyTorch's formulas; see indexing._product_gradients_graph)."""
        a, source, out = ctx.saved_tensors
        index, include_self = ctx.index, ctx.include_self
        row_shape = (-1,) + (1,) * (a.ndim - 1)
        touched_rows = ctx.touched.reshape(row_shape)
        touched = _constant(np.broadcast_to(touched_rows, a.shape))
        read = lambda t: GetItem.apply(t, index)  # noqa: E731  (t[index], differentiable)
        if ctx.reduce == "mean":
            counts = _constant(ctx.counts)
            grad_input = where(touched, grad / counts if include_self else 0., grad)
            grad_source = read(grad) / _constant(ctx.counts[index])
        elif ctx.reduce == "prod":
            if include_self:
                a_one = where(_constant(a.array == 0), 1., a)
                others = IndexReduce.apply(a_one, source, index, "prod", True)
                grad_input = where(touched, grad * others / a_one, grad)
            else:
                grad_input = where(touched, 0., grad)
            src_zero = source.array == 0
            zeros = np.zeros(out.shape, dtype=np.int64)              # source's zeros per element of a row
            np.add.at(zeros, index, src_zero.astype(np.int64))
            single = src_zero & (zeros[index] == 1)
            plain = read(grad * out) / where(_constant(src_zero), 1., source)
            if single.any():
                with_one = IndexReduce.apply(a, where(_constant(single), 1., source), index, "prod", include_self)
                grad_source = where(_constant(single), read(grad * with_one), plain)
            else:
                grad_source = plain
            if (zeros > 1).any():
                from minigrad.ops.indexing import refuse_twice
                grad_source = refuse_twice(grad_source, "index_reduce(): Double backward is unsupported for "
                                                        "source when >1 zeros in source are scattered to the "
                                                        "same position", grad, a, source)
        else:  # amax, amin
            a_, source_, out_ = a.array, source.array, out.array
            self_wins = touched_rows & include_self & (a_ == out_)
            ties = self_wins.astype(out_.dtype)
            source_wins = source_ == out_[index]
            np.add.at(ties, index, source_wins.astype(out_.dtype))
            share = grad / _constant(np.where(ties > 0, ties, 1).astype(grad.dtype))
            grad_input = where(touched, share * _constant(self_wins.astype(grad.dtype)), grad)
            grad_source = read(share) * _constant(source_wins.astype(grad.dtype))
        return grad_input, grad_source, None, None, None


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input whose rows index[i] of dim are combined with source's rows i by reduce
    ('prod', 'mean', 'amax' or 'amin'); include_self=False leaves the input's own
    values of those rows out of the reduction."""
    from minigrad.ops.construction import _check_source, _rows_setup
    from minigrad.ops.shape import permute
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
                           f"{reduce}.")
    index_array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if index_array.dtype.kind not in "iu":
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got {index_array.dtype}")
    if input.ndim and index_array.size:
        size = input.shape[normalize_dims(dim, input.ndim)[0]]
        if np.any(index_array >= size) or np.any(index_array < -size):
            raise IndexError("index out of range in self")
    input, axis, rows, restore = _rows_setup(input, dim, index, "index_add")
    if source.ndim and source.ndim == input.ndim and source.shape[axis] != len(rows):
        raise RuntimeError(f"index_reduce_(): Number of indices ({len(rows)}) should be equal to "
                           f"source.size(dim): ({source.shape[axis]}), for dim: {axis}")
    source = _check_source(input, axis, rows, source, "index_reduce")
    order = (axis,) + tuple(d for d in range(input.ndim) if d != axis)  # dim first
    back = tuple(np.argsort(order))
    result = IndexReduce.apply(permute(input, order), permute(source, order), rows, reduce, bool(include_self))
    return restore(permute(result, back))


# --------------------------------------------------------------------- isin
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): at least one of elements and test_elements must be a Tensor")
    values = elements.array if isinstance(elements, Tensor) else np.asarray(elements)
    tests = test_elements.array if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    found = np.isin(values, tests, assume_unique=assume_unique, invert=invert)
    return Tensor._make(np.asarray(found, dtype=bool_), False, None)
