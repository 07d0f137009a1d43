"""Scaled dot-product attention and vector normalisation, built from differentiable ops.

    attention(Q, K, V) = softmax(Q K^T * scale + mask) V,   scale = 1/sqrt(E)

Q is (..., L, E), K (..., S, E), V (..., S, Ev); the result is (..., L, Ev).
A bool mask keeps the positions where it is True (the others get -inf
before the softmax); a float mask is added to the scores. ``is_causal``
lets position i attend to positions <= i only.
"""
import math

import numpy as np

from minigrad.ops.activation import softmax
from minigrad.ops.dropout import dropout
from minigrad.ops.indexing import masked_fill
from minigrad.ops.linalg import matmul
from minigrad.ops.reduction import vector_norm
from minigrad.tensor import Tensor


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, Tensor) or x.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be a tensor with at least "
                             f"2 dims (..., length, features), got {getattr(x, 'shape', x)!r}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query {tuple(query.shape)} and key "
                         f"{tuple(key.shape)} must have the same feature size (last dim)")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key {tuple(key.shape)} and value "
                         f"{tuple(value.shape)} must have the same length (dim -2)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]  # each key/value head serves `groups` query heads
        key = key.repeat_interleave(groups, dim=-3)
        value = value.repeat_interleave(groups, dim=-3)
    target, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * scale                   # (..., L, S)
    if is_causal:
        attn_mask = Tensor._make(np.tril(np.ones((target, source), dtype=bool)), False, None)
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = masked_fill(scores, ~attn_mask, -math.inf)
        else:
            scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)                                            # (..., L, Ev)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps): unit vectors along dim."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    norm = vector_norm(input, p, dim, keepdim=True).clamp(min=eps)
    return input / norm
