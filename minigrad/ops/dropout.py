"""Dropout: zero random elements (or whole channels) while training.

Inverted dropout: the kept units are scaled by 1/(1-p) during training, so
the expected value of every unit is unchanged and evaluation needs no
rescaling. The mask is drawn from minigrad's generator (``manual_seed``).
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops._args import check_tensor
from minigrad.random import generator


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
    check_tensor(input, "input", "dropout")
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _apply_dropout(input, p, input.shape, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: input (N, C, H, W) or (C, H, W); one draw per (n, c)."""
    check_tensor(input, "input", "dropout2d")
    _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got "
                         f"shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    mask_shape = input.shape[:-2] + (1, 1)
    return _apply_dropout(input, p, mask_shape, inplace)
