"""``Buffer``: a tensor that registers itself as a module buffer on assignment (torch.nn.Buffer).

``self.running_mean = nn.Buffer(t)`` in a Module's ``__init__`` is the same as
``self.register_buffer("running_mean", t)``; ``nn.Buffer(t, persistent=False)``
the same as ``register_buffer(..., persistent=False)`` (kept out of state_dict).
"""
import numpy as np

from minigrad.settings import get_default_dtype
from minigrad.tensor import Tensor


class Buffer(Tensor):
    """Non-trained module state. Shares memory with `data` (as ``data.detach()``) and keeps
    its ``requires_grad``; ``persistent`` says whether state_dict saves it.

    PyTorch returns a plain Tensor flagged as a buffer; minigrad's Tensor has fixed slots,
    so the flag lives in this subclass (``type(b) is nn.Buffer``; ops on it give Tensors).
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = Tensor(np.empty(0, dtype=get_default_dtype()))
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor or None, got {type(data).__name__}")
        super().__init__(data.array, requires_grad=data.requires_grad)
        self.persistent = bool(persistent)
