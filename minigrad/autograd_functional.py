"""Jacobians and vector products of a whole function (torch.autograd.functional).

    jacobian(f, x)     J[i..., j...] = d f(x)[i...] / d x[j...]       shape f(x).shape + x.shape
    vjp(f, x, v)       (f(x), v^T J)                                 one backward pass
    jvp(f, x, v)       (f(x), J v)                                   one backward pass per output element

Everything runs on minigrad's reverse mode: ``func`` is called once on fresh
leaves (``x.detach().requires_grad_()``), then ``autograd.grad`` is called
with a one-hot ``grad_outputs`` per output element (a row of J) or with
``v`` (a vector-Jacobian product). The values are exact, never finite
differences. PyTorch computes ``jvp`` by the double-backward trick and
``strategy="forward-mode"`` by forward-mode AD; minigrad has neither, so
both give the same values computed from the rows of J.

minigrad's backward records no graph (no double backward), so
``create_graph=True`` and the second-derivative functions ``hessian``,
``hvp`` and ``vhp`` raise a RuntimeError instead of approximating.
"""
import threading

import numpy as np

from minigrad import autograd
from minigrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- nesting: a differentiating transform inside another needs double backward

class _Depth(threading.local):
    value = 0


_depth = _Depth()

NO_DOUBLE_BACKWARD = ("minigrad has no double backward: its backward pass records no graph "
                      "(autograd.grad(create_graph=True) is not supported), so gradients of "
                      "gradients")


class differentiating:
    """``with differentiating("grad"):`` around the call of a user function by a
    transform that differentiates it; a second one inside raises, since the
    outer transform would need the gradient of a gradient."""

    def __init__(self, api):
        self.api = api

    def __enter__(self):
        if _depth.value > 0:
            raise RuntimeError(f"{self.api}: called inside another differentiating transform "
                               f"(torch.func.grad/vjp/jacrev/jacfwd or torch.autograd.functional). "
                               f"{NO_DOUBLE_BACKWARD} (grad(grad(f)), hessians) are not available")
        _depth.value += 1
        return self

    def __exit__(self, *exc_info):
        _depth.value -= 1
        return False


def _no_create_graph(api):
    raise RuntimeError(f"{api}(create_graph=True): {NO_DOUBLE_BACKWARD} cannot be taken; "
                       f"use create_graph=False")


# ---- argument handling, as torch/autograd/functional.py does it

def _as_tuple(value, arg_name, fn_name):
    """(was it a tuple, the tuple of Tensors); TypeError for anything else."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the {where} has type {type(element)}.")
    return is_tuple, values


def _unpack(result, to_unpack):
    """Undo _as_tuple on a result (one flag), or on a nested result (two flags)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            result = tuple(row[0] for row in result)
        if not to_unpack[0]:
            result = result[0]
    elif not to_unpack:
        result = result[0]
    return result


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (v_element, other_element) in enumerate(zip(v, other)):
        if v_element.shape != other_element.shape:
            prefix = f"Entry {index} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {other_element.shape} "
                               f"but got {v_element.shape}.")


def _check_outputs_require_grad(outputs, strict):
    if strict:
        for i, output in enumerate(outputs):
            if not output.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. "
                                   f"The outputs must be computed in a differentiable manner from the "
                                   f"input when running in strict mode.")


def _fresh_leaves(inputs):
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def _call(func, inputs, api):
    """func(*inputs) on fresh leaves, recording the graph: (leaves, was-tuple, outputs)."""
    leaves = _fresh_leaves(inputs)
    with autograd.enable_grad(), differentiating(api):
        outputs = func(*leaves)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", api)
    return leaves, is_outputs_tuple, outputs


