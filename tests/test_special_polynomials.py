"""minigrad.special's orthogonal polynomials and Bessel functions (ops/special_polynomials.py).

Values against closed forms written out here (trigonometric forms of the Chebyshev
polynomials, the explicit sums of Hermite, Laguerre and Legendre, power series and
integrals of the Bessel functions), PyTorch's rules for n (truncation, n < 0 gives 0,
broadcasting), dtypes, and that no gradient is recorded (as PyTorch).
"""
import math

import numpy as np
import pytest
from scipy import integrate

import minigrad as mg
from minigrad import special as S

X = np.array([-1.5, -0.5, 0.0, 0.3, 1.0, 2.5])
DEGREES = range(0, 9)


# ------------------------------------------------------------ closed forms
def chebyshev_t(n, x):
    """cos(n t) at x = cos t; cosh(n u) at x = cosh u (x >= 1); T_n(-x) = (-1)^n T_n(x)."""
    if abs(x) <= 1:
        return math.cos(n * math.acos(x))
    return (1 if x > 0 else (-1) ** n) * math.cosh(n * math.acosh(abs(x)))


def chebyshev_u(n, x):
    """sin((n+1) t) / sin t at x = cos t; sinh((n+1) u) / sinh u at x = cosh u."""
    if abs(x) == 1:
        return (n + 1) * (1 if x > 0 else (-1) ** n)
    if abs(x) < 1:
        t = math.acos(x)
        return math.sin((n + 1) * t) / math.sin(t)
    u = math.acosh(abs(x))
    return (1 if x > 0 else (-1) ** n) * math.sinh((n + 1) * u) / math.sinh(u)


def chebyshev_v(n, x):
    return chebyshev_u(n, x) - (chebyshev_u(n - 1, x) if n > 0 else 0.0)


def chebyshev_w(n, x):
    return chebyshev_u(n, x) + (chebyshev_u(n - 1, x) if n > 0 else 0.0)


