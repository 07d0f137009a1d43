"""``minigrad.accelerator``: what ``torch.accelerator`` answers on a CPU-only build."""


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    """None: there is no accelerator (PyTorch returns None on a CPU-only build)."""
    return None
