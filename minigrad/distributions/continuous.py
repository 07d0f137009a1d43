"""Univariate continuous distributions: Normal, Uniform, Exponential, Laplace, Cauchy, Gumbel,
HalfNormal, LogNormal, StudentT, Gamma, Chi2, FisherSnedecor, VonMises, GeneralizedPareto
(torch.distributions, one class each). Gumbel,
HalfNormal and LogNormal are TransformedDistributions, as in PyTorch.

Every log_prob, cdf, entropy, mean and variance is written with minigrad Tensor
ops, so it is differentiable in the parameters; every rsample is a
differentiable function of the parameters and parameter-free noise.
"""
import math
import numbers

import numpy as np

import minigrad
from minigrad.autograd import no_grad
from minigrad.distributions import constraints
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.exp_family import ExponentialFamily
from minigrad.distributions.gamma_sampling import standard_gamma
from minigrad.distributions.transformed_distribution import TransformedDistribution
from minigrad.distributions.transforms import AbsTransform, AffineTransform, ExpTransform
from minigrad.distributions.utils import (
    EMPTY_SHAPE,
    as_size,
    broadcast_all,
    draw,
    euler_constant,
    lazy_property,
    standard_normal,
)
from minigrad.tensor import Size

__all__ = ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy", "Gumbel", "HalfNormal", "LogNormal",
           "StudentT", "Gamma", "Chi2", "FisherSnedecor", "VonMises", "GeneralizedPareto"]

_Number = numbers.Number


def _batch_shape(tensor, *args):
    """() when every argument is a Python number, else the broadcast parameter shape."""
    return Size() if all(isinstance(a, _Number) for a in args) else tensor.shape


def _full(shape, value, like):
    return minigrad.full(tuple(shape), value, dtype=like.dtype)


