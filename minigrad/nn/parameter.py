"""torch.nn.parameter's path: the tensor kinds a Module registers.

``Parameter`` (trained), ``Buffer`` (state, not trained), and the lazy
modules' ``UninitializedParameter`` / ``UninitializedBuffer`` (a dtype but no
shape until the first forward; ``is_lazy`` tells them apart).
"""
from minigrad.nn.buffer import Buffer  # noqa: F401
from minigrad.nn.module import Parameter  # noqa: F401
from minigrad.nn.modules.lazy import (  # noqa: F401
    UninitializedBuffer,
    UninitializedParameter,
    UninitializedTensorMixin,
    is_lazy,
)

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer",
           "UninitializedTensorMixin", "is_lazy"]
