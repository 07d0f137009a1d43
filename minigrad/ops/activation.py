"""The non-linear activations: relu, sigmoid, tanh, leaky_relu, elu, gelu, silu,
prelu, and softmax / log_softmax / softmin.

Each has its own Function with forward and backward side by side (relu and
the exact gelu run compiled kernels, minigrad/kernels/activation.py). The
activations defined by a formula and its derivative alone (softplus,
hardtanh, mish, selu, ...) share one Function in pointwise_activations.py.

softmax and log_softmax sit here as in torch.nn.functional, which lists them
with the non-linear activations; both are computed stably: the row maximum
is subtracted before exponentiating, so exp never overflows.
"""
import math
import warnings

import numpy as np
from scipy.special import expit

from minigrad.autograd import Function
from minigrad.kernels import activation as activation_kernels
from minigrad.ops._args import check_tensor
from minigrad.ops.elementwise import _constant, exp, where
from minigrad.ops.promotion import floating


# ------------------------------------------------------- relu, sigmoid, tanh
class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (1 - out * out)

    backward_graph = backward  # out is the output: d/dx (1 - out^2) is recorded through it


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = expit(a)  # 1 / (1 + exp(-a)), without overflow for large |a|
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out * (1 - out)

    backward_graph = backward


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0 (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        out = activation_kernels.relu(a)
        ctx.save_for_backward(out)  # out > 0 exactly where a > 0
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return activation_kernels.relu_backward(grad, out)

    @staticmethod
    def backward_graph(ctx, grad):
        out, = ctx.saved_tensors
        return grad * _constant((out.array > 0).astype(grad.dtype))


def tanh(a):
    return Tanh.apply(floating(a))


def sigmoid(a):
    return Sigmoid.apply(floating(a))


def relu(a, inplace=False):
    check_tensor(a, "input", "relu")
    if inplace:
        return a._inplace("relu_", ReLU.apply)
    return ReLU.apply(a)


def _check_floating(input, op):
    """As in PyTorch, these activations are defined for floating-point tensors only."""
    check_tensor(input, "input", op)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype} (convert with .float())")


# ----------------------------------------------------------- non-linearities
class LeakyReLU(Function):
    """x for x > 0, negative_slope * x otherwise."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return np.where(positive, x, x * negative_slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        positive, = ctx.saved_tensors
        return np.where(positive, grad, grad * ctx.negative_slope).astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        positive, = ctx.saved_tensors  # a constant mask
        slope = np.where(positive.array, 1.0, ctx.negative_slope).astype(grad.dtype)
        return grad * _constant(slope), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_floating(input, "leaky_relu")
    if inplace:
        return input._inplace("leaky_relu_", lambda t: LeakyReLU.apply(t, float(negative_slope)))
    return LeakyReLU.apply(input, float(negative_slope))


class ELU(Function):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    @staticmethod
    def forward(ctx, x, alpha):
        positive = x > 0
        exp_part = alpha * np.expm1(np.minimum(x, 0))  # minimum: no overflow on the unused branch
        out = np.where(positive, x, exp_part).astype(x.dtype, copy=False)
        # The output, not exp_part (equal to it where x <= 0): a double backward
        # differentiates the derivative through it.
        ctx.save_for_backward(positive, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        positive, out = ctx.saved_tensors
        # d/dx alpha*(e^x - 1) = alpha*e^x = out + alpha where x <= 0
        grad_x = np.where(positive, grad, grad * (out + ctx.alpha))
        return grad_x.astype(grad.dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        positive, out = ctx.saved_tensors
        return where(positive, grad, grad * (out + ctx.alpha)), None


def elu(input, alpha=1.0, inplace=False):
    _check_floating(input, "elu")
    if inplace:
        return input._inplace("elu_", lambda t: ELU.apply(t, float(alpha)))
    return ELU.apply(input, float(alpha))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(Function):
    """x * Phi(x), Phi the standard normal CDF; or its tanh approximation.

    The exact form runs in a compiled kernel (minigrad/kernels/activation.py)
    that keeps only x for backward and recomputes Phi(x) + x phi(x) there.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
            ctx.save_for_backward(x, t)
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x)
        return activation_kernels.gelu(x)

    @staticmethod
    def backward(ctx, grad):
        if ctx.approximate == "tanh":
            x, t = ctx.saved_tensors
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
            return (grad * derivative).astype(grad.dtype, copy=False), None
        x, = ctx.saved_tensors
        # d/dx x Phi(x) = Phi(x) + x phi(x), phi the standard normal density
        return activation_kernels.gelu_backward(grad, x), None

    @staticmethod
    def backward_graph(ctx, grad):
        from minigrad.ops.pointwise import erf
        x = ctx.saved_tensors[0]  # t (tanh form) is recomputed from x, to be differentiated
        if ctx.approximate == "tanh":
            t = tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner), None
        cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
        density = exp(-0.5 * x * x) * _INV_SQRT_2PI
        return grad * (cdf + x * density), None


