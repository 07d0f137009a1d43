"""``minigrad.utils.data.dataset``: PyTorch's path for ``minigrad.data.dataset``."""
from minigrad.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
