"""The deprecated resizing functions, kept as torch.nn.functional keeps them.

Each warns (UserWarning, as torch) and calls ``interpolate`` (ops/resize.py):

- ``upsample(input, size, scale_factor, mode, align_corners)`` = interpolate itself,
- ``upsample_nearest(input, size, scale_factor)``  = interpolate(..., mode='nearest'),
- ``upsample_bilinear(input, size, scale_factor)`` = interpolate(..., mode='bilinear',
  align_corners=True): corners map to corners, x_in = x_out * (in - 1) / (out - 1).
"""
import warnings

from minigrad.ops.resize import interpolate


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
