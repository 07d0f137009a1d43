"""Reductions: sum mean var max min argmax argmin amax amin over dim=None, an
int, a negative int or a tuple, with and without keepdim; tie behaviour."""
import numpy as np
import pytest

import minigrad as mg

SHAPE = (3, 4, 2)
DIMS = [None, 0, 1, -1, (0, 2), (-1, 1), (0, 1, 2)]


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def numpy_axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "var"])
def test_sum_mean_var(name, dim, keepdim, rng):
    x = rng.standard_normal(SHAPE)
    reference = {"sum": np.sum, "mean": np.mean,
                 "var": lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)}[name]
    out = getattr(mg.tensor(x.astype(np.float32)), name)(dim=dim, keepdim=keepdim)
    expected = reference(x, axis=numpy_axis(dim), keepdims=keepdim)
    assert out.dtype == np.float32 and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.array, expected, rtol=1e-5, atol=1e-6)
    assert mg.gradcheck(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim), (leaf(x),))


@pytest.mark.parametrize("kwargs, ddof", [({}, 1), ({"unbiased": False}, 0), ({"unbiased": True}, 1),
                                          ({"correction": 0}, 0), ({"correction": 2}, 2)])
def test_var_corrections(kwargs, ddof, rng):
    x = rng.standard_normal((5, 6))
    np.testing.assert_allclose(mg.tensor(x).var(1, **kwargs).array, np.var(x, axis=1, ddof=ddof))
    np.testing.assert_allclose(mg.tensor(x).std(**kwargs).array, np.std(x, ddof=ddof))
    assert mg.gradcheck(lambda t: t.var(0, **kwargs), (leaf(x),))


def test_var_rejects_both_unbiased_and_correction():
    with pytest.raises(ValueError, match="unbiased"):
        mg.zeros(3).var(unbiased=True, correction=1)


def test_sum_of_integers_and_bools_counts():
    assert mg.tensor([1, 2, 3]).sum().item() == 6
    assert mg.tensor([True, True, False]).sum().item() == 2


def test_mean_of_integers_is_an_error():
    with pytest.raises(TypeError, match="floating point"):
        mg.tensor([1, 2]).mean()


def test_module_level_functions_match_methods(rng):
    x = mg.tensor(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(mg.sum(x, 1).array, x.sum(1).array)
    np.testing.assert_array_equal(mg.mean(x, (0, 1)).array, x.mean((0, 1)).array)
    np.testing.assert_array_equal(mg.var(x, 0).array, x.var(0).array)
    np.testing.assert_array_equal(mg.max(x, 1).values.array, x.max(1).values.array)
    np.testing.assert_array_equal(mg.argmin(x, 0).array, x.argmin(0).array)


# ------------------------------------------------------------ max and min
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_without_dim(name, rng):
    x = rng.standard_normal(SHAPE)
    out = getattr(mg.tensor(x), name)()
    assert out.shape == ()
    assert out.item() == getattr(np, name)(x)
    assert mg.gradcheck(lambda t: getattr(t, name)(), (leaf(x),))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_a_dim_return_values_and_indices(name, dim, keepdim, rng):
    x = rng.standard_normal(SHAPE)
    result = getattr(mg.tensor(x), name)(dim, keepdim=keepdim)
    values, indices = result                    # unpacks like torch.return_types.max
    assert result.values is values and result.indices is indices
    expected_indices = getattr(np, "arg" + name)(x, axis=dim)
    expected_values = getattr(np, name)(x, axis=dim)
    if keepdim:
        expected_indices = np.expand_dims(expected_indices, dim)
        expected_values = np.expand_dims(expected_values, dim)
    np.testing.assert_array_equal(values.array, expected_values)
    np.testing.assert_array_equal(indices.array, expected_indices)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert mg.gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim)[0], (leaf(x),))


def test_max_along_dim_ties_go_to_the_first_occurrence():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]], requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.array, [3.0, 2.0])
    np.testing.assert_array_equal(indices.array, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(x.argmax(1).array, [1, 0])
    np.testing.assert_array_equal(x.argmin(1).array, [0, 2])


def test_max_without_dim_splits_ties_evenly():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.array, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad.array, [[0.5, 0.0, 0.0], [0.0, 0.0, 0.5]])


@pytest.mark.parametrize("dim", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, dim, rng):
    x = rng.standard_normal(SHAPE)
    out = getattr(mg, name)(mg.tensor(x), dim, keepdim=True)
    np.testing.assert_array_equal(out.array, getattr(np, name)(x, axis=numpy_axis(dim), keepdims=True))
    assert mg.gradcheck(lambda t: getattr(mg, name)(t, dim), (leaf(x),))


def test_amax_ties_share_the_gradient():
    x = mg.tensor([[1.0, 1.0], [0.0, 1.0]], requires_grad=True)
    mg.amax(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[0.5, 0.5], [0.0, 1.0]])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 2, -2])
def test_argmax_argmin(dim, keepdim, rng):
    x = rng.standard_normal(SHAPE)
    for name in ("argmax", "argmin"):
        out = getattr(mg.tensor(x), name)(dim, keepdim=keepdim)
        expected = getattr(np, name)(x, axis=dim)
        if keepdim:
            expected = (np.reshape(expected, (1,) * x.ndim) if dim is None
                        else np.expand_dims(expected, dim))
        assert out.dtype == np.int64 and not out.requires_grad
        np.testing.assert_array_equal(out.array, expected)


def test_zero_dim_input():
    x = mg.tensor(2.5, requires_grad=True)
    values, indices = x.max(0)
    assert values.item() == 2.5 and indices.item() == 0
    assert x.sum().item() == 2.5 and x.max().item() == 2.5


def test_bad_dims():
    x = mg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"\[-2, 1\].*got 2"):
        x.sum(2)
    with pytest.raises(ValueError, match="more than once"):
        x.sum((1, -1))
    with pytest.raises(TypeError, match="one int"):
        x.max(dim=(0, 1))
    with pytest.raises(TypeError, match="int"):
        x.mean(dim=1.5)
    with pytest.raises(RuntimeError, match="empty"):
        mg.zeros(0).max()
