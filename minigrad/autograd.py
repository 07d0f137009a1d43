"""Reverse-mode automatic differentiation.

Every operation in minigrad is a ``Function`` subclass with its ``forward``
and ``backward`` side by side. Both work on NumPy arrays:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):              # a, b: np.ndarray
            ctx.save_for_backward(a, b)
            return a * b
        @staticmethod
        def backward(ctx, grad_output):      # d(loss)/d(output)
            a, b = ctx.saved_tensors
            return grad_output * b, grad_output * a   # one gradient per input

``Mul.apply(x, y)`` unwraps the Tensors, runs ``forward``, and wraps the
result in a Tensor whose ``grad_fn`` is ``ctx``. That ctx is a node of the
graph: it remembers where each input came from (``ctx.next_nodes``: the
input's own ``grad_fn``, the input itself if it is a leaf, or None). Calling
``loss.backward()`` walks those nodes from the loss back to the leaves in
topological order, iteratively (a chain of 100,000 ops is fine), adding up
the gradients of nodes used more than once before passing them on.

``forward`` may return a tuple: the first element is the differentiable
result, the others are returned as extra Tensors that carry no gradient
(``max(dim)``'s indices, max-pool's argmax).

Two kinds of Function share this base class:

- minigrad's own operations (classes defined inside the ``minigrad``
  package, ``works_on_arrays = True``) work on NumPy arrays as above: the
  fast path every op takes.
- A user's subclass (defined anywhere else) gets PyTorch's contract:
  ``forward`` receives the Tensors themselves (and other arguments as
  given) and runs without recording a graph, so it may call any Tensor
  method; ``ctx.saved_tensors`` are Tensors; ``backward`` receives one
  gradient Tensor per output and returns one Tensor (or None) per input.
  Every output Tensor is differentiable. See ``_apply_on_tensors``.
  A user class may set ``works_on_arrays = True`` to get the array path.
"""
import copy
import functools
import itertools
import sys
import threading
import time
import weakref

import numpy as np


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()

# Set by minigrad.profiler while a profile is being recorded; None otherwise.
_observer = None


def is_grad_enabled():
    """Whether operations are currently recorded for backward."""
    return _grad_mode.enabled


class set_grad_enabled:
    """Context manager / decorator turning graph recording on or off (per thread)."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _grad_mode.enabled = self.previous
        return False


class _GradModeContext:
    mode = True  # what recording is switched to inside; None leaves it as it is

    def __new__(cls, *args, **kwargs):
        # `@no_grad` (no parentheses) hands the function straight to the class.
        if args and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self.previous = _grad_mode.enabled
        if self.mode is not None:
            _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _grad_mode.enabled = self.previous
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with copy.copy(self):  # a context per call: calls may nest
                return function(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Don't record operations: ``with minigrad.no_grad(): ...`` or ``@minigrad.no_grad()``.

    The switch is thread-local, as in PyTorch.
    """
    mode = False


class enable_grad(_GradModeContext):
    """Record operations again inside a ``no_grad`` block."""
    mode = True


class inference_mode(_GradModeContext):
    """``with minigrad.inference_mode():`` or ``@minigrad.inference_mode()``: PyTorch's
    faster no_grad for evaluation. minigrad has no separate inference tensors, so
    this is no_grad; mode=False records again, as PyTorch's inference_mode(False) does."""

    def __init__(self, mode=True):
        self.mode = not mode
        self.inference = bool(mode)

    # is_inference_mode_enabled() reads this thread's flag; the block sets and restores it.
    def __enter__(self):
        self.previous_inference = _inference_mode.enabled
        _inference_mode.enabled = self.inference
        return super().__enter__()

    def __exit__(self, *exc_info):
        _inference_mode.enabled = self.previous_inference
        return super().__exit__(*exc_info)


class _InferenceMode(threading.local):
    enabled = False


_inference_mode = _InferenceMode()


def is_inference_mode_enabled():
    """Whether this thread is inside ``inference_mode()`` (and not an inner inference_mode(False))."""
    return _inference_mode.enabled


class _SavedTensorsHooks(threading.local):
    """This thread's stack of (pack_hook, unpack_hook) pairs (see minigrad/autograd_graph.py)
    and the message that disable_saved_tensors_hooks raises with (None: enabled)."""

    def __init__(self):
        self.stack = []
        self.disabled_message = None


_saved_tensors_hooks = _SavedTensorsHooks()


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's deprecated ``Variable(tensor, requires_grad=False)``: since PyTorch 0.4
    a Tensor is a Variable, and this returns the tensor itself (with requires_grad
    set when asked), as old tutorials expect. ``isinstance(t, Variable)`` holds for
    every Tensor."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            data.requires_grad_(True)
        return data


