"""Building and reshaping tensors out of others: broadcasting, stacking, splitting,
diagonals, grids, index combinations, tensordot and kron.

Most are compositions of the differentiable ops in ``shape.py`` (reshape,
expand, cat, stack, getitem, flip, permute) and ``linalg.py`` (matmul), so
their backward comes for free. Three move elements to new places and have
their own Function: ``Diagonal`` (read the offset diagonal of two dims) and
``DiagEmbed`` (write it) are each other's backward, and the ``index_*`` ops
write rows of a dim.

The offset diagonal of an (n1, n2) matrix holds the elements
``(i - min(offset, 0), i + max(offset, 0))`` for
``i < min(n1 + min(offset, 0), n2 - max(offset, 0))``.
"""
import builtins
import itertools
import math
import warnings

import numpy as np

from minigrad.autograd import Function
from minigrad.ops import shape as _shape_ops  # GetItem, Permute, ScatterIntoZeros: double backward
from minigrad.ops.linalg import matmul
from minigrad.ops.reduction import normalize_dims
from minigrad.ops.shape import Expand, cat, flip, getitem, permute, reshape, stack, transpose, unsqueeze
from minigrad.tensor import Size, Tensor, _to_array, int64

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes",
           "broadcast_tensors", "broadcast_to", "cartesian_prod", "column_stack", "combinations",
           "diag", "diag_embed", "diagflat", "diagonal", "dsplit", "dstack", "hsplit", "hstack",
           "index_add", "index_copy", "index_fill", "kron", "masked_select", "meshgrid", "rot90",
           "row_stack", "select", "tensor_split", "tensordot", "trace", "tril_indices",
           "triu_indices", "unflatten", "unravel_index", "vander", "vsplit", "vstack"]


def _dim(dim, ndim):
    """One dim in [-ndim, ndim) -> non-negative (IndexError outside, as in PyTorch)."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis, = normalize_dims(dim, ndim)
    return axis


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor._make(_to_array(x), False, None)


def _tensor_list(tensors, name):
    """f(a, b, c) and f([a, b, c]) both mean the tensors a, b, c."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__} at position {i}")
    return tuple(tensors)


# ---------------------------------------------------------------- broadcasting
def broadcast_shapes(*shapes):
    """The shape every argument broadcasts to: sizes aligned from the right, 1 stretches."""
    shapes = [(int(s),) if isinstance(s, (int, np.integer)) else tuple(int(n) for n in s)
              for s in shapes]
    result = [1] * builtins.max((len(s) for s in shapes), default=0)
    for index, shape in enumerate(shapes):
        for offset, n in enumerate(reversed(shape), start=1):
            if n < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
            if result[-offset] == 1:
                result[-offset] = n
            elif n != 1 and n != result[-offset]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {-offset}! "
                                   f"Mismatching argument at index {index} had {shape}; but expected "
                                   f"shape should be broadcastable to {result}")
    return Size(result)


def broadcast_to(input, size):
    """input expanded to `size` (-1 keeps a dim); a view in PyTorch, read-only here."""
    size = tuple(int(n) for n in size)
    if len(size) < input.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(size)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({input.ndim})")
    offset = len(size) - input.ndim
    target = []
    for i, n in enumerate(size):
        existing = input.shape[i - offset] if i >= offset else None
        if n == -1:
            if existing is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            n = existing
        elif n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
        if existing is not None and existing != 1 and existing != n:
            raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size "
                               f"({existing}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(size)}.  Tensor sizes: {list(input.shape)}")
        target.append(n)
    return Expand.apply(input, tuple(target))


