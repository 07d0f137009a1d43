"""The rest of PyTorch's elementwise math: trigonometry, rounding, remainders, tests.

Each unary function's derivative is one entry of ``DERIVATIVES`` (a function
of the input ``x`` and the output ``y``), so the whole table reads like a
calculus crib sheet. Rounding functions (floor, round, sign, ...) are flat
almost everywhere: their gradient is 0, as in PyTorch.
"""
import math
from types import SimpleNamespace

import numpy as np
from scipy import special

from minigrad.autograd import Function
from minigrad.ops import activation, elementwise
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.promotion import is_integral, promote, to_float
from minigrad.tensor import Tensor

_SQRT_PI = math.sqrt(math.pi)

# name: (forward, d(output)/d(input) as a function of m, x and y = forward(x)).
# `m` is the math the formula is evaluated with: ARRAY_MATH (NumPy) in the
# first-order backward, TENSOR_MATH (minigrad's own ops, recorded) in the
# double backward (backward_graph), so one formula serves both and the
# derivative can be differentiated again, to any order.
DERIVATIVES = {
    "sin": (np.sin, lambda m, x, y: m.cos(x)),
    "cos": (np.cos, lambda m, x, y: -m.sin(x)),
    "tan": (np.tan, lambda m, x, y: 1 + y * y),
    "asin": (np.arcsin, lambda m, x, y: 1 / m.sqrt(1 - x * x)),
    "acos": (np.arccos, lambda m, x, y: -1 / m.sqrt(1 - x * x)),
    "atan": (np.arctan, lambda m, x, y: 1 / (1 + x * x)),
    "sinh": (np.sinh, lambda m, x, y: m.cosh(x)),
    "cosh": (np.cosh, lambda m, x, y: m.sinh(x)),
    "asinh": (np.arcsinh, lambda m, x, y: 1 / m.sqrt(x * x + 1)),
    "acosh": (np.arccosh, lambda m, x, y: 1 / m.sqrt(x * x - 1)),
    "atanh": (np.arctanh, lambda m, x, y: 1 / (1 - x * x)),
    "log1p": (np.log1p, lambda m, x, y: 1 / (1 + x)),
    "expm1": (np.expm1, lambda m, x, y: y + 1),
    "log2": (np.log2, lambda m, x, y: 1 / (x * math.log(2))),
    "log10": (np.log10, lambda m, x, y: 1 / (x * math.log(10))),
    "exp2": (np.exp2, lambda m, x, y: y * math.log(2)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda m, x, y: -0.5 * y * y * y),
    "reciprocal": (np.reciprocal, lambda m, x, y: -y * y),
    "erf": (special.erf, lambda m, x, y: 2 / _SQRT_PI * m.exp(-x * x)),
    "erfc": (special.erfc, lambda m, x, y: -2 / _SQRT_PI * m.exp(-x * x)),
    "erfinv": (special.erfinv, lambda m, x, y: _SQRT_PI / 2 * m.exp(y * y)),
    "square": (np.square, lambda m, x, y: 2 * x),
    "frac": (lambda x: x - np.trunc(x), lambda m, x, y: m.ones_like(x)),
    "sign": (np.sign, None),
    "floor": (np.floor, None),
    "ceil": (np.ceil, None),
    "trunc": (np.trunc, None),
}

# The `m` of the first-order backward: NumPy (TENSOR_MATH, minigrad's ops, is at the end of the file).
ARRAY_MATH = SimpleNamespace(
    sin=np.sin, cos=np.cos, sinh=np.sinh, cosh=np.cosh, tanh=np.tanh, exp=np.exp, log=np.log,
    sqrt=np.sqrt, abs=np.abs, sign=np.sign, minimum=np.minimum, where=np.where, isnan=np.isnan,
    ones_like=np.ones_like, zeros_like=np.zeros_like, expit=special.expit)


def _like(grad, value):
    """A backward_graph's result in grad's dtype (a constant mask may have widened it)."""
    if not isinstance(value, Tensor):
        value = elementwise._constant(np.broadcast_to(np.asarray(value, dtype=grad.dtype), grad.shape))
    return value if value.dtype == grad.dtype else elementwise.cast(value, grad.dtype)

