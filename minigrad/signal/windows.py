"""``minigrad.signal.windows``: torch.signal.windows, SciPy's window functions.

Unlike the top-level ``hann_window`` family (``periodic=True`` by default),
these take the length ``M`` and ``sym=True`` by default: a symmetric window
for filter design. ``sym=False`` gives the periodic window used in spectral
analysis (the symmetric window of length M + 1 without its last value).
With d = M - 1 (sym) or M (periodic) and n = 0 .. M-1:

    general_cosine   sum_i (-1)^i a_i cos(2 pi i n / d)
    general_hamming  alpha - (1 - alpha) cos(2 pi n / d)
    hann             general_hamming with alpha = 0.5
    hamming          general_hamming with alpha = 0.54
    blackman         general_cosine with a = [0.42, 0.5, 0.08]
    nuttall          general_cosine with a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]
    bartlett         1 - |2 n / d - 1|
    cosine           sin(pi (n + 0.5) / (d + 1))
    gaussian         exp(-(n - d / 2)^2 / (2 std^2))
    exponential      exp(-|n - center| / tau),  center = d / 2 unless given (periodic only)
    kaiser           I0(beta sqrt(1 - (2 n / d - 1)^2)) / I0(beta)

Values are computed in float64 and rounded once to the requested dtype
(float32 or float64, as torch allows).
"""
import builtins
from collections.abc import Iterable

import numpy as np

from minigrad.devices import check_device
from minigrad.dtypes import as_dtype
from minigrad.ops.layout import strided
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checks(name, M, dtype, layout, device):
    """torch's _window_function_checks; returns the NumPy dtype."""
    if isinstance(M, builtins.bool) or not isinstance(M, (builtins.int, np.integer)):
        raise TypeError(f"{name}(): argument 'M' must be int, not {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dtype = as_dtype(dtype) if dtype is not None else get_default_dtype()
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: minigrad.{dtype}")
    check_device(device)
    return dtype


def _denominator(M, sym):
    """d: M - 1 for a symmetric window, M for a periodic one."""
    return M - 1 if sym else M


def _tensor(values, dtype, requires_grad):
    return Tensor(np.asarray(values, dtype=np.float64).astype(dtype), requires_grad=requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / d), d = M - 1 (sym) or M."""
    dtype = _checks("general_cosine", M, dtype, layout, device)
    if M <= 1:
        return _tensor(np.ones(M), dtype, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    coefficients = np.asarray([(-1) ** i * float(w) for i, w in enumerate(a)], dtype=np.float64)
    if coefficients.size == 0:
        raise ValueError("Coefficients cannot be empty")
    k = 2 * np.pi * np.arange(M) / _denominator(M, sym)                        # (M,)
    orders = np.arange(coefficients.size)[:, None]                              # (terms, 1)
    values = (coefficients[:, None] * np.cos(orders * k[None, :])).sum(0)       # (terms, M) -> (M,)
    return _tensor(values, dtype, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / d)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """0.54 - 0.46 cos(2 pi n / d)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / d)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / d) + 0.08 cos(4 pi n / d)."""
    _checks("blackman", M, dtype, layout, device)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """Nuttall's 4-term Blackman-Harris window (general_cosine with his coefficients)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """1 - |2 n / d - 1|: a triangle, 0 at n = 0."""
    dtype = _checks("bartlett", M, dtype, layout, device)
    if M <= 1:
        return _tensor(np.ones(M), dtype, requires_grad)
    return _tensor(1 - np.abs(2 * np.arange(M) / _denominator(M, sym) - 1), dtype, requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sin(pi (n + 0.5) / (d + 1)), the sine window (SciPy's definition)."""
    dtype = _checks("cosine", M, dtype, layout, device)
    length = M + 1 if not sym and M > 1 else M
    return _tensor(np.sin(np.pi * (np.arange(M) + 0.5) / builtins.max(length, 1)), dtype, requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """exp(-(n - d / 2)^2 / (2 std^2))."""
    dtype = _checks("gaussian", M, dtype, layout, device)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    centre = (M if not sym and M > 1 else M - 1) / 2.0
    return _tensor(np.exp(-((np.arange(M) - centre) / std) ** 2 / 2), dtype, requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau), the Poisson window; center = d / 2 unless given (sym=False only)."""
    dtype = _checks("exponential", M, dtype, layout, device)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    return _tensor(np.exp(-np.abs(np.arange(M) - center) / tau), dtype, requires_grad)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2 n / d - 1)^2)) / I0(beta), I0 the modified Bessel function of order 0."""
    dtype = _checks("kaiser", M, dtype, layout, device)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _tensor(np.ones(M), dtype, requires_grad)
    ratio = np.minimum(2 * np.arange(M) / _denominator(M, sym) - 1, 1.0)      # in [-1, 1]
    return _tensor(np.i0(beta * np.sqrt(np.clip(1 - ratio ** 2, 0, None))) / np.i0(beta), dtype, requires_grad)
