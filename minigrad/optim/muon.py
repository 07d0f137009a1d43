"""Muon: momentum orthogonalised by a Newton-Schulz iteration (Jordan et al., 2024)."""
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer

# Keller Jordan's constants (kellerjordan.github.io/posts/muon), PyTorch's defaults.
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    r"""An approximately orthogonal matrix with the singular vectors of `grad` (a 2-d array).

    With X = G / max(||G||_F, eps) (so every singular value is <= 1), transposed
    first when G is tall so that the Gram matrix X X^T is the smaller one::

        repeat ns_steps times:
            A = X X^T
            X <- a X + (b A + c A A) X

    Each step maps every singular value s of X to p(s) = a s + b s^3 + c s^5 and
    keeps the singular vectors; PyTorch's (a, b, c) make p steep near 0, so
    after 5 steps the singular values lie roughly in (0.7, 1.2): U S' V^T
    instead of the exact U V^T, which works as well for training.
    """
    if ns_steps >= 100:
        raise ValueError(f"Number of steps must be less than 100 for computational efficiency, "
                         f"got ns_steps={ns_steps}")
    if grad.ndim != 2:
        raise ValueError(f"Input tensor gradient must be a 2D matrix, got shape {list(grad.shape)}")
    if len(ns_coefficients) != 3:
        raise ValueError(f"Coefficients must be a tuple of exactly 3 values, got {ns_coefficients!r}")
    a, b, c = ns_coefficients
    tall = grad.shape[0] > grad.shape[1]
    x = grad.T if tall else grad                          # (m, n) with m <= n
    x = x / max(float(np.linalg.norm(x)), eps)            # Frobenius norm >= spectral norm
    for _ in range(ns_steps):
        gram = x @ x.T                                    # (m, m)
        x = a * x + (b * gram + c * (gram @ gram)) @ x    # (m, m) @ (m, n)
    return x.T if tall else x


def adjust_lr(lr, adjust_lr_fn, shape):
    """lr times sqrt(max(1, A/B)) ("original", the default) or 0.2 sqrt(max(A, B))
    ("match_rms_adamw", Moonshot's: the update's RMS matches AdamW's), for an (A, B) parameter."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1.0, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    r"""Muon (PyTorch's ``torch.optim.Muon``, same update and defaults), for 2-d parameters::

        B <- momentum * B + (1 - momentum) * g           (momentum_buffer, an average)
        U = (1 - momentum) * g + momentum * B  if nesterov else B
        O = NS_{ns_steps}^{(a, b, c)}(U; eps)            (zeropower_via_newtonschulz)
        theta <- theta * (1 - lr * weight_decay)         (decoupled weight decay)
        theta <- theta - adjust_lr(lr, adjust_lr_fn, theta.shape) * O

    Biases, embeddings and other non-2-d parameters belong to another optimizer
    (AdamW, say): Muon raises ValueError for them.

    Differs from PyTorch on purpose: PyTorch runs the Newton-Schulz iteration in
    bfloat16 (for GPU speed); minigrad has no bfloat16 and runs it in the
    parameter's dtype, so results agree with PyTorch's to bfloat16 precision
    (about 1e-2 relative), not bit for bit.
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                if param.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter "
                                     f"with size: {param.size()}")

    def _validate(self, group):
        if not _number(group["lr"]) or not 0.0 <= group["lr"]:
            raise ValueError(f"Learning rate should be >= 0 but is: {group['lr']}")
        if not _number(group["momentum"]) or not 0.0 <= group["momentum"]:
            raise ValueError(f"momentum should be >= 0 but is: {group['momentum']}")
        if not _number(group["weight_decay"]) or not 0.0 <= group["weight_decay"]:
            raise ValueError(f"weight decay should be >= 0 but is: {group['weight_decay']}")
        if group["adjust_lr_fn"] is not None and group["adjust_lr_fn"] not in ("original",
                                                                               "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {group['adjust_lr_fn']} is not supported "
                             f"(expected None, 'original' or 'match_rms_adamw')")

    def step(self, closure=None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for param, theta, grad in self._params_with_grad(group):
                if grad.ndim != 2:
                    raise ValueError(f"Param gradient must be a 2D matrix, got shape {list(grad.shape)}")
                buf = self._buffer(param, "momentum_buffer")
                buf += (1 - momentum) * (grad - buf)              # lerp(buf, g, 1 - momentum)
                update = grad + momentum * (buf - grad) if group["nesterov"] else buf
                update = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                                    group["ns_steps"], group["eps"])
                theta *= 1 - lr * group["weight_decay"]
                theta -= adjust_lr(lr, group["adjust_lr_fn"], theta.shape) * update
        return loss
