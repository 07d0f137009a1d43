"""Lay the weights of 2-d / 3-d convolutions out in another memory format (torch.nn.utils.memory_format).

``channels_last`` stores a (O, C, H, W) weight as (O, H, W, C) in memory (strides
of an NHWC array viewed as NCHW), ``channels_last_3d`` a 5-d one as (O, D, H, W, C);
``contiguous_format`` is the usual row-major layout. Only the layout changes,
never the values or the shape; the Parameter objects stay the same (an
optimizer holding them keeps training them). minigrad's kernels take any
layout (the kernel boundary makes arrays contiguous), so this only matters for
code that inspects ``is_contiguous(memory_format=...)`` or the strides.
"""
import numpy as np

from minigrad.ops.layout import channels_last, channels_last_3d, contiguous_format

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _relayout(array, memory_format):
    if memory_format is contiguous_format:
        return np.ascontiguousarray(array)
    rank = {channels_last: 4, channels_last_3d: 5}.get(memory_format)
    if rank is None:
        raise RuntimeError(f"unsupported memory_format {memory_format}; use contiguous_format, "
                           "channels_last or channels_last_3d")
    if array.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {memory_format} format, got a "
                           f"tensor of rank {array.ndim}")
    to_last = (0,) + tuple(range(2, rank)) + (1,)          # (O, *S, C)
    back = (0, rank - 1) + tuple(range(1, rank - 1))        # view it as (O, C, *S) again
    return np.ascontiguousarray(np.transpose(array, to_last)).transpose(back)


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        module.weight.array = _relayout(module.weight.array, memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Re-lay the weight of every Conv2d / ConvTranspose2d in `module` (recursively); returns module."""
    from minigrad.nn import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Re-lay the weight of every Conv3d / ConvTranspose3d in `module` (recursively); returns module."""
    from minigrad.nn import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
