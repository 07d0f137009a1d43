"""``minigrad.utils.data.dataset``: PyTorch's path for ``minigrad.data.dataset``."""
from minigrad.data.dataset import (  # noqa: F401
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
