"""Scratch memory of the compiled kernels: reusable arrays, one set per Python thread.

The kernels never allocate: their caller hands them a workspace array (one
slice per OpenMP thread) and, for minigrad's own GEMM, a float32 packing
buffer. Each Python thread keeps one array per kind, grown to the largest
size asked for and reused by every later call, so that speed does not
depend on the allocator handing large blocks back to the OS between calls
(minigrad/allocator.py says why that costs). The arrays are per Python thread
(``threading.local``): calls from several Python threads never share scratch.
"""
import threading

import numpy as np

# An empty packing buffer: the kernel then calls BLAS instead of the own GEMM.
NO_PACK = np.empty(0, dtype=np.float32)


class _Workspaces(threading.local):
    def __init__(self):
        self.buffers = {}


_workspaces = _Workspaces()


def _buffer(key, dtype, size):
    buffer = _workspaces.buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = np.empty(max(int(size), 1), dtype=dtype)
        _workspaces.buffers[key] = buffer
    return buffer


def workspace(dtype, size):
    """A reusable scratch array of at least `size` elements of `dtype`, private to this Python thread."""
    dtype = np.dtype(dtype)
    return _buffer(dtype, dtype, size)


def pack_buffer(size):
    """The own GEMM's packing scratch: at least `size` float32 elements (NO_PACK for size 0)."""
    if size == 0:
        return NO_PACK
    return _buffer("pack", np.float32, size)
