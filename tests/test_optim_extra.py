"""ASGD, Adamax, NAdam, RAdam, Rprop, Adafactor, SparseAdam against NumPy references.

Each reference below is written from the published algorithm (PyTorch's
documented pseudo-code), as a per-step function of plain arrays, and does
not share code with minigrad.optim.
"""
import copy
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim

SHAPES = [(4, 5), (5,), (3, 2, 4), ()]
STEPS = 12


def make_gradients(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]
    return initial, grads


# ------------------------------------------------------------- NumPy references
def asgd_reference(theta, g, state, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                   maximize=False):
    t = state["t"] = state.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * theta
    eta = lr / (1 + lambd * lr * (t - 1)) ** alpha          # closed form of eta at step t
    mu = 1.0 if t == 1 else 1 / max(1, t - 1 - t0)           # closed form of mu at step t
    theta = theta * (1 - lambd * eta) - eta * g
    state["ax"] = theta.copy() if mu == 1 else state["ax"] + mu * (theta - state["ax"])
    return theta


def adamax_reference(theta, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     maximize=False):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    u = state["u"] = np.maximum(beta2 * state.get("u", np.zeros_like(theta)), np.abs(g) + eps)
    return theta - lr / (1 - beta1 ** t) * m / u


def nadam_reference(theta, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled_weight_decay:
        theta = theta * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * theta

    def mu(i):
        return beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay))
    product_t = np.prod([mu(i) for i in range(1, t + 1)])
    product_next = np.prod([mu(i) for i in range(1, t + 2)])
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = mu(t + 1) * m / (1 - product_next) + (1 - mu(t)) * g / (1 - product_t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def radam_reference(theta, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled_weight_decay:
        theta = theta * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t <= 5:
        return theta - lr * m_hat
    adaptive = math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return theta - lr * m_hat * rect * adaptive


def rprop_reference(theta, g, state, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50),
                    maximize=False):
    """Element by element, as the Rprop- algorithm is usually stated."""
    shape = np.shape(theta)
    g = (-g if maximize else g).reshape(-1).copy()
    theta = theta.reshape(-1).copy()
    prev = state.setdefault("prev", np.zeros_like(g))
    size = state.setdefault("size", np.full_like(g, lr))
    for i in range(g.size):
        if g[i] * prev[i] > 0:
            size[i] = min(size[i] * etas[1], step_sizes[1])
        elif g[i] * prev[i] < 0:
            size[i] = max(size[i] * etas[0], step_sizes[0])
            g[i] = 0.0
        else:
            size[i] = min(max(size[i], step_sizes[0]), step_sizes[1])
        theta[i] -= np.sign(g[i]) * size[i]
        prev[i] = g[i]
    return theta.reshape(shape)


def adafactor_reference(theta, g, state, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                        weight_decay=0.0, maximize=False):
    t = state["t"] = state.get("t", 0) + 1
    g = -g if maximize else g
    eps1 = np.finfo(theta.dtype).eps if eps[0] is None else eps[0]
    beta2_hat = 1 - t ** beta2_decay            # the weight kept on the old estimate

    def rms(x):
        return np.sqrt(np.mean(np.square(x)))
    rho = min(lr, 1 / math.sqrt(t))
    alpha = max(eps[1], rms(theta)) * rho
    theta = theta * (1 - lr * weight_decay)
    if g.ndim >= 2:
        r = state["r"] = beta2_hat * state.get("r", 0.0) + (1 - beta2_hat) * np.mean(g * g, axis=-1)
        c = state["c"] = beta2_hat * state.get("c", 0.0) + (1 - beta2_hat) * np.mean(g * g, axis=-2)
        # V[..., i, j] = r[..., i] c[..., j] / mean_i r[..., i]
        v = np.einsum("...i,...j->...ij", r, c) / np.maximum(r.mean(axis=-1), eps1)[..., None, None]
    else:
        v = state["v"] = beta2_hat * state.get("v", 0.0) + (1 - beta2_hat) * g * g
    u = g / np.sqrt(np.maximum(v, eps1 ** 2))
    return theta - alpha / max(1.0, rms(u) / d) * u


REFERENCES = {"ASGD": asgd_reference, "Adamax": adamax_reference, "NAdam": nadam_reference,
              "RAdam": radam_reference, "Rprop": rprop_reference,
              "Adafactor": adafactor_reference}

CASES = [
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, lambd=0.01, t0=0, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.2)),
    ("Adamax", dict(lr=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.1)),    # rectified from step 5 on
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.7), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.01, 0.2))),
    ("Rprop", dict(lr=0.1, maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.5, eps=(None, 0.1), maximize=True)),
]


