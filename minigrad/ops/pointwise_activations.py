"""The activations defined by a formula and its derivative: softplus, hardtanh,
relu6, hardsigmoid, hardswish, mish, selu, celu, ..., glu and logit (the ones
with a Function of their own, relu to prelu and softmax, are in activation.py).

Each is a pair (forward, derivative) of NumPy functions of the input x, with
the activation's parameters bound in; ``Pointwise`` runs the forward and
multiplies grad by the derivative. The formulas and the values at the kinks
are PyTorch's.
"""
from types import SimpleNamespace

import numpy as np

from minigrad.autograd import Function
from minigrad.ops import pointwise
from minigrad.ops.pointwise import _like
from minigrad.ops.promotion import floating
from minigrad.tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Pointwise(Function):
    """y = forward(x); dy/dx = derivative(m, x).

    `m` is the math the derivative is written with: ARRAY_MATH (NumPy) in the
    first-order backward, TENSOR_MATH (minigrad's recorded ops) in the double
    backward, so one formula serves both and can be differentiated again.
    """

    @staticmethod
    def forward(ctx, a, forward, derivative):
        ctx.save_for_backward(a)
        ctx.derivative = derivative
        with np.errstate(over="ignore"):
            return np.asarray(forward(a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            return (grad * ctx.derivative(ARRAY_MATH, a)).astype(grad.dtype, copy=False), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        a, = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _like(grad, grad * ctx.derivative(TENSOR_MATH, a)), None, None


def _apply(input, forward, derivative, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    return Pointwise.apply(floating(input), forward, derivative)


def _softplus(x, beta, threshold):
    linear = x * beta > threshold
    return np.where(linear, x, np.log1p(np.exp(np.where(linear, 0, x * beta))) / beta)


def _mask(m, condition, x):
    """A 0/1 mask in x's dtype (a constant in the double backward)."""
    return m.where(condition, 1.0, 0.0) if m is TENSOR_MATH else condition.astype(x.dtype)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""
    return _apply(input, lambda x: _softplus(x, beta, threshold),
                  lambda m, x: m.where(x * beta > threshold, 1.0, m.expit(x * beta)), "softplus")


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 outside and at the edges."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _apply(input, lambda x: np.clip(x, min_val, max_val),
                  lambda m, x: _mask(m, (x > min_val) & (x < max_val), x), "hardtanh")


def relu6(input):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return _apply(input, lambda x: np.clip(x / 6 + 0.5, 0, 1),
                  lambda m, x: _mask(m, (x > -3) & (x < 3), x) / 6.0, "hardsigmoid")


def hardswish(input):
    """x * relu6(x + 3) / 6; gradient 0 below -3, 1 above 3, x/3 + 1/2 between."""
    return _apply(input, lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda m, x: m.where(x < -3, 0.0, m.where(x <= 3, x / 3 + 0.5, 1.0)), "hardswish")


def _mish_derivative(m, x):
    tanh_softplus = m.tanh(m.softplus(x))
    return tanh_softplus + x * m.expit(x) * (1 - tanh_softplus * tanh_softplus)


def mish(input):
    """x * tanh(softplus(x))."""
    return _apply(input, lambda x: x * np.tanh(_softplus(x, 1.0, 20.0)), _mish_derivative, "mish")


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), without overflow; gradient sigmoid(-x)."""
    return _apply(input, lambda x: -np.logaddexp(0, -x), lambda m, x: m.expit(-x), "logsigmoid")


def selu(input):
    """scale * (x if x > 0 else alpha (exp(x) - 1)), the self-normalising constants."""
    return _apply(input,
                  lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
                  lambda m, x: SELU_SCALE * m.where(x > 0, 1.0, SELU_ALPHA * m.exp(m.minimum(x, 0))),
                  "selu")


def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _apply(input, lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha)),
                  lambda m, x: m.where(x > 0, 1.0, m.exp(m.minimum(x, 0) / alpha)), "celu")


def softsign(input):
    """x / (1 + |x|)."""
    return _apply(input, lambda x: x / (1 + np.abs(x)), lambda m, x: 1 / (1 + m.abs(x)) ** 2, "softsign")


def tanhshrink(input):
    """x - tanh(x)."""
    return _apply(input, lambda x: x - np.tanh(x), lambda m, x: m.tanh(x) ** 2, "tanhshrink")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    return _apply(input, lambda x: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)),
                  lambda m, x: _mask(m, m.abs(x) > lambd, x), "softshrink")


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _apply(input, lambda x: np.where(np.abs(x) > lambd, x, 0),
                  lambda m, x: _mask(m, m.abs(x) > lambd, x), "hardshrink")


def threshold(input, threshold, value):
    """x where x > threshold, else value."""
    return _apply(input, lambda x: np.where(x > threshold, x, value),
                  lambda m, x: _mask(m, x > threshold, x), "threshold")


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"glu: halving only works on an even dimension, but dim {dim} has size {size}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given (gradient 0 outside)."""
    low, high = (0.0, 1.0) if eps is None else (eps, 1.0 - eps)

    def derivative(m, p):
        local = 1 / (p * (1 - p))
        return local if eps is None else m.where((p >= low) & (p <= high), local, 0.0)
    return _apply(input, lambda p: np.log(np.clip(p, low, high) / (1 - np.clip(p, low, high))),
                  derivative, "logit")


# The math the derivatives are written with (see Pointwise): NumPy, and minigrad's recorded ops.
ARRAY_MATH = SimpleNamespace(**vars(pointwise.ARRAY_MATH),
                             softplus=lambda x: _softplus(x, 1.0, 20.0))
TENSOR_MATH = SimpleNamespace(**vars(pointwise.TENSOR_MATH), softplus=softplus)