class _LocScale(Distribution):
    """Shared __init__/expand of the (loc, scale) families (Normal, Laplace, Cauchy)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape(self.loc, loc, scale), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        family = next(c for c in type(self).__mro__ if _LocScale in c.__bases__)     # Normal, Laplace, ...
        new = self._get_checked_instance(family, _instance)
        batch_shape = as_size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _check(self, value):
        if self._validate_args:
            self._validate_sample(value)


class Normal(_LocScale, ExponentialFamily):
    """N(loc, scale^2): log p(x) = -(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """loc + eps * scale, eps ~ N(0, 1)."""
        shape = self._extended_shape(sample_shape)
        return self.loc + standard_normal(shape, self.loc.dtype) * self.scale

    def log_prob(self, value):
        self._check(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        """(1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        self._check(value)
        return 0.5 * (1 + minigrad.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * minigrad.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """1/2 + log(2 pi)/2 + log(scale)."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + minigrad.log(self.scale)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * minigrad.log(-math.pi / y)


class Uniform(Distribution):
    """U[low, high): log p(x) = -log(high - low) inside, -inf outside."""

    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(_batch_shape(self.low, low, high), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Uniform, _instance)
        batch_shape = as_size(batch_shape)
        new.low = self.low.expand(batch_shape)
        new.high = self.high.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """low + u (high - low), u ~ U[0, 1)."""
        shape = self._extended_shape(sample_shape)
        rand = draw(shape, self.low.dtype, lambda g, s: g.random(s))
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        with np.errstate(divide="ignore"):                  # log(0) = -inf outside [low, high)
            return minigrad.log(lb * ub) - minigrad.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return minigrad.log(self.high - self.low)


class Exponential(ExponentialFamily):
    """rate e^(-rate x) on x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(_batch_shape(self.rate, rate), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = as_size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return minigrad.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """e / rate, e ~ Exponential(1)."""
        shape = self._extended_shape(sample_shape)
        return draw(shape, self.rate.dtype, lambda g, s: g.standard_exponential(s)) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - minigrad.exp(-self.rate * value)

    def icdf(self, value):
        return -minigrad.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - minigrad.log(self.rate)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -minigrad.log(-x)


class Laplace(_LocScale):
    """exp(-|x - loc| / scale) / (2 scale)."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """loc - scale sign(u) log(1 - |u|), u ~ U(eps - 1, 1)."""
        shape = self._extended_shape(sample_shape)
        eps = np.finfo(self.loc.dtype).eps
        u = draw(shape, self.loc.dtype, lambda g, s: g.uniform(eps - 1, 1, s))
        return self.loc - self.scale * u.sign() * minigrad.log1p(-u.abs())

    def log_prob(self, value):
        self._check(value)
        return -minigrad.log(2 * self.scale) - minigrad.abs(value - self.loc) / self.scale

    def cdf(self, value):
        self._check(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * minigrad.expm1(-(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * minigrad.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + minigrad.log(2 * self.scale)


class Cauchy(_LocScale):
    """1 / (pi scale (1 + ((x - loc) / scale)^2)); no mean (nan), infinite variance."""

    @property
    def mean(self):
        return _full(self._extended_shape(), math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return _full(self._extended_shape(), math.inf, self.loc)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """loc + eps * scale, eps ~ Cauchy(0, 1)."""
        shape = self._extended_shape(sample_shape)
        return self.loc + draw(shape, self.loc.dtype, lambda g, s: g.standard_cauchy(s)) * self.scale

    def log_prob(self, value):
        self._check(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        self._check(value)
        return minigrad.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return minigrad.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(TransformedDistribution):
    """exp(-(z + e^(-z))) / scale, z = (x - loc) / scale: as in PyTorch, a Uniform(tiny, 1 - eps)
    pushed through x = loc - scale log(-log u).

    cdf and icdf are the closed forms exp(-exp(-z)) and loc - scale log(-log p): PyTorch's,
    inherited from the transforms, raise for large x (the inverted u rounds to 1, outside the
    base Uniform's support)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = np.finfo(self.loc.dtype)
        if isinstance(loc, _Number) and isinstance(scale, _Number):
            base_dist = Uniform(finfo.tiny, 1 - finfo.eps, validate_args=validate_args)
        else:
            base_dist = Uniform(minigrad.full_like(self.loc, finfo.tiny), minigrad.full_like(self.loc, 1 - finfo.eps),
                                validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-minigrad.ones_like(self.scale)),
                      ExpTransform().inv, AffineTransform(loc=loc, scale=-self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gumbel, _instance)
        batch_shape = as_size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value):
        """exp(-exp(-(x - loc) / scale))."""
        if self._validate_args:
            self._validate_sample(value)
        return minigrad.exp(-minigrad.exp(-(value - self.loc) / self.scale))

    def icdf(self, value):
        return self.loc - self.scale * minigrad.log(-minigrad.log(value))

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + euler_constant)


class HalfNormal(TransformedDistribution):
    """|X|, X ~ N(0, scale^2): 2 N(x; 0, scale^2) on x >= 0 (Normal through AbsTransform)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Normal(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return minigrad.zeros_like(self.scale)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return minigrad.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class LogNormal(TransformedDistribution):
    """exp(X), X ~ N(loc, scale^2) (Normal through ExpTransform):
    log p(x) = log N(log x; loc, scale^2) - log x."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


class Gamma(ExponentialFamily):
    """rate^a x^(a-1) e^(-rate x) / Gamma(a), a = concentration."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(_batch_shape(self.concentration, concentration, rate), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """standard_gamma(concentration) / rate, with implicit reparameterisation
        (minigrad/distributions/gamma_sampling.py)."""
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=np.finfo(value.dtype).tiny)

    def log_prob(self, value):
        value = minigrad.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (minigrad.xlogy(self.concentration, self.rate) + minigrad.xlogy(self.concentration - 1, value)
                - self.rate * value - minigrad.lgamma(self.concentration))

    def cdf(self, value):
        """P(concentration, rate x), the regularised lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value)
        return minigrad.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - minigrad.log(self.rate) + minigrad.lgamma(self.concentration)
                + (1.0 - self.concentration) * minigrad.digamma(self.concentration))

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return minigrad.lgamma(x + 1) + (x + 1) * minigrad.log(-y.reciprocal())


class Chi2(Gamma):
    """Chi-squared with df degrees of freedom: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t: Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) (1 + y^2/df)^(-(df+1)/2),
    y = (x - loc) / scale."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = as_size(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """loc for df > 1, else nan."""
        return minigrad.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, nan for df <= 1."""
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        undefined = minigrad.where(self.df > 1, minigrad.full_like(self.df, math.inf),
                                   minigrad.full_like(self.df, math.nan))
        return minigrad.where(self.df > 2, finite, undefined)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """loc + scale X / sqrt(Z / df), X ~ N(0, 1), Z ~ Chi2(df) (reparameterised)."""
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * minigrad.rsqrt(z / self.df))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + minigrad.lgamma(0.5 * self.df) - minigrad.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * minigrad.log1p(y ** 2.0 / self.df) - z

    def entropy(self):
        lbeta = minigrad.lgamma(0.5 * self.df) + math.lgamma(0.5) - minigrad.lgamma(0.5 * (self.df + 1))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (minigrad.digamma(0.5 * (self.df + 1)) - minigrad.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)


