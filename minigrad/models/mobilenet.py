"""Depthwise separable convolutions and a MobileNet-style network.

The idea: a standard k x k convolution from C_in to C_out channels mixes
space and channels at once, with k*k*C_in*C_out weights. MobileNet
factorises it into
  1. a depthwise k x k convolution (groups=C_in: one filter per channel,
     k*k*C_in weights) that filters space, and
  2. a pointwise 1 x 1 convolution (C_in*C_out weights) that mixes channels.
For 16 -> 32 channels and 3 x 3 kernels: 3*3*16 + 16*32 = 656 weights instead
of 3*3*16*32 = 4608 (7x fewer), and proportionally fewer multiply-adds.
"""
from minigrad.nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential
from minigrad.nn.modules._utils import positive_int


class DepthwiseSeparableConv2d(Module):
    """depthwise k x k conv (groups=in_channels) followed by a pointwise 1 x 1 conv.

    Parameters: in*k*k + in*out (+ in + out with bias=True).
    Input (N, in, H, W) -> output (N, out, H', W') with the usual conv output size.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False):
        super().__init__()
        positive_int(in_channels, "DepthwiseSeparableConv2d: in_channels")
        positive_int(out_channels, "DepthwiseSeparableConv2d: out_channels")
        self.depthwise = Conv2d(in_channels, in_channels, kernel_size, stride=stride,
                                padding=padding, groups=in_channels, bias=bias)
        self.pointwise = Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def _conv_bn_relu(in_channels, out_channels, kernel_size, stride, groups):
    return [Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                   padding=kernel_size // 2, groups=groups, bias=False),
            BatchNorm2d(out_channels), ReLU()]


class MobileNetBlock(Sequential):
    """MobileNet v1 block: depthwise 3x3 conv-BN-ReLU, then pointwise 1x1 conv-BN-ReLU.

    (No bias in the convolutions: the batch norm that follows has its own shift.)
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(*_conv_bn_relu(in_channels, in_channels, 3, stride, in_channels),
                         *_conv_bn_relu(in_channels, out_channels, 1, 1, 1))


# (out_channels, stride) of each block after the stem: a scaled-down MobileNet v1.
MOBILENET_SMALL = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1))


class MobileNet(Module):
    """A small MobileNet v1: a strided 3x3 stem, a stack of depthwise separable
    blocks, global average pooling and one linear classifier.

    width_mult (MobileNet's alpha) scales every layer's channel count: cost
    falls roughly with alpha^2.
    """

    def __init__(self, num_classes=10, in_channels=3, width_mult=1.0, stem_channels=32,
                 config=MOBILENET_SMALL):
        super().__init__()
        positive_int(num_classes, "MobileNet: num_classes")
        positive_int(in_channels, "MobileNet: in_channels")
        if not width_mult > 0:
            raise ValueError(f"MobileNet: width_mult must be positive, got {width_mult!r}")

        def width(channels):
            return max(1, int(round(channels * width_mult)))

        layers = _conv_bn_relu(in_channels, width(stem_channels), 3, 2, 1)
        channels = width(stem_channels)
        for out_channels, stride in config:
            layers.append(MobileNetBlock(channels, width(out_channels), stride))
            channels = width(out_channels)
        self.features = Sequential(*layers)
        self.pool = AdaptiveAvgPool2d(1)
        self.flatten = Flatten()
        self.classifier = Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.features(x))))
