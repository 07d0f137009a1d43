"""Activations and the other small ops layers are built from.

- ``linear``: y = x W^T + b, the affine map of a fully connected layer
- ``leaky_relu elu gelu silu prelu``: non-linearities (``relu sigmoid tanh``
  live in ``elementwise.py``)
- ``softmax log_softmax``: numerically stable (the row maximum is
  subtracted before exponentiating, so exp never overflows)
- ``dropout dropout2d``: inverted dropout (kept units are scaled by 1/(1-p)
  during training, so evaluation needs no rescaling)
- ``pad`` (constant, reflect, replicate, circular) and ``one_hot``
"""
import math
import warnings

import numpy as np
from scipy.special import expit

from minigrad.autograd import Function
from minigrad.kernels import activation as activation_kernels
from minigrad.kernels import gemm as gemm_kernels
from minigrad.ops.shape import add_rows
from minigrad.random import generator
from minigrad.tensor import Tensor


def _data(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _check_tensor(x, name, function):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}: {name} must be a Tensor, got {type(x).__name__}")


# ------------------------------------------------------------------- linear
class Linear(Function):
    """y = x @ W^T + b for x of shape (*, in), W (out, in), b (out,)."""

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        rows = x.reshape(-1, x.shape[-1])                 # (*, in) as (rows, in)
        out = gemm_kernels.matmul(rows, weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:                              # (rows, in) @ (in, out) -> (*, out)
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        grad_2d = grad.reshape(-1, grad.shape[-1])        # (rows, out)
        if ctx.needs_input_grad[0]:                       # (rows, out) @ (out, in) -> (*, in)
            grad_x = gemm_kernels.matmul(grad_2d, weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = gemm_kernels.matmul(grad_2d.T, x.reshape(-1, x.shape[-1]))  # (out, rows) @ (rows, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_2d.sum(axis=0)
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias (PyTorch's F.linear).

    input (*, in_features), weight (out_features, in_features), bias (out_features,).
    """
    _check_tensor(input, "input", "linear")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: expected input with last dimension {weight.shape[1]} "
                         f"(in_features), got input of shape {tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    return Linear.apply(input, weight, bias)


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


def leaky_relu(input, negative_slope=0.01):
    _check_tensor(input, "input", "leaky_relu")
    return LeakyReLU.apply(input, float(negative_slope))


class ELU(Function):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    @staticmethod
    def forward(ctx, x, alpha):
        positive = x > 0
        exp_part = alpha * np.expm1(np.minimum(x, 0))  # minimum: no overflow on the unused branch
        ctx.save_for_backward(positive, exp_part)
        ctx.alpha = alpha
        return np.where(positive, x, exp_part).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        positive, exp_part = ctx.saved_tensors
        # d/dx alpha*(e^x - 1) = alpha*e^x = exp_part + alpha
        grad_x = np.where(positive, grad, grad * (exp_part + ctx.alpha))
        return grad_x.astype(grad.dtype, copy=False), None


def elu(input, alpha=1.0):
    _check_tensor(input, "input", "elu")
    return ELU.apply(input, float(alpha))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


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


def gelu(input, approximate="none"):
    _check_tensor(input, "input", "gelu")
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


def silu(input):
    _check_tensor(input, "input", "silu")
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
        ctx.save_for_backward(x, slope, positive)
        ctx.weight_shape = weight.shape
        return np.where(positive, x, slope * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, slope, positive = ctx.saved_tensors
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


def prelu(input, weight):
    _check_tensor(input, "input", "prelu")
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
        # PyTorch's legacy rule for an implicit dim.
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                      f"to include dim=X as an argument.", stacklevel=3)
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


def softmax(input, dim=None, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably."""
    _check_tensor(input, "input", "softmax")
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), 0).reshape(())
    return Softmax.apply(input, _softmax_dim(input.ndim, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along `dim`, computed stably (never log of 0 from underflow)."""
    _check_tensor(input, "input", "log_softmax")
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return LogSoftmax.apply(input.reshape(1), 0).reshape(())
    return LogSoftmax.apply(input, _softmax_dim(input.ndim, dim, "log_softmax"))


# ------------------------------------------------------------------- dropout
class MaskMultiply(Function):
    """x * mask with a fixed (non-differentiable) mask: the core of dropout."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return (x * mask).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return (grad * mask).astype(grad.dtype, copy=False), None


def _check_p(p, name):
    is_number = isinstance(p, (int, float, np.floating, np.integer)) and not isinstance(p, bool)
    if not is_number or not 0 <= p <= 1:
        raise ValueError(f"{name}: dropout probability p has to be between 0 and 1, but got {p!r}")


def _apply_dropout(input, p, mask_shape, inplace):
    if p == 1:
        mask = np.zeros(mask_shape, dtype=input.dtype)
    else:
        keep = generator().random(mask_shape) >= p
        mask = keep.astype(input.dtype) / input.dtype.type(1 - p)
    if inplace and not input.requires_grad:
        input.array *= mask
        return input
    return MaskMultiply.apply(input, mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    _check_tensor(input, "input", "dropout")
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _apply_dropout(input, p, input.shape, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: input (N, C, H, W); one draw per (n, c).

    As in PyTorch, any input of 2 or more dimensions is read as (N, C, *):
    a 3-d input is (N, C, L), not an unbatched (C, H, W), and a 2-d (N, C)
    input is dropped element by element; both warn, as PyTorch does.
    """
    _check_tensor(input, "input", "dropout2d")
    _check_p(p, "dropout2d")
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {tuple(input.shape)}")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated; "
                      f"use dropout instead (dropout2d is channel-wise dropout of (N, C, H, W) inputs)",
                      stacklevel=2)
    elif input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), as in "
                      "PyTorch; use dropout1d for that", stacklevel=2)
    if not training or p == 0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _apply_dropout(input, p, mask_shape, inplace)


# ----------------------------------------------------------------------- pad
def _pad_index(size, before, after, mode):
    """For one dimension: which input position each output position reads."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    # reflect: mirror without repeating the edge, period 2 * (size - 1)
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period > 0 else np.zeros_like(positions)
    return np.where(folded < size, folded, period - folded)


class IndexPad(Function):
    """reflect / replicate / circular padding: a gather along each padded dimension."""

    @staticmethod
    def forward(ctx, x, indices):
        # indices: {axis: index array}; applied one axis at a time
        ctx.indices = indices
        ctx.sizes = {axis: x.shape[axis] for axis in indices}
        out = x
        for axis, index in indices.items():
            out = np.take(out, index, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        for axis, index in reversed(list(ctx.indices.items())):
            # scatter-add back: several output positions can read one input position
            moved = np.moveaxis(grad, axis, 0)
            summed = np.zeros((ctx.sizes[axis],) + moved.shape[1:], dtype=grad.dtype)
            add_rows(summed, index, moved)
            grad = np.moveaxis(summed, 0, axis)
        return grad, None


class ConstantPad(Function):
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.slices = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[ctx.slices]), None, None


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dimensions (PyTorch's F.pad).

    ``pad = (left, right)`` pads the last dimension, ``(left, right, top,
    bottom)`` the last two, and so on. Modes: 'constant' (with ``value``),
    'reflect' (mirror, edge not repeated), 'replicate' (repeat the edge),
    'circular' (wrap around).
    """
    _check_tensor(input, "input", "pad")
    pad = tuple(pad)
    if len(pad) % 2 != 0 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most twice the number of "
                         f"dimensions ({input.ndim}), got {pad}")
    if any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pad):
        raise ValueError(f"pad: padding sizes must be ints, got {pad}")
    if any(p < 0 for p in pad):
        # A negative pad crops that side (as in PyTorch); the rest is padded as usual.
        crop = [slice(None)] * input.ndim
        for i in range(len(pad) // 2):
            axis, before, after = input.ndim - 1 - i, -min(pad[2 * i], 0), -min(pad[2 * i + 1], 0)
            if before + after >= input.shape[axis]:
                raise ValueError(f"pad: padding {pad} crops dimension {axis} of shape "
                                 f"{tuple(input.shape)} to nothing")
            crop[axis] = slice(before, input.shape[axis] - after)
        input = input[tuple(crop)]
        pad = tuple(max(p, 0) for p in pad)
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        return ConstantPad.apply(input, widths, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: value is only used with mode='constant', got mode={mode!r}")
    indices = {}
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        size = input.shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the "
                             f"dimension it pads (dimension {axis} has size {size})")
        if mode == "circular" and (before > size or after > size):
            raise ValueError(f"pad: circular padding ({before}, {after}) must be at most the size "
                             f"of dimension {axis} ({size})")
        if size == 0:
            raise ValueError(f"pad: cannot {mode}-pad dimension {axis} of size 0")
        indices[axis] = _pad_index(size, before, after, mode)
    if not indices:
        return input
    return IndexPad.apply(input, indices)


# ------------------------------------------------------------------- one_hot
def one_hot(tensor, num_classes=-1):
    """(*) int64 class indices -> (*, num_classes) int64 of 0s and 1s."""
    _check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    labels = tensor.array
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    out = np.zeros(labels.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, labels[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out, False, None)
