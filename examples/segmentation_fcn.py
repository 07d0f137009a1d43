"""A fully convolutional network segments synthetic shapes, with a max-unpool decoder.

    python examples/segmentation_fcn.py [--quick] [--out DIR]

Every pixel of a 32x32 image is labelled background, circle, square or
triangle. The network has no fully connected layer, so it maps an image of
any size to a label map of the same size:

  encoder   conv-BN-ReLU blocks and 2x2 max-pools that *keep their indices*
            (where in each window the maximum was)
  decoder   max-unpool puts each value back at the position its pool took it
            from (SegNet, Badrinarayanan et al., 2015), and convolutions fill
            in the zeros; the alternative decoder learns the upsampling with
            stride-2 transposed convolutions instead
  output    a 1x1 convolution to one score per class and pixel

Both decoders are trained; the table reports pixel accuracy and mean
intersection-over-union on fresh shapes, and the PNG shows predictions.
"""
import argparse
import os
import time

import numpy as np
from _common import Progress, add_run_arguments, print_table, pyplot, save_figure, setup

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

CLASSES = ["background", "circle", "square", "triangle"]
NUM_CLASSES = len(CLASSES)


def make_shapes(count, size, rng):
    """Images (count, 1, size, size) float32 and label maps (count, size, size) int64."""
    images = rng.normal(0.0, 0.15, size=(count, size, size))
    labels = np.zeros((count, size, size), dtype=np.int64)
    yy, xx = np.mgrid[:size, :size]
    for i in range(count):
        for _ in range(rng.integers(1, 4)):
            kind = rng.integers(1, len(CLASSES))
            r = rng.uniform(size / 10, size / 5)
            cy, cx = rng.uniform(r, size - r, size=2)
            if kind == 1:                                    # circle
                inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2
            elif kind == 2:                                  # axis-aligned square
                inside = (np.abs(yy - cy) <= r * 0.85) & (np.abs(xx - cx) <= r * 0.85)
            else:                                            # upward triangle
                top = cy - r
                inside = (yy >= top) & (yy <= cy + r) & (np.abs(xx - cx) <= (yy - top) / 2)
            # brightness is random, so only the shape tells the classes apart
            images[i][inside] += rng.uniform(0.5, 1.0) * rng.choice([-1, 1])
            labels[i][inside] = kind
    return images[:, None].astype(np.float32), labels