class Function:
    """Base class of every differentiable operation; an instance is the ``ctx``."""

    # Filled in by apply(): one flag per positional argument.
    needs_input_grad = ()

    # True in a subclass whose backward returns newly allocated arrays that it
    # keeps no reference to: a leaf then takes such a gradient as its .grad
    # instead of a private copy (a copy of a large gradient costs a pass over
    # memory). Gradients that are grad_output itself, a view of it, or handed
    # to two inputs are still copied.
    fresh_gradients = False

    # True: forward and backward work on NumPy arrays (minigrad's own ops);
    # False: on Tensors, as in PyTorch (a user's subclass). See __init_subclass__.
    works_on_arrays = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A direct subclass that doesn't choose is an op of minigrad's own if it
        # is defined inside the package, and a user's PyTorch-style Function otherwise.
        if "works_on_arrays" not in cls.__dict__ and Function in cls.__bases__:
            cls.works_on_arrays = cls.__module__.startswith("minigrad.")

    @staticmethod
    def forward(ctx, *args, **kwargs):  # abstract: subclasses define it
        raise NotImplementedError(f"{type(ctx).__name__} must define forward (abstract)")

    @staticmethod
    def backward(ctx, grad_output):  # abstract: subclasses define it
        raise NotImplementedError(f"{type(ctx).__name__} does not define backward (abstract)")

    def save_for_backward(self, *arrays):
        """Keep arrays that backward needs; freed after backward (unless retain_graph).

        Their versions are recorded too: reading ``saved_tensors`` after an
        in-place operation changed one of them raises instead of silently
        differentiating the new values.
        """
        if _saved_tensors_hooks.stack:  # inside saved_tensors_hooks: packed once the node is recorded
            self._pack_with = _saved_tensors_hooks.stack[-1]
        self._saved = arrays
        # None: no buffer had been modified in place yet, so every version was 0.
        self._saved_versions = (tuple([0 if (memory := _memory_of(a)) is None else version_of(memory)
                                       for a in arrays]) if _versions else None)

    @property
    def saved_tensors(self):
        if self.__dict__.get("_released", False):
            raise RuntimeError(_FREED_MESSAGE)
        if self.__dict__.get("_saved_packed", False):  # unpack hooks run at every access, as in PyTorch
            if self.__dict__.get("_recording", False):
                raise RuntimeError(f"{self.name()}: create_graph=True through values packed by "
                                   f"saved_tensors_hooks is not supported; leave the hooks out of the "
                                   f"forward that a double backward goes through")
            return tuple([value.unpack() for value in self._saved])
        if _versions:
            self._check_saved_versions()
        if self.__dict__.get("_recording", False):
            return self._saved_as_tensors()
        return self._saved

    def _saved_as_tensors(self):
        """The saved arrays as Tensors of the graph, for a backward that records
        one (``backward_graph``, see _backward_recording): a saved input comes
        back as that input (its graph edge), the saved output as this node's
        output, and any other saved array as a constant. So a backward_graph
        recomputes from the inputs whatever else it needs to differentiate."""
        tensors = []
        for value in self._saved:
            if not isinstance(value, np.ndarray):
                tensors.append(value)  # a Python number, a dtype, None: as saved
                continue
            if _is_output_of(self, value):
                tensors.append(Tensor._make(value, True, self))
                continue
            # An input that requires grad is a leaf (whose array it is) or the
            # output of the node its edge leads to. (Ids are safe: `value` is alive.)
            for edge in self.next_nodes:
                if (edge.array is value if isinstance(edge, Tensor)
                        else edge is not None and _is_output_of(edge, value)):
                    tensors.append(edge if isinstance(edge, Tensor) else Tensor._make(value, True, edge))
                    break
            else:
                tensors.append(Tensor._make(value, False, None))  # a constant
        return tuple(tensors)

    def _add_output_alias(self, array):
        """`array` holds this node's output too: an in-place op copied its result into the
        tensor's own memory, or copied the old values aside (Tensor._inplace)."""
        self.__dict__.setdefault("_output_aliases", set()).add(id(array))

    def _check_saved_versions(self):
        saved_versions = self._saved_versions or (0,) * len(self._saved)
        for saved_value, saved in zip(self._saved, saved_versions):
            array = _memory_of(saved_value)
            if array is not None and version_of(array) != saved:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: an array of shape {tuple(array.shape)} saved by "
                    f"{self.name()} is at version {version_of(array)}; expected version "
                    f"{saved} instead. Hint: clone() the tensor before changing it in place, "
                    f"or use the out-of-place operation (x = x + 1 instead of x += 1).")

    def _pack_saved(self):
        """Replace the saved values by what the pack hook makes of them (minigrad/autograd_graph.py)."""
        from minigrad.autograd_graph import pack_saved
        self._saved = pack_saved(self._saved, *self.__dict__.pop("_pack_with"))
        self._saved_versions, self._saved_packed = None, True

    def mark_non_differentiable(self, *outputs):
        """Outputs of forward (arrays, or Tensors in a user's Function) that get no
        gradient (indices, masks), as in PyTorch."""
        self._non_differentiable = {id(o) for o in outputs}

    def mark_dirty(self, *tensors):
        """Inputs that forward modified in place (a user's Function): each is
        returned as an output and rebased onto this node, as in PyTorch."""
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        """Whether backward receives zeros (True, the default) or None for an
        output that no gradient reached (a user's Function)."""
        self._materialize_grads = bool(value)

    # ---- PyTorch's view of a graph node
    def name(self):
        """The node's name as PyTorch spells it: ``MulBackward0`` for ``Mul``."""
        return f"{type(self).__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"  # print(loss.grad_fn), as PyTorch shows it

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs) -> None or new grad_inputs`` runs after this node's
        backward (PyTorch's Node.register_hook; see minigrad/autograd_hooks.py)."""
        return _hooks.register_node_hook(self._hooked_node(), fn, "_node_post_hooks")

    def register_prehook(self, fn):
        """``fn(grad_outputs) -> None or new grad_outputs`` runs before this node's backward."""
        return _hooks.register_node_hook(self._hooked_node(), fn, "_node_pre_hooks")

    def _hooked_node(self):
        return self  # _OutputOf: the node of all outputs, which PyTorch's grad_fn is

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node (PyTorch's Node.metadata)."""
        return self.__dict__.setdefault("_metadata", {})

    @property
    def next_functions(self):
        """One ``(node, 0)`` pair per input: its Function, an AccumulateGrad for a
        leaf that requires grad, or None (PyTorch's ``grad_fn.next_functions``)."""
        return tuple([(AccumulateGrad(edge) if isinstance(edge, Tensor) else edge, 0)
                      for edge in self.__dict__.get("next_nodes", ())])

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arrays inside `args`; record a graph node if needed."""
        if not cls.works_on_arrays:
            return _apply_on_tensors(cls, args, kwargs)
        ctx = cls()
        # One pass over the arguments (this runs for every op: a plain loop is
        # cheaper than two generator expressions).
        arrays, needs_input_grad = [], []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.array)
                needs_input_grad.append(a.requires_grad)
            else:
                arrays.append(a)
                needs_input_grad.append(False)
        ctx.needs_input_grad = needs_input_grad = tuple(needs_input_grad)

        observer = _observer
        if observer is not None:
            start = time.perf_counter()
        result = cls.forward(ctx, *arrays, **kwargs)
        if observer is not None:
            observer.record_forward(ctx, arrays, result, time.perf_counter() - start)

        extras = ()
        if type(result) is tuple:
            result, extras = result[0], result[1:]

        requires_grad = _grad_mode.enabled and True in needs_input_grad
        dual_edges = None
        if _dual_level is not None and True in needs_input_grad:  # inside forward_ad.dual_level()
            requires_grad, dual_edges = _record_for_forward_ad(ctx, args, requires_grad)
        if requires_grad and id(result) in ctx.__dict__.get("_non_differentiable", ()):
            requires_grad = False
        if requires_grad:
            if "_pack_with" in ctx.__dict__:
                ctx._pack_saved()
            ctx.next_nodes = tuple([_edge_to(a) for a in args]) if dual_edges is None else dual_edges
            output = Tensor._make(result, True, ctx)
            # What backward checks incoming gradients against (and casts them to);
            # the output's id tells a double backward which saved array it is.
            result = output.array
            ctx.output_shape, ctx.output_dtype, ctx._output_id = result.shape, result.dtype, id(result)
        else:
            output = Tensor._make(result, False, None)
        if extras:
            return (output,) + tuple(Tensor._make(e, False, None) for e in extras)
        return output


# The open forward-AD level (minigrad/autograd_forward_ad.py), None outside one.
_dual_level = None


def _record_for_forward_ad(ctx, args, requires_grad):
    """Inside a dual level, an op on a dual tensor is recorded even under no_grad
    (forward AD ignores grad mode, as in PyTorch): its tangent is read from the graph.
    Under no_grad only the edges to dual inputs are kept, so no ordinary gradient
    flows through it. Returns (record it, the edges or None for the usual ones)."""
    level = _dual_level
    dual = [isinstance(a, Tensor) and a.grad_fn is not None and a.grad_fn.__dict__.get("_dual_level") is level
            for a in args]
    if True not in dual:
        return requires_grad, None
    ctx._dual_level = level  # ops on this output are dual too
    if requires_grad:
        return True, None
    return True, tuple([_edge_to(a) if is_dual else None for a, is_dual in zip(args, dual)])


def _is_output_of(node, array):
    """Whether `array` is `node`'s output (its own array, or one an in-place op copied it to)."""
    key = id(array)
    node_dict = node.__dict__
    return node_dict.get("_output_id") == key or key in node_dict.get("_output_aliases", ())


def _memory_of(value):
    """The array whose version a saved value is checked against (None: not an array)."""
    if isinstance(value, Tensor):
        return value.array
    return value if isinstance(value, np.ndarray) else None


# ------------------------------------------- a user's PyTorch-style Function
def _apply_on_tensors(cls, args, kwargs):
    """``apply`` of a user's Function (works_on_arrays False), as PyTorch defines it.

    forward receives the arguments as given and runs under no_grad; each Tensor
    it returns becomes an output whose grad_fn is the ctx (the Tensor returned
    for an input marked dirty is that input itself, rebased). The ctx is an
    instance of a subclass of `cls` that is also a graph node (see _node_class_of).
    """
    ctx = _node_class_of(cls)()
    ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
    defines_setup_context = getattr(cls, "setup_context", None) is not None
    start = time.perf_counter()
    with no_grad():
        if defines_setup_context:  # PyTorch 2's style: forward(*args) without ctx
            result = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, result)
        else:
            result = cls.forward(ctx, *args, **kwargs)

    several = type(result) is tuple
    outputs = result if several else (result,)
    node = None
    if _grad_mode.enabled and True in ctx.needs_input_grad:
        _check_dirty_inputs(cls, ctx, args)
        node = ctx
        node.connect(args, outputs, several)
        if "_pack_with" in ctx.__dict__:
            ctx._pack_saved()
    non_differentiable = ctx.__dict__.get("_non_differentiable", ())
    dirty = ctx.__dict__.get("_dirty", ())

    returned = []
    for index, value in enumerate(outputs):
        if not isinstance(value, (Tensor, np.ndarray)):
            returned.append(value)  # a non-tensor output is passed through
            continue
        array = value.array if isinstance(value, Tensor) else value
        differentiable = (node is not None and id(value) not in non_differentiable
                          and np.issubdtype(array.dtype, np.inexact))
        grad_fn = None
        if differentiable:
            grad_fn = _OutputOf(node, index, array) if several else node
        if id(value) in dirty:  # an input changed in place: it is the output itself
            if node is not None:  # recording: the input now comes from this node (else it keeps its own)
                value.grad_fn, value.requires_grad = grad_fn, differentiable or value.requires_grad
            returned.append(value)
        else:
            returned.append(Tensor._make(array, differentiable, grad_fn))

    observer = _observer
    if observer is not None:
        observer.record_forward(ctx, [_memory_of(a) for a in args], _memory_of(outputs[0]),
                                time.perf_counter() - start)
    return tuple(returned) if several else returned[0]


def _check_dirty_inputs(cls, ctx, args):
    dirty = ctx.__dict__.get("_dirty", ())
    for a in args:
        if isinstance(a, Tensor) and id(a) in dirty and a.requires_grad and a.grad_fn is None:
            raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad is being used "
                               f"in an in-place operation (mark_dirty). clone() it first.")


