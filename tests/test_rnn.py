"""Recurrent layers against a NumPy reference of PyTorch's equations, and gradcheck."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck, nn


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_step(mode, x, state, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's documented equations, one time step, in NumPy."""
    gx, gh = x @ w_ih.T + b_ih, (state[0] if mode == "LSTM" else state) @ w_hh.T + b_hh
    if mode == "LSTM":
        i, f, g, o = np.split(gx + gh, 4, axis=-1)
        c = sigmoid(f) * state[1] + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c
    if mode == "GRU":
        (xr, xz, xn), (hr, hz, hn) = np.split(gx, 3, axis=-1), np.split(gh, 3, axis=-1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1 - z) * n + z * state
    return np.tanh(gx + gh) if mode == "RNN_TANH" else np.maximum(gx + gh, 0)


def reference_forward(module, x, h0, c0=None):
    """x (L, N, I); h0 (layers*D, N, H). Returns output, h_n (, c_n)."""
    mode, weights = module.mode, dict((k, v.array) for k, v in module.named_parameters())
    directions = 2 if module.bidirectional else 1
    layer_input, h_n, c_n = x, [], []
    for k in range(module.num_layers):
        outs = []
        for d, suffix in enumerate(["", "_reverse"][:directions]):
            w = [weights.get(f"{n}_l{k}{suffix}", 0.0) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            state = (h0[k * directions + d], c0[k * directions + d]) if mode == "LSTM" else h0[k * directions + d]
            out = [None] * len(x)
            for t in (range(len(x) - 1, -1, -1) if d else range(len(x))):
                state = reference_step(mode, layer_input[t], state, *w)
                out[t] = state[0] if mode == "LSTM" else state
            outs.append(np.stack(out))
            h_n.append(state[0] if mode == "LSTM" else state)
            if mode == "LSTM":
                c_n.append(state[1])
        layer_input = np.concatenate(outs, axis=-1)
    return layer_input, np.stack(h_n), (np.stack(c_n) if c_n else None)


CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(num_layers=2, bidirectional=True, bias=False)]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS)
def test_matches_numpy_reference(cls, config):
    minigrad.manual_seed(0)
    module = getattr(nn, cls)(3, 4, **config)
    rng = np.random.default_rng(1)
    directions = 2 if module.bidirectional else 1
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    h0 = rng.standard_normal((module.num_layers * directions, 2, 4)).astype(np.float32)
    c0 = rng.standard_normal(h0.shape).astype(np.float32)
    if cls == "LSTM":
        output, (h_n, c_n) = module(Tensor(x), (Tensor(h0), Tensor(c0)))
        expected_out, expected_h, expected_c = reference_forward(module, x, h0, c0)
        np.testing.assert_allclose(c_n.array, expected_c, rtol=1e-5, atol=1e-6)
    else:
        output, h_n = module(Tensor(x), Tensor(h0))
        expected_out, expected_h, _ = reference_forward(module, x, h0)
    assert output.shape == (5, 2, 4 * directions) and h_n.shape == h0.shape
    np.testing.assert_allclose(output.array, expected_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_n.array, expected_h, rtol=1e-5, atol=1e-6)


