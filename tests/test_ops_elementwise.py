"""Elementwise ops: forward against NumPy, gradients with gradcheck in float64
on random shapes with broadcasting, and the documented choices at kinks and ties."""
import warnings

import numpy as np
import pytest
from scipy.special import expit

import minigrad as mg


def broadcast_pair(seed):
    """Two random shapes that broadcast together: dims dropped or set to 1."""
    rng = np.random.default_rng(seed)
    full = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 4)))

    def thin(shape):
        kept = shape[rng.integers(0, len(shape) + 1):]
        return tuple(1 if rng.random() < 0.4 else n for n in kept)

    return thin(full), thin(full)


SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (2, 3)),
               ((2, 3), ()), ((1,), (3, 1, 2))] + [broadcast_pair(seed) for seed in range(6)]


def leaf(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def away_from_zero(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


BINARY = {
    # name: (minigrad function, numpy function, makes b (rng, shape) -> array)
    "add": (lambda a, b: a + b, np.add, None),
    "sub": (lambda a, b: a - b, np.subtract, None),
    "mul": (lambda a, b: a * b, np.multiply, None),
    "div": (lambda a, b: a / b, np.divide, away_from_zero),
    "maximum": (mg.maximum, np.maximum, None),
    "minimum": (mg.minimum, np.minimum, None),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_binary_forward_and_gradcheck(name, shapes, rng):
    function, reference, make_b = BINARY[name]
    a_np = rng.standard_normal(shapes[0])
    b_np = np.asarray(make_b(rng, shapes[1]) if make_b else rng.standard_normal(shapes[1]))
    out = function(mg.tensor(a_np.astype(np.float32)), mg.tensor(b_np.astype(np.float32)))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, reference(a_np, b_np), rtol=1e-5, atol=1e-6)
    assert mg.gradcheck(function, (leaf(a_np), leaf(b_np)))


def test_a_tensor_times_itself_gets_both_gradients_once_each(rng):
    """x * x: Mul's backward sends 2 * (grad * x) once (the sum of its two gradients,
    exactly); another tensor holding the same array still gets only its own."""
    x = leaf(rng.standard_normal((3, 5)).astype(np.float32))
    grad = rng.standard_normal((3, 5)).astype(np.float32)
    (x * x).backward(mg.tensor(grad))
    np.testing.assert_array_equal(x.grad.array, grad * x.array + grad * x.array)
    x.grad = None
    same_values = x.detach()                 # the same array, not the same tensor
    (x * same_values).backward(mg.tensor(grad))
    np.testing.assert_array_equal(x.grad.array, grad * x.array)
    x.grad = None
    ((x * x) * 3).sum().backward(create_graph=True)     # the graph path: 6x, then its gradient 6
    np.testing.assert_allclose(x.grad.array, 6 * x.array, rtol=1e-6)
    assert mg.gradcheck(lambda t: t * t, (leaf(rng.standard_normal((2, 3))),))


@pytest.mark.parametrize("shapes", SHAPE_PAIRS[:6], ids=str)
def test_pow_forward_and_gradcheck_for_base_and_exponent(shapes, rng):
    base = rng.uniform(0.5, 2.0, shapes[0])
    exponent = rng.standard_normal(shapes[1])
    out = mg.tensor(base) ** mg.tensor(exponent)
    np.testing.assert_allclose(out.array, base ** exponent, rtol=1e-12)
    assert mg.gradcheck(lambda b, e: b ** e, (leaf(base), leaf(exponent)))


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, -1.5, 0])
def test_pow_with_a_python_exponent(exponent, rng):
    base = rng.uniform(0.5, 2.0, (3, 2))
    np.testing.assert_allclose((mg.tensor(base) ** exponent).array, base ** exponent)
    assert mg.gradcheck(lambda b: b ** exponent, (leaf(base),))


def test_pow_gradient_at_zero():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 4.0])
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 0).sum().backward()  # d(x^0)/dx is 0 everywhere, 0^-1 never appears
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0])


def test_scalar_base_pow_gradient(rng):
    exponent = rng.standard_normal((2, 3))
    np.testing.assert_allclose((2.0 ** mg.tensor(exponent)).array, 2.0 ** exponent)
    assert mg.gradcheck(lambda e: 2.0 ** e, (leaf(exponent),))


