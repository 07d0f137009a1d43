"""``minigrad.backends``: the flags PyTorch scripts set for their GPU libraries.

minigrad runs on the CPU only, so there is no cuDNN and no Apple MPS: the
flags are plain attributes that scripts may set (``cudnn.benchmark = True``)
and that change nothing; ``is_available()`` is False for both.
"""
import sys
import types


class _Cudnn(types.ModuleType):
    """``backends.cudnn``: enabled / benchmark / deterministic flags; no cuDNN here."""

    def __init__(self):
        super().__init__("minigrad.backends.cudnn", self.__doc__)
        self.enabled, self.benchmark, self.deterministic, self.allow_tf32 = True, False, False, True

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def version():
        return None


class _Mps(types.ModuleType):
    """``backends.mps``: Apple's Metal backend, never available in minigrad."""

    def __init__(self):
        super().__init__("minigrad.backends.mps", self.__doc__)

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def is_built():
        return False


cudnn = _Cudnn()
mps = _Mps()

# `import torch.backends.cudnn as cudnn` imports them as submodules.
sys.modules[cudnn.__name__] = cudnn
sys.modules[mps.__name__] = mps

# --- testingutils ---
from minigrad.backends import cpu  # noqa: E402, F401  (torch.backends.cpu.get_cpu_capability)
# --- end testingutils ---
