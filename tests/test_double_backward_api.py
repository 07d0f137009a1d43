"""Second derivatives through the APIs on top of create_graph=True: autograd.functional
(hessian vhp hvp, create_graph in vjp jvp jacobian), torch.func's nested transforms, and
the engine-level pieces a double backward walks through (a user's Function,
once_differentiable, checkpoint, module full backward hooks, tensor hooks, retain_grad).
Values against closed forms and float64 finite differences; only ops that have a
backward_graph (elementwise, sum/mean, reshape/getitem/stack, matmul, linear)."""
import numpy as np
import pytest

import minigrad as m
import minigrad.func as F
from minigrad import nn
from minigrad.autograd import Function, once_differentiable
from minigrad.autograd.functional import hessian, hvp, jacobian, vhp, vjp
from minigrad.utils.checkpoint import checkpoint

rng = np.random.default_rng(7)


def t(*shape, requires_grad=False):
    return m.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


def fd_hessian(f, x, eps=1e-4):
    """d^2 f / dx dx by central differences of f's values (x: float64 array)."""
    n = x.size
    h = np.zeros((n, n))
    flat = x.reshape(-1)
    for i in range(n):
        for j in range(n):
            def at(di, dj):
                y = flat.copy()
                y[i] += di
                y[j] += dj
                return float(f(m.tensor(y.reshape(x.shape))).item())
            h[i, j] = (at(eps, eps) - at(eps, -eps) - at(-eps, eps) + at(-eps, -eps)) / (4 * eps * eps)
    return h.reshape(x.shape + x.shape)


def quartic(a):   # sum(x^2 e^x) / 2 + sum(x)^2: a dense Hessian
    return (a * a * a.exp()).sum() / 2 + a.sum() ** 2


# ---- autograd.functional.hessian

def test_hessian_closed_forms():
    x = t(4)
    h = hessian(lambda a: (a ** 3).sum(), x)
    assert isinstance(h, m.Tensor) and h.shape == (4, 4) and not h.requires_grad
    np.testing.assert_allclose(h.array, np.diag(6 * x.array), atol=1e-12)
    A = t(4, 4)
    np.testing.assert_allclose(hessian(lambda a: a @ A @ a, x).array, A.array + A.array.T, atol=1e-12)
    X = t(2, 3)   # matrix input: shape (2, 3, 2, 3)
    h = hessian(lambda a: (a ** 3).sum(), X)
    assert h.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(h.array.reshape(6, 6), np.diag(6 * X.array.reshape(-1)), atol=1e-12)
    np.testing.assert_allclose(hessian(quartic, X).array, fd_hessian(quartic, X.array), atol=1e-5)


def test_hessian_tuple_inputs_and_strategies():
    x, y = t(3), t(2)
    W = t(2, 3)
    # f = sum(y * (W x)^2) / 2: d2/dx2 = W^T diag(y) W, d2/dx dy = W^T diag(W x), d2/dy2 = 0
    f = lambda a, b: (b * (W @ a) ** 2).sum() / 2   # noqa: E731
    (hxx, hxy), (hyx, hyy) = hessian(f, (x, y))
    Wx = W.array @ x.array
    assert (hxx.shape, hxy.shape, hyx.shape, hyy.shape) == ((3, 3), (3, 2), (2, 3), (2, 2))
    np.testing.assert_allclose(hxx.array, W.array.T @ np.diag(y.array) @ W.array, atol=1e-12)
    np.testing.assert_allclose(hxy.array, W.array.T * Wx, atol=1e-12)
    np.testing.assert_allclose(hyx.array, hxy.array.T, atol=1e-12)
    assert not hyy.array.any()
    for options in ({"vectorize": True}, {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}):
        (a, b), (c, d) = hessian(f, (x, y), **options)
        np.testing.assert_allclose(b.array, hxy.array, atol=1e-12)
    single = hessian(lambda a, b: (a * b).sum(), (x[:2], y))   # a tuple of one level per input
    np.testing.assert_allclose(single[0][1].array, np.eye(2), atol=1e-12)


