"""``Module`` and ``Parameter``: how layers hold their state, as in torch.nn.

A Module keeps three ordered dictionaries, filled in automatically by
attribute assignment (``__setattr__``):

- ``_parameters``: ``Parameter``s (tensors trained by the optimizer),
- ``_buffers``: tensors that are state but not trained (batch norm's
  running mean), registered with ``register_buffer``,
- ``_modules``: sub-modules.

``state_dict()`` walks them recursively and names every entry by its path
(``features.0.weight``, ``1.running_mean``): the same keys PyTorch
produces for the same model, so checkpoints can be compared side by side.
"""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from minigrad.autograd import no_grad
from minigrad.autograd_hooks import RemovableHandle  # one handle class for tensor and module hooks
from minigrad.devices import check_device
from minigrad.nn import module_hooks
from minigrad.nn.buffer import Buffer
from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor, _parse_to


class Parameter(Tensor):
    """A Tensor that is a module's trainable state (requires_grad=True by default).

    Assigning one as a module attribute registers it: ``self.weight =
    Parameter(...)`` makes it appear in ``parameters()`` and ``state_dict()``.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=get_default_dtype())
        array = data.array if isinstance(data, Tensor) else data
        if not isinstance(array, np.ndarray):
            array = np.asarray(array, dtype=get_default_dtype())
        # Share memory with `data`, as torch.nn.Parameter does.
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.array, self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        copy = Parameter(self.array.copy(), self.requires_grad)
        memo[id(self)] = copy
        return copy



# What load_state_dict returns, as torch's _IncompatibleKeys.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _shape_text(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def zero_grads(params, set_to_none=True):
    """Forget the gradients of `params`: set ``p.grad`` to None (default) or fill it with zeros.

    Module.zero_grad and Optimizer.zero_grad both come here."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        elif param.grad.grad_fn is not None:  # left by backward(create_graph=True): detached, not
            param.grad = type(param.grad)._make(np.zeros_like(param.grad.array), False, None)  # zeroed in its graph
        else:
            param.grad.array[...] = 0


