"""Pooling and batch-norm speed: minigrad vs the NumPy reference vs PyTorch CPU.

    python benchmarks/pool_norm_bench.py            # full run
    python benchmarks/pool_norm_bench.py --quick    # fewer repeats
    python benchmarks/pool_norm_bench.py --cpu-path avx2,generic --threads 2 --no-numpy

Every case is timed forward only and forward+backward (float32), at 1 and 2
threads. Times are medians, minigrad and PyTorch timed in turns
(_timing.interleaved_wall_times), so that a slow spell of a shared machine
slows both (--sequential: all of minigrad's runs, then all of PyTorch's).
GB/s is the op's unavoidable traffic divided by
the time, the same byte count for every implementation:
forward reads x and writes y; forward+backward also reads grad_y and
writes grad_x (indices and statistics are not counted).

The NumPy reference is minigrad/reference/ (readable loops over window
positions, vectorised over images and channels); PyTorch is used when
importable. Targets (2 threads, forward+backward): every case at least 2x
faster than PyTorch, max pooling at least 5x faster than the NumPy reference.
The depthwise 3x3 convolution (csrc/depthwise.h) is timed here too, as
bytes moved: x, y (and their gradients).

--cpu-path runs every case on each named instruction-set path
(minigrad.kernels.cpu: avx512, avx2, generic; default: the best one).
"""
import argparse
import statistics

import numpy as np
from _timing import interleaved_wall_times, median_seconds, wall_times

import minigrad
import minigrad.nn.functional as F
from minigrad.kernels import cpu
from minigrad.reference import normalization as ref_norm
from minigrad.reference import pooling as ref_pool

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # PyTorch is optional
    torch = None



# ---------------------------------------------------------------- the cases
def pool_case(kind, kernel, stride, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    out_shape = F.max_pool2d(minigrad.tensor(x), kernel, stride).shape
    grad = rng.standard_normal(out_shape).astype(np.float32)
    mg_pool = F.max_pool2d if kind == "max" else F.avg_pool2d

    leaf = minigrad.tensor(x, requires_grad=True)  # made once: time the op, not a copy of x

    def minigrad_forward():
        with minigrad.no_grad():
            mg_pool(leaf, kernel, stride)

    def minigrad_backward():
        leaf.grad = None
        mg_pool(leaf, kernel, stride).backward(grad)

    def numpy_forward():
        if kind == "max":
            ref_pool.max_pool(x, kernel, stride)
        else:
            ref_pool.avg_pool(x, kernel, stride)

    def numpy_backward():
        if kind == "max":
            _, indices = ref_pool.max_pool(x, kernel, stride)
            ref_pool.max_pool_backward(grad, indices, x.shape)
        else:  # the average pool's backward spreads each gradient over its window
            ref_pool.avg_pool(x, kernel, stride)
            g = np.zeros_like(x)
            for oh in range(grad.shape[2]):
                for ow in range(grad.shape[3]):
                    g[:, :, oh * stride:oh * stride + kernel, ow * stride:ow * stride + kernel] += \
                        grad[:, :, oh:oh + 1, ow:ow + 1] / (kernel * kernel)

    torch_functions = None
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(grad)
        t_leaf = tx.clone().requires_grad_(True)
        t_pool = TF.max_pool2d if kind == "max" else TF.avg_pool2d

        def torch_forward():
            with torch.no_grad():
                t_pool(t_leaf, kernel, stride)

        def torch_backward():
            t_leaf.grad = None
            t_pool(t_leaf, kernel, stride).backward(tg)

        torch_functions = (torch_forward, torch_backward)
    forward_bytes = 4 * (x.size + grad.size)
    name = f"{kind}_pool2d {kernel}x{kernel}/{stride} {'x'.join(map(str, shape))}"
    return name, (minigrad_forward, minigrad_backward), (numpy_forward, numpy_backward), \
        torch_functions, forward_bytes


def batch_norm_case(shape):
    rng = np.random.default_rng(0)
    channels = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    grad = rng.standard_normal(shape).astype(np.float32)
    w, b = np.ones(channels, np.float32), np.zeros(channels, np.float32)

    xt, wt, bt = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
    running_mean, running_var = minigrad.zeros(channels), minigrad.ones(channels)

    def minigrad_forward():
        with minigrad.no_grad():
            F.batch_norm(xt, running_mean, running_var, wt, bt, training=True)

    def minigrad_backward():
        xt.grad = wt.grad = bt.grad = None
        F.batch_norm(xt, running_mean, running_var, wt, bt, training=True).backward(grad)

    def numpy_forward():
        ref_norm.batch_norm(x, w, b)

    def numpy_backward():
        _, cache = ref_norm.batch_norm(x, w, b)
        ref_norm.batch_norm_backward(grad, cache)

    torch_functions = None
    if torch is not None:
        tg = torch.from_numpy(grad)
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))
        t_mean, t_var = torch.zeros(channels), torch.ones(channels)

        def torch_forward():
            with torch.no_grad():
                TF.batch_norm(tx, t_mean, t_var, tw, tb, training=True)

        def torch_backward():
            tx.grad = tw.grad = tb.grad = None
            TF.batch_norm(tx, t_mean, t_var, tw, tb, training=True).backward(tg)

        torch_functions = (torch_forward, torch_backward)
    name = f"batch_norm {'x'.join(map(str, shape))}"
    return name, (minigrad_forward, minigrad_backward), (numpy_forward, numpy_backward), \
        torch_functions, 4 * 2 * x.size


