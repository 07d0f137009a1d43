"""nn.Container: PyTorch's deprecated ancestor of Sequential, a Module built from keyword modules."""
import warnings

from minigrad.nn.module import Module


class Container(Module):
    """``Container(name=module, ...)``: a Module with those submodules (add_module for each).

    Deprecated in PyTorch, which warns (FutureWarning) when one is built: subclass Module instead.
    """

    def __init__(self, **kwargs):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in "
                      "`nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