def test_hessian_create_graph_gives_third_derivatives():
    x = t(3, requires_grad=True)
    h = hessian(lambda a: (a ** 4).sum(), x, create_graph=True)   # diag(12 x^2)
    assert h.requires_grad
    np.testing.assert_allclose(h.array, np.diag(12 * x.array ** 2), atol=1e-12)
    (third,) = m.autograd.grad(h.sum(), x)   # d/dx sum(diag(12 x^2)) = 24 x
    np.testing.assert_allclose(third.array, 24 * x.array, atol=1e-12)
    assert not hessian(lambda a: (a ** 4).sum(), x).requires_grad


def test_hessian_errors():
    x = t(3)
    with pytest.raises(TypeError, match="The inputs given to hessian must be either a Tensor or a tuple"):
        hessian(lambda a: a.sum(), [x])
    with pytest.raises(AssertionError, match='Expected strategy to be either "forward-mode" or "reverse-mode".'):
        hessian(lambda a: a.sum(), x, outer_jacobian_strategy="forward")
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single Tensor"):
        hessian(lambda a: (a.sum(),), x)
    with pytest.raises(RuntimeError, match="function given to hessian should contain a single element"):
        hessian(lambda a: a ** 2, x)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0 is "
                                           "independent of the input"):
        hessian(lambda a: (a * 2).sum(), x, strict=True)   # linear: its gradient is constant
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        hessian(lambda a: (a ** 3).sum(), x, outer_jacobian_strategy="forward-mode")
    with pytest.raises(NotImplementedError, match='`create_graph=True` and `strategy="forward-mode"`'):
        hessian(lambda a: (a ** 3).sum(), x, create_graph=True, vectorize=True,
                outer_jacobian_strategy="forward-mode")
    # not strict: a linear function's Hessian is zeros
    assert not hessian(lambda a: (a * 2).sum(), x).array.any()


# ---- vhp and hvp

def test_vhp_and_hvp_values():
    x, v = t(4), t(4)
    A = t(4, 4)
    out, product = vhp(lambda a: a @ A @ a, x, v)
    np.testing.assert_allclose(out.array, x.array @ A.array @ x.array)
    np.testing.assert_allclose(product.array, v.array @ (A.array + A.array.T), atol=1e-12)
    _, product = hvp(lambda a: a @ A @ a, x, v)
    np.testing.assert_allclose(product.array, (A.array + A.array.T) @ v.array, atol=1e-12)
    X, V = t(2, 3), t(2, 3)
    expected = np.einsum("ijkl,kl->ij", fd_hessian(quartic, X.array), V.array)
    for function in (vhp, hvp):
        out, product = function(quartic, X, V)
        assert product.shape == (2, 3) and not product.requires_grad and not out.requires_grad
        np.testing.assert_allclose(product.array, expected, atol=1e-5)
    one = m.tensor([2.0], dtype=m.float64)   # v None: a one-element input
    np.testing.assert_allclose(hvp(lambda a: (a ** 3).sum(), one)[1].array, [12.0])
    np.testing.assert_allclose(vhp(lambda a: (a ** 3).sum(), one)[1].array, [12.0])


def test_vhp_hvp_tuple_inputs_and_create_graph():
    x, y, vx, vy = t(3), t(3), t(3), t(3)
    f = lambda a, b: (a * a * b).sum()   # noqa: E731  H = [[diag(2b), diag(2a)], [diag(2a), 0]]
    for function in (vhp, hvp):
        _, (px, py) = function(f, (x, y), (vx, vy))
        np.testing.assert_allclose(px.array, 2 * y.array * vx.array + 2 * x.array * vy.array, atol=1e-12)
        np.testing.assert_allclose(py.array, 2 * x.array * vx.array, atol=1e-12)
    leaf = x.detach().requires_grad_(True)
    for function in (vhp, hvp):
        out, product = function(lambda a: (a ** 4).sum(), leaf, vx, create_graph=True)   # 12 x^2 v
        assert out.requires_grad and product.requires_grad
        np.testing.assert_allclose(product.array, 12 * x.array ** 2 * vx.array, atol=1e-12)
        (third,) = m.autograd.grad(product.sum(), leaf)
        np.testing.assert_allclose(third.array, 24 * x.array * vx.array, atol=1e-12)


