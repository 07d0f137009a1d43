"""Window functions (minigrad/ops/windows.py) against scipy.signal.get_window and the closed
forms; histogramdd against numpy.histogramdd; binomial's mean and variance with a fixed
seed; lu_unpack's P L U = A and its gradient (minigrad/ops/histogramdd_binomial_lu.py)."""
import numpy as np
import pytest
import scipy.linalg
import scipy.signal

import minigrad as mg

WINDOWS = [("hann_window", "hann"), ("hamming_window", "hamming"), ("blackman_window", "blackman"),
           ("bartlett_window", "bartlett"), ("kaiser_window", ("kaiser", 12.0))]


# ---------------------------------------------------------------------- windows
@pytest.mark.parametrize("name, scipy_name", WINDOWS)
@pytest.mark.parametrize("length", [2, 3, 8, 17])
def test_windows_match_scipy(name, scipy_name, length):
    window = getattr(mg, name)
    periodic = window(length, dtype=mg.float64)                  # periodic=True is the default
    np.testing.assert_allclose(periodic.numpy(), scipy.signal.get_window(scipy_name, length, fftbins=True),
                               rtol=1e-12, atol=1e-14)
    symmetric = window(length, False, dtype=mg.float64)
    np.testing.assert_allclose(symmetric.numpy(), scipy.signal.get_window(scipy_name, length, fftbins=False),
                               rtol=1e-12, atol=1e-14)


def test_window_parameters_closed_forms():
    n = np.arange(9)
    np.testing.assert_allclose(mg.hamming_window(9, False, 0.6, 0.3, dtype=mg.float64).numpy(),
                               0.6 - 0.3 * np.cos(2 * np.pi * n / 8), rtol=1e-12)
    np.testing.assert_allclose(mg.hamming_window(8, True, alpha=0.5, beta=0.5, dtype=mg.float64).numpy(),
                               scipy.signal.get_window("hann", 8), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mg.kaiser_window(9, False, 5.0, dtype=mg.float64).numpy(),
                               np.kaiser(9, 5.0), rtol=1e-12)
    np.testing.assert_allclose(mg.kaiser_window(8, beta=3.0, dtype=mg.float64).numpy(),
                               np.kaiser(9, 3.0)[:8], rtol=1e-12)
    np.testing.assert_allclose(mg.bartlett_window(5, False).numpy(), [0, 0.5, 1, 0.5, 0], atol=1e-7)


@pytest.mark.parametrize("name", [w for w, _ in WINDOWS])
def test_window_dtypes_lengths_and_grad_flag(name):
    window = getattr(mg, name)
    assert window(6).dtype == mg.float32
    assert window(6, dtype=mg.float64).dtype == mg.float64
    mg.set_default_dtype(mg.float64)
    try:
        assert window(6).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert tuple(window(0).shape) == (0,)
    np.testing.assert_array_equal(window(1).numpy(), [1.0])
    np.testing.assert_array_equal(window(1, False).numpy(), [1.0])
    leaf = window(5, requires_grad=True)
    assert leaf.requires_grad and leaf.grad_fn is None
    (leaf * 2).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), 2.0)
    with pytest.raises(RuntimeError, match="non-negative window_length, got window_length=-1"):
        window(-1)
    with pytest.raises(RuntimeError, match="expects floating point dtypes"):
        window(4, dtype=mg.int64)
    with pytest.raises(TypeError, match="window_length"):
        window(4.0)
    with pytest.raises(RuntimeError, match="CPU only"):
        window(4, device="cuda")


