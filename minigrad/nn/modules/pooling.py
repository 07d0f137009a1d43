"""Pooling layers, thin wrappers over ``minigrad.ops.pooling``.

Pooling summarises each window of a feature map by its maximum or average:
the map gets smaller, and small shifts of the input change the output
little. Output size: floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
(ceil with ceil_mode=True); stride defaults to kernel_size.
"""
from minigrad.nn.module import Module
from minigrad.nn.modules._utils import check_input
from minigrad.ops._args import adaptive_output_size, check_pool_padding, is_int, pool_window
from minigrad.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
    spatial_pyramid_levels,
    spatial_pyramid_pool,
)


def _compact(values):
    """(3, 3) -> 3 for repr, as PyTorch prints the arguments it was given."""
    return values[0] if len(set(values)) == 1 else values


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding, self.dilation = pool_window(
            name, self._dims, kernel_size, stride, padding, dilation)
        check_pool_padding(name, self.padding, self.kernel_size)
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={_compact(self.kernel_size)}, stride={_compact(self.stride)}, "
                f"padding={_compact(self.padding)}, dilation={_compact(self.dilation)}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L)."""
    _dims = 1
    _function = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, H, W); return_indices=True also gives
    the argmax positions MaxUnpool2d needs."""
    _dims = 2
    _function = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over windows of (N, C, D, H, W) (video, volumes)."""
    _dims = 3
    _function = staticmethod(max_pool3d)


class _AvgPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding, _ = pool_window(
            name, self._dims, kernel_size, stride, padding)
        check_pool_padding(name, self.padding, self.kernel_size)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override    # checked by the functional

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return (f"kernel_size={_compact(self.kernel_size)}, stride={_compact(self.stride)}, "
                f"padding={_compact(self.padding)}")


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L)."""
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    @staticmethod
    def _function(input, kernel_size, stride, padding, ceil_mode, count_include_pad, _divisor):
        # avg_pool1d has no divisor_override (as in PyTorch); AvgPool1d never sets one.
        return avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)

    def extra_repr(self):  # PyTorch's AvgPool1d keeps its arguments as 1-tuples
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over kernel_size windows of (N, C, H, W)."""
    _dims = 2
    _function = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """Mean over kernel_size windows of (N, C, D, H, W)."""
    _dims = 3
    _function = staticmethod(avg_pool3d)


class _LPPoolNd(Module):
    """Power-average pooling: (sum over each window of x^p)^(1/p)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = (norm_type, kernel_size,
                                                                         stride, ceil_mode)

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    _dims = 1
    _function = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    _dims = 2
    _function = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    _dims = 3
    _function = staticmethod(lp_pool3d)


def _output_size(layer, dims, output_size):
    """An int (kept as given, for repr) or a tuple with None meaning 'keep the input size'."""
    sizes = adaptive_output_size(layer, dims, output_size)
    return output_size if is_int(output_size) else sizes


class _AdaptiveAvgPoolNd(Module):
    """Average pooling to a fixed output size, whatever the input size: window i
    spans [floor(i*H/out), ceil((i+1)*H/out)). AdaptiveAvgPool2d(1) is global
    average pooling (the classifier input of ResNet, SqueezeNet, MobileNet)."""
    _dims = 2

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _output_size(type(self).__name__, self._dims, output_size)

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _dims = 1
    _function = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _dims = 2
    _function = staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    _dims = 3
    _function = staticmethod(adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    """Max pooling to a fixed output size (windows as in AdaptiveAvgPool2d)."""
    _dims = 2

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = _output_size(type(self).__name__, self._dims, output_size)
        self.return_indices = return_indices

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _dims = 1
    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _dims = 2
    _function = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _dims = 3
    _function = staticmethod(adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    """Partial inverse of max pooling: puts each value back at its argmax position
    (from MaxPool(return_indices=True)), zeros elsewhere. Used by
    SegNet-style decoders to upsample with the encoder's pooling switches."""
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding, _ = pool_window(
            type(self).__name__, self._dims, kernel_size, stride, padding)

    def forward(self, input, indices, output_size=None):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        return self._function(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}")


class MaxUnpool1d(_MaxUnpoolNd):
    _dims = 1
    _function = staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    _dims = 2
    _function = staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    _dims = 3
    _function = staticmethod(max_unpool3d)


class SpatialPyramidPooling(Module):
    """SPP-net's layer: adaptive pooling to 1x1, 2x2, 4x4, ... bins, flattened and
    concatenated, so inputs of any size give a fixed-length vector:
    (N, C, H, W) -> (N, C * sum(level^2)). Lets a CNN with a fully connected
    classifier accept images of any size."""

    def __init__(self, levels=(1, 2, 4), mode="max"):
        super().__init__()
        self.levels, self.mode = spatial_pyramid_levels("SpatialPyramidPooling", levels, mode), mode

    def forward(self, input):
        check_input("SpatialPyramidPooling", input, (4,))
        return spatial_pyramid_pool(input, self.levels, self.mode)

    def extra_repr(self):
        return f"levels={self.levels}, mode={self.mode!r}"
