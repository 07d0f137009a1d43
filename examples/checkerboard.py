"""Checkerboard artifacts: four ways to upsample in a 2x super-resolution network.

    python examples/checkerboard.py [--quick] [--out DIR]

Fashion-MNIST images are averaged down to 14x14 and a small network learns to
bring them back to 28x28. Only the upsampling layer differs:

  transposed conv, k=3 s=2   kernel not divisible by the stride: output pixels of
                             even and odd positions receive different numbers of
                             kernel taps (2 and 1 per axis), so a period-2
                             pattern is built into the layer (Odena et al., 2016)
  transposed conv, k=4 s=2   kernel divisible by the stride: every output pixel
                             gets the same number of taps
  resize-convolution         nearest-neighbour upsample, then a 3x3 convolution
  pixel shuffle              a convolution to 4x the channels, rearranged into a
                             2x larger image (sub-pixel convolution, Shi et al., 2016)

The table reports PSNR on test images and the artifact: the amplitude of
the period-2 pattern (the FFT's highest frequencies), on test images next to
that of the real images, and on a flat grey input, where any pattern at all
is the network's own.
"""
import argparse
import os
import time

import numpy as np
from _common import Progress, add_common_arguments, load_images, print_table, pyplot, save_figure, setup, subset

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def upsampler(kind, channels):
    """A layer (N, channels, H, W) -> (N, channels, 2H, 2W)."""
    if kind == "transposed k=3":
        return nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1)
    if kind == "transposed k=4":
        return nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1)
    if kind == "resize-conv":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                             nn.Conv2d(channels, channels, 3, padding=1))
    if kind == "pixel shuffle":
        return nn.Sequential(nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2))
    raise ValueError(f"unknown upsampler {kind!r}")


KINDS = ["transposed k=3", "transposed k=4", "resize-conv", "pixel shuffle"]


class SuperResolution(nn.Module):
    """(N, 1, 14, 14) -> (N, 1, 28, 28): features, the upsampler, a 1x1 output layer.

    The output layer is 1x1 so that it cannot smooth away what the upsampler did.
    """

    def __init__(self, kind, channels=32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
        )
        self.upsample = upsampler(kind, channels)
        self.output = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def forward(self, small):
        return self.output(self.upsample(self.features(small)))


