"""minigrad.distributions: PyTorch's torch.distributions.

Parameterisable probability distributions with PyTorch's names, arguments and
shape semantics (``batch_shape``, ``event_shape``, ``sample(sample_shape)``),
reparameterised sampling (``rsample``) and closed-form ``kl_divergence``.

    base          distribution.py (Distribution), constraints.py, utils.py
    continuous    Normal Uniform Exponential Laplace Cauchy Gumbel HalfNormal LogNormal StudentT Gamma Chi2
    discrete      Bernoulli Categorical OneHotCategorical(StraightThrough) Poisson Binomial Geometric
    multivariate  Dirichlet Beta MultivariateNormal Independent MixtureSameFamily
                  (Logit)RelaxedBernoulli, (Exp)RelaxedCategorical / RelaxedOneHotCategorical
    kl.py         kl_divergence, register_kl
    gamma_sampling.py  the implicitly reparameterised Gamma sampler behind Gamma, Beta, Dirichlet, StudentT

Samples come from minigrad's generator: ``minigrad.manual_seed`` makes them reproducible.
"""
from minigrad.distributions import constraints  # noqa: F401
from minigrad.distributions.continuous import (
                                               Cauchy,
                                               Chi2,
                                               Exponential,
                                               Gamma,
                                               Gumbel,
                                               HalfNormal,
                                               Laplace,
                                               LogNormal,
                                               Normal,
                                               StudentT,
                                               Uniform,
)
from minigrad.distributions.discrete import (
                                               Bernoulli,
                                               Binomial,
                                               Categorical,
                                               Geometric,
                                               OneHotCategorical,
                                               OneHotCategoricalStraightThrough,
                                               Poisson,
)
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.kl import kl_divergence, register_kl
from minigrad.distributions.multivariate import (
                                               Beta,
                                               Dirichlet,
                                               ExpRelaxedCategorical,
                                               Independent,
                                               LogitRelaxedBernoulli,
                                               MixtureSameFamily,
                                               MultivariateNormal,
                                               RelaxedBernoulli,
                                               RelaxedOneHotCategorical,
)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution",
    "ExpRelaxedCategorical", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfNormal", "Independent",
    "Laplace", "LogNormal", "LogitRelaxedBernoulli", "MixtureSameFamily", "MultivariateNormal", "Normal",
    "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson", "RelaxedBernoulli",
    "RelaxedOneHotCategorical", "StudentT", "Uniform", "constraints", "kl_divergence", "register_kl",
]
