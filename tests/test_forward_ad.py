"""minigrad.autograd.forward_ad (PyTorch's torch.autograd.forward_ad): tangents
against closed forms and against J t from autograd.functional.jacobian; levels,
no_grad, backward-over-forward, and PyTorch's errors."""
import numpy as np
import pytest

import minigrad as torch
import minigrad.autograd.forward_ad as fwAD
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import grad
from minigrad.autograd.functional import jacobian

rng = np.random.default_rng(0)


def randn(*shape):
    return torch.tensor(rng.standard_normal(shape))  # float64


def jacobian_times(f, inputs, tangents):
    """sum_i J_i t_i from the full Jacobians (reverse mode, one row at a time)."""
    jacobians = jacobian(f, tuple(inputs))
    out_shape = f(*inputs).shape
    total = np.zeros(out_shape)
    for j, x, t in zip(jacobians, inputs, tangents):
        # (out..., in...) -> (out, in) @ (in,)
        flat = j.detach().numpy().reshape(int(np.prod(out_shape)), x.numel())
        total += (flat @ t.numpy().reshape(-1)).reshape(out_shape)
    return total


def forward_tangent(f, inputs, tangents):
    with fwAD.dual_level():
        duals = [fwAD.make_dual(x, t) for x, t in zip(inputs, tangents)]
        primal, tangent = fwAD.unpack_dual(f(*duals))
        return primal.detach().numpy().copy(), tangent.detach().numpy().copy()


# ---------------------------------------------------------------- closed forms
@pytest.mark.parametrize("f, derivative", [
    (lambda x: x.sin(), np.cos),
    (lambda x: x.exp(), np.exp),
    (lambda x: x.tanh(), lambda a: 1 - np.tanh(a) ** 2),
    (lambda x: x * x * x, lambda a: 3 * a ** 2),
    (lambda x: 1 / (1 + x * x), lambda a: -2 * a / (1 + a * a) ** 2),
    (lambda x: torch.sigmoid(x), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
    (lambda x: (x * x + 1).log(), lambda a: 2 * a / (a * a + 1)),
])
def test_elementwise_tangent_is_derivative_times_tangent(f, derivative):
    x, t = randn(2, 3), randn(2, 3)
    primal, tangent = forward_tangent(f, [x], [t])
    np.testing.assert_allclose(primal, f(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent, derivative(x.numpy()) * t.numpy(), rtol=1e-10, atol=1e-12)


def test_matmul_of_two_duals_is_product_rule():
    a, b, ta, tb = randn(3, 4), randn(4, 2), randn(3, 4), randn(4, 2)
    primal, tangent = forward_tangent(lambda p, q: p @ q, [a, b], [ta, tb])
    np.testing.assert_allclose(primal, a.numpy() @ b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent, ta.numpy() @ b.numpy() + a.numpy() @ tb.numpy(), rtol=1e-10)


def test_broadcasting_dual_against_plain_tensor():
    x, t, c = randn(3, 1), randn(3, 1), randn(1, 4)
    _, tangent = forward_tangent(lambda v: (v * c).sum(dim=0), [x], [t])
    np.testing.assert_allclose(tangent, (t.numpy() * c.numpy()).sum(axis=0), rtol=1e-10)


# ---------------------------------------------------- against the Jacobian
def test_elementwise_chain_against_jacobian():
    def f(x, y):
        return (x.sin() * y + x.exp() / (1 + y * y)).sum(dim=1)
    inputs, tangents = [randn(3, 4), randn(3, 4)], [randn(3, 4), randn(3, 4)]
    _, tangent = forward_tangent(f, inputs, tangents)
    np.testing.assert_allclose(tangent, jacobian_times(f, inputs, tangents), rtol=1e-9, atol=1e-12)


def test_small_conv_net_against_jacobian():
    """Input, conv weight and linear weight all dual: the sum of three J_i t_i."""
    bias = randn(3)

    def net(x, w, v):
        h = F.conv2d(x, w, bias, padding=1).tanh()      # (1, 3, 5, 5)
        h = F.avg_pool2d(h, 2)                           # (1, 3, 2, 2)
        return h.reshape(1, 12) @ v                      # (1, 2)
    inputs = [randn(1, 2, 5, 5), randn(3, 2, 3, 3), randn(12, 2)]
    tangents = [randn(1, 2, 5, 5), randn(3, 2, 3, 3), randn(12, 2)]
    primal, tangent = forward_tangent(net, inputs, tangents)
    np.testing.assert_allclose(primal, net(*inputs).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent, jacobian_times(net, inputs, tangents), rtol=1e-9, atol=1e-12)
    # Each dual alone: the parts add up.
    parts = sum(jacobian_times(lambda x, w, v, k=k: net(*[x, w, v]), inputs,
                               [t if i == k else torch.zeros_like(t) for i, t in enumerate(tangents)])
                for k in range(3))
    np.testing.assert_allclose(tangent, parts, rtol=1e-9, atol=1e-12)


def test_module_with_dual_input_and_max_pool():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3)).double()
    x, t = randn(2, 1, 6, 6), randn(2, 1, 6, 6)
    primal, tangent = forward_tangent(model, [x], [t])
    np.testing.assert_allclose(primal, model(x).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent, jacobian_times(lambda v: model(v), [x], [t]), rtol=1e-9, atol=1e-12)


