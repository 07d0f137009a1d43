"""Fractional max pooling (Graham, 2014): max pooling by a non-integer factor.

Along each spatial axis the output positions i = 0 .. out - 1 read windows
of kernel_size inputs whose starts are spread pseudo-randomly, from one
sample u in [0, 1) per (image, channel, axis):

    alpha    = (in - k) / (out - 1)
    start[i] = floor((i + u) * alpha) - floor(u * alpha)     for i < out - 1
    start[out - 1] = in - k

(PyTorch's generate_intervals, computed in the input's dtype, float16 included). The output
is the max of each window and the index (flattened within the plane, as
max_pool's return_indices) of its argmax; backward adds each gradient onto
that argmax. A NaN in a window wins, as in PyTorch.

The samples u come from minigrad's generator unless _random_samples
(N, C, 2) (or (N, C, 3)) is given: in 2-D sample 0 sets the widths and
sample 1 the heights; in 3-D samples 0, 1, 2 set time, height, width.
"""
import numpy as np

from minigrad import random
from minigrad.autograd import Function
from minigrad.ops._args import is_int
from minigrad.tensor import Tensor

_AXIS_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}
_SAMPLE_OF_AXIS = {2: (1, 0), 3: (0, 1, 2)}     # which random sample drives each spatial axis


def generate_intervals(samples, in_size, out_size, kernel_size):
    """(..., out) window starts along one axis from samples (...,) in [0, 1)."""
    starts = np.empty(samples.shape + (out_size,), dtype=np.int64)
    if out_size > 1:
        alpha = samples.dtype.type(in_size - kernel_size) / samples.dtype.type(out_size - 1)
        i = np.arange(out_size - 1).astype(samples.dtype)
        u = samples[..., None]
        starts[..., :-1] = (np.floor((i + u) * alpha).astype(np.int64)
                            - np.floor(u * alpha).astype(np.int64))
    if out_size > 0:
        starts[..., -1] = in_size - kernel_size
    return starts


def window_indices(samples, in_sizes, out_sizes, kernel_sizes):
    """(N, C, Q, K) flat in-plane index of each window element (Q outputs, K = prod(kernel))."""
    d = len(in_sizes)
    n, c = samples.shape[:2]
    strides = [int(np.prod(in_sizes[a + 1:])) for a in range(d)]
    index = np.zeros((n, c) + (1,) * (2 * d), dtype=np.int64)
    for a in range(d):
        starts = generate_intervals(samples[:, :, _SAMPLE_OF_AXIS[d][a]], in_sizes[a], out_sizes[a],
                                    kernel_sizes[a])                      # (N, C, out_a)
        positions = starts[..., None] + np.arange(kernel_sizes[a])        # (N, C, out_a, k_a)
        shape = [n, c] + [1] * (2 * d)
        shape[2 + a], shape[2 + d + a] = out_sizes[a], kernel_sizes[a]
        # (N, C, out_0.., k_0..): output axes first, then the window offsets
        index = index + (positions * strides[a]).reshape(shape)
    return index.reshape(n, c, int(np.prod(out_sizes)), int(np.prod(kernel_sizes)))