class _CustomFunctionBackward(Function):
    """What makes the ctx of a user's Function a graph node: converts between
    the engine's arrays and the Tensors the user's backward works on."""

    _forward_cls = None  # the user's Function (PyTorch's name for it)

    def connect(self, args, outputs, several):
        """Record the edges to the inputs and what the gradients must look like."""
        self.next_nodes = tuple([_edge_to(a) for a in args])
        # What each gradient must look like: (shape, dtype) per input, None for a non-tensor.
        self.input_specs = [(a.array.shape, a.array.dtype) if isinstance(a, Tensor) else None for a in args]
        self.output_specs = [(_memory_of(o).shape, _memory_of(o).dtype) if _memory_of(o) is not None
                             else None for o in outputs]
        if several:
            self.output_shape = self.output_dtype = None
        else:
            self.output_shape, self.output_dtype = self.output_specs[0]

    def name(self):
        return f"{self._forward_cls.__name__}Backward"

    @staticmethod
    def backward(node, grad_output):
        grad_outputs = node._user_grad_outputs(grad_output)
        with no_grad():
            grads = node._forward_cls.backward(node, *grad_outputs)
        return node._input_gradients(grads)

    def _user_grad_outputs(self, grad_output):
        """The gradients arriving at the outputs, one Tensor each (zeros where none
        came, unless set_materialize_grads(False)): what the user's backward takes."""
        if self.output_shape is None:  # several outputs: a _GradientsByOutput
            arriving = [grad_output.get(k) for k in range(len(self.output_specs))]
        else:
            arriving = [grad_output]
        materialize = self.__dict__.get("_materialize_grads", True)
        grad_outputs = []
        for grad, spec in zip(arriving, self.output_specs):
            if grad is None and materialize and spec is not None:
                grad = np.zeros(*spec)
            grad_outputs.append(grad if grad is None or isinstance(grad, Tensor) else Tensor._make(grad, False, None))
        return grad_outputs

    def backward_recording(node, grad_output):
        """The user's backward on Tensors in a create_graph walk: run with grad
        mode on (as PyTorch does), so what it computes is recorded."""
        user_backward = node._forward_cls.backward
        if getattr(user_backward, "once_differentiable", False):
            return _first_order_only(node, grad_output, f"{node.name()}'s backward is marked "
                                                         f"@once_differentiable")
        grad_outputs = node._user_grad_outputs(grad_output)  # Tensors with a graph, here
        previous, _grad_mode.enabled = _grad_mode.enabled, True
        try:
            grads = user_backward(node, *grad_outputs)
        finally:
            _grad_mode.enabled = previous
        return node._input_gradients(grads, keep_tensors=True)

    def _input_gradients(self, grads, keep_tensors=False):
        """The user's backward result, checked against the inputs, as arrays
        (as Tensors with keep_tensors, for a create_graph walk)."""
        if type(grads) is not tuple:
            grads = (grads,)
        expected = len(self.input_specs)
        if len(grads) > expected and all(g is None for g in grads[expected:]):
            grads = grads[:expected]  # PyTorch accepts trailing Nones
        if len(grads) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(grads)})")
        arrays = []
        for index, (grad, spec) in enumerate(zip(grads, self.input_specs)):
            if grad is None:
                arrays.append(None)
                continue
            if spec is None:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at "
                                   f"position {index}, but the corresponding forward input was not a Tensor")
            tensor = grad if isinstance(grad, Tensor) else Tensor._make(np.asarray(grad), False, None)
            if tensor.array.shape != spec[0]:
                raise RuntimeError(f"function {self.name()} returned an invalid gradient at index {index} "
                                   f"- got {list(tensor.array.shape)} but expected shape {list(spec[0])}")
            arrays.append(tensor if keep_tensors else tensor.array)
        return tuple(arrays)


