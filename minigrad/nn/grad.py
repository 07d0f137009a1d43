"""Gradients of the convolutions, as functions (torch.nn.grad).

``conv2d_input(input_size, weight, grad_output)`` is dL/dx of y = conv2d(x, weight)
for the given dL/dy, and ``conv2d_weight(input, weight_size, grad_output)`` is
dL/dweight; the same for 1-d and 3-d, with the convolution's stride, padding,
dilation and groups. Both are written with minigrad's differentiable
convolutions (as Chainer does), so their results can be differentiated again:

- dL/dx is the transposed convolution of dL/dy with the same weight; the
  output_padding o = in - ((out - 1) s - 2 p + d (k - 1) + 1) recovers the
  input positions a strided convolution never reached (0 <= o < s).
- dL/dw[o, c, k] = sum_n sum_p x_pad[n, c, k d + p s] dL/dy[n, o, p]: a
  convolution of x^T (C, N, ...) with dL/dy^T (O, N, ...) as its weight, with
  stride and dilation exchanged, cropped to the kernel size (per group).
"""
from minigrad.ops._args import ntuple
from minigrad.tensor import Tensor

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _size(size, dims, name, op):
    size = tuple(size)
    if len(size) != dims + 2 or not all(isinstance(n, int) and n >= 0 for n in size):
        raise RuntimeError(f"{op}: {name} must be {dims + 2} non-negative sizes (batch, channels and "
                           f"{dims} spatial), got {size!r}")
    return size


def _geometry(dims, stride, padding, dilation, op):
    return (ntuple(stride, dims, "stride", op, minimum=1), ntuple(padding, dims, "padding", op, 0),
            ntuple(dilation, dims, "dilation", op, minimum=1))


def _check_tensor(value, name, dims, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    if value.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected {name} to be {dims + 2}-d (batch, channels and {dims} "
                           f"spatial), got shape {tuple(value.shape)}")


def _conv_input(dims, input_size, weight, grad_output, stride, padding, dilation, groups):
    import minigrad.nn.functional as F
    op = f"conv{dims}d_input"
    _check_tensor(weight, "weight", dims, op)
    _check_tensor(grad_output, "grad_output", dims, op)
    input_size = _size(input_size, dims, "input_size", op)
    stride, padding, dilation = _geometry(dims, stride, padding, dilation, op)
    kernel = tuple(weight.shape[2:])
    out = tuple(grad_output.shape[2:])
    expected_out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                         for n, k, s, p, d in zip(input_size[2:], kernel, stride, padding, dilation))
    if (out != expected_out or grad_output.shape[0] != input_size[0]
            or grad_output.shape[1] != weight.shape[0] or input_size[1] != weight.shape[1] * groups):
        raise RuntimeError(f"{op}: grad_output of shape {tuple(grad_output.shape)} does not match a "
                           f"convolution of an input of size {input_size} with a weight of shape "
                           f"{tuple(weight.shape)} (groups={groups}): expected "
                           f"{(input_size[0], weight.shape[0]) + expected_out}")
    output_padding = tuple(n - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
                           for n, o, k, s, p, d in zip(input_size[2:], out, kernel, stride, padding,
                                                       dilation))
    transpose = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
    return transpose(grad_output, weight, None, stride, padding, output_padding, groups, dilation)


def _conv_weight(dims, input, weight_size, grad_output, stride, padding, dilation, groups):
    import minigrad.nn.functional as F
    from minigrad.ops.shape import cat
    op = f"conv{dims}d_weight"
    _check_tensor(input, "input", dims, op)
    _check_tensor(grad_output, "grad_output", dims, op)
    weight_size = _size(weight_size, dims, "weight_size", op)
    stride, padding, dilation = _geometry(dims, stride, padding, dilation, op)
    kernel = weight_size[2:]
    expected_out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                         for n, k, s, p, d in zip(input.shape[2:], kernel, stride, padding, dilation))
    out_channels, in_per_group = weight_size[0], weight_size[1]
    if (tuple(grad_output.shape[2:]) != expected_out or grad_output.shape[0] != input.shape[0]
            or grad_output.shape[1] != out_channels or input.shape[1] != in_per_group * groups
            or out_channels % groups):
        raise RuntimeError(f"{op}: grad_output of shape {tuple(grad_output.shape)} does not match a "
                           f"convolution of an input of shape {tuple(input.shape)} with a weight "
                           f"of size {weight_size} (groups={groups}): expected "
                           f"{(input.shape[0], out_channels) + expected_out}")
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    out_per_group = out_channels // groups
    crop = (slice(None), slice(None)) + tuple(slice(0, k) for k in kernel)
    pieces = []
    for g in range(groups):
        x_g = input[:, g * in_per_group:(g + 1) * in_per_group].transpose(0, 1)            # (Cg, N, *S)
        gy_g = grad_output[:, g * out_per_group:(g + 1) * out_per_group].transpose(0, 1)   # (Og, N, *So)
        # (Cg, Og, *R), R >= kernel: stride and dilation exchanged
        correlation = conv(x_g, gy_g, None, dilation, padding, stride)
        pieces.append(correlation[crop].transpose(0, 1))                                  # (Og, Cg, *k)
    return pieces[0] if groups == 1 else cat(pieces, dim=0)                               # (O, C/G, *k)


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dx of y = conv1d(x, weight) for dL/dy = grad_output; x has shape input_size."""
    return _conv_input(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dweight of y = conv1d(input, weight) for dL/dy = grad_output; weight has shape weight_size."""
    return _conv_weight(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dx of y = conv2d(x, weight) for dL/dy = grad_output; x has shape input_size."""
    return _conv_input(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dweight of y = conv2d(input, weight) for dL/dy = grad_output; weight has shape weight_size."""
    return _conv_weight(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dx of y = conv3d(x, weight) for dL/dy = grad_output; x has shape input_size."""
    return _conv_input(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """dL/dweight of y = conv3d(input, weight) for dL/dy = grad_output; weight has shape weight_size."""
    return _conv_weight(3, input, weight_size, grad_output, stride, padding, dilation, groups)
