"""``minigrad.special``: PyTorch's ``torch.special``, the special functions of
statistics and physics (values from ``scipy.special``).

The functions live in ``minigrad/ops/special_math.py`` (gamma family, Bessel,
normal distribution, xlogy, zeta, incomplete gamma; the derivative table)
and ``minigrad/ops/pointwise.py`` (erf, expm1, ...); this module gives them
PyTorch's names and keyword arguments.
"""
from minigrad.ops import activation, pointwise, pointwise_activations, reduction
from minigrad.ops.pointwise import erf, erfc, erfinv, exp2, expm1, log1p  # noqa: F401
from minigrad.ops.special_math import (  # noqa: F401
    bessel_j0,
    bessel_j1,
    digamma,
    entr,
    erfcx,
    expit,
    gammainc,
    gammaincc,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    multigammaln,
    ndtr,
    ndtri,
    polygamma,
    sinc,
    xlog1py,
    xlogy,
    zeta,
)
from minigrad.ops.special_math import lgamma as gammaln  # noqa: F401

psi = digamma


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given."""
    return pointwise_activations.logit(input, eps)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input), dim)), computed stably."""
    return reduction.logsumexp(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along dim."""
    return activation.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(input, dim)), computed stably."""
    return activation.log_softmax(input, dim, dtype)


def round(input, *, decimals=0):  # noqa: A001  (PyTorch's name)
    """Round half to even at `decimals` places."""
    return pointwise.round(input, decimals=decimals)


# --- toplevelgaps ---
# Orthogonal polynomials and the remaining Bessel functions (minigrad/ops/special_polynomials.py).
from minigrad.ops.special_polynomials import (  # noqa: E402, F401
    airy_ai,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)
# --- end toplevelgaps ---