def _node_class_of(cls):
    """The class of the ctx of `cls` (made once): a subclass of both the user's
    Function (so ctx.saved_tensors, isinstance(y.grad_fn, MyReLU) work) and
    _CustomFunctionBackward (whose backward the engine calls)."""
    node_class = cls.__dict__.get("_node_class")
    if node_class is None:
        node_class = type(cls.__name__, (_CustomFunctionBackward, cls),
                          {"_forward_cls": cls, "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        cls._node_class = node_class
    return node_class


class _OutputOf(Function):
    """The grad_fn of output `index` of a Function with several outputs: hands
    its gradient on to the Function's node, tagged with the output it belongs to."""

    __slots__ = ("_node_name",)   # outlives the backward walk, which clears each node's __dict__

    def __init__(self, node, index, array):
        self.node, self.index = node, index
        self.next_nodes = (node,)
        self.output_shape, self.output_dtype, self._output_id = array.shape, array.dtype, id(array)
        self._node_name = node.name()

    def name(self):
        return self._node_name

    def _hooked_node(self):
        return self.node

    @staticmethod
    def backward(slot, grad_output):
        return _GradientsByOutput({slot.index: grad_output})

    backward_graph = backward


class _GradientsByOutput(dict):
    """Gradients arriving at a node of several outputs, by output index; ``+``
    gathers those of different outputs and adds those of the same one."""

    def __add__(self, other):
        gathered = _GradientsByOutput(self)
        for index, grad in other.items():
            gathered[index] = gathered[index] + grad if index in gathered else grad
        return gathered


def once_differentiable(backward):
    """Decorator of a user's backward that is not itself differentiable (PyTorch's
    ``torch.autograd.function.once_differentiable``): it runs without recording,
    and differentiating its result (create_graph=True) raises."""
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)
    wrapper.once_differentiable = True
    return wrapper


# ------------------------------------------------ double backward (create_graph=True)
# A create_graph walk hands each node its gradient as a Tensor and records what
# the node's backward does, so the gradients it returns are Tensors with a
# graph of their own: differentiating them again is an ordinary backward.
#
# minigrad's ops compute backward on arrays (fast, not recorded). An op whose
# backward can be differentiated also defines ``backward_graph(ctx, grad)``:
# the same formulas written with Tensor operations. Inside it,
# ``ctx.saved_tensors`` gives Tensors (the inputs and output reconnected to
# the graph; see Function._saved_as_tensors). Where the array backward only
# uses operations that Tensor also has (``*``, ``/``, ``.sum(axis=)``,
# ``.reshape``), the class says ``backward_graph = backward``.
def _backward_recording(node, grad_output):
    """Run `node`'s backward on the Tensor `grad_output`, recording a graph."""
    if isinstance(node, _CustomFunctionBackward):
        return node.backward_recording(grad_output)
    backward_graph = getattr(type(node), "backward_graph", None)
    if backward_graph is None:
        return _first_order_only(node, grad_output)
    node._recording = True
    try:
        grads = backward_graph(node, grad_output)
    finally:
        node._recording = False
    if type(grads) is not tuple:
        grads = (grads,)
    return tuple([g if g is None or isinstance(g, (Tensor, _GradientsByOutput))
                  else Tensor._make(np.asarray(g), False, None) for g in grads])


def _first_order_only(node, grad_output, why=None):
    """The gradients of a node that cannot be differentiated twice: computed on
    arrays, with a grad_fn that raises if a second backward reaches it (the
    gradient still depends on the graph, so ignoring that would be wrong)."""
    if isinstance(grad_output, _GradientsByOutput):  # a user's Function of several outputs
        arriving = tuple(grad_output.values())
        grad_arrays = _GradientsByOutput({k: g.array for k, g in grad_output.items()})
    else:
        arriving, grad_arrays = (grad_output,), grad_output.array
    with no_grad():
        if isinstance(node, _CustomFunctionBackward):
            grads = _CustomFunctionBackward.backward(node, grad_arrays)
        else:
            grads = node.backward(node, grad_arrays)
    if type(grads) is not tuple:
        grads = (grads,)
    edges = tuple([_edge_to(g) for g in arriving]) + tuple(node.next_nodes)
    why = why or (f"minigrad has no double backward for {node.name()} (its backward is computed "
                  f"on arrays, not recorded)")
    results = []
    for g in grads:
        if g is None:
            results.append(None)
            continue
        g = np.asarray(g)
        results.append(Tensor._make(g, True, _NotTwiceDifferentiable(why, edges, g)))
    return tuple(results)


class _NotTwiceDifferentiable(Function):
    """grad_fn of a gradient that cannot be differentiated again: raises when
    a backward reaches it (PyTorch raises there too)."""

    def __init__(self, why, edges, array):
        self.why, self.next_nodes = why, edges
        self.needs_input_grad = tuple([e is not None for e in edges])
        self.output_shape, self.output_dtype = array.shape, array.dtype

    def name(self):
        return "NotTwiceDifferentiableBackward"

    @staticmethod
    def backward(node, grad_output):
        raise RuntimeError(f"cannot differentiate this gradient again: {node.why}. An op is "
                           f"differentiable twice when it defines backward_graph (see 'Gradients "
                           f"of gradients' in docs/01-autograd.md)")

    backward_graph = backward


class AccumulateGrad:
    """The graph node PyTorch shows for a leaf: backward adds into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad of a leaf of shape {tuple(self.variable.shape)}>"


# ---------------------------------------------------------- version counters
# In-place operations bump a counter per memory buffer (the base array that
# views share), so that backward can tell when an array it saved has been
# overwritten. Keyed by id() of the buffer; an entry disappears with its buffer.
_versions = {}


def _buffer(array):
    """The array that owns `array`'s memory (views share it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def version_of(array):
    """How many in-place operations have changed `array`'s memory."""
    entry = _versions.get(id(_buffer(array)))
    return 0 if entry is None else entry[0]


def bump_version(array):
    """Record one in-place change of `array`'s memory."""
    buffer = _buffer(array)
    key = id(buffer)
    entry = _versions.get(key)
    if entry is None or entry[1]() is not buffer:
        entry = [0, weakref.ref(buffer, lambda _, key=key: _versions.pop(key, None))]
        _versions[key] = entry
    entry[0] += 1


def _edge_to(arg):
    """Where the gradient for `arg` goes: its grad_fn, the leaf itself, or nowhere."""
    if not isinstance(arg, Tensor) or not arg.requires_grad:
        return None
    return arg.grad_fn if arg.grad_fn is not None else arg


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved "
    "tensors after they were freed). The saved arrays are freed after "
    "backward; pass retain_graph=True to the first backward() to keep them.")


