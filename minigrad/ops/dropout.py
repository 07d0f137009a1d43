"""Dropout: zero random elements (or whole channels) while training.

Inverted dropout: the kept units are scaled by 1/(1-p) during training, so
the expected value of every unit is unchanged and evaluation needs no
rescaling. The mask is drawn from minigrad's generator (``manual_seed``).
"""
import warnings

import numpy as np

from minigrad.autograd import Function
from minigrad.ops._args import check_tensor
from minigrad.random import generator
from minigrad.tensor import Tensor


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

    @staticmethod
    def backward_graph(ctx, grad):
        mask, = ctx.saved_tensors  # a constant (not an input of the graph)
        return grad * mask, None


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
    if inplace:  # the shared in-place path: version counter, graph rebasing, PyTorch's leaf error
        return input._inplace("dropout", lambda t: MaskMultiply.apply(t, mask))
    return MaskMultiply.apply(input, mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    check_tensor(input, "input", "dropout")
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
    check_tensor(input, "input", "dropout2d")
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


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or an unbatched (C, L); one draw per channel."""
    check_tensor(input, "input", "dropout1d")
    _check_p(p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. "
                           f"Note that dropout1d exists to provide channel-wise dropout on inputs "
                           f"with 1 spatial dimension, a channel dimension, and an optional batch "
                           f"dimension (i.e. 2D or 3D inputs); got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    channels = input.ndim - 1  # the mask varies over (N, C), or over C when unbatched
    mask_shape = input.shape[:channels] + (1,)
    return _apply_dropout(input, p, mask_shape, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or an unbatched (C, D, H, W)."""
    check_tensor(input, "input", "dropout3d")
    _check_p(p, "dropout3d")
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated "
                      f"and will result in an error in a future release. To retain the behavior and "
                      f"silence this warning, please use dropout instead. Note that dropout3d exists "
                      f"to provide channel-wise dropout on inputs with 3 spatial dimensions, a "
                      f"channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
                      stacklevel=2)
    if not training or p == 0:
        return input
    # A 5-d input is (N, C, D, H, W); anything else is read as unbatched (C, ...), as in PyTorch.
    channels = 2 if input.ndim == 5 else 1
    mask_shape = input.shape[:channels] + (1,) * (input.ndim - channels)
    return _apply_dropout(input, p, mask_shape, inplace)


# SELU's -scale * alpha: the value a dropped unit takes before alpha dropout's affine correction.
_SELU_NEGATIVE_SATURATION = 1.7580993408473766


def _apply_alpha_dropout(input, p, mask_shape, inplace):
    """Keep each unit (or channel) with probability 1-p, set the rest to SELU's
    saturation value, then a * x + b restores zero mean and unit variance.

    out = a * x                  where kept
        = -alpha * a + alpha*a*p  where dropped    (a = 1 / sqrt((alpha^2 p + 1)(1 - p)))
    """
    if p == 1:
        scale = np.zeros(mask_shape, dtype=input.dtype)
        shift = np.zeros(mask_shape, dtype=input.dtype)
    else:
        alpha = _SELU_NEGATIVE_SATURATION
        keep = (generator().random(mask_shape) >= p).astype(np.float64)
        a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
        scale = (keep * a).astype(input.dtype)
        shift = ((keep - 1) * alpha * a + alpha * a * p).astype(input.dtype)
    shift = Tensor(shift)

    def compute(t):
        return MaskMultiply.apply(t, scale) + shift

    if inplace:
        return input._inplace("alpha_dropout", compute)
    return compute(input)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: keeps the self-normalising mean 0, variance 1 (training only)."""
    check_tensor(input, "input", "alpha_dropout")
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    return _apply_alpha_dropout(input, p, input.shape, inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, *): one draw per (n, c)."""
    check_tensor(input, "input", "feature_alpha_dropout")
    _check_p(p, "feature_alpha_dropout")
    if input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: Feature dropout requires at least 2 dimensions "
                           f"in the input, got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _apply_alpha_dropout(input, p, mask_shape, inplace)
