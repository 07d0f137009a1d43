"""The activations of ops/pointwise_activations.py: closed forms, PyTorch's kinks, gradients."""
import numpy as np
import pytest
from scipy.special import expit

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

rng = np.random.default_rng(3)
ALPHA, SCALE = 1.6732632423543772, 1.0507009873554805


def softplus(x, beta=1.0):
    return np.log1p(np.exp(beta * x)) / beta


CLOSED_FORMS = {
    "softplus": (lambda t: F.softplus(t, beta=2.0), lambda x: softplus(x, 2.0)),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5)),
    "relu6": (lambda t: F.relu6(t * 4), lambda x: np.clip(4 * x, 0, 6)),
    "hardsigmoid": (lambda t: F.hardsigmoid(t * 4), lambda x: np.clip(4 * x + 3, 0, 6) / 6),
    "hardswish": (lambda t: F.hardswish(t * 4), lambda x: 4 * x * np.clip(4 * x + 3, 0, 6) / 6),
    "mish": (F.mish, lambda x: x * np.tanh(softplus(x))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(expit(x))),
    "selu": (F.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1))),
    "celu": (lambda t: F.celu(t, alpha=0.7),
             lambda x: np.maximum(x, 0) + np.minimum(0, 0.7 * (np.exp(x / 0.7) - 1))),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softshrink": (F.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    "hardshrink": (F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "threshold": (lambda t: F.threshold(t, 0.1, -3.0), lambda x: np.where(x > 0.1, x, -3.0)),
    "glu": (F.glu, lambda x: x[..., :2] * expit(x[..., 2:])),
    "softmin": (lambda t: F.softmin(t, dim=1), lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True)),
    "logit": (lambda t: mg.logit(t.sigmoid()), lambda x: x),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_values_and_gradients(name):
    function, reference = CLOSED_FORMS[name]
    data = rng.uniform(-2, 2, (3, 4))
    data = data[np.abs(np.abs(data) - 0.5) > 1e-3]  # away from the shrink kinks
    data = data[: (data.size // 4) * 4].reshape(-1, 4)
    np.testing.assert_allclose(function(mg.tensor(data)).numpy(), reference(data), rtol=1e-5, atol=1e-6)
    x = mg.tensor(data, dtype=mg.float64, requires_grad=True)
    mg.gradcheck(function, [x])


def test_kinks_follow_pytorch():
    x = mg.tensor([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0], requires_grad=True)
    F.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # 0 at the edges
    x.grad = None
    F.hardswish(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-0.5, 1 / 6, 0.5, 5 / 6, 1.5, 1.0], rtol=1e-6)
    x.grad = None
    F.relu6(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
    big = mg.tensor([100.0, -100.0])
    np.testing.assert_allclose(F.softplus(big).numpy(), [100.0, 0.0], atol=1e-6)  # no overflow
    np.testing.assert_allclose(F.logsigmoid(big).numpy(), [0.0, -100.0], atol=1e-6)


def test_layers_wrap_the_functions():
    x = mg.tensor(rng.standard_normal((2, 4)))
    for layer, function in ((nn.Softplus(beta=2.0), lambda t: F.softplus(t, 2.0)),
                            (nn.Hardtanh(-2.0, 2.0), lambda t: F.hardtanh(t, -2.0, 2.0)),
                            (nn.ReLU6(), F.relu6), (nn.Hardsigmoid(), F.hardsigmoid),
                            (nn.Hardswish(), F.hardswish), (nn.Mish(), F.mish), (nn.SELU(), F.selu),
                            (nn.CELU(0.5), lambda t: F.celu(t, 0.5)), (nn.LogSigmoid(), F.logsigmoid),
                            (nn.Softsign(), F.softsign), (nn.Tanhshrink(), F.tanhshrink),
                            (nn.Softshrink(0.3), lambda t: F.softshrink(t, 0.3)),
                            (nn.Hardshrink(), F.hardshrink),
                            (nn.Threshold(0.0, 1.0), lambda t: F.threshold(t, 0.0, 1.0)),
                            (nn.GLU(), F.glu), (nn.Softmin(dim=1), lambda t: F.softmin(t, 1))):
        np.testing.assert_array_equal(layer(x).numpy(), function(x).numpy())
    assert repr(nn.Hardtanh(-2.0, 2.0)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert x.softmax(-1).numpy().sum(-1).tolist() == pytest.approx([1.0, 1.0])


def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    data = rng.uniform(-4, 4, (5, 6)).astype(np.float32)
    for name in ("softplus", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "logsigmoid",
                 "selu", "celu", "softsign", "tanhshrink", "softshrink", "hardshrink", "glu"):
        want = getattr(torch.nn.functional, name)(torch.tensor(data)).numpy()
        np.testing.assert_allclose(getattr(F, name)(mg.tensor(data)).numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "silu"])
def test_integer_inputs_are_refused_not_truncated(name):
    with pytest.raises(TypeError, match=f"{name}: expected a floating-point input, got int64"):
        getattr(F, name)(mg.tensor([1, -2, 3]))
    with pytest.raises(TypeError, match="relu: input must be a Tensor, got list"):
        F.relu([1.0, -2.0])