def conv_bn_relu(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class FCN(nn.Module):
    """(N, 1, H, W) -> (N, classes, H, W) scores; H and W divisible by 4."""

    def __init__(self, decoder, width=16, classes=NUM_CLASSES):
        super().__init__()
        if decoder not in ("unpool", "transposed"):
            raise ValueError(f"decoder must be 'unpool' or 'transposed', got {decoder!r}")
        self.decoder = decoder
        self.encode1 = nn.Sequential(conv_bn_relu(1, width), conv_bn_relu(width, width))
        self.encode2 = nn.Sequential(conv_bn_relu(width, 2 * width), conv_bn_relu(2 * width, 2 * width))
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.middle = conv_bn_relu(2 * width, 2 * width)
        if decoder == "unpool":
            self.up2, self.up1 = nn.MaxUnpool2d(2), nn.MaxUnpool2d(2)
        else:
            self.up2 = nn.ConvTranspose2d(2 * width, 2 * width, 2, stride=2)
            self.up1 = nn.ConvTranspose2d(width, width, 2, stride=2)
        self.decode2 = conv_bn_relu(2 * width, width)
        self.decode1 = conv_bn_relu(width, width)
        self.classify = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        x, indices1 = self.pool(self.encode1(x))             # (N, w, H/2, W/2)
        x, indices2 = self.pool(self.encode2(x))             # (N, 2w, H/4, W/4)
        x = self.middle(x)
        x = self.up2(x, indices2) if self.decoder == "unpool" else self.up2(x)    # (N, 2w, H/2, W/2)
        x = self.decode2(x)                                  # (N, w, H/2, W/2)
        x = self.up1(x, indices1) if self.decoder == "unpool" else self.up1(x)    # (N, w, H, W)
        return self.classify(self.decode1(x))                # (N, classes, H, W)


def pixel_loss(scores, labels):
    """Cross-entropy over all pixels: (N, C, H, W) scores, (N, H, W) labels."""
    classes = scores.shape[1]
    return F.cross_entropy(scores.permute(0, 2, 3, 1).reshape(-1, classes), labels.reshape(-1))


def mean_iou(predicted, labels):
    ious = []
    for c in range(len(CLASSES)):
        union = ((predicted == c) | (labels == c)).sum()
        if union:
            ious.append(((predicted == c) & (labels == c)).sum() / union)
    return float(np.mean(ious))


def train(decoder, images, labels, args):
    mg.manual_seed(args.seed)
    model = FCN(decoder, args.width)
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    loader = mg.data.DataLoader(mg.data.TensorDataset(mg.tensor(images), mg.tensor(labels)),
                                batch_size=args.batch_size, shuffle=True)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        progress = Progress(len(images), f"{decoder:10s} epoch {epoch + 1}/{args.epochs}")
        for x, y in loader:
            loss = pixel_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            progress.update(len(x), loss=loss.item())
        progress.close()
    return model, time.perf_counter() - start


def predict(model, images):
    model.eval()
    with mg.no_grad():
        return model(mg.tensor(images)).numpy().argmax(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=1500)
    parser.add_argument("--size", type=int, default=32, help="image height and width (divisible by 4)")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    add_run_arguments(parser, quick_help="fewer images and epochs")
    args = parser.parse_args(argv)
    setup(args)
    if args.size % 4:
        parser.error(f"--size must be divisible by 4 (two 2x2 pools), got {args.size}")
    if args.smoke:
        args.train_size, args.epochs, test_size = 64, 1, 16
    elif args.quick:
        args.train_size, args.epochs, test_size = 500, 2, 200
    else:
        test_size = 500

    rng = np.random.default_rng(args.seed)
    images, labels = make_shapes(args.train_size, args.size, rng)
    test_images, test_labels = make_shapes(test_size, args.size, rng)

    rows, predictions = [], {}
    for decoder in ("unpool", "transposed"):
        model, seconds = train(decoder, images, labels, args)
        predictions[decoder] = predicted = predict(model, test_images)
        rows.append((decoder, sum(p.numel() for p in model.parameters()),
                     f"{100 * (predicted == test_labels).mean():.2f}%",
                     f"{mean_iou(predicted, test_labels):.3f}", f"{seconds:.1f}"))
    print_table(["decoder", "parameters", "pixel accuracy", "mean IoU", "train s"], rows,
                title=f"segmenting {len(CLASSES)} classes of synthetic shapes, "
                      f"{args.train_size} training images, "
                      f"{args.epochs} epochs, {len(test_images)} test images")

    plt = pyplot()
    if plt is not None:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch
        colours = ["#20305f", "#f28e2b", "#59a14f", "#e15759"]
        label_map = ListedColormap(colours)
        shown = 4
        fig, axes = plt.subplots(shown, 4, figsize=(9, 2.3 * shown))
        for row in range(shown):
            pictures = [(test_images[row, 0], "gray"), (test_labels[row], label_map),
                        (predictions["unpool"][row], label_map), (predictions["transposed"][row], label_map)]
            for ax, (picture, cmap) in zip(axes[row], pictures):
                kwargs = {"vmin": 0, "vmax": len(CLASSES) - 1} if cmap is label_map else {}
                ax.imshow(picture, cmap=cmap, interpolation="nearest", **kwargs)
                ax.set_xticks([])
                ax.set_yticks([])
        for ax, title in zip(axes[0], ["input", "truth", "max-unpool decoder", "transposed-conv decoder"]):
            ax.set_title(title, fontsize=9)
        fig.legend(handles=[Patch(color=c, label=name) for c, name in zip(colours, CLASSES)],
                   loc="lower center", ncol=len(CLASSES), fontsize=8)
        save_figure(fig, os.path.join(args.out, "segmentation_fcn.png"))
    return rows


if __name__ == "__main__":
    main()