class FisherSnedecor(Distribution):
    """F(df1, df2): the ratio (X1 / df1) / (X2 / df2) of chi-squared variables, here of
    Gamma(df1 / 2, df1) and Gamma(df2 / 2, df2) draws (reparameterised)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(_batch_shape(self.df1, df1, df2), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = as_size(batch_shape)
        new.df1 = self.df1.expand(batch_shape)
        new.df2 = self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """df2 / (df2 - 2) for df2 > 2, else nan."""
        df2 = minigrad.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        """(df1 - 2) / df1 * df2 / (df2 + 2) for df1 > 2, else nan."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return minigrad.where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self):
        """2 df2^2 (df1 + df2 - 2) / (df1 (df2 - 2)^2 (df2 - 4)) for df2 > 4, else nan."""
        df2 = minigrad.where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape=EMPTY_SHAPE):
        shape = tuple(self._extended_shape(sample_shape))
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        tiny = np.finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * minigrad.log(value)
        t3 = (ct1 + ct2) * minigrad.log1p(ct3 * value)
        return t1 + t2 - t3


def _log_i0(x):
    """log I_0(x) = log(i0e(x)) + x, stable for large x."""
    return minigrad.special.i0e(x).log() + x.abs()


def _log_i1(x):
    """log I_1(x) = log(i1e(x)) + x for x > 0."""
    return minigrad.special.i1e(x).log() + x.abs()


class VonMises(Distribution):
    """The circular normal: exp(k cos(x - loc)) / (2 pi I_0(k)), k = concentration; loc and values
    are angles (any real number, read modulo 2 pi). Samples lie in [-pi, pi).

    PyTorch evaluates log I_0 with a polynomial approximation (about 1e-7 relative); here it is
    the exact scaled Bessel function (special.i0e), so values can differ from PyTorch's in the
    7th digit. Samples come from NumPy's von Mises sampler (Best & Fisher, as PyTorch's)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, EMPTY_SHAPE, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = as_size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration * minigrad.cos(value - self.loc) - math.log(2 * math.pi)
                - _log_i0(self.concentration))

    def sample(self, sample_shape=EMPTY_SHAPE):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            loc = np.broadcast_to(self.loc.array.astype(np.float64), shape)
            kappa = np.broadcast_to(self.concentration.array.astype(np.float64), shape)
            # NumPy draws around 0 in [-pi, pi]; shift by loc and wrap back into [-pi, pi)
            return draw(shape, self.loc.dtype,
                        lambda g, s: (g.vonmises(0.0, kappa, s) + math.pi + loc) % (2 * math.pi) - math.pi)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance 1 - I_1(k) / I_0(k)."""
        return 1 - (_log_i1(self.concentration) - _log_i0(self.concentration)).exp()


class GeneralizedPareto(Distribution):
    """The generalised Pareto: (1/scale) (1 + c z)^(-1/c - 1), z = (x - loc) / scale, c = concentration
    (c = 0: the exponential (1/scale) e^(-z)); support [loc, loc - scale / c] for c < 0, else [loc, inf)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(_batch_shape(self.loc, loc, scale, concentration), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = as_size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _safe_concentration(self):
        """(c == 0, c with 1 where c == 0): the c = 0 limit is taken by a where()."""
        eq_zero = minigrad.isclose(self.concentration, minigrad.tensor(0.0, dtype=self.concentration.dtype))
        return eq_zero, minigrad.where(eq_zero, minigrad.ones_like(self.concentration), self.concentration)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """icdf(u), u ~ U[0, 1)."""
        shape = self._extended_shape(sample_shape)
        return self.icdf(draw(shape, self.loc.dtype, lambda g, s: g.random(s)))

    def _z(self, x):
        return (x - self.loc) / self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + minigrad.ones_like(z)
        where_nonzero = minigrad.where(y == 0, y, y * minigrad.log1p(safe_conc * z))
        return -self.scale.log() - minigrad.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """log P(X > x) = -log(1 + c z) / c (-z at c = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -minigrad.log1p(safe_conc * z) / safe_conc
        return minigrad.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return minigrad.log1p(-minigrad.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return minigrad.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_concentration()
        logu = minigrad.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * minigrad.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return minigrad.where(eq_zero, where_zero, where_nonzero)

    @property
    def mean(self):
        """loc + scale / (1 - c) for c < 1, else nan."""
        valid = self.concentration < 1
        safe_conc = minigrad.where(valid, self.concentration, 0.5)
        return minigrad.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        """scale^2 / ((1 - c)^2 (1 - 2c)) for c < 1/2, else nan."""
        valid = self.concentration < 0.5
        safe_conc = minigrad.where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return minigrad.where(valid, result, math.nan)

    def entropy(self):
        return minigrad.broadcast_to(minigrad.log(self.scale) + self.concentration + 1, tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        negative = self.concentration < 0
        safe_conc = minigrad.where(negative, self.concentration, -1.0)
        upper = minigrad.where(negative, lower - self.scale / safe_conc, math.inf)
        return constraints.interval(lower, upper)