def _postorder(roots, refuse_released):
    """Graph nodes reachable from `roots`, each after every node it depends on.

    Iterative depth-first search (a recursive one overflows Python's stack
    past ~1000 nodes). refuse_released: raise on a node that backward freed
    (grad() instead looks through them: released nodes keep their edges).
    """
    postorder, visited = [], set()
    stack = [(root, False) for root in roots]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            postorder.append(node)
            continue
        if node in visited:
            continue
        if refuse_released and node.__dict__.get("_released", False):
            raise RuntimeError(_FREED_MESSAGE)
        visited.add(node)
        stack.append((node, True))
        for parent in node.__dict__.get("next_nodes", ()):
            if isinstance(parent, Function) and parent not in visited:
                stack.append((parent, False))
    return postorder


def topological_order(root):
    """Graph nodes reachable from `root`, each before every node it depends on
    (the root first); raises on a node that an earlier backward freed."""
    return _postorder([root], refuse_released=True)[::-1]


def _output_gradient(name, tensor, gradient):
    """The gradient that starts a backward walk at `tensor`, as an array of its shape."""
    if not tensor.requires_grad:
        raise RuntimeError(f"{name}(): the tensor does not require grad and has no grad_fn "
                           "(did you forget requires_grad=True, or call it under no_grad?)")
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError(
                f"{name}(): grad can be implicitly created only for scalar outputs, but the "
                f"output has shape {tuple(tensor.shape)}; pass gradient= with that shape")
        return np.ones_like(tensor.array)
    gradient = np.asarray(gradient.array if isinstance(gradient, Tensor) else gradient,
                          dtype=tensor.array.dtype)
    if gradient.shape != tensor.array.shape:
        raise RuntimeError(f"{name}(): gradient has shape {gradient.shape} but the output "
                           f"has shape {tuple(tensor.shape)}")
    return gradient


