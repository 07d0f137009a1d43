"""MultiheadAttention and Transformer layers against NumPy references, and gradcheck."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck, nn


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference_attention(mha, q, k, v, additive_mask=None):
    """q (L, E), k/v (S, E) for one batch element -> output (L, E), head-averaged weights (L, S)."""
    e, h = mha.embed_dim, mha.num_heads
    d = e // h
    w, b = mha.in_proj_weight.array, mha.in_proj_bias.array
    Q, K, V = q @ w[:e].T + b[:e], k @ w[e:2 * e].T + b[e:2 * e], v @ w[2 * e:].T + b[2 * e:]
    heads, weights = [], []
    for j in range(h):
        s = Q[:, j * d:(j + 1) * d] @ K[:, j * d:(j + 1) * d].T / np.sqrt(d)
        if additive_mask is not None:
            s = s + additive_mask
        a = softmax(s)
        weights.append(a)
        heads.append(a @ V[:, j * d:(j + 1) * d])
    out = np.concatenate(heads, -1) @ mha.out_proj.weight.array.T + mha.out_proj.bias.array
    return out, np.mean(weights, 0)


def test_multihead_attention_matches_reference_with_masks():
    minigrad.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2).double()
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    padding = np.array([[False] * 4, [False, False, True, True]])
    causal = np.triu(np.ones((5, 4), bool), 1)
    out, weights = mha(Tensor(q), Tensor(k), Tensor(k), key_padding_mask=Tensor(padding),
                       attn_mask=Tensor(causal))
    assert out.shape == (5, 2, 8) and weights.shape == (2, 5, 4)
    for n in range(2):
        forbidden = causal | padding[n][None, :]
        expected, expected_w = reference_attention(mha, q[:, n], k[:, n], k[:, n],
                                                   np.where(forbidden, -np.inf, 0.0))
        np.testing.assert_allclose(out.array[:, n], expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weights.array[n], expected_w, rtol=1e-10, atol=1e-12)
    assert np.all(weights.array[1][:, 2:] == 0)


def test_multihead_attention_batch_first_unbatched_and_state_dict():
    minigrad.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3, batch_first=True).double()
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    x = np.random.default_rng(1).standard_normal((2, 4, 6))
    out, weights = mha(Tensor(x), Tensor(x), Tensor(x), average_attn_weights=False)
    assert out.shape == (2, 4, 6) and weights.shape == (2, 3, 4, 4)
    expected, _ = reference_attention(mha, x[1], x[1], x[1])
    np.testing.assert_allclose(out.array[1], expected, rtol=1e-10)
    single, _ = mha(Tensor(x[1]), Tensor(x[1]), Tensor(x[1]))
    np.testing.assert_allclose(single.array, expected, rtol=1e-10)
    none_out, none_weights = mha(Tensor(x), Tensor(x), Tensor(x), need_weights=False)
    assert none_weights is None


def test_multihead_attention_gradcheck():
    minigrad.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2).double()
    rng = np.random.default_rng(2)
    q = Tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    kv = Tensor(rng.standard_normal((5, 2, 4)), requires_grad=True)
    mask = Tensor(rng.standard_normal((3, 5)))
    assert gradcheck(lambda q, kv: mha(q, kv, kv, attn_mask=mask)[0], (q, kv))


def layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.eps) * norm.weight.array + norm.bias.array


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_reference(norm_first):
    minigrad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first,
                                       batch_first=True).double()
    x = np.random.default_rng(3).standard_normal((1, 5, 8))
    out = layer(Tensor(x)).array[0]

    def attention(y):
        return reference_attention(layer.self_attn, y, y, y)[0]

    def feed_forward(y):
        hidden = np.maximum(y @ layer.linear1.weight.array.T + layer.linear1.bias.array, 0)
        return hidden @ layer.linear2.weight.array.T + layer.linear2.bias.array
    y = x[0]
    if norm_first:
        y = y + attention(layer_norm(y, layer.norm1))
        y = y + feed_forward(layer_norm(y, layer.norm2))
    else:
        y = layer_norm(y + attention(y), layer.norm1)
        y = layer_norm(y + feed_forward(y), layer.norm2)
    np.testing.assert_allclose(out, y, rtol=1e-9, atol=1e-10)


def test_encoder_stack_decoder_and_transformer_shapes_and_gradients():
    minigrad.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1), num_layers=2)
    assert "layers.1.self_attn.in_proj_weight" in encoder.state_dict()
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight  # copies
    x = minigrad.randn(5, 3, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(mask.array, np.triu(np.full((5, 5), -np.inf), 1))
    out = encoder(x, mask=mask)
    assert out.shape == (5, 3, 8)
    out.sum().backward()
    assert encoder.layers[0].self_attn.in_proj_weight.grad is not None
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    y = model(minigrad.randn(5, 3, 8), minigrad.randn(4, 3, 8), tgt_mask=mask)
    assert y.shape == (4, 3, 8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    mha = nn.MultiheadAttention(4, 2)
    with pytest.raises(RuntimeError, match="attn_mask"):
        mha(minigrad.randn(3, 1, 4), minigrad.randn(3, 1, 4), minigrad.randn(3, 1, 4), attn_mask=minigrad.zeros(2, 2))
