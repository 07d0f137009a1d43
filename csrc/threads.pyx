# cython: language_level=3
"""Thread control: the smallest compiled module, proving the OpenMP build.

The thread count itself is kept in Python (minigrad.kernels.threads) and
passed as `num_threads=` to every prange; these functions only report what
the OpenMP runtime offers and check that a parallel region really runs on
several threads.
"""
from cython.parallel cimport prange
from omp_compat cimport MINIGRAD_OPENMP, omp_get_max_threads, omp_get_thread_num


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
