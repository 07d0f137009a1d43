"""Containers: Sequential, ModuleList, ModuleDict."""
import operator
from collections import OrderedDict

from minigrad.nn.module import Module
from minigrad.nn.modules.normalization import _BatchNorm


class _IndexedContainer(Module):
    """What Sequential and ModuleList share: children reached by position.

    Deleting a child renumbers the rest '0', '1', ... as PyTorch does, so that
    state_dict keys stay contiguous.
    """

    def _index(self, index):
        size = len(self)
        index = operator.index(index)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for a {type(self).__name__} of "
                             f"length {size}")
        return index % size

    def __setitem__(self, index, module):
        key = list(self._modules.keys())[self._index(index)]
        setattr(self, key, module)

    def __delitem__(self, index):
        keys = list(self._modules.keys())
        for key in (keys[index] if isinstance(index, slice) else [keys[self._index(index)]]):
            delattr(self, key)
        modules = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_IndexedContainer):
    """Modules applied one after another: ``Sequential(Conv2d(...), ReLU(), ...)``.

    Children are named '0', '1', ... (or by the keys of an OrderedDict), so
    the state_dict keys are '0.weight', '2.running_mean', ... as in PyTorch.
    Indexing gives a module, slicing a new Sequential. A BatchNorm followed by
    a ReLU runs as one fused op (same values, gradients and state).
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {index} is a {type(module).__name__}, "
                                    f"not a Module")
                self.add_module(str(index), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[self._index(index)]

    def forward(self, input):
        modules = list(self._modules.values())
        index = 0
        while index < len(modules):
            module = modules[index]
            # BatchNorm then ReLU (every conv-BN-ReLU block): one fused op, the ReLU
            # costs no pass over memory. The BN output is seen by nothing but the
            # ReLU here, so the fusion is invisible (_fuses_with checks for hooks).
            following = modules[index + 1] if index + 1 < len(modules) else None
            if isinstance(module, _BatchNorm) and following is not None and module._fuses_with(following):
                input = module._forward_relu(input)
                index += 2
            else:
                input = module(input)
                index += 1
        return input


class ModuleList(_IndexedContainer):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __iadd__(self, modules):
        return self.extend(modules)

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise TypeError("ModuleList is a container, not a layer: iterate over it and call its "
                        "modules instead")


class ModuleDict(Module):
    """A dict of modules (string keys) whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise TypeError("ModuleDict is a container, not a layer: index it and call its modules "
                        "instead")
