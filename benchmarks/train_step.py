"""End-to-end training and inference speed and memory: minigrad against PyTorch.

    python benchmarks/train_step.py [--quick] [--models lenet,mobile] [--reuse-memory]
                                    [--cpu-path all|avx2,generic] [--steps 20]

Two models, built by the same code from either framework's ``nn`` (their
APIs match):
- lenet: conv 1->32 3x3 p1, BN, ReLU, maxpool 2; conv 32->64 3x3 p1, BN,
  ReLU, maxpool 2; flatten; linear 3136->128; ReLU; linear 128->10.
  1x28x28 inputs, batch 128.
- mobile: depthwise separable blocks with residual connections and global
  average pooling on 3x32x32 inputs, batch 64.
SGD momentum 0.9, cross-entropy, float32. Each (framework, model, threads)
runs in its own process so that thread settings and peak memory (RSS) are
measured cleanly. Reports median step time, images/s, and peak RSS of a
training loop above the process's size before training.

--cpu-path runs minigrad on each given instruction-set path (MINIGRAD_CPU
in its worker's environment; default: the best this CPU runs); PyTorch
runs once per model and thread count.

--reuse-memory runs both frameworks' workers with glibc's malloc told to
keep freed blocks (GLIBC_TUNABLES below) instead of handing every large
block back to the OS and page-faulting it in again on the next step: at
1 thread that is ~10-17 ms of system time per LeNet step for minigrad
(~3,400 page faults per step) and ~20 ms for PyTorch (~12,000) on the
AVX-512 machine of benchmarks/README.md.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _timing import add_torch_isa_argument, print_table, torch_isa, torch_isa_environment

REUSE_MEMORY = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
BATCH = {"lenet": 128, "mobile": 64}
INPUT = {"lenet": (1, 28, 28), "mobile": (3, 32, 32)}


def build_lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def build_mobile(nn):
    class SeparableResidual(nn.Module):
        """x + pointwise(depthwise(x)): a MobileNet block with a shortcut."""

        def __init__(self, channels):
            super().__init__()
            self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.pointwise = nn.Conv2d(channels, channels, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.depthwise(x)))
            out = self.bn2(self.pointwise(out))
            return self.relu(out + x)

    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        SeparableResidual(32), SeparableResidual(32),
        nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        SeparableResidual(64), SeparableResidual(64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def rss_mb():
    """Current resident set size (Linux), in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(framework, model_name, threads, steps):
    """Run in a child process: time training and inference, print one JSON line."""
    import numpy as np
    if framework == "torch":
        import torch as lib
        lib.set_num_threads(threads)
        lib.manual_seed(0)
    else:
        import minigrad as lib
        lib.set_num_threads(threads)
        lib.manual_seed(0)
    nn, F = lib.nn, lib.nn.functional
    model = build_lenet(nn) if model_name == "lenet" else build_mobile(nn)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    batch = BATCH[model_name]
    images = lib.tensor(rng.standard_normal((batch,) + INPUT[model_name]).astype(np.float32))
    labels = lib.tensor(rng.integers(0, 10, size=batch))

    def train_step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    def infer():
        with lib.no_grad():
            model(images)

    baseline = rss_mb()
    model.train()
    for _ in range(3):
        train_step()
    train_times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step()
        train_times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    model.eval()
    for _ in range(3):
        infer()
    infer_times = []
    for _ in range(steps):
        start = time.perf_counter()
        infer()
        infer_times.append(time.perf_counter() - start)
    print(json.dumps({"train_s": float(np.median(train_times)), "infer_s": float(np.median(infer_times)),
                      "peak_mb": peak, "train_mb": peak - baseline, "batch": batch}))


def run_worker(framework, model_name, threads, steps, reuse_memory=False, cpu_path=None):
    command = [sys.executable, __file__, "--worker", framework, model_name, str(threads), str(steps)]
    env = dict(os.environ)
    if reuse_memory:
        env["GLIBC_TUNABLES"] = REUSE_MEMORY
    if cpu_path:
        env["MINIGRAD_CPU"] = cpu_path
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{framework} {model_name} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--models", default="lenet,mobile")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--reuse-memory", action="store_true",
                        help="run both frameworks with glibc malloc keeping freed blocks")
    parser.add_argument("--cpu-path", default=None,
                        help="comma-separated minigrad CPU paths (avx512, avx2, generic) or 'all'")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 20, --quick 5)")
    parser.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "MODEL", "THREADS", "STEPS"),
                        help=argparse.SUPPRESS)
    add_torch_isa_argument(parser)
    args = parser.parse_args()
    if not args.worker:
        torch_isa_environment(args.torch_isa)     # the PyTorch workers inherit it
    if args.worker:
        framework, model_name, threads, steps = args.worker
        worker(framework, model_name, int(threads), int(steps))
        return

    try:
        import torch
        frameworks = ["minigrad", "torch"]
        print(f"PyTorch {torch.__version__}, instruction set {torch_isa(torch)}")
    except ImportError:
        frameworks = ["minigrad"]
    if args.cpu_path == "all":
        from minigrad.kernels import cpu
        paths = list(cpu.supported_paths())[::-1]
    else:
        paths = args.cpu_path.split(",") if args.cpu_path else [None]
    steps = args.steps or (5 if args.quick else 20)
    rows = []
    for model_name in args.models.split(","):
        for threads in [int(t) for t in args.threads.split(",")]:
            theirs = (run_worker("torch", model_name, threads, steps, args.reuse_memory)
                      if "torch" in frameworks else None)
            for path in paths:
                mine = run_worker("minigrad", model_name, threads, steps, args.reuse_memory, path)
                row = [model_name, path or "best", threads,
                       f"{mine['batch'] / mine['train_s']:.0f}", f"{mine['batch'] / mine['infer_s']:.0f}",
                       f"{mine['train_mb']:.0f}"]
                if theirs is not None:
                    row += [f"{theirs['batch'] / theirs['train_s']:.0f}",
                            f"{theirs['batch'] / theirs['infer_s']:.0f}", f"{theirs['train_mb']:.0f}",
                            f"{theirs['train_s'] / mine['train_s']:.2f}x",
                            f"{theirs['infer_s'] / mine['infer_s']:.2f}x",
                            f"{mine['train_mb'] / max(theirs['train_mb'], 1):.2f}x"]
                rows.append(row)
    headers = ["model", "CPU path", "threads", "minigrad train img/s", "minigrad infer img/s", "minigrad train MiB"]
    if "torch" in frameworks:
        headers += ["PyTorch train img/s", "PyTorch infer img/s", "PyTorch train MiB",
                    "train speed vs PyTorch", "infer speed vs PyTorch", "memory vs PyTorch"]
    print(f"Median over {steps} steps; memory: peak RSS of the training loop above the process's size before it"
          + ("; malloc keeps freed blocks (GLIBC_TUNABLES)" if args.reuse_memory else ""))
    print_table(headers, rows)


if __name__ == "__main__":
    main()
