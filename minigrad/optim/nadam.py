"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with L2 or decoupled weight decay."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_betas, check_non_negative


class NAdam(Optimizer):
    r"""NAdam (PyTorch's ``torch.optim.NAdam``, same update and defaults)::

        theta <- theta * (1 - lr * weight_decay)     if decoupled_weight_decay
        g <- g + weight_decay * theta                otherwise (L2)
        mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2)      (momentum schedule)
        P_t = mu_1 * mu_2 * ... * mu_t                          (mu_product)
        m <- beta1 * m + (1 - beta1) * g ;  v <- beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        theta <- theta - lr * (1 - mu_t) / (1 - P_t) * g / d
                       - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    The second term looks one step ahead (Nesterov): it uses next step's
    momentum coefficient. ``decoupled_weight_decay=True`` is NAdamW.
    ``foreach`` has no effect (it picks PyTorch's kernels, not the math).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("epsilon value", group["eps"])
        check_betas(group["betas"])
        check_non_negative("weight_decay value", group["weight_decay"])
        check_non_negative("momentum_decay value", group["momentum_decay"])

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
                state.setdefault("mu_product", 1.0)
                exp_avg = self._buffer(param, "exp_avg")
                exp_avg_sq = self._buffer(param, "exp_avg_sq")
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        theta *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * theta

                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
                state["mu_product"] *= mu
                mu_product = state["mu_product"]

                exp_avg += (1 - beta1) * (grad - exp_avg)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (grad * grad)
                # d = sqrt(v / (1 - beta2^t)) + eps
                denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + group["eps"]
                theta -= lr * (1.0 - mu) / (1.0 - mu_product) * (grad / denom)
                theta -= lr * mu_next / (1.0 - mu_product * mu_next) * (exp_avg / denom)
        return loss

