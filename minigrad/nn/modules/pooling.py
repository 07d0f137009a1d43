"""Pooling layers, thin wrappers over ``minigrad.ops.pooling``.

Pooling summarises each window of a feature map by its maximum or average:
the map gets smaller, and small shifts of the input change the output
little. Output size: floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
(ceil with ceil_mode=True); stride defaults to kernel_size.
"""
from minigrad.nn.module import Module
from minigrad.nn.modules._utils import check_input, is_int, ntuple


def _pool_ops():
    from minigrad.ops import pooling  # the functional pooling ops (forward and backward)
    return pooling


def _window_args(layer, n, kernel_size, stride, padding, dilation=1):
    kernel = ntuple(kernel_size, n, f"{layer}: kernel_size", minimum=1)
    stride = kernel if stride is None else ntuple(stride, n, f"{layer}: stride", minimum=1)
    padding = ntuple(padding, n, f"{layer}: padding", minimum=0)
    dilation = ntuple(dilation, n, f"{layer}: dilation", minimum=1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{layer}: padding {padding} should be at most half of kernel_size {kernel}")
    return kernel, stride, padding, dilation


def _compact(values):
    """(3, 3) -> 3 for repr, as PyTorch prints the arguments it was given."""
    return values[0] if len(set(values)) == 1 else values


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding, self.dilation = _window_args(
            name, self._dims, kernel_size, stride, padding, dilation)
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        pool = getattr(_pool_ops(), f"max_pool{self._dims}d")
        return pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                    ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={_compact(self.kernel_size)}, stride={_compact(self.stride)}, "
                f"padding={_compact(self.padding)}, dilation={_compact(self.dilation)}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L)."""
    _dims = 1


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, H, W); return_indices=True also gives
    the argmax positions MaxUnpool2d needs."""
    _dims = 2


class _AvgPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding, _ = _window_args(
            name, self._dims, kernel_size, stride, padding)
        if divisor_override is not None and (not is_int(divisor_override) or divisor_override <= 0):
            raise ValueError(f"{name}: divisor_override must be a positive integer, got "
                             f"{divisor_override!r}")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        check_input(type(self).__name__, input, (self._dims + 1, self._dims + 2))
        ops = _pool_ops()
        if self._dims == 1:
            return ops.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                                  self.ceil_mode, self.count_include_pad)
        return ops.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return (f"kernel_size={_compact(self.kernel_size)}, stride={_compact(self.stride)}, "
                f"padding={_compact(self.padding)}")


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L)."""
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over kernel_size windows of (N, C, H, W)."""
    _dims = 2


def _output_size(layer, output_size):
    """int or (h, w) with None meaning 'keep the input size' -> validated tuple."""
    if is_int(output_size) or output_size is None:
        sizes = (output_size, output_size)
    else:
        sizes = tuple(output_size)
    if len(sizes) != 2 or not all(s is None or (is_int(s) and s > 0) for s in sizes):
        raise ValueError(f"{layer}: output_size must be a positive int or a pair of positive ints "
                         f"(or None), got {output_size!r}")
    return output_size if is_int(output_size) else sizes


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size: window i
    spans [floor(i*H/out), ceil((i+1)*H/out)). AdaptiveAvgPool2d(1) is global
    average pooling (the classifier input of ResNet, SqueezeNet, MobileNet)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _output_size("AdaptiveAvgPool2d", output_size)

    def forward(self, input):
        check_input("AdaptiveAvgPool2d", input, (3, 4))
        return _pool_ops().adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (windows as in AdaptiveAvgPool2d)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = _output_size("AdaptiveMaxPool2d", output_size)
        self.return_indices = return_indices

    def forward(self, input):
        check_input("AdaptiveMaxPool2d", input, (3, 4))
        return _pool_ops().adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """Partial inverse of MaxPool2d: puts each value back at its argmax position
    (from MaxPool2d(return_indices=True)), zeros elsewhere. Used by
    SegNet-style decoders to upsample with the encoder's pooling switches."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding, _ = _window_args(
            "MaxUnpool2d", 2, kernel_size, stride, padding)

    def forward(self, input, indices, output_size=None):
        check_input("MaxUnpool2d", input, (3, 4))
        if tuple(indices.shape) != tuple(input.shape):
            raise ValueError(f"MaxUnpool2d: indices shape {tuple(indices.shape)} must equal input "
                             f"shape {tuple(input.shape)}")
        return _pool_ops().max_unpool2d(input, indices, self.kernel_size, self.stride,
                                        self.padding, output_size)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}")


class SpatialPyramidPooling(Module):
    """SPP-net's layer: adaptive pooling to 1x1, 2x2, 4x4, ... bins, flattened and
    concatenated, so inputs of any size give a fixed-length vector:
    (N, C, H, W) -> (N, C * sum(level^2)). Lets a CNN with a fully connected
    classifier accept images of any size."""

    def __init__(self, levels=(1, 2, 4), mode="max"):
        super().__init__()
        levels = tuple(levels)
        if not levels or not all(is_int(level) and level > 0 for level in levels):
            raise ValueError(f"SpatialPyramidPooling: levels must be positive ints, got {levels!r}")
        if mode not in ("max", "avg"):
            raise ValueError(f"SpatialPyramidPooling: mode must be 'max' or 'avg', got {mode!r}")
        self.levels, self.mode = levels, mode

    def forward(self, input):
        check_input("SpatialPyramidPooling", input, (4,))
        return _pool_ops().spatial_pyramid_pool(input, self.levels, self.mode)

    def extra_repr(self):
        return f"levels={self.levels}, mode={self.mode!r}"
