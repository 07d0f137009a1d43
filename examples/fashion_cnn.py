"""Two small classifiers on Fashion-MNIST: a CNN with batch norm and PReLU, and a SqueezeNet.

    python examples/fashion_cnn.py [--quick] [--epochs E] [--train-size N]

  CNN         three conv-BN-PReLU stages with max pooling, then one linear
              layer. Batch norm keeps each layer's inputs normalised, which
              allows a large learning rate; PReLU is a ReLU whose slope for
              negative inputs is learned (one per channel here).
  SqueezeNet  minigrad.models.SqueezeNet: Fire modules (1x1 squeeze, then
              parallel 1x1 and 3x3 expands), no fully connected layer (a 1x1
              convolution to 10 classes and global average pooling), so
              few parameters.

Both train with AdamW and a one-cycle learning-rate schedule; the table
reports test accuracy, parameters and time.
"""
import argparse
import time

import numpy as np
from _common import Progress, add_common_arguments, load_images, print_table, setup, subset

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.models import SqueezeNet


def conv_bn_prelu(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.PReLU(out_channels))


def make_cnn(width=32):
    return nn.Sequential(
        conv_bn_prelu(1, width), nn.MaxPool2d(2),                   # 28 -> 14
        conv_bn_prelu(width, 2 * width), nn.MaxPool2d(2),           # 14 -> 7
        conv_bn_prelu(2 * width, 4 * width), nn.MaxPool2d(2),       # 7 -> 3
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * width * 3 * 3, 10),
    )


def make_squeezenet():
    """minigrad.models.SqueezeNet for 1-channel 28x28 images (He initialisation, as torchvision's)."""
    return SqueezeNet(10, in_channels=1)


def train(model, x, y, args, name):
    optimizer = mg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    loader = mg.data.DataLoader(mg.data.TensorDataset(mg.tensor(x), mg.tensor(y)),
                                batch_size=args.batch_size, shuffle=True, drop_last=True)
    scheduler = mg.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                 steps_per_epoch=len(loader))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        progress = Progress(len(loader) * args.batch_size, f"{name:10s} epoch {epoch + 1}/{args.epochs}")
        correct = seen = 0
        for images, labels in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            correct += int((logits.detach().numpy().argmax(1) == labels.numpy()).sum())
            seen += len(labels)
            progress.update(len(labels), loss=loss.item(), acc=correct / seen)
        progress.close()
    seconds = time.perf_counter() - start
    return seconds, args.epochs * len(loader) * args.batch_size / seconds


def accuracy(model, x, y, batch_size=256):
    """Test accuracy in eval mode; batches of 256 keep each activation under minigrad's
    malloc threshold (minigrad/allocator.py), so its memory is reused, not faulted in again."""
    model.eval()
    predicted = []
    with mg.no_grad():
        for start in range(0, len(x), batch_size):
            predicted.append(model(mg.tensor(x[start:start + batch_size])).numpy().argmax(1))
    return float((np.concatenate(predicted) == y).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, epochs=2, batch_size=64)
    parser.add_argument("--train-size", type=int, default=20000, help="training images (60000: all)")
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)
    setup(args)
    test_size = None
    if args.smoke:
        args.train_size, args.epochs, test_size = 256, 1, 256
    elif args.quick:
        args.train_size, args.epochs, test_size = 4000, 1, 2000

    images, labels = load_images("fashion-mnist", args.data_dir, train=True)
    images, labels = subset(images, labels, args.train_size, args.seed)
    test_images, test_labels = load_images("fashion-mnist", args.data_dir, train=False)
    test_images, test_labels = subset(test_images, test_labels, test_size, args.seed)
    mean, std = images.mean() / 255, images.std() / 255
    x = ((images[:, None] / 255 - mean) / std).astype(np.float32)
    x_test = ((test_images[:, None] / 255 - mean) / std).astype(np.float32)

    rows = []
    for name, make in (("CNN, BN + PReLU", make_cnn), ("SqueezeNet", make_squeezenet)):
        mg.manual_seed(args.seed)
        model = make()
        seconds, rate = train(model, x, labels, args, name)
        rows.append((name, f"{100 * accuracy(model, x_test, test_labels):.2f}%",
                     f"{sum(p.numel() for p in model.parameters()):,}", f"{seconds:.1f}", f"{rate:.0f}"))
    print_table(["model", "test accuracy", "parameters", "train s", "images/s"], rows,
                title=f"Fashion-MNIST, {len(x)} training images, {args.epochs} epochs, "
                      f"{len(x_test)} test images, {mg.get_num_threads()} threads")
    return rows


if __name__ == "__main__":
    main()
