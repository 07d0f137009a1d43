"""Tensor hooks and anomaly mode: what the backward walk (minigrad/autograd.py)
does besides running each node's backward.

- ``t.register_hook(hook)``: ``hook(grad)`` sees the gradient of ``t`` (the
  sum over all of its uses) before it flows on, and may return a
  replacement. A non-leaf's hooks live on its graph node (``t.grad_fn``), as
  in PyTorch, so they run even after ``t`` itself is gone; a leaf's live here,
  keyed by the leaf, and run once every gradient reaching it has been summed,
  before it is accumulated into ``.grad``.
- ``t.retain_grad()``: a non-leaf keeps its gradient in ``.grad`` (after its
  hooks, as in PyTorch 2).
- ``t.register_post_accumulate_grad_hook(hook)`` (leaves): ``hook(t)`` runs
  after ``t.grad`` has been updated (in backward only: autograd.grad
  accumulates nothing).
- Anomaly mode (``minigrad.autograd.detect_anomaly()``): every gradient a
  backward returns is checked for NaN.

When no hook is registered anywhere, the walk does none of this: it tests
two containers once per walk (see ``any_hooks``).
"""
import itertools
import warnings
import weakref

import numpy as np

# A leaf's hooks, by id(leaf); an entry disappears with its leaf.
leaf_states = {}
# Graph nodes that carry a non-leaf's hooks (node.__dict__["_tensor_hooks"]).
hooked_nodes = weakref.WeakSet()


def any_hooks():
    """Whether any tensor has a hook: if not, backward takes the plain walk."""
    return bool(leaf_states) or len(hooked_nodes) > 0


class RemovableHandle:
    """What register_hook returns: ``handle.remove()`` unregisters the hook
    (PyTorch's ``torch.utils.hooks.RemovableHandle``; also a context manager)."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._next_id)
        # Further dicts (one, or a list) whose entry under the same id goes too (PyTorch's extra_dict).
        self.extra_dicts = [extra_dict] if isinstance(extra_dict, dict) else list(extra_dict or ())

    def remove(self):
        self.hooks_dict.pop(self.id, None)
        for extra in self.extra_dicts:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class HookState:
    """One tensor's hooks: gradient hooks (in registration order), whether it
    retains its gradient (a non-leaf), and post-accumulate hooks (a leaf)."""

    def __init__(self, tensor):
        self.tensor_ref = weakref.ref(tensor)
        self.hooks = {}
        self.post_accumulate_hooks = {}
        self.retains_grad = False

    def run(self, grad):
        """The gradient after every hook, in the form it came: an array of the
        same shape, or a Tensor in a create_graph walk (whose graph the hooks'
        results join)."""
        recording = isinstance(grad, Tensor)
        for hook in list(self.hooks.values()):
            result = hook(_wrap(grad))
            if result is None:
                continue
            replacement = _wrap(result) if recording else (result.array if isinstance(result, Tensor)
                                                            else np.asarray(result))
            if tuple(replacement.shape) != tuple(grad.shape):
                name = getattr(hook, "__name__", type(hook).__name__)
                raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has shape "
                                   f"{list(grad.shape)}, the hook returned shape {list(replacement.shape)}")
            grad = _cast(replacement, grad.dtype)
        if self.retains_grad:
            tensor = self.tensor_ref()
            if tensor is not None:  # .grad accumulates over backward calls, as in PyTorch
                if recording:
                    tensor.grad = grad if tensor.grad is None else tensor.grad + grad
                elif tensor.grad is None:
                    tensor.grad = _wrap(np.array(grad, dtype=tensor.array.dtype, copy=True))
                else:
                    tensor.grad = _wrap(tensor.grad.array + grad)
        return grad


def _cast(value, dtype):
    """An array or Tensor gradient in `dtype` (a Tensor through the differentiable cast)."""
    if value.dtype == dtype:
        return value
    return value.to(dtype) if isinstance(value, Tensor) else value.astype(dtype)


def _unwrap(value, like):
    """A hook's Tensor `value` in the form of the gradient `like`: its array,
    or the Tensor itself in a create_graph walk."""
    return value if isinstance(like, Tensor) else value.array


def _wrap(array):
    """A gradient as a Tensor: an array wrapped, a Tensor (create_graph) as it is."""
    return array if isinstance(array, Tensor) else Tensor._make(np.asarray(array), False, None)


def state_of(tensor, create=False):
    """The HookState of `tensor` (None if it has none and create is False)."""
    if tensor.grad_fn is not None:
        node = tensor.grad_fn
        state = node.__dict__.get("_tensor_hooks")
        if state is None and create:
            state = node.__dict__["_tensor_hooks"] = HookState(tensor)
            hooked_nodes.add(node)
        return state
    key = id(tensor)
    state = leaf_states.get(key)
    if state is not None and state.tensor_ref() is not tensor:  # a dead leaf's id, reused
        state = None
    if state is None and create:
        state = HookState(tensor)
        state.tensor_ref = weakref.ref(tensor, lambda _, key=key: leaf_states.pop(key, None))
        leaf_states[key] = state
    return state


# ---------------------------------------------------------------- Tensor methods
def register_hook(tensor, hook):
    """``hook(grad) -> Tensor or None`` runs when the gradient of `tensor` is computed."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook expects a callable, got {type(hook).__name__}")
    state = state_of(tensor, create=True)
    handle = RemovableHandle(state.hooks)
    state.hooks[handle.id] = hook
    return handle