def depthwise_case(shape, stride):
    rng = np.random.default_rng(0)
    channels = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((channels, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(channels).astype(np.float32)
    xt, wt, bt = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
    out_shape = F.conv2d(xt, wt, bt, stride=stride, padding=1, groups=channels).shape
    grad = rng.standard_normal(out_shape).astype(np.float32)

    def minigrad_forward():
        with minigrad.no_grad():
            F.conv2d(xt, wt, bt, stride=stride, padding=1, groups=channels)

    def minigrad_backward():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, stride=stride, padding=1, groups=channels).backward(grad)

    torch_functions = None
    if torch is not None:
        tg = torch.from_numpy(grad)
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))

        def torch_forward():
            with torch.no_grad():
                TF.conv2d(tx, tw, tb, stride=stride, padding=1, groups=channels)

        def torch_backward():
            tx.grad = tw.grad = tb.grad = None
            TF.conv2d(tx, tw, tb, stride=stride, padding=1, groups=channels).backward(tg)

        torch_functions = (torch_forward, torch_backward)
    name = f"depthwise 3x3/{stride} {'x'.join(map(str, shape))}"
    # no NumPy reference timing: the im2col reference is far slower than either
    return name, (minigrad_forward, minigrad_backward), None, torch_functions, \
        4 * (x.size + grad.size)


def cases():
    result = []
    for shape in [(64, 32, 28, 28), (32, 64, 32, 32)]:
        for kind in ("max", "avg"):
            for kernel, stride in [(2, 2), (3, 2)]:
                result.append(pool_case(kind, kernel, stride, shape))
    for shape in [(64, 32, 28, 28), (32, 128, 32, 32)]:
        result.append(batch_norm_case(shape))
    for stride in (1, 2):
        result.append(depthwise_case((32, 64, 32, 32), stride))
    return result


