"""``minigrad.nn.modules.module``: PyTorch's module path for Module and the hooks
that apply to every module (defined in minigrad/nn/module.py and module_hooks.py)."""
from minigrad.nn.module import Module  # noqa: F401
from minigrad.nn.module_hooks import (  # noqa: F401
    register_module_backward_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
