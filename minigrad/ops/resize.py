"""Resizing: interpolate, pixel_shuffle, pixel_unshuffle.

These are the building blocks of resize-convolution (upsample, then
convolve), the usual fix for the checkerboard artifacts of transposed
convolutions.

Nearest and (bi/tri)linear interpolation are separable: resizing is done
one spatial axis at a time. Along an axis, output o reads input positions
i0[o] and i1[o] = min(i0[o] + 1, in - 1) with weights (1 - t[o], t[o])
(nearest: one position, weight 1), so the forward pass is a gather and a
lerp, and the backward pass scatter-adds the gradient back with the same
weights:

    forward:  y[..., o] = (1 - t[o]) * x[..., i0[o]] + t[o] * x[..., i1[o]]
    backward: grad_x[..., i0[o]] += (1 - t[o]) * g[..., o]
              grad_x[..., i1[o]] += t[o] * g[..., o]

Each output reads two inputs only: a NaN or inf in x reaches the outputs
next to it, not the whole row, and memory stays O(out) per axis.

Source coordinates follow PyTorch exactly (computed in the input's float
precision, as PyTorch's CPU kernels do; float16 in float32):

    nearest:                     src = min(floor(dst * scale), in - 1)
    nearest-exact:               src = min(floor((dst + 0.5) * scale), in - 1)
    linear, align_corners=False: src = max((dst + 0.5) * scale - 0.5, 0)
    linear, align_corners=True:  src = dst * (in - 1) / (out - 1)

where scale = 1 / scale_factor when scale_factor is given, else in / out.
mode='area' is adaptive average pooling to the output size, as in PyTorch.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.ops import pooling
from minigrad.ops._args import is_int
from minigrad.ops.shape import permute, reshape
from minigrad.tensor import Tensor

_MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,),
          "trilinear": (3,), "area": (1, 2)}
_UNSUPPORTED_MODES = ("bicubic",)


def _scale(in_size, out_size, scale_factor, dtype):
    if scale_factor is not None and scale_factor > 0:
        return dtype.type(1.0 / scale_factor)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_sources(in_size, out_size, scale_factor, dtype, exact=False):
    """(out,) input position each output copies: min(floor((o [+ 0.5]) * scale), in - 1)."""
    scale = _scale(in_size, out_size, scale_factor, dtype)
    positions = np.arange(out_size).astype(dtype)
    if exact:
        positions = positions + dtype.type(0.5)
    return np.minimum(np.floor(positions * scale).astype(np.int64), in_size - 1)


def linear_taps(in_size, out_size, scale_factor, align_corners, dtype):
    """(i0, i1, t), each (out,): output o = (1 - t) * x[i0] + t * x[i1]."""
    positions = np.arange(out_size).astype(dtype)
    if align_corners:
        scale = dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
        source = positions * scale
    else:
        scale = _scale(in_size, out_size, scale_factor, dtype)
        source = np.maximum((positions + dtype.type(0.5)) * scale - dtype.type(0.5), dtype.type(0))
    i0 = np.minimum(source.astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, source - i0.astype(dtype)


def _gather(x, axis, taps):
    """Resize x along `axis`: taps is (i0,) for nearest or (i0, i1, t) for linear."""
    if len(taps) == 1:
        return np.take(x, taps[0], axis=axis)
    i0, i1, t = taps
    t = t.reshape((-1,) + (1,) * (x.ndim - 1 - axis))      # broadcast along `axis`
    return (1 - t) * np.take(x, i0, axis=axis) + t * np.take(x, i1, axis=axis)


def _scatter(grad, axis, taps, in_size):
    """The adjoint of _gather: add each output's gradient back onto the inputs it read."""
    moved = np.moveaxis(grad, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])               # (rows, out)
    result = np.zeros((rows.shape[0], in_size), dtype=grad.dtype)
    if len(taps) == 1:
        np.add.at(result, (slice(None), taps[0]), rows)
    else:
        i0, i1, t = taps
        np.add.at(result, (slice(None), i0), rows * (1 - t))
        np.add.at(result, (slice(None), i1), rows * t)
    return np.moveaxis(result.reshape(moved.shape[:-1] + (in_size,)), -1, axis)


