"""Loss functions, with PyTorch's signatures and reductions.

``cross_entropy`` is one fused op: log-softmax and the negative
log-likelihood together, whose gradient is the famous ``softmax - target``
(never an exp of a large number, never a log of 0).

The elementwise losses (mse, l1, smooth l1, binary cross entropy, kl_div)
are Function classes computing the per-element loss and its derivative; the
reduction ('none', 'mean', 'sum') is then an ordinary mean or sum.

Shapes (class dimension 1, as in PyTorch):
    input  (N, C) or (N, C, d1, d2, ...) or (C,)
    target (N,)   or (N, d1, d2, ...)    or ()     class indices in [0, C)
        or the same shape as input                  class probabilities
"""
import numpy as np
from scipy.special import expit

from minigrad.autograd import Function
from minigrad.ops.activation import _stable_log_softmax
from minigrad.ops.elementwise import _constant, clamp, where
from minigrad.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _as_tensor(x, name, function):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{function}: {name} must be a Tensor, got {type(x).__name__}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# --------------------------------------------------- class-index validation
def _check_class_target(input, target, function, ignore_index):
    """Validate (input, class-index target); return the number of classes C."""
    if input.ndim == 0:
        raise ValueError(f"{function}: input must have a class dimension, got a 0-d input")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    expected = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{function}: for input of shape {tuple(input.shape)} the class-index "
                         f"target must have shape {expected}, got {tuple(target.shape)}")
    labels = target.array
    valid = labels != ignore_index
    if valid.any():
        used = labels[valid]
        low, high = int(used.min()), int(used.max())
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise IndexError(f"{function}: target class {bad} is out of bounds: class indices "
                             f"must be in [0, {classes}) (or equal ignore_index={ignore_index})")
    return classes


def _check_weight(weight, classes, function):
    if weight is None:
        return None
    if tuple(weight.shape) != (classes,):
        raise ValueError(f"{function}: weight must have one entry per class, shape ({classes},), "
                         f"got {tuple(weight.shape)}")
    return weight.array


def _class_axis_last(array):
    """(N, C, d1, ...) -> (N*d1*..., C); (C,) -> (1, C)."""
    if array.ndim == 1:
        return array[None, :]
    return np.moveaxis(array, 1, -1).reshape(-1, array.shape[1])


def _class_axis_back(array2d, shape):
    """Inverse of _class_axis_last."""
    if len(shape) == 1:
        return array2d.reshape(shape)
    moved = array2d.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))
    return np.moveaxis(moved, -1, 1)


# ------------------------------------------------------------ cross entropy
def _row_scale(grad, reduction, denominator):
    """How much each row's loss contributes to the output: (M, 1) or a scalar."""
    if reduction == "none":
        return grad[:, None]
    if reduction == "mean":
        return grad / denominator
    return grad


def _row_scale_graph(grad, reduction, denominator):
    """_row_scale for a double backward, where grad is a Tensor."""
    if reduction == "none":
        return grad.reshape(-1, 1)
    if reduction == "mean":
        return grad / float(denominator)
    return grad


def _softmax_graph(logits):
    """(softmax, log_softmax) of the (M, C) rows of the Tensor `logits`, as recorded ops
    (for a double backward; the row maxima, a constant shift, change neither)."""
    shifted = logits - _constant(np.max(logits.array, axis=1, keepdims=True))
    exp = shifted.exp()
    total = exp.sum(1, keepdim=True)
    return exp / total, shifted - total.log()


def _reduce_rows(per_row, reduction, denominator, dtype):
    if reduction == "none":
        return per_row.astype(dtype, copy=False)
    total = per_row.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / denominator
    return np.asarray(total, dtype=dtype)


# Every variant of cross entropy (class indices, label smoothing, class
# weights, probability targets) is
#     loss_n = -sum_c q_nc * log p_nc,        p_n = softmax(x_n),
# for some target coefficients q_nc, and then
#     d loss_n / d x_nc = p_nc * sum_c q_nc - q_nc
# ("softmax minus target"). With class indices q is mostly zeros, so that
# case keeps q implicit: (1 - eps) w_y at the label, eps/C * w_c everywhere.

