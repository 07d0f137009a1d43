"""Broadcasting, stacking, splitting, diagonals, grids, kron, tensordot and the index_* writes
(minigrad/ops/construction.py): values against NumPy, gradients by float64 finite
differences, and PyTorch's errors."""
import itertools
import warnings

import numpy as np
import pytest

import minigrad as mg

rng = np.random.default_rng(0)


def leaf(*shape):
    return mg.tensor(rng.uniform(-2.0, 2.0, size=shape), dtype=mg.float64, requires_grad=True)


def values(*shape):
    return rng.standard_normal(shape)


def assert_same(tensor, expected, dtype=None):
    expected = np.asarray(expected)
    assert tuple(tensor.shape) == expected.shape
    np.testing.assert_allclose(tensor.detach().numpy(), expected, rtol=1e-12, atol=0)
    if dtype is not None:
        assert tensor.dtype == dtype


# ---------------------------------------------------------------- broadcasting
def test_broadcast_shapes_matches_numpy_and_names_the_bad_shape():
    assert mg.broadcast_shapes((2, 1, 3), (4, 1), 3) == mg.Size(np.broadcast_shapes((2, 1, 3), (4, 1), (3,)))
    assert mg.broadcast_shapes() == mg.Size([])
    assert isinstance(mg.broadcast_shapes((1,), ()), mg.Size)
    with pytest.raises(RuntimeError, match=r"length 4 at -1.*index 1 had \(4,\).*\[2, 3\]"):
        mg.broadcast_shapes((2, 3), (4,))


def test_broadcast_to_values_gradient_and_error_naming_both_shapes():
    x = values(3, 1)
    out = mg.broadcast_to(mg.tensor(x), (2, -1, 4))
    assert_same(out, np.broadcast_to(x, (2, 3, 4)))
    assert_same(mg.tensor(x).broadcast_to((3, 5)), np.broadcast_to(x, (3, 5)))
    assert mg.gradcheck(lambda t: mg.broadcast_to(t, (2, 3, 4)), (leaf(3, 1),))
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match the existing "
                                           r"size \(3\).*Target sizes: \[2, 4\].*Tensor sizes: \[3\]"):
        mg.broadcast_to(mg.ones(3), (2, 4))
    with pytest.raises(RuntimeError, match="number of sizes provided"):
        mg.broadcast_to(mg.ones(2, 3), (3,))
    with pytest.raises(RuntimeError, match="non-existing dimension 0"):
        mg.broadcast_to(mg.ones(3), (-1, 3))


def test_broadcast_tensors_values_gradients_and_mismatch():
    a, b, c = values(3, 1), values(4), values()
    outs = mg.broadcast_tensors(mg.tensor(a), mg.tensor(b), mg.tensor(c))
    for out, expected in zip(outs, np.broadcast_arrays(a, b, c)):
        assert_same(out, expected)
    assert mg.gradcheck(lambda *t: mg.broadcast_tensors(*t), (leaf(3, 1), leaf(4), leaf()))
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 0"):
        mg.broadcast_tensors(mg.ones(3), mg.ones(4))


def test_meshgrid_both_indexings_against_numpy():
    a, b, c = values(3), values(4), values(2)
    for indexing in ("ij", "xy"):
        grids = mg.meshgrid(mg.tensor(a), mg.tensor(b), mg.tensor(c), indexing=indexing)
        for grid, expected in zip(grids, np.meshgrid(a, b, c, indexing=indexing)):
            assert_same(grid, expected)
    grids = mg.meshgrid([mg.tensor(a), mg.tensor(b)], indexing="xy")  # a list works too
    assert [tuple(g.shape) for g in grids] == [(4, 3), (4, 3)]
    scalar_grids = mg.meshgrid(mg.tensor(1.5, dtype=mg.float64), mg.tensor(b), indexing="ij")
    assert_same(scalar_grids[0], np.full((1, 4), 1.5))  # a 0-d tensor counts as length 1
    for indexing in ("ij", "xy"):
        assert mg.gradcheck(lambda x, y, indexing=indexing: mg.meshgrid(x, y, indexing=indexing),
                            (leaf(3), leaf(2)))


