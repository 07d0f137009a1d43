"""Convolutions: conv1d/2d/3d and their transposes, with PyTorch's signatures.

A convolution slides each filter over the input and takes dot products:

    y[n, m, o] = bias[m] + sum over c in m's group, k of  w[m, c, k] * x[n, c, o*stride - pad + k*dilation]

for every output position o, per spatial axis. Output size per axis:

    out = floor((in + pad_before + pad_after - dilation*(kernel - 1) - 1) / stride) + 1

The kernels compute it as im2col + GEMM: copy every receptive field of an
image into a column, then multiply by the filters as one matrix,
``(M, C*K) @ (C*K, P)``. Backward is built from the same two kernels:

- input gradient  = the adjoint (transposed) convolution: GEMM + col2im;
- weight gradient = GEMM of the output gradient with the columns;
- bias gradient   = the output gradient summed over batch and positions.

Depthwise convolutions (groups == in_channels) skip im2col: direct loops,
and one kernel computes all three gradients in a single pass, reading each
output-gradient plane once.

A transposed convolution is exactly that adjoint, so its forward is the
conv's input gradient and its backward is a conv forward (im2col + GEMM)
plus the same weight gradient with the roles of input and output swapped.
Its output size per axis:

    out = (in - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1

All of them run on arrays with three spatial axes (D, H, W): conv1d and
conv2d insert size-1 axes, so one set of kernels (minigrad/kernels/conv.py)
serves all six functions.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.kernels import conv as kernels
from minigrad.ops._args import (
    check_output_padding,
    check_window_fits,
    conv_out_size,
    conv_padding,
    conv_transpose_output,
    is_int,
    ntuple,
)
from minigrad.ops.elementwise import in_float32
from minigrad.tensor import Tensor


class _Geometry:
    """Everything about a convolution except the arrays, per spatial axis (3-tuples)."""

    def __init__(self, dims, stride, pad_before, dilation, groups, conv_input_size, conv_output_size,
                 batched):
        self.dims = dims                            # 1, 2 or 3 real spatial axes
        self.stride = stride
        self.pad_before = pad_before
        self.dilation = dilation
        self.groups = groups
        self.conv_input_size = conv_input_size      # spatial size of the conv's input
        self.conv_output_size = conv_output_size    # spatial size of the conv's output
        self.batched = batched

    def to5d(self, array):
        """(N, C, *spatial) or unbatched (C, *spatial) -> (N, C, D, H, W)."""
        if not self.batched:
            array = array[None]
        return array.reshape(array.shape[:2] + (1,) * (3 - self.dims) + array.shape[2:])

    def from5d(self, array):
        """(N, C, D, H, W) -> the user's layout: batched or not, `dims` spatial axes."""
        array = array.reshape(array.shape[:2] + array.shape[5 - self.dims:])
        return array if self.batched else array[0]

    def weight5d(self, weight):
        return weight.reshape(weight.shape[:2] + (1,) * (3 - self.dims) + weight.shape[2:])


class ConvNd(Function):
    """y = conv(x, weight) + bias; forward = im2col + GEMM."""

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        g = geometry
        x5, w5 = g.to5d(x), g.weight5d(weight)
        # y (N, M, Do, Ho, Wo) = w (M, C/G*K) @ columns (C/G*K, P), per image and group
        y5 = kernels.conv_forward(x5, w5, bias, g.stride, g.pad_before, g.dilation,
                                  g.conv_output_size, g.groups)
        ctx.save_for_backward(x, weight)
        ctx.geometry = g
        return g.from5d(y5)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        g = ctx.geometry
        x5, w5, gy5 = g.to5d(x), g.weight5d(weight), g.to5d(grad_output)
        # dL/dx = col2im(w^T @ dL/dy): the transposed convolution of dL/dy;
        # dL/dw (M, C/G*K) = sum_n dL/dy[n] (M, P) @ columns[n]^T (P, C/G*K), and
        # dL/db = sum_n dL/dy[n] @ ones (P,): the bias is a weight on a constant 1
        grad_x, grad_w, grad_b = kernels.conv_backward(x5, w5, gy5, g.stride, g.pad_before, g.dilation,
                                                       g.groups, ctx.needs_input_grad[:3])
        return _in_user_layout(g, x, weight, grad_x, grad_w) + (grad_b, None)

    @staticmethod
    def backward_graph(ctx, grad):
        # The same three gradients as ops that are themselves differentiable:
        # dL/dx = conv_transpose(dL/dy, w), dL/dw = ConvWeightGrad(x, dL/dy), dL/db = sum.
        return _recorded_gradients(ctx, grad, ConvTransposeNd, transposed=False)


