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


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  seed=0, **_torch_only_options):
    """Check second derivatives (PyTorch's ``torch.autograd.gradgradcheck``).

    The first-order gradients of ``sum(v * fn(*inputs))`` are computed with
    ``grad(create_graph=True)`` and must equal plain backward's; as a function
    of the inputs and of the weights v (random, or `grad_outputs`), they are
    then checked by ``gradcheck``: their backward (the double backward)
    against finite differences of the first-order gradients. Use float64.
    """
    from minigrad.autograd import grad  # noqa: PLC0415 (autograd imports this module)

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    with enable_grad():
        outputs = fn(*inputs)
    outputs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
    differentiable = [k for k, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor._make(rng.standard_normal(outputs[k].shape).astype(outputs[k].array.dtype),
                                     True, None) for k in differentiable]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        if len(grad_outputs) != len(differentiable):
            raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for "
                             f"{len(differentiable)} differentiable outputs")
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    count = len(inputs)

    def first_derivatives(*args):
        values, weights = args[:count], args[count:]
        with enable_grad():
            outs = fn(*values)
            outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
            grads = grad([outs[k] for k in differentiable], [values[i] for i in wrt], list(weights),
                         create_graph=True, allow_unused=True, materialize_grads=True)
        return grads

    # The recorded first derivatives (each op's backward_graph) must be the
    # array backward's: the finite differences below only differentiate them,
    # so a backward_graph that is wrong from the start would pass unseen.
    recorded = first_derivatives(*inputs, *grad_outputs)
    with enable_grad():
        outs = fn(*inputs)
        outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
        plain = grad([outs[k] for k in differentiable], [inputs[i] for i in wrt],
                     [Tensor._make(w.array, False, None) for w in grad_outputs],
                     allow_unused=True, materialize_grads=True)
    for i, a, b in zip(wrt, recorded, plain):
        # two analytical results: they agree to rounding (float64), far tighter than the differences
        tight = 1e-7 if a.array.dtype == np.float64 else 1e-4
        if not np.allclose(a.array, b.array, atol=tight * 1e-2, rtol=tight, equal_nan=True):
            worst = np.unravel_index(np.argmax(np.abs(a.array - b.array)), a.shape) if a.ndim else ()
            message = (f"gradgradcheck: the gradient of input {i} recorded with create_graph=True "
                       f"differs from backward's at index {tuple(int(w) for w in worst)}: "
                       f"{a.array[worst]:.6g} instead of {b.array[worst]:.6g}")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, seed=seed)
