"""``minigrad.utils.hooks``: PyTorch's ``torch.utils.hooks``.

``RemovableHandle`` is the one handle class minigrad's tensor and module
hooks already return (minigrad/autograd_hooks.py): ``handle.remove()``
unregisters the hook (and its entry in any ``extra_dict``); it is also a
context manager. ``unserializable_hook`` marks a hook as not to be saved.
"""
from minigrad.autograd_hooks import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook"]


def unserializable_hook(f):
    """Mark `f` as a hook that is not serialized (PyTorch's decorator; sets ``__torch_unserializable__``)."""
    f.__torch_unserializable__ = True
    return f