def test_relu_nonlinearity_and_batch_first_and_unbatched():
    minigrad.manual_seed(0)
    rnn = nn.RNN(3, 4, nonlinearity="relu", batch_first=True)
    x = np.random.default_rng(2).standard_normal((2, 6, 3)).astype(np.float32)
    output, h_n = rnn(Tensor(x))
    expected, expected_h, _ = reference_forward(rnn, x.transpose(1, 0, 2), np.zeros((1, 2, 4), np.float32))
    np.testing.assert_allclose(output.array, expected.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    single, h_single = rnn(Tensor(x[0]))  # unbatched: (L, input_size)
    assert single.shape == (6, 4) and h_single.shape == (1, 4)
    np.testing.assert_allclose(single.array, expected[:, 0], rtol=1e-5, atol=1e-6)


def test_state_dict_keys_shapes_and_init_match_pytorch():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    keys = list(lstm.state_dict())
    assert keys[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                        "bias_hh_l0_reverse"]
    assert len(keys) == 16
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_ih_l1.shape == (20, 10)
    assert nn.GRU(3, 5).weight_hh_l0.shape == (15, 5)
    bound = 1 / math.sqrt(5)
    values = np.concatenate([p.array.ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert len(lstm.all_weights) == 4 and len(lstm.all_weights[0]) == 4


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_backward_through_time_gradcheck(cls):
    minigrad.manual_seed(0)
    module = getattr(nn, cls)(2, 3, num_layers=2, bidirectional=True).double()
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = Tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    if cls == "LSTM":
        c0 = Tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
        assert gradcheck(lambda x, h, c: module(x, (h, c))[0], (x, h0, c0))
    else:
        assert gradcheck(lambda x, h: module(x, h)[0], (x, h0))

    # The weights' gradients, against central differences of the same loss.
    weights = rng.standard_normal((3, 2, 6))

    def loss():
        return (module(x.detach())[0] * Tensor(weights)).sum()
    module.zero_grad()
    loss().backward()
    for name in ("weight_hh_l0", "weight_ih_l1_reverse", "bias_hh_l1"):
        parameter = getattr(module, name)
        numerical = np.zeros(parameter.shape)
        flat = parameter.array.reshape(-1)
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + 1e-6
            with minigrad.no_grad():
                plus = loss().item()
            flat[k] = original - 1e-6
            with minigrad.no_grad():
                minus = loss().item()
            flat[k] = original
            numerical.reshape(-1)[k] = (plus - minus) / 2e-6
        np.testing.assert_allclose(parameter.grad.array, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cls, mode", [("RNNCell", "RNN_TANH"), ("LSTMCell", "LSTM"), ("GRUCell", "GRU")])
def test_cells_match_reference_and_gradcheck(cls, mode):
    minigrad.manual_seed(0)
    cell = getattr(nn, cls)(3, 4).double()
    rng = np.random.default_rng(4)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    w = [cell.weight_ih.array, cell.weight_hh.array, cell.bias_ih.array, cell.bias_hh.array]
    if mode == "LSTM":
        c = rng.standard_normal((2, 4))
        h1, c1 = cell(Tensor(x), (Tensor(h), Tensor(c)))
        eh, ec = reference_step(mode, x, (h, c), *w)
        np.testing.assert_allclose(c1.array, ec, rtol=1e-12)
        assert gradcheck(lambda x, h, c: cell(x, (h, c)),
                         (Tensor(x, requires_grad=True), Tensor(h, requires_grad=True), Tensor(c, requires_grad=True)))
    else:
        h1 = cell(Tensor(x), Tensor(h))
        eh = reference_step(mode, x, h, *w)
        assert gradcheck(lambda x, h: cell(x, h), (Tensor(x, requires_grad=True), Tensor(h, requires_grad=True)))
    np.testing.assert_allclose(h1.array, eh, rtol=1e-12)
    unbatched = cell(Tensor(x[0]))
    assert (unbatched[0] if mode == "LSTM" else unbatched).shape == (4,)


def test_dropout_between_layers_only_in_training():
    minigrad.manual_seed(0)
    gru = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = Tensor(np.random.default_rng(5).standard_normal((4, 2, 3)).astype(np.float32))
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.array, b.array)
    gru.train()
    c, _ = gru(x)
    assert not np.allclose(a.array, c.array)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(minigrad.zeros(5, 2, 7))
    with pytest.raises(RuntimeError, match=r"expected h_0 size \(1, 2, 4\)"):
        lstm(minigrad.zeros(5, 2, 3), (minigrad.zeros(1, 3, 4), minigrad.zeros(1, 2, 4)))
