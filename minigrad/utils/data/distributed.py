"""``minigrad.utils.data.distributed``: PyTorch's path for ``minigrad.data.distributed``."""
from minigrad.data.distributed import DistributedSampler  # noqa: F401
