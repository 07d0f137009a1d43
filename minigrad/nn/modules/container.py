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


# --- nnfold ---
# ParameterList and ParameterDict: parameters held by position or by key (as torch.nn).

def _as_parameter(value):
    """A Tensor that is not yet a Parameter becomes one (sharing its memory); anything else is kept."""
    from minigrad.nn.module import Parameter
    from minigrad.tensor import Tensor
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


_TENSOR_TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
                      "int8": "CharTensor", "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor",
                      "int64": "LongTensor", "bool": "BoolTensor"}


def _entry_repr(key, value, dtype_text):
    """One line of the repr: '  (key): Parameter containing: [minigrad.float32 of size 2x3]'."""
    from minigrad.nn.module import Parameter
    from minigrad.tensor import Tensor
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"  ({key}): {kind} containing: [{dtype_text(value.dtype)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters registered as '0', '1', ... (Tensors are wrapped as Parameters).

    Entries that are not tensors are kept as plain attributes (not in state_dict), as in PyTorch.
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _key(self, index):
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return str(index % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            out = type(self)()
            for i in range(*index.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, self._key(index))

    def __setitem__(self, index, value):
        setattr(self, self._key(index), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value):
        index = len(self)
        self._size += 1
        self[index] = value
        return self

    def extend(self, values):
        from minigrad.tensor import Tensor
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_entry_repr(i, value, lambda dtype: f"minigrad.{dtype}") for i, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters under string keys (Tensors are wrapped as Parameters).

    A plain dict is added in sorted key order; an OrderedDict, a ParameterDict or
    a sequence of (key, value) pairs in its own order, as in PyTorch.
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attribute(key):
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}').")
        return key

    def __getitem__(self, key):
        return getattr(self, self._attribute(key))

    def __setitem__(self, key, value):
        attribute = self._attribute(key)
        self._keys[key] = None
        setattr(self, attribute, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._attribute(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        return ParameterDict(OrderedDict((key, self[key]) for key in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def update(self, parameters):
        if not hasattr(parameters, "__iter__"):
            raise TypeError(f"ParametersDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif hasattr(parameters, "keys") and hasattr(parameters, "items"):
            pairs = sorted(parameters.items(), key=lambda pair: pair[0])
        else:
            pairs = []
            for j, pair in enumerate(parameters):
                if not hasattr(pair, "__iter__"):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be Iterable; is "
                                    f"{type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; "
                                     f"2 is required")
                pairs.append(pair)
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        def type_name(dtype):
            return f"minigrad.{_TENSOR_TYPE_NAMES.get(str(dtype), str(dtype))}"
        return "\n".join(_entry_repr(key, value, type_name) for key, value in self.items())

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other):
        copy = self.copy()
        copy.update(other)
        return copy

    def __ror__(self, other):
        copy = other.copy()
        copy.update(self)
        return copy

    def __ior__(self, other):
        self.update(other)
        return self
