"""Which instruction-set path the compiled kernels take.

Each fast kernel in csrc/ is compiled for several paths and chooses one at
run time (csrc/cpu_features.h):

- ``"avx512"``: AVX-512F, 16 floats per register;
- ``"avx2"``: AVX2 + FMA, 8 floats per register (most laptops);
- ``"generic"``: portable C at the build target's baseline (SSE2 on x86-64,
  NEON on ARM).

By default the best path the CPU runs is taken. ``MINIGRAD_CPU=avx2`` (or
``generic``) in the environment, ``set_cpu_path("avx2")`` or ``with
use_cpu_path("generic"):`` force a lower one on any machine, so that every
path can be tested and timed anywhere. A path above what the CPU runs is
refused: its instructions would crash the process.
"""
import contextlib
import os
import warnings

from minigrad._C import activation, batchnorm, conv, depthwise, gemm, pooling, threads

PATHS = ("generic", "avx2", "avx512")   # index = csrc/cpu_features.h's MINIGRAD_ISA_*

# Every extension module keeps its own copy of the choice.
_MODULES = (activation, batchnorm, conv, depthwise, gemm, pooling, threads)
_listeners = []   # called with the new path's name after every change


def best_path():
    """The best path this CPU runs."""
    return PATHS[threads.best_isa()]


def supported_paths():
    """Every path this CPU runs, lowest first: ('generic', 'avx2') on an AVX2 CPU."""
    return PATHS[:threads.best_isa() + 1]


def cpu_path():
    """The path the kernels take now."""
    return PATHS[threads.current_isa()]


def _check_path(name):
    if name not in PATHS:
        raise ValueError(f"unknown CPU path {name!r}; expected one of {', '.join(PATHS)}")
    if name not in supported_paths():
        raise ValueError(f"CPU path {name!r} needs instructions this CPU lacks; "
                         f"it runs {', '.join(supported_paths())}")


def set_cpu_path(name):
    """Make every kernel take path `name` ('avx512', 'avx2' or 'generic') from now on."""
    _check_path(name)
    for module in _MODULES:
        module.set_isa(PATHS.index(name))
    for listener in _listeners:
        listener(name)


def on_path_change(listener):
    """Call `listener(name)` after every change of path (for caches sized per path)."""
    _listeners.append(listener)
    return listener


@contextlib.contextmanager
def use_cpu_path(name):
    """Run the block on path `name`, then go back to the path taken before."""
    before = cpu_path()
    set_cpu_path(name)
    try:
        yield
    finally:
        set_cpu_path(before)


def _path_from_environment():
    requested = os.environ.get("MINIGRAD_CPU", "").strip().lower()
    if not requested:
        return
    try:
        set_cpu_path(requested)
    except ValueError as error:
        # An environment variable must not make minigrad unimportable: say so, keep the best path.
        warnings.warn(f"MINIGRAD_CPU={requested!r} ignored: {error}", RuntimeWarning, stacklevel=2)


_path_from_environment()
