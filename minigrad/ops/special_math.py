"""Special functions (gamma family, Bessel, normal distribution, ...) and the
remaining binary math of PyTorch: xlogy, logaddexp, fmax, gcd, ldexp, frexp, ...

Values come from ``scipy.special``. As in ``ops/pointwise.py`` each unary
function's derivative is one entry of a table, written with the input ``x``
and the output ``y``, so the table reads like a crib sheet of calculus:

    lgamma' = digamma,  digamma' = polygamma(1, .),  i0' = i1,
    i1' = i0 - i1 / x,  ndtri' = sqrt(2 pi) exp(ndtri^2 / 2),  entr' = -log(x) - 1

Where PyTorch has no derivative, minigrad follows it: bessel_j0/j1 return a
tensor outside the graph; zeta (in its first argument), gammainc/gammaincc
(in `a`) and heaviside raise NotImplementedError/RuntimeError in backward,
with PyTorch's message.
"""
import math
from collections import namedtuple
from types import SimpleNamespace

import numpy as np
from scipy import special

from minigrad.autograd import Function
from minigrad.ops import pointwise
from minigrad.ops.elementwise import _as_tensor as _tensor
from minigrad.ops.elementwise import _constant, unbroadcast
from minigrad.ops.pointwise import _like, exp2
from minigrad.ops.promotion import floating, is_integral, promote, to_float
from minigrad.tensor import Tensor

_SQRT_2PI = math.sqrt(2 * math.pi)
_LOG_2 = math.log(2)


def _nonzero(m, x):
    """x with its zeros replaced by 1: a denominator whose 0/0 the formula's where() drops
    (a double backward differentiates the branch it drops too, so it must stay finite)."""
    return m.where(x == 0, 1.0, x)


def _i1_derivative(m, x, y):
    """i1'(x) = i0(x) - i1(x) / x, and 1/2 at x = 0 (the limit)."""
    return m.where(x == 0, 0.5, m.i0(x) - y / _nonzero(m, x))


def _i1e_derivative(m, x, y):
    """i1e = exp(-|x|) i1, so i1e' = i0e - i1e (sign(x) + 1/x); 1/2 at x = 0."""
    return m.where(x == 0, 0.5, m.i0e(x) - y * (m.sign(x) + 1 / _nonzero(m, x)))


def _sinc_derivative(m, x, y):
    """sinc(x) = sin(pi x) / (pi x), so sinc' = (cos(pi x) - sinc(x)) / x; 0 at x = 0."""
    return m.where(x == 0, 0.0, (m.cos(math.pi * x) - y) / _nonzero(m, x))


# name: (forward, d(output)/d(input) as a function of m, x and y = forward(x));
# a derivative of None: PyTorch records no gradient for it (the result is a constant).
# `m` is NumPy/SciPy (ARRAY_MATH) in the first-order backward and minigrad's
# recorded ops (TENSOR_MATH) in the double backward, as in ops/pointwise.py.
DERIVATIVES = {
    "lgamma": (special.gammaln, lambda m, x, y: m.digamma(x)),
    "digamma": (special.psi, lambda m, x, y: m.polygamma(1, x)),
    "i0": (special.i0, lambda m, x, y: m.i1(x)),
    "i0e": (special.i0e, lambda m, x, y: m.i1e(x) - m.sign(x) * y),
    "i1": (special.i1, _i1_derivative),
    "i1e": (special.i1e, _i1e_derivative),
    "sinc": (np.sinc, _sinc_derivative),
    "erfcx": (special.erfcx, lambda m, x, y: 2 * x * y - 2 / math.sqrt(math.pi)),
    "expit": (special.expit, lambda m, x, y: y * (1 - y)),
    "ndtr": (special.ndtr, lambda m, x, y: m.exp(-0.5 * x * x) / _SQRT_2PI),
    "ndtri": (special.ndtri, lambda m, x, y: _SQRT_2PI * m.exp(0.5 * y * y)),
    "log_ndtr": (special.log_ndtr, lambda m, x, y: m.exp(-0.5 * x * x - y) / _SQRT_2PI),
    "entr": (special.entr, lambda m, x, y: -m.log(x) - 1),
    "bessel_j0": (special.j0, None),
    "bessel_j1": (special.j1, None),
}

ARRAY_MATH = SimpleNamespace(
    **vars(pointwise.ARRAY_MATH), digamma=special.psi, polygamma=special.polygamma,
    lgamma=special.gammaln, i0=special.i0, i1=special.i1, i0e=special.i0e, i1e=special.i1e,
    zeta=special.zeta, log1p=np.log1p)


