"""bilinear: y = x1^T A x2 + b, one matrix A per output feature (``F.bilinear``).

    y[..., o] = sum_ij x1[..., i] * weight[o, i, j] * x2[..., j] + bias[o]

x1 (..., in1), x2 (..., in2) with the same leading (batch) axes, weight
(out, in1, in2), bias (out,). The gradients are the same sum with one factor
left out:

    dL/dx1[b, i]     = sum_oj g[b, o] * weight[o, i, j] * x2[b, j]
    dL/dx2[b, j]     = sum_oi g[b, o] * weight[o, i, j] * x1[b, i]
    dL/dweight[o, i, j] = sum_b g[b, o] * x1[b, i] * x2[b, j]
    dL/dbias[o]      = sum_b g[b, o]
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops.linalg import matmul
from minigrad.tensor import Tensor


class Bilinear(Function):
    """y = x1^T W x2 + b over flattened batch axes."""

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x1, x2, weight, bias):
        batch = x1.shape[:-1]
        a, b = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1])      # (B, in1), (B, in2)
        y = np.einsum("bi,oij,bj->bo", a, weight, b, optimize=True)           # (B, out)
        if bias is not None:
            y += bias
        ctx.save_for_backward(a, b, weight, x1, x2)  # x1, x2 for a double backward (a, b are their views)
        ctx.batch, ctx.with_bias = batch, bias is not None
        return y.reshape(batch + weight.shape[:1])

    @staticmethod
    def backward(ctx, grad_output):
        a, b, weight = ctx.saved_tensors[:3]
        g = grad_output.reshape(-1, weight.shape[0])                            # (B, out)
        need_x1, need_x2, need_weight, need_bias = ctx.needs_input_grad
        grad_x1 = (np.einsum("bo,oij,bj->bi", g, weight, b, optimize=True).reshape(ctx.batch + a.shape[1:])
                   if need_x1 else None)
        grad_x2 = (np.einsum("bo,oij,bi->bj", g, weight, a, optimize=True).reshape(ctx.batch + b.shape[1:])
                   if need_x2 else None)
        grad_weight = np.einsum("bo,bi,bj->oij", g, a, b, optimize=True) if need_weight else None
        grad_bias = g.sum(axis=0) if ctx.with_bias and need_bias else None
        return grad_x1, grad_x2, grad_weight, grad_bias

    @staticmethod
    def backward_graph(ctx, grad_output):
        # The same sums as matmuls of Tensors: M[b, i, j] = sum_o g[b, o] * weight[o, i, j]
        _, _, weight, x1, x2 = ctx.saved_tensors
        out, in1, in2 = weight.shape
        a, b = x1.reshape(-1, in1), x2.reshape(-1, in2)                        # (B, in1), (B, in2)
        g = grad_output.reshape(-1, out)                                        # (B, out)
        need_x1, need_x2, need_weight, need_bias = ctx.needs_input_grad
        grad_x1 = grad_x2 = grad_weight = grad_bias = None
        if need_x1 or need_x2:
            m = matmul(g, weight.reshape(out, in1 * in2)).reshape(-1, in1, in2)  # (B, in1, in2)
            if need_x1:
                grad_x1 = matmul(m, b.reshape(-1, in2, 1)).reshape(*ctx.batch, in1)
            if need_x2:
                grad_x2 = matmul(a.reshape(-1, 1, in1), m).reshape(*ctx.batch, in2)
        if need_weight:
            outer = (a.reshape(-1, in1, 1) * b.reshape(-1, 1, in2)).reshape(-1, in1 * in2)  # (B, in1*in2)
            grad_weight = matmul(g.transpose(0, 1), outer).reshape(out, in1, in2)
        if ctx.with_bias and need_bias:
            grad_bias = g.sum(axis=0)
        return grad_x1, grad_x2, grad_weight, grad_bias


def _dtype_name(dtype):
    return {"float32": "float", "float64": "double", "float16": "half"}.get(str(dtype), str(dtype))


def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b: input1 (..., in1), input2 (..., in2), weight (out, in1, in2) -> (..., out)."""
    for name, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"bilinear(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"bilinear(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    if input1.ndim == 0:
        raise RuntimeError("bilinear(): expected inputs with at least 1 dimension, got 0-d inputs")
    for dim, (n1, n2) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if n1 != n2:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: got {n1} and {n2}")
    if weight.ndim != 3:
        raise IndexError(f"bilinear(): expected a 3-d weight (out_features, in1_features, in2_features), got "
                         f"weight of shape {tuple(weight.shape)}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0] if bias.ndim == 1 else tuple(bias.shape)} but expected {weight.shape[0]}")
    tensors = (input1, input2, weight) + (() if bias is None else (bias,))
    if len({t.dtype for t in tensors}) > 1 or input1.dtype.kind != "f":
        names = ("input1", "input2", "weight", "bias")
        listing = ", ".join(f"{n}: {_dtype_name(t.dtype)}" for n, t in zip(names, tensors))
        raise RuntimeError(f"All tensors must have the same floating dtype, got {listing}")
    return Bilinear.apply(input1, input2, weight, bias)
