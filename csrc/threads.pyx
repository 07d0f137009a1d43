# cython: language_level=3
"""Thread control: the smallest compiled module, proving the OpenMP build.

The thread count itself is kept in Python (minigrad.kernels.threads) and
passed as `num_threads=` to every prange; these functions only report what
the OpenMP runtime offers and check that a parallel region really runs on
several threads.

It also holds ``tiled_matmul``: a big matrix product cut into fixed tiles,
each a single-threaded scipy GEMM, shared out among the OpenMP threads
(numpy's and scipy's OpenBLAS stay on one thread; minigrad.kernels.blas says why).
"""
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, sgemm
from omp_compat cimport MINIGRAD_OPENMP, omp_get_max_threads, omp_get_thread_num

ctypedef fused floating:
    float
    double


def tiled_matmul(const floating[::1] a, bint a_rows_contiguous, const floating[::1] b,
                 bint b_rows_contiguous, floating[:, ::1] out, int m, int k, int n, int tile_rows,
                 int tile_columns, int num_threads):
    """out (m, n) = a (m, k) @ b (k, n), one GEMM per (tile_rows, tile_columns) tile of out.

    a and b are the flat data of row-major (rows contiguous) or column-major
    matrices. Each tile takes the whole inner dimension k, so every output
    element is one BLAS dot product whose order depends only on the tiling,
    never on the number of threads. BLAS is column-major: out^T = b^T a^T.
    """
    cdef int tiles_down = (m + tile_rows - 1) // tile_rows
    cdef int tiles_across = (n + tile_columns - 1) // tile_columns
    # element strides of a (rows, columns) and b, and BLAS's view of each
    cdef Py_ssize_t a_row_step = k if a_rows_contiguous else 1
    cdef Py_ssize_t b_column_step = 1 if b_rows_contiguous else k
    cdef char transpose_a = b'N' if a_rows_contiguous else b'T'
    cdef char transpose_b = b'N' if b_rows_contiguous else b'T'
    cdef int lda = k if a_rows_contiguous else m
    cdef int ldb = n if b_rows_contiguous else k
    cdef int ldc = n
    cdef floating one = 1, zero = 0
    cdef int tile, row, column, rows, columns
    for tile in prange(tiles_down * tiles_across, nogil=True, schedule="static",
                       num_threads=num_threads):
        row = (tile // tiles_across) * tile_rows
        column = (tile % tiles_across) * tile_columns
        rows = min(tile_rows, m - row)
        columns = min(tile_columns, n - column)
        if floating is float:
            sgemm(&transpose_b, &transpose_a, &columns, &rows, &k, &one,
                  <float*>&b[0] + column * b_column_step, &ldb, <float*>&a[0] + row * a_row_step, &lda,
                  &zero, &out[row, column], &ldc)
        else:
            dgemm(&transpose_b, &transpose_a, &columns, &rows, &k, &one,
                  <double*>&b[0] + column * b_column_step, &ldb, <double*>&a[0] + row * a_row_step,
                  &lda, &zero, &out[row, column], &ldc)


def openmp_enabled():
    """True when this module was compiled with OpenMP."""
    return MINIGRAD_OPENMP == 1


def max_threads():
    """omp_get_max_threads(): honours OMP_NUM_THREADS; 1 without OpenMP."""
    return omp_get_max_threads()


def threads_used(int num_threads):
    """Run a parallel loop on `num_threads` threads; return how many took part."""
    cdef int seen[256]
    cdef int i, count = 0
    if num_threads > 256:
        num_threads = 256
    for i in range(256):
        seen[i] = 0
    for i in prange(num_threads, nogil=True, schedule="static", num_threads=num_threads):
        seen[omp_get_thread_num()] = 1
    for i in range(256):
        count = count + seen[i]
    return count


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module
