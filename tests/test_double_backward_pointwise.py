"""Double backward (create_graph=True) of the pointwise ops: activations
(minigrad/ops/activation.py, pointwise_activations.py), the derivative tables
of ops/pointwise.py and ops/special_math.py, and dropout's fixed mask.

Every op: gradgradcheck in float64 (second derivatives against finite
differences of the first, w.r.t. the inputs and the grad_outputs), over inputs
kept away from kinks. A few second and third derivatives against their closed
forms with real values, and the softmax Hessian against an explicit one.
"""
import math

import numpy as np
import pytest
from scipy import special

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import grad, gradgradcheck
from minigrad.ops import pointwise, special_math

RNG = np.random.default_rng(1234)


def leaf(values, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def uniform(low, high, shape=(2, 3)):
    return RNG.uniform(low, high, shape)


def away_from(values, points, gap=0.05):
    """`values` with every entry within `gap` of one of `points` pushed out to `gap`."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        near = np.abs(values - p) < gap
        values[near] = p + np.where(values[near] >= p, gap, -gap)
    return values


def derivatives(f, x, order):
    """[f'(x), f''(x), ...] up to `order`, elementwise (each from the previous by grad).

    A derivative that no longer depends on x (a mask times the constant seed, as
    relu's) has no graph: the next one is 0.
    """
    out, results = f(x), []
    for k in range(order):
        if out.requires_grad:
            g, = grad(out.sum(), x, create_graph=k + 1 < order)
        else:
            g = mg.zeros_like(x)
        results.append(g)
        out = g
    return results


# ------------------------------------------------------------ pointwise.DERIVATIVES
# name: where to sample its input
POINTWISE_DOMAINS = {
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "asinh": (-3, 3), "acosh": (1.2, 3),
    "atanh": (-0.9, 0.9), "log1p": (-0.6, 3), "expm1": (-2, 2), "log2": (0.3, 3), "log10": (0.3, 3),
    "exp2": (-2, 2), "rsqrt": (0.3, 3), "reciprocal": (0.3, 3), "erf": (-2, 2), "erfc": (-2, 2),
    "erfinv": (-0.8, 0.8), "square": (-2, 2), "frac": (-2.9, 2.9), "sign": (-2, 2),
    "floor": (-2.9, 2.9), "ceil": (-2.9, 2.9), "trunc": (-2.9, 2.9),
}


def test_every_pointwise_table_entry_is_checked():
    assert set(POINTWISE_DOMAINS) == set(pointwise.DERIVATIVES)


@pytest.mark.parametrize("name", sorted(POINTWISE_DOMAINS))
def test_pointwise_table_gradgradcheck(name):
    values = away_from(uniform(*POINTWISE_DOMAINS[name]), [-2, -1, 0, 1, 2])
    function = getattr(pointwise, name)
    assert gradgradcheck(function, (leaf(values),))


def test_pointwise_second_derivatives_closed_form():
    x = leaf([-1.3, -0.4, 0.2, 0.9])
    a = x.array
    cases = {
        "sin": -np.sin(a), "cos": -np.cos(a), "tan": 2 * np.tan(a) * (1 + np.tan(a) ** 2),
        "atan": -2 * a / (1 + a * a) ** 2, "erf": -4 * a / math.sqrt(math.pi) * np.exp(-a * a),
        "expm1": np.exp(a), "square": np.full(4, 2.0), "sinh": np.sinh(a),
        "asinh": -a / (a * a + 1) ** 1.5, "exp2": math.log(2) ** 2 * np.exp2(a),
            "floor": np.zeros(4),
    }
    for name, expected in cases.items():
        _, second = derivatives(getattr(pointwise, name), x, 2)
        np.testing.assert_allclose(second.array, expected, rtol=1e-10, atol=1e-12, err_msg=name)
    # erfinv'' = 2 y erfinv'^2 (y = erfinv(x)), at x = 0.5
    p = leaf([0.5])
    _, second = derivatives(pointwise.erfinv, p, 2)
    y = special.erfinv(0.5)
    np.testing.assert_allclose(second.array, [2 * y * (math.sqrt(math.pi) / 2 * math.exp(y * y)) ** 2])


def test_pointwise_third_derivatives():
    x = leaf([-1.1, 0.3, 0.8])
    a = x.array
    for name, expected in {"sin": -np.cos(a), "expm1": np.exp(a), "exp2": math.log(2) ** 3 * np.exp2(a),
                           "reciprocal": -6 / a ** 4, "erf": 2 / math.sqrt(math.pi) * (4 * a * a - 2)
                           * np.exp(-a * a)}.items():
        third = derivatives(getattr(pointwise, name), x, 3)[2]
        np.testing.assert_allclose(third.array, expected, rtol=1e-10, err_msg=name)


def test_pointwise_float32_second_derivative_keeps_dtype():
    x = leaf([0.2, 0.7], np.float32)
    for function in (pointwise.sin, pointwise.frac, pointwise.floor, special_math.i1, F.hardtanh):
        _, second = derivatives(function, x, 2)
        assert second.dtype == np.float32


def test_double_backward_through_inplace_ops():
    # the in-place result lives in the tensor's own memory, and its old values in a copy:
    # a double backward must find both in the graph (not treat them as constants)
    x = leaf([0.4, -1.3, 0.8])
    a = x.array
    t = np.tanh(a)
    cases = [
        (lambda u: (u * 1.0).mul_(3.0) ** 2, np.full(3, 18.0)),
        (lambda u: (u * 1.0).tanh_() * 2.0, -4 * t * (1 - t * t)),
        (lambda u: F.selu_(u * 1.0), np.where(a > 0, 0.0, 1.0507009873554805 * 1.6732632423543772
                                               * np.exp(a))),
        (lambda u: F.relu(u * 1.0, inplace=True) ** 2, np.where(a > 0, 2.0, 0.0)),
        (lambda u: F.hardtanh_(u * 1.0, -1.0, 0.6) ** 2, np.where((a > -1) & (a < 0.6), 2.0, 0.0)),
    ]
    for function, expected in cases:
        _, second = derivatives(function, x, 2)
        np.testing.assert_allclose(second.array, expected, rtol=1e-12)


def test_round_and_nan_to_num_and_triangles():
    x = leaf(away_from(uniform(-3, 3, (3, 4)), np.arange(-3, 4) + 0.5))
    assert gradgradcheck(lambda t: mg.round(t), (x,))
    assert gradgradcheck(lambda t: mg.round(t, decimals=1), (x,))
    assert gradgradcheck(lambda t: mg.nan_to_num(t * t), (x,))
    for diagonal in (-1, 0, 2):
        assert gradgradcheck(lambda t: mg.tril(t, diagonal) ** 2, (x,))
        assert gradgradcheck(lambda t: mg.triu(t, diagonal) ** 2, (x,))
    # the second derivative of sum(tril(x)^2) is 2 on the triangle, 0 off it
    _, second = derivatives(lambda t: mg.tril(t) ** 2, x, 2)
    np.testing.assert_array_equal(second.array, 2 * np.tril(np.ones((3, 4))))


# ------------------------------------------------------------------ binary pointwise
def _pair(low_a, high_a, low_b, high_b, shape_a=(2, 3), shape_b=(3,)):
    return leaf(uniform(low_a, high_a, shape_a)), leaf(uniform(low_b, high_b, shape_b))


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((2, 1), (1, 3)), ((4,), (4,))])
def test_atan2_hypot_gradgradcheck(shapes):
    a, b = _pair(0.3, 2, -2, -0.3, *shapes)
    assert gradgradcheck(mg.atan2, (a, b))
    assert gradgradcheck(mg.hypot, (a, b))
    assert gradgradcheck(lambda t: mg.atan2(t, 1.5), (a,))
    assert gradgradcheck(lambda t: mg.hypot(2.0, t), (b,))


def test_copysign_fmod_remainder_gradgradcheck():
    a, b = _pair(0.3, 4, 0.7, 1.9)
    a = leaf(away_from(a.array, [0]))
    b_sign = leaf(away_from(uniform(-2, 2, (3,)), [0]))
    assert gradgradcheck(lambda s, t: mg.copysign(s, t) ** 2, (a, b_sign))
    # keep a / b away from integers (where fmod / remainder jump)
    for function in (mg.fmod, mg.remainder):
        quotient = away_from(a.array / b.array, np.arange(-5, 6), 0.1)
        a_safe = leaf(quotient * b.array)
        assert gradgradcheck(lambda s, t: function(s, t) ** 2, (a_safe, b))
        assert gradgradcheck(lambda s, t: function(-s, t) * s, (a_safe, b))


def test_atan2_mixed_partial_closed_form():
    a, b = leaf([0.7, -1.2]), leaf([1.5, 0.4])
    ga, = grad(mg.atan2(a, b).sum(), a, create_graph=True)
    d2_ab, = grad(ga.sum(), b)
    A, B = a.array, b.array
    np.testing.assert_allclose(d2_ab.array, (A * A - B * B) / (A * A + B * B) ** 2, rtol=1e-12)


# ----------------------------------------------------------------- activations
SMOOTH_ACTIVATIONS = {
    "relu": F.relu, "sigmoid": mg.sigmoid, "tanh": mg.tanh,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2), "leaky_relu_default": F.leaky_relu,
    "elu": F.elu, "elu_alpha": lambda t: F.elu(t, alpha=0.7), "gelu": F.gelu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu,
    "softplus": F.softplus, "softplus_beta": lambda t: F.softplus(t, beta=2.0, threshold=3.0),
    "hardtanh": lambda t: F.hardtanh(t) * t, "hardtanh_range": lambda t: F.hardtanh(t, -0.5, 2.0) ** 2,
    "relu6": lambda t: F.relu6(t * 4) ** 2, "hardsigmoid": lambda t: F.hardsigmoid(t * 4) ** 2,
    "hardswish": lambda t: F.hardswish(t * 2), "mish": F.mish, "logsigmoid": F.logsigmoid,
    "selu": F.selu, "celu": F.celu, "celu_alpha": lambda t: F.celu(t, alpha=2.5),
    "softsign": F.softsign, "tanhshrink": F.tanhshrink,
    "softshrink": lambda t: F.softshrink(t, 0.4) ** 2, "hardshrink": lambda t: F.hardshrink(t, 0.4) ** 2,
    "threshold": lambda t: F.threshold(t, 0.3, -2.0) ** 2,
    "sigmoid_method": lambda t: t.sigmoid(), "tanh_method": lambda t: t.tanh(),
    "relu_inplace": lambda t: F.relu(t * 1.0, inplace=True) ** 2,
    "elu_inplace": lambda t: F.elu_(t * 1.0),
    "selu_inplace": lambda t: F.selu_(t * 1.0), "celu_inplace": lambda t: F.celu_(t * 1.0, 0.5),
    "leaky_relu_inplace": lambda t: F.leaky_relu_(t * 1.0, 0.3) ** 2,
    "hardtanh_inplace": lambda t: F.hardtanh_(t * 1.0) ** 2,
    "threshold_inplace": lambda t: F.threshold_(t * 1.0, 0.2, 1.0) ** 2,
    "rrelu_eval": lambda t: F.rrelu(t) ** 2,
}


@pytest.mark.parametrize("name", sorted(SMOOTH_ACTIVATIONS))
def test_activation_gradgradcheck(name):
    # kinks: 0 (relu family), +-0.4, 0.3, 0.2 (shrinks, thresholds), +-1, -0.5, 2 (hardtanh),
    # 0, 1.5 (relu6 at 4x), +-0.75 (hardsigmoid at 4x), +-1.5 (hardswish at 2x)
    kinks = [0, 0.2, 0.3, 0.4, -0.4, 1, -1, -0.5, 2, 1.5, 0.75, -0.75, -1.5]
    x = leaf(away_from(uniform(-2.5, 2.5, (3, 4)), kinks, 0.04))
    assert gradgradcheck(SMOOTH_ACTIVATIONS[name], (x,))


def test_activation_large_inputs_stay_finite():
    # exp on the branch that where() drops must not overflow into nan in a double backward
    x = leaf([-800.0, -30.0, 30.0, 800.0])
    for function in (F.elu, F.selu, F.celu, F.softplus, F.mish, mg.sigmoid, mg.tanh, F.silu):
        first, second = derivatives(function, x, 2)
        assert np.all(np.isfinite(second.array)), function


@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1),
                                        ((2, 3, 4), 1), ((), 0)])
def test_softmax_family_gradgradcheck(shape, dim):
    x = leaf(uniform(-2, 2, shape))
    assert gradgradcheck(lambda t: F.softmax(t, dim), (x,))
    assert gradgradcheck(lambda t: F.log_softmax(t, dim), (x,))
    assert gradgradcheck(lambda t: F.softmin(t, dim), (x,))
    assert gradgradcheck(lambda t: mg.softmax(t, dim, dtype=mg.float64), (x,))


def test_softmax_hessian_vector_product_against_numpy_hessian():
    x = leaf([0.3, -1.1, 0.8, 2.0])
    weights = np.array([0.5, -1.0, 2.0, 0.25])   # L = sum_i w_i softmax(x)_i
    v = np.array([1.0, 0.3, -0.7, 0.2])
    g, = grad((F.softmax(x, 0) * mg.tensor(weights)).sum(), x, create_graph=True)
    hv, = grad((g * mg.tensor(v)).sum(), x)
    s = np.exp(x.array) / np.exp(x.array).sum()
    # d2 s_i / dx_j dx_k = s_i (d_ij - s_j)(d_ik - s_k) - s_i s_j (d_jk - s_k)
    eye = np.eye(4)
    d2 = (s[:, None, None] * (eye[:, :, None] - s[None, :, None]) * (eye[:, None, :] - s[None, None, :])
          - s[:, None, None] * s[None, :, None] * (eye[None, :, :] - s[None, None, :]))
    hessian = np.einsum("i,ijk->jk", weights, d2)
    np.testing.assert_allclose(hv.array, hessian @ v, rtol=1e-12, atol=1e-14)
    # log_softmax: the Hessian of sum_i w_i log_softmax_i is -(sum w) (diag(s) - s s^T)
    g, = grad((F.log_softmax(x, 0) * mg.tensor(weights)).sum(), x, create_graph=True)
    hv, = grad((g * mg.tensor(v)).sum(), x)
    np.testing.assert_allclose(hv.array, -weights.sum() * (np.diag(s) - np.outer(s, s)) @ v, rtol=1e-12)


def test_activation_second_derivatives_closed_form():
    x = leaf([-1.7, -0.6, 0.4, 1.3])
    a = x.array
    t, s = np.tanh(a), special.expit(a)
    phi = np.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    cases = {
        "tanh": (mg.tanh, -2 * t * (1 - t * t)),
        "sigmoid": (mg.sigmoid, s * (1 - s) * (1 - 2 * s)),
        "gelu": (F.gelu, phi * (2 - a * a)),
        "silu": (F.silu, s * (1 - s) * (2 + a * (1 - 2 * s))),
        "elu": (lambda u: F.elu(u, 0.7), np.where(a > 0, 0.0, 0.7 * np.exp(a))),
        "softplus": (F.softplus, s * (1 - s)),
        "logsigmoid": (F.logsigmoid, -s * (1 - s)),
        "selu": (F.selu, np.where(a > 0, 0.0, 1.0507009873554805 * 1.6732632423543772 * np.exp(a))),
        "celu": (lambda u: F.celu(u, 2.0), np.where(a > 0, 0.0, np.exp(a / 2) / 2)),
        "softsign": (F.softsign, -2 * np.sign(a) / (1 + np.abs(a)) ** 3),
        "tanhshrink": (F.tanhshrink, 2 * t * (1 - t * t)),
        "relu": (F.relu, np.zeros(4)),
        "hardswish": (F.hardswish, np.full(4, 1 / 3)),
    }
    for name, (function, expected) in cases.items():
        _, second = derivatives(function, x, 2)
        np.testing.assert_allclose(second.array, expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_activation_third_derivatives_closed_form():
    x = leaf([-1.2, 0.1, 0.9])
    a = x.array
    t, s = np.tanh(a), special.expit(a)
    cases = {
        "tanh": (mg.tanh, -2 * (1 - t * t) * (1 - 3 * t * t)),
        "sigmoid": (mg.sigmoid, s * (1 - s) * (1 - 6 * s + 6 * s * s)),
        "exp": (mg.exp, np.exp(a)),
        "softplus": (F.softplus, s * (1 - s) * (1 - 2 * s)),
        "elu": (F.elu, np.where(a > 0, 0.0, np.exp(a))),
    }
    for name, (function, expected) in cases.items():
        third = derivatives(function, x, 3)[2]
        np.testing.assert_allclose(third.array, expected, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("weight_shape", [(), (1,), (3,)])
def test_prelu_gradgradcheck(weight_shape):
    x = leaf(away_from(uniform(-2, 2, (2, 3, 4)), [0]))
    weight = leaf(uniform(0.05, 0.5, weight_shape))
    assert gradgradcheck(F.prelu, (x, weight))
    assert gradgradcheck(lambda w: F.prelu(x.detach(), w) * x.detach(), (weight,))


def test_prelu_mixed_second_derivative():
    # prelu(x, w) = w x for x < 0: d2/dx dw = 1 there, 0 where x > 0; d2/dw2 = 0
    x, weight = leaf([[-1.0, 2.0], [0.5, -3.0]]), leaf([0.25, 0.5])
    gx, = grad(F.prelu(x, weight).sum(), x, create_graph=True)
    d2_xw, = grad(gx.sum(), weight)
    np.testing.assert_array_equal(d2_xw.array, [1.0, 1.0])  # one negative element per channel
    gw, = grad(F.prelu(x, weight).sum(), weight, create_graph=True)
    d2_wx, = grad(gw.sum(), x)
    np.testing.assert_array_equal(d2_wx.array, [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_glu_gradgradcheck(dim):
    x = leaf(uniform(-2, 2, (4, 6)))
    assert gradgradcheck(lambda t: F.glu(t, dim), (x,))


@pytest.mark.parametrize("eps", [None, 0.1])
def test_logit_gradgradcheck(eps):
    p = leaf(away_from(uniform(0.02, 0.98, (3, 3)), [0.1, 0.9]))
    assert gradgradcheck(lambda t: mg.logit(t, eps), (p,))
    if eps is None:
        _, second = derivatives(mg.logit, p, 2)
        P = p.array
        np.testing.assert_allclose(second.array, (2 * P - 1) / (P * (1 - P)) ** 2, rtol=1e-10)


# ---------------------------------------------------------- special_math.DERIVATIVES
SPECIAL_DOMAINS = {
    "lgamma": (0.5, 4), "digamma": (0.5, 4), "i0": (-2, 2), "i0e": (-2, 2), "i1": (-2, 2),
    "i1e": (-2, 2), "sinc": (-1.8, 1.8), "erfcx": (-1, 2), "expit": (-3, 3), "ndtr": (-2, 2),
    "ndtri": (0.1, 0.9), "log_ndtr": (-3, 2), "entr": (0.2, 2),
}


def test_every_special_table_entry_is_checked():
    differentiable = {n for n, (_, d) in special_math.DERIVATIVES.items() if d is not None}
    assert set(SPECIAL_DOMAINS) == differentiable


@pytest.mark.parametrize("name", sorted(SPECIAL_DOMAINS))
def test_special_table_gradgradcheck(name):
    values = away_from(uniform(*SPECIAL_DOMAINS[name]), [0])
    assert gradgradcheck(getattr(special_math, name), (leaf(values),))


def test_special_second_derivatives_closed_form():
    x = leaf([0.7, 1.5, 3.2])
    a = x.array
    cases = {
        "lgamma": (mg.lgamma, special.polygamma(1, a)),
        "digamma": (mg.digamma, special.polygamma(2, a)),
        "i0": (mg.i0, special.i0(a) - special.i1(a) / a),        # i0'' = i1' = i0 - i1 / x
        "expit": (mg.special.expit, special.expit(a) * (1 - special.expit(a)) * (1 - 2 * special.expit(a))),
        "ndtr": (mg.special.ndtr, -a * np.exp(-a * a / 2) / math.sqrt(2 * math.pi)),
        "entr": (mg.special.entr, -1 / a),
        "sinc": (mg.sinc, ((2 - (math.pi * a) ** 2) * np.sin(math.pi * a)
                           - 2 * math.pi * a * np.cos(math.pi * a)) / (math.pi * a ** 3)),
    }
    for name, (function, expected) in cases.items():
        _, second = derivatives(function, x, 2)
        np.testing.assert_allclose(second.array, expected, rtol=1e-9, err_msg=name)
    # third: lgamma''' = polygamma(2)
    third = derivatives(mg.lgamma, x, 3)[2]
    np.testing.assert_allclose(third.array, special.polygamma(2, a), rtol=1e-10)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_double_backward(n):
    x = leaf(uniform(0.5, 3, (2, 2)))
    assert gradgradcheck(lambda t: mg.polygamma(n, t), (x,))
    first, second = derivatives(lambda t: mg.polygamma(n, t), x, 2)
    np.testing.assert_allclose(first.array, special.polygamma(n + 1, x.array), rtol=1e-10)
    np.testing.assert_allclose(second.array, special.polygamma(n + 2, x.array), rtol=1e-10)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mvlgamma_double_backward(p):
    x = leaf(uniform(1.6, 4, (3,)))
    assert gradgradcheck(lambda t: mg.mvlgamma(t, p), (x,))
    _, second = derivatives(lambda t: mg.mvlgamma(t, p), x, 2)
    expected = sum(special.polygamma(1, x.array - j / 2) for j in range(p))
    np.testing.assert_allclose(second.array, expected, rtol=1e-10)


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), (2, 3)), ((4,), (4,))])
def test_special_binary_gradgradcheck(shapes):
    shape_a, shape_b = shapes
    a, b = leaf(uniform(0.3, 2, shape_a)), leaf(uniform(0.3, 2, shape_b))
    for function in (mg.xlogy, mg.special.xlog1py, mg.logaddexp, mg.logaddexp2):
        assert gradgradcheck(function, (a, b)), function
    assert gradgradcheck(lambda t: mg.xlogy(2.0, t), (b,))
    assert gradgradcheck(lambda t: mg.logaddexp(t, 0.5), (a,))
    # PyTorch has these derivatives only in the second argument
    s = a.detach() + 1.5
    assert gradgradcheck(lambda q: mg.special.zeta(s, q), (b,))
    assert gradgradcheck(lambda q: mg.special.gammainc(s, q), (b,))
    assert gradgradcheck(lambda q: mg.special.gammaincc(s, q), (b,))


def test_fmax_fmin_nextafter_gradgradcheck():
    a, b = leaf(uniform(-2, 2, (2, 3))), leaf(uniform(-2, 2, (3,)))
    for function in (mg.fmax, mg.fmin):
        assert gradgradcheck(lambda s, t: function(s, t) ** 2, (a, b))
    assert gradgradcheck(lambda s, t: mg.nextafter(s, t) * s, (a, b))


def test_special_binary_second_derivatives_closed_form():
    a, b = leaf([0.5, 2.0]), leaf([1.5, 0.25])
    ga, = grad(mg.xlogy(a, b).sum(), a, create_graph=True)
    d2_ab, = grad(ga.sum(), b)
    np.testing.assert_allclose(d2_ab.array, 1 / b.array, rtol=1e-12)    # d2/da db a log b = 1/b
    gb, = grad(mg.xlogy(a, b).sum(), b, create_graph=True)
    d2_bb, = grad(gb.sum(), b)
    np.testing.assert_allclose(d2_bb.array, -a.array / b.array ** 2, rtol=1e-12)
    # logaddexp: d2/da2 = s (1 - s), s = sigmoid(a - b)
    ga, = grad(mg.logaddexp(a, b).sum(), a, create_graph=True)
    d2_aa, = grad(ga.sum(), a)
    s = special.expit(a.array - b.array)
    np.testing.assert_allclose(d2_aa.array, s * (1 - s), rtol=1e-12)


def test_xlogy_at_zero_has_finite_second_derivative():
    a, b = leaf([0.0, 1.0]), leaf([0.0, 2.0])
    ga, = grad(mg.xlogy(a, b).sum(), a, create_graph=True)
    d2, = grad(ga.sum(), b)
    assert np.all(np.isfinite(d2.array))
    np.testing.assert_allclose(d2.array[1], 0.5)


def test_missing_derivatives_still_raise_in_a_double_backward():
    s, q = leaf([2.5]), leaf([1.5])
    with pytest.raises(NotImplementedError, match="zeta"):
        grad(mg.special.zeta(s, q).sum(), s, create_graph=True)
    gq, = grad(mg.special.zeta(s, q).sum(), q, create_graph=True)
    with pytest.raises(NotImplementedError, match="zeta"):
        grad(gq.sum(), s)   # d/dq zeta = -s zeta(s + 1, q): its s-derivative is zeta's missing one
    with pytest.raises(NotImplementedError, match="igamma"):
        grad(mg.special.gammainc(s, q).sum(), s, create_graph=True)


def test_frexp_double_backward():
    x = leaf(away_from(uniform(-5, 5, (2, 3)), [-4, -2, -1, -0.5, 0, 0.5, 1, 2, 4]))
    assert gradgradcheck(lambda t: mg.frexp(t).mantissa ** 2, (x,))
    _, second = derivatives(lambda t: mg.frexp(t).mantissa ** 2, x, 2)
    exponent = np.frexp(x.array)[1]
    np.testing.assert_allclose(second.array, 2.0 ** (1 - 2 * exponent), rtol=1e-12)


# ---------------------------------------------------------------------- dropout
@pytest.mark.parametrize("name, shape", [("dropout", (3, 4)), ("dropout1d", (2, 3, 4)),
                                         ("dropout2d", (2, 3, 2, 2)), ("dropout3d", (2, 3, 1, 2, 2)),
                                         ("alpha_dropout", (3, 4)), ("feature_alpha_dropout", (2, 3, 2))])
def test_dropout_double_backward_with_a_constant_mask(name, shape):
    function = getattr(F, name)
    x = leaf(uniform(-2, 2, shape))

    def dropped(t):
        mg.manual_seed(7)   # the same mask in every call (gradgradcheck calls it many times)
        return function(t, p=0.4, training=True) ** 2

    assert gradgradcheck(dropped, (x,))
    # out = scale * x (+ shift for alpha dropout): the second derivative of out^2 is 2 scale^2

    def applied_to(values):
        mg.manual_seed(7)
        return function(mg.tensor(np.full(shape, values)), p=0.4, training=True).array

    scale = applied_to(1.0) - applied_to(0.0)
    assert np.any(scale == 0) and np.any(scale != 0)   # some units dropped, some kept
    _, second = derivatives(dropped, x, 2)
    np.testing.assert_allclose(second.array, 2 * scale ** 2, rtol=1e-12)


def test_dropout_inplace_and_rrelu_training_double_backward():
    x = leaf(away_from(uniform(-2, 2, (3, 4)), [0]))

    def dropped(t):
        mg.manual_seed(3)
        return F.dropout(t * 1.0, p=0.3, training=True, inplace=True) ** 2

    assert gradgradcheck(dropped, (x,))

    def randomized(t):
        mg.manual_seed(3)
        return F.rrelu(t, training=True) ** 2

    assert gradgradcheck(randomized, (x,))
