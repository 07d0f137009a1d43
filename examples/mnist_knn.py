"""Learn an embedding with a differentiable k-nearest-neighbour classifier instead of a softmax.

    python examples/mnist_knn.py                            # MNIST, downloaded on first use
    python examples/mnist_knn.py --dataset fashion-mnist    # offline with Debian's dataset-fashion-mnist
    python examples/mnist_knn.py --quick --compare          # under a minute, plus the baselines

Training: a convolutional network maps each image to a point in R^embed_dim.
Each image of a mini-batch is classified by its k nearest neighbours among
the *other* images of the batch (plus, optionally, a memory bank of recent
embeddings), each neighbour weighted by 1/distance
(``minigrad.models.KNNClassifier``, used as the loss):

    p(class c | x_i) = sum_{j in kNN(i), y_j = c} w_ij / sum_{j in kNN(i)} w_ij,   w_ij = 1 / d(x_i, x_j)

and the loss is -log p(y_i | x_i). Which neighbours are chosen is a discrete
decision with no gradient, but the weights are smooth functions of the
distances, so the loss is differentiable with respect to the representation:
it pulls neighbours of the same class in and pushes the others away.
``--weighting softmax`` (the default) uses w_ij = exp(-d_ij / T) instead (a
temperature softmax over negative distances, as in neighbourhood components
analysis), over all other images of the batch. Measured on Fashion-MNIST, 6
epochs, k = 20 at test time: softmax, T = 1, all 127 neighbours 93.69%;
1/distance with 32 neighbours 91.66%.

Testing: the whole training set is embedded once (``KNNClassifier.fit``); each
test image is classified by its k nearest training embeddings
(``KNNClassifier.predict``), with all distances of a block of test images
computed at once by one matrix product.
"""
import argparse
import os
import time

import numpy as np
from _common import Progress, add_common_arguments, load_images, print_table, pyplot, save_figure, setup, subset

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.models import KNNClassifier

NUM_CLASSES = 10
CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
WEIGHTING = {"inverse": "inverse_distance", "softmax": "softmax"}


# ----------------------------------------------------------------------------- the network

def conv_bn_relu(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class EmbeddingNet(nn.Module):
    """(N, 1, 28, 28) images -> (N, embed_dim) embeddings."""

    def __init__(self, embed_dim, width=32):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn_relu(1, width), conv_bn_relu(width, width), nn.MaxPool2d(2),                # 28 -> 14
            conv_bn_relu(width, 2 * width), conv_bn_relu(2 * width, 2 * width), nn.MaxPool2d(2),  # 14 -> 7
            conv_bn_relu(2 * width, 4 * width), nn.MaxPool2d(2),                                  # 7 -> 3
        )
        self.embed = nn.Linear(4 * width * 3 * 3, embed_dim)

    def forward(self, images):
        features = self.features(images)                  # (N, 4*width, 3, 3)
        return self.embed(features.flatten(1))            # (N, embed_dim)


def embed(model, images, batch_size=256):
    """Embeddings (N, D) of normalised images (N, 1, 28, 28), in eval mode, without a graph.

    Batches of 256: the first block's activations (256 x 24 x 28 x 28 floats,
    19 MB) stay under minigrad's malloc threshold (minigrad/allocator.py), so
    their memory is reused from batch to batch. Batches of 1000 (75 MB) got
    fresh pages every time: 28,000 page faults per 6,000 images, 30% slower."""
    model.eval()
    out = []
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            out.append(model(mg.tensor(images[start:start + batch_size])).numpy())
    return np.concatenate(out)


# ----------------------------------------------------------------------------- training

