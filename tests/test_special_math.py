"""Special functions (minigrad/ops/special_math.py, minigrad.special): forward
against closed forms, series and the math module, float64 gradcheck of every
differentiable one, PyTorch's missing derivatives and its errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import gradcheck

EULER_GAMMA = 0.5772156649015329


def leaf(values, requires_grad=True, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


def bessel_series(x, order, alternating):
    """I_n (alternating=False) or J_n (True) of order 0 or 1 from the power series."""
    total = 0.0
    for k in range(60):
        term = (x / 2) ** (2 * k + order) / (math.factorial(k) * math.factorial(k + order))
        total += (-1) ** k * term if alternating else term
    return total


def values(function, xs):
    return np.array([function(x) for x in xs])


X = [0.3, 1.0, 2.5, 4.0]
SIGNED = [-2.5, -0.7, 0.4, 1.9]


# ------------------------------------------------------------------ forward values
@pytest.mark.parametrize("name, function, reference, xs", [
    ("lgamma", mg.lgamma, math.lgamma, X),
    ("gammaln", mg.special.gammaln, math.lgamma, X),
    ("i0", mg.i0, lambda x: bessel_series(x, 0, False), SIGNED),
    ("i0e", mg.special.i0e, lambda x: math.exp(-abs(x)) * bessel_series(x, 0, False), SIGNED),
    ("i1", mg.special.i1, lambda x: bessel_series(x, 1, False), SIGNED),
    ("i1e", mg.special.i1e, lambda x: math.exp(-abs(x)) * bessel_series(x, 1, False), SIGNED),
    ("bessel_j0", mg.special.bessel_j0, lambda x: bessel_series(x, 0, True), SIGNED),
    ("bessel_j1", mg.special.bessel_j1, lambda x: bessel_series(x, 1, True), SIGNED),
    ("sinc", mg.sinc, lambda x: math.sin(math.pi * x) / (math.pi * x), SIGNED),
    ("erfcx", mg.special.erfcx, lambda x: math.exp(x * x) * math.erfc(x), SIGNED),
    ("expit", mg.special.expit, lambda x: 1 / (1 + math.exp(-x)), SIGNED),
    ("ndtr", mg.special.ndtr, lambda x: 0.5 * math.erfc(-x / math.sqrt(2)), SIGNED),
    ("log_ndtr", mg.special.log_ndtr, lambda x: math.log(0.5 * math.erfc(-x / math.sqrt(2))), SIGNED),
    ("entr", mg.special.entr, lambda x: -x * math.log(x), X),
    ("erf", mg.special.erf, math.erf, SIGNED),
    ("erfc", mg.special.erfc, math.erfc, SIGNED),
    ("exp2", mg.special.exp2, lambda x: 2.0 ** x, SIGNED),
    ("expm1", mg.special.expm1, math.expm1, SIGNED),
    ("log1p", mg.special.log1p, math.log1p, X),
])
def test_unary_forward(name, function, reference, xs):
    out = function(leaf(xs, requires_grad=False))
    np.testing.assert_allclose(out.array, values(reference, xs), rtol=1e-12, atol=1e-14)
    assert out.dtype == np.float64


def test_closed_form_values():
    assert mg.digamma(leaf([1.0])).item() == pytest.approx(-EULER_GAMMA, rel=1e-13)
    assert mg.special.psi(leaf([0.5])).item() == pytest.approx(-EULER_GAMMA - 2 * math.log(2), rel=1e-13)
    assert mg.digamma(leaf([5.0])).item() == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4 - EULER_GAMMA)
    assert mg.polygamma(1, leaf([1.0])).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-13)
    assert mg.polygamma(1, leaf([0.5])).item() == pytest.approx(math.pi ** 2 / 2, rel=1e-13)
    assert mg.polygamma(2, leaf([1.0])).item() == pytest.approx(-2 * 1.2020569031595942, rel=1e-12)
    assert mg.polygamma(0, leaf([1.0])).item() == pytest.approx(-EULER_GAMMA, rel=1e-13)
    assert mg.sinc(leaf([0.0])).item() == 1.0
    assert mg.special.entr(leaf([0.0])).item() == 0.0
    assert mg.special.entr(leaf([-1.0])).item() == -math.inf
    assert mg.special.ndtri(leaf([0.975])).item() == pytest.approx(1.959963984540054, rel=1e-12)
    p = np.array([0.01, 0.3, 0.5, 0.9])
    back = mg.special.ndtr(mg.special.ndtri(leaf(p)))
    np.testing.assert_allclose(back.array, p, rtol=1e-12)


def test_mvlgamma_is_the_sum_of_shifted_lgammas():
    xs = [2.0, 3.3, 5.1]
    for p in (1, 2, 4):
        expected = [p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(x - j / 2) for j in range(p))
                    for x in xs]
        np.testing.assert_allclose(mg.mvlgamma(leaf(xs), p).array, expected, rtol=1e-13)
        np.testing.assert_allclose(mg.special.multigammaln(leaf(xs), p).array, expected, rtol=1e-13)
    # p = 1 is lgamma
    np.testing.assert_allclose(mg.mvlgamma(leaf(xs), 1).array, values(math.lgamma, xs), rtol=1e-13)


def test_binary_forward():
    a, b = [0.0, 0.5, 2.0, -1.5], [3.0, 0.25, 1.5, 2.0]
    np.testing.assert_allclose(mg.xlogy(leaf(a), leaf(b)).array,
                               [x * math.log(y) for x, y in zip(a, b)])
    np.testing.assert_allclose(mg.special.xlog1py(leaf(a), leaf(b)).array,
                               [x * math.log1p(y) for x, y in zip(a, b)])
    np.testing.assert_allclose(mg.logaddexp(leaf(a), leaf(b)).array,
                               [math.log(math.exp(x) + math.exp(y)) for x, y in zip(a, b)])
    np.testing.assert_allclose(mg.logaddexp2(leaf(a), leaf(b)).array,
                               [math.log2(2 ** x + 2 ** y) for x, y in zip(a, b)])
    # no overflow where exp would overflow
    assert mg.logaddexp(leaf([1000.0]), leaf([1000.0])).item() == pytest.approx(1000 + math.log(2))
    np.testing.assert_array_equal(mg.nextafter(leaf(a), leaf(b)).array,
                                  [math.nextafter(x, y) for x, y in zip(a, b)])
    np.testing.assert_allclose(mg.ldexp(leaf(a), mg.tensor([1, 2, -1, 3])).array,
                               [math.ldexp(x, e) for x, e in zip(a, [1, 2, -1, 3])])


def test_xlogy_at_zero_and_nan():
    out = mg.xlogy(leaf([0.0, 0.0, 0.0, 1.0]), leaf([0.0, -1.0, math.nan, math.e]))
    np.testing.assert_array_equal(out.array, [0.0, 0.0, math.nan, 1.0])
    out = mg.special.xlog1py(leaf([0.0, 0.0]), leaf([-1.0, -3.0]))
    np.testing.assert_array_equal(out.array, [0.0, 0.0])


def test_zeta_and_incomplete_gamma_closed_forms():
    zeta = mg.special.zeta(leaf([2.0, 4.0, 2.0]), leaf([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(zeta.array, [math.pi ** 2 / 6, math.pi ** 4 / 90, math.pi ** 2 / 6 - 1],
                               rtol=1e-13)
    x = np.array([0.1, 1.0, 3.5])
    np.testing.assert_allclose(mg.special.gammainc(leaf([1.0]), leaf(x)).array, 1 - np.exp(-x), rtol=1e-13)
    np.testing.assert_allclose(mg.special.gammainc(leaf([2.0]), leaf(x)).array,
                               1 - (1 + x) * np.exp(-x), rtol=1e-12)
    np.testing.assert_allclose(mg.special.gammaincc(leaf([2.0]), leaf(x)).array, (1 + x) * np.exp(-x),
                               rtol=1e-12)
    np.testing.assert_allclose(mg.igamma(leaf([1.0]), leaf(x)).array, 1 - np.exp(-x), rtol=1e-13)
    np.testing.assert_allclose(mg.igammac(leaf([1.0]), leaf(x)).array, np.exp(-x), rtol=1e-13)


def test_fmax_fmin_ignore_nan():
    a, b = leaf([1.0, math.nan, 2.0, math.nan]), leaf([math.nan, 3.0, -1.0, math.nan])
    np.testing.assert_array_equal(mg.fmax(a, b).array, [1.0, 3.0, 2.0, math.nan])
    np.testing.assert_array_equal(mg.fmin(a, b).array, [1.0, 3.0, -1.0, math.nan])
    out = mg.fmax(mg.tensor([1, 5]), mg.tensor([2, 4]))
    assert out.dtype == np.int64 and out.tolist() == [2, 5]


def test_integer_functions():
    a, b = mg.tensor([4, -6, 0, 7, 0]), mg.tensor([6, 4, 3, -14, 0])
    assert mg.gcd(a, b).tolist() == [math.gcd(4, 6), 2, 3, 7, 0]
    assert mg.lcm(a, b).tolist() == [12, 12, 0, 14, 0]
    assert mg.gcd(a, b).dtype == np.int64
    assert a.gcd(b).tolist() == mg.gcd(a, b).tolist()


def test_signbit_heaviside_frexp():
    x = leaf([-0.0, 0.0, -2.0, 3.0], requires_grad=False)
    assert mg.signbit(x).tolist() == [True, False, True, False]
    assert mg.signbit(mg.tensor([-1, 2])).tolist() == [True, False]
    out = mg.heaviside(leaf([-1.0, 0.0, 2.0]), leaf([0.5]))
    assert out.tolist() == [0.0, 0.5, 1.0]
    values_ = [3.0, 0.0, -5.0, 0.1]
    mantissa, exponent = mg.frexp(leaf(values_))
    expected = [math.frexp(v) for v in values_]
    assert mantissa.tolist() == [m for m, _ in expected]
    assert exponent.tolist() == [e for _, e in expected]
    assert exponent.dtype == np.int32
    result = leaf(values_).frexp()
    assert result.mantissa.tolist() == mantissa.tolist() and result.exponent.tolist() == exponent.tolist()


def test_dtypes_follow_pytorch():
    x32 = mg.tensor([0.5, 1.5], dtype=mg.float32)
    for function in (mg.lgamma, mg.digamma, mg.i0, mg.sinc, mg.special.i1e, mg.special.ndtr,
                     mg.special.entr):
        assert function(x32).dtype == np.float32
        np.testing.assert_allclose(function(x32).array, function(x32.double()).array, rtol=1e-6)
    integers = mg.tensor([1, 2, 3])
    assert mg.lgamma(integers).dtype == np.float32
    np.testing.assert_allclose(mg.lgamma(integers).array, [0.0, 0.0, math.log(2)], atol=1e-7)
    assert mg.xlogy(integers, integers).dtype == np.float32
    assert mg.xlogy(2, mg.tensor([1.0, 2.0], dtype=mg.float64)).dtype == np.float64
    assert mg.ldexp(mg.tensor([1, 2]), mg.tensor([2, 3])).tolist() == [4.0, 16.0]
    assert mg.ldexp(mg.tensor([1, 2]), mg.tensor([2, 3])).dtype == np.float32
    assert mg.polygamma(1, x32).dtype == np.float32


# -------------------------------------------------------------------- gradients
@pytest.mark.parametrize("function, xs", [
    (mg.lgamma, X), (mg.digamma, X), (mg.i0, SIGNED), (mg.sinc, SIGNED + [0.0]),
    (mg.special.i0e, SIGNED), (mg.special.i1, SIGNED), (mg.special.i1e, SIGNED),
    (mg.special.erfcx, SIGNED), (mg.special.expit, SIGNED), (mg.special.ndtr, SIGNED),
    (mg.special.log_ndtr, SIGNED), (mg.special.entr, X), (mg.special.ndtri, [0.05, 0.3, 0.5, 0.8]),
    (lambda x: mg.polygamma(0, x), X), (lambda x: mg.polygamma(1, x), X),
    (lambda x: mg.polygamma(3, x), X), (lambda x: mg.mvlgamma(x + 2, 3), X),
    (lambda x: mg.special.multigammaln(x + 1, 2), X), (mg.special.psi, X), (mg.special.gammaln, X),
    (lambda x: mg.special.logit(x / 5, eps=0.1), X), (lambda x: mg.special.softmax(x, 0), SIGNED),
    (lambda x: mg.special.log_softmax(x, 0), SIGNED), (lambda x: mg.special.logsumexp(x, 0), SIGNED),
    (lambda x: mg.frexp(x * 10 + 0.3)[0], SIGNED), (lambda x: mg.special.erfinv(x / 3), SIGNED),
])
def test_unary_gradcheck(function, xs):
    assert gradcheck(function, (leaf(xs),))


def test_derivative_identities():
    """The table's formulas at points where the answer is known exactly."""
    x = leaf([0.0])
    mg.special.i1(x).sum().backward()
    assert x.grad.item() == 0.5                     # i1'(0) = i0(0) / 2
    x = leaf([0.0])
    mg.sinc(x).sum().backward()
    assert x.grad.item() == 0.0
    x = leaf([1.0])
    mg.lgamma(x).sum().backward()
    assert x.grad.item() == pytest.approx(-EULER_GAMMA)   # lgamma'(1) = digamma(1)
    x = leaf([2.0])
    mg.i0(x).sum().backward()
    assert x.grad.item() == pytest.approx(bessel_series(2.0, 1, False))   # i0' = i1
    x = leaf([math.e])
    mg.special.entr(x).sum().backward()
    assert x.grad.item() == pytest.approx(-2.0)     # -log(e) - 1