def gelu(input, approximate="none"):
    check_tensor(input, "input", "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


class SiLU(Function):
    """x * sigmoid(x) (also called swish)."""

    @staticmethod
    def forward(ctx, x):
        s = expit(x)
        ctx.save_for_backward(x, s)
        return (x * s).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return (grad * s * (1 + x * (1 - s))).astype(grad.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad):
        x = ctx.saved_tensors[0]
        s = sigmoid(x)  # recomputed from x: the saved one is a constant
        return grad * s * (1 + x * (1 - s))


def silu(input):
    _check_floating(input, "silu")
    return SiLU.apply(input)


class PReLU(Function):
    """leaky ReLU with a learned slope per channel (dimension 1) or one shared slope."""

    @staticmethod
    def forward(ctx, x, weight):
        # weight (C,) broadcast along dimension 1: shape (1, C, 1, ..., 1)
        shape = [1] * x.ndim
        if weight.size > 1:
            shape[1] = weight.size
        slope = weight.reshape(shape) if x.ndim > 0 else weight.reshape(())
        positive = x > 0
        # weight too (a parameter, alive anyway): a double backward reshapes it again,
        # as the slope saved here would be a constant there
        ctx.save_for_backward(x, slope, positive, weight)
        ctx.weight_shape = weight.shape
        return np.where(positive, x, slope * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, slope, positive, _ = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = np.where(positive, grad, grad * slope).astype(grad.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            per_element = np.where(positive, 0, grad * x)
            if np.prod(ctx.weight_shape) > 1:
                axes = tuple(d for d in range(x.ndim) if d != 1)
                grad_w = per_element.sum(axis=axes)
            else:
                grad_w = np.asarray(per_element.sum())
            grad_w = grad_w.reshape(ctx.weight_shape).astype(grad.dtype, copy=False)
        return grad_x, grad_w

    @staticmethod
    def backward_graph(ctx, grad):
        x, slope, positive, weight = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = where(positive, grad, grad * weight.reshape(slope.shape))
        if ctx.needs_input_grad[1]:
            per_element = where(positive, 0.0, grad * x)
            if np.prod(ctx.weight_shape) > 1:
                grad_w = per_element.sum(axis=tuple(d for d in range(x.ndim) if d != 1))
            else:
                grad_w = per_element.sum()
            grad_w = grad_w.reshape(ctx.weight_shape)
        return grad_x, grad_w


def prelu(input, weight):
    check_tensor(input, "input", "prelu")
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-d, got shape {tuple(weight.shape)}")
    if weight.numel() > 1:
        channels = input.shape[1] if input.ndim >= 2 else None
        if channels != weight.numel():
            raise ValueError(f"prelu: weight has {weight.numel()} parameters, so the input needs "
                             f"{weight.numel()} channels in dimension 1; got input of shape "
                             f"{tuple(input.shape)}")
    return PReLU.apply(input, weight)


# ------------------------------------------------------------------- softmax
def _softmax_dim(ndim, dim, name):
    if dim is None:
        # PyTorch's legacy rule for an implicit dim; the warning points at the caller of softmax
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                      f"to include dim=X as an argument.", stacklevel=4)
        return 0 if ndim in (0, 1, 3) else 1
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % rank if ndim > 0 else 0


def _stable_log_softmax(x, axis):
    """log softmax without overflow: x - max - log(sum(exp(x - max)))."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
        out = shifted / np.sum(shifted, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        # Jacobian-vector product: s * (g - sum(g * s))
        return out * (grad - np.sum(grad * out, axis=ctx.axis, keepdims=True)), None

    @staticmethod
    def backward_graph(ctx, grad):
        out, = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        out = _stable_log_softmax(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        # d/dx_j sum_i g_i (x_i - logsumexp x) = g_j - softmax_j * sum_i g_i
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axis, keepdims=True), None

    @staticmethod
    def backward_graph(ctx, grad):
        out, = ctx.saved_tensors
        return grad - exp(out) * grad.sum(axis=ctx.axis, keepdims=True), None


def _along_dim(function, name, input, dim, dtype):
    """Apply Softmax or LogSoftmax along `dim` (a 0-d input is treated as one element)."""
    check_tensor(input, "input", name)
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return function.apply(input.reshape(1), 0).reshape(())
    return function.apply(input, _softmax_dim(input.ndim, dim, name))


def softmax(input, dim=None, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably."""
    return _along_dim(Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along `dim`, computed stably (never log of 0 from underflow)."""
    return _along_dim(LogSoftmax, "log_softmax", input, dim, dtype)


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along dim."""
    return softmax(-input, dim, dtype)


# ----------------------------------------------------------- in-place variants
# Each overwrites its input through Tensor._inplace (version counter, graph rebasing,
# the leaf-requires-grad error) and returns it, as torch.nn.functional's relu_ & co.
def relu_(input):
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    from minigrad.ops.pointwise_activations import hardtanh
    check_tensor(input, "input", "hardtanh_")
    return input._inplace("hardtanh_", lambda t: hardtanh(t, min_val, max_val))


def selu_(input):
    from minigrad.ops.pointwise_activations import selu
    check_tensor(input, "input", "selu_")
    return input._inplace("selu_", selu)


def celu_(input, alpha=1.0):
    from minigrad.ops.pointwise_activations import celu
    check_tensor(input, "input", "celu_")
    return input._inplace("celu_", lambda t: celu(t, alpha))


def threshold_(input, threshold, value):
    from minigrad.ops.pointwise_activations import threshold as threshold_op
    check_tensor(input, "input", "threshold_")
    return input._inplace("threshold_", lambda t: threshold_op(t, threshold, value))


# ----------------------------------------------------------- randomized leaky ReLU
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element in
    training, and is (lower + upper) / 2 in evaluation (as in PyTorch).

    Training: out = x where x > 0, r * x elsewhere (r ~ U(lower, upper), one per element);
    the gradient is the same factor (1 or r), so it runs as a fixed-mask multiply.
    """
    from minigrad.ops.dropout import MaskMultiply
    from minigrad.random import generator
    _check_floating(input, "rrelu")
    if not (isinstance(lower, (int, float)) and isinstance(upper, (int, float))) or lower > upper:
        raise ValueError(f"rrelu: expected lower <= upper (two numbers), got lower={lower!r}, "
                         f"upper={upper!r}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = generator().uniform(lower, upper, input.shape)
    factor = np.where(input.array > 0, 1.0, slopes).astype(input.dtype)

    def compute(t):
        return MaskMultiply.apply(t, factor)

    if inplace:
        return input._inplace("rrelu_", compute)
    return compute(input)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)
