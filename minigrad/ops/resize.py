"""Resizing: interpolate, pixel_shuffle, pixel_unshuffle.

These are the building blocks of resize-convolution (upsample, then
convolve), the usual fix for the checkerboard artifacts of transposed
convolutions.

Nearest and (bi/tri)linear interpolation are separable: resizing along one
spatial axis is multiplication by a matrix A of shape (out, in) whose row o
holds the weights of the input positions that output o reads. Resizing
(N, C, H, W) is then A_h @ x @ A_w^T, and the backward is the transpose:

    forward:  y = A_h @ x @ A_w^T          (N, C, Ho, Wo)
    backward: grad_x = A_h^T @ g @ A_w     (N, C, H, W)

Source coordinates follow PyTorch exactly (computed in the input's float
precision, as PyTorch's CPU kernels do):

    nearest:                     src = min(floor(dst * scale), in - 1)
    linear, align_corners=False: src = max((dst + 0.5) * scale - 0.5, 0)
    linear, align_corners=True:  src = dst * (in - 1) / (out - 1)

where scale = 1 / scale_factor when scale_factor is given, else in / out.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.ops.shape import permute, reshape
from minigrad.tensor import Tensor

_MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,)}


def _scale(in_size, out_size, scale_factor, dtype):
    if scale_factor is not None and scale_factor > 0:
        return dtype.type(1.0 / scale_factor)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_matrix(in_size, out_size, scale_factor, dtype):
    """(out, in) 0/1 matrix picking input min(floor(o * scale), in - 1) for output o."""
    scale = _scale(in_size, out_size, scale_factor, dtype)
    positions = np.arange(out_size).astype(dtype)
    source = np.minimum(np.floor(positions * scale).astype(np.int64), in_size - 1)
    matrix = np.zeros((out_size, in_size), dtype=dtype)
    matrix[np.arange(out_size), source] = 1
    return matrix


def linear_matrix(in_size, out_size, scale_factor, align_corners, dtype):
    """(out, in) matrix of linear-interpolation weights: (1 - t) at i0, t at i0 + 1."""
    positions = np.arange(out_size).astype(dtype)
    if align_corners:
        scale = dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
        source = positions * scale
    else:
        scale = _scale(in_size, out_size, scale_factor, dtype)
        source = np.maximum((positions + dtype.type(0.5)) * scale - dtype.type(0.5), dtype.type(0))
    i0 = np.minimum(source.astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    t = source - i0.astype(dtype)
    matrix = np.zeros((out_size, in_size), dtype=dtype)
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, i0), 1 - t)
    np.add.at(matrix, (rows, i1), t)
    return matrix


def _along(x, matrix, axis):
    """Multiply every 1-d slice of x along `axis` by `matrix`."""
    moved = np.moveaxis(x, axis, -1)                   # (..., in)
    return np.moveaxis(moved @ matrix.T, -1, axis)     # (..., out)


class Interpolate(Function):
    """Separable resize: one (out, in) matrix per spatial axis."""

    @staticmethod
    def forward(ctx, input, matrices, nearest_sources):
        ctx.matrices = matrices
        first_spatial = input.ndim - len(matrices)
        output = input
        if nearest_sources is not None:  # exact gather (no 0 * inf from a matrix product)
            for axis, source in enumerate(nearest_sources, start=first_spatial):
                output = np.take(output, source, axis=axis)
            return np.ascontiguousarray(output)
        for axis, matrix in enumerate(matrices, start=first_spatial):
            output = _along(output, matrix, axis)
        return np.ascontiguousarray(output)

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output
        first_spatial = grad.ndim - len(ctx.matrices)
        for axis, matrix in enumerate(ctx.matrices, start=first_spatial):
            grad = _along(grad, matrix.T, axis)
        return np.ascontiguousarray(grad), None, None


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resize (N, C, *spatial) to `size`, or by `scale_factor` (output = floor(in * scale_factor)).

    mode: 'nearest' (1-3 spatial dims), 'linear' (1), 'bilinear' (2), 'trilinear' (3).
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {sorted(_MODES)}, got {mode!r}")
    spatial_dims = input.ndim - 2
    if spatial_dims not in _MODES[mode]:
        ranks = " or ".join(f"{d + 2}-D" for d in _MODES[mode])
        raise ValueError(f"{op}: mode {mode!r} expects a {ranks} input, got shape {tuple(input.shape)}")
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 input, got {input.dtype}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | trilinear (got mode={mode!r})")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor (got size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        sizes = (size,) * spatial_dims if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != spatial_dims or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"{op}: size must be a positive int or a tuple of {spatial_dims} "
                             f"positive ints, got {size!r}")
        scales = (None,) * spatial_dims
    else:
        scales = ((scale_factor,) * spatial_dims if isinstance(scale_factor, (int, float))
                  else tuple(scale_factor))
        if len(scales) != spatial_dims or any(s <= 0 for s in scales):
            raise ValueError(f"{op}: scale_factor must be a positive number or a tuple of "
                             f"{spatial_dims}, got {scale_factor!r}")
        sizes = tuple(int(math.floor(float(n) * s)) for n, s in zip(in_sizes, scales))
        if any(s < 1 for s in sizes):
            raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output {sizes}")
    dtype = input.dtype
    if mode == "nearest":
        matrices = tuple(nearest_matrix(n, o, s, dtype) for n, o, s in zip(in_sizes, sizes, scales))
        sources = tuple(m.argmax(axis=1) for m in matrices)
    else:
        matrices = tuple(linear_matrix(n, o, s, bool(align_corners), dtype)
                         for n, o, s in zip(in_sizes, sizes, scales))
        sources = None
    return Interpolate.apply(input, matrices, sources)


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
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)
