"""Short-time Fourier transform (torch.stft) and its inverse (torch.istft).

minigrad has no complex dtype, so a spectrum is held as torch.view_as_real
holds it: a last axis of 2, (real, imaginary). stft(..., return_complex=False)
returns that layout and istft reads it; return_complex=True is an error.

stft: frame m of the (centred, padded) signal x starts at m * hop, and

    X[f, m] = sum_k w[k] x[m hop + k] exp(-2 pi i f k / n_fft)

with w the window (win_length long, zero-padded to n_fft in the middle).
Each frame's DFT is a product with the cosine and sine matrices, so the
gradient is the chain rule through frames -> matmul.

istft: each frame's inverse DFT (only the real part: the signal is real),
times the window, summed where the frames overlap, divided by the summed
squared window (the overlap-add inverse; the window must not vanish there):

    y[t] = sum_m w[t - m hop] frame_m[t - m hop] / sum_m w[t - m hop]^2
"""
import builtins
import warnings

import numpy as np

from minigrad.autograd import Function
from minigrad.nn import functional as F
from minigrad.ops.linalg import matmul
from minigrad.ops.shape import stack
from minigrad.tensor import Tensor


class OverlapAdd(Function):
    """out[..., m * hop + k] += frames[..., m, k]; the gradient reads the frames back out."""

    @staticmethod
    def forward(ctx, frames, hop, length):
        n_frames, n_fft = frames.shape[-2:]
        positions = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)   # (frames, n_fft)
        ctx.positions = positions
        out = np.zeros(frames.shape[:-2] + (length,), frames.dtype)
        flat_out = out.reshape(-1, length)                                  # (batch, length)
        flat_frames = frames.reshape(-1, n_frames * n_fft)                  # (batch, frames*n_fft)
        for b in range(flat_out.shape[0]):
            np.add.at(flat_out[b], positions.reshape(-1), flat_frames[b])
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[..., ctx.positions], None, None

    @staticmethod
    def backward_graph(ctx, grad):
        from minigrad.ops.shape import GetItem
        return GetItem.apply(grad, (Ellipsis, ctx.positions)), None, None


def _check_common(name, input, n_fft, hop_length, win_length, window, signal_length):
    """(hop_length, win_length, window array of n_fft) with torch's defaults and checks."""
    if isinstance(n_fft, builtins.bool) or not isinstance(n_fft, (builtins.int, np.integer)):
        raise TypeError(f"{name}(): argument 'n_fft' must be int, not {type(n_fft).__name__}")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if not 0 < n_fft <= signal_length:
        raise RuntimeError(f"{name}: expected 0 < n_fft <= {signal_length} (the signal's length), but got "
                           f"n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is None:
        values = np.ones(win_length, input.dtype)
    else:
        if not isinstance(window, Tensor) or window.ndim != 1 or window.shape[0] != win_length:
            shape = list(window.shape) if isinstance(window, Tensor) else type(window).__name__
            raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length={win_length}, "
                               f"but got window with size {shape}")
        values = window.array.astype(input.dtype)
    left = (n_fft - win_length) // 2
    padded = np.zeros(n_fft, input.dtype)
    padded[left:left + win_length] = values                       # the window centred in n_fft
    return hop_length, padded


