"""Call a module with other parameters and buffers (torch.nn.utils.stateless.functional_call).

    out = functional_call(model, {"weight": w, "bias": b}, (x,))

is model(x) computed with w and b in place of model.weight and model.bias;
the module is unchanged afterwards. Gradients flow to w and b, which makes
per-example gradients, meta-learning and Hessian-vector products easy to write.
"""
import contextlib
import warnings

from minigrad.nn.module import Module
from minigrad.tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def _untie_named_tensors_map(module, parameters_and_buffers):
    """Give every name tied to a given name (the same tensor in the module) the given value."""
    all_named = dict(module.named_parameters(remove_duplicate=False))
    all_named.update(module.named_buffers(remove_duplicate=False))
    names_of_tensor = {}
    for name, tensor in all_named.items():
        names_of_tensor.setdefault(id(tensor), set()).add(name)
    tied_names_map = {}
    for tied in names_of_tensor.values():
        if len(tied) > 1:
            for name in tied:
                tied_names_map[name] = tied
    given = set(parameters_and_buffers)
    given_tied = {name for name in given if name in tied_names_map}
    for name in given_tied:
        tied = tied_names_map[name]
        values = {id(parameters_and_buffers[t]) for t in tied if t in parameters_and_buffers}
        if len(tied & given_tied) > 1 and len(values) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, "
                             f"which are tied. Consider using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for name in given_tied:
        for tied_name in tied_names_map[name]:
            untied[tied_name] = parameters_and_buffers[name]
    return untied


def _submodule(module, path):
    for attr in path.split(".") if path else []:
        try:
            child = getattr(module, attr)
        except AttributeError as error:
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`") from error
        if not isinstance(child, Module):
            raise TypeError(f"submodule `{path}`: {child} is not an instance of minigrad.nn.Module")
        module = child
    return module


def _swap_tensor(module, name, tensor):
    """Put `tensor` at module.<name>; return what was there (_MISSING when nothing)."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, (Tensor, property)):
        raise TypeError(f"{tensor} is not an instance of minigrad.Tensor")
    if name in module._parameters:       # straight into the registry: plain Tensors allowed
        original = module._parameters[name]
        if tensor is _MISSING:
            del module._parameters[name]
        else:
            module._parameters[name] = tensor
        return original
    if name in module._buffers:
        original = module._buffers[name]
        if tensor is _MISSING:
            del module._buffers[name]
        else:
            module._buffers[name] = tensor
        return original
    prop = getattr(type(module), name, None)
    if isinstance(prop, property) and "parametrizations" in module._modules:
        # A parametrized tensor: the given value replaces the parametrization for the call
        # (the property lives on the module's own Parametrized<Class>).
        setattr(type(module), name, tensor)
        return prop
    if isinstance(prop, Tensor) and "parametrizations" in module._modules \
            and name in module._modules["parametrizations"]:
        setattr(type(module), name, tensor)   # restoring: tensor is the saved property
        return prop
    original = getattr(module, name) if hasattr(module, name) else _MISSING
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{name}`: {original} is not an instance of minigrad.Tensor")
    if tensor is not _MISSING:
        object.__setattr__(module, name, tensor)
    elif hasattr(module, name):
        object.__delattr__(module, name)
    return original


def _swap_all(module, named_tensors):
    originals = {}
    try:
        for name, tensor in named_tensors.items():
            prefix, _, attr = name.rpartition(".")
            originals[name] = _swap_tensor(_submodule(module, prefix), attr, tensor)
    except Exception:
        _swap_all(module, originals)
        raise
    return originals


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    untied = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights \
        else parameters_and_buffers
    if strict:
        valid = {name for name, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(untied)), sorted(set(untied) - valid)
        messages = []
        if unexpected:
            messages.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            messages.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if messages:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                               + "\n\t".join(messages))
    originals = {}
    try:
        originals = _swap_all(module, untied)
        yield
    finally:
        _swap_all(module, originals)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True,
                     strict=False):
    from minigrad.nn.parallel import DataParallel
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """module(*args, **kwargs) with the given {name: tensor} in place of its parameters and buffers.

    args: a tuple, or one argument. tie_weights: tensors tied in the module
    (one Parameter at two names) take the given value at every name, and two
    different values for them are an error. strict: the names must be exactly
    the module's parameters and buffers. A parametrized name (``weight`` under
    a parametrization) takes the value as is, bypassing the parametrization;
    give ``parametrizations.weight.original`` to go through it.
    Deprecated in PyTorch 2.0 in favour of torch.func.functional_call (a FutureWarning).
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                            strict=strict)
