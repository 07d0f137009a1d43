# Included by every kernel module (csrc/*.pyx): this module's copy of the
# instruction-set choice of csrc/cpu_features.h, set from minigrad/kernels/cpu.py.

cdef extern from "cpu_features.h":
    int minigrad_cpu_best_isa() noexcept nogil
    int minigrad_isa() noexcept nogil
    int minigrad_set_isa(int isa) noexcept nogil


def best_isa():
    """The best instruction-set path this CPU runs (0 generic, 1 AVX2, 2 AVX-512)."""
    return minigrad_cpu_best_isa()


def current_isa():
    """The path this module's kernels take now."""
    return minigrad_isa()


def set_isa(int isa):
    """Take path `isa` (validated by minigrad.kernels.cpu before it gets here)."""
    if minigrad_set_isa(isa) != 0:
        raise ValueError(f"instruction-set path {isa} is not supported by this CPU")


_PATH_NAMES = ("generic", "avx2", "avx512")   # index = MINIGRAD_ISA_*, as minigrad.kernels.cpu.PATHS


def current_path_name():
    """The name of the path this module's kernels take now ('generic', 'avx2', 'avx512')."""
    return _PATH_NAMES[minigrad_isa()]