def run_minigrad(name, hyper, dtype=np.float64, steps=STEPS, seed=0):
    initial, grads = make_gradients(seed, steps)
    params = [minigrad.tensor(a.astype(dtype), requires_grad=True) for a in initial]
    optimizer = getattr(optim, name)(params, **hyper)
    trajectory = []
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = minigrad.tensor(grad.astype(dtype))
        optimizer.step()
        trajectory.append([p.array.copy() for p in params])
    return trajectory, optimizer, params


def run_reference(name, hyper, dtype=np.float64, steps=STEPS, seed=0):
    initial, grads = make_gradients(seed, steps)
    params = [a.astype(dtype) for a in initial]
    states = [{} for _ in params]
    trajectory = []
    for step_grads in grads:
        params = [np.asarray(REFERENCES[name](p, g.astype(dtype), s, **hyper), dtype=dtype)
                  for p, g, s in zip(params, step_grads, states)]
        trajectory.append([p.copy() for p in params])
    return trajectory, states


@pytest.mark.parametrize("name, hyper", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_numpy_reference(name, hyper):
    ours, _, _ = run_minigrad(name, hyper)
    expected, _ = run_reference(name, hyper)
    for step, (got, want) in enumerate(zip(ours, expected)):
        for p, q in zip(got, want):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")
    initial, _ = make_gradients()
    assert not np.allclose(ours[-1][0], initial[0])   # the parameters moved


@pytest.mark.parametrize("name, hyper", CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_float32_keeps_its_dtype_and_follows_the_reference(name, hyper):
    ours, optimizer, params = run_minigrad(name, hyper, dtype=np.float32)
    expected, _ = run_reference(name, hyper, dtype=np.float64)
    for p in params:
        assert p.array.dtype == np.float32
    for state in optimizer.state.values():
        for key, value in state.items():
            if key != "step" and hasattr(value, "array"):
                assert value.array.dtype == np.float32, key
    for p, q in zip(ours[-1], expected[-1]):
        np.testing.assert_allclose(p, q, rtol=2e-4, atol=2e-5)


def test_asgd_keeps_the_running_average_of_the_iterates():
    hyper = dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3)
    ours, optimizer, params = run_minigrad("ASGD", hyper)
    _, states = run_reference("ASGD", hyper)
    for param, state in zip(params, states):
        np.testing.assert_allclose(optimizer.state[param]["ax"].array, state["ax"], rtol=1e-12)
    # mu_t = 1 / (t - 1 - t0) once that is > 1: ax is the mean of the iterates from step t0 + 2 on
    iterates = np.array([step[1] for step in ours])   # (steps, 5)
    np.testing.assert_allclose(optimizer.state[params[1]]["ax"].array, iterates[4:].mean(axis=0),
                               rtol=1e-12)
    state = optimizer.state[params[0]]
    assert state["step"] == STEPS
    assert state["eta"] == pytest.approx(0.05 / (1 + 0.1 * 0.05 * STEPS) ** 0.5, rel=1e-14)
    assert state["mu"] == pytest.approx(1 / (STEPS - 3), rel=1e-14)


def test_rprop_by_hand_grows_shrinks_and_skips():
    p = minigrad.tensor(np.array([1.0, 1.0]), requires_grad=True)
    optimizer = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 0.3))
    for grad, expected in [([1.0, -1.0], [0.9, 1.1]),     # first step: lr * sign(g)
                           ([1.0, -1.0], [0.7, 1.3]),     # same sign: step size doubles
                           ([-1.0, -1.0], [0.7, 1.6]),    # flip on 0: halve, skip; 1: 0.4 -> 0.3
                           ([-1.0, 1.0], [0.8, 1.6])]:    # 0 restarts with 0.1; 1 flips, skipped
        p.grad = minigrad.tensor(np.array(grad))
        optimizer.step()
        np.testing.assert_allclose(p.array, expected, rtol=1e-12)
    np.testing.assert_allclose(optimizer.state[p]["step_size"].array, [0.1, 0.15], rtol=1e-12)


def test_radam_first_steps_are_bias_corrected_momentum_steps():
    # with beta2 = 0.999, rho_t <= 5 for the first 5 steps: theta -= lr * m_hat, and m_hat = g at t=1
    p = minigrad.tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = optim.RAdam([p], lr=0.1)
    p.grad = minigrad.tensor(np.array([3.0, 0.5]))
    optimizer.step()
    np.testing.assert_allclose(p.array, [1.0 - 0.3, -2.0 - 0.05], rtol=1e-12)


