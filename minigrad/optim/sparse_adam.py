"""SparseAdam: lazy Adam for sparse gradients (PyTorch's ``torch.optim.SparseAdam``)."""
from minigrad.optim.optimizer import Optimizer, check_betas


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value:
        raise ValueError(f"Invalid {name}: {value!r} (expected a number > 0)")


class SparseAdam(Optimizer):
    r"""SparseAdam (PyTorch's ``torch.optim.SparseAdam`` constructor, defaults and state dict).

    In PyTorch it updates only the moments and parameters at the indices a
    sparse gradient touches (``nn.Embedding(sparse=True)``)::

        m[i] <- beta1 * m[i] + (1 - beta1) * g[i] ;  v[i] <- beta2 * v[i] + (1 - beta2) * g[i]^2
        theta[i] <- theta[i] - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[i] / (sqrt(v[i]) + eps)

    minigrad has no sparse gradients: every ``p.grad`` is dense, and PyTorch
    refuses dense gradients, so ``step()`` raises the same RuntimeError
    ("SparseAdam does not support dense gradients, please consider Adam
    instead") whenever a parameter has a gradient. Use Adam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        _check_positive("learning rate", group["lr"])
        _check_positive("epsilon value", group["eps"])
        check_betas(group["betas"])

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
        return loss
