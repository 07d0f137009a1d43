"""SqueezeNet's Fire module and a small SqueezeNet.

The idea: AlexNet-level accuracy with 50x fewer parameters by
  1. replacing most 3x3 filters with 1x1 filters (9x fewer weights),
  2. "squeezing" the channels entering the 3x3 filters with a 1x1 layer,
  3. downsampling late, so the convolutions see large activation maps.
A Fire module squeezes (1x1 conv to a few channels), then expands with 1x1
and 3x3 convolutions side by side, whose outputs are concatenated. The
classifier is a 1x1 convolution to num_classes followed by global average
pooling: no fully connected layer at all.

Names follow torchvision (squeeze, expand1x1, expand3x3, features, classifier).
"""
from minigrad.nn import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d, Module, ReLU, Sequential, init
from minigrad.nn.modules._utils import positive_int
from minigrad.ops.shape import cat


class Fire(Module):
    """squeeze 1x1 conv-ReLU -> [expand 1x1 conv-ReLU, expand 3x3 conv-ReLU] concatenated.

    Parameters: (in+1)*s + (s+1)*e1 + (9*s+1)*e3; output channels e1 + e3.
    """

    def __init__(self, in_channels, squeeze_channels, expand1x1_channels, expand3x3_channels):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("squeeze_channels", squeeze_channels),
                            ("expand1x1_channels", expand1x1_channels),
                            ("expand3x3_channels", expand3x3_channels)):
            positive_int(value, f"Fire: {name}")
        self.squeeze = Conv2d(in_channels, squeeze_channels, 1)
        self.squeeze_activation = ReLU()
        self.expand1x1 = Conv2d(squeeze_channels, expand1x1_channels, 1)
        self.expand1x1_activation = ReLU()
        self.expand3x3 = Conv2d(squeeze_channels, expand3x3_channels, 3, padding=1)
        self.expand3x3_activation = ReLU()
        self.out_channels = expand1x1_channels + expand3x3_channels

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)),
                    self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(Module):
    """A small SqueezeNet (the first stages of SqueezeNet 1.1) for small images.

    3x3 stride-2 conv -> max pool -> Fire x2 -> max pool -> Fire x2 ->
    dropout -> 1x1 conv to num_classes -> ReLU -> global average pool.
    """

    def __init__(self, num_classes=10, in_channels=3, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "SqueezeNet: num_classes")
        positive_int(in_channels, "SqueezeNet: in_channels")
        self.num_classes = num_classes
        self.features = Sequential(
            Conv2d(in_channels, 64, 3, stride=2), ReLU(),
            MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
            MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
        )
        self.classifier = Sequential(Dropout(dropout), Conv2d(256, num_classes, 1), ReLU(),
                                     AdaptiveAvgPool2d(1))
        self.flatten = Flatten()

        # torchvision's initialisation. Without batch norm, PyTorch's default
        # (kaiming-uniform with a=sqrt(5)) shrinks the signal layer by layer, the
        # final ReLU zeroes most class scores and their gradients, and training
        # never starts. He initialisation keeps the scale through the ReLUs; the
        # class layer starts small, N(0, 0.01).
        class_layer = self.classifier[1]
        for module in self.modules():
            if isinstance(module, Conv2d):
                if module is class_layer:
                    init.normal_(module.weight, 0.0, 0.01)
                else:
                    init.kaiming_uniform_(module.weight, nonlinearity="relu")
                init.zeros_(module.bias)

    def forward(self, x):
        return self.flatten(self.classifier(self.features(x)))
