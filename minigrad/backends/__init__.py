"""``minigrad.backends``: PyTorch's backend switches, as a CPU-only build reports them.

``backends.mps.is_available()`` and ``backends.cudnn.is_available()`` are
False; ``backends.cudnn.benchmark = True`` and ``deterministic = True`` are
accepted (scripts set them) and change nothing.
"""
from types import SimpleNamespace


def _false():
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cudnn = SimpleNamespace(is_available=_false, enabled=True, benchmark=False, deterministic=False)
