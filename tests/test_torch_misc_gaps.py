"""as_strided, empty_strided, frombuffer, the *_copy ops, unsafe splits, nonzero_static,
Tensor.apply_/map_/map2_, and the linear-algebra odds: values against NumPy/SciPy,
gradients against float64 finite differences (minigrad.gradcheck), errors as PyTorch raises them."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import gradcheck


def _rand(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


# ------------------------------------------------------------------ as_strided
@pytest.mark.parametrize("size,stride,offset", [((3, 3), (1, 1), 0),   # overlapping windows
                                                 ((2, 3), (3, 1), 0), ((3, 2), (1, 3), 0),
                                                 ((2, 2), (4, 2), 1), ((4,), (0,), 5), ((2, 2, 2), (1, 2, 3), 2)])
def test_as_strided_values_and_gradient(size, stride, offset):
    x = _rand(3, 4)
    base = x.detach().numpy().reshape(-1)
    expected = np.lib.stride_tricks.as_strided(base[offset:], size, [s * base.itemsize for s in stride])
    np.testing.assert_array_equal(mg.as_strided(x, size, stride, offset).detach().numpy(), expected)
    np.testing.assert_array_equal(x.as_strided(size, stride, offset).detach().numpy(), expected)
    assert gradcheck(lambda a: mg.as_strided(a, size, stride, offset), (x,))


def test_as_strided_overlap_gradient_counts_uses():
    x = mg.arange(5.0, dtype=mg.float64).requires_grad_()
    mg.as_strided(x, (3, 3), (1, 1)).sum().backward()  # element k appears in min(k+1, 3, 5-k) windows
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1, 2, 3, 2, 1])


def test_as_strided_is_a_copy():
    x = mg.arange(4.0)
    y = mg.as_strided(x, (2,), (2,))
    y.array[0] = 100
    assert x.array[0] == 0


def test_as_strided_errors():
    x = mg.arange(6.0)
    with pytest.raises(RuntimeError, match="Negative strides"):
        mg.as_strided(x, (3, 3), (1, -1))
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        mg.as_strided(x, (3, 3), (2, 2))
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        mg.as_strided(x, (3,), (1, 2))
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.as_strided(np.zeros(3), (1,), (1,))


def test_empty_strided():
    t = mg.empty_strided((2, 3), (1, 2), dtype=mg.float64, requires_grad=True)
    assert t.shape == (2, 3) and t.stride() == (1, 2) and t.dtype == mg.float64 and t.requires_grad
    assert mg.empty_strided((4,), (1,)).dtype == mg.float32
    with pytest.raises(RuntimeError, match="mismatch in length"):
        mg.empty_strided((2, 3), (1,))


def test_frombuffer_shares_memory_and_checks():
    buffer = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = mg.frombuffer(buffer, dtype=mg.float32, offset=4, count=2)
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 2.0])
    t.array[0] = 9.0
    np.testing.assert_array_equal(np.frombuffer(buffer, np.float32), [0, 9, 2, 3])
    np.testing.assert_array_equal(mg.frombuffer(buffer, dtype=mg.int16).detach().numpy(),
                                  np.frombuffer(buffer, np.int16))
    with pytest.raises(ValueError, match="multiple of element size"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, offset=3)
    with pytest.raises(ValueError, match="must not be greater than actual buffer length"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, count=5)
    with pytest.raises(ValueError, match="must not be 0"):
        mg.frombuffer(bytearray(0), dtype=mg.float32)
    with pytest.raises(ValueError, match="must be non-negative"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, offset=-1)


def test_frombuffer_warns_on_read_only_buffer():
    from minigrad.ops import torch_misc
    torch_misc._frombuffer_warned = False
    with pytest.warns(UserWarning, match="not writable"):
        t = mg.frombuffer(b"abcd", dtype=mg.uint8)
    np.testing.assert_array_equal(t.detach().numpy(), [97, 98, 99, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per program, as in PyTorch
        mg.frombuffer(b"abcd", dtype=mg.uint8)


# ------------------------------------------------------------------ *_copy ops
X = np.random.default_rng(1).standard_normal((3, 4, 2))
COPY_CASES = [  # name, args, NumPy reference of the view
    ("alias_copy", (), lambda a: a),
    ("detach_copy", (), lambda a: a),
    ("diagonal_copy", (1, 0, 1), lambda a: np.diagonal(a, 1, 0, 1)),
    ("expand_copy", ((2, 3, 4, 2),), lambda a: np.broadcast_to(a, (2, 3, 4, 2))),
    ("narrow_copy", (1, 1, 2), lambda a: a[:, 1:3]),
    ("permute_copy", ((2, 0, 1),), lambda a: a.transpose(2, 0, 1)),
    ("select_copy", (1, -1), lambda a: a[:, -1]),
    ("slice_copy", (1, 0, 4, 2), lambda a: a[:, 0:4:2]),
    ("squeeze_copy", (), lambda a: a),
    ("transpose_copy", (0, 2), lambda a: a.swapaxes(0, 2)),
    ("unfold_copy", (1, 2, 1), lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1)),
    ("unsqueeze_copy", (1,), lambda a: a[:, None]),
    ("view_copy", ((4, 6),), lambda a: a.reshape(4, 6)),
]


@pytest.mark.parametrize("name,args,reference", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copy_ops_values_gradients_and_independence(name, args, reference):
    x = mg.tensor(X, requires_grad=True)
    out = getattr(mg, name)(x, *args)
    np.testing.assert_allclose(out.detach().numpy(), reference(X))
    out.array[...] = 0  # a new tensor: writing it leaves x alone
    np.testing.assert_array_equal(x.detach().numpy(), X)
    if name == "detach_copy":
        assert not out.requires_grad
    else:
        assert gradcheck(lambda a: getattr(mg, name)(a, *args), (x,))


def test_list_copy_ops():
    x = mg.tensor(X, requires_grad=True)
    for parts, reference in [(mg.split_copy(x, 2, 1), np.split(X, 2, axis=1)),
                             (mg.split_with_sizes_copy(x, [1, 3], 1), np.split(X, [1], axis=1)),
                             (mg.unbind_copy(x, 2), [X[..., 0], X[..., 1]])]:
        assert isinstance(parts, tuple) and len(parts) == len(reference)
        for part, expected in zip(parts, reference):
            np.testing.assert_allclose(part.detach().numpy(), expected)
    assert gradcheck(lambda a: mg.split_with_sizes_copy(a, [1, 3], 1), (x,))
    assert gradcheck(lambda a: mg.unbind_copy(a, 0), (x,))


def test_t_copy_squeeze_dim_and_method():
    m = _rand(2, 3)
    np.testing.assert_array_equal(mg.t_copy(m).detach().numpy(), m.detach().numpy().T)
    assert gradcheck(mg.t_copy, (m,))
    assert mg.squeeze_copy(mg.zeros(1, 3, 1), 0).shape == (3, 1)
    np.testing.assert_array_equal(m.narrow_copy(1, 1, 2).detach().numpy(), m.detach().numpy()[:, 1:3])
    with pytest.raises(IndexError):
        mg.slice_copy(m, 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.t_copy([1, 2])


# -------------------------------------------------------------- unsafe splits
def test_unsafe_splits_match_split():
    x = _rand(5, 3)
    a = x.detach().numpy()
    for parts, reference in [(mg.unsafe_split(x, 2), np.split(a, [2, 4])),
                             (x.unsafe_split(2, 1), np.split(a, [2], axis=1)),
                             (mg.unsafe_chunk(x, 3), np.split(a, [2, 4])),
                             (x.unsafe_chunk(2, dim=1), np.split(a, [2], axis=1)),
                             (mg.unsafe_split_with_sizes(x, [1, 4]), np.split(a, [1])),
                             (x.unsafe_split_with_sizes([2, 1], 1), np.split(a, [2], axis=1))]:
        assert len(parts) == len(reference)
        for part, expected in zip(parts, reference):
            np.testing.assert_array_equal(part.detach().numpy(), expected)
    assert gradcheck(lambda t: mg.unsafe_split(t, 2), (x,))
    assert gradcheck(lambda t: mg.unsafe_chunk(t, 2, 1), (x,))


def test_nonzero_static():
    x = mg.tensor([[0, 1], [1, 1]])
    np.testing.assert_array_equal(mg.nonzero_static(x, size=5).detach().numpy(),
                                  [[0, 1], [1, 0], [1, 1], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(x.nonzero_static(size=1, fill_value=7).detach().numpy(), [[0, 1]])
    out = mg.nonzero_static(mg.tensor([0.0, 2.0, 0.0, 3.0]), size=3, fill_value=9)
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.detach().numpy(), [[1], [3], [9]])
    with pytest.raises(RuntimeError, match="non-negative integer"):
        mg.nonzero_static(x, size=-1)


# ------------------------------------------------------- Python-callable maps
def test_apply_map_map2():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.apply_(lambda v: v * v) is x
    np.testing.assert_array_equal(x.detach().numpy(), [[1, 4], [9, 16]])
    x.map_(mg.tensor([10.0, 20.0]), lambda a, b: a - b)  # broadcast along rows
    np.testing.assert_array_equal(x.detach().numpy(), [[-9, -16], [-1, -4]])
    x.map2_(mg.tensor([[1.0], [2.0]]), mg.tensor(3.0), lambda a, b, c: a * b + c)
    np.testing.assert_array_equal(x.detach().numpy(), [[-6, -13], [1, -5]])
    i = mg.tensor([1, 2, 3])
    i.apply_(lambda v: v // 2)
    assert i.dtype == mg.int64
    np.testing.assert_array_equal(i.detach().numpy(), [0, 1, 1])


def test_apply_map_errors():
    g = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires grad"):
        g.apply_(lambda v: v)
    with pytest.raises(RuntimeError, match="requires grad"):
        g.map_(mg.ones(2), lambda a, b: a)
    with pytest.raises(RuntimeError, match="requires grad"):
        g.map2_(mg.ones(2), mg.ones(2), lambda a, b, c: a)
    with pytest.raises(RuntimeError, match="expanded size"):
        mg.ones(2).map_(mg.ones(3), lambda a, b: a)
