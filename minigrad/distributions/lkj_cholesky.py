"""LKJCholesky(dim, concentration): the lower Cholesky factor L of a dim x dim correlation
matrix R = L L^T drawn from the LKJ distribution p(R) ~ det(R)^(concentration - 1)
(Lewandowski, Kurowicka & Joe 2009), by the onion method (as in PyTorch and NumPyro):
row i of L is sqrt(y_i) u_i on the strict lower part, u_i uniform on the unit sphere,
y_i ~ Beta(i/2, concentration + (dim - 2 - i)/2), and the diagonal completes each row
to unit length.

Deliberate difference: PyTorch 2.13 draws y_i ~ Beta(i - 1/2, ...) (``offset + 0.5``)
instead of Beta(i/2, ...) for rows i >= 2, so its later rows' correlations are too spread
(at dim 4, concentration 0.5: variance 0.30 instead of the LKJ marginal's 1/(2 eta + dim - 1)
= 0.25) and its samples disagree with its own log_prob; here every correlation has the LKJ
marginal (tests/test_distributions.py checks it). log_prob is PyTorch's.

log_prob is the density of L with respect to its strictly lower entries:

    sum_{i=2}^{dim} (dim - i + 2 (concentration - 1)) log L_ii - log(normaliser)
"""
import math

import minigrad
from minigrad.autograd import no_grad
from minigrad.distributions import constraints
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.multivariate import Beta
from minigrad.distributions.utils import EMPTY_SHAPE, as_size, broadcast_all, standard_normal

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """Cholesky factors of dim x dim correlation matrices; concentration 1 is uniform over correlations."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.shape
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = minigrad.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = minigrad.cat([minigrad.zeros((1,), dtype=offset.dtype), offset])      # (dim,): 0, 0, 1, ...
        beta_conc1 = 0.5 * offset + 0.5                     # i/2 for row i >= 1 (PyTorch: offset + 0.5)
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, (dim, dim), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = as_size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=EMPTY_SHAPE):
        """The onion method: rows sqrt(y_i) u_i below the diagonal, the diagonal completing unit rows."""
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)                       # (..., dim, 1)
            u_normal = standard_normal(self._extended_shape(sample_shape), y.dtype).tril(-1)
            norms = u_normal.norm(dim=-1, keepdim=True)
            first_row = minigrad.arange(self.dim).reshape(self.dim, 1) == 0         # row 0 has no free entries
            u_hypersphere = minigrad.where(first_row, 0.0, u_normal / minigrad.where(first_row, 1.0, norms))
            w = y.sqrt() * u_hypersphere
            tiny = minigrad.finfo(w.dtype).tiny
            diag_elems = (1 - (w ** 2).sum(-1)).clamp(min=tiny).sqrt()
            return w + minigrad.diag_embed(diag_elems)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = minigrad.arange(2, self.dim + 1, dtype=self.concentration.dtype)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = minigrad.lgamma(alpha) * dm1
        numerator = minigrad.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
