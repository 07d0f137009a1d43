"""Fold an evaluation-mode batch norm into the Linear or convolution before it (torch.nn.utils.fusion).

In evaluation mode batch norm is affine per feature: y = (z - mean) * s + beta
with s = gamma / sqrt(var + eps). With z = W x + b this is
(s W) x + ((b - mean) * s + beta), one layer instead of two.
"""
import copy

import numpy as np

from minigrad.nn.module import Parameter
from minigrad.nn.utils import _fuse_conv_bn_arrays, fuse_conv_bn_eval  # noqa: F401
from minigrad.tensor import Tensor

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _array(value):
    return None if value is None else (value.array if isinstance(value, Tensor) else np.asarray(value))


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False,
                         groups=1):
    """(fused weight, fused bias): W' = W * s per output channel, b' = (b - mean) * s + beta.

    Tensors in give Parameters out (requires_grad of conv_w and of conv_b, as
    PyTorch); NumPy arrays in give arrays out. ``groups`` (minigrad's addition)
    locates the output channels of a grouped transposed convolution.
    """
    fused_w, fused_b = _fuse_conv_bn_arrays(_array(conv_w), _array(conv_b), _array(bn_rm),
                                            _array(bn_rv), bn_eps, _array(bn_w), _array(bn_b),
                                            transpose, groups)
    if not isinstance(conv_w, Tensor):
        return fused_w, fused_b
    bias_dtype = conv_b.array.dtype if conv_b is not None else fused_w.dtype
    bias_grad = conv_b.requires_grad if conv_b is not None else False
    return (Parameter(fused_w, conv_w.requires_grad),
            Parameter(fused_b.astype(bias_dtype), bias_grad))


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(fused weight, fused bias): W' = W * s[:, None], b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).

    A batch norm of 1 feature broadcasts over all outputs. Returns Parameters
    (requires_grad of linear_w and of linear_b, as PyTorch).
    """
    w = _array(linear_w)
    weight_dtype = w.dtype
    bias_dtype = _array(linear_b).dtype if linear_b is not None else weight_dtype
    rm, rv = _array(bn_rm).astype(np.float64), _array(bn_rv).astype(np.float64)
    b = np.zeros_like(rm) if linear_b is None else _array(linear_b).astype(np.float64)
    scale = _array(bn_w).astype(np.float64) / np.sqrt(rv + bn_eps)      # (C,) or (1,)
    fused_w = (w * scale[:, None]).astype(weight_dtype)                  # (out, in) * (C, 1)
    fused_b = ((b - rm) * scale + _array(bn_b).astype(np.float64)).astype(bias_dtype)
    bias_grad = linear_b.requires_grad if isinstance(linear_b, Tensor) else False
    return (Parameter(fused_w, getattr(linear_w, "requires_grad", True)),
            Parameter(fused_b, bias_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of `linear` whose output equals bn(linear(x)), both in evaluation mode.

    bn.num_features must equal linear.out_features, or be 1.
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_linear = copy.deepcopy(linear)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    bn_w = bn.weight if bn.weight is not None else np.ones(bn.num_features)
    bn_b = bn.bias if bn.bias is not None else np.zeros(bn.num_features)
    fused_linear.weight, fused_linear.bias = fuse_linear_bn_weights(
        fused_linear.weight, fused_linear.bias, bn.running_mean, bn.running_var, bn.eps, bn_w, bn_b)
    return fused_linear
