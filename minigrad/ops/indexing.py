"""Picking and placing elements by index: gather, scatter, index_select, sort, topk, one_hot, ...

``gather(dim, index)`` reads ``out[i][j] = input[index[i][j]][j]`` (dim 0)
and ``scatter`` writes the other way round. Both build the full coordinate
grid of `index` with dim replaced by the index values; backward moves the
gradient along the same grid in the opposite direction.
"""
from collections import namedtuple

import numpy as np

from minigrad.autograd import Function
from minigrad.ops._args import check_tensor
from minigrad.ops.elementwise import _constant, where
from minigrad.ops.reduction import ValuesIndices, normalize_dims
from minigrad.ops.shape import GetItem, ScatterIntoZeros, getitem
from minigrad.tensor import Tensor

SortResult = namedtuple("SortResult", ["values", "indices"])


def _axis(a, dim):
    axis, = normalize_dims(dim, a.ndim) or (0,)
    return axis


def _index_array(index, name):
    array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {array.dtype}")
    return array.astype(np.int64, copy=False)


def _grid(index, axis):
    """Coordinates (sparse, broadcastable) of every element of `index`, dim `axis` replaced by it."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    return tuple(grid)


def _check_index(a_shape, index, axis, name, other_shape=None):
    if index.ndim != len(a_shape):
        raise ValueError(f"{name}: index has {index.ndim} dims but the input has {len(a_shape)} "
                         f"(they must match)")
    for d in range(index.ndim):
        if d != axis and index.shape[d] > a_shape[d]:
            raise ValueError(f"{name}: index {index.shape} is larger than the input {a_shape} in "
                             f"dimension {d}")
        if other_shape is not None and index.shape[d] > other_shape[d]:
            raise ValueError(f"{name}: index {index.shape} is larger than src {other_shape} in "
                             f"dimension {d}")
    size = a_shape[axis]
    if index.size and (index.min() < -size or index.max() >= size):
        raise IndexError(f"{name}: index out of range for dimension {axis} of size {size} "
                         f"(got values in [{index.min()}, {index.max()}])")


class Gather(Function):
    @staticmethod
    def forward(ctx, a, axis, index):
        ctx.grid, ctx.shape = _grid(index, axis), a.shape
        return a[ctx.grid]

    @staticmethod
    def backward(ctx, grad):
        grad_input = np.zeros(ctx.shape, dtype=grad.dtype)
        np.add.at(grad_input, ctx.grid, grad)  # an element gathered twice gets both gradients
        return grad_input, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # the same scatter-add into zeros, as an op whose own backward gathers again
        return ScatterIntoZeros.apply(grad, ctx.shape, ctx.grid), None, None


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim 0); out has index's shape."""
    axis = _axis(input, dim)
    index = _index_array(index, "gather")
    _check_index(input.shape, index, axis, "gather")
    return Gather.apply(input, axis, index)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    return gather(input, dim, indices)


