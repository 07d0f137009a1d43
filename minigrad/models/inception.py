"""GoogLeNet's Inception module: several receptive fields side by side.

The idea: instead of choosing one kernel size, run 1x1, 3x3 and 5x5
convolutions and a 3x3 max pool in parallel and concatenate their outputs
along the channels. 1x1 "reduction" convolutions before the 3x3 and 5x5
branches (and after the pool) cut the channel count first, which keeps the
expensive convolutions cheap.

Output channels: ch1x1 + ch3x3 + ch5x5 + pool_proj; spatial size unchanged.
"""
from minigrad.nn import Conv2d, MaxPool2d, Module, ReLU, Sequential
from minigrad.nn.modules._utils import positive_int
from minigrad.ops.shape import cat


def _conv_relu(in_channels, out_channels, kernel_size):
    return [Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), ReLU()]


class InceptionModule(Module):
    """Branches: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("ch1x1", ch1x1), ("ch3x3red", ch3x3red),
                            ("ch3x3", ch3x3), ("ch5x5red", ch5x5red), ("ch5x5", ch5x5),
                            ("pool_proj", pool_proj)):
            positive_int(value, f"InceptionModule: {name}")
        self.branch1 = Sequential(*_conv_relu(in_channels, ch1x1, 1))
        self.branch2 = Sequential(*_conv_relu(in_channels, ch3x3red, 1), *_conv_relu(ch3x3red, ch3x3, 3))
        self.branch3 = Sequential(*_conv_relu(in_channels, ch5x5red, 1), *_conv_relu(ch5x5red, ch5x5, 5))
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1),
                                  *_conv_relu(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)