# ---------------------------------------------------------------- layer / group norm
def row_norm_comparison(repeats):
    """layer_norm and group_norm fwd+bwd: minigrad (the batch-norm kernels on a
    (1, rows, M) view) against the vectorised NumPy closed form of minigrad/reference."""
    rng = np.random.default_rng(0)
    print("\nlayer/group norm fwd+bwd (float32): Cython kernel vs vectorised NumPy closed form")
    shapes = [("layer_norm (64, 128, 512) over 512", (64, 128, 512), "layer"),
              ("group_norm (32, 64, 32, 32), 8 groups", (32, 64, 32, 32), "group")]
    for label, shape, kind in shapes:
        x = rng.standard_normal(shape).astype(np.float32)
        grad = rng.standard_normal(shape).astype(np.float32)
        size = shape[-1] if kind == "layer" else shape[1]
        w, b = np.ones(size, np.float32), np.zeros(size, np.float32)
        xt, wt, bt = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))

        def minigrad_step():
            xt.grad = wt.grad = bt.grad = None
            out = (F.layer_norm(xt, (size,), wt, bt) if kind == "layer"
                   else F.group_norm(xt, 8, wt, bt))
            out.backward(grad)

        def numpy_step():
            if kind == "layer":
                _, cache = ref_norm.layer_norm(x, (size,), w, b)
                ref_norm.layer_norm_backward(grad, cache)
            else:
                _, cache = ref_norm.group_norm(x, 8, w, b)
                ref_norm.group_norm_backward(grad, cache)

        t_numpy = median_seconds(numpy_step, max(3, repeats // 4), warmup=1)
        for threads in (1, 2):
            minigrad.set_num_threads(threads)
            t_mine = median_seconds(minigrad_step, repeats)
            print(f"  {label:40s} {threads} thr: minigrad {t_mine * 1e3:7.2f} ms, "
                  f"numpy {t_numpy * 1e3:7.2f} ms ({t_numpy / t_mine:4.1f}x)")


# ---------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--cpu-path", default=None,
                        help="comma-separated instruction-set paths to time (default: the best)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy reference timings")
    parser.add_argument("--sequential", action="store_true",
                        help="time minigrad's runs, then PyTorch's, not in turns (a machine that speeds "
                             "up or slows down between them moves the ratio)")
    args = parser.parse_args()
    repeats = 5 if args.quick else 20
    paths = args.cpu_path.split(",") if args.cpu_path else [cpu.cpu_path()]
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(f"minigrad {minigrad.__version__}, OpenMP {minigrad.kernels.threads.openmp_enabled()}, "
          f"torch {torch.__version__ if torch else 'not installed'}; float32, median of {repeats}; "
          f"CPU paths {', '.join(paths)} (this CPU runs {', '.join(cpu.supported_paths())})")
    header = (f"{'case':34s} {'path':>7s} {'thr':>3s} {'pass':>7s} {'minigrad ms':>11s} {'GB/s':>6s} "
              f"{'numpy ms':>9s} {'torch ms':>9s} {'vs numpy':>8s} {'vs torch':>8s}")
    print(header)
    print("-" * len(header))
    summary = []
    for name, mine, numpy_functions, torch_functions, forward_bytes in cases():
        # NumPy runs these ops on one thread whatever the setting: time it once.
        numpy_times = ([median_seconds(f, max(3, repeats // 4), warmup=1) for f in numpy_functions]
                       if numpy_functions and not args.no_numpy else [float("nan")] * 2)
        for threads in thread_counts:
            minigrad.set_num_threads(threads)
            if torch is not None:
                torch.set_num_threads(threads)
            for pass_index, label in enumerate(("fwd", "fwd+bwd")):
                nbytes = forward_bytes * (1 if pass_index == 0 else 2)
                t_numpy = numpy_times[pass_index]
                for path in paths:
                    # minigrad and PyTorch in turns (interleaved_wall_times): the steadier ratio
                    functions = {"minigrad": mine[pass_index]}
                    if torch_functions:
                        functions["torch"] = torch_functions[pass_index]
                    with cpu.use_cpu_path(path):
                        if args.sequential:
                            times = {name: wall_times(f, repeats) for name, f in functions.items()}
                        else:
                            times = interleaved_wall_times(functions, repeats)
                    t_mine = statistics.median(times["minigrad"])
                    t_torch = statistics.median(times["torch"]) if torch_functions else float("nan")
                    print(f"{name:34s} {path:>7s} {threads:3d} {label:>7s} {t_mine * 1e3:11.3f} "
                          f"{nbytes / t_mine / 1e9:6.1f} {t_numpy * 1e3:9.2f} {t_torch * 1e3:9.3f} "
                          f"{t_numpy / t_mine:7.1f}x {t_torch / t_mine:7.1f}x", flush=True)
                    if threads == max(thread_counts) and pass_index == 1:
                        summary.append((name, path, t_mine, t_numpy, t_torch))
    print(f"\nTargets at {max(thread_counts)} threads, fwd+bwd: >= 2x PyTorch (all), "
          f">= 5x the NumPy reference (max pool)")
    for name, path, t_mine, t_numpy, t_torch in summary:
        vs_torch = t_torch / t_mine
        line = f"  {name:34s} {path:>7s} {vs_torch:5.1f}x torch {'ok' if vs_torch >= 2 else 'MISSED'}"
        if name.startswith("max") and not args.no_numpy:
            line += f", {t_numpy / t_mine:5.1f}x numpy {'ok' if t_numpy / t_mine >= 5 else 'MISSED'}"
        print(line)
    if not args.no_numpy:
        row_norm_comparison(repeats)


if __name__ == "__main__":
    main()