class CrossEntropyIndices(Function):
    """Fused log-softmax + NLL for class indices, with class weights and label smoothing."""

    @staticmethod
    def forward(ctx, logits, labels, row_weight, keep, class_weight, smoothing, reduction):
        # logits (M, C); labels (M,) in [0, C); row_weight (M,) = w[y] (0 where ignored)
        rows = np.arange(logits.shape[0])
        classes = logits.shape[1]
        log_p = _stable_log_softmax(logits, axis=1)                        # (M, C)
        per_row = -(1 - smoothing) * row_weight * log_p[rows, labels]      # (M,)
        if smoothing > 0:
            # the uniform part of the smoothed target: eps/C * sum_c w_c log p_c
            per_row = per_row - (smoothing / classes) * keep * (log_p @ class_weight)
        # logits: for a double backward, which differentiates softmax(logits) (costs memory
        # only where nothing else keeps the (M, C) rows alive)
        ctx.save_for_backward(log_p, labels, row_weight, keep, class_weight, logits)
        ctx.smoothing, ctx.reduction = smoothing, reduction
        ctx.denominator = row_weight.sum()     # 'mean' divides by the weight of the kept targets
        return _reduce_rows(per_row, reduction, ctx.denominator, logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_p, labels, row_weight, keep, class_weight, _ = ctx.saved_tensors
        classes, eps = log_p.shape[1], ctx.smoothing
        # sum_c q_nc: (1 - eps) w_y + eps/C * sum(w) for kept rows
        q_total = (1 - eps) * row_weight + (eps / classes) * keep * class_weight.sum()
        grad_logits = np.exp(log_p) * q_total[:, None]                    # p * sum(q)
        grad_logits[np.arange(len(labels)), labels] -= (1 - eps) * row_weight
        if eps > 0:
            grad_logits -= (eps / classes) * keep[:, None] * class_weight[None, :]
        grad_logits *= _row_scale(grad, ctx.reduction, ctx.denominator)
        return grad_logits.astype(log_p.dtype, copy=False), None, None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # p * sum(q) - q with p = softmax(logits) recorded; q (the target coefficients) is constant
        saved = ctx.saved_tensors
        labels, row_weight, keep, class_weight = [t.array for t in saved[1:5]]
        logits = saved[5]
        classes, eps = logits.shape[1], ctx.smoothing
        coefficients = (eps / classes) * keep[:, None] * class_weight[None, :]       # (M, C)
        coefficients[np.arange(len(labels)), labels] += (1 - eps) * row_weight
        coefficients = coefficients.astype(logits.dtype, copy=False)
        p, _ = _softmax_graph(logits)
        grad_logits = p * _constant(coefficients.sum(axis=1, keepdims=True)) - _constant(coefficients)
        grad_logits = grad_logits * _row_scale_graph(grad, ctx.reduction, ctx.denominator)
        return grad_logits, None, None, None, None, None, None


class CrossEntropyProbabilities(Function):
    """Fused log-softmax + cross entropy against class probabilities (soft targets)."""

    @staticmethod
    def forward(ctx, logits, probabilities, class_weight, smoothing, reduction):
        # q = w * ((1 - eps) * target + eps / C): (M, C)
        classes = logits.shape[1]
        log_p = _stable_log_softmax(logits, axis=1)
        coefficients = class_weight * ((1 - smoothing) * probabilities + smoothing / classes)
        per_row = -np.sum(coefficients * log_p, axis=1)
        # logits and probabilities: for a double backward, which differentiates log_p and the
        # coefficients too (memory only where nothing else keeps these (M, C) rows alive)
        ctx.save_for_backward(log_p, coefficients, class_weight, logits, probabilities)
        ctx.smoothing, ctx.reduction = smoothing, reduction
        ctx.denominator = logits.shape[0]      # 'mean' divides by the number of rows
        return _reduce_rows(per_row, reduction, ctx.denominator, logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_p, coefficients, class_weight, _, _ = ctx.saved_tensors
        scale = _row_scale(grad, ctx.reduction, ctx.denominator)
        grad_logits = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_logits = (np.exp(log_p) * coefficients.sum(axis=1, keepdims=True) - coefficients)
            grad_logits = (grad_logits * scale).astype(log_p.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            # d loss / d target_c = -(1 - eps) * w_c * log p_c
            grad_target = (-(1 - ctx.smoothing) * class_weight * log_p * scale)
            grad_target = grad_target.astype(log_p.dtype, copy=False)
        return grad_logits, grad_target, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        _, coefficients, class_weight, logits, probabilities = ctx.saved_tensors
        eps, classes = ctx.smoothing, logits.shape[1]
        weight = _constant(class_weight.array)
        scale = _row_scale_graph(grad, ctx.reduction, ctx.denominator)
        p, log_p = _softmax_graph(logits)
        grad_logits = grad_target = None
        if ctx.needs_input_grad[0]:
            # q = w ((1 - eps) target + eps / C), recorded where the target requires grad (even
            # when this walk does not differentiate it: the gradient may be, later)
            if probabilities.requires_grad:
                coefficients = weight * ((1 - eps) * probabilities + eps / classes)
            grad_logits = (p * coefficients.sum(1, keepdim=True) - coefficients) * scale
        if ctx.needs_input_grad[1]:
            grad_target = -(1 - eps) * weight * log_p * scale
        return grad_logits, grad_target, None, None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy between logits and class indices or class probabilities.

    input: logits (N, C), (N, C, d1, ...) or (C,); target: class indices of
    shape (N,), (N, d1, ...) or (), or probabilities with input's shape.
    weight (C,): per-class weights. label_smoothing eps: the target becomes
    (1 - eps) * one_hot + eps / C. With class indices, 'mean' divides by the
    summed weight of the non-ignored targets (as PyTorch does).
    """
    name = "cross_entropy"
    input = _as_tensor(input, "input", name)
    target = _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point logits, got {input.dtype}")
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d input")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    weight_array = _check_weight(weight, classes, name)
    dtype = input.dtype
    w = np.ones(classes, dtype=dtype) if weight_array is None else weight_array.astype(dtype)
    eps = float(label_smoothing)
    rows = _ClassRows.apply(input)                                         # (M, C)

    if target.dtype.kind == "f":                                           # probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"{name}: a probability target must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        target_rows = _ClassRows.apply(target.to(dtype))
        out = CrossEntropyProbabilities.apply(rows, target_rows, w, eps, reduction)
    else:
        if target.dtype.kind not in "iu":
            raise TypeError(f"{name}: target must hold integer class indices or float "
                            f"probabilities, got {target.dtype}")
        _check_class_target(input, target, name, ignore_index)
        labels = target.array.reshape(-1).astype(np.int64)                  # (M,)
        keep = labels != ignore_index
        safe = np.where(keep, labels, 0)                                   # any valid index
        row_weight = np.where(keep, w[safe], 0).astype(dtype)              # w[y_n], 0 if ignored
        out = CrossEntropyIndices.apply(rows, safe, row_weight, keep.astype(dtype), w, eps,
                                        reduction)
    if reduction == "none":
        out = out.reshape(() if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:]))
    return out


class _ClassRows(Function):
    """(N, C, d1, ...) -> (N*d1*..., C): the class dimension made last (a layout change)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.ascontiguousarray(_class_axis_last(x))

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(_class_axis_back(grad, ctx.shape))

    @staticmethod
    def backward_graph(ctx, grad):
        shape = ctx.shape
        if len(shape) == 1:
            return grad.reshape(shape)
        moved = grad.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))   # (N, d1, ..., C)
        return moved.permute(0, len(shape) - 1, *range(1, len(shape) - 1))   # (N, C, d1, ...)


# ----------------------------------------------------------------- nll_loss
class NLLLoss(Function):
    """loss_n = -w[y_n] * input[n, y_n] on the (M, C) rows of log-probabilities."""

    @staticmethod
    def forward(ctx, log_p, rows, labels, row_weight, reduction):
        ctx.shape = log_p.shape
        ctx.rows, ctx.labels, ctx.row_weight, ctx.reduction = rows, labels, row_weight, reduction
        picked = -row_weight * log_p[rows, labels]                         # (M,)
        ctx.denominator = row_weight.sum()
        if reduction == "none":
            return picked.astype(log_p.dtype, copy=False)
        total = picked.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                total = total / ctx.denominator
        return np.asarray(total, dtype=log_p.dtype)

    @staticmethod
    def backward(ctx, grad):
        grad_input = np.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.reduction == "none":
            scale = grad
        elif ctx.reduction == "mean":
            scale = grad / ctx.denominator
        else:
            scale = grad
        grad_input[ctx.rows, ctx.labels] = -ctx.row_weight * scale
        return grad_input, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # linear in grad: -w[y_n] * scale scattered to (n, y_n), recorded (its backward gathers)
        from minigrad.ops.shape import ScatterIntoZeros  # noqa: PLC0415
        scale = grad / float(ctx.denominator) if ctx.reduction == "mean" else grad
        values = _constant(-ctx.row_weight) * scale                                # (M,)
        if values.ndim == 0:
            values = values.expand(ctx.row_weight.shape)
        return ScatterIntoZeros.apply(values, ctx.shape, (ctx.rows, ctx.labels)), None, None, None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities (e.g. log_softmax)."""
    name = "nll_loss"
    input = _as_tensor(input, "input", name)
    target = _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got {target.dtype}")
    classes = _check_class_target(input, target, name, ignore_index)
    weight_array = _check_weight(weight, classes, name)
    labels = target.array.reshape(-1).astype(np.int64)
    keep = labels != ignore_index
    safe = np.where(keep, labels, 0)
    w = np.ones(classes, dtype=input.dtype) if weight_array is None else weight_array.astype(input.dtype)
    row_weight = np.where(keep, w[safe], 0).astype(input.dtype)
    rows = _ClassRows.apply(input)
    out = NLLLoss.apply(rows, np.arange(len(labels)), safe, row_weight, reduction)
    if reduction == "none":
        out = out.reshape(() if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:]))
    return out


# -------------------------------------------------------- elementwise losses
def _check_same_shape(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{name}: target shape {tuple(target.shape)} must equal input shape "
                         f"{tuple(input.shape)}")


class SquaredError(Function):
    @staticmethod
    def forward(ctx, x, y):
        diff = x - y
        # x, y: for a double backward, which differentiates diff (memory only where nothing else
        # keeps them alive)
        ctx.save_for_backward(diff, x, y)
        return diff * diff

    @staticmethod
    def backward(ctx, grad):
        diff, _, _ = ctx.saved_tensors
        g = 2 * grad * diff
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        _, x, y = ctx.saved_tensors
        g = 2 * grad * (x - y)
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None)


class AbsoluteError(Function):
    @staticmethod
    def forward(ctx, x, y):
        diff = x - y
        ctx.save_for_backward(np.sign(diff))
        return np.abs(diff)

    @staticmethod
    def backward(ctx, grad):
        sign, = ctx.saved_tensors
        g = grad * sign
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None)

    backward_graph = backward  # sign(x - y) comes back as a constant


class SmoothL1(Function):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = x - y)."""

    @staticmethod
    def forward(ctx, x, y, beta):
        diff = x - y
        small = np.abs(diff) < beta
        ctx.save_for_backward(diff, small, x, y)   # x, y: for a double backward (see SquaredError)
        ctx.beta = beta
        if beta == 0:
            return np.abs(diff)
        loss = np.where(small, 0.5 * diff * diff / beta, np.abs(diff) - 0.5 * beta)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        diff, small, _, _ = ctx.saved_tensors
        if ctx.beta == 0:
            derivative = np.sign(diff)
        else:
            derivative = np.where(small, diff / ctx.beta, np.sign(diff))
        g = (grad * derivative).astype(grad.dtype, copy=False)
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None

    @staticmethod
    def backward_graph(ctx, grad):
        diff, small, x, y = ctx.saved_tensors
        sign = _constant(np.sign(diff.array).astype(grad.dtype))
        if ctx.beta == 0:
            derivative = sign
        else:  # d/dd = d / beta inside (recorded: its derivative is 1 / beta), sign(d) outside
            derivative = where(_constant(small.array), (x - y) / ctx.beta, sign)
        g = grad * derivative
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced."""
    input, target = _as_tensor(input, "input", "mse_loss"), _as_tensor(target, "target", "mse_loss")
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(input, target, "mse_loss")
    return _reduce(SquaredError.apply(input, target), reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target|, reduced."""
    input, target = _as_tensor(input, "input", "l1_loss"), _as_tensor(target, "target", "l1_loss")
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(input, target, "l1_loss")
    return _reduce(AbsoluteError.apply(input, target), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Quadratic near 0, linear far away: robust regression (Fast R-CNN's box loss)."""
    input = _as_tensor(input, "input", "smooth_l1_loss")
    target = _as_tensor(target, "target", "smooth_l1_loss")
    _check_reduction(reduction, "smooth_l1_loss")
    _check_same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _reduce(SmoothL1.apply(input, target, float(beta)), reduction)


class BinaryCrossEntropy(Function):
    """-w [y log p + (1 - y) log(1 - p)]; each log clamped at -100 as in PyTorch."""

    @staticmethod
    def forward(ctx, p, y, weight):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, y, weight, log_p, log_1mp)
        loss = -(y * log_p + (1 - y) * log_1mp)
        if weight is not None:
            loss = loss * weight
        return loss.astype(p.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        p, y, weight, log_p, log_1mp = ctx.saved_tensors
        scale = grad if weight is None else grad * weight
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            # d/dp = (p - y) / (p (1 - p)), kept finite near p = 0 or 1 (PyTorch clamps with eps 1e-12)
            grad_p = scale * (p - y) / np.maximum(p * (1 - p), 1e-12)
            grad_p = grad_p.astype(p.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            grad_y = (scale * (log_1mp - log_p)).astype(p.dtype, copy=False)
        return grad_p, grad_y, None

    @staticmethod
    def backward_graph(ctx, grad):
        p, y, weight, _, _ = ctx.saved_tensors
        scale = grad if weight is None else grad * _constant(weight.array)
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_p = scale * (p - y) / clamp(p * (1 - p), min=1e-12)
        if ctx.needs_input_grad[1]:
            grad_y = scale * (_clamped_log(1 - p) - _clamped_log(p))
        return grad_p, grad_y, None


def _clamped_log(x):
    """max(log x, -100) as recorded ops, finite (and with a finite derivative) at x = 0."""
    positive = _constant(x.array > 0)
    with np.errstate(divide="ignore"):
        return where(positive, clamp(where(positive, x, 1.0).log(), min=-100), -100.0)


def _broadcast_weight(weight, shape, name):
    if weight is None:
        return None
    data = weight.array if isinstance(weight, Tensor) else np.asarray(weight)
    try:
        return np.broadcast_to(data, shape)
    except ValueError:
        raise ValueError(f"{name}: weight of shape {tuple(data.shape)} cannot be broadcast to the "
                         f"input's shape {tuple(shape)}") from None


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE between probabilities `input` in [0, 1] and targets in [0, 1]."""
    name = "binary_cross_entropy"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    data = input.array
    if data.size and (data.min() < 0 or data.max() > 1):
        raise ValueError(f"{name}: all elements of input should be between 0 and 1 (probabilities; "
                         f"use binary_cross_entropy_with_logits for logits), got values in "
                         f"[{float(data.min()):.4g}, {float(data.max()):.4g}]")
    w = _broadcast_weight(weight, input.shape, name)
    return _reduce(BinaryCrossEntropy.apply(input, target, w), reduction)


class BinaryCrossEntropyWithLogits(Function):
    """BCE of sigmoid(x), computed stably:  (1 - y) x + l * log(1 + e^-x) ... in log-sum-exp form.

    loss = w [ (1 - y) x + (1 + (pw - 1) y) * softplus(-x) ],
    softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|).
    """

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + log_weight * softplus_neg
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight, softplus_neg)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight, softplus_neg = ctx.saved_tensors
        scale = grad if weight is None else grad * weight
        s = expit(x)
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                derivative = s - y
            else:
                # d/dx: (1 - y) - (1 + (pw - 1) y) * (1 - s)
                derivative = (1 - y) - (1 + (pos_weight - 1) * y) * (1 - s)
            grad_x = (scale * derivative).astype(x.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            derivative = -x if pos_weight is None else -x + (pos_weight - 1) * softplus_neg
            grad_y = (scale * derivative).astype(x.dtype, copy=False)
        return grad_x, grad_y, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # sigmoid(x) and softplus(-x) recorded from x, via e = exp(-|x|) <= 1 (no overflow)
        x, y, weight, pos_weight, _ = ctx.saved_tensors
        scale = grad if weight is None else grad * _constant(weight.array)
        pw = None if pos_weight is None else _constant(pos_weight.array)
        e = (-(x * _constant(np.sign(x.array)))).exp()
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            s = where(_constant(x.array >= 0), 1 / (1 + e), e / (1 + e))
            derivative = s - y if pw is None else (1 - y) - (1 + (pw - 1) * y) * (1 - s)
            grad_x = scale * derivative
        if ctx.needs_input_grad[1]:
            if pw is None:
                derivative = -x
            else:
                softplus_neg = -x * _constant(x.array < 0) + (1 + e).log()
                derivative = -x + (pw - 1) * softplus_neg
            grad_y = scale * derivative
        return grad_x, grad_y, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE of sigmoid(input) against target, without computing sigmoid's log (stable)."""
    name = "binary_cross_entropy_with_logits"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    w = _broadcast_weight(weight, input.shape, name)
    pw = None
    if pos_weight is not None:
        pw = _broadcast_weight(pos_weight, input.shape, name + " (pos_weight)")
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, target, w, pw), reduction)


class KLDivergence(Function):
    """Pointwise KL term: target * (log target - input); input holds log-probabilities."""

    @staticmethod
    def forward(ctx, log_q, target, log_target):
        if log_target:
            loss = np.exp(target) * (target - log_q)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_t = np.where(target > 0, np.log(np.where(target > 0, target, 1)), 0)
            loss = np.where(target > 0, target * (log_t - log_q), 0)
        ctx.save_for_backward(log_q, target)
        ctx.log_target = log_target
        return loss.astype(log_q.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        log_q, target = ctx.saved_tensors
        grad_q = grad_t = None
        if ctx.log_target:
            t = np.exp(target)
            if ctx.needs_input_grad[0]:
                grad_q = -grad * t
            if ctx.needs_input_grad[1]:
                grad_t = grad * t * (target - log_q + 1)
        else:
            if ctx.needs_input_grad[0]:
                grad_q = -grad * target
            if ctx.needs_input_grad[1]:
                with np.errstate(divide="ignore", invalid="ignore"):
                    log_t = np.where(target > 0, np.log(np.where(target > 0, target, 1)), 0)
                grad_t = np.where(target > 0, grad * (log_t - log_q + 1), 0)
        return grad_q, grad_t, None

    @staticmethod
    def backward_graph(ctx, grad):
        log_q, target = ctx.saved_tensors
        grad_q = grad_t = None
        if ctx.log_target:
            t = target.exp()
            if ctx.needs_input_grad[0]:
                grad_q = -grad * t
            if ctx.needs_input_grad[1]:
                grad_t = grad * t * (target - log_q + 1)
        else:
            if ctx.needs_input_grad[0]:
                grad_q = -grad * target
            if ctx.needs_input_grad[1]:
                positive = _constant(target.array > 0)
                log_t = where(positive, target, 1.0).log()
                grad_t = where(positive, grad * (log_t - log_q + 1), 0.0)
        return grad_q, grad_t, None


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || q) with `input` = log q. Use reduction='batchmean' for the true KL mean.

    'mean' averages over every element (PyTorch's default, kept for
    compatibility); 'batchmean' divides the sum by the batch size.
    """
    name = "kl_div"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{name}: reduction must be 'none', 'mean', 'sum' or 'batchmean', got "
                         f"{reduction!r}")
    _check_same_shape(input, target, name)
    loss = KLDivergence.apply(input, target, bool(log_target))
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim > 0 else 1)
    return _reduce(loss, reduction)


# ------------------------------------------------- huber and likelihood losses
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere: delta * smooth_l1(beta=delta)."""
    name = "huber_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    if not delta > 0:
        raise RuntimeError(f"{name} does not support non-positive values for delta, got {delta}")
    loss = SmoothL1.apply(input, target, float(delta)) * float(delta)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(f"{name}: weights and input must have the same size, got weight "
                             f"{tuple(weight.shape)} and input {tuple(input.shape)}")
        loss = loss * weight
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Negative log-likelihood of target ~ Poisson(rate).

    log_input=True:  input = log(rate), loss = exp(input) - target * input;
    log_input=False: input = rate,      loss = input - target * log(input + eps).
    full adds Stirling's approximation of log(target!) where target > 1.
    """
    name = "poisson_nll_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.detach().array
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t)
        loss = loss + Tensor(np.where(t > 1, stirling, 0).astype(loss.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) [+ 0.5 log(2 pi) if full].

    var: one variance per element (input's shape), or one per row with the
    last dimension missing or 1 (homoscedastic), or a float. var is clamped
    to at least eps; the clamp is invisible to the gradient, as in PyTorch.
    """
    name = "gaussian_nll_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor(np.full(input.shape, float(var), dtype=input.dtype))
    var = _as_tensor(var, "var", name)
    if var.array.size and (var.array < 0).any():
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape)
                                                 if i != v) == 1):
            raise ValueError(f"var is of incorrect size: got {tuple(var.shape)} for input of "
                             f"shape {tuple(input.shape)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    # the clamped variance, with the gradient of the unclamped one (a no-grad clamp_)
    var = var + Tensor(np.maximum(var.array, eps) - var.array)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    return _reduce(loss, reduction)
