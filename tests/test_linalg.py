"""matmul with NumPy's rules: vectors, matrices, broadcast batches."""
import numpy as np
import pytest

import minigrad as mg

SHAPE_PAIRS = [
    ((4,), (4,)),                 # dot product -> scalar
    ((4,), (4, 3)),               # vector @ matrix
    ((2, 4), (4,)),               # matrix @ vector
    ((2, 4), (4, 3)),
    ((5, 2, 4), (4, 3)),          # batch @ matrix
    ((2, 4), (5, 4, 3)),          # matrix @ batch
    ((2, 1, 3, 4), (5, 4, 2)),    # broadcast batch dims
    ((4,), (2, 4, 3)),            # vector @ batch
    ((2, 3, 4), (4,)),            # batch @ vector
    ((1, 1), (1, 1)),
]


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_matmul_forward_and_gradcheck(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    out = mg.tensor(a.astype(np.float32)) @ mg.tensor(b.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, np.matmul(a, b), rtol=1e-5, atol=1e-5)
    assert mg.gradcheck(mg.matmul, (leaf(a), leaf(b)))


def test_matmul_gradient_closed_form(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    g = rng.standard_normal((3, 2))
    ta, tb = leaf(a), leaf(b)
    (ta @ tb).backward(mg.tensor(g))
    np.testing.assert_allclose(ta.grad.array, g @ b.T)
    np.testing.assert_allclose(tb.grad.array, a.T @ g)


def test_matmul_with_one_constant_side(rng):
    w = mg.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    out = x @ w  # ndarray @ Tensor defers to Tensor.__rmatmul__
    assert isinstance(out, mg.Tensor)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.array, x.T @ np.ones((5, 2), np.float32), rtol=1e-6)
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.matmul(mg.ones(2)).array, w.array.sum(1))


@pytest.mark.parametrize("a, b, pattern", [
    ((2, 3), (4, 5), r"\(2, 3\) and \(4, 5\).*3.*!= 4"),
    ((3,), (4,), r"\(3,\) and \(4,\)"),
    ((2, 3), (2,), r"\(2, 3\) and \(2,\)"),
    ((), (3,), r"at least 1 dimension.*\(\) and \(3,\)"),
    ((2, 2, 3), (3, 3, 4), r"batch.*\(2, 2, 3\) and \(3, 3, 4\)"),
])
def test_matmul_bad_shapes_name_both(a, b, pattern):
    with pytest.raises(ValueError, match=pattern):
        mg.zeros(*a) @ mg.zeros(*b)