class Scatter(Function):
    """A copy of the input with src's elements written (or reduced) at the index grid.

    reduce: None (overwrite), 'sum', 'prod', 'mean', 'amax', 'amin';
    include_self: whether the input's own value takes part in the reduction.
    """

    @staticmethod
    def forward(ctx, a, src, axis, index, reduce, include_self):
        grid = _grid(index, axis)
        ctx.src_shape = np.shape(src)
        given_src = src  # saved as given: a double backward reconnects it to the graph
        if np.ndim(src) == 0:  # scatter(value=...): the same number everywhere
            src = np.broadcast_to(src, index.shape)
        else:  # only src's leading block of index's shape is read
            src = src[tuple(slice(0, n) for n in index.shape)]
        out = a.copy()
        hit = np.zeros(a.shape, dtype=bool)
        hit[grid] = True
        if reduce is None:
            out[grid] = src
        elif reduce in ("sum", "mean"):
            if not include_self:
                out[hit] = 0
            np.add.at(out, grid, src)
            if reduce == "mean":
                count = np.full(a.shape, 1 if include_self else 0, dtype=np.int64)
                np.add.at(count, grid, 1)
                count = np.maximum(count, 1)
                out = (out / count).astype(a.dtype) if a.dtype.kind == "f" else out // count
                ctx.count = count
        elif reduce == "prod":
            if not include_self:
                out[hit] = 1
            np.multiply.at(out, grid, src)
        else:  # amax / amin
            numpy_reduce = np.maximum if reduce == "amax" else np.minimum
            if not include_self:  # start from the reduction's identity
                if a.dtype.kind == "f":
                    out[hit] = -np.inf if reduce == "amax" else np.inf
                else:
                    limits = np.iinfo(a.dtype) if a.dtype.kind in "iu" else None
                    out[hit] = limits.min if reduce == "amax" else limits.max
            numpy_reduce.at(out, grid, src)
        ctx.save_for_backward(a, given_src, out, hit)
        ctx.grid, ctx.reduce, ctx.include_self = grid, reduce, include_self
        ctx.axis, ctx.index = axis, index  # for the double backward of prod
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_self, grad_src = Scatter._gradients(ctx, grad)
        if ctx.needs_input_grad[1] and grad_src.shape != ctx.src_shape:
            # Only src's leading block (index's shape) was read: the rest gets 0.
            padded = np.zeros(ctx.src_shape, dtype=grad.dtype)
            padded[tuple(slice(0, n) for n in grad_src.shape)] = grad_src
            grad_src = padded
        return grad_self, grad_src, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradients with Tensor ops. Linear in grad with constant masks
        (hit, ties, counts) for every reduction but prod, whose gradient also
        depends on the input and src (recomputed from them, as PyTorch does)."""
        a, src, out, hit = ctx.saved_tensors
        src = _read_src(src, ctx.index.shape)
        grid, reduce = ctx.grid, ctx.reduce
        hit = _constant(hit.array)
        read = lambda t: GetItem.apply(t, grid)  # noqa: E731  (t[grid], differentiable)
        if reduce is None:
            grad_self, grad_src = where(hit, 0., grad), read(grad)
        elif reduce == "sum":
            grad_self = grad if ctx.include_self else where(hit, 0., grad)
            grad_src = read(grad)
        elif reduce == "mean":
            share = grad / _constant(ctx.count.astype(grad.dtype))
            grad_self = share if ctx.include_self else where(hit, 0., grad)
            grad_src = read(share)
        elif reduce == "prod":
            grad_self, grad_src = _product_gradients_graph(ctx, a, src, out, hit, grad)
        else:  # amax / amin: masks and tie counts are constants (a.e.)
            a_, src_, out_ = a.array, src.array, out.array
            self_is_extreme = (a_ == out_) & (hit.array if ctx.include_self else False)
            src_is_extreme = src_ == out_[grid]
            ties = self_is_extreme.astype(np.int64)
            np.add.at(ties, grid, src_is_extreme)
            share = grad / _constant(np.maximum(ties, 1).astype(grad.dtype))
            grad_self = where(hit, share * _constant(self_is_extreme.astype(grad.dtype)), grad)
            grad_src = read(share) * _constant(src_is_extreme.astype(grad.dtype))
        if not ctx.needs_input_grad[1]:
            grad_src = None
        elif tuple(grad_src.shape) != ctx.src_shape:
            if len(ctx.src_shape) == 0:  # a number broadcast (value=): not a tensor input
                grad_src = None
            else:  # only src's leading block was read: the rest gets 0
                block = tuple(slice(0, n) for n in grad_src.shape)
                grad_src = ScatterIntoZeros.apply(grad_src, ctx.src_shape, block)
        return grad_self, grad_src, None, None, None, None

    @staticmethod
    def _gradients(ctx, grad):
        a, src, out, hit = ctx.saved_tensors
        src = _read_src(src, ctx.index.shape)
        grid, reduce = ctx.grid, ctx.reduce
        if reduce is None:  # overwritten elements of the input get no gradient
            return np.where(hit, 0, grad), grad[grid]
        if reduce == "sum":
            grad_self = grad if ctx.include_self else np.where(hit, 0, grad)
            return grad_self, grad[grid]
        if reduce == "mean":
            share = grad / ctx.count
            grad_self = share if ctx.include_self else np.where(hit, 0, grad)
            return grad_self, share[grid]
        if reduce == "prod":
            return _product_gradients(a, src, grid, hit, grad, ctx.include_self)
        # amax / amin: the gradient is shared evenly among the elements equal to the result.
        self_is_extreme = (a == out) & (hit if ctx.include_self else False)
        src_is_extreme = src == out[grid]
        ties = self_is_extreme.astype(np.int64)
        np.add.at(ties, grid, src_is_extreme)
        share = grad / np.maximum(ties, 1)
        grad_self = np.where(hit, share * self_is_extreme, grad)
        return grad_self, share[grid] * src_is_extreme


def _read_src(src, shape):
    """The part of src that scatter reads: its leading block of index's shape (a
    number: broadcast to it). Arrays or Tensors."""
    if isinstance(src, Tensor) and src.ndim == 0:  # a number (value=), a constant here
        return _constant(np.broadcast_to(src.array, shape))
    if not isinstance(src, Tensor) and np.ndim(src) == 0:
        return np.broadcast_to(src, shape)
    block = tuple(slice(0, n) for n in shape)
    if isinstance(src, Tensor):
        return src if tuple(src.shape) == tuple(shape) else GetItem.apply(src, block)
    return src[block]


def _product_gradients(a, src, grid, hit, grad, include_self):
    """Gradients of out[t] = prod of the factors scattered to t: d out[t] / d x = the other factors' product.

    Without dividing by x, so zeros are exact (as in PyTorch): per target t,
    count its zero factors and multiply its nonzero ones. A factor's partner
    product is then nonzero_product / x if t has no zero, nonzero_product for
    the one zero of a t with exactly one, and 0 if any other factor is zero.
    """
    zeros = np.zeros(a.shape, dtype=np.int64)                 # zero factors per target
    nonzero_product = np.ones(a.shape, dtype=grad.dtype)      # product of the nonzero factors per target
    if include_self:
        zeros += a == 0
        nonzero_product = np.where(a == 0, 1, a).astype(grad.dtype)
    np.add.at(zeros, grid, src == 0)
    np.multiply.at(nonzero_product, grid, np.where(src == 0, 1, src))

    def product_of_the_others(x, zeros_at_x, product_at_x):
        others_have_a_zero = zeros_at_x - (x == 0) > 0
        return np.where(others_have_a_zero, 0, np.where(x == 0, product_at_x, product_at_x / np.where(x == 0, 1, x)))

    if include_self:
        grad_self = np.where(hit, grad * product_of_the_others(a, zeros, nonzero_product), grad)
    else:
        grad_self = np.where(hit, 0, grad)
    grad_src = grad[grid] * product_of_the_others(src, zeros[grid], nonzero_product[grid])
    return grad_self, grad_src


def _product_gradients_graph(ctx, a, src, out, hit, grad):
    """_product_gradients with Tensor ops (PyTorch's formulas): with x -> x_1 the
    input with its zeros replaced by 1, grad_self = grad * scatter_prod(self_1, src) / self_1;
    grad_src = (grad * out)[grid] / src_1 where src has no zero partner, and
    (grad * scatter_prod(a, src with that zero as 1))[grid] for the single zero of a target.
    Two or more zeros of src scattered to one place: src's gradient is right, but
    differentiating it again raises (as in PyTorch)."""
    grid, include_self = ctx.grid, ctx.include_self
    read = lambda t: GetItem.apply(t, grid)  # noqa: E731
    if include_self:
        a_zero = _constant(a.array == 0)
        a_one = where(a_zero, 1., a)
        others = Scatter.apply(a_one, src, ctx.axis, ctx.index, "prod", True)
        grad_self = where(hit, grad * others / a_one, grad)
    else:
        grad_self = where(hit, 0., grad)
    src_zero = src.array == 0
    zeros = np.zeros(a.shape, dtype=np.int64)    # src's zeros scattered to each place
    np.add.at(zeros, grid, src_zero)
    single = src_zero & (zeros[grid] == 1)
    plain = read(grad * out) / where(_constant(src_zero), 1., src)
    if single.any():
        with_one = Scatter.apply(a, where(_constant(single), 1., src), ctx.axis, ctx.index, "prod",
                                 include_self)
        grad_src = where(_constant(single), read(grad * with_one), plain)
    else:
        grad_src = plain
    if (zeros > 1).any():
        grad_src = refuse_twice(grad_src, "scatter_reduce(): Double backward is unsupported for src when "
                                          ">1 zeros in src are scattered to the same position in self",
                                grad, a, src)
    return grad_self, grad_src


def refuse_twice(value, why, *inputs):
    """`value` (a Tensor) whose graph raises `why` when differentiated (PyTorch's DelayedError):
    it still depends on `inputs`, so a second backward reaching it must not ignore them."""
    from minigrad.autograd import _edge_to, _NotTwiceDifferentiable
    edges = tuple([_edge_to(t) for t in inputs])
    return Tensor._make(value.array, True, _NotTwiceDifferentiable(why, edges, value.array))


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _scatter(input, dim, index, src, reduce, include_self, name):
    axis = _axis(input, dim)
    index = _index_array(index, name)
    src_shape = src.shape if isinstance(src, Tensor) else None
    _check_index(input.shape, index, axis, name, src_shape)
    if not isinstance(src, Tensor):
        src = np.asarray(src, dtype=input.dtype)
    elif src.dtype != input.dtype:
        raise TypeError(f"{name}: expected src of dtype {input.dtype} like the input, got {src.dtype}")
    return Scatter.apply(input, src, axis, index, reduce, include_self)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of input with out[index[i][j]][j] = src[i][j] (dim 0); src may be a number (value)."""
    if src is not None and value is not None:
        raise TypeError("scatter: give src or value, not both")
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        reduce = "sum" if reduce == "add" else "prod"
    return _scatter(input, dim, index, src, reduce, True, "scatter")


def scatter_add(input, dim, index, src):
    """A copy of input with src added at the index grid (repeated indices add up)."""
    return _scatter(input, dim, index, src, "sum", True, "scatter_add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce src into input at the index grid with 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    return _scatter(input, dim, index, src, reduce, include_self, "scatter_reduce")


def index_select(input, dim, index):
    """The entries of dim at the positions in the 1-d `index`."""
    axis = _axis(input, dim)
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-d, got shape {index.shape}")
    return getitem(input, (slice(None),) * axis + (index.reshape(-1),))


def take(input, index):
    """input flattened, read at `index` (the result has index's shape)."""
    index = _index_array(index, "take")
    size = input.numel()
    if index.size and (index.min() < -size or index.max() >= size):
        raise IndexError(f"take: index out of range for a tensor of {size} elements")
    return getitem(input.reshape(-1), index)


class MaskedFill(Function):
    """value where mask is True, the input elsewhere; gradients to the input and to a 0-d value."""

    @staticmethod
    def forward(ctx, a, mask, value):
        mask = np.broadcast_to(mask, a.shape)
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value).astype(a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        grad_value = np.sum(grad * mask).astype(grad.dtype) if ctx.needs_input_grad[2] else None
        return np.where(mask, 0, grad), None, grad_value

    @staticmethod
    def backward_graph(ctx, grad):
        mask = _constant(ctx.saved_tensors[0].array)
        grad_value = (grad * _constant(mask.array.astype(grad.dtype))).sum() if ctx.needs_input_grad[2] else None
        return where(mask, 0., grad), None, grad_value


def masked_fill(input, mask, value):
    mask_array = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise TypeError(f"masked_fill: expected a bool mask, got {mask_array.dtype}")
    try:
        np.broadcast_shapes(mask_array.shape, input.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {mask_array.shape} does not broadcast to the "
                         f"input's shape {tuple(input.shape)}") from None
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"masked_fill only supports a 0-dimensional value tensor, but got one with "
                         f"{value.ndim} dimension(s)")
    return MaskedFill.apply(input, mask_array, value)


def _argsort(array, axis, descending, stable=True):
    if descending:
        if array.dtype.kind in "bu":
            array = array.astype(np.int64)
        array = -array
    return np.argsort(array, axis=axis, kind="stable" if stable else "quicksort")


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort dim (ties keep their order: the sort is stable)."""
    if input.ndim == 0:
        return Tensor._make(np.zeros((), dtype=np.int64), False, None)
    indices = _argsort(input.array, _axis(input, dim), descending)
    return Tensor._make(indices.astype(np.int64), False, None)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along dim; values carry the gradient back to their places."""
    if input.ndim == 0:
        return SortResult(input, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    indices = argsort(input, dim, descending)
    return SortResult(gather(input, dim, indices), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002  (PyTorch's name)
    """(values, indices) of the k largest (or smallest) entries along dim, largest first."""
    if input.ndim == 0:
        if k not in (0, 1):
            raise IndexError(f"topk: k ({k}) is out of range for a 0-d tensor")
        return ValuesIndices(input, Tensor._make(np.zeros((), dtype=np.int64), False, None))
    axis = _axis(input, dim)
    if not 0 <= k <= input.shape[axis]:
        raise IndexError(f"topk: k ({k}) is out of range for dimension {axis} of size "
                         f"{input.shape[axis]}")
    order = _argsort(input.array, axis, descending=largest)
    indices = Tensor._make(np.take(order, np.arange(k), axis=axis).astype(np.int64), False, None)
    return ValuesIndices(gather(input, axis, indices), indices)


def nonzero(input, *, as_tuple=False):
    """(N, ndim) int64 coordinates of the nonzero elements, or a tuple of ndim 1-d tensors."""
    array = input.array if isinstance(input, Tensor) else np.asarray(input)
    coordinates = np.nonzero(np.atleast_1d(array) if as_tuple else array)
    if as_tuple:
        return tuple(Tensor._make(c.astype(np.int64), False, None) for c in coordinates)
    return Tensor._make(np.stack(coordinates, axis=-1).astype(np.int64).reshape(-1, array.ndim),
                        False, None)


argwhere = nonzero


def one_hot(tensor, num_classes=-1):
    """(*) int64 class indices -> (*, num_classes) int64 of 0s and 1s."""
    check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    labels = tensor.array
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    out = np.zeros(labels.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, labels[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out, False, None)