class ConvTransposeNd(Function):
    """y = conv_transpose(x, weight) + bias: the adjoint of a convolution.

    Seen as that convolution (from y's shape to x's): conv input = y,
    conv output = x, conv weight = weight (C_in, C_out/G, *k).
    """

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        g = geometry
        x5, w5 = g.to5d(x), g.weight5d(weight)
        out_channels = weight.shape[1] * g.groups
        y_shape = (x5.shape[0], out_channels) + g.conv_input_size
        # y = col2im(w^T @ x) + bias, per image and group
        y5 = kernels.conv_input_grad(x5, w5, bias, g.stride, g.pad_before, g.dilation, y_shape, g.groups)
        ctx.save_for_backward(x, weight)
        ctx.geometry = g
        return g.from5d(y5)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        g = ctx.geometry
        x5, w5, gy5 = g.to5d(x), g.weight5d(weight), g.to5d(grad_output)
        # dL/dx = w @ im2col(dL/dy): an ordinary convolution of dL/dy; dL/dw: that
        # convolution's weight gradient with input dL/dy and output gradient x
        grad_x, grad_w, grad_b = kernels.conv_transpose_backward(x5, w5, gy5, g.stride, g.pad_before, g.dilation,
                                                                 g.groups, ctx.needs_input_grad[:3])
        return _in_user_layout(g, x, weight, grad_x, grad_w) + (grad_b, None)

    @staticmethod
    def backward_graph(ctx, grad):
        # dL/dx = conv(dL/dy, w) (the adjoint's adjoint); dL/dw = the weight gradient
        # of that convolution: ConvWeightGrad(dL/dy, x); dL/db = sum.
        return _recorded_gradients(ctx, grad, ConvNd, transposed=True)


def _recorded_gradients(ctx, grad, adjoint, transposed):
    """backward_graph of ConvNd (transposed False) and ConvTransposeNd: dL/dx by the
    adjoint op, dL/dw by ConvWeightGrad of (conv input, conv output gradient) --
    (x, dL/dy) for a convolution, (dL/dy, x) for a transposed one -- dL/db a sum."""
    x, weight = ctx.saved_tensors
    g = ctx.geometry
    grad_x = grad_w = grad_b = None
    if ctx.needs_input_grad[0]:
        grad_x = adjoint.apply(grad, weight, None, g)
    if ctx.needs_input_grad[1]:
        conv_input, conv_grad = (grad, x) if transposed else (x, grad)
        grad_w = ConvWeightGrad.apply(conv_input, conv_grad, g, tuple(weight.shape))
    if ctx.needs_input_grad[2]:
        grad_b = _sum_but_channels(g, grad)
    return grad_x, grad_w, grad_b, None


