"""Functions that make new tensors: tensor, zeros, ones, randn, arange, ...

Every one takes PyTorch's keywords: ``dtype=``, ``device=`` (the CPU: see
minigrad/device.py), ``requires_grad=`` and, for random ones, ``generator=``.
"""
import numpy as np

from minigrad.devices import check_device
from minigrad.random import numpy_generator
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor, _to_array, as_dtype, int64


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of `data`.

    Python floats become the default dtype (float32), ints int64; NumPy arrays keep their
    dtype (float64 stays float64) unless `dtype` says otherwise.
    """
    check_device(device)
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but a Tensor or ndarray of the right dtype is shared, not copied."""
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == as_dtype(dtype)):
        return Tensor(data)
    return tensor(data, dtype)


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


def _new(array, requires_grad, device=None):
    check_device(device)
    return Tensor(array, requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _new(np.zeros(_size(size, "zeros"), dtype=as_dtype(dtype) or get_default_dtype()), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _new(np.ones(_size(size, "ones"), dtype=as_dtype(dtype) or get_default_dtype()), requires_grad, device)


def _fill_dtype(fill_value):
    """full()'s dtype from its value: bool, int64 or get_default_dtype() (as in PyTorch)."""
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(fill_value, (int, np.integer)):
        return int64
    return get_default_dtype()


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype = as_dtype(dtype) or _fill_dtype(fill_value)
    size = (size,) if isinstance(size, (int, np.integer)) else size
    return _new(np.full(_size((size,), "full"), fill_value, dtype=dtype), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _new(np.empty(_size(size, "empty"), dtype=as_dtype(dtype) or get_default_dtype()), requires_grad, device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return _new(np.zeros(input.shape, dtype=as_dtype(dtype) or input.dtype), requires_grad, device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return _new(np.ones(input.shape, dtype=as_dtype(dtype) or input.dtype), requires_grad, device)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    return _new(np.empty(input.shape, dtype=as_dtype(dtype) or input.dtype), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _new(np.full(input.shape, fill_value, dtype=as_dtype(dtype) or input.dtype), requires_grad, device)


def _float_dtype(dtype, name):
    dtype = as_dtype(dtype) or get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point dtype, got {dtype}")
    return dtype


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    array = numpy_generator(generator).standard_normal(_size(size, "randn"), dtype=np.float64)
    return _new(array.astype(_float_dtype(dtype, "randn")), requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    array = numpy_generator(generator).random(_size(size, "rand"), dtype=np.float64)
    return _new(array.astype(_float_dtype(dtype, "rand")), requires_grad, device)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers on [low, high); randint(high, size) means low = 0, as in PyTorch."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the size argument, e.g. randint(0, 10, (3,))")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    size = _size((size,), "randint") if not isinstance(size, (int, np.integer)) else (int(size),)
    values = numpy_generator(generator).integers(low, high, size=size)
    return _new(values.astype(as_dtype(dtype) or int64), requires_grad, device)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device,
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    return _new(numpy_generator(generator).permutation(n).astype(as_dtype(dtype) or int64),
                requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples; mean and std are numbers (with size) or tensors (their broadcast shape)."""
    mean_array = mean.array if isinstance(mean, Tensor) else np.asarray(mean)
    std_array = std.array if isinstance(std, Tensor) else np.asarray(std)
    shape = _size((size,), "normal") if size is not None else np.broadcast_shapes(mean_array.shape,
                                                                                  std_array.shape)
    dtype = as_dtype(dtype) or (mean_array.dtype if mean_array.dtype.kind == "f" and mean_array.ndim
                                else get_default_dtype())
    draw = numpy_generator(generator).normal(mean_array, std_array, size=shape)
    return _new(np.asarray(draw).astype(dtype), requires_grad, device)


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p), else 0; the input's dtype."""
    probability = input.array if p is None else p
    draw = numpy_generator(generator).random(input.shape) < probability
    return Tensor(draw.astype(input.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn with probabilities proportional to the rows of input (1-d or 2-d)."""
    weights = input.array.astype(np.float64)
    rows = weights.reshape(-1, weights.shape[-1])
    if np.any(rows < 0) or np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("multinomial: probabilities must be non-negative with a positive sum")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement "
                           f"from {rows.shape[1]} categories")
    rng = numpy_generator(generator)
    samples = [rng.choice(rows.shape[1], size=num_samples, replace=replacement, p=row / row.sum())
               for row in rows]
    result = np.asarray(samples, dtype=np.int64)
    return Tensor(result.reshape(weights.shape[:-1] + (num_samples,)))


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive); int arguments give int64, floats float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
        dtype = int64 if integral else get_default_dtype()
    return _new(np.arange(start, end, step).astype(as_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    return _new(np.linspace(start, end, steps).astype(as_dtype(dtype) or get_default_dtype()), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _new(np.logspace(start, end, steps, base=base).astype(as_dtype(dtype) or get_default_dtype()),
                requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _new(np.eye(n, m, dtype=as_dtype(dtype) or get_default_dtype()), requires_grad, device)
