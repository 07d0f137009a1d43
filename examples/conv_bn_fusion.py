"""Fold batch normalisation into the preceding convolution for inference.

    python examples/conv_bn_fusion.py [--quick] [--threads N]

In eval mode batch norm is a fixed per-channel affine map, so it can be
merged into the convolution before it. For output channel c:

    bn(conv(x))_c = gamma_c * (W_c * x + b_c - mean_c) / sqrt(var_c + eps) + beta_c
                  = W'_c * x + b'_c   with
    W'_c = W_c * gamma_c / sqrt(var_c + eps)
    b'_c = (b_c - mean_c) * gamma_c / sqrt(var_c + eps) + beta_c

The fused network computes the same function with one layer fewer per block:
no batch-norm pass over the activations. The script folds by hand (NumPy,
the formula above), checks that against ``minigrad.nn.utils.fuse_conv_bn_eval``,
and measures outputs and speed before and after.
"""
import argparse

import numpy as np
from _common import add_run_arguments, print_table, setup, time_forward

import minigrad as mg
import minigrad.nn as nn


def conv_bn_relu(in_channels, out_channels, stride=1):
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


def make_network(width):
    """A small VGG-like stack for (N, 3, 32, 32) images."""
    return nn.Sequential(
        *conv_bn_relu(3, width), *conv_bn_relu(width, width),
        *conv_bn_relu(width, 2 * width, stride=2), *conv_bn_relu(2 * width, 2 * width),
        *conv_bn_relu(2 * width, 4 * width, stride=2), *conv_bn_relu(4 * width, 4 * width),
    )


def fold_by_hand(conv, bn):
    """The folded (weight, bias) as NumPy arrays, straight from the formula."""
    weight = conv.weight.detach().numpy()                                  # (Cout, Cin, kh, kw)
    bias = conv.bias.detach().numpy() if conv.bias is not None else np.zeros(len(weight), weight.dtype)
    scale = bn.weight.detach().numpy() / np.sqrt(bn.running_var.numpy() + bn.eps)   # (Cout,)
    folded_weight = weight * scale[:, None, None, None]
    folded_bias = (bias - bn.running_mean.numpy()) * scale + bn.bias.detach().numpy()
    return folded_weight, folded_bias


def fuse(network):
    """A new Sequential with every Conv2d followed by BatchNorm2d replaced by one Conv2d."""
    layers, children = [], list(network.children())
    i = 0
    while i < len(children):
        layer = children[i]
        if (isinstance(layer, nn.Conv2d) and i + 1 < len(children)
                and isinstance(children[i + 1], nn.BatchNorm2d)):
            fused = nn.utils.fuse_conv_bn_eval(layer, children[i + 1])
            weight, bias = fold_by_hand(layer, children[i + 1])
            assert np.allclose(fused.weight.detach().numpy(), weight, rtol=1e-5, atol=1e-6)
            assert np.allclose(fused.bias.detach().numpy(), bias, rtol=1e-5, atol=1e-6)
            layers.append(fused)
            i += 2
        else:
            layers.append(layer)
            i += 1
    return nn.Sequential(*layers).eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    add_run_arguments(parser, quick_help="fewer timing repeats")
    args = parser.parse_args(argv)
    setup(args)
    if args.smoke:
        args.width, args.batch_size, args.repeats = 8, 8, 2
    elif args.quick:
        args.repeats = 3

    network = make_network(args.width)
    # Give batch norm something to undo: random scales and shifts, and running
    # statistics gathered from a few training-mode passes over random images.
    with mg.no_grad():
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.2)
        network.train()
        for _ in range(5):
            network(mg.randn(args.batch_size, 3, 32, 32) * 2 + 0.5)
    network.eval()

    fused = fuse(network)
    images = mg.randn(args.batch_size, 3, 32, 32)
    with mg.no_grad():
        reference = network(images).numpy()
        result = fused(images).numpy()
    difference = np.abs(reference - result).max()
    relative = difference / np.abs(reference).max()

    before = time_forward(network, images, args.repeats)
    after = time_forward(fused, images, args.repeats)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    layers = lambda net: len(list(net.children()))  # noqa: E731
    print_table(["network", "layers", "parameters", "forward (ms)", "speedup", "max |difference|"],
                [("conv + batch norm", layers(network), f"{count(network):,}", f"{before:.2f}", "1.00x", "-"),
                 ("fused", layers(fused), f"{count(fused):,}", f"{after:.2f}", f"{before / after:.2f}x",
                  f"{difference:.2e} (relative {relative:.1e})")],
                title=f"eval-mode forward of a batch of {args.batch_size} 3x32x32 images, "
                      f"width {args.width}, {mg.get_num_threads()} threads, median of {args.repeats}")
    if relative > 1e-4:
        raise SystemExit(f"fused outputs differ: relative difference {relative:.2e}")
    return before, after, difference


if __name__ == "__main__":
    main()
