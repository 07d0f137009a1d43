"""Typed boundary to the batch-norm kernels (minigrad._C.batchnorm).

Inputs arrive as (N, C, L) arrays (L = product of the spatial sizes; the
ops reshape). Per-channel vectors (mean, variance, weight, bias) travel as
float64 so that the statistics keep double precision whatever the input's
dtype. Layer, group and instance norm use the same kernels on a
(1, rows, row_length) view: each row is one "channel".

Under minigrad.use_reference_kernels() the entry points run their readable
NumPy references (minigrad/reference/normalization.py: batch_norm_forward,
batch_norm_backward_from_statistics; the fused batch norm + ReLU adds
minigrad/reference/activation.py's relu / relu_backward) instead of the kernels.
"""
import numpy as np

from minigrad._C import batchnorm as _kernel
from minigrad.kernels.threads import get_num_threads
from minigrad.reference import activation as reference_activation
from minigrad.reference import normalization as reference
from minigrad.reference import reference_kernels_enabled


def _channel_vector(values, channels, fill):
    if values is None:
        return np.full(channels, fill, dtype=np.float64)
    return np.ascontiguousarray(values, dtype=np.float64).reshape(channels)


def _statistic(name, values, channels):
    """A per-channel statistic as the kernel reads it: float64, exactly `channels` values."""
    values = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    if values.shape[0] != channels:
        raise ValueError(f"batch_norm backward: {name} has {values.shape[0]} values, expected one per "
                         f"channel ({channels})")
    return values


def _normalize(input, weight, bias, eps, mean, var, relu):
    """batch_norm_forward (relu=True: followed by a ReLU, in the same pass)."""
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"batch_norm: expected a float32 or float64 input, got {input.dtype}")
    input = np.ascontiguousarray(input)
    channels = input.shape[1]
    if reference_kernels_enabled():  # the specification: batch norm (then ReLU)
        output, mean, var, invstd = reference.batch_norm_forward(input, weight, bias, eps, mean, var)
        return (reference_activation.relu(output) if relu else output), mean, var, invstd
    training = mean is None
    mean = np.empty(channels) if training else _channel_vector(mean, channels, 0.0).copy()
    var = np.empty(channels) if training else _channel_vector(var, channels, 1.0).copy()
    output = np.empty_like(input)
    _kernel.batch_norm_forward(input, output, mean, var, _channel_vector(weight, channels, 1.0),
                               _channel_vector(bias, channels, 0.0), float(eps), training,
                               get_num_threads(), relu=relu)
    invstd = 1.0 / np.sqrt(var + eps)
    return output, mean, var, invstd


def batch_norm_forward(input, weight, bias, eps, mean=None, var=None):
    """Normalise (N, C, L) `input` per channel; returns (output, mean, var, invstd).

    mean and var None: training mode, the batch statistics (biased variance)
    are computed in the kernel. Otherwise they are used as given (eval mode).
    """
    return _normalize(input, weight, bias, eps, mean, var, relu=False)


def batch_norm_relu_forward(input, weight, bias, eps, mean=None, var=None):
    """relu(batch_norm_forward(...)) in one pass over memory; returns (output, mean, var, invstd).

    output = max(normalised * weight + bias, 0), NaN kept, bitwise equal to the
    two ops one after the other (the statistics are those of the input).
    """
    return _normalize(input, weight, bias, eps, mean, var, relu=True)


def relu_scale_shift(weight, bias, var, eps, channels, dtype):
    """The per-channel (scale, shift) batch_norm_relu_forward normalised with, in `dtype`:
    weight / sqrt(var + eps) and bias rounded once, as the kernel rounds them (the same
    correctly rounded float64 operations), for batch_norm_relu_backward's relu_scale_shift."""
    weight, bias = _channel_vector(weight, channels, 1.0), _channel_vector(bias, channels, 0.0)
    return (weight / np.sqrt(np.asarray(var, dtype=np.float64) + eps)).astype(dtype), bias.astype(dtype)


def batch_norm_backward(grad_output, input, mean, invstd, weight, training, compute_grad_input=True,
                        relu_output=None, relu_scale_shift=None):
    """Closed-form backward; returns (grad_input or None, grad_weight, grad_bias) (float64 vectors).

    relu_output: the output of a ReLU fused after the batch norm (batch_norm_relu_forward);
    its mask (relu_output > 0) is applied to grad_output as the kernel reads it.
    relu_scale_shift (training): that mask recomputed from the input instead, with the
    forward's (scale, shift) (relu_scale_shift() above): the same mask, bit for bit,
    and relu_output is not read (one array fewer through memory).
    """
    grad_output = np.ascontiguousarray(grad_output, dtype=input.dtype)
    if relu_scale_shift is not None and relu_output is None:
        raise ValueError("batch_norm backward: relu_scale_shift is for a fused ReLU: give its relu_output too")
    for name, array in (("grad_output", grad_output), ("relu_output", relu_output)):
        if array is not None and array.shape != input.shape:
            raise ValueError(f"batch_norm backward: {name} has shape {array.shape}, expected the input's "
                             f"{input.shape}")
    channels = input.shape[1]
    if reference_kernels_enabled():  # the specification: (ReLU backward, then) batch norm's
        if relu_output is not None:
            grad_output = reference_activation.relu_backward(grad_output, relu_output)
        return reference.batch_norm_backward_from_statistics(grad_output, input, mean, invstd, weight,
                                                             bool(training), bool(compute_grad_input))
    mean, invstd = _statistic("mean", mean, channels), _statistic("invstd", invstd, channels)
    grad_input = np.empty_like(input) if compute_grad_input else np.empty((1, 1, 1), input.dtype)
    grad_weight = np.empty(channels)
    grad_bias = np.empty(channels)
    shared = (np.ascontiguousarray(input), mean, invstd, _channel_vector(weight, channels, 1.0), grad_input,
              grad_weight, grad_bias, bool(training), bool(compute_grad_input), get_num_threads())
    if relu_output is None:
        _kernel.batch_norm_backward(grad_output, *shared)
    else:
        scale, shift = (None, None) if relu_scale_shift is None else (
            np.ascontiguousarray(v, dtype=input.dtype).reshape(-1) for v in relu_scale_shift)
        _kernel.batch_norm_relu_backward(grad_output, np.ascontiguousarray(relu_output, dtype=input.dtype),
                                         *shared, relu_scale=scale, relu_shift=shift)
    return (grad_input if compute_grad_input else None), grad_weight, grad_bias


def batch_norm_relu_backward(grad_output, relu_output, input, mean, invstd, weight, training,
                             compute_grad_input=True, relu_scale_shift=None):
    """batch_norm_backward of relu(batch_norm(input)), given the gradient of the ReLU's output
    `relu_output`; returns (grad_input or None, grad_weight, grad_bias), as batch_norm_backward.
    relu_scale_shift: the mask recomputed from the input instead (see batch_norm_backward).
    """
    return batch_norm_backward(grad_output, input, mean, invstd, weight, training, compute_grad_input,
                               relu_output=relu_output, relu_scale_shift=relu_scale_shift)
