"""Readable NumPy references for the activation kernels (the specification of csrc/activation.pyx).

Elementwise, any shape; each result has the input's shape and dtype. Under
minigrad.use_reference_kernels() the kernel boundary
(minigrad/kernels/activation.py) runs these functions instead of the kernels.

    relu(x)   = x where x >= 0 (a NaN passes through, as in PyTorch), else 0
    relu'(x)  = 1 where relu(x) > 0, else 0 (0 at the kink x = 0)
    gelu(x)   = x * Phi(x),                Phi the standard normal CDF (exact GELU)
    gelu'(x)  = Phi(x) + x * phi(x),       phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
"""
import numpy as np
from scipy.special import erfc


def relu(x):
    """x where x is not negative (NaN < 0 is false, so a NaN stays NaN), else 0."""
    return np.where(x < 0, x.dtype.type(0), x)


def relu_backward(grad, y):
    """grad where the forward's output y = relu(x) is > 0, else 0."""
    return np.where(y > 0, grad, grad.dtype.type(0))


def normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt(2)) / 2 in float64 (erfc keeps the digits of the lower tail)."""
    return 0.5 * erfc(-np.asarray(x, dtype=np.float64) / np.sqrt(2.0))


def gelu(x):
    """x * Phi(x), computed in float64 and rounded to x's dtype."""
    with np.errstate(invalid="ignore"):      # gelu(-inf) = -inf * 0 = NaN, as in PyTorch
        return (x * normal_cdf(x)).astype(x.dtype)


def gelu_backward(grad, x):
    """grad * (Phi(x) + x * phi(x)), from the saved input x; in x's dtype."""
    x64 = x.astype(np.float64)
    phi = np.exp(-0.5 * x64 * x64) / np.sqrt(2.0 * np.pi)
    return (grad * (normal_cdf(x64) + x64 * phi)).astype(x.dtype)