def test_adafactor_state_is_factored_for_matrices():
    _, optimizer, params = run_minigrad("Adafactor", {}, steps=2)
    matrix, vector, batch, scalar = (optimizer.state[p] for p in params)
    assert set(matrix) == {"step", "row_var", "col_var"}
    assert matrix["row_var"].shape == (4, 1) and matrix["col_var"].shape == (1, 5)
    assert batch["row_var"].shape == (3, 2, 1) and batch["col_var"].shape == (3, 1, 4)
    assert set(vector) == {"step", "variance"} and vector["variance"].shape == (5,)
    assert set(scalar) == {"step", "variance"} and scalar["variance"].shape == ()
    _, states = run_reference("Adafactor", {}, steps=2)
    np.testing.assert_allclose(matrix["row_var"].array[:, 0], states[0]["r"], rtol=1e-12)
    np.testing.assert_allclose(batch["col_var"].array[:, 0, :], states[2]["c"], rtol=1e-12)


def test_adafactor_first_step_by_hand():
    # t=1: the estimate is g^2 exactly, u = sign(g) where |g| > eps1, RMS(u) = 1,
    # alpha = max(eps2, RMS(theta)) * min(lr, 1)
    theta = np.array([3.0, -4.0])          # RMS = sqrt(12.5)
    p = minigrad.tensor(theta.copy(), requires_grad=True)
    p.grad = minigrad.tensor(np.array([0.5, 2.0]))
    optim.Adafactor([p], lr=0.1).step()
    np.testing.assert_allclose(p.array, theta - math.sqrt(12.5) * 0.1 * np.array([1.0, 1.0]),
                               rtol=1e-12)


def test_nadam_and_radam_decoupled_decay_differs_from_l2():
    for name in ("NAdam", "RAdam"):
        coupled, _, _ = run_minigrad(name, dict(lr=0.05, weight_decay=0.5))
        decoupled, _, _ = run_minigrad(name, dict(lr=0.05, weight_decay=0.5,
                                                  decoupled_weight_decay=True))
        assert not np.allclose(coupled[-1][0], decoupled[-1][0])


def test_maximize_is_minimizing_the_negated_gradient():
    initial, grads = make_gradients(steps=5)
    for name in REFERENCES:
        runs = []
        for maximize, sign in ((True, 1.0), (False, -1.0)):
            p = minigrad.tensor(initial[0].copy(), requires_grad=True)
            optimizer = getattr(optim, name)([p], maximize=maximize)
            for step_grads in grads:
                p.grad = minigrad.tensor(sign * step_grads[0])
                optimizer.step()
            runs.append(p.array.copy())
        np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_training_a_quadratic_lowers_the_loss(name):
    rng = np.random.default_rng(1)
    target = rng.standard_normal((3, 4))
    w = minigrad.tensor(np.zeros((3, 4)) + 0.5, requires_grad=True)
    lr = {"ASGD": 0.1, "Adafactor": 0.05}.get(name, 0.02)
    optimizer = getattr(optim, name)([w], lr=lr)

    def closure():
        optimizer.zero_grad()
        loss = ((w - minigrad.tensor(target)) ** 2).sum()
        loss.backward()
        return loss
    first = closure().item()
    for _ in range(30):
        loss = optimizer.step(closure)
    assert loss.item() < 0.8 * first


# ---------------------------------------------------------------- state dicts
STATE_KEYS = {"ASGD": {"step", "eta", "mu", "ax"}, "Adamax": {"step", "exp_avg", "exp_inf"},
              "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
              "RAdam": {"step", "exp_avg", "exp_avg_sq"}, "Rprop": {"step", "prev", "step_size"},
              "Adafactor": {"step", "row_var", "col_var"}}
GROUP_KEYS = {
    "ASGD": {"lr", "lambd", "alpha", "t0", "weight_decay", "foreach", "maximize"},
    "Adamax": {"lr", "betas", "eps", "weight_decay", "foreach", "maximize"},
    "NAdam": {"lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay",
              "maximize", "foreach"},
    "RAdam": {"lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize",
              "foreach"},
    "Rprop": {"lr", "etas", "step_sizes", "foreach", "maximize"},
    "Adafactor": {"lr", "beta2_decay", "eps", "d", "weight_decay", "foreach", "maximize"},
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_state_dict_layout_and_round_trip(name):
    hyper = dict(CASES[[n for n, _ in CASES].index(name) + 1][1])
    _, grads = make_gradients(steps=10)
    _, optimizer, params = run_minigrad(name, hyper, steps=5)
    saved = copy.deepcopy(optimizer.state_dict())
    assert set(saved["state"]) == {0, 1, 2, 3}
    assert set(saved["state"][0]) == STATE_KEYS[name]
    assert saved["state"][0]["step"] == 5
    assert set(saved["param_groups"][0]) == GROUP_KEYS[name] | {"params"}
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]

    copies = [minigrad.tensor(p.array.copy(), requires_grad=True) for p in params]
    resumed = getattr(optim, name)(copies, **{k: v for k, v in hyper.items() if k != "lr"})
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    for step_grads in grads[5:]:
        for a, b, g in zip(params, copies, step_grads):
            a.grad, b.grad = minigrad.tensor(g), minigrad.tensor(g)
        optimizer.step()
        resumed.step()
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a.array, b.array)
    # uninterrupted run: the same as 10 reference steps
    expected, _ = run_reference(name, hyper, steps=10)
    for a, q in zip(params, expected[-1]):
        np.testing.assert_allclose(a.array, q, rtol=1e-10, atol=1e-12)