def random_shift(images, pixels, rng):
    """Shift each image of a batch by up to `pixels` in x and y (zero fill): light augmentation."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)))
    dy, dx = rng.integers(0, 2 * pixels + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)[None, :]                               # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]                               # (n, w)
    return padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def train(model, head, images, labels, args, desc):
    """Train model (with the k-NN loss, or with a linear softmax head if head is given).

    Returns the per-epoch history (loss, accuracy, images/s) and the time taken.
    """
    parameters = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    optimizer = mg.optim.AdamW(parameters, lr=args.lr, weight_decay=args.weight_decay)
    loader = mg.data.DataLoader(mg.data.TensorDataset(mg.tensor(images), mg.tensor(labels)),
                                batch_size=args.batch_size, shuffle=True, drop_last=True)
    scheduler = mg.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                 steps_per_epoch=len(loader))
    knn = KNNClassifier(k=args.train_k, weighting=WEIGHTING[args.weighting], temperature=args.temperature,
                        memory_size=args.memory, num_classes=NUM_CLASSES)
    rng = np.random.default_rng(args.seed)
    history = {"loss": [], "accuracy": [], "images_per_s": [], "step_loss": [], "step_accuracy": []}
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        progress = Progress(len(loader) * args.batch_size, f"{desc} epoch {epoch + 1}/{args.epochs}")
        total_loss = total_accuracy = 0.0
        for step, (x, y) in enumerate(loader):
            if args.shift:
                x = mg.tensor(random_shift(x.numpy(), args.shift, rng))
            y_np = y.numpy()
            embeddings = model(x)
            if head is None:
                # the loss, and the batch's own leave-one-out k-NN accuracy for the progress bar
                # from the same neighbours (return_probabilities: no second search)
                loss, probabilities = knn(embeddings, y_np, return_probabilities=True)
                accuracy = float((probabilities.numpy().argmax(1) == y_np).mean())
            else:
                logits = head(embeddings)
                loss = F.cross_entropy(logits, y)
                accuracy = float((logits.detach().numpy().argmax(1) == y_np).mean())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item()
            total_accuracy += accuracy
            history["step_loss"].append(loss.item())
            history["step_accuracy"].append(accuracy)
            progress.update(len(y_np), loss=total_loss / (step + 1), acc=total_accuracy / (step + 1))
        progress.close()                # prints the epoch's line: loss, accuracy, images/s
        history["loss"].append(total_loss / len(loader))
        history["accuracy"].append(total_accuracy / len(loader))
        history["images_per_s"].append(progress.rate())
    return history, time.perf_counter() - start


# ----------------------------------------------------------------------------- picture

def pca_2d(points):
    centred = points - points.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def moving_average(values, window):
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values)))
    return np.arange(window - 1, len(values)), np.convolve(values, np.ones(window) / window, mode="valid")


def plot(history, test_embeddings, test_labels, class_names, path, title):
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    steps = len(history["step_loss"])
    window = max(1, steps // 40)
    steps_per_epoch = steps / max(1, len(history["loss"]))
    for ax, key, label in ((axes[0], "step_loss", "-log p(correct class)"),
                           (axes[1], "step_accuracy", "k-NN accuracy within the batch")):
        ax.plot(history[key], alpha=0.25, color="C0", label="per step")
        ax.plot(*moving_average(history[key], window), color="C1", label=f"moving average ({window} steps)")
        for epoch in range(1, len(history["loss"])):
            ax.axvline(epoch * steps_per_epoch, color="grey", linewidth=0.5, linestyle=":")
        ax.set(xlabel="step (dotted lines: epochs)", ylabel=label)
        ax.legend()
    axes[0].set_title("training loss")
    axes[1].set_title("training accuracy")
    projected = pca_2d(test_embeddings)
    for label, name in enumerate(class_names):
        points = projected[test_labels == label]
        axes[2].scatter(points[:, 0], points[:, 1], s=2, color=plt.cm.tab10(label), label=name)
    axes[2].legend(fontsize=7, markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[2].set(title="test embeddings, first two principal components")
    fig.suptitle(title)
    save_figure(fig, path)


# ----------------------------------------------------------------------------- main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    add_common_arguments(parser, epochs=6, batch_size=128)
    parser.add_argument("--k", type=int, default=20, help="neighbours at test time")
    parser.add_argument("--train-k", type=int, default=127,
                        help="neighbours within a training batch (127: all the others of a batch of 128)")
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--width", type=int, default=24, help="channels of the first convolution")
    parser.add_argument("--weighting", choices=["inverse", "softmax"], default="softmax",
                        help="neighbour weights: 1/distance or exp(-distance/temperature)")
    parser.add_argument("--temperature", type=float, default=1.0, help="for --weighting softmax")
    parser.add_argument("--memory", type=int, default=0,
                        help="memory bank size: recent embeddings that join each batch as neighbours")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--shift", type=int, default=0, help="random shift augmentation, in pixels")
    parser.add_argument("--no-download", action="store_true", help="only use dataset files already on disk")
    parser.add_argument("--compare", action="store_true",
                        help="also run k-NN on raw pixels and the same network with a softmax head")
    args = parser.parse_args(argv)
    if args.k < 1 or args.train_k < 1:
        parser.error(f"--k and --train-k must be >= 1, got {args.k} and {args.train_k}")
    if args.temperature <= 0:
        parser.error(f"--temperature must be > 0, got {args.temperature}")
    return args


def main(argv=None):
    args = parse_args(argv)
    setup(args)
    download = not args.no_download
    train_images, train_labels = load_images(args.dataset, args.data_dir, train=True, download=download)
    test_images, test_labels = load_images(args.dataset, args.data_dir, train=False, download=download)
    if args.smoke:
        sizes = (512, 256)
        args.epochs = 1
    elif args.quick:
        sizes = (6000, 2000)
        args.epochs = min(args.epochs, 2)
    else:
        sizes = (None, None)
    train_images, train_labels = subset(train_images, train_labels, sizes[0], args.seed)
    test_images, test_labels = subset(test_images, test_labels, sizes[1], args.seed + 1)

    # uint8 (N, 28, 28) -> float32 (N, 1, 28, 28), zero mean and unit variance
    mean, std = train_images.mean() / 255, train_images.std() / 255
    x_train = ((train_images[:, None] / 255 - mean) / std).astype(np.float32)
    x_test = ((test_images[:, None] / 255 - mean) / std).astype(np.float32)
    print(f"{args.dataset}: {len(x_train)} training and {len(x_test)} test images, "
          f"{mg.get_num_threads()} threads")

    results = []
    if args.compare:
        start = time.perf_counter()
        flat_train = x_train.reshape(len(x_train), -1)
        pixels = KNNClassifier(k=args.k, num_classes=NUM_CLASSES).fit(mg.tensor(flat_train), train_labels)
        predicted = pixels.predict(mg.tensor(x_test.reshape(len(x_test), -1))).numpy()
        results.append((f"k-NN on raw pixels (k={args.k})", (predicted == test_labels).mean(),
                        0.0, time.perf_counter() - start))

        mg.manual_seed(args.seed)
        model, head = EmbeddingNet(args.embed_dim, args.width), nn.Linear(args.embed_dim, NUM_CLASSES)
        _, train_time = train(model, head, x_train, train_labels, args, "softmax")
        start = time.perf_counter()
        with mg.no_grad():
            logits = head(mg.tensor(embed(model, x_test))).numpy()
        results.append(("same network, softmax head", (logits.argmax(1) == test_labels).mean(), train_time,
                        time.perf_counter() - start))

    mg.manual_seed(args.seed)
    model = EmbeddingNet(args.embed_dim, args.width)
    history, train_time = train(model, None, x_train, train_labels, args, "k-NN")
    start = time.perf_counter()
    train_embeddings = embed(model, x_train)
    test_embeddings = embed(model, x_test)
    knn = KNNClassifier(k=args.k, weighting=WEIGHTING[args.weighting], temperature=args.temperature,
                        num_classes=NUM_CLASSES)
    predicted = knn.fit(mg.tensor(train_embeddings), train_labels).predict(mg.tensor(test_embeddings)).numpy()
    accuracy = (predicted == test_labels).mean()
    results.append((f"k-NN on learned embeddings (k={args.k}, {args.weighting})", accuracy, train_time,
                    time.perf_counter() - start))

    print_table(["method", "test accuracy", "train time", "test time"],
                [(name, f"{100 * acc:.2f}%", f"{t_train:.1f} s", f"{t_test:.1f} s")
                 for name, acc, t_train, t_test in results],
                title=f"{args.dataset}, {len(x_train)} training / {len(x_test)} test images, "
                      f"{args.epochs} epochs")

    checkpoint = os.path.join(args.out, f"{args.dataset}_knn.safetensors")   # PyTorch reads it too
    mg.save({"model": model.state_dict(), "embed_dim": args.embed_dim, "width": args.width,
             "normalisation": (float(mean), float(std)), "test_accuracy": float(accuracy)}, checkpoint)
    print(f"wrote {checkpoint}")
    plot(history, test_embeddings, test_labels, CLASS_NAMES[args.dataset],
         os.path.join(args.out, f"{args.dataset}_knn.png"),
         f"{args.dataset}: k-NN on learned embeddings, test accuracy {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
