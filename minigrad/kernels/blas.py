"""The BLAS libraries numpy and scipy bundle, and how minigrad calls them.

numpy and scipy each ship their own OpenBLAS with its own thread pool.
minigrad holds both to **one thread, for good**, from import on, and never
changes that again; ``matmul`` below parallelises around BLAS instead:

- A thread count is a per-process setting of OpenBLAS. Changing it per call
  (one thread inside a parallel kernel, all of them outside) cannot work
  with several Python threads: one thread's "back to 2" lands while another
  thread's OpenMP workers are still inside sgemm, and OpenBLAS then waits
  forever for a job that never runs, or merely sums in another order.
- OpenBLAS's sums depend on its thread count: a training step would not be
  bitwise reproducible across thread counts.
- Two thread pools on the same cores (OpenMP's and OpenBLAS's busy-waiting
  pthreads) oversubscribe them and run several times slower.

``matmul(a, b)`` cuts a big product into tiles of a fixed size (whatever the
thread count) and runs the tiles on minigrad's OpenMP threads, each tile one
single-threaded GEMM over the whole inner dimension: every output element is
summed by the same code in the same order on 1 thread or 16, and calls from
any number of Python threads share no state. The convolution kernels call
scipy's BLAS from inside their own parallel loops the same way.

The libraries are found among the shared objects loaded into this process
and their ``*_set_num_threads`` functions called through ctypes. Where that
is not possible (not Linux, another BLAS), BLAS keeps its own threads:
results are then still right, but may change with that BLAS's thread count.
"""
import ctypes
import os

import numpy as np
import scipy.linalg  # noqa: F401  (loads scipy's BLAS)

from minigrad._C import threads as _threads_kernel
from minigrad.kernels.threads import get_num_threads

# Symbol prefixes of the OpenBLAS builds that numpy/scipy wheels bundle.
_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
              "openblas_get_num_threads64_", "openblas_get_num_threads")
_CONFIG_NAMES = ("scipy_openblas_get_config64_", "scipy_openblas_get_config",
                 "openblas_get_config64_", "openblas_get_config")
_CORENAME_NAMES = ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                   "openblas_get_corename64_", "openblas_get_corename")


def _string_from(handle, names):
    """The string an OpenBLAS function named one of `names` returns, or "unknown"."""
    function = _first_symbol(handle, names)
    if function is None:
        return "unknown"
    function.restype = ctypes.c_char_p
    return function().decode(errors="replace").strip()


class BlasLibrary:
    """One loaded OpenBLAS: its path and thread-count functions."""

    def __init__(self, path, handle):
        self.path = path
        self._set = _first_symbol(handle, _SET_NAMES)
        self._get = _first_symbol(handle, _GET_NAMES)
        self.config = _string_from(handle, _CONFIG_NAMES)
        self.corename = _string_from(handle, _CORENAME_NAMES)

    def get_num_threads(self):
        return self._get() if self._get is not None else None

    def set_num_threads(self, n):
        if self._set is not None:
            self._set(int(n))

    def __repr__(self):
        return f"BlasLibrary({os.path.basename(self.path)!r}, threads={self.get_num_threads()}, config={self.config!r})"


def _first_symbol(handle, names):
    for name in names:
        try:
            return getattr(handle, name)
        except AttributeError:
            continue
    return None


def _loaded_openblas_paths():
    """Paths of every OpenBLAS shared object mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.exists(p))


def _find_libraries():
    libraries = []
    for path in _loaded_openblas_paths():
        try:
            # RTLD_NOLOAD would be ideal; dlopen of an already-mapped object
            # only bumps its reference count and returns the same handle.
            handle = ctypes.CDLL(path)
        except OSError:
            continue
        library = BlasLibrary(path, handle)
        if library._set is not None:
            libraries.append(library)
    return libraries


LIBRARIES = _find_libraries()
for _library in LIBRARIES:
    _library.set_num_threads(1)     # for good: see the module docstring


def single_threaded():
    """True when every bundled OpenBLAS was found and runs on one thread."""
    return bool(LIBRARIES) and all(library.get_num_threads() == 1 for library in LIBRARIES)


# The tiles of matmul: fixed, so that the sums never depend on the thread
# count. Bigger tiles run nearer BLAS's single-thread speed; smaller ones give
# mid-sized products (a Linear layer's 256 x 4096 @ 4096 x 1024) work for
# several threads.
TILE_ROWS = 256
TILE_COLUMNS = 512

# Below this many multiply-adds a product runs as one GEMM: waking threads
# would cost more than it saves.
TILED_MIN_MULTIPLY_ADDS = 1 << 22

_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _blas_operand(matrix):
    """(flat data, rows_contiguous) of a 2-d array, copied when it is neither C- nor F-ordered."""
    if matrix.flags.c_contiguous:
        return matrix.reshape(-1), True
    if matrix.flags.f_contiguous:
        return matrix.T.reshape(-1), False
    return np.ascontiguousarray(matrix).reshape(-1), True


def matmul(a, b):
    """a @ b with numpy's rules; 2-d float products that are big enough run
    tile by tile on minigrad's threads (scipy's single-threaded GEMM per tile).

    The choice of path and tiles depends on the shapes only, so the result
    is bitwise the same for every thread count and every calling thread.
    """
    a, b = np.asarray(a), np.asarray(b)
    if not (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype in _BLAS_DTYPES
            and a.shape[1] == b.shape[0]):
        return np.matmul(a, b)
    m, k = a.shape
    n = b.shape[1]
    if m * k * n < TILED_MIN_MULTIPLY_ADDS or (m <= TILE_ROWS and n <= TILE_COLUMNS):
        return np.matmul(a, b)
    out = np.empty((m, n), dtype=a.dtype)
    a_flat, a_rows = _blas_operand(a)
    b_flat, b_rows = _blas_operand(b)
    _threads_kernel.tiled_matmul(a_flat, a_rows, b_flat, b_rows, out, m, k, n, TILE_ROWS,
                                 TILE_COLUMNS, get_num_threads())
    return out


def describe():
    """One line per BLAS library: file, threads, kernels, build configuration."""
    if not LIBRARIES:
        return ["(no OpenBLAS found; numpy's BLAS threads are not controlled)"]
    return [f"{os.path.basename(lib.path)}: {lib.get_num_threads()} thread(s) "
            f"(minigrad tiles big products on its own threads), {lib.corename} kernels, {lib.config}"
            for lib in LIBRARIES]
