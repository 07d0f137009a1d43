"""Global settings and dtype facts: the default float dtype, print options,
deterministic mode, finfo/iinfo and PyTorch's type promotion.

The default dtype is what Python floats become (``minigrad.tensor([1.0])``)
and what the factories (``zeros rand arange(0.5) ...``) make when no dtype is
given; every place that needs it calls ``get_default_dtype()``.

Type promotion follows PyTorch, not NumPy: categories bool < integer <
floating; inside a category the wider dtype wins (uint8 with int8 gives
int16); across categories the higher category's dtype wins as it is
(int64 with float16 gives float16, where NumPy gives float64).
"""
import builtins
import contextlib
import math
import sys

import numpy as np

from minigrad.dtypes import as_dtype, bool_, float32, float64

# ------------------------------------------------------------------ default dtype
_default_dtype = float32


def get_default_dtype():
    """The float dtype Python floats and the factories use (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(d):
    """Make `d` (float16, float32 or float64) the default float dtype."""
    global _default_dtype
    dtype = as_dtype(d)
    if dtype is None or dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype = dtype


# ------------------------------------------------------------------ print options
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
_print_options = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """How Tensor repr prints: digits after the point, the element count above which it
    summarises with '...', items kept at each edge then, characters per line, and
    scientific notation (True, False, or None: automatic). profile ('default', 'short',
    'full') sets the first four; sci_mode is always set (as in PyTorch)."""
    if profile in _PROFILES:
        _print_options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _print_options[name] = value
    _print_options["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options, as a dict of set_printoptions' arguments."""
    return dict(_print_options)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print options set inside the block only."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        _print_options.clear()
        _print_options.update(saved)


def format_array(array, prefix):
    """The body of a tensor's repr with the current print options (NumPy's layout)."""
    options = _print_options
    threshold = options["threshold"]
    kwargs = dict(separator=", ", prefix=prefix, precision=int(options["precision"]),
                  threshold=sys.maxsize if threshold == math.inf else int(threshold),
                  edgeitems=int(options["edgeitems"]), max_line_width=int(options["linewidth"]))
    if options["sci_mode"] is True and array.dtype.kind == "f":
        digits = int(options["precision"])
        kwargs["formatter"] = {"float_kind": lambda v: f"{v:.{digits}e}"}
    elif options["sci_mode"] is False:
        kwargs["suppress_small"] = True
    return np.array2string(array, **kwargs)



# ---------------------------------------------------------- deterministic algorithms
_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms. minigrad's CPU kernels already are: their
    sums run in a fixed order for any thread count, so this only records the wish."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _deterministic["mode"], _deterministic["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic["warn_only"]


# ------------------------------------------------------------------------ finfo, iinfo
class finfo:  # noqa: N801  (PyTorch's name)
    """Facts about a float dtype: bits, eps (1 + eps is the next float after 1), max, min
    (= -max), tiny = smallest_normal (the smallest positive normal), resolution (10**-precision)."""

    def __init__(self, type=None):  # noqa: A002  (PyTorch's argument name)
        dtype = get_default_dtype() if type is None else as_dtype(type)
        if dtype.kind != "f":
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to "
                            "handle 'torch.finfo'")
        info = np.finfo(dtype)
        self.bits = int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # as a Python float: 1e-06, not float32(1e-06)
        self.dtype = str(dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801  (PyTorch's name)
    """Facts about an integer dtype: bits, min, max."""

    def __init__(self, type):  # noqa: A002  (PyTorch's argument name)
        dtype = as_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        info = np.iinfo(dtype)
        self.bits, self.min, self.max, self.dtype = int(info.bits), int(info.min), int(info.max), str(dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ------------------------------------------------------------------------ promotion
def _category(dtype):
    """0 bool, 1 integer, 2 floating, 3 complex."""
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


def promote_types(type1, type2):
    """The smallest dtype both convert to without leaving their category (PyTorch's table)."""
    a, b = as_dtype(type1), as_dtype(type2)
    if _category(a) != _category(b):
        higher, lower = (a, b) if _category(a) > _category(b) else (b, a)
        if _category(higher) == 3 and _category(lower) == 2:
            return np.promote_types(higher, lower)
        return higher  # int64 with float16 stays float16 (NumPy: float64)
    return np.promote_types(a, b)  # uint8 + int8 -> int16, float16 + float32 -> float32


def _operand_dtype(x):
    """(dtype, priority): priority 2 for tensors with dims, 1 for 0-d tensors, 0 for numbers."""
    from minigrad.tensor import Tensor
    if isinstance(x, Tensor):
        return x.dtype, (2 if x.ndim > 0 else 1)
    if isinstance(x, (builtins.bool, np.bool_)):
        return bool_, 0
    if isinstance(x, (builtins.int, np.integer)):
        return np.dtype(np.int64), 0
    if isinstance(x, (builtins.float, np.floating)):
        return get_default_dtype(), 0  # a Python float counts as the default dtype
    if isinstance(x, (builtins.complex, np.complexfloating)):
        return np.dtype(np.complex128 if get_default_dtype() == float64 else np.complex64), 0
    raise TypeError(f"result_type: expected a Tensor or a number, got {type(x).__name__}")


def _combine_categories(higher, lower):
    """PyTorch's rule: a lower-priority operand (None: absent) only counts if its category is higher."""
    if higher is None:
        return lower
    if lower is None or _category(higher) == 3:
        return higher
    if _category(lower) == 3:
        return promote_types(higher, lower)
    if _category(higher) == 2:
        return higher
    if _category(higher) == 0 or _category(lower) == 2:
        return promote_types(higher, lower)
    return higher  # integers with integers or bools of lower priority: higher's dtype


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on the two gives: tensors with dims decide, then 0-d tensors,
    then Python numbers, each only where it is of a higher category (bool < int < float)."""
    by_priority = {2: None, 1: None, 0: None}
    for operand in (tensor1, tensor2):
        dtype, priority = _operand_dtype(operand)
        current = by_priority[priority]
        by_priority[priority] = dtype if current is None else promote_types(current, dtype)
    return _combine_categories(by_priority[2], _combine_categories(by_priority[1], by_priority[0]))


def can_cast(from_, to):
    """False for complex -> real, float -> integer and non-bool -> bool casts; True otherwise."""
    source, target = as_dtype(from_), as_dtype(to)
    if _category(source) == 3 and _category(target) != 3:
        return False
    if _category(source) == 2 and _category(target) == 1:
        return False
    return not (_category(source) != 0 and _category(target) == 0)


__all__ = ["are_deterministic_algorithms_enabled", "can_cast", "finfo", "get_default_dtype",
           "iinfo", "is_deterministic_algorithms_warn_only_enabled", "promote_types", "result_type",
           "set_default_dtype", "set_printoptions", "use_deterministic_algorithms"]
