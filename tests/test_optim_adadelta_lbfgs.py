"""Adadelta and LBFGS against their update equations and closed forms."""
import numpy as np
import pytest

from minigrad import Tensor, optim

rng = np.random.default_rng(0)
A = rng.standard_normal((5, 5))
A = A @ A.T + np.eye(5)  # symmetric positive definite
b = rng.standard_normal(5)
x0 = rng.standard_normal(5)


def quadratic(optimizer_class, **options):
    """f(x) = x^T A x / 2 - b^T x; its gradient is A x - b and its minimum A^-1 b."""
    x = Tensor(x0.copy(), requires_grad=True)
    optimizer = optimizer_class([x], **options)

    def closure():
        optimizer.zero_grad()
        loss = 0.5 * (x * (Tensor(A) @ x)).sum() - (Tensor(b) * x).sum()
        loss.backward()
        return loss
    return x, optimizer, closure


def test_adadelta_follows_its_update_equations():
    lr, rho, eps, weight_decay = 0.7, 0.85, 1e-6, 0.05
    x, optimizer, closure = quadratic(optim.Adadelta, lr=lr, rho=rho, weight_decay=weight_decay)
    theta, v, u = x0.copy(), np.zeros(5), np.zeros(5)
    for _ in range(4):
        optimizer.step(closure)
        g = A @ theta - b + weight_decay * theta
        v = rho * v + (1 - rho) * g ** 2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta ** 2
        theta = theta - lr * delta
    np.testing.assert_allclose(x.array, theta, rtol=1e-12)
    state = optimizer.state[x]
    assert state["step"] == 4
    np.testing.assert_allclose(state["square_avg"].array, v, rtol=1e-12)


def test_adadelta_defaults_and_validation():
    x, optimizer, _ = quadratic(optim.Adadelta)
    assert optimizer.defaults["lr"] == 1.0 and optimizer.defaults["rho"] == 0.9
    assert optimizer.defaults["eps"] == 1e-6
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([x], rho=1.5)


def test_lbfgs_first_iteration_is_a_scaled_gradient_step():
    x, optimizer, closure = quadratic(optim.LBFGS, lr=0.8, max_iter=1)
    loss = optimizer.step(closure)
    g = A @ x0 - b
    np.testing.assert_allclose(loss.item(), 0.5 * x0 @ A @ x0 - b @ x0)
    np.testing.assert_allclose(x.array, x0 - 0.8 * min(1.0, 1.0 / np.abs(g).sum()) * g, rtol=1e-12)


def test_lbfgs_second_iteration_uses_the_two_loop_recursion():
    x, optimizer, closure = quadratic(optim.LBFGS, max_iter=2, max_eval=10)
    optimizer.step(closure)
    g0 = A @ x0 - b
    t = min(1.0, 1.0 / np.abs(g0).sum())
    x1 = x0 - t * g0
    g1 = A @ x1 - b
    s, y = -t * g0, g1 - g0
    rho = 1 / (y @ s)
    # With one pair, the two-loop recursion is H g for the BFGS update of H0 = (s.y / y.y) I.
    h0 = (s @ y) / (y @ y) * np.eye(5)
    V = np.eye(5) - rho * np.outer(y, s)
    H = V.T @ h0 @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(x.array, x1 - H @ g1, rtol=1e-10)


def test_lbfgs_converges_to_the_minimum():
    x, optimizer, closure = quadratic(optim.LBFGS, max_iter=100, history_size=10)
    optimizer.step(closure)
    np.testing.assert_allclose(x.array, np.linalg.solve(A, b), atol=1e-4)
    assert optimizer.state[x]["n_iter"] <= 100


def test_lbfgs_errors():
    x = Tensor(x0.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported.*'backtracking'"):
        optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([x]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [Tensor(np.ones(2), requires_grad=True)]}])
    assert optim.LBFGS([x]).defaults["max_eval"] == 25


# ------------------------------------------------- LBFGS with strong Wolfe
def rosenbrock_problem(start=(-1.5, 2.0), **options):
    """f(u, v) = (1 - u)^2 + 100 (v - u^2)^2, minimum 0 at (1, 1)."""
    x = Tensor(np.array(start), requires_grad=True)
    optimizer = optim.LBFGS([x], line_search_fn="strong_wolfe", **options)
    calls = []

    def closure():
        optimizer.zero_grad()
        u, v = x[0], x[1]
        loss = (1 - u) ** 2 + 100 * (v - u * u) ** 2
        loss.backward()
        calls.append(x.array.copy())
        return loss
    return x, optimizer, closure, calls


def test_cubic_interpolate_finds_the_minimum_of_a_cubic():
    from minigrad.optim.lbfgs import cubic_interpolate

    def f(t):
        return t ** 3 - 3 * t  # minimum at t = 1 on [0, 2]

    def df(t):
        return 3 * t ** 2 - 3
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0), bounds=(1.5, 3)) == 1.5


def test_strong_wolfe_step_satisfies_both_conditions():
    from minigrad.optim.lbfgs import strong_wolfe
    point, direction = np.array([-1.5, 2.0]), np.array([1.0, -1.0])

    def loss_and_grad(p):
        u, v = p
        return ((1 - u) ** 2 + 100 * (v - u * u) ** 2,
                np.array([-2 * (1 - u) - 400 * u * (v - u * u), 200 * (v - u * u)]))
    f0, g0 = loss_and_grad(point)
    slope0 = float(g0 @ direction)
    f, g, t, evaluations = strong_wolfe(lambda t: loss_and_grad(point + t * direction), 1.0, direction,
                                        f0, g0, slope0)
    expected_f, expected_g = loss_and_grad(point + t * direction)
    assert f == expected_f and np.array_equal(g, expected_g) and evaluations >= 1
    assert f <= f0 + 1e-4 * t * slope0
    assert abs(float(g @ direction)) <= 0.9 * abs(slope0)


def test_lbfgs_strong_wolfe_reaches_the_rosenbrock_minimum():
    x, optimizer, closure, calls = rosenbrock_problem(max_iter=100, tolerance_grad=1e-10, tolerance_change=1e-14)
    optimizer.step(closure)
    np.testing.assert_allclose(x.array, [1.0, 1.0], atol=1e-6)
    assert optimizer.state[x]["func_evals"] == len(calls) < 150
    # A fixed step from the same start makes far less progress in as many iterations.
    y = Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    fixed = optim.LBFGS([y], lr=1e-3, max_iter=100)

    def fixed_closure():
        fixed.zero_grad()
        loss = (1 - y[0]) ** 2 + 100 * (y[1] - y[0] * y[0]) ** 2
        loss.backward()
        return loss
    fixed.step(fixed_closure)
    assert np.abs(y.array - 1).max() > 1e-3


def test_lbfgs_strong_wolfe_matches_torch_iterates():
    torch = pytest.importorskip("torch")
    x, optimizer, closure, _ = rosenbrock_problem(max_iter=5, history_size=4)
    theirs = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    reference = torch.optim.LBFGS([theirs], max_iter=5, history_size=4, line_search_fn="strong_wolfe")

    def torch_closure():
        reference.zero_grad()
        loss = (1 - theirs[0]) ** 2 + 100 * (theirs[1] - theirs[0] ** 2) ** 2
        loss.backward()
        return loss
    for _ in range(4):
        optimizer.step(closure)
        reference.step(torch_closure)
        np.testing.assert_allclose(x.array, theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
        assert optimizer.state[x]["func_evals"] == reference.state[theirs]["func_evals"]
