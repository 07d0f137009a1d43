"""PyTorch's process-wide switches that mean something on a CPU-only engine.

The default device (always the CPU here), the float32 matmul precision (stored:
NumPy's float32 matmul is full precision whatever it says), denormal flushing
(not available: NumPy has no switch for the FPU's flush-to-zero mode), the
inter-op thread count (stored: minigrad runs one op at a time), warn-always,
and the deterministic debug mode, which is use_deterministic_algorithms seen
as one number: 0 'default' (off), 1 'warn' (on, warn only), 2 'error' (on).
"""
import builtins
import os
import warnings

from minigrad import settings
from minigrad.autograd import is_inference_mode_enabled  # noqa: F401  (re-exported at top level)
from minigrad.devices import CPU, check_device


# ---------------------------------------------------------------- default device
def get_default_device():
    """The device factories allocate on: always minigrad.device('cpu')."""
    return CPU


def set_default_device(device):
    """None or 'cpu' (minigrad runs on the CPU only; any other device is a RuntimeError)."""
    check_device(device, "set_default_device(device)")


# ---------------------------------------------------------- float32 matmul precision
_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = {"value": "highest"}


def get_float32_matmul_precision():
    return _matmul_precision["value"]


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium' (stored; minigrad's float32 matmul is always 'highest').

    As in PyTorch, a non-string is a RuntimeError and an unknown string warns and changes nothing."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision["value"] = precision


# ------------------------------------------------------------------ denormals
def set_flush_denormal(mode):
    """Returns False: flushing denormals to zero is not supported (NumPy exposes no FTZ/DAZ switch),
    which is what PyTorch returns on a CPU without that support."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"set_flush_denormal(): argument 'mode' must be bool, not {type(mode).__name__}")
    return False


# ------------------------------------------------------------- inter-op threads
_interop_threads = {"value": os.cpu_count() or 1}


def get_num_interop_threads():
    """Threads for running independent ops at once (stored; minigrad runs ops one after another)."""
    return _interop_threads["value"]


def set_num_interop_threads(num):
    if isinstance(num, builtins.bool) or not isinstance(num, builtins.int) or num <= 0:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {num!r}")
    _interop_threads["value"] = num


# ---------------------------------------------------------------- warn always
_warn_always = {"value": False}


def is_warn_always_enabled():
    return _warn_always["value"]


def set_warn_always(b):
    """Whether warnings PyTorch gives once per process are given every time (stored)."""
    if not isinstance(b, builtins.bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _warn_always["value"] = b


# --------------------------------------------------------- deterministic debug mode
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def get_deterministic_debug_mode():
    """0 when deterministic algorithms are off, 1 when on with warn_only, 2 when on."""
    if not settings.are_deterministic_algorithms_enabled():
        return 0
    return 1 if settings.is_deterministic_algorithms_warn_only_enabled() else 2


def set_deterministic_debug_mode(debug_mode):
    """'default' or 0: off; 'warn' or 1: on, warn only; 'error' or 2: on (use_deterministic_algorithms)."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, builtins.int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    if debug_mode == 0:
        settings.use_deterministic_algorithms(False)
    else:
        settings.use_deterministic_algorithms(True, warn_only=debug_mode == 1)
