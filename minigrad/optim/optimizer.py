"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

An optimizer holds
- ``param_groups``: a list of dicts, each with a ``'params'`` list of leaf
  Tensors and that group's hyper-parameters (``'lr'``, ``'momentum'``, ...);
  hyper-parameters missing from a group come from ``defaults``,
- ``state``: a dict from parameter Tensor to its buffers (momentum, running
  averages, step counts),
- ``defaults``: the constructor's hyper-parameters.

Subclasses implement ``step()`` as plain NumPy on ``p.array`` and
``p.grad.array``, updating arrays in place (``out=``) so that parameters keep
their identity and no per-element Python runs.

``state_dict()`` follows PyTorch's layout exactly: parameters are replaced by
their index in the order they appear across the groups, so a state dict can be
loaded into an optimizer built over a different (but same-shaped) model.
"""
import copy
import math

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.nn.module import zero_grads
from minigrad.tensor import Tensor


def check_non_negative(name, value):
    """Raise ValueError naming `name` unless `value` is a real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {name}: {value!r} (expected a number >= 0)")


def check_betas(betas):
    """Raise ValueError unless `betas` is a pair of numbers in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) \
                or not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta!r} "
                             f"(expected a number in [0, 1))")


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors (requires_grad leaves), or of dicts
            ``{'params': [...], 'lr': ...}`` defining parameter groups with
            their own hyper-parameters.
        defaults: the hyper-parameters of groups that don't set their own.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got a single {type(params).__name__}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets changes between runs; use a list")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------- validation
    def _validate(self, group):
        """Raise ValueError for invalid hyper-parameters in `group` (subclasses override)."""

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (e.g. a new layer to fine-tune)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("param_group must have a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets changes between runs; use a list")
        else:
            params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(param).__name__}")
            if param.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor (it was computed by an "
                                 "operation); optimize the leaves it came from")
            if param.array.dtype.kind != "f":
                raise ValueError(f"can only optimize floating point Tensors, got dtype "
                                 f"{param.array.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        group["params"] = params

        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)

        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set ``p.grad`` to None (default) or fill it with zeros."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        raise NotImplementedError(f"{type(self).__name__} must define step (abstract)")

    def _evaluate_closure(self, closure):
        # The closure recomputes the loss and calls backward (LBFGS-style);
        # it needs the graph even if step() itself runs under no_grad.
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _params_with_grad(self, group):
        """(param, param array, grad array) for each parameter of `group` that has a grad."""
        for param in group["params"]:
            if param.grad is None:
                continue
            grad = param.grad.array if isinstance(param.grad, Tensor) else np.asarray(param.grad)
            if grad.shape != param.array.shape:
                raise RuntimeError(f"gradient of shape {grad.shape} does not match its parameter "
                                   f"of shape {param.array.shape}")
            yield param, param.array, grad

    # ------------------------------------------------------------ state dicts
    def state_dict(self):
        """``{'state': {index: buffers}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are numbered in the order they appear across the groups,
        as in PyTorch. Buffers are returned by reference (save them to copy).
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(param)]: buffers for param, buffers in self.state.items()
                 if id(param) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore buffers and hyper-parameters saved by ``state_dict()`` (copies them)."""
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must be a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for index, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict's parameter group {index} has "
                                 f"{len(saved['params'])} parameters, this optimizer's has "
                                 f"{len(group['params'])}")

        param_of = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for saved_index, param in zip(saved["params"], group["params"]):
                param_of[saved_index] = param

        self.state = {}
        for key, buffers in state_dict["state"].items():
            if key not in param_of:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which is "
                                 f"in none of its parameter groups")
            param = param_of[key]
            self.state[param] = {name: self._cast_buffer(param, name, value)
                                 for name, value in buffers.items()}

        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = copy.deepcopy({key: value for key, value in saved.items() if key != "params"})
            restored["params"] = group["params"]
            new_groups.append(restored)
        self.param_groups = new_groups

    def _buffer(self, param, name, fill=0.0):
        """The state buffer `name` of `param` (a Tensor like it), created filled with `fill`."""
        state = self.state.setdefault(param, {})
        if name not in state:
            state[name] = Tensor._make(np.full_like(param.array, fill), False, None)
        return state[name].array

    @staticmethod
    def _cast_buffer(param, name, value):
        """Copy a saved buffer; tensors take the parameter's dtype (except the step count)."""
        if isinstance(value, (Tensor, np.ndarray)):
            array = value.array if isinstance(value, Tensor) else value
            if name != "step" and array.dtype.kind == "f":
                if array.shape != param.array.shape:
                    raise ValueError(f"loaded buffer {name!r} has shape {array.shape}, its "
                                     f"parameter has shape {param.array.shape}")
                array = array.astype(param.array.dtype, copy=True)
            else:
                array = array.copy()
            return Tensor._make(array, False, None)
        return copy.deepcopy(value)
