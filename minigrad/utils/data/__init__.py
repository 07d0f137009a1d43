"""``minigrad.utils.data``: PyTorch's module path for ``minigrad.data`` (the same objects).

``from minigrad.utils.data import DataLoader, TensorDataset`` is
``from minigrad.data import DataLoader, TensorDataset``.
"""
from minigrad.data import (  # noqa: F401
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from minigrad.utils.data import dataloader, dataset, sampler  # noqa: F401

# --- nnutilsgaps ---
# isort: split
from minigrad.data import (  # noqa: E402,F401
    ChainDataset,
    DistributedSampler,
    IterableDataset,
    StackDataset,
    WorkerInfo,
    default_convert,
    get_worker_info,
)
from minigrad.utils.data import distributed  # noqa: E402,F401
