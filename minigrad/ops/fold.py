"""unfold and fold: sliding blocks to columns and back (``F.unfold``, ``F.fold``).

unfold copies every kernel_size block of a 2-d image into a column:

    columns[n, c*kh*kw + i*kw + j, l] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]

for the block l = oh*W_blocks + ow (zero where the block reads padding), with
the number of blocks per axis

    blocks = floor((size + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1

fold is its adjoint: it sums every column entry back into the place it was
read from (overlapping blocks add up). The two are the convolution's im2col
and col2im (minigrad/kernels/conv.py), so each is the other's backward:

    dL/dx       = fold(dL/dcolumns)       for columns = unfold(x)
    dL/dcolumns = unfold(dL/dy)           for y = fold(columns)

Both take batched or unbatched input: unfold (N, C, H, W) -> (N, C*kh*kw, L)
or (C, H, W) -> (C*kh*kw, L); fold the other way round.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.kernels import conv as kernels
from minigrad.ops._args import is_int
from minigrad.ops.elementwise import in_float32
from minigrad.tensor import Tensor


class _BlockGeometry:
    """kernel, dilation, padding, stride (2-tuples), the image size and the block grid."""

    def __init__(self, kernel_size, dilation, padding, stride, image_size, blocks):
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride
        self.image_size = image_size    # (H, W)
        self.blocks = blocks            # (blocks along H, blocks along W)

    def im2col(self, x):
        """x (N, C, H, W) -> columns (N, C*kh*kw, L)."""
        x5 = x[:, :, None]                                            # (N, C, 1, H, W)
        return kernels.im2col(x5, (1,) + self.blocks, (1,) + self.kernel_size, (1,) + self.stride,
                              (0,) + self.padding, (1,) + self.dilation)

    def col2im(self, columns, channels):
        """columns (N, C*kh*kw, L) -> (N, C, H, W), overlapping entries summed."""
        shape5 = (columns.shape[0], channels, 1) + self.image_size     # (N, C, 1, H, W)
        x5 = kernels.col2im(columns, shape5, (1,) + self.blocks, (1,) + self.kernel_size,
                            (1,) + self.stride, (0,) + self.padding, (1,) + self.dilation)
        return x5[:, :, 0]


class Im2Col(Function):
    """columns = unfold(x); backward: fold (col2im) of the incoming gradient."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.channels = geometry, x.shape[1]
        return geometry.im2col(x)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.geometry.col2im(grad_output, ctx.channels), None

    @staticmethod
    def backward_graph(ctx, grad):
        return Col2Im.apply(grad, ctx.geometry, ctx.channels), None  # fold and unfold: adjoints


class Col2Im(Function):
    """y = fold(columns); backward: unfold (im2col) of the incoming gradient."""

    fresh_gradients = True  # backward returns a newly allocated gradient

    @staticmethod
    def forward(ctx, columns, geometry, channels):
        ctx.geometry = geometry
        return geometry.col2im(columns, channels)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.geometry.im2col(grad_output), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return Im2Col.apply(grad, ctx.geometry), None, None


# ---------------------------------------------------------------------------
# Argument checking, with PyTorch's messages (RuntimeError, as its im2col/col2im)
# ---------------------------------------------------------------------------

def _pair(value, name, fn):
    """An int or a 2-sequence of ints -> a 2-tuple (PyTorch's _pair, then the length check)."""
    if is_int(value):
        return (int(value),) * 2
    if isinstance(value, (tuple, list)):
        if not all(is_int(v) for v in value):
            bad = next(v for v in value if not is_int(v))
            raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, but found element of "
                            f"type {type(bad).__name__}")
        if len(value) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
        return tuple(int(v) for v in value)
    raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")


