"""Building blocks of the architectures a deep-learning course covers, each
small and documented with the idea it illustrates:

- ``mobilenet``: DepthwiseSeparableConv2d (factorised convolution), MobileNetBlock, MobileNet
- ``resnet``: BasicBlock (residual learning, identity / projection shortcut)
- ``densenet``: DenseLayer, DenseBlock (concatenate all previous feature maps), Transition
- ``inception``: InceptionModule (parallel 1x1 / 3x3 / 5x5 / pool branches)
- ``squeezenet``: Fire (squeeze then expand), SqueezeNet
- ``segmentation``: SegmentationHead, FullyConvolutionalNet (per-pixel classes, no FC layer)
- ``knn``: KNNClassifier (differentiable k-nearest-neighbour loss and classifier)
"""
from minigrad.models.densenet import DenseBlock, DenseLayer, Transition  # noqa: F401
from minigrad.models.inception import InceptionModule  # noqa: F401
from minigrad.models.knn import KNNClassifier  # noqa: F401
from minigrad.models.mobilenet import DepthwiseSeparableConv2d, MobileNet, MobileNetBlock  # noqa: F401
from minigrad.models.resnet import BasicBlock  # noqa: F401
from minigrad.models.segmentation import FullyConvolutionalNet, SegmentationHead  # noqa: F401
from minigrad.models.squeezenet import Fire, SqueezeNet  # noqa: F401


def count_parameters(module):
    """Number of trainable scalars in a module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
