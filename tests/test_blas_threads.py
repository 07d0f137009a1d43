"""numpy's and scipy's OpenBLAS held to one thread; big products tiled on minigrad's threads;
concurrent calls from Python threads neither hang nor change results."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.linalg.blas

import minigrad
import minigrad.nn.functional as F
from minigrad.kernels import blas


@pytest.fixture
def two_threads(set_threads):
    set_threads(2)


def test_every_bundled_openblas_stays_on_one_thread(two_threads):
    # set_num_threads governs minigrad's threads only: BLAS's count is per
    # process, and changing it per call hangs concurrent convolutions
    assert blas.LIBRARIES, "numpy/scipy wheels bundle OpenBLAS"
    minigrad.set_num_threads(3)
    assert blas.single_threaded()
    assert all(library.get_num_threads() == 1 for library in blas.LIBRARIES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_threaded_matmul_is_right(two_threads, dtype):
    # Big enough for several tiles of blas.matmul.
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


def test_describe_names_each_openblas_kernel_set():
    # the kernels OpenBLAS chose (OPENBLAS_CORETYPE or the CPU model) decide its speed
    for library, line in zip(blas.LIBRARIES, blas.describe()):
        assert library.corename not in ("", "unknown")
        assert f"{library.corename} kernels" in line
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if forced and blas.LIBRARIES:
        assert all(library.corename.lower() == forced.lower() for library in blas.LIBRARIES)


def tiled_reference(a, b):
    return (a.astype(np.longdouble) @ b.astype(np.longdouble)).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["c", "a transposed", "b transposed", "fortran", "strided"])
def test_tiled_matmul_is_right_for_every_layout(two_threads, dtype, layout):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((600, 301)).astype(dtype)     # 3 x 2 tiles, ragged edges
    b = rng.standard_normal((301, 700)).astype(dtype)
    if layout == "a transposed":
        a = np.ascontiguousarray(a.T).T
    elif layout == "b transposed":
        b = np.ascontiguousarray(b.T).T
    elif layout == "fortran":
        a, b = np.asfortranarray(a), np.asfortranarray(b)
    elif layout == "strided":
        a, b = np.repeat(a, 2, axis=1)[:, ::2], np.repeat(b, 2, axis=0)[::2]
    tolerance = 1e-4 if dtype == np.float32 else 1e-12
    result = blas.matmul(a, b)
    assert result.dtype == dtype and result.shape == (600, 700)
    np.testing.assert_allclose(result, tiled_reference(a, b), rtol=tolerance, atol=tolerance)


def test_matmul_keeps_numpys_rules_for_other_inputs():
    rng = np.random.default_rng(3)
    stack, vector = rng.standard_normal((3, 4, 5)), rng.standard_normal(5)
    np.testing.assert_array_equal(blas.matmul(stack, vector), np.matmul(stack, vector))
    mixed = blas.matmul(np.ones((300, 300), np.float32), np.ones((300, 300)))
    assert mixed.dtype == np.float64 and mixed[0, 0] == 300
    with pytest.raises(ValueError):
        blas.matmul(np.ones((2, 3)), np.ones((4, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_products_are_bitwise_the_same_on_any_thread_count(dtype, set_threads):
    # OpenBLAS on 2 threads sums 64x1568 @ 1568x64 differently (5e-5) from 1 thread
    shapes = [((64, 1568), (1568, 64)), ((700, 1568), (1568, 300))]
    results = {}
    for count in (1, 2, 3):
        set_threads(count)
        rng = np.random.default_rng(4)
        outputs = []
        for a_shape, b_shape in shapes:
            x = minigrad.tensor(rng.standard_normal(a_shape).astype(dtype), requires_grad=True)
            w = minigrad.tensor(rng.standard_normal(b_shape[::-1]).astype(dtype), requires_grad=True)
            y = F.linear(x, w)
            (y * y).sum().backward()
            z = x @ w.T
            outputs += [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), z.detach().numpy()]
        results[count] = outputs
    for count in (2, 3):
        for one, other in zip(results[1], results[count]):
            np.testing.assert_array_equal(one, other)


CONCURRENT_CONVOLUTIONS = """
import sys, threading
import numpy as np
import minigrad
import minigrad.nn.functional as F

dtype = np.dtype(sys.argv[1])
rng = np.random.default_rng(0)
xs = [rng.standard_normal((4, 16, 32, 32)).astype(dtype) for _ in range(4)]
w = rng.standard_normal((16, 16, 3, 3)).astype(dtype)

def step(x):
    x = minigrad.tensor(x, requires_grad=True)
    weight = minigrad.tensor(w, requires_grad=True)
    y = F.conv2d(x, weight, padding=1)
    (y * y).sum().backward()
    return [x.grad.numpy().copy(), weight.grad.numpy().copy()]

serial = [step(x) for x in xs]
different = []

def work(i):
    for _ in range(6):
        for got, expected in zip(step(xs[i]), serial[i]):
            if not np.array_equal(got, expected):
                different.append(float(np.abs(got - expected).max()))

workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print("differences:", len(different), max(different, default=0.0))
"""


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_convolutions_from_four_python_threads_neither_hang_nor_change(dtype):
    # Python threads each setting the process-wide BLAS thread count hang
    # (OpenBLAS waits for a job that never runs) or sum in another order.
    env = dict(os.environ, MINIGRAD_GEMM="blas", OMP_NUM_THREADS="2")
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run([sys.executable, "-c", CONCURRENT_CONVOLUTIONS, dtype], env=env,
                             cwd=repo_root, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("concurrent convolutions hung (no result after 120 s)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "differences: 0 0.0"