class SpecialUnary(Function):
    """y = f(x) for an f in DERIVATIVES; dy/dx from the same table."""

    @staticmethod
    def forward(ctx, a, name):
        function, ctx.derivative = DERIVATIVES[name]
        with np.errstate(all="ignore"):
            out = np.asarray(function(a)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return (grad * ctx.derivative(ARRAY_MATH, a, out)).astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return _like(grad, grad * ctx.derivative(TENSOR_MATH, a, out)), None


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _unary(name, input):
    input = floating(_as_tensor(input))
    if DERIVATIVES[name][1] is None:  # no derivative in PyTorch: a constant result
        with np.errstate(all="ignore"):
            values = np.asarray(DERIVATIVES[name][0](input.array)).astype(input.dtype, copy=False)
        return Tensor._make(values, False, None)
    return SpecialUnary.apply(input, name)


def lgamma(input): return _unary("lgamma", input)  # noqa: E704  (one line per table entry)
def digamma(input): return _unary("digamma", input)  # noqa: E704
def i0(input): return _unary("i0", input)  # noqa: E704
def i0e(input): return _unary("i0e", input)  # noqa: E704
def i1(input): return _unary("i1", input)  # noqa: E704
def i1e(input): return _unary("i1e", input)  # noqa: E704
def sinc(input): return _unary("sinc", input)  # noqa: E704
def erfcx(input): return _unary("erfcx", input)  # noqa: E704
def expit(input): return _unary("expit", input)  # noqa: E704
def ndtr(input): return _unary("ndtr", input)  # noqa: E704
def ndtri(input): return _unary("ndtri", input)  # noqa: E704
def log_ndtr(input): return _unary("log_ndtr", input)  # noqa: E704
def entr(input): return _unary("entr", input)  # noqa: E704
def bessel_j0(input): return _unary("bessel_j0", input)  # noqa: E704
def bessel_j1(input): return _unary("bessel_j1", input)  # noqa: E704


# ------------------------------------------------ the gamma family with an order
class Polygamma(Function):
    """polygamma(n, x) = d^(n+1)/dx^(n+1) lgamma(x); its derivative is polygamma(n + 1, x)."""

    @staticmethod
    def forward(ctx, a, n):
        ctx.save_for_backward(a)
        ctx.n = n
        with np.errstate(all="ignore"):
            return np.asarray(special.polygamma(n, a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return (grad * special.polygamma(ctx.n + 1, a)).astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, = ctx.saved_tensors
        return grad * Polygamma.apply(a, ctx.n + 1), None


def polygamma(n, input):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n. Got n = {n}")
    return Polygamma.apply(floating(_as_tensor(input)), int(n))


class Mvlgamma(Function):
    """log of the multivariate gamma function of dimension p:

        mvlgamma(x, p) = p (p - 1) / 4 log(pi) + sum_{j=0}^{p-1} lgamma(x - j / 2)

    d/dx = sum_j digamma(x - j / 2).
    """

    @staticmethod
    def forward(ctx, a, p):
        ctx.save_for_backward(a)
        shifts = np.arange(p).reshape((p,) + (1,) * a.ndim) / 2.0       # (p, 1, ..., 1)
        with np.errstate(all="ignore"):
            out = special.gammaln(a - shifts).sum(axis=0) + p * (p - 1) / 4 * math.log(math.pi)
        ctx.shifts = shifts
        return np.asarray(out).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        with np.errstate(all="ignore"):
            local = special.psi(a - ctx.shifts).sum(axis=0)
        return (grad * local).astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, = ctx.saved_tensors
        local = sum(digamma(a - float(shift)) for shift in ctx.shifts.ravel())  # p terms
        return _like(grad, grad * local), None


def mvlgamma(input, p):
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"mvlgamma(): argument 'p' must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got p = {p}")
    return Mvlgamma.apply(floating(_as_tensor(input)), int(p))


multigammaln = mvlgamma


# ------------------------------------------------------------------ binary ops
def _floats(input, other):
    """Promote as PyTorch does (a Python number counts as a scalar); integer pairs become float32."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(np.asarray(input))
    input, other = promote(input, other)
    if is_integral(input) and is_integral(other):
        input, other = to_float(input), to_float(other)
    return input, other


class BinarySpecial(Function):
    """out = f(a, b) with d/da and d/db from BINARY_DERIVATIVES (a string: PyTorch has none)."""

    @staticmethod
    def forward(ctx, a, b, name):
        function, ctx.derivatives = BINARY_DERIVATIVES[name]
        ctx.name = name
        with np.errstate(all="ignore"):
            out = np.asarray(function(a, b))
        dtype = np.result_type(*[x for x in (a, b) if isinstance(x, np.ndarray)])
        out = out.astype(dtype, copy=False)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grads = []
        for i, (x, derivative) in enumerate(zip((a, b), ctx.derivatives)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            if isinstance(derivative, str):  # PyTorch has no such derivative
                raise NotImplementedError(derivative)
            with np.errstate(all="ignore"):
                local = derivative(ARRAY_MATH, a, b, out)
            grads.append(unbroadcast((grad * local).astype(grad.dtype, copy=False), np.shape(x)))
        return grads[0], grads[1], None

    @staticmethod
    def backward_graph(ctx, grad):
        a, b, out = [_tensor(v) for v in ctx.saved_tensors]
        grads = []
        for i, (x, derivative) in enumerate(zip((a, b), ctx.derivatives)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            if isinstance(derivative, str):
                raise NotImplementedError(derivative)
            with np.errstate(all="ignore"):
                local = derivative(TENSOR_MATH, a, b, out)
            grads.append(unbroadcast(_like(grad, grad * local), x.shape))
        return grads[0], grads[1], None


def _xlogy_input_derivative(m, a, b, out):
    """d/da a log(b) = log(b); 0 where a == 0 and b <= 0 (PyTorch's convention)."""
    dropped = (a == 0) & (b <= 0)
    return m.where(dropped, 0.0, m.log(m.where(dropped, 1.0, b)))  # log only where kept


def _xlog1py_input_derivative(m, a, b, out):
    """d/da a log1p(b) = log1p(b); 0 where a == 0 and b <= -1."""
    dropped = (a == 0) & (b <= -1)
    return m.where(dropped, 0.0, m.log1p(m.where(dropped, 0.0, b)))  # log1p only where kept


def _gamma_density(m, a, x):
    """x^(a-1) exp(-x) / Gamma(a): d/dx of the regularised lower incomplete gamma P(a, x)."""
    return m.exp((a - 1) * m.log(x) - x - m.lgamma(a))


def _fmax_picks_a(m, a, b):
    return (a >= b) | m.isnan(b)


def _fmin_picks_a(m, a, b):
    return (a <= b) | m.isnan(b)


# name: (forward(a, b), (d/da, d/db) as functions of m, a, b, out); a string is the
# NotImplementedError PyTorch raises for a derivative it does not have.
BINARY_DERIVATIVES = {
    "xlogy": (special.xlogy, (_xlogy_input_derivative, lambda m, a, b, out: a / b)),
    "xlog1py": (special.xlog1py, (_xlog1py_input_derivative, lambda m, a, b, out: a / (1 + b))),
    # logaddexp(a, b) = log(e^a + e^b): d/da = e^a / (e^a + e^b) = sigmoid(a - b)
    "logaddexp": (np.logaddexp, (lambda m, a, b, out: m.expit(a - b),
                                 lambda m, a, b, out: m.expit(b - a))),
    # logaddexp2(a, b) = log2(2^a + 2^b): d/da = 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2)
    "logaddexp2": (np.logaddexp2, (lambda m, a, b, out: m.expit((a - b) * _LOG_2),
                                   lambda m, a, b, out: m.expit((b - a) * _LOG_2))),
    # Hurwitz zeta(s, q) = sum_k (k + q)^-s: d/dq = -s zeta(s + 1, q)
    "zeta": (special.zeta, ("the derivative for 'zeta' is not implemented.",
                            lambda m, a, b, out: -a * m.zeta(a + 1, b))),
    "gammainc": (special.gammainc, ("the derivative for 'igamma: input' is not implemented.",
                                    lambda m, a, b, out: _gamma_density(m, a, b))),
    "gammaincc": (special.gammaincc, ("the derivative for 'igammac: input' is not implemented.",
                                      lambda m, a, b, out: -_gamma_density(m, a, b))),
    # the gradient goes to the operand picked (the non-nan one)
    "fmax": (np.fmax, (lambda m, a, b, out: _fmax_picks_a(m, a, b), lambda m, a, b, out: ~_fmax_picks_a(m, a, b))),
    "fmin": (np.fmin, (lambda m, a, b, out: _fmin_picks_a(m, a, b), lambda m, a, b, out: ~_fmin_picks_a(m, a, b))),
    # one step of the last bit: gradient 1 for input (0 where input == other, which returns
    # other), 0 for other, as PyTorch's
    "nextafter": (np.nextafter, (lambda m, a, b, out: a != b, lambda m, a, b, out: m.zeros_like(out))),
}


def _binary(name, input, other):
    return BinarySpecial.apply(*_floats(input, other), name)


def xlogy(input, other):
    """input * log(other), and 0 where input == 0 (unless other is nan)."""
    return _binary("xlogy", input, other)


def xlog1py(input, other):
    """input * log1p(other), and 0 where input == 0 (unless other is nan)."""
    return _binary("xlog1py", input, other)


def _no_integers(name, input, other):
    a, b = promote(_as_tensor(input) if not isinstance(other, Tensor) else input, other)
    if is_integral(a) and is_integral(b):
        dtype = next(x.dtype for x in (a, b) if isinstance(x, Tensor))
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{dtype}\': {name} needs '
                                  f"floating-point tensors")
    return a, b


def logaddexp(input, other):
    """log(exp(input) + exp(other)), without overflow."""
    return BinarySpecial.apply(*_no_integers("logaddexp", input, other), "logaddexp")


def logaddexp2(input, other):
    """log2(2^input + 2^other), without overflow."""
    return BinarySpecial.apply(*_no_integers("logaddexp2", input, other), "logaddexp2")


def zeta(input, other):
    """The Hurwitz zeta function sum_{k>=0} (k + other)^-input (Riemann's at other = 1)."""
    return _binary("zeta", input, other)


def gammainc(input, other):
    """The regularised lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a)."""
    return BinarySpecial.apply(*_no_integers("igamma", input, other), "gammainc")


def gammaincc(input, other):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return BinarySpecial.apply(*_no_integers("igammac", input, other), "gammaincc")


def fmax(input, other):
    """The elementwise maximum, ignoring nan (nan only where both are nan)."""
    return BinarySpecial.apply(*promote(input, other), "fmax")


def fmin(input, other):
    """The elementwise minimum, ignoring nan (nan only where both are nan)."""
    return BinarySpecial.apply(*promote(input, other), "fmin")


def nextafter(input, other):
    """The next representable float after input in the direction of other."""
    return BinarySpecial.apply(*_no_integers("nextafter", input, other), "nextafter")


class Heaviside(Function):
    """The step function: 0 for input < 0, values where input == 0, 1 for input > 0."""

    @staticmethod
    def forward(ctx, a, values):
        return np.heaviside(a, values).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input, values):
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}")
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes, "
                           f"got {input.dtype} and {values.dtype}")
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(values.shape))
    except ValueError:
        raise RuntimeError(f"heaviside: the shapes of input {tuple(input.shape)} and values "
                           f"{tuple(values.shape)} cannot be broadcast together") from None
    return Heaviside.apply(input, values)