def _recorded_gradient(given, gradient):
    """The starting gradient of a create_graph walk as a Tensor: the one the user
    gave if it is in a graph (so the result depends on it too), else a constant."""
    if isinstance(given, Tensor) and given.requires_grad and given.array.dtype == gradient.dtype:
        return given
    return Tensor._make(gradient, False, None)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (PyTorch's
    ``torch.autograd.backward``; ``t.backward(g)`` is ``backward(t, g)``).

    tensors: one Tensor or a sequence, with one gradient each in grad_tensors
    (None: ones, for a single-element tensor). create_graph=True records the
    backward pass itself, so the ``.grad`` it leaves can be differentiated
    again (retain_graph then defaults to True). inputs: accumulate only into
    these tensors (leaves or not).
    """
    if (type(tensors) is Tensor and not create_graph and inputs is None and grad_variables is None
            and not isinstance(grad_tensors, (list, tuple))):
        _backward_one(tensors, grad_tensors, bool(retain_graph))  # loss.backward(): the usual case
        return
    if grad_variables is not None:  # PyTorch's deprecated name
        grad_tensors = grad_variables
    if retain_graph is None:
        retain_graph = create_graph
    several = not isinstance(tensors, Tensor)
    tensors = tuple(tensors) if several else (tensors,)
    if (not several and isinstance(grad_tensors, (list, tuple)) and len(grad_tensors) == 1
            and isinstance(grad_tensors[0], Tensor)):
        grad_tensors = grad_tensors[0]  # backward(t, [g])
    if grad_tensors is None or isinstance(grad_tensors, (Tensor, np.ndarray)) or not several:
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"backward(): got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if inputs is not None:
        _backward_into(tensors, grad_tensors, retain_graph, create_graph, inputs)
        return
    deliver = _accumulate_recorded_into_leaf if create_graph else _accumulate_into_leaf
    pending, roots = {}, []
    for tensor, given in zip(tensors, grad_tensors):
        gradient = _output_gradient("backward", tensor, given)
        if create_graph:
            gradient = _recorded_gradient(given, gradient)
        if tensor.grad_fn is None:
            _backward_of_leaf(tensor, gradient, deliver)
            continue
        node = tensor.grad_fn
        pending[node] = pending[node] + gradient if node in pending else gradient
        roots.append(node)
    if not roots:
        return
    order = topological_order(roots[0]) if len(roots) == 1 else _postorder(roots, refuse_released=True)[::-1]
    previous = _grad_mode.enabled
    if create_graph:
        _grad_mode.enabled = True
    try:
        with _Walk(tensors, order):
            _propagate(order, pending, retain_graph, deliver, create_graph=create_graph)
    finally:
        _grad_mode.enabled = previous


def _backward_one(tensor, gradient, retain_graph):
    """backward() of one tensor, no graph recorded: the general path, with less to do."""
    gradient = _output_gradient("backward", tensor, gradient)
    if tensor.grad_fn is None:
        _backward_of_leaf(tensor, gradient, _accumulate_into_leaf)
        return
    order = topological_order(tensor.grad_fn)
    with _Walk((tensor,), order):
        _propagate(order, {tensor.grad_fn: gradient}, retain_graph, _accumulate_into_leaf)


def _backward_of_leaf(tensor, gradient, deliver):
    """backward() from a leaf: its gradient with respect to itself, through its hooks."""
    if _hooks.any_hooks():
        with _Walk((tensor,), ()):
            _hooks.deliver_leaf_with_hooks(tensor, gradient, _hooks.state_of(tensor), deliver, True)
    else:
        deliver(tensor, gradient)


def _backward_into(tensors, grad_tensors, retain_graph, create_graph, inputs):
    """backward(inputs=...): the gradients of `inputs` only, added to their ``.grad``."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = grad(tensors, inputs, grad_tensors, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)
    for x, g in zip(inputs, grads):
        if g is None:
            continue
        if create_graph:
            _accumulate_recorded_into_leaf(x, g)
        else:
            _accumulate_into_leaf(x, g.array, owned=True)


class _Walk:
    """The backward walk in progress on this thread (PyTorch's graph task): which
    tensors it reaches, for register_multi_grad_hook (minigrad/autograd_graph.py)."""

    _ids = itertools.count()
    _current = threading.local()

    def __init__(self, roots, order, needed=None):
        self.id = next(_Walk._ids)
        self.roots, self.order, self.needed = roots, order, needed
        self._nodes = self._leaves = None

    def reaches(self, tensor):
        """Whether this walk computes a gradient for `tensor`."""
        if any(tensor is root for root in self.roots):
            return True
        if not tensor.requires_grad:
            return False
        if self._nodes is None:
            self._nodes = set(self.order)
            self._leaves = {id(edge) for node in self.order for edge in node.__dict__.get("next_nodes", ())
                            if isinstance(edge, Tensor)}
        if tensor.grad_fn is not None:
            return tensor.grad_fn in self._nodes or (self.needed is not None and tensor.grad_fn in self.needed)
        return id(tensor) in self._leaves and (self.needed is None or tensor in self.needed)

    def __enter__(self):
        self.previous = getattr(_Walk._current, "walk", None)
        _Walk._current.walk = self
        return self

    def __exit__(self, *exc_info):
        _Walk._current.walk = self.previous
        return False


def _current_walk():
    """The walk this thread is in (PyTorch's _current_graph_task_id); raises outside one."""
    walk = getattr(_Walk._current, "walk", None)
    if walk is None:
        raise RuntimeError("expected this hook to be called inside a backward call")
    return walk