def _geometry_args(kernel_size, dilation, padding, stride, fn):
    kernel_size = _pair(kernel_size, "kernel_size", fn)
    dilation = _pair(dilation, "dilation", fn)
    padding = _pair(padding, "padding", fn)
    stride = _pair(stride, "stride", fn)
    for name, value, minimum in (("kernel size", kernel_size, 1), ("stride", stride, 1),
                                 ("dilation", dilation, 1)):
        if min(value) < minimum:
            short = {"kernel size": "kernel", "stride": "stride", "dilation": "dilation"}[name]
            raise RuntimeError(f"{name} should be greater than zero, but got {short}_height: {value[0]} "
                               f"{short}_width: {value[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    return kernel_size, dilation, padding, stride


def _blocks(size, kernel_size, dilation, padding, stride):
    """Blocks per axis: floor((size + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel_size, dilation, padding, stride))


def _check_dtype(x, kernel):
    if x.dtype.kind != "f" or x.dtype not in (np.float16, np.float32, np.float64):
        raise NotImplementedError(f'"{kernel}" not implemented for {x.dtype} (expected float16, float32 '
                                  f'or float64 input)')


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a (N, C, H, W) or (C, H, W) image as columns: (N, C*kh*kw, L) or (C*kh*kw, L).

    L = blocks_h * blocks_w, blocks = floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype == np.float16:  # computed in float32, returned as float16 (PyTorch on CPU)
        return in_float32(unfold, input, kernel_size, dilation, padding, stride)
    if input.ndim < 3:
        raise IndexError(f"unfold: expected a 3-d (unbatched) or 4-d (batched) input, got input of shape "
                         f"{tuple(input.shape)}")
    kernel_size, dilation, padding, stride = _geometry_args(kernel_size, dilation, padding, stride, "im2col")
    shape = list(input.shape)
    if input.ndim > 4 or 0 in shape[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    _check_dtype(input, "im2col_out_cpu")
    image_size = tuple(shape[-2:])
    blocks = _blocks(image_size, kernel_size, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {image_size}, kernel_size={kernel_size}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the array of "
                           f"sliding blocks as {blocks}, but its components must be at least one.")
    geometry = _BlockGeometry(kernel_size, dilation, padding, stride, image_size, blocks)
    if input.ndim == 3:                                   # unbatched: (C, H, W) -> (C*kh*kw, L)
        return Im2Col.apply(input.unsqueeze(0), geometry).squeeze(0)
    return Im2Col.apply(input, geometry)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C*kh*kw, L) or (C*kh*kw, L) summed back into (N, C, H, W) or (C, H, W) images.

    The adjoint of unfold: overlapping blocks add up; L must equal the block count of output_size.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype == np.float16:
        return in_float32(fold, input, output_size, kernel_size, dilation, padding, stride)
    output_size = _pair(output_size, "output_size", "col2im")
    kernel_size, dilation, padding, stride = _geometry_args(kernel_size, dilation, padding, stride, "col2im")
    shape = list(input.shape)
    if input.ndim not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {shape}")
    _check_dtype(input, "col2im_out_cpu")
    rows, length = shape[-2:]
    kernel_area = math.prod(kernel_size)
    if rows % kernel_area:
        raise RuntimeError(f"Expected size of input's dimension {input.ndim - 2} to be divisible by the product "
                           f"of kernel_size, but got input.size({input.ndim - 2})={rows} and "
                           f"kernel_size={kernel_size}.")
    blocks = _blocks(output_size, kernel_size, dilation, padding, stride)
    if min(blocks) < 1 or math.prod(blocks) != length:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension "
                           f"{input.ndim - 1} to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size({input.ndim - 1})={length}.")
    geometry = _BlockGeometry(kernel_size, dilation, padding, stride, output_size, blocks)
    channels = rows // kernel_area
    if input.ndim == 2:                                   # unbatched: (C*kh*kw, L) -> (C, H, W)
        return Col2Im.apply(input.unsqueeze(0), geometry, channels).squeeze(0)
    return Col2Im.apply(input, geometry, channels)
