"""Upsampling layers, thin wrappers over ``minigrad.ops.resize``."""
from minigrad.nn.module import Module
from minigrad.ops._args import is_int
from minigrad.ops.resize import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle


class Upsample(Module):
    """Resize (N, C, ...) to `size` or by `scale_factor` with 'nearest', 'linear',
    'bilinear', ... interpolation (a fixed, unlearned upsampling)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor, got "
                             f"size={size!r}, scale_factor={scale_factor!r}")
        self.name = "Upsample"
        if isinstance(scale_factor, (int, float)) and not isinstance(scale_factor, bool):
            scale_factor = float(scale_factor)
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class PixelShuffle(Module):
    """(N, C*r^2, H, W) -> (N, C, H*r, W*r): sub-pixel convolution's upsampling
    (a convolution predicts the r x r sub-pixels of each output pixel as channels)."""

    def __init__(self, upscale_factor):
        super().__init__()
        if not is_int(upscale_factor) or upscale_factor <= 0:
            raise ValueError(f"PixelShuffle: upscale_factor must be a positive integer, got "
                             f"{upscale_factor!r}")
        self.upscale_factor = int(upscale_factor)

    def forward(self, input):
        r2 = self.upscale_factor ** 2
        if input.ndim < 3 or input.shape[-3] % r2 != 0:
            raise ValueError(f"PixelShuffle: expected input (N, C*{r2}, H, W) with channels "
                             f"divisible by upscale_factor^2 = {r2}, got shape {tuple(input.shape)}")
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H*r, W*r) -> (N, C*r^2, H, W): the inverse of PixelShuffle."""

    def __init__(self, downscale_factor):
        super().__init__()
        if not is_int(downscale_factor) or downscale_factor <= 0:
            raise ValueError(f"PixelUnshuffle: downscale_factor must be a positive integer, got "
                             f"{downscale_factor!r}")
        self.downscale_factor = int(downscale_factor)

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest' (an older PyTorch name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear' and align_corners=True (an older PyTorch name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class ChannelShuffle(Module):
    """Interleave the channels of `groups` groups (ShuffleNet): lets grouped
    convolutions that follow see channels from every group."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