def register_post_accumulate_grad_hook(tensor, hook):
    """``hook(tensor) -> None`` runs after backward has accumulated into ``tensor.grad`` (leaves)."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook expects a callable, got {type(hook).__name__}")
    state = state_of(tensor, create=True)
    handle = RemovableHandle(state.post_accumulate_hooks)
    state.post_accumulate_hooks[handle.id] = hook
    return handle


def retain_grad(tensor):
    """A non-leaf keeps its gradient in ``.grad``; a no-op on a leaf (which always does)."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if tensor.grad_fn is not None:
        state_of(tensor, create=True).retains_grad = True


def retains_grad(tensor):
    """True for a non-leaf after retain_grad() (False for leaves, as in PyTorch)."""
    if tensor.grad_fn is None:
        return False
    state = state_of(tensor)
    return state is not None and state.retains_grad


# ------------------------------------------------------------- the backward walk
def run_node_hooks(node, grad):
    """The gradient arriving at `node`'s output, after the hooks of its tensor."""
    state = node.__dict__.get("_tensor_hooks")
    return grad if state is None else state.run(grad)


def gather_leaf_gradients(order, deliver_to_leaf, accumulates):
    """Wrap `deliver_to_leaf` so that a hooked leaf's gradients are summed first.

    Returns (deliver, flush_after): deliver buffers the gradients of leaves
    with hooks (others pass straight through); flush_after maps the last node
    of `order` with an edge to such a leaf to a function that runs the leaf's
    hooks on the sum, delivers it, and (accumulates: backward, not grad) runs
    its post-accumulate hooks. ``flush_after.pop(node)()`` once that node is done.
    """
    last_user = {}
    for node in order:
        for edge in node.__dict__.get("next_nodes", ()):
            if isinstance(edge, Tensor) and edge.grad_fn is None:
                state = state_of(edge)
                if state is not None:
                    last_user[id(edge)] = (node, edge, state)
    buffered = {}

    def deliver(leaf, grad, owned=False):
        if id(leaf) not in last_user:
            deliver_to_leaf(leaf, grad, owned)
        elif id(leaf) in buffered:
            buffered[id(leaf)] = buffered[id(leaf)] + grad
        else:
            buffered[id(leaf)] = grad

    def flusher(leaf, state):
        def flush():
            grad = buffered.pop(id(leaf), None)
            if grad is not None:
                deliver_leaf_with_hooks(leaf, grad, state, deliver_to_leaf, accumulates)
        return flush

    flush_after = {}
    for node, leaf, state in last_user.values():
        flush = flusher(leaf, state)
        if node in flush_after:
            previous = flush_after[node]
            flush_after[node] = lambda previous=previous, flush=flush: (previous(), flush())
        else:
            flush_after[node] = flush
    return deliver, flush_after


def deliver_leaf_with_hooks(leaf, grad, state, deliver_to_leaf, accumulates):
    """Run a leaf's gradient hooks, deliver the result, then its post-accumulate hooks."""
    if state is None:
        deliver_to_leaf(leaf, grad, False)
        return
    deliver_to_leaf(leaf, state.run(grad if isinstance(grad, Tensor) else np.asarray(grad)), False)
    if accumulates:
        for hook in list(state.post_accumulate_hooks.values()):
            hook(leaf)


# ------------------------------------------------------------------ node hooks
# grad_fn.register_prehook(hook): hook(grad_outputs) -> None or new grad_outputs, before the
# node's backward (after the hooks of its tensor); grad_fn.register_hook(hook):
# hook(grad_inputs, grad_outputs) -> None or new grad_inputs, after it. Tuples of Tensors,
# None for an input that gets no gradient (PyTorch's Node hooks).
def register_node_hook(node, hook, kind):
    """Add `hook` to `node`'s pre-hooks (kind "_node_pre_hooks") or post-hooks ("_node_post_hooks")."""
    if not callable(hook):
        raise TypeError(f"register_hook expects a callable, got {type(hook).__name__}")
    if node.__dict__.get("_released", False):
        raise RuntimeError("cannot register a hook on a node that backward has already freed "
                           "(pass retain_graph=True to the backward that ran it)")
    hooks = node.__dict__.get(kind)
    if hooks is None:
        hooks = node.__dict__[kind] = {}
    hooked_nodes.add(node)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _hook_name(hook):
    return getattr(hook, "__name__", type(hook).__name__)