# These keep an integer input's dtype; the others compute in float32 (as PyTorch does).
_KEEP_INTEGER_DTYPE = {"square", "sign", "floor", "ceil", "trunc"}


class UnaryMath(Function):
    """y = f(x) for an f in DERIVATIVES; dy/dx from the same table."""

    @staticmethod
    def forward(ctx, a, name):
        function, ctx.derivative = DERIVATIVES[name]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(function(a)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        if ctx.derivative is None:
            return np.zeros_like(grad), None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (grad * ctx.derivative(ARRAY_MATH, a, out)).astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        if ctx.derivative is None:
            return elementwise._constant(np.zeros_like(grad.array)), None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _like(grad, grad * ctx.derivative(TENSOR_MATH, a, out)), None


def _unary(name, a):
    if not isinstance(a, Tensor):
        a = Tensor(np.asarray(a))
    if is_integral(a):
        if name in _KEEP_INTEGER_DTYPE:
            return Tensor._make(np.asarray(DERIVATIVES[name][0](a.array)).astype(a.dtype), False, None)
        a = to_float(a)
    return UnaryMath.apply(a, name)


def sin(input): return _unary("sin", input)  # noqa: E704  (one line per table entry)
def cos(input): return _unary("cos", input)  # noqa: E704
def tan(input): return _unary("tan", input)  # noqa: E704
def asin(input): return _unary("asin", input)  # noqa: E704
def acos(input): return _unary("acos", input)  # noqa: E704
def atan(input): return _unary("atan", input)  # noqa: E704
def sinh(input): return _unary("sinh", input)  # noqa: E704
def cosh(input): return _unary("cosh", input)  # noqa: E704
def asinh(input): return _unary("asinh", input)  # noqa: E704
def acosh(input): return _unary("acosh", input)  # noqa: E704
def atanh(input): return _unary("atanh", input)  # noqa: E704
def log1p(input): return _unary("log1p", input)  # noqa: E704
def expm1(input): return _unary("expm1", input)  # noqa: E704
def log2(input): return _unary("log2", input)  # noqa: E704
def log10(input): return _unary("log10", input)  # noqa: E704
def exp2(input): return _unary("exp2", input)  # noqa: E704
def rsqrt(input): return _unary("rsqrt", input)  # noqa: E704
def reciprocal(input): return _unary("reciprocal", input)  # noqa: E704
def erf(input): return _unary("erf", input)  # noqa: E704
def erfc(input): return _unary("erfc", input)  # noqa: E704
def erfinv(input): return _unary("erfinv", input)  # noqa: E704
def square(input): return _unary("square", input)  # noqa: E704
def frac(input): return _unary("frac", input)  # noqa: E704
def sign(input): return _unary("sign", input)  # noqa: E704
def floor(input): return _unary("floor", input)  # noqa: E704
def ceil(input): return _unary("ceil", input)  # noqa: E704
def trunc(input): return _unary("trunc", input)  # noqa: E704


fix = trunc
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


class Round(Function):
    """Round half to even at `decimals` places (as PyTorch and NumPy); gradient 0."""

    @staticmethod
    def forward(ctx, a, decimals):
        return np.round(a, decimals)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad), None

    @staticmethod
    def backward_graph(ctx, grad):
        return elementwise._constant(np.zeros_like(grad.array)), None


def round(input, *, decimals=0):  # noqa: A001  (PyTorch's name)
    if is_integral(input) and decimals >= 0:
        return Tensor._make(input.array.copy(), False, None)
    return Round.apply(input, int(decimals))


