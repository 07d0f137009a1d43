"""Typed boundary to the activation kernels (minigrad._C.activation).

The kernels work on flat contiguous float32/float64 vectors; this module
flattens (a view for contiguous arrays), allocates the outputs and picks
the thread count. Other dtypes (integers), and arrays so small that
calling a compiled kernel costs more than the work, use NumPy with the
same semantics. Under minigrad.use_reference_kernels() every entry point
runs its readable NumPy reference (minigrad/reference/activation.py).
"""
import numpy as np

from minigrad._C import activation as _kernel
from minigrad.kernels.threads import get_num_threads
from minigrad.reference import activation as reference
from minigrad.reference import reference_kernels_enabled

# Below this many elements a second thread costs more to wake than it saves.
_PARALLEL_MIN_ELEMENTS = 1 << 15
# Below this many, NumPy's call (~0.7 us) beats the kernel's (~2.5 us: fused-type
# dispatch and two memoryviews) by more than the kernel's faster loop wins back.
_KERNEL_MIN_ELEMENTS = 1 << 12

_KERNEL_DTYPES = (np.float32, np.float64)


def _threads(n):
    return get_num_threads() if n >= _PARALLEL_MIN_ELEMENTS else 1


def _flat(array):
    return np.ascontiguousarray(array).reshape(-1)


def _use_kernel(array):
    return array.dtype in _KERNEL_DTYPES and array.size >= _KERNEL_MIN_ELEMENTS


def relu(x):
    """max(x, 0), NaN kept; same shape and dtype."""
    if reference_kernels_enabled():
        return reference.relu(x)
    if not _use_kernel(x):
        return np.maximum(x, x.dtype.type(0))
    y = np.empty(x.shape, dtype=x.dtype)
    _kernel.relu_forward(_flat(x), y.reshape(-1), _threads(x.size))
    return y


def relu_backward(grad, y):
    """grad where y = relu(x) > 0, else 0."""
    if reference_kernels_enabled():
        return reference.relu_backward(grad, y)
    if not _use_kernel(grad) or y.dtype != grad.dtype:
        return np.where(y > 0, grad, grad.dtype.type(0))
    grad_x = np.empty(grad.shape, dtype=grad.dtype)
    _kernel.relu_backward(_flat(grad), _flat(y), grad_x.reshape(-1), _threads(grad.size))
    return grad_x


def _gauss(x):
    """exp(-x^2 / 2), by NumPy's vectorised exp (one temporary, updated in place)."""
    gauss = np.multiply(x, x)
    gauss *= -0.5
    return np.exp(gauss, out=gauss)


def _check_float(x, name):
    if x.dtype not in _KERNEL_DTYPES:
        raise TypeError(f"{name}: expected a float32 or float64 input, got {x.dtype}")


def gelu(x):
    """x * Phi(x), Phi the standard normal CDF (exact GELU)."""
    _check_float(x, "gelu")
    if reference_kernels_enabled():
        return reference.gelu(x)
    y = np.empty(x.shape, dtype=x.dtype)
    x = _flat(x)
    _kernel.gelu_forward(x, _gauss(x), y.reshape(-1), _threads(x.size))
    return y


def gelu_backward(grad, x):
    """grad * (Phi(x) + x phi(x)), recomputed from the saved input x."""
    if reference_kernels_enabled():
        return reference.gelu_backward(grad, x)
    grad_x = np.empty(x.shape, dtype=x.dtype)
    x = _flat(x)
    _kernel.gelu_backward(_flat(grad), x, _gauss(x), grad_x.reshape(-1), _threads(x.size))
    return grad_x