def broadcast_tensors(*tensors):
    """Every tensor expanded to their common broadcast shape."""
    tensors = _tensor_list(tensors, "broadcast_tensors")
    ndim = builtins.max((t.ndim for t in tensors), default=0)
    shape = [1] * ndim
    for t in tensors:
        for offset, n in enumerate(reversed(t.shape), start=1):
            if shape[-offset] == 1:
                shape[-offset] = n
            elif n != 1 and n != shape[-offset]:
                raise RuntimeError(f"The size of tensor a ({shape[-offset]}) must match the size of "
                                   f"tensor b ({n}) at non-singleton dimension {ndim - offset}")
    return tuple(Expand.apply(t, tuple(shape)) for t in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d/1-d tensors: out[i][j0, j1, ...] = tensors[i][j_i].

    indexing='ij' orders the outputs' dims like the inputs (matrix indexing);
    'xy' swaps the first two (Cartesian indexing, as NumPy's default).
    """
    tensors = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f'{indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got "
                               f"a tensor of shape {list(t.shape)}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype, got "
                               f"{tensors[0].dtype} and {t.dtype}")
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        positions[0], positions[1] = 1, 0  # tensor 0 varies along dim 1, tensor 1 along dim 0
    shape = [0] * len(tensors)
    for t, position in zip(tensors, positions):
        shape[position] = t.numel()
    grids = []
    for t, position in zip(tensors, positions):
        column = [1] * len(tensors)
        column[position] = t.numel()
        grids.append(Expand.apply(reshape(t, column), tuple(shape)))  # (1, .., n_i, .., 1) -> shape
    return tuple(grids)


# ----------------------------------------------------------- at least n dims, stacking
def _atleast(tensors, ndim, name):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    tensors = _tensor_list(tensors, name)
    results = []
    for t in tensors:
        if t.ndim == 0:
            t = reshape(t, (1,) * ndim)
        elif t.ndim == 1 and ndim >= 2:
            t = reshape(t, (1, t.shape[0]) + (1,) * (ndim - 2))  # (N) -> (1, N) or (1, N, 1)
        elif t.ndim == 2 and ndim == 3:
            t = unsqueeze(t, -1)  # (M, N) -> (M, N, 1)
        results.append(t)
    return results[0] if single else tuple(results)


def atleast_1d(*tensors):
    """0-d tensors become (1,); a single tensor comes back alone, several as a tuple."""
    return _atleast(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """0-d -> (1, 1), (N) -> (1, N); others unchanged."""
    return _atleast(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """0-d -> (1, 1, 1), (N) -> (1, N, 1), (M, N) -> (M, N, 1); others unchanged."""
    return _atleast(tensors, 3, "atleast_3d")


def _sequence(tensors, name):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return [_as_tensor(t) for t in tensors]


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors), after atleast_1d."""
    tensors = atleast_1d(_sequence(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after atleast_2d: 1-d tensors become rows."""
    return cat(atleast_2d(_sequence(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate along dim 2 after atleast_3d."""
    return cat(atleast_3d(_sequence(tensors, "dstack")), 2)


def column_stack(tensors):
    """0-d and 1-d tensors become columns (N, 1); then concatenate along dim 1."""
    tensors = _sequence(tensors, "column_stack")
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors], 1)


# ------------------------------------------------------------------ splitting
def _slice(input, axis, start, stop):
    return getitem(input, (slice(None),) * axis + (slice(start, stop),))


def tensor_split(input, indices_or_sections, dim=0):
    """Pieces along dim: n sections (the first size % n one longer) or cut at the given indices."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    split = indices_or_sections
    if isinstance(split, Tensor):
        if split.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have ScalarType "
                               f"Long, but got {split.dtype}")
        if split.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional "
                               f"or one-dimensional tensor, but got a tensor with {split.ndim} dims")
        split = int(split.item()) if split.ndim == 0 else [int(i) for i in split.array]
    if isinstance(split, (int, np.integer)) and not isinstance(split, bool):
        sections = int(split)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        stops = np.cumsum([small + 1] * extra + [small] * (sections - extra))
        starts = np.concatenate([[0], stops[:-1]])
        return tuple(_slice(input, axis, int(a), int(b)) for a, b in zip(starts, stops))
    indices = [int(i) for i in split]
    bounds = [0] + indices + [size]
    # Each cut behaves as a Python slice: clamped to the size, empty when reversed.
    return tuple(_slice(input, axis, a, b) for a, b in zip(bounds[:-1], bounds[1:]))


def _split_along(input, indices_or_sections, axis, name):
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        size = input.shape[axis]
        if indices_or_sections == 0 or size % indices_or_sections != 0:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {axis}, but the size "
                               f"of the dimension {size} is not divisible by the split_size "
                               f"{indices_or_sections}!")
    return tensor_split(input, indices_or_sections, axis)


def _require_dims(input, ndim, name):
    if input.ndim < ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {ndim} dimension, but got a "
                           f"tensor with {input.ndim} dimensions!")


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 of a 1-d tensor); n sections must divide the size."""
    _require_dims(input, 1, "hsplit")
    return _split_along(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor with at least 2 dims."""
    _require_dims(input, 2, "vsplit")
    return _split_along(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor with at least 3 dims."""
    _require_dims(input, 3, "dsplit")
    return _split_along(input, indices_or_sections, 2, "dsplit")


def select(input, dim, index):
    """input[..., index, ...] at dim: that dim is removed."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    return getitem(input, (slice(None),) * axis + (int(index),))


def unflatten(input, dim, sizes):
    """Dim `dim` split into `sizes` (one may be -1): (.., n, ..) -> (.., *sizes, ..)."""
    axis = _dim(dim, input.ndim)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    n = input.shape[axis]
    inferred = sizes.count(-1)
    if inferred > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred, got sizes {sizes}")
    if (known != n) if inferred == 0 else (known == 0 or n % known != 0):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim "
                           f"{dim} ({n}) in the input tensor")
    sizes = [n // known if s == -1 else s for s in sizes]
    return reshape(input, input.shape[:axis] + tuple(sizes) + input.shape[axis + 1:])


# ------------------------------------------------------------------- diagonals
def _diagonal_positions(n1, n2, offset):
    """Rows and columns of the offset diagonal of an (n1, n2) matrix."""
    length = builtins.max(builtins.min(n1 + builtins.min(offset, 0), n2 - builtins.max(offset, 0)), 0)
    return np.arange(length) - builtins.min(offset, 0), np.arange(length) + builtins.max(offset, 0)


class Diagonal(Function):
    """out[..., i] = a[.., rows[i], .., cols[i], ..]; backward writes grad back onto the diagonal."""

    @staticmethod
    def forward(ctx, a, offset, axis1, axis2):
        ctx.shape, ctx.axes = a.shape, (axis1, axis2)
        ctx.positions = _diagonal_positions(a.shape[axis1], a.shape[axis2], offset)
        moved = np.moveaxis(a, (axis1, axis2), (-2, -1))  # (..., n1, n2)
        return moved[(Ellipsis,) + ctx.positions]  # (..., length)

    @staticmethod
    def backward(ctx, grad):
        grad_input = np.zeros(ctx.shape, dtype=grad.dtype)
        np.moveaxis(grad_input, ctx.axes, (-2, -1))[(Ellipsis,) + ctx.positions] = grad
        return grad_input, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        order = _axes_last(len(ctx.shape), ctx.axes)
        moved_shape = tuple(ctx.shape[d] for d in order)                     # (..., n1, n2)
        moved = _shape_ops.ScatterIntoZeros.apply(grad, moved_shape, (Ellipsis,) + ctx.positions)
        return _shape_ops.Permute.apply(moved, tuple(int(d) for d in np.argsort(order))), None, None, None


class DiagEmbed(Function):
    """The last dim of `a` written on the offset diagonal of two new dims; zeros elsewhere."""

    @staticmethod
    def forward(ctx, a, offset, axis1, axis2):
        n = a.shape[-1] + abs(offset)
        ctx.axes = (axis1, axis2)
        ctx.positions = _diagonal_positions(n, n, offset)
        out = np.zeros(a.shape[:-1] + (n, n), dtype=a.dtype)  # (..., n, n)
        out[(Ellipsis,) + ctx.positions] = a
        return np.moveaxis(out, (-2, -1), (axis1, axis2))

    @staticmethod
    def backward(ctx, grad):
        return np.moveaxis(grad, ctx.axes, (-2, -1))[(Ellipsis,) + ctx.positions], None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        moved = _shape_ops.Permute.apply(grad, _axes_last(grad.ndim, ctx.axes))         # (..., n, n)
        return _shape_ops.GetItem.apply(moved, (Ellipsis,) + ctx.positions), None, None, None


def _axes_last(ndim, axes):
    """The permutation that np.moveaxis(x, axes, (-2, -1)) applies."""
    return tuple([d for d in range(ndim) if d not in axes] + list(axes))


def _two_dims(dim1, dim2, ndim):
    axis1, axis2 = _dim(dim1, ndim), _dim(dim2, ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return axis1, axis2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The offset diagonal of dims (dim1, dim2), appended as the last dim (offset > 0: above)."""
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got {input.ndim}")
    axis1, axis2 = _two_dims(dim1, dim2, input.ndim)
    return Diagonal.apply(input, int(offset), axis1, axis2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of the output) whose offset diagonal is input's last dim."""
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension")
    axis1, axis2 = _two_dims(dim1, dim2, input.ndim + 1)
    return DiagEmbed.apply(input, int(offset), axis1, axis2)


def diag(input, diagonal=0):
    """1-d input -> the square matrix with it on the given diagonal; 2-d -> that diagonal."""
    if input.ndim == 1:
        return DiagEmbed.apply(input, int(diagonal), 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input, offset=0):
    """The flattened input on the offset diagonal of a square matrix."""
    return DiagEmbed.apply(reshape(input, (-1,)), int(offset), 0, 1)


def trace(input):
    """sum_i input[i, i] of a matrix (integers sum to int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype == np.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    return Diagonal.apply(input, 0, 0, 1).sum()


def _triangle_indices(numpy_indices, row, col, offset, dtype, name):
    from minigrad.dtypes import as_dtype
    dtype = as_dtype(dtype) if dtype is not None else int64
    if dtype.kind not in "iu":
        raise NotImplementedError(f'"{name}" not implemented for {dtype}')
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    rows, cols = numpy_indices(row, offset, col)
    return Tensor(np.stack([rows, cols]).astype(dtype).reshape(2, -1))  # (2, count), row-major order


def tril_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None):
    """(2, N): the row and column of each element on or below the offset diagonal, in row-major order."""
    from minigrad.devices import check_device
    check_device(device)
    return _triangle_indices(np.tril_indices, row, col, offset, dtype, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None):
    """(2, N): the row and column of each element on or above the offset diagonal, in row-major order."""
    from minigrad.devices import check_device
    check_device(device)
    return _triangle_indices(np.triu_indices, row, col, offset, dtype, "triu_indices")


def block_diag(*tensors):
    """The tensors (0-d as 1x1, 1-d as one row) as blocks down the diagonal of a matrix, zeros elsewhere."""
    from minigrad.creation import zeros
    from minigrad.settings import promote_types
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
        blocks.append(reshape(t, (1, t.numel()) if t.ndim == 1 else (1, 1)) if t.ndim < 2 else t)
    if not blocks:
        return zeros(1, 0)
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = promote_types(dtype, b.dtype)
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        height, right = b.shape[0], width - left - b.shape[1]
        # (height, left) zeros | the block | (height, right) zeros
        rows.append(cat([zeros(height, left, dtype=dtype), b.to(dtype), zeros(height, right, dtype=dtype)], 1))
        left += b.shape[1]
    return cat(rows, 0)


# ----------------------------------------------------------- products and combinations
def cartesian_prod(*tensors):
    """All tuples (a_i, b_j, ...) in lexicographic order, as rows of an (N, len(tensors)) tensor."""
    tensors = _tensor_list(tensors, "cartesian_prod")
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-d tensor's elements, as rows (itertools order)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.empty((0,), dtype=input.dtype), False, None)
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = np.array(list(choose(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return getitem(input, index)  # (count, r)


def kron(input, other):
    """Kronecker product: out[i*m + k, ...] = input[i, ...] * other[k, ...] (dims padded with 1s)."""
    ndim = builtins.max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = reshape(input, [n for size in a_shape for n in (size, 1)])  # (a0, 1, a1, 1, ...)
    b = reshape(other, [n for size in b_shape for n in (1, size)])  # (1, b0, 1, b1, ...)
    return reshape(a * b, [p * q for p, q in zip(a_shape, b_shape)])  # (a0*b0, a1*b1, ...)


def _tensordot_dims(dims, a, b):
    if isinstance(dims, Tensor):
        dims = int(dims.item()) if dims.numel() == 1 and dims.ndim <= 1 else dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise RuntimeError(f"tensordot expects dims to be an int or a pair of lists of dims, got {dims!r}")
    dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    return dims_a, dims_b


def tensordot(a, b, dims=2, out=None):
    """Sum over the paired dims: out[free_a, free_b] = sum_k a[free_a, k] * b[k, free_b].

    dims=n pairs a's last n dims with b's first n; ([dims of a], [dims of b]) names them.
    """
    if out is not None:
        raise RuntimeError("tensordot: out= is not supported in minigrad; use the returned tensor")
    if a.dtype != b.dtype:
        raise RuntimeError(f"both inputs should have same dtype, got {a.dtype} and {b.dtype}")
    dims_a, dims_b = _tensordot_dims(dims, a, b)
    for da, db in zip(dims_a, dims_b):
        size_a, size_b = a.shape[_dim(da, a.ndim)], b.shape[_dim(db, b.ndim)]
        if size_a != size_b:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {size_a} in "
                               f"dim {da} and second has size {size_b} in dim {db}")
    axes_a = [_dim(d, a.ndim) for d in dims_a]
    axes_b = [_dim(d, b.ndim) for d in dims_b]
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise RuntimeError(f"tensordot: a dim appears more than once in dims {dims!r}")
    free_a = [d for d in range(a.ndim) if d not in axes_a]
    free_b = [d for d in range(b.ndim) if d not in axes_b]
    contracted = math.prod(a.shape[d] for d in axes_a)
    left = reshape(permute(a, free_a + axes_a), (-1, contracted) if contracted else
                   (math.prod(a.shape[d] for d in free_a), 0))  # (free_a..., k)
    right = reshape(permute(b, axes_b + free_b), (contracted, math.prod(b.shape[d] for d in free_b)))
    result = matmul(left, right)  # (prod free_a, prod free_b)
    return reshape(result, [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


def vander(x, N=None, increasing=False):
    """Columns x^(N-1), ..., x, 1 (or 1, x, ..., x^(N-1) with increasing=True); N defaults to len(x)."""
    from minigrad.creation import ones, zeros
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    N = x.shape[0] if N is None else int(N)
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = x.dtype if x.dtype.kind in "fc" else int64  # integers and bools give int64
    if N == 0:
        return zeros(x.shape[0], 0, dtype=dtype)
    columns, power = [ones(x.shape[0], dtype=dtype)], x.to(dtype)
    for _ in range(1, N):
        columns.append(power)
        power = power * x.to(dtype)
    result = stack(columns, 1)  # (n, N): x^0, x^1, ...
    return result if increasing else flip(result, 1)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims, from the first dim towards the second."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == input.ndim:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    axis0, axis1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    k = int(k) % 4
    if k == 1:
        return transpose(flip(input, axis1), axis0, axis1)
    if k == 2:
        return flip(input, (axis0, axis1))
    if k == 3:
        return transpose(flip(input, axis0), axis0, axis1)
    return input.clone()


# --------------------------------------------------------------- masks and flat indices
def masked_select(input, mask):
    """The elements where mask (bool, broadcast with input) is True, as a 1-d tensor."""
    mask_tensor = _as_tensor(mask)
    if mask_tensor.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    input, mask_tensor = broadcast_tensors(input, mask_tensor)
    return getitem(input, mask_tensor.array)


def unravel_index(indices, shape):
    """Flat indices -> one coordinate tensor per dim of `shape` (C order; indices wrap modulo numel)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index: expected 'indices' to be a Tensor, got {type(indices).__name__}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    for n in shape:
        if n < 0:
            raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    flat = indices.array.astype(np.int64)
    coordinates = []
    for n in reversed(shape):
        coordinates.append(np.mod(flat, n) if n else np.zeros_like(flat))
        flat = np.floor_divide(flat, n) if n else flat
    return tuple(Tensor(c) for c in reversed(coordinates))


# ------------------------------------------------------------ writing rows of a dim
_INDEX_DTYPE_ERRORS = {  # which index dtypes each op takes, and PyTorch's complaint otherwise
    "index_add": ((np.int64, np.int32), RuntimeError, "index_add_(): Expected dtype int32/int64 for index "
                                                      "but got: {}"),
    "index_copy": ((np.int64,), RuntimeError, "index_copy_(): Expected a long tensor for index, but got {}"),
    "index_fill": ((np.int64,), IndexError, "index_fill_(): Expected dtype int64 for index, got {}"),
}


def _index_rows(index, name, size):
    array = index.array if isinstance(index, Tensor) else np.asarray(index)
    allowed, error, message = _INDEX_DTYPE_ERRORS[name]
    if array.dtype not in allowed:
        raise error(message.format(array.dtype))
    if array.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, got shape {list(array.shape)}")
    array = array.reshape(-1).astype(np.int64)
    bad = array[(array < -size) | (array >= size)]
    if bad.size:
        raise IndexError(f"index {bad[0]} is out of bounds for dimension with size {size}")
    return np.where(array < 0, array + size, array)


class IndexAdd(Function):
    """out = input; out[.., index[i], ..] += alpha * source[.., i, ..] along axis."""

    @staticmethod
    def forward(ctx, a, axis, index, source, alpha):
        ctx.axis, ctx.index, ctx.alpha = axis, index, alpha
        out = a.copy()
        np.add.at(np.moveaxis(out, axis, 0), index, np.moveaxis(source, axis, 0) * alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_source = np.moveaxis(np.moveaxis(grad, ctx.axis, 0)[ctx.index], 0, ctx.axis) * ctx.alpha
        return grad, None, None, grad_source, None

    @staticmethod
    def backward_graph(ctx, grad):
        grad_source = _rows_of(grad, ctx.axis, ctx.index) * ctx.alpha
        return grad, None, None, grad_source, None


def _rows_of(grad, axis, index):
    """grad's rows `index` along axis (index_select), differentiable."""
    return _shape_ops.GetItem.apply(grad, (slice(None),) * axis + (index,))


def _without_rows(grad, axis, index):
    """grad with the rows `index` along axis set to 0, differentiable."""
    keep = np.ones(grad.shape[axis], dtype=grad.dtype)
    keep[index] = 0
    return grad * Tensor._make(keep.reshape((-1,) + (1,) * (grad.ndim - axis - 1)), False, None)


class IndexCopy(Function):
    """out = input; out[.., index[i], ..] = source[.., i, ..] along axis."""

    @staticmethod
    def forward(ctx, a, axis, index, source):
        ctx.axis, ctx.index = axis, index
        out = a.copy()
        np.moveaxis(out, axis, 0)[index] = np.moveaxis(source, axis, 0)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = grad.copy()
        np.moveaxis(grad_input, ctx.axis, 0)[ctx.index] = 0  # overwritten rows get no gradient
        grad_source = np.moveaxis(np.moveaxis(grad, ctx.axis, 0)[ctx.index], 0, ctx.axis)
        return grad_input, None, None, grad_source

    @staticmethod
    def backward_graph(ctx, grad):
        return _without_rows(grad, ctx.axis, ctx.index), None, None, _rows_of(grad, ctx.axis, ctx.index)


class IndexFill(Function):
    """out = input; out[.., index[i], ..] = value along axis (value a number or a 0-d tensor)."""

    @staticmethod
    def forward(ctx, a, axis, index, value):
        ctx.axis, ctx.index = axis, index
        out = a.copy()
        np.moveaxis(out, axis, 0)[index] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = grad.copy()
        np.moveaxis(grad_input, ctx.axis, 0)[ctx.index] = 0
        grad_value = None
        if ctx.needs_input_grad[3]:  # each filled element once, however often its row is named
            grad_value = np.asarray(np.moveaxis(grad, ctx.axis, 0)[np.unique(ctx.index)].sum(), dtype=grad.dtype)
        return grad_input, None, None, grad_value

    @staticmethod
    def backward_graph(ctx, grad):
        grad_value = None
        if ctx.needs_input_grad[3]:
            grad_value = _rows_of(grad, ctx.axis, np.unique(ctx.index)).sum()
        return _without_rows(grad, ctx.axis, ctx.index), None, None, grad_value


def _rows_setup(input, dim, index, name):
    """A 0-d input is treated as shape (1,); returns (input, axis, index rows, restore)."""
    scalar = input.ndim == 0
    if scalar:
        input = reshape(input, (1,))
    axis = _dim(dim, input.ndim)
    rows = _index_rows(index, name, input.shape[axis])
    return input, axis, rows, (lambda t: reshape(t, ())) if scalar else (lambda t: t)


def _check_source(input, axis, rows, source, name):
    if source.dtype != input.dtype:
        raise RuntimeError(f"{name}_(): self ({input.dtype}) and source ({source.dtype}) must have the "
                           f"same scalar type")
    source_shape = tuple(source.shape) if source.ndim else (1,)
    expected = tuple(input.shape[:axis]) + (len(rows),) + tuple(input.shape[axis + 1:])
    if len(source_shape) == input.ndim and source_shape[axis] != len(rows):
        raise RuntimeError(f"{name}_(): Number of indices ({len(rows)}) should be equal to "
                           f"source.size(dim): ({source_shape[axis]}), for dim: {axis}")
    if source_shape != expected:
        raise RuntimeError(f"{name}_(): source of shape {list(source.shape)} must have shape "
                           f"{list(expected)} (the input's, with {len(rows)} at dim {axis})")
    return reshape(source, expected) if source.ndim == 0 else source


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source[.., i, ..] added to row index[i] of dim (repeated rows add up)."""
    input, axis, rows, restore = _rows_setup(input, dim, index, "index_add")
    source = _check_source(input, axis, rows, source, "index_add")
    return restore(IndexAdd.apply(input, axis, rows, source, alpha))


def index_copy(input, dim, index, source):
    """input with row index[i] of dim replaced by source[.., i, ..]."""
    input, axis, rows, restore = _rows_setup(input, dim, index, "index_copy")
    source = _check_source(input, axis, rows, source, "index_copy")
    return restore(IndexCopy.apply(input, axis, rows, source))


def index_fill(input, dim, index, value):
    """input with the rows index of dim set to value (a number or a 0-d tensor)."""
    input, axis, rows, restore = _rows_setup(input, dim, index, "index_fill")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value.ndim} dimension(s).")
    return restore(IndexFill.apply(input, axis, rows, value))
