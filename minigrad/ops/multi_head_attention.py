"""F.multi_head_attention_forward: nn.MultiheadAttention's computation as a function (torch).

Sequence-first shapes: query (L, N, E), key (S, N, E_k), value (S, N, E_v)
(or unbatched (L, E), (S, E_k), (S, E_v)); h heads of size d = E / h:

    q, k, v = query W_q^T + b_q,  key W_k^T + b_k,  value W_v^T + b_v
              (W_q, W_k, W_v: the three (E, E) blocks of in_proj_weight (3E, E),
               or q/k/v_proj_weight with use_separate_proj_weight=True)
    optional: append bias_k / bias_v as one more key/value step (S += 1),
              replace k / v by static_k / static_v (N*h, S, d),
              append a zero key/value (add_zero_attn, S += 1)
    per head: A = softmax(q k^T / sqrt(d) + mask)   (N*h, L, S)
              head = dropout(A) v                   (N*h, L, d)
    output = concat(heads) W_out^T + b_out          (L, N, E)

Masks as PyTorch: bool True (or a float -inf) forbids a key; a float mask is
added to the scores. attn_mask (L, S) or (N*h, L, S); key_padding_mask (N, S).
Bad shapes raise AssertionError or RuntimeError, the types PyTorch raises here.
"""
import math

import numpy as np

from minigrad.ops.activation import softmax
from minigrad.ops.dropout import dropout
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.shape import cat
from minigrad.tensor import Tensor


def _float_mask(mask, name, dtype):
    """A bool or float mask as an additive float array (True -> -inf); None stays None."""
    if mask is None:
        return None
    array = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype != np.bool_ and array.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported, got {array.dtype}")
    if array.dtype == np.bool_:
        return np.where(array, -np.inf, 0.0).astype(dtype)
    return array.astype(dtype)


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D query) or not (2-D), as torch's _mha_shape_check."""
    def ndim(mask):
        return np.ndim(mask.array if isinstance(mask, Tensor) else mask)

    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D "
                             f"but found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and ndim(key_padding_mask) != query.ndim - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{query.ndim - 1}-D but found {ndim(key_padding_mask)}-D tensor instead")
    if attn_mask is not None:
        if ndim(attn_mask) not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                 f"but found {ndim(attn_mask)}-D tensor instead")
        shape = np.shape(attn_mask.array if isinstance(attn_mask, Tensor) else attn_mask)
        if not batched and len(shape) == 3 and shape != (num_heads, query.shape[0], key.shape[0]):
            raise AssertionError(f"Expected `attn_mask` shape to be "
                                 f"{(num_heads, query.shape[0], key.shape[0])} but got {shape}")
    return batched


def _pad_key(mask):
    """One more (allowed) key column: (..., S) -> (..., S + 1)."""
    if mask is None:
        return None
    return np.concatenate([mask, np.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype)], axis=-1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                                 out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Returns (attn_output (L, N, E), attn_weights (N, L, S), or (N, h, L, S) with
    average_attn_weights=False, or None with need_weights=False); unbatched drops N."""
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:  # (L, E) -> (L, 1, E)
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = (key_padding_mask.array if isinstance(key_padding_mask, Tensor)
                                else np.asarray(key_padding_mask))[None]
    target, n, embed_dim = query.shape
    source = key.shape[0]
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to create "
                           "this mask.")
    attn_mask = _float_mask(attn_mask, "attn_mask", query.dtype)   # is_causal is only a hint
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, "
                             f"but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")

    # In-projection: the three (E, E) blocks of in_proj_weight, or three separate weights.
    if use_separate_proj_weight:
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        weights = tuple(in_proj_weight[i * embed_dim:(i + 1) * embed_dim] for i in range(3))
    biases = ((None,) * 3 if in_proj_bias is None
              else tuple(in_proj_bias[i * embed_dim:(i + 1) * embed_dim] for i in range(3)))
    q = linear(query, weights[0], biases[0])  # (L, N, E)
    k = linear(key, weights[1], biases[1])    # (S, N, E)
    v = linear(value, weights[2], biases[2])  # (S, N, E)

    if attn_mask is not None:  # -> (1 or N*h, L, S)
        if attn_mask.ndim == 2:
            if attn_mask.shape != (target, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                                   f"be {(target, source)}.")
            attn_mask = attn_mask[None]
        elif attn_mask.shape != (n * num_heads, target, source):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(n * num_heads, target, source)}.")

    if bias_k is not None and bias_v is not None:  # one more key/value step, the same for all
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(1, n, embed_dim)])  # (S+1, N, E)
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(1, n, embed_dim)])
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # Heads to the batch axis: (L, N, E) -> (L, N*h, d) -> (N*h, L, d).
    q = q.reshape(target, n * num_heads, head_dim).transpose(0, 1)
    k, v = [_head_batch(x, static, name, n * num_heads, head_dim)
            for x, static, name in ((k, static_k, "static_k"), (v, static_v, "static_v"))]
    if add_zero_attn:  # one more all-zero key/value: (N*h, S, d) -> (N*h, S+1, d)
        zeros = Tensor._make(np.zeros((n * num_heads, 1, head_dim), dtype=k.dtype), False, None)
        k, v = cat([k, zeros], dim=1), cat([v, zeros.to(v.dtype)], dim=1)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    source = k.shape[1]

    if key_padding_mask is not None:  # (N, S) -> (N*h, 1, S), added to attn_mask
        if key_padding_mask.shape != (n, source):
            raise AssertionError(f"expecting key_padding_mask shape of {(n, source)}, but got "
                                 f"{key_padding_mask.shape}")
        padding = np.broadcast_to(key_padding_mask[:, None, None, :], (n, num_heads, 1, source))
        padding = padding.reshape(n * num_heads, 1, source)
        attn_mask = padding if attn_mask is None else attn_mask + padding

    scores = matmul(q * (1.0 / math.sqrt(head_dim)), k.transpose(1, 2))  # (N*h, L, S)
    if attn_mask is not None:
        scores = scores + Tensor._make(attn_mask, False, None)
    weights = softmax(scores, dim=-1)
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    heads = matmul(weights, v)  # (N*h, L, d)
    # (N*h, L, d) -> (L, N*h, d) -> (L, N, E)
    output = linear(heads.transpose(0, 1).reshape(target, n, embed_dim), out_proj_weight,
                    out_proj_bias)
    if not batched:
        output = output.squeeze(1)
    if not need_weights:
        return output, None
    weights = weights.reshape(n, num_heads, target, source)
    if average_attn_weights:
        weights = weights.mean(dim=1)  # (N, L, S)
    return output, (weights if batched else weights.squeeze(0))


def _head_batch(x, static, name, batch_heads, head_dim):
    """(S, N, E) -> (N*h, S, d), or the given static (N*h, S, d) tensor after checking it."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static
