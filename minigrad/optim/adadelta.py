"""Adadelta (Zeiler, 2012)."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class Adadelta(Optimizer):
    r"""Adadelta (PyTorch's ``torch.optim.Adadelta``, same update and defaults)::

        g <- g + weight_decay * theta
        v <- rho * v + (1 - rho) * g^2                    (square_avg)
        delta <- sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * delta^2                (acc_delta)
        theta <- theta - lr * delta

    The ratio of the two running averages gives each parameter its own step
    size in the units of the parameter, so lr=1.0 is the usual choice.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']} (expected 0 <= rho <= 1)")
        check_non_negative("epsilon value (eps)", group["eps"])
        check_non_negative("weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * theta
                state = self.state.setdefault(param, {})
                state["step"] = state.get("step", 0) + 1
                square_avg = self._buffer(param, "square_avg")
                acc_delta = self._buffer(param, "acc_delta")
                square_avg *= rho
                square_avg += (1 - rho) * np.square(grad)
                delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * np.square(delta)
                theta -= group["lr"] * delta
        return loss