def test_meshgrid_warns_without_indexing_and_rejects_bad_input():
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        grids = mg.meshgrid(mg.arange(2), mg.arange(3))
    assert tuple(grids[0].shape) == (2, 3)  # the default is 'ij'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.meshgrid(mg.arange(2), mg.arange(3), indexing="ij")
    with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij", but received: foo'):
        mg.meshgrid(mg.ones(2), indexing="foo")
    with pytest.raises(RuntimeError, match="0D or 1D"):
        mg.meshgrid(mg.ones(2, 2), indexing="ij")
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.meshgrid(mg.ones(2), mg.ones(2, dtype=mg.float64), indexing="ij")


# --------------------------------------------------------------- atleast, stacking
def test_atleast_nd_shapes_and_return_types():
    scalar, vector, matrix = mg.tensor(1.0), mg.ones(3), mg.ones(2, 3)
    assert isinstance(mg.atleast_1d(scalar), mg.Tensor) and tuple(mg.atleast_1d(scalar).shape) == (1,)
    assert [tuple(t.shape) for t in mg.atleast_2d(scalar, vector, matrix)] == [(1, 1), (1, 3), (2, 3)]
    assert [tuple(t.shape) for t in mg.atleast_3d([scalar, vector, matrix, mg.ones(2, 3, 4, 5)])] == \
        [(1, 1, 1), (1, 3, 1), (2, 3, 1), (2, 3, 4, 5)]
    for ours, numpy_fn in ((mg.atleast_1d, np.atleast_1d), (mg.atleast_2d, np.atleast_2d),
                           (mg.atleast_3d, np.atleast_3d)):
        for shape in ((), (3,), (2, 3)):
            x = values(*shape)
            assert_same(ours(mg.tensor(x)), numpy_fn(x))
    assert isinstance(mg.atleast_1d([scalar]), tuple)
    assert mg.gradcheck(lambda a, b: mg.atleast_3d(a, b), (leaf(), leaf(3)))


@pytest.mark.parametrize("ours, theirs, shapes", [
    (mg.hstack, np.hstack, [(2, 3), (2, 1)]),
    (mg.hstack, np.hstack, [(), (2,)]),
    (mg.vstack, np.vstack, [(3,), (2, 3)]),
    (mg.row_stack, np.vstack, [(3,), (3,)]),
    (mg.dstack, np.dstack, [(3,), (1, 3)]),
    (mg.dstack, np.dstack, [(2, 3), (2, 3, 2)]),
    (mg.column_stack, np.column_stack, [(3,), (3, 2), (3,)]),
])
def test_stacks_match_numpy_and_pass_gradients(ours, theirs, shapes):
    arrays = [values(*s) for s in shapes]
    assert_same(ours([mg.tensor(a) for a in arrays]), theirs(arrays))
    assert mg.gradcheck(lambda *t: ours(list(t)), tuple(leaf(*s) for s in shapes))


def test_stacks_reject_empty_and_non_sequences():
    with pytest.raises(RuntimeError, match="non-empty"):
        mg.hstack([])
    with pytest.raises(TypeError, match="list or tuple"):
        mg.vstack(mg.ones(3))


# ------------------------------------------------------------------- splitting
@pytest.mark.parametrize("split", [3, 5, 7, [1, 4], (0, 2, 2), [-2, 1], [3, 10]])
def test_tensor_split_matches_numpy_array_split(split):
    x = values(2, 5)
    pieces = mg.tensor_split(mg.tensor(x), split, dim=1)
    expected = np.array_split(x, split, axis=1)
    assert isinstance(pieces, tuple) and len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        assert_same(piece, want)


