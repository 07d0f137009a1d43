"""Argument checks shared by the layers: PyTorch's constructors validate up front."""

from minigrad.ops._args import is_int  # noqa: F401  (the layers and models import it from here)
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor, as_dtype


def factory_dtype(layer, device, dtype):
    """PyTorch's device=/dtype= factory arguments: only the CPU exists here."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: device must be None or 'cpu' (minigrad runs on the CPU), "
                         f"got {device!r}")
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def positive_int(value, name):
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_input(layer, input, ndims, channels=None, channel_axis=None, what="channels"):
    """Raise ValueError naming the expected and actual input shape.

    The channel axis is `channel_axis`, or by default 1 for a batched input
    (ndim == max(ndims)) and 0 for an unbatched one.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer}: expected a Tensor input, got {type(input).__name__}")
    if input.ndim not in ndims:
        expected = " or ".join(f"{d}-d" for d in ndims)
        raise ValueError(f"{layer}: expected {expected} input, got {input.ndim}-d input of shape "
                         f"{tuple(input.shape)}")
    if channels is not None:
        axis = channel_axis if channel_axis is not None else (1 if input.ndim == max(ndims) else 0)
        if input.shape[axis] != channels:
            raise ValueError(f"{layer}: expected input with {channels} {what} (dimension {axis}), "
                             f"got input of shape {tuple(input.shape)} with {input.shape[axis]}")
