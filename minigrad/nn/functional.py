"""The functional interface: ``minigrad.nn.functional`` as ``torch.nn.functional``.

Each name here is re-exported from the module in ``minigrad/ops`` where the
op's forward and backward live.
"""
from minigrad.ops.elementwise import relu, sigmoid, tanh  # noqa: F401
