"""Fractional max pooling and CrossMapLRN2d, thin wrappers over
``minigrad.ops.fractional_pool`` and ``minigrad.ops.cross_map_lrn``.

FractionalMaxPool2d/3d pool by a non-integer factor: the output size (or
ratio, output = floor(in * ratio)) is chosen and the window starts are
spread pseudo-randomly, a fresh draw each call unless _random_samples is
given. CrossMapLRN2d is local response normalisation across channels.
"""
from minigrad.nn.module import Module
from minigrad.ops.cross_map_lrn import cross_map_lrn2d
from minigrad.ops.fractional_pool import fractional_max_pool2d, fractional_max_pool3d


def _tuple(value, d):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * d


class _FractionalMaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        name, d = type(self).__name__, self._dims
        self.kernel_size = _tuple(kernel_size, d)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _tuple(output_size, d) if output_size is not None else None
        self.output_ratio = _tuple(output_ratio, d) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return self._function(input, self.kernel_size, self.output_size, self.output_ratio,
                              self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, H, W) or (C, H, W)."""
    _dims = 2
    _function = staticmethod(fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, T, H, W) or (C, T, H, W)."""
    _dims = 3
    _function = staticmethod(fractional_max_pool3d)


class CrossMapLRN2d(Module):
    """x / (k + alpha / size * sum of x^2 over neighbouring channels)^beta, on (N, C, H, W)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
