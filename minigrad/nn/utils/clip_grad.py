"""Gradient clipping (torch.nn.utils.clip_grad): bound the gradients before an optimizer step.

``clip_grad_norm_`` is ``get_total_norm`` of the gradients followed by
``clip_grads_with_norm_``; the two halves are public so the norm can be
computed once (or all-reduced) and then applied.
"""
import math
import warnings

import numpy as np

from minigrad.nn.utils import clip_grad_norm_ as _clip_grad_norm_
from minigrad.nn.utils import clip_grad_value_
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _tensors(tensors, name):
    if isinstance(tensors, Tensor):
        return [tensors]
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__}")
    return tensors


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """||(||t_1||_p, ..., ||t_n||_p)||_p: the p-norm of all tensors viewed as one vector.

    norm_type may be inf (largest absolute value). Returns a 0-d tensor in the
    tensors' (promoted) dtype; 0.0 for no tensors.
    """
    tensors = _tensors(tensors, "get_total_norm")
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, dtype=get_default_dtype()))
    dtype = np.result_type(*[t.array.dtype for t in tensors])
    arrays = [np.abs(t.array.astype(np.float64)).reshape(-1) for t in tensors]
    if math.isinf(norm_type):
        reduce = np.max if norm_type > 0 else np.min
        norms = [reduce(a) if a.size else (0.0 if norm_type > 0 else math.inf) for a in arrays]
        total = float(reduce(norms))
    elif norm_type == 0:
        # the 0-"norm" of the per-tensor 0-norms: how many tensors have a nonzero entry
        total = float(sum(np.count_nonzero(a) > 0 for a in arrays))
    else:
        norms = np.array([np.sum(a ** norm_type) ** (1.0 / norm_type) for a in arrays])
        total = float(np.sum(norms ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and scale "
                           "the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """grad *= min(max_norm / (total_norm + 1e-6), 1) for every parameter with a gradient (in place)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.array *= g.array.dtype.type(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm; returns the norm."""
    return _clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
