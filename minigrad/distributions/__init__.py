"""minigrad.distributions: PyTorch's torch.distributions.

Parameterisable probability distributions with PyTorch's names, arguments and
shape semantics (``batch_shape``, ``event_shape``, ``sample(sample_shape)``),
reparameterised sampling (``rsample``) and closed-form ``kl_divergence``.

    base          distribution.py (Distribution), exp_family.py (ExponentialFamily), constraints.py, utils.py
    continuous    Normal Uniform Exponential Laplace Cauchy Gumbel HalfNormal LogNormal StudentT Gamma Chi2
                  FisherSnedecor VonMises GeneralizedPareto, ContinuousBernoulli (continuous_bernoulli.py)
    discrete      Bernoulli Categorical OneHotCategorical(StraightThrough) Poisson Binomial Geometric
                  Multinomial NegativeBinomial
    multivariate  Dirichlet Beta MultivariateNormal Independent MixtureSameFamily
                  LowRankMultivariateNormal (lowrank_multivariate_normal.py), LKJCholesky (lkj_cholesky.py),
                  Wishart (wishart.py)
    relaxed       (Logit)RelaxedBernoulli, ExpRelaxedCategorical, RelaxedOneHotCategorical
    transformed_families  Pareto Weibull HalfCauchy InverseGamma Kumaraswamy LogisticNormal
    transforms.py, transformed_distribution.py  Transform and its subclasses, TransformedDistribution
                  (LogNormal, HalfNormal, Gumbel and the relaxed ones are built on them, as in PyTorch)
    kl.py         kl_divergence, register_kl
    constraint_registry.py  biject_to, transform_to: a transform from R^n onto a constraint
    gamma_sampling.py  the implicitly reparameterised Gamma sampler behind Gamma, Beta, Dirichlet, StudentT,
                  FisherSnedecor, Wishart

Samples come from minigrad's generator: ``minigrad.manual_seed`` makes them reproducible.
"""

from minigrad.distributions import constraints, transforms  # noqa: F401
from minigrad.distributions.constraint_registry import biject_to, transform_to
from minigrad.distributions.continuous import (
    Cauchy,
    Chi2,
    Exponential,
    FisherSnedecor,
    Gamma,
    GeneralizedPareto,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    StudentT,
    Uniform,
    VonMises,
)
from minigrad.distributions.continuous_bernoulli import ContinuousBernoulli
from minigrad.distributions.discrete import (
    Bernoulli,
    Binomial,
    Categorical,
    Geometric,
    Multinomial,
    NegativeBinomial,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Poisson,
)
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.exp_family import ExponentialFamily
from minigrad.distributions.kl import kl_divergence, register_kl
from minigrad.distributions.lkj_cholesky import LKJCholesky
from minigrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from minigrad.distributions.multivariate import Beta, Dirichlet, Independent, MixtureSameFamily, MultivariateNormal
from minigrad.distributions.relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from minigrad.distributions.transformed_distribution import TransformedDistribution
from minigrad.distributions.transformed_families import (
    HalfCauchy,
    InverseGamma,
    Kumaraswamy,
    LogisticNormal,
    Pareto,
    Weibull,
)
from minigrad.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from minigrad.distributions.wishart import Wishart

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform", "Categorical", "Cauchy",
    "Chi2", "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform", "CumulativeDistributionTransform",
    "Dirichlet", "Distribution", "ExpRelaxedCategorical", "ExpTransform", "Exponential", "ExponentialFamily",
    "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
    "Independent", "IndependentTransform", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal",
    "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal", "LowerCholeskyTransform",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "PositiveDefiniteTransform", "PowerTransform",
    "RelaxedBernoulli", "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
    "SoftplusTransform", "StackTransform", "StickBreakingTransform", "StudentT", "TanhTransform", "Transform",
    "TransformedDistribution", "Uniform", "VonMises", "Weibull", "Wishart", "biject_to", "constraints",
    "identity_transform", "kl_divergence", "register_kl", "transform_to", "transforms",
]
