"""DenseNet's dense block and transition layer.

The idea: inside a dense block, every layer receives the concatenation of
the feature maps of all layers before it, and adds growth_rate new ones:
after L layers the block outputs in_channels + L * growth_rate channels.
Features are reused instead of re-learned, and every layer has a short path
to the loss. Between blocks, a transition layer (BN-ReLU-1x1 conv-2x2 average
pool) shrinks both the channel count and the resolution.

Names follow torchvision (norm1, relu1, conv1, ..., denselayer1, ...).
"""
from minigrad.nn import AvgPool2d, BatchNorm2d, Conv2d, Module, ReLU, Sequential
from minigrad.nn.modules._utils import positive_int
from minigrad.ops.shape import cat


class DenseLayer(Module):
    """BN-ReLU-1x1 conv (to bn_size*growth_rate: the bottleneck) - BN-ReLU-3x3 conv (to growth_rate)."""

    def __init__(self, in_channels, growth_rate, bn_size=4):
        super().__init__()
        positive_int(in_channels, "DenseLayer: in_channels")
        positive_int(growth_rate, "DenseLayer: growth_rate")
        positive_int(bn_size, "DenseLayer: bn_size")
        self.norm1 = BatchNorm2d(in_channels)
        self.relu1 = ReLU()
        self.conv1 = Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = BatchNorm2d(bn_size * growth_rate)
        self.relu2 = ReLU()
        self.conv2 = Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(Module):
    """num_layers DenseLayers, each fed the concatenation of the input and all earlier outputs.

    Output channels: in_channels + num_layers * growth_rate (spatial size unchanged).
    """

    def __init__(self, num_layers, in_channels, growth_rate, bn_size=4):
        super().__init__()
        positive_int(num_layers, "DenseBlock: num_layers")
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x):
        features = [x]
        for layer in self.children():
            features.append(layer(cat(features, 1)))   # (N, in + i*growth, H, W) -> (N, growth, H, W)
        return cat(features, 1)


class Transition(Sequential):
    """BN-ReLU-1x1 conv (in -> out channels) - 2x2 average pool (halves H and W)."""

    def __init__(self, in_channels, out_channels):
        positive_int(in_channels, "Transition: in_channels")
        positive_int(out_channels, "Transition: out_channels")
        super().__init__()
        self.add_module("norm", BatchNorm2d(in_channels))
        self.add_module("relu", ReLU())
        self.add_module("conv", Conv2d(in_channels, out_channels, 1, bias=False))
        self.add_module("pool", AvgPool2d(2, stride=2))
