"""The compiled ReLU and GELU kernels (minigrad/kernels/activation.py) against NumPy and scipy."""
import numpy as np
import pytest
from scipy.special import erf

import minigrad
from minigrad.kernels import activation as kernels


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request, set_threads):
    set_threads(request.param)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# NumPy path for small arrays, the kernel from 4096 elements, in parallel from 32768
@pytest.mark.parametrize("shape", [(0,), (7,), (3, 5, 11), (5000,), (2, 40000)])
def test_relu_forward_and_backward_match_numpy(dtype, shape, threads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    y = kernels.relu(x)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_array_equal(y, np.where(x > 0, x, 0))
    grad_x = kernels.relu_backward(grad, y)
    assert grad_x.dtype == dtype and grad_x.shape == shape
    np.testing.assert_array_equal(grad_x, np.where(x > 0, grad, 0))


@pytest.mark.parametrize("copies", [1, 1000], ids=["numpy_path", "kernel_path"])
def test_relu_special_values(copies):
    x = np.tile(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -1.0], dtype=np.float32), copies)
    y = kernels.relu(x)
    np.testing.assert_array_equal(y, np.tile([np.nan, np.inf, 0, 0, 0, 2.5, 0], copies))  # NaN stays NaN
    grad = np.tile(np.array([3.0, 3.0, np.nan, 3.0, 3.0, 3.0, np.inf], dtype=np.float32), copies)
    # the gradient at 0 (and at NaN) is 0, and nothing leaks through where y <= 0, as in PyTorch
    np.testing.assert_array_equal(kernels.relu_backward(grad, y), np.tile([0, 3, 0, 0, 0, 3, 0], copies))


def test_relu_non_contiguous_and_integer_inputs():
    x = np.arange(-12, 12, dtype=np.float64).reshape(4, 6)[:, ::2]  # a strided view
    np.testing.assert_array_equal(kernels.relu(x), np.maximum(x, 0))
    integers = np.arange(-3, 4)
    out = kernels.relu(integers)
    assert out.dtype == integers.dtype
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 1, 2, 3])


def test_relu_op_gradient_and_gradcheck():
    x = minigrad.tensor(np.array([[-1.5, 0.5, 2.0], [0.25, -0.75, 3.0]]), requires_grad=True)
    y = minigrad.relu(x)
    (y * minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=minigrad.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[0, 2, 3], [4, 0, 6]])
    # away from the kink at 0, where finite differences are meaningless
    rng = np.random.default_rng(0)
    values = rng.uniform(0.1, 1.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    assert minigrad.gradcheck(minigrad.relu, (minigrad.tensor(values, requires_grad=True),))


# ---------------------------------------------------------------- GELU
def gelu_reference(x):
    """x * Phi(x) in float64 with scipy's erf."""
    x = x.astype(np.float64)
    return x * 0.5 * (1 + erf(x / np.sqrt(2)))


def gelu_derivative_reference(x):
    """Phi(x) + x phi(x) in float64."""
    x = x.astype(np.float64)
    return 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


# float32 uses Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7 in erf), float64 libm's erfc
GELU_TOLERANCE = {np.float32: dict(rtol=1e-5, atol=5e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0,), (9,), (4, 50, 300)])  # last: parallel path
def test_gelu_matches_scipy_erf(dtype, shape, threads):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    y = kernels.gelu(x)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, gelu_reference(x), **GELU_TOLERANCE[dtype])
    grad_x = kernels.gelu_backward(grad, x)
    assert grad_x.dtype == dtype and grad_x.shape == shape
    np.testing.assert_allclose(grad_x, grad * gelu_derivative_reference(x), **GELU_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_whole_range_and_special_values(dtype):
    x = np.linspace(-40, 40, 16001).astype(dtype)
    np.testing.assert_allclose(kernels.gelu(x), gelu_reference(x), **GELU_TOLERANCE[dtype])
    np.testing.assert_allclose(kernels.gelu_backward(np.ones_like(x), x), gelu_derivative_reference(x),
                               **GELU_TOLERANCE[dtype])
    special = np.array([0.0, np.inf, -np.inf, np.nan], dtype=dtype)
    y = kernels.gelu(special)
    np.testing.assert_array_equal(y[:2], [0.0, np.inf])
    assert y[2] == 0 or np.isnan(y[2])  # -inf * Phi(-inf) = -inf * 0 (NaN in PyTorch too)
    assert np.isnan(y[3])


def test_gelu_non_contiguous_and_bad_dtype():
    x = np.linspace(-3, 3, 48).reshape(6, 8)[:, 1::3]
    np.testing.assert_allclose(kernels.gelu(x), gelu_reference(x), rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="gelu: expected a float32 or float64 input, got int64"):
        kernels.gelu(np.arange(4))


def test_gelu_op_gradcheck_and_float32_gradient():
    rng = np.random.default_rng(3)
    x = minigrad.tensor(rng.standard_normal((3, 5)) * 2, requires_grad=True)
    assert minigrad.gradcheck(minigrad.nn.functional.gelu, (x,))
    x32 = minigrad.tensor(rng.standard_normal((4, 6)).astype(np.float32), requires_grad=True)
    minigrad.nn.functional.gelu(x32).sum().backward()
    assert x32.grad.dtype == minigrad.float32
    np.testing.assert_allclose(x32.grad.array, gelu_derivative_reference(x32.array), rtol=1e-5, atol=5e-7)
