"""``make_tensor``: a random tensor for tests, drawn uniformly from [low, high).

Default ranges, as in PyTorch: bool [0, 2), uint8 [0, 10), signed integers
[-9, 10), floating types [-9, 9). A given low or high outside what the dtype
holds is clamped to it; integer bounds are rounded up (ceil). Draws come
from minigrad's generator, so ``minigrad.manual_seed`` makes them repeatable.
"""
import collections.abc
import math
import warnings

import numpy as np

from minigrad import random
from minigrad.devices import check_device
from minigrad.dtypes import as_dtype
from minigrad.ops.layout import channels_last, channels_last_3d, contiguous_format, preserve_format
from minigrad.tensor import Tensor

_INTEGRAL = tuple(np.dtype(d) for d in (np.uint8, np.int8, np.int16, np.int32, np.int64))
_FLOATING = tuple(np.dtype(d) for d in (np.float16, np.float32, np.float64))
_BOOL = np.dtype(np.bool_)


def _low_high(low, high, dtype, lowest_inclusive, highest_exclusive, default_low, default_high):
    """Check the user's bounds and clamp them into what the dtype holds."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    elif low == high and dtype in _FLOATING:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but minigrad.{dtype} only supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype == _BOOL or dtype in _INTEGRAL:
        return math.ceil(low), math.ceil(high)
    return low, high


def _uniform(generator, low, high, shape, dtype):
    """Uniform floats in [low, high) of `dtype` (drawn in float64, kept below high after rounding)."""
    if high - low >= np.finfo(np.float64).max:   # the width itself would overflow: draw half of it
        values = generator.uniform(low / 2, high / 2, shape) * 2
    else:
        values = generator.uniform(low, high, shape)
    values = np.asarray(values).astype(dtype)
    if high > low:
        values = np.minimum(values, np.nextafter(dtype.type(high), dtype.type(-np.inf)))
    return values


def _with_memory_format(array, memory_format):
    """A copy of `array` laid out in `memory_format` (channels_last: C is the fastest dim)."""
    if memory_format in (contiguous_format, preserve_format):
        return np.ascontiguousarray(array)
    rank = {channels_last: 4, channels_last_3d: 5}.get(memory_format)
    if rank is None:
        raise TypeError(f"memory_format must be a minigrad.memory_format, got {memory_format!r}")
    if array.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {memory_format.name} format")
    order = (0, *range(2, rank), 1)                      # (N, C, *spatial) -> (N, *spatial, C)
    channels_last_copy = np.ascontiguousarray(array.transpose(order))
    return channels_last_copy.transpose(np.argsort(order))   # same shape, C-fastest strides


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` with values uniform in [low, high) (defaults by dtype, see the module docstring).

    noncontiguous=True: every other element of a buffer twice as long in the last dim
    (ignored below two elements); exclude_zero=True: zeros become 1 (integers, bool)
    or the dtype's smallest normal number (floats).
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got noncontiguous={noncontiguous} and memory_format={memory_format}")
    dtype = as_dtype(dtype)
    check_device(device)
    integral = dtype == _BOOL or dtype in _INTEGRAL
    if requires_grad and integral:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype=minigrad.{dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    draw_shape = (*shape[:-1], 2 * shape[-1]) if noncontiguous else shape
    generator = random.generator()
    if dtype == _BOOL:
        low, high = _low_high(low, high, dtype, 0, 2, 0, 2)
        array = generator.integers(low, high, draw_shape).astype(np.bool_)
    elif dtype in _INTEGRAL:
        info = np.iinfo(dtype)
        highest_exclusive = info.max + (1 if dtype != np.int64 else 0)
        low, high = _low_high(low, high, dtype, int(info.min), int(highest_exclusive), -9, 10)
        array = generator.integers(low, high, draw_shape, dtype=np.int64).astype(dtype)
    elif dtype in _FLOATING:
        info = np.finfo(dtype)
        low, high = _low_high(low, high, dtype, float(info.min), float(info.max), -9, 9)
        array = _uniform(generator, low, high, draw_shape, dtype)
    else:
        raise TypeError(f"The requested dtype 'minigrad.{dtype}' is not supported by "
                        f"minigrad.testing.make_tensor().")
    if noncontiguous:
        array = array[..., 1::2]
    elif memory_format is not None:
        array = _with_memory_format(array, memory_format)
    if exclude_zero:
        array[array == 0] = 1 if integral else np.finfo(dtype).tiny
    return Tensor._make(array, bool(requires_grad) and not integral, None)
