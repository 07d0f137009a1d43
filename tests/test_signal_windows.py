"""minigrad.signal.windows against scipy.signal.windows (torch.signal.windows' reference)."""
import numpy as np
import pytest
import scipy.signal.windows as sw

import minigrad
from minigrad.signal import windows

CASES = [
    ("bartlett", {}, lambda M, sym: sw.bartlett(M, sym=sym)),
    ("blackman", {}, lambda M, sym: sw.blackman(M, sym=sym)),
    ("cosine", {}, lambda M, sym: sw.cosine(M, sym=sym)),
    ("exponential", {}, lambda M, sym: sw.exponential(M, tau=1.0, sym=sym)),
    ("exponential", {"tau": 2.5}, lambda M, sym: sw.exponential(M, tau=2.5, sym=sym)),
    ("gaussian", {}, lambda M, sym: sw.gaussian(M, std=1.0, sym=sym)),
    ("gaussian", {"std": 0.7}, lambda M, sym: sw.gaussian(M, std=0.7, sym=sym)),
    ("general_cosine", {"a": [0.3, 0.2, 0.1]}, lambda M, sym: sw.general_cosine(M, [0.3, 0.2, 0.1], sym=sym)),
    ("general_hamming", {}, lambda M, sym: sw.general_hamming(M, 0.54, sym=sym)),
    ("general_hamming", {"alpha": 0.6}, lambda M, sym: sw.general_hamming(M, 0.6, sym=sym)),
    ("hamming", {}, lambda M, sym: sw.hamming(M, sym=sym)),
    ("hann", {}, lambda M, sym: sw.hann(M, sym=sym)),
    ("kaiser", {}, lambda M, sym: sw.kaiser(M, 12.0, sym=sym)),
    ("kaiser", {"beta": 3.0}, lambda M, sym: sw.kaiser(M, 3.0, sym=sym)),
    ("nuttall", {}, lambda M, sym: sw.nuttall(M, sym=sym)),
]


@pytest.mark.parametrize("name,kwargs,reference", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
@pytest.mark.parametrize("sym", [True, False])
def test_against_scipy(name, kwargs, reference, sym):
    for M in range(0, 12):
        w = getattr(windows, name)(M, sym=sym, dtype=minigrad.float64, **kwargs)
        assert w.dtype == minigrad.float64 and tuple(w.shape) == (M,)
        np.testing.assert_allclose(w.numpy(), reference(M, sym), rtol=1e-12, atol=1e-14)
    w32 = getattr(windows, name)(9, sym=sym, **kwargs)  # default dtype: float32
    assert w32.dtype == minigrad.float32
    np.testing.assert_allclose(w32.numpy(), reference(9, sym), rtol=1e-6, atol=1e-7)


def test_closed_forms():
    # hann(5) symmetric: 0.5 - 0.5 cos(2 pi n / 4) = [0, .5, 1, .5, 0]; periodic divides by 5.
    np.testing.assert_allclose(windows.hann(5, dtype=minigrad.float64).numpy(), [0, 0.5, 1, 0.5, 0], atol=1e-15)
    n = np.arange(4)
    np.testing.assert_allclose(windows.hann(4, sym=False, dtype=minigrad.float64).numpy(),
                               0.5 - 0.5 * np.cos(2 * np.pi * n / 4), atol=1e-15)
    np.testing.assert_allclose(windows.bartlett(5, dtype=minigrad.float64).numpy(), [0, 0.5, 1, 0.5, 0])
    # A periodic exponential window may be centred anywhere.
    np.testing.assert_allclose(windows.exponential(6, sym=False, center=1.5, tau=0.5, dtype=minigrad.float64).numpy(),
                               np.exp(-np.abs(np.arange(6) - 1.5) / 0.5))
    # sym=True is not the top-level family's periodic default.
    assert not np.allclose(windows.hann(8).numpy(), minigrad.hann_window(8).numpy())
    np.testing.assert_allclose(windows.hann(8, sym=False).numpy(), minigrad.hann_window(8).numpy(), atol=1e-7)


def test_requires_grad():
    w = windows.hamming(6, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_errors():
    with pytest.raises(ValueError, match="requires non-negative window length, got M=-1"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
        windows.hann(4, dtype=minigrad.int64)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
        windows.bartlett(4, dtype=minigrad.float16)
    with pytest.raises(ValueError, match="implemented for strided tensors only"):
        windows.cosine(4, layout="sparse")
    with pytest.raises(TypeError, match="argument 'M' must be int"):
        windows.kaiser(3.5)
    with pytest.raises(ValueError, match="Standard deviation must be positive, got: 0"):
        windows.gaussian(4, std=0)
    with pytest.raises(ValueError, match="Tau must be positive"):
        windows.exponential(4, tau=-1.0)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        windows.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        windows.kaiser(4, beta=-1.0)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        windows.general_cosine(4, a=[])
    with pytest.raises(TypeError, match="Coefficients must be a list/tuple"):
        windows.general_cosine(4, a=3)
    with pytest.raises(TypeError):
        windows.hann(4, True)  # sym is keyword-only, as in torch