def _integers(name, input, other):
    a, b = promote(input, other)
    for x in (a, b):
        if isinstance(x, Tensor) and not is_integral(x):
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{x.dtype}\': {name} '
                                      f"needs integer tensors")
    arrays = [x.array if isinstance(x, Tensor) else np.asarray(x) for x in (a, b)]
    dtype = np.result_type(*[x.array for x in (a, b) if isinstance(x, Tensor)])
    return arrays, dtype


def gcd(input, other):
    """The greatest common divisor, elementwise (integers; gcd(0, 0) = 0)."""
    (a, b), dtype = _integers("gcd", input, other)
    return Tensor._make(np.gcd(a, b).astype(dtype, copy=False), False, None)


def lcm(input, other):
    """The least common multiple, elementwise (integers; nonnegative, 0 if either is 0)."""
    (a, b), dtype = _integers("lcm", input, other)
    return Tensor._make(np.lcm(a, b).astype(dtype, copy=False), False, None)


def ldexp(input, other):
    """input * 2^other (other usually an integer exponent)."""
    input = floating(_as_tensor(input))
    return input * exp2(other)


def signbit(input):
    """True where the sign bit is set (negative numbers and -0.0)."""
    return Tensor._make(np.signbit(_as_tensor(input).array), False, None)


# What frexp returns, as torch.return_types.frexp does.
FrexpResult = namedtuple("FrexpResult", ["mantissa", "exponent"])


