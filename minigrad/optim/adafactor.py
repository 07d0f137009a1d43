"""Adafactor: Adam-like steps with a factored second moment (Shazeer & Stern, 2018)."""
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


def _number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


class Adafactor(Optimizer):
    r"""Adafactor (PyTorch's ``torch.optim.Adafactor``, same update and defaults).

    At step t, with eps = (eps1, eps2) (eps1=None means the dtype's machine epsilon)::

        beta2_hat = 1 - t^beta2_decay                 (the weight of the new g^2)
        rho_t = min(lr, 1 / sqrt(t))
        alpha_t = max(eps2, RMS(theta)) * rho_t       (RMS(x) = ||x||_2 / sqrt(numel))
        theta <- theta * (1 - lr * weight_decay)      (decoupled weight decay)
        for a >= 2-d parameter of shape (..., R, C), factored over the last two dims:
            r <- r + beta2_hat * (mean(g^2, dim=-1) - r)   (row_var, shape (..., R, 1))
            c <- c + beta2_hat * (mean(g^2, dim=-2) - c)   (col_var, shape (..., 1, C))
            v = r @ c / max(mean(r, dim=-2), eps1)         (rank-1 estimate, (..., R, C))
        for a 0-d or 1-d parameter:
            v <- v + beta2_hat * (g^2 - v)                 (variance, like g)
        u = g / sqrt(max(v, eps1^2))
        theta <- theta - alpha_t / max(1, RMS(u) / d) * u

    The factored state costs R + C numbers per matrix instead of R * C; there
    is no first moment. ``alpha_t`` uses theta *before* the weight decay.
    ``foreach`` has no effect (it picks PyTorch's kernels, not the math).
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        lr, beta2_decay, eps = group["lr"], group["beta2_decay"], group["eps"]
        if not _number(lr) or not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not _number(beta2_decay) or not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"eps should be a pair (eps1 or None, eps2) but is: {eps!r}")
        if eps[0] is not None and (not _number(eps[0]) or not 0.0 <= eps[0]):
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not _number(eps[1]) or not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not _number(group["d"]) or not 1.0 <= group["d"]:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {group['d']}")
        if not _number(group["weight_decay"]) or not 0.0 <= group["weight_decay"]:
            raise ValueError(f"weight_decay should be >= 0 but is: {group['weight_decay']}")

    def _init_state(self, param, grad):
        state = self.state.setdefault(param, {})
        if "step" in state:
            return state
        state["step"] = 0
        if grad.ndim > 1:
            row_shape = grad.shape[:-1] + (1,)                   # (..., R, 1)
            col_shape = grad.shape[:-2] + (1, grad.shape[-1])    # (..., 1, C)
            state["row_var"] = Tensor._make(np.zeros(row_shape, grad.dtype), False, None)
            state["col_var"] = Tensor._make(np.zeros(col_shape, grad.dtype), False, None)
        else:
            self._buffer(param, "variance")
        return state

    @staticmethod
    def _cast_buffer(param, name, value):
        """Copy a saved buffer; the factored row_var / col_var have their own shapes."""
        if name not in ("row_var", "col_var") or not isinstance(value, (Tensor, np.ndarray)):
            return Optimizer._cast_buffer(param, name, value)
        array = value.array if isinstance(value, Tensor) else value
        shape = param.array.shape
        expected = shape[:-1] + (1,) if name == "row_var" else shape[:-2] + (1, shape[-1])
        if array.shape != expected:
            raise ValueError(f"loaded buffer {name!r} has shape {array.shape}, expected "
                             f"{expected} for a parameter of shape {shape}")
        return Tensor._make(array.astype(param.array.dtype, copy=True), False, None)

    @staticmethod
    def _rms(array):
        return math.sqrt(float(np.sum(np.square(array, dtype=np.float64)))) / math.sqrt(array.size)

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            eps2 = group["eps"][1]
            lr, weight_decay = group["lr"], group["weight_decay"]
            for param, theta, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                state = self._init_state(param, grad)
                eps1 = group["eps"][0]
                if eps1 is None:
                    eps1 = float(np.finfo(theta.dtype).eps)
                step = state["step"] = state["step"] + 1

                one_minus_beta2 = step ** group["beta2_decay"]
                rho = min(lr, 1 / step ** 0.5)
                alpha = max(eps2, self._rms(theta)) * rho
                if weight_decay != 0:
                    theta *= 1 - lr * weight_decay

                if grad.ndim > 1:
                    row_var, col_var = state["row_var"].array, state["col_var"].array
                    row_var += one_minus_beta2 * (np.mean(grad * grad, axis=-1, keepdims=True)
                                                  - row_var)
                    col_var += one_minus_beta2 * (np.mean(grad * grad, axis=-2, keepdims=True)
                                                  - col_var)
                    var_estimate = row_var @ col_var       # (..., R, 1) @ (..., 1, C)
                    var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
                else:
                    variance = state["variance"].array
                    variance += one_minus_beta2 * (grad * grad - variance)
                    var_estimate = variance.copy()

                # eps1 is squared because of the square root that follows
                np.maximum(var_estimate, eps1 * eps1, out=var_estimate)
                update = grad / np.sqrt(var_estimate)
                denom = max(1.0, self._rms(update) / group["d"])
                theta -= (alpha / denom) * update
        return loss