# ------------------------------------------------------------------ histogramdd
def check_against_numpy(points, bins, **kwargs):
    minigrad_kwargs = dict(kwargs)
    numpy_kwargs = dict(kwargs)
    if "weight" in kwargs:
        minigrad_kwargs["weight"] = mg.tensor(kwargs["weight"])
        numpy_kwargs["weights"] = numpy_kwargs.pop("weight").reshape(-1)
    if "range" in kwargs:
        flat = kwargs["range"]
        numpy_kwargs["range"] = [flat[i:i + 2] for i in range(0, len(flat), 2)]
    minigrad_bins = [mg.tensor(b) for b in bins] if isinstance(bins, list) and isinstance(bins[0], np.ndarray) \
        else bins
    hist, edges = mg.histogramdd(mg.tensor(points), minigrad_bins, **minigrad_kwargs)
    expected, expected_edges = np.histogramdd(points.reshape(-1, points.shape[-1]), bins, **numpy_kwargs)
    np.testing.assert_allclose(hist.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert hist.dtype == mg.tensor(points).dtype
    assert len(edges) == len(expected_edges)
    for got, want in zip(edges, expected_edges):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)


def test_histogramdd_against_numpy(rng):
    points = rng.standard_normal((200, 3))
    check_against_numpy(points, 4)
    check_against_numpy(points, [2, 3, 5])
    check_against_numpy(points, 3, range=[-1.0, 1.0, -2.0, 2.0, 0.0, 1.0])
    check_against_numpy(points, [3, 4, 2], weight=rng.random(200), density=True)
    check_against_numpy(points, 5, density=True)
    check_against_numpy(points[:, :1], 6)
    edges = [np.array([-1.0, 0.0, 0.5, 2.0]), np.array([-3.0, 3.0]), np.array([-0.5, 0.0, 0.5])]
    check_against_numpy(points, edges)
    check_against_numpy(points.reshape(20, 10, 3), 3, weight=rng.random((20, 10)))


def test_histogramdd_edges_and_return_type():
    points = mg.tensor(np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 1.0], [2.0, 0.0]]))
    result = mg.histogramdd(points, [2, 2], range=[0.0, 1.0, 0.0, 1.0])
    assert result.hist is result[0] and result.bin_edges is result[1]
    # (2, 0) is outside; the right edge 1.0 falls in the last bin of its axis
    np.testing.assert_array_equal(result.hist.numpy(), [[1, 0], [0, 2]])
    constant = mg.histogramdd(mg.tensor(np.full((3, 1), 2.0, np.float32)), 2)
    np.testing.assert_allclose(constant.bin_edges[0].numpy(), [1.5, 2.0, 2.5])
    assert constant.hist.dtype == mg.float32 and not constant.hist.requires_grad


