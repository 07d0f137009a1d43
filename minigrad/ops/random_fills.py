"""In-place random fills (PyTorch's ``x.exponential_()`` and friends).

Each draws from minigrad's generator (``minigrad.manual_seed`` makes it
reproducible) or the ``generator=`` given, and overwrites every element
(the old values get no gradient, as for ``fill_``). The distributions:

- ``random_(from, to)``: integers uniform on [from, to); ``random_(to)``:
  [0, to); ``random_()``: [0, 2**mantissa_digits] for floats, [0, max] for ints
- ``exponential_(lambd)``: density lambd * exp(-lambd * x), mean 1 / lambd
- ``geometric_(p)``: P(k) = (1 - p)**(k - 1) * p on k = 1, 2, ..., mean 1 / p
- ``cauchy_(median, sigma)``: density 1 / (pi * sigma * (1 + ((x - median) / sigma)**2))
- ``log_normal_(mean, std)``: exp(N(mean, std**2)), median exp(mean)
- ``bernoulli_(p)``: 1 with probability p (a number or a tensor broadcast to x), else 0
"""
import numpy as np

from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

_FLOAT_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def random_(tensor, *args, generator=None, **kwargs):
    """random_(from=0, to=None) or random_(to): integers uniform on [from, to)."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments, got {len(args)}")
    bounds = dict(zip(("from", "to") if len(args) != 1 else ("to",), args))
    for key, value in kwargs.items():
        if key not in ("from", "to") or key in bounds:
            raise TypeError(f"random_() got an unexpected or repeated keyword argument '{key}'")
        bounds[key] = value
    low, high = bounds.get("from", 0), bounds.get("to")
    dtype = tensor.array.dtype
    if high is None:
        if dtype == np.bool_:
            high = 2
        elif dtype.kind == "f":
            high = 2 ** _FLOAT_DIGITS[dtype] + 1
        else:
            high = int(np.iinfo(dtype).max) + 1
    for name, value in (("from", low), ("to", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"random_(): '{name}' must be an int, got {value!r}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    draw = numpy_generator(generator).integers(low, high, size=tensor.array.shape, dtype=np.int64)
    return tensor._overwrite("random_", draw.astype(dtype))


def _check_float(tensor, name):
    if tensor.array.dtype.kind != "f":
        raise RuntimeError(f"{name} only supports floating-point dtypes, got {tensor.array.dtype}")


def exponential_(tensor, lambd=1.0, *, generator=None):
    """Samples with density lambd * exp(-lambd * x) (mean 1 / lambd)."""
    _check_float(tensor, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    draw = numpy_generator(generator).exponential(1.0 / lambd, size=tensor.array.shape)
    return tensor._overwrite("exponential_", draw)


def geometric_(tensor, p, *, generator=None):
    """The number of Bernoulli(p) trials up to the first success (1, 2, ...; mean 1 / p)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    draw = numpy_generator(generator).geometric(p, size=tensor.array.shape)
    return tensor._overwrite("geometric_", draw)


def cauchy_(tensor, median=0.0, sigma=1.0, *, generator=None):
    """median + sigma * (a standard Cauchy sample)."""
    _check_float(tensor, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    draw = median + sigma * numpy_generator(generator).standard_cauchy(size=tensor.array.shape)
    return tensor._overwrite("cauchy_", draw)


def log_normal_(tensor, mean=1.0, std=2.0, *, generator=None):
    """exp(x) for x ~ N(mean, std**2)."""
    _check_float(tensor, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    draw = numpy_generator(generator).lognormal(mean, std, size=tensor.array.shape)
    return tensor._overwrite("log_normal_", draw)


def bernoulli_(tensor, p=0.5, *, generator=None):
    """1 with probability p (a number, or a tensor broadcast to this shape), else 0."""
    probability = p.array if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
    if probability.ndim == 0 and not 0 <= float(probability) <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    if probability.ndim and (np.any(probability < 0) or np.any(probability > 1)):
        raise RuntimeError("bernoulli_ expects all elements of p to be in [0, 1]")
    try:
        probability = np.broadcast_to(probability, tensor.array.shape)
    except ValueError:
        raise RuntimeError(f"bernoulli_: p of shape {list(probability.shape)} can't be broadcast to the "
                           f"tensor's shape {list(tensor.array.shape)}") from None
    draw = numpy_generator(generator).random(tensor.array.shape) < probability
    return tensor._overwrite("bernoulli_", draw)
