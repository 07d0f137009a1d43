"""A fully convolutional segmentation network (FCN-style).

The idea: a classifier that ends in convolutions instead of fully connected
layers produces a grid of class scores rather than one vector, and works on
inputs of any size. Predicting a class for every pixel then only needs to
bring that coarse grid back to the input resolution. Here the encoder
downsamples with strided convolutions (no pooling) and the decoder upsamples
with learned transposed convolutions (stride 2 each), ending in a 1x1
convolution that scores every pixel: (N, C_in, H, W) -> (N, num_classes, H, W).
"""
from minigrad.nn import BatchNorm2d, Conv2d, ConvTranspose2d, Module, ReLU, Sequential
from minigrad.nn.modules._utils import positive_int


def _conv_bn_relu(in_channels, out_channels, stride):
    return Sequential(Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                      BatchNorm2d(out_channels), ReLU())


def _up_bn_relu(in_channels, out_channels):
    # kernel 4, stride 2, padding 1: exactly doubles H and W (2H = (H-1)*2 - 2 + 4)
    return Sequential(ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False),
                      BatchNorm2d(out_channels), ReLU())


class SegmentationHead(Module):
    """Decoder: `depth` transposed-conv x2 upsampling stages, then a 1x1 conv to class scores.

    Turns (N, in_channels, H, W) features into (N, num_classes, H * 2**depth, W * 2**depth).
    """

    def __init__(self, in_channels, num_classes, depth=2, hidden_channels=None):
        super().__init__()
        positive_int(in_channels, "SegmentationHead: in_channels")
        positive_int(num_classes, "SegmentationHead: num_classes")
        if not isinstance(depth, int) or depth < 0:
            raise ValueError(f"SegmentationHead: depth must be a non-negative integer, got {depth!r}")
        channels = in_channels
        stages = []
        for _ in range(depth):
            out = hidden_channels or max(channels // 2, num_classes)
            stages.append(_up_bn_relu(channels, out))
            channels = out
        self.upsample = Sequential(*stages)
        self.classifier = Conv2d(channels, num_classes, 1)
        self.scale = 2 ** depth

    def forward(self, x):
        return self.classifier(self.upsample(x))


class FullyConvolutionalNet(Module):
    """Encoder of stride-2 conv blocks + SegmentationHead: per-pixel class scores.

    H and W of the input must be divisible by 2**len(widths) so that the
    decoder lands exactly on the input size.
    """

    def __init__(self, in_channels=3, num_classes=2, widths=(16, 32)):
        super().__init__()
        positive_int(in_channels, "FullyConvolutionalNet: in_channels")
        positive_int(num_classes, "FullyConvolutionalNet: num_classes")
        if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
            raise ValueError(f"FullyConvolutionalNet: widths must be a non-empty sequence of "
                             f"positive ints, got {widths!r}")
        stages, channels = [], in_channels
        for width in widths:
            stages.append(_conv_bn_relu(channels, width, 2))
            channels = width
        self.encoder = Sequential(*stages)
        self.head = SegmentationHead(channels, num_classes, depth=len(widths))
        self.factor = 2 ** len(widths)

    def forward(self, x):
        if x.ndim != 4 or x.shape[2] % self.factor or x.shape[3] % self.factor:
            raise ValueError(f"FullyConvolutionalNet: expected (N, C, H, W) input with H and W "
                             f"divisible by {self.factor}, got shape {tuple(x.shape)}")
        return self.head(self.encoder(x))
