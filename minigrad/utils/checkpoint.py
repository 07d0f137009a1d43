"""``minigrad.utils.checkpoint``: activation checkpointing (PyTorch's ``torch.utils.checkpoint``).

``checkpoint(function, *args, use_reentrant=...)`` runs ``function`` without
keeping its activations: the graph it builds is dropped, and only the inputs
(and the outputs) stay alive. Backward runs ``function`` again, this time
recording, and backpropagates through that fresh graph: memory for time.
With ``preserve_rng_state=True`` (the default) the random generator is put
back to where it was before the forward, so dropout draws the same mask.

Both of PyTorch's variants are here, as one ``Function`` each:

- ``use_reentrant=True`` (``_ReentrantCheckpoint``): forward runs under
  no_grad; backward recomputes and calls ``backward()`` on the recomputed
  outputs, which also accumulates the gradients of parameters the function
  uses straight into their ``.grad``. Only tensor arguments that require
  grad make the output require grad; no keyword arguments.
- ``use_reentrant=False`` (``_NonReentrantCheckpoint``, PyTorch's
  recommendation): forward records the graph once to find every tensor
  the function depends on (its tensor arguments, parameters it captures,
  and tensors of an outer graph it closes over), then drops the graph and
  connects one node to all of them. Backward recomputes and returns
  ``autograd.grad`` of the outputs with respect to all of them, so
  ``autograd.grad`` through a checkpoint works, keyword arguments are
  allowed, ``context_fn`` gives the contexts of the forward and of the
  recomputation, and ``determinism_check="default"`` compares the shape
  and dtype of every operation's result between the two runs.
"""
import contextlib
import warnings

import numpy as np

from minigrad import autograd, random
from minigrad.autograd import Function, _OutputOf, enable_grad, is_grad_enabled, no_grad
from minigrad.tensor import Size, Tensor

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "set_checkpoint_debug_enabled"]

_DEFAULT_DETERMINISM_MODE = "default"
_DETERMINISM_CHECKS = ("default", "none")
_checkpoint_debug_enabled = None   # None: each call's debug= decides


class CheckpointError(RuntimeError):
    """The recomputation did not match the original forward."""


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Override every checkpoint's ``debug=`` inside the block (None: leave it to each call)."""
    global _checkpoint_debug_enabled
    previous = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


