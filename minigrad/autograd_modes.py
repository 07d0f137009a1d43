"""PyTorch's submodules ``torch.autograd.grad_mode``, ``anomaly_mode`` and ``variable``,
the multithreaded-backward flag, and the top-level build flags ``has_openmp`` and friends.

The names in the three submodules are minigrad's own (minigrad/autograd.py,
minigrad/autograd_hooks.py): scripts that import them by PyTorch's module path
(``from torch.autograd.grad_mode import no_grad``) get the same objects.
"""
import functools
import sys
import threading
import types

import numpy as np

from minigrad import autograd, autograd_hooks


# ------------------------------------------------------ multithreaded backward
class _Multithreading(threading.local):
    enabled = True          # PyTorch's default; thread-local as in PyTorch


_multithreading = _Multithreading()


def is_multithreading_enabled():
    """Whether backward may run on worker threads (the flag set_multithreading_enabled sets).

    minigrad's backward always runs on the calling thread, one node after the
    other (its kernels use OpenMP threads inside each op): the flag is kept for
    PyTorch scripts and changes nothing.
    """
    return _multithreading.enabled


class set_multithreading_enabled:
    """``set_multithreading_enabled(mode)``: set the multithreaded-backward flag (thread-local).

    As in PyTorch, the flag is set when the object is built, so it works as a
    plain call; as a context manager it restores the previous value on exit,
    and as a decorator each call of the function runs with the flag at `mode`.
    minigrad's backward is single-threaded whatever the flag says.
    """

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_multithreading_enabled(): argument 'enabled' (position 1) must be "
                            f"bool, not {type(mode).__name__}")
        self.prev = _multithreading.enabled
        _multithreading.enabled = mode
        self.mode = mode

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        _multithreading.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.clone():
                return function(*args, **kwargs)
        return wrapper


# ------------------------------------------------------------- the submodules
def _submodule(name, doc, **names):
    module = types.ModuleType(f"minigrad.autograd.{name}", doc)
    for key, value in names.items():
        setattr(module, key, value)
    module.__all__ = list(names)
    return module


grad_mode = _submodule(
    "grad_mode", "Gradient recording on and off (PyTorch's torch.autograd.grad_mode).",
    no_grad=autograd.no_grad, enable_grad=autograd.enable_grad,
    set_grad_enabled=autograd.set_grad_enabled, inference_mode=autograd.inference_mode,
    set_multithreading_enabled=set_multithreading_enabled)
anomaly_mode = _submodule(
    "anomaly_mode", "Anomaly detection in backward (PyTorch's torch.autograd.anomaly_mode).",
    detect_anomaly=autograd_hooks.detect_anomaly, set_detect_anomaly=autograd_hooks.set_detect_anomaly)
variable = _submodule(
    "variable", "The deprecated Variable wrapper (PyTorch's torch.autograd.variable).",
    Variable=autograd.Variable)


def install():
    """Attach the submodules and the flag functions to minigrad.autograd (and sys.modules)."""
    for module in (grad_mode, anomaly_mode, variable):
        setattr(autograd, module.__name__.rsplit(".", 1)[1], module)
        sys.modules[module.__name__] = module
    autograd.is_multithreading_enabled = is_multithreading_enabled
    autograd.set_multithreading_enabled = set_multithreading_enabled


# ---------------------------------------------------------------- build flags
def _numpy_blas_name():
    try:
        return str(np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"])
    except Exception:   # older numpy without mode="dicts": it has no MKL build info to read
        return ""


def build_flags():
    """PyTorch's ``has_openmp``, ``has_lapack``, ``has_mkl``, ``has_spectral``, answered for minigrad:

    - has_openmp: minigrad's compiled kernels were built with OpenMP,
    - has_lapack: always (linalg calls LAPACK through NumPy/SciPy),
    - has_mkl: NumPy's BLAS is Intel MKL (the wheels bundle OpenBLAS: False),
    - has_spectral: always (fft, stft through numpy.fft).
    """
    from minigrad.kernels.threads import openmp_enabled
    return dict(has_openmp=bool(openmp_enabled()), has_lapack=True,
                has_mkl="mkl" in _numpy_blas_name().lower(), has_spectral=True)


def is_storage(obj):
    """Whether `obj` is a storage object. minigrad keeps a tensor's elements in a NumPy
    array and has no storage classes (no Tensor.untyped_storage), so this is always False."""
    return False
