"""Datasets, batching and augmentation (PyTorch's torch.utils.array + torchvision pieces)."""
from minigrad.data import datasets, transforms  # noqa: F401
from minigrad.data.dataloader import DataLoader, default_collate
from minigrad.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from minigrad.data import sampler  # noqa: F401
from minigrad.data.sampler import (BatchSampler, RandomSampler, Sampler,  # noqa: F401
                                   SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "datasets", "transforms", "sampler", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]
