"""conv_tbc: 1-d convolution over (time, batch, channels) input (fairseq's layout).

Written as a layout change around conv1d, so its forward and backward are conv1d's::

    out[t, b, o] = bias[o] + sum_{k, c} x_pad[t + k, b, c] * weight[k, c, o]

with x_pad the input padded by `pad` zero time steps on each side (a negative
`pad` crops that many steps instead); out has T + 2 pad - K + 1 time steps.
"""
from minigrad.ops.conv import conv1d
from minigrad.ops.shape import permute
from minigrad.tensor import Tensor


def conv_tbc(input, weight, bias, pad=0):
    """input (T, B, C_in), weight (K, C_in, C_out), bias (C_out,) -> (T + 2 pad - K + 1, B, C_out)."""
    for name, value in (("input", input), ("weight", weight), ("bias", bias)):
        if not isinstance(value, Tensor):
            raise TypeError(f"conv_tbc(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if isinstance(pad, bool) or not isinstance(pad, int):
        raise TypeError(f"conv_tbc(): argument 'pad' (position 4) must be int, not {type(pad).__name__}")
    if input.ndim != 3:
        raise RuntimeError(f"Input must have 3 dims: time, batch, in_channel (got shape {list(input.shape)})")
    if weight.ndim != 3:
        raise RuntimeError(f"Weight tensor must have 3 dims: kernel_width, in_channels, out_channels. "
                           f"(got shape {list(weight.shape)})")
    if bias.ndim != 1:
        raise RuntimeError(f"Bias must be 1-D (got shape {list(bias.shape)})")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError(f"Input dim 2 (input channels) is not == dim 1 in the weight tensor "
                           f"({input.shape[2]} != {weight.shape[1]})")
    if bias.shape[0] != weight.shape[2]:
        raise RuntimeError(f"Bias size must equal dim 2 in the weight tensor (output channels). "
                           f"({bias.shape[0]} != {weight.shape[2]})")
    if not input.dtype == weight.dtype == bias.dtype:
        raise RuntimeError(f"conv_tbc: input, weight and bias must have the same dtype, got "
                           f"{input.dtype}, {weight.dtype} and {bias.dtype}")
    if weight.shape[0] == 0:
        raise RuntimeError("conv_tbc: kernel width (weight dim 0) should be greater than zero, "
                           f"got weight of shape {list(weight.shape)}")
    time = input.shape[0]
    out_time = time + 2 * pad - weight.shape[0] + 1
    if out_time < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {out_time}: "
                           f"{[out_time, input.shape[1], weight.shape[2]]}")
    if pad < 0:
        input = input[-pad:time + pad]                          # crop |pad| steps at each end
        pad = 0
    x = permute(input, 1, 2, 0)                                 # (B, C_in, T)
    w = permute(weight, 2, 1, 0)                                # (C_out, C_in, K)
    return permute(conv1d(x, w, bias, padding=pad), 2, 0, 1)    # (B, C_out, T') -> (T', B, C_out)