def test_defaults_match_pytorch():
    p = [minigrad.zeros(2, requires_grad=True)]
    expect = {
        optim.ASGD: dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0),
        optim.Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
        optim.NAdam: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                          momentum_decay=4e-3, decoupled_weight_decay=False),
        optim.RAdam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                          decoupled_weight_decay=False),
        optim.Rprop: dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
        optim.Adafactor: dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0),
        optim.SparseAdam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
    }
    for cls, defaults in expect.items():
        got = cls(p).defaults
        for key, value in defaults.items():
            assert got[key] == value, (cls.__name__, key)
        assert got["maximize"] is False
        if cls is not optim.SparseAdam:    # accepted for PyTorch compatibility, no effect
            assert got["foreach"] is None
            assert cls(p, foreach=False).defaults["foreach"] is False


def test_param_groups_keep_their_own_hyper_parameters():
    a = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    optimizer = optim.Adamax([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = minigrad.tensor(np.array([1.0, -1.0]))
    b.grad = minigrad.tensor(np.array([1.0, -1.0]))
    optimizer.step()
    # first Adamax step: theta -= lr * g / (|g| + eps) (m / (1 - beta1) = g)
    np.testing.assert_allclose(a.array, [1.0 - 0.1 / (1 + 1e-8), 2.0 + 0.1 / (1 + 1e-8)])
    np.testing.assert_allclose(b.array, [1.0 - 0.5 / (1 + 1e-8), 2.0 + 0.5 / (1 + 1e-8)])


def test_parameters_without_gradients_are_left_alone():
    a = minigrad.tensor(np.array([1.0]), requires_grad=True)
    b = minigrad.tensor(np.array([2.0]), requires_grad=True)
    for name in REFERENCES:
        optimizer = getattr(optim, name)([a, b])
        a.grad, b.grad = minigrad.tensor(np.array([0.5])), None
        optimizer.step()
        assert b.array[0] == 2.0 and b not in optimizer.state, name


# ---------------------------------------------------------------------- errors
BAD = [
    (optim.ASGD, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (optim.ASGD, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (optim.Adamax, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (optim.Adamax, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (optim.Adamax, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (optim.Adamax, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.Adamax, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (optim.NAdam, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (optim.NAdam, dict(momentum_decay=-0.5), "Invalid momentum_decay value: -0.5"),
    (optim.NAdam, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (optim.RAdam, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (optim.RAdam, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (optim.RAdam, dict(weight_decay=-2.0), "Invalid weight_decay value: -2.0"),
    (optim.Rprop, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (optim.Rprop, dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    (optim.Rprop, dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
    (optim.Adafactor, dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (optim.Adafactor, dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (optim.Adafactor, dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    (optim.Adafactor, dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
    (optim.Adafactor, dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (optim.Adafactor, dict(weight_decay=-1.0), "weight_decay should be >= 0 but is: -1.0"),
    (optim.SparseAdam, dict(lr=0.0), "Invalid learning rate: 0.0"),
    (optim.SparseAdam, dict(eps=0.0), "Invalid epsilon value: 0.0"),
    (optim.SparseAdam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
]


@pytest.mark.parametrize("cls, hyper, message", BAD,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(BAD)])
def test_bad_hyper_parameters_raise_value_error(cls, hyper, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        cls([minigrad.zeros(2, requires_grad=True)], **hyper)


def test_bad_hyper_parameters_in_a_later_group_raise_too():
    optimizer = optim.NAdam([minigrad.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        optimizer.add_param_group({"params": [minigrad.zeros(2, requires_grad=True)], "lr": -0.5})


def test_sparse_adam_refuses_dense_gradients():
    p = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    optimizer = optim.SparseAdam([p])
    assert optimizer.step() is None           # no gradient: nothing to refuse
    p.grad = minigrad.tensor(np.array([0.1, 0.2]))
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please "
                                           "consider Adam instead"):
        optimizer.step()
    np.testing.assert_array_equal(p.array, [1.0, 2.0])
    assert optimizer.state == {}


def test_adafactor_load_state_dict_checks_the_factored_shapes():
    _, optimizer, params = run_minigrad("Adafactor", {}, steps=1)
    saved = copy.deepcopy(optimizer.state_dict())
    saved["state"][0]["row_var"] = minigrad.zeros(5, 1)
    fresh = optim.Adafactor([minigrad.tensor(p.array.copy(), requires_grad=True) for p in params])
    with pytest.raises(ValueError, match=r"row_var.*\(5, 1\).*\(4, 1\)"):
        fresh.load_state_dict(saved)
