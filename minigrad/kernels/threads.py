"""How many threads minigrad's kernels use.

The count lives here, in Python, and every kernel wrapper passes it as
``num_threads=`` to its prange: ``omp_set_num_threads`` only affects the
calling OS thread, so it cannot serve as a global switch. BLAS is not
governed by it: numpy's and scipy's OpenBLAS stay on one thread for good,
and big products run tile by tile on these threads (minigrad.kernels.blas).
"""
import os

import numpy as np

from minigrad._C import threads as _threads_kernel


def _default_num_threads():
    # OMP_NUM_THREADS="4" (or OpenMP's nested form "4,2": the first level counts)
    requested = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if requested.isdigit() and int(requested) >= 1:
        return int(requested)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # CPUs this process may use
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _default_num_threads()


def get_num_threads():
    """The number of threads minigrad's parallel kernels use."""
    return _num_threads


def set_num_threads(n):
    """Use `n` threads in every parallel kernel (matrix products included)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: number of threads must be >= 1, got {n}")
    _num_threads = int(n)


def openmp_enabled():
    """True when the kernels were compiled with OpenMP (else they run serially)."""
    return _threads_kernel.openmp_enabled()


def threads_used(n=None):
    """Run a parallel region on n threads and count how many really ran it."""
    n = get_num_threads() if n is None else n
    if n < 1:
        raise ValueError(f"threads_used: number of threads must be >= 1, got {n}")
    return _threads_kernel.threads_used(n)
