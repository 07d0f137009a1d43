"""Normalization layers, thin wrappers over ``minigrad.ops.normalization``.

All of them compute (x - mean) / sqrt(var + eps) * weight + bias; they
differ in which elements share a mean and variance:

- BatchNorm: per channel, over the batch and spatial positions (and keeps
  running averages for evaluation),
- LayerNorm: per sample, over the last dimensions (normalized_shape),
- GroupNorm: per sample and group of channels,
- InstanceNorm: per sample and channel, over spatial positions.
"""
import numbers

import numpy as np

from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import check_input, factory_dtype, is_int
from minigrad.nn.modules.activation import ReLU
from minigrad.ops.normalization import (
    batch_norm,
    batch_norm_relu,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from minigrad.tensor import Tensor


def _check_eps(layer, eps):
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{layer}: eps must be a non-negative number, got {eps!r}")


def _check_momentum(layer, momentum):
    if momentum is not None and (not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1):
        raise ValueError(f"{layer}: momentum must be in [0, 1] or None, got {momentum!r}")


class _NormBase(Module):
    """Shared state of BatchNorm and InstanceNorm: affine parameters and running statistics."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        if not is_int(num_features) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}")
        _check_eps(name, eps)
        _check_momentum(name, momentum)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = factory_dtype(type(self).__name__, device, dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            if bias:  # PyTorch's bias=False: a scale without a shift
                self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _ndims = (4,)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def _arguments(self, input):
        """batch_norm's arguments for this input; counts the batch in num_batches_tracked."""
        self._check_input_dim(input)
        # Running averages: new = (1 - factor) * old + factor * batch statistic.
        # momentum=None means a cumulative (equal-weight) average: factor = 1 / batches seen.
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
        # Training uses batch statistics; evaluation the running ones (if tracked).
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return (input, self.running_mean if track else None, self.running_var if track else None,
                self.weight, self.bias, use_batch_stats, float(factor), float(self.eps))

    def _check_input_dim(self, input):
        check_input(type(self).__name__, input, self._ndims, self.num_features, channel_axis=1,
                    what="features (channels)")

    def forward(self, input):
        return batch_norm(*self._arguments(input))

    def _fuses_with(self, following):
        """Whether self then `following` may run as one fused batch_norm_relu (see _forward_relu).

        Only for a plain nn.ReLU after a batch norm whose forward is this class's
        own, and when neither has hooks: a hook must see the intermediate output.
        """
        return (type(following) is ReLU and type(self).forward is _BatchNorm.forward
                and not (self._has_hooks() or following._has_hooks()))

    def _forward_relu(self, input):
        """relu(self(input)) in one fused op: same values, gradients and running statistics."""
        return batch_norm_relu(*self._arguments(input))


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): per feature, statistics over the batch
    (and length). Normalising each layer's inputs keeps their scale steady while
    the previous layers train, which allows higher learning rates."""
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): per channel, statistics over N, H and W.

    Training: normalise with the batch's mean and (biased) variance and update
    running_mean/running_var (with the unbiased variance). Evaluation
    (``model.eval()``): normalise with the running statistics, so the output of
    one sample no longer depends on the rest of the batch.
    """
    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W): per channel, statistics over N, D, H and W."""
    _ndims = (5,)


class _InstanceNorm(_NormBase):
    """Per-sample, per-channel normalisation over the spatial positions (style
    transfer): the contrast of each image is removed independently of the batch."""
    _dims = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        batched = self._dims + 2
        check_input(type(self).__name__, input, (batched - 1, batched), self.num_features)
        unbatched = input.ndim == batched - 1
        if unbatched:
            input = input.unsqueeze(0)
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.1 if self.momentum is None else self.momentum
        out = instance_norm(input, self.running_mean, self.running_var, self.weight,
                                        self.bias, use_input_stats, float(momentum), float(self.eps))
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or (C, L)."""
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W)."""
    _dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over (N, C, D, H, W) or (C, D, H, W)."""
    _dims = 3


class LayerNorm(Module):
    """Normalise each sample over its last len(normalized_shape) dimensions
    (transformers, RNNs): independent of the batch size, same in train and eval."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None,
                 dtype=None):
        super().__init__()
        shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
        if not shape or not all(is_int(s) and s > 0 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of "
                             f"positive ints, got {normalized_shape!r}")
        _check_eps("LayerNorm", eps)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = factory_dtype(type(self).__name__, device, dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        n = len(self.normalized_shape)
        if input.ndim < n or tuple(input.shape[input.ndim - n:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input whose last dimensions are "
                             f"{self.normalized_shape}, got input of shape {tuple(input.shape)}")
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each sample over groups of channels (num_channels / num_groups
    channels each) and spatial positions: batch-size independent, works with
    batches of 1-2 images where BatchNorm's statistics are too noisy."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        for arg, value in (("num_groups", num_groups), ("num_channels", num_channels)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"GroupNorm: {arg} must be a positive integer, got {value!r}")
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        _check_eps("GroupNorm", eps)
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        dtype = factory_dtype(type(self).__name__, device, dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        check_input("GroupNorm", input, tuple(range(2, 9)))
        if input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input with {self.num_channels} channels "
                             f"(dimension 1), got input of shape {tuple(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """Scale each sample by the root mean square of its last dimensions (no mean
    subtraction, no bias): LayerNorm's cheaper cousin in LLaMA-style transformers."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
        if not shape or not all(is_int(s) and s > 0 for s in shape):
            raise ValueError(f"RMSNorm: normalized_shape must be a positive int or a tuple of "
                             f"positive ints, got {normalized_shape!r}")
        if eps is not None:
            _check_eps("RMSNorm", eps)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = factory_dtype(type(self).__name__, device, dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.array[...] = 1

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Divide each channel by the (k + alpha * mean square)^beta of its `size`
    neighbouring channels (AlexNet's lateral inhibition)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
