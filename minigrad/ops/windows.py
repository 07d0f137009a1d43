"""Window functions for spectral analysis (torch.hann_window and family).

Each is a 1-d tensor w[n], n = 0 .. N-1, built from a symmetric window of
length M: M = N when periodic=False, M = N + 1 with the last value dropped
when periodic=True (the default: the window one period of a periodic signal
needs, as for stft). With x = 2 pi n / (M - 1):

    hann      0.5 - 0.5 cos(x)
    hamming   alpha - beta cos(x)                      (alpha 0.54, beta 0.46)
    blackman  0.42 - 0.5 cos(x) + 0.08 cos(2 x)
    bartlett  1 - |2 n / (M - 1) - 1|
    kaiser    I0(beta sqrt(1 - (2 n / (M - 1) - 1)^2)) / I0(beta)   (beta 12)

N = 0 gives an empty tensor and N = 1 gives [1.]. The values are computed in
float64 and rounded once to the requested dtype.
"""
import builtins

import numpy as np

from minigrad.devices import check_device
from minigrad.dtypes import as_dtype
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor


def _window(name, window_length, periodic, dtype, layout, device, requires_grad, symmetric):
    """The common part: check the arguments, pick M, call symmetric(n, M) in float64, cast."""
    if isinstance(window_length, builtins.bool) or not isinstance(window_length, (builtins.int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not {type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if not isinstance(periodic, builtins.bool):
        raise TypeError(f"{name}(): argument 'periodic' must be bool, not {type(periodic).__name__}")
    dtype = as_dtype(dtype) or get_default_dtype()
    if dtype.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if layout is not None and str(layout) not in ("torch.strided", "strided"):
        raise RuntimeError(f"{name}: only the strided layout is supported, got {layout!r}")
    check_device(device)
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        length = window_length + 1 if periodic else window_length   # M
        values = symmetric(np.arange(length, dtype=np.float64), length)[:window_length]
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (M - 1))."""
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda n, m: 0.5 - 0.5 * np.cos(2 * np.pi * n / (m - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None,
                   device=None, pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi n / (M - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda n, m: alpha - beta * np.cos(2 * np.pi * n / (m - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda n, m: (0.42 - 0.5 * np.cos(2 * np.pi * n / (m - 1))
                                 + 0.08 * np.cos(4 * np.pi * n / (m - 1))))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """1 - |2 n / (M - 1) - 1|: a triangle that is 0 at both ends."""
    return _window("bartlett_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda n, m: 1 - np.abs(2 * n / (m - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - (2 n / (M - 1) - 1)^2)) / I0(beta), I0 the modified Bessel function."""
    def symmetric(n, m):
        ratio = 2 * n / (m - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - ratio ** 2, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, layout, device, requires_grad, symmetric)
