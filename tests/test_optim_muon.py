"""Muon against a NumPy re-derivation through the SVD, and Newton-Schulz against its closed form.

Each Newton-Schulz step X <- a X + (b XX^T + c (XX^T)^2) X keeps the singular
vectors of X and maps each singular value s to p(s) = a s + b s^3 + c s^5, so
the reference below computes the orthogonalised update as U diag(p^k(s / ||G||_F)) V^T
from np.linalg.svd: it shares no code (and no matrix products) with minigrad.optim.muon.
"""
import copy
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim

DEFAULT_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz_reference(g, coefficients=DEFAULT_COEFFICIENTS, steps=5, eps=1e-7):
    a, b, c = coefficients
    u, s, vt = np.linalg.svd(g, full_matrices=False)
    s = s / max(np.sqrt(np.sum(g * g)), eps)
    for _ in range(steps):
        s = a * s + b * s ** 3 + c * s ** 5
    return (u * s) @ vt


def muon_reference(theta, g, state, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                   ns_coefficients=DEFAULT_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None):
    buf = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0 * g) \
        + (1 - momentum) * g
    update = (1 - momentum) * g + momentum * buf if nesterov else buf
    update = newton_schulz_reference(update, ns_coefficients, ns_steps, eps)
    rows, cols = theta.shape
    ratio = {None: math.sqrt(max(1, rows / cols)), "original": math.sqrt(max(1, rows / cols)),
             "match_rms_adamw": 0.2 * math.sqrt(max(rows, cols))}[adjust_lr_fn]
    return theta * (1 - lr * weight_decay) - lr * ratio * update


def run_both(shape, steps=6, seed=0, dtype=np.float64, **kwargs):
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(shape).astype(dtype)
    param = minigrad.tensor(theta0.copy(), requires_grad=True)
    opt = optim.Muon([param], **kwargs)
    theta, state = theta0.astype(np.float64), {}
    for _ in range(steps):
        g = rng.standard_normal(shape).astype(dtype)
        param.grad = minigrad.tensor(g)
        opt.step()
        theta = muon_reference(theta, g.astype(np.float64), state, **kwargs)
    return param, opt, theta, state


@pytest.mark.parametrize("shape,kwargs", [
    ((4, 6), {}),
    ((7, 3), dict(nesterov=False, adjust_lr_fn="match_rms_adamw", lr=0.02)),
    ((5, 5), dict(momentum=0.5, weight_decay=0.0, ns_steps=3, adjust_lr_fn="original")),
    ((9, 4), dict(lr=0.1, weight_decay=0.3, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3)),
])
def test_update_matches_svd_reference(shape, kwargs):
    param, opt, theta, state = run_both(shape, **kwargs)
    np.testing.assert_allclose(param.array, theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(opt.state[param]["momentum_buffer"].array, state["momentum_buffer"],
                               rtol=1e-12, atol=1e-14)


def test_float32_parameters_stay_float32():
    param, opt, theta, _ = run_both((6, 4), dtype=np.float32, lr=0.05)
    assert param.array.dtype == np.float32
    assert opt.state[param]["momentum_buffer"].array.dtype == np.float32
    np.testing.assert_allclose(param.array, theta, rtol=1e-4, atol=1e-5)


def test_defaults_match_pytorch():
    param = minigrad.zeros(3, 2, requires_grad=True)
    assert optim.Muon([param]).defaults == dict(
        lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
        ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)


@pytest.mark.parametrize("shape", [(8, 8), (6, 10), (12, 5), (30, 20)])
def test_default_newton_schulz_singular_values_near_one(shape):
    from minigrad.optim.muon import zeropower_via_newtonschulz
    g = np.random.default_rng(1).standard_normal(shape)
    out = zeropower_via_newtonschulz(g, DEFAULT_COEFFICIENTS, 5, 1e-7)
    assert out.shape == shape
    singular = np.linalg.svd(out, compute_uv=False)
    assert singular.min() > 0.6 and singular.max() < 1.2, singular
    # and the singular vectors are G's (the SVD reference keeps them and maps only the values).
    np.testing.assert_allclose(out, newton_schulz_reference(g), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 5), (4, 7), (9, 3)])
