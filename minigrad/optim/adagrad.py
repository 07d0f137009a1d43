"""Adagrad (Duchi, Hazan & Singer, 2011)."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's ``torch.optim.Adagrad``, same update)::

        g <- g + weight_decay * theta
        clr <- lr / (1 + (t - 1) * lr_decay)
        s <- s + g^2                               (s starts at initial_accumulator_value)
        theta <- theta - clr * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        # Like PyTorch, the accumulator exists from the start (so it is in state_dict()).
        self._init_group_state(self.param_groups[-1])

    def _init_group_state(self, group):
        for param in group["params"]:
            state = self.state.setdefault(param, {})
            state.setdefault("step", 0)
            self._buffer(param, "sum", fill=group["initial_accumulator_value"])

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        check_non_negative("lr_decay value", group["lr_decay"])
        check_non_negative("weight_decay value", group["weight_decay"])
        check_non_negative("initial_accumulator_value", group["initial_accumulator_value"])
        check_non_negative("epsilon value (eps)", group["eps"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * theta
                state = self.state[param]
                state["step"] += 1
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                accumulator = self._buffer(param, "sum")
                accumulator += np.square(grad)
                denom = np.sqrt(accumulator)
                denom += group["eps"]
                theta -= clr * (grad / denom)
        return loss
