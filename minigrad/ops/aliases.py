"""PyTorch's other names for existing ops, and its small tensor utilities.

Aliases (``greater`` is ``gt``, ``negative`` is ``neg``, ``absolute`` is
``abs``) call the op they name, so the gradient is that op's. The rest are
built from existing ops too: ``deg2rad`` is a multiplication by pi/180,
``rsub`` a subtraction, ``inner`` a tensordot over the last dims,
``split_with_sizes`` a split; the utilities (``asarray``, ``scalar_tensor``,
the deprecated inclusive ``range``, ``is_nonzero``, ``is_signed``,
``typename``) make or inspect tensors.
"""
import builtins
import math
import numbers
import warnings

import numpy as np

from minigrad.devices import check_device
from minigrad.dtypes import as_dtype
from minigrad.ops import elementwise, linalg, pointwise, shape
from minigrad.ops.construction import tensordot
from minigrad.ops.promotion import floating
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor, _to_array

# PyTorch's names of the scalar types (torch.FloatTensor, "found Float and Double").
SCALAR_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                     "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
                     "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def scalar_type_name(dtype):
    """np.float32 -> 'Float', as PyTorch's messages spell dtypes."""
    name = np.dtype(dtype).name
    return SCALAR_TYPE_NAMES.get(name, name)


def _require_tensor(function, value, argument="input", position=1):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


# ---------------------------------------------------------------- comparisons
def _comparison(name, method):
    def compare(input, other):
        _require_tensor(name, input)
        return getattr(input, method)(other)
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"input {method} other elementwise (broadcast): a bool tensor, no gradient."
    return compare


eq, ne = _comparison("eq", "eq"), _comparison("ne", "ne")
lt, le = _comparison("lt", "lt"), _comparison("le", "le")
gt, ge = _comparison("gt", "gt"), _comparison("ge", "ge")
greater, greater_equal = _comparison("greater", "gt"), _comparison("greater_equal", "ge")
less, less_equal = _comparison("less", "lt"), _comparison("less_equal", "le")
not_equal = _comparison("not_equal", "ne")


# ------------------------------------------------------------------ arithmetic
def neg(input):
    """-input."""
    _require_tensor("neg", input)
    if input.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return elementwise.neg(input)


negative = neg


def positive(input):
    """+input: input itself (as in PyTorch; bool tensors refuse)."""
    _require_tensor("positive", input)
    if input.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def absolute(input):
    """|input|."""
    _require_tensor("absolute", input)
    return elementwise.abs(input)


def pow(input, exponent):  # noqa: A001  (PyTorch's name)
    """input ** exponent; input may be a number when exponent is a tensor."""
    if not isinstance(input, Tensor):
        _require_tensor("pow", exponent, "exponent", 2)
    return elementwise.pow(input, exponent)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (subtraction with the operands swapped)."""
    _require_tensor("rsub", input)
    if input.dtype == np.bool_ and isinstance(other, Tensor) and other.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    return pointwise.sub(other, input, alpha=alpha)


def sgn(input):
    """input / |input| (0 at 0): the sign, for real tensors."""
    _require_tensor("sgn", input)
    return pointwise.sign(input)


def deg2rad(input):
    """input * pi / 180 (integers become float32)."""
    _require_tensor("deg2rad", input)
    return elementwise.mul(floating(input), math.pi / 180)


def rad2deg(input):
    """input * 180 / pi (integers become float32)."""
    _require_tensor("rad2deg", input)
    return elementwise.mul(floating(input), 180 / math.pi)


def clamp_min(input, min):  # noqa: A002  (PyTorch's argument name)
    """max(input, min); min may be a number or a tensor."""
    return elementwise.clamp(input, min, None)


def clamp_max(input, max):  # noqa: A002
    """min(input, max); max may be a number or a tensor."""
    return elementwise.clamp(input, None, max)


# ------------------------------------------------------------------- products
def vdot(input, other):
    """sum_i conj(input[i]) * other[i] of two 1-D tensors of the same dtype (real: the dot product)."""
    _require_tensor("vdot", input)
    _require_tensor("vdot", other, "other", 2)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{scalar_type_name(input.dtype)} and {scalar_type_name(other.dtype)}")
    if input.shape != other.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.numel()}] and src "
                           f"[{other.numel()}] to have the same number of elements, but got "
                           f"{input.numel()} and {other.numel()} elements respectively")
    return linalg.dot(input, other)


def inner(input, other):
    """out[i..., j...] = sum_k input[i..., k] * other[j..., k]; a 0-d operand multiplies."""
    _require_tensor("inner", input)
    _require_tensor("inner", other, "other", 2)
    if input.ndim == 0 or other.ndim == 0:
        return elementwise.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([input.ndim - 1], [other.ndim - 1]))


# ------------------------------------------------------------- copies, shapes
def clone(input, *, memory_format=None):
    """A copy of input that gradients flow through."""
    _require_tensor("clone", input)
    return elementwise.clone(input)


def detach(input):
    """The same memory, cut from the graph."""
    _require_tensor("detach", input)
    return input.detach()


def ravel(input):
    """input flattened to 1-D (a view when the memory allows): shape (numel,)."""
    _require_tensor("ravel", input)
    return shape.reshape(input, (-1,))


def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of input along dim of exactly the given sizes (they must add up to its size)."""
    _require_tensor("split_with_sizes", input)
    axis = dim + input.ndim if dim < 0 else dim
    if not 0 <= axis < builtins.max(input.ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, "
                         f"{input.ndim - 1}], but got {dim})")
    sizes = [int(n) for n in split_sizes]
    if builtins.any(n < 0 for n in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if builtins.sum(sizes) != input.shape[axis]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[axis]} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={sizes}")
    return shape.split(input, sizes, axis)


