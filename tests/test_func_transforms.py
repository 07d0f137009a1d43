"""torch.autograd.functional (jacobian vjp jvp) and torch.func (grad vjp jacrev jacfwd vmap
functional_call stack_module_state): closed-form Jacobians, float64 finite differences,
explicit loops, and PyTorch's errors."""
import numpy as np
import pytest

import minigrad as m
import minigrad.func as F
from minigrad.autograd.functional import jacobian, jvp, vjp

rng = np.random.default_rng(0)


def t(*shape):
    return m.tensor(rng.standard_normal(shape))


def finite_difference_jacobian(f, arrays, k, eps=1e-6):
    """d f(arrays) / d arrays[k] by central differences: shape f.shape + arrays[k].shape."""
    def value(xs):
        return np.asarray(f(*[m.tensor(a) for a in xs]).array, dtype=np.float64)
    base = value(arrays)
    jac = np.zeros(base.shape + arrays[k].shape)
    for index in np.ndindex(arrays[k].shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[k][index] += eps
        minus[k][index] -= eps
        jac[(Ellipsis,) + index] = (value(plus) - value(minus)) / (2 * eps)
    return jac


def softmax_jacobian(x):
    s = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    return np.diag(s) - np.outer(s, s)


# ---- jacobian

def test_jacobian_of_cube_is_diagonal():
    x = t(4)
    jac = jacobian(lambda a: a ** 3, x)
    assert isinstance(jac, m.Tensor) and jac.shape == (4, 4)
    np.testing.assert_allclose(jac.array, np.diag(3 * x.array ** 2), atol=1e-12)
    assert not jac.requires_grad


def test_jacobian_of_matrix_product_tuple_inputs():
    a, b = t(2, 3), t(3, 4)
    jac_a, jac_b = jacobian(lambda p, q: p @ q, (a, b))
    assert jac_a.shape == (2, 4, 2, 3) and jac_b.shape == (2, 4, 3, 4)
    # d(AB)[i,j]/dA[k,l] = delta_ik B[l,j];  d(AB)[i,j]/dB[k,l] = A[i,k] delta_jl
    np.testing.assert_allclose(jac_a.array, np.einsum("ik,lj->ijkl", np.eye(2), b.array), atol=1e-12)
    np.testing.assert_allclose(jac_b.array, np.einsum("ik,jl->ijkl", a.array, np.eye(4)), atol=1e-12)


def test_jacobian_of_softmax():
    x = t(5)
    np.testing.assert_allclose(jacobian(lambda a: a.softmax(0), x).array, softmax_jacobian(x.array), atol=1e-12)


def test_jacobian_nesting_of_tuple_outputs_and_inputs():
    x, y = t(3), t(3)
    jac = jacobian(lambda a, b: (a * b, (a ** 2).sum()), (x, y))
    assert len(jac) == 2 and len(jac[0]) == 2
    np.testing.assert_allclose(jac[0][0].array, np.diag(y.array))
    np.testing.assert_allclose(jac[0][1].array, np.diag(x.array))
    assert jac[1][0].shape == (3,) and jac[1][1].shape == (3,)
    np.testing.assert_allclose(jac[1][0].array, 2 * x.array)
    np.testing.assert_allclose(jac[1][1].array, 0)
    single_input = jacobian(lambda a: (a * 2, a.exp()), x)   # tuple of outputs, one input
    assert isinstance(single_input, tuple) and all(isinstance(j, m.Tensor) for j in single_input)
    np.testing.assert_allclose(single_input[1].array, np.diag(np.exp(x.array)))
    one_in_tuple = jacobian(lambda a: a * 2, (x,))           # a tuple of one input keeps its level
    assert isinstance(one_in_tuple, tuple) and one_in_tuple[0].shape == (3, 3)


def test_jacobian_matches_finite_differences():
    def f(a, b):
        return (a.tanh() @ b).sigmoid() * a.sum()
    a, b = t(2, 3), t(3, 2)
    jac = jacobian(f, (a, b))
    for k in range(2):
        np.testing.assert_allclose(jac[k].array, finite_difference_jacobian(f, [a.array, b.array], k),
                                   atol=1e-7)


def test_jacobian_scalar_input_and_output():
    x = m.tensor(0.7, dtype=m.float64)
    jac = jacobian(lambda a: a.sin(), x)
    assert jac.shape == () and np.isclose(jac.item(), np.cos(0.7))


def test_jacobian_float32():
    x = m.tensor(rng.standard_normal(3).astype(np.float32))
    jac = jacobian(lambda a: a * a, x)
    assert jac.dtype == m.float32
    np.testing.assert_allclose(jac.array, np.diag(2 * x.array), rtol=1e-6)


def test_jacobian_vectorize_and_forward_mode_give_the_same_values():
    x = t(4)
    expected = np.diag(np.cos(x.array))
    for kwargs in ({"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        np.testing.assert_allclose(jacobian(lambda a: a.sin(), x, **kwargs).array, expected)


def test_jacobian_unused_input_and_constant_output_give_zeros():
    x, y = t(3), t(3)
    jac_x, jac_y = jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_allclose(jac_x.array, 2 * np.eye(3))
    assert jac_y.shape == (3, 3) and not jac_y.array.any()
    assert not jacobian(lambda a: a.detach() * 2, x).array.any()


def test_jacobian_does_not_touch_the_given_tensors():
    x = t(3).requires_grad_(True)
    jacobian(lambda a: (a ** 2), x)
    assert x.grad is None


def test_jacobian_errors():
    x, y = t(3), t(3)
    with pytest.raises(AssertionError, match='Expected strategy to be either "forward-mode" or "reverse-mode"'):
        jacobian(lambda a: a, x, strategy="forward")
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        jacobian(lambda a: a, x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"`'):
        jacobian(lambda a: a, x, strict=True, strategy="forward-mode")
    with pytest.raises(NotImplementedError, match='`create_graph=True` and `strategy="forward-mode"`'):
        jacobian(lambda a: a, x, create_graph=True, strategy="forward-mode", vectorize=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        jacobian(lambda a: a.detach(), x, strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not supported together"):
        jacobian(lambda a: a * 2, x, strict=True, vectorize=True)
    with pytest.raises(TypeError, match="given inputs has type <class 'list'>"):
        jacobian(lambda a: a, [x])
    with pytest.raises(TypeError, match="value at index 1 has type <class 'int'>"):
        jacobian(lambda a, b: a, (x, 3))
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to jacobian"):
        jacobian(lambda a: 3, x)
    # create_graph=True: J(x) of x^3 is diag(3x^2), itself differentiable (d/dx of its trace: 6x)
    leaf = x.detach().requires_grad_(True)
    jac = jacobian(lambda a: a ** 3, leaf, create_graph=True)
    assert jac.requires_grad
    np.testing.assert_allclose(jac.array, np.diag(3 * x.array ** 2), atol=1e-12)
    (d_trace,) = m.autograd.grad((jac * m.eye(3, dtype=m.float64)).sum(), leaf)
    np.testing.assert_allclose(d_trace.array, 6 * x.array, atol=1e-12)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0. "
                                           "This is not allowed in strict mode when create_graph=True"):
        jacobian(lambda a: a * 2, leaf, create_graph=True, strict=True)   # a linear function: J constant


# ---- vjp and jvp

def test_vjp_is_v_times_the_jacobian():
    a, b = t(2, 3), t(3, 4)
    v = t(2, 4)
    out, (va, vb) = vjp(lambda p, q: p @ q, (a, b), v)
    np.testing.assert_allclose(out.array, a.array @ b.array)
    np.testing.assert_allclose(va.array, v.array @ b.array.T, atol=1e-12)   # v B^T
    np.testing.assert_allclose(vb.array, a.array.T @ v.array, atol=1e-12)   # A^T v
    assert not out.requires_grad and not va.requires_grad


def test_vjp_single_and_tuple_forms():
    x = t(4)
    out, g = vjp(lambda a: (a ** 2).sum(), x)          # v may be None for a one-element output
    assert isinstance(g, m.Tensor)
    np.testing.assert_allclose(g.array, 2 * x.array)
    v = t(4)
    outs, g = vjp(lambda a: (a.softmax(0), a.sum()), x, (v, m.tensor(2.0, dtype=m.float64)))
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_allclose(g.array, v.array @ softmax_jacobian(x.array) + 2.0, atol=1e-12)


def test_vjp_unused_input_is_zeros_and_errors():
    x, y = t(3), t(3)
    _, (gx, gy) = vjp(lambda a, b: a * 2, (x, y), x)
    np.testing.assert_allclose(gx.array, 2 * x.array)
    assert not gy.array.any()
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in strict mode"):
        vjp(lambda a, b: a * 2, (x, y), x, strict=True)
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function returns a single"):
        vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v has invalid size: should be "):
        vjp(lambda a: a * 2, x, t(2, 3))
    with pytest.raises(RuntimeError, match=r"Entry 0 in v has invalid size"):
        vjp(lambda a: (a * 2,), x, (t(2),))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        vjp(lambda a: (a, a), x, (x,))
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor"):
        vjp(lambda a: a, x, (x, x))
    leaf, v = x.detach().requires_grad_(True), t(3)
    out, g = vjp(lambda a: a ** 3, leaf, v, create_graph=True)   # v^T J = 3 x^2 v, differentiable in x
    assert out.requires_grad and g.requires_grad
    np.testing.assert_allclose(g.array, 3 * x.array ** 2 * v.array, atol=1e-12)
    (second,) = m.autograd.grad(g.sum(), leaf)
    np.testing.assert_allclose(second.array, 6 * x.array * v.array, atol=1e-12)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0. "
                                           "This is not allowed in strict mode when create_graph=True"):
        vjp(lambda a: a * 2, leaf, v, create_graph=True, strict=True)


def test_jvp_is_the_jacobian_times_v():
    a, b = t(2, 3), t(3, 4)
    va, vb = t(2, 3), t(3, 4)
    out, tangent = jvp(lambda p, q: p @ q, (a, b), (va, vb))
    # product rule: d(AB) = dA B + A dB
    np.testing.assert_allclose(tangent.array, va.array @ b.array + a.array @ vb.array, atol=1e-12)
    x, v = t(5), t(5)
    _, tangent = jvp(lambda p: p.softmax(0), x, v)
    np.testing.assert_allclose(tangent.array, softmax_jacobian(x.array) @ v.array, atol=1e-12)


def test_jvp_against_finite_differences_and_forms():
    def f(p):
        return (p ** 3).tanh()
    x, v = t(2, 3), t(2, 3)
    _, tangent = jvp(f, x, v)
    fd = finite_difference_jacobian(f, [x.array], 0)
    np.testing.assert_allclose(tangent.array, np.einsum("ijkl,kl->ij", fd, v.array), atol=1e-7)
    _, tangent = jvp(lambda p: p ** 3, m.tensor([2.0], dtype=m.float64))   # v None: a one-element input
    np.testing.assert_allclose(tangent.array, [12.0])
    const = m.ones(2, dtype=m.float64)
    outs, tangents = jvp(lambda p, q: (p * q, p.sum(), const), (x[0], x[1]), (v[0], v[1]))
    assert len(tangents) == 3 and tangents[1].shape == () and tangents[2].shape == (2,)
    np.testing.assert_allclose(tangents[0].array, v.array[0] * x.array[1] + x.array[0] * v.array[1])
    assert np.isclose(tangents[1].item(), v.array[0].sum()) and not tangents[2].array.any()


def test_jvp_errors():
    x, y = t(3), t(3)
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1"):
        jvp(lambda a, b: a * 2, (x, y), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="v can only be None if the input to the user-provided function"):
        jvp(lambda a: a, x)
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length"):
        jvp(lambda a, b: a * b, (x, y), (x,))
    w = t(3).requires_grad_(True)   # the second output depends on w only
    with pytest.raises(RuntimeError, match="independent of entry 1 in the grad_outputs when using the double "
                                           "backward trick"):
        jvp(lambda a: (a ** 2, w * 3), x.detach().requires_grad_(True), x, create_graph=True, strict=True)


def test_jvp_create_graph_is_the_double_backward_trick():
    x, v = t(2, 3), t(2, 3)
    leaf = x.detach().requires_grad_(True)
    out, tangent = jvp(lambda p: p.exp() * p, leaf, v, create_graph=True)
    # d(x e^x) = (1 + x) e^x dx, and d/dx of sum((1 + x) e^x v) = (2 + x) e^x v
    np.testing.assert_allclose(tangent.array, (1 + x.array) * np.exp(x.array) * v.array, atol=1e-12)
    assert out.requires_grad and tangent.requires_grad
    (second,) = m.autograd.grad(tangent.sum(), leaf)
    np.testing.assert_allclose(second.array, (2 + x.array) * np.exp(x.array) * v.array, atol=1e-12)
    a, b, va, vb = t(2, 3), t(3, 4), t(2, 3), t(3, 4)
    _, tangent = jvp(lambda p, q: p @ q, (a, b), (va, vb), create_graph=True)
    np.testing.assert_allclose(tangent.array, va.array @ b.array + a.array @ vb.array, atol=1e-12)
    assert tangent.requires_grad   # as in PyTorch: computed from new leaves that require grad


# ---- func.grad and friends

def test_func_grad_matches_autograd_grad():
    def loss(w, x):
        return ((x @ w).tanh() ** 2).mean()
    w, x = t(3, 2), t(4, 3)
    leaf = w.detach().requires_grad_(True)
    (expected,) = m.autograd.grad(loss(leaf, x), leaf)
    g = F.grad(loss)(w, x)
    np.testing.assert_allclose(g.array, expected.array)
    assert not g.requires_grad and w.grad is None
    gw, gx = F.grad(loss, argnums=(0, 1))(w, x)
    np.testing.assert_allclose(gx.array, finite_difference_jacobian(loss, [w.array, x.array], 1), atol=1e-7)
    np.testing.assert_allclose(F.grad(loss, argnums=-1)(w, x).array, gx.array)


def test_func_grad_pytree_aux_and_value():
    x, y = t(3), t(3)
    g = F.grad(lambda d: (d["a"] * d["b"][0] ** 2).sum())({"a": x, "b": [y]})
    assert list(g) == ["a", "b"] and isinstance(g["b"], list)
    np.testing.assert_allclose(g["a"].array, y.array ** 2)
    np.testing.assert_allclose(g["b"][0].array, 2 * x.array * y.array)
    g, aux = F.grad(lambda a: ((a ** 3).sum(), {"double": a * 2}), has_aux=True)(x)
    np.testing.assert_allclose(g.array, 3 * x.array ** 2)
    np.testing.assert_allclose(aux["double"].array, 2 * x.array)
    assert not aux["double"].requires_grad
    g, value = F.grad_and_value(lambda a: (a ** 3).sum())(x)
    assert np.isclose(value.item(), (x.array ** 3).sum())
    g, (value, aux) = F.grad_and_value(lambda a: ((a ** 2).sum(), a.sum()), has_aux=True)(x)
    np.testing.assert_allclose(g.array, 2 * x.array)
    unused = F.grad(lambda a, b: a.sum(), argnums=1)(x, y)
    assert not unused.array.any()


def test_func_grad_errors():
    x = t(3)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        F.grad(lambda a: a ** 2)(x)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor, got <class 'float'>"):
        F.grad(lambda a: 3.0)(x)
    with pytest.raises(RuntimeError, match="output of function f should be a tuple: \\(output, aux\\)"):
        F.grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type <class 'int'>"):
        F.grad(lambda a: (a.sum(), 3), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        F.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        F.grad(lambda a: a.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique, got \\(0, 0\\)"):
        F.grad(lambda a: a.sum(), argnums=(0, 0))(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        F.grad(lambda a: a.sum(), argnums=[0])(x)
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor, got <class 'float'>"):
        F.grad(lambda a: a)(3.0)


def test_nested_transforms_give_second_derivatives():
    x = m.tensor(1.5, dtype=m.float64)
    np.testing.assert_allclose(F.grad(F.grad(lambda a: a ** 3))(x).item(), 6 * 1.5)            # (x^3)'' = 6x
    np.testing.assert_allclose(F.grad(F.grad(F.grad(lambda a: a ** 3)))(x).item(), 6.0)        # third order
    y = t(3)
    # jacrev(jacrev(x^3)) [i, j, k] = 6 x_i delta_ij delta_ik
    third = np.zeros((3, 3, 3))
    for i in range(3):
        third[i, i, i] = 6 * y.array[i]
    np.testing.assert_allclose(F.jacrev(F.jacrev(lambda a: a ** 3))(y).array, third, atol=1e-12)
    # the functional jacobian of func.grad is the Hessian: of sum(x^3), diag(6x)
    np.testing.assert_allclose(jacobian(lambda a: F.grad(lambda b: (b ** 3).sum())(a), y).array,
                               np.diag(6 * y.array), atol=1e-12)
    np.testing.assert_allclose(F.jacfwd(F.grad(lambda b: (b ** 3).sum()))(y).array, np.diag(6 * y.array),
                               atol=1e-12)
    g = F.grad(lambda a: a ** 3)(x)
    assert not g.requires_grad   # nothing outside the transform requires grad: detached


def test_func_vjp():
    x, y = t(3), t(3)
    out, vjp_fn = F.vjp(lambda a, b: a * b, x, y)
    np.testing.assert_allclose(out.array, x.array * y.array)
    v = t(3)
    gx, gy = vjp_fn(v)
    np.testing.assert_allclose(gx.array, v.array * y.array)
    np.testing.assert_allclose(gy.array, v.array * x.array)
    np.testing.assert_allclose(vjp_fn(v)[0].array, gx.array)       # callable more than once
    out, vjp_fn = F.vjp(lambda a: {"p": a * 2, "q": (a.sin(),)}, x)
    (g,) = vjp_fn({"p": v, "q": (y,)})
    np.testing.assert_allclose(g.array, 2 * v.array + np.cos(x.array) * y.array)
    out, vjp_fn, aux = F.vjp(lambda a, b: (a * b, b + 1), x, y, has_aux=True)
    np.testing.assert_allclose(aux.array, y.array + 1)
    _, vjp_fn = F.vjp(lambda a, b: a * 2, x, y)
    assert not vjp_fn(v)[1].array.any()
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents to be the same as pytree "
                                           "structure of outputs to the function. cotangents: \\(\\*,\\), "
                                           "primal output: \\*"):
        F.vjp(lambda a: a * 2, x)[1]((v,))
    with pytest.raises(RuntimeError, match="All outputs of f must be floating-point or complex Tensors"):
        F.vjp(lambda a: (a > 0).long(), x)
    with pytest.raises(RuntimeError, match="Expected f to be a function that has non-empty output"):
        F.vjp(lambda a: (), x)


def test_jacrev_and_jacfwd():
    x, y = t(3), t(3)
    for transform in (F.jacrev, F.jacfwd):
        jac = transform(lambda a: a.softmax(0))(x)
        np.testing.assert_allclose(jac.array, softmax_jacobian(x.array), atol=1e-12)
        (jxx, jxy), (jsx, jsy) = transform(lambda a, b: (a * b, a.sum()), argnums=(0, 1))(x, y)
        np.testing.assert_allclose(jxx.array, np.diag(y.array))
        np.testing.assert_allclose(jxy.array, np.diag(x.array))
        np.testing.assert_allclose(jsx.array, np.ones(3))
        assert not jsy.array.any()
        jac, aux = transform(lambda a: (a.sin(), a.cos()), has_aux=True)(x)
        np.testing.assert_allclose(jac.array, np.diag(np.cos(x.array)))
        np.testing.assert_allclose(aux.array, np.cos(x.array))
    tree = F.jacrev(lambda a: {"u": a * 2, "v": [a.exp()]})(x)
    np.testing.assert_allclose(tree["v"][0].array, np.diag(np.exp(x.array)))
    j0, j1 = F.jacrev(lambda pair: pair[0] * pair[1])((x, y))
    np.testing.assert_allclose(j1.array, np.diag(x.array))
    a, b = t(2, 3), t(3, 4)
    np.testing.assert_allclose(F.jacrev(lambda p, q: p @ q, argnums=1)(a, b).array,
                               np.einsum("ik,jl->ijkl", a.array, np.eye(4)), atol=1e-12)
    with pytest.raises(ValueError, match="jacrev: `chunk_size` should be greater than 0."):
        F.jacrev(lambda p: p, chunk_size=0)
    with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
        F.jacfwd(lambda p: p * m.rand(3))(x)
    F.jacfwd(lambda p: p * m.rand(3), randomness="different")(x)


# ---- vmap

def test_vmap_matches_explicit_loops():
    xs, ys, v = t(4, 3), t(3, 4), t(3)
    np.testing.assert_allclose(F.vmap(lambda a: a.softmax(0))(xs).array,
                               np.stack([m.tensor(r).softmax(0).array for r in xs.array]))
    np.testing.assert_allclose(F.vmap(lambda a, b: a * b, in_dims=(0, 1))(xs, ys).array, xs.array * ys.array.T)
    np.testing.assert_allclose(F.vmap(lambda a, b: a @ b, in_dims=(0, None))(xs, v).array, xs.array @ v.array)
    np.testing.assert_allclose(F.vmap(lambda a, s: a * s, in_dims=(0, None))(xs, 2.5).array, xs.array * 2.5)
    np.testing.assert_allclose(F.vmap(lambda a, b=None: a * b)(xs, b=v).array, xs.array * v.array)
    z = t(4, 2, 3)
    np.testing.assert_allclose(F.vmap(lambda a: a.sum(0), in_dims=-1)(z).array, z.array.sum(0).T)
    out = F.vmap(lambda a: a * 2, out_dims=1)(z)
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(out.array, 2 * z.array.transpose(1, 0, 2))
    assert F.vmap(lambda a: a, out_dims=-1)(z).shape == (2, 3, 4)
    assert F.vmap(lambda a: m.ones(2))(xs).shape == (4, 2)          # unbatched results are expanded


def test_vmap_pytrees_and_out_dims():
    xs, ys, v = t(4, 3), t(3, 4), t(3)
    a, s = F.vmap(lambda p: (p, p.sum()), out_dims=(1, 0))(xs)
    assert a.shape == (3, 4)
    np.testing.assert_allclose(s.array, xs.array.sum(1))
    doubled, same = F.vmap(lambda p, q: (p * 2, q), in_dims=(0, None), out_dims=(0, None))(xs, v)
    assert same is v
    out = F.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))({"a": xs, "b": v})
    np.testing.assert_allclose(out.array, xs.array + v.array)
    out = F.vmap(lambda pair: pair[0] * pair[1], in_dims=([0, 1],))([xs, ys])
    np.testing.assert_allclose(out.array, xs.array * ys.array.T)
    out = F.vmap(lambda p: {"p": p, "q": [p * 2]}, out_dims={"p": 1, "q": [0]})(xs)
    assert out["p"].shape == (3, 4) and out["q"][0].shape == (4, 3)
    assert F.vmap(lambda p: 3.0, out_dims=None)(xs) == 3.0
    z = t(4, 2, 3)
    np.testing.assert_allclose(F.vmap(F.vmap(lambda p: p.sum()))(z).array, z.array.sum(2))
    nested = F.vmap(F.vmap(lambda p: p * 2, in_dims=1, out_dims=0), in_dims=2)(z)
    np.testing.assert_allclose(nested.array, 2 * z.array.transpose(2, 1, 0))
    empty = F.vmap(lambda p: p.sum(0))(m.ones(0, 3, dtype=m.float64))
    assert empty.shape == (0,)


def test_vmap_composes_with_grad():
    w, xs = t(3), t(5, 3)
    per_sample = F.vmap(F.grad(lambda w_, x: (x * w_).sum() ** 2), in_dims=(None, 0))(w, xs)
    np.testing.assert_allclose(per_sample.array, 2 * (xs.array @ w.array)[:, None] * xs.array)
    total = F.grad(lambda w_: F.vmap(lambda x: (x * w_).sum())(xs).pow(2).sum())(w)
    np.testing.assert_allclose(total.array, per_sample.array.sum(0))
    jacs = F.vmap(F.jacrev(lambda p: p.sin()))(xs)
    assert jacs.shape == (5, 3, 3)
    np.testing.assert_allclose(jacs.array[2], np.diag(np.cos(xs.array[2])))


def test_vmap_randomness():
    xs = t(4, 3)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness error mode"):
        F.vmap(lambda p: p + m.rand(3))(xs)
    same = F.vmap(lambda p: p + m.rand(3), randomness="same")(xs).array - xs.array
    np.testing.assert_allclose(same, np.broadcast_to(same[0], same.shape))
    different = F.vmap(lambda p: p + m.rand(3), randomness="different")(xs).array - xs.array
    assert not np.allclose(different, different[0])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness are 'error', 'different', or "
                                           "'same'. Got x"):
        F.vmap(lambda p: p, randomness="x")


def test_vmap_errors():
    xs, ys = t(4, 3), t(3, 4)
    with pytest.raises(ValueError, match=r"Expected all tensors to have the same size in the mapped dimension, "
                                         r"got sizes \[4, 3\]"):
        F.vmap(lambda p, q: p)(xs, ys)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a \\(potentially nested\\) tuple"):
        F.vmap(lambda p: p, in_dims=[0])(xs)
    with pytest.raises(ValueError, match=r"in_dims is not compatible with the structure of `inputs`. in_dims has "
                                         r"structure TreeSpec\(tuple, None, \[\*,\n  \*\]\) but inputs has "
                                         r"structure TreeSpec\(tuple, None, \[\*\]\)"):
        F.vmap(lambda p: p, in_dims=(0, 1))(xs)
    with pytest.raises(ValueError, match="in_dim must be either an integer dimension or None"):
        F.vmap(lambda p: p, in_dims=(1.5,))(xs)
    with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
        F.vmap(lambda p: p, in_dims=2)(xs)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        F.vmap(lambda p, q: p, in_dims=(0, 0))(xs, 3.0)
    with pytest.raises(ValueError, match="vmap: Expected at least one Tensor to vmap over"):
        F.vmap(lambda p: p, in_dims=(None,))(xs)
    with pytest.raises(ValueError, match="got no inputs"):
        F.vmap(lambda: 1)()
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'float'>"):
        F.vmap(lambda p: 3.0)(xs)
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        F.vmap(lambda p: p * 2, out_dims=None)(xs)
    with pytest.raises(ValueError, match="out_dims is not compatible with the structure of `outputs`"):
        F.vmap(lambda p: (p, p), out_dims=(0, 0, 0))(xs)
    with pytest.raises(ValueError, match="`out_dims` must be an int, None or a python collection of ints"):
        F.vmap(lambda p: p, out_dims="x")(xs)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        F.vmap(lambda p: p, out_dims=2)(xs)
    with pytest.raises(ValueError, match="vmap: chunk_size should be None or greater than 0. \\(got 0\\)"):
        F.vmap(lambda p: p, chunk_size=0)
    np.testing.assert_allclose(F.vmap(lambda p: p * 3, chunk_size=2)(xs).array, 3 * xs.array)


# ---- modules

def test_functional_call_and_stack_module_state():
    lin = m.nn.Linear(3, 2).double()
    w, x = t(2, 3), t(4, 3)
    np.testing.assert_allclose(F.functional_call(lin, {"weight": w}, (x,)).array,
                               x.array @ w.array.T + lin.bias.array)
    b = t(2)
    np.testing.assert_allclose(F.functional_call(lin, ({"weight": w}, {"bias": b}), x).array,
                               x.array @ w.array.T + b.array)
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        F.functional_call(lin, ({"weight": w}, {"weight": w}), x)
    with pytest.raises(ValueError, match="Expected all elements of parameter_and_buffer_dicts to be dictionaries"):
        F.functional_call(lin, [{"weight": w}, 3], x)
    with pytest.raises(ValueError, match="Expected parameter_and_buffer_dicts to be a dict, or a list/tuple"):
        F.functional_call(lin, 3, x)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        F.functional_call(lin, {"weight": w}, x, strict=True)

    models = [m.nn.Linear(3, 2).double() for _ in range(4)]
    params, buffers = F.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    assert params["weight"].grad_fn is None and buffers == {}
    ensemble = F.vmap(lambda p, inp: F.functional_call(models[0], p, (inp,)), in_dims=(0, None))(params, x)
    np.testing.assert_allclose(ensemble.array,
                               np.stack([x.array @ mod.weight.array.T + mod.bias.array for mod in models]))
    bn_params, bn_buffers = F.stack_module_state([m.nn.BatchNorm1d(3), m.nn.BatchNorm1d(3)])
    assert bn_buffers["running_mean"].shape == (2, 3) and not bn_buffers["running_mean"].requires_grad
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        F.stack_module_state([])
    with pytest.raises(RuntimeError, match="Expected all models to have the same training/eval mode"):
        F.stack_module_state([m.nn.Linear(2, 2), m.nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="Expected all models to be of the same class"):
        F.stack_module_state([m.nn.Linear(2, 2), m.nn.ReLU()])
    frozen = m.nn.Linear(2, 2)
    frozen.weight.requires_grad_(False)
    with pytest.raises(RuntimeError, match="Expected weight from each model to have the same .requires_grad"):
        F.stack_module_state([m.nn.Linear(2, 2), frozen])


def test_module_paths():
    import importlib
    assert importlib.import_module("minigrad.autograd.functional") is m.autograd.functional
    assert m.autograd.functional.jacobian is jacobian
    assert m.func.vmap is F.vmap


def test_func_jvp():
    a, b = t(2, 3), t(3, 4)
    ta, tb = t(2, 3), t(3, 4)
    out, tangent = F.jvp(lambda p, q: p @ q, (a, b), (ta, tb))
    np.testing.assert_allclose(out.array, a.array @ b.array)
    np.testing.assert_allclose(tangent.array, ta.array @ b.array + a.array @ tb.array, atol=1e-12)
    x, v = t(3), t(3)
    out, tangent = F.jvp(lambda d: {"u": d["p"] * d["q"][0]}, ({"p": x, "q": [x * 3]},), ({"p": v, "q": [v]},))
    np.testing.assert_allclose(tangent["u"].array, v.array * 3 * x.array + x.array * v.array)

    def f(p):
        return (p ** 3).tanh()
    _, tangent = F.jvp(f, (a,), (ta,))
    fd = finite_difference_jacobian(f, [a.array], 0)
    np.testing.assert_allclose(tangent.array, np.einsum("ijkl,kl->ij", fd, ta.array), atol=1e-7)
    out, tangent, aux = F.jvp(lambda p: (p.exp(), p * 2), (x,), (v,), has_aux=True)
    np.testing.assert_allclose(tangent.array, np.exp(x.array) * v.array)
    np.testing.assert_allclose(aux.array, 2 * x.array)
    _, tangent = F.jvp(lambda p: x * 2, (x,), (v,))
    assert not tangent.array.any()
    with pytest.raises(RuntimeError, match="The output of f is independent of the inputs. This is not allowed"):
        F.jvp(lambda p: x * 2, (x,), (v,), strict=True)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        F.jvp(lambda p: p, x, (v,))
    with pytest.raises(RuntimeError, match=r"Got primals with structure TreeSpec\(tuple, None, \[\*\]\) and "
                                           r"tangents with structure TreeSpec\(list, None, \[\*\]\)"):
        F.jvp(lambda p: p, (x,), [v])
    with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given forward gradient is of size"):
        F.jvp(lambda p: p, (x,), (t(2),))
    with pytest.raises(RuntimeError, match="Expected primals to contain at least one Tensor"):
        F.jvp(lambda: 1, (), ())
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        F.jvp(lambda p: (p, 3), (x,), (v,))