def _propagate(order, pending, retain_graph, deliver_to_leaf, watched=None, needed=None, create_graph=False):
    """The backward walk: each node of `order` (a topological order) runs its backward.

    pending: node -> sum of the gradients arriving at its output (the start).
    deliver_to_leaf(leaf, grad, owned) receives the gradients reaching leaves;
    watched (a dict of nodes, optional) is filled with the gradient arriving at
    each of its nodes' outputs. needed (a set of nodes and leaves, optional):
    only edges into it carry gradients, and backward is asked only for those
    (ctx.needs_input_grad says which, for the length of the call).
    create_graph: the gradients are Tensors and every backward is recorded as
    a graph of its own (see _backward_recording), so they can be differentiated.
    """
    observer = _observer
    # Tensor hooks (minigrad/autograd_hooks.py): None when no tensor has one,
    # so the plain walk pays one test per node.
    hooked = flush_after = None
    if _hooks.any_hooks():
        hooked = True
        deliver_to_leaf, flush_after = _hooks.gather_leaf_gradients(
            order, deliver_to_leaf, accumulates=deliver_to_leaf is _accumulate_into_leaf)
    anomaly = _hooks.anomaly.enabled and _hooks.anomaly.check_nan
    for node in order:
        grad_output = pending.pop(node, None)
        if grad_output is None:  # nothing flowed here (e.g. from a non-differentiable branch)
            if hooked and node in flush_after:
                flush_after.pop(node)()
            continue
        if node.__dict__.get("_released", False):
            raise RuntimeError(_FREED_MESSAGE)
        if node.output_shape is None:
            pass  # a node of several outputs: its gradients arrive gathered by output (see _OutputOf)
        elif grad_output.shape != node.output_shape:
            raise RuntimeError(
                f"the gradient reaching the output of {type(node).__name__} has shape "
                f"{tuple(grad_output.shape)}, but that output has shape {node.output_shape}: "
                f"the backward of an op that used it returned a wrongly shaped gradient")
        elif grad_output.dtype != node.output_dtype:  # a float64 consumer of a float32 output
            grad_output = grad_output.to(node.output_dtype) if create_graph else grad_output.astype(node.output_dtype)
        if hooked:
            grad_output = _hooks.run_node_hooks(node, grad_output)
        if watched is not None and node in watched:
            watched[node] = grad_output
        if hooked:
            grad_output = _hooks.run_node_pre_hooks(node, grad_output)
        edges = node.next_nodes
        if needed is not None:
            all_needs = node.needs_input_grad
            edges = tuple([e if e in needed else None for e in edges])
            node.needs_input_grad = tuple([e is not None for e in edges])
        if observer is not None:
            start = time.perf_counter()
        if create_graph:
            input_grads = _backward_recording(node, grad_output)
        else:
            input_grads = node.backward(node, grad_output)
        if observer is not None:
            observer.record_backward(node, time.perf_counter() - start)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if anomaly:
            _hooks.check_nan(node, input_grads)
        if hooked:
            input_grads = _hooks.run_node_post_hooks(node, input_grads, grad_output, edges)
        fresh = node.fresh_gradients and not create_graph
        for edge, grad in zip(edges, input_grads):
            if edge is None or grad is None:
                continue
            if isinstance(edge, Function):
                if edge in pending:
                    pending[edge] = pending[edge] + grad
                else:
                    pending[edge] = grad
            else:
                owned = (fresh and sum(g is grad for g in input_grads) == 1
                         and not np.may_share_memory(grad, grad_output))
                deliver_to_leaf(edge, grad, owned)
        if hooked and node in flush_after:
            flush_after.pop(node)()
        if retain_graph:
            if needed is not None:
                node.needs_input_grad = all_needs
        else:
            # Frees the saved arrays; the edges stay, so that grad() can still
            # tell which released nodes lie between its outputs and inputs.
            edges = node.next_nodes
            tensor_hooks = node.__dict__.get("_tensor_hooks") if hooked else None
            node.__dict__.clear()
            node._released = True
            node.next_nodes = edges
            if tensor_hooks is not None:  # t.retains_grad still answers after backward
                node._tensor_hooks = tensor_hooks
    if hooked:
        for flush in list(flush_after.values()):  # leaves whose last user did not run
            flush()


def _subgraph_between(roots, input_nodes, input_leaves):
    """The part of the graph that grad() walks: the nodes on a path from `roots`
    to an input, in topological order, and the set of nodes and leaves that
    gradients flow into.

    A node runs its backward only if one of its edges leads to an input; an
    input's own node runs only when another input lies below it. Released
    nodes keep their edges, so the search sees through them (running one
    raises, in _propagate).
    """
    postorder = _postorder(roots, refuse_released=False)
    # Inputs before the nodes above them: a node is needed if it is an input
    # or an edge of it leads to a needed node or an input leaf.
    needed = {id(leaf): leaf for leaf in input_leaves}
    runs = set()
    for node in postorder:
        if any(id(edge) in needed for edge in node.__dict__.get("next_nodes", ()) if edge is not None):
            runs.add(node)
        if node in runs or node in input_nodes:
            needed[id(node)] = node
    order = [node for node in reversed(postorder) if node in runs]
    return order, _IdentitySet(needed.values())


