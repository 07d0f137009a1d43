"""Pruning: zero chosen entries of a parameter through a mask (torch.nn.utils.prune).

    prune.l1_unstructured(linear, "weight", amount=0.3)   # the 30% smallest |w| become 0

Pruning ``weight`` moves the parameter to ``weight_orig`` (still trained),
adds a buffer ``weight_mask`` (1 = kept, 0 = pruned) and a forward pre-hook
that sets ``module.weight = weight_mask * weight_orig`` before every forward,
so gradients reach only the kept entries. Pruning the same tensor again
combines the masks (a ``PruningContainer``: the new method sees only the
entries still kept). ``prune.remove`` makes the pruning permanent: ``weight``
becomes a plain Parameter holding ``mask * orig``. The state_dict keys are
PyTorch's: ``weight_orig`` and ``weight_mask``.

amount: an int (how many entries, or channels for the structured methods)
or a float in [0, 1] (that fraction, rounded).
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from minigrad.random import generator
from minigrad.tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _tensor(array):
    return Tensor._make(np.ascontiguousarray(array), False, None)


def _array(value):
    return value.array if isinstance(value, Tensor) else np.asarray(value)


class BasePruningMethod(ABC):
    """A way of choosing a mask; also the forward pre-hook that applies it."""

    _tensor_name = None

    def __call__(self, module, inputs):
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for tensor t, given the mask already in place (default_mask)."""

    def apply_mask(self, module):
        """mask * orig: the pruned tensor (differentiable in orig)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune module.<name> with cls(*args, **kwargs); returns the (composite) method."""

        def _get_composite_method(cls, module, name, *args, **kwargs):
            old_method, hooks_to_remove = None, []
            for key, hook in module._forward_pre_hooks.items():
                if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                    old_method = hook
                    hooks_to_remove.append(key)
            if len(hooks_to_remove) > 1:
                raise AssertionError("Avoid adding multiple pruning hooks to the same tensor "
                                     f"{name} of module {module}. Use a PruningContainer.")
            for key in hooks_to_remove:
                del module._forward_pre_hooks[key]
            method = cls(*args, **kwargs)
            method._tensor_name = name
            if old_method is not None:
                if isinstance(old_method, PruningContainer):
                    old_method.add_pruning_method(method)
                    method = old_method
                else:
                    container = PruningContainer(old_method)
                    container.add_pruning_method(method)
                    method = container
            return method

        method = _get_composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise AssertionError(f"importance_scores should have the same shape as parameter "
                                     f"{name} of {module}, got {tuple(importance_scores.shape)} vs "
                                     f"{tuple(orig.shape)}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _tensor(np.ones_like(orig.array))
        else:
            default_mask = _tensor(getattr(module, name + "_mask").array.copy())
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            object.__setattr__(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):   # put the parameter back
                orig = getattr(module, name + "_orig")
                module.__dict__.pop(name, None)
                module._parameters[name] = orig
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t * compute_mask(importance_scores or t, default_mask): a pruned copy of t."""
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(t.shape):
                raise AssertionError("importance_scores should have the same shape as tensor t, "
                                     f"got {tuple(importance_scores.shape)} vs {tuple(t.shape)}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else _tensor(np.ones_like(t.array))
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning permanent: module.<name> = Parameter(mask * orig), the same object as orig."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        module.__dict__.pop(self._tensor_name, None)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.array = np.array(weight.array, copy=True)
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied one after another to one tensor; the last one is applied
    to the entries (or channels) the earlier ones kept."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        t_array = _array(t)
        mask = _array(default_mask).astype(t_array.dtype)   # the new mask, written in a copy
        if method.PRUNING_TYPE == "unstructured":
            where = mask == 1                                # only the entries still kept
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     "the attribute `dim` defined.")
            n_dims, dim = t_array.ndim, method.dim
            if dim < 0:
                dim = n_dims + dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            # only the channels along dim with an entry still kept
            keep_channel = mask.sum(axis=tuple(d for d in range(n_dims) if d != dim)) != 0
            where = tuple(keep_channel if d == dim else slice(None) for d in range(n_dims))
        elif method.PRUNING_TYPE == "global":
            where = tuple(slice(None) for _ in range(t_array.ndim))
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(_tensor(t_array[where]), default_mask=_tensor(mask[where]))
        mask[where] = _array(partial).astype(mask.dtype)
        return _tensor(mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the mask of ones (a way to get the _orig/_mask form)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes `amount` entries chosen uniformly at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        size = int(np.prod(t.shape, dtype=np.int64))
        nparams_toprune = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(nparams_toprune, size)
        mask = _array(default_mask).copy()
        if nparams_toprune != 0:
            chosen = generator().permutation(size)[:nparams_toprune]
            mask.reshape(-1)[chosen] = 0
        return _tensor(mask)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the `amount` entries of smallest absolute value (of importance_scores if given)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        size = int(np.prod(t.shape, dtype=np.int64))
        nparams_toprune = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(nparams_toprune, size)
        mask = _array(default_mask).copy()
        if nparams_toprune != 0:
            smallest = np.argsort(np.abs(_array(t)).reshape(-1), kind="stable")[:nparams_toprune]
            mask.reshape(-1)[smallest] = 0
        return _tensor(mask)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes `amount` whole channels along dim, chosen uniformly at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        channels = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, channels)
        _validate_pruning_amount(nparams_toprune, channels)
        if nparams_toprune == 0:
            return default_mask
        keep = np.ones(channels, dtype=bool)
        keep[generator().permutation(channels)[:nparams_toprune]] = False
        return _tensor(_channel_mask(t, self.dim, keep) * _array(default_mask))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the `amount` channels along dim of smallest L_n norm (n: int, float, inf, -inf, 'fro', 'nuc')."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        channels = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, channels)
        _validate_pruning_amount(nparams_toprune, channels)
        if nparams_toprune == 0:
            return default_mask
        norm = _compute_norm(_array(t), self.n, self.dim)                   # (channels,)
        largest = np.argsort(-norm, kind="stable")[:channels - nparams_toprune]
        keep = np.zeros(channels, dtype=bool)
        keep[largest] = True
        return _tensor(_channel_mask(t, self.dim, keep) * _array(default_mask))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError(f"default_mask shape {tuple(default_mask.shape)} must match "
                                 f"self.mask shape {tuple(self.mask.shape)}")
        default = _array(default_mask)
        return _tensor(default * _array(self.mask).astype(default.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Apply the Identity pruning: weight_orig and a mask of ones."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune `amount` random entries of module.<name>."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the `amount` entries of module.<name> of smallest |value| (or |importance_scores|)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune `amount` random channels of module.<name> along dim."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the `amount` channels of module.<name> along dim of smallest L_n norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune several (module, name) tensors as one vector: e.g. the `amount` smallest
    entries over all of them, however they are spread."""
    from minigrad.nn.utils import parameters_to_vector
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters]).detach()
    default_mask = parameters_to_vector([
        getattr(module, name + "_mask", None) if hasattr(module, name + "_mask")
        else _tensor(np.ones_like(getattr(module, name).array)) for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores, default_mask).array
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        count = param.numel()
        custom_from_mask(module, name, mask=_tensor(final_mask[pointer:pointer + count]
                                                    .reshape(param.shape)))
        pointer += count


def custom_from_mask(module, name, mask):
    """Prune module.<name> where mask is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of module.<name> permanent (see BasePruningMethod.remove)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can "
                     "be removed")


def is_pruned(module):
    """Whether any module inside `module` has a pruning hook."""
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


def _channel_mask(t, dim, keep):
    """Ones on the kept channels along dim, zeros on the others, t's shape and dtype."""
    mask = np.zeros(tuple(t.shape), dtype=_array(t).dtype)
    where = [slice(None)] * len(t.shape)
    where[dim] = keep
    mask[tuple(where)] = 1
    return mask


def _validate_pruning_amount_init(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _validate_pruning_amount(amount, tensor_size):
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t):
    shape = tuple(t.shape)
    if len(shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {shape} with {len(shape)} dims")


def _compute_nparams_toprune(amount, tensor_size):
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_pruning_dim(t, dim):
    if dim >= len(t.shape):
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _compute_norm(array, n, dim):
    """The L_n norm of each channel along dim (over all the other dimensions)."""
    dim = dim % array.ndim
    channels = np.moveaxis(array, dim, 0).reshape(array.shape[dim], -1).astype(np.float64)
    if n == "fro":
        n = 2
    if n == "nuc":
        raise ValueError("LnStructured: the nuclear norm is not a vector norm; use an int, a "
                         "float, inf or 'fro'")
    n = float(n)
    magnitude = np.abs(channels)
    if n == np.inf:
        return magnitude.max(axis=1)
    if n == -np.inf:
        return magnitude.min(axis=1)
    if n == 0:
        return (magnitude != 0).sum(axis=1).astype(np.float64)
    return (magnitude ** n).sum(axis=1) ** (1.0 / n)
