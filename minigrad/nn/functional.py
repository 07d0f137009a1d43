"""The functional interface: ``minigrad.nn.functional`` as ``torch.nn.functional``.

Each name here is re-exported from the module in ``minigrad/ops`` where the
op's forward and backward live.
"""
from minigrad.ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from minigrad.ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d,  # noqa: F401
                               conv_transpose2d, conv_transpose3d)