def _dft_matrices(n_fft, n_freq, dtype):
    """cos and sin of 2 pi f k / n_fft, both (n_fft, n_freq): row k, column f."""
    angle = 2 * np.pi * np.outer(np.arange(n_fft), np.arange(n_freq)) / n_fft
    return np.cos(angle).astype(dtype), np.sin(angle).astype(dtype)


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None):
    """X (*, freq, frames, 2) of a signal input (L) or (B, L); freq = n_fft // 2 + 1 when onesided
    (the default), n_fft otherwise; frames = 1 + (L' - n_fft) // hop, L' = L + 2 (n_fft // 2) when
    centred (padded with pad_mode) and L otherwise. normalized: X / sqrt(n_fft)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' must be Tensor, not {type(input).__name__}")
    if return_complex is None:
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs; minigrad has "
                           "no complex dtype, so pass return_complex=False for the (..., 2) real layout")
    if return_complex:
        raise RuntimeError("stft: return_complex=True needs a complex dtype, which minigrad does not have; "
                           "use return_complex=False: the last axis of 2 holds (real, imaginary)")
    if input.dtype.kind != "f":
        raise RuntimeError(f"stft: expected a floating point input, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, got shape {tuple(input.shape)}")
    batched = input.ndim == 2
    signal = input if batched else input.reshape(1, -1)            # (B, L)
    if center:
        half = n_fft // 2 if isinstance(n_fft, (builtins.int, np.integer)) else 0
        if pad_mode not in ("reflect", "constant", "replicate", "circular"):
            raise RuntimeError(f"stft: pad_mode must be 'reflect', 'constant', 'replicate' or 'circular', "
                               f"got {pad_mode!r}")
        if pad_mode == "reflect" and half >= signal.shape[-1]:
            raise RuntimeError(f"stft: reflect padding of {half} needs a signal longer than that, got length "
                               f"{signal.shape[-1]}")
        signal = F.pad(signal.reshape(signal.shape[0], 1, -1), (half, half), pad_mode).reshape(signal.shape[0], -1)
    hop, window_values = _check_common("stft", input, n_fft, hop_length, win_length, window, signal.shape[-1])
    onesided = True if onesided is None else onesided
    n_freq = n_fft // 2 + 1 if onesided else n_fft
    n_frames = 1 + (signal.shape[-1] - n_fft) // hop
    positions = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)     # (frames, n_fft)
    frames = signal[:, positions] * Tensor(window_values)               # (B, frames, n_fft)
    cos, sin = _dft_matrices(n_fft, n_freq, input.dtype)
    real = matmul(frames, Tensor(cos))                                  # (B, frames, freq)
    imag = matmul(frames, Tensor(-sin))
    spectrum = stack([real, imag], -1).transpose(1, 2)                  # (B, freq, frames, 2)
    if normalized:
        spectrum = spectrum * float(n_fft) ** -0.5
    return spectrum if batched else spectrum.reshape(spectrum.shape[1:])


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The signal (L) or (B, L) whose stft is input (*, freq, frames, 2) (the layout stft returns);
    length: trim or zero-pad the result to this many samples."""
    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' must be Tensor, not {type(input).__name__}")
    if return_complex:
        raise RuntimeError("istft: return_complex=True needs a complex dtype, which minigrad does not have")
    if input.dtype.kind != "f" or input.ndim not in (3, 4) or input.shape[-1] != 2:
        raise RuntimeError(f"istft: expected a real (..., freq, frames, 2) spectrum (stft's return_complex="
                           f"False layout), (freq, frames, 2) or (B, freq, frames, 2); got shape "
                           f"{tuple(input.shape)} of {input.dtype}")
    batched = input.ndim == 4
    spectrum = input if batched else input.reshape((1,) + tuple(input.shape))   # (B, freq, frames, 2)
    n_freq, n_frames = spectrum.shape[1:3]
    onesided = (n_freq != n_fft) if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft / 2 + 1 when onesided=True, or n_fft otherwise, got {n_freq} for "
                           f"n_fft={n_fft}, onesided={onesided}")
    hop, window_values = _check_common("istft", input, n_fft, hop_length, win_length, window, n_fft)
    # each frame's inverse DFT: x[k] = (1/n_fft) sum_f c_f (Re X_f cos - Im X_f sin), c_f = 2 for
    # the frequencies whose mirror image a onesided spectrum leaves out, 1 otherwise
    weights = np.ones(n_freq)
    if onesided:
        weights[1:(n_fft + 1) // 2] = 2.0
    cos, sin = _dft_matrices(n_fft, n_freq, np.float64)
    inverse_cos = Tensor((cos * weights).T.astype(input.dtype) / n_fft)         # (freq, n_fft)
    inverse_sin = Tensor((-sin * weights).T.astype(input.dtype) / n_fft)
    real, imag = spectrum[..., 0].transpose(1, 2), spectrum[..., 1].transpose(1, 2)   # (B, frames, freq)
    frames = matmul(real, inverse_cos) + matmul(imag, inverse_sin)               # (B, frames, n_fft)
    if normalized:
        frames = frames * float(n_fft) ** 0.5
    frames = frames * Tensor(window_values)
    total = n_fft + hop * (n_frames - 1)
    signal = OverlapAdd.apply(frames, hop, total)                               # (B, total)
    envelope = np.zeros(total, np.float64)
    np.add.at(envelope, (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1),
              np.tile(window_values.astype(np.float64) ** 2, n_frames))
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center and length is None else total
    if length is not None:
        end = builtins.min(start + length, total)
    if np.abs(envelope[start:end]).min(initial=np.inf) < 1e-11:
        raise RuntimeError(f"istft: window overlap add min: {np.abs(envelope[start:end]).min()} (the summed "
                           f"squared window must be nonzero everywhere for the inverse to exist)")
    signal = signal[:, start:end] / Tensor(envelope[start:end].astype(input.dtype))
    if length is not None and signal.shape[-1] < length:
        warnings.warn("istft: The length of signal is shorter than the length parameter. Result is being "
                      "padded with zeros in the tail.", UserWarning, stacklevel=2)
        signal = F.pad(signal, (0, length - signal.shape[-1]))
    return signal if batched else signal.reshape(-1)