class _IdentitySet:
    """Membership by identity (a leaf Tensor's == is elementwise, not a test)."""

    def __init__(self, items):
        self.ids = {id(item) for item in items}
        self.items = list(items)  # keeps the ids valid

    def __contains__(self, item):
        return id(item) in self.ids


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """d(outputs)/d(inputs), returned instead of accumulated into ``.grad`` (PyTorch's
    ``torch.autograd.grad``): one gradient per input, weighted by grad_outputs
    (ones for a scalar output); no tensor's ``.grad`` changes.

    Only the graph between the outputs and the inputs is walked: nodes that
    lead to no input are skipped and the walk stops at the inputs, so the
    graph below a non-leaf input is neither run nor freed (and may already
    have been freed). retain_graph (default False) keeps the walked part.

    create_graph=True records the backward pass, so the gradients returned can
    be differentiated again (gradient penalties, Hessian-vector products);
    retain_graph then defaults to True. An input the outputs don't depend on
    raises unless allow_unused=True (its gradient is then None, or zeros with
    materialize_grads).
    """
    if retain_graph is None:
        retain_graph = create_graph
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad(): input {k} does not require grad (every input must be a Tensor "
                               f"with requires_grad=True)")

    leaf_positions = {id(x): k for k, x in enumerate(inputs) if x.grad_fn is None}
    watched = {x.grad_fn: None for x in inputs if x.grad_fn is not None}
    found = [None] * len(inputs)

    def add(k, g):
        if create_graph:  # Tensors, in the graph
            found[k] = g if found[k] is None else found[k] + g
        else:
            found[k] = np.array(g, dtype=inputs[k].array.dtype, copy=True) if found[k] is None else found[k] + g

    def deliver_to_leaf(leaf, g, owned=False):
        k = leaf_positions.get(id(leaf))
        if k is not None:
            add(k, g)

    pending, roots = {}, []
    walk = _Walk(outputs, ())
    with walk:
        for output, weight in zip(outputs, grad_outputs):
            gradient = _output_gradient("grad", output, weight)
            if create_graph:
                gradient = _recorded_gradient(weight, gradient)
            if output.grad_fn is None:
                _hooks.deliver_leaf_with_hooks(output, gradient, _hooks.state_of(output), deliver_to_leaf, False)
                continue
            node = output.grad_fn
            pending[node] = pending[node] + gradient if node in pending else gradient
            roots.append(node)
        order, needed = _subgraph_between(roots, watched, [x for x in inputs if x.grad_fn is None])
        walk.order, walk.needed = order, needed
        previous = _grad_mode.enabled
        if create_graph:
            _grad_mode.enabled = True
        try:
            _propagate(order, pending, bool(retain_graph), deliver_to_leaf, watched, needed, create_graph)
        finally:
            _grad_mode.enabled = previous
        for node in watched:  # an input's node that did not run: what reached it is still pending
            if watched[node] is None and pending.get(node) is not None:
                watched[node] = _hooks.run_node_hooks(node, pending[node])
    for k, x in enumerate(inputs):
        if x.grad_fn is not None and watched.get(x.grad_fn) is not None:
            add(k, watched[x.grad_fn])
    results = []
    for k, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(f"grad(): input {k} appears not to have been used in the graph. "
                                   f"Set allow_unused=True if this is the desired behavior.")
            results.append(Tensor._make(np.zeros_like(x.array), False, None) if materialize_grads else None)
        elif isinstance(g, Tensor):  # create_graph: in the graph (a copy if it is a constant)
            if g.array.dtype != x.array.dtype:
                g = g.to(x.array.dtype)
            results.append(g if g.requires_grad else Tensor._make(np.array(g.array, copy=True), False, None))
        else:
            results.append(Tensor._make(g, False, None))
    return tuple(results)


def _accumulate_into_leaf(leaf, grad, owned=False):
    """owned: `grad` is a fresh array nothing else refers to (see Function.fresh_gradients)."""
    grad = np.asarray(grad)
    if grad.shape != leaf.array.shape:
        raise RuntimeError(f"internal error: gradient of shape {grad.shape} for a leaf of "
                           f"shape {leaf.array.shape}")
    if leaf.grad is None:
        if owned and grad.dtype == leaf.array.dtype and grad.flags.writeable:
            leaf.grad = Tensor._make(grad, False, None)
            return
        # A private copy: the same array may be handed to several leaves.
        leaf.grad = Tensor._make(np.array(grad, dtype=leaf.array.dtype, copy=True), False, None)
    elif leaf.grad.grad_fn is not None:  # left by a create_graph backward: its array is in a graph
        leaf.grad = Tensor._make(leaf.grad.array + grad.astype(leaf.array.dtype, copy=False), False, None)
    else:
        np.add(leaf.grad.array, grad, out=leaf.grad.array, casting="unsafe")


def _accumulate_recorded_into_leaf(leaf, grad, owned=False):
    """A create_graph backward's gradient (a Tensor) added to ``leaf.grad``
    out of place, so that ``.grad`` stays differentiable."""
    if grad.array.dtype != leaf.array.dtype:
        grad = grad.to(leaf.array.dtype)
    if grad.shape != leaf.shape:
        raise RuntimeError(f"internal error: gradient of shape {tuple(grad.shape)} for a leaf of "
                           f"shape {tuple(leaf.shape)}")
    if leaf.grad is None:
        leaf.grad = grad if grad.requires_grad else Tensor._make(np.array(grad.array, copy=True), False, None)
    else:
        leaf.grad = leaf.grad + grad


# Last: tensor.py needs Function defined first; gradcheck needs Tensor and backward.
# autograd_hooks: tensor hooks and anomaly mode, which the backward walk consults.
from minigrad import autograd_hooks as _hooks  # noqa: E402
from minigrad.finite_differences import GradcheckError, gradcheck, gradgradcheck  # noqa: E402, F401
from minigrad.tensor import Tensor  # noqa: E402

# PyTorch's torch.autograd.detect_anomaly and friends.
detect_anomaly, set_detect_anomaly = _hooks.detect_anomaly, _hooks.set_detect_anomaly
is_anomaly_enabled, set_anomaly_enabled = _hooks.is_anomaly_enabled, _hooks.set_anomaly_enabled
is_anomaly_check_nan_enabled = _hooks.is_anomaly_check_nan_enabled

# PyTorch's ``torch.autograd.function`` (Function, once_differentiable) is this module.
function = sys.modules[__name__]
sys.modules[__name__ + ".function"] = function