def test_loss_tangent_is_directional_derivative():
    labels = torch.tensor([2, 0, 1])
    w_target = randn(4, 3)

    def loss(logits, w):
        return F.cross_entropy(logits @ w, labels) + F.mse_loss(w, w_target)
    inputs, tangents = [randn(3, 4), randn(4, 3)], [randn(3, 4), randn(4, 3)]
    primal, tangent = forward_tangent(loss, inputs, tangents)
    assert tangent.shape == ()
    np.testing.assert_allclose(tangent, jacobian_times(loss, inputs, tangents), rtol=1e-9)
    # The directional derivative by central differences, too.
    eps = 1e-6
    plus = loss(*[x + eps * t for x, t in zip(inputs, tangents)]).item()
    minus = loss(*[x - eps * t for x, t in zip(inputs, tangents)]).item()
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * eps), rtol=1e-6)


def test_matches_func_jvp_values():
    def f(x):
        return (x @ x.T).tanh()
    x, t = randn(3, 3), randn(3, 3)
    _, tangent = forward_tangent(f, [x], [t])
    _, expected = torch.func.jvp(f, (x,), (t,))
    np.testing.assert_allclose(tangent, expected.numpy(), rtol=1e-10)


# ------------------------------------------------------------------ semantics
def test_dual_tensor_own_tangent_is_returned_as_is_and_aliases_primal():
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert fwAD.unpack_dual(d).tangent is t
        assert np.shares_memory(d.array, x.array) and d is not x
        primal, _ = fwAD.unpack_dual(d)
        assert np.shares_memory(primal.array, x.array)


def test_tensors_not_depending_on_a_dual_have_no_tangent():
    x, t, other = randn(3), randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert fwAD.unpack_dual(other * 2).tangent is None
        assert fwAD.unpack_dual(x).tangent is None            # the primal itself is not dual
        assert fwAD.unpack_dual(d.argmax()).tangent is None   # integer result
        assert fwAD.unpack_dual(d > 0).tangent is None
        np.testing.assert_array_equal(fwAD.unpack_dual(other).primal.numpy(), other.numpy())


def test_zero_derivative_gives_zero_tangent():
    x, t = randn(4), randn(4)
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(fwAD.make_dual(x, t).sign() * 3).tangent
    np.testing.assert_array_equal(tangent.numpy(), np.zeros(4))


def test_unpacked_primal_and_tangent_are_not_dual():
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        primal, tangent = fwAD.unpack_dual(d.sin())
        assert fwAD.unpack_dual(primal * 2).tangent is None
        assert fwAD.unpack_dual(tangent * 2).tangent is None
        # A constant times the dual: the primal enters as a constant.
        np.testing.assert_allclose(fwAD.unpack_dual(primal * d).tangent.numpy(),
                                   np.sin(x.numpy()) * t.numpy(), rtol=1e-12)


def test_forward_ad_works_under_no_grad():
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        h = d * 2                       # recorded with grad mode on
        with torch.no_grad():
            y = (h.exp() + d).sum()
            tangent = fwAD.unpack_dual(y).tangent
    expected = (2 * np.exp(2 * x.numpy()) * t.numpy() + t.numpy()).sum()
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-12)
    assert not tangent.requires_grad


def test_no_grad_recording_lets_no_ordinary_gradient_through():
    w = randn(3).requires_grad_()
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        with torch.no_grad():
            y = (d * w).sum()
        expected = (t.numpy() * w.detach().numpy()).sum()
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), expected, rtol=1e-12)
        y.backward()
    assert w.grad is None


def test_leaving_the_level_discards_tangents_and_levels_restart_at_zero():
    x, t = randn(3), randn(3)
    with fwAD.dual_level() as level:
        assert level == 0 and fwAD._current_level == 0
        d = fwAD.make_dual(x, t)
        y = d.exp()
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD._current_level == -1
    assert fwAD.unpack_dual(y).tangent is None
    assert fwAD.unpack_dual(d).tangent is None
    assert fwAD.unpack_dual(y).primal is y
    assert fwAD.enter_dual_level() == 0
    try:
        assert fwAD.unpack_dual(y).tangent is None   # an old level's dual is not dual here
        assert fwAD.unpack_dual(d.exp()).tangent is None
    finally:
        fwAD.exit_dual_level()