@pytest.mark.parametrize("function", [mg.xlogy, mg.special.xlog1py, mg.logaddexp, mg.logaddexp2,
                                      mg.ldexp, mg.fmax, mg.fmin])
def test_binary_gradcheck_with_broadcasting(function):
    rng = np.random.default_rng(0)
    a = leaf(rng.uniform(-2, 2, (3, 4)))
    b = leaf(rng.uniform(0.3, 2, (4,)))
    assert gradcheck(function, (a, b))


def test_fmax_gradient_goes_to_the_picked_operand():
    a, b = leaf([1.0, 2.0, math.nan]), leaf([math.nan, 3.0, 1.0])
    mg.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 0.0] and b.grad.tolist() == [0.0, 1.0, 1.0]


def test_xlogy_gradient_conventions_at_zero():
    a, b = leaf([0.0, 0.0, 2.0]), leaf([0.0, -1.0, 4.0])
    mg.xlogy(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.array, [0.0, 0.0, math.log(4)])
    np.testing.assert_array_equal(b.grad.array[2], 0.5)


def test_second_argument_gradients_only():
    rng = np.random.default_rng(1)
    s, q = leaf(rng.uniform(2, 4, (3,)), requires_grad=False), leaf(rng.uniform(0.5, 2, (3,)))
    assert gradcheck(lambda q: mg.special.zeta(s, q), (q,))
    a, x = leaf(rng.uniform(0.5, 3, (3,)), requires_grad=False), leaf(rng.uniform(0.2, 3, (3,)))
    assert gradcheck(lambda x: mg.special.gammainc(a, x), (x,))
    assert gradcheck(lambda x: mg.special.gammaincc(a, x), (x,))