def noop_context_fn():
    """The default context_fn: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _detached(tensor):
    """The same memory as a fresh leaf that requires grad exactly when `tensor` does."""
    return Tensor._make(tensor.array, tensor.requires_grad, None)


@contextlib.contextmanager
def _rng_as_in_forward(state):
    """Run the block from the generator state the forward started at; put the outer state back after."""
    if state is None:
        yield
        return
    outer = random.get_rng_state()
    random.set_rng_state(state)
    try:
        yield
    finally:
        random.set_rng_state(outer)


# ------------------------------------------------------------ use_reentrant=True
class _ReentrantCheckpoint(Function):
    """forward(run_function, preserve_rng_state, *args) under no_grad; backward recomputes."""

    works_on_arrays = False   # a PyTorch-style Function: forward and backward see Tensors

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=5)
        ctx.run_function = run_function
        ctx.rng_state = random.get_rng_state() if preserve_rng_state else None
        # Non-tensor arguments are kept as they are; tensors are saved (and version-checked).
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.inputs)
        for index, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[index] = _detached(tensor)
        with _rng_as_in_forward(ctx.rng_state), enable_grad():
            outputs = ctx.run_function(*inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(out, grad) for out, grad in zip(outputs, grad_outputs)
                     if isinstance(out, Tensor) and out.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        with enable_grad():
            for k, (out, grad) in enumerate(with_grad):
                autograd.backward(out, grad, retain_graph=k < len(with_grad) - 1)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


# ----------------------------------------------------------- use_reentrant=False
class _OperationRecorder:
    """Stands in as autograd's observer while `function` runs: notes every operation
    (its graph node, and the shape and dtype of its result), then hands the call on
    to the observer before it (the profiler, if one is recording)."""

    def __init__(self):
        self.previous = autograd._observer
        self.nodes, self.metadata, self.names = [], [], []

    def record_forward(self, ctx, input_arrays, result, seconds):
        self.nodes.append(ctx)
        result = np.asarray(result) if result is not None else None
        self.metadata.append(None if result is None else {"shape": Size(result.shape),
                                                          "dtype": f"minigrad.{result.dtype}"})
        self.names.append(ctx.name())
        if self.previous is not None:
            self.previous.record_forward(ctx, input_arrays, result, seconds)

    def record_backward(self, node, seconds):
        if self.previous is not None:
            self.previous.record_backward(node, seconds)

    @contextlib.contextmanager
    def recording(self):
        autograd._observer = self
        try:
            yield self
        finally:
            autograd._observer = self.previous


def _flatten(value):
    """The Tensors in a nested tuple/list/dict, and a function that puts replacements back."""
    tensors = []

    def walk(v):
        if isinstance(v, Tensor):
            tensors.append(v)
            return len(tensors) - 1, None
        if isinstance(v, (tuple, list)):
            return None, (type(v), [walk(item) for item in v])
        if isinstance(v, dict):
            return None, (dict, {key: walk(item) for key, item in v.items()})
        return None, v

    layout = walk(value)

    def rebuild(replacements, node=layout):
        index, rest = node
        if index is not None:
            return replacements[index]
        if isinstance(rest, tuple) and len(rest) == 2 and rest[0] in (tuple, list):
            return rest[0](rebuild(replacements, item) for item in rest[1])
        if isinstance(rest, tuple) and len(rest) == 2 and rest[0] is dict:
            return {key: rebuild(replacements, item) for key, item in rest[1].items()}
        return rest

    return tensors, rebuild


def _dependencies(outputs, own_nodes, arguments):
    """What the recorded outputs depend on from outside `function`: leaves it captured
    (parameters), and nodes of an outer graph (a captured non-leaf tensor), each once."""
    own = {id(node) for node in own_nodes}
    argument_ids = {id(a) for a in arguments}
    leaves, outer_nodes, seen = {}, {}, set()

    def created_here(node):
        return id(node) in own or (isinstance(node, _OutputOf) and id(node.node) in own)

    def classify(edge, stack):
        if edge is None:
            return
        if isinstance(edge, Tensor):
            if id(edge) not in argument_ids:
                leaves.setdefault(id(edge), edge)
        elif created_here(edge):
            if id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
        else:
            outer_nodes.setdefault(id(edge), edge)

    stack = []
    for out in outputs:
        if out.requires_grad:
            classify(out.grad_fn if out.grad_fn is not None else out, stack)
    while stack:
        node = stack.pop()
        for edge in node.__dict__.get("next_nodes", ()):
            classify(edge, stack)
    return list(leaves.values()), list(outer_nodes.values())


def _outer_stand_in(node):
    """A Tensor whose grad_fn is `node`: the gradient for an outer non-leaf tensor goes to it."""
    return Tensor._make(np.broadcast_to(np.zeros((), dtype=node.output_dtype), node.output_shape), True, node)


class _CheckpointState:
    """What the recomputation needs: the call, the generator state, what the forward ran."""


class _NonReentrantCheckpoint(Function):
    """forward(state, *tensors): the outputs computed before; backward recomputes."""

    works_on_arrays = False

    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        ctx.save_for_backward(*tensors[:state.number_of_arguments])   # version-checked in backward
        outputs = tuple(state.outputs)
        state.outputs = None   # only the returned tensors hold them from now on
        return outputs if len(outputs) > 1 else outputs[0]

    @staticmethod
    def backward(ctx, *grad_outputs):
        state = ctx.state
        # Grad mode is on only in a create_graph backward: the recomputation then
        # starts from views of the arguments (connected to them), and the gradients
        # are recorded, so they can be differentiated again.
        create_graph = is_grad_enabled()
        if create_graph:
            arguments = [t.view_as(t) if t.requires_grad else _detached(t) for t in ctx.saved_tensors]
        else:
            arguments = [_detached(t) for t in ctx.saved_tensors]
        args, kwargs = state.rebuild_arguments(arguments)
        recorder = _OperationRecorder()
        with _rng_as_in_forward(state.rng_state), enable_grad(), state.recompute_context, recorder.recording():
            result = state.function(*args, **kwargs)
        outputs, _ = _flatten(result)
        _check_determinism(state, recorder)
        recorder.nodes = []
        with_grad = [(out, grad) for out, grad in zip(outputs, grad_outputs) if out.requires_grad]
        wrt = [a for a in arguments if a.requires_grad] + state.leaves + state.outer_stand_ins
        if with_grad and wrt:
            grads = iter(autograd.grad([out for out, _ in with_grad], wrt, [g for _, g in with_grad],
                                       allow_unused=True, create_graph=create_graph))
        else:   # nothing differentiable came out of the recomputation
            grads = iter([None] * len(wrt))
        arrays = [next(grads) if a.requires_grad else None for a in arguments]
        return (None, *arrays, *grads)


def _check_determinism(state, recorder):
    if state.determinism_check == "none":
        return
    debug_log = ""
    if state.debug:
        debug_log = ("\n\nOperations executed during the original forward:\n\n" + "\n".join(state.names)
                     + "\n\nOperations executed during recomputation:\n\n" + "\n".join(recorder.names))
    recomputed = recorder.metadata
    if state.early_stop and len(recomputed) > len(state.metadata):
        recomputed = recomputed[:len(state.metadata)]   # PyTorch stops recomputing once it has what it saved
    if len(recomputed) != len(state.metadata):
        raise CheckpointError(
            "minigrad.utils.checkpoint: A different number of operations ran during the original forward "
            f"and recomputation.\nNumber of operations during forward: {len(state.metadata)}\n"
            f"Number of operations during recomputation: {len(recomputed)}." + debug_log)
    mismatched = "".join(f"tensor at position {k}:\nsaved metadata: {saved}\nrecomputed metadata: {again}\n"
                         for k, (saved, again) in enumerate(zip(state.metadata, recomputed))
                         if saved != again)
    if mismatched:
        raise CheckpointError("minigrad.utils.checkpoint: Recomputed values for the following tensors have "
                              f"different metadata than during the forward pass.\n{mismatched}" + debug_log)


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug,
                                  early_stop, args, kwargs):
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug = True
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
                         f"but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():   # nothing to differentiate: just run it
        with forward_context:
            return function(*args, **kwargs)

    # The tensor arguments (positional and keyword), as leaves of their own.
    positions = [("args", i) for i, a in enumerate(args) if isinstance(a, Tensor)]
    positions += [("kwargs", key) for key, value in kwargs.items() if isinstance(value, Tensor)]
    originals = [args[i] if where == "args" else kwargs[i] for where, i in positions]

    def rebuild_arguments(tensors):
        new_args, new_kwargs = list(args), dict(kwargs)
        for (where, i), tensor in zip(positions, tensors):
            (new_args if where == "args" else new_kwargs)[i] = tensor
        return new_args, new_kwargs

    state = _CheckpointState()
    state.function, state.rebuild_arguments = function, rebuild_arguments
    state.rng_state = random.get_rng_state() if preserve_rng_state else None
    state.recompute_context, state.determinism_check, state.debug = recompute_context, determinism_check, debug
    state.early_stop = early_stop

    arguments = [_detached(t) for t in originals]
    recorder = _OperationRecorder()
    with forward_context, recorder.recording():
        result = function(*rebuild_arguments(arguments)[0], **rebuild_arguments(arguments)[1])
    outputs, rebuild_result = _flatten(result)
    leaves, outer_nodes = _dependencies(outputs, recorder.nodes, arguments)
    state.metadata, state.names = recorder.metadata, recorder.names
    recorder.nodes = []   # the recorded graph goes: only its outputs' arrays stay
    if not outputs:
        return result
    # An output that is an argument itself comes back as a new tensor, as every output does.
    state.outputs = [out.array for out in outputs]
    state.number_of_arguments = len(originals)
    state.leaves = leaves
    state.outer_stand_ins = [_outer_stand_in(node) for node in outer_nodes]
    del outputs, arguments, result
    checkpointed = _NonReentrantCheckpoint.apply(state, *originals, *leaves, *state.outer_stand_ins)
    if isinstance(checkpointed, Tensor):
        checkpointed = (checkpointed,)
    return rebuild_result(list(checkpointed))


# --------------------------------------------------------------------- the API
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its activations; they are recomputed in backward.

    ``preserve_rng_state=True`` (a keyword) replays the random draws of the forward in the
    recomputation. ``early_stop=True``: operations the recomputation runs beyond those of
    the forward are not checked (PyTorch stops recomputing there; minigrad runs the whole
    function again and differentiates its recomputed outputs).
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
            "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False "
            "is recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return _ReentrantCheckpoint.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug, early_stop,
                                         args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (a list or an nn.Sequential) in `segments` chunks, checkpointing all but the last.

    Each chunk holds len(functions) // segments functions; the last chunk takes the rest
    and runs normally (its activations are needed right away by backward).
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
            "two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from minigrad.nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