def test_tensor_split_tensor_argument_method_gradient_and_errors():
    x = values(7)
    by_indices = mg.tensor(x).tensor_split(mg.tensor([2, 5]))
    assert [p.shape[0] for p in by_indices] == [2, 3, 2]
    by_sections = mg.tensor_split(mg.tensor(x), mg.tensor(3))
    assert [p.shape[0] for p in by_sections] == [3, 2, 2]
    assert mg.gradcheck(lambda t: mg.tensor_split(t, 3, dim=-1), (leaf(2, 7),))
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        mg.tensor_split(mg.ones(5), 0)
    with pytest.raises(RuntimeError, match="Long"):
        mg.tensor_split(mg.ones(5), mg.tensor([1.0]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.tensor_split(mg.ones(5), 2, dim=1)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional tensor"):
        mg.tensor_split(mg.tensor(1.0), 2)


def test_hsplit_vsplit_dsplit_match_numpy_and_check_divisibility():
    x = values(4, 6, 2)
    for ours, theirs, arg in ((mg.hsplit, np.hsplit, 3), (mg.vsplit, np.vsplit, [1, 3]),
                              (mg.dsplit, np.dsplit, 2)):
        for piece, want in zip(ours(mg.tensor(x), arg), theirs(x, arg)):
            assert_same(piece, want)
    for piece, want in zip(mg.tensor(values(6)).hsplit(2), np.hsplit(values(6), 2)):
        assert piece.shape == want.shape  # 1-d tensors split along dim 0
    assert mg.gradcheck(lambda t: t.vsplit(2), (leaf(4, 3),))
    with pytest.raises(RuntimeError, match="size of the dimension 5 is not divisible by the split_size 2"):
        mg.hsplit(mg.ones(2, 5), 2)
    with pytest.raises(RuntimeError, match="vsplit requires a tensor with at least 2 dimension"):
        mg.vsplit(mg.ones(5), 2)
    with pytest.raises(RuntimeError, match="dsplit requires a tensor with at least 3 dimension"):
        mg.ones(2, 2).dsplit(2)


def test_select_values_gradient_and_range_errors():
    x = values(3, 4, 2)
    assert_same(mg.select(mg.tensor(x), 1, -2), x[:, -2])
    assert_same(mg.tensor(x).select(-1, 1), x[..., 1])
    assert mg.gradcheck(lambda t: mg.select(t, 0, 2), (leaf(3, 4),))
    with pytest.raises(IndexError, match=r"index 3 out of range for tensor of size \[2, 3\] at dimension 1"):
        mg.select(mg.ones(2, 3), 1, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.select(mg.ones(2, 3), 2, 0)
    with pytest.raises(IndexError, match="cannot be applied to a 0-dim tensor"):
        mg.select(mg.tensor(1.0), 0, 0)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        mg.unflatten(mg.tensor(1.0), 0, (1,))


def test_unflatten_values_gradient_and_errors():
    x = values(3, 12)
    assert_same(mg.unflatten(mg.tensor(x), 1, (2, -1, 3)), x.reshape(3, 2, 2, 3))
    assert_same(mg.unflatten(mg.tensor(x), -2, [3, 1]), x.reshape(3, 1, 12))
    assert mg.gradcheck(lambda t: mg.unflatten(t, 0, (2, 3)), (leaf(6, 2),))
    with pytest.raises(RuntimeError, match=r"sizes \[4, -1\] don't multiply up to the size of dim 0 \(6\)"):
        mg.unflatten(mg.ones(6), 0, (4, -1))
    with pytest.raises(RuntimeError, match="sizes must be non-empty"):
        mg.unflatten(mg.ones(6), 0, ())
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        mg.unflatten(mg.ones(6), 0, (-1, -1))


# ------------------------------------------------------------------- diagonals
@pytest.mark.parametrize("offset", [0, 1, -2, 6])
@pytest.mark.parametrize("dim1, dim2", [(0, 1), (1, 0), (2, 0), (-1, 1)])
def test_diagonal_matches_numpy_with_gradient(offset, dim1, dim2):
    x = values(3, 4, 5)
    assert_same(mg.diagonal(mg.tensor(x), offset, dim1, dim2), np.diagonal(x, offset, dim1, dim2))
    assert_same(mg.tensor(x).diagonal(offset=offset, dim1=dim1, dim2=dim2), np.diagonal(x, offset, dim1, dim2))
    assert mg.gradcheck(lambda t: mg.diagonal(t, offset, dim1, dim2), (leaf(3, 4, 5),))


def _diag_embed_reference(x, offset, dim1, dim2):
    """Loop form: out[..., i, i + offset] (in dims dim1, dim2) = x[..., i]."""
    n = x.shape[-1] + abs(offset)
    ndim = x.ndim + 1
    dim1, dim2 = dim1 % ndim, dim2 % ndim
    out = np.zeros(x.shape[:-1] + (n, n))
    for i in range(x.shape[-1]):
        out[..., i + max(-offset, 0), i + max(offset, 0)] = x[..., i]
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


@pytest.mark.parametrize("offset", [0, 2, -1])
@pytest.mark.parametrize("dim1, dim2", [(-2, -1), (0, 2), (2, 0), (1, -1)])
def test_diag_embed_against_a_loop_and_gradient(offset, dim1, dim2):
    x = values(2, 3)
    out = mg.diag_embed(mg.tensor(x), offset, dim1, dim2)
    assert_same(out, _diag_embed_reference(x, offset, dim1, dim2))
    assert_same(mg.diagonal(out, offset, dim1, dim2), x)  # the two are inverses
    assert mg.gradcheck(lambda t: t.diag_embed(offset, dim1, dim2), (leaf(2, 3),))


def test_diag_embed_and_diagonal_errors():
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, 0"):
        mg.diagonal(mg.ones(2, 3), 0, 0, 0)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, -3"):
        mg.diag_embed(mg.ones(2, 3), 0, 0, -3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.diagonal(mg.ones(2, 3), 0, 0, 2)


@pytest.mark.parametrize("k", [0, 1, -1, 3])
def test_diag_diagflat_trace_match_numpy(k):
    v, m = values(4), values(3, 5)
    assert_same(mg.diag(mg.tensor(v), k), np.diag(v, k))
    assert_same(mg.tensor(m).diag(k), np.diag(m, k))
    assert_same(mg.diagflat(mg.tensor(m[:2, :2]), k), np.diagflat(m[:2, :2], k))
    assert mg.gradcheck(lambda t: mg.diag(t, k), (leaf(4),))
    assert mg.gradcheck(lambda t: mg.diag(t, k), (leaf(3, 5),))
    assert mg.gradcheck(lambda t: t.diagflat(k), (leaf(2, 2),))


def test_trace_values_dtype_gradient_and_errors():
    m = values(3, 5)
    assert_same(mg.trace(mg.tensor(m)), np.trace(m))
    integers = mg.arange(6, dtype=mg.int32).reshape(2, 3)
    assert mg.trace(integers).item() == 4 and mg.trace(integers).dtype == mg.int64
    assert mg.gradcheck(lambda t: t.trace(), (leaf(4, 3),))
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 3"):
        mg.trace(mg.ones(2, 2, 2))
    with pytest.raises(NotImplementedError, match="Bool"):
        mg.trace(mg.ones(2, 2, dtype=mg.bool))
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        mg.diag(mg.ones(2, 2, 2))


@pytest.mark.parametrize("row, col, offset", [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 3, 0), (3, 4, -5), (2, 5, 9)])
def test_tril_triu_indices_match_numpy(row, col, offset):
    lower = mg.tril_indices(row, col, offset)
    upper = mg.triu_indices(row, col, offset)
    assert lower.dtype == mg.int64 and tuple(lower.shape)[0] == 2
    np.testing.assert_array_equal(lower.numpy(), np.array(np.tril_indices(row, offset, col)).reshape(2, -1))
    np.testing.assert_array_equal(upper.numpy(), np.array(np.triu_indices(row, offset, col)).reshape(2, -1))
    assert mg.tril_indices(row, col, offset, dtype=mg.int32).dtype == mg.int32


def test_tril_indices_errors():
    with pytest.raises(RuntimeError, match="row must be non-negative"):
        mg.tril_indices(-1, 4)
    with pytest.raises(RuntimeError, match="col must be non-negative"):
        mg.triu_indices(2, -4)
    with pytest.raises(NotImplementedError, match="float32"):
        mg.tril_indices(3, 3, dtype=mg.float32)


def test_block_diag_against_scipy_and_gradient():
    from scipy.linalg import block_diag
    blocks = [values(2, 3), values(), values(2), values(1, 0), values(2, 2)]
    expected = block_diag(*[np.atleast_2d(b) for b in blocks])
    assert_same(mg.block_diag(*[mg.tensor(b) for b in blocks]), expected)
    mixed = mg.block_diag(mg.arange(4).reshape(2, 2), mg.tensor([[0.5]]))
    assert mixed.dtype == mg.float32
    np.testing.assert_array_equal(mixed.numpy(), [[0, 1, 0], [2, 3, 0], [0, 0, 0.5]])
    assert tuple(mg.block_diag().shape) == (1, 0)
    assert mg.gradcheck(lambda *t: mg.block_diag(*t), (leaf(2, 3), leaf(), leaf(3)))
    with pytest.raises(RuntimeError, match="Input 0 has 3 dimensions"):
        mg.block_diag(mg.ones(2, 2, 2))


# ------------------------------------------------------- products and combinations
def test_cartesian_prod_matches_itertools_product():
    a, b, c = values(2), values(3), values(2)
    expected = np.array(list(itertools.product(a, b, c)))
    assert_same(mg.cartesian_prod(mg.tensor(a), mg.tensor(b), mg.tensor(c)), expected)
    single = mg.tensor(a)
    assert_same(mg.cartesian_prod(single), a)
    assert mg.gradcheck(lambda x, y: mg.cartesian_prod(x, y), (leaf(2), leaf(3)))
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 2\]"):
        mg.cartesian_prod(mg.ones(2, 2))


@pytest.mark.parametrize("r", [1, 2, 3, 5])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations_match_itertools(r, with_replacement):
    x = values(4)
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    expected = np.array(list(choose(x, r))).reshape(-1, r)
    assert_same(mg.combinations(mg.tensor(x), r, with_replacement), expected)
    if expected.size:
        assert mg.gradcheck(lambda t: mg.combinations(t, r, with_replacement), (leaf(4),))


def test_combinations_edge_cases_and_errors():
    empty = mg.combinations(mg.arange(3), r=0)
    assert tuple(empty.shape) == (0,) and empty.dtype == mg.int64
    assert tuple(mg.combinations(mg.arange(2), r=3).shape) == (0, 3)
    with pytest.raises(RuntimeError, match="Expect a non-negative number, but got -1"):
        mg.combinations(mg.arange(3), r=-1)
    with pytest.raises(RuntimeError, match="Expect a 1D vector"):
        mg.combinations(mg.ones(2, 2))


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4,)), ((2, 1, 3), (2, 2)), ((), (2,)), ((3,), (2, 2))])
def test_kron_matches_numpy_with_gradient(shape_a, shape_b):
    a, b = values(*shape_a), values(*shape_b)
    assert_same(mg.kron(mg.tensor(a), mg.tensor(b)), np.kron(a, b))
    assert_same(mg.tensor(a).kron(mg.tensor(b)), np.kron(a, b))
    assert mg.gradcheck(mg.kron, (leaf(*shape_a), leaf(*shape_b)))


