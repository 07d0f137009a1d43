"""``minigrad.utils.data.dataloader``: PyTorch's path for ``minigrad.data.dataloader``."""
from minigrad.data.dataloader import (  # noqa: F401
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)
