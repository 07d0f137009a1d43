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