@pytest.mark.parametrize("dims, shape_a, shape_b", [
    (2, (3, 4, 2), (4, 2, 3)), (1, (3, 4, 2), (2, 3)), (0, (3, 2), (4,)),
    (([1, 0], [0, 2]), (3, 4, 2), (4, 2, 3)), (([2], [1]), (3, 4, 2), (5, 2)), (([-1], [0]), (3, 4), (4, 5)),
])
def test_tensordot_matches_numpy_with_gradient(dims, shape_a, shape_b):
    a, b = values(*shape_a), values(*shape_b)
    assert_same(mg.tensordot(mg.tensor(a), mg.tensor(b), dims=dims), np.tensordot(a, b, axes=dims))
    assert mg.gradcheck(lambda x, y: mg.tensordot(x, y, dims), (leaf(*shape_a), leaf(*shape_b)))


def test_tensordot_tensor_dims_and_errors():
    a, b = values(3, 4), values(4, 2)
    assert_same(mg.tensordot(mg.tensor(a), mg.tensor(b), dims=mg.tensor([[1], [0]])), a @ b)
    assert_same(mg.tensordot(mg.tensor(a), mg.tensor(b), dims=mg.tensor(1)), a @ b)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first has size 3 in "
                                           "dim -1 and second has size 4 in dim 0"):
        mg.tensordot(mg.ones(2, 3), mg.ones(4, 5), dims=1)
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0, but got dims=-1"):
        mg.tensordot(mg.ones(2, 3), mg.ones(3, 5), dims=-1)
    with pytest.raises(RuntimeError, match="both dimension lists should have same length"):
        mg.tensordot(mg.ones(2, 3), mg.ones(3, 5), dims=([1], [0, 1]))
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        mg.tensordot(mg.ones(2, 3), mg.ones(3, 2, dtype=mg.float64), dims=1)


