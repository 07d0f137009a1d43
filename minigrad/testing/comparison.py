"""``assert_close``: are two (nested) values equal up to a tolerance?

Each pair of leaves is compared by the first rule that accepts it, in
PyTorch's order: both None; both bools; both numbers (``int float complex``
and NumPy scalars); then two tensor-likes of related types (a Tensor and a
Tensor or Parameter, or two NumPy arrays: a Tensor against an array is a
TypeError, as in PyTorch). Sequences and mappings are walked elementwise,
and a failure names the item (``The failure occurred for item [1]['w']``).

Two tensors must agree in shape (and, when asked, dtype, device, layout and
stride); then every element must satisfy

    |actual - expected| <= atol + rtol * |expected|

(NaN equals NaN only with ``equal_nan=True``). Unless both tolerances are
given, they are the loosest of the two dtypes':

    float16 (1e-3, 1e-5)  float32 (1.3e-6, 1e-5)  float64 (1e-7, 1e-7)
    complex64 as float32, complex128 as float64   integers and bool (0, 0): exact

Python ``int``, ``float`` and ``complex`` count as int64, float64 and complex128.
"""
import cmath
import collections.abc
import contextlib
import warnings

import numpy as np

from minigrad.settings import promote_types
from minigrad.tensor import Tensor

