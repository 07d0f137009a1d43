"""resize / resize_as (out of place), resize_ / resize_as_, set_, angle and adjoint."""
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import gradcheck


def quiet(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args)


# ------------------------------------------------------------------ resize
def test_resize_reshapes_row_major_and_warns():
    x = minigrad.tensor(np.arange(6.0))
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        out = x.resize(2, 3)
    np.testing.assert_array_equal(out.array, np.arange(6.0).reshape(2, 3))
    assert np.shares_memory(out.array, x.array)              # a view of a contiguous tensor
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        out = x.resize_as(minigrad.zeros(3, 2))
    np.testing.assert_array_equal(out.array, np.arange(6.0).reshape(3, 2))


def test_resize_of_a_transposed_tensor_copies_in_row_major_order():
    base = np.arange(6.0).reshape(2, 3)
    x = minigrad.tensor(base).t()                            # (3, 2), not contiguous
    out = quiet(x.resize, 6)
    np.testing.assert_array_equal(out.array, base.T.reshape(6))


def test_resize_gradient():
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert quiet(gradcheck, lambda t: t.resize(2, 6) * minigrad.tensor(np.arange(12.0).reshape(2, 6)),
                 (x,))
    y = minigrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    out = quiet(y.resize_as, minigrad.zeros(6))
    (out * minigrad.tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(y.grad.array, np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("sizes", [(4,), (-1, 3), (7,)])
def test_resize_must_keep_the_number_of_elements(sizes):
    x = minigrad.tensor(np.arange(6.0))
    with pytest.raises(RuntimeError, match="autograd's resize can only change the shape"):
        quiet(x.resize, *sizes)
    with pytest.raises(RuntimeError, match="preserving the number of elements"):
        quiet(x.resize_as, minigrad.zeros(4))


def test_resize_wants_separate_ints_as_pytorch():
    with pytest.raises(RuntimeError, match="separate ints"):
        quiet(minigrad.zeros(6).resize, (2, 3))
    with pytest.raises(TypeError, match="sizes must be ints"):
        quiet(minigrad.zeros(6).resize, 2.0, 3)


def test_resize_inplace_keeps_the_prefix_and_zero_fills():
    x = minigrad.tensor(np.arange(1.0, 7.0))
    x.resize_(2, 2)                                           # shrink: a view of the same memory
    np.testing.assert_array_equal(x.array, [[1.0, 2.0], [3.0, 4.0]])
    x.resize_(3, 3)                                           # grow: new elements are zeros here
    np.testing.assert_array_equal(x.array.ravel(), [1.0, 2.0, 3.0, 4.0, 0, 0, 0, 0, 0])
    leaf = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        leaf.resize_as_(minigrad.zeros(2))


# --------------------------------------------------------------------- set_
def test_set_shares_the_source_memory():
    source = minigrad.tensor(np.arange(6.0))
    x = minigrad.zeros(2, dtype=minigrad.float64)
    assert x.set_(source) is x
    assert x.shape == (6,) and x.data_ptr() == source.data_ptr()
    x[0] = 9.0
    source.add_(1.0)
    np.testing.assert_array_equal(x.array, [10.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(source.array, x.array)


def test_set_keeps_the_strides_of_a_view():
    source = minigrad.tensor(np.arange(6.0)).view(2, 3).t()
    x = minigrad.zeros(1, dtype=minigrad.float64).set_(source)
    assert x.shape == (3, 2) and x.stride() == (1, 3)
    np.testing.assert_array_equal(x.array, np.arange(6.0).reshape(2, 3).T)


def test_set_with_offset_size_and_stride():
    source = minigrad.tensor(np.arange(10.0))
    x = minigrad.zeros(1, dtype=minigrad.float64).set_(source, 1, (2, 2), (3, 1))
    np.testing.assert_array_equal(x.array, [[1.0, 2.0], [4.0, 5.0]])
    x.mul_(10.0)
    np.testing.assert_array_equal(source.array, [0, 10, 20, 3, 40, 50, 6, 7, 8, 9])
    y = minigrad.zeros(1, dtype=minigrad.float64).set_(source[2:], 1, (3,))          # offset counted from source[2]
    np.testing.assert_array_equal(y.array, [3.0, 40.0, 50.0])
    z = minigrad.zeros(1, dtype=minigrad.float64).set_(source, 4, size=(2, 3))       # contiguous strides by default
    np.testing.assert_array_equal(z.array, [[40.0, 50.0, 6.0], [7.0, 8.0, 9.0]])


def test_set_with_no_source_empties_the_tensor():
    x = minigrad.ones(3, dtype=minigrad.float64)
    x.set_()
    assert x.shape == (0,) and x.dtype == minigrad.float64


def test_set_under_no_grad_keeps_requires_grad():
    p = minigrad.zeros(3, requires_grad=True)
    with minigrad.no_grad():
        p.set_(minigrad.ones(2))
    assert p.requires_grad
    np.testing.assert_array_equal(p.array, [1.0, 1.0])


def test_set_errors():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        minigrad.zeros(3, requires_grad=True).set_(minigrad.ones(2))
    with pytest.raises(RuntimeError, match="not differentiable"):
        (minigrad.zeros(3, requires_grad=True) * 2).set_(minigrad.ones(2))
    with pytest.raises(RuntimeError, match="source requires grad"):
        minigrad.zeros(2).set_(minigrad.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="Could not set tensor of type float64 to a tensor of type float32"):
        minigrad.zeros(2).set_(minigrad.zeros(2, dtype=minigrad.float64))
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        minigrad.zeros(2).set_([1.0, 2.0])
    source = minigrad.tensor(np.arange(6.0))
    with pytest.raises(RuntimeError, match="unequal size length \\(2\\) and stride length \\(1\\)"):
        minigrad.zeros(2, dtype=minigrad.float64).set_(source, 1, (2, 2), (2,))
    with pytest.raises(RuntimeError, match="invalid storage offset -1"):
        minigrad.zeros(2, dtype=minigrad.float64).set_(source, -1, (2,))
    with pytest.raises(RuntimeError, match="negative dimension"):
        minigrad.zeros(2, dtype=minigrad.float64).set_(source, 0, (-2,))
    with pytest.raises(RuntimeError, match="need 8 elements"):
        minigrad.zeros(2, dtype=minigrad.float64).set_(source, 4, (2, 2))


# ---------------------------------------------------------- angle, adjoint
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_angle_of_real_values(dtype):
    values = np.array([-2.5, -0.0, 0.0, 3.0, np.nan, -np.inf, np.inf], dtype=dtype)
    out = minigrad.tensor(values).angle()
    assert out.dtype == minigrad.tensor(values).dtype
    # the argument of a real number: pi for the negative ones, 0 for the others (-0.0 included)
    expected = np.array([np.pi, 0.0, 0.0, 0.0, np.nan, np.pi, 0.0], dtype=dtype)
    np.testing.assert_array_equal(out.array, expected)
    np.testing.assert_array_equal(minigrad.angle(minigrad.tensor(values)).array, expected)


def test_angle_of_integers_and_bools_is_float32():
    out = minigrad.angle(minigrad.tensor([-3, 0, 2]))
    assert out.dtype == minigrad.float32
    np.testing.assert_allclose(out.array, [np.pi, 0.0, 0.0])
    np.testing.assert_array_equal(minigrad.angle(minigrad.tensor([True, False])).array, [0.0, 0.0])


def test_angle_gradient_is_zero():
    x = minigrad.tensor(np.array([-1.5, 0.5, 2.0, -3.0]), requires_grad=True)
    (x.angle() * minigrad.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.zeros(4))
    assert gradcheck(lambda t: t.angle(), (x,))               # finite differences: 0 off the jump


def test_adjoint_is_the_transpose_of_the_last_two_dims():
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = minigrad.tensor(values, requires_grad=True)
    out = x.adjoint()
    np.testing.assert_array_equal(out.array, np.swapaxes(values, -1, -2))
    np.testing.assert_array_equal(minigrad.adjoint(x).array, np.swapaxes(values, -1, -2))
    assert gradcheck(lambda t: t.adjoint() * minigrad.tensor(np.arange(24.0).reshape(2, 4, 3)), (x,))
    with pytest.raises(RuntimeError, match="only supported on matrices or batches of matrices. Got 1-D"):
        minigrad.zeros(3).adjoint()
    with pytest.raises(TypeError, match="must be Tensor"):
        minigrad.adjoint([[1.0]])