def downsample(images):
    """2x2 average pooling in NumPy: (N, 1, 28, 28) -> (N, 1, 14, 14)."""
    n, c, h, w = images.shape
    return images.reshape(n, c, h // 2, 2, w // 2, 2).mean((3, 5))


def psnr(prediction, target):
    """Peak signal-to-noise ratio in dB for images in [0, 1], averaged over images."""
    mse = ((prediction.clip(0, 1) - target) ** 2).reshape(len(target), -1).mean(1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def period2_amplitude(images):
    """Amplitude of each image's period-2 pattern, averaged over images (intensity units).

    In the 2-D FFT of an HxW image, the three bins (H/2, 0), (0, W/2) and
    (H/2, W/2) hold the patterns that flip sign from one pixel to the next
    (stripes and the checkerboard). A pattern a * (-1)^(x+y) puts a*H*W in
    its bin, so sqrt(power of the three bins) / (H*W) is the pattern's size.
    """
    images = images.reshape(-1, images.shape[-2], images.shape[-1])
    spectrum = np.fft.fft2(images)
    h, w = images.shape[1:]
    power = (np.abs(spectrum[:, h // 2, 0]) ** 2 + np.abs(spectrum[:, 0, w // 2]) ** 2
             + np.abs(spectrum[:, h // 2, w // 2]) ** 2)
    return float(np.mean(np.sqrt(power) / (h * w)))


def train(kind, small, large, args):
    mg.manual_seed(args.seed)
    model = SuperResolution(kind)
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    loader = mg.data.DataLoader(mg.data.TensorDataset(mg.tensor(small), mg.tensor(large)),
                                batch_size=args.batch_size, shuffle=True)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        progress = Progress(len(small), f"{kind:15s} epoch {epoch + 1}/{args.epochs}")
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            progress.update(len(x), loss=loss.item())
        progress.close()
    return model, time.perf_counter() - start


def predict(model, small):
    model.eval()
    with mg.no_grad():
        return model(mg.tensor(small)).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, epochs=3, batch_size=32)
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args(argv)
    setup(args)
    if args.smoke:
        args.train_size, test_size, args.epochs = 256, 64, 1
    elif args.quick:
        args.train_size, test_size, args.epochs = 2000, 500, 1
    else:
        test_size = 1000

    images, labels = load_images("fashion-mnist", args.data_dir, train=True)
    images, _ = subset(images, labels, args.train_size, args.seed)
    test_images, test_labels = load_images("fashion-mnist", args.data_dir, train=False)
    test_images, _ = subset(test_images, test_labels, test_size, args.seed)
    large = (images[:, None] / 255).astype(np.float32)
    test_large = (test_images[:, None] / 255).astype(np.float32)
    small, test_small = downsample(large), downsample(test_large)
    flat = np.full((1, 1, 14, 14), 0.5, dtype=np.float32)

    rows, outputs, flat_outputs = [], {}, {}
    nearest = test_small.repeat(2, axis=2).repeat(2, axis=3)
    rows.append(("nearest-neighbour copy (no learning)", f"{psnr(nearest, test_large):.2f}",
                 f"{period2_amplitude(nearest):.4f}", "-", "-"))
    for kind in KINDS:
        model, seconds = train(kind, small, large, args)
        outputs[kind] = predict(model, test_small)
        # the interior: zero padding at the borders is a different, non-periodic effect
        flat_outputs[kind] = predict(model, flat)[0, 0, 6:-6, 6:-6]
        rows.append((kind, f"{psnr(outputs[kind], test_large):.2f}",
                     f"{period2_amplitude(outputs[kind]):.4f}",
                     f"{period2_amplitude(flat_outputs[kind]):.4f}", f"{seconds:.1f}"))
    rows.append(("real 28x28 images", "-", f"{period2_amplitude(test_large):.4f}", "-", "-"))
    print_table(["upsampler", "PSNR (dB)", "period-2 amplitude", "same, flat grey input", "train s"],
                rows,
                title=f"2x super-resolution on Fashion-MNIST, {len(large)} images, {args.epochs} epochs")
    print("period-2 amplitude: size (0-1 intensity scale) of the pattern that flips sign from one\n"
          "pixel to the next; on a flat grey input any such pattern comes from the network itself.")

    plt = pyplot()
    if plt is None:
        return rows
    shown = 4
    columns = ["input 14x14"] + KINDS + ["target 28x28"]
    fig, axes = plt.subplots(shown + 1, len(columns), figsize=(2 * len(columns), 2 * (shown + 1)))
    for row in range(shown):
        pictures = [test_small[row, 0]] + [outputs[k][row, 0] for k in KINDS] + [test_large[row, 0]]
        for col, picture in enumerate(pictures):
            axes[row, col].imshow(picture.clip(0, 1), cmap="gray", vmin=0, vmax=1)
    axes[shown, 0].imshow(flat[0, 0], cmap="gray", vmin=0, vmax=1)
    axes[shown, -1].axis("off")
    for col, kind in enumerate(KINDS, start=1):
        # contrast-stretched: the pattern is the point
        axes[shown, col].imshow(flat_outputs[kind], cmap="magma")
    for col, name in enumerate(columns):
        axes[0, col].set_title(name, fontsize=9)
    axes[shown, 0].set_ylabel("flat grey input;\noutputs' interior,\ncontrast stretched", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    save_figure(fig, os.path.join(args.out, "checkerboard.png"))
    return rows


if __name__ == "__main__":
    main()
