"""nn.Buffer, RNNBase/RNNCellBase, SyncBatchNorm, F.upsample*, F.multi_head_attention_forward."""
import copy
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck, nn
from minigrad.nn import functional as F

rng = np.random.default_rng(0)


# ------------------------------------------------------------------ nn.Buffer
class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(Tensor(np.ones(2)))
        self.stats = nn.Buffer(Tensor(np.arange(3.0)))
        self.scratch = nn.Buffer(Tensor(np.zeros(2)), persistent=False)


def test_buffer_assignment_registers_and_respects_persistent():
    m = _WithBuffers()
    assert list(m.state_dict()) == ["weight", "stats"]
    assert [n for n, _ in m.named_buffers()] == ["stats", "scratch"]
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(m.state_dict()["stats"].numpy(), [0.0, 1.0, 2.0])
    # a plain Tensor assigned afterwards keeps the name a buffer, and its persistence
    m.scratch = Tensor(np.ones(2))
    assert "scratch" not in m.state_dict() and "scratch" in dict(m.named_buffers())
    # a Buffer with persistent=True turns it persistent
    m.scratch = nn.Buffer(Tensor(np.ones(2)))
    assert list(m.state_dict()) == ["weight", "stats", "scratch"]


def test_buffer_shares_memory_and_keeps_requires_grad():
    t = Tensor(np.zeros(3), requires_grad=True)
    b = nn.Buffer(t)
    assert isinstance(b, nn.Buffer) and isinstance(b, Tensor) and b.persistent is True
    assert b.requires_grad and b.grad_fn is None
    t.array[0] = 5.0
    assert b.array[0] == 5.0
    empty = nn.Buffer()
    assert empty.shape == (0,) and empty.dtype == mg.float32
    assert not isinstance(Tensor(np.zeros(2)), nn.Buffer)
    with pytest.raises(TypeError):
        nn.Buffer(Tensor(np.zeros(2)), False)        # persistent is keyword-only
    with pytest.raises(TypeError, match="list"):
        nn.Buffer([1.0, 2.0])


def test_buffer_state_dict_roundtrip_and_copies():
    m, n = _WithBuffers(), _WithBuffers()
    n.stats.array[:] = 7.0
    m.load_state_dict(n.state_dict())
    np.testing.assert_array_equal(m.stats.numpy(), [7.0, 7.0, 7.0])
    c = copy.deepcopy(m)
    assert list(c.state_dict()) == ["weight", "stats"]
    assert "scratch" in dict(c.named_buffers())


def test_buffer_assignment_errors():
    class Early(nn.Module):
        def __init__(self):
            self.x = nn.Buffer(Tensor(np.zeros(1)))   # before super().__init__()

    with pytest.raises(AttributeError, match="__init__"):
        Early()
    m = _WithBuffers()
    m.plain = 3
    with pytest.raises(KeyError, match="plain"):
        m.plain = nn.Buffer(Tensor(np.zeros(1)))
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = nn.Buffer(Tensor(np.zeros(1)))


