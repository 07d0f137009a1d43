"""The hook form of spectral normalisation (torch.nn.utils.spectral_norm; Miyato et al., 2018).

``spectral_norm(module)`` replaces the parameter ``weight`` by ``weight_orig``
and two buffers ``weight_u`` and ``weight_v``, and a forward pre-hook sets
``module.weight = weight_orig / sigma`` before every forward, sigma = u^T W v
the largest singular value estimated by power iteration (one step per
training forward by default). The state_dict keys are torch's:
``weight_orig``, ``weight_u``, ``weight_v``. The newer form is
``minigrad.nn.utils.parametrizations.spectral_norm``.
"""
import numpy as np

import minigrad.nn.functional as F
from minigrad.autograd import no_grad
from minigrad.nn.module import Parameter
from minigrad.random import generator
from minigrad.tensor import Tensor

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook: recomputes module.<name> = <name>_orig / sigma."""

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """weight as (size(dim), everything else)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                W = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    # v = normalize(W^T u), u = normalize(W v), in place in the buffers
                    np.copyto(v.array, F.normalize(W.mT.mv(u), dim=0, eps=self.eps).array)
                    np.copyto(u.array, F.normalize(W.mv(v), dim=0, eps=self.eps).array)
                u, v = u.clone(), v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach().array.copy()))

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name,
                           self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError("Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        from minigrad.nn.modules.lazy import is_lazy
        if is_lazy(weight):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "spectral normalization")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            dtype = weight.array.dtype
            u = F.normalize(Tensor(generator().normal(0.0, 1.0, size=h).astype(dtype)), dim=0,
                            eps=fn.eps)
            v = F.normalize(Tensor(generator().normal(0.0, 1.0, size=w).astype(dtype)), dim=0,
                            eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        object.__setattr__(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u.detach())
        module.register_buffer(fn.name + "_v", v.detach())
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise module.<name> with a forward pre-hook (see the module docstring).

    dim: the output dimension (default 0; 1 for ConvTranspose1d/2d/3d).
    """
    if dim is None:
        from minigrad.nn import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: <name> is a plain Parameter again, with the normalised value."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
