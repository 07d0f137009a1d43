"""Linear (fully connected) layers and reshaping layers."""
import math

import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.ops.linalg import linear


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a removed layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b.  weight (out_features, in_features), bias (out_features,).

    Initialised as PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_
    with a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not is_int(value) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = factory_dtype("Linear", device, dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input with {self.in_features} features in the last "
                             f"dimension, got input of shape {tuple(input.shape)}")
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one (default: all but the batch)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size`."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        sizes = tuple(unflattened_size)
        if not sizes or not all(is_int(s) and (s > 0 or s == -1) for s in sizes) or sizes.count(-1) > 1:
            raise ValueError(f"Unflatten: unflattened_size must be a tuple of positive ints (at most "
                             f"one -1), got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, sizes

    def forward(self, input):
        ndim = input.ndim
        if not -ndim <= self.dim < ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for input of shape "
                             f"{tuple(input.shape)}")
        dim = self.dim % ndim
        size = input.shape[dim]
        known = int(np.prod([s for s in self.unflattened_size if s != -1]))
        if (-1 not in self.unflattened_size and known != size) or (known == 0 or size % known):
            raise ValueError(f"Unflatten: cannot split dimension {dim} of size {size} into "
                             f"{self.unflattened_size} (input shape {tuple(input.shape)})")
        new_shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        return input.reshape(*new_shape)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
