"""minigrad.optim: update rules against NumPy references and hand-derived steps."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.reference.optim import adagrad_reference, adam_reference, rmsprop_reference, sgd_reference

STEPS = 12


# ---------------------------------------------------------------- a small network
def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 4))
    y = rng.standard_normal((8, 2))
    params = [rng.standard_normal((4, 5)) * 0.5, rng.standard_normal(5) * 0.1,
              rng.standard_normal((5, 2)) * 0.5, rng.standard_normal(2) * 0.1]
    return x, y, params


def numpy_loss_and_grads(x, y, params):
    """Mean squared error of a tanh MLP, with gradients derived by hand."""
    w1, b1, w2, b2 = params
    hidden = np.tanh(x @ w1 + b1)                  # (8, 5)
    out = hidden @ w2 + b2                         # (8, 2)
    d_out = 2 * (out - y) / out.size               # d loss / d out
    d_hidden = (d_out @ w2.T) * (1 - hidden ** 2)  # back through tanh
    grads = [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_out, d_out.sum(0)]
    return np.mean((out - y) ** 2), grads


def minigrad_loss(x, y, params):
    w1, b1, w2, b2 = params
    out = minigrad.tanh(x @ w1 + b1) @ w2 + b2
    return ((out - y) ** 2).mean()


def run_minigrad(make_optimizer, steps=STEPS, seed=0):
    x, y, arrays = make_problem(seed)
    x, y = minigrad.tensor(x), minigrad.tensor(y)
    params = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    optimizer = make_optimizer(params)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        minigrad_loss(x, y, params).backward()
        optimizer.step()
        trajectory.append([p.array.copy() for p in params])
    return trajectory


def run_reference(update, hyper, steps=STEPS, seed=0):
    x, y, params = make_problem(seed)
    states = [{} for _ in params]
    trajectory = []
    for _ in range(steps):
        _, grads = numpy_loss_and_grads(x, y, params)
        params = [update(p, g, s, **hyper) for p, g, s in zip(params, grads, states)]
        trajectory.append([p.copy() for p in params])
    return trajectory


CASES = [
    (optim.SGD, sgd_reference, dict(lr=0.1)),
    (optim.SGD, sgd_reference, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, sgd_reference, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01)),
    (optim.SGD, sgd_reference, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.Adam, adam_reference, dict(lr=0.01)),
    (optim.Adam, adam_reference, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    (optim.Adam, adam_reference, dict(lr=0.01, amsgrad=True, eps=1e-6)),
    (optim.AdamW, adam_reference, dict(lr=0.01, weight_decay=0.1, decoupled=True)),
    (optim.AdamW, adam_reference, dict(lr=0.01, weight_decay=0.5, amsgrad=True, decoupled=True)),
    (optim.RMSprop, rmsprop_reference, dict(lr=0.01)),
    (optim.RMSprop, rmsprop_reference, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, rmsprop_reference, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
    (optim.Adagrad, adagrad_reference, dict(lr=0.1)),
    (optim.Adagrad, adagrad_reference, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                            initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize("cls, reference, hyper", CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_trajectory_matches_numpy_reference(cls, reference, hyper):
    kwargs = {k: v for k, v in hyper.items() if k != "decoupled"}
    ours = run_minigrad(lambda params: cls(params, **kwargs))
    expected = run_reference(reference, hyper)
    for step, (got, want) in enumerate(zip(ours, expected)):
        for p, q in zip(got, want):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")
    # the parameters actually moved
    assert not np.allclose(ours[-1][0], make_problem()[2][0])


# -------------------------------------------------------- hand-derived single steps
def one_param(value, grad):
    p = minigrad.tensor(np.array(value, dtype=np.float64), requires_grad=True)
    p.grad = minigrad.tensor(np.array(grad, dtype=np.float64))
    return p


def test_sgd_momentum_two_steps_by_hand():
    p = one_param([1.0, -2.0], [0.5, 1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()                       # b = g;  theta = theta - 0.1 g
    np.testing.assert_allclose(p.array, [0.95, -2.1])
    opt.step()                       # b = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(p.array, [0.95 - 0.1 * 0.95, -2.1 - 0.1 * 1.9])


def test_sgd_nesterov_by_hand():
    p = one_param([1.0], [2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.5, nesterov=True)
    opt.step()                       # b = g; step direction g + 0.5 b = 1.5 g
    np.testing.assert_allclose(p.array, [1.0 - 0.1 * 3.0])


def test_adam_first_step_is_lr_times_sign():
    # m_hat = g, v_hat = g^2 after bias correction -> step = lr * g / (|g| + eps)
    p = one_param([1.0, 1.0, 1.0], [3.0, -0.02, 0.0])
    optim.Adam([p], lr=0.1, eps=1e-8).step()
    np.testing.assert_allclose(p.array, [1 - 0.1 * 3 / (3 + 1e-8), 1 + 0.1 * 0.02 / (0.02 + 1e-8), 1.0])


def test_adamw_first_step_by_hand():
    p = one_param([2.0], [0.5])
    optim.AdamW([p], lr=0.1, weight_decay=0.2, eps=0.0).step()
    np.testing.assert_allclose(p.array, [2.0 * (1 - 0.1 * 0.2) - 0.1])


def test_rmsprop_first_step_by_hand():
    p = one_param([1.0], [2.0])
    optim.RMSprop([p], lr=0.01, alpha=0.99, eps=0.0).step()
    # v = 0.01 * 4 -> sqrt(v) = 0.2 -> step = 0.01 * 2 / 0.2
    np.testing.assert_allclose(p.array, [1.0 - 0.1])


def test_adagrad_two_steps_by_hand():
    p = one_param([1.0], [3.0])
    opt = optim.Adagrad([p], lr=0.5, lr_decay=1.0, initial_accumulator_value=16.0, eps=0.0)
    opt.step()                       # s = 16 + 9 = 25 -> step = 0.5 * 3 / 5
    np.testing.assert_allclose(p.array, [0.7])
    opt.step()                       # s = 34, clr = 0.5 / 2
    np.testing.assert_allclose(p.array, [0.7 - 0.25 * 3 / np.sqrt(34)])


# ------------------------------------------------------ L2 vs decoupled weight decay
def test_sgd_weight_decay_equals_l2_term_in_the_loss():
    wd = 0.3
    with_decay = run_minigrad(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=wd))

    x, y, arrays = make_problem()
    x, y = minigrad.tensor(x), minigrad.tensor(y)
    params = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    for step in range(STEPS):
        opt.zero_grad()
        l2 = sum((p * p).sum() for p in params) * (wd / 2)
        (minigrad_loss(x, y, params) + l2).backward()
        opt.step()
        for got, want in zip(params, with_decay[step]):
            np.testing.assert_allclose(got.array, want, rtol=1e-12, atol=1e-14)


def test_adamw_is_not_adam_with_l2():
    """Decoupled decay shrinks every weight by (1 - lr*wd); Adam's L2 gets normalised away.

    Two weights: one with a large loss gradient, one with none. With Adam +
    L2, the weight without a loss gradient has g = wd * theta, which Adam
    normalises to a step of ~lr whatever wd is; the weight with a large
    gradient hardly feels the decay at all. AdamW shrinks both by exactly
    the factor (1 - lr * wd) per step, on top of the Adam step.
    """
    lr, wd, steps = 0.01, 0.1, 20
    start = np.array([1.0, 1.0])
    loss_grad = np.array([0.0, 100.0])       # weight 0: no loss gradient; weight 1: large

    def run(optimizer_cls, weight_decay):
        p = minigrad.tensor(start.copy(), requires_grad=True)
        opt = optimizer_cls([p], lr=lr, weight_decay=weight_decay)
        for _ in range(steps):
            p.grad = minigrad.tensor(loss_grad.copy())
            opt.step()
        return p.array

    adam_l2 = run(optim.Adam, wd)
    adamw = run(optim.AdamW, wd)
    plain = run(optim.Adam, 0.0)
    # Weight 0, Adam + L2: g = wd * theta is normalised by sqrt(v), each step is
    # ~lr whatever wd is: theta ~ 1 - steps * lr, for wd = 0.1 as for wd = 0.001.
    np.testing.assert_allclose(adam_l2[0], 1 - steps * lr, atol=5e-3)
    np.testing.assert_allclose(run(optim.Adam, wd / 100)[0], adam_l2[0], atol=5e-3)
    # Weight 0, AdamW: pure decay, theta = (1 - lr*wd)^steps.
    np.testing.assert_allclose(adamw[0], (1 - lr * wd) ** steps, rtol=1e-12)
    # Weight 1: the L2 term vanishes next to the big gradient, AdamW's decay does not.
    assert abs(adam_l2[1] - plain[1]) < 1e-4
    assert adamw[1] < plain[1] - 1e-3
    assert not np.allclose(adam_l2, adamw, atol=1e-3)


# ------------------------------------------------------------------ mechanics
@pytest.mark.parametrize("cls, kwargs, match", [
    (optim.SGD, dict(lr=-0.1), "learning rate"),
    (optim.SGD, dict(momentum=-1), "momentum"),
    (optim.SGD, dict(weight_decay=-1), "weight_decay"),
    (optim.SGD, dict(nesterov=True), "Nesterov"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
    (optim.Adam, dict(lr=-1e-3), "learning rate"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    (optim.Adam, dict(eps=-1), "epsilon"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(momentum=-0.5), "momentum"),
    (optim.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), "initial_accumulator_value"),
])
def test_invalid_hyper_parameters_raise(cls, kwargs, match):
    p = minigrad.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        cls([p], **kwargs)


def test_bad_params_raise():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    p = minigrad.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([{"params": [p], "lr": -1.0}], lr=0.1)


def test_updates_in_place_and_keep_dtype():
    p = minigrad.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    array = p.array
    opt = optim.Adam([p], lr=0.1)
    for _ in range(3):
        p.grad = minigrad.ones(3, 2)
        opt.step()
    assert p.array is array and p.array.dtype == np.float32
    assert opt.state[p]["exp_avg"].dtype == np.float32
    assert np.all(p.array < 1)


def test_params_without_grad_are_skipped_and_zero_grad():
    a = minigrad.ones(2, requires_grad=True)
    b = minigrad.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = minigrad.ones(2)
    opt.step()
    np.testing.assert_allclose(a.array, [0.5, 0.5])
    np.testing.assert_allclose(b.array, [1.0, 1.0])
    assert b not in opt.state
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.array, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_have_their_own_hyper_parameters():
    a = minigrad.ones(2, requires_grad=True)
    b = minigrad.ones(2, requires_grad=True)
    c = minigrad.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    opt.add_param_group({"params": [c], "lr": 0.25})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5, 0.25]
    assert opt.param_groups[2]["momentum"] == 0
    for p in (a, b, c):
        p.grad = minigrad.ones(2)
    opt.step()
    np.testing.assert_allclose([a.array[0], b.array[0], c.array[0]], [0.9, 0.5, 0.75])


def test_maximize_ascends():
    p = one_param([0.0], [1.0])
    optim.SGD([p], lr=0.1, maximize=True).step()
    np.testing.assert_allclose(p.array, [0.1])


def test_step_with_closure_returns_loss():
    x, y, arrays = make_problem()
    x, y = minigrad.tensor(x), minigrad.tensor(y)
    params = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    opt = optim.SGD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = minigrad_loss(x, y, params)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    with minigrad.no_grad():
        second = opt.step(closure).item()  # the closure still builds its graph
    assert second < first


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_state_dict_resume_continues_the_same_trajectory(make):
    straight = run_minigrad(make, steps=10)

    x, y, arrays = make_problem()
    x, y = minigrad.tensor(x), minigrad.tensor(y)
    params = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    opt = make(params)
    for _ in range(5):
        opt.zero_grad()
        minigrad_loss(x, y, params).backward()
        opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]

    # a fresh optimizer over copies of the parameters
    params = [minigrad.tensor(p.array.copy(), requires_grad=True) for p in params]
    resumed = make(params)
    resumed.load_state_dict(saved)
    for _ in range(5):
        resumed.zero_grad()
        minigrad_loss(x, y, params).backward()
        resumed.step()
    for got, want in zip(params, straight[-1]):
        np.testing.assert_allclose(got.array, want, rtol=1e-12)


def test_load_state_dict_checks_groups():
    a, b = minigrad.ones(2, requires_grad=True), minigrad.ones(2, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    opt = optim.SGD([a, b], lr=0.3)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["params"][0] is a