class Frexp(Function):
    """input = mantissa * 2^exponent, 0.5 <= |mantissa| < 1 (mantissa 0 for input 0).

    d mantissa / d input = 2^-exponent; the int32 exponent carries no gradient.
    """

    @staticmethod
    def forward(ctx, a):
        mantissa, exponent = np.frexp(a)
        ctx.save_for_backward(exponent)
        return mantissa.astype(a.dtype, copy=False), exponent.astype(np.int32)

    @staticmethod
    def backward(ctx, grad):
        exponent, = ctx.saved_tensors
        return np.ldexp(grad, -exponent).astype(grad.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad):
        exponent, = ctx.saved_tensors  # a constant: 2^-exponent is piecewise constant
        return grad * _constant(np.ldexp(np.ones((), grad.dtype), -exponent.array).astype(grad.dtype))


def frexp(input):
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {input.dtype}")
    return FrexpResult(*Frexp.apply(input))


# The `m` of the double backward: minigrad's recorded ops (each with a backward_graph).
TENSOR_MATH = SimpleNamespace(
    **vars(pointwise.TENSOR_MATH), digamma=digamma, polygamma=polygamma, lgamma=lgamma,
    i0=i0, i1=i1, i0e=i0e, i1e=i1e, zeta=zeta, log1p=pointwise.log1p)
