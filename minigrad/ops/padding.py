"""Padding: F.pad with PyTorch's modes.

- 'constant': fill with a value (np.pad); backward slices the gradient back out;
- 'reflect' (mirror, the edge not repeated), 'replicate' (repeat the edge),
  'circular' (wrap around): each is a gather along every padded dimension,
  so backward scatter-adds the gradient onto the positions that were read.

A negative pad crops that side, as in PyTorch.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops._args import check_tensor, is_int
from minigrad.ops.shape import add_rows


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
        return _scatter_back(grad, ctx.indices, ctx.sizes), None

    @staticmethod
    def backward_graph(ctx, grad):
        return IndexPadBackward.apply(grad, ctx.indices, ctx.sizes), None


def _scatter_back(grad, indices, sizes):
    """IndexPad's adjoint: scatter-add each gathered axis back to its input size."""
    for axis, index in reversed(list(indices.items())):
        # several output positions can read one input position
        moved = np.moveaxis(grad, axis, 0)
        summed = np.zeros((sizes[axis],) + moved.shape[1:], dtype=grad.dtype)
        add_rows(summed, index, moved)
        grad = np.moveaxis(summed, 0, axis)
    return grad


class IndexPadBackward(Function):
    """IndexPad's backward as an op (double backward): the scatter-add, linear;
    its adjoint is IndexPad's gather."""

    @staticmethod
    def forward(ctx, grad, indices, sizes):
        ctx.indices = indices
        return _scatter_back(grad, indices, sizes)

    @staticmethod
    def backward(ctx, grad_output):
        return IndexPad.forward(ctx, grad_output, ctx.indices), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return IndexPad.apply(grad, ctx.indices), None, None


class ConstantPad(Function):
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.slices = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[ctx.slices]), None, None

    @staticmethod
    def backward_graph(ctx, grad):
        return grad[ctx.slices], None, None


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dimensions (PyTorch's F.pad).

    ``pad = (left, right)`` pads the last dimension, ``(left, right, top,
    bottom)`` the last two, and so on. Modes: 'constant' (with ``value``),
    'reflect' (mirror, edge not repeated), 'replicate' (repeat the edge),
    'circular' (wrap around).
    """
    check_tensor(input, "input", "pad")
    pad = tuple(pad)
    if len(pad) % 2 != 0 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most twice the number of "
                         f"dimensions ({input.ndim}), got {pad}")
    if not all(is_int(p) for p in pad):
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
