"""``minigrad.cpu``: what ``torch.cpu`` answers, the CPU as an accelerator-style module.

There is one CPU device, always available; operations run synchronously, so
``synchronize()`` has nothing to wait for (PyTorch ignores its argument too).
"""


def is_available():
    """True: the CPU is always there."""
    return True


def is_initialized():
    """True: the CPU needs no lazy initialisation."""
    return True


def device_count():
    """1: PyTorch counts the CPU as one device."""
    return 1


def current_device():
    """'cpu', PyTorch's answer (a string, not an index)."""
    return "cpu"


def set_device(device):
    """Does nothing, as in PyTorch: there is only one CPU device."""


def synchronize(device=None):
    """Waits for nothing: every minigrad operation has finished when it returns."""
