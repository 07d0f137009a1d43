"""The activation layers of ops/pointwise_activations.py (Softplus, Hardtanh, ReLU6, Mish, ...) and Softmin.

Each layer keeps its arguments under PyTorch's attribute names (shown in
repr) and calls its function. ``inplace=True`` is accepted and shown, but the
result is a new tensor, as in activation.py.
"""
from minigrad.nn.module import Module
from minigrad.ops import pointwise_activations as F
from minigrad.ops.activation import softmin


class _Activation(Module):
    """Calls `function(input, **arguments)`; `arguments` are the layer's attributes."""

    function = None
    arguments = ()

    def forward(self, input):
        return type(self).function(input, **{name: getattr(self, name) for name in self.arguments})

    def extra_repr(self):
        shown = [f"{name}={getattr(self, name)}" for name in self.arguments]
        if getattr(self, "inplace", False):
            shown.append("inplace=True")
        return ", ".join(shown)


class Softplus(_Activation):
    function, arguments = F.softplus, ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class Hardtanh(_Activation):
    function, arguments = F.hardtanh, ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(_Activation):
    function = F.relu6

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class Hardsigmoid(ReLU6):
    function = F.hardsigmoid


class Hardswish(ReLU6):
    function = F.hardswish


class Mish(ReLU6):
    function = F.mish


class SELU(ReLU6):
    function = F.selu


class LogSigmoid(_Activation):
    function = F.logsigmoid


class Softsign(_Activation):
    function = F.softsign


class Tanhshrink(_Activation):
    function = F.tanhshrink


class CELU(_Activation):
    function, arguments = F.celu, ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class Softshrink(_Activation):
    function, arguments = F.softshrink, ("lambd",)

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd


class Hardshrink(Softshrink):
    function = F.hardshrink


class Threshold(_Activation):
    function, arguments = F.threshold, ("threshold", "value")

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class GLU(_Activation):
    function, arguments = F.glu, ("dim",)

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim


class Softmin(_Activation):
    function, arguments = softmin, ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim
