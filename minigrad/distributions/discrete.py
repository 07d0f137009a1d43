"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical, Poisson, Binomial, Geometric,
Multinomial, NegativeBinomial.

Bernoulli, Categorical, Binomial and Geometric take ``probs`` or ``logits``
(exactly one); the other is computed on first use (a lazy_property), so
gradients flow to whichever was given. Samples are drawn outside the graph
(``has_rsample = False``): a discrete draw is not a differentiable function
of its parameters.
"""
import math
import numbers

import numpy as np

import minigrad
from minigrad.autograd import no_grad
from minigrad.distributions import constraints
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.exp_family import ExponentialFamily
from minigrad.distributions.utils import (
    EMPTY_SHAPE,
    as_size,
    broadcast_all,
    draw,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from minigrad.nn import functional as F
from minigrad.tensor import Size, Tensor

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
           "Binomial", "Geometric", "Multinomial", "NegativeBinomial"]

_Number = numbers.Number


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _expand_probs_or_logits(self, new, shape):
    """Expand whichever of probs/logits has been computed onto ``new``."""
    if "probs" in self.__dict__:
        new.probs = self.probs.expand(shape)
        new._param = new.probs
    if "logits" in self.__dict__:
        new.logits = self.logits.expand(shape)
        new._param = new.logits


class Bernoulli(ExponentialFamily):
    """P(1) = probs = sigmoid(logits): log p(x) = x log p + (1 - x) log(1 - p)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            is_scalar = isinstance(probs, _Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, _Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size() if is_scalar else self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = as_size(batch_shape)
        _expand_probs_or_logits(self, new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1 where probs > 1/2, 0 where below, nan at exactly 1/2."""
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return minigrad.where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=EMPTY_SHAPE):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = np.broadcast_to(self.probs.array, shape)
            return draw(shape, self.probs.dtype, lambda g, s: g.random(s) < probs)

    def log_prob(self, value):
        """-binary_cross_entropy_with_logits(logits, value): stable for any logits."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = minigrad.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))      # (2, 1, ..., 1)
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))      # (2,) + batch_shape
        return values

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (minigrad.logit(self.probs),)

    def _log_normalizer(self, x):
        return minigrad.log1p(minigrad.exp(x))


