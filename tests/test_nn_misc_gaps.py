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