# ---------------------------------------------------------- RNNBase / RNNCellBase
def test_recurrent_layers_derive_from_the_base_classes():
    for layer in (nn.RNN(3, 4), nn.LSTM(3, 4), nn.GRU(3, 4)):
        assert isinstance(layer, nn.RNNBase) and not isinstance(layer, nn.RNNCellBase)
    for cell in (nn.RNNCell(3, 4), nn.LSTMCell(3, 4), nn.GRUCell(3, 4)):
        assert isinstance(cell, nn.RNNCellBase) and not isinstance(cell, nn.RNNBase)
    assert list(nn.LSTMCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert nn.GRUCell(3, 4).weight_ih.shape == (12, 3)
    assert nn.RNNCell(3, 4, nonlinearity="relu").mode == "RNN_RELU"


@pytest.mark.parametrize("mode, cls", [("LSTM", nn.LSTM), ("GRU", nn.GRU), ("RNN_TANH", nn.RNN)])
def test_rnnbase_constructed_directly_matches_the_layer(mode, cls):
    base = nn.RNNBase(mode, 3, 4, num_layers=2, bidirectional=True)
    layer = cls(3, 4, num_layers=2, bidirectional=True)
    assert list(base.state_dict()) == list(layer.state_dict())
    assert list(base.state_dict())[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    layer.load_state_dict(base.state_dict())
    x = Tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    out_base, out_layer = base(x)[0], layer(x)[0]
    np.testing.assert_allclose(out_base.detach().numpy(), out_layer.detach().numpy(), rtol=1e-6)
    assert out_base.shape == (5, 2, 8)


def test_rnncellbase_direct_and_errors():
    cell = nn.RNNCellBase(3, 5, True, 2)
    assert list(cell.state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert cell.weight_ih.shape == (10, 3) and cell.weight_hh.shape == (10, 5)
    assert nn.RNNCellBase(3, 5, False, 1).bias_ih is None
    with pytest.raises(NotImplementedError):
        cell(Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="num_chunks"):
        nn.RNNCellBase(3, 5, True, 0)
    with pytest.raises(ValueError, match="'LSTMX'"):
        nn.RNNBase("LSTMX", 3, 4)


# ------------------------------------------------------------------ SyncBatchNorm
def _bn_reference(x, weight, bias, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * weight.reshape(shape) + bias.reshape(shape), mean, x.var(axis=axes, ddof=1)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 3, 2, 2)])
def test_syncbatchnorm_is_batch_norm_on_one_process(shape):
    m = nn.SyncBatchNorm(3, eps=1e-3, momentum=0.2).double()
    m.weight.array[:] = [0.5, 2.0, -1.0]
    m.bias.array[:] = [0.1, -0.2, 0.3]
    x = rng.standard_normal(shape) * 2 + 1
    y = m(Tensor(x))
    expected, mean, unbiased = _bn_reference(x, m.weight.array, m.bias.array, 1e-3)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), 0.8 + 0.2 * unbiased, rtol=1e-12)
    assert int(m.num_batches_tracked.array) == 1
    m.eval()
    shape_c = (1, -1) + (1,) * (len(shape) - 2)
    y_eval = m(Tensor(x)).detach().numpy()
    expected_eval = ((x - m.running_mean.array.reshape(shape_c))
                     / np.sqrt(m.running_var.array.reshape(shape_c) + 1e-3)
                     * m.weight.array.reshape(shape_c) + m.bias.array.reshape(shape_c))
    np.testing.assert_allclose(y_eval, expected_eval, rtol=1e-10)


def test_syncbatchnorm_gradcheck_and_state_dict():
    m = nn.SyncBatchNorm(2).double()
    x = Tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: m(t), (x,))
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert list(nn.SyncBatchNorm(2, affine=False, track_running_stats=False).state_dict()) == []
    assert nn.SyncBatchNorm(2, process_group="group").process_group == "group"
    assert isinstance(nn.SyncBatchNorm(2), nn.modules.normalization._BatchNorm)


def test_syncbatchnorm_errors():
    m = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="at least 2D input"):
        m(Tensor(np.zeros(3, dtype=np.float32)))
    with pytest.raises(ValueError, match="3 features"):
        m(Tensor(np.zeros((2, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match="num_features"):
        nn.SyncBatchNorm(0)


def test_convert_sync_batchnorm_replaces_every_batch_norm():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3),
                        nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, affine=False)),
                        nn.BatchNorm3d(2, momentum=None, eps=1e-3))
    net[1].weight.array[:] = [1.0, 2.0, 3.0]
    net[1].running_mean.array[:] = [0.5, 0.5, 0.5]
    net[1].num_batches_tracked.array[...] = 7
    net[3].eval()
    keys = list(net.state_dict())
    old = [net[1], net[2][1], net[3]]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group="pg")
    assert converted is net                             # containers are kept, children replaced
    new = [converted[1], converted[2][1], converted[3]]
    assert all(type(m) is nn.SyncBatchNorm and m.process_group == "pg" for m in new)
    assert type(converted[0]) is nn.Conv2d and type(converted[2][0]) is nn.Linear
    assert list(converted.state_dict()) == keys
    for before, after in zip(old, new):
        assert (after.num_features, after.eps, after.momentum, after.affine) == \
               (before.num_features, before.eps, before.momentum, before.affine)
        assert after.weight is before.weight and after.bias is before.bias
        assert after.running_mean is before.running_mean
        assert after.num_batches_tracked is before.num_batches_tracked
        assert after.training == before.training
    assert new[2].training is False and new[2].momentum is None and new[1].weight is None
    assert int(new[0].num_batches_tracked.array) == 7
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(5))
    assert type(single) is nn.SyncBatchNorm and single.num_features == 5


