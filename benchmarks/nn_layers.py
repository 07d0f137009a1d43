"""minigrad.nn layer and loss speed (forward + backward) against PyTorch on the CPU.

    python benchmarks/nn_layers.py [--threads 1]

Prints a Markdown table. The fused cross_entropy is also compared with the
same loss composed from log_softmax and nll_loss (two ops, two passes).
"""
import argparse

import numpy as np
from _timing import median_seconds, print_table, try_import_torch


def cases(lib, rng):
    """(name, setup) pairs; setup returns a function running forward + backward once."""
    nn, F = lib.nn, lib.nn.functional

    def tensor(*shape, grad=True):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)

    def cross_entropy():
        logits, labels = tensor(256, 1000), lib.tensor(rng.integers(0, 1000, 256))
        return lambda: F.cross_entropy(logits, labels).backward()

    def composed_cross_entropy():
        logits, labels = tensor(256, 1000), lib.tensor(rng.integers(0, 1000, 256))
        return lambda: F.nll_loss(F.log_softmax(logits, 1), labels).backward()

    def smoothed_cross_entropy():
        logits, labels = tensor(256, 1000), lib.tensor(rng.integers(0, 1000, 256))
        return lambda: F.cross_entropy(logits, labels, label_smoothing=0.1).backward()

    def linear():
        layer, x = nn.Linear(1024, 1024), tensor(256, 1024)
        return lambda: layer(x).sum().backward()

    def gelu():
        x = tensor(256, 4096)
        return lambda: F.gelu(x).sum().backward()

    def small_mlp():
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                              nn.Linear(64, 10))
        x, labels = tensor(32, 64, grad=False), lib.tensor(rng.integers(0, 10, 32))
        return lambda: F.cross_entropy(model(x), labels).backward()

    def lenet_block():
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 10))
        x, labels = tensor(64, 1, 28, 28, grad=False), lib.tensor(rng.integers(0, 10, 64))
        return lambda: F.cross_entropy(model(x), labels).backward()

    return [("cross_entropy (256x1000)", cross_entropy),
            ("log_softmax + nll_loss (256x1000)", composed_cross_entropy),
            ("cross_entropy, label_smoothing=0.1", smoothed_cross_entropy),
            ("Linear 1024->1024, batch 256", linear),
            ("gelu (256x4096)", gelu),
            ("3-layer MLP 64 wide, batch 32 (overhead)", small_mlp),
            ("conv-bn-relu-pool-linear, batch 64x28x28", lenet_block)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import minigrad
    minigrad.set_num_threads(args.threads)
    torch = try_import_torch(args.threads)
    rows = []
    minigrad_cases = cases(minigrad, np.random.default_rng(0))
    torch_cases = cases(torch, np.random.default_rng(0)) if torch else [(n, None) for n, _ in minigrad_cases]
    for (name, setup), (_, torch_setup) in zip(minigrad_cases, torch_cases):
        ours = median_seconds(setup(), repeats=15)
        theirs = median_seconds(torch_setup(), repeats=15) if torch_setup else None
        rows.append([name, f"{ours * 1e3:.2f}", f"{theirs * 1e3:.2f}" if theirs else "-",
                     f"{ours / theirs:.1f}x" if theirs else "-"])
    print(f"forward + backward, median ms, {args.threads} thread(s)")
    print_table(["case", "minigrad", "PyTorch", "ratio"], rows)


if __name__ == "__main__":
    main()
