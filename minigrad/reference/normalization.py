"""Readable NumPy references for normalisation (the specification of csrc/batchnorm.pyx).

Every norm is "normalise over some axes, then scale and shift":
    xhat = (x - mean) / sqrt(var + eps)       (biased variance)
and the closed-form backward over the M elements of each group:
    grad_x = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = grad wrt xhat

batch_norm_forward and batch_norm_backward_from_statistics take and return
exactly what the kernel boundary (minigrad/kernels/batchnorm.py) does; under
minigrad.use_reference_kernels() it runs them instead of the kernels (layer,
group and instance norm go through the same boundary on a (1, rows, M) view).
The other functions work on whole (N, C, *spatial) inputs, for the tests.
"""
import numpy as np


def normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    return (x - mean) * invstd, invstd


def normalize_backward(grad_xhat, xhat, invstd, axes):
    return invstd * (grad_xhat - grad_xhat.mean(axis=axes, keepdims=True)
                     - xhat * (grad_xhat * xhat).mean(axis=axes, keepdims=True))


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, weight, bias, eps=1e-5):
    """Training mode: statistics per channel over (N, *spatial). Returns (y, cache)."""
    axes = (0,) + tuple(range(2, x.ndim))
    xhat, invstd = normalize(x, axes, eps)
    y = xhat * weight.reshape(_channel_shape(x)) + bias.reshape(_channel_shape(x))
    return y, (xhat, invstd, weight, axes)


def batch_norm_backward(grad_y, cache):
    xhat, invstd, weight, axes = cache
    grad_x = normalize_backward(grad_y * weight.reshape(_channel_shape(xhat)), xhat, invstd, axes)
    return grad_x, (grad_y * xhat).sum(axis=axes), grad_y.sum(axis=axes)


def batch_norm_forward(x, weight, bias, eps, mean=None, var=None):
    """The kernel boundary's form (minigrad/kernels/batchnorm.py): x (N, C, L) -> (y, mean, var, invstd).

    mean and var None: training mode, the batch statistics per channel over
    (N, L), biased variance; otherwise eval mode with the given statistics.
    weight and bias None mean 1 and 0. mean, var, invstd are float64 (C,)
    vectors whatever x's dtype; y has x's dtype (computed in float64).
    """
    x64 = x.astype(np.float64)
    channels = x.shape[1]
    if mean is None:
        mean, var = x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))
    mean = np.asarray(mean, dtype=np.float64).reshape(channels).copy()
    var = np.asarray(var, dtype=np.float64).reshape(channels).copy()
    invstd = 1.0 / np.sqrt(var + eps)
    weight = np.ones(channels) if weight is None else np.asarray(weight, dtype=np.float64)
    bias = np.zeros(channels) if bias is None else np.asarray(bias, dtype=np.float64)
    xhat = (x64 - mean[:, None]) * invstd[:, None]                           # (N, C, L)
    y = xhat * weight[:, None] + bias[:, None]
    return y.astype(x.dtype), mean, var, invstd


def batch_norm_backward_from_statistics(grad_y, x, mean, invstd, weight, training, compute_grad_input=True):
    """The kernel boundary's backward: (grad_x or None, grad_weight, grad_bias) from the saved
    x (N, C, L) and the forward's float64 mean and invstd (C,).

    grad_bias = sum(g), grad_weight = sum(g * xhat) (float64 (C,)), and, when
    compute_grad_input, grad_x in x's dtype: in training the closed form
        grad_x = weight * invstd * (g - mean(g) - xhat * mean(g * xhat)),
    in eval (the statistics are constants) grad_x = g * weight * invstd.
    """
    channels = x.shape[1]
    g = grad_y.astype(np.float64)
    xhat = (x.astype(np.float64) - mean[:, None]) * invstd[:, None]          # (N, C, L)
    grad_weight, grad_bias = (g * xhat).sum(axis=(0, 2)), g.sum(axis=(0, 2))
    if not compute_grad_input:
        return None, grad_weight, grad_bias
    weight = np.ones(channels) if weight is None else np.asarray(weight, dtype=np.float64)
    gain = (weight * invstd)[:, None]                                          # (C, 1)
    if training:
        grad_x = gain * (g - g.mean(axis=(0, 2), keepdims=True)
                         - xhat * (g * xhat).mean(axis=(0, 2), keepdims=True))
    else:
        grad_x = gain * g
    return grad_x.astype(x.dtype), grad_weight, grad_bias


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps=1e-5):
    shape = _channel_shape(x)
    return ((x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
            * weight.reshape(shape) + bias.reshape(shape))


def layer_norm(x, normalized_shape, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    xhat, invstd = normalize(x, axes, eps)
    return xhat * weight + bias, (xhat, invstd, weight, axes)


def layer_norm_backward(grad_y, cache):
    xhat, invstd, weight, axes = cache
    lead = tuple(range(xhat.ndim - len(axes)))
    grad_x = normalize_backward(grad_y * weight, xhat, invstd, axes)
    return grad_x, (grad_y * xhat).sum(axis=lead), grad_y.sum(axis=lead)


def group_norm(x, num_groups, weight, bias, eps=1e-5):
    n = x.shape[0]
    grouped = x.reshape(n, num_groups, -1)                    # (N, G, C/G * spatial)
    xhat, invstd = normalize(grouped, (2,), eps)
    xhat = xhat.reshape(x.shape)
    y = xhat * weight.reshape(_channel_shape(x)) + bias.reshape(_channel_shape(x))
    return y, (xhat, invstd, weight, num_groups)


def group_norm_backward(grad_y, cache):
    xhat, invstd, weight, num_groups = cache
    n = xhat.shape[0]
    grad_xhat = (grad_y * weight.reshape(_channel_shape(xhat))).reshape(n, num_groups, -1)
    grad_x = normalize_backward(grad_xhat, xhat.reshape(n, num_groups, -1), invstd, (2,))
    axes = (0,) + tuple(range(2, xhat.ndim))
    return grad_x.reshape(xhat.shape), (grad_y * xhat).sum(axis=axes), grad_y.sum(axis=axes)


def instance_norm(x, weight, bias, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    xhat, _ = normalize(x, axes, eps)
    return xhat * weight.reshape(_channel_shape(x)) + bias.reshape(_channel_shape(x))


def batch_norm_relu(x, weight, bias, eps=1e-5):
    """relu(batch_norm(x)) in training mode (the fused op's specification). Returns (y, cache)."""
    normalized, cache = batch_norm(x, weight, bias, eps)
    y = np.maximum(normalized, 0)
    return y, (y, cache)


def batch_norm_relu_backward(grad_y, cache):
    """The ReLU's gradient (grad_y where y > 0, else 0), then batch norm's backward."""
    y, batch_norm_cache = cache
    return batch_norm_backward(np.where(y > 0, grad_y, 0), batch_norm_cache)