class Interpolate(Function):
    """Separable resize: a gather + lerp per spatial axis (float16 computed in float32)."""

    @staticmethod
    def forward(ctx, input, taps_per_axis):
        ctx.taps_per_axis, ctx.in_sizes = taps_per_axis, input.shape[2:]
        return _gather_taps(input, taps_per_axis)

    @staticmethod
    def backward(ctx, grad_output):
        return _scatter_taps(grad_output, ctx.taps_per_axis, ctx.in_sizes), None

    @staticmethod
    def backward_graph(ctx, grad):
        return InterpolateBackward.apply(grad, ctx.taps_per_axis, ctx.in_sizes), None


class InterpolateBackward(Function):
    """Interpolate's backward as an op (double backward): the scatter of each
    output gradient onto its taps. Linear; its adjoint is Interpolate itself."""

    @staticmethod
    def forward(ctx, grad_output, taps_per_axis, in_sizes):
        ctx.taps_per_axis = taps_per_axis
        return _scatter_taps(grad_output, taps_per_axis, in_sizes)

    @staticmethod
    def backward(ctx, grad):
        return _gather_taps(grad, ctx.taps_per_axis), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return Interpolate.apply(grad, ctx.taps_per_axis), None, None


def _gather_taps(x, taps_per_axis):
    """(N, C, *in_sizes) -> (N, C, *out_sizes): the gather + lerp along each spatial axis."""
    output = x.astype(np.float32) if x.dtype == np.float16 else x
    for axis, taps in enumerate(taps_per_axis, start=2):
        output = _gather(output, axis, taps)
    return np.ascontiguousarray(output, dtype=x.dtype)


def _scatter_taps(grad, taps_per_axis, in_sizes):
    """The adjoint of _gather_taps: (N, C, *out_sizes) -> (N, C, *in_sizes)."""
    dtype = grad.dtype
    grad = grad.astype(np.float32) if dtype == np.float16 else grad
    for axis, (taps, in_size) in enumerate(zip(taps_per_axis, in_sizes), start=2):
        grad = _scatter(grad, axis, taps, in_size)
    return np.ascontiguousarray(grad, dtype=dtype)