@pytest.mark.parametrize("N", [None, 0, 1, 4])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_matches_numpy_with_gradient(N, increasing):
    x = values(3)
    assert_same(mg.vander(mg.tensor(x), N, increasing), np.vander(x, N, increasing))
    if N != 0:
        assert mg.gradcheck(lambda t: mg.vander(t, N, increasing), (leaf(3),))


def test_vander_integer_input_zero_entries_and_errors():
    out = mg.vander(mg.arange(3, dtype=mg.int32))
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.numpy(), np.vander(np.arange(3)))
    zero = mg.tensor([0.0, 2.0, 0.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: mg.vander(t, 4), (zero,))  # powers of 0 need no division
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor."):
        mg.vander(mg.ones(2, 2))
    with pytest.raises(RuntimeError, match="N must be non-negative."):
        mg.vander(mg.ones(2), -1)


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 5])
def test_rot90_matches_numpy_with_gradient(k):
    x = values(2, 3, 4)
    assert_same(mg.rot90(mg.tensor(x), k, [2, 0]), np.rot90(x, k, (2, 0)))
    assert_same(mg.tensor(x).rot90(k), np.rot90(x, k))
    assert mg.gradcheck(lambda t: mg.rot90(t, k, (0, -1)), (leaf(2, 3, 4),))