def vector_jacobian(outputs, inputs, cotangents):
    """sum_i cotangents[i]^T d outputs[i] / d inputs as arrays, one per input (None: unused).

    Outputs that don't require grad are skipped, as PyTorch's _autograd_grad does;
    the graph is kept, so this can run once per row of a Jacobian."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    grads = autograd.grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                          retain_graph=True, allow_unused=True)
    return [None if g is None else g.array for g in grads]


def one_hot(tensor, index):
    """A Tensor shaped like `tensor`, 1 at flat position `index`, 0 elsewhere."""
    basis = np.zeros(tensor.numel(), dtype=tensor.array.dtype)
    basis[index] = 1
    return Tensor._make(basis.reshape(tensor.array.shape), False, None)


def jacobian_rows(output, inputs):
    """Row j of d output / d inputs for every flat output element j: a list (per
    element) of lists (per input) of arrays or None (that input unused)."""
    return [vector_jacobian((output,), inputs, (one_hot(output, j),)) for j in range(output.numel())]


def _tensor(array):
    return Tensor._make(np.array(array, copy=True), False, None)  # keeps 0-d arrays 0-d


# ---- the public functions

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass.

    v: one Tensor per output, shaped like it (None only for a single one-element output).
    strict: an input the outputs don't depend on raises instead of getting zeros.
    """
    if create_graph:
        _no_create_graph("vjp")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    leaves, is_outputs_tuple, outputs = _call(func, inputs, "vjp")
    _check_outputs_require_grad(outputs, strict)
    if v is not None:
        _, v = _as_tuple(v, "v", "vjp")
        v = tuple(x.detach() for x in v)
        _validate_v(v, outputs, is_outputs_tuple)
    else:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns "
                               "a single Tensor with a single element.")
        v = (None,)
    grads = vector_jacobian(outputs, leaves, v)
    result = []
    for i, (g, leaf) in enumerate(zip(grads, leaves)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                                   f"This is not allowed in strict mode.")
            g = np.zeros_like(leaf.array)
        result.append(_tensor(g))
    outputs = tuple(o.detach() for o in outputs)
    return _unpack(outputs, is_outputs_tuple), _unpack(tuple(result), is_inputs_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product.

    (J v)[i] = sum_j J[i, j] v[j], from one row of J (one backward pass) per
    output element: exact, where PyTorch uses the double-backward trick.
    v: one Tensor per input, shaped like it (None only for a single one-element input).
    """
    if create_graph:
        _no_create_graph("jvp")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    if v is not None:
        _, v = _as_tuple(v, "v", "jvp")
        v = tuple(x.detach() for x in v)
        _validate_v(v, inputs, is_inputs_tuple)
    else:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                               "is a single Tensor with a single element.")
        v = (_tensor(np.ones_like(inputs[0].array)),)
    leaves, is_outputs_tuple, outputs = _call(func, inputs, "jvp")
    _check_outputs_require_grad(outputs, strict)
    rows_per_output = [jacobian_rows(output, leaves) if output.requires_grad else None for output in outputs]
    if strict:  # PyTorch's check: every input reaches some output
        for k in range(len(leaves)):
            if not any(row[k] is not None for rows in rows_per_output if rows for row in rows):
                raise RuntimeError(f"The output of the user-provided function is independent of input {k}. "
                                   f"This is not allowed in strict mode.")
    result = []
    for i, (output, rows) in enumerate(zip(outputs, rows_per_output)):
        if rows is None or all(g is None for row in rows for g in row):
            if strict:
                raise RuntimeError(f"The gradient with respect to the input is independent of entry {i} in "
                                   f"the grad_outputs when using the double backward trick to compute forward "
                                   f"mode gradients. This is not allowed in strict mode.")
            result.append(_tensor(np.zeros_like(output.array)))
            continue
        flat = np.zeros(output.numel(), dtype=output.array.dtype)  # (J v) flattened
        for j, row in enumerate(rows):
            flat[j] = sum(np.sum(g * v_k.array) for g, v_k in zip(row, v) if g is not None)
        result.append(_tensor(flat.reshape(output.array.shape)))
    outputs = tuple(o.detach() for o in outputs)
    return _unpack(outputs, is_outputs_tuple), _unpack(tuple(result), is_outputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: J[i][j] has shape outputs[i].shape + inputs[j].shape.

    A tuple of inputs or outputs gives a tuple level in the result (J[i][j]);
    a single Tensor removes that level, as in PyTorch. Row by row: one
    backward pass per output element, each with a one-hot grad_outputs.
    vectorize=True (PyTorch: one batched backward pass) and
    strategy="forward-mode" with vectorize=True (PyTorch: forward-mode AD)
    give the same values, computed by the same reverse-mode rows here.
    strict: an output that doesn't require grad, or an output element
    independent of an input, raises instead of giving zeros.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please '
                                      'either set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`strategy="forward-mode"` are not supported together (yet). Please either '
                               'set `strict=False` or `strategy="reverse-mode"`.')
        _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    if create_graph:
        _no_create_graph("jacobian")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    leaves, is_outputs_tuple, outputs = _call(func, inputs, "jacobian")
    _check_outputs_require_grad(outputs, strict)
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                           "not supported together. Please either set `strict=False` or `vectorize=False`.")
    result = []
    for i, output in enumerate(outputs):
        if output.numel() == 0 and not vectorize:
            raise RuntimeError("stack expects a non-empty TensorList")  # PyTorch stacks no rows
        rows = jacobian_rows(output, leaves) if output.requires_grad else [[None] * len(leaves)] * output.numel()
        per_input = []
        for k, leaf in enumerate(leaves):
            stacked = []
            for row in rows:
                if row[k] is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                           f"input {k}. This is not allowed in strict mode.")
                    stacked.append(np.zeros_like(leaf.array))
                else:
                    stacked.append(row[k])
            # (output.numel(), *leaf.shape) -> (*output.shape, *leaf.shape)
            block = np.stack(stacked) if stacked else np.zeros((0,) + leaf.array.shape, leaf.array.dtype)
            per_input.append(_tensor(block.reshape(output.array.shape + leaf.array.shape)))
        result.append(tuple(per_input))
    return _unpack(tuple(result), (is_outputs_tuple, is_inputs_tuple))


def _second_order(api):
    raise RuntimeError(f"{api}: {NO_DOUBLE_BACKWARD} (second derivatives) cannot be computed. "
                       f"minigrad does not approximate them; use jacobian() of a function that "
                       f"returns a closed-form gradient, or torch for {api}.")


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """PyTorch's Hessian needs double backward, which minigrad lacks: raises RuntimeError."""
    _second_order("hessian")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """PyTorch's vector-Hessian product needs double backward, which minigrad lacks: raises RuntimeError."""
    _second_order("vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """PyTorch's Hessian-vector product needs double backward, which minigrad lacks: raises RuntimeError."""
    _second_order("hvp")
