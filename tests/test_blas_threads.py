"""numpy's and scipy's OpenBLAS running their parallel work on minigrad's OpenMP threads."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.linalg.blas

import minigrad
from minigrad.kernels import blas, threads

needs_openmp = pytest.mark.skipif(not threads.openmp_enabled(), reason="serial build")


@pytest.fixture
def two_threads():
    previous = minigrad.get_num_threads()
    minigrad.set_num_threads(2)
    yield
    minigrad.set_num_threads(previous)


@needs_openmp
def test_every_bundled_openblas_uses_the_openmp_pool():
    assert blas.LIBRARIES, "numpy/scipy wheels bundle OpenBLAS"
    assert all(library.shares_openmp_threads for library in blas.LIBRARIES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_threaded_matmul_is_right(two_threads, dtype):
    # Big enough that OpenBLAS splits it into several jobs (our callback runs them).
    rng = np.random.default_rng(0)
    a = rng.standard_normal((700, 600)).astype(dtype)
    b = rng.standard_normal((600, 500)).astype(dtype)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    tolerance = 1e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(a @ b, expected, rtol=tolerance, atol=tolerance)
    # scipy's own OpenBLAS (the one the convolution kernels call)
    np.testing.assert_allclose(scipy.linalg.blas.dgemm(1.0, a, b) if dtype == np.float64
                               else scipy.linalg.blas.sgemm(1.0, a, b), expected,
                               rtol=tolerance, atol=tolerance)


def test_concurrent_matmuls_from_python_threads(two_threads):
    rng = np.random.default_rng(1)
    matrices = [rng.standard_normal((400, 400)) for _ in range(4)]
    expected = [m @ m.T for m in matrices]
    results = [None] * 4

    def work(i):
        for _ in range(5):
            results[i] = matrices[i] @ matrices[i].T

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for result, reference in zip(results, expected):
        np.testing.assert_allclose(result, reference, rtol=1e-10, atol=1e-10)


def test_opt_out_keeps_openblas_own_threads():
    code = ("import minigrad; from minigrad.kernels import blas; "
            "print(any(lib.shares_openmp_threads for lib in blas.LIBRARIES))")
    env = dict(os.environ, MINIGRAD_BLAS_OWN_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_describe_names_each_openblas_kernel_set():
    # the kernels OpenBLAS chose (OPENBLAS_CORETYPE or the CPU model) decide its speed
    for library, line in zip(blas.LIBRARIES, blas.describe()):
        assert library.corename not in ("", "unknown")
        assert f"{library.corename} kernels" in line
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if forced and blas.LIBRARIES:
        assert all(library.corename.lower() == forced.lower() for library in blas.LIBRARIES)