def test_rot90_errors():
    with pytest.raises(RuntimeError, match="expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"):
        mg.rot90(mg.ones(2, 3), 1, [0, 0])
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 1"):
        mg.rot90(mg.ones(2, 3), 1, [0])
    with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
        mg.rot90(mg.ones(3), 1, [0, 1])


# ---------------------------------------------------------- masks and flat indices
def test_masked_select_values_broadcasting_gradient_and_errors():
    x, mask = values(3, 4), rng.random((3, 4)) > 0.5
    assert_same(mg.masked_select(mg.tensor(x), mg.tensor(mask)), x[mask])
    row = values(4)
    assert_same(mg.tensor(row).masked_select(mg.tensor(mask)), np.broadcast_to(row, (3, 4))[mask])
    assert mg.gradcheck(lambda t: mg.masked_select(t, mg.tensor(mask)), (leaf(4),))  # repeated rows add up
    with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
        mg.masked_select(mg.ones(3), mg.tensor([1, 0, 1]))
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(2\)"):
        mg.masked_select(mg.ones(3), mg.ones(2, dtype=mg.bool))


def test_unravel_index_matches_numpy_and_wraps_like_pytorch():
    flat = np.array([[0, 5], [11, 23]])
    coordinates = mg.unravel_index(mg.tensor(flat), (2, 3, 4))
    for ours, expected in zip(coordinates, np.unravel_index(flat, (2, 3, 4))):
        assert ours.dtype == mg.int64
        np.testing.assert_array_equal(ours.numpy(), expected)
    wrapped = mg.unravel_index(mg.tensor([-1, 30]), (2, 3, 4))  # modulo the element count, as PyTorch
    np.testing.assert_array_equal(np.stack([c.numpy() for c in wrapped]), [[1, 0], [2, 1], [3, 2]])
    one_dim, = mg.unravel_index(mg.tensor([7]), 5)
    np.testing.assert_array_equal(one_dim.numpy(), [2])
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype"):
        mg.unravel_index(mg.tensor([1.0]), (3, 3))
    with pytest.raises(ValueError, match="cannot have negative values"):
        mg.unravel_index(mg.tensor([1]), (3, -3))


