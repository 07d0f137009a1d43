"""Forward-mode AD (PyTorch's ``torch.autograd.forward_ad``), computed from the reverse-mode graph.

    with forward_ad.dual_level():
        x_dual = forward_ad.make_dual(x, v)     # x with the tangent v
        y = f(x_dual)
        y_primal, jvp = forward_ad.unpack_dual(y)   # f(x) and J v

PyTorch carries a tangent along with every op. minigrad records the usual
graph instead and reads the tangent off it when ``unpack_dual`` asks, by the
double-vjp trick: for y = f(x), with u a dummy cotangent the shape of y,

    g(u) = J^T u          (a backward with create_graph=True: linear in u)
    J v  = d(g . v)/du    (a backward of g with respect to u, weighted by v)

so ``J v`` costs two backward passes over the part of the graph between y and
the dual tensors, and needs every op on the way to have a ``backward_graph``
(they all do). With several dual tensors x_i, the tangent is sum_i J_i v_i.
It is computed once per tensor (cached) while the level is open; leaving the
level drops every tangent, so unpack_dual then returns ``(primal, None)``.

A dual tensor is a new Tensor aliasing the primal's memory whose grad_fn (a
``ViewBackward0`` node) holds the tangent and the level. Inside a level, ops on
dual tensors are recorded even under ``no_grad`` (forward AD ignores grad mode
in PyTorch too; see ``_record_for_forward_ad`` in minigrad/autograd.py), then
with edges to the dual inputs only, so no ordinary gradient flows through them.
The primal and tangent unpack_dual returns are not dual: ops on them carry no
tangent of this level (a node in front of them cuts the forward-AD path),
while an ordinary backward still flows through them to whatever requires grad
(the primal x, a tangent that requires grad: backward-over-forward works).

Where minigrad differs from PyTorch (a consequence of reading tangents off the
reverse graph):
- a dual tensor and every result computed from it have ``requires_grad=True``
  and a grad_fn, even when the primal does not require grad (PyTorch: False,
  and the dual tensor is a leaf when its primal is). A backward from such a
  result reaches only tensors that really require grad, so ``.grad`` values
  are PyTorch's.
- the graph must still be there when unpack_dual runs: unpack tangents before
  a ``backward()`` that frees it (or pass ``retain_graph=True``); and, as for a
  backward, changing in place a value that an op saved makes unpack_dual raise
  (PyTorch computes tangents as it goes, so it does not). A tangent's own graph
  runs through the primal's, so a backward through a tangent frees the primal's
  graph too unless it is given ``retain_graph=True``.
- a user's ``autograd.Function`` gets its tangent from its ``backward`` (which
  must then be differentiable) rather than from a ``jvp`` staticmethod; and
  under ``no_grad`` neither a user's Function nor an in-place op on a dual
  tensor records a tangent (ops outside a user Function do).
- as in PyTorch, levels do not nest (entering a second one raises).
"""
import threading
import weakref
from typing import NamedTuple

import numpy as np

from minigrad import autograd
from minigrad.autograd import Function, Tensor

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "dual_level"]

# The index of the open level (-1: none), as PyTorch's module keeps it.
_current_level = -1


class _Level:
    """An open level: the dual nodes made in it and the tangents computed so far.
    Its identity (not its index, which is reused) marks the nodes recorded in it."""

    def __init__(self, index):
        self.index = index
        self.dual_nodes = []   # weak references to the _MakeDual nodes of this level
        self.tangents = {}     # id(tensor) -> (weakref to it, its grad_fn, its tangent)


_level = None  # the open _Level


def enter_dual_level():
    """Open a forward-AD level (PyTorch allows one at a time); returns its index."""
    global _current_level, _level
    if _level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _level = _Level(_current_level + 1)
    _current_level = _level.index
    autograd._dual_level = _level
    return _current_level


def exit_dual_level(*, level=None):
    """Close the open level: every tangent made or computed in it is dropped."""
    global _current_level, _level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one "
                           "that was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    for node_ref in _level.dual_nodes:
        node = node_ref()
        if node is not None:
            node.tangent = None
    _level.tangents.clear()
    _level = None
    autograd._dual_level = None
    _current_level = level - 1


class dual_level:
    """``with dual_level():`` (or ``@dual_level()``) enters a level and exits it at the end."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc_info):
        exit_dual_level()
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with dual_level():
                return function(*args, **kwargs)
        return wrapper


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal and the tangent (None: no tangent at this level)."""

    primal: Tensor
    tangent: Tensor | None


class _MakeDual(Function):
    """The grad_fn of a dual tensor: an alias of the primal that holds the tangent.
    Backward passes the gradient on to the primal unchanged."""

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_graph = backward

    def name(self):
        return "ViewBackward0"  # PyTorch's dual tensor is a view of the primal


class _ThreadState(threading.local):
    computing_tangent = False


_state = _ThreadState()


class _NotDual(Function):
    """The grad_fn of unpack_dual's primal and tangent: passes an ordinary gradient
    on, but none while a tangent is being computed, so they carry no tangent."""

    @staticmethod
    def backward(ctx, grad):
        return None if _state.computing_tangent else grad

    backward_graph = backward

    def name(self):
        return "AliasBackward0"


