"""OpenMP scaling: how minigrad's kernels and a training step speed up with threads.

    python benchmarks/thread_scaling.py [--threads 1,2,4,8,16] [--quick]

For each thread count: forward+backward time of a dense 3x3 convolution,
a depthwise convolution, 2x2 max pooling and batch norm, and the LeNet
training step of train_step.py, with the speed-up over one thread. Useful on
machines with more than 2 cores; benchmarks/README.md holds a run on a 16-core machine.
"""
import argparse
import os

import numpy as np
from _timing import median_seconds, print_table
from train_step import build_lenet

import minigrad as mg

F = mg.nn.functional


def cases(rng):
    def leaf(*shape):
        return mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    x_dense, w_dense = leaf(32, 64, 32, 32), leaf(64, 64, 3, 3)
    x_depth, w_depth = leaf(32, 64, 32, 32), leaf(64, 1, 3, 3)
    x_pool = leaf(64, 32, 28, 28)
    x_norm, gamma, beta = leaf(32, 128, 32, 32), leaf(128), leaf(128)
    running_mean, running_var = mg.zeros(128), mg.ones(128)

    model = build_lenet(mg.nn)
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = mg.tensor(rng.standard_normal((128, 1, 28, 28)).astype(np.float32))
    labels = mg.tensor(rng.integers(0, 10, size=128))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    def fwd_bwd(function):
        return lambda: function().sum().backward()

    return [
        ("conv 3x3 64->64, 32x32x32", fwd_bwd(lambda: F.conv2d(x_dense, w_dense, padding=1))),
        ("depthwise 3x3, 32x64x32x32", fwd_bwd(lambda: F.conv2d(x_depth, w_depth, padding=1, groups=64))),
        ("max pool 2x2, 64x32x28x28", fwd_bwd(lambda: F.max_pool2d(x_pool, 2))),
        ("batch norm, 32x128x32x32", fwd_bwd(lambda: F.batch_norm(x_norm, running_mean, running_var,
                                                                  gamma, beta, training=True))),
        ("LeNet train step, batch 128", step),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2,4,8,16")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    repeats = 5 if args.quick else 15
    named = cases(np.random.default_rng(0))
    times = {}
    for threads in counts:
        mg.set_num_threads(threads)
        for name, function in named:
            times[name, threads] = median_seconds(function, repeats=repeats, warmup=2)
    rows = []
    for name, _ in named:
        base = times[name, counts[0]]
        rows.append([name] + [f"{times[name, t] * 1e3:.1f} ms ({base / times[name, t]:.1f}x)" for t in counts])
    print(f"fwd+bwd median of {repeats}; speed-up over {counts[0]} thread(s) in brackets; "
          f"{os.cpu_count()} CPUs visible")
    print_table(["case"] + [f"{t} threads" for t in counts], rows)


if __name__ == "__main__":
    main()