# ------------------------------------------------------------------ binary ops
class Atan2(Function):
    """atan2(a, b), the angle of the point (b, a): d/da = b/(a²+b²), d/db = -a/(a²+b²)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / (a * a + b * b)
        return unbroadcast(scale * b, np.shape(a)), unbroadcast(-scale * a, np.shape(b))

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = [elementwise._as_tensor(v) for v in ctx.saved_tensors]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / (a * a + b * b)
        grad_a = unbroadcast(scale * b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(-scale * a, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Hypot(Function):
    """sqrt(a² + b²): d/da = a / out, d/db = b / out."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / out
        return unbroadcast(scale * a, np.shape(a)), unbroadcast(scale * b, np.shape(b))

    @staticmethod
    def backward_graph(ctx, grad):
        a, b, out = [elementwise._as_tensor(v) for v in ctx.saved_tensors]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / out
        grad_a = unbroadcast(scale * a, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(scale * b, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Copysign(Function):
    """|a| with the sign of b: d/da = ±1 (0 at a == 0, as in PyTorch), d/db = 0."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.copysign(a, b)
        ctx.save_for_backward(a, out)
        ctx.b_shape = np.shape(b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        same_sign = np.where(a == 0, 0, np.sign(a) * np.sign(out))
        return unbroadcast(grad * same_sign, np.shape(a)), np.zeros(ctx.b_shape, grad.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = [np.asarray(elementwise._as_tensor(v).array) for v in ctx.saved_tensors]
        same_sign = np.where(a == 0, 0, np.sign(a) * np.sign(out)).astype(grad.dtype)  # a constant
        return (unbroadcast(grad * elementwise._constant(same_sign), np.shape(a)),
                elementwise._constant(np.zeros(ctx.b_shape, grad.dtype)))


class Remainder(Function):
    """a - b * rounded(a / b): truncated for fmod (C's sign), floored for remainder (Python's).

    d/da = 1, d/db = -rounded(a / b).
    """

    @staticmethod
    def forward(ctx, a, b, numpy_function, rounding):
        ctx.save_for_backward(a, b)
        ctx.rounding = rounding
        return numpy_function(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = ctx.rounding(a / b)
        return (unbroadcast(grad, np.shape(a)), unbroadcast(-grad * quotient, np.shape(b)),
                None, None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = [np.asarray(elementwise._as_tensor(v).array) for v in ctx.saved_tensors]
        grad_b = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                quotient = ctx.rounding(a / b).astype(grad.dtype)  # piecewise constant: a constant
            grad_b = unbroadcast(-grad * elementwise._constant(quotient), np.shape(b))
        return unbroadcast(grad, np.shape(a)), grad_b, None, None


def _binary_floats(a, b):
    """Promote as PyTorch does; integer pairs become float32 for float-only functions."""
    a, b = promote(a, b)
    if is_integral(a) and is_integral(b):
        a, b = to_float(a), to_float(b)
    return a, b


def atan2(input, other):
    return Atan2.apply(*_binary_floats(input, other))


arctan2 = atan2


def hypot(input, other):
    return Hypot.apply(*_binary_floats(input, other))


def copysign(input, other):
    return Copysign.apply(*_binary_floats(input, other))


def fmod(input, other):
    """Remainder with the sign of the dividend (C's fmod)."""
    return Remainder.apply(*promote(input, other), np.fmod, np.trunc)


def remainder(input, other):
    """Remainder with the sign of the divisor (Python's %)."""
    return Remainder.apply(*promote(input, other), np.remainder, np.floor)


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


def _integer_divide(a, b, rounding_mode):
    """Integer division rounded toward zero ('trunc') or down ('floor'); no gradient."""
    a_array = a.array if isinstance(a, Tensor) else np.asarray(a)
    b_array = b.array if isinstance(b, Tensor) else np.asarray(b)
    if np.any(b_array == 0):
        raise ZeroDivisionError("integer division by zero")
    quotient = np.floor_divide(a_array, b_array)
    if rounding_mode == "trunc":
        inexact = (quotient * b_array != a_array) & ((a_array < 0) != (b_array < 0))
        quotient = quotient + inexact
    dtype = np.result_type(a_array, b_array) if isinstance(a, Tensor) or isinstance(b, Tensor) else None
    return Tensor._make(np.asarray(quotient, dtype=dtype), False, None)


def div(input, other, *, rounding_mode=None):
    """True division, or rounded with rounding_mode='trunc' / 'floor' (gradient 0 then)."""
    if rounding_mode is None:
        return elementwise.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    if is_integral(input) and is_integral(other):
        return _integer_divide(input, other, rounding_mode)
    quotient = elementwise.div(input, other)
    return trunc(quotient) if rounding_mode == "trunc" else floor(quotient)


true_divide = divide = div


def floor_divide(input, other):
    return div(input, other, rounding_mode="floor")


def add(input, other, *, alpha=1):
    """input + alpha * other."""
    return elementwise.add(input, other if alpha == 1 else elementwise.mul(other, alpha))


def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    return elementwise.sub(input, other if alpha == 1 else elementwise.mul(other, alpha))


subtract = sub


def mul(input, other):
    return elementwise.mul(input, other)


multiply = mul


# ------------------------------------------------------------ tests and masks
def _array(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _bool(array):
    return Tensor._make(np.asarray(array, dtype=bool), False, None)


def isnan(input): return _bool(np.isnan(_array(input)))  # noqa: E704
def isinf(input): return _bool(np.isinf(_array(input)))  # noqa: E704
def isposinf(input): return _bool(np.isposinf(_array(input)))  # noqa: E704
def isneginf(input): return _bool(np.isneginf(_array(input)))  # noqa: E704
def isfinite(input): return _bool(np.isfinite(_array(input)))  # noqa: E704
def isreal(input): return _bool(np.isreal(_array(input)))  # noqa: E704


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise."""
    return _bool(np.isclose(_array(input), _array(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(_array(input), _array(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """True if both have the same shape and elements."""
    return bool(np.shape(_array(input)) == np.shape(_array(other))
                and np.array_equal(_array(input), _array(other)))


class NanToNum(Function):
    """Replace nan, +inf, -inf; the gradient passes only where the input was finite."""

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.save_for_backward(np.isfinite(a))
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        finite, = ctx.saved_tensors
        return grad * finite, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        finite, = ctx.saved_tensors  # a constant mask
        return _like(grad, grad * finite), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if is_integral(input):
        return Tensor._make(input.array.copy(), False, None)
    return NanToNum.apply(input, nan, posinf, neginf)


class Triangle(Function):
    """tril / triu: keep the lower / upper triangle (from `diagonal`) of the last two dims."""

    @staticmethod
    def forward(ctx, a, numpy_function, diagonal):
        ctx.numpy_function, ctx.diagonal = numpy_function, diagonal
        return numpy_function(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return ctx.numpy_function(grad, ctx.diagonal), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return Triangle.apply(grad, ctx.numpy_function, ctx.diagonal), None, None


def _triangle(input, numpy_function, diagonal, name):
    if input.ndim < 2:
        raise ValueError(f"{name}: input tensor must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    return Triangle.apply(input, numpy_function, int(diagonal))


def tril(input, diagonal=0):
    return _triangle(input, np.tril, diagonal, "tril")


def triu(input, diagonal=0):
    return _triangle(input, np.triu, diagonal, "triu")


def float_power(input, exponent):
    """input ** exponent in float64."""
    input = to_float(input, np.float64) if isinstance(input, Tensor) else input
    if isinstance(input, Tensor) and input.dtype != np.float64:
        input = input.double()
    if isinstance(exponent, Tensor) and exponent.dtype != np.float64:
        exponent = exponent.double()
    return elementwise.pow(input, exponent)


# The `m` of the double backward: minigrad's ops, so a derivative is recorded
# (each of these ops has a backward_graph of its own).
TENSOR_MATH = SimpleNamespace(
    sin=sin, cos=cos, sinh=sinh, cosh=cosh, exp=elementwise.exp, log=elementwise.log,
    sqrt=elementwise.sqrt, abs=elementwise.abs, sign=sign, minimum=elementwise.minimum,
    where=elementwise.where, isnan=isnan, tanh=activation.tanh, expit=activation.sigmoid,
    ones_like=lambda x: elementwise._constant(np.ones_like(x.array)),
    zeros_like=lambda x: elementwise._constant(np.zeros_like(x.array)))