def test_vhp_hvp_errors():
    x = t(3)
    for function, name in ((vhp, "vhp"), (hvp, "hvp")):
        with pytest.raises(RuntimeError, match=f"The function given to {name} should return a single Tensor"):
            function(lambda a: (a.sum(),), x, x)
        with pytest.raises(RuntimeError, match=f"The Tensor returned by the function given to {name} should "
                                               f"contain a single element"):
            function(lambda a: a ** 2, x, x)
        with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the user-provided"):
            function(lambda a: a.sum(), x)
        with pytest.raises(RuntimeError, match="v has invalid size"):
            function(lambda a: a.sum(), x, t(2))
        with pytest.raises(RuntimeError, match="the jacobian of the user-provided function with respect to "
                                               "input 0 is independent of the input"):
            function(lambda a: (a * 2).sum(), x, x, strict=True)
        with pytest.raises(TypeError, match=f"The inputs given to {name} must be either a Tensor"):
            function(lambda a: a.sum(), [x], x)
    y = t(3)
    for function in (vhp, hvp):
        with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1"):
            function(lambda a, b: (a ** 3).sum(), (x, y), (x, y), strict=True)


# ---- vjp create_graph: a gradient penalty

def test_gradient_penalty_through_functional_vjp():
    w = t(3, requires_grad=True)
    x = t(5, 3)

    def score(inputs):
        return ((inputs @ w) ** 2).sum()
    # d score / d x = 2 (x w) w^T; penalty = sum of its squares = 4 sum((x w)^2) |w|^2
    _, g = vjp(score, x.detach().requires_grad_(True), create_graph=True)
    penalty = (g ** 2).sum()
    xw, ww = x.array @ w.array, w.array @ w.array
    np.testing.assert_allclose(penalty.item(), 4 * (xw ** 2).sum() * ww)
    (dw,) = m.autograd.grad(penalty, w)   # d/dw [4 |xw|^2 |w|^2] = 8 x^T (x w) |w|^2 + 8 |xw|^2 w
    np.testing.assert_allclose(dw.array, 8 * x.array.T @ xw * ww + 8 * (xw ** 2).sum() * w.array, atol=1e-10)


# ---- torch.func

def test_func_nested_grad_hessian_and_jacobians():
    x = t(4)
    A = t(4, 4)
    np.testing.assert_allclose(F.hessian(lambda a: (a ** 3).sum())(x).array, np.diag(6 * x.array), atol=1e-12)
    np.testing.assert_allclose(F.hessian(lambda a: a @ A @ a)(x).array, A.array + A.array.T, atol=1e-12)
    np.testing.assert_allclose(F.jacrev(F.grad(quartic))(x).array, fd_hessian(quartic, x.array), atol=1e-5)
    np.testing.assert_allclose(F.jacfwd(F.jacrev(quartic))(x).array, fd_hessian(quartic, x.array), atol=1e-5)
    # argnums: the Hessian block with respect to the second argument
    np.testing.assert_allclose(F.hessian(lambda a, b: (a * b ** 3).sum(), argnums=1)(x, x).array,
                               np.diag(6 * x.array * x.array), atol=1e-12)
    # grad of a function that uses a gradient: d/dx sum((d/dx sum(x^3))^2) = d/dx sum(9 x^4) = 36 x^3
    g2 = F.grad(lambda a: (F.grad(lambda b: (b ** 3).sum())(a) ** 2).sum())(x)
    np.testing.assert_allclose(g2.array, 36 * x.array ** 3, atol=1e-10)
    assert not g2.requires_grad