def test_histogramdd_errors(rng):
    points = mg.tensor(rng.standard_normal((10, 3)))
    with pytest.raises(RuntimeError, match="size of bins must be equal"):
        mg.histogramdd(points, [2, 3])
    with pytest.raises(RuntimeError, match="range should have 6 elements, but got 2"):
        mg.histogramdd(points, 4, range=[0.0, 1.0])
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0"):
        mg.histogramdd(points, 0)
    with pytest.raises(RuntimeError, match="weight"):
        mg.histogramdd(points, 4, weight=mg.ones(9, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.histogramdd(mg.tensor(rng.standard_normal(10)), 4)
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        mg.histogramdd(points, 2, range=[1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    with pytest.raises(NotImplementedError, match="int64"):
        mg.histogramdd(mg.tensor(np.ones((3, 2), np.int64)), 2)


# --------------------------------------------------------------------- binomial
def test_binomial_statistics_with_a_fixed_seed():
    count = mg.tensor(np.repeat([[5.0], [40.0]], 20000, axis=1))          # (2, 20000)
    prob = mg.tensor(np.repeat([[0.3], [0.85]], 20000, axis=1))
    draws = mg.binomial(count, prob, generator=mg.Generator().manual_seed(1)).numpy()
    assert draws.dtype == np.float64 and draws.shape == (2, 20000)      # count's dtype
    assert np.all(draws == np.round(draws)) and np.all(draws >= 0) and np.all(draws <= count.numpy())
    mean, var = np.array([5 * 0.3, 40 * 0.85]), np.array([5 * 0.3 * 0.7, 40 * 0.85 * 0.15])
    np.testing.assert_allclose(draws.mean(1), mean, rtol=0.02)
    np.testing.assert_allclose(draws.var(1), var, rtol=0.05)
    again = mg.binomial(count, prob, generator=mg.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(draws, again)
    mg.manual_seed(3)
    first = mg.binomial(count, prob).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, mg.binomial(count, prob).numpy())


def test_binomial_edges_broadcasting_and_errors():
    count = mg.tensor(np.array([0.0, 7.0, 7.0], np.float64))
    edges = mg.binomial(count, mg.tensor(np.array([0.5, 0.0, 1.0])))
    np.testing.assert_array_equal(edges.numpy(), [0, 0, 7])
    assert edges.dtype == mg.float64
    assert tuple(mg.binomial(count, mg.tensor(np.array([0.5]))).shape) == (3,)
    with pytest.raises(ValueError, match="floating-point dtypes for count"):
        mg.binomial(mg.tensor(np.array([3])), mg.tensor(np.array([0.5])))
    with pytest.raises(RuntimeError, match="float64"):
        mg.binomial(mg.ones(2), mg.tensor(np.array([0.5, 0.5])))
    with pytest.raises(ValueError, match="prob must lie in"):
        mg.binomial(count, mg.tensor(np.array([0.5, 1.5, 0.2])))
    with pytest.raises(ValueError, match="count must hold"):
        mg.binomial(mg.tensor(np.array([-1.0])), mg.tensor(np.array([0.5])))


# -------------------------------------------------------------------- lu_unpack
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 2, 4)])
def test_lu_unpack_reconstructs(rng, shape):
    A = rng.standard_normal(shape)
    LU, pivots = mg.linalg.lu_factor(mg.tensor(A))
    P, L, U = mg.lu_unpack(LU, pivots)
    k = min(shape[-2:])
    assert tuple(P.shape) == shape[:-2] + (shape[-2], shape[-2])
    assert tuple(L.shape) == shape[:-2] + (shape[-2], k) and tuple(U.shape) == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose(P.numpy() @ L.numpy() @ U.numpy(), A, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.tril(L.numpy(), -1) + np.eye(shape[-2], k), L.numpy())
    np.testing.assert_allclose(np.triu(U.numpy()), U.numpy())
    # P is a permutation matrix; compare with SciPy's factorization
    np.testing.assert_allclose(P.numpy().sum(-1), 1.0)
    P0, L0, U0 = scipy.linalg.lu(A.reshape((-1,) + shape[-2:])[0])
    np.testing.assert_allclose(L.numpy().reshape((-1,) + L.shape[-2:])[0], L0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(U.numpy().reshape((-1,) + U.shape[-2:])[0], U0, rtol=1e-10, atol=1e-12)


def test_lu_unpack_flags_and_gradient(rng):
    A = rng.standard_normal((2, 4, 3))
    LU, pivots = mg.linalg.lu_factor(mg.tensor(A))
    result = mg.lu_unpack(LU, pivots, unpack_data=False)
    assert tuple(result.P.shape) == (2, 4, 4) and tuple(result.L.shape) == (0,) and tuple(result.U.shape) == (0,)
    result = mg.lu_unpack(LU, pivots, unpack_pivots=False)
    assert tuple(result.P.shape) == (0,) and tuple(result.L.shape) == (2, 4, 3)
    leaf = mg.tensor(LU.numpy(), requires_grad=True)
    assert mg.gradcheck(lambda lu: mg.lu_unpack(lu, pivots)[1:], (leaf,))
    _, L, U = mg.lu_unpack(leaf, pivots)
    (L.sum() + 2 * U.sum()).backward()
    expected = np.broadcast_to(np.tril(np.ones((4, 3)), -1) + 2 * np.triu(np.ones((4, 3))), (2, 4, 3))
    np.testing.assert_allclose(leaf.grad.numpy(), expected)
    # end to end: the gradient of sum(P L U) with respect to A through lu_factor
    source = mg.tensor(A, requires_grad=True)
    assert mg.gradcheck(lambda a: mg.lu_unpack(*mg.linalg.lu_factor(a))[1], (source,))


def test_lu_unpack_errors(rng):
    LU, pivots = mg.linalg.lu_factor(mg.tensor(rng.standard_normal((3, 3))))
    with pytest.raises(RuntimeError, match="int32"):
        mg.lu_unpack(LU, pivots.long())
    with pytest.raises(RuntimeError, match="2 or more dimensions"):
        mg.lu_unpack(LU[0], pivots)
    with pytest.raises(RuntimeError, match="should have shape"):
        mg.lu_unpack(LU, pivots[:2])
    with pytest.raises(RuntimeError, match="between 1 and LU.size"):
        mg.lu_unpack(LU, mg.tensor(np.array([1, 5, 3], np.int32)))
    with pytest.raises(TypeError):
        mg.lu_unpack(LU.numpy(), pivots)


# ------------------------------------------------------------------ stft, istft
def stft_reference(x, n_fft, hop, window, center, pad_mode, onesided):
    """Frames of the padded signal times the window, then numpy's FFT per frame: (freq, frames, 2)."""
    if center:
        x = np.pad(x, n_fft // 2, mode={"reflect": "reflect", "constant": "constant"}[pad_mode])
    n_frames = 1 + (len(x) - n_fft) // hop
    frames = np.stack([x[m * hop:m * hop + n_fft] * window for m in range(n_frames)])
    spectrum = np.fft.rfft(frames, axis=-1) if onesided else np.fft.fft(frames, axis=-1)
    return np.stack([spectrum.real, spectrum.imag], -1).transpose(1, 0, 2)


@pytest.mark.parametrize("n_fft, hop, win_length, center, pad_mode, onesided", [
    (8, None, None, True, "reflect", None), (16, 3, 11, True, "constant", True),
    (9, 2, 9, False, "reflect", True), (8, 2, 6, True, "reflect", False)])
def test_stft_against_numpy_fft(rng, n_fft, hop, win_length, center, pad_mode, onesided):
    x = rng.standard_normal((2, 41))
    length = win_length or n_fft
    window = scipy.signal.get_window("hann", length)
    full_window = np.zeros(n_fft)
    full_window[(n_fft - length) // 2:(n_fft - length) // 2 + length] = window   # centred in n_fft
    out = mg.stft(mg.tensor(x), n_fft, hop, win_length, mg.tensor(window), center, pad_mode,
                  onesided=onesided, return_complex=False)
    for b in range(2):
        expected = stft_reference(x[b], n_fft, hop or n_fft // 4, full_window, center, pad_mode,
                                  onesided is not False)
        np.testing.assert_allclose(out.numpy()[b], expected, rtol=1e-10, atol=1e-10)
    single = mg.tensor(x[0]).stft(n_fft, hop, win_length, mg.tensor(window), center, pad_mode,
                                  onesided=onesided, return_complex=False)
    np.testing.assert_allclose(single.numpy(), out.numpy()[0], rtol=1e-12)


def test_stft_default_window_normalized_and_gradient(rng):
    x = rng.standard_normal(30)
    out = mg.stft(mg.tensor(x), 8, return_complex=False, normalized=True)
    expected = stft_reference(x, 8, 2, np.ones(8), True, "reflect", True) / np.sqrt(8)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    window = mg.hann_window(8, dtype=mg.float64)
    leaf = mg.tensor(rng.standard_normal((2, 25)), requires_grad=True)
    assert mg.gradcheck(lambda a: mg.stft(a, 8, 3, window=window, return_complex=False), (leaf,))


@pytest.mark.parametrize("n_fft, hop, onesided, center", [(8, 2, True, True), (9, 3, True, True),
                                                          (8, 2, False, True), (16, 4, True, False)])
def test_istft_inverts_stft(rng, n_fft, hop, onesided, center):
    x = rng.standard_normal((3, 48))
    # uncentred, the first sample is in one frame only, so the window must not vanish there (hamming)
    window = (mg.hann_window if center else mg.hamming_window)(n_fft, dtype=mg.float64)
    spectrum = mg.stft(mg.tensor(x), n_fft, hop, window=window, center=center, onesided=onesided,
                       return_complex=False)
    back = mg.istft(spectrum, n_fft, hop, window=window, center=center, onesided=onesided, length=48)
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-10, atol=1e-10)
    single = spectrum[0].istft(n_fft, hop, window=window, center=center, onesided=onesided, length=48)
    np.testing.assert_allclose(single.numpy(), back.numpy()[0], rtol=1e-12)


def test_istft_lengths_normalized_and_gradient(rng):
    x = rng.standard_normal(40)
    window = mg.hann_window(8, dtype=mg.float64)
    spectrum = mg.stft(mg.tensor(x), 8, 2, window=window, normalized=True, return_complex=False)
    np.testing.assert_allclose(mg.istft(spectrum, 8, 2, window=window, normalized=True).numpy(), x, rtol=1e-10)
    np.testing.assert_allclose(mg.istft(spectrum, 8, 2, window=window, normalized=True, length=35).numpy(),
                               x[:35], rtol=1e-10)
    with pytest.warns(UserWarning, match="shorter than the length"):
        longer = mg.istft(spectrum, 8, 2, window=window, normalized=True, length=45)
    # as torch: the frames reach 4 samples past the signal (into its reflected padding), then zeros
    assert tuple(longer.shape) == (45,)
    np.testing.assert_allclose(longer.numpy()[:40], x, rtol=1e-10)
    np.testing.assert_allclose(longer.numpy()[40:44], x[38:34:-1], rtol=1e-10)   # reflect: x[38], x[37], ...
    assert longer.numpy()[44] == 0
    leaf = mg.tensor(spectrum.numpy(), requires_grad=True)
    assert mg.gradcheck(lambda s: mg.istft(s, 8, 2, window=window, length=40), (leaf,))


def test_stft_istft_errors(rng):
    x = mg.tensor(rng.standard_normal(20))
    with pytest.raises(RuntimeError, match="return_complex parameter be given"):
        mg.stft(x, 8)
    with pytest.raises(RuntimeError, match="no complex dtype|does not have"):
        mg.stft(x, 8, return_complex=True)
    with pytest.raises(RuntimeError, match="window tensor of size equal to win_length=8"):
        mg.stft(x, 8, window=mg.ones(5, dtype=mg.float64), return_complex=False)
    with pytest.raises(RuntimeError, match="hop_length > 0, but got hop_length=0"):
        mg.stft(x, 8, hop_length=0, return_complex=False)
    with pytest.raises(RuntimeError, match="0 < win_length <= n_fft, but got win_length=9"):
        mg.stft(x, 8, win_length=9, return_complex=False)
    with pytest.raises(RuntimeError, match="1D or 2D"):
        mg.stft(x.reshape(2, 2, 5), 4, return_complex=False)
    with pytest.raises(RuntimeError, match="n_fft"):
        mg.stft(x, 30, center=False, return_complex=False)
    spectrum = mg.stft(x, 8, return_complex=False)
    with pytest.raises(RuntimeError, match="overlap add min"):
        mg.istft(spectrum, 8, window=mg.zeros(8, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="frequency dimension"):
        mg.istft(spectrum, 16)
    with pytest.raises(RuntimeError, match=r"\(\.\.\., freq, frames, 2\)"):
        mg.istft(spectrum[..., 0], 8)
    with pytest.raises(RuntimeError, match="complex dtype"):
        mg.istft(spectrum, 8, return_complex=True)
