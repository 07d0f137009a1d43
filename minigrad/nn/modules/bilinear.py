"""Bilinear: y = x1^T A x2 + b (as torch.nn.Bilinear), over ``F.bilinear`` (minigrad/ops/bilinear.py)."""
import math

import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.ops.bilinear import bilinear


class Bilinear(Module):
    """y[..., o] = sum_ij x1[..., i] weight[o, i, j] x2[..., j] + bias[o].

    weight (out_features, in1_features, in2_features) and bias (out_features,)
    ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in1_features", in1_features), ("in2_features", in2_features),
                            ("out_features", out_features)):
            if not is_int(value) or value < 0:
                raise ValueError(f"Bilinear: {name} must be a non-negative integer, got {value!r}")
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dtype = factory_dtype("Bilinear", device, dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in1_features, self.in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
