"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993), the Rprop- variant."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class Rprop(Optimizer):
    r"""Rprop (PyTorch's ``torch.optim.Rprop``, same update and defaults)::

        s = sign(g * g_prev)
        eta_t = eta_plus where s > 0, eta_minus where s < 0, 1 where s == 0
        step_size <- clip(step_size * eta_t, step_size_min, step_size_max)   (starts at lr)
        g <- 0 where s < 0                  (a sign change: skip this step, forget g)
        theta <- theta - sign(g) * step_size
        g_prev <- g

    Only the sign of the gradient is used; each element has its own step
    size, grown by ``etas[1]`` while the sign stays and shrunk by ``etas[0]``
    when it flips. ``foreach`` has no effect (it picks PyTorch's kernels).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, foreach=None,
                 maximize=False):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate", group["lr"])
        etas = group["etas"]
        if not isinstance(etas, (tuple, list)) or len(etas) != 2:
            raise ValueError(f"Invalid etas: {etas!r} (expected a pair (etaminus, etaplus))")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} "
                             f"(expected 0 < etaminus < 1 < etaplus)")
        step_sizes = group["step_sizes"]
        if not isinstance(step_sizes, (tuple, list)) or len(step_sizes) != 2:
            raise ValueError(f"Invalid step_sizes: {step_sizes!r} "
                             f"(expected a pair (step_size_min, step_size_max))")

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                state = self.state.setdefault(param, {})
                state["step"] = state.get("step", 0) + 1
                prev = self._buffer(param, "prev")
                step_size = self._buffer(param, "step_size", fill=group["lr"])

                sign = np.sign(grad * prev)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                # where the sign flipped the last step overshot: skip this one, forget g
                grad = np.where(sign < 0, np.zeros_like(grad), grad)
                theta -= np.sign(grad) * step_size
                np.copyto(prev, grad)
        return loss
