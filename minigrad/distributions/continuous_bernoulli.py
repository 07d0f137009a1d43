"""ContinuousBernoulli (Loaiza-Ganem & Cunningham 2019): a density on [0, 1],

    p(x; lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x),
    C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda)    (C(1/2) = 2),

the proper density behind the "binary cross-entropy on continuous data" loss.
Near lambda = 1/2 the closed forms divide 0 by 0, so inside ``lims`` (default
(0.499, 0.501)) they are replaced by Taylor expansions, and cdf and icdf by the
uniform ones (exact at 1/2, off by O(|lambda - 1/2|) elsewhere), as in PyTorch.
"""
import math
import numbers

import minigrad
from minigrad.autograd import no_grad
from minigrad.distributions import constraints
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.exp_family import ExponentialFamily
from minigrad.distributions.utils import (
    EMPTY_SHAPE,
    as_size,
    broadcast_all,
    clamp_probs,
    draw,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from minigrad.nn import functional as F

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """C(lambda) lambda^x (1 - lambda)^(1 - x) on [0, 1], lambda = probs = sigmoid(logits)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
            if validate_args is not None:
                if not bool(self.arg_constraints["probs"].check(self.probs).array.all()):
                    raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        self._lims = lims
        super().__init__(EMPTY_SHAPE if is_scalar else self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = as_size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        """probs, moved to lims[0] inside the unstable region (where the Taylor forms take over)."""
        return minigrad.where(self._outside_unstable_region(), self.probs,
                              self._lims[0] * minigrad.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """log C(lambda) = log|log(1 - lambda) - log(lambda)| - log|1 - 2 lambda|."""
        cut_probs = self._cut_probs()
        cut_probs_below_half = minigrad.where(cut_probs <= 0.5, cut_probs, minigrad.zeros_like(cut_probs))
        cut_probs_above_half = minigrad.where(cut_probs >= 0.5, cut_probs, minigrad.ones_like(cut_probs))
        log_norm = (minigrad.log(minigrad.abs(minigrad.log1p(-cut_probs) - minigrad.log(cut_probs)))
                    - minigrad.where(cut_probs <= 0.5, minigrad.log1p(-2.0 * cut_probs_below_half),
                                     minigrad.log(2.0 * cut_probs_above_half - 1.0)))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return minigrad.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (minigrad.log1p(-cut_probs) - minigrad.log(cut_probs))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return minigrad.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut_probs = self._cut_probs()
        variances = (cut_probs * (cut_probs - 1.0) / (1.0 - 2.0 * cut_probs).pow(2)
                     + 1.0 / (minigrad.log1p(-cut_probs) - minigrad.log(cut_probs)).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return minigrad.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=EMPTY_SHAPE):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=EMPTY_SHAPE):
        """icdf(u), u ~ U[0, 1)."""
        shape = self._extended_shape(sample_shape)
        return self.icdf(draw(shape, self.probs.dtype, lambda g, s: g.random(s)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value):
        """(lambda^x (1 - lambda)^(1 - x) + lambda - 1) / (2 lambda - 1), clamped to [0, 1] outside."""
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (cut_probs.pow(value) * (1.0 - cut_probs).pow(1.0 - value) + cut_probs - 1.0) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = minigrad.where(self._outside_unstable_region(), cdfs, value)
        return minigrad.where(value <= 0.0, minigrad.zeros_like(value),
                              minigrad.where(value >= 1.0, minigrad.ones_like(value), unbounded_cdfs))

    def icdf(self, value):
        cut_probs = self._cut_probs()
        inverse = ((minigrad.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0)) - minigrad.log1p(-cut_probs))
                   / (minigrad.log(cut_probs) - minigrad.log1p(-cut_probs)))
        return minigrad.where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_probs0 = minigrad.log1p(-self.probs)
        log_probs1 = minigrad.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log((e^x - 1) / x), Taylor-expanded near x = 0."""
        out_unst_reg = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut_nat_params = minigrad.where(out_unst_reg, x, (self._lims[0] - 0.5) * minigrad.ones_like(x))
        log_norm = (minigrad.log(minigrad.abs(minigrad.expm1(cut_nat_params)))
                    - minigrad.log(minigrad.abs(cut_nat_params)))
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return minigrad.where(out_unst_reg, log_norm, taylor)