def test_func_results_stay_connected_to_tensors_outside():
    x = t(3)
    w = t(3, requires_grad=True)
    g = F.grad(lambda a: (a * a * w).sum())(x)   # 2 x w, and it depends on w (captured)
    assert g.requires_grad
    (dw,) = m.autograd.grad(g.sum(), w)
    np.testing.assert_allclose(dw.array, 2 * x.array, atol=1e-12)
    leaf = x.detach().requires_grad_(True)   # an argument that requires grad
    g = F.grad(lambda a: (a ** 3).sum())(leaf)
    (second,) = m.autograd.grad(g.sum(), leaf)
    np.testing.assert_allclose(second.array, 6 * x.array, atol=1e-12)
    with m.no_grad():
        assert not F.grad(lambda a: (a ** 3).sum())(leaf).requires_grad


def test_func_vjp_fn_create_graph():
    x, v = t(3), t(3)
    out, vjp_fn = F.vjp(lambda a: a ** 3, x)
    (g,) = vjp_fn(v, create_graph=True)   # nothing outside requires grad: detached, as in PyTorch
    assert not g.requires_grad
    np.testing.assert_allclose(g.array, 3 * x.array ** 2 * v.array)
    leaf = x.detach().requires_grad_(True)
    out, vjp_fn = F.vjp(lambda a: a ** 3, leaf)
    assert out.requires_grad
    (g,) = vjp_fn(v)   # create_graph None: grad mode is on, so recorded
    (second,) = m.autograd.grad(g.sum(), leaf)
    np.testing.assert_allclose(second.array, 6 * x.array * v.array, atol=1e-12)
    assert not vjp_fn(v, create_graph=False)[0].requires_grad
    # the cotangent in the graph: d/dv <v^T J, 1> = J 1 = 3 x^2
    cotangent = v.detach().requires_grad_(True)
    _, vjp_fn = F.vjp(lambda a: a ** 3, x)
    (g,) = vjp_fn(cotangent)
    (dv,) = m.autograd.grad(g.sum(), cotangent)
    np.testing.assert_allclose(dv.array, 3 * x.array ** 2, atol=1e-12)


def test_func_jvp_differentiable_and_vmap_of_grad():
    x, tangent = t(3), t(3)
    leaf = x.detach().requires_grad_(True)
    _, jt = F.jvp(lambda a: a ** 3, (leaf,), (tangent,))   # 3 x^2 t
    np.testing.assert_allclose(jt.array, 3 * x.array ** 2 * tangent.array, atol=1e-12)
    (second,) = m.autograd.grad(jt.sum(), leaf)
    np.testing.assert_allclose(second.array, 6 * x.array * tangent.array, atol=1e-12)
    # per-sample gradients of a linear model's squared error: 2 (w.x_i - y_i) x_i
    w, xs, ys = t(3), t(5, 3), t(5)

    def loss(weights, features, target):
        return (features @ weights - target) ** 2
    per_sample = F.vmap(F.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    residual = xs.array @ w.array - ys.array
    np.testing.assert_allclose(per_sample.array, 2 * residual[:, None] * xs.array, atol=1e-12)
    # and per-sample Hessians: 2 x_i x_i^T
    hessians = F.vmap(F.hessian(loss), in_dims=(None, 0, 0))(w, xs, ys)
    np.testing.assert_allclose(hessians.array, 2 * np.einsum("ni,nj->nij", xs.array, xs.array), atol=1e-12)


# ---- engine-level pieces under create_graph

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad   # differentiable ops: runs with grad mode on in a create_graph walk


class CubeOnce(Cube):
    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


def test_custom_function_double_backward_and_once_differentiable():
    x = t(4, requires_grad=True)
    (g,) = m.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = m.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.array, 6 * x.array, atol=1e-12)
    assert m.autograd.gradgradcheck(Cube.apply, (x,))
    (g,) = m.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)   # the first order still works
    np.testing.assert_allclose(g.array, 3 * x.array ** 2, atol=1e-12)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        m.autograd.grad(g.sum(), x)


