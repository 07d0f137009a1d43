"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's ``torch.optim.RMSprop``, same update)::

        g <- g + weight_decay * theta
        v <- alpha * v + (1 - alpha) * g^2
        if centered:  ga <- alpha * ga + (1 - alpha) * g ;  d <- sqrt(v - ga^2) + eps
        else:         d <- sqrt(v) + eps
        if momentum > 0:  b <- momentum * b + g / d ;  theta <- theta - lr * b
        else:             theta <- theta - lr * g / d
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        check_non_negative("epsilon value (eps)", group["eps"])
        check_non_negative("momentum value", group["momentum"])
        check_non_negative("weight_decay value", group["weight_decay"])
        check_non_negative("alpha value", group["alpha"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * theta
                state = self.state.setdefault(param, {})
                state["step"] = state.get("step", 0) + 1
                square_avg = self._buffer(param, "square_avg")
                np.multiply(square_avg, alpha, out=square_avg)
                square_avg += (1 - alpha) * np.square(grad)
                if group["centered"]:
                    grad_avg = self._buffer(param, "grad_avg")
                    np.multiply(grad_avg, alpha, out=grad_avg)
                    grad_avg += (1 - alpha) * grad
                    denom = square_avg - np.square(grad_avg)
                    np.sqrt(denom, out=denom)
                else:
                    denom = np.sqrt(square_avg)
                denom += eps
                if momentum > 0:
                    buffer = self._buffer(param, "momentum_buffer")
                    np.multiply(buffer, momentum, out=buffer)
                    buffer += grad / denom
                    theta -= lr * buffer
                else:
                    theta -= lr * (grad / denom)
        return loss