def _alias(tensor, node_class):
    """A new Tensor on `tensor`'s memory whose grad_fn (a node_class) leads to `tensor`."""
    node = node_class()
    node.needs_input_grad = (tensor.requires_grad,)
    node.next_nodes = (autograd._edge_to(tensor),)
    array = tensor.array.view()  # a new array object: ids tell outputs of nodes apart
    node.output_shape, node.output_dtype, node._output_id = array.shape, array.dtype, id(array)
    return Tensor._make(array, True, node)


def _check_level(level, function_name):
    if level is None:
        level = _current_level
    if level < 0:
        return None
    if level != _current_level:
        raise RuntimeError(f"Invalid level given to {function_name}")
    return _level


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: `tensor`'s values (the same memory) with `tangent` as its
    forward gradient. Ops on it propagate ``J tangent``; see unpack_dual."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                           "exists, make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: minigrad.{tensor.array.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: minigrad.{tangent.array.dtype}")
    current = _check_level(level, "_make_dual")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of "
                           f"the original Tensor, this is not supported. Tensor is of size "
                           f"{list(tensor.shape)} while the given forward gradient is of size "
                           f"{list(tangent.shape)}.")
    if _walk(tensor, current)[0]:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    dual = _alias(tensor, _MakeDual)
    node = dual.grad_fn
    node.tangent, node._dual_level, node.dual_array = tangent, current, dual.array
    current.dual_nodes.append(weakref.ref(node))
    return dual


def _walk(tensor, level):
    """The dual nodes of `level` that `tensor`'s graph reaches, and whether it also
    reaches a tensor that really requires grad (a leaf, a dual's primal...)."""
    found, really_requires_grad = [], False
    if not tensor.requires_grad or tensor.grad_fn is None:
        return found, tensor.requires_grad
    stack, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    while stack:  # iterative: graphs may be deep
        node = stack.pop()
        if isinstance(node, _MakeDual) and node.__dict__.get("_dual_level") is level:
            found.append(node)
            really_requires_grad = really_requires_grad or node.next_nodes[0] is not None
            continue
        if isinstance(node, _NotDual):
            really_requires_grad = True  # made only for a tensor that really requires grad
            continue
        for edge in node.__dict__.get("next_nodes", ()):
            if edge is None:
                continue
            if isinstance(edge, Tensor):  # a leaf that requires grad
                really_requires_grad = True
            elif id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
    return found, really_requires_grad


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of `tensor`: its values, and ``sum_i J_i t_i`` over the
    dual tensors x_i (tangents t_i) of the level it was computed from (None if none)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, "
                        f"not {type(tensor).__name__}")
    if _level is None or level != _current_level:
        if _level is not None and level > _current_level:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(tensor.view_as(tensor), None)  # a closed level: no tangents
    current = _level
    duals, really_requires_grad = _walk(tensor, current) if tensor.array.dtype.kind in "fc" else ([], False)
    if not duals:
        return UnpackedDualTensor(tensor.view_as(tensor), None)
    if really_requires_grad:  # the primal stays in the ordinary graph
        primal = _alias(tensor, _NotDual)
    else:
        primal = Tensor._make(tensor.array.view(), False, None)
    node = tensor.grad_fn
    if isinstance(node, _MakeDual) and node.__dict__.get("_dual_level") is current:
        return UnpackedDualTensor(primal, node.tangent)  # a dual tensor's own tangent, as given
    cached = current.tangents.get(id(tensor))
    if cached is not None and cached[0]() is tensor and cached[1] is node:
        return UnpackedDualTensor(primal, cached[2])
    tangent = _tangent(tensor, duals, really_requires_grad)
    current.tangents[id(tensor)] = (weakref.ref(tensor), node, tangent)
    return UnpackedDualTensor(primal, tangent)


def _tangent(y, duals, really_requires_grad):
    """sum_i J_i t_i by the double-vjp trick (see the module docstring)."""
    inputs = [Tensor._make(node.dual_array, True, node) for node in duals]
    # Differentiable (backward-over-forward) only if something really requires grad.
    differentiable = autograd.is_grad_enabled() and (
        really_requires_grad or any(node.tangent.requires_grad for node in duals))
    previous = _state.computing_tangent
    _state.computing_tangent = True
    try:
        with autograd.enable_grad():
            u = Tensor._make(np.zeros_like(y.array), True, None)  # g = J^T u is linear in u
            gradients = autograd.grad(y, inputs, u, create_graph=True, allow_unused=True)
        used = [(g, node.tangent) for g, node in zip(gradients, duals) if g is not None and g.requires_grad]
        jvp = None
        if used:
            with autograd.set_grad_enabled(differentiable):
                weights = [t if t.dtype == g.dtype else t.to(g.dtype) for g, t in used]
                jvp, = autograd.grad([g for g, _ in used], u, weights, retain_graph=True,
                                     create_graph=differentiable, allow_unused=True)
    finally:
        _state.computing_tangent = previous
    if jvp is None:  # y depends on the duals only through ops of zero derivative
        return Tensor._make(np.zeros_like(y.array), False, None)
    if jvp.requires_grad:
        return _alias(jvp, _NotDual)  # in the ordinary graph, but not dual itself
    return jvp
