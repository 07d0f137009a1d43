"""Type promotion: the result dtypes of PyTorch where NumPy's differ.

NumPy promotes integers mixed with floats to float64 and treats NumPy
scalars as arrays; PyTorch keeps the tensor's float dtype (float32 by
default). The elementwise ops and the activations convert their operands
with these helpers before calling NumPy.
"""
import numpy as np

from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor


def is_integral(x):
    """An integer or bool tensor/array, or a Python int/bool."""
    if isinstance(x, (Tensor, np.ndarray)):
        return x.dtype.kind in "biu"
    return isinstance(x, int)


def to_float(x, dtype=None):
    """An integer tensor/array as a float one, the default dtype unless given (numbers stay)."""
    dtype = dtype or get_default_dtype()
    if isinstance(x, Tensor):
        return Tensor._make(x.array.astype(dtype), False, None)  # integers carry no gradient
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    return x


def _float_dtype(x):
    """The float dtype an integer operand next to `x` should become, or None."""
    if isinstance(x, (Tensor, np.ndarray)):
        return x.dtype if x.dtype.kind == "f" else None
    return get_default_dtype() if isinstance(x, float) else None


def promote(a, b, true_division=False):
    """Make the result dtype PyTorch's where NumPy's differs.

    - NumPy scalars count as Python numbers: ``x / np.sqrt(2)`` stays float32.
    - An integer tensor meeting a float tensor takes that float dtype, and one
      meeting a Python float becomes float32 (NumPy gives float64 for both).
    - True division of integers gives float32.
    """
    if isinstance(a, np.generic):
        a = a.item()
    if isinstance(b, np.generic):
        b = b.item()
    a_integral, b_integral = is_integral(a), is_integral(b)
    if a_integral and b_integral:
        if true_division:
            a, b = to_float(a), to_float(b)
    elif a_integral and _float_dtype(b) is not None:
        a = to_float(a, _float_dtype(b))
    elif b_integral and _float_dtype(a) is not None:
        b = to_float(b, _float_dtype(a))
    return a, b


def floating(a):
    """Integer input to a floating-point function becomes float32 (as in PyTorch)."""
    return to_float(a) if is_integral(a) else a
