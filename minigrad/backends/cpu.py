"""``minigrad.backends.cpu``: PyTorch's ``torch.backends.cpu``.

``get_cpu_capability()`` names the instruction set the compiled kernels take
now, in PyTorch's words: minigrad's CPU path (minigrad/kernels/cpu.py, set
by ``MINIGRAD_CPU`` or ``set_cpu_path``) "avx512" -> "AVX512", "avx2" ->
"AVX2", "generic" -> "DEFAULT" (PyTorch's name for its baseline build).
"""
from minigrad.kernels import cpu as _kernel_paths

__all__ = ["get_cpu_capability"]

_PYTORCH_NAMES = {"avx512": "AVX512", "avx2": "AVX2", "generic": "DEFAULT"}


def get_cpu_capability():
    """The CPU capability the kernels use: "AVX512", "AVX2" or "DEFAULT"."""
    return _PYTORCH_NAMES[_kernel_paths.cpu_path()]
