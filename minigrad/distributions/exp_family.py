"""ExponentialFamily: distributions of the form

    p(x; theta) = h(x) exp(<t(x), theta> - F(theta))

with natural parameters theta (``_natural_params``), log normaliser F
(``_log_normalizer``) and E[log h(X)] (``_mean_carrier_measure``). Then
E[t(X)] = grad F(theta), and the entropy and the KL divergence are Bregman
divergences of F:

    H = F(theta) - <theta, grad F(theta)> - E[log h(X)]
    KL(p || q) = F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>

Normal, Bernoulli, Beta, Dirichlet, Exponential, Gamma and Poisson are
exponential families; each also has a closed-form entropy and KL, which the
distributions use. As in PyTorch, the Bregman forms differentiate F on
detached copies of p's natural parameters, so they carry no gradient to p's
parameters (gradients still reach q's). minigrad has no gradients of
gradients, so grad F is taken with create_graph=False: the same values and
the same gradients to q as PyTorch's create_graph=True.
"""
from minigrad.autograd import enable_grad, grad
from minigrad.distributions.distribution import Distribution
from minigrad.distributions.utils import sum_rightmost

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions: entropy by the Bregman divergence of F."""

    @property
    def _natural_params(self):
        """The natural parameters theta, a tuple of Tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[log h(X)]."""
        raise NotImplementedError

    def entropy(self):
        """F(theta) - <theta, grad F(theta)> - E[log h(X)]."""
        result = -self._mean_carrier_measure
        with enable_grad():
            nparams = [p.detach().requires_grad_() for p in self._natural_params]
            lg_normal = self._log_normalizer(*nparams)
            gradients = grad(lg_normal.sum(), nparams)
        result = result + lg_normal.detach()
        for theta, g in zip(nparams, gradients):
            result = result - (theta.detach() * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result


def bregman_kl(p, q):
    """KL(p || q) = F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)> for p, q of one family."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot "
                                  "be computed using Bregman divergences")
    with enable_grad():
        p_nparams = [theta.detach().requires_grad_() for theta in p._natural_params]
        lg_normal = p._log_normalizer(*p_nparams)
        gradients = grad(lg_normal.sum(), p_nparams)
    q_nparams = q._natural_params
    result = q._log_normalizer(*q_nparams) - lg_normal.detach()
    for pnp, qnp, g in zip(p_nparams, q_nparams, gradients):
        result = result - sum_rightmost((qnp - pnp.detach()) * g, len(q.event_shape))
    return result
