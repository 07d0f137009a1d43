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


class ConstantPad1d(_PadNd):
    """Fill with `value`: ConstantPad1d(2, 0.5) turns [1 2 3] into [.5 .5 | 1 2 3 | .5 .5]."""

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    dims = 2


class ConstantPad3d(ConstantPad1d):
    dims = 3


class ZeroPad1d(_PadNd):
    """Fill with zeros (ConstantPad with value 0)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    dims = 2


class ZeroPad3d(ZeroPad1d):
    dims = 3


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
