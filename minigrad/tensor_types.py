"""``minigrad.dtype`` and PyTorch's legacy tensor types (``minigrad.FloatTensor`` & co).

minigrad's dtypes are NumPy dtypes (minigrad/dtypes.py). ``dtype`` is the
class they count as instances of, as ``isinstance(torch.float32, torch.dtype)``:

    isinstance(minigrad.float32, minigrad.dtype)  ->  True

The legacy types are not subclasses of Tensor (as in PyTorch): their metaclass
makes ``isinstance(t, minigrad.FloatTensor)`` mean "t is a float32 tensor", and
calling one builds a tensor of its dtype:

    FloatTensor()           empty, shape (0,)
    FloatTensor(2, 3)       uninitialised, shape (2, 3)   (also FloatTensor(Size))
    FloatTensor([1, 2])     from data, cast to float32    (LongTensor([1.7]) is [1])
    FloatTensor(t)          t itself, which must already be float32
"""
import warnings

import numpy as np

from minigrad import dtypes
from minigrad.tensor import Tensor

_DTYPES = frozenset(dtypes._DTYPE_NAMES.values())


class _DtypeClass(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, np.dtype) and obj in _DTYPES

    def __repr__(cls):
        return "<class 'minigrad.dtype'>"


class dtype(metaclass=_DtypeClass):
    """The type of minigrad.float32, minigrad.int64, ... (each a NumPy dtype)."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'minigrad.dtype' instances")


class _LegacyTensorType(type):
    """The metaclass of FloatTensor & co: isinstance by dtype, construction as PyTorch's."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.array.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        from minigrad.devices import device as as_device
        from minigrad.ops.aliases import scalar_type_name
        from minigrad.ops.layout import new
        if device is not None and as_device(device).type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{as_device(device).type} was passed")
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].array.dtype != cls.dtype:
                raise TypeError(f"{cls.__name__}(): expected a tensor of dtype {scalar_type_name(cls.dtype)}, "
                                f"got {scalar_type_name(args[0].array.dtype)}")
            return args[0]
        for size in args[1:]:
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
                raise TypeError(f"{cls.__name__}(): sizes must be ints, got {args!r}")
        template = Tensor._make(np.empty((0,), dtype=cls.dtype), False, None)
        return new(template, *args)


def _legacy_type(name, dtype):
    """A legacy tensor type (e.g. FloatTensor) for `dtype`."""
    return _LegacyTensorType(name, (), {"dtype": dtype, "is_sparse": False, "is_cuda": False,
                                        "__module__": "minigrad", "__qualname__": name,
                                        "__doc__": f"PyTorch's legacy {name}: a tensor of dtype {dtype}."})


FloatTensor = _legacy_type("FloatTensor", dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", dtypes.float16)
LongTensor = _legacy_type("LongTensor", dtypes.int64)
IntTensor = _legacy_type("IntTensor", dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", dtypes.int16)
CharTensor = _legacy_type("CharTensor", dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", dtypes.bool_)

_TYPES = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                  ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def tensor_type(value):
    """A legacy type or its name ('minigrad.FloatTensor', 'torch.FloatTensor') -> the type."""
    if isinstance(value, _LegacyTensorType):
        return value
    if isinstance(value, str):
        module, _, name = value.rpartition(".")
        if module in ("minigrad", "torch") and name in _TYPES:
            return _TYPES[name]
        if module in ("minigrad.cuda", "torch.cuda") and name in _TYPES:
            raise TypeError(f"type {value} not available: minigrad runs on the CPU only")
        raise ValueError(f"invalid type: {value!r}")
    raise TypeError(f"expected a tensor type such as minigrad.FloatTensor or 'torch.FloatTensor', "
                    f"got {value!r}")


def type_of(tensor, dtype=None):
    """Tensor.type(): the type name of `tensor` without an argument, else tensor converted to
    `dtype` (a dtype, a legacy type or its name)."""
    from minigrad.ops.aliases import typename
    if dtype is None:
        return typename(tensor)
    if isinstance(dtype, str) and dtype in dtypes._DTYPE_NAMES:
        return tensor.to(dtype)  # 'float64'
    if isinstance(dtype, (str, _LegacyTensorType)):
        dtype = tensor_type(dtype).dtype
    elif not isinstance(dtype, (type, np.dtype)):
        raise TypeError("dtype must be a type, str, or dtype object")
    return tensor.to(dtype)


def set_default_tensor_type(t):
    """Deprecated in PyTorch: make the dtype of `t` (a floating legacy type or its name) the default."""
    from minigrad.settings import set_default_dtype
    warnings.warn("minigrad.set_default_tensor_type() is deprecated, as torch's since PyTorch 2.1: "
                  "use minigrad.set_default_dtype()", UserWarning, stacklevel=2)
    if not isinstance(t, (str, _LegacyTensorType)) or tensor_type(t).dtype.kind != "f":
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    set_default_dtype(tensor_type(t).dtype)
