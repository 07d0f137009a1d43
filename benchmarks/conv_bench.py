"""Convolution speed: minigrad against a pure-NumPy im2col reference and PyTorch CPU.

    python benchmarks/conv_bench.py [--quick] [--threads 1,2] [--shapes dense,depthwise]
                                    [--cpu-path all|avx2,generic] [--fma-peak 500]
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \\
        python benchmarks/conv_bench.py        # the same with a malloc that keeps its memory

For each shape of SHAPES below, float32, the time of the forward pass and
of forward + backward (input, weight and bias gradients), at each thread
count (the fastest of several runs; --median for the median; minigrad and
PyTorch timed in turns, _timing.interleaved_wall_times, so that a slow spell
of a shared machine slows both: --sequential times one after the other), and
minigrad's achieved GFLOP/s against the sgemm ceiling measured
on the machine at that thread count (the faster of a large square
np.matmul and minigrad's own GEMM, csrc/gemm.h) and against the FMA peak
of the path it runs (measured: register-only fused multiply-adds on the
path's vectors at that thread count, minigrad.kernels.gemm.fma_peak;
--fma-peak gives the 2-thread figure instead). --cpu-path times minigrad on each
instruction-set path (minigrad.kernels.cpu; default: the best one).
The "main" shapes are the five convolutions of examples/mnist_knn.py at its
batch of 128 (3x3, padding 1, no bias in the example; here with a bias).
FLOPs: 2*N*Cout*Hout*Wout*(Cin/groups)*kh*kw per forward, three times that
for forward + backward: those of the direct sums, also where minigrad does
fewer (a 3x3 stride-1 layer whose forward and input gradient run by
Winograd F(2x2, 3x3), csrc/winograd.h, does 2.25x fewer multiply-adds there;
its share of a peak is then an effective one and can pass 100%).

The NumPy reference is the readable im2col + matmul of
minigrad/reference/conv.py (matmul on numpy's OpenBLAS, at the same thread
count). Compare numbers within one run: the machine may be shared.
"""
import argparse
import os
import statistics

import numpy as np
from _timing import (
    add_torch_isa_argument,
    interleaved_wall_times,
    median_seconds,
    print_table,
    torch_isa,
    torch_isa_environment,
    try_import_torch,
    wall_times,
)

import minigrad
import minigrad.nn.functional as F
from minigrad.kernels import cpu
from minigrad.kernels import gemm as gemm_kernels
from minigrad.reference.conv import col2im, im2col

# On a shared machine other processes only ever add time: the fastest of
# several runs is the steadiest estimate. --median switches to the median.
STATISTIC = {"value": "min"}


def best_seconds(function, repeats):
    if STATISTIC["value"] == "median":
        return median_seconds(function, repeats)
    return min(wall_times(function, repeats, warmup=1))


# name: (N, Cin, H, W, Cout, kernel, stride, padding, dilation, groups, transposed)
SHAPES = {
    "mnist 1->32":      (64, 1, 28, 28, 32, 3, 1, 1, 1, 1, False),
    "dense 32->64 14":  (64, 32, 14, 14, 64, 3, 1, 1, 1, 1, False),
    "dense 64->64 32":  (32, 64, 32, 32, 64, 3, 1, 1, 1, 1, False),
    "dilated 64->64":   (32, 64, 32, 32, 64, 3, 1, 2, 2, 1, False),
    "depthwise 64":     (32, 64, 32, 32, 64, 3, 1, 1, 1, 64, False),
    "pointwise 64->128": (32, 64, 32, 32, 128, 1, 1, 0, 1, 1, False),
    "transposed 64->32": (32, 64, 16, 16, 32, 4, 2, 1, 1, 1, True),
    # the main example's convolutions (examples/mnist_knn.py, width 24, batch 128)
    "main 1->24 @28":   (128, 1, 28, 28, 24, 3, 1, 1, 1, 1, False),
    "main 24->24 @28":  (128, 24, 28, 28, 24, 3, 1, 1, 1, 1, False),
    "main 24->48 @14":  (128, 24, 14, 14, 48, 3, 1, 1, 1, 1, False),
    "main 48->48 @14":  (128, 48, 14, 14, 48, 3, 1, 1, 1, 1, False),
    "main 48->96 @7":   (128, 48, 7, 7, 96, 3, 1, 1, 1, 1, False),
}

# the shapes run without --shapes (the "main" ones on request: --shapes main)
DEFAULT_SHAPES = [name for name in SHAPES if not name.startswith("main ")]