class ConvWeightGrad(Function):
    """The weight gradient of a convolution, as an op of (x, dL/dy) (double backward):

        gw[m, c, k] = sum over n, o of  dL/dy[n, m, o] * x[n, c, o*stride - pad + k*dilation]

    It is linear in each argument; for an incoming gradient G (weight-shaped)
    d/dx = conv_transpose(dL/dy, G) and d/d(dL/dy) = conv(x, G).
    """

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x, grad_y, geometry, weight_shape):
        g = geometry
        kernel = _to3(weight_shape[2:], 1)
        grad_w = kernels.conv_weight_grad(g.to5d(x), g.to5d(grad_y), kernel, g.stride, g.pad_before,
                                          g.dilation, g.groups)
        ctx.save_for_backward(x, grad_y)
        ctx.geometry = g
        return grad_w.reshape(weight_shape)

    @staticmethod
    def backward(ctx, grad_output):
        x, grad_y = ctx.saved_tensors
        g = ctx.geometry
        x5, gy5, gw5 = g.to5d(x), g.to5d(grad_y), g.weight5d(grad_output)
        grad_x = grad_gy = None
        if ctx.needs_input_grad[0]:
            grad_x = kernels.conv_input_grad(gy5, gw5, None, g.stride, g.pad_before, g.dilation, x5.shape,
                                             g.groups)
            grad_x = g.from5d(grad_x).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_gy = kernels.conv_forward(x5, gw5, None, g.stride, g.pad_before, g.dilation,
                                           g.conv_output_size, g.groups)
            grad_gy = g.from5d(grad_gy).reshape(grad_y.shape)
        return grad_x, grad_gy, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        x, grad_y = ctx.saved_tensors
        g = ctx.geometry
        grad_x = grad_gy = None
        if ctx.needs_input_grad[0]:
            grad_x = ConvTransposeNd.apply(grad_y, grad, None, g)
        if ctx.needs_input_grad[1]:
            grad_gy = ConvNd.apply(x, grad, None, g)
        return grad_x, grad_gy, None, None


def _sum_but_channels(g, grad):
    """dL/dbias: a Tensor gradient (N, C, *spatial) or unbatched (C, *spatial) summed to (C,)."""
    axes = tuple(range(2, grad.ndim)) if g.batched else tuple(range(1, grad.ndim))
    total = grad.sum(axis=axes) if axes else grad
    return total.sum(axis=0) if g.batched else total


def _in_user_layout(g, x, weight, grad_x, grad_w):
    """(grad_x, grad_w) from the kernels' 5-d layout back to x's and weight's shapes (None stays None)."""
    return (None if grad_x is None else g.from5d(grad_x).reshape(x.shape),
            None if grad_w is None else grad_w.reshape(weight.shape))


# ---------------------------------------------------------------------------
# Argument checking (all before any kernel runs); the parsing shared with the
# layers and minigrad.utils lives in ops/_args.py
# ---------------------------------------------------------------------------

def _array(value):
    return value.array if isinstance(value, Tensor) else np.asarray(value)


def _check_arrays(fn, dims, input, weight, bias):
    x, w = _array(input), _array(weight)
    b = None if bias is None else _array(bias)
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{fn}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d (batched) input, "
                         f"got input of shape {tuple(x.shape)}")
    if w.ndim != dims + 2:
        raise ValueError(f"{fn}: expected a {dims + 2}-d weight, got weight of shape {tuple(w.shape)}")
    if 0 in w.shape[2:]:
        raise ValueError(f"{fn}: kernel size should be greater than zero, got kernel "
                         f"{tuple(w.shape[2:])} (weight of shape {tuple(w.shape)})")
    if x.dtype.kind != "f" or x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{fn}: input must be float32 or float64, got dtype {x.dtype}")
    if w.dtype != x.dtype:
        raise ValueError(f"{fn}: input and weight must have the same dtype, got input {x.dtype} "
                         f"and weight {w.dtype}")
    if b is not None and b.dtype != x.dtype:
        raise ValueError(f"{fn}: input and bias must have the same dtype, got input {x.dtype} "
                         f"and bias {b.dtype}")
    return x, w, b


def _check_groups(fn, groups, in_channels, out_channels):
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if in_channels % groups:
        raise ValueError(f"{fn}: in_channels={in_channels} must be divisible by groups={groups}")
    if out_channels % groups:
        raise ValueError(f"{fn}: out_channels={out_channels} must be divisible by groups={groups}")


def _check_bias(fn, b, out_channels):
    if b is not None and b.shape != (out_channels,):
        raise ValueError(f"{fn}: bias must have shape ({out_channels},), got {tuple(b.shape)}")


def _to3(values, fill):
    return (fill,) * (3 - len(values)) + tuple(values)


