# cython: language_level=3
"""Thread control: the smallest compiled module, proving the OpenMP build.

The thread count itself is kept in Python (minigrad.kernels.threads) and
passed as `num_threads=` to every prange; these functions only report what
the OpenMP runtime offers and check that a parallel region really runs on
several threads.

It also holds the function that lets OpenBLAS run its parallel work on
minigrad's OpenMP threads (``run_blas_jobs``): one pool of threads instead of
two pools taking turns on the same cores.
"""
from cython.parallel cimport parallel, prange
from omp_compat cimport MINIGRAD_OPENMP, omp_get_max_threads, omp_get_num_threads, omp_get_thread_num

# OpenBLAS's caller-managed threading (openblas_set_threads_callback_function,
# OpenBLAS >= 0.3.27): instead of waking its own worker threads, OpenBLAS
# hands us `numjobs` jobs and waits until we have run them all.
ctypedef void (*blas_job_function)(int thread_num, void* job, int job_data) noexcept nogil


cdef void run_blas_jobs(int sync, blas_job_function run_job, int numjobs, size_t job_size,
                        void* jobs, int job_data) noexcept nogil:
    """Run OpenBLAS's `numjobs` jobs on an OpenMP team, one job per thread.

    The jobs of a threaded GEMM wait for each other's packed blocks, so they
    must run at the same time: the team has `numjobs` threads. minigrad never
    calls a multi-threaded BLAS from inside its own parallel regions (the
    kernels hold BLAS to one thread there), so that team is always available.
    """
    cdef int thread, team, job
    cdef char* job_bytes = <char*>jobs
    if numjobs == 1:
        run_job(0, jobs, job_data)
        return
    with parallel(num_threads=numjobs):
        thread = omp_get_thread_num()
        team = omp_get_num_threads()
        job = thread
        while job < numjobs:
            run_job(job, job_bytes + job * job_size, job_data)
            job = job + team


def blas_callback_address():
    """Address of run_blas_jobs, for openblas_set_threads_callback_function (0 without OpenMP)."""
    if MINIGRAD_OPENMP != 1:
        return 0  # a serial loop would deadlock jobs that wait for each other
    return <size_t>&run_blas_jobs


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