def _run_gradient_hooks(hooks, call, grads, shapes):
    """Call each hook; a returned tuple replaces `grads` (same length; same shapes where known)."""
    for hook in list(hooks.values()):
        result = call(hook, grads)
        if result is None:
            continue
        result = tuple(result)
        if len(result) != len(grads):
            raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values "
                               f"(got {len(result)}, but expected {len(grads)})")
        checked = []
        for value, shape in zip(result, shapes):
            if value is not None:
                value = value if isinstance(value, Tensor) else _wrap(np.asarray(value))
                if shape is not None and tuple(value.shape) != tuple(shape):
                    raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
            checked.append(value)
        grads = tuple(checked)
    return grads


def _output_gradients_of(node, grad_output):
    """The gradient(s) arriving at `node` as a tuple, one per output, and their shapes."""
    if node.output_shape is None:  # several outputs: a _GradientsByOutput
        specs = node.output_specs
        grads = tuple([None if grad_output.get(k) is None else _wrap(grad_output[k]) for k in range(len(specs))])
        return grads, [None if spec is None else spec[0] for spec in specs]
    return (_wrap(grad_output),), [node.output_shape]


def run_node_pre_hooks(node, grad_output):
    """The gradient arriving at `node` after its pre-hooks (same form as it came)."""
    hooks = node.__dict__.get("_node_pre_hooks")
    if not hooks:
        return grad_output
    grads, shapes = _output_gradients_of(node, grad_output)
    like = next(iter(grad_output.values()), None) if node.output_shape is None else grad_output
    grads = _run_gradient_hooks(hooks, lambda hook, g: hook(g), grads, shapes)
    if node.output_shape is None:
        return type(grad_output)({k: _unwrap(g, like) for k, g in enumerate(grads) if g is not None})
    if grads[0] is None:  # no gradient: as zeros, which every backward accepts
        zeros = np.zeros(node.output_shape, dtype=node.output_dtype)
        return _wrap(zeros) if isinstance(like, Tensor) else zeros
    return _cast(_unwrap(grads[0], like), node.output_dtype)


def run_node_post_hooks(node, input_grads, grad_output, edges):
    """The gradients `node`'s backward returned, after its post-hooks (a tuple of arrays or None)."""
    hooks = node.__dict__.get("_node_post_hooks")
    if not hooks:
        return input_grads
    grads = tuple([None if edge is None or k >= len(input_grads) or input_grads[k] is None
                   else _wrap(input_grads[k]) for k, edge in enumerate(edges)])
    recording = any(isinstance(g, Tensor) for g in input_grads)
    shapes = [None if g is None else g.shape for g in grads]
    grad_outputs, _ = _output_gradients_of(node, grad_output)
    grads = _run_gradient_hooks(hooks, lambda hook, g: hook(g, grad_outputs), grads, shapes)
    return tuple([None if g is None else (g if recording else g.array) for g in grads])


# ----------------------------------------------------------------- anomaly mode
class _AnomalyMode:
    enabled = False
    check_nan = True


anomaly = _AnomalyMode()


def check_nan(node, input_grads):
    """Anomaly mode: raise if a backward returned NaN (PyTorch's message)."""
    for index, grad in enumerate(input_grads):
        grad = grad.array if isinstance(grad, Tensor) else grad
        if isinstance(grad, np.ndarray) and grad.dtype.kind in "fc" and np.isnan(grad).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")


def is_anomaly_enabled():
    """Whether anomaly mode is on (see detect_anomaly)."""
    return anomaly.enabled


def is_anomaly_check_nan_enabled():
    """Whether anomaly mode checks the gradients for NaN."""
    return anomaly.check_nan


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly mode on or off (``torch.set_anomaly_enabled``)."""
    anomaly.enabled, anomaly.check_nan = bool(enabled), bool(check_nan)


class set_detect_anomaly:
    """``with set_detect_anomaly(True):`` or a decorator: anomaly mode on or off inside.

    In anomaly mode backward checks every gradient a node returns and raises
    ``RuntimeError("Function 'XBackward0' returned nan values in its 0th output.")``
    at the first NaN, naming the op that made it.
    """

    def __init__(self, mode, check_nan=True):
        self.previous = (anomaly.enabled, anomaly.check_nan)
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        anomaly.enabled, anomaly.check_nan = self.previous
        return False


class detect_anomaly:
    """``with detect_anomaly():`` (or ``@detect_anomaly()``): anomaly mode on inside (see
    set_detect_anomaly); warns, as PyTorch does, that it slows backward down."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and "
                      "should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.previous = (anomaly.enabled, anomaly.check_nan)
        set_anomaly_enabled(True, self.check_nan)
        return self

    def __exit__(self, *exc_info):
        anomaly.enabled, anomaly.check_nan = self.previous
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)
        return wrapper


from minigrad.tensor import Tensor  # noqa: E402  (this module is imported by autograd, after Tensor)
