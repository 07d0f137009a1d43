"""Pooling: max, average, adaptive, unpooling and spatial pyramid pooling.

Signatures, defaults and semantics are PyTorch's. Inputs are (N, C, *spatial)
or unbatched (C, *spatial) with 1, 2 or 3 spatial dimensions. Every op views
its input as planes (P, D, H, W), P = N*C (D = 1 for 2-d, D = H = 1 for 1-d),
so that one compiled kernel per op serves 1-d, 2-d and 3-d pooling:

    (N, C, H, W) -> (N*C, 1, H, W) -> kernel -> (N*C, 1, Ho, Wo) -> (N, C, Ho, Wo)

Output size of max/avg pooling along each dimension:

    out = floor((in + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1

(with ceil_mode, ceil instead of floor, as long as the last window starts
inside the input or the left padding). Max pooling's indices are flat
positions in each input plane (h * W + w for 2-d), as PyTorch returns them;
its backward routes each gradient to that argmax.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.kernels import pooling as kernels
from minigrad.ops._args import (
    adaptive_output_size,
    check_pool_padding,
    conv_transpose_out_size,
    is_int,
    pool_out_size,
    pool_window,
)
from minigrad.ops.activation import relu
from minigrad.ops.elementwise import in_float32
from minigrad.ops.shape import cat, flatten
from minigrad.tensor import Tensor


# ---------------------------------------------------------------- argument checks
def _as_planes_shape(input, n, op):
    """Check the rank; return (leading dims, spatial dims) of (N, C, *sp) or (C, *sp)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{op}: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 input, got {input.dtype}")
    leading, spatial = tuple(input.shape[:-n]), tuple(input.shape[-n:])
    if any(s == 0 for s in spatial) or any(s == 0 for s in leading[-1:]):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has an empty spatial or "
                         f"channel dimension")
    return leading, spatial


def _to_3d(values, fill):
    """Pad a per-spatial-dimension tuple on the left to (D, H, W)."""
    return (fill,) * (3 - len(values)) + tuple(values)


def _plane_shape(leading, spatial):
    return (math.prod(leading),) + _to_3d(spatial, 1)


