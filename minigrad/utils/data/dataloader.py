"""``minigrad.utils.data.dataloader``: PyTorch's path for ``minigrad.data.dataloader``."""
from minigrad.data.dataloader import DataLoader, default_collate  # noqa: F401
