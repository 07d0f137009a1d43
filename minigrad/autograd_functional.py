"""Jacobians, Hessians and vector products of a whole function (torch.autograd.functional).

    jacobian(f, x)     J[i..., j...] = d f(x)[i...] / d x[j...]       shape f(x).shape + x.shape
    vjp(f, x, v)       (f(x), v^T J)                                 one backward pass
    jvp(f, x, v)       (f(x), J v)
    hessian(f, x)      H[i..., j...] = d^2 f / d x[i...] d x[j...]   shape x.shape + x.shape
    vhp(f, x, v)       (f(x), v^T H)                                 a backward of the gradient
    hvp(f, x, v)       (f(x), H v)                                   the double-backward trick

Everything runs on minigrad's reverse mode, as in torch/autograd/functional.py:
``func`` is called once on new tensors (``x.detach().requires_grad_()``, or
``x.view_as(x)`` with create_graph=True when x requires grad, so the results
stay connected to x), then ``autograd.grad`` is called with a one-hot
``grad_outputs`` per output element (a row of J) or with ``v``. The values
are exact, never finite differences. create_graph=True records those
backward passes (see "Gradients of gradients" in docs/01-autograd.md), so
the results can be differentiated again; hessian is the jacobian of a
jacobian computed with create_graph=True.

PyTorch computes ``jvp`` by the double-backward trick: with u a zero
cotangent that requires grad, g(u) = J^T u is linear in u, and the
gradient of <g(u), v> with respect to u is J v. minigrad does the same
with create_graph=True; without it, J v comes from the rows of J (one
backward pass per output element), which needs no op to be twice
differentiable. ``strategy="forward-mode"`` (forward-mode AD in PyTorch)
gives the same values computed from the rows of J.
"""
import numpy as np

from minigrad import autograd
from minigrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


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


