"""``minigrad.autograd.graph`` (PyTorch's torch.autograd.graph): hooks on what
the graph saves, and on the gradients of several tensors at once.

- ``with saved_tensors_hooks(pack_hook, unpack_hook):`` every value a
  Function saves with ``ctx.save_for_backward`` inside the block is stored
  as ``pack_hook(tensor)``; backward reads ``unpack_hook(packed)`` instead
  (at every access of ``ctx.saved_tensors``). Typical uses: keep saved
  activations compressed, on disk, or (save_on_cpu) on the host.
  minigrad's own ops save NumPy arrays: the pack hook sees each as a Tensor
  that does not require grad, and the array inside what unpack returns is
  what backward uses. Values an op keeps as ctx attributes are not saved
  tensors and are not packed (as in PyTorch).
- ``disable_saved_tensors_hooks(message)``: inside it, using saved tensors
  hooks raises ``RuntimeError(message)``.
- ``register_multi_grad_hook(tensors, fn, mode="all"|"any")``.
- ``Node``: the abstract class every ``grad_fn`` is an instance of; nodes take
  ``register_hook`` and ``register_prehook`` (minigrad/autograd_hooks.py).
- ``increment_version(tensor)``: bump the version counter that backward
  checks saved values against (minigrad.autograd.bump_version).
"""
import abc
import contextlib
import threading
from collections import defaultdict

from minigrad import autograd
from minigrad.autograd_hooks import RemovableHandle
from minigrad.tensor import Tensor

_state = autograd._saved_tensors_hooks


class Node(abc.ABC):
    """What every ``grad_fn`` is (PyTorch's torch.autograd.graph.Node), for isinstance:
    minigrad's nodes are Function instances (and AccumulateGrad for leaves), with
    ``name()``, ``next_functions``, ``metadata``, ``register_hook`` and ``register_prehook``."""

    @abc.abstractmethod
    def name(self):
        """The node's name, e.g. ``MulBackward0``."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """One (node, 0) pair per input."""

    @classmethod
    def __subclasshook__(cls, subclass):
        if cls is Node:
            # A user's PyTorch-style Function is a node through its ctx class (_CustomFunctionBackward).
            if issubclass(subclass, autograd._CustomFunctionBackward) or subclass is autograd.AccumulateGrad:
                return True
            if issubclass(subclass, autograd.Function) and subclass.works_on_arrays:
                return True
        return NotImplemented


class _PackedValue:
    """One saved value as the pack hook returned it, and how to get it back."""

    __slots__ = ("packed", "unpack_hook", "was_array")

    def __init__(self, packed, unpack_hook, was_array):
        self.packed, self.unpack_hook, self.was_array = packed, unpack_hook, was_array

    def unpack(self):
        result = self.unpack_hook(self.packed)
        if not isinstance(result, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result "
                            f"of type {type(result).__name__}")
        return result.array if self.was_array else result


class _Unhooked:
    """A saved value that is not a tensor (None, a number): kept as it is."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def unpack(self):
        return self.value


def pack_saved(values, pack_hook, unpack_hook):
    """What save_for_backward stores inside saved_tensors_hooks (see Function.save_for_backward)."""
    if _state.disabled_message is not None:
        raise RuntimeError(_state.disabled_message)
    packed = []
    for value in values:
        if isinstance(value, Tensor):
            tensor, was_array = value, False
        elif isinstance(value, autograd.np.ndarray):
            tensor, was_array = Tensor._make(value, False, None), True
        else:
            packed.append(_Unhooked(value))
            continue
        version = tensor._version
        result = pack_hook(tensor)
        if tensor._version != version:
            raise RuntimeError("A saved tensor pack hook is modifying its input in place. Tensors provided "
                               "as input to pack hook cannot be modified by in-place operations as this can "
                               "lead to unexpected side-effects. Please open an issue if you need to perform "
                               "in-place operations on the input to a pack hook.")
        packed.append(_PackedValue(result, unpack_hook, was_array))
    return tuple(packed)


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are packed by
    ``pack_hook(tensor) -> anything`` and read back by ``unpack_hook(packed) -> Tensor``.
    Blocks nest; the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _state.disabled_message is not None:
            raise RuntimeError(_state.disabled_message)
        _state.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc_info):
        _state.stack.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept in CPU memory and moved back to their device for backward.
    minigrad has only the CPU: without pin_memory the saved tensor is the tensor itself
    (``tensor.cpu()``), with pin_memory=True a copy (PyTorch copies into pinned memory)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            return (tensor.device, tensor.detach().clone())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside it, saved_tensors_hooks raise ``RuntimeError(error_message)``; entering it
    while saved tensors hooks are active raises it at once (as in PyTorch)."""
    previous = _state.disabled_message
    try:
        _state.disabled_message = error_message
        if _state.stack:
            raise RuntimeError(error_message)
        yield
    finally:
        _state.disabled_message = previous


def increment_version(tensor):
    """Bump the version counter of `tensor` (or of each tensor of an iterable), as an
    in-place operation does: backward then refuses values saved before."""
    tensors = (tensor,) if isinstance(tensor, Tensor) else tuple(tensor)
    for t in tensors:
        autograd.bump_version(t.array)


class _MultiHandle(RemovableHandle):
    """Removes the tensor hooks of one register_multi_grad_hook call."""

    def __init__(self, handles):
        self.handles = tuple(handles)

    def remove(self):
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """mode="all": ``fn(grads)`` runs once per backward, after the gradients of every
    tensor of `tensors` that this backward reaches are computed (grads: one per tensor,
    None for those not reached). mode="any": ``fn(grad)`` runs once per backward, with
    the first of their gradients to be computed."""
    supported_modes = ("all", "any")
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == "all":
        count, buffer = {}, {}
        expected = {}

        def inner_hook(index):
            def hook(grad):
                walk = autograd._current_walk()
                with lock:
                    seen = count.get(walk.id, 0)
                    count[walk.id] = seen + 1
                    if seen == 0:
                        expected[walk.id] = sum(walk.reaches(t) for t in tensors)
                        buffer[walk.id] = [None] * len(tensors)
                buffer[walk.id][index] = grad
                if seen == expected[walk.id] - 1:
                    grads = buffer.pop(walk.id)
                    del count[walk.id], expected[walk.id]
                    fn(grads)
            return hook

        handles = [t.register_hook(inner_hook(i)) for i, t in enumerate(tensors)]
    else:
        ran = defaultdict(bool)

        def wrapped(grad):
            walk = autograd._current_walk()
            with lock:
                already, ran[walk.id] = ran[walk.id], True
            if not already:
                fn(grad)

        handles = [t.register_hook(wrapped) for t in tensors if t.requires_grad]
    return _MultiHandle(handles)
