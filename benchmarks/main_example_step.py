"""The main example's training step (examples/mnist_knn.py, default arguments): minigrad against a PyTorch port.

    python benchmarks/main_example_step.py [--threads 1,2] [--steps 20] [--cpu-path avx2] [--interleaved]

One step: the example's EmbeddingNet (five conv-BN-ReLU blocks with 24-96
channels and three max pools on 1x28x28 images, then a linear layer to 64
dimensions), the differentiable k-NN loss over the other 127 images of a
batch of 128 (softmax of -distance, temperature 1), backward, AdamW and
OneCycleLR. The PyTorch port builds the same network from torch.nn (the two
APIs match) and writes the k-NN loss in torch ops: the same neighbours (all
others of the batch), the same weights and the same -log of the right
class's weight mass. Each framework runs in its own process; the table shows
the median step time and images/s. --interleaved instead times minigrad (with
and without the batch-norm + ReLU fusion) and PyTorch in turns, one step each,
in one process: the fairest comparison on a machine whose load changes.
"""
import argparse
import json
import subprocess
import sys

from _timing import (
    add_torch_isa_argument,
    median_seconds,
    print_table,
    torch_isa,
    torch_isa_environment,
    try_import_torch,
)

BATCH, EMBED_DIM, WIDTH, TRAIN_K = 128, 64, 24, 127
LR, WEIGHT_DECAY, EPS = 3e-3, 5e-4, 1e-8


def build_embedding_net(nn):
    """examples/mnist_knn.py's EmbeddingNet with width 24, from either framework's nn."""
    def conv_bn_relu(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    w = WIDTH
    return nn.Sequential(
        *conv_bn_relu(1, w), *conv_bn_relu(w, w), nn.MaxPool2d(2),                  # 28 -> 14
        *conv_bn_relu(w, 2 * w), *conv_bn_relu(2 * w, 2 * w), nn.MaxPool2d(2),      # 14 -> 7
        *conv_bn_relu(2 * w, 4 * w), nn.MaxPool2d(2),                               # 7 -> 3
        nn.Flatten(), nn.Linear(4 * w * 3 * 3, EMBED_DIM))


def torch_knn_loss(torch, embeddings, labels):
    """The k-NN loss of minigrad.models.KNNClassifier(k=127, weighting='softmax'), in torch ops."""
    n = embeddings.shape[0]
    with torch.no_grad():
        squared = torch.cdist(embeddings, embeddings).square()
        squared.fill_diagonal_(float("inf"))                              # never its own neighbour
        index = squared.argsort(dim=1, stable=True)[:, :min(TRAIN_K, n - 1)]   # (N, k)
    difference = embeddings.unsqueeze(1) - embeddings[index]              # (N, k, D)
    distance = (difference.square().sum(2) + EPS).sqrt()                  # (N, k)
    weights = torch.softmax(-distance, dim=1)
    same_class = (labels[index] == labels[:, None]).to(embeddings.dtype)
    return -(weights * same_class).sum(1).clamp_min(1e-12).log().mean()


def make_train_step(framework, threads, steps, cpu_path, fuse=True):
    """One training step of the example in `framework` ('minigrad' or 'torch'), as a function.

    fuse=False: every BatchNorm gets a no-op forward hook, which keeps nn.Sequential from
    fusing it with the following ReLU (minigrad as it was before the fusion).
    """
    import numpy as np
    if framework == "torch":
        import torch as lib
    else:
        import minigrad as lib
        from minigrad.models import KNNClassifier
        if cpu_path:
            lib.kernels.cpu.set_cpu_path(cpu_path)
        knn = KNNClassifier(k=TRAIN_K, weighting="softmax", num_classes=10)
    lib.set_num_threads(threads)
    lib.manual_seed(0)
    model = build_embedding_net(lib.nn)
    if not fuse:
        for module in model.modules():
            if isinstance(module, lib.nn.BatchNorm2d):
                module.register_forward_hook(lambda module, args, output: None)
    optimizer = lib.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=steps + 10)
    rng = np.random.default_rng(0)
    images = lib.tensor(rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32))
    labels_np = rng.integers(0, 10, size=BATCH)
    labels = lib.tensor(labels_np)

    def train_step():
        embeddings = model(images)
        loss = torch_knn_loss(lib, embeddings, labels) if framework == "torch" else knn(embeddings, labels_np)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()

    model.train()
    return train_step


