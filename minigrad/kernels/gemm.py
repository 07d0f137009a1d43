"""Typed boundary of minigrad's own float32 GEMM (csrc/gemm.h, through ``minigrad._C.gemm``).

The convolution kernels call the GEMM from C; this module offers it to
Python for 2-d products (``Linear`` layers) and to the tests:

- ``gemm(a, b)``: out = a @ b with the own GEMM (float32), on the
  instruction-set path the kernels take now (``minigrad.kernels.cpu``:
  AVX-512 8x32 tiles, AVX2 6x16, generic 6x8);
- ``matmul(a, b)``: the own GEMM where it is available and the product is
  big enough, ``blas.matmul`` (single-threaded BLAS per fixed tile) otherwise.

``MINIGRAD_GEMM=blas`` turns the own GEMM off everywhere (BLAS is used).
Under ``minigrad.use_reference_kernels()`` both run the NumPy reference.

Reference: minigrad/reference/gemm.py
"""
import os

import numpy as np

from minigrad import reference
from minigrad._C import gemm as _kernel
from minigrad.kernels import blas
from minigrad.kernels.threads import get_num_threads
from minigrad.kernels.workspace import pack_buffer
from minigrad.reference import gemm as reference_gemm

# float32 elements of packing scratch one thread needs on any path (0: no own GEMM).
PACK_SIZE = 0 if os.environ.get("MINIGRAD_GEMM", "") == "blas" else _kernel.gemm_pack_size()

# Below this many multiply-adds numpy's matmul (less set-up) is as fast.
OWN_GEMM_MIN_MULTIPLY_ADDS = 64 * 64 * 64


def gemm(a, b, out=None, accumulate=False):
    """out (m, n) = a (m, k) @ b (k, n) (+ out) in float32 with the own GEMM.

    a and b may be strided views (a.T costs no copy). Raises RuntimeError
    where the GEMM is turned off (MINIGRAD_GEMM=blas) or not compiled.
    """
    if PACK_SIZE == 0:
        raise RuntimeError("gemm: minigrad's own GEMM is off (MINIGRAD_GEMM=blas) or not compiled")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"gemm: expected a (m, k) and b (k, n), got {a.shape} and {b.shape}")
    if a.dtype != np.float32 or b.dtype != np.float32:
        raise TypeError(f"gemm: a and b must be float32, got {a.dtype} and {b.dtype}")
    m, n = a.shape[0], b.shape[1]
    if out is None:
        if accumulate:
            raise ValueError("gemm: accumulate=True needs out")
        out = np.empty((m, n), dtype=np.float32)
    elif out.shape != (m, n) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"gemm: out must be a C-contiguous float32 ({m}, {n}) array")
    if out.size == 0:
        return out
    if a.shape[1] == 0:
        if not accumulate:
            out[...] = 0
        return out
    if reference.reference_kernels_enabled():
        product = reference_gemm.gemm(a, b)
        if accumulate:
            out += product
        else:
            out[...] = product
        return out
    # the kernel reads a[0, 0] and steps by whole elements: positive element strides only
    a = a if all(s > 0 and s % 4 == 0 for s in a.strides) else np.ascontiguousarray(a)
    b = b if all(s > 0 and s % 4 == 0 for s in b.strides) else np.ascontiguousarray(b)
    threads = get_num_threads()
    _kernel.gemm(a, b, out, accumulate, pack_buffer(threads * PACK_SIZE), threads)
    return out


def tile():
    """(MR, NR): the own GEMM's register tile on the current CPU path."""
    return _kernel.gemm_tile()


def packed_size(m, k):
    """float32 elements of an (m, k) matrix packed for the own GEMM on the current CPU path."""
    return _kernel.gemm_packed_size(m, k)


def fma_peak(threads=None, seconds=0.2):
    """GFLOP/s of register-only fused multiply-adds on the current CPU path, on
    `threads` threads (default: minigrad's thread count): the machine's FMA peak,
    which the benchmarks compare kernels against. Measured, not computed from a
    clock: turbo clocks and the width of the FMA units (Zen 4 splits an AVX-512
    FMA in two) differ from one CPU to the next. The fastest of three timings of
    about `seconds` each."""
    import time

    threads = get_num_threads() if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"fma_peak: threads must be >= 1, got {threads}")
    rounds = 10_000
    while True:                                   # find a loop that takes about `seconds`
        start = time.perf_counter()
        _kernel.fma_loop(rounds, threads)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4 or rounds > 1 << 40:
            break
        rounds *= 4
    rounds = max(1, int(rounds * seconds / max(elapsed, 1e-9)))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        flops = _kernel.fma_loop(rounds, threads)
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def kernel_paths():
    """{kernel: path} of the kernels that run on the own GEMM (the GEMM itself and
    the convolutions' implicit GEMM): the current CPU path, or "blas" where
    MINIGRAD_GEMM=blas (or a test) turns the own GEMM off."""
    path = _kernel.kernel_paths()["gemm"] if PACK_SIZE else "blas"
    return {"gemm": path, "implicit_gemm": path}


def matmul(a, b):
    """a (m, k) @ b (k, n) of 2-d arrays: the own GEMM for big enough float32
    products where it is available, BLAS tile by tile otherwise."""
    if (reference.reference_kernels_enabled() and a.ndim == 2 and b.ndim == 2
            and a.dtype.kind == "f" and b.dtype.kind == "f"):
        return reference_gemm.gemm(a, b)
    if (PACK_SIZE and a.dtype == np.float32 and b.dtype == np.float32 and a.ndim == 2
            and b.ndim == 2 and a.shape[0] * a.shape[1] * b.shape[1] >= OWN_GEMM_MIN_MULTIPLY_ADDS):
        return gemm(a, b)
    return blas.matmul(a, b)
