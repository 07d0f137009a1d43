"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020)."""
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer, check_betas, check_non_negative


class RAdam(Optimizer):
    r"""RAdam (PyTorch's ``torch.optim.RAdam``, same update and defaults)::

        theta <- theta * (1 - lr * weight_decay)     if decoupled_weight_decay
        g <- g + weight_decay * theta                otherwise (L2)
        m <- beta1 * m + (1 - beta1) * g ;  v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)   (length of the approximated SMA)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            theta <- theta - lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)
        else:
            theta <- theta - lr * m_hat                 (SGD with momentum: v is too noisy)

    ``foreach`` has no effect (it picks PyTorch's kernels, not the math).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach,
                        decoupled_weight_decay=decoupled_weight_decay)
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
            lr, weight_decay = group["lr"], group["weight_decay"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                state = self.state.setdefault(param, {})
                step = state["step"] = state.get("step", 0) + 1
                exp_avg = self._buffer(param, "exp_avg")
                exp_avg_sq = self._buffer(param, "exp_avg_sq")
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        theta *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * theta
                exp_avg += (1 - beta1) * (grad - exp_avg)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (grad * grad)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
                if rho_t > 5.0:
                    rectification = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    adaptive_lr = math.sqrt(bias_correction2) / (np.sqrt(exp_avg_sq) + group["eps"])
                    theta -= bias_corrected_exp_avg * lr * adaptive_lr * rectification
                else:
                    theta -= bias_corrected_exp_avg * lr
        return loss
