"""Readable NumPy references of the published optimizer update rules.

Each ``*_reference(theta, grad, state, **hyper)`` returns the new parameter
and updates ``state`` (a plain dict). They follow the papers / PyTorch's
documented pseudo-code, written independently of minigrad.optim.
"""
import numpy as np


def sgd_reference(theta, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False, maximize=False):
    g = -grad if maximize else grad
    g = g + weight_decay * theta
    if momentum:
        if "b" not in state:
            state["b"] = g.copy()
        else:
            state["b"] = momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return theta - lr * g


def adam_reference(theta, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, decoupled=False):
    """Adam (Kingma & Ba, Algorithm 1) with L2, or AdamW (Loshchilov & Hutter) if decoupled."""
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    m, v = state.get("m", np.zeros_like(theta)), state.get("v", np.zeros_like(theta))
    if decoupled:
        theta = theta * (1 - lr * weight_decay)
        g = grad
    else:
        g = grad + weight_decay * theta
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    if amsgrad:
        v = state["vmax"] = np.maximum(state.get("vmax", np.zeros_like(theta)), v)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def rmsprop_reference(theta, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                      momentum=0.0, centered=False):
    g = grad + weight_decay * theta
    v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
    if centered:
        mean = state["mean"] = alpha * state.get("mean", 0.0) + (1 - alpha) * g
        denom = np.sqrt(v - mean * mean) + eps
    else:
        denom = np.sqrt(v) + eps
    if momentum:
        b = state["b"] = momentum * state.get("b", 0.0) + g / denom
        return theta - lr * b
    return theta - lr * g / denom


def adagrad_reference(theta, grad, state, lr, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10):
    t = state["t"] = state.get("t", 0) + 1
    g = grad + weight_decay * theta
    s = state["s"] = state.get("s", initial_accumulator_value) + g * g
    return theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
