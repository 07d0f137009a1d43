"""gradcheck: backward's gradients against central finite differences
(PyTorch's ``torch.autograd.gradcheck``; minigrad.autograd re-exports it)."""
import warnings

import numpy as np

from minigrad.autograd import backward, enable_grad, no_grad
from minigrad.tensor import Tensor


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Compare backward's gradients of `fn` with central finite differences.

    For each output ``y`` of ``fn(*inputs)`` a random weighting ``v`` is drawn
    and the scalar ``sum(v * y)`` is differentiated both ways: analytically
    with one ``backward(gradient=v)``, numerically by nudging every element
    of every input that requires grad by +-eps. A wrong Jacobian J gives a
    wrong ``v @ J`` for almost every v, so one weighting catches it.

    Use float64 inputs: in float32 the rounding error of the differences is
    larger than the tolerances (a warning says so). Returns True, or raises
    GradcheckError (or returns False with ``raise_exception=False``).
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].array.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {inputs[i].array.dtype}, not float64; "
                          "finite differences will be inaccurate", stacklevel=2)

    # Fresh leaves so that the caller's .grad fields are left alone.
    leaves = [Tensor._make(x.array.copy(), x.requires_grad, None) if isinstance(x, Tensor) else x
              for x in inputs]
    rng = np.random.default_rng(seed)

    def outputs_of(args):
        out = fn(*args)
        return out if isinstance(out, (tuple, list)) else (out,)

    with enable_grad():
        all_outputs = outputs_of(leaves)
    # The differentiable outputs, by position (the same positions are re-read below).
    positions = [k for k, o in enumerate(all_outputs) if isinstance(o, Tensor) and o.requires_grad]
    weights = [rng.standard_normal(all_outputs[k].shape).astype(all_outputs[k].array.dtype)
               for k in positions]
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            leaf.grad = None
    for k, weight in zip(positions, weights):
        backward(all_outputs[k], weight, retain_graph=True)

    def weighted_sum(args):
        with no_grad():
            outs = outputs_of(args)
            return sum(float(np.sum(outs[k].array.astype(np.float64) * w))
                       for k, w in zip(positions, weights))

    ok = True
    for i in checked:
        leaf = leaves[i]
        analytical = (leaf.grad.array if leaf.grad is not None else np.zeros_like(leaf.array)).astype(np.float64)
        numerical = np.zeros(leaf.array.shape, dtype=np.float64)
        flat = leaf.array.reshape(-1)  # a view: nudging it nudges the input
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = weighted_sum(leaves)
            flat[k] = original - eps
            minus = weighted_sum(leaves)
            flat[k] = original
            numerical.reshape(-1)[k] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytical, numerical, atol=atol, rtol=rtol)
        if bad.any():
            ok = False
            where = np.unravel_index(np.argmax(np.abs(analytical - numerical) * bad), analytical.shape)
            message = (f"gradcheck: gradient of input {i} (shape {leaf.array.shape}) is wrong at "
                       f"{len(np.argwhere(bad))} of {bad.size} elements; "
                       f"worst at index {tuple(int(w) for w in where)}: "
                       f"analytical {analytical[where]:.6g}, numerical {numerical[where]:.6g}")
            if raise_exception:
                raise GradcheckError(message)
    return ok
