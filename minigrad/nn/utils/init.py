"""skip_init (torch.nn.utils.init): build a module without spending random draws on its initialisation."""
import inspect

from minigrad.random import get_rng_state, set_rng_state

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) whose parameters and buffers are left for the caller to fill.

    PyTorch builds the module on the meta device and allocates uninitialised
    memory; minigrad has no meta device, so it builds the module normally and
    then puts the random generator back where it was: the values are
    unspecified (as torch's) and the draws of later initialisations are those
    they would have been without this module. ``module_cls`` must take a
    ``device`` argument, as in PyTorch.
    """
    from minigrad.nn.module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    state = get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