# ------------------------------------------------------------------ F.upsample*
def test_upsample_functions_warn_and_match_interpolate():
    x = Tensor(rng.standard_normal((2, 3, 4, 5)))
    cases = [
        (lambda: F.upsample(x, scale_factor=2, mode="bilinear", align_corners=False),
         F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), "upsample`"),
        (lambda: F.upsample(x, size=(7, 3)), F.interpolate(x, size=(7, 3)), "upsample`"),
        (lambda: F.upsample_nearest(x, scale_factor=3),
         F.interpolate(x, scale_factor=3, mode="nearest"), "upsample_nearest`"),
        (lambda: F.upsample_bilinear(x, size=(6, 9)),
         F.interpolate(x, size=(6, 9), mode="bilinear", align_corners=True), "upsample_bilinear`"),
    ]
    for call, expected, name in cases:
        with pytest.warns(UserWarning, match=f"nn.functional.{name} is deprecated"):
            out = call()
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_upsample_bilinear_aligns_corners():
    # align_corners=True: out[i] = in at i * (in - 1) / (out - 1); a ramp stays a ramp.
    ramp = np.arange(3.0)[None, None, :, None] * np.ones((1, 1, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.upsample_bilinear(Tensor(ramp), size=(5, 2)).numpy()
    np.testing.assert_allclose(out[0, 0, :, 0], [0.0, 0.5, 1.0, 1.5, 2.0])
    x = Tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda t: F.upsample_bilinear(t, scale_factor=2), (x,))


def test_upsample_errors_come_from_interpolate():
    x = Tensor(np.zeros((1, 1, 2, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            F.upsample(x, size=3, scale_factor=2)
        with pytest.raises(ValueError):
            F.upsample_nearest(x)


# ------------------------------------------------------- F.multi_head_attention_forward
E, HEADS = 6, 3


def _mha_args(mha):
    return (E, HEADS, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0,
            mha.out_proj.weight, mha.out_proj.bias)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _numpy_mha(q, k, v, W, b, Wo, bo, mask=None):
    """q (L, N, E), k/v (S, N, E) -> (output (L, N, E), weights (N, h, L, S)); mask (N, h, L, S)."""
    d = E // HEADS
    proj = [x @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i, x in enumerate((q, k, v))]
    qh, kh, vh = [p.reshape(p.shape[0], p.shape[1], HEADS, d).transpose(1, 2, 0, 3) for p in proj]
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d) + (0 if mask is None else mask)
    weights = _softmax(scores)                                     # (N, h, L, S)
    heads = (weights @ vh).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], E)
    return heads @ Wo.T + bo, weights


@pytest.mark.parametrize("batched", [True, False])
def test_mha_forward_matches_the_module(batched):
    mha = nn.MultiheadAttention(E, HEADS).double()
    mha.in_proj_bias.array[:] = rng.standard_normal(3 * E)
    shape = (4, 2, E) if batched else (4, E)
    q, kv = Tensor(rng.standard_normal(shape)), Tensor(rng.standard_normal(shape[:-1] + (E,)))
    k = Tensor(rng.standard_normal((5,) + shape[1:]))
    v = Tensor(rng.standard_normal((5,) + shape[1:]))
    mask = np.triu(np.ones((4, 5), dtype=bool), 1)
    padding = np.array([[0, 0, 0, 1, 0], [0, 0, 0, 0, 1]], dtype=bool) if batched \
        else np.array([0, 1, 0, 0, 0], dtype=bool)
    for kwargs in ({}, {"attn_mask": Tensor(mask)}, {"key_padding_mask": Tensor(padding)},
                   {"attn_mask": Tensor(mask), "is_causal": True, "average_attn_weights": False}):
        expected = mha(q, k, v, **kwargs)
        got = F.multi_head_attention_forward(q, k, v, *_mha_args(mha), training=False, **kwargs)
        np.testing.assert_allclose(got[0].detach().numpy(), expected[0].detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(got[1].detach().numpy(), expected[1].detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    self_attention = F.multi_head_attention_forward(kv, kv, kv, *_mha_args(mha), need_weights=False)
    assert self_attention[1] is None
    np.testing.assert_allclose(self_attention[0].detach().numpy(),
                               mha(kv, kv, kv)[0].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mha_forward_against_numpy_with_masks_and_separate_weights():
    q, k, v = (rng.standard_normal((t, 2, E)) for t in (4, 5, 5))
    W, b = rng.standard_normal((3 * E, E)), rng.standard_normal(3 * E)
    Wo, bo = rng.standard_normal((E, E)), rng.standard_normal(E)
    attn = rng.standard_normal((2 * HEADS, 4, 5))
    padding = np.array([[0.0, 0.0, -np.inf, 0.0, 0.0], [0.0, 0.5, 0.0, 0.0, 0.0]])
    mask = attn.reshape(2, HEADS, 4, 5) + padding[:, None, None, :]
    expected, weights = _numpy_mha(q, k, v, W, b, Wo, bo, mask)
    T = Tensor
    out, w = F.multi_head_attention_forward(
        T(q), T(k), T(v), E, HEADS, None, T(b), None, None, False, 0.0, T(Wo), T(bo),
        key_padding_mask=T(padding), attn_mask=T(attn), average_attn_weights=False,
        use_separate_proj_weight=True, q_proj_weight=T(W[:E]), k_proj_weight=T(W[E:2 * E]),
        v_proj_weight=T(W[2 * E:]))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), weights, rtol=1e-10, atol=1e-14)
    assert w.numpy()[0, :, :, 2].max() == 0.0            # the padded key gets no weight


def test_mha_forward_bias_kv_zero_attn_and_static_kv():
    q, k, v = (rng.standard_normal((t, 2, E)) for t in (3, 4, 4))
    W, b = rng.standard_normal((3 * E, E)), rng.standard_normal(3 * E)
    Wo, bo = rng.standard_normal((E, E)), rng.standard_normal(E)
    bias_k, bias_v = rng.standard_normal((1, 1, E)), rng.standard_normal((1, 1, E))
    # bias_k/v: one more projected key/value (S + 1); add_zero_attn: then one zero key/value (S + 2)
    d = E // HEADS
    proj = [x @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i, x in enumerate((q, k, v))]
    kp = np.concatenate([proj[1], np.broadcast_to(bias_k, (1, 2, E))])
    vp = np.concatenate([proj[2], np.broadcast_to(bias_v, (1, 2, E))])
    qh, kh, vh = [x.reshape(x.shape[0], 2, HEADS, d).transpose(1, 2, 0, 3) for x in (proj[0], kp, vp)]
    kh = np.concatenate([kh, np.zeros((2, HEADS, 1, d))], axis=2)
    vh = np.concatenate([vh, np.zeros((2, HEADS, 1, d))], axis=2)
    weights = _softmax(qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d))   # (N, h, L, S + 2)
    expected = (weights @ vh).transpose(2, 0, 1, 3).reshape(3, 2, E) @ Wo.T + bo
    T = Tensor
    out, w = F.multi_head_attention_forward(T(q), T(k), T(v), E, HEADS, T(W), T(b), T(bias_k),
                                            T(bias_v), True, 0.0, T(Wo), T(bo))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), weights.mean(axis=1), rtol=1e-10)
    assert w.shape == (2, 3, 6)
    # static_k/static_v (N*h, S', d) replace the projected keys and values
    sk, sv = rng.standard_normal((2 * HEADS, 7, d)), rng.standard_normal((2 * HEADS, 7, d))
    qs = proj[0].reshape(3, 2 * HEADS, d).transpose(1, 0, 2)
    ws = _softmax(qs @ sk.transpose(0, 2, 1) / np.sqrt(d))
    expected = (ws @ sv).transpose(1, 0, 2).reshape(3, 2, E) @ Wo.T + bo
    out, w = F.multi_head_attention_forward(T(q), T(k), T(v), E, HEADS, T(W), T(b), None, None,
                                            False, 0.0, T(Wo), T(bo), static_k=T(sk), static_v=T(sv))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    assert w.shape == (2, 3, 7)


def test_mha_forward_gradcheck_and_dropout():
    q, k = Tensor(rng.standard_normal((3, 2, E)), requires_grad=True), \
        Tensor(rng.standard_normal((4, 2, E)), requires_grad=True)
    W = Tensor(rng.standard_normal((3 * E, E)) * 0.5, requires_grad=True)
    b = Tensor(rng.standard_normal(3 * E), requires_grad=True)
    bk = Tensor(rng.standard_normal((1, 1, E)), requires_grad=True)
    bv = Tensor(rng.standard_normal((1, 1, E)), requires_grad=True)
    Wo, bo = Tensor(rng.standard_normal((E, E)), requires_grad=True), Tensor(np.zeros(E))
    mask = Tensor(np.array([[0, 0, 1, 0], [0, 0, 0, 0]], dtype=bool))

    def f(q, k, W, b, bk, bv, Wo):
        return F.multi_head_attention_forward(q, k, k, E, HEADS, W, b, bk, bv, True, 0.0, Wo, bo,
                                              key_padding_mask=mask)[0]

    assert gradcheck(f, (q, k, W, b, bk, bv, Wo))
    args = (q, k, k, E, HEADS, W, b, None, None, False, 0.5, Wo, bo)
    mg.manual_seed(0)
    dropped = F.multi_head_attention_forward(*args)[1]
    kept = F.multi_head_attention_forward(*args, training=False)[1]
    assert not np.allclose(dropped.detach().numpy(), kept.detach().numpy())
    np.testing.assert_allclose(kept.detach().numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_forward_errors():
    x = Tensor(rng.standard_normal((3, 2, E)))
    W, Wo = Tensor(np.zeros((3 * E, E))), Tensor(np.zeros((E, E)))

    def call(q=x, k=x, v=x, embed=E, heads=HEADS, w=W, bias_k=None, bias_v=None, **kwargs):
        return F.multi_head_attention_forward(q, k, v, embed, heads, w, None, bias_k, bias_v, False,
                                              0.0, Wo, None, **kwargs)

    with pytest.raises(AssertionError, match="expecting embedding dimension of 8"):
        call(embed=8)
    with pytest.raises(AssertionError, match="not divisible by num_heads 4"):
        call(heads=4)
    with pytest.raises(AssertionError, match="4-D query"):
        call(q=x.unsqueeze(0))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        call(k=x[0])
    with pytest.raises(AssertionError, match="does not match value shape"):
        call(v=x[:2])
    with pytest.raises(AssertionError, match="in_proj_weight is None"):
        call(w=None)
    with pytest.raises(AssertionError, match="k_proj_weight is None"):
        call(use_separate_proj_weight=True, q_proj_weight=Wo)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(3, 2\)"):
        call(attn_mask=Tensor(np.zeros((3, 2))))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        call(is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        call(attn_mask=Tensor(np.zeros((3, 3), dtype=np.int64)))
    with pytest.raises(AssertionError, match="bias_k is set but bias_v is None"):
        call(bias_k=Tensor(np.zeros((1, 1, E))))
    with pytest.raises(AssertionError, match=r"key_padding_mask shape of \(2, 3\)"):
        call(key_padding_mask=Tensor(np.zeros((2, 4), dtype=bool)))
    with pytest.raises(AssertionError, match=r"static_k.size\(0\) of 6"):
        call(static_k=Tensor(np.zeros((5, 3, 2))))
