"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2015, sec. 7)."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_betas, check_non_negative


class Adamax(Optimizer):
    r"""Adamax (PyTorch's ``torch.optim.Adamax``, same update and defaults)::

        g <- g + weight_decay * theta                (L2, coupled)
        m <- beta1 * m + (1 - beta1) * g             (exp_avg)
        u <- max(beta2 * u, |g| + eps)               (exp_inf)
        theta <- theta - lr / (1 - beta1^t) * m / u

    The running maximum ``u`` needs no bias correction: it is not an average.
    ``foreach`` selects PyTorch's kernels, not the math; it is kept for
    signature compatibility and has no effect here.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("epsilon value", group["eps"])
        check_betas(group["betas"])
        check_non_negative("weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * theta
                state = self.state.setdefault(param, {})
                state["step"] = state.get("step", 0) + 1
                exp_avg = self._buffer(param, "exp_avg")
                exp_inf = self._buffer(param, "exp_inf")
                exp_avg += (1 - beta1) * (grad - exp_avg)
                exp_inf *= beta2
                np.maximum(exp_inf, np.abs(grad) + group["eps"], out=exp_inf)
                clr = group["lr"] / (1 - beta1 ** state["step"])
                theta -= clr * (exp_avg / exp_inf)
        return loss
