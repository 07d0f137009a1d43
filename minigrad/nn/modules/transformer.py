"""Multi-head attention and the Transformer layers (as torch.nn).

Attention with h heads of size d = embed_dim / h, for queries Q (L, E) and
keys/values K, V (S, E):

    q, k, v = Q W_q^T + b_q,  K W_k^T + b_k,  V W_v^T + b_v   (W_q, W_k, W_v stacked
                                                               in in_proj_weight (3E, E))
    per head: A = softmax(q k^T / sqrt(d) + mask)             (L, S)
              head = A v                                      (L, d)
    output = concat(heads) W_out^T + b_out                    (out_proj)

Masks follow PyTorch: a bool mask is True where attention is NOT allowed, a
float mask is added to the scores (use -inf to forbid).
"""
import copy
import math

import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.nn.modules.container import ModuleList
from minigrad.nn.modules.dropout import Dropout
from minigrad.nn.modules.linear import Linear
from minigrad.nn.modules.normalization import LayerNorm
from minigrad.ops.activation import gelu, relu, softmax
from minigrad.ops.dropout import dropout
from minigrad.ops.elementwise import where
from minigrad.ops.linalg import linear, matmul
from minigrad.tensor import Tensor, as_dtype


def _mask_array(mask, name):
    if mask is None:
        return None
    mask = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype.kind not in "bf":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are "
                        f"supported, got {mask.dtype}")
    return mask


def _apply_mask(scores, mask):
    """scores (N, h, L, S) + a bool (True = forbidden) or additive float mask."""
    if mask.dtype == np.bool_:
        return where(Tensor._make(mask, False, None), float("-inf"), scores)
    return scores + Tensor._make(mask.astype(scores.dtype), False, None)