def test_convergent_coefficients_give_the_polar_factor(shape):
    """(15/8, -10/8, 3/8) has p(1) = 1, p'(1) = 0: enough steps give exactly U V^T."""
    from minigrad.optim.muon import zeropower_via_newtonschulz
    rng = np.random.default_rng(2)
    u, _ = np.linalg.qr(rng.standard_normal((shape[0], shape[0])))
    v, _ = np.linalg.qr(rng.standard_normal((shape[1], shape[1])))
    k = min(shape)
    s = np.linspace(1.0, 3.0, k)                       # condition number 3
    g = (u[:, :k] * s) @ v[:, :k].T
    out = zeropower_via_newtonschulz(g, (15 / 8, -10 / 8, 3 / 8), 40, 1e-7)
    np.testing.assert_allclose(out, u[:, :k] @ v[:, :k].T, atol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(out, compute_uv=False), np.ones(k), atol=1e-10)


def test_zero_gradient_keeps_only_weight_decay():
    param = minigrad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    opt = optim.Muon([param], lr=0.1, weight_decay=0.5)
    param.grad = minigrad.zeros(2, 3, dtype=minigrad.float64)
    opt.step()                                         # X = 0 / eps stays 0: no NaN
    np.testing.assert_allclose(param.array, np.arange(6.0).reshape(2, 3) * 0.95)


def test_state_dict_layout_and_round_trip():
    param, opt, _, _ = run_both((4, 3), steps=2, lr=0.05)
    saved = opt.state_dict()
    assert list(saved["state"]) == [0]
    assert list(saved["state"][0]) == ["momentum_buffer"]
    assert saved["param_groups"] == [dict(lr=0.05, weight_decay=0.1, momentum=0.95, nesterov=True,
                                          ns_coefficients=DEFAULT_COEFFICIENTS, eps=1e-7,
                                          ns_steps=5, adjust_lr_fn=None, params=[0])]
    saved = copy.deepcopy(saved)
    clone = minigrad.tensor(param.array.copy(), requires_grad=True)
    other = optim.Muon([clone], lr=0.05)
    other.load_state_dict(saved)
    g = np.random.default_rng(5).standard_normal((4, 3))
    param.grad, clone.grad = minigrad.tensor(g), minigrad.tensor(g)
    opt.step()
    other.step()
    np.testing.assert_allclose(clone.array, param.array, rtol=1e-14)


def test_param_groups_have_their_own_hyperparameters():
    rng = np.random.default_rng(3)
    a = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    a0, b0 = a.array.copy(), b.array.copy()
    opt = optim.Muon([{"params": [a]}, {"params": [b], "lr": 0.2, "nesterov": False}], lr=0.01)
    ga, gb = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    a.grad, b.grad = minigrad.tensor(ga), minigrad.tensor(gb)
    opt.step()
    np.testing.assert_allclose(a.array, muon_reference(a0, ga, {}, lr=0.01), rtol=1e-12)
    np.testing.assert_allclose(b.array, muon_reference(b0, gb, {}, lr=0.2, nesterov=False),
                               rtol=1e-12)


def test_trains_a_linear_layer():
    minigrad.manual_seed(0)
    layer = minigrad.nn.Linear(4, 3, bias=False)
    x = minigrad.randn(32, 4)
    y = x @ minigrad.randn(4, 3)
    opt = optim.Muon(layer.parameters(), lr=0.05, weight_decay=0.0)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((layer(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_non_2d_parameters_raise(shape):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.Muon([minigrad.zeros(*shape, requires_grad=True)])


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-1e-3), "Learning rate should be >= 0"),
    (dict(momentum=-0.1), "momentum should be >= 0"),
    (dict(weight_decay=-0.1), "weight decay should be >= 0"),
    (dict(adjust_lr_fn="spectral"), "Adjust learning rate function spectral is not supported"),
])
def test_bad_hyperparameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.Muon([minigrad.zeros(2, 2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(ns_steps=100), "Number of steps must be less than 100"),
    (dict(ns_coefficients=(1.0, 2.0)), "Coefficients must be a tuple of exactly 3 values"),
])
def test_bad_newton_schulz_settings_raise_at_step(kwargs, match):
    param = minigrad.zeros(2, 2, requires_grad=True)
    opt = optim.Muon([param], **kwargs)
    param.grad = minigrad.ones(2, 2)
    with pytest.raises(ValueError, match=match):
        opt.step()
