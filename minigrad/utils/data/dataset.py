"""``minigrad.utils.data.dataset``: PyTorch's path for ``minigrad.data.dataset``."""
from minigrad.data.dataset import (ConcatDataset, Dataset, Subset, TensorDataset,  # noqa: F401
                                   random_split)
