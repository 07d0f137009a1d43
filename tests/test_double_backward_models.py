"""Gradients of gradients through whole models: the uses create_graph=True
exists for (gradient penalties, MAML, physics-informed losses, Hessians),
each checked against float64 finite differences of the first-order backward."""
import numpy as np

import minigrad as torch
import minigrad.nn.functional as F
from minigrad.autograd import grad, gradcheck


def _same_as_plain_backward(output, inputs):
    """The gradients recorded with create_graph=True are plain backward's (the
    finite differences below differentiate the recorded ones, so on their own
    they would not see a recorded gradient that is wrong from the start)."""
    recorded = grad(output, inputs, create_graph=True, retain_graph=True)
    plain = grad(output, inputs, retain_graph=True)
    return all(np.allclose(r.detach().numpy(), p.numpy(), rtol=1e-10, atol=1e-12) for r, p in zip(recorded, plain))


def _parameters(rng, *shapes):
    return [torch.tensor(rng.standard_normal(shape) * 0.5, dtype=torch.float64, requires_grad=True)
            for shape in shapes]


def test_gradient_penalty_of_a_conv_critic_matches_finite_differences():
    """WGAN-GP: penalty = mean((|dD/dx| - 1)^2), differentiated w.r.t. the critic's weights."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((3, 1, 6, 6)), dtype=torch.float64, requires_grad=True)
    params = _parameters(rng, (4, 1, 3, 3), (4,), (1, 4 * 3 * 3), (1,))

    @torch.enable_grad()  # gradcheck's finite differences run under no_grad: the inner grad needs a graph
    def penalty(conv_w, conv_b, lin_w, lin_b):
        h = F.leaky_relu(F.conv2d(x, conv_w, conv_b, padding=1), 0.2)
        h = F.max_pool2d(torch.tanh(h), 2).flatten(1)                # (3, 4*3*3)
        score = F.linear(h, lin_w, lin_b)                              # (3, 1)
        dx, = grad(score.sum(), x, create_graph=True)
        return ((dx.flatten(1).norm(dim=1) - 1) ** 2).mean()

    assert gradcheck(penalty, params, atol=1e-6, rtol=1e-4)
    h = F.max_pool2d(torch.tanh(F.leaky_relu(F.conv2d(x, params[0], params[1], padding=1), 0.2)), 2)
    assert _same_as_plain_backward(F.linear(h.flatten(1), params[2], params[3]).sum(), [x, *params])


def test_maml_outer_gradient_through_an_inner_step():
    """One inner SGD step on a task, the outer loss after it, differentiated w.r.t. the initial weights."""
    rng = np.random.default_rng(1)
    x_in, x_out = (torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float64) for _ in range(2))
    y_in, y_out = torch.tensor([0, 1, 2, 1, 0]), torch.tensor([2, 2, 0, 1, 1])
    params = _parameters(rng, (4, 3), (4,), (3, 4), (3,))

    def model(p, x):
        return F.linear(torch.tanh(F.linear(x, p[0], p[1])), p[2], p[3])

    @torch.enable_grad()  # gradcheck's finite differences run under no_grad: the inner grad needs a graph
    def outer_loss(*p):
        inner = F.cross_entropy(model(p, x_in), y_in)
        grads = grad(inner, p, create_graph=True)
        adapted = [w - 0.5 * g for w, g in zip(p, grads)]
        return F.cross_entropy(model(adapted, x_out), y_out)

    assert gradcheck(outer_loss, params, atol=1e-6, rtol=1e-4)
    assert _same_as_plain_backward(F.cross_entropy(model(params, x_in), y_in), params)


def test_physics_informed_loss_needs_third_derivatives():
    """u'' + sin(x) = 0 as a loss on a tanh network: the weights' gradient goes through u''."""
    rng = np.random.default_rng(2)
    params = _parameters(rng, (8, 1), (8,), (1, 8))

    @torch.enable_grad()  # gradcheck's finite differences run under no_grad: the inner grad needs a graph
    def residual_loss(w1, b1, w2):
        x = torch.linspace(-1, 1, 7, dtype=torch.float64).reshape(7, 1).requires_grad_()
        u = F.linear(torch.tanh(F.linear(x, w1, b1)), w2)
        du, = grad(u.sum(), x, create_graph=True)
        d2u, = grad(du.sum(), x, create_graph=True)
        return ((d2u + torch.sin(x)) ** 2).mean()

    assert gradcheck(residual_loss, params, atol=1e-6, rtol=1e-4)
    x = torch.linspace(-1, 1, 7, dtype=torch.float64).reshape(7, 1).requires_grad_()
    assert _same_as_plain_backward(F.linear(torch.tanh(F.linear(x, params[0], params[1])), params[2]).sum(),
                                   [x, *params])
    # and u'' itself against the closed form: u = w2 tanh(w1 x + b1)
    w1, b1, w2 = (p.detach().numpy() for p in params)
    x = torch.linspace(-1, 1, 7, dtype=torch.float64).reshape(7, 1).requires_grad_()
    u = F.linear(torch.tanh(F.linear(x, params[0], params[1])), params[2])
    du, = grad(u.sum(), x, create_graph=True)
    d2u, = grad(du.sum(), x)
    t = np.tanh(x.detach().numpy() @ w1.T + b1)                        # (7, 8)
    expected = (-2 * t * (1 - t ** 2) * w1[:, 0] ** 2) @ w2[0]
    assert np.allclose(d2u.numpy()[:, 0], expected, atol=1e-12)