def test_dual_level_as_decorator_and_tangent_cache():
    x, t = randn(3), randn(3)

    @fwAD.dual_level()
    def run():
        y = fwAD.make_dual(x, t).cos()
        first = fwAD.unpack_dual(y).tangent
        assert fwAD.unpack_dual(y).tangent is first  # computed once
        return fwAD._current_level, first

    level, tangent = run()
    assert level == 0 and fwAD._current_level == -1
    np.testing.assert_allclose(tangent.numpy(), -np.sin(x.numpy()) * t.numpy(), rtol=1e-12)


def test_in_place_op_on_a_dual_tensor():
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x.clone(), t)
        d.mul_(3)
        d.exp_()
        tangent = fwAD.unpack_dual(d).tangent
        np.testing.assert_allclose(tangent.numpy(), np.exp(3 * x.numpy()) * 3 * t.numpy(), rtol=1e-12)
        # Documented difference: tangents are read off the graph when asked, so an
        # in-place change of a value an op saved raises, as a backward would.
        e = fwAD.make_dual(x.clone(), t)
        square = e * e
        e.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fwAD.unpack_dual(square)


def test_float32_tangent_of_float64_primal_kept_as_is():
    x = randn(3)
    t = torch.tensor(rng.standard_normal(3), dtype=torch.float32)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert fwAD.unpack_dual(d).tangent is t
        tangent = fwAD.unpack_dual(d * d).tangent
    assert tangent.dtype == torch.float64
    np.testing.assert_allclose(tangent.numpy(), 2 * x.numpy() * t.numpy().astype(np.float64), rtol=1e-12)


def test_backward_through_tangent_and_primal():
    """make_dual and unpack_dual are backward differentiable, as in PyTorch."""
    x, t = randn(3).requires_grad_(), randn(3).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        primal, tangent = fwAD.unpack_dual((d.sin() * 3).sum())
        assert primal.requires_grad and tangent.requires_grad
        # tangent = 3 cos(x) . t. Its graph runs through the primal's (the tangent was
        # read off it), so a backward through it keeps the graph for the next one.
        gx, gt = grad(tangent, (x, t), retain_graph=True)
        gp, = grad(primal, x)
    a, v = x.detach().numpy(), t.detach().numpy()
    np.testing.assert_allclose(gx.numpy(), -3 * np.sin(a) * v, rtol=1e-12)
    np.testing.assert_allclose(gt.numpy(), 3 * np.cos(a), rtol=1e-12)
    np.testing.assert_allclose(gp.numpy(), 3 * np.cos(a), rtol=1e-12)


def test_requires_grad_of_a_dual_tensor_differs_from_pytorch():
    """Documented difference: PyTorch's dual of a tensor that does not require grad
    is a leaf without requires_grad; minigrad's records a graph, so it requires grad.
    A backward from it still reaches no tensor that does not require grad."""
    x, t = randn(3), randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert d.requires_grad and d.grad_fn.name() == "ViewBackward0"
        (d * d).sum().backward()
    assert x.grad is None


# -------------------------------------------------------------------- errors
def test_errors():
    x, t = randn(3), randn(3)
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, t)
    assert fwAD.unpack_dual(x) == (x, None)
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given forward gradient "
                                               r"is of size \[4\]"):
            fwAD.make_dual(x, randn(4))
        with pytest.raises(RuntimeError, match=r"of size \[1\]"):
            fwAD.make_dual(x, randn(1))   # no broadcasting
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex, but got: "
                                             "minigrad.int64"):
            fwAD.make_dual(torch.arange(3), t)
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex"):
            fwAD.make_dual(x, torch.arange(3))
        d = fwAD.make_dual(x, t)
        for already_dual in (d, d * 2):
            with pytest.raises(RuntimeError, match="already has a forward gradient at the same level 0"):
                fwAD.make_dual(already_dual, t)
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fwAD.dual_level():
                pass
        with pytest.raises(RuntimeError, match="Trying to exit a forward AD level that was not the last one"):
            fwAD.exit_dual_level(level=5)
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(x, t, level=3)
        with pytest.raises(RuntimeError, match="Invalid level given to _fw_primal"):
            fwAD.unpack_dual(d, level=3)
        with pytest.raises(TypeError, match="must be Tensor, not list"):
            fwAD.unpack_dual([1.0])
        assert fwAD._current_level == 0   # the failed enter left the level open
    assert fwAD._current_level == -1


def test_unpack_dual_result_is_a_namedtuple():
    x, t = randn(2), randn(2)
    with fwAD.dual_level():
        result = fwAD.unpack_dual(fwAD.make_dual(x, t) * 2)
    assert isinstance(result, fwAD.UnpackedDualTensor) and isinstance(result, tuple)
    assert result._fields == ("primal", "tangent")
    np.testing.assert_allclose(result.tangent.numpy(), 2 * t.numpy())
    assert set(fwAD.__all__) == {"UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
                                 "unpack_dual", "dual_level"}
