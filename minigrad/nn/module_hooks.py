"""Module hooks that run in backward, and hooks that apply to every module.

``module.register_full_backward_hook(hook)``: ``hook(module, grad_input,
grad_output)`` runs once the gradients with respect to the module's
positional inputs are known, and may return replacements for grad_input.
``module.register_full_backward_pre_hook(hook)``: ``hook(module,
grad_output)`` runs when the gradients with respect to the module's outputs
arrive, and may return replacements for grad_output.

How (as in PyTorch's torch.utils.hooks.BackwardHook): ``Module.__call__``
passes the Tensors among the inputs through an identity Function,
``BackwardHookFunction``, before forward, and the Tensors among the outputs
through another one after it. The graph then reads

    inputs -> [identity A] -> forward's ops -> [identity B] -> outputs

B's backward sees grad_output first (pre-hooks run there); A's backward
runs once every gradient reaching the inputs has been summed (the full hooks
run there, with the grad_output B stored). Because the module's inputs and
outputs are outputs of these identities, changing them in place raises
(see ``check_inplace``), as in PyTorch.

The deprecated ``register_backward_hook`` instead hooks the graph node that
made the module's first output (``grad_fn.register_hook``), so its
grad_input are that last op's input gradients, as in PyTorch.

The ``register_module_*`` functions (PyTorch's torch.nn.modules.module
names) register hooks that every module runs before its own.
"""
import warnings
from collections import OrderedDict

from minigrad.autograd import Function, _OutputOf, is_grad_enabled
from minigrad.autograd_hooks import RemovableHandle
from minigrad.tensor import Tensor

# Hooks that every module runs (before its own), as in torch.nn.modules.module.
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = None
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()


def has_any_global_hook():
    return bool(_global_backward_pre_hooks or _global_backward_hooks or _global_forward_pre_hooks
                or _global_forward_hooks)


def register_module_forward_pre_hook(hook):
    """``hook(module, args) -> None or new args`` runs before every module's forward."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    with_kwargs) runs after every module's forward; may return a new output.
    always_call: it runs even when forward raises."""
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=[_global_forward_hooks_always_called, _global_forward_hooks_with_kwargs])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_backward_hook(hook):
    """Deprecated: the non-full backward hook (see Module.register_backward_hook) for every module."""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is True:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    _global_is_full_backward_hook = False
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_pre_hook(hook):
    """``hook(module, grad_output) -> None or new grad_output`` for every module (see module hooks)."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook):
    """``hook(module, grad_input, grad_output) -> None or new grad_input`` for every module."""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is False:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    _global_is_full_backward_hook = True
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


# ------------------------------------------------------------ the identities
class BackwardHookFunction(Function):
    """Identity on Tensors whose backward calls ``ctx.on_backward(gradients)``
    (set by BackwardHook) and returns what it gives back."""

    works_on_arrays = False  # a PyTorch-style Function: it returns its input Tensors as outputs

    @staticmethod
    def forward(ctx, *args):
        ctx.mark_non_differentiable(*[arg for arg in args if not arg.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *grads):
        return ctx.on_backward(grads)


def _identity_node(tensor):
    """The BackwardHookFunction node that produced `tensor` (None if another op did)."""
    node = tensor.grad_fn
    if type(node) is _OutputOf:
        node = node.node
    return node if isinstance(node, BackwardHookFunction) else None


def check_inplace(tensor):
    """Refuse an in-place change of a module's input or output seen by backward hooks."""
    node = tensor.grad_fn
    if node is None or not is_grad_enabled() or _identity_node(tensor) is None:
        return
    index = node.index if type(node) is _OutputOf else 0
    raise RuntimeError(
        f"Output {index} of BackwardHookFunction is a view and is being modified inplace. This view "
        f"was created inside a custom Function (or because an input was returned as-is) and the "
        f"autograd logic to handle view+inplace would override the custom backward associated with "
        f"the custom Function, leading to incorrect gradients. This behavior is forbidden. You can "
        f"fix this by cloning the output of the custom Function.")


