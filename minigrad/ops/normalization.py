"""Normalisation: batch_norm, layer_norm, group_norm, instance_norm.

All four normalise groups of elements to zero mean and unit variance,

    xhat = (x - mean) / sqrt(var + eps)        (var: biased, divides by the count)
    y    = xhat * weight + bias

and differ only in which elements form a group:

    batch_norm      per channel, over (N, *spatial)       x viewed as (N, C, L)
    instance_norm   per (image, channel), over spatial     x viewed as (1, N*C, L)
    group_norm      per (image, group), over (C/G, *sp)    x viewed as (1, N*G, C/G*L)
    layer_norm      per row, over normalized_shape         x viewed as (1, rows, M)

so one compiled kernel pair (minigrad/kernels/batchnorm.py) serves all of
them (and batch_norm_relu, batch norm with a ReLU after it, fused). Its
backward is the closed form, per group of M elements:

    grad_x = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))
    grad_weight = sum(g * xhat),  grad_bias = sum(g)

Layer and group norm apply their affine (per element / per channel) with
ordinary broadcasting ops, so autograd differentiates it.
"""
import math

import numpy as np

from minigrad.autograd import Function
from minigrad.kernels import activation as activation_kernels
from minigrad.kernels import batchnorm as kernels
from minigrad.ops.elementwise import _constant
from minigrad.tensor import Tensor


class BatchNorm(Function):
    """Per-channel normalisation of (N, C, L); updates the running statistics in training."""

    fresh_gradients = True  # backward returns newly allocated gradients
    relu = False            # BatchNormReLU: followed by a ReLU, in the same kernels

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
        shape = input.shape
        # (N, C, L), contiguous: a permuted input's reshape can be a strided view
        x = np.ascontiguousarray(input.reshape(shape[0], shape[1], math.prod(shape[2:])))
        forward_kernel = kernels.batch_norm_relu_forward if ctx.relu else kernels.batch_norm_forward
        if training:
            output, mean, var, invstd = forward_kernel(x, weight, bias, eps)
            if running_mean is not None:
                count = x.shape[0] * x.shape[2]
                # running = (1 - momentum) * running + momentum * batch, unbiased variance.
                running_mean *= 1 - momentum
                running_mean += (momentum * mean).astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += (momentum * var * count / (count - 1)).astype(running_var.dtype)
        else:
            output, mean, var, invstd = forward_kernel(x, weight, bias, eps, running_mean, running_var)
        # with the ReLU, its output (N, C, L) too: its mask output > 0 gates the gradient;
        # last the input itself, for a double backward (no memory: x is a view of it or
        # its copy, kept anyway)
        ctx.save_for_backward(x, mean, invstd, weight, *((output,) if ctx.relu else ()), input)
        ctx.training, ctx.shape, ctx.eps = training, shape, eps
        if ctx.relu and training:   # what the ReLU's mask is recomputed from (C values each)
            ctx.relu_scale_shift = kernels.relu_scale_shift(weight, bias, var, eps, x.shape[1], x.dtype)
        return output.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        x, mean, invstd, weight = ctx.saved_tensors[:4]
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_output = grad_output.reshape(x.shape)
        # eval: the statistics are constants, grad_x = g * weight * invstd does not
        # depend on x (a NaN in x must not reach it through the closed form's xhat)
        kernel_grad_input = needs_input and ctx.training
        if ctx.relu and ctx.training:
            grad_input, grad_weight, grad_bias = kernels.batch_norm_relu_backward(
                grad_output, ctx.saved_tensors[4], x, mean, invstd, weight, True, kernel_grad_input,
                relu_scale_shift=ctx.relu_scale_shift)
        else:
            if ctx.relu:  # eval: the ReLU's backward first (rare: fine-tuning in eval mode)
                grad_output = activation_kernels.relu_backward(grad_output, ctx.saved_tensors[4])
            grad_input, grad_weight, grad_bias = kernels.batch_norm_backward(
                grad_output, x, mean, invstd, weight, ctx.training, kernel_grad_input)
        if needs_input and not ctx.training:
            scale = invstd if weight is None else invstd * weight          # (C,)
            grad_input = (grad_output * scale[:, None]).astype(x.dtype, copy=False)
        if needs_input:
            grad_input = grad_input.reshape(ctx.shape)
        grad_weight = grad_weight.astype(weight.dtype) if needs_weight else None
        grad_bias = grad_bias.astype(x.dtype) if needs_bias else None
        return grad_input, grad_weight, grad_bias, None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The closed form above with Tensor ops. In training the statistics depend
        # on x, so xhat and invstd are recomputed from the input; in eval they are
        # the running statistics, constants.
        saved = ctx.saved_tensors
        mean, invstd, weight, input = saved[1], saved[2], saved[3], saved[-1]
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        x = input.reshape(*saved[0].shape)                              # (N, C, L)
        g = grad.reshape(*saved[0].shape)
        if ctx.relu:  # the ReLU's mask: a constant
            g = g * _constant(saved[4].array > 0)
        axes = (0, 2)
        count = x.shape[0] * x.shape[2]
        if ctx.training:
            centered = x - x.sum(axis=axes, keepdims=True) / count
            invstd = ((centered * centered).sum(axis=axes, keepdims=True) / count + ctx.eps) ** -0.5
            xhat = centered * invstd                                    # (N, C, L)
        else:
            invstd = invstd.reshape(1, -1, 1)
            xhat = (x - mean.reshape(1, -1, 1)) * invstd
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            scale = invstd if weight is None else invstd * weight.reshape(1, -1, 1)
            if ctx.training:
                mean_g = g.sum(axis=axes, keepdims=True) / count
                mean_g_xhat = (g * xhat).sum(axis=axes, keepdims=True) / count
                grad_input = scale * (g - mean_g - xhat * mean_g_xhat)
            else:
                grad_input = g * scale
            grad_input = grad_input.reshape(*ctx.shape)
        if needs_weight:
            grad_weight = (g * xhat).sum(axis=axes)
        if needs_bias:
            grad_bias = g.sum(axis=axes)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


