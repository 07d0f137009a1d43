"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992; Bottou's schedule)."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class ASGD(Optimizer):
    r"""Averaged SGD (PyTorch's ``torch.optim.ASGD``, same update and defaults)::

        g <- g + weight_decay * theta
        theta <- theta * (1 - lambd * eta_t) - eta_t * g
        ax <- theta                        if mu_t == 1
        ax <- ax + mu_t * (theta - ax)     otherwise         (the running average)
        eta_{t+1} = lr / (1 + lambd * lr * t)^alpha           (eta_1 = lr)
        mu_{t+1} = 1 / max(1, t - t0)                         (mu_1 = 1)

    The averaged parameters live in ``optimizer.state[p]['ax']``: the last
    iterate up to step ``t0 + 1``, then the mean of the iterates from step
    ``t0 + 2`` on. ``eta`` and ``mu`` are kept in the state as
    floats, ``step`` as an int. ``foreach`` has no effect (it picks PyTorch's
    kernels, not the math).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                state = self.state.setdefault(param, {})
                if "step" not in state:
                    state.update(step=0, eta=float(lr), mu=1.0)
                ax = self._buffer(param, "ax")
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * theta
                eta = state["eta"]
                theta *= 1 - lambd * eta   # decay term
                theta -= eta * grad
                if state["mu"] != 1:
                    ax += state["mu"] * (theta - ax)
                else:
                    np.copyto(ax, theta)
                step = state["step"]
                state["eta"] = lr / (1 + lambd * lr * step) ** alpha
                state["mu"] = 1 / max(1, step - t0)
        return loss
