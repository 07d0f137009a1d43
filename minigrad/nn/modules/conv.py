"""Convolution layers (1-d, 2-d, 3-d, and their transposes), thin wrappers over
``minigrad.ops.conv``.

Output size along each spatial dimension (PyTorch's formula):

    conv:            out = floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
    transposed conv: out = (in - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1

Parameter shapes:  Conv weight (out_channels, in_channels/groups, *kernel_size),
ConvTranspose weight (in_channels, out_channels/groups, *kernel_size), bias (out_channels,).
"""
import math

import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import check_input, factory_dtype
from minigrad.ops._args import (
    check_output_padding,
    check_padding_mode,
    conv_padding,
    conv_transpose_out_size,
    is_int,
    ntuple,
    pad_widths,
)
from minigrad.ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from minigrad.ops.padding import pad


class _ConvNd(Module):
    """What the conv layers share: argument checks, parameters, repr.

    The layer checks what is its own (channels, groups, padding_mode) and
    parses kernel_size / stride / padding / dilation into the tuples it
    stores; the functional op checks the input against them on every call.
    """
    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._dims
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
        if not is_int(groups) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, minimum=1)
        self.stride = ntuple(stride, n, "stride", name, minimum=1)
        self.dilation = ntuple(dilation, n, "dilation", name, minimum=1)
        check_padding_mode(name, padding_mode)
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding_mode is supported, got {padding_mode!r}")
        # (before, after) per axis; the layer keeps 'same' / 'valid' as given, as PyTorch does
        self._padding_before, self._padding_after = conv_padding(
            name, padding, self.kernel_size, self.stride, self.dilation, allow_strings=not self._transposed)
        self.padding = padding if isinstance(padding, str) else self._padding_before
        self.output_padding = ntuple(output_padding, n, "output_padding", name, minimum=0)
        if self._transposed:
            check_output_padding(name, self.output_padding, self.stride, self.dilation)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.groups, self.padding_mode, self.transposed = int(groups), padding_mode, self._transposed

        dtype = factory_dtype(name, device, dtype)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_ with a=sqrt(5): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check(self, input):
        n = self._dims
        check_input(type(self).__name__, input, (n + 1, n + 2), self.in_channels)

    def extra_repr(self):
        n = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        self._check(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            # reflect / replicate / circular: pad first, then convolve without padding
            input = pad(input, pad_widths(self._padding_before, self._padding_after), mode=self.padding_mode)
            padding = 0
        return self._function(input, self.weight, self.bias, self.stride, padding, self.dilation,
                              self.groups)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) -> (N, C_out, L_out)."""
    _dims = 1
    _function = staticmethod(conv1d)


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    Each output channel is a learned filter slid over the image: weights are
    shared across positions (translation equivariance) and each output sees
    only a kernel_size window (local connectivity). groups=G splits the
    channels into G independent convolutions (groups=in_channels: depthwise).
    """
    _dims = 2
    _function = staticmethod(conv2d)


class Conv3d(_Conv):
    """3-d convolution over (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""
    _dims = 3
    _function = staticmethod(conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding=output_padding, device=device,
                         dtype=dtype)

    def _output_padding(self, input, output_size):
        """output_padding that makes the output exactly `output_size` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = tuple(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} spatial sizes, "
                             f"got {output_size}")
        result = []
        for i in range(n):
            size_in = input.shape[input.ndim - n + i]
            smallest = conv_transpose_out_size(size_in, self.kernel_size[i], self.stride[i],
                                               self.padding[i], self.dilation[i], 0)
            largest = smallest + self.stride[i] - 1
            if not smallest <= output_size[i] <= largest:
                raise ValueError(f"{type(self).__name__}: requested output size {output_size} is "
                                 f"not reachable: dimension {i} must be between {smallest} and "
                                 f"{largest} for input of shape {tuple(input.shape)}")
            result.append(output_size[i] - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        self._check(input)
        output_padding = self._output_padding(input, output_size)
        return self._function(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                              self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution: the gradient of Conv1d with respect to its input."""
    _dims = 1
    _function = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution (learned upsampling): each input pixel scatters a
    weighted copy of the kernel into the output; with stride s the output is about s
    times larger. It is the input-gradient of Conv2d with the same weight."""
    _dims = 2
    _function = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-d convolution."""
    _dims = 3
    _function = staticmethod(conv_transpose3d)
