"""Matrix multiplication with NumPy's rules (1-d vectors, batched broadcasting).

For C = A @ B:  dL/dA = dL/dC @ B^T  and  dL/dB = A^T @ dL/dC, each summed
back over broadcast batch dimensions.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.kernels.blas import matmul as blas_matmul
from minigrad.ops.elementwise import unbroadcast


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return blas_matmul(a, b)      # 2-d: tiles on minigrad's threads, the same sums on any count

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Treat vectors as matrices: a (k,) is a row (1, k), b (k,) a column (k, 1).
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Give grad the matching axes back (b's first: vector @ vector gives a 0-d grad).
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(blas_matmul(grad, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(blas_matmul(np.swapaxes(a2, -1, -2), grad), b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """a @ b for vectors, matrices and stacks of matrices."""
    a_shape, b_shape = np.shape(getattr(a, "array", a)), np.shape(getattr(b, "array", b))
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)}")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {tuple(a_shape)} and {tuple(b_shape)} are not aligned "
                         f"({inner_a} (last dim of the first) != {inner_b} (the second's "
                         f"{'only' if len(b_shape) == 1 else 'second-to-last'} dim))")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {tuple(a_shape)} and "
                         f"{tuple(b_shape)} cannot be broadcast together") from None
