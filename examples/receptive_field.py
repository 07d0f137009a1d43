"""Receptive fields of plain and dilated convolution stacks, measured by back-propagation.

    python examples/receptive_field.py [--quick] [--out DIR]

The receptive field of an output pixel is the set of input pixels it depends
on. Back-propagating from that one output pixel to the input gives its
gradient with respect to every input pixel: non-zero exactly inside the
receptive field, and its magnitude is the *effective* receptive field
(Luo et al., 2016), concentrated near the centre.

A k x k kernel with dilation d spans d*(k-1)+1 pixels: a 3x3 kernel with
dilation 2 covers 5x5. Stride-1 layers add their spans: size = 1 + sum d_i*(k-1),
so 3x3 layers with dilations 1, 2, 4 cover 15x15 with three layers, where
three plain 3x3 layers cover 7x7. Dilations 2, 2, 2 cover 13x13 but with holes
(the "gridding" problem): only every other pixel is ever seen.
"""
import argparse
import os

import numpy as np
from _common import add_run_arguments, print_table, pyplot, save_figure, setup

import minigrad as mg
import minigrad.nn as nn

STACKS = {
    "3x3": [1],
    "3x3, dilation 2": [2],
    "3 x plain 3x3": [1, 1, 1],
    "3x3, dilations 1,2,4": [1, 2, 4],
    "3x3, dilations 2,2,2": [2, 2, 2],
    "3x3, dilations 1,2,4,8": [1, 2, 4, 8],
}


def make_stack(dilations, channels):
    """Stride-1 3x3 convolutions with 'same' padding, ReLU between them."""
    layers, in_channels = [], 1
    for i, dilation in enumerate(dilations):
        layers.append(nn.Conv2d(in_channels, channels, 3, padding=dilation, dilation=dilation))
        if i < len(dilations) - 1:
            layers.append(nn.ReLU())
        in_channels = channels
    return nn.Sequential(*layers)


def theoretical_size(dilations, kernel_size=3):
    return 1 + sum(d * (kernel_size - 1) for d in dilations)


def gradient_map(dilations, size, channels, trials, seed):
    """Mean |d output[centre] / d input| over random networks and random inputs: (size, size)."""
    total = np.zeros((size, size))
    centre = size // 2
    for trial in range(trials):
        mg.manual_seed(seed + trial)
        stack = make_stack(dilations, channels)
        image = mg.randn(1, 1, size, size, requires_grad=True)
        output = stack(image)                                 # (1, channels, size, size)
        output[0, :, centre, centre].sum().backward()
        total += np.abs(image.grad.numpy()[0, 0])
    return total / trials


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=41, help="input height and width")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--trials", type=int, default=20, help="random networks averaged per stack")
    add_run_arguments(parser, quick_help="fewer random networks")
    args = parser.parse_args(argv)
    setup(args)
    if args.smoke:
        args.trials, args.channels = 2, 4
    elif args.quick:
        args.trials = 5
    largest = max(theoretical_size(d) for d in STACKS.values())
    if args.size < largest:
        parser.error(f"--size must be at least {largest} to hold the largest receptive field, "
                     f"got {args.size}")

    maps, rows = {}, []
    for name, dilations in STACKS.items():
        grad = gradient_map(dilations, args.size, args.channels, args.trials, args.seed)
        maps[name] = grad
        seen = grad > grad.max() * 1e-9
        ys, xs = np.nonzero(seen)
        extent = f"{ys.max() - ys.min() + 1}x{xs.max() - xs.min() + 1}"
        # radius around the centre holding half the gradient mass: the effective field
        centre = args.size // 2
        yy, xx = np.mgrid[:args.size, :args.size]
        radius = np.maximum(np.abs(yy - centre), np.abs(xx - centre))
        mass = np.array([grad[radius <= r].sum() for r in range(args.size // 2 + 1)]) / grad.sum()
        half = 2 * int(np.argmax(mass >= 0.5)) + 1
        t = theoretical_size(dilations)
        rows.append((name, len(dilations), f"{t}x{t}", extent, int(seen.sum()), t * t, f"{half}x{half}"))
    print_table(["stack", "layers", "theoretical", "measured extent", "pixels seen", "square area",
                  "half of |gradient| within"],
                rows, title=f"receptive field of the centre output pixel, mean |gradient| over "
                            f"{args.trials} random networks")

    plt = pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, len(STACKS), figsize=(3 * len(STACKS), 3.4))
        for ax, (name, grad) in zip(axes, maps.items()):
            ax.imshow(np.sqrt(grad / grad.max()), cmap="magma")
            t = theoretical_size(STACKS[name])
            ax.set_title(f"{name}\ntheory {t}x{t}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle("sqrt |d output(centre) / d input|: the receptive field, brightest where it counts most")
        save_figure(fig, os.path.join(args.out, "receptive_field.png"))
    return rows


if __name__ == "__main__":
    main()