def test_hessian_of_a_small_network_loss_matches_differences_of_its_gradient():
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.standard_normal((4, 2)), dtype=torch.float64)
    target = torch.tensor(rng.standard_normal((4, 1)), dtype=torch.float64)
    w0 = rng.standard_normal((1, 2))

    def loss(w):
        return F.mse_loss(torch.tanh(F.linear(x, w)), target)

    hessian = torch.autograd.functional.hessian(loss, torch.tensor(w0, dtype=torch.float64)).numpy()
    numeric = np.zeros((2, 2))
    for j in range(2):
        step = np.zeros((1, 2))
        step[0, j] = 1e-6
        grads = []
        for sign in (1, -1):
            w = torch.tensor(w0 + sign * step, dtype=torch.float64, requires_grad=True)
            g, = grad(loss(w), w)
            grads.append(g.numpy()[0])
        numeric[:, j] = (grads[0] - grads[1]) / 2e-6
    assert hessian.shape == (1, 2, 1, 2)
    assert np.allclose(hessian.reshape(2, 2), numeric, atol=1e-7)


def test_create_graph_gives_the_same_first_order_gradients():
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.standard_normal((2, 3, 8, 8)), dtype=torch.float32)
    conv_w = torch.tensor(rng.standard_normal((4, 3, 3, 3)) * 0.3, dtype=torch.float32, requires_grad=True)
    bn_w = torch.ones(4, requires_grad=True)

    def loss():
        h = F.conv2d(x, conv_w, padding=1)
        h = F.batch_norm(h, None, None, bn_w, None, training=True)
        return F.avg_pool2d(F.relu(h), 2).pow(2).sum()

    plain = grad(loss(), [conv_w, bn_w])
    recorded = grad(loss(), [conv_w, bn_w], create_graph=True)
    for a, b in zip(plain, recorded):
        assert np.allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_every_differentiable_op_has_a_backward_graph():
    """A new op must come with its double backward (or be one PyTorch has no derivative for)."""
    import importlib
    import pkgutil

    import minigrad
    from minigrad.autograd import Function, _CustomFunctionBackward
    for module in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
        importlib.import_module(module.name)
    no_derivative = {"Heaviside", "EmbeddingRenorm", "_NotDifferentiable",   # no derivative at all
                     "_SeveralOutputs",                                       # an abstract base
                     "_CustomFunctionBackward"}                               # a user's Function: its own backward
    seen, stack, missing = set(), [Function], []
    while stack:
        for cls in stack.pop().__subclasses__():
            if cls in seen:
                continue
            seen.add(cls)
            stack.append(cls)
            if (cls.__module__.startswith("minigrad.") and cls.works_on_arrays
                    and not issubclass(cls, _CustomFunctionBackward)   # a Tensor Function's node
                    and getattr(cls, "backward_graph", None) is None and cls.__name__ not in no_derivative):
                missing.append(f"{cls.__module__}.{cls.__name__}")
    assert len(seen) > 150 and missing == []