# ---------------------------------------------------------------- inspection
def is_nonzero(input):
    """bool(input) for a one-element tensor; no elements or several are an error."""
    _require_tensor("is_nonzero", input)
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.array.item())


def is_same_size(input, other):
    """Whether the two tensors have the same shape."""
    _require_tensor("is_same_size", input)
    _require_tensor("is_same_size", other, "other", 2)
    return input.shape == other.shape


def is_signed(input):
    """Whether input's dtype holds negative values (floats and signed ints; not uint8, bool)."""
    _require_tensor("is_signed", input)
    return input.dtype.kind in "fic"


def typename(obj):
    """A tensor's type name (minigrad.FloatTensor), else the object's module.qualname."""
    if isinstance(obj, Tensor):
        return f"minigrad.{scalar_type_name(obj.dtype)}Tensor"
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


# ------------------------------------------------------------------ creation
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A 0-d tensor holding the number s, in the default float dtype unless dtype says otherwise."""
    if isinstance(s, Tensor) and s.numel() == 1:
        s = s.item()
    if not isinstance(s, (numbers.Number, np.generic)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    check_device(device)
    dtype = as_dtype(dtype) or get_default_dtype()
    return Tensor(np.asarray(s).astype(dtype), requires_grad=requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,  # noqa: A001
          layout=None):
    """Deprecated: the values start, start + step, ... up to end *included* (floor((end - start) / step) + 1).

    The default float dtype even for int arguments. Use arange (end excluded).
    """
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warnings.warn("minigrad.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use minigrad.arange, "
                  "which produces values in [start, end).", UserWarning, stacklevel=2)
    check_device(device)
    dtype = as_dtype(dtype) or get_default_dtype()
    if dtype == np.bool_:
        raise RuntimeError('"range_cpu" not implemented for \'Bool\'')
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = math.floor((end - start) / step) + 1
    values = start + np.arange(count, dtype=np.float64) * step  # in double, then cast
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, sharing its memory when it can (copy=None), always copying (copy=True),
    or never copying (copy=False: an error when a copy is needed).

    Tensors and NumPy arrays keep their dtype and memory (a tensor comes back
    itself); Python numbers and sequences follow tensor()'s dtype rules.
    """
    check_device(device)
    dtype = as_dtype(dtype)
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        tensor = obj if isinstance(obj, Tensor) else Tensor._make(np.asarray(obj), False, None)
        same_dtype = dtype is None or dtype == tensor.dtype
        if not same_dtype and copy is False:
            raise ValueError(f"can't alias tensor with dtype '{scalar_type_name(tensor.dtype)}' into "
                             f"dtype '{scalar_type_name(dtype)}'.")
        if not same_dtype:
            tensor = tensor.to(dtype)
        elif copy:
            tensor = elementwise.clone(tensor)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        tensor = Tensor(_to_array(obj, dtype))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor
