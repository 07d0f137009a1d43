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
