"""What a layer costs: parameters and multiply-adds of five ways to map 256 channels to 256.

    python examples/architectures.py [--channels C] [--size S] [--quick]

Every block below takes (N, C, S, S) to (N, C, S, S) (default C = 256, S = 28,
the size of GoogLeNet's inception 3a input). The closed forms, biases left out
(k = 3 for the 3x3 convolution):

  plain 3x3 convolution         params  9 C^2            mult-adds  9 C^2 S^2
  1x1 bottleneck (C -> C/4 -> C, the ResNet-50 block)
                                params  C^2/2 + 9 C^2/16  (about 1/8 of plain)
  depthwise separable (MobileNet: a 3x3 per channel, then 1x1 across channels)
                                params  9 C + C^2        (about 1/9 of plain)
  Fire module (SqueezeNet: squeeze 1x1 to s = C/8, expand 1x1 and 3x3 to C/2 each)
                                params  C s + s C/2 + 9 s C/2
  Inception module (GoogLeNet: parallel 1x1, 1x1->3x3, 1x1->5x5, pool->1x1, concatenated)

Multiply-adds of a stride-1 'same' convolution are its weight count times
S^2. ``minigrad.utils.summary`` counts them layer by layer; the table also
times one forward pass, since fewer multiply-adds are not always
proportionally faster (a depthwise convolution does little work per byte).
"""
import argparse

from _common import add_run_arguments, print_table, setup, time_forward

import minigrad as mg
import minigrad.nn as nn
from minigrad.models import DepthwiseSeparableConv2d, Fire, InceptionModule
from minigrad.utils import summary


def blocks(c):
    """The five blocks, each (C, S, S) -> (C, S, S); c must be divisible by 32."""
    return {
        "plain 3x3 conv": nn.Conv2d(c, c, 3, padding=1),
        "1x1 bottleneck (1x1, 3x3, 1x1)": nn.Sequential(
            nn.Conv2d(c, c // 4, 1), nn.ReLU(),
            nn.Conv2d(c // 4, c // 4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c // 4, c, 1)),
        "depthwise separable 3x3": DepthwiseSeparableConv2d(c, c, 3, padding=1),
        "Fire module (squeeze C/8)": Fire(c, c // 8, c // 2, c // 2),
        # GoogLeNet's 3a proportions (64, 96->128, 16->32, 32 of 256 outputs)
        "Inception module": InceptionModule(c, c // 4, 3 * c // 8, c // 2, c // 16, c // 8, c // 8),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--batch-size", type=int, default=8, help="images per timed forward pass")
    parser.add_argument("--repeats", type=int, default=5)
    add_run_arguments(parser, quick_help="fewer timing repeats")
    args = parser.parse_args(argv)
    setup(args)
    if args.smoke:
        args.channels, args.size, args.batch_size, args.repeats = 64, 8, 2, 1
    elif args.quick:
        args.repeats = 2
    if args.channels % 32:
        parser.error(f"--channels must be divisible by 32, got {args.channels}")

    c, s = args.channels, args.size
    x = mg.randn(args.batch_size, c, s, s)
    rows, plain = [], None
    for name, block in blocks(c).items():
        block.eval()
        layers = summary(block, (c, s, s), verbose=False)
        params, mult_adds = layers.totals["total_params"], layers.totals["multiply_adds"]
        with mg.no_grad():
            assert tuple(block(x).shape) == (args.batch_size, c, s, s)
        if plain is None:
            plain = (params, mult_adds)
            # the closed form of the docstring, checked against summary()
            assert params == 9 * c * c + c and mult_adds == 9 * c * c * s * s
        ms = time_forward(block, x, args.repeats)
        rows.append((name, f"{params:,}", f"{params / plain[0]:.3f}", f"{mult_adds / 1e6:,.1f}",
                     f"{mult_adds / plain[1]:.3f}", f"{ms:.1f}"))
    print_table(["block", "parameters", "vs plain", "mult-adds (M)", "vs plain", "forward ms"], rows,
                title=f"{c} -> {c} channels on {s}x{s}: parameters and multiply-adds per image; "
                      f"forward time for {args.batch_size} images, {mg.get_num_threads()} threads")
    return rows


if __name__ == "__main__":
    main()