def test_nextafter_gradient():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([2.0, 2.0, 0.0])
    mg.nextafter(a, b).backward(mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64))
    assert a.grad.tolist() == [1.0, 0.0, 100.0] and b.grad.tolist() == [0.0, 0.0, 0.0]


def test_missing_derivatives_follow_pytorch():
    assert not mg.special.bessel_j0(leaf([1.0])).requires_grad
    assert not mg.special.bessel_j1(leaf([1.0])).requires_grad
    with pytest.raises(NotImplementedError, match="zeta"):
        mg.special.zeta(leaf([2.0]), leaf([1.0])).sum().backward()
    with pytest.raises(NotImplementedError, match="igamma: input"):
        mg.special.gammainc(leaf([2.0]), leaf([1.0])).sum().backward()
    with pytest.raises(NotImplementedError, match="igammac: input"):
        mg.special.gammaincc(leaf([2.0]), leaf([1.0], requires_grad=False)).sum().backward()
    with pytest.raises(RuntimeError, match="heaviside"):
        mg.heaviside(leaf([1.0]), leaf([0.5])).sum().backward()


# ---------------------------------------------------------------- methods, in place
def test_methods_match_functions():
    x, y = leaf([0.5, 1.5], requires_grad=False), leaf([2.0, 3.0], requires_grad=False)
    for method, function in [("lgamma", mg.lgamma), ("digamma", mg.digamma), ("i0", mg.i0),
                             ("sinc", mg.sinc), ("signbit", mg.signbit)]:
        assert getattr(x, method)().tolist() == function(x).tolist()
    for method, function in [("xlogy", mg.xlogy), ("logaddexp", mg.logaddexp),
                             ("logaddexp2", mg.logaddexp2), ("nextafter", mg.nextafter),
                             ("fmax", mg.fmax), ("fmin", mg.fmin), ("ldexp", mg.ldexp),
                             ("igamma", mg.igamma), ("igammac", mg.igammac),
                             ("heaviside", mg.heaviside)]:
        assert getattr(x, method)(y).tolist() == function(x, y).tolist()
    assert x.polygamma(2).tolist() == mg.polygamma(2, x).tolist()
    assert (x + 2).mvlgamma(2).tolist() == mg.mvlgamma(x + 2, 2).tolist()