class BackwardHook:
    """One call's backward hooks: links the gradients of the outputs (seen first)
    to those of the inputs, and calls the user's hooks (PyTorch's BackwardHook)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        packed = [None] * size
        for index, value in zip(indices, values):
            packed[index] = value
        return tuple(packed)

    def _apply_on_tensors(self, on_backward, args, materialize):
        """Pass the Tensors of `args` through a BackwardHookFunction whose backward
        calls on_backward; returns (new args, positions of the Tensors) or (args, None)."""
        positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[i] for i in positions]
        if not (any(t.requires_grad for t in tensors) and is_grad_enabled()):
            return args, None
        new_tensors = BackwardHookFunction.apply(*tensors)
        node = next(_identity_node(t) for t in new_tensors if _identity_node(t) is not None)
        node.on_backward = on_backward
        node.set_materialize_grads(materialize)
        arg_list = list(args)
        for index, value in zip(positions, new_tensors):
            arg_list[index] = value
        return tuple(arg_list), positions

    def setup_input_hook(self, args):
        def on_backward(grads):  # gradients with respect to the inputs (zeros where none arrived)
            if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs
                return grads
            grad_inputs = self._pack_with_none(self.input_tensors_index, grads, self.n_inputs)
            for hook in self.user_hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != len(grad_inputs):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                       f"got {len(result)}, but expected {len(grad_inputs)}")
                grad_inputs = result
            self.grad_outputs = None
            return tuple(grad_inputs[i] for i in self.input_tensors_index)

        args, self.input_tensors_index = self._apply_on_tensors(on_backward, args, True)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result):
        def on_backward(grads):  # gradients with respect to the outputs (None where none arrived)
            self.grad_outputs = self._pack_with_none(self.output_tensors_index, grads, self.n_outputs)
            expected = len(self.grad_outputs)
            for hook in self.user_pre_hooks:
                replacement = hook(self.module, self.grad_outputs)
                if replacement is None:
                    continue
                if len(replacement) != expected:
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, "
                                       f"got {len(replacement)}, but expected {expected}")
                self.grad_outputs = replacement
            grad_outputs = self.grad_outputs
            if self.input_tensors_index is None:  # no input requires grad: the full hooks run now
                warnings.warn("Full backward hook is firing when gradients are computed with respect to "
                              "module outputs since no inputs require gradients. See "
                              "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                              "#torch.nn.Module.register_full_backward_hook for more details.",
                              stacklevel=2)
                grad_inputs = (None,) * self.n_inputs
                for hook in self.user_hooks:
                    returned = hook(self.module, grad_inputs, self.grad_outputs)
                    if returned is not None and not (isinstance(returned, tuple)
                                                     and all(g is None for g in returned)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                           "should always return None or None for all gradients.")
                self.grad_outputs = None
            return tuple(grad_outputs[i] for i in self.output_tensors_index)

        is_tuple = isinstance(result, tuple)
        outputs = result if is_tuple else (result,)
        outputs, self.output_tensors_index = self._apply_on_tensors(on_backward, outputs, False)
        self.n_outputs = len(outputs)
        return outputs if is_tuple else outputs[0]


# ------------------------------------------------- the deprecated non-full hooks
def _setup_non_full_hooks(module, hooks, args, result):
    """Register each hook on the node that made the first Tensor of `result` (PyTorch's
    non-full backward hooks: grad_input are that node's input gradients)."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) else var[0]
    grad_fn = var.grad_fn
    if grad_fn is None:
        return
    for hook in hooks:
        grad_fn.register_hook(lambda grad_inputs, grad_outputs, hook=hook: hook(module, grad_inputs, grad_outputs))
    _maybe_warn_non_full_backward_hook(args, result, grad_fn)


def _maybe_warn_non_full_backward_hook(inputs, result, grad_fn):
    """PyTorch's FutureWarnings for the cases where a non-full hook misses gradients."""
    def warn(text):
        warnings.warn(text, FutureWarning, stacklevel=4)

    if not isinstance(result, Tensor):
        if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
            warn("Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of "
                 "Tensors is deprecated and will be removed in future versions. This hook will be missing some "
                 "of the grad_output. Please use register_full_backward_hook to get the documented behavior.")
            return
    else:
        result = (result,)
    if not isinstance(inputs, Tensor):
        if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
            warn("Using non-full backward hooks on a Module that does not take as input a single Tensor or a "
                 "tuple of Tensors is deprecated and will be removed in future versions. This hook will be "
                 "missing some of the grad_input. Please use register_full_backward_hook to get the documented "
                 "behavior.")
            return
    else:
        inputs = (inputs,)
    nodes = {_node_of(r) for r in result if r.grad_fn is not None}
    if len(nodes) == 0 or (len(nodes) == 1 and _node_of_fn(grad_fn) not in nodes):
        warn("Using a non-full backward hook when outputs are nested in python data structure is deprecated "
             "and will be removed in future versions. This hook will be missing some grad_output.")
    elif len(nodes) > 1:
        warn("Using a non-full backward hook when outputs are generated by different autograd Nodes is "
             "deprecated and will be removed in future versions. This hook will be missing some grad_output. "
             "Please use register_full_backward_hook to get the documented behavior.")
    else:
        inputs_nodes = {_node_of(i) for i in inputs if i.grad_fn is not None}
        next_nodes = {_node_of_fn(edge) if isinstance(edge, Function) else edge
                      for edge in grad_fn.__dict__.get("next_nodes", ())}
        # A leaf input (no grad_fn) is an AccumulateGrad in PyTorch's next_functions: never among inputs_nodes.
        if any(isinstance(edge, Tensor) for edge in next_nodes) or inputs_nodes != next_nodes:
            warn("Using a non-full backward hook when the forward contains multiple autograd Nodes is "
                 "deprecated and will be removed in future versions. This hook will be missing some "
                 "grad_input. Please use register_full_backward_hook to get the documented behavior.")


def _node_of_fn(node):
    return node.node if type(node) is _OutputOf else node


def _node_of(tensor):
    return _node_of_fn(tensor.grad_fn)


# ------------------------------------------------------------ Module.__call__
def _forward_hooks_in_order(module):
    return (list(_global_forward_hooks.items()) + list(module._forward_hooks.items()))


def _run_forward_hook(module, hook_id, hook, args, kwargs, result):
    if hook_id in module._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
        return hook(module, args, kwargs, result)
    return hook(module, args, result)


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` when some hook is registered (PyTorch's _call_impl)."""
    result = None
    called_always = set()
    try:
        backward_pre_hooks = list(_global_backward_pre_hooks.values()) + list(module._backward_pre_hooks.values())
        full_backward_hooks, non_full_backward_hooks = [], []
        if _global_is_full_backward_hook is True:
            full_backward_hooks += _global_backward_hooks.values()
        elif _global_is_full_backward_hook is False:
            non_full_backward_hooks += _global_backward_hooks.values()
        if module._is_full_backward_hook is True:
            full_backward_hooks += module._backward_hooks.values()
        elif module._is_full_backward_hook is False:
            non_full_backward_hooks += module._backward_hooks.values()

        for hook_id, hook in list(_global_forward_pre_hooks.items()) + list(module._forward_pre_hooks.items()):
            if hook_id in module._forward_pre_hooks_with_kwargs:
                returned = hook(module, args, kwargs)
                if returned is not None:
                    if isinstance(returned, tuple) and len(returned) == 2:
                        args, kwargs = returned
                    else:
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {returned}.")
            else:
                returned = hook(module, args)
                if returned is not None:
                    args = returned if isinstance(returned, tuple) else (returned,)

        backward_hook = None
        if full_backward_hooks or backward_pre_hooks:
            backward_hook = BackwardHook(module, full_backward_hooks, backward_pre_hooks)
            args = backward_hook.setup_input_hook(args)

        result = module.forward(*args, **kwargs)
        for hook_id, hook in _forward_hooks_in_order(module):
            if hook_id in module._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called:
                called_always.add(hook_id)
            returned = _run_forward_hook(module, hook_id, hook, args, kwargs, result)
            if returned is not None:
                result = returned

        if backward_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn(f"For backward hooks to be called, module output should be a Tensor or a "
                              f"tuple of Tensors but received {type(result)}", stacklevel=3)
            else:
                result = backward_hook.setup_output_hook(result)
        if non_full_backward_hooks:
            _setup_non_full_hooks(module, non_full_backward_hooks, args, result)
        return result
    except Exception:
        # always_call hooks that did not run yet run now; an error of theirs is only a warning.
        for hook_id, hook in _forward_hooks_in_order(module):
            always = hook_id in module._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called
            if not always or hook_id in called_always:
                continue
            try:
                returned = _run_forward_hook(module, hook_id, hook, args, kwargs, result)
                if returned is not None:
                    result = returned
            except Exception as error:
                scope = "global module" if hook_id in _global_forward_hooks else "module"
                warnings.warn(f"{scope} forward hook with ``always_call=True`` raised an exception that "
                              f"was silenced as another error was raised in forward: {error}", stacklevel=3)
        raise
