"""Keep freed memory in the process between training steps (glibc's malloc, Linux).

A NumPy engine allocates and frees the same large temporaries on every step:
activations, their gradients, im2col columns. glibc's malloc serves blocks
above its mmap threshold (128 KiB at start, growing at run time) with a fresh
mmap, and returns freed memory at the top of the heap to the OS once more
than its trim threshold is free. Either way the next step's allocation of
the same size page-faults its memory in again, one 4 KiB page at a time: on
the main example's step that is ~13,000 faults and a quarter of the step's
CPU time spent in the kernel.

So at import minigrad raises both thresholds (mallopt), as
``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=...``
would: blocks up to MMAP_THRESHOLD come from the heap, and up to
TRIM_THRESHOLD of freed memory stays mapped for the next step. The peak
memory is unchanged; the process just keeps it between steps, as PyTorch's
caching allocators do. ``MINIGRAD_MALLOC_TUNING=0`` leaves malloc as it is.
Other C libraries (musl, macOS, Windows) are left alone.
"""
import ctypes
import os

from minigrad.environment import env_flag

MMAP_THRESHOLD = 32 << 20        # bytes: larger blocks still get their own mmap
TRIM_THRESHOLD = 1 << 30         # bytes of free heap kept before any is returned to the OS
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # mallopt parameters, from glibc's malloc.h
_ENV_VAR = "MINIGRAD_MALLOC_TUNING"

_state = "not applied"


def _glibc():
    """glibc's handle, or None on another C library (or another system: CDLL(None) is POSIX only)."""
    if os.name != "posix":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
        return libc
    except (OSError, AttributeError):
        return None


def tune_malloc():
    """Apply the thresholds above (once per process); returns a line saying what was done."""
    global _state
    if not env_flag(_ENV_VAR, True, "tuning malloc as by default"):
        _state = f"glibc defaults ({_ENV_VAR}={os.environ[_ENV_VAR].strip().lower()})"
        return _state
    libc = _glibc()
    if libc is None:
        _state = "the C library's defaults (not glibc)"
        return _state
    settings = []
    for name, parameter, value in (("mmap_threshold", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                                   ("trim_threshold", _M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        applied = libc.mallopt(parameter, value) == 1            # mallopt returns 1 on success
        settings.append(f"{name} {value >> 20} MiB" if applied else f"{name} glibc's (mallopt refused)")
    _state = f"glibc, {', '.join(settings)} ({_ENV_VAR}=0: glibc defaults)"
    return _state


def describe():
    """One line for show_config: how malloc is set up in this process."""
    return _state


tune_malloc()   # at import: before the first large array of the process's training
