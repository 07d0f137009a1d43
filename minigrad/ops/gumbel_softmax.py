"""gumbel_softmax: a differentiable sample from a categorical distribution.

Adding Gumbel(0, 1) noise g = -log(E), E ~ Exponential(1), to logits and
taking the argmax draws a category with probability softmax(logits); the
softmax at temperature tau relaxes that argmax into something smooth:

    y_soft = softmax((logits + g) / tau, dim)

hard=True returns the one-hot argmax of y_soft in the forward pass while the
gradient is that of y_soft (the straight-through estimator):

    y = y_hard - y_soft.detach() + y_soft

The noise is drawn from minigrad's generator, so minigrad.manual_seed makes
the samples reproducible.
"""
import warnings

import numpy as np

from minigrad import random
from minigrad.ops.activation import softmax
from minigrad.tensor import Tensor


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Sample softmax((logits + Gumbel noise) / tau) along dim; hard=True: one-hot, straight-through."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax(): argument 'logits' must be a Tensor, not {type(logits).__name__}")
    if logits.dtype not in (np.float16, np.float32, np.float64):
        raise RuntimeError(f"gumbel_softmax(): expected floating point logits, got {logits.dtype}")
    ndim = max(logits.ndim, 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                         f"but got {dim})")
    exponential = random.generator().standard_exponential(logits.shape)
    gumbels = Tensor(-np.log(exponential).astype(logits.dtype))        # ~ Gumbel(0, 1)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    soft = y_soft.detach().numpy()
    axis = dim % ndim if logits.ndim else None
    index = np.expand_dims(np.argmax(soft, axis=axis), axis) if logits.ndim else None
    y_hard = np.zeros_like(soft)
    if logits.ndim:
        np.put_along_axis(y_hard, index, 1, axis=axis)
    else:
        y_hard[...] = 1
    return Tensor(y_hard) - y_soft.detach() + y_soft