def _grad_preprocess(inputs, create_graph, need_graph):
    """New Tensors for the inputs (so that func's own captures of them are told
    apart, PyTorch issue 32576): connected to the input (a view) when the
    caller wants gradients to flow back to it, else detached leaves."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(need_graph)
                 for x in inputs)


def _grad_postprocess(values, create_graph):
    """The results as returned: detached unless create_graph (nested tuples too)."""
    if isinstance(values[0], Tensor):
        return values if create_graph else tuple(x.detach() for x in values)
    return tuple(_grad_postprocess(x, create_graph) for x in values)


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


def _check_requires_grad(values, value_type, strict):
    """strict mode: raise when one of `values` is None or does not depend on the inputs."""
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:  # only for grad_inputs
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               f"This is not allowed in strict mode.")
        if value.requires_grad:
            continue
        if value_type == "hessian":
            raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is "
                               f"independent of the input. This is not allowed in strict mode. You should "
                               f"ensure that your function is thrice differentiable and that the hessian "
                               f"depends on the inputs.")
        if value_type == "jacobian":
            raise RuntimeError(f"While computing the hessian, found that the jacobian of the user-provided "
                               f"function with respect to input {i} is independent of the input. This is not "
                               f"allowed in strict mode. You should ensure that your function is twice "
                               f"differentiable and that the jacobian depends on the inputs (this would be "
                               f"violated by a linear function for example).")
        if value_type == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                               f"user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. "
                           f"The outputs must be computed in a differentiable manner from the input "
                           f"when running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input when
    none does); an input nothing depends on gets None."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                         create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. "
            "This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs "
                  "when using the double backward trick to compute forward mode gradients. This is not "
                  "allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the "
                         "double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """None gradients as zeros shaped like refs (strict: raise instead)."""
    import minigrad
    result = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = minigrad.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               f"This is not allowed in strict mode when create_graph=True.")
        result.append(g)
    return tuple(result)


def vector_jacobian(outputs, inputs, cotangents, create_graph=False, retain_graph=True):
    """sum_i cotangents[i]^T d outputs[i] / d inputs, one Tensor per input (None: unused).

    Outputs that don't require grad are skipped, as PyTorch's _autograd_grad does;
    the graph is kept by default, so this can run once per row of a Jacobian.
    create_graph=True: the products are in the graph (differentiable again)."""
    return list(_autograd_grad(tuple(outputs), tuple(inputs), tuple(cotangents), create_graph, retain_graph))


def one_hot(tensor, index):
    """A Tensor shaped like `tensor`, 1 at flat position `index`, 0 elsewhere."""
    basis = np.zeros(tensor.numel(), dtype=tensor.array.dtype)
    basis[index] = 1
    return Tensor._make(basis.reshape(tensor.array.shape), False, None)


def jacobian_rows(output, inputs, create_graph=False):
    """Row j of d output / d inputs for every flat output element j: a list (per
    element) of lists (per input) of Tensors or None (that input unused)."""
    return [vector_jacobian((output,), inputs, (one_hot(output, j),), create_graph)
            for j in range(output.numel())]


def jvp_by_double_vjp(outputs, inputs, tangents, create_graph):
    """J tangents for each output by the double-backward trick: with u zeros that
    require grad, g(u) = J^T u (recorded), and d <g(u), t> / du = J t.
    (the gradients of the inputs, the products: None where nothing connects)."""
    import minigrad
    cotangents = tuple(minigrad.zeros_like(o).requires_grad_(True) for o in outputs)
    with autograd.enable_grad():
        grad_inputs = _autograd_grad(outputs, inputs, cotangents, create_graph=True)
    with autograd.set_grad_enabled(True if create_graph else autograd.is_grad_enabled()):
        products = _autograd_grad(grad_inputs, cotangents, tangents, create_graph=create_graph)
    return grad_inputs, products


def _zeros(like):
    return Tensor._make(np.zeros_like(like.array), False, None)


# ---- the public functions

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass.

    v: one Tensor per output, shaped like it (None only for a single one-element output).
    create_graph: the output and the product are computed in a differentiable way.
    strict: an input the outputs don't depend on raises instead of getting zeros.
    """
    with autograd.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns "
                               "a single Tensor with a single element.")
    with autograd.set_grad_enabled(True if create_graph else autograd.is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        products = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    outputs, products = _grad_postprocess(outputs, create_graph), _grad_postprocess(products, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(products, is_inputs_tuple)


def _jvp_by_rows(outputs, inputs, v, strict):
    """J v from one row of J per output element (create_graph=False: no op needs
    to be twice differentiable), with PyTorch's strict checks."""
    rows_per_output = [jacobian_rows(output, inputs) if output.requires_grad else None for output in outputs]
    if strict:  # PyTorch's check: every input reaches some output
        for k in range(len(inputs)):
            if not any(row[k] is not None for rows in rows_per_output if rows for row in rows):
                raise RuntimeError(f"The output of the user-provided function is independent of input {k}. "
                                   f"This is not allowed in strict mode.")
    result = []
    for i, (output, rows) in enumerate(zip(outputs, rows_per_output)):
        if rows is None or all(g is None for row in rows for g in row):
            if strict:
                raise RuntimeError(_INDEPENDENT["back_trick"].format(i=i))
            result.append(_zeros(output))
            continue
        flat = np.zeros(output.numel(), dtype=output.array.dtype)  # (J v) flattened
        for j, row in enumerate(rows):
            flat[j] = sum(np.sum(g.array * v_k.array) for g, v_k in zip(row, v) if g is not None)
        result.append(Tensor._make(flat.reshape(output.array.shape), False, None))
    return tuple(result)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, (J v)[i] = sum_j J[i, j] v[j].

    create_graph=True: PyTorch's double-backward trick (two backward passes, both
    recorded), so the result is differentiable. create_graph=False: from one row
    of J per output element (the same values). v: one Tensor per input, shaped
    like it (None only for a single one-element input).
    """
    with autograd.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                               "is a single Tensor with a single element.")
        else:
            v = (Tensor._make(np.ones_like(inputs[0].array), False, None),)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
    if create_graph:
        grad_inputs, products = jvp_by_double_vjp(outputs, inputs, v, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
        with autograd.enable_grad():
            products = _fill_in_zeros(products, outputs, strict, create_graph, "back_trick")
    else:
        products = _jvp_by_rows(outputs, inputs, v, strict)
    outputs, products = _grad_postprocess(outputs, create_graph), _grad_postprocess(products, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(products, is_outputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: J[i][j] has shape outputs[i].shape + inputs[j].shape.

    A tuple of inputs or outputs gives a tuple level in the result (J[i][j]);
    a single Tensor removes that level, as in PyTorch. Row by row: one
    backward pass per output element, each with a one-hot grad_outputs
    (recorded with create_graph=True, so J can be differentiated: hessian).
    vectorize=True (PyTorch: one batched backward pass) and
    strategy="forward-mode" with vectorize=True (PyTorch: forward-mode AD)
    give the same values, computed by the same reverse-mode rows here.
    strict: an output that doesn't require grad, or an output element
    independent of an input, raises instead of giving zeros.
    """
    import minigrad
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
    with autograd.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                               "not supported together. Please either set `strict=False` or `vectorize=False`.")
        result = []
        for i, output in enumerate(outputs):
            if output.numel() == 0 and not vectorize:
                raise RuntimeError("stack expects a non-empty TensorList")  # PyTorch stacks no rows
            if output.requires_grad:
                rows = jacobian_rows(output, inputs, create_graph)
            else:
                rows = [[None] * len(inputs)] * output.numel()
            per_input = []
            for k, x in enumerate(inputs):
                stacked = []
                for row in rows:
                    if row[k] is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                               f"input {k}. This is not allowed in strict mode.")
                        stacked.append(_zeros(x))
                    else:
                        if strict and create_graph and not row[k].requires_grad:
                            raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                               f"of input {i}. This is not allowed in strict mode when "
                                               f"create_graph=True.")
                        stacked.append(row[k])
                shape = output.array.shape + x.array.shape
                if not stacked:  # an empty output (vectorize=True): no rows
                    per_input.append(Tensor._make(np.zeros(shape, x.array.dtype), False, None))
                elif create_graph:  # (output.numel(), *x.shape) -> (*output.shape, *x.shape)
                    per_input.append(minigrad.stack(stacked).reshape(shape))
                else:
                    per_input.append(Tensor._make(np.stack([g.array for g in stacked]).reshape(shape),
                                                  False, None))
            result.append(tuple(per_input))
        result = _grad_postprocess(tuple(result), create_graph)
    return _unpack(result, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: H[i][j] = d^2 func / d inputs[i] d inputs[j],
    shape inputs[i].shape + inputs[j].shape (one level of tuples per tuple of inputs).

    The jacobian of ``x -> jacobian(func, x, create_graph=True)``, as in PyTorch.
    outer_jacobian_strategy="forward-mode" (with vectorize=True) gives the same values.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a "
                               "single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(x.requires_grad_(True) for x in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack(result, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_gradient(func, inputs, v, create_graph, strict, api):
    """The start of vhp and hvp: (was-tuple flags, inputs, v, outputs, d func / d inputs recorded)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", api)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", api)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                           "is a single Tensor with a single element.")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", api)
    _check_requires_grad(outputs, "outputs", strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {api} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {api} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func: the backward of its (recorded)
    gradient g with v as grad_outputs, d <g, v> / d inputs.

    v: one Tensor per input, shaped like it (None only for a single one-element input).
    """
    with autograd.enable_grad():
        is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, "vhp")
    with autograd.set_grad_enabled(True if create_graph else autograd.is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        products = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    outputs, products = _grad_postprocess(outputs, create_graph), _grad_postprocess(products, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(products, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func, by PyTorch's double-backward trick on
    its gradient g: with u zeros that require grad, w(u) = H^T u (recorded) and
    d <w(u), v> / du = H v (equal to vhp for a twice continuously differentiable func).
    """
    import minigrad
    with autograd.enable_grad():
        is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(minigrad.zeros_like(x).requires_grad_(True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with autograd.set_grad_enabled(True if create_graph else autograd.is_grad_enabled()):
        grads = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        products = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    outputs, products = _grad_postprocess(outputs, create_graph), _grad_postprocess(products, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(products, is_inputs_tuple)
