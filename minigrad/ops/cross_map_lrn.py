"""CrossMapLRN2d's op: local response normalisation across channels, as PyTorch computes it.

    scale[n, c] = k + alpha / size * sum over j in S(c) of x[n, j]^2
    output[n, c] = x[n, c] * scale[n, c]^(-beta)

S(c) is the channel window of PyTorch's sliding sum (torch/nn/modules/_functions.py):
it starts as channels 0 .. pre_pad - 1 (pre_pad = int((size - 1) / 2 + 1)), moving to
channel c adds channel c + pre_pad - 1 and, once c > pre_pad, drops channel
c - pre_pad. Channel 0 is therefore never dropped (a quirk of PyTorch's port of
Lua torch's 1-based loop; F.local_response_norm uses the symmetric window instead).
minigrad computes exactly that forward; its backward is the true gradient of it
(PyTorch's hand-written backward assumes the symmetric window and fails gradcheck).
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.tensor import Tensor


def window_matrix(channels, size):
    """(C, C) 0/1 matrix: row c marks the channels S(c) whose squares scale[c] sums."""
    pre_pad = int((size - 1) / 2 + 1)
    window = np.zeros((channels, channels))
    window[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):          # a loop over channels, following PyTorch's recursion
        window[c] = window[c - 1]
        if c < channels - pre_pad + 1:
            window[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            window[c, c - pre_pad] -= 1
    return window


class CrossMapLRN(Function):
    """output = x * scale^-beta; grad_x[j] = g[j] scale[j]^-beta
    - 2 beta alpha / size * x[j] * sum_c window[c, j] g[c] x[c] scale[c]^(-beta - 1)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        window = window_matrix(input.shape[1], size).astype(input.dtype)
        sums = np.einsum("cj,njhw->nchw", window, input * input)          # (N, C, H, W)
        scale = input.dtype.type(k) + input.dtype.type(alpha / size) * sums
        ctx.save_for_backward(input, scale)
        ctx.window, ctx.size, ctx.alpha, ctx.beta, ctx.k = window, size, alpha, beta, k
        return input * scale ** input.dtype.type(-beta)

    @staticmethod
    def backward(ctx, grad_output):
        input, scale = ctx.saved_tensors
        beta = ctx.beta
        through_scale = grad_output * input * scale ** (-beta - 1)         # dL/d scale[c] * (-1 / beta)
        spread = np.einsum("cj,nchw->njhw", ctx.window, through_scale)     # back to the channels summed
        grad = grad_output * scale ** -beta - (2 * beta * ctx.alpha / ctx.size) * input * spread
        return grad.astype(grad_output.dtype), None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad_output):
        # The same formula with Tensor ops, scale recomputed from the input (it depends on it)
        from minigrad.ops.elementwise import _constant
        from minigrad.ops.linalg import matmul
        input = ctx.saved_tensors[0]
        window = _constant(ctx.window)                                      # (C, C)

        def channels_last(t):                                              # (N, C, H, W) -> (N, H, W, C)
            return t.permute(0, 2, 3, 1)

        def channels_first(t):
            return t.permute(0, 3, 1, 2)

        # sums[n, c] = sum_j window[c, j] x[n, j]^2: (N, H, W, C) @ window^T
        sums = channels_first(matmul(channels_last(input * input), window.transpose(0, 1)))
        scale = sums * (ctx.alpha / ctx.size) + ctx.k
        beta = ctx.beta
        through_scale = grad_output * input * scale ** (-beta - 1)
        spread = channels_first(matmul(channels_last(through_scale), window))  # sum_c window[c, j] t[c]
        grad = grad_output * scale ** -beta - input * spread * (2 * beta * ctx.alpha / ctx.size)
        return grad, None, None, None, None


def cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1):
    """CrossMapLRN2d's forward on (N, C, H, W) (see the module docstring for the window)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"CrossMapLRN2d: input must be a Tensor, got {type(input).__name__}")
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"CrossMapLRN2d: expected a float32 or float64 input, got {input.dtype}")
    return CrossMapLRN.apply(input, size, alpha, beta, k)