def _conv(dims, fn, input, weight, bias, stride, padding, dilation, groups):
    if _array(input).dtype == np.float16:  # computed in float32, returned as float16 (PyTorch on CPU)
        return in_float32(_conv, dims, fn, input, weight, bias, stride, padding, dilation, groups)
    x, w, b = _check_arrays(fn, dims, input, weight, bias)
    batched = x.ndim == dims + 2
    in_channels = x.shape[1] if batched else x.shape[0]
    out_channels = w.shape[0]
    _check_groups(fn, groups, in_channels, out_channels)
    if w.shape[1] * groups != in_channels:
        raise ValueError(f"{fn}: input has {in_channels} channels but weight of shape {tuple(w.shape)} "
                         f"with groups={groups} expects {w.shape[1] * groups} channels")
    _check_bias(fn, b, out_channels)
    stride = ntuple(stride, dims, "stride", fn, minimum=1)
    dilation = ntuple(dilation, dims, "dilation", fn, minimum=1)
    kernel = tuple(w.shape[2:])
    spatial = tuple(x.shape[-dims:])
    before, after = conv_padding(fn, padding, kernel, stride, dilation)
    check_window_fits(fn, spatial, kernel, dilation, before, after)
    output = tuple(conv_out_size(*axis) for axis in zip(spatial, kernel, stride, before, after, dilation))
    geometry = _Geometry(dims, _to3(stride, 1), _to3(before, 0), _to3(dilation, 1), int(groups),
                         _to3(spatial, 1), _to3(output, 1), batched)
    return ConvNd.apply(input, weight, bias, geometry)


def _conv_transpose(dims, fn, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if _array(input).dtype == np.float16:
        return in_float32(_conv_transpose, dims, fn, input, weight, bias, stride, padding,
                          output_padding, groups, dilation)
    x, w, b = _check_arrays(fn, dims, input, weight, bias)
    batched = x.ndim == dims + 2
    in_channels = x.shape[1] if batched else x.shape[0]
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    out_channels = w.shape[1] * groups
    if w.shape[0] != in_channels:
        raise ValueError(f"{fn}: input has {in_channels} channels but weight of shape {tuple(w.shape)} "
                         f"expects {w.shape[0]} channels (weight is (in_channels, out_channels/groups, *kernel))")
    _check_groups(fn, groups, in_channels, out_channels)
    _check_bias(fn, b, out_channels)
    kernel = tuple(w.shape[2:])
    stride = ntuple(stride, dims, "stride", fn, minimum=1)
    dilation = ntuple(dilation, dims, "dilation", fn, minimum=1)
    padding, _ = conv_padding(fn, padding, kernel, stride, dilation, allow_strings=False)
    output_padding = ntuple(output_padding, dims, "output_padding", fn, minimum=0)
    check_output_padding(fn, output_padding, stride, dilation)
    spatial = tuple(x.shape[-dims:])
    output = conv_transpose_output(fn, spatial, kernel, stride, padding, dilation, output_padding)
    # As a convolution: input of size `output`, output of size `spatial`.
    geometry = _Geometry(dims, _to3(stride, 1), _to3(padding, 0), _to3(dilation, 1), int(groups),
                         _to3(output, 1), _to3(spatial, 1), batched)
    return ConvTransposeNd.apply(input, weight, bias, geometry)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution of input (N, C_in, L) with weight (C_out, C_in/groups, k)."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution of input (N, C_in, H, W) with weight (C_out, C_in/groups, kh, kw).

    padding: an int, a pair, 'valid' (none) or 'same' (output size = input
    size; stride 1 only). Unbatched (C_in, H, W) input gives (C_out, Ho, Wo).
    """
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of input (N, C_in, D, H, W) with weight (C_out, C_in/groups, kd, kh, kw)."""
    return _conv(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-d convolution; weight (C_in, C_out/groups, k)."""
    return _conv_transpose(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-d convolution (the adjoint of conv2d); weight (C_in, C_out/groups, kh, kw).

    output_padding adds rows/columns at the end of each axis to pick among
    the input sizes a strided conv2d maps to the same output size; it must
    be smaller than max(stride, dilation).
    """
    return _conv_transpose(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-d convolution; weight (C_in, C_out/groups, kd, kh, kw)."""
    return _conv_transpose(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding,
                           groups, dilation)
