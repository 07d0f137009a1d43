"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""
from minigrad.optim.adam import Adam


class AdamW(Adam):
    r"""Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``, same update)::

        theta <- theta * (1 - lr * weight_decay)   (weight decay, before the Adam step)
        m, v, theta <- the Adam update with the raw gradient g

    L2 regularisation vs weight decay: Adam(weight_decay=wd) adds ``wd * theta``
    to the gradient, so the decay is rescaled by ``1 / sqrt(v)`` like the rest
    of the gradient and parameters with large gradients barely shrink. AdamW
    shrinks every parameter by the same factor ``1 - lr * wd`` regardless of
    its gradient history. For plain SGD the two are the same thing; for Adam
    they are not (tests/test_optim.py shows the difference).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _coupled_weight_decay(self, group):
        return 0

    def _decoupled_decay(self, theta, group):
        if group["weight_decay"] != 0:
            theta *= 1 - group["lr"] * group["weight_decay"]
