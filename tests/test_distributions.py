"""minigrad.distributions: log_prob, cdf, icdf, entropy, mean, variance against scipy.stats in
float32 and float64; float64 gradcheck of log_prob (and the other differentiable statistics) in
the parameters and of rsample; sample moments with a fixed seed; kl_divergence against numerical
integration, exact sums and Monte-Carlo; shapes (batch_shape, event_shape, sample_shape, expand);
constraints; validate_args errors."""
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats

import minigrad as mg
from minigrad import distributions as D
from minigrad import gradcheck
from minigrad.distributions import constraints
from minigrad.distributions.gamma_sampling import standard_gamma_grad


def leaf(values, dtype=np.float64, requires_grad=False):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


# ------------------------------------------------------------------ the scipy table
# name -> (minigrad constructor, scipy frozen distribution from the same parameters,
#          parameters (batch of 3), values to score (batch of 3), which methods to compare)
def _lognorm(loc, scale):
    return stats.lognorm(s=scale, scale=np.exp(loc))


UNIVARIATE = {
    "Normal": (D.Normal, lambda loc, scale: stats.norm(loc, scale),
               [[0.3, -1.0, 2.0], [1.5, 0.7, 0.2]], [0.2, 2.0, 2.1], "log_prob cdf icdf entropy mean variance"),
    "Laplace": (D.Laplace, lambda loc, scale: stats.laplace(loc, scale),
                [[0.3, -1.0, 2.0], [1.5, 0.7, 0.2]], [0.2, 2.0, 1.7], "log_prob cdf icdf entropy mean variance"),
    "Cauchy": (D.Cauchy, lambda loc, scale: stats.cauchy(loc, scale),
               [[0.3, -1.0, 2.0], [1.5, 0.7, 0.2]], [0.2, 2.0, 1.7], "log_prob cdf icdf entropy"),
    "Gumbel": (D.Gumbel, lambda loc, scale: stats.gumbel_r(loc, scale),
               [[0.3, -1.0, 2.0], [1.5, 0.7, 0.4]], [0.2, 2.0, 1.7], "log_prob cdf icdf entropy mean variance"),
    "LogNormal": (D.LogNormal, _lognorm,
                  [[0.3, -1.0, 0.5], [0.5, 0.7, 0.2]], [0.2, 2.0, 1.7], "log_prob cdf icdf entropy mean variance"),
    "HalfNormal": (D.HalfNormal, lambda scale: stats.halfnorm(scale=scale),
                   [[1.5, 0.7, 0.2]], [0.2, 2.0, 0.1], "log_prob cdf icdf entropy mean variance"),
    "Uniform": (D.Uniform, lambda low, high: stats.uniform(low, high - low),
                [[0.0, -1.0, 2.0], [1.5, 3.0, 2.5]], [0.2, 2.0, 2.1], "log_prob cdf icdf entropy mean variance"),
    "Exponential": (D.Exponential, lambda rate: stats.expon(scale=1 / rate),
                    [[1.5, 0.7, 3.0]], [0.2, 2.0, 0.1], "log_prob cdf icdf entropy mean variance"),
    "Gamma": (D.Gamma, lambda a, rate: stats.gamma(a, scale=1 / rate),
              [[1.5, 0.7, 4.0], [2.0, 0.5, 1.3]], [0.2, 2.0, 3.1], "log_prob cdf entropy mean variance"),
    "Chi2": (D.Chi2, lambda df: stats.chi2(df),
             [[1.5, 3.7, 6.0]], [0.2, 2.0, 5.5], "log_prob cdf entropy mean variance"),
    "StudentT": (D.StudentT, lambda df, loc, scale: stats.t(df, loc, scale),
                 [[2.5, 3.7, 9.0], [0.1, -0.2, 1.0], [1.0, 2.0, 0.5]], [0.2, 2.0, 1.1],
                 "log_prob entropy mean variance"),
    "Beta": (D.Beta, lambda a, b: stats.beta(a, b),
             [[1.5, 0.7, 3.0], [2.0, 0.5, 1.2]], [0.2, 0.9, 0.55], "log_prob entropy mean variance"),
    "Poisson": (D.Poisson, lambda rate: stats.poisson(rate),
                [[1.5, 0.7, 6.0]], [0.0, 2.0, 7.0], "log_prob mean variance"),
    "Geometric": (D.Geometric, lambda p: stats.geom(p, loc=-1),
                  [[0.3, 0.7, 0.05]], [0.0, 2.0, 11.0], "log_prob entropy mean variance"),
    "Bernoulli": (D.Bernoulli, lambda p: stats.bernoulli(p),
                  [[0.3, 0.7, 0.9]], [0.0, 1.0, 1.0], "log_prob entropy mean variance"),
    "Binomial": (lambda n, p: D.Binomial(n, p), lambda n, p: stats.binom(n, p),
                 [[5.0, 5.0, 5.0], [0.2, 0.7, 0.45]], [2.0, 5.0, 0.0], "log_prob entropy mean variance"),
}

class KumaraswamyReference:
    """The Kumaraswamy(a, b) density a b x^(a-1) (1 - x^a)^(b-1), its cdf 1 - (1 - x^a)^b and its
    quantile, with the entropy and moments by quadrature (scipy.stats has no Kumaraswamy)."""

    def __init__(self, a, b):
        self.a, self.b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    def logpdf(self, x):
        a, b = self.a, self.b
        return np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * np.log1p(-x ** a)

    def cdf(self, x):
        return 1 - (1 - x ** self.a) ** self.b

    def ppf(self, q):
        return (1 - (1 - q) ** (1 / self.b)) ** (1 / self.a)

    def _integral(self, function):
        return np.array([integrate.quad(lambda x: function(x, a, b), 0, 1, limit=200)[0]
                         for a, b in zip(self.a, self.b)])

    def entropy(self):
        def integrand(x, a, b):
            log_density = KumaraswamyReference(a, b).logpdf(x)
            return -np.exp(log_density) * log_density
        return self._integral(integrand)

    def mean(self):
        return self._integral(lambda x, a, b: x * np.exp(KumaraswamyReference(a, b).logpdf(x)))

    def var(self):
        return self._integral(lambda x, a, b: x * x * np.exp(KumaraswamyReference(a, b).logpdf(x))) - self.mean() ** 2


UNIVARIATE.update({
    "Pareto": (D.Pareto, lambda scale, alpha: stats.pareto(alpha, scale=scale),
               [[1.5, 0.7, 2.0], [4.5, 5.0, 6.0]], [2.0, 3.0, 2.5], "log_prob cdf icdf entropy mean variance"),
    "Weibull": (D.Weibull, lambda scale, k: stats.weibull_min(k, scale=scale),
                [[1.5, 0.7, 2.0], [2.5, 0.8, 3.0]], [0.3, 1.0, 2.5], "log_prob cdf icdf entropy mean variance"),
    "HalfCauchy": (D.HalfCauchy, lambda scale: stats.halfcauchy(scale=scale),
                   [[1.5, 0.7, 2.0]], [0.3, 1.0, 2.5], "log_prob cdf icdf entropy"),
    "InverseGamma": (D.InverseGamma, lambda a, rate: stats.invgamma(a, scale=rate),
                     [[4.5, 5.2, 6.0], [2.5, 0.8, 3.0]], [0.3, 1.0, 2.5], "log_prob cdf entropy mean variance"),
    "Kumaraswamy": (D.Kumaraswamy, KumaraswamyReference,
                    [[1.5, 0.7, 2.0], [2.5, 0.8, 3.0]], [0.3, 0.1, 0.9], "log_prob cdf icdf entropy mean variance"),
    "GeneralizedPareto": (D.GeneralizedPareto, lambda loc, scale, c: stats.genpareto(c, loc, scale),
                          [[0.3, -1.0, 0.5], [1.5, 0.7, 2.0], [0.2, 0.0, -0.4]], [0.5, 0.2, 3.0],
                          "log_prob cdf icdf entropy mean variance"),
    "FisherSnedecor": (D.FisherSnedecor, lambda df1, df2: stats.f(df1, df2),
                       [[1.5, 3.0, 6.0], [9.0, 10.0, 12.0]], [0.3, 1.0, 2.5], "log_prob mean variance"),
    # PyTorch counts successes (probability probs) before total_count failures: scipy's nbinom(r, 1 - p)
    "NegativeBinomial": (D.NegativeBinomial, lambda r, p: stats.nbinom(r, 1 - p),
                         [[3.0, 2.5, 6.0], [0.3, 0.6, 0.2]], [0.0, 2.0, 7.0], "log_prob mean variance"),
})

SCIPY_METHOD = {"log_prob": "logpdf", "cdf": "cdf", "icdf": "ppf", "entropy": "entropy",
                "mean": "mean", "variance": "var"}
DISCRETE = {"Poisson", "Geometric", "Bernoulli", "Binomial", "NegativeBinomial"}
QUANTILES = [0.1, 0.5, 0.93]


def _reference(name, method, params, values):
    frozen = UNIVARIATE[name][1](*[np.asarray(p, dtype=np.float64) for p in params])
    scipy_name = SCIPY_METHOD[method]
    if name in DISCRETE and method == "log_prob":
        scipy_name = "logpmf"
    function = getattr(frozen, scipy_name)
    if method in ("log_prob", "cdf"):
        return function(np.asarray(values, dtype=np.float64))
    if method == "icdf":
        return function(np.asarray(QUANTILES))
    return np.asarray(function(), dtype=np.float64)


def _minigrad_value(dist, method, values, dtype):
    if method in ("log_prob", "cdf"):
        return getattr(dist, method)(leaf(values, dtype))
    if method == "icdf":
        return dist.icdf(leaf(QUANTILES, dtype))
    if method == "entropy":
        return dist.entropy()
    return getattr(dist, method)


CASES = [(name, method) for name, spec in UNIVARIATE.items() for method in spec[4].split()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, method", CASES)
def test_univariate_against_scipy(name, method, dtype):
    make, _, params, values, _ = UNIVARIATE[name]
    dist = make(*[leaf(p, dtype) for p in params])
    out = _minigrad_value(dist, method, values, dtype)
    assert out.dtype == dtype
    assert out.shape == (3,)
    expected = _reference(name, method, params, values)
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-5, 1e-5)
    if name == "Kumaraswamy" and dtype == np.float64:
        rtol = 1e-8                                                    # the reference is a quadrature
    np.testing.assert_allclose(out.array, expected, rtol=rtol, atol=atol)


def test_cauchy_and_studentt_undefined_moments():
    cauchy = D.Cauchy(leaf([0.0, 1.0]), leaf([1.0, 2.0]))
    assert np.isnan(cauchy.mean.array).all() and np.isinf(cauchy.variance.array).all()
    t = D.StudentT(leaf([0.5, 1.5, 3.0]), leaf([1.0, 2.0, 3.0]), 2.0)
    np.testing.assert_array_equal(np.isnan(t.mean.array), [True, False, False])
    np.testing.assert_allclose(t.variance.array, [np.nan, np.inf, 4.0 * 3.0], equal_nan=True)


def test_modes():
    np.testing.assert_allclose(D.Gamma(leaf([3.0, 0.5]), leaf([2.0, 1.0])).mode.array, [1.0, 0.0])
    np.testing.assert_allclose(D.Beta(leaf([3.0]), leaf([2.0])).mode.array, [2.0 / 3.0])
    np.testing.assert_allclose(D.LogNormal(leaf([0.5]), leaf([0.3])).mode.array, np.exp([0.5 - 0.09]))
    np.testing.assert_allclose(D.Bernoulli(leaf([0.2, 0.5, 0.8])).mode.array, [0.0, np.nan, 1.0])
    np.testing.assert_allclose(D.Poisson(leaf([2.7])).mode.array, [2.0])
    np.testing.assert_allclose(D.Binomial(10, leaf([0.33])).mode.array, [3.0])
    dirichlet = D.Dirichlet(leaf([[3.0, 2.0, 1.0], [0.5, 0.9, 0.2]]))
    np.testing.assert_allclose(dirichlet.mode.array, [[2 / 3, 1 / 3, 0.0], [1.0, 0.0, 0.0]])   # PyTorch's corner
    np.testing.assert_allclose(D.Beta(leaf([0.5]), leaf([0.7])).mode.array, [1.0])
    assert D.Categorical(leaf([0.1, 0.6, 0.3])).mode.item() == 1
    np.testing.assert_array_equal(D.OneHotCategorical(leaf([0.1, 0.6, 0.3])).mode.array, [0.0, 1.0, 0.0])


# ------------------------------------------------------------------ multivariate references
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dirichlet_against_scipy(dtype):
    alpha = np.array([[1.5, 0.7, 2.0], [3.0, 1.0, 0.4]])
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    dist = D.Dirichlet(leaf(alpha, dtype))
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    lp = dist.log_prob(leaf(x, dtype))
    assert lp.dtype == dtype and dist.batch_shape == (2,) and dist.event_shape == (3,)
    for i in range(2):
        frozen = stats.dirichlet(alpha[i])
        np.testing.assert_allclose(lp.array[i], frozen.logpdf(x[i]), rtol=rtol)
        np.testing.assert_allclose(dist.entropy().array[i], frozen.entropy(), rtol=rtol, atol=1e-6)
        np.testing.assert_allclose(dist.mean.array[i], frozen.mean(), rtol=rtol)
        np.testing.assert_allclose(dist.variance.array[i], frozen.var(), rtol=rtol)


