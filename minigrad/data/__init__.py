"""Datasets, batching and augmentation (PyTorch's torch.utils.array + torchvision pieces)."""
from minigrad.data import (  # noqa: F401
                                   datasets,
                                   sampler,  # noqa: F401
                                   transforms,
)
from minigrad.data.dataloader import DataLoader, default_collate
from minigrad.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from minigrad.data.sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "datasets", "transforms", "sampler", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]

# --- nnutilsgaps ---
# isort: split
from minigrad.data import distributed, worker  # noqa: E402,F401
from minigrad.data.dataloader import default_convert  # noqa: E402,F401
from minigrad.data.dataset import ChainDataset, IterableDataset, StackDataset  # noqa: E402,F401
from minigrad.data.distributed import DistributedSampler  # noqa: E402,F401
from minigrad.data.worker import WorkerInfo, get_worker_info  # noqa: E402,F401

__all__ += ["IterableDataset", "ChainDataset", "StackDataset", "default_convert",
            "DistributedSampler", "get_worker_info", "WorkerInfo", "distributed"]