class BatchNormReLU(BatchNorm):
    """relu(batch_norm(x)) as one op: one pass forward, one backward pass pair, no ReLU pass."""

    relu = True


def _check_input(input, op, min_dim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 input, got {input.dtype}")
    if input.ndim < min_dim:
        raise ValueError(f"{op}: expected an input with at least {min_dim} dimensions, got shape "
                         f"{tuple(input.shape)}")


def _check_vector(value, name, op, length, allow_none=True):
    if value is None:
        if allow_none:
            return
        raise ValueError(f"{op}: {name} is required here")
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if value.numel() != length or value.ndim != 1:
        raise ValueError(f"{op}: {name} should contain {length} elements (one per channel), "
                         f"got shape {tuple(value.shape)}")


def _check_batch_norm(op, input, running_mean, running_var, weight, bias, training, momentum):
    _check_input(input, op, 2)
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        _check_vector(value, name, op, channels)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError(f"{op}: running_mean and running_var are required when training=False")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"{op}: momentum must be a float, got {momentum!r}")
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")


def _apply_batch_norm(function, input, running_mean, running_var, weight, bias, training, momentum, eps):
    return function.apply(input, weight, bias,
                          None if running_mean is None else running_mean.array,
                          None if running_var is None else running_var.array,
                          bool(training), float(momentum), float(eps))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W).

    training=True normalises with the batch's mean and biased variance and,
    when running_mean / running_var are given, updates them in place:
    running = (1 - momentum) * running + momentum * batch_statistic (the
    unbiased variance for running_var). training=False uses the running
    statistics.
    """
    _check_batch_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum)
    return _apply_batch_norm(BatchNorm, input, running_mean, running_var, weight, bias, training,
                             momentum, eps)


def batch_norm_relu(input, running_mean, running_var, weight=None, bias=None, training=False,
                    momentum=0.1, eps=1e-5):
    """relu(batch_norm(input, ...)) in one op, with the same arguments, values and gradients.

    The ReLU takes no pass over memory of its own: the forward clamps at 0 as
    it writes the output, the backward masks the gradient by output > 0 as it
    reads it. nn.Sequential calls it for an adjacent BatchNorm, ReLU pair.
    """
    _check_batch_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum)
    return _apply_batch_norm(BatchNormReLU, input, running_mean, running_var, weight, bias, training,
                             momentum, eps)


def _normalize_rows(x, rows, eps):
    """(rows, M) view of `x` normalised per row, no affine: batch norm of (1, rows, M)."""
    flat = x.reshape(1, rows, x.numel() // rows)
    return BatchNorm.apply(flat, None, None, None, None, True, 0.0, float(eps)).reshape(*x.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dimensions; affine per element."""
    op = "layer_norm"
    _check_input(input, op, 1)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != normalized_shape or k > input.ndim:
        raise ValueError(f"{op}: normalized_shape {normalized_shape} must match the last dimensions "
                         f"of the input, got input shape {tuple(input.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != normalized_shape:
            raise ValueError(f"{op}: {name} must have shape {normalized_shape}, got "
                             f"{tuple(value.shape)}")
    size = math.prod(normalized_shape)
    rows = input.numel() // size if size else 0
    output = _normalize_rows(input, rows, eps)
    if weight is not None:
        output = output * weight
    if bias is not None:
        output = output + bias
    return output


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over groups of C/num_groups channels; affine per channel."""
    op = "group_norm"
    _check_input(input, op, 2)
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1 \
            or channels % num_groups:
        raise ValueError(f"{op}: num_groups must be a positive divisor of the number of channels "
                         f"({channels}), got {num_groups!r}")
    _check_vector(weight, "weight", op, channels)
    _check_vector(bias, "bias", op, channels)
    output = _normalize_rows(input, input.shape[0] * int(num_groups), eps)
    per_channel = (channels,) + (1,) * (input.ndim - 2)  # broadcasts over (N, C, *spatial)
    if weight is not None:
        output = output * weight.reshape(*per_channel)
    if bias is not None:
        output = output + bias.reshape(*per_channel)
    return output


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (image, channel) plane of (N, C, *) over its spatial elements.

    As in PyTorch, this is batch_norm of the (1, N*C, *) view with the
    per-channel parameters repeated N times; the running statistics (if
    given) are updated with the batch statistics averaged over the images.
    """
    op = "instance_norm"
    _check_input(input, op, 3)
    n, channels = input.shape[0], input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        _check_vector(value, name, op, channels)
    if not use_input_stats and running_mean is None:
        raise ValueError(f"{op}: running_mean and running_var are required when use_input_stats=False")

    def repeat(vector):  # (C,) -> (N*C,), differentiable
        return None if vector is None else vector.reshape(1, channels).expand(n, channels).reshape(n * channels)

    def repeat_stat(vector):
        return None if vector is None else Tensor._make(np.tile(vector.array, n), False, None)

    repeated_mean, repeated_var = repeat_stat(running_mean), repeat_stat(running_var)
    output = batch_norm(input.reshape(1, n * channels, *input.shape[2:]), repeated_mean,
                        repeated_var, repeat(weight), repeat(bias), use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        running_mean.array[...] = repeated_mean.array.reshape(n, channels).mean(axis=0)
        running_var.array[...] = repeated_var.array.reshape(n, channels).mean(axis=0)
    return output.reshape(*input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the last len(normalized_shape) dimensions.

    eps=None means the machine epsilon of the input's dtype, as in PyTorch.
    """
    op = "rms_norm"
    _check_input(input, op, 1)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"{op}: expected input whose last dimensions are {shape}, got input of "
                           f"shape {tuple(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} does not match "
                           f"normalized_shape {shape}")
    eps = float(np.finfo(input.dtype).eps) if eps is None else float(eps)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean_square = (input * input).mean(dim=axes, keepdim=True)   # (*, 1, ..., 1)
    output = input * (mean_square + eps) ** -0.5
    return output if weight is None else output * weight


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """AlexNet's across-channel normalisation of (N, C, *):
    x_c / (k + alpha / size * sum of x_j^2 over the `size` channels around c)^beta,
    the window zero-padded at the channel ends (as PyTorch)."""
    from minigrad.ops.padding import pad
    from minigrad.ops.pooling import avg_pool2d, avg_pool3d
    op = "local_response_norm"
    _check_input(input, op, 3)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    before, after = size // 2, (size - 1) // 2
    squares = (input * input).unsqueeze(1)                      # (N, 1, C, *)
    if input.ndim == 3:
        window_sum = avg_pool2d(pad(squares, (0, 0, before, after)), (size, 1), stride=1)
    else:
        n, channels = input.shape[0], input.shape[1]
        squares = squares.reshape(n, 1, channels, input.shape[2], -1)   # (N, 1, C, H, rest)
        window_sum = avg_pool3d(pad(squares, (0, 0, 0, 0, before, after)), (size, 1, 1), stride=1)
    div = window_sum.squeeze(1).reshape(*input.shape)          # mean of squares over the window
    return input / (div * alpha + k) ** beta