class MultiheadAttention(Module):
    """Parameters as PyTorch: in_proj_weight (3E, E), in_proj_bias (3E,), out_proj (Linear E -> E).

    forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False) returns
    (attn_output, attn_weights): output (L, N, E) ((N, L, E) with
    batch_first, (L, E) unbatched); weights (N, L, S) averaged over heads
    (or (N, h, L, S)), None when need_weights=False.
    key_padding_mask (N, S): True (or -inf) marks keys to ignore.
    attn_mask (L, S) or (N*h, L, S).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive integer, got {value!r}")
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported "
                             "by minigrad")
        if kdim not in (None, embed_dim) or vdim not in (None, embed_dim):
            raise ValueError(f"MultiheadAttention: kdim and vdim different from embed_dim "
                             f"({embed_dim}) are not supported by minigrad, got kdim={kdim}, vdim={vdim}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.vdim = self.embed_dim
        self._qkv_same_embed_dim = True
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        dtype = factory_dtype("MultiheadAttention", device, dtype)
        self.in_proj_weight = Parameter(np.empty((3 * self.embed_dim, self.embed_dim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * self.embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _heads(self, x, which):
        """(N, T, E) -> (N, h, T, d) after projection `which` (0 = query, 1 = key, 2 = value)."""
        e = self.embed_dim
        weight = self.in_proj_weight[which * e:(which + 1) * e]
        bias = None if self.in_proj_bias is None else self.in_proj_bias[which * e:(which + 1) * e]
        n, t = x.shape[0], x.shape[1]
        return linear(x, weight, bias).reshape(n, t, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be 2-D "
                             f"(unbatched) or 3-D, got shapes {tuple(query.shape)}, "
                             f"{tuple(key.shape)}, {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: was expecting embedding dimension of "
                             f"{self.embed_dim}, but got {query.shape[-1]}")
        batched = query.ndim == 3
        if not batched:  # (L, E) -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        n, target, source = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"MultiheadAttention: key and value must have the same sequence "
                             f"length, got {key.shape[1]} and {value.shape[1]}")

        q = self._heads(query, 0) * (1.0 / math.sqrt(self.head_dim))  # (N, h, L, d)
        k, v = self._heads(key, 1), self._heads(value, 2)  # (N, h, S, d)
        scores = matmul(q, k.transpose(-2, -1))  # (N, h, L, S)

        attn_mask = _mask_array(attn_mask, "attn_mask")
        if attn_mask is None and is_causal:
            attn_mask = np.triu(np.ones((target, source), dtype=bool), 1)
        if attn_mask is not None:
            if attn_mask.shape == (target, source):
                scores = _apply_mask(scores, attn_mask)
            elif attn_mask.shape == (n * self.num_heads, target, source):
                scores = _apply_mask(scores, attn_mask.reshape(n, self.num_heads, target, source))
            else:
                raise RuntimeError(f"MultiheadAttention: attn_mask should have shape "
                                   f"{(target, source)} or {(n * self.num_heads, target, source)}, "
                                   f"got {attn_mask.shape}")
        key_padding_mask = _mask_array(key_padding_mask, "key_padding_mask")
        if key_padding_mask is not None:
            if not batched:
                key_padding_mask = key_padding_mask.reshape(1, -1)
            if key_padding_mask.shape != (n, source):
                raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of shape "
                                   f"{(n, source)}, got {key_padding_mask.shape}")
            scores = _apply_mask(scores, key_padding_mask[:, None, None, :])

        weights = softmax(scores, dim=-1)  # (N, h, L, S)
        if self.dropout > 0 and self.training:
            weights = dropout(weights, self.dropout, True)
        heads = matmul(weights, v)  # (N, h, L, d)
        output = self.out_proj(heads.permute(0, 2, 1, 3).reshape(n, target, self.embed_dim))
        if not batched:
            output = output.squeeze(0)
        elif not self.batch_first:
            output = output.transpose(0, 1)  # back to (L, N, E)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(dim=1)  # (N, L, S)
        return output, (weights if batched else weights.squeeze(0))


def _activation(name, activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise RuntimeError(f"{name}: activation should be relu/gelu, not {activation!r}")


def _check_width(name, d_model, nhead, dim_feedforward):
    for label, value in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        if not is_int(value) or value <= 0:
            raise ValueError(f"{name}: {label} must be a positive integer, got {value!r}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection.

    norm_first=False (the original post-norm): x = norm1(x + SA(x)); x = norm2(x + FF(x)).
    norm_first=True (pre-norm):                x = x + SA(norm1(x)); x = x + FF(norm2(x)).
    FF(x) = linear2(dropout(activation(linear1(x)))).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _check_width("TransformerEncoderLayer", d_model, nhead, dim_feedforward)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation("TransformerEncoderLayer", activation)
        self.batch_first = bool(batch_first)

    def _self_attention(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal and attn_mask is None)[0]
        return self.dropout1(x)

    def _feed_forward(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._self_attention(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (memory), feed-forward; residual each."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _check_width("TransformerDecoderLayer", d_model, nhead, dim_feedforward)
        options = dict(dropout=dropout, bias=bias, batch_first=batch_first, device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **options)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **options)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = bool(norm_first)
        for k in (1, 2, 3):
            setattr(self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                device=device, dtype=dtype))
            setattr(self, f"dropout{k}", Dropout(dropout))
        self.activation = _activation("TransformerDecoderLayer", activation)
        self.batch_first = bool(batch_first)

    def _self_attention(self, x, mask, padding_mask, is_causal):
        return self.dropout1(self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=padding_mask,
                                            need_weights=False,
                                            is_causal=is_causal and mask is None)[0])

    def _cross_attention(self, x, memory, mask, padding_mask):
        return self.dropout2(self.multihead_attn(x, memory, memory, attn_mask=mask,
                                                 key_padding_mask=padding_mask,
                                                 need_weights=False)[0])

    def _feed_forward(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._cross_attention(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            return x + self._feed_forward(self.norm3(x))
        x = self.norm1(x + self._self_attention(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._cross_attention(x, memory, memory_mask, memory_key_padding_mask))
        return self.norm3(x + self._feed_forward(x))


def _clones(layer, count, name):
    if not is_int(count) or count <= 0:
        raise ValueError(f"{name}: num_layers must be a positive integer, got {count!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


class TransformerEncoder(Module):
    """num_layers independent copies of encoder_layer, applied in turn (then `norm`, if given)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers, self.norm = int(num_layers), norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """num_layers independent copies of decoder_layer, applied in turn (then `norm`, if given)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers, self.norm = int(num_layers), norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal))
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder model of "Attention Is All You Need" (PyTorch's defaults)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias, device=device, dtype=dtype)
        norm = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
            LayerNorm(d_model, **norm))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
            LayerNorm(d_model, **norm))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, bool(batch_first)
        for parameter in self.parameters():  # PyTorch's _reset_parameters
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (no peeking ahead)."""
        mask = np.triu(np.full((sz, sz), -np.inf, dtype=as_dtype(dtype) or np.float32), 1)
        return Tensor._make(mask, False, None)
