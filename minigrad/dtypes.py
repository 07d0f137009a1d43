"""The dtypes minigrad tensors hold, and the names that spell them.

minigrad.float32, np.float32, 'float32', 'float' and Python's float all name
the same np.dtype; as_dtype turns any of them into it.
"""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float16 = np.dtype(np.float16)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)

_DTYPE_NAMES = {"float32": float32, "float": float32, "float64": float64, "double": float64,
                "float16": float16, "half": float16,
                "int64": int64, "long": int64, "int32": int32, "int": int32,
                "int16": int16, "short": int16, "int8": int8, "uint8": uint8, "bool": bool_}


def as_dtype(dtype):
    """minigrad.float32, np.float32, 'float32' -> np.dtype('float32')."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; use minigrad.float32, float64, int64, ...") from None
