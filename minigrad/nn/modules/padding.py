"""Padding layers, thin wrappers over ``F.pad`` (as torch.nn's padding layers).

``padding`` is an int (the same on every side) or a tuple ordered as F.pad's:
(left, right) for 1d, (left, right, top, bottom) for 2d, (left, right, top,
bottom, front, back) for 3d. The last 1, 2 or 3 dimensions are padded.
"""
from minigrad.nn.module import Module
from minigrad.ops._args import ntuple
from minigrad.ops.padding import pad


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = ntuple(padding, 2 * self.dims, "padding", type(self).__name__)
        self.value = value

    def forward(self, input):
        # An unbatched input has one dimension fewer: (C, W) for 1d, (C, H, W) for 2d, ...
        # Constant padding takes any input with the padded dimensions, as F.pad does.
        constant = self.mode == "constant"
        if input.ndim < self.dims or (not constant and input.ndim not in (self.dims + 1, self.dims + 2)):
            also = f" (constant padding: any input of at least {self.dims} dimensions)" if constant else ""
            raise ValueError(f"{type(self).__name__}: expected a {self.dims + 1}-D or "
                             f"{self.dims + 2}-D input{also}, got shape {tuple(input.shape)}")
        if self.mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" else "")


class _ConstantPadNd(_PadNd):
    """Fill with a constant (PyTorch's base of ConstantPad*d and ZeroPad*d)."""

    def __init__(self, value):
        # PyTorch's _ConstantPadNd takes the value only; each subclass sets the padding.
        Module.__init__(self)
        self.value = value

    def _set_padding(self, padding):
        self.padding = ntuple(padding, 2 * self.dims, "padding", type(self).__name__)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Fill with `value`: ConstantPad1d(2, 0.5) turns [1 2 3] into [.5 .5 | 1 2 3 | .5 .5]."""
    dims = 1

    def __init__(self, padding, value):
        super().__init__(value)
        self._set_padding(padding)


class ConstantPad2d(_ConstantPadNd):
    dims = 2

    def __init__(self, padding, value):
        super().__init__(value)
        self._set_padding(padding)


class ConstantPad3d(_ConstantPadNd):
    dims = 3

    def __init__(self, padding, value):
        super().__init__(value)
        self._set_padding(padding)


def _padding_only_repr(self):
    """PyTorch's ZeroPad*d repr shows only the padding."""
    return f"{self.padding}"


class ZeroPad1d(ConstantPad1d):
    """Fill with zeros: ConstantPad1d with value 0 (as PyTorch's class tree)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    extra_repr = _padding_only_repr


class ZeroPad2d(ConstantPad2d):
    """Fill with zeros: ConstantPad2d with value 0."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    extra_repr = _padding_only_repr


class ZeroPad3d(ConstantPad3d):
    """Fill with zeros: ConstantPad3d with value 0."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    extra_repr = _padding_only_repr


class ReflectionPad1d(_PadNd):
    """Mirror at the edges, the edge itself not repeated: [1 2 3] -> [3 2 | 1 2 3 | 2 1]."""
    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    dims = 2


class ReflectionPad3d(ReflectionPad1d):
    dims = 3


class ReplicationPad1d(_PadNd):
    """Repeat the edge value: [1 2 3] -> [1 1 | 1 2 3 | 3 3]."""
    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    dims = 2


class ReplicationPad3d(ReplicationPad1d):
    dims = 3


class CircularPad1d(_PadNd):
    """Wrap around: [1 2 3] -> [2 3 | 1 2 3 | 1 2]."""
    mode = "circular"


class CircularPad2d(CircularPad1d):
    dims = 2


class CircularPad3d(CircularPad1d):
    dims = 3
