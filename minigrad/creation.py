"""Functions that make new tensors: tensor, zeros, ones, randn, arange, ..."""
import numpy as np

from minigrad.random import generator
from minigrad.tensor import Tensor, _to_array, as_dtype, float32, int64


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data`.

    Python floats become float32, Python ints int64; NumPy arrays keep their
    dtype (float64 stays float64) unless `dtype` says otherwise.
    """
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing memory with `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _size(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{name}: sizes must be ints, got {size!r}")
        if n < 0:
            raise ValueError(f"{name}: sizes must be non-negative, got {size!r}")
    return tuple(int(n) for n in size)


def _new(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def zeros(*size, dtype=None, requires_grad=False):
    return _new(np.zeros(_size(size, "zeros"), dtype=as_dtype(dtype) or float32), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _new(np.ones(_size(size, "ones"), dtype=as_dtype(dtype) or float32), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = np.bool_
        elif isinstance(fill_value, (int, np.integer)):
            dtype = int64
        else:
            dtype = float32
    return _new(np.full(_size((size,), "full"), fill_value, dtype=as_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _new(np.empty(_size(size, "empty"), dtype=as_dtype(dtype) or float32), requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    return _new(np.zeros(other.shape, dtype=as_dtype(dtype) or other.dtype), requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    return _new(np.ones(other.shape, dtype=as_dtype(dtype) or other.dtype), requires_grad)


def full_like(other, fill_value, dtype=None, requires_grad=False):
    return _new(np.full(other.shape, fill_value, dtype=as_dtype(dtype) or other.dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples."""
    array = generator().standard_normal(_size(size, "randn"), dtype=np.float64)
    return _new(array.astype(as_dtype(dtype) or float32), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    array = generator().random(_size(size, "rand"), dtype=np.float64)
    return _new(array.astype(as_dtype(dtype) or float32), requires_grad)


def randint(low, high=None, size=(), dtype=None):
    """Integers on [low, high); randint(high, size) means low = 0, as in PyTorch."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    size = _size((size,), "randint") if not isinstance(size, (int, np.integer)) else (int(size),)
    return _new(generator().integers(low, high, size=size).astype(as_dtype(dtype) or int64), False)


def randperm(n, dtype=None):
    return _new(generator().permutation(n).astype(as_dtype(dtype) or int64), False)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start to end (exclusive); int arguments give int64, floats float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
        dtype = int64 if integral else float32
    return _new(np.arange(start, end, step).astype(as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _new(np.linspace(start, end, steps).astype(as_dtype(dtype) or float32), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _new(np.eye(n, m, dtype=as_dtype(dtype) or float32), requires_grad)