# {dtype: (rtol, atol)}
_DTYPE_PRECISIONS = {
    np.dtype(np.float16): (0.001, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}
_NUMBER_DTYPES = {int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


class _Failure(Exception):
    """What went wrong with one pair: the exception type to raise, its message, and the item's path."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """A comparison rule does not apply to these inputs; try the next one."""


def _dtype_name(dtype):
    return f"minigrad.{np.dtype(dtype)}"


def default_tolerances(*dtypes, dtype_precisions=None):
    """(rtol, atol): the loosest of the given dtypes' defaults; (0, 0) for integers and bool."""
    precisions = dtype_precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[precisions.get(np.dtype(d), (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _tolerances(*dtypes, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, f"Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*dtypes)


# ------------------------------------------------------------------ messages
def _mismatch_message(identifier, extra, abs_diff, abs_index, atol, rel_diff, rel_index, rtol):
    """PyTorch's mismatch report; "(up to ... allowed)" only when a tolerance is nonzero."""
    equality = rtol == 0 and atol == 0

    def line(kind, diff, index, tolerance):
        text = (f"{kind.title()} difference: {diff}" if index is None
                else f"Greatest {kind} difference: {diff} at index {index}")
        return text + ("" if equality else f" (up to {tolerance} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += line("absolute", abs_diff, abs_index, atol)
    msg += line("relative", rel_diff, rel_index, rtol)
    return msg.strip()


def _scalar_mismatch_message(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_message("Scalars", f"Expected {expected} but got {actual}.",
                             abs_diff, None, atol, rel_diff, None, rtol)


def _tensor_mismatch_message(actual, expected, matches, rtol, atol):
    """Counts the mismatches and finds the greatest absolute and relative differences among them."""
    total, mismatched = matches.size, matches.size - int(matches.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    actual_flat, expected_flat, matches_flat = actual.ravel(), expected.ravel(), matches.ravel()
    if actual.dtype.kind not in "fc":
        actual_flat, expected_flat = actual_flat.astype(np.int64), expected_flat.astype(np.int64)
    abs_diff = np.abs(actual_flat - expected_flat)
    abs_diff[matches_flat] = 0
    abs_index = int(np.argmax(abs_diff))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Integers divide in the default float dtype (float32), as PyTorch's true division does.
        rel_dtype = abs_diff.dtype if abs_diff.dtype.kind == "f" else np.float32
        rel_diff = (abs_diff / np.abs(expected_flat)).astype(rel_dtype)
    rel_diff[matches_flat] = 0
    rel_index = int(np.argmax(rel_diff))

    def unravel(flat_index):
        return tuple(int(i) for i in np.unravel_index(flat_index, matches.shape))

    return _mismatch_message("Tensor-likes", extra, abs_diff[abs_index].item(), unravel(abs_index), atol,
                             rel_diff[rel_index].item(), unravel(rel_index), rtol)


# ------------------------------------------------------------- the pair rules
def _none_pair(actual, expected, id, **options):
    if not (actual is None or expected is None):
        raise _Unsupported

    def compare():
        if not (actual is None and expected is None):
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", id=id)
    return compare


def _boolean_pair(actual, expected, id, **options):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)

    def compare():
        if actual is not expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id=id)
    return compare


def _to_number(value):
    return value.item() if isinstance(value, np.number) else value


def _number_pair(actual, expected, id, rtol=None, atol=None, equal_nan=False, check_dtype=False, **options):
    if not all(isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool, np.bool_))
               for x in (actual, expected)):
        raise _Unsupported
    actual, expected = _to_number(actual), _to_number(expected)
    rtol, atol = _tolerances(*[_NUMBER_DTYPES[type(x)] for x in (actual, expected)], rtol=rtol, atol=atol, id=id)

    def compare():
        if check_dtype and type(actual) is not type(expected):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", id=id)
        if actual == expected:
            return
        if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
            return
        raise _Failure(AssertionError, _scalar_mismatch_message(actual, expected, rtol, atol), id=id)
    return compare


def _tensor_like_pair(actual, expected, id, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                      check_device=True, check_dtype=True, check_layout=True, check_stride=False, **options):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    actual, expected = _to_tensor(actual), _to_tensor(expected)
    rtol, atol = _tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol, id=id)

    def fail(attribute, actual_value, expected_value):
        raise _Failure(AssertionError, f"The values for attribute '{attribute}' do not match: "
                                       f"{actual_value!r} != {expected_value!r}.", id=id)

    def compare():
        if actual.shape != expected.shape:
            fail("shape", actual.shape, expected.shape)
        if check_layout and actual.layout != expected.layout:
            fail("layout", actual.layout, expected.layout)
        if check_stride and actual.stride() != expected.stride():
            fail("stride()", actual.stride(), expected.stride())
        if check_device and actual.device != expected.device:
            fail("device", actual.device, expected.device)
        if check_dtype and actual.dtype != expected.dtype:
            raise _Failure(AssertionError, f"The values for attribute 'dtype' do not match: "
                                           f"{_dtype_name(actual.dtype)} != {_dtype_name(expected.dtype)}.", id=id)
        a, b = actual.array, expected.array
        if a.dtype != b.dtype:  # promoted to a common dtype, as torch.promote_types does
            common = promote_types(a.dtype, b.dtype)
            a, b = a.astype(common), b.astype(common)
        matches = _isclose(a, b, rtol, atol, equal_nan)
        if matches.all():
            return
        if a.shape == ():
            message = _scalar_mismatch_message(a.item(), b.item(), rtol, atol)
        else:
            message = _tensor_mismatch_message(a, b, matches, rtol, atol)
        raise _Failure(AssertionError, message, id=id)
    return compare


def _to_tensor(value):
    if isinstance(value, Tensor):
        return value
    try:
        array = np.asarray(value)
    except Exception:
        raise _Unsupported from None
    if array.dtype.kind not in "biufc":   # strings, objects: not tensor-like
        raise _Unsupported
    return Tensor(array)


def _isclose(a, b, rtol, atol, equal_nan):
    """torch.isclose: |a - b| <= atol + rtol |b| elementwise, exact for integers when both tolerances are 0."""
    if a.dtype.kind not in "fc":
        if rtol == 0 and atol == 0:
            return np.asarray(a == b)
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


_PAIR_RULES = (_none_pair, _boolean_pair, _number_pair, _tensor_like_pair)


def _originate_pairs(actual, expected, id=(), **options):
    """One compare() per pair of leaves, walking sequences and mappings side by side."""
    sequence = collections.abc.Sequence
    if (isinstance(actual, sequence) and not isinstance(actual, str)
            and isinstance(expected, sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           id=id)
        pairs = []
        for index in range(len(actual)):
            pairs.extend(_originate_pairs(actual[index], expected[index], id=(*id, index), **options))
        return pairs
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(AssertionError,
                           f"The keys of the mappings do not match:\n"
                           f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                           f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}", id=id)
        keys = actual_keys
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        pairs = []
        for key in keys:
            pairs.extend(_originate_pairs(actual[key], expected[key], id=(*id, key), **options))
        return pairs
    for rule in _PAIR_RULES:
        try:
            return [rule(actual, expected, id, **options)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} "
                              f"and {type(expected)}.", id=id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``|actual - expected| <= atol + rtol * |expected|`` everywhere.

    ``msg`` replaces the message (a str) or rewrites it (a callable given the message).
    """
    __tracebackhide__ = True
    try:
        pairs = _originate_pairs(actual, expected, allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                                 equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                                 check_layout=check_layout, check_stride=check_stride)
    except _Failure as failure:
        raise failure.to_error() from None   # a malformed call: msg does not apply, as in PyTorch
    for compare in pairs:
        try:
            compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated since PyTorch 1.12: assert_close with looser defaults (float32 1e-4/1e-5,
    float64 1e-5/1e-8), equal_nan=True and no dtype check."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _tensor_of(actual, None)
    if not isinstance(expected, Tensor):
        expected = _tensor_of(expected, actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual.dtype, expected.dtype, dtype_precisions={
            np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-4, 1e-5),
            np.dtype(np.float64): (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


def _tensor_of(value, dtype):
    """torch.tensor(value, dtype=dtype): Python floats become the default float dtype."""
    from minigrad.creation import tensor
    return tensor(value, dtype=dtype)
