"""Distributions built as TransformedDistributions of simpler ones (as in PyTorch):

    Pareto(scale, alpha)             scale exp(E),          E ~ Exponential(alpha)
    Weibull(scale, concentration)    scale E^(1/k),         E ~ Exponential(1), k = concentration
    HalfCauchy(scale)                |C|,                   C ~ Cauchy(0, scale)
    InverseGamma(concentration, rate)  1 / G,               G ~ Gamma(concentration, rate)
    Kumaraswamy(a, b)                (1 - U^(1/b))^(1/a),   U ~ Uniform(0, 1)
    LogisticNormal(loc, scale)       StickBreaking(X),      X ~ Normal(loc, scale) over the last dim

log_prob, cdf, icdf and rsample come from the transforms; the moments and
entropies are the closed forms.
"""
import math

import numpy as np

import minigrad
from minigrad.distributions import constraints
from minigrad.distributions.continuous import Cauchy, Exponential, Gamma, Normal, Uniform
from minigrad.distributions.transformed_distribution import TransformedDistribution
from minigrad.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    ExpTransform,
    PowerTransform,
    StickBreakingTransform,
)
from minigrad.distributions.utils import as_size, broadcast_all, euler_constant

__all__ = ["Pareto", "Weibull", "HalfCauchy", "InverseGamma", "Kumaraswamy", "LogisticNormal"]


class Pareto(TransformedDistribution):
    """alpha scale^alpha / x^(alpha + 1) on x >= scale."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        batch_shape = as_size(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.alpha = self.alpha.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        """alpha scale / (alpha - 1), infinite for alpha <= 1."""
        a = self.alpha.clamp(min=1)
        with np.errstate(divide="ignore"):
            return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        """scale^2 alpha / ((alpha - 1)^2 (alpha - 2)), infinite for alpha <= 2."""
        a = self.alpha.clamp(min=2)
        with np.errstate(divide="ignore"):
            return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class Weibull(TransformedDistribution):
    """(k / scale) (x / scale)^(k-1) exp(-(x / scale)^k) on x > 0, k = concentration."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(minigrad.ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration_reciprocal), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        batch_shape = as_size(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        transforms = [PowerTransform(exponent=new.concentration_reciprocal), AffineTransform(loc=0, scale=new.scale)]
        TransformedDistribution.__init__(new, base_dist, transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * minigrad.exp(minigrad.lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self):
        """scale ((k - 1) / k)^(1/k) (nan for k < 1, as in PyTorch)."""
        with np.errstate(invalid="ignore"):
            return self.scale * ((self.concentration - 1) / self.concentration) ** self.concentration.reciprocal()

    @property
    def variance(self):
        return self.scale.pow(2) * (minigrad.exp(minigrad.lgamma(1 + 2 * self.concentration_reciprocal))
                                    - minigrad.exp(2 * minigrad.lgamma(1 + self.concentration_reciprocal)))

    def entropy(self):
        return (euler_constant * (1 - self.concentration_reciprocal)
                + minigrad.log(self.scale * self.concentration_reciprocal) + 1)


class HalfCauchy(TransformedDistribution):
    """|C|, C ~ Cauchy(0, scale): 2 / (pi scale (1 + (x / scale)^2)) on x >= 0."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return minigrad.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def mode(self):
        return minigrad.zeros_like(self.scale)

    @property
    def variance(self):
        return self.base_dist.variance

    def log_prob(self, value):
        value = minigrad.as_tensor(value, dtype=self.base_dist.scale.dtype)
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


class InverseGamma(TransformedDistribution):
    """1 / G, G ~ Gamma(a, rate): rate^a x^(-a-1) e^(-rate / x) / Gamma(a) on x > 0."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -minigrad.ones((), dtype=base_dist.rate.dtype)
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        """rate / (a - 1) for a > 1, else inf."""
        result = self.rate / (self.concentration - 1)
        return minigrad.where(self.concentration > 1, result, math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        """rate^2 / ((a - 1)^2 (a - 2)) for a > 2, else inf."""
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return minigrad.where(self.concentration > 2, result, math.inf)

    def entropy(self):
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())


def _kumaraswamy_moment(a, b, n):
    """E[X^n] = b B(1 + n/a, b)."""
    arg1 = 1 + n / a
    log_value = minigrad.lgamma(arg1) + minigrad.lgamma(b) - minigrad.lgamma(arg1 + b)
    return b * minigrad.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """a b x^(a-1) (1 - x^a)^(b-1) on [0, 1], a = concentration1, b = concentration0."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(minigrad.full_like(self.concentration0, 0), minigrad.full_like(self.concentration0, 1),
                            validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        """((a - 1) / (a b - 1))^(1/a) for a, b >= 1, else nan."""
        log_mode = (self.concentration0.reciprocal() * (-self.concentration0).log1p()
                    - (-self.concentration0 * self.concentration1).log1p())
        undefined = (self.concentration0 < 1) | (self.concentration1 < 1)
        return minigrad.where(undefined, math.nan, log_mode).exp()

    @property
    def variance(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        H0 = minigrad.digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * H0 - minigrad.log(self.concentration1) - minigrad.log(self.concentration0)


class LogisticNormal(TransformedDistribution):
    """A point of the simplex: StickBreakingTransform of X ~ Normal(loc, scale) (an Independent
    Normal over the last dim), so event_shape = loc's last dim + 1."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
