"""Readable NumPy references of the compiled kernels, and the switch that runs a model on them.

Each module here is the specification one compiled kernel is tested against
(conv.py for csrc/conv.pyx and csrc/depthwise.pyx, pooling.py for
csrc/pooling.pyx, normalization.py for csrc/batchnorm.pyx, activation.py for
csrc/activation.pyx, gemm.py for the own GEMM; optim.py holds the optimizer
update rules). They are plain loops and einsums, written to be read, not to be fast.

    with minigrad.use_reference_kernels():
        loss = model(x).sum()       # conv, pooling, batch norm ... run on the NumPy references
        loss.backward()             # and so do their backward passes

runs everything on the references, so a student can step through them in a
debugger and check that the fast kernels compute the same thing. The
environment variable ``MINIGRAD_REFERENCE_KERNELS=1`` turns the switch on for
a whole run. The kernel boundary (``minigrad/kernels/``) asks
``reference_kernels_enabled()`` on every call.
"""
import contextlib

from minigrad.environment import env_flag

_ENV_VAR = "MINIGRAD_REFERENCE_KERNELS"


def _from_environment():
    return env_flag(_ENV_VAR, False, "the compiled kernels run")


_enabled = _from_environment()


def reference_kernels_enabled():
    """True while the kernel boundary runs the NumPy references instead of the compiled kernels."""
    return _enabled


def set_reference_kernels(enabled):
    """Run the NumPy references (True) or the compiled kernels (False) from now on."""
    global _enabled
    if not isinstance(enabled, bool):
        raise TypeError(f"set_reference_kernels expects True or False, got {enabled!r}")
    _enabled = enabled


@contextlib.contextmanager
def use_reference_kernels(enabled=True):
    """Within the block, every kernel runs on its NumPy reference (or, with False, on the compiled kernel)."""
    previous = _enabled
    set_reference_kernels(enabled)
    try:
        yield
    finally:
        set_reference_kernels(previous)
