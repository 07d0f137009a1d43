"""``minigrad.cuda``: what ``torch.cuda`` answers on a machine without a GPU.

minigrad runs on the CPU, so ``is_available()`` is False and
``device_count()`` is 0; scripts that choose their device with
``"cuda" if minigrad.cuda.is_available() else "cpu"`` take the CPU branch.
Seeding the (absent) GPU generators does nothing, as in PyTorch.
"""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeds CUDA's generators in PyTorch; without a GPU there is nothing to seed."""


def manual_seed_all(seed):
    """Seeds every GPU's generator in PyTorch; without a GPU there is nothing to seed."""


def _no_cuda(*args, **kwargs):
    raise RuntimeError("minigrad runs on the CPU only: CUDA is not available")


current_device = synchronize = set_device = get_device_name = _no_cuda