def _covariance(seed, n=3, batch=(2,)):
    a = np.random.default_rng(seed).normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + np.eye(n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parameterisation", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_against_scipy(parameterisation, dtype):
    cov = _covariance(0)
    loc = np.array([0.3, -1.0, 2.0])                                      # broadcast over the batch of 2
    given = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
             "scale_tril": np.linalg.cholesky(cov)}[parameterisation]
    dist = D.MultivariateNormal(leaf(loc, dtype), **{parameterisation: leaf(given, dtype)})
    assert dist.batch_shape == (2,) and dist.event_shape == (3,)
    x = np.random.default_rng(1).normal(size=(4, 2, 3))
    lp = dist.log_prob(leaf(x, dtype))
    assert lp.shape == (4, 2) and lp.dtype == dtype
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    for b in range(2):
        frozen = stats.multivariate_normal(loc, cov[b])
        np.testing.assert_allclose(lp.array[:, b], frozen.logpdf(x[:, b]), rtol=rtol)
        np.testing.assert_allclose(dist.entropy().array[b], frozen.entropy(), rtol=rtol)
    np.testing.assert_allclose(dist.covariance_matrix.array, cov, rtol=rtol, atol=1e-5)
    np.testing.assert_allclose(dist.precision_matrix.array, np.linalg.inv(cov), rtol=rtol * 10, atol=1e-5)
    np.testing.assert_allclose(dist.scale_tril.array, np.linalg.cholesky(cov), rtol=rtol, atol=1e-5)
    np.testing.assert_allclose(dist.variance.array, np.diagonal(cov, axis1=-2, axis2=-1), rtol=rtol)
    np.testing.assert_allclose(dist.mean.array, np.broadcast_to(loc, (2, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_categorical_and_one_hot(given, dtype):
    rng = np.random.default_rng(2)
    probs = rng.random((2, 4))
    probs /= probs.sum(-1, keepdims=True)
    param = probs if given == "probs" else np.log(probs) + 0.7        # unnormalised logits
    dist = D.Categorical(**{given: leaf(param, dtype)})
    assert dist.batch_shape == (2,) and dist.event_shape == ()
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(dist.probs.array, probs, rtol=rtol)
    np.testing.assert_allclose(dist.logits.array, np.log(probs), rtol=rtol, atol=1e-6)
    values = np.array([[3, 0], [1, 1], [2, 3]])                         # (3, 2): sample_shape (3,)
    lp = dist.log_prob(mg.tensor(values))
    assert lp.shape == (3, 2) and lp.dtype == dtype
    np.testing.assert_allclose(lp.array, np.log(probs[[0, 1], values]), rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(dist.entropy().array, -(probs * np.log(probs)).sum(-1), rtol=rtol * 10)
    assert np.isnan(dist.mean.array).all() and dist.mean.shape == (2,)
    one_hot = D.OneHotCategorical(**{given: leaf(param, dtype)})
    assert one_hot.batch_shape == (2,) and one_hot.event_shape == (4,)
    np.testing.assert_allclose(one_hot.log_prob(leaf(np.eye(4)[values], dtype)).array, lp.array, rtol=rtol)
    np.testing.assert_allclose(one_hot.variance.array, probs * (1 - probs), rtol=rtol)
    np.testing.assert_allclose(one_hot.entropy().array, dist.entropy().array, rtol=rtol)


def test_categorical_entropy_with_zero_probability():
    dist = D.Categorical(leaf([0.5, 0.5, 0.0]))
    np.testing.assert_allclose(dist.entropy().item(), math.log(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_independent_and_mixture(dtype):
    rng = np.random.default_rng(3)
    loc, scale = rng.normal(size=(2, 3)), rng.random((2, 3)) + 0.5
    x = rng.normal(size=(5, 2, 3))
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    independent = D.Independent(D.Normal(leaf(loc, dtype), leaf(scale, dtype)), 1)
    assert independent.batch_shape == (2,) and independent.event_shape == (3,)
    np.testing.assert_allclose(independent.log_prob(leaf(x, dtype)).array,
                               stats.norm(loc, scale).logpdf(x).sum(-1), rtol=rtol)
    np.testing.assert_allclose(independent.entropy().array, stats.norm(loc, scale).entropy().sum(-1), rtol=rtol)
    weights = np.array([0.2, 0.5, 0.3])
    mixture = D.MixtureSameFamily(D.Categorical(leaf(weights, dtype)), D.Normal(leaf(loc[0], dtype),
                                                                                leaf(scale[0], dtype)))
    assert mixture.batch_shape == () and mixture.event_shape == ()
    points = np.array([-1.0, 0.2, 1.7])
    density = (weights * stats.norm(loc[0], scale[0]).pdf(points[:, None])).sum(-1)
    np.testing.assert_allclose(mixture.log_prob(leaf(points, dtype)).array, np.log(density), rtol=rtol)
    np.testing.assert_allclose(mixture.cdf(leaf(points, dtype)).array,
                               (weights * stats.norm(loc[0], scale[0]).cdf(points[:, None])).sum(-1), rtol=rtol)
    mean = (weights * loc[0]).sum()
    np.testing.assert_allclose(mixture.mean.item(), mean, rtol=rtol)
    np.testing.assert_allclose(mixture.variance.item(), (weights * (scale[0] ** 2 + loc[0] ** 2)).sum() - mean ** 2,
                               rtol=rtol * 10)
    # vector components: a mixture of two diagonal Normals in R^3
    mixture_3d = D.MixtureSameFamily(D.Categorical(leaf([0.4, 0.6], dtype)),
                                     D.Independent(D.Normal(leaf(loc, dtype), leaf(scale, dtype)), 1))
    assert mixture_3d.batch_shape == () and mixture_3d.event_shape == (3,)
    per_component = stats.norm(loc, scale).pdf(x[:, 0, None, :]).prod(-1)          # (5, 2)
    np.testing.assert_allclose(mixture_3d.log_prob(leaf(x[:, 0], dtype)).array,
                               np.log(per_component @ np.array([0.4, 0.6])), rtol=rtol * 10)


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_relaxed_distributions_log_prob(given):
    """RelaxedBernoulli: the density of sigmoid((logit u + logits) / t) by the change of variables;
    RelaxedOneHotCategorical: the Concrete density of Maddison et al. (2017), eq. (12)."""
    temperature, p = 0.6, np.array([0.3, 0.8])
    param = p if given == "probs" else np.log(p / (1 - p))
    dist = D.RelaxedBernoulli(leaf(temperature), **{given: leaf(param)})
    y = np.array([0.2, 0.9])
    logit_alpha = np.log(p / (1 - p))
    # density of y: t a y^(-t-1) (1-y)^(-t-1) / (a y^(-t) + (1-y)^(-t))^2, a = p / (1 - p)
    a = np.exp(logit_alpha)
    density = temperature * a * y ** (-temperature - 1) * (1 - y) ** (-temperature - 1) / (
        a * y ** (-temperature) + (1 - y) ** (-temperature)) ** 2
    np.testing.assert_allclose(dist.log_prob(leaf(y)).array, np.log(density), rtol=1e-10)
    np.testing.assert_allclose(integrate.quad(lambda v: math.exp(dist.log_prob(leaf([v, v])).array[0]), 0, 1)[0],
                               1.0, rtol=1e-6)

    probs = np.array([0.2, 0.5, 0.3])
    param = probs if given == "probs" else np.log(probs) - 1.0
    concrete = D.RelaxedOneHotCategorical(leaf(temperature), **{given: leaf(param)})
    y = np.array([0.1, 0.6, 0.3])
    k = 3
    density = (math.factorial(k - 1) * temperature ** (k - 1)
               * np.prod(probs * y ** (-temperature - 1)) / np.sum(probs * y ** (-temperature)) ** k)
    np.testing.assert_allclose(concrete.log_prob(leaf(y)).item(), np.log(density), rtol=1e-10)


def test_perplexity_and_enumerate_support():
    dist = D.Categorical(leaf([[0.2, 0.8], [0.5, 0.5]]))
    np.testing.assert_allclose(dist.perplexity().array, np.exp(dist.entropy().array))
    support = dist.enumerate_support()
    assert support.shape == (2, 2) and support.dtype == np.int64
    np.testing.assert_array_equal(support.array, [[0, 0], [1, 1]])
    assert dist.enumerate_support(expand=False).shape == (2, 1)
    assert D.Bernoulli(leaf([0.3, 0.4, 0.5])).enumerate_support().shape == (2, 3)
    binomial = D.Binomial(4, leaf([0.3, 0.6]))
    np.testing.assert_array_equal(binomial.enumerate_support(expand=False).array[:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(binomial.log_prob(binomial.enumerate_support()).exp().sum(0).array, [1.0, 1.0])
    assert D.OneHotCategorical(leaf([0.3, 0.7])).enumerate_support().shape == (2, 2)
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(leaf([3.0, 4.0]), leaf([0.3, 0.6])).entropy()


# ------------------------------------------------------------------ gradients
# name -> (constructor, float64 parameters (each positive where needed), a value in the support)
GRADIENT_CASES = {
    "Normal": (D.Normal, [[0.3, -1.0], [1.5, 0.7]], [0.2, 2.0]),
    "Laplace": (D.Laplace, [[0.3, -1.0], [1.5, 0.7]], [0.2, 2.0]),
    "Cauchy": (D.Cauchy, [[0.3, -1.0], [1.5, 0.7]], [0.2, 2.0]),
    "Gumbel": (D.Gumbel, [[0.3, -1.0], [1.5, 0.7]], [0.2, 2.0]),
    "LogNormal": (D.LogNormal, [[0.3, -1.0], [1.5, 0.7]], [0.2, 2.0]),
    "HalfNormal": (D.HalfNormal, [[1.5, 0.7]], [0.2, 2.0]),
    "Uniform": (D.Uniform, [[0.0, -1.0], [1.5, 3.0]], [0.2, 2.0]),
    "Exponential": (D.Exponential, [[1.5, 0.7]], [0.2, 2.0]),
    "Gamma": (D.Gamma, [[1.5, 0.7], [2.0, 0.5]], [0.2, 2.0]),
    "Chi2": (D.Chi2, [[1.5, 3.7]], [0.2, 2.0]),
    "StudentT": (D.StudentT, [[2.5, 3.7], [0.1, -0.2], [1.0, 2.0]], [0.2, 2.0]),
    "Beta": (D.Beta, [[1.5, 0.7], [2.0, 0.5]], [0.2, 0.9]),
    "Poisson": (D.Poisson, [[1.5, 0.7]], [0.0, 2.0]),
    "Geometric": (D.Geometric, [[0.3, 0.7]], [0.0, 2.0]),
    "Bernoulli": (D.Bernoulli, [[0.3, 0.7]], [0.0, 1.0]),
    "BernoulliLogits": (lambda x: D.Bernoulli(logits=x), [[-0.3, 1.7]], [0.0, 1.0]),
    "Binomial": (lambda p: D.Binomial(6, p), [[0.3, 0.7]], [2.0, 6.0]),
    "BinomialLogits": (lambda x: D.Binomial(6, logits=x), [[-0.3, 1.7]], [2.0, 6.0]),
    "Categorical": (D.Categorical, [[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]], [2, 0]),
    "CategoricalLogits": (lambda x: D.Categorical(logits=x), [[[0.2, -0.5, 1.3], [0.6, 0.1, 0.3]]], [2, 0]),
    "OneHotCategorical": (D.OneHotCategorical, [[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]], [[0, 0, 1], [1, 0, 0]]),
    "Dirichlet": (D.Dirichlet, [[[1.5, 0.7, 2.0]]], [[0.2, 0.3, 0.5]]),
    "MultivariateNormal": (lambda loc, tril: D.MultivariateNormal(loc, scale_tril=tril.tril()),
                           [[0.3, -1.0], [[1.5, 0.0], [0.4, 0.7]]], [[0.2, 2.0], [1.0, -1.0]]),
    "MultivariateNormalCov": (lambda loc, cov: D.MultivariateNormal(loc, covariance_matrix=(cov + cov.mT) / 2),
                              [[0.3, -1.0], [[1.5, 0.3], [0.3, 0.7]]], [[0.2, 2.0], [1.0, -1.0]]),
    "MultivariateNormalPrecision": (lambda loc, p: D.MultivariateNormal(loc, precision_matrix=(p + p.mT) / 2),
                                    [[0.3, -1.0], [[1.5, 0.3], [0.3, 0.7]]], [[0.2, 2.0], [1.0, -1.0]]),
    "RelaxedBernoulli": (lambda p: D.RelaxedBernoulli(leaf(0.6), p), [[0.3, 0.7]], [0.2, 0.9]),
    "RelaxedOneHotCategorical": (lambda p: D.RelaxedOneHotCategorical(leaf(0.6), p),
                                 [[[0.2, 0.5, 0.3]]], [[0.1, 0.6, 0.3]]),
    "Pareto": (D.Pareto, [[1.5, 0.7], [2.5, 3.0]], [2.0, 3.0]),
    "Weibull": (D.Weibull, [[1.5, 0.7], [2.5, 0.8]], [0.3, 1.0]),
    "HalfCauchy": (D.HalfCauchy, [[1.5, 0.7]], [0.3, 1.0]),
    "InverseGamma": (D.InverseGamma, [[2.5, 3.2], [2.5, 0.8]], [0.3, 1.0]),
    "Kumaraswamy": (D.Kumaraswamy, [[1.5, 0.7], [2.5, 0.8]], [0.3, 0.1]),
    "NegativeBinomial": (lambda r, p: D.NegativeBinomial(r, p), [[3.0, 2.5], [0.3, 0.6]], [0.0, 4.0]),
    "FisherSnedecor": (D.FisherSnedecor, [[1.5, 3.0], [5.0, 6.5]], [0.3, 1.0]),
    "GeneralizedPareto": (D.GeneralizedPareto, [[0.3, -1.0], [1.5, 0.7], [0.2, -0.4]], [0.5, 0.2]),
    "LogisticNormal": (D.LogisticNormal, [[0.3, -0.2], [1.0, 0.5]], [[0.2, 0.3, 0.5]]),
    "NegativeBinomialLogits": (lambda r, x: D.NegativeBinomial(r, logits=x), [[3.0, 2.5], [-0.3, 1.2]], [0.0, 4.0]),
    "Multinomial": (lambda p: D.Multinomial(5, p), [[[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]], [[1.0, 3.0, 1.0], [0, 0, 5]]),
}


def _value(values):
    array = np.asarray(values)
    return mg.tensor(array) if array.dtype.kind == "i" else leaf(array)


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_log_prob_gradcheck(name):
    make, params, values = GRADIENT_CASES[name]
    inputs = [leaf(p, requires_grad=True) for p in params]
    value = _value(values)
    assert gradcheck(lambda *ps: make(*ps).log_prob(value), inputs)


STATISTICS = {
    "Normal": "cdf icdf entropy mean variance", "Laplace": "cdf icdf entropy variance",
    "Cauchy": "cdf icdf entropy", "Gumbel": "cdf icdf entropy mean variance",
    "LogNormal": "cdf icdf entropy mean variance", "HalfNormal": "cdf icdf entropy mean variance",
    "Uniform": "cdf icdf entropy mean variance", "Exponential": "cdf icdf entropy mean variance",
    "Gamma": "entropy mean variance", "Chi2": "entropy mean variance", "StudentT": "entropy variance",
    "Beta": "entropy mean variance", "Geometric": "entropy mean variance", "Bernoulli": "entropy variance",
    "BernoulliLogits": "entropy mean variance", "Binomial": "entropy mean variance",
    "Categorical": "entropy", "CategoricalLogits": "entropy", "Dirichlet": "entropy mean variance",
    "MultivariateNormal": "entropy variance",
    "Pareto": "cdf icdf entropy mean variance", "Weibull": "cdf icdf entropy mean variance",
    "HalfCauchy": "cdf icdf entropy", "InverseGamma": "entropy mean variance",
    "Kumaraswamy": "cdf icdf entropy mean variance",
    "NegativeBinomial": "mean variance", "Multinomial": "entropy mean variance",
    "FisherSnedecor": "mean variance", "GeneralizedPareto": "cdf icdf entropy mean variance",
}


@pytest.mark.parametrize("name, method", [(n, m) for n, ms in STATISTICS.items() for m in ms.split()])
def test_statistic_gradcheck(name, method):
    make, params, values = GRADIENT_CASES[name]
    inputs = [leaf(p, requires_grad=True) for p in params]
    argument = {"cdf": leaf(values), "icdf": leaf([0.3, 0.8])}.get(method)

    def statistic(*ps):
        dist = make(*ps)
        if argument is not None:
            return getattr(dist, method)(argument)
        return dist.entropy() if method == "entropy" else getattr(dist, method)

    assert gradcheck(statistic, inputs)


def test_gamma_cdf_gradient_in_x():
    rate = leaf([2.0, 0.5], requires_grad=True)
    assert gradcheck(lambda r: D.Gamma(leaf([1.5, 0.7]), r).cdf(leaf([0.2, 2.0])), [rate])


RSAMPLE_CASES = {
    "Normal": (D.Normal, [[0.3, -1.0], [1.5, 0.7]]),
    "Laplace": (D.Laplace, [[0.3, -1.0], [1.5, 0.7]]),
    "Cauchy": (D.Cauchy, [[0.3, -1.0], [1.5, 0.7]]),
    "Gumbel": (D.Gumbel, [[0.3, -1.0], [1.5, 0.7]]),
    "LogNormal": (D.LogNormal, [[0.3, -1.0], [1.5, 0.7]]),
    "HalfNormal": (D.HalfNormal, [[1.5, 0.7]]),
    "Uniform": (D.Uniform, [[0.0, -1.0], [1.5, 3.0]]),
    "Exponential": (D.Exponential, [[1.5, 0.7]]),
    "Gamma": (D.Gamma, [[1.5, 0.7], [2.0, 0.5]]),
    "Chi2": (D.Chi2, [[1.5, 3.7]]),
    "StudentT": (D.StudentT, [[2.5, 3.7], [0.1, -0.2], [1.0, 2.0]]),
    "Beta": (D.Beta, [[1.5, 0.7], [2.0, 0.5]]),
    "Dirichlet": (D.Dirichlet, [[[1.5, 0.7, 2.0]]]),
    "MultivariateNormal": (lambda loc, tril: D.MultivariateNormal(loc, scale_tril=tril.tril()),
                           [[0.3, -1.0], [[1.5, 0.0], [0.4, 0.7]]]),
    "MultivariateNormalCov": (lambda loc, cov: D.MultivariateNormal(loc, covariance_matrix=(cov + cov.mT) / 2),
                              [[0.3, -1.0], [[1.5, 0.3], [0.3, 0.7]]]),
    "Independent": (lambda loc, scale: D.Independent(D.Normal(loc, scale), 1), [[0.3, -1.0], [1.5, 0.7]]),
    "RelaxedBernoulli": (lambda t, p: D.RelaxedBernoulli(t, p), [0.6, [0.3, 0.7]]),
    "RelaxedOneHotCategorical": (lambda t, p: D.RelaxedOneHotCategorical(t, p), [0.6, [[0.2, 0.5, 0.3]]]),
    "Pareto": (D.Pareto, [[1.5, 0.7], [2.5, 3.0]]),
    "Weibull": (D.Weibull, [[1.5, 0.7], [2.5, 0.8]]),
    "HalfCauchy": (D.HalfCauchy, [[1.5, 0.7]]),
    "InverseGamma": (D.InverseGamma, [[2.5, 3.2], [2.5, 0.8]]),
    "Kumaraswamy": (D.Kumaraswamy, [[1.5, 0.7], [2.5, 0.8]]),
    "FisherSnedecor": (D.FisherSnedecor, [[1.5, 3.0], [5.0, 6.5]]),
    "LogisticNormal": (D.LogisticNormal, [[0.3, -0.2], [1.0, 0.5]]),
    "GeneralizedPareto": (D.GeneralizedPareto, [[0.3, -1.0], [1.5, 0.7], [0.2, -0.4]]),
}


@pytest.mark.parametrize("name", sorted(RSAMPLE_CASES))
def test_rsample_gradcheck(name):
    """With the seed fixed the noise is fixed, so rsample is a deterministic function of the
    parameters: its backward must match finite differences of the draws themselves."""
    make, params = RSAMPLE_CASES[name]
    inputs = [leaf(p, requires_grad=True) for p in params]
    assert make(*inputs).has_rsample

    def draw(*ps):
        mg.manual_seed(7)
        return make(*ps).rsample((3,))

    assert draw(*inputs).requires_grad
    assert gradcheck(draw, inputs)


def test_implicit_gamma_gradient_matches_torch_formula():
    """dz/da = -(dP/da)(a, z) / density(z; a), against an independent quadrature of dP/da:
    dP/da = d/da int_0^z t^(a-1) e^(-t) / Gamma(a) dt = int_0^z (log t - digamma(a)) density(t) dt."""
    for a, z in [(0.7, 0.3), (2.5, 1.9), (10.0, 12.0)]:
        def integrand(t, a=a):
            return (math.log(t) - special.digamma(a)) * stats.gamma(a).pdf(t)
        dP_da = integrate.quad(integrand, 0, z, limit=200)[0]
        expected = -dP_da / stats.gamma(a).pdf(z)
        np.testing.assert_allclose(standard_gamma_grad(np.array([a]), np.array([z]))[0], expected, rtol=1e-6)


def test_gamma_rsample_gradient_is_unbiased():
    """E[dz/da] = d E[z] / da = 1 / rate and E[dz/drate] = -a / rate^2."""
    mg.manual_seed(0)
    a, rate = leaf([0.4, 3.0], requires_grad=True), leaf([2.0, 0.5], requires_grad=True)
    D.Gamma(a, rate).rsample((40000,)).sum().backward()
    np.testing.assert_allclose(a.grad.array / 40000, [1 / 2.0, 1 / 0.5], rtol=0.03)
    np.testing.assert_allclose(rate.grad.array / 40000, [-0.4 / 4.0, -3.0 / 0.25], rtol=0.03)


def test_straight_through_rsample():
    """OneHotCategoricalStraightThrough: the value is a one-hot sample, the gradient that of probs."""
    mg.manual_seed(0)
    probs = leaf([0.2, 0.5, 0.3], requires_grad=True)
    sample = D.OneHotCategoricalStraightThrough(probs).rsample((4,))
    assert sample.shape == (4, 3) and set(np.unique(sample.array)) == {0.0, 1.0}
    np.testing.assert_array_equal(sample.array.sum(-1), 1.0)
    weights = np.array([1.0, -2.0, 0.5])
    (sample * leaf(weights)).sum().backward()
    # d/dp of 4 * sum_k w_k p_k / sum(p) with sum(p) = 1: 4 (w_k - sum_j w_j p_j)
    np.testing.assert_allclose(probs.grad.array, 4 * (weights - weights @ probs.array), rtol=1e-12)


def test_discrete_distributions_have_no_rsample():
    for dist in [D.Bernoulli(leaf([0.3])), D.Categorical(leaf([0.3, 0.7])), D.Poisson(leaf([2.0])),
                 D.Binomial(3, leaf([0.3])), D.Geometric(leaf([0.3])), D.OneHotCategorical(leaf([0.3, 0.7])),
                 D.MixtureSameFamily(D.Categorical(leaf([0.3, 0.7])), D.Normal(leaf([0.0, 1.0]), 1.0))]:
        assert not dist.has_rsample
        with pytest.raises(NotImplementedError):
            dist.rsample()
        p = leaf([0.3, 0.7], requires_grad=True)
        assert not D.Categorical(p).sample((4,)).requires_grad


def test_sample_is_outside_the_graph():
    loc = leaf([0.0, 1.0], requires_grad=True)
    assert not D.Normal(loc, 1.0).sample((3,)).requires_grad
    assert D.Normal(loc, 1.0).rsample((3,)).requires_grad


# ------------------------------------------------------------------ sampling
def _check_moments(samples, mean, variance, name):
    """Sample mean within 5 standard errors and sample variance within 10% (+ a small absolute term)."""
    n = samples.shape[0]
    mean, variance = np.asarray(mean, dtype=np.float64), np.asarray(variance, dtype=np.float64)
    np.testing.assert_allclose(samples.mean(0), mean, atol=5 * np.sqrt(variance / n).max() + 1e-12,
                               err_msg=f"{name} mean")
    np.testing.assert_allclose(samples.var(0), variance, rtol=0.1, atol=1e-3, err_msg=f"{name} variance")


@pytest.mark.parametrize("name", sorted(n for n in UNIVARIATE if n not in ("Cauchy", "HalfCauchy")))
def test_sample_moments(name):
    make, scipy_make, params, _, _ = UNIVARIATE[name]
    mg.manual_seed(1234)
    dist = make(*[leaf(p) for p in params])
    samples = dist.sample((60000,))
    assert samples.shape == (60000, 3) and samples.dtype == np.float64
    frozen = scipy_make(*[np.asarray(p) for p in params])
    _check_moments(samples.array, frozen.mean(), frozen.var(), name)
    assert bool(dist.support.check(samples).array.all())


def test_cauchy_sample_quantiles():
    mg.manual_seed(3)
    samples = D.Cauchy(leaf([0.3]), leaf([1.5])).sample((40000,)).array[:, 0]
    np.testing.assert_allclose(np.quantile(samples, [0.25, 0.5, 0.75]), [0.3 - 1.5, 0.3, 0.3 + 1.5], atol=0.06)


def test_multivariate_sample_moments():
    mg.manual_seed(5)
    cov = _covariance(4, batch=())
    loc = np.array([0.3, -1.0, 2.0])
    samples = D.MultivariateNormal(leaf(loc), covariance_matrix=leaf(cov)).sample((50000,)).array
    np.testing.assert_allclose(samples.mean(0), loc, atol=5 * np.sqrt(np.diag(cov) / 50000).max())
    np.testing.assert_allclose(np.cov(samples.T), cov, rtol=0.05, atol=0.05)
    alpha = np.array([1.5, 0.7, 2.0])
    dirichlet = D.Dirichlet(leaf(alpha))
    samples = dirichlet.sample((50000,)).array
    np.testing.assert_allclose(samples.sum(-1), 1.0, rtol=1e-12)
    _check_moments(samples, dirichlet.mean.array, dirichlet.variance.array, "Dirichlet")
    probs = np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]])
    counts = D.Categorical(leaf(probs)).sample((50000,)).array
    assert counts.dtype == np.int64 and counts.shape == (50000, 2)
    for b in range(2):
        np.testing.assert_allclose(np.bincount(counts[:, b], minlength=3) / 50000, probs[b], atol=0.01)
    one_hot = D.OneHotCategorical(leaf(probs)).sample((50000,)).array
    assert one_hot.shape == (50000, 2, 3) and set(np.unique(one_hot)) == {0.0, 1.0}
    np.testing.assert_allclose(one_hot.mean(0), probs, atol=0.01)
    mixture = D.MixtureSameFamily(D.Categorical(leaf([0.3, 0.7])), D.Normal(leaf([-2.0, 3.0]), leaf([0.5, 1.0])))
    _check_moments(mixture.sample((50000,)).array[:, None], mixture.mean.array[None],
                   mixture.variance.array[None], "MixtureSameFamily")


def test_relaxed_samples():
    mg.manual_seed(11)
    relaxed = D.RelaxedBernoulli(leaf(0.05), leaf([0.3, 0.8])).sample((40000,)).array
    assert ((relaxed > 0) & (relaxed < 1)).all()
    np.testing.assert_allclose((relaxed > 0.5).mean(0), [0.3, 0.8], atol=0.01)   # a low temperature: ~Bernoulli
    concrete = D.RelaxedOneHotCategorical(leaf(0.05), leaf([0.2, 0.5, 0.3])).sample((40000,)).array
    np.testing.assert_allclose(concrete.sum(-1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(np.bincount(concrete.argmax(-1), minlength=3) / 40000, [0.2, 0.5, 0.3], atol=0.01)


def test_manual_seed_reproducibility():
    def draws():
        mg.manual_seed(42)
        return [D.Normal(0.0, 1.0).sample((3,)).array, D.Gamma(leaf([0.5]), 1.0).rsample((4,)).array,
                D.Categorical(leaf([0.2, 0.8])).sample((5,)).array, D.Poisson(leaf([3.0])).sample((2,)).array,
                D.Beta(leaf([2.0]), leaf([3.0])).sample((2,)).array]

    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    mg.manual_seed(43)
    assert not np.array_equal(D.Normal(0.0, 1.0).sample((3,)).array, first[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_dtypes(dtype):
    mg.manual_seed(0)
    for dist in [D.Normal(leaf([0.0], dtype), 1.0), D.Gamma(leaf([2.0], dtype), 1.0), D.Beta(leaf([2.0], dtype), 1.0),
                 D.Dirichlet(leaf([1.0, 2.0], dtype)), D.Bernoulli(leaf([0.3], dtype)), D.Poisson(leaf([2.0], dtype)),
                 D.Uniform(leaf([0.0], dtype), 2.0), D.StudentT(leaf([3.0], dtype)),
                 D.MultivariateNormal(leaf([0.0, 1.0], dtype), leaf(np.eye(2), dtype))]:
        assert dist.sample((2,)).dtype == dtype, dist
        assert dist.log_prob(dist.sample((2,))).dtype == dtype, dist


# ------------------------------------------------------------------ kl_divergence
def _kl_quad(p_scipy, q_scipy, low, high):
    def integrand(x):
        lp, lq = p_scipy.logpdf(x), q_scipy.logpdf(x)
        return math.exp(lp) * (lp - lq) if np.isfinite(lp) else 0.0
    return integrate.quad(integrand, low, high, limit=200)[0]


KL_CONTINUOUS = [
    ("Normal", (D.Normal, [0.3, 1.5], [1.0, 0.5]), stats.norm, -40, 40),
    ("Laplace", (D.Laplace, [0.3, 1.5], [1.0, 0.5]), stats.laplace, -80, 80),
    ("Gumbel", (D.Gumbel, [0.3, 1.5], [1.0, 0.9]), stats.gumbel_r, -8, 80),
    ("Cauchy", (D.Cauchy, [0.3, 1.5], [1.0, 0.5]), stats.cauchy, -np.inf, np.inf),
    ("Exponential", (D.Exponential, [1.3], [2.0]), lambda r: stats.expon(scale=1 / r), 0, np.inf),
    ("Gamma", (D.Gamma, [1.3, 1.5], [2.0, 0.5]), lambda a, r: stats.gamma(a, scale=1 / r), 0, np.inf),
    ("Beta", (D.Beta, [1.3, 1.5], [2.0, 0.5]), stats.beta, 0, 1),
    ("HalfNormal", (D.HalfNormal, [1.3], [0.6]), lambda s: stats.halfnorm(scale=s), 0, np.inf),
    ("LogNormal", (D.LogNormal, [0.3, 0.5], [0.1, 0.8]), _lognorm, 0, np.inf),
    ("Uniform", (D.Uniform, [0.2, 0.9], [-1.0, 2.0]), lambda lo, hi: stats.uniform(lo, hi - lo), 0.2, 0.9),
    ("UniformNormal", (None, [0.2, 0.9], [1.0, 0.5]), None, 0.2, 0.9),
]


@pytest.mark.parametrize("name, spec, scipy_make, low, high", KL_CONTINUOUS, ids=[c[0] for c in KL_CONTINUOUS])
def test_kl_continuous_against_quadrature(name, spec, scipy_make, low, high):
    make, p_params, q_params = spec
    if name == "UniformNormal":
        p, q = D.Uniform(*[leaf(v) for v in p_params]), D.Normal(*[leaf(v) for v in q_params])
        p_scipy, q_scipy = stats.uniform(0.2, 0.7), stats.norm(1.0, 0.5)
    else:
        p, q = make(*[leaf(v) for v in p_params]), make(*[leaf(v) for v in q_params])
        p_scipy, q_scipy = scipy_make(*p_params), scipy_make(*q_params)
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), _kl_quad(p_scipy, q_scipy, low, high),
                               rtol=1e-6, atol=1e-9)


def test_kl_uniform_outside_support_is_infinite():
    kl = D.kl_divergence(D.Uniform(leaf([0.0, 0.0]), leaf([1.0, 1.0])), D.Uniform(leaf([0.5, -1.0]), leaf([2.0, 2.0])))
    np.testing.assert_allclose(kl.array, [np.inf, np.log(3.0)])


def _kl_sum(p, q, support):
    values = leaf(support)
    lp, lq = p.log_prob(values).array, q.log_prob(values).array
    return np.sum(np.exp(lp) * (lp - lq))


def test_kl_discrete_against_sums():
    k = np.arange(0.0, 200.0)
    np.testing.assert_allclose(D.kl_divergence(D.Poisson(leaf(1.3)), D.Poisson(leaf(2.0))).item(),
                               _kl_sum(D.Poisson(leaf(1.3)), D.Poisson(leaf(2.0)), k), rtol=1e-10)
    np.testing.assert_allclose(D.kl_divergence(D.Geometric(leaf(0.3)), D.Geometric(leaf(0.6))).item(),
                               _kl_sum(D.Geometric(leaf(0.3)), D.Geometric(leaf(0.6)), k), rtol=1e-10)
    np.testing.assert_allclose(D.kl_divergence(D.Bernoulli(leaf(0.3)), D.Bernoulli(leaf(0.6))).item(),
                               0.3 * math.log(0.3 / 0.6) + 0.7 * math.log(0.7 / 0.4), rtol=1e-12)
    np.testing.assert_allclose(D.kl_divergence(D.Binomial(5, leaf(0.3)), D.Binomial(5, leaf(0.6))).item(),
                               _kl_sum(D.Binomial(5, leaf(0.3)), D.Binomial(5, leaf(0.6)), np.arange(6.0)), rtol=1e-10)
    p, q = np.array([[0.2, 0.5, 0.3]]), np.array([[0.4, 0.4, 0.2]])
    expected = (p * np.log(p / q)).sum(-1)
    np.testing.assert_allclose(D.kl_divergence(D.Categorical(leaf(p)), D.Categorical(leaf(q))).array, expected)
    np.testing.assert_allclose(D.kl_divergence(D.OneHotCategorical(leaf(p)), D.OneHotCategorical(leaf(q))).array,
                               expected)
    # zero probabilities: 0 log 0 = 0, and p > 0 where q = 0 gives inf
    assert D.kl_divergence(D.Bernoulli(leaf(0.0)), D.Bernoulli(leaf(0.4))).item() == pytest.approx(math.log(1 / 0.6))
    assert D.kl_divergence(D.Bernoulli(leaf(0.4)), D.Bernoulli(leaf(0.0))).item() == math.inf
    assert D.kl_divergence(D.Categorical(leaf([0.5, 0.5])), D.Categorical(leaf([1.0, 0.0]))).item() == math.inf


def test_kl_multivariate():
    rng = np.random.default_rng(8)
    cov_p, cov_q = _covariance(1, batch=()), _covariance(2, batch=())
    mu_p, mu_q = rng.normal(size=3), rng.normal(size=3)
    inv_q = np.linalg.inv(cov_q)
    expected = 0.5 * (np.trace(inv_q @ cov_p) + (mu_q - mu_p) @ inv_q @ (mu_q - mu_p) - 3
                      + np.log(np.linalg.det(cov_q) / np.linalg.det(cov_p)))
    p = D.MultivariateNormal(leaf(mu_p), covariance_matrix=leaf(cov_p))
    q = D.MultivariateNormal(leaf(mu_q), precision_matrix=leaf(inv_q))
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), expected, rtol=1e-10)
    # Dirichlet: Monte-Carlo E_p[log p - log q]
    mg.manual_seed(9)
    p, q = D.Dirichlet(leaf([1.5, 0.7, 2.0])), D.Dirichlet(leaf([1.0, 1.0, 3.0]))
    x = p.sample((200000,))
    log_ratio = (p.log_prob(x) - q.log_prob(x)).array
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), log_ratio.mean(),
                               atol=5 * log_ratio.std() / math.sqrt(len(log_ratio)))
    # Independent: the sum of the per-coordinate KLs
    loc_p, loc_q, scale_p, scale_q = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.random((2, 3)) + 0.5, 1.0
    kl = D.kl_divergence(D.Independent(D.Normal(leaf(loc_p), leaf(scale_p)), 1),
                         D.Independent(D.Normal(leaf(loc_q), scale_q), 1))
    per_coordinate = np.log(scale_q / scale_p) + (scale_p ** 2 + (loc_p - loc_q) ** 2) / (2 * scale_q ** 2) - 0.5
    assert kl.shape == (2,)
    np.testing.assert_allclose(kl.array, per_coordinate.sum(-1), rtol=1e-12)


def test_kl_gradients_and_dispatch():
    loc = leaf([0.3, -1.0], requires_grad=True)
    scale = leaf([1.5, 0.7], requires_grad=True)
    assert gradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(0.0, 1.0)), [loc, scale])
    alpha = leaf([[1.5, 0.7, 2.0]], requires_grad=True)
    assert gradcheck(lambda a: D.kl_divergence(D.Dirichlet(a), D.Dirichlet(leaf([[1.0, 1.0, 3.0]]))), [alpha])
    tril = leaf([[1.5, 0.0], [0.4, 0.7]], requires_grad=True)
    assert gradcheck(lambda m, t: D.kl_divergence(D.MultivariateNormal(m, scale_tril=t.tril()),
                                                  D.MultivariateNormal(leaf([0.0, 0.0]), leaf(np.eye(2)))),
                     [loc, tril])
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Cauchy and q "
                                                  "type Laplace"):
        D.kl_divergence(D.Cauchy(0.0, 1.0), D.Laplace(0.0, 1.0))
    with pytest.raises(NotImplementedError, match="between different exponential families"):
        D.kl_divergence(D.Poisson(1.0), D.Normal(0.0, 1.0))

    class MyNormal(D.Normal):
        pass

    class NormalWithInit(D.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    assert MyNormal(leaf([0.0]), 1.0).expand((3,)).batch_shape == (3,)
    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        NormalWithInit(leaf([0.0])).expand((3,))

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @D.register_kl(MyNormal, MyNormal)
    def _always_seven(p, q):
        return mg.tensor(7.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), MyNormal(1.0, 1.0)).item() == 7.0
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# ------------------------------------------------------------------ shapes
def test_shapes_sample_shape_batch_shape_event_shape():
    dist = D.Normal(leaf(np.zeros((2, 3))), 1.0)
    assert dist.batch_shape == (2, 3) and dist.event_shape == ()
    assert isinstance(dist.batch_shape, mg.Size)
    assert dist.sample().shape == (2, 3)
    assert dist.sample((4,)).shape == (4, 2, 3)
    assert dist.rsample(mg.Size([5, 1])).shape == (5, 1, 2, 3)
    assert dist.log_prob(leaf(np.zeros((7, 1, 3)))).shape == (7, 2, 3)
    assert D.Normal(0.0, 1.0).batch_shape == () and D.Normal(0.0, 1.0).sample((2,)).shape == (2,)
    assert D.Normal(leaf(0.0), 1.0).batch_shape == ()
    mvn = D.MultivariateNormal(leaf(np.zeros((4, 3))), leaf(np.eye(3)))
    assert mvn.batch_shape == (4,) and mvn.event_shape == (3,)
    assert mvn.sample((2,)).shape == (2, 4, 3)
    assert mvn.log_prob(leaf(np.zeros((5, 1, 3)))).shape == (5, 4)
    dirichlet = D.Dirichlet(leaf(np.ones((2, 4))))
    assert dirichlet.sample((3,)).shape == (3, 2, 4) and dirichlet.entropy().shape == (2,)
    ind = D.Independent(D.Normal(leaf(np.zeros((2, 3, 4))), 1.0), 2)
    assert ind.batch_shape == (2,) and ind.event_shape == (3, 4)
    assert ind.log_prob(ind.sample((5,))).shape == (5, 2)
    categorical = D.Categorical(logits=leaf(np.zeros((2, 5))))
    assert categorical.batch_shape == (2,) and categorical.sample((3, 4)).shape == (3, 4, 2)
    assert D.Categorical(leaf([0.5, 0.5])).batch_shape == () and D.Categorical(leaf([0.5, 0.5])).sample().shape == ()
    beta = D.Beta(leaf([[1.0, 2.0]]), leaf([3.0]))
    assert beta.batch_shape == (1, 2) and beta.sample((3,)).shape == (3, 1, 2)


@pytest.mark.parametrize("make", [
    lambda: D.Normal(leaf([0.0, 1.0]), leaf([1.0, 2.0])),
    lambda: D.Laplace(leaf([0.0, 1.0]), 2.0), lambda: D.Cauchy(leaf([0.0, 1.0]), 2.0),
    lambda: D.Gumbel(leaf([0.0, 1.0]), 2.0), lambda: D.LogNormal(leaf([0.0, 1.0]), 2.0),
    lambda: D.HalfNormal(leaf([1.0, 2.0])), lambda: D.Uniform(leaf([0.0, 1.0]), 3.0),
    lambda: D.Exponential(leaf([1.0, 2.0])), lambda: D.Gamma(leaf([1.0, 2.0]), 1.0), lambda: D.Chi2(leaf([1.0, 2.0])),
    lambda: D.StudentT(leaf([3.0, 4.0])), lambda: D.Beta(leaf([1.0, 2.0]), 2.0), lambda: D.Poisson(leaf([1.0, 2.0])),
    lambda: D.Geometric(leaf([0.3, 0.6])), lambda: D.Bernoulli(logits=leaf([0.3, 0.6])),
    lambda: D.Binomial(3, leaf([0.3, 0.6])), lambda: D.Categorical(leaf([[0.3, 0.7], [0.5, 0.5]])),
    lambda: D.OneHotCategorical(leaf([[0.3, 0.7], [0.5, 0.5]])), lambda: D.Dirichlet(leaf([[0.3, 0.7], [1.5, 0.5]])),
    lambda: D.MultivariateNormal(leaf([[0.0, 1.0], [1.0, 1.0]]), leaf(np.eye(2))),
    lambda: D.Independent(D.Normal(leaf([[0.0, 1.0], [1.0, 1.0]]), 1.0), 1),
    lambda: D.MixtureSameFamily(D.Categorical(leaf([[0.3, 0.7], [0.5, 0.5]])),
                                D.Normal(leaf([[0.0, 1.0], [1.0, 2.0]]), 1.0)),
    lambda: D.RelaxedBernoulli(leaf(0.5), leaf([0.3, 0.6])),
    lambda: D.RelaxedOneHotCategorical(leaf(0.5), leaf([[0.3, 0.7], [0.5, 0.5]])),
    lambda: D.Pareto(leaf([1.0, 2.0]), 3.0), lambda: D.Weibull(leaf([1.0, 2.0]), 3.0),
    lambda: D.HalfCauchy(leaf([1.0, 2.0])), lambda: D.InverseGamma(leaf([1.0, 2.0]), 3.0),
    lambda: D.Kumaraswamy(leaf([1.0, 2.0]), 3.0),
    lambda: D.NegativeBinomial(leaf([1.0, 2.0]), leaf([0.3, 0.6])),
    lambda: D.Multinomial(4, leaf([[0.3, 0.7], [0.5, 0.5]])),
    lambda: D.FisherSnedecor(leaf([1.0, 2.0]), 5.0),
    lambda: D.LogisticNormal(leaf([[0.3, 0.7], [0.5, 0.5]]), 1.0),
    lambda: D.GeneralizedPareto(leaf([0.0, 1.0]), 1.0, leaf([0.2, -0.3])),
])
def test_expand(make):
    dist = make()
    assert dist.batch_shape == (2,)
    expanded = dist.expand((4, 2))
    assert type(expanded) is type(dist)
    assert expanded.batch_shape == (4, 2) and expanded.event_shape == dist.event_shape
    value = dist.sample()
    np.testing.assert_allclose(expanded.log_prob(value).array,
                               np.broadcast_to(dist.log_prob(value).array, (4, 2)), rtol=1e-12)
    assert expanded.sample((3,)).shape == (3, 4, 2) + tuple(dist.event_shape)
    assert expanded._validate_args == dist._validate_args


def test_expand_keeps_gradients():
    loc = leaf([0.0, 1.0], requires_grad=True)
    D.Normal(loc, 1.0).expand((3, 2)).log_prob(leaf([0.5, 0.5])).sum().backward()
    np.testing.assert_allclose(loc.grad.array, 3 * np.array([0.5, -0.5]))


def test_lazy_probs_and_logits():
    logits = leaf([0.3, -1.2], requires_grad=True)
    dist = D.Bernoulli(logits=logits)
    assert "probs" not in dist.__dict__
    np.testing.assert_allclose(dist.probs.array, special.expit([0.3, -1.2]))
    assert "probs" in dist.__dict__
    dist.mean.sum().backward()
    expit = special.expit([0.3, -1.2])
    np.testing.assert_allclose(logits.grad.array, expit * (1 - expit))
    np.testing.assert_allclose(D.Bernoulli(probs=leaf([0.25])).logits.array, [math.log(1 / 3)])
    assert D.Categorical(logits=leaf([0.0, 0.0])).probs.array.tolist() == [0.5, 0.5]


# ------------------------------------------------------------------ constraints
def test_constraints_check():
    def check(constraint, value):
        return constraint.check(leaf(value)).array.tolist()

    assert check(constraints.real, [0.0, np.inf, np.nan]) == [True, True, False]
    assert check(constraints.positive, [0.0, 1.0]) == [False, True]
    assert check(constraints.nonnegative, [0.0, -1.0]) == [True, False]
    assert check(constraints.unit_interval, [0.0, 1.0, 1.1]) == [True, True, False]
    assert check(constraints.interval(-1, 2), [-1.0, 2.0, 2.1]) == [True, True, False]
    assert check(constraints.half_open_interval(-1, 2), [-1.0, 2.0]) == [True, False]
    assert check(constraints.greater_than(1.0), [1.0, 1.5]) == [False, True]
    assert check(constraints.greater_than_eq(1.0), [1.0, 0.5]) == [True, False]
    assert check(constraints.less_than(1.0), [1.0, 0.5]) == [False, True]
    assert check(constraints.integer_interval(0, 3), [0.0, 3.0, 1.5, 4.0]) == [True, True, False, False]
    assert check(constraints.boolean, [0.0, 1.0, 0.5]) == [True, True, False]
    assert check(constraints.nonnegative_integer, [0.0, 2.0, -1.0, 1.5]) == [True, True, False, False]
    assert check(constraints.positive_integer, [0.0, 2.0]) == [False, True]
    assert check(constraints.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]) == [True, False, False]
    assert check(constraints.one_hot, [[0.0, 1.0], [1.0, 1.0]]) == [True, False]
    assert check(constraints.real_vector, [[0.0, 1.0], [np.nan, 1.0]]) == [True, False]
    assert check(constraints.independent(constraints.positive, 1), [[1.0, 2.0], [1.0, 0.0]]) == [True, False]
    assert check(constraints.lower_cholesky, [[[1.0, 0.0], [2.0, 1.0]], [[1.0, 0.1], [2.0, 1.0]],
                                              [[-1.0, 0.0], [2.0, 1.0]]]) == [True, False, False]
    assert check(constraints.lower_triangular, [[[-1.0, 0.0], [2.0, 1.0]], [[1.0, 0.1], [2.0, 1.0]]]) == [True, False]
    assert check(constraints.positive_definite, [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]) == [True, False]
    assert check(constraints.positive_semidefinite, [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]) == [True,
                                                                                                               False]
    assert check(constraints.symmetric, [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [0.0, 1.0]]]) == [True, False]
    assert check(constraints.square, np.zeros((2, 3, 3))) == [True, True]
    assert check(constraints.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.6, 0.9]]]) == [True, False]
    assert check(constraints.cat([constraints.positive, constraints.real], 0, [1, 2]), [1.0, -1.0, 0.0]) == [True] * 3
    assert check(constraints.stack([constraints.positive, constraints.real], 0), [-1.0, -1.0]) == [False, True]
    assert constraints.simplex.event_dim == 1 and constraints.lower_cholesky.event_dim == 2
    assert constraints.independent(constraints.real, 2).event_dim == 2
    assert constraints.nonnegative_integer.is_discrete and not constraints.real.is_discrete
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(constraints.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(constraints.real) == "Real()"
    assert constraints.is_dependent(constraints.dependent) and not constraints.is_dependent(constraints.real)
    assert constraints.is_dependent(D.Uniform.support) and not constraints.is_dependent(D.Normal.support)
    assert D.Categorical.support.is_discrete and D.Categorical.support.event_dim == 0
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(leaf([1.0]))
    with pytest.raises(NotImplementedError, match="cannot be determined statically"):
        constraints.dependent.event_dim
    assert D.Uniform(leaf([0.0]), leaf([2.0])).support.check(leaf([1.0, 3.0])).array.tolist() == [True, False]


# ------------------------------------------------------------------ validation
def test_parameter_validation_errors():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(loc: minigrad.Size\(\[2\]\), scale: minigrad.Size\(\[2\]\)\) to "
                                         r"satisfy the constraint GreaterThan\(lower_bound=0.0\), but found invalid "
                                         r"values:\ntensor\(\[ 1., -1.\]"):
        D.Normal(leaf([0.0, 1.0]), leaf([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs .* Interval"):
        D.Bernoulli(leaf([1.5]))
    with pytest.raises(ValueError, match="Expected parameter low .* LessThan"):
        D.Uniform(2.0, 1.0)
    with pytest.raises(ValueError, match="Expected parameter probs .* Simplex"):
        D.Categorical(leaf([-0.5, 1.5]))
    with pytest.raises(ValueError, match="Expected parameter concentration .* IndependentConstraint"):
        D.Dirichlet(leaf([1.0, 0.0]))
    with pytest.raises(ValueError, match="Expected parameter covariance_matrix .* PositiveDefinite"):
        D.MultivariateNormal(leaf([0.0, 0.0]), leaf([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="Expected parameter scale_tril .* LowerCholesky"):
        D.MultivariateNormal(leaf([0.0, 0.0]), scale_tril=leaf([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="Expected parameter total_count .* IntegerGreaterThan"):
        D.Binomial(leaf([2.5]), leaf([0.3]))
    with pytest.raises(ValueError, match="Expected parameter df"):
        D.StudentT(leaf([-1.0]))
    with pytest.raises(ValueError, match="to be positive but found invalid values"):
        D.Geometric(leaf([0.0, 0.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli()
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical(probs=leaf([0.5, 0.5]), logits=leaf([0.0, 0.0]))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        D.Categorical(leaf(1.0))
    with pytest.raises(ValueError, match="`logits` parameter must be at least one-dimensional."):
        D.Categorical(logits=leaf(1.0))
    with pytest.raises(ValueError, match="`concentration` parameter must be at least one-dimensional."):
        D.Dirichlet(leaf(1.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(leaf([0.0, 0.0]))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        D.MultivariateNormal(leaf(0.0), leaf(np.eye(1)))
    with pytest.raises(ValueError, match="covariance_matrix must be at least two-dimensional"):
        D.MultivariateNormal(leaf([0.0]), leaf([1.0]))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(leaf([0.0]), 1.0), 2)
    with pytest.raises(ValueError, match="does not equal `component_distribution.batch_shape\\[-1\\]`"):
        D.MixtureSameFamily(D.Categorical(leaf([0.5, 0.5])), D.Normal(leaf([0.0, 1.0, 2.0]), 1.0))
    with pytest.raises(ValueError, match="needs to be an  instance of torch.distributions.Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(leaf([0.0, 1.0]), 1.0))
    with pytest.raises(ValueError, match="Input arguments must all be instances of Number"):
        D.Normal("a", 1.0)


def test_sample_validation_errors():
    with pytest.raises(ValueError, match=r"Expected value argument \(Tensor of shape \(2,\)\) to be within the "
                                         r"support \(GreaterThanEq\(lower_bound=0.0\)\) of the distribution "
                                         r"Exponential\(rate: minigrad.Size\(\[2\]\)\), but found invalid values"):
        D.Exponential(leaf([1.0, 2.0])).log_prob(leaf([-1.0, 2.0]))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match=r"The right-most size of value must match event_shape: "
                                         r"minigrad.Size\(\[3\]\) vs minigrad.Size\(\[2\]\)."):
        D.Dirichlet(leaf([1.0, 2.0])).log_prob(leaf([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape\\+event_shape"):
        D.Normal(leaf([0.0, 1.0]), 1.0).log_prob(leaf([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="Expected value argument .*IntegerInterval"):
        D.Categorical(leaf([0.5, 0.5])).log_prob(mg.tensor([2]))
    with pytest.raises(ValueError, match="Expected value argument .*Boolean"):
        D.Bernoulli(leaf([0.5])).log_prob(leaf([0.5]))
    with pytest.raises(ValueError, match="Expected value argument .*Interval"):
        D.Uniform(0.0, 1.0).cdf(leaf(1.5))
    with pytest.raises(ValueError, match="Expected value argument .*Simplex"):
        D.Dirichlet(leaf([1.0, 2.0])).log_prob(leaf([0.5, 0.6]))


def test_log_prob_outside_the_support_without_validation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lp = D.Uniform(0.0, 1.0, validate_args=False).log_prob(leaf([2.0, 0.5]))
    np.testing.assert_allclose(lp.array, [-np.inf, 0.0])
    assert D.HalfNormal(1.0, validate_args=False).log_prob(leaf(-1.0)).item() == -math.inf


def test_validate_args_switches():
    assert D.Normal(leaf([0.0]), leaf([-1.0]), validate_args=False).scale.item() == -1.0
    np.testing.assert_allclose(D.Exponential(leaf([1.0]), validate_args=False).log_prob(leaf([-1.0])).array, [1.0])
    try:
        D.Distribution.set_default_validate_args(False)
        dist = D.Normal(leaf([0.0]), leaf([-1.0]))
        assert dist._validate_args is False
        with pytest.raises(ValueError, match="Expected parameter scale"):
            D.Normal(leaf([0.0]), leaf([-1.0]), validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(leaf([0.0]), leaf([-1.0]))
    with pytest.raises(ValueError, match="expects True or False, got 3"):
        D.Distribution.set_default_validate_args(3)
    # expand keeps the instance's setting and does not re-check
    assert D.Normal(leaf([0.0]), 1.0, validate_args=False).expand((3,))._validate_args is False


def test_repr_and_exports():
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.Normal(leaf([0.0, 1.0]), 1.0)) == "Normal(loc: minigrad.Size([2]), scale: minigrad.Size([2]))"
    assert repr(D.Independent(D.Normal(leaf([0.0, 1.0]), 1.0), 1)).startswith("Independent(Normal(")
    assert mg.distributions is D
    for name in D.__all__:
        assert hasattr(D, name), name
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        D.Poisson.__mro__[1].mode.fget(D.MixtureSameFamily(D.Categorical(leaf([0.5, 0.5])),
                                                           D.Normal(leaf([0.0, 1.0]), 1.0)))


# ------------------------------------------------------------------ transforms
T = D.transforms
X = np.array([[-1.3, 0.2, 0.9], [2.1, -0.4, 0.05]])
X_POSITIVE = np.abs(X) + 0.3

# name -> (transform, input, numpy forward, the constraint of the outputs)
ELEMENTWISE = {
    "exp": (T.ExpTransform(), X, np.exp),
    "sigmoid": (T.SigmoidTransform(), X, special.expit),
    "tanh": (T.TanhTransform(), X, np.tanh),
    "softplus": (T.SoftplusTransform(), X, lambda x: np.log1p(np.exp(x))),
    "power": (T.PowerTransform(leaf(1.7)), X_POSITIVE, lambda x: x ** 1.7),
    "power_negative": (T.PowerTransform(leaf(-0.6)), X_POSITIVE, lambda x: x ** -0.6),
    "affine": (T.AffineTransform(0.5, -2.0), X, lambda x: 0.5 - 2.0 * x),
    "affine_tensor": (T.AffineTransform(leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0])), X,
                      lambda x: np.array([1.0, 2.0, 3.0]) + np.array([0.5, -1.0, 2.0]) * x),
    "exp_inverse": (T.ExpTransform().inv, X_POSITIVE, np.log),
    "compose": (T.ComposeTransform([T.AffineTransform(0.3, 2.0), T.TanhTransform()]), X,
                lambda x: np.tanh(0.3 + 2.0 * x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_transforms(name):
    transform, x, forward = ELEMENTWISE[name]
    y = transform(leaf(x))
    np.testing.assert_allclose(y.array, forward(x), rtol=1e-12)
    assert bool(transform.codomain.check(y).array.all()) and bool(transform.domain.check(leaf(x)).array.all())
    np.testing.assert_allclose(transform.inv(y).array, x, rtol=1e-9, atol=1e-12)
    # log |dy/dx| against a central difference of the NumPy forward
    h = 1e-6
    derivative = (forward(x + h) - forward(x - h)) / (2 * h)
    np.testing.assert_allclose(transform.log_abs_det_jacobian(leaf(x), y).array, np.log(np.abs(derivative)),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(transform.inv.log_abs_det_jacobian(y, leaf(x)).array,
                               -np.log(np.abs(derivative)), rtol=1e-6, atol=1e-8)
    assert transform.bijective
    sign = transform.sign
    sign = sign.array if isinstance(sign, mg.Tensor) else np.asarray(sign)
    np.testing.assert_array_equal(np.broadcast_to(sign, x.shape), np.sign(derivative))
    assert gradcheck(lambda v: transform(v), [leaf(x, requires_grad=True)])
    assert gradcheck(lambda v: transform.log_abs_det_jacobian(v, transform(v)), [leaf(x, requires_grad=True)])


def _numerical_jacobian(function, x, h=1e-6):
    """d function(x) / dx for x a vector, by central differences: (len(out), len(x))."""
    columns = []
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = h
        columns.append((function(x + step) - function(x - step)) / (2 * h))
    return np.stack(columns, -1)


def test_stick_breaking_transform():
    transform = T.StickBreakingTransform()
    y = transform(leaf(X))
    assert y.shape == (2, 4)
    assert bool(constraints.simplex.check(y).array.all())
    np.testing.assert_allclose(transform.inv(y).array, X, rtol=1e-9)
    np.testing.assert_allclose(transform(leaf(np.zeros(3))).array, np.full(4, 0.25), rtol=1e-12)   # 0 -> the centre
    for row in range(2):
        jacobian = _numerical_jacobian(lambda v: transform(leaf(v)).array[:-1], X[row])   # (3, 3): y_1..y_{K-1}
        np.testing.assert_allclose(transform.log_abs_det_jacobian(leaf(X[row]), y[row]).item(),
                                   np.log(abs(np.linalg.det(jacobian))), rtol=1e-6)
    assert transform.forward_shape((5, 3)) == (5, 4) and transform.inverse_shape((5, 4)) == (5, 3)
    assert transform.domain.event_dim == 1 and transform.codomain.event_dim == 1
    assert gradcheck(lambda v: transform(v), [leaf(X, requires_grad=True)])


def test_softmax_lower_cholesky_reshape_independent_transforms():
    y = T.SoftmaxTransform()(leaf(X))
    np.testing.assert_allclose(y.array, special.softmax(X, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(T.SoftmaxTransform()(T.SoftmaxTransform().inv(y)).array, y.array, rtol=1e-12)
    assert not T.SoftmaxTransform().bijective
    matrices = np.random.default_rng(0).normal(size=(2, 3, 3))
    lower = T.LowerCholeskyTransform()(leaf(matrices))
    assert bool(constraints.lower_cholesky.check(lower).array.all())
    np.testing.assert_allclose(np.diagonal(lower.array, axis1=-2, axis2=-1),
                               np.exp(np.diagonal(matrices, axis1=-2, axis2=-1)), rtol=1e-12)
    np.testing.assert_allclose(T.LowerCholeskyTransform().inv(lower).array, np.tril(matrices), rtol=1e-12)
    reshape = T.ReshapeTransform((2, 3), (6,))
    flat = reshape(leaf(np.arange(24.0).reshape(4, 2, 3)))
    assert flat.shape == (4, 6) and reshape.inv(flat).shape == (4, 2, 3)
    assert reshape.log_abs_det_jacobian(leaf(np.zeros((4, 2, 3))), flat).shape == (4,)
    assert reshape.forward_shape((4, 2, 3)) == (4, 6) and reshape.inverse_shape((4, 6)) == (4, 2, 3)
    with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
        T.ReshapeTransform((2, 3), (5,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        reshape.forward_shape((4, 3, 2))
    independent = T.IndependentTransform(T.ExpTransform(), 1)
    np.testing.assert_allclose(independent.log_abs_det_jacobian(leaf(X), independent(leaf(X))).array, X.sum(-1))
    assert independent.domain.event_dim == 1 and independent.codomain.event_dim == 1
    affine = T.AffineTransform(leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0]), event_dim=1)
    np.testing.assert_allclose(affine.log_abs_det_jacobian(leaf(X), affine(leaf(X))).array,
                               np.full(2, np.log(0.5 * 1.0 * 2.0)), rtol=1e-12)


def test_compose_cache_and_equality():
    parts = [T.AffineTransform(0.3, 2.0), T.ExpTransform()]
    compose = T.ComposeTransform(parts)
    x = leaf(X)
    y = compose(x)
    np.testing.assert_allclose(compose.log_abs_det_jacobian(x, y).array, np.log(2.0) + 0.3 + 2.0 * X, rtol=1e-12)
    np.testing.assert_allclose(compose.inv(y).array, X, rtol=1e-12)
    assert compose.inv.inv is compose
    assert T.identity_transform(x) is x
    assert compose.sign == 1 and compose.bijective
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(0.0, 1.0) == T.AffineTransform(0.0, 1.0) != T.AffineTransform(0.0, 2.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    cached = T.ExpTransform(cache_size=1)
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    with pytest.raises(ValueError, match="Please use either .domain.event_dim or .codomain.event_dim"):
        T.ReshapeTransform((3,), (3, 1)).event_dim
    assert repr(T.ExpTransform().inv) == "_InverseTransform(ExpTransform())"


# ------------------------------------------------------------------ TransformedDistribution
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transformed_distribution_against_scipy(dtype):
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    points = np.array([0.3, -1.2, 2.5])
    # a decreasing affine map of a Normal is a Normal: the cdf is flipped through the sign
    loc, scale = np.array([1.0, 2.0, -0.5]), np.array([-0.5, -2.0, 1.5])
    dist = D.TransformedDistribution(D.Normal(leaf(0.0, dtype), 1.0),
                                     [T.AffineTransform(leaf(loc, dtype), leaf(scale, dtype))])
    assert dist.batch_shape == (3,) and dist.event_shape == ()             # broadcast by the transform
    reference = stats.norm(loc, np.abs(scale))
    np.testing.assert_allclose(dist.log_prob(leaf(points, dtype)).array, reference.logpdf(points), rtol=rtol)
    np.testing.assert_allclose(dist.cdf(leaf(points, dtype)).array, reference.cdf(points), rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(dist.icdf(leaf([0.1, 0.5, 0.9], dtype)).array, reference.ppf([0.1, 0.5, 0.9]),
                               rtol=rtol * 10)
    # the logistic distribution: the logit of a Uniform
    logistic = D.TransformedDistribution(D.Uniform(leaf(0.0, dtype), 1.0),
                                         [T.SigmoidTransform().inv, T.AffineTransform(0.5, 2.0)])
    np.testing.assert_allclose(logistic.log_prob(leaf(points, dtype)).array,
                               stats.logistic(0.5, 2.0).logpdf(points), rtol=rtol * 10)
    np.testing.assert_allclose(logistic.cdf(leaf(points, dtype)).array, stats.logistic(0.5, 2.0).cdf(points),
                               rtol=rtol * 10)
    # a log-normal from [Affine, Exp] on a standard Normal
    lognormal = D.TransformedDistribution(D.Normal(leaf(0.0, dtype), 1.0), [T.AffineTransform(0.3, 0.8),
                                                                            T.ExpTransform()])
    x = np.array([0.2, 1.0, 3.0])
    np.testing.assert_allclose(lognormal.log_prob(leaf(x, dtype)).array,
                               stats.lognorm(s=0.8, scale=np.exp(0.3)).logpdf(x), rtol=rtol * 10)
    assert lognormal.log_prob(leaf(x, dtype)).dtype == dtype


def test_transformed_distribution_event_dims_and_sampling():
    base = D.Normal(leaf(np.zeros((2, 3))), 1.0)
    dist = D.TransformedDistribution(base, T.StickBreakingTransform())      # a Normal on the simplex
    assert dist.batch_shape == (2,) and dist.event_shape == (4,)
    assert isinstance(dist.base_dist, D.Independent)                        # the 3 base dims became one event
    mg.manual_seed(0)
    y = dist.sample((5,))
    assert y.shape == (5, 2, 4) and bool(constraints.simplex.check(y).array.all())
    x = T.StickBreakingTransform().inv(y)
    jacobian_log_det = np.array([[np.log(abs(np.linalg.det(_numerical_jacobian(
        lambda v: T.StickBreakingTransform()(leaf(v)).array[:-1], x.array[s, b])))) for b in range(2)]
        for s in range(5)])
    expected = stats.norm.logpdf(x.array).sum(-1) - jacobian_log_det
    np.testing.assert_allclose(dist.log_prob(y).array, expected, rtol=1e-6)
    assert dist.support.event_dim == 1
    expanded = D.TransformedDistribution(D.Normal(leaf([0.0, 1.0]), 1.0), T.ExpTransform()).expand((3, 2))
    assert expanded.batch_shape == (3, 2) and expanded.sample((4,)).shape == (4, 3, 2)
    loc = leaf([0.3, -0.2], requires_grad=True)

    def draw(m):
        mg.manual_seed(1)
        return D.TransformedDistribution(D.Normal(m, 1.0), [T.TanhTransform()]).rsample((3,))

    assert D.TransformedDistribution(D.Normal(loc, 1.0), [T.TanhTransform()]).has_rsample
    assert not D.TransformedDistribution(D.Poisson(leaf([1.0])), []).has_rsample
    assert gradcheck(draw, [loc])
    assert gradcheck(lambda m: D.TransformedDistribution(D.Normal(m, 1.0), [T.TanhTransform()]).log_prob(
        leaf([0.5, -0.9])), [loc])
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [T.ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="transforms must be a Transform or list, but was"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), (T.ExpTransform(),))
    with pytest.raises(ValueError, match="base_distribution needs to have shape with size at least 1"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), T.StickBreakingTransform())
    with pytest.raises(ValueError, match="Expected value argument .*GreaterThan"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), T.ExpTransform()).log_prob(leaf(-1.0))


def test_library_distributions_are_transformed_as_in_pytorch():
    lognormal = D.LogNormal(leaf([0.0, 1.0]), 2.0)
    assert isinstance(lognormal, D.TransformedDistribution) and lognormal.transforms == [T.ExpTransform()]
    assert isinstance(D.HalfNormal(1.0), D.TransformedDistribution) and isinstance(D.HalfNormal(1.0).base_dist,
                                                                                   D.Normal)
    assert isinstance(D.Gumbel(0.0, 1.0), D.TransformedDistribution)
    assert isinstance(D.RelaxedBernoulli(leaf(0.5), leaf([0.3])).base_dist, D.LogitRelaxedBernoulli)
    assert isinstance(D.RelaxedOneHotCategorical(leaf(0.5), leaf([0.3, 0.7])).base_dist, D.ExpRelaxedCategorical)
    assert repr(D.LogNormal(0.0, 1.0)) == "LogNormal()"
    # KL through the shared transform: the KL of the underlying Normals
    np.testing.assert_allclose(D.kl_divergence(D.LogNormal(leaf(0.3), 0.5), D.LogNormal(leaf(0.1), 0.8)).item(),
                               D.kl_divergence(D.Normal(leaf(0.3), 0.5), D.Normal(leaf(0.1), 0.8)).item())
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.TransformedDistribution(D.Normal(0.0, 1.0), T.ExpTransform()),
                        D.TransformedDistribution(D.Normal(0.0, 1.0), T.SigmoidTransform()))
    # Gumbel's closed-form cdf stays defined far in the tail (PyTorch's transformed one raises there)
    assert D.Gumbel(0.0, 1.0).cdf(leaf(40.0)).item() == 1.0


def test_tril_matrix_vector_round_trip():
    from minigrad.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
    matrix = np.arange(1.0, 17.0).reshape(4, 4)
    np.testing.assert_array_equal(tril_matrix_to_vec(leaf(matrix)).array, matrix[np.tril_indices(4)])
    np.testing.assert_array_equal(tril_matrix_to_vec(leaf(matrix), diag=-1).array, matrix[np.tril_indices(4, -1)])
    vec = np.arange(1.0, 7.0)[None].repeat(2, 0)                                   # (2, 6)
    np.testing.assert_array_equal(vec_to_tril_matrix(leaf(vec), diag=-1).array[0],
                                  [[0, 0, 0, 0], [1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]])
    np.testing.assert_array_equal(vec_to_tril_matrix(leaf(vec)).array[1], [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    assert gradcheck(lambda v: vec_to_tril_matrix(v, diag=-1), [leaf(vec, requires_grad=True)])
    with pytest.raises(ValueError, match="cannot be expressed as the lower triangular part"):
        vec_to_tril_matrix(leaf(np.ones(5)))
    with pytest.raises(ValueError, match=r"diag \(4\) provided is outside \[-4, 3\]"):
        tril_matrix_to_vec(leaf(matrix), diag=4)


def test_corr_cholesky_and_positive_definite_transforms():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 6))                                                     # 6 = 4 * 3 / 2
    transform = T.CorrCholeskyTransform()
    y = transform(leaf(x))
    assert y.shape == (2, 4, 4) and bool(constraints.corr_cholesky.check(y).array.all())
    correlation = y.array @ np.swapaxes(y.array, -1, -2)
    np.testing.assert_allclose(np.diagonal(correlation, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(transform.inv(y).array, x, rtol=1e-8)
    for row in range(2):
        def strict_lower(v):
            return transform(leaf(v)).array[np.tril_indices(4, -1)]                 # the 6 free entries
        jacobian = _numerical_jacobian(strict_lower, x[row])
        np.testing.assert_allclose(transform.log_abs_det_jacobian(leaf(x[row]), y[row]).item(),
                                   np.log(abs(np.linalg.det(jacobian))), rtol=1e-6)
    assert transform.forward_shape((5, 6)) == (5, 4, 4) and transform.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ValueError, match="Input is not a flattened lower-diagonal number"):
        transform.forward_shape((5, 5))
    assert gradcheck(lambda v: transform(v), [leaf(x, requires_grad=True)])
    matrices = rng.normal(size=(2, 3, 3))
    positive_definite = T.PositiveDefiniteTransform()(leaf(matrices))
    assert bool(constraints.positive_definite.check(positive_definite).array.all())
    lower = np.tril(matrices, -1) + np.eye(3) * np.exp(np.diagonal(matrices, axis1=-2, axis2=-1))[..., None, :]
    np.testing.assert_allclose(positive_definite.array, lower @ np.swapaxes(lower, -1, -2), rtol=1e-12)
    np.testing.assert_allclose(T.PositiveDefiniteTransform().inv(positive_definite).array, np.tril(matrices),
                               rtol=1e-10, atol=1e-12)


def test_cat_and_stack_transforms():
    x = np.random.default_rng(7).normal(size=(2, 6))
    cat = T.CatTransform([T.ExpTransform(), T.identity_transform, T.SigmoidTransform()], dim=1, lengths=[2, 1, 3])
    y = cat(leaf(x))
    expected = np.concatenate([np.exp(x[:, :2]), x[:, 2:3], special.expit(x[:, 3:])], 1)
    np.testing.assert_allclose(y.array, expected, rtol=1e-12)
    np.testing.assert_allclose(cat.inv(y).array, x, rtol=1e-10)
    log_det = np.concatenate([x[:, :2], np.zeros((2, 1)), np.log(special.expit(x[:, 3:]) * special.expit(-x[:, 3:]))],
                             1)
    np.testing.assert_allclose(cat.log_abs_det_jacobian(leaf(x), y).array, log_det, rtol=1e-10)
    assert bool(cat.codomain.check(y).array.all()) and cat.bijective
    # concatenating vector transforms inside the event: one log|det J| per row
    cat_event = T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1), T.AffineTransform(0.0, 2.0, event_dim=1)],
                               dim=-1, lengths=[3, 3])
    np.testing.assert_allclose(cat_event.log_abs_det_jacobian(leaf(x), cat_event(leaf(x))).array,
                               x[:, :3].sum(-1) + 3 * np.log(2.0), rtol=1e-12)
    stack = T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], dim=0)
    y = stack(leaf(x))
    np.testing.assert_allclose(y.array, np.stack([np.exp(x[0]), special.expit(x[1])]), rtol=1e-12)
    np.testing.assert_allclose(stack.inv(y).array, x, rtol=1e-10)
    np.testing.assert_allclose(stack.log_abs_det_jacobian(leaf(x), y).array,
                               np.stack([x[0], np.log(special.expit(x[1]) * special.expit(-x[1]))]), rtol=1e-10)
    with pytest.raises(AssertionError, match=r"x.size\(1\) = 6 must equal length 5"):
        T.CatTransform([T.ExpTransform()], dim=1, lengths=[5])(leaf(x))
    with pytest.raises(AssertionError, match="must equal len\\(transforms\\) 3"):
        T.StackTransform([T.ExpTransform()] * 3, dim=0)(leaf(x))


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("constraint, shape", [
    (constraints.real, (3,)), (constraints.positive, (3,)), (constraints.nonnegative, (3,)),
    (constraints.greater_than(2.0), (3,)), (constraints.greater_than_eq(-1.0), (3,)),
    (constraints.less_than(2.0), (3,)), (constraints.unit_interval, (3,)), (constraints.interval(-1.0, 3.0), (3,)),
    (constraints.half_open_interval(-1.0, 3.0), (3,)), (constraints.simplex, (2, 3)),
    (constraints.real_vector, (2, 3)), (constraints.independent(constraints.positive, 1), (2, 3)),
    (constraints.corr_cholesky, (2, 3)), (constraints.lower_cholesky, (2, 3, 3)),
    (constraints.positive_definite, (2, 3, 3)),
    (constraints.cat([constraints.positive, constraints.unit_interval], 0, [2, 1]), (3,)),
    (constraints.stack([constraints.positive, constraints.real], 0), (2, 3)),
])
def test_constraint_registry(registry, constraint, shape):
    lookup = getattr(D, registry)
    bijective_only = registry == "biject_to"
    if bijective_only and (constraint is constraints.lower_cholesky or constraint is constraints.positive_definite):
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            lookup(constraint)
        return
    transform = lookup(constraint)
    x = leaf(np.random.default_rng(8).normal(size=shape))
    y = transform(x)
    assert bool(constraint.check(y).array.all())
    if bijective_only:
        assert transform.bijective
        np.testing.assert_allclose(transform.inv(y).array, x.array, rtol=1e-8, atol=1e-10)
        assert transform.domain.event_dim == transform.codomain.event_dim - (1 if constraint is
                                                                             constraints.corr_cholesky else 0)


def test_constraint_registry_register_and_errors():
    from minigrad.distributions.constraint_registry import ConstraintRegistry
    registry = ConstraintRegistry()

    @registry.register(constraints.positive)
    def _softplus(constraint):
        return T.SoftplusTransform()

    assert isinstance(registry(constraints.positive), T.SoftplusTransform)
    assert isinstance(registry(constraints.greater_than(3.0)), T.SoftplusTransform)   # the same class
    with pytest.raises(NotImplementedError, match="Cannot transform _Simplex constraints"):
        registry(constraints.simplex)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        registry.register(3, lambda c: T.ExpTransform())
    # fitting a positive parameter through transform_to: gradients reach the unconstrained value
    unconstrained = leaf([0.3, -1.0], requires_grad=True)
    assert gradcheck(lambda u: D.Normal(0.0, D.transform_to(constraints.positive)(u)).log_prob(leaf([0.5, 1.5])),
                     [unconstrained])


# ------------------------------------------------------------------ exponential families
import minigrad.distributions.exp_family as exp_family  # noqa: E402

FAMILIES = {
    "Normal": (lambda: D.Normal(leaf([0.3, 1.0]), leaf([1.5, 0.5])),
               lambda: D.Normal(leaf([0.0, 1.5]), leaf([1.0, 0.7]))),
    "Bernoulli": (lambda: D.Bernoulli(leaf([0.3, 0.8])), lambda: D.Bernoulli(leaf([0.5, 0.6]))),
    "Exponential": (lambda: D.Exponential(leaf([1.3, 0.2])), lambda: D.Exponential(leaf([1.0, 1.0]))),
    "Gamma": (lambda: D.Gamma(leaf([1.3, 2.0]), leaf([0.5, 2.0])), lambda: D.Gamma(leaf([1.0, 3.0]), leaf([1.0, 1.0]))),
    "Beta": (lambda: D.Beta(leaf([1.3, 0.6]), leaf([2.0, 0.9])), lambda: D.Beta(leaf([2.0, 1.0]), leaf([0.5, 1.0]))),
    "Poisson": (lambda: D.Poisson(leaf([1.3, 4.0])), lambda: D.Poisson(leaf([2.0, 3.0]))),
    "Dirichlet": (lambda: D.Dirichlet(leaf([[1.3, 2.0, 0.5]])), lambda: D.Dirichlet(leaf([[1.0, 1.0, 1.0]]))),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_exponential_family_bregman_forms(name):
    """The Bregman entropy and KL of the log normaliser equal the closed forms."""
    make_p, make_q = FAMILIES[name]
    p, q = make_p(), make_q()
    assert isinstance(p, D.ExponentialFamily)
    np.testing.assert_allclose(exp_family.bregman_kl(p, q).array, D.kl_divergence(p, q).array, rtol=1e-10)
    if name in ("Normal", "Bernoulli", "Exponential", "Gamma"):        # the families with E[log h(X)] = 0
        np.testing.assert_allclose(D.ExponentialFamily.entropy(p).array, p.entropy().array, rtol=1e-10)
    else:
        with pytest.raises(NotImplementedError):
            D.ExponentialFamily.entropy(p)


def test_exponential_family_kl_dispatch_and_gradients():
    class RateExponential(D.ExponentialFamily):
        """An exponential distribution with only the exponential-family methods: KL by Bregman."""
        arg_constraints = {"rate": constraints.positive}
        _mean_carrier_measure = 0

        def __init__(self, rate):
            self.rate = rate
            super().__init__(rate.shape)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -mg.log(-x)

    rate_p, rate_q = leaf([1.3, 0.2]), leaf([1.0, 2.0], requires_grad=True)
    kl = D.kl_divergence(RateExponential(rate_p), RateExponential(rate_q))
    a, b = np.array([1.3, 0.2]), np.array([1.0, 2.0])
    np.testing.assert_allclose(kl.array, np.log(a / b) + b / a - 1, rtol=1e-12)
    assert gradcheck(lambda r: D.kl_divergence(RateExponential(rate_p), RateExponential(r)), [rate_q])
    np.testing.assert_allclose(RateExponential(rate_p).entropy().array, 1 - np.log([1.3, 0.2]), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        exp_family.bregman_kl(D.Normal(0.0, 1.0), D.Exponential(1.0))
    assert not isinstance(D.Laplace(0.0, 1.0), D.ExponentialFamily)


# ------------------------------------------------------------------ KL between different families
CROSS_P = {"Normal": (D.Normal, [0.3, 0.8], stats.norm(0.3, 0.8), (-15, 15)),
           "Laplace": (D.Laplace, [0.3, 0.8], stats.laplace(0.3, 0.8), (-40, 40)),
           "Gumbel": (D.Gumbel, [0.3, 0.8], stats.gumbel_r(0.3, 0.8), (-6, 50)),
           "Exponential": (D.Exponential, [1.3], stats.expon(scale=1 / 1.3), (0, 80)),
           "Gamma": (D.Gamma, [1.3, 2.0], stats.gamma(1.3, scale=0.5), (0, 80)),
           "Beta": (D.Beta, [1.3, 2.0], stats.beta(1.3, 2.0), (0, 1)),
           "Uniform": (D.Uniform, [0.2, 0.7], stats.uniform(0.2, 0.5), (0.2, 0.7)),
           "Pareto": (D.Pareto, [0.5, 3.5], stats.pareto(3.5, scale=0.5), (0.5, np.inf))}
CROSS_Q = {"Normal": (D.Normal, [0.1, 1.3], stats.norm(0.1, 1.3)),
           "Laplace": (D.Laplace, [0.1, 1.3], stats.laplace(0.1, 1.3)),
           "Gumbel": (D.Gumbel, [0.1, 1.3], stats.gumbel_r(0.1, 1.3)),
           "Exponential": (D.Exponential, [0.7], stats.expon(scale=1 / 0.7)),
           "Gamma": (D.Gamma, [2.3, 1.0], stats.gamma(2.3, scale=1.0)),
           "Beta": (D.Beta, [2.3, 1.5], stats.beta(2.3, 1.5)),
           "Uniform": (D.Uniform, [-0.5, 1.7], stats.uniform(-0.5, 2.2)),
           "Pareto": (D.Pareto, [0.1, 2.5], stats.pareto(2.5, scale=0.1))}
CROSS_FINITE = [("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
                ("Exponential", "Gamma"), ("Exponential", "Gumbel"), ("Exponential", "Normal"),
                ("Gamma", "Exponential"), ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gumbel", "Normal"),
                ("Laplace", "Normal"), ("Normal", "Gumbel"), ("Normal", "Laplace"), ("Uniform", "Beta"),
                ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Gumbel"), ("Uniform", "Normal"),
                ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"), ("Pareto", "Pareto"),
                ("Uniform", "Pareto")]
CROSS_INFINITE = [("Exponential", "Beta"), ("Exponential", "Uniform"), ("Gamma", "Beta"), ("Gamma", "Uniform"),
                  ("Gumbel", "Beta"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Uniform"),
                  ("Laplace", "Beta"), ("Laplace", "Exponential"), ("Laplace", "Gamma"), ("Laplace", "Uniform"),
                  ("Normal", "Beta"), ("Normal", "Exponential"), ("Normal", "Gamma"), ("Normal", "Uniform"),
                  ("Beta", "Pareto"), ("Exponential", "Pareto"), ("Gamma", "Pareto"), ("Gumbel", "Pareto"),
                  ("Laplace", "Pareto"), ("Normal", "Pareto"), ("Pareto", "Beta"), ("Pareto", "Uniform")]


@pytest.mark.parametrize("p_name, q_name", CROSS_FINITE)
def test_kl_between_families_against_quadrature(p_name, q_name):
    make_p, p_params, p_scipy, (low, high) = CROSS_P[p_name]
    make_q, q_params, q_scipy = CROSS_Q[q_name]
    kl = D.kl_divergence(make_p(*[leaf([v]) for v in p_params]), make_q(*[leaf([v]) for v in q_params]))
    np.testing.assert_allclose(kl.array, [_kl_quad(p_scipy, q_scipy, low, high)], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("p_name, q_name", CROSS_INFINITE)
def test_kl_between_families_outside_the_support_is_infinite(p_name, q_name):
    make_p, p_params, _, _ = CROSS_P[p_name]
    make_q, q_params, _ = CROSS_Q[q_name]
    kl = D.kl_divergence(make_p(*[leaf([v, v]) for v in p_params]), make_q(*[leaf([v, v]) for v in q_params]))
    assert kl.shape == (2,) and np.isposinf(kl.array).all()


def test_kl_between_discrete_families():
    p, q = D.Bernoulli(leaf([0.3])), D.Poisson(leaf([0.7]))
    np.testing.assert_allclose(D.kl_divergence(p, q).array,
                               [0.7 * math.log(0.7 / stats.poisson(0.7).pmf(0)) + 0.3 * math.log(
                                   0.3 / stats.poisson(0.7).pmf(1))], rtol=1e-12)
    assert np.isposinf(D.kl_divergence(D.Poisson(leaf([1.3])), D.Bernoulli(leaf([0.6]))).array).all()
    assert np.isposinf(D.kl_divergence(D.Poisson(leaf([1.3])), D.Binomial(3, leaf([0.6]))).array).all()
    # the support checks of the Uniform/Beta pairs
    assert np.isposinf(D.kl_divergence(D.Beta(leaf([1.3]), leaf([2.0])), D.Uniform(leaf([0.2]), leaf([0.7]))).array)
    assert np.isposinf(D.kl_divergence(D.Uniform(leaf([-0.5]), leaf([0.7])), D.Beta(leaf([2.0]), leaf([1.0]))).array)
    assert np.isposinf(D.kl_divergence(D.Uniform(leaf([-0.5]), leaf([0.7])), D.Exponential(leaf([1.0]))).array)
    # Pareto: inf where p reaches below q's scale or its moments diverge
    kl = D.kl_divergence(D.Pareto(leaf([0.5, 0.05]), leaf([3.5, 3.5])), D.Pareto(leaf([0.1, 0.1]), leaf([2.5, 2.5])))
    assert np.isfinite(kl.array[0]) and np.isposinf(kl.array[1])
    assert np.isposinf(D.kl_divergence(D.Pareto(leaf([0.5]), leaf([0.9])), D.Exponential(leaf([1.0]))).array)
    assert np.isposinf(D.kl_divergence(D.Pareto(leaf([0.5]), leaf([1.9])), D.Normal(leaf([1.0]), 1.0)).array)
    assert gradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Laplace(leaf([0.1]), leaf([1.3]))),
                     [leaf([0.3], requires_grad=True), leaf([0.8], requires_grad=True)])
    assert gradcheck(lambda a, b: D.kl_divergence(D.Beta(a, b), D.Gamma(leaf([2.3]), leaf([1.0]))),
                     [leaf([1.3], requires_grad=True), leaf([2.0], requires_grad=True)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_multinomial_against_scipy(given, dtype):
    probs = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    param = probs if given == "probs" else np.log(probs) + 1.0
    dist = D.Multinomial(5, **{given: leaf(param, dtype)})
    assert dist.batch_shape == (2,) and dist.event_shape == (3,)
    counts = np.array([[1.0, 3.0, 1.0], [0.0, 0.0, 5.0]])
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    lp = dist.log_prob(leaf(counts, dtype))
    assert lp.dtype == dtype
    for b in range(2):
        frozen = stats.multinomial(5, probs[b])
        np.testing.assert_allclose(lp.array[b], frozen.logpmf(counts[b]), rtol=rtol)
        np.testing.assert_allclose(dist.entropy().array[b], frozen.entropy(), rtol=rtol)
        np.testing.assert_allclose(dist.variance.array[b], np.diag(frozen.cov()), rtol=rtol)
    np.testing.assert_allclose(dist.mean.array, 5 * probs, rtol=rtol)
    mg.manual_seed(4)
    samples = dist.sample((40000,))
    assert samples.shape == (40000, 2, 3) and samples.dtype == dtype
    np.testing.assert_array_equal(samples.array.sum(-1), 5)
    _check_moments(samples.array.astype(np.float64), 5 * probs, 5 * probs * (1 - probs), "Multinomial")
    # an impossible category scores 0 log 0 = 0 when its count is 0
    np.testing.assert_allclose(D.Multinomial(3, leaf([0.5, 0.5, 0.0])).log_prob(leaf([1.0, 2.0, 0.0])).item(),
                               stats.multinomial(3, [0.5, 0.5, 0.0]).logpmf([1, 2, 0]), rtol=1e-12)
    with pytest.raises(ValueError, match="Expected value argument .*Multinomial"):
        dist.log_prob(leaf([[1.0, 3.0, 3.0], [0.0, 0.0, 5.0]], dtype))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count is not supported"):
        D.Multinomial(leaf([3.0, 4.0]), leaf([0.5, 0.5]))


def test_negative_binomial_edge_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert D.NegativeBinomial(leaf([0.0]), leaf([0.3])).log_prob(leaf([0.0])).item() == 0.0
    with pytest.raises(ValueError, match="Expected parameter probs .*HalfOpenInterval"):
        D.NegativeBinomial(leaf([2.0]), leaf([1.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.NegativeBinomial(leaf([2.0]))


def test_fisher_snedecor_undefined_moments_and_logistic_normal():
    f = D.FisherSnedecor(leaf([1.5, 3.0, 6.0]), leaf([2.0, 4.5, 9.0]))
    assert np.isnan(f.mean.array[0]) and np.isnan(f.variance.array[0]) and np.isnan(f.mode.array[0])
    assert np.isfinite(f.mean.array[1:]).all() and np.isfinite(f.variance.array[1:]).all()
    np.testing.assert_allclose(f.mode.array[1:], [(1 / 3) * 4.5 / 6.5, (4 / 6) * 9 / 11], rtol=1e-12)
    dist = D.LogisticNormal(leaf([[0.3, -0.2]]), leaf([[1.0, 0.5]]))
    assert dist.batch_shape == (1,) and dist.event_shape == (3,)
    assert D.LogisticNormal(0.0, 1.0).batch_shape == () and D.LogisticNormal(0.0, 1.0).event_shape == (2,)
    mg.manual_seed(2)
    y = dist.sample((6,))
    assert y.shape == (6, 1, 3) and bool(constraints.simplex.check(y).array.all())
    x = T.StickBreakingTransform().inv(y).array[:, 0]                           # (6, 2)
    log_det = np.array([np.log(abs(np.linalg.det(_numerical_jacobian(
        lambda v: T.StickBreakingTransform()(leaf(v)).array[:-1], row)))) for row in x])
    expected = stats.norm([0.3, -0.2], [1.0, 0.5]).logpdf(x).sum(-1) - log_det
    np.testing.assert_allclose(dist.log_prob(y).array[:, 0], expected, rtol=1e-6)
    assert dist.loc.shape == (1, 2) and dist.scale.shape == (1, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_von_mises(dtype):
    loc, kappa = np.array([0.3, -2.9, 3.0]), np.array([0.5, 2.0, 30.0])
    dist = D.VonMises(leaf(loc, dtype), leaf(kappa, dtype))
    x = np.array([0.2, 3.1, -3.0])
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    lp = dist.log_prob(leaf(x, dtype))
    assert lp.dtype == dtype and dist.batch_shape == (3,)
    np.testing.assert_allclose(lp.array, stats.vonmises(kappa, loc).logpdf(x), rtol=rtol)
    np.testing.assert_allclose(dist.variance.array, 1 - special.i1(kappa) / special.i0(kappa), rtol=rtol * 10)
    assert dist.mean is dist.loc and not dist.has_rsample
    mg.manual_seed(3)
    samples = dist.sample((100000,)).array.astype(np.float64)
    assert samples.shape == (100000, 3) and (samples >= -np.pi).all() and (samples < np.pi).all()
    resultant = np.exp(1j * samples).mean(0)                   # circular mean and variance
    np.testing.assert_allclose(np.angle(resultant), loc, atol=0.02)
    np.testing.assert_allclose(1 - np.abs(resultant), dist.variance.array, atol=0.01)
    if dtype == np.float64:
        assert gradcheck(lambda m, k: D.VonMises(m, k).log_prob(leaf(x)), [leaf(loc, requires_grad=True),
                                                                          leaf(kappa, requires_grad=True)])
        assert gradcheck(lambda k: D.VonMises(leaf(loc), k).variance, [leaf(kappa, requires_grad=True)])
    assert dist.expand((2, 3)).sample((4,)).shape == (4, 2, 3)


def _gaussian_kl(mu_p, cov_p, mu_q, cov_q):
    inv_q = np.linalg.inv(cov_q)
    return 0.5 * (np.trace(inv_q @ cov_p) + (mu_q - mu_p) @ inv_q @ (mu_q - mu_p) - len(mu_p)
                  + np.log(np.linalg.det(cov_q) / np.linalg.det(cov_p)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_low_rank_multivariate_normal(dtype):
    rng = np.random.default_rng(9)
    loc, W, diag = rng.normal(size=(2, 4)), rng.normal(size=(4, 2)), rng.random((2, 4)) + 0.5
    dist = D.LowRankMultivariateNormal(leaf(loc, dtype), leaf(W, dtype), leaf(diag, dtype))
    assert dist.batch_shape == (2,) and dist.event_shape == (4,) and dist.cov_factor.shape == (2, 4, 2)
    covariances = W @ W.T + np.stack([np.diag(d) for d in diag])                  # (2, 4, 4)
    x = rng.normal(size=(3, 2, 4))
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    lp = dist.log_prob(leaf(x, dtype))
    assert lp.shape == (3, 2) and lp.dtype == dtype
    for b in range(2):
        frozen = stats.multivariate_normal(loc[b], covariances[b])
        np.testing.assert_allclose(lp.array[:, b], frozen.logpdf(x[:, b]), rtol=rtol)
        np.testing.assert_allclose(dist.entropy().array[b], frozen.entropy(), rtol=rtol)
    np.testing.assert_allclose(dist.covariance_matrix.array, covariances, rtol=rtol, atol=1e-5)
    np.testing.assert_allclose(dist.precision_matrix.array, np.linalg.inv(covariances), rtol=rtol * 10, atol=1e-5)
    np.testing.assert_allclose(dist.scale_tril.array, np.linalg.cholesky(covariances), rtol=rtol, atol=1e-5)
    np.testing.assert_allclose(dist.variance.array, np.diagonal(covariances, axis1=-2, axis2=-1), rtol=rtol)
    mg.manual_seed(10)
    samples = dist.sample((60000,)).array.astype(np.float64)
    for b in range(2):
        np.testing.assert_allclose(np.cov(samples[:, b].T), covariances[b], rtol=0.05, atol=0.05)
    # KL against the dense Gaussian formula, all three pairs
    loc_q, W_q, diag_q = rng.normal(size=4), rng.normal(size=(4, 3)), rng.random(4) + 0.5
    cov_q = W_q @ W_q.T + np.diag(diag_q)
    q = D.LowRankMultivariateNormal(leaf(loc_q, dtype), leaf(W_q, dtype), leaf(diag_q, dtype))
    q_dense = D.MultivariateNormal(leaf(loc_q, dtype), leaf(cov_q, dtype))
    expected = [_gaussian_kl(loc[b], covariances[b], loc_q, cov_q) for b in range(2)]
    np.testing.assert_allclose(D.kl_divergence(dist, q).array, expected, rtol=rtol * 10)
    np.testing.assert_allclose(D.kl_divergence(dist, q_dense).array, expected, rtol=rtol * 10)
    np.testing.assert_allclose(D.kl_divergence(q_dense, dist).array,
                               [_gaussian_kl(loc_q, cov_q, loc[b], covariances[b]) for b in range(2)], rtol=rtol * 10)


def test_low_rank_multivariate_normal_gradients_and_errors():
    rng = np.random.default_rng(11)
    loc, W, diag = rng.normal(size=3), rng.normal(size=(3, 2)), rng.random(3) + 0.5
    inputs = [leaf(loc, requires_grad=True), leaf(W, requires_grad=True), leaf(diag, requires_grad=True)]
    x = leaf(rng.normal(size=(2, 3)))
    assert gradcheck(lambda m, w, d: D.LowRankMultivariateNormal(m, w, d).log_prob(x), inputs)
    assert gradcheck(lambda m, w, d: D.LowRankMultivariateNormal(m, w, d).entropy(), inputs)

    def draw(m, w, d):
        mg.manual_seed(12)
        return D.LowRankMultivariateNormal(m, w, d).rsample((4,))

    assert gradcheck(draw, inputs)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 3 x m"):
        D.LowRankMultivariateNormal(leaf(loc), leaf(np.ones((4, 2))), leaf(diag))
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors with shape"):
        D.LowRankMultivariateNormal(leaf(loc), leaf(W), leaf(np.ones(4)))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        D.LowRankMultivariateNormal(leaf(np.zeros((2, 3))), leaf(np.ones((5, 3, 2))), leaf(diag))
    with pytest.raises(ValueError, match="Expected parameter cov_diag"):
        D.LowRankMultivariateNormal(leaf(loc), leaf(W), leaf([1.0, -1.0, 1.0]))
    expanded = D.LowRankMultivariateNormal(leaf(loc), leaf(W), leaf(diag)).expand((5,))
    assert expanded.batch_shape == (5,) and expanded.log_prob(x[0]).shape == (5,)


class ContinuousBernoulliReference:
    """lambda^x (1 - lambda)^(1 - x) normalised by quadrature, with cdf, quantile (root finding),
    entropy and moments by quadrature: independent of the closed forms."""

    def __init__(self, lam):
        self.lam = lam
        self.log_c = -math.log(integrate.quad(lambda x: lam ** x * (1 - lam) ** (1 - x), 0, 1)[0])

    def logpdf(self, x):
        return self.log_c + x * math.log(self.lam) + (1 - x) * math.log1p(-self.lam)

    def cdf(self, x):
        return integrate.quad(lambda v: math.exp(self.logpdf(v)), 0, x)[0]

    def ppf(self, q):
        from scipy.optimize import brentq
        return brentq(lambda x: self.cdf(x) - q, 0.0, 1.0, xtol=1e-14)

    def _expect(self, function):
        return integrate.quad(lambda v: function(v) * math.exp(self.logpdf(v)), 0, 1)[0]

    def entropy(self):
        return self._expect(lambda v: -self.logpdf(v))

    def mean(self):
        return self._expect(lambda v: v)

    def var(self):
        return self._expect(lambda v: v * v) - self.mean() ** 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_continuous_bernoulli(given, dtype):
    lams = np.array([0.2, 0.4995, 0.5, 0.8])                          # two inside the Taylor region
    param = lams if given == "probs" else np.log(lams / (1 - lams))
    dist = D.ContinuousBernoulli(**{given: leaf(param, dtype)})
    references = [ContinuousBernoulliReference(lam) for lam in lams]
    x = np.array([0.3, 0.9, 0.05, 0.7])
    rtol, atol = (1e-6, 1e-9) if dtype == np.float64 else (1e-4, 1e-5)   # the Taylor forms are ~1e-9 accurate
    np.testing.assert_allclose(dist.log_prob(leaf(x, dtype)).array, [r.logpdf(v) for r, v in zip(references, x)],
                               rtol=rtol, atol=atol)
    # inside lims cdf and icdf are the uniform ones (as in PyTorch): off by O(|lambda - 1/2|) there
    cdf_atol = np.where(np.abs(lams - 0.5) < 1e-3, 2e-4, atol)
    np.testing.assert_allclose(dist.cdf(leaf(x, dtype)).array, [r.cdf(v) for r, v in zip(references, x)],
                               rtol=rtol, atol=cdf_atol.max())
    for value, expected, tolerance in zip(dist.icdf(leaf(x, dtype)).array, [r.ppf(v) for r, v in zip(references, x)],
                                          cdf_atol):
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=tolerance)
    np.testing.assert_allclose(dist.cdf(leaf(x, dtype)).array[[0, 3]], [references[0].cdf(x[0]),
                                                                        references[3].cdf(x[3])], rtol=rtol)
    for name, method in (("entropy", "entropy"), ("mean", "mean"), ("variance", "var")):
        value = dist.entropy() if name == "entropy" else getattr(dist, name)
        assert value.dtype == dtype
        np.testing.assert_allclose(value.array, [getattr(r, method)() for r in references], rtol=rtol, atol=atol)
    np.testing.assert_allclose(dist.cdf(leaf([0.0, 1.0, 0.0, 1.0], dtype)).array, [0.0, 1.0, 0.0, 1.0])
    if dtype == np.float64:
        p = leaf(param, requires_grad=True)
        assert gradcheck(lambda v: D.ContinuousBernoulli(**{given: v}).log_prob(leaf(x)), [p])
        assert gradcheck(lambda v: D.ContinuousBernoulli(**{given: v}).entropy(), [p])

        def draw(v):
            mg.manual_seed(13)
            return D.ContinuousBernoulli(**{given: v}).rsample((3,))

        assert gradcheck(draw, [p])
        np.testing.assert_allclose(D.ExponentialFamily.entropy(dist).array, dist.entropy().array, atol=1e-6)
    mg.manual_seed(14)
    samples = dist.sample((60000,)).array.astype(np.float64)
    _check_moments(samples, [r.mean() for r in references], [r.var() for r in references], "ContinuousBernoulli")


def test_continuous_bernoulli_kl():
    p, q = D.ContinuousBernoulli(leaf([0.3])), D.ContinuousBernoulli(leaf([0.7]))
    reference_p, reference_q = ContinuousBernoulliReference(0.3), ContinuousBernoulliReference(0.7)
    expected = integrate.quad(lambda v: math.exp(reference_p.logpdf(v)) * (reference_p.logpdf(v)
                                                                           - reference_q.logpdf(v)), 0, 1)[0]
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), expected, rtol=1e-8)

    class Frozen:                                                   # scipy-like wrapper for _kl_quad
        def __init__(self, reference):
            self.reference = reference

        def logpdf(self, x):
            return self.reference.logpdf(x) if 0 <= x <= 1 else -np.inf

    cases = [(p, D.Normal(leaf([0.1]), leaf([1.3])), Frozen(reference_p), stats.norm(0.1, 1.3), 0, 1),
             (p, D.Exponential(leaf([0.7])), Frozen(reference_p), stats.expon(scale=1 / 0.7), 0, 1),
             (p, D.Uniform(leaf([-0.5]), leaf([1.7])), Frozen(reference_p), stats.uniform(-0.5, 2.2), 0, 1),
             (D.Beta(leaf([1.3]), leaf([2.0])), q, stats.beta(1.3, 2.0), Frozen(reference_q), 0, 1),
             (D.Uniform(leaf([0.2]), leaf([0.7])), q, stats.uniform(0.2, 0.5), Frozen(reference_q), 0.2, 0.7)]
    for p_dist, q_dist, p_ref, q_ref, low, high in cases:
        np.testing.assert_allclose(D.kl_divergence(p_dist, q_dist).item(), _kl_quad(p_ref, q_ref, low, high),
                                   rtol=1e-7)
    for other in [D.Normal(leaf([0.3]), 1.0), D.Exponential(leaf([1.0])), D.Gamma(leaf([1.0]), 1.0),
                  D.Laplace(leaf([0.3]), 1.0), D.Gumbel(leaf([0.3]), 1.0), D.Pareto(leaf([1.0]), leaf([2.0]))]:
        assert np.isposinf(D.kl_divergence(other, q).array).all()
    assert np.isposinf(D.kl_divergence(p, D.Pareto(leaf([1.0]), leaf([2.0]))).array).all()
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        D.ContinuousBernoulli(leaf([1.5]), validate_args=True)


def test_generalized_pareto_support_and_undefined_moments():
    dist = D.GeneralizedPareto(leaf([0.5, 0.0]), leaf([2.0, 1.0]), leaf([-0.4, 1.5]))
    np.testing.assert_allclose(dist.support.upper_bound.array, [0.5 + 2.0 / 0.4, np.inf])
    assert np.isnan(dist.mean.array[1]) and np.isnan(dist.variance.array[1])
    np.testing.assert_allclose(dist.log_survival_function(leaf([1.0, 2.0])).array,
                               stats.genpareto([-0.4, 1.5], [0.5, 0.0], [2.0, 1.0]).logsf([1.0, 2.0]), rtol=1e-12)
    with pytest.raises(ValueError, match="Expected value argument .*Interval"):
        dist.log_prob(leaf([6.0, 1.0]))


def test_lkj_cholesky():
    # dim 2: L = [[1, 0], [r, sqrt(1 - r^2)]] and the density of r is (1 - r^2)^(eta - 1) / B(1/2, eta)
    for eta in (0.5, 1.0, 3.0):
        dist = D.LKJCholesky(2, leaf(eta))

        def density(r, dist=dist):
            L = np.array([[1.0, 0.0], [r, math.sqrt(1 - r * r)]])
            return math.exp(dist.log_prob(leaf(L)).item())

        np.testing.assert_allclose(integrate.quad(density, -1, 1)[0], 1.0, rtol=1e-6)
        np.testing.assert_allclose(density(0.3), (1 - 0.09) ** (eta - 1) / special.beta(0.5, eta), rtol=1e-10)
    # dim 4: each correlation r has (r + 1) / 2 ~ Beta(eta - 1 + dim/2, eta - 1 + dim/2), var r = 1/(2 eta + dim - 1)
    dist = D.LKJCholesky(4, leaf([0.5, 2.0]))
    assert dist.batch_shape == (2,) and dist.event_shape == (4, 4)
    mg.manual_seed(15)
    L = dist.sample((20000,))
    assert L.shape == (20000, 2, 4, 4) and bool(constraints.corr_cholesky.check(L).array.all())
    correlations = L.array @ np.swapaxes(L.array, -1, -2)
    np.testing.assert_allclose(np.diagonal(correlations, axis1=-2, axis2=-1), 1.0, rtol=1e-10)
    off_diagonal = correlations[..., np.tril_indices(4, -1)[0], np.tril_indices(4, -1)[1]]   # (S, 2, 6)
    np.testing.assert_allclose(off_diagonal.mean(0), 0.0, atol=0.02)
    np.testing.assert_allclose(off_diagonal.var(0), 1 / (2 * np.array([[0.5], [2.0]]) + 3) * np.ones(6), rtol=0.05)
    assert gradcheck(lambda eta: D.LKJCholesky(4, eta).log_prob(L[:3]), [leaf([0.5, 2.0], requires_grad=True)])
    assert dist.expand((3, 2)).sample().shape == (3, 2, 4, 4)
    with pytest.raises(ValueError, match="Expected dim to be an integer greater than or equal to 2. Found dim=1."):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="Expected value argument .*CorrCholesky"):
        dist.log_prob(leaf(np.eye(4) * 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parameterisation", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_against_scipy(parameterisation, dtype):
    cov = _covariance(16)                                                        # (2, 3, 3)
    df = np.array([3.5, 6.0])
    given = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
             "scale_tril": np.linalg.cholesky(cov)}[parameterisation]
    dist = D.Wishart(leaf(df, dtype), **{parameterisation: leaf(given, dtype)})
    assert dist.batch_shape == (2,) and dist.event_shape == (3, 3)
    rtol = 1e-9 if dtype == np.float64 else 2e-4
    X = np.stack([stats.wishart(df[b], cov[b]).rvs(3, random_state=b) for b in range(2)], 1)   # (3, 2, 3, 3)
    lp = dist.log_prob(leaf(X, dtype))
    assert lp.shape == (3, 2) and lp.dtype == dtype
    for b in range(2):
        frozen = stats.wishart(df[b], cov[b])
        np.testing.assert_allclose(lp.array[:, b], frozen.logpdf(np.moveaxis(X[:, b], 0, -1)), rtol=rtol)
        np.testing.assert_allclose(dist.entropy().array[b], frozen.entropy(), rtol=rtol)
        np.testing.assert_allclose(dist.mean.array[b], frozen.mean(), rtol=rtol)
        np.testing.assert_allclose(dist.variance.array[b], frozen.var(), rtol=rtol)
    np.testing.assert_allclose(dist.mode.array[1], (6.0 - 4) * cov[1], rtol=rtol)
    assert np.isnan(dist.mode.array[0]).all()                                   # df <= p + 1


def test_wishart_sampling_and_gradients():
    cov = _covariance(17, batch=())
    dist = D.Wishart(leaf(5.0), covariance_matrix=leaf(cov))
    mg.manual_seed(18)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                          # no singular-sample warning
        samples = dist.sample((40000,))
    assert samples.shape == (40000, 3, 3) and bool(constraints.positive_definite.check(samples[:100]).array.all())
    n = 40000
    np.testing.assert_allclose(samples.array.mean(0), 5.0 * cov,
                               atol=6 * np.sqrt(dist.variance.array / n).max())
    np.testing.assert_allclose(samples.array.var(0), dist.variance.array, rtol=0.1)
    tril = leaf(np.linalg.cholesky(cov), requires_grad=True)
    df = leaf(5.0, requires_grad=True)
    X = leaf(stats.wishart(5.0, cov).rvs(2, random_state=0))
    assert gradcheck(lambda d, t: D.Wishart(d, scale_tril=t.tril()).log_prob(X), [df, tril])
    assert gradcheck(lambda d, t: D.Wishart(d, scale_tril=t.tril()).entropy(), [df, tril])

    def draw(d, t):
        mg.manual_seed(19)
        return D.Wishart(d, scale_tril=t.tril()).rsample((2,))

    assert gradcheck(draw, [df, tril])
    with pytest.raises(ValueError, match="expected to be greater than ndim - 1 = 2"):
        D.Wishart(leaf(1.5), covariance_matrix=leaf(cov))
    with pytest.raises(AssertionError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.Wishart(leaf(5.0))
    with pytest.warns(UserWarning, match="Low df values detected"):
        D.Wishart(leaf(2.5), covariance_matrix=leaf(cov))
    assert dist.expand((4,)).sample((2,)).shape == (2, 4, 3, 3)


def test_continuous_bernoulli_taylor_region():
    """Widening lims puts lambda = 0.45 in the Taylor region: the expansions must still match to O(x^3)."""
    dist = D.ContinuousBernoulli(leaf([0.45, 0.56]), lims=(0.4, 0.6))
    references = [ContinuousBernoulliReference(0.45), ContinuousBernoulliReference(0.56)]
    np.testing.assert_allclose(dist.log_prob(leaf([0.3, 0.8])).array,
                               [references[0].logpdf(0.3), references[1].logpdf(0.8)], atol=1e-6)
    np.testing.assert_allclose(dist.mean.array, [r.mean() for r in references], rtol=1e-5)
    # the variance expansion's own truncation error at |lambda - 1/2| = 0.05 is ~4e-5
    np.testing.assert_allclose(dist.variance.array, [r.var() for r in references], rtol=1e-4)
    x = D.ContinuousBernoulli(logits=leaf([0.05, -0.08]), lims=(0.4, 0.6))._log_normalizer(leaf([0.05, -0.08]))
    np.testing.assert_allclose(x.array, np.log(np.expm1([0.05, -0.08]) / np.array([0.05, -0.08])), rtol=1e-9)
