"""Readable NumPy references for pooling (the specification of csrc/pooling.pyx).

Inputs are (N, C, *spatial) with any number of spatial dimensions. Each
function loops over output positions (vectorised over N and C) and spells
out which input positions a window reads, so it is slow but obviously right.
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


def max_pool(x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Returns (output, indices); indices are flat positions in each input plane."""
    spatial = x.shape[2:]
    n = len(spatial)
    kernel, padding, dilation = _tuples(n, kernel, padding, dilation)
    stride = kernel if stride is None else _tuples(n, stride)[0]
    outs = [output_size(i, k, s, p, d, ceil_mode)
            for i, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    output = np.empty(x.shape[:2] + tuple(outs), dtype=x.dtype)
    indices = np.empty(x.shape[:2] + tuple(outs), dtype=np.int64)
    for o in itertools.product(*[range(s) for s in outs]):
        # every tap of the window that lies inside the input (padding is -inf)
        taps = []
        for j in itertools.product(*[range(k) for k in kernel]):
            position = [oi * s - p + ji * d for oi, s, p, ji, d in zip(o, stride, padding, j, dilation)]
            if all(0 <= q < size for q, size in zip(position, spatial)):
                taps.append(np.ravel_multi_index(position, spatial))
        where = (slice(None), slice(None)) + o
        if not taps:  # dilation stepped over the whole input: -inf, no argmax
            output[where], indices[where] = -np.inf, -1
            continue
        values = flat[:, :, taps]                       # (N, C, taps)
        best = np.argmax(values, axis=2)                # first maximum
        output[where] = np.take_along_axis(values, best[..., None], 2)[..., 0]
        indices[where] = np.asarray(taps)[best]
    return output, indices


def max_pool_backward(grad_output, indices, input_shape):
    """Each output gradient goes to its argmax (added up where windows share one)."""
    n, c = input_shape[:2]
    grad = np.zeros((n, c, int(np.prod(input_shape[2:]))), dtype=grad_output.dtype)
    for i in range(n):
        for j in range(c):
            keep = indices[i, j].ravel() >= 0
            np.add.at(grad[i, j], indices[i, j].ravel()[keep], grad_output[i, j].ravel()[keep])
    return grad.reshape(input_shape)


def avg_pool(x, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    spatial = x.shape[2:]
    n = len(spatial)
    kernel, padding = _tuples(n, kernel, padding)
    stride = kernel if stride is None else _tuples(n, stride)[0]
    outs = [output_size(i, k, s, p, 1, ceil_mode) for i, k, s, p in zip(spatial, kernel, stride, padding)]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])  # zeros
    inside = np.pad(np.ones(spatial), [(p, p) for p in padding])       # 1 where x is real
    output = np.empty(x.shape[:2] + tuple(outs), dtype=x.dtype)
    for o in itertools.product(*[range(s) for s in outs]):
        # window in padded coordinates; it may not run past the right padding
        window = tuple(slice(oi * s, min(oi * s + k, i + 2 * p))
                       for oi, s, k, i, p in zip(o, stride, kernel, spatial, padding))
        total = padded[(slice(None), slice(None)) + window].sum(axis=tuple(range(2, 2 + n)))
        if divisor_override:
            divisor = divisor_override
        elif count_include_pad:
            divisor = np.prod([w.stop - w.start for w in window])
        else:
            divisor = inside[window].sum()
        output[(slice(None), slice(None)) + o] = total / divisor
    return output


def adaptive_bins(in_size, out_size):
    """PyTorch's adaptive bins: [floor(i*in/out), ceil((i+1)*in/out)) for each output i."""
    return [(math.floor(i * in_size / out_size), math.ceil((i + 1) * in_size / out_size))
            for i in range(out_size)]


def adaptive_pool(x, output_size, mode):
    """mode 'avg' -> output; mode 'max' -> (output, indices)."""
    spatial = x.shape[2:]
    bins = [adaptive_bins(i, o) for i, o in zip(spatial, output_size)]
    output = np.empty(x.shape[:2] + tuple(output_size), dtype=x.dtype)
    indices = np.empty(x.shape[:2] + tuple(output_size), dtype=np.int64)
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    for o in itertools.product(*[range(s) for s in output_size]):
        ranges = [range(*bins[d][o[d]]) for d in range(len(spatial))]
        taps = [np.ravel_multi_index(p, spatial) for p in itertools.product(*ranges)]
        values = flat[:, :, taps]
        where = (slice(None), slice(None)) + o
        if mode == "avg":
            output[where] = values.mean(axis=2)
        else:
            best = np.argmax(values, axis=2)
            output[where] = np.take_along_axis(values, best[..., None], 2)[..., 0]
            indices[where] = np.asarray(taps)[best]
    return output if mode == "avg" else (output, indices)


def max_unpool(x, indices, output_size):
    """Zeros of (N, C, *output_size) with x's values put at their flat indices."""
    n, c = x.shape[:2]
    out = np.zeros((n, c, int(np.prod(output_size))), dtype=x.dtype)
    for i in range(n):
        for j in range(c):
            out[i, j, indices[i, j].ravel()] = x[i, j].ravel()
    return out.reshape((n, c) + tuple(output_size))
