"""How many threads minigrad's kernels and BLAS calls use.

The count lives here, in Python, and every kernel wrapper passes it as
``num_threads=`` to its prange: ``omp_set_num_threads`` only affects the
calling OS thread, so it cannot serve as a global switch.
"""
import os

from minigrad._C import threads as _threads_kernel
from minigrad.kernels import blas


def _default_num_threads():
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return max(1, _threads_kernel.max_threads())  # OpenMP parses the variable
    try:
        return max(1, len(os.sched_getaffinity(0)))  # CPUs this process may use
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _default_num_threads()


def get_num_threads():
    """The number of threads minigrad's parallel kernels use."""
    return _num_threads


def set_num_threads(n):
    """Use `n` threads in every parallel kernel and in numpy/scipy's BLAS."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: number of threads must be >= 1, got {n}")
    _num_threads = n
    blas.set_num_threads(n)


def openmp_enabled():
    """True when the kernels were compiled with OpenMP (else they run serially)."""
    return _threads_kernel.openmp_enabled()


def threads_used(n=None):
    """Run a parallel region on n threads and count how many really ran it."""
    return _threads_kernel.threads_used(get_num_threads() if n is None else n)


blas.set_num_threads(_num_threads)
