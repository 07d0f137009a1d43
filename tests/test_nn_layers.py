"""Layers that need no compiled kernel: Linear, activations, dropout, reshaping, losses.

Each module is checked against the functional op it wraps, plus argument and
input-shape validation.
"""
import numpy as np
import pytest
from scipy.special import expit

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn


def test_linear_module_matches_functional_and_numpy(rng):
    layer = nn.Linear(4, 3)
    x = minigrad.tensor(rng.standard_normal((2, 5, 4)).astype(np.float32))
    out = layer(x)
    assert out.shape == (2, 5, 3)
    np.testing.assert_allclose(out.array, F.linear(x, layer.weight, layer.bias).array)
    np.testing.assert_allclose(out.array, x.array @ layer.weight.array.T + layer.bias.array, rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(layer.bias.grad.array, np.full(3, 10.0))
    np.testing.assert_allclose(layer.weight.grad.array, np.tile(x.array.reshape(-1, 4).sum(0), (3, 1)),
                               rtol=1e-5)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]


def test_linear_gradcheck_in_float64(rng):
    layer = nn.Linear(3, 2).double()
    x = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda a, w, b: F.linear(a, w, b), [x, layer.weight, layer.bias])


def test_linear_wrong_input_and_bad_arguments():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"expected input with 4 features.*\(2, 5\)"):
        layer(minigrad.randn(2, 5))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, 2.5)


@pytest.mark.parametrize("module, function", [
    (nn.ReLU(), lambda x: F.relu(x)),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.GELU(), lambda x: F.gelu(x)),
    (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    (nn.SiLU(), lambda x: F.silu(x)),
    (nn.Sigmoid(), lambda x: F.sigmoid(x)),
    (nn.Tanh(), lambda x: F.tanh(x)),
    (nn.Softmax(dim=1), lambda x: F.softmax(x, 1)),
    (nn.LogSoftmax(dim=-1), lambda x: F.log_softmax(x, -1)),
    (nn.Identity(), lambda x: x),
])
def test_activation_modules_match_functional(rng, module, function):
    x = minigrad.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(module(x).array, function(x).array)


def test_sigmoid_module_value(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(nn.Sigmoid()(minigrad.tensor(x)).array, expit(x), rtol=1e-6)


def test_prelu_module():
    layer = nn.PReLU(3, init=0.1)
    assert layer.weight.shape == (3,) and np.allclose(layer.weight.array, 0.1)
    x = minigrad.tensor(-np.ones((2, 3, 2), dtype=np.float32))
    np.testing.assert_allclose(layer(x).array, -0.1)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.array, [-4, -4, -4])
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="3 channels"):
        layer(minigrad.randn(2, 4))


def test_dropout_train_eval_switch():
    layer = nn.Dropout(0.5)
    x = minigrad.ones(100, 100)
    train_out = layer(x)
    assert 0.4 < (train_out.array == 0).mean() < 0.6
    layer.eval()
    assert layer(x) is x
    model = nn.Sequential(nn.Linear(10, 10), nn.Dropout2d(0.5))
    model.eval()
    y = minigrad.randn(2, 10, 3, 3)
    assert model[1](y) is y
    for p in (-0.1, 1.01, "0.5"):
        with pytest.raises(ValueError, match="p has to be between 0 and 1"):
            nn.Dropout(p)
    with pytest.warns(UserWarning, match="2-D input"):  # PyTorch's mnist_rnn example does this
        assert nn.Dropout2d()(minigrad.randn(2, 3)).shape == (2, 3)


def test_flatten_unflatten():
    x = minigrad.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (6, 10))(nn.Flatten()(x)).shape == (2, 6, 10)
    assert nn.Unflatten(2, (2, -1))(x).shape == (2, 3, 2, 2, 5)
    with pytest.raises(ValueError, match="cannot split"):
        nn.Unflatten(1, (4, 4))(minigrad.randn(2, 10))
    with pytest.raises(ValueError, match="unflattened_size"):
        nn.Unflatten(1, (0, 4))


def test_loss_modules_match_functional(rng):
    logits = minigrad.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    labels = minigrad.tensor([0, 2, 1, 1, 0])
    weight = minigrad.tensor([1.0, 2.0, 0.5])
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
    loss = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1, ignore_index=2)
    assert loss(logits, labels).item() == F.cross_entropy(
        logits, labels, weight=weight, label_smoothing=0.1, ignore_index=2).item()
    assert list(loss.state_dict()) == ["weight"]
    logp = F.log_softmax(logits, 1)
    assert nn.NLLLoss(reduction="sum")(logp, labels).item() == F.nll_loss(logp, labels, reduction="sum").item()
    y = minigrad.tensor(rng.uniform(size=(5, 3)).astype(np.float32))
    assert nn.MSELoss()(logits, y).item() == F.mse_loss(logits, y).item()
    assert nn.L1Loss(reduction="sum")(logits, y).item() == F.l1_loss(logits, y, reduction="sum").item()
    assert nn.SmoothL1Loss(beta=0.5)(logits, y).item() == F.smooth_l1_loss(logits, y, beta=0.5).item()
    p = logits.sigmoid()
    assert nn.BCELoss()(p, y).item() == F.binary_cross_entropy(p, y).item()
    pos_weight = minigrad.tensor([1.0, 2.0, 3.0])
    assert nn.BCEWithLogitsLoss(pos_weight=pos_weight)(logits, y).item() == \
        F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight).item()
    assert nn.KLDivLoss(reduction="batchmean")(logp, F.softmax(y, 1)).item() == \
        F.kl_div(logp, F.softmax(y, 1), reduction="batchmean").item()
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_training_step_reduces_cross_entropy(rng):
    """A tiny end-to-end check: two Linear layers learn a separable problem."""
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    inputs, labels = minigrad.tensor(x), minigrad.tensor(y)
    first = None
    for _ in range(60):
        loss = loss_fn(model(inputs), labels)
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        with minigrad.no_grad():
            for p in model.parameters():
                p.array -= 0.5 * p.grad.array
    assert loss.item() < 0.3 * first
