"""Bitwise operators on integer tensors; logical ones on bool tensors (as in PyTorch).

``&``, ``|``, ``^``, ``~``, ``<<`` and ``>>`` act on the bits of integer
tensors (``x & 0x1337``) and as and/or/xor/not on bool tensors. Float
tensors are an error. None of them carries a gradient.
"""
import numpy as np

from minigrad.tensor import Tensor


def _operand(x, name):
    if isinstance(x, Tensor):
        array = x.array
    elif isinstance(x, (bool, int, np.integer, np.bool_)):
        return x
    else:
        array = np.asarray(x)
    if array.dtype.kind not in "biu":
        raise TypeError(f"{name} is only defined for integer and bool tensors, got {array.dtype}")
    return array


def _bitwise(numpy_function, name, a, b):
    a_array, b_array = _operand(a, name), _operand(b, name)
    if not isinstance(a_array, np.ndarray):  # a Python int on the left: take the tensor's dtype
        a_array = np.asarray(a_array, dtype=b_array.dtype)
    if not isinstance(b_array, np.ndarray):
        b_array = np.asarray(b_array, dtype=a_array.dtype)
    try:
        return Tensor._make(np.asarray(numpy_function(a_array, b_array)), False, None)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(f"{name}: shapes {a_array.shape} and {b_array.shape} cannot be broadcast "
                         f"together") from None


def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_left_shift(input, other):
    return _bitwise(np.left_shift, "bitwise_left_shift", input, other)


def bitwise_right_shift(input, other):
    """Arithmetic shift: the sign bit of a negative integer is kept."""
    return _bitwise(np.right_shift, "bitwise_right_shift", input, other)


def bitwise_not(input):
    """Flip every bit of an integer tensor (~x == -x - 1); logical not of a bool tensor."""
    return Tensor._make(np.invert(_operand(input, "bitwise_not")), False, None)


def _values(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def logical_and(input, other):
    return Tensor._make(np.logical_and(_values(input), _values(other)), False, None)


def logical_or(input, other):
    return Tensor._make(np.logical_or(_values(input), _values(other)), False, None)


def logical_xor(input, other):
    return Tensor._make(np.logical_xor(_values(input), _values(other)), False, None)


def logical_not(input):
    return Tensor._make(np.logical_not(_values(input)), False, None)
