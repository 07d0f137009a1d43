"""Shape ops and indexing: forward against NumPy, gradcheck in float64,
scatter-add for repeated indices, and bad input."""
import numpy as np
import pytest

import minigrad as mg


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@pytest.fixture
def x_np(rng):
    return rng.standard_normal((2, 3, 4))


SHAPE_OPS = {
    # name: (minigrad op, numpy reference)
    "reshape": (lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
    "reshape_tuple": (lambda t: t.reshape((3, -1)), lambda a: a.reshape(3, -1)),
    "view": (lambda t: t.view(-1), lambda a: a.reshape(-1)),
    "view_as": (lambda t: t.view_as(mg.zeros(6, 4)), lambda a: a.reshape(6, 4)),
    "transpose": (lambda t: t.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    "transpose_neg": (lambda t: t.transpose(-1, -2), lambda a: a.swapaxes(-1, -2)),
    "permute": (lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "permute_tuple": (lambda t: t.permute((1, -1, 0)), lambda a: a.transpose(1, 2, 0)),
    "T": (lambda t: t.T, lambda a: a.T),
    "unsqueeze0": (lambda t: t.unsqueeze(0), lambda a: a[None]),
    "unsqueeze_last": (lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    "unsqueeze_mid": (lambda t: t.unsqueeze(2), lambda a: a[:, :, None]),
    "squeeze": (lambda t: t.unsqueeze(1).unsqueeze(-1).squeeze(), lambda a: a),
    "squeeze_dim": (lambda t: t.unsqueeze(1).squeeze(1), lambda a: a),
    "squeeze_other": (lambda t: t.squeeze(0), lambda a: a),  # size 2: stays, as in PyTorch
    "flatten": (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "flatten_from_1": (lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    "flatten_range": (lambda t: t.flatten(0, 1), lambda a: a.reshape(6, 4)),
    "expand": (lambda t: t[:, :1].expand(5, 2, 3, 4), lambda a: np.broadcast_to(a[:, :1], (5, 2, 3, 4))),
    "expand_keep": (lambda t: t[:, :1].expand(-1, 3, -1), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
    "expand_as": (lambda t: t[:1].expand_as(mg.zeros(2, 3, 4)), lambda a: np.broadcast_to(a[:1], (2, 3, 4))),
    "contiguous": (lambda t: t.transpose(0, 1).contiguous(), lambda a: a.swapaxes(0, 1)),
    "module_functions": (lambda t: mg.flatten(mg.transpose(mg.permute(mg.unsqueeze(
        mg.squeeze(mg.reshape(t, (2, 1, 12))), 0), (0, 2, 1)), 1, 2)),
        lambda a: a.reshape(2, 12)[None].reshape(1, 2, 12).reshape(-1)),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_op_forward_and_gradcheck(name, x_np):
    op, reference = SHAPE_OPS[name]
    out = op(mg.tensor(x_np))
    expected = reference(x_np)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.array, expected)
    assert mg.gradcheck(op, (leaf(x_np),))


def test_contiguous_makes_a_c_contiguous_copy(x_np):
    t = mg.tensor(x_np).transpose(0, 2)
    assert not t.array.flags.c_contiguous
    assert t.contiguous().array.flags.c_contiguous


def test_expand_gradient_sums_over_the_copies():
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(3, 2, 4).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[12.0], [12.0]])


# -------------------------------------------------------------- indexing
INDICES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, None),
    "step": (slice(None), slice(None, None, 2)),
    "negative_step": (slice(None), slice(None, None, -1)),
    "ellipsis": (Ellipsis, 0),
    "none": (None, 0),
    "mixed": (1, slice(0, 2), -1),
    "int_array": np.array([1, 0]),
    "int_array_repeats": np.array([0, 1, 0, 0]),
    "list_repeats": [1, 1, 0],
    "tensor_index": mg.tensor([1, 0, 1]),
    "two_arrays": (np.array([0, 1, 1]), np.array([2, 2, 2])),
    "array_and_slice": (slice(None), np.array([2, 2, 0])),
    "bool_mask": np.array([True, False]),
    "bool_mask_2d": "x_positive",
    "bool_tensor_mask": "tensor_mask",
}


def resolve(index, x_np):
    if isinstance(index, str):  # masks that depend on the data
        return x_np[..., 0] > 0 if index == "x_positive" else mg.tensor(x_np > 0)
    return index


def numpy_index(index):
    if isinstance(index, tuple):
        return tuple(numpy_index(i) for i in index)
    if isinstance(index, mg.Tensor):
        return index.array
    if isinstance(index, list):
        return np.asarray(index)
    return index


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem_forward_and_gradcheck(name, x_np):
    index = resolve(INDICES[name], x_np)
    out = mg.tensor(x_np)[index]
    expected = x_np[numpy_index(index)]
    np.testing.assert_array_equal(out.array, expected)
    assert mg.gradcheck(lambda t: t[index], (leaf(x_np),))


def test_getitem_repeated_indices_scatter_add():
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[mg.tensor([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.array, [3.0, 0.0, 1.0])
    y = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    (y[np.array([1, 1]), np.array([2, 2])] * mg.tensor(np.array([2.0, 5.0]))).sum().backward()
    np.testing.assert_array_equal(y.grad.array, [[0, 0, 0], [0, 0, 7.0]])


def test_getitem_boolean_mask_routes_the_gradient():
    x = mg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    np.testing.assert_array_equal(picked.array, [1.0, 4.0])
    (picked * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[3.0, 0.0], [0.0, 3.0]])


def test_getitem_float_index_is_an_error():
    with pytest.raises(IndexError, match="integer or bool"):
        mg.zeros(3)[mg.tensor([0.0, 1.0])]


# ------------------------------------------------------------ cat, stack
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim, rng):
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes = [tuple(n + k if axis == dim % 3 else n for axis, n in enumerate(s)) for k, s in enumerate(shapes)]
    arrays = [rng.standard_normal(s) for s in shapes]
    out = mg.cat([mg.tensor(a) for a in arrays], dim=dim)
    np.testing.assert_array_equal(out.array, np.concatenate(arrays, axis=dim))
    assert mg.gradcheck(lambda *ts: mg.cat(list(ts), dim), tuple(leaf(a) for a in arrays))


@pytest.mark.parametrize("dim", [0, 1, 3, -1, -4])
def test_stack(dim, rng):
    arrays = [rng.standard_normal((2, 3, 2)) for _ in range(3)]
    out = mg.stack([mg.tensor(a) for a in arrays], dim=dim)
    np.testing.assert_array_equal(out.array, np.stack(arrays, axis=dim))
    assert mg.gradcheck(lambda *ts: mg.stack(ts, dim), tuple(leaf(a) for a in arrays))


def test_cat_with_a_constant_passes_gradient_to_the_others_only():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (mg.cat([w, mg.tensor([5.0])]) * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [1.0, 2.0])


# -------------------------------------------------------------- bad input
def test_bad_reshape_names_shape_and_size():
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(2, 3, 4\).*24"):
        mg.zeros(2, 3, 4).reshape(4, 5)
    with pytest.raises(ValueError, match=r"\(-1, -1\)"):
        mg.zeros(2, 3).reshape(-1, -1)
    with pytest.raises(ValueError, match=r"\(5, -1\)"):
        mg.zeros(2, 3).view(5, -1)
    with pytest.raises(TypeError, match="ints"):
        mg.zeros(2, 3).reshape(2.0, 3)


def test_bad_shape_arguments():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\(0, 3\)"):
        x.permute(0, 3)
    with pytest.raises(ValueError, match=r"\(0, 0\)"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"\(0,\)"):
        x.permute(0)
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match="out of range"):
        x.transpose(0, 2)
    with pytest.raises(ValueError, match=r"dimension 1 \(3\)"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="at least"):
        x.expand(3)
    with pytest.raises(ValueError, match="non-negative"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match="comes after"):
        mg.zeros(2, 3, 4).flatten(2, 1)


def test_bad_cat_and_stack_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        mg.cat([mg.zeros(2, 3), mg.zeros(2, 4)], dim=0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        mg.stack([mg.zeros(2, 3), mg.zeros(3, 2)])
    with pytest.raises(ValueError, match="non-empty"):
        mg.cat([])
    with pytest.raises(ValueError, match="zero-dimensional"):
        mg.cat([mg.tensor(1.0), mg.tensor(2.0)])
    with pytest.raises(IndexError, match="out of range"):
        mg.stack([mg.zeros(2), mg.zeros(2)], dim=2)


def test_integer_row_gather_backward_sums_repeats_exactly_like_add_at():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        source = rng.standard_normal((7, 3, 2)).astype(dtype)
        index = rng.integers(-7, 7, size=(5, 4))              # repeats and negative rows
        x = mg.tensor(source, requires_grad=True)
        upstream = rng.standard_normal((5, 4, 3, 2)).astype(dtype)
        (x[mg.tensor(index)] * mg.tensor(upstream)).sum().backward()
        expected = np.zeros_like(source)
        np.add.at(expected, index, upstream)
        np.testing.assert_array_equal(x.grad.array, expected)   # same order of additions: bitwise


def test_integer_row_gather_gradcheck():
    x = mg.tensor(np.random.default_rng(4).standard_normal((6, 3)), requires_grad=True)
    index = mg.tensor(np.array([[0, 5, 5], [2, 0, -1]]))
    assert mg.gradcheck(lambda t: t[index], (x,))