@pytest.mark.parametrize("method, args", [
    ("lgamma_", ()), ("digamma_", ()), ("i0_", ()), ("sinc_", ()), ("erfinv_", ()),
    ("polygamma_", (1,)), ("mvlgamma_", (1,)), ("xlogy_", (2.0,)), ("ldexp_", (mg.tensor([1, 2, 3]),)),
    ("igamma_", (2.0,)), ("igammac_", (2.0,)),
    ("hypot_", (mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64),)),
    ("copysign_", (mg.tensor([-1.0, 1.0, -1.0], dtype=mg.float64),)),
    ("true_divide_", (4.0,)), ("floor_divide_", (0.5,)),
    ("nextafter_", (mg.tensor([0.0, 0.0, 9.0], dtype=mg.float64),)), ("float_power_", (2,)),
])
def test_inplace_methods_write_the_out_of_place_result(method, args):
    """x.f_(*args) overwrites x with x.f(*args) (each checked against references above) and
    bumps its version counter."""
    x = leaf([0.125, 0.375, 0.625] if method == "erfinv_" else [0.5, 1.5, 2.5], requires_grad=False)
    expected = getattr(x, method[:-1])(*args).array.copy()
    assert not np.array_equal(expected, x.array)
    version = x._version
    assert getattr(x, method)(*args) is x
    np.testing.assert_array_equal(x.array, expected)
    assert x._version == version + 1