class Module:
    """Base class of every layer and model.

    Subclasses define ``__init__`` (create parameters and sub-modules as
    attributes, after calling ``super().__init__()``) and ``forward``.
    Call the module (``module(x)``), not ``forward``: ``__call__`` also runs
    the registered hooks.
    """

    training = True

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_forward_hooks_always_called", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_is_full_backward_hook", None)

    def forward(self, *args, **kwargs):  # abstract: every layer defines it
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required (abstract) '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        if not self._has_hooks():  # the usual case: no hooks
            return self.forward(*args, **kwargs)
        return module_hooks.call_with_hooks(self, args, kwargs)  # minigrad/nn/module_hooks.py

    def __setstate__(self, state):
        # A module pickled before it had every hook registry gets the empty ones (as torch does).
        self.__dict__.update(state)
        for name in ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs",
                     "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs",
                     "_backward_hooks", "_backward_pre_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_is_full_backward_hook", None)

    def _has_hooks(self):
        """Whether calling this module runs any hook (its own or a global one)."""
        return bool(self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                    or self._backward_pre_hooks or module_hooks.has_any_global_hook())

    # ------------------------------------------------------------ registration
    def _check_ready(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to {type(self).__name__} before "
                                 f"Module.__init__() call (call super().__init__() first)")

    @staticmethod
    def _check_name(name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None for an absent one like bias=False)."""
        self._check_ready()
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (minigrad.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register non-trained state (saved in state_dict unless persistent=False)."""
        self._check_ready()
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        self._check_ready()
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_ready()
            self._remove_from(name, self.__dict__, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(minigrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._check_ready()
            self._remove_from(name, self.__dict__, self._parameters, self._buffers)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (Module or None expected)")
            self._modules[name] = None
        elif isinstance(value, Buffer):    # nn.Buffer registers itself, with its persistent flag
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(nn.Buffer, Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, *dicts):
        for d in dicts:
            if name in d:
                del d[name]

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # ------------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; may return new args (a tuple, or one
        value). with_kwargs: hook(module, args, kwargs) -> None or (new_args, new_kwargs).
        prepend: run before the hooks already registered."""
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) runs after forward; may return a new output.
        with_kwargs: hook(module, args, kwargs, output). always_call: it runs even
        when forward (or an earlier hook) raises. prepend: run before the others."""
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> None or new grad_output (a tuple of the same
        length) runs when the gradients with respect to the outputs arrive."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """Deprecated (as in PyTorch): hook(module, grad_input, grad_output) on the node that
        made the module's (first) output, so grad_input holds the gradients of that last
        op's inputs, not necessarily of the module's; use register_full_backward_hook."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        self._is_full_backward_hook = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or new grad_input runs once the
        gradients with respect to the positional inputs are computed (with respect to the
        outputs when no input requires grad). Entries are None for non-Tensor arguments."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    # --------------------------------------------------------------- iteration
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and all below it, depth first ('' for self)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, Parameter) pairs; a parameter shared by two layers appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        module = self
        if target == "":
            return module
        for part in target.split("."):
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            module = module._modules[part]
        return module

    # ------------------------------------------------------------------- modes
    def train(self, mode=True):
        """Training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def share_memory(self):
        """Move every parameter and buffer into shared memory (``Tensor.share_memory_``), so
        that processes forked afterwards (minigrad.multiprocessing) train the same weights."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.share_memory_()
        return self

    def zero_grad(self, set_to_none=True):
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn):
        """Call fn on every sub-module (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------- dtype
    def _cast_floating(self, dtype):
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for value in registry.values():
                    if value is None or value.dtype.kind != "f":
                        continue
                    value.array = value.array.astype(dtype)
                    if value.grad is not None:
                        value.grad.array = value.grad.array.astype(dtype)
        return self

    def to(self, *args, **kwargs):
        """module.to(device), .to(dtype), .to(device, dtype), .to(tensor): cast floating
        parameters and buffers in place. The device must be the CPU (minigrad/devices.py)."""
        dtype, _ = _parse_to(None, *args, **kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
        return self._cast_floating(dtype)

    def cpu(self):
        return self

    def cuda(self, device=None):
        check_device("cuda" if device is None else device)
        return self

    def half(self):
        return self._cast_floating(np.dtype(np.float16))

    def float(self):
        return self._cast_floating(np.dtype(np.float32))

    def double(self):
        return self._cast_floating(np.dtype(np.float64))

    # -------------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Ordered {name: tensor} of every parameter and persistent buffer.

        Values share memory with the module (as in PyTorch); with
        keep_vars=False they are detached tensors, with keep_vars=True the
        Parameters themselves.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys,
                              error_messages):
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers}
        local = itertools.chain(self._parameters.items(), persistent.items())
        for name, target in local:
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.array.shape:
                error_messages.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_shape_text(array.shape)} from checkpoint, the shape in current model is "
                    f"{_shape_text(target.array.shape)}.")
                continue
            with no_grad():
                np.copyto(target.array, array, casting="unsafe")

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into parameters and buffers, matched by key.

        Returns (missing_keys, unexpected_keys). With strict=True, any
        missing or unexpected key is an error naming them; a shape mismatch
        is always an error naming the key and both shapes.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}")
        missing, unexpected, errors = [], [], []
        expected_keys = set()
        for prefix, module in self.named_modules(remove_duplicate=False):
            module_prefix = prefix + "." if prefix else ""
            module._load_from_state_dict(state_dict, module_prefix, missing, unexpected, errors)
            for name, value in module._parameters.items():
                if value is not None:
                    expected_keys.add(module_prefix + name)
            for name, value in module._buffers.items():
                if value is not None and name not in module._non_persistent_buffers:
                    expected_keys.add(module_prefix + name)
        unexpected.extend(k for k in state_dict.keys() if k not in expected_keys)
        missing = list(dict.fromkeys(missing))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return IncompatibleKeys(missing, unexpected)

    # -------------------------------------------------------------------- repr
    def extra_repr(self):
        """The text inside this module's parentheses in repr (its arguments)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        text = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                text += lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
