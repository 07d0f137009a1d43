"""The functional interface: ``minigrad.nn.functional`` as ``torch.nn.functional``.

Each name here is re-exported from the module in ``minigrad/ops`` where the
op's forward and backward live.
"""
from minigrad.ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from minigrad.ops.activation import (dropout, dropout2d, elu, gelu, leaky_relu, linear,  # noqa: F401
                                     log_softmax, one_hot, pad, prelu, silu, softmax)
from minigrad.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                               cross_entropy, kl_div, l1_loss, mse_loss, nll_loss,
                               smooth_l1_loss)
