"""Reparameterised Gamma(concentration, 1) samples: the one sampler with no simple noise transform.

A Gamma draw is z = F^{-1}(u; a), u ~ U(0, 1), F(z; a) = P(a, z) the
regularised lower incomplete gamma function. Here z is computed exactly that
way (scipy's gammaincinv), so a sample is a smooth function of a for fixed
noise u, and its derivative is the implicit one (Figurnov et al. 2018,
"Implicit Reparameterization Gradients"):

    dz/da = -(dF/da)(z; a) / (dF/dz)(z; a),     dF/dz = z^(a-1) e^(-z) / Gamma(a)

dF/da has no closed form; it is taken by a five-point central difference of
P(a, z) in a (step 1e-3 a, error O(step^4)), in float64. PyTorch draws with
Marsaglia-Tsang and approximates dz/da with fitted series; both give the
implicit-reparameterisation gradient, up to the accuracy of the method.
Because the noise is u, ``minigrad.manual_seed`` before each draw makes the
samples, and so their finite differences in a, reproducible.

A second derivative through a sample (d^2 z / da^2) is not available, as in
PyTorch: with create_graph=True the gradient grad * dz/da is recorded as a
product, differentiable in grad, while dz/da gets a node that raises
NotImplementedError (PyTorch's "the derivative for '_standard_gamma_grad' is
not implemented") if a second backward reaches it.
"""
import numpy as np
from scipy import special

from minigrad import random
from minigrad.autograd import Function, _NotTwiceDifferentiable
from minigrad.tensor import Tensor


def _dP_da(a, z):
    """d/da P(a, z): a five-point central difference (float64)."""
    h = 1e-3 * a
    return (-special.gammainc(a + 2 * h, z) + 8 * special.gammainc(a + h, z)
            - 8 * special.gammainc(a - h, z) + special.gammainc(a - 2 * h, z)) / (12 * h)


def standard_gamma_grad(a, z):
    """dz/da of z = F^{-1}(u; a) at fixed u: -(dF/da) / density(z; a) (float64 arrays)."""
    with np.errstate(all="ignore"):
        log_density = (a - 1) * np.log(z) - z - special.gammaln(a)
        grad = -_dP_da(a, z) * np.exp(-log_density)
    return np.where(np.isfinite(grad), grad, 0.0)      # a sample clamped at tiny: no gradient


class StandardGamma(Function):
    """z ~ Gamma(a, 1) by inversion, z = gammaincinv(a, u); backward: the implicit dz/da."""

    @staticmethod
    def forward(ctx, concentration):
        a = concentration.astype(np.float64)
        u = random.generator().random(a.shape)
        with np.errstate(all="ignore"):
            z = special.gammaincinv(a, u)
        z = np.maximum(z, np.finfo(concentration.dtype).tiny)   # PyTorch clamps at tiny too
        ctx.save_for_backward(a, z)
        return z.astype(concentration.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved_tensors
        return (grad * standard_gamma_grad(a, z)).astype(grad.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        a, z = ctx.saved_tensors                   # float64 intermediates: constants
        slope = standard_gamma_grad(a.array, z.array)   # dz/da, float64
        # dz/da depends on a, but its own derivative is not implemented: a node that raises
        slope = Tensor._make(slope, True, _NoGammaGradDerivative(_NO_DERIVATIVE, ctx.next_nodes, slope))
        return (grad.double() * slope).to(grad.dtype)


_NO_DERIVATIVE = ("the derivative for '_standard_gamma_grad' is not implemented (the second "
                  "derivative of a Gamma sample in its concentration, d^2 z / da^2; nor in PyTorch)")


class _NoGammaGradDerivative(_NotTwiceDifferentiable):
    """grad_fn of dz/da in a recorded gradient: raises NotImplementedError, as PyTorch."""

    def name(self):
        return "StandardGammaGradBackward"

    @staticmethod
    def backward(node, grad_output):
        raise NotImplementedError(node.why)

    backward_graph = backward


def standard_gamma(concentration):
    """A Gamma(concentration, 1) sample of concentration's shape, differentiable in concentration."""
    if not isinstance(concentration, Tensor):
        raise TypeError(f"standard_gamma expects a Tensor, got {type(concentration).__name__}")
    return StandardGamma.apply(concentration)