def hermite_h(n, x):
    """n! sum_m (-1)^m (2x)^(n-2m) / (m! (n-2m)!)."""
    return math.factorial(n) * sum((-1) ** m * (2 * x) ** (n - 2 * m) / (math.factorial(m) * math.factorial(n - 2 * m))
                                   for m in range(n // 2 + 1))


def hermite_he(n, x):
    """n! sum_m (-1)^m x^(n-2m) / (m! (n-2m)! 2^m)."""
    return math.factorial(n) * sum((-1) ** m * x ** (n - 2 * m)
                                   / (math.factorial(m) * math.factorial(n - 2 * m) * 2 ** m)
                                   for m in range(n // 2 + 1))


def laguerre(n, x):
    """sum_k C(n, k) (-x)^k / k!."""
    return sum(math.comb(n, k) * (-x) ** k / math.factorial(k) for k in range(n + 1))


def legendre(n, x):
    """2^-n sum_k C(n, k)^2 (x - 1)^(n-k) (x + 1)^k."""
    return sum(math.comb(n, k) ** 2 * (x - 1) ** (n - k) * (x + 1) ** k for k in range(n + 1)) / 2 ** n


CLOSED_FORMS = {
    "chebyshev_polynomial_t": chebyshev_t,
    "chebyshev_polynomial_u": chebyshev_u,
    "chebyshev_polynomial_v": chebyshev_v,
    "chebyshev_polynomial_w": chebyshev_w,
    "shifted_chebyshev_polynomial_t": lambda n, x: chebyshev_t(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_u": lambda n, x: chebyshev_u(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_v": lambda n, x: chebyshev_v(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_w": lambda n, x: chebyshev_w(n, 2 * x - 1),
    "hermite_polynomial_h": hermite_h,
    "hermite_polynomial_he": hermite_he,
    "laguerre_polynomial_l": laguerre,
    "legendre_polynomial_p": legendre,
}

# PyTorch 2.13's values at X, n = 3 (torch.special.<name>(x, 3), float64).
TORCH_AT_3 = {
    "chebyshev_polynomial_t": [-9.0, 1.0, 0.0, -0.792, 1.0, 55.0],
    "chebyshev_polynomial_v": [-29.0, 1.0, 1.0, -0.344, 1.0, 91.0],
    "shifted_chebyshev_polynomial_w": [-433.0, -41.0, -1.0, 0.728, 7.0, 559.0],
    "hermite_polynomial_he": [1.125, 1.375, 0.0, -0.873, -2.0, 8.125],
    "laguerre_polynomial_l": [9.4375, 2.8958333333333335, 1.0, 0.2305, -0.6666666666666666, 0.2708333333333333],
    "legendre_polynomial_p": [-6.1875, 0.4375, 0.0, -0.3825, 1.0, 35.3125],
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_polynomial_values_against_closed_forms(name):
    x = mg.tensor(X)[:, None]                                           # (6, 1)
    n = mg.tensor(np.array(DEGREES, dtype=np.float64))                  # (9,) broadcasts to (6, 9)
    got = getattr(S, name)(x, n).numpy()
    expected = np.array([[CLOSED_FORMS[name](k, v) for k in DEGREES] for v in X])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    for k in (0, 1, 5):  # a Python int n
        np.testing.assert_allclose(getattr(S, name)(mg.tensor(X), k).numpy(),
                                   [CLOSED_FORMS[name](k, v) for v in X], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(TORCH_AT_3))
def test_polynomial_values_match_pytorch(name):
    np.testing.assert_allclose(getattr(S, name)(mg.tensor(X), 3).numpy(), TORCH_AT_3[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_degree_rules_as_pytorch(name):
    f, x = getattr(S, name), mg.tensor(X)
    np.testing.assert_array_equal(f(x, -1).numpy(), np.zeros(6))        # n < 0: 0
    np.testing.assert_array_equal(f(x, -3.5).numpy(), np.zeros(6))
    np.testing.assert_array_equal(f(x, 2.5).numpy(), f(x, 2).numpy())   # truncated toward zero
    np.testing.assert_array_equal(f(x, 3.9).numpy(), f(x, 3).numpy())
    np.testing.assert_array_equal(f(x, -0.5).numpy(), np.ones(6))       # -0.5 truncates to degree 0
    np.testing.assert_allclose(f(x, mg.tensor([0, 2, -1, 1, 3, 4])).numpy(),  # elementwise n
                               [CLOSED_FORMS[name](k, v) if k >= 0 else 0.0
                                for k, v in zip([0, 2, -1, 1, 3, 4], X)], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_polynomial_dtypes_and_no_gradient(name):
    f = getattr(S, name)
    assert f(mg.tensor([1, 2]), 2).dtype == mg.float32                  # integers become float32
    assert f(2.0, mg.tensor([2, 3])).dtype == mg.float32
    assert f(mg.tensor([0.5], dtype=mg.float32), mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32
    assert f(mg.tensor([0.5], dtype=mg.float32), mg.tensor([2.0], dtype=mg.float64)).dtype == mg.float64
    np.testing.assert_allclose(f(mg.tensor([1, 2]), 2).numpy(), [CLOSED_FORMS[name](2, v) for v in (1, 2)],
                               rtol=1e-6)
    x = mg.tensor(X, requires_grad=True)
    out = f(x, 3)
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError):
        out.sum().backward()


def test_polynomial_argument_errors():
    with pytest.raises(TypeError, match="Tensor"):
        S.chebyshev_polynomial_t(0.5, 2)
    with pytest.raises(TypeError, match="'n'"):
        S.hermite_polynomial_h(mg.tensor([1.0]), "2")


# ------------------------------------------------------------------ Bessel family
def j_series(nu, x, terms=60):
    """J_nu(x) = sum_k (-1)^k (x/2)^(2k+nu) / (k! (k+nu)!)."""
    return sum((-1) ** k * (x / 2) ** (2 * k + nu) / (math.factorial(k) * math.factorial(k + nu)) for k in range(terms))


def i_series(nu, x, terms=60):
    """I_nu(x) = sum_k (x/2)^(2k+nu) / (k! (k+nu)!)."""
    return sum((x / 2) ** (2 * k + nu) / (math.factorial(k) * math.factorial(k + nu)) for k in range(terms))


def y0_series(x, terms=60):
    """Y_0 = (2/pi)(ln(x/2) + gamma) J_0 + (2/pi) sum_{k>=1} (-1)^(k+1) H_k (x^2/4)^k / (k!)^2."""
    harmonic = np.cumsum(1.0 / np.arange(1, terms + 1))
    tail = sum((-1) ** (k + 1) * harmonic[k - 1] * (x * x / 4) ** k / math.factorial(k) ** 2 for k in range(1, terms))
    return 2 / math.pi * ((math.log(x / 2) + np.euler_gamma) * j_series(0, x) + tail)


def y1_series(x, terms=60):
    """Y_1 = -2/(pi x) + (2/pi) ln(x/2) J_1 - (1/pi) sum_k (-1)^k (psi(k+1) + psi(k+2)) (x/2)^(2k+1) / (k!(k+1)!)."""
    def psi(m):  # digamma at a positive integer: -gamma + H_(m-1)
        return -np.euler_gamma + sum(1.0 / j for j in range(1, m))
    tail = sum((-1) ** k * (psi(k + 1) + psi(k + 2)) * (x / 2) ** (2 * k + 1)
               / (math.factorial(k) * math.factorial(k + 1)) for k in range(terms))
    return -2 / (math.pi * x) + 2 / math.pi * math.log(x / 2) * j_series(1, x) - tail / math.pi


def k_integral(nu, x):
    """K_nu(x) = int_0^inf exp(-x cosh t) cosh(nu t) dt (past t = 20 the integrand is below e^-10^7)."""
    return integrate.quad(lambda t: math.exp(-x * math.cosh(t)) * math.cosh(nu * t), 0, 20,
                          epsabs=0, epsrel=1e-13, limit=200)[0]


def airy_series(x, terms=60):
    """Ai(x) = c1 f(x) - c2 g(x): the power series of the solution of y'' = x y with
    Ai(0) = c1 = 3^(-2/3) / Gamma(2/3), Ai'(0) = -c2 = -3^(-1/3) / Gamma(1/3)."""
    c1, c2 = 3 ** (-2 / 3) / math.gamma(2 / 3), 3 ** (-1 / 3) / math.gamma(1 / 3)
    f = g = 0.0
    f_term, g_term = 1.0, x
    for k in range(terms):
        f, g = f + f_term, g + g_term
        f_term *= x ** 3 / ((3 * k + 2) * (3 * k + 3))
        g_term *= x ** 3 / ((3 * k + 3) * (3 * k + 4))
    return c1 * f - c2 * g


POSITIVE = np.array([0.1, 0.5, 1.0, 2.3, 4.0, 6.0])
EVERYWHERE = np.array([-3.0, -1.2, -0.4, 0.0, 0.7, 1.9, 3.0])


def test_bessel_values_against_series_and_integrals():
    def close(name, xs, reference, rtol=1e-10):
        np.testing.assert_allclose(getattr(S, name)(mg.tensor(xs)).numpy(), [reference(v) for v in xs],
                                   rtol=rtol, atol=1e-13)
    close("airy_ai", EVERYWHERE, airy_series)
    close("bessel_y0", POSITIVE, y0_series, rtol=1e-9)
    close("bessel_y1", POSITIVE, y1_series, rtol=1e-9)
    close("modified_bessel_i0", EVERYWHERE, lambda v: i_series(0, v))
    close("modified_bessel_i1", EVERYWHERE, lambda v: i_series(1, v))
    close("modified_bessel_k0", POSITIVE, lambda v: k_integral(0, v))
    close("modified_bessel_k1", POSITIVE, lambda v: k_integral(1, v))
    close("scaled_modified_bessel_k0", POSITIVE, lambda v: math.exp(v) * k_integral(0, v))
    close("scaled_modified_bessel_k1", POSITIVE, lambda v: math.exp(v) * k_integral(1, v))
    close("spherical_bessel_j0", EVERYWHERE, lambda v: math.sin(v) / v if v else 1.0)


def test_bessel_edges_as_pytorch():
    x = mg.tensor([-1.0, 0.0])
    for name in ("bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
                 "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"):
        values = getattr(S, name)(x).numpy()
        assert np.isnan(values[0]), name                                # undefined for x < 0
        assert values[1] == (-np.inf if name.startswith("bessel") else np.inf), name
    # PyTorch 2.13 at [-1.5, 1.0, 2.5] (float64).
    np.testing.assert_allclose(S.modified_bessel_i1(mg.tensor([-1.5, 1.0, 2.5])).numpy(),
                               [-0.98166643, 0.5651591, 2.51671625], rtol=1e-7)
    np.testing.assert_allclose(S.scaled_modified_bessel_k1(mg.tensor([0.3, 1.0, 2.5])).numpy(),
                               [4.12515776, 1.63615349, 0.90017442], rtol=1e-7)


@pytest.mark.parametrize("name", ["airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
                                  "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                                  "scaled_modified_bessel_k1", "spherical_bessel_j0"])
def test_bessel_dtypes_and_no_gradient(name):
    f = getattr(S, name)
    assert f(mg.tensor([1, 2])).dtype == mg.float32
    assert f(mg.tensor([1.0], dtype=mg.float64)).dtype == mg.float64
    np.testing.assert_allclose(f(mg.tensor([1.0, 2.0], dtype=mg.float32)).numpy(),
                               f(mg.tensor([1.0, 2.0], dtype=mg.float64)).numpy(), rtol=1e-6)
    out = f(mg.tensor([0.5, 1.5], requires_grad=True))
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(TypeError, match="must be Tensor"):
        f(1.0)
