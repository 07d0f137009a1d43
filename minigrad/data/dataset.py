"""Datasets: indexable collections of samples (PyTorch's torch.utils.array API).

A dataset implements ``__len__`` and ``__getitem__(index) -> sample``. Datasets
whose samples live in arrays can also implement ``get_batch(indices)``,
returning the already-collated batch in one fancy-indexing operation; the
DataLoader then uses it instead of fetching and stacking samples one by one
(TensorDataset, Subset of such a dataset, MNIST).
"""
import bisect
import math

import numpy as np

from minigrad.random import generator as default_generator
from minigrad.tensor import Tensor


class Dataset:
    """Base class: subclasses implement ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (abstract)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (abstract)")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _check_index(index, length):
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"dataset index must be an int, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a dataset of length {length}")
    return int(index) % length if length else int(index)


class TensorDataset(Dataset):
    """Samples are the rows of tensors sharing their first dimension: ``(x[i], y[i], ...)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in tensors]
        if None in lengths or len(set(lengths)) != 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions are "
                             f"{[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        index = _check_index(index, len(self))
        return tuple(Tensor._make(t.array[index], False, None) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """``[x[indices], y[indices], ...]``: the default collate of those samples, in one go."""
        indices = np.asarray(indices, dtype=np.int64)
        return [Tensor._make(t.array[indices], False, None) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        return self.dataset[self.indices[_check_index(index, len(self))]]

    def __len__(self):
        return len(self.indices)

    @property
    def get_batch(self):
        # Only a Subset of a batchable dataset is batchable (hasattr tells the DataLoader).
        inner = getattr(self.dataset, "get_batch", None)
        if inner is None:
            raise AttributeError("get_batch")
        positions = np.asarray(self.indices, dtype=np.int64)
        return lambda indices: inner(positions[np.asarray(indices, dtype=np.int64)])


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = _check_index(index, len(self))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    `lengths` are sizes summing to ``len(dataset)``, or fractions summing to 1
    (the remainder is spread one by one over the first subsets, as PyTorch).
    Draws from `generator` (an ``np.random.Generator``) or minigrad's.
    """
    total = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1) \
            and sum(lengths) <= 1:
        sizes = [int(math.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split lengths must be non-negative ints or fractions summing "
                         f"to 1, got {lengths!r}")
    if sum(lengths) != total:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({total})")
    permutation = (generator or default_generator()).permutation(total)
    offsets = np.cumsum([0] + lengths)
    return [Subset(dataset, permutation[start:stop]) for start, stop in zip(offsets[:-1], offsets[1:])]


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and optionally ``__len__``).

    The DataLoader iterates it instead of indexing it (no sampler, no
    shuffle) and groups consecutive samples into batches. With
    num_workers > 0 every worker iterates its own copy, so ``__iter__`` should
    use ``get_worker_info()`` to yield only that worker's share.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (abstract)")

    def __len__(self):   # as a class without __len__: len() is a TypeError
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several IterableDatasets one after the other (chained lazily, on the fly)."""

    def __init__(self, datasets):
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Sample i is (d1[i], d2[i], ...) for StackDataset(d1, d2, ...), or {k: d[i]} for
    StackDataset(k=d, ...): several datasets of the same length side by side."""

    def __init__(self, *args, **kwargs):
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                                 "``kwargs``) like input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            values = list(kwargs.values())
            self._length = len(values[0])
            if any(self._length != len(dataset) for dataset in values):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self):
        return self._length
