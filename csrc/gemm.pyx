# cython: language_level=3
"""minigrad's own float32 GEMM (csrc/gemm.h): the Python entry points.

    c (m, n) = a (m, k) @ b (k, n)     (+ c with `accumulate`)

csrc/gemm.h is a packed, blocked GEMM (Goto / BLIS) with one micro-kernel
per instruction-set path (AVX-512 8x32 tiles, AVX2 6x16, generic 6x8; the
path minigrad_isa() names). The convolution kernels (csrc/conv.pyx) call it
from C through csrc/gemm_calls.pxd; this module hands it to Python for 2-d
products (``Linear`` layers, through minigrad/kernels/gemm.py) and reports
its tile and scratch sizes to the planners. The caller passes the packing
scratch (`pack`, gemm_pack_size() floats per thread), so nothing allocates.

Reference: minigrad/reference/gemm.py (the same loops, packing and tiles in NumPy).
"""
from libc.stddef cimport ptrdiff_t

from cython.parallel cimport prange

from gemm_calls cimport (MINIGRAD_GEMM_PACK_FLOATS, minigrad_fma_loop, minigrad_fma_loop_flops,
                         minigrad_gemm_available, minigrad_gemm_mr, minigrad_gemm_nr,
                         minigrad_gemm_packed_a_size, minigrad_sgemm)


def gemm(const float[:, :] a, const float[:, :] b, float[:, ::1] c, bint accumulate,
         float[::1] pack, int num_threads):
    """c (m, n) = a (m, k) @ b (k, n) (+ c when accumulate) with the own GEMM.

    a and b may have any strides (a transposed view costs nothing); pack:
    num_threads * gemm_pack_size() elements. On the current instruction-set path.
    """
    cdef ptrdiff_t item = sizeof(float)
    with nogil:
        minigrad_sgemm(<int>c.shape[0], <int>c.shape[1], <int>a.shape[1], &a[0, 0],
                       a.strides[0] // item, a.strides[1] // item, NULL, &b[0, 0],
                       b.strides[0] // item, b.strides[1] // item, accumulate,
                       &c[0, 0], c.strides[0] // item, &pack[0], num_threads)


def gemm_pack_size():
    """float32 scratch elements the own GEMM needs per thread on any path, or 0
    where it is not compiled (a compiler without GCC's vector extensions)."""
    return MINIGRAD_GEMM_PACK_FLOATS if minigrad_gemm_available() else 0


def gemm_tile():
    """(MR, NR): the rows and columns of the own GEMM's register tile on the
    current path (packed B panels are NR columns wide)."""
    return minigrad_gemm_mr(), minigrad_gemm_nr()


def gemm_packed_size(int m, int k):
    """float32 elements of an (m, k) matrix packed for the own GEMM on the current path."""
    return minigrad_gemm_packed_a_size(m, k)


def fma_loop(long rounds, int num_threads):
    """Run `rounds` rounds of register-only fused multiply-adds (csrc/gemm_path.h
    gemm_fma_loop) on each of `num_threads` threads, on the current path; returns
    the floating-point operations done. The caller times it: the machine's FMA peak
    (minigrad.kernels.gemm.fma_peak)."""
    cdef int t
    cdef float sink = 0
    if rounds < 0 or num_threads < 1:
        raise ValueError(f"fma_loop: rounds must be >= 0 and num_threads >= 1, got {rounds}, {num_threads}")
    for t in prange(num_threads, nogil=True, num_threads=num_threads, schedule="static", chunksize=1):
        sink += minigrad_fma_loop(rounds, <float>t)
    if sink != sink:      # never true for these inputs; keeps the sum, and so the work, alive
        raise ArithmeticError("fma_loop: NaN")
    return float(num_threads) * rounds * minigrad_fma_loop_flops()


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module


def kernel_paths():
    """{"gemm": instruction-set path} under the current choice ("blas" where the
    own GEMM is not compiled). minigrad/kernels/gemm.py reports "blas" too where
    MINIGRAD_GEMM=blas."""
    return {"gemm": current_path_name() if minigrad_gemm_available() else "blas"}