def _window_arguments(op, n, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a fixed-window pooling call; return the per-dimension tuples and output size."""
    leading, spatial = _as_planes_shape(input, n, op)
    kernel_size, stride, padding, dilation = pool_window(op, n, kernel_size, stride, padding, dilation)
    check_pool_padding(op, padding, kernel_size)
    output = tuple(pool_out_size(i, k, s, p, d, ceil_mode)
                   for i, k, s, p, d in zip(spatial, kernel_size, stride, padding, dilation))
    if any(o < 1 for o in output):
        raise ValueError(f"{op}: the kernel is larger than the padded input: input size {spatial}, "
                         f"kernel_size={kernel_size}, padding={padding}, dilation={dilation} give "
                         f"output size {output}, which is too small")
    return leading, spatial, kernel_size, stride, padding, dilation, output


# ---------------------------------------------------------------- max pooling
class MaxPool(Function):
    """Max over each window; backward sends each gradient to the window's argmax."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, input, leading, kernel_size, stride, padding, dilation, output_size):
        planes = input.reshape(_plane_shape(leading, input.shape[len(leading):]))
        output, indices = kernels.max_pool(planes, _to_3d(output_size, 1), _to_3d(kernel_size, 1),
                                           _to_3d(stride, 1), _to_3d(padding, 0), _to_3d(dilation, 1))
        ctx.save_for_backward(indices)
        ctx.plane_shape, ctx.input_shape = planes.shape, input.shape
        shape = tuple(leading) + tuple(output_size)
        return output.reshape(shape), indices.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        grad_output = grad_output.reshape(indices.shape)
        grad_input = kernels.max_pool_backward(grad_output, indices, ctx.plane_shape)
        return grad_input.reshape(ctx.input_shape), None, None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The indices are constants: dL/dx is linear in dL/dy (a scatter-add), zero in x.
        indices, = ctx.saved_tensors
        routed = ScatterToPlanes.apply(grad.reshape(indices.shape), indices.array, ctx.plane_shape)
        return (routed.reshape(ctx.input_shape),) + (None,) * 6


def _max_pool(n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = f"max_pool{n}d"
    if isinstance(input, Tensor) and (input.dtype == np.float16 or (n > 1 and input.dtype.kind in "iu")):
        # float16 is pooled in float32, integers (2-d and 3-d, as in PyTorch) in float64.
        return in_float32(_max_pool, n, input, kernel_size, stride, padding, dilation, ceil_mode,
                          return_indices, integers=True)
    leading, _, kernel_size, stride, padding, dilation, output_size = _window_arguments(
        op, n, input, kernel_size, stride, padding, dilation, ceil_mode)
    output, indices = MaxPool.apply(input, leading, kernel_size, stride, padding, dilation, output_size)
    return (output, indices) if return_indices else output


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling over (N, C, L); indices are positions in L."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling over (N, C, H, W); indices are flat positions h * W + w.

    >>> x = minigrad.arange(16.).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).array.tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling over (N, C, D, H, W); indices are flat positions (d * H + h) * W + w."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# ---------------------------------------------------------------- average pooling
class AvgPool(Function):
    """Mean over each window; backward spreads each gradient evenly over its window."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, input, leading, kernel_size, stride, padding, output_size, count_include_pad,
                divisor_override):
        planes = input.reshape(_plane_shape(leading, input.shape[len(leading):]))
        ctx.window = (_to_3d(kernel_size, 1), _to_3d(stride, 1), _to_3d(padding, 0),
                      count_include_pad, divisor_override)
        ctx.plane_shape, ctx.input_shape = planes.shape, input.shape
        output = kernels.avg_pool(planes, _to_3d(output_size, 1), *ctx.window)
        ctx.output_plane_shape = output.shape
        return output.reshape(tuple(leading) + tuple(output_size))

    @staticmethod
    def backward(ctx, grad_output):
        grad_output = grad_output.reshape(ctx.output_plane_shape)
        grad_input = kernels.avg_pool_backward(grad_output, ctx.plane_shape, *ctx.window)
        return (grad_input.reshape(ctx.input_shape),) + (None,) * 7

    @staticmethod
    def backward_graph(ctx, grad):
        spread = AvgPoolAdjoint.apply(grad.reshape(ctx.output_plane_shape), ctx.plane_shape, ctx.window)
        return (spread.reshape(ctx.input_shape),) + (None,) * 7


class AvgPoolAdjoint(Function):
    """avg pooling's backward as an op (double backward): spreads each value of
    (P, oD, oH, oW) over its window / divisor. Linear; its adjoint is avg pooling."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, grad_planes, plane_shape, window):
        ctx.window, ctx.output_plane_shape = window, grad_planes.shape
        return kernels.avg_pool_backward(np.ascontiguousarray(grad_planes), plane_shape, *window)

    @staticmethod
    def backward(ctx, grad_output):
        pooled = kernels.avg_pool(np.ascontiguousarray(grad_output), ctx.output_plane_shape[1:], *ctx.window)
        return pooled, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        kernel_size, stride, padding, count_include_pad, divisor_override = ctx.window
        size = grad.shape[0]  # planes: leading (P,), 3-d window
        return AvgPool.apply(grad, (size,), kernel_size, stride, padding, ctx.output_plane_shape[1:],
                             count_include_pad, divisor_override), None, None


def _avg_pool(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    op = f"avg_pool{n}d"
    if isinstance(input, Tensor) and (input.dtype == np.float16 or (n > 1 and input.dtype.kind in "iu")):
        return in_float32(_avg_pool, n, input, kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override, integers=True)
    leading, _, kernel_size, stride, padding, _, output_size = _window_arguments(
        op, n, input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if not is_int(divisor_override) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    return AvgPool.apply(input, leading, kernel_size, stride, padding, output_size,
                         bool(count_include_pad), divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling over (N, C, L) (PyTorch's avg_pool1d has no divisor_override)."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling over (N, C, H, W).

    The divisor is divisor_override if given, else the window's size
    counting padding (count_include_pad=True) or only the input elements.
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling over (N, C, D, H, W)."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---------------------------------------------------------------- power-average pooling
def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    """(sum over each window of x^p)^(1/p), as PyTorch computes it: avg_pool of x^p
    times the window size, negative sums clamped to 0 before the root."""
    op = f"lp_pool{n}d"
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a non-zero number, got {norm_type!r}")
    kernel_size, stride, _, _ = pool_window(op, n, kernel_size, stride, 0)
    powered = avg_pool3d if n == 3 else avg_pool2d if n == 2 else avg_pool1d
    mean = powered(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    total = mean.sign() * relu(mean.abs()) * math.prod(kernel_size)
    return total ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L): p=1 is sum pooling, p=inf would be max pooling."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ---------------------------------------------------------------- adaptive pooling
def _adaptive_arguments(op, n, input, output_size):
    leading, spatial = _as_planes_shape(input, n, op)
    output_size = adaptive_output_size(op, n, output_size)
    # None keeps the input's size along that dimension, as in PyTorch.
    return leading, tuple(s if o is None else o for s, o in zip(spatial, output_size))


class AdaptiveAvgPool(Function):
    """Mean over PyTorch's adaptive bins [floor(i*in/out), ceil((i+1)*in/out))."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, input, leading, output_size):
        planes = input.reshape(_plane_shape(leading, input.shape[len(leading):]))
        output = kernels.adaptive_avg_pool(planes, _to_3d(output_size, 1))
        ctx.plane_shape, ctx.input_shape, ctx.output_plane_shape = planes.shape, input.shape, output.shape
        return output.reshape(tuple(leading) + tuple(output_size))

    @staticmethod
    def backward(ctx, grad_output):
        grad_output = grad_output.reshape(ctx.output_plane_shape)
        grad_input = kernels.adaptive_avg_pool_backward(grad_output, ctx.plane_shape)
        return grad_input.reshape(ctx.input_shape), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        spread = AdaptiveAvgPoolAdjoint.apply(grad.reshape(ctx.output_plane_shape), ctx.plane_shape)
        return spread.reshape(ctx.input_shape), None, None


class AdaptiveAvgPoolAdjoint(Function):
    """adaptive avg pooling's backward as an op (double backward): each value of
    (P, oD, oH, oW) spread over its bin / bin size. Linear; its adjoint is the pooling."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, grad_planes, plane_shape):
        ctx.output_plane_shape = grad_planes.shape
        return kernels.adaptive_avg_pool_backward(np.ascontiguousarray(grad_planes), plane_shape)

    @staticmethod
    def backward(ctx, grad_output):
        return kernels.adaptive_avg_pool(np.ascontiguousarray(grad_output), ctx.output_plane_shape[1:]), None

    @staticmethod
    def backward_graph(ctx, grad):
        return AdaptiveAvgPool.apply(grad, (grad.shape[0],), ctx.output_plane_shape[1:]), None


class AdaptiveMaxPool(Function):
    """Max over PyTorch's adaptive bins; backward routes to the argmax, as in MaxPool."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, input, leading, output_size):
        planes = input.reshape(_plane_shape(leading, input.shape[len(leading):]))
        output, indices = kernels.adaptive_max_pool(planes, _to_3d(output_size, 1))
        ctx.save_for_backward(indices)
        ctx.plane_shape, ctx.input_shape = planes.shape, input.shape
        shape = tuple(leading) + tuple(output_size)
        return output.reshape(shape), indices.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        grad_input = kernels.max_pool_backward(grad_output.reshape(indices.shape), indices,
                                               ctx.plane_shape)
        return grad_input.reshape(ctx.input_shape), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        indices, = ctx.saved_tensors  # constants, as in MaxPool
        routed = ScatterToPlanes.apply(grad.reshape(indices.shape), indices.array, ctx.plane_shape)
        return routed.reshape(ctx.input_shape), None, None


# The two linear maps behind max pooling's and unpooling's gradients, each
# the other's adjoint, as ops (so their gradients can be differentiated again).
class ScatterToPlanes(Function):
    """out (P, *plane) = zeros, then out[p, indices[p, i]] += values[p, i]: max pooling's backward."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, values, indices, plane_shape):
        ctx.save_for_backward(indices)
        return kernels.max_pool_backward(np.ascontiguousarray(values), indices, plane_shape)

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        return kernels.max_unpool_backward(np.ascontiguousarray(grad_output), indices), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        indices, = ctx.saved_tensors
        return GatherFromPlanes.apply(grad, indices.array), None, None


class GatherFromPlanes(Function):
    """out[p, i] = values[p, indices[p, i]] (P, *indices' plane): max unpooling's backward."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, values, indices):
        ctx.save_for_backward(indices)
        ctx.plane_shape = values.shape
        return kernels.max_unpool_backward(np.ascontiguousarray(values), indices)

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        return kernels.max_pool_backward(np.ascontiguousarray(grad_output), indices, ctx.plane_shape), None

    @staticmethod
    def backward_graph(ctx, grad):
        indices, = ctx.saved_tensors
        return ScatterToPlanes.apply(grad, indices.array, ctx.plane_shape), None


def adaptive_avg_pool1d(input, output_size):
    leading, output_size = _adaptive_arguments("adaptive_avg_pool1d", 1, input, output_size)
    return AdaptiveAvgPool.apply(input, leading, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over adaptive bins; output_size=1 is global average pooling."""
    leading, output_size = _adaptive_arguments("adaptive_avg_pool2d", 2, input, output_size)
    if tuple(output_size) == (1, 1):
        # Global average pooling is a plain mean: one pass, no window tables.
        return input.mean(dim=(-2, -1), keepdim=True)
    return AdaptiveAvgPool.apply(input, leading, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    leading, output_size = _adaptive_arguments("adaptive_max_pool1d", 1, input, output_size)
    output, indices = AdaptiveMaxPool.apply(input, leading, output_size)
    return (output, indices) if return_indices else output


def adaptive_max_pool2d(input, output_size, return_indices=False):
    leading, output_size = _adaptive_arguments("adaptive_max_pool2d", 2, input, output_size)
    output, indices = AdaptiveMaxPool.apply(input, leading, output_size)
    return (output, indices) if return_indices else output


def adaptive_avg_pool3d(input, output_size):
    """Average over adaptive bins of (N, C, D, H, W)."""
    leading, output_size = _adaptive_arguments("adaptive_avg_pool3d", 3, input, output_size)
    return AdaptiveAvgPool.apply(input, leading, output_size)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    leading, output_size = _adaptive_arguments("adaptive_max_pool3d", 3, input, output_size)
    output, indices = AdaptiveMaxPool.apply(input, leading, output_size)
    return (output, indices) if return_indices else output


# The *_with_indices names of torch.nn.functional: the pooling with return_indices=True.
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, True)


# ---------------------------------------------------------------- unpooling
class MaxUnpool(Function):
    """Zeros with each input value put back at its index (the inverse of max pooling)."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, input, indices, leading, output_size):
        plane_shape = _plane_shape(leading, input.shape[len(leading):])
        planes = input.reshape(plane_shape)
        indices = np.ascontiguousarray(indices).reshape(plane_shape)
        output = kernels.max_unpool(planes, indices, _to_3d(output_size, 1))
        ctx.save_for_backward(indices)
        ctx.input_shape, ctx.output_plane_shape = input.shape, output.shape
        return output.reshape(tuple(leading) + tuple(output_size))

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        grad_input = kernels.max_unpool_backward(grad_output.reshape(ctx.output_plane_shape), indices)
        return grad_input.reshape(ctx.input_shape), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        indices, = ctx.saved_tensors  # constants
        gathered = GatherFromPlanes.apply(grad.reshape(ctx.output_plane_shape), indices.array)
        return gathered.reshape(ctx.input_shape), None, None, None


def _max_unpool(n, input, indices, kernel_size, stride, padding, output_size):
    op = f"max_unpool{n}d"
    leading, spatial = _as_planes_shape(input, n, op)
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer Tensor (as returned by max_pool{n}d with "
                        f"return_indices=True), got {getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} do not match the input's "
                         f"shape {tuple(input.shape)}")
    kernel_size, stride, padding, _ = pool_window(op, n, kernel_size, stride, padding)
    # max pooling's output size run backwards: (in - 1) * stride - 2 * padding + kernel_size
    default = tuple(conv_transpose_out_size(i, k, s, p, 1, 0)
                    for i, k, s, p in zip(spatial, kernel_size, stride, padding))
    if output_size is None:
        output_size = default
    else:
        output_size = tuple(int(o) for o in output_size)
        if len(output_size) == n + len(leading):
            output_size = output_size[len(leading):]
        if len(output_size) != n:
            raise ValueError(f"{op}: output_size must have {n} (or {n + len(leading)}) elements, "
                             f"got {output_size!r}")
        for o, d, s in zip(output_size, default, stride):
            if not d - s < o < d + s:
                raise ValueError(f"{op}: invalid output_size {output_size}: each size must lie "
                                 f"strictly between {tuple(d - s for d, s in zip(default, stride))} "
                                 f"and {tuple(d + s for d, s in zip(default, stride))}")
    if any(o < 1 for o in output_size):
        raise ValueError(f"{op}: output size {output_size} is too small")
    kernels.check_unpool_indices(indices.array, math.prod(output_size))
    return MaxUnpool.apply(input, indices, leading, output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: zeros except each value at its argmax position.

    Output size: (in - 1) * stride - 2 * padding + kernel_size, unless output_size is given.
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------- spatial pyramid pooling
def spatial_pyramid_levels(op, levels, mode):
    """Check spatial pyramid pooling's levels (positive ints) and mode ('max' or 'avg')."""
    if mode not in ("max", "avg"):
        raise ValueError(f"{op}: mode must be 'max' or 'avg', got {mode!r}")
    levels = tuple(levels)
    if not levels or not all(is_int(level) and level >= 1 for level in levels):
        raise ValueError(f"{op}: levels must be positive ints, got {levels!r}")
    return tuple(int(level) for level in levels)


def spatial_pyramid_pool(input, levels=(1, 2, 4), mode="max"):
    """Fixed-length features from any input size (He et al., SPP-net).

    For each level l the (N, C, H, W) input is pooled adaptively to l x l
    bins and flattened; the levels are concatenated:
    (N, C, H, W) -> (N, C * sum(l * l)).
    """
    levels = spatial_pyramid_levels("spatial_pyramid_pool", levels, mode)
    if not isinstance(input, Tensor) or input.ndim != 4:
        raise ValueError(f"spatial_pyramid_pool: expected an (N, C, H, W) input, got shape "
                         f"{tuple(getattr(input, 'shape', ()))}")
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    return cat([flatten(pool(input, level), 1) for level in levels], dim=1)