def test_inplace_differentiates_through_the_graph():
    x = leaf([0.5, 1.5, 2.5])
    y = x * 1
    y.digamma_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, mg.polygamma(1, x.detach()).array)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf([1.0]).lgamma_()


def test_inplace_integer_ops_and_casting_errors():
    a = mg.tensor([4, 6, 9])
    a.gcd_(mg.tensor([6, 4, 3]))
    assert a.tolist() == [2, 2, 3]
    a.lcm_(mg.tensor([3, 5, 2]))
    assert a.tolist() == [6, 10, 6]
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).xlogy_(mg.tensor([2.0, 3.0]))
    with pytest.raises(RuntimeError, match="float_power_.*float32"):
        mg.tensor([1.0, 2.0]).float_power_(2)
    h = mg.tensor([-1.0, 0.0, 1.0])
    h.heaviside_(mg.tensor([0.25]))
    assert h.tolist() == [0.0, 0.25, 1.0]


# ---------------------------------------------------------------------- errors
def test_errors_name_the_bad_value():
    with pytest.raises(RuntimeError, match="negative n.*-1"):
        mg.polygamma(-1, leaf([1.0]))
    with pytest.raises(TypeError, match="'n' must be int"):
        mg.polygamma(1.5, leaf([1.0]))
    with pytest.raises(RuntimeError, match="greater than or equal to 1.*p = 0"):
        mg.mvlgamma(leaf([3.0]), 0)
    with pytest.raises(RuntimeError, match="frexp.*floating-point.*int64"):
        mg.frexp(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="different dtypes.*float32.*float64"):
        mg.heaviside(mg.tensor([1.0]), mg.tensor([0.5], dtype=mg.float64))
    with pytest.raises(TypeError, match="'values' must be Tensor"):
        mg.heaviside(mg.tensor([1.0]), 0.5)
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        mg.heaviside(mg.tensor([1.0, 2.0]), mg.tensor([0.5, 0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="gcd_cpu.*float32"):
        mg.gcd(mg.tensor([1.0]), mg.tensor([2.0]))
    with pytest.raises(NotImplementedError, match="logaddexp_cpu.*int64"):
        mg.logaddexp(mg.tensor([1]), mg.tensor([2]))
    with pytest.raises(NotImplementedError, match="nextafter_cpu"):
        mg.nextafter(mg.tensor([1]), mg.tensor([2]))
    with pytest.raises(NotImplementedError, match="igamma_cpu.*int64"):
        mg.special.gammainc(mg.tensor([1]), mg.tensor([2]))
    with pytest.raises(NotImplementedError, match="igammac_cpu.*int64"):
        mg.igammac(mg.tensor([1]), mg.tensor([2]))


def test_special_module_mirrors_torch_special():
    names = ["erf", "erfc", "erfcx", "erfinv", "expit", "logit", "exp2", "expm1", "log1p", "xlogy",
             "xlog1py", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1",
             "i1e", "ndtr", "ndtri", "log_ndtr", "sinc", "entr", "logsumexp", "softmax",
             "log_softmax", "round", "zeta", "bessel_j0", "bessel_j1", "gammainc", "gammaincc"]
    assert [n for n in names if not callable(getattr(mg.special, n, None))] == []
    x = leaf([0.25, 1.25, 2.75], requires_grad=False)
    assert mg.special.round(x, decimals=1).tolist() == [0.2, 1.2, 2.8]
    np.testing.assert_allclose(mg.special.softmax(x, 0).array, np.exp(x.array) / np.exp(x.array).sum())
    np.testing.assert_allclose(mg.special.log_softmax(x, 0, dtype=mg.float32).array,
                               np.log(np.exp(x.array) / np.exp(x.array).sum()), rtol=1e-6)
    assert mg.special.log_softmax(x, 0, dtype=mg.float32).dtype == np.float32
    assert mg.special.logsumexp(x, 0).item() == pytest.approx(math.log(np.exp(x.array).sum()))
    np.testing.assert_allclose(mg.special.logit(leaf([0.25]), eps=0.3).array, [math.log(0.3 / 0.7)])