def test_checkpoint_under_create_graph():
    x = t(4, requires_grad=True)
    w = t(4, requires_grad=True)   # captured by the checkpointed function

    def block(a):
        return (a ** 3 * w).sum()
    y = checkpoint(block, x, use_reentrant=False)
    gx, gw = m.autograd.grad(y, (x, w), create_graph=True)   # 3 x^2 w, x^3
    np.testing.assert_allclose(gx.array, 3 * x.array ** 2 * w.array, atol=1e-12)
    hx, hw = m.autograd.grad(gx.sum(), (x, w))   # 6 x w, 3 x^2
    np.testing.assert_allclose(hx.array, 6 * x.array * w.array, atol=1e-12)
    np.testing.assert_allclose(hw.array, 3 * x.array ** 2, atol=1e-12)
    x.grad = None
    checkpoint(block, x, use_reentrant=False).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.array, 6 * x.array * w.array, atol=1e-12)
    # use_reentrant=True backpropagates with .backward() inside: first order only, as in PyTorch
    x.grad = None
    checkpoint(block, x, use_reentrant=True).backward(create_graph=True)
    np.testing.assert_allclose(x.grad.array, 3 * x.array ** 2 * w.array, atol=1e-12)
    assert not x.grad.requires_grad


def test_module_full_backward_hook_under_create_graph():
    m.manual_seed(0)
    linear = nn.Linear(3, 2).double()
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append((grad_input[0].requires_grad, grad_output[0].requires_grad))
        return (grad_input[0] * 2,)   # a new grad_input, computed in the graph
    linear.register_full_backward_hook(hook)
    x = t(3, requires_grad=True)
    (g,) = m.autograd.grad((linear(x) ** 2).sum(), x, create_graph=True)
    W, b = linear.weight.array, linear.bias.array
    np.testing.assert_allclose(g.array, 2 * 2 * W.T @ (W @ x.array + b), atol=1e-12)   # doubled by the hook
    # the second walk goes through the module's hook nodes again and doubles once more:
    # 8 W^T W 1 (PyTorch's value too)
    (h,) = m.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.array, 8 * np.ones(3) @ (W.T @ W), atol=1e-12)
    assert seen[0] == (True, True)   # the hook saw Tensors with a graph (PyTorch: the same)


def test_tensor_hooks_and_retain_grad_in_a_create_graph_walk():
    x = t(3, requires_grad=True)
    y = x * x
    received = []
    y.register_hook(lambda grad: received.append(grad))
    y.retain_grad()
    ((y ** 2).sum()).backward(create_graph=True)
    assert received[0].requires_grad and received[0].grad_fn is not None   # 2 y, in the graph
    np.testing.assert_allclose(received[0].array, 2 * y.array, atol=1e-12)
    assert y.grad.requires_grad
    np.testing.assert_allclose(y.grad.array, 2 * y.array, atol=1e-12)
    (second,) = m.autograd.grad(y.grad.sum(), x)   # d/dx sum(2 x^2) = 4 x
    np.testing.assert_allclose(second.array, 4 * x.array, atol=1e-12)
    np.testing.assert_allclose(x.grad.array, 4 * x.array ** 3, atol=1e-12)   # d/dx sum(x^4)
    # a hook that returns a new gradient in the graph; it runs again in the second walk (as in PyTorch)
    z = x * x
    z.register_hook(lambda grad: grad * z)
    (g,) = m.autograd.grad(z.sum(), x, create_graph=True)   # z * 2x = 2 x^3
    np.testing.assert_allclose(g.array, 2 * x.array ** 3, atol=1e-12)
    # d/dx of sum(2 x z): 2 z directly, and 2 x reaching z, which the hook multiplies by z
    # again before z's own backward (times 2 x): 2 x^2 + 4 x^4 (PyTorch's value too)
    (h,) = m.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.array, 2 * x.array ** 2 + 4 * x.array ** 4, atol=1e-12)


def test_jacobian_create_graph_tuple_shapes():
    x, y = t(2), t(3)
    jac = jacobian(lambda a, b: (a[:, None] * b, (a ** 2).sum()), (x.requires_grad_(True), y),
                   create_graph=True)
    assert [[j.shape for j in row] for row in jac] == [[(2, 3, 2), (2, 3, 3)], [(2,), (3,)]]
    assert jac[1][0].requires_grad   # 2 a, connected to x
    (d,) = m.autograd.grad(jac[1][0].sum(), x)
    np.testing.assert_allclose(d.array, [2.0, 2.0])