class FractionalMaxPool(Function):
    """output[n, c, q] = max over the window of q; backward: the gradient goes to the argmax."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, input, samples, kernel_sizes, out_sizes):
        n, c = input.shape[:2]
        in_sizes = input.shape[2:]
        index = window_indices(samples[:n], in_sizes, out_sizes, kernel_sizes)   # (N, C, Q, K)
        q, k = index.shape[2:]
        flat = input.reshape(n, c, int(np.prod(in_sizes)))                       # (N, C, P)
        windows = np.take_along_axis(flat, index.reshape(n, c, q * k), axis=2).reshape(n, c, q, k)
        choice = np.argmax(windows, axis=3)                  # the first max
        nan = np.isnan(windows)
        if nan.any():                                        # PyTorch keeps the last NaN
            last_nan = k - 1 - np.argmax(nan[..., ::-1], axis=3)
            choice = np.where(nan.any(axis=3), last_nan, choice)
        argmax = np.take_along_axis(index, choice[..., None], axis=3)[..., 0]   # (N, C, Q)
        output = np.take_along_axis(windows, choice[..., None], axis=3)[..., 0]
        ctx.argmax, ctx.input_shape = argmax, input.shape
        shape = (n, c) + tuple(out_sizes)
        return output.reshape(shape), argmax.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        n, c = ctx.input_shape[:2]
        points = int(np.prod(ctx.input_shape[2:]))
        planes = np.arange(n * c).reshape(n, c, 1) * points   # offset of each (n, c) plane
        grad = np.bincount((planes + ctx.argmax).ravel(), grad_output.reshape(n, c, ctx.argmax.shape[2]).ravel(),
                           minlength=n * c * points)
        return grad.astype(grad_output.dtype).reshape(ctx.input_shape), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The same scatter-add as an op; the argmax positions are constants
        from minigrad.ops.shape import ScatterIntoZeros
        n, c = ctx.input_shape[:2]
        points = int(np.prod(ctx.input_shape[2:]))
        flat_argmax = (np.arange(n * c).reshape(n, c, 1) * points + ctx.argmax).reshape(-1)
        flat = ScatterIntoZeros.apply(grad.reshape(-1), (n * c * points,), flat_argmax)
        return flat.reshape(*ctx.input_shape), None, None, None


def _sizes(op, name, value, d):
    if is_int(value):
        return (int(value),) * d
    if isinstance(value, (tuple, list)) and len(value) == d and all(is_int(v) for v in value):
        return tuple(int(v) for v in value)
    ints = "Ints" if d == 2 else "three Ints"
    raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of {ints} (got {value!r})")


def _fractional_max_pool(d, input, kernel_size, output_size, output_ratio, _random_samples):
    op = f"fractional_max_pool{d}d"
    prefix = f"{op}()" if d == 2 else f"{op}_out()"     # PyTorch's spelling in its messages
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (d + 1, d + 2):
        if input.ndim < d + 1:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                             f"{max(input.ndim, 1) - 1}], but got {-(d + 1)})")
        raise RuntimeError(f"{prefix}: Expected {d + 1}D or {d + 2}D tensor, but got: {list(input.shape)}")
    if output_size is None:
        if d == 2 and len(output_ratio) > 2:     # len() of a plain float raises TypeError, as in PyTorch
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of Ints.")
        ratios = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * d
        output_size = [int(size * ratio) for size, ratio in zip(input.shape[-d:], ratios)]
    kernel_sizes = _sizes(op, "kernel_size", kernel_size, d)
    out_sizes = _sizes(op, "output_size", output_size, d)
    if input.dtype not in (np.float16, np.float32, np.float64):
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input: expected float16, "
                                  f"float32 or float64")
    batched = input.ndim == d + 2
    x = input if batched else input.unsqueeze(0)
    for axis in range(1, x.ndim):
        if x.shape[axis] == 0:
            raise RuntimeError(f"{prefix}: Expected input to have non-zero size for non-batch dimensions, "
                               f"but got{list(input.shape)} with dimension {axis - (not batched)} being empty.")
    # PyTorch lets a 2-D window end on the last input but not a 3-D one, and checks 3-D's
    # axes in the order time, width, height
    order = (0, 1) if d == 2 else (0, 2, 1)
    for a in order:
        name, size, kernel, out = _AXIS_NAMES[d][a], x.shape[2 + a], kernel_sizes[a], out_sizes[a]
        if out + kernel - 1 > size or (d == 3 and out + kernel - 1 == size):
            raise RuntimeError(f"{prefix}: pool {name} {kernel} too large relative to input {name} {size}")
    n, c = x.shape[:2]
    if _random_samples is None:
        samples = random.generator().random((n, c, d)).astype(input.dtype)
    else:
        samples = _random_samples.numpy() if isinstance(_random_samples, Tensor) else np.asarray(_random_samples)
        if samples.ndim != 3:
            raise RuntimeError(f"Expect _random_samples to be a 3D tensor (N, C, {d}); got shape "
                               f"{list(samples.shape)}")
        if samples.dtype != input.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
        if samples.shape[0] < n:
            raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
        if samples.shape[1] != c:
            raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
        if samples.shape[2] != d:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {d}; got {samples.shape[2]}.")
    output, indices = FractionalMaxPool.apply(x, samples, kernel_sizes, out_sizes)
    if not batched:
        output, indices = output.squeeze(0), indices.squeeze(0)
    return output, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(output, indices) of fractional max pooling over (N, C, H, W) or (C, H, W).

    output_size, or output_ratio (output = floor(in * ratio)); window starts
    start[i] = floor((i + u) * alpha) - floor(u * alpha), alpha = (in - k) / (out - 1).
    """
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(output, indices) of fractional max pooling over (N, C, T, H, W) or (C, T, H, W)."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over (N, C, H, W); return_indices=True also returns the argmax indices."""
    output, indices = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                                         return_indices, _random_samples)
    return (output, indices) if return_indices else output


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over (N, C, T, H, W); return_indices=True also returns the argmax indices."""
    output, indices = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                                         return_indices, _random_samples)
    return (output, indices) if return_indices else output