def output_size(n, k, s, p, d, transposed):
    if transposed:
        return (n - 1) * s - 2 * p + d * (k - 1) + 1
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def flops_forward(shape):
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    Ho, Wo = output_size(H, k, s, p, d, transposed), output_size(W, k, s, p, d, transposed)
    if transposed:  # the same multiply-adds as the conv it is the adjoint of
        return 2 * N * Cin * H * W * (Cout // groups) * k * k
    return 2 * N * Cout * Ho * Wo * (Cin // groups) * k * k


def make_arrays(shape, rng):
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    x = rng.standard_normal((N, Cin, H, W)).astype(np.float32)
    w_shape = (Cin, Cout // groups, k, k) if transposed else (Cout, Cin // groups, k, k)
    w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
    b = rng.standard_normal(Cout).astype(np.float32)
    Ho, Wo = output_size(H, k, s, p, d, transposed), output_size(W, k, s, p, d, transposed)
    g = rng.standard_normal((N, Cout, Ho, Wo)).astype(np.float32)
    return x, w, b, g


# --- the pure-NumPy reference: im2col + matmul, backward with matmul + col2im ----------

def numpy_conv(x, w, b, stride, padding, dilation, groups, grad=None):
    """Forward (and, given grad, backward) of conv2d with numpy only."""
    N, C, H, W = x.shape
    M, Cg, kh, kw = w.shape
    geometry = dict(kernel=(1, kh, kw), stride=(1, stride, stride), padding=(0, padding, padding),
                    dilation=(1, dilation, dilation))
    out = tuple(output_size(n, k, stride, padding, dilation, False) for n, k in ((H, kh), (W, kw)))
    x5 = x[:, :, None]
    cols = im2col(x5, (1,) + out, **geometry).reshape(N, groups, Cg * kh * kw, -1)  # (N, G, Cg*K, P)
    wg = w.reshape(groups, M // groups, Cg * kh * kw)                               # (G, Mg, Cg*K)
    y = np.matmul(wg, cols).reshape(N, M, *out) + b.reshape(1, M, 1, 1)
    if grad is None:
        return y
    gy = grad.reshape(N, groups, M // groups, -1)                                   # (N, G, Mg, P)
    grad_w = np.matmul(gy, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
    dcols = np.matmul(wg.transpose(0, 2, 1), gy).reshape(N, C * kh * kw, -1)        # (N, C*K, P)
    grad_x = col2im(dcols, x5.shape, (1,) + out, **geometry)[:, :, 0]
    return y, grad_x, grad_w, grad.sum(axis=(0, 2, 3))


def numpy_conv_transpose(x, w, b, stride, padding, dilation, groups, grad=None):
    """Forward (and backward) of conv_transpose2d with numpy only (groups == 1)."""
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    out = tuple(output_size(n, k, stride, padding, dilation, True) for n, k in ((H, kh), (W, kw)))
    geometry = dict(kernel=(1, kh, kw), stride=(1, stride, stride), padding=(0, padding, padding),
                    dilation=(1, dilation, dilation))
    wm = w.reshape(Cin, Cout * kh * kw)                                             # (Cin, Cout*K)
    cols = np.matmul(wm.T, x.reshape(N, Cin, H * W))                                # (N, Cout*K, P)
    y = col2im(cols, (N, Cout, 1) + out, (1, H, W), **geometry)[:, :, 0] + b.reshape(1, Cout, 1, 1)
    if grad is None:
        return y
    gcols = im2col(grad[:, :, None], (1, H, W), **geometry)                         # (N, Cout*K, P)
    grad_x = np.matmul(wm, gcols).reshape(x.shape)
    grad_w = np.matmul(x.reshape(N, Cin, H * W), gcols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    return y, grad_x, grad_w, grad.sum(axis=(0, 2, 3))


# --- timing ---------------------------------------------------------------------------

def sgemm_ceiling(repeats):
    """GFLOP/s of the fastest float32 2048^3 product here: numpy's OpenBLAS or minigrad's own GEMM."""
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    seconds = best_seconds(lambda: a @ a, repeats)
    if gemm_kernels.PACK_SIZE:
        out = np.empty_like(a)
        seconds = min(seconds, best_seconds(lambda: gemm_kernels.gemm(a, a, out=out), repeats))
    return 2 * 2048 ** 3 / seconds / 1e9


def fma_peak(threads, two_thread_peak=None):
    """Register-only FMA GFLOP/s at `threads` threads on the current CPU path (or
    --fma-peak, the 2-thread figure, scaled); None without the own GEMM's kernels."""
    if two_thread_peak is not None:
        return two_thread_peak * threads / 2
    if not gemm_kernels.PACK_SIZE:
        return None
    return gemm_kernels.fma_peak(threads)


def minigrad_functions(shape, arrays):
    """(forward, forward + backward) of the shape's convolution in minigrad, as functions."""
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    x, w, b, g = arrays
    if transposed:
        call = lambda X, Wt, B: F.conv_transpose2d(X, Wt, B, stride=s, padding=p, groups=groups, dilation=d)
    else:
        call = lambda X, Wt, B: F.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, groups=groups)
    X = minigrad.tensor(x, requires_grad=True)
    Wt = minigrad.tensor(w, requires_grad=True)
    B = minigrad.tensor(b, requires_grad=True)

    def forward():
        with minigrad.no_grad():
            call(X, Wt, B)

    def forward_backward():
        X.grad = Wt.grad = B.grad = None
        call(X, Wt, B).backward(g)

    return forward, forward_backward


def time_numpy(shape, arrays, repeats):
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    x, w, b, g = arrays
    fn = numpy_conv_transpose if transposed else numpy_conv
    return (best_seconds(lambda: fn(x, w, b, s, p, d, groups), repeats),
            best_seconds(lambda: fn(x, w, b, s, p, d, groups, grad=g), repeats))


def torch_functions(torch, shape, arrays):
    """(forward, forward + backward) of the shape's convolution in PyTorch, as functions."""
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    x, w, b, g = (torch.from_numpy(a) for a in arrays)
    TF = torch.nn.functional
    if transposed:
        call = lambda X, Wt, B: TF.conv_transpose2d(X, Wt, B, stride=s, padding=p, groups=groups, dilation=d)
    else:
        call = lambda X, Wt, B: TF.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, groups=groups)
    X, Wt, B = (t.clone().requires_grad_(True) for t in (x, w, b))

    def forward():
        with torch.no_grad():
            call(X, Wt, B)

    def forward_backward():
        X.grad = Wt.grad = B.grad = None
        call(X, Wt, B).backward(g)

    return forward, forward_backward


def summarise(times):
    """The fastest run (or, with --median, the median run) of a list of wall times."""
    return statistics.median(times) if STATISTIC["value"] == "median" else min(times)


def time_side_by_side(mine, theirs, repeats, sequential):
    """({"minigrad": (fwd, fwd+bwd)[, "torch": ...]}) seconds: minigrad's functions and
    PyTorch's (theirs, or None) timed in turns, one call each per round
    (_timing.interleaved_wall_times), or one after the other with `sequential`."""
    functions = {"minigrad": mine} if theirs is None else {"minigrad": mine, "torch": theirs}
    result = {name: [None, None] for name in functions}
    for index in (0, 1):
        calls = {name: pair[index] for name, pair in functions.items()}
        if sequential:
            times = {name: wall_times(call, repeats, warmup=1) for name, call in calls.items()}
        else:
            times = interleaved_wall_times(calls, repeats, warmup=1)
        for name in functions:
            result[name][index] = summarise(times[name])
    return result


def check_agreement(shape, arrays):
    """minigrad's forward and gradients against the NumPy reference (sanity)."""
    N, Cin, H, W, Cout, k, s, p, d, groups, transposed = shape
    x, w, b, g = arrays
    fn = numpy_conv_transpose if transposed else numpy_conv
    expected = fn(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), s, p, d, groups,
                  grad=g.astype(np.float64))
    X, Wt, B = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
    if transposed:
        y = F.conv_transpose2d(X, Wt, B, stride=s, padding=p, groups=groups, dilation=d)
    else:
        y = F.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, groups=groups)
    y.backward(g)
    for got, want in zip((y.array, X.grad.array, Wt.grad.array, B.grad.array), expected):
        scale = np.abs(want).max() + 1e-30
        if np.abs(got - want).max() / scale > 1e-4:
            raise AssertionError(f"minigrad disagrees with the NumPy reference on {shape}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repeats, 2 threads only")
    parser.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--shapes", default=None, help="comma-separated substrings of shape names")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy reference")
    parser.add_argument("--median", action="store_true", help="report the median instead of the fastest run")
    parser.add_argument("--sequential", action="store_true",
                        help="time minigrad's runs, then PyTorch's, not in turns (a machine that speeds "
                             "up or slows down between them moves the ratio)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement")
    parser.add_argument("--cpu-path", default=None,
                        help="comma-separated instruction-set paths to time minigrad on, or 'all' "
                             f"(this CPU: {', '.join(cpu.supported_paths())}; default {cpu.cpu_path()})")
    parser.add_argument("--fma-peak", type=float, default=None,
                        help="the machine's 2-thread FMA peak in GFLOP/s (default: measured on each path)")
    add_torch_isa_argument(parser)
    args = parser.parse_args()
    torch_isa_environment(args.torch_isa)
    STATISTIC["value"] = "median" if args.median else "min"
    repeats = args.repeats or (3 if args.quick else 10)
    threads_list = [int(t) for t in (args.threads or ("2" if args.quick else "1,2")).split(",")]
    names = DEFAULT_SHAPES if args.shapes is None else [
        n for n in SHAPES if any(s in n for s in args.shapes.split(","))]
    torch = None if args.no_torch else try_import_torch()
    if args.cpu_path in (None, ""):
        paths = [cpu.cpu_path()]
    elif args.cpu_path == "all":
        paths = list(cpu.supported_paths())[::-1]
    else:
        paths = args.cpu_path.split(",")
        for path in paths:
            cpu._check_path(path)

    print(f"minigrad conv benchmark, float32; GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(default)')}")
    print(f"PyTorch: {f'{torch.__version__} ({torch_isa(torch)})' if torch else 'not installed'}; "
          f"{STATISTIC['value']} of {repeats} runs (numpy reference: of {max(2, repeats // 3)}); "
          f"CPU paths: {', '.join(paths)}")
    rng = np.random.default_rng(0)
    arrays = {name: make_arrays(SHAPES[name], rng) for name in names}
    for path in paths:
        with cpu.use_cpu_path(path):
            for name in names:
                check_agreement(SHAPES[name], arrays[name])

    fmt = lambda t: "-" if t is None else f"{t * 1e3:.2f}"
    for threads in threads_list:
        minigrad.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        ceiling = sgemm_ceiling(repeats)
        peaks = {}
        for path in paths:
            with cpu.use_cpu_path(path):
                peaks[path] = fma_peak(threads, args.fma_peak)
        shown = ", ".join(f"{path} {'unknown' if peak is None else f'{peak:.0f}'}" for path, peak in peaks.items())
        print(f"\n### {threads} thread(s); sgemm ceiling (best 2048^3 product, numpy or minigrad): "
              f"{ceiling:.0f} GFLOP/s; FMA peak (measured, GFLOP/s): {shown}\n")
        numpy_times = {name: (None, None) if args.no_numpy else time_numpy(SHAPES[name], arrays[name],
                                                                           max(2, repeats // 3))
                       for name in names}
        headers = ["shape", "path", "fwd ms minigrad", "fwd ms numpy", "fwd ms torch",
                   "fwd+bwd ms minigrad", "fwd+bwd ms numpy", "fwd+bwd ms torch",
                   "minigrad GFLOP/s (fwd+bwd)", "% of sgemm", "% of FMA peak", "vs numpy", "vs torch"]
        rows = []
        for name in names:
            shape = SHAPES[name]
            npy = numpy_times[name]
            theirs = torch_functions(torch, shape, arrays[name]) if torch is not None else None
            for path in paths:
                with cpu.use_cpu_path(path):     # PyTorch timed beside each path
                    times = time_side_by_side(minigrad_functions(shape, arrays[name]), theirs, repeats,
                                              args.sequential)
                mg, tt = times["minigrad"], times.get("torch", (None, None))
                gflops = 3 * flops_forward(shape) / mg[1] / 1e9
                peak = peaks[path]
                rows.append([name, path, fmt(mg[0]), fmt(npy[0]), fmt(tt[0]), fmt(mg[1]), fmt(npy[1]),
                             fmt(tt[1]), f"{gflops:.1f}", f"{100 * gflops / ceiling:.0f}%",
                             "-" if peak is None else f"{100 * gflops / peak:.0f}%",
                             "-" if npy[1] is None else f"{npy[1] / mg[1]:.1f}x faster",
                             "-" if tt[1] is None else f"{mg[1] / tt[1]:.2f}x torch's time"])
        print_table(headers, rows)


if __name__ == "__main__":
    main()
