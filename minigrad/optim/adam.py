"""Adam: adaptive moment estimation (Kingma & Ba, 2015), with L2 weight decay."""
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer, check_betas, check_non_negative


def adam_update(theta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps):
    """One Adam update of `theta` in place (shared by Adam and AdamW).

    exp_avg, exp_avg_sq (and max_exp_avg_sq for AMSGrad, else None) are the
    running moments, updated in place; `step` counts from 1.
    """
    # m <- beta1 * m + (1 - beta1) * g ;  v <- beta2 * v + (1 - beta2) * g^2
    np.multiply(exp_avg, beta1, out=exp_avg)
    exp_avg += (1 - beta1) * grad
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    exp_avg_sq += (1 - beta2) * np.square(grad)

    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    step_size = lr / bias_correction1
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    else:
        second_moment = exp_avg_sq
    # theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    denom = np.sqrt(second_moment)
    denom /= bias_correction2_sqrt
    denom += eps
    update = np.divide(exp_avg, denom, out=denom)
    update *= step_size
    theta -= update


class Adam(Optimizer):
    r"""Adam (PyTorch's ``torch.optim.Adam``, same update)::

        g <- g + weight_decay * theta             (L2: decay goes through the moments)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                     (amsgrad only; used instead of v)
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Because the L2 gradient is divided by ``sqrt(v)``, parameters with large
    gradients are decayed less: Adam with L2 is not weight decay. Use AdamW
    for decoupled weight decay.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        check_non_negative("epsilon value (eps)", group["eps"])
        check_betas(group["betas"])
        check_non_negative("weight_decay value", group["weight_decay"])

    def _decoupled_decay(self, theta, group):
        """Adam has none (AdamW overrides)."""

    def _coupled_weight_decay(self, group):
        return group["weight_decay"]

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            weight_decay = self._coupled_weight_decay(group)
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * theta
                state = self.state.setdefault(param, {})
                state["step"] = state.get("step", 0) + 1
                exp_avg = self._buffer(param, "exp_avg")
                exp_avg_sq = self._buffer(param, "exp_avg_sq")
                max_exp_avg_sq = self._buffer(param, "max_exp_avg_sq") if group["amsgrad"] else None
                self._decoupled_decay(theta, group)
                adam_update(theta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, state["step"],
                            group["lr"], beta1, beta2, group["eps"])
        return loss