# ------------------------------------------------------------ index_add, _copy, _fill
def test_index_add_values_repeated_rows_and_gradients():
    x, source, index = values(2, 4, 3), values(2, 3, 3), np.array([0, 2, 0])
    expected = x.copy()
    for i, row in enumerate(index):
        expected[:, row] += 2.0 * source[:, i]
    out = mg.index_add(mg.tensor(x), 1, mg.tensor(index), mg.tensor(source), alpha=2.0)
    assert_same(out, expected)
    assert_same(mg.tensor(x).index_add(1, mg.tensor(index, dtype=mg.int32), mg.tensor(source), alpha=2.0),
                expected)
    assert mg.gradcheck(lambda a, s: mg.index_add(a, 1, mg.tensor(index), s, alpha=-1.5),
                        (leaf(2, 4, 3), leaf(2, 3, 3)))
    assert mg.gradcheck(lambda a, s: mg.index_add(a, 0, mg.tensor([0]), s), (leaf(), leaf()))


def test_index_copy_and_index_fill_values_and_gradients():
    x, source = values(2, 4), values(2, 2)
    expected = x.copy()
    expected[:, [3, 0]] = source
    assert_same(mg.index_copy(mg.tensor(x), -1, mg.tensor([3, 0]), mg.tensor(source)), expected)
    assert mg.gradcheck(lambda a, s: mg.index_copy(a, 1, mg.tensor([3, 0]), s), (leaf(2, 4), leaf(2, 2)))
    filled = x.copy()
    filled[:, [0, 2]] = -1.5
    assert_same(mg.tensor(x).index_fill(1, mg.tensor([0, 2, 0]), -1.5), filled)
    assert mg.gradcheck(lambda a: mg.index_fill(a, 1, mg.tensor([0, 2, 0]), 0.25), (leaf(2, 4),))
    # a 0-d tensor value gets the gradient of each filled element once
    assert mg.gradcheck(lambda a, v: mg.index_fill(a, 1, mg.tensor([0, 2, 0]), v), (leaf(2, 4), leaf()))


def test_index_writes_in_place():
    x = mg.zeros(3)
    assert x.index_add_(0, mg.tensor([0, 0, 2]), mg.tensor([1.0, 2.0, 3.0])) is x
    np.testing.assert_array_equal(x.numpy(), [3.0, 0.0, 3.0])
    x.index_copy_(0, mg.tensor([1]), mg.tensor([7.0]))
    x.index_fill_(0, mg.tensor([2]), -1.0)
    np.testing.assert_array_equal(x.numpy(), [3.0, 7.0, -1.0])
    weights = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = weights * 1.0
    y.index_fill_(0, mg.tensor([1]), 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(weights.grad.numpy(), [1.0, 0.0, 1.0])


def test_index_writes_errors_like_pytorch():
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension with size 3"):
        mg.index_add(mg.ones(3), 0, mg.tensor([0, 3]), mg.ones(2))
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal to source.size\(dim\): "
                                           r"\(3\), for dim: 0"):
        mg.index_add(mg.ones(3), 0, mg.tensor([0, 1]), mg.ones(3))
    with pytest.raises(RuntimeError, match=r"self \(float32\) and source \(float64\) must have the same"):
        mg.index_add(mg.ones(3), 0, mg.tensor([0]), mg.ones(1, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        mg.index_add(mg.ones(3), 0, mg.tensor([0.0]), mg.ones(1))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index"):
        mg.index_copy(mg.ones(3), 0, mg.tensor([0], dtype=mg.int32), mg.ones(1))
    with pytest.raises(IndexError, match="Expected dtype int64 for index"):
        mg.index_fill(mg.ones(3), 0, mg.tensor([0.0]), 2.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        mg.index_fill(mg.ones(3), 0, mg.tensor([0]), mg.ones(2))
