"""Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's ``torch.optim.SGD``, same update).

    For each parameter :math:`\theta` with gradient :math:`g` at step :math:`t`::

        g <- g + weight_decay * theta             (L2 regularisation, coupled)
        if momentum != 0:
            b <- g                                 at the first step
            b <- momentum * b + (1 - dampening) * g  afterwards
            g <- g + momentum * b   if nesterov   else   g <- b
        theta <- theta - lr * g                    (+ lr * g if maximize)

    ``weight_decay`` here is exactly the gradient of an L2 term
    ``weight_decay / 2 * ||theta||^2`` added to the loss. For adaptive
    methods that is *not* the same as decoupled weight decay: see AdamW.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        check_non_negative("momentum value", group["momentum"])
        check_non_negative("dampening value", group["dampening"])
        check_non_negative("weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            maximize = group["maximize"]
            for param, theta, grad in self._params_with_grad(group):
                direction = -grad if maximize else grad
                if weight_decay != 0:
                    direction = direction + weight_decay * theta
                if momentum != 0:
                    state = self.state.setdefault(param, {})
                    if "momentum_buffer" not in state:
                        buffer = self._buffer(param, "momentum_buffer")
                        np.copyto(buffer, direction)
                    else:
                        buffer = state["momentum_buffer"].array
                        np.multiply(buffer, momentum, out=buffer)
                        if dampening:
                            buffer += (1 - dampening) * direction
                        else:
                            buffer += direction  # no temporary array in the common case
                    direction = direction + momentum * buffer if nesterov else buffer
                # theta <- theta - lr * direction, in place
                theta -= lr * direction
        return loss