def _output_sizes(op, in_sizes, size, scale_factor):
    """(sizes, scales): the output size and the scale_factor (or None) of each spatial axis."""
    dims = len(in_sizes)
    if size is not None:
        if is_int(size):
            sizes = (size,) * dims
        elif isinstance(size, (tuple, list)):
            sizes = tuple(size)
        else:
            raise TypeError(f"{op}: size must be an int or a tuple of {dims} ints, got {size!r}")
        if len(sizes) != dims or not all(is_int(s) and s >= 1 for s in sizes):
            raise ValueError(f"{op}: size must be a positive int or a tuple of {dims} "
                             f"positive ints, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * dims
    if isinstance(scale_factor, (int, float, np.integer, np.floating)) and not isinstance(scale_factor, bool):
        scales = (float(scale_factor),) * dims
    elif isinstance(scale_factor, (tuple, list)) and all(
            isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool)
            for s in scale_factor):
        scales = tuple(float(s) for s in scale_factor)
    else:
        raise TypeError(f"{op}: scale_factor must be a number or a tuple of {dims} numbers, "
                        f"got {scale_factor!r}")
    if len(scales) != dims or any(not math.isfinite(s) or s <= 0 for s in scales):
        raise ValueError(f"{op}: scale_factor must be a finite positive number or a tuple of "
                         f"{dims}, got {scale_factor!r}")
    sizes = tuple(int(math.floor(float(n) * s)) for n, s in zip(in_sizes, scales))
    if any(s < 1 for s in sizes):
        raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output {sizes}")
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resize (N, C, *spatial) to `size`, or by `scale_factor` (output = floor(in * scale_factor)).

    mode: 'nearest' and 'nearest-exact' (1-3 spatial dims), 'linear' (1),
    'bilinear' (2), 'trilinear' (3), 'area' (1-2: adaptive average pooling).
    float16 inputs are computed in float32 and returned as float16.
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode in _UNSUPPORTED_MODES:
        raise ValueError(f"{op}: mode {mode!r} is not available in minigrad; use one of {sorted(_MODES)}")
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {sorted(_MODES)}, got {mode!r}")
    spatial_dims = input.ndim - 2
    if spatial_dims not in _MODES[mode]:
        ranks = " or ".join(f"{d + 2}-D" for d in _MODES[mode])
        raise ValueError(f"{op}: mode {mode!r} expects a {ranks} input, got shape {tuple(input.shape)}")
    if input.dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{op}: expected a float16, float32 or float64 input, got {input.dtype}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | trilinear (got mode={mode!r})")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor (got size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    in_sizes = tuple(input.shape[2:])
    sizes, scales = _output_sizes(op, in_sizes, size, scale_factor)
    if mode == "area":
        pool = pooling.adaptive_avg_pool1d if spatial_dims == 1 else pooling.adaptive_avg_pool2d
        return pool(input, sizes)
    dtype = np.dtype(np.float32) if input.dtype == np.float16 else input.dtype
    if mode in ("nearest", "nearest-exact"):
        taps = tuple((nearest_sources(n, o, s, dtype, exact=mode == "nearest-exact"),)
                     for n, o, s in zip(in_sizes, sizes, scales))
    else:   # an axis that keeps its size is copied, as in PyTorch (no 0 * NaN from a neighbour)
        taps = tuple((np.arange(n),) if n == o else linear_taps(n, o, s, bool(align_corners), dtype)
                     for n, o, s in zip(in_sizes, sizes, scales))
    return Interpolate.apply(input, taps)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): sub-pixel channels become pixels."""
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected (*, C*{r * r}, H, W) with channels divisible by "
                         f"upscale_factor**2 = {r * r}, got shape {tuple(input.shape)}")
    *batch, channels, height, width = input.shape
    c = channels // (r * r)
    k = len(batch)
    x = reshape(input, *batch, c, r, r, height, width)
    # (*, C, r_h, r_w, H, W) -> (*, C, H, r_h, W, r_w)
    x = permute(x, *range(k), k, k + 3, k + 1, k + 4, k + 2)
    return reshape(x, *batch, c, height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of pixel_shuffle."""
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected (*, C, H, W) with H and W divisible by "
                         f"downscale_factor = {r}, got shape {tuple(input.shape)}")
    *batch, channels, height, width = input.shape
    k = len(batch)
    x = reshape(input, *batch, channels, height // r, r, width // r, r)
    # (*, C, H, r_h, W, r_w) -> (*, C, r_h, r_w, H, W)
    x = permute(x, *range(k), k, k + 2, k + 4, k + 1, k + 3)
    return reshape(x, *batch, channels * r * r, height // r, width // r)


def _factor(value, op, name):
    if not is_int(value) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def channel_shuffle(input, groups):
    """(N, C, *) -> (N, C, *) with channels regrouped: split C into `groups` groups
    of C/groups and interleave them (ShuffleNet), i.e. channel g*k + j moves to j*groups + g."""
    if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
        raise RuntimeError(f"channel_shuffle: Number of groups to divide channels in must be "
                           f"positive. Value of groups:{groups!r}")
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle: expected an input of at least 3 dimensions "
                           f"(N, C, *), got shape {tuple(input.shape)}")
    batch, channels, *spatial = input.shape
    if channels % groups:
        raise RuntimeError(f"channel_shuffle: Number of channels must be divisible by groups. "
                           f"Got {channels} channels and {groups} groups.")
    x = reshape(input, batch, groups, channels // groups, *spatial)
    x = permute(x, 0, 2, 1, *range(3, x.ndim))      # (N, C/g, g, *)
    return reshape(x, batch, channels, *spatial)
