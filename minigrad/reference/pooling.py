"""Readable NumPy references for pooling (the specification of csrc/pooling.pyx).

Inputs are (N, C, *spatial) with any number of spatial dimensions. Each
function loops over output positions (vectorised over N and C) and spells
out which input positions a window reads, so it is slow but obviously right.
Max pooling's indices are flat positions in each input plane
(np.ravel_multi_index over the spatial shape), as PyTorch returns them.

Under minigrad.use_reference_kernels() the kernel boundary
(minigrad/kernels/pooling.py) runs these functions instead of the kernels.
"""
import itertools
import math

import numpy as np


def output_size(in_size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """PyTorch's pooling output length along one dimension."""
    effective = dilation * (kernel - 1) + 1
    exact = (in_size + 2 * padding - effective) / stride
    out = (math.ceil(exact) if ceil_mode else math.floor(exact)) + 1
    if ceil_mode and (out - 1) * stride >= in_size + padding:
        out -= 1  # the last window would start in the right padding
    return out


def _tuples(n, *values):
    return [(v,) * n if isinstance(v, int) else tuple(v) for v in values]


def _every_position(shape):
    """Every index tuple of an array of this shape, in C order."""
    return itertools.product(*[range(s) for s in shape])


def argmax_like_pytorch(values):
    """Index of the maximum along the last axis: the first of equal maxima,
    except that a NaN wins, the last NaN of the row (PyTorch's rule)."""
    first_maximum = np.argmax(values, axis=-1)      # np.argmax would stop at the first NaN
    is_nan = np.isnan(values)
    last_nan = values.shape[-1] - 1 - np.argmax(is_nan[..., ::-1], axis=-1)
    return np.where(is_nan.any(axis=-1), last_nan, first_maximum)


# ---------------------------------------------------------------- max pooling
def max_pool(x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(N, C, *spatial) -> (output, indices), both (N, C, *out); indices are
    flat positions in each input plane. Padding is -inf (it never wins)."""
    spatial = x.shape[2:]
    n = len(spatial)
    kernel, padding, dilation = _tuples(n, kernel, padding, dilation)
    stride = kernel if stride is None else _tuples(n, stride)[0]
    outs = [output_size(i, k, s, p, d, ceil_mode)
            for i, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
    flat = x.reshape(x.shape[0], x.shape[1], -1)        # (N, C, prod(spatial))
    output = np.empty(x.shape[:2] + tuple(outs), dtype=x.dtype)
    indices = np.empty(x.shape[:2] + tuple(outs), dtype=np.int64)
    for o in _every_position(outs):
        # every tap of the window that lies inside the input, in C order
        taps = []
        for j in _every_position(kernel):
            position = [oi * s - p + ji * d for oi, s, p, ji, d in zip(o, stride, padding, j, dilation)]
            if all(0 <= q < size for q, size in zip(position, spatial)):
                taps.append(np.ravel_multi_index(position, spatial))
        where = (slice(None), slice(None)) + o
        if not taps:  # dilation stepped over the whole input: -inf, no argmax
            output[where], indices[where] = -np.inf, -1
            continue
        values = flat[:, :, taps]                       # (N, C, taps)
        best = argmax_like_pytorch(values)              # (N, C)
        output[where] = np.take_along_axis(values, best[..., None], 2)[..., 0]
        indices[where] = np.asarray(taps)[best]
    return output, indices


def max_pool_backward(grad_output, indices, input_shape):
    """Each output gradient goes to its argmax (added up where windows share
    one); negative indices (empty windows) send nothing. -> (N, C, *spatial)."""
    n, c = input_shape[:2]
    grad = np.zeros((n, c, int(np.prod(input_shape[2:]))), dtype=grad_output.dtype)
    for i in range(n):
        for j in range(c):
            keep = indices[i, j].ravel() >= 0
            np.add.at(grad[i, j], indices[i, j].ravel()[keep], grad_output[i, j].ravel()[keep])
    return grad.reshape(input_shape)


# ---------------------------------------------------------------- average pooling
def _avg_window(o, spatial, kernel, stride, padding):
    """Output o's window in padded coordinates; it may not run past the right padding."""
    return tuple(slice(oi * s, min(oi * s + k, i + 2 * p))
                 for oi, s, k, i, p in zip(o, stride, kernel, spatial, padding))


def _avg_divisor(window, spatial, padding, count_include_pad, divisor_override):
    """divisor_override, else the window's size counting the padding, or only the input elements."""
    if divisor_override:
        return divisor_override
    if count_include_pad:
        return math.prod(w.stop - w.start for w in window)
    return math.prod(min(w.stop, p + i) - max(w.start, p) for w, i, p in zip(window, spatial, padding))


def avg_pool(x, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    """(N, C, *spatial) -> (N, C, *out): each window's sum (in float64) / divisor. Padding is 0."""
    spatial = x.shape[2:]
    n = len(spatial)
    kernel, padding = _tuples(n, kernel, padding)
    stride = kernel if stride is None else _tuples(n, stride)[0]
    outs = [output_size(i, k, s, p, 1, ceil_mode) for i, k, s, p in zip(spatial, kernel, stride, padding)]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])  # zeros
    output = np.empty(x.shape[:2] + tuple(outs), dtype=x.dtype)
    for o in _every_position(outs):
        window = _avg_window(o, spatial, kernel, stride, padding)
        total = padded[(slice(None), slice(None)) + window].sum(axis=tuple(range(2, 2 + n)),
                                                                dtype=np.float64)   # (N, C)
        divisor = _avg_divisor(window, spatial, padding, count_include_pad, divisor_override)
        output[(slice(None), slice(None)) + o] = total / divisor
    return output


def avg_pool_backward(grad_output, input_shape, kernel, stride=None, padding=0, count_include_pad=True,
                      divisor_override=None):
    """The adjoint of avg_pool: each output's gradient / divisor is added to every
    input element of its window. grad_output (N, C, *out) -> (N, C, *spatial).
    (The output size comes from grad_output, so ceil_mode is not needed.)"""
    spatial = tuple(input_shape[2:])
    n = len(spatial)
    kernel, padding = _tuples(n, kernel, padding)
    stride = kernel if stride is None else _tuples(n, stride)[0]
    padded_shape = tuple(i + 2 * p for i, p in zip(spatial, padding))
    grad_padded = np.zeros(tuple(input_shape[:2]) + padded_shape, dtype=grad_output.dtype)
    for o in _every_position(grad_output.shape[2:]):
        window = _avg_window(o, spatial, kernel, stride, padding)
        divisor = _avg_divisor(window, spatial, padding, count_include_pad, divisor_override)
        share = grad_output[(slice(None), slice(None)) + o] / divisor      # (N, C)
        grad_padded[(slice(None), slice(None)) + window] += share.reshape(share.shape + (1,) * n)
    inside = tuple(slice(p, p + i) for p, i in zip(padding, spatial))
    return grad_padded[(slice(None), slice(None)) + inside]


# ---------------------------------------------------------------- adaptive pooling
def adaptive_bins(in_size, out_size):
    """PyTorch's adaptive bins: [floor(i*in/out), ceil((i+1)*in/out)) for each output i."""
    return [(math.floor(i * in_size / out_size), math.ceil((i + 1) * in_size / out_size))
            for i in range(out_size)]


def _adaptive_windows(spatial, output_size):
    """(o, window) for every output position o; window: one slice of the input per dimension."""
    bins = [adaptive_bins(i, o) for i, o in zip(spatial, output_size)]
    for o in _every_position(output_size):
        yield o, tuple(slice(*bins[d][o[d]]) for d in range(len(spatial)))


def adaptive_pool(x, output_size, mode):
    """(N, C, *spatial) -> (N, C, *output_size) over PyTorch's adaptive bins.
    mode 'avg' -> output (the mean in float64); mode 'max' -> (output, indices)."""
    spatial = x.shape[2:]
    output = np.empty(x.shape[:2] + tuple(output_size), dtype=x.dtype)
    indices = np.empty(x.shape[:2] + tuple(output_size), dtype=np.int64)
    flat = x.reshape(x.shape[0], x.shape[1], -1)                        # (N, C, prod(spatial))
    plane_positions = np.arange(math.prod(spatial)).reshape(spatial)    # flat position of each element
    for o, window in _adaptive_windows(spatial, output_size):
        taps = plane_positions[window].ravel()
        values = flat[:, :, taps]                                       # (N, C, taps)
        where = (slice(None), slice(None)) + o
        if mode == "avg":
            output[where] = values.mean(axis=2, dtype=np.float64)
        else:
            best = argmax_like_pytorch(values)
            output[where] = np.take_along_axis(values, best[..., None], 2)[..., 0]
            indices[where] = taps[best]
    return output if mode == "avg" else (output, indices)


def adaptive_avg_pool_backward(grad_output, input_shape):
    """The adjoint of adaptive_pool(mode='avg'): each output's gradient / bin size
    is added to every element of its bin. (N, C, *out) -> (N, C, *spatial).
    (The backward of mode 'max' is max_pool_backward with its indices.)"""
    spatial = tuple(input_shape[2:])
    grad = np.zeros(tuple(input_shape), dtype=grad_output.dtype)
    for o, window in _adaptive_windows(spatial, grad_output.shape[2:]):
        bin_size = math.prod(w.stop - w.start for w in window)
        share = grad_output[(slice(None), slice(None)) + o] / bin_size      # (N, C)
        grad[(slice(None), slice(None)) + window] += share.reshape(share.shape + (1,) * len(spatial))
    return grad


# ---------------------------------------------------------------- unpooling
def max_unpool(x, indices, output_size):
    """Zeros of (N, C, *output_size) with x's values put at their flat indices;
    in x's order, so where two values share an index the later one wins."""
    n, c = x.shape[:2]
    out = np.zeros((n, c, int(np.prod(output_size))), dtype=x.dtype)
    values, positions = x.reshape(n, c, -1), indices.reshape(n, c, -1)
    for i in range(values.shape[2]):
        np.put_along_axis(out, positions[:, :, i:i + 1], values[:, :, i:i + 1], axis=2)
    return out.reshape((n, c) + tuple(output_size))


def max_unpool_backward(grad_output, indices):
    """grad_input[n, c, i] = grad_output[n, c, indices[n, c, i]]: each value's gradient
    is read back from where max_unpool put it. -> the shape of indices."""
    n, c = indices.shape[:2]
    flat = grad_output.reshape(n, c, -1)
    return np.take_along_axis(flat, indices.reshape(n, c, -1), axis=2).reshape(indices.shape)