class Categorical(Distribution):
    """P(k) = probs[..., k] = softmax(logits)[..., k], k in {0, ..., K-1}; the last dim of
    probs/logits indexes the categories, the others are the batch."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = as_size(batch_shape)
        _expand_probs_or_logits(self, new, Size(tuple(batch_shape) + (self._num_events,)))
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return minigrad.full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return minigrad.full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=EMPTY_SHAPE):
        """int64 category indices of shape sample_shape + batch_shape (inverse-cdf draws)."""
        sample_shape = as_size(sample_shape)
        with no_grad():
            probs_2d = self.probs.array.reshape(-1, self._num_events)               # (B, K)
            cdf = np.cumsum(probs_2d.astype(np.float64), -1)
            cdf /= cdf[:, -1:]
            u = draw((sample_shape.numel(), len(probs_2d), 1), np.float64, lambda g, s: g.random(s)).array
            samples_2d = (u >= cdf[None]).sum(-1)                                # (n, B)
            samples_2d = np.minimum(samples_2d, self._num_events - 1)
            return Tensor(samples_2d.reshape(self._extended_shape(sample_shape)).astype(np.int64))

    def log_prob(self, value):
        """logits[..., value] (normalised logits), broadcast against the batch."""
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = minigrad.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        """-sum_k p_k log p_k (logits clamped to finfo.min, so that 0 log 0 = 0)."""
        logits = self.logits.clamp(min=minigrad.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = minigrad.arange(self._num_events, dtype=minigrad.int64)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class OneHotCategorical(Distribution):
    """Categorical with one-hot samples: event_shape (K,)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = as_size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(dim=-1), num_classes=probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=EMPTY_SHAPE):
        indices = self._categorical.sample(as_size(sample_shape))
        return F.one_hot(indices, self._categorical._num_events).to(self._categorical.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        values = minigrad.eye(n, dtype=self._param.dtype)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample passes gradients straight through: sample + (p - p.detach())."""

    has_rsample = True

    def rsample(self, sample_shape=EMPTY_SHAPE):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Poisson(ExponentialFamily):
    """rate^k e^(-rate) / k!."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if isinstance(rate, _Number) else self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = as_size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=EMPTY_SHAPE):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rate = np.broadcast_to(self.rate.array, shape)
            return draw(shape, self.rate.dtype, lambda g, s: g.poisson(rate))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return minigrad.xlogy(value, rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self):
        return (minigrad.log(self.rate),)

    def _log_normalizer(self, x):
        return minigrad.exp(x)


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (PyTorch's form)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """C(n, k) p^k (1 - p)^(n - k), n = total_count."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_probs_or_logits(self, new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return minigrad.minimum(((self.total_count + 1) * self.probs).floor(), self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=EMPTY_SHAPE):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            n = np.broadcast_to(self.total_count.array, shape).astype(np.int64)
            p = np.broadcast_to(self.probs.array, shape)
            return draw(shape, self._param.dtype, lambda g, s: g.binomial(n, p))

    def log_prob(self, value):
        """log C(n, k) + k logits - n log(1 + e^logits), written stably for any logits."""
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = minigrad.lgamma(self.total_count + 1)
        log_factorial_k = minigrad.lgamma(value + 1)
        log_factorial_nmk = minigrad.lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * minigrad.log1p(minigrad.exp(-minigrad.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def _homogeneous_total_count(self, what):
        total_count = int(self.total_count.array.max())
        if not self.total_count.array.min() == total_count:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total_count

    def entropy(self):
        self._homogeneous_total_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(minigrad.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = self._homogeneous_total_count("enumerate_support")
        values = minigrad.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Geometric(Distribution):
    """The number of failures before the first success: P(k) = (1 - p)^k p, k = 0, 1, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        given = probs if probs is not None else logits
        super().__init__(Size() if isinstance(given, _Number) else given.shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value.array > 0
            if not valid.all():
                raise ValueError("Expected parameter probs "
                                 f"({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} "
                                 f"to be positive but found invalid values:\n{Tensor(value.array[~valid])}")

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = as_size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return minigrad.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=EMPTY_SHAPE):
        """floor(log u / log(1 - p)), u ~ U(tiny, 1)."""
        shape = self._extended_shape(sample_shape)
        tiny = np.finfo(self.probs.dtype).tiny
        with no_grad():
            u = draw(shape, self.probs.dtype, lambda g, s: g.uniform(tiny, 1, s))
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        """k log(1 - p) + log p (0 at k = 0 when p = 1)."""
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = minigrad.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs


class Multinomial(Distribution):
    """Counts of ``total_count`` Categorical(probs) draws: n! / prod(x_k!) prod p_k^x_k, event_shape (K,)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=EMPTY_SHAPE):
        """Counts of shape sample_shape + batch_shape + (K,), in the dtype of probs."""
        sample_shape = as_size(sample_shape)
        shape = self._extended_shape(sample_shape)
        with no_grad():
            num_events = self._categorical._num_events
            probs_2d = self.probs.array.reshape(-1, num_events).astype(np.float64)      # (B, K)
            probs_2d = probs_2d / probs_2d.sum(-1, keepdims=True)
            counts = draw((sample_shape.numel(), len(probs_2d), num_events), self.probs.dtype,
                          lambda g, s: g.multinomial(self.total_count, probs_2d, size=s[:2]))   # (S, B, K)
            return counts.reshape(tuple(shape))

    def entropy(self):
        """n H(Categorical) - log n! + sum_k E[log x_k!], x_k ~ Binomial(n, p_k)."""
        n = minigrad.tensor(float(self.total_count), dtype=self.probs.dtype)
        term1 = n * self._categorical.entropy() - minigrad.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]                    # (n, 1, ..., 1)
        binomial_probs = minigrad.exp(self._binomial.log_prob(support))
        weights = minigrad.lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum(0).sum(-1)

    def log_prob(self, value):
        """log n! - sum_k log x_k! + sum_k x_k log p_k (0 log 0 = 0 for an impossible category)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = minigrad.lgamma(value.sum(-1) + 1)
        log_factorial_xs = minigrad.lgamma(value + 1).sum(-1)
        logits = minigrad.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)


class NegativeBinomial(Distribution):
    """The number of successes before ``total_count`` failures, success probability probs:
    Gamma(r + k) / (k! Gamma(r)) p^k (1 - p)^r, r = total_count."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_probs_or_logits(self, new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """r p / (1 - p) = r e^logits."""
        return self.total_count * minigrad.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / minigrad.sigmoid(-self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=EMPTY_SHAPE):
        """A Poisson draw whose rate is Gamma(total_count, rate = e^-logits): the Gamma-Poisson mixture."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            r = np.broadcast_to(self.total_count.array, shape)
            scale = np.broadcast_to(np.exp(self.logits.array.astype(np.float64)), shape)
            return draw(shape, self._param.dtype, lambda g, s: g.poisson(g.gamma(r, scale)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        with np.errstate(invalid="ignore"):       # inf - inf at total_count = value = 0: replaced by 0
            log_normalization = (-minigrad.lgamma(self.total_count + value) + minigrad.lgamma(1.0 + value)
                                 + minigrad.lgamma(self.total_count))
        log_normalization = minigrad.where(self.total_count + value == 0.0, 0.0, log_normalization)
        return log_unnormalized_prob - log_normalization
