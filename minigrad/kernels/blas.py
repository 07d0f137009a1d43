"""The BLAS libraries numpy and scipy bundle, found at run time.

numpy and scipy each ship their own OpenBLAS with its own thread pool. To
make ``minigrad.set_num_threads(n)`` govern matrix products too, and to hold
BLAS to one thread while an OpenMP kernel calls it from several threads (two
pools fighting over two cores ran 1.5-6x slower), we look the libraries up
among the shared objects loaded into this process and call their
``*_set_num_threads`` functions through ctypes. Where that is not possible
(not Linux, another BLAS), the functions here quietly do nothing.
"""
import ctypes
import os

import numpy  # noqa: F401  (loads numpy's BLAS)
import scipy.linalg  # noqa: F401  (loads scipy's BLAS)

# Symbol prefixes of the OpenBLAS builds that numpy/scipy wheels bundle.
_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
              "openblas_get_num_threads64_", "openblas_get_num_threads")
_CALLBACK_NAMES = ("scipy_openblas_set_threads_callback_function64_",
                   "scipy_openblas_set_threads_callback_function",
                   "openblas_set_threads_callback_function64_", "openblas_set_threads_callback_function")
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
        self._set_callback = _first_symbol(handle, _CALLBACK_NAMES)
        self.shares_openmp_threads = False
        self.config = _string_from(handle, _CONFIG_NAMES)
        self.corename = _string_from(handle, _CORENAME_NAMES)

    def get_num_threads(self):
        return self._get() if self._get is not None else None

    def set_num_threads(self, n):
        if self._set is not None:
            self._set(int(n))

    def share_openmp_threads(self, callback_address):
        """Have this OpenBLAS run its parallel work through `callback_address` (OpenMP)."""
        if self._set_callback is None or not callback_address:
            return False
        self._set_callback.argtypes = [ctypes.c_void_p]
        self._set_callback(ctypes.c_void_p(callback_address))
        self.shares_openmp_threads = True
        return True

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


def set_num_threads(n):
    """Set the thread pool size of every bundled OpenBLAS."""
    for library in LIBRARIES:
        library.set_num_threads(n)


def share_openmp_threads(callback_address):
    """Make every bundled OpenBLAS run its threads on minigrad's OpenMP pool.

    numpy's and scipy's OpenBLAS each keep a pool of pthreads that busy-wait
    for ~0.1 s after every call. On a 2-core machine those spinning threads
    take a core away from the next OpenMP kernel: a LeNet training step ran
    slower on 2 threads (92 ms) than on 1 (75 ms). OpenBLAS (>= 0.3.27) can
    instead hand its parallel jobs to a callback; ours runs them on the same
    OpenMP threads as minigrad's kernels, so only one pool ever runs.
    """
    return [library.share_openmp_threads(callback_address) for library in LIBRARIES]


def describe():
    """One line per BLAS library: file, threads, kernels, build configuration."""
    if not LIBRARIES:
        return ["(no OpenBLAS found; numpy's BLAS threads are not controlled)"]
    return [f"{os.path.basename(lib.path)}: {lib.get_num_threads()} threads"
            f"{' on the OpenMP pool' if lib.shares_openmp_threads else ''}, "
            f"{lib.corename} kernels, {lib.config}"
            for lib in LIBRARIES]