UNARY = {
    # name: (minigrad function, numpy reference, input maker)
    "neg": (lambda x: -x, np.negative, lambda rng, s: rng.standard_normal(s)),
    "exp": (mg.exp, np.exp, lambda rng, s: rng.standard_normal(s)),
    "log": (mg.log, np.log, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "sqrt": (mg.sqrt, np.sqrt, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "abs": (mg.abs, np.abs, away_from_zero),
    "tanh": (mg.tanh, np.tanh, lambda rng, s: rng.standard_normal(s)),
    "sigmoid": (mg.sigmoid, expit, lambda rng, s: rng.standard_normal(s) * 3),
    "relu": (mg.relu, lambda x: np.maximum(x, 0), away_from_zero),
    "clamp": (lambda x: x.clamp(-0.3, 0.6), lambda x: np.clip(x, -0.3, 0.6),
              lambda rng, s: rng.choice([-1.0, 0.0, 0.45, 1.0], s) + rng.uniform(-0.1, 0.1, s)),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda x: np.maximum(x, 0.1),
                  lambda rng, s: 0.1 + away_from_zero(rng, s, 0.05, 1.0)),
    "clamp_max": (lambda x: mg.clamp(x, max=0.1), lambda x: np.minimum(x, 0.1),
                  lambda rng, s: 0.1 + away_from_zero(rng, s, 0.05, 1.0)),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)], ids=str)
def test_unary_forward_and_gradcheck(name, shape, rng):
    function, reference, make = UNARY[name]
    x = np.asarray(make(rng, shape), dtype=np.float64)
    out = function(mg.tensor(x.astype(np.float32)))
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_allclose(out.array, reference(x), rtol=1e-5, atol=1e-6)
    # The same op called as a Tensor method gives the same result.
    if name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"):
        np.testing.assert_array_equal(getattr(mg.tensor(x), name)().array, reference(x))
    assert mg.gradcheck(function, (leaf(x),))


def test_gradients_at_kinks_and_ties():
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [-1.0, 0.0, 2.0])  # relu'(0) = abs'(0) = 0

    x = mg.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()  # 1 on the closed interval [min, max]
    np.testing.assert_array_equal(x.grad.array, [0.0, 1.0, 1.0, 1.0, 0.0])

    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()  # a tie splits the gradient evenly
    np.testing.assert_array_equal(a.grad.array, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.array, [1.0, 0.5, 0.0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.array, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b.grad.array, [0.0, 0.5, 1.0])


def test_sigmoid_saturates_without_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mg.tensor([-1000.0, 0.0, 1000.0]).sigmoid()
    np.testing.assert_array_equal(out.array, [0.0, 0.5, 1.0])


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        mg.tensor([1.0]).clamp()


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()),
                                    ((2, 1, 3), (1, 4, 1), (4, 3))], ids=str)
def test_where_forward_and_gradcheck(shapes, rng):
    condition = rng.random(shapes[0]) > 0.5
    a, b = rng.standard_normal(shapes[1]), rng.standard_normal(shapes[2])
    out = mg.where(mg.tensor(condition), mg.tensor(a), mg.tensor(b))
    np.testing.assert_array_equal(out.array, np.where(condition, a, b))
    assert mg.gradcheck(lambda x, y: mg.where(mg.tensor(condition), x, y), (leaf(a), leaf(b)))


def test_where_with_a_scalar_branch_keeps_float32():
    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    out = mg.where(x > 0, x, 0.0)
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 1.0])


def test_where_bad_shapes_name_all_three():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\).*\(4,\)"):
        mg.where(mg.tensor([True, False]), mg.zeros(3), mg.zeros(4))


@pytest.mark.parametrize("op", [lambda w: w * 0.5, lambda w: w / 3, lambda w: 1 - w,
                                lambda w: w ** 2, lambda w: mg.maximum(w, 0.0), lambda w: w.exp()])
def test_float32_gradients_stay_float32(op):
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    out = op(w)
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.shape == (2,)


def test_gradient_is_summed_back_over_broadcast_dims():
    bias = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = mg.ones(4, 2, 3)
    (x * bias).sum().backward()
    np.testing.assert_array_equal(bias.grad.array, [8.0, 8.0, 8.0])
    column = mg.tensor([[1.0], [2.0]], requires_grad=True)
    (x + column).sum().backward()
    np.testing.assert_array_equal(column.grad.array, [[12.0], [12.0]])