def worker(framework, threads, steps, cpu_path):
    train_step = make_train_step(framework, threads, steps, cpu_path)
    step_s = median_seconds(train_step, repeats=steps)
    if framework == "minigrad":
        import minigrad
        path = minigrad.kernels.cpu.cpu_path()
    else:
        path = "-"
    print(json.dumps({"step_s": step_s, "path": path}))


def interleaved(threads, steps, cpu_path):
    """Median step times of minigrad (fused and unfused) and PyTorch, timed in turns in one
    process: on a shared machine, a load that comes and goes hits all of them alike."""
    import statistics
    import time
    variants = {"minigrad": make_train_step("minigrad", threads, steps, cpu_path),
                "minigrad, BN+ReLU unfused": make_train_step("minigrad", threads, steps, cpu_path, fuse=False)}
    if try_import_torch() is not None:
        variants["PyTorch"] = make_train_step("torch", threads, steps, cpu_path)
    times = {name: [] for name in variants}
    for round_index in range(steps + 2):
        names = list(variants)
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            start = time.perf_counter()
            variants[name]()
            if round_index >= 2:   # two warm-up rounds
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def run_worker(framework, threads, steps, cpu_path):
    command = [sys.executable, __file__, "--worker", framework, str(threads), str(steps), cpu_path or ""]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{framework} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cpu-path", default="", help="force minigrad's kernels onto this path (avx2, generic)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--interleaved", action="store_true",
                        help="time minigrad (with and without the BN+ReLU fusion) and PyTorch in turns in one process")
    add_torch_isa_argument(parser)
    args = parser.parse_args()
    if not args.worker:
        torch_isa_environment(args.torch_isa)     # the PyTorch workers inherit it
    if args.interleaved:
        for threads in [int(t) for t in args.threads.split(",")]:
            medians = interleaved(threads, args.steps, args.cpu_path)
            reference = medians.get("PyTorch")
            rows = [[name, threads, f"{seconds * 1e3:.1f}", f"{BATCH / seconds:.0f}",
                     f"{reference / seconds:.2f}x" if reference else "-"] for name, seconds in medians.items()]
            print(f"Main example training step (batch {BATCH}), {threads} threads, median of {args.steps} "
                  f"interleaved steps")
            print_table(["variant", "threads", "ms/step", "img/s", "speed vs PyTorch"], rows)
        return
    if args.worker:
        framework, threads, steps, cpu_path = args.worker
        worker(framework, int(threads), int(steps), cpu_path)
        return
    try:
        import torch
        frameworks = ["minigrad", "torch"]
        print(f"PyTorch {torch.__version__}, instruction set {torch_isa(torch)}")
    except ImportError:
        frameworks = ["minigrad"]
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        results = {fw: run_worker(fw, threads, args.steps, args.cpu_path) for fw in frameworks}
        mine = results["minigrad"]
        row = [threads, mine["path"], f"{mine['step_s'] * 1e3:.1f}", f"{BATCH / mine['step_s']:.0f}"]
        if "torch" in results:
            theirs = results["torch"]
            row += [f"{theirs['step_s'] * 1e3:.1f}", f"{BATCH / theirs['step_s']:.0f}",
                    f"{theirs['step_s'] / mine['step_s']:.2f}x"]
        rows.append(row)
    headers = ["threads", "minigrad CPU path", "minigrad ms/step", "minigrad img/s"]
    if "torch" in frameworks:
        headers += ["PyTorch ms/step", "PyTorch img/s", "speed vs PyTorch"]
    print(f"Main example training step (batch {BATCH}), median of {args.steps} steps")
    print_table(headers, rows)


if __name__ == "__main__":
    main()
