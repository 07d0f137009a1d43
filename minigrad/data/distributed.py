"""DistributedSampler (torch.utils.data.distributed): each of num_replicas processes reads its own share.

The index list (shuffled by seed + epoch, so every replica draws the same
permutation) is padded by repeating its start until it divides evenly
(or, with drop_last, cut to a multiple of num_replicas), and replica r takes
positions r, r + num_replicas, r + 2 num_replicas, ...
"""
import math

import numpy as np

from minigrad.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of `dataset` for replica `rank` of `num_replicas` (PyTorch's arithmetic and padding).

    minigrad has no process groups: num_replicas and rank must be given (left
    None, PyTorch's error for an uninitialised default group is raised).
    Shuffling draws ``np.random.default_rng(seed + epoch).permutation``: the
    same on every replica, though not the permutation torch.randperm draws.
    Call ``set_epoch(epoch)`` before each epoch for a new order.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            raise ValueError("Default process group has not been initialized, please make sure to "
                             "call init_process_group.")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # cut the tail so every replica gets the same number of samples
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        indices = indices[self.rank:self.total_size:self.num_replicas]
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch, added to the seed: a new shuffle order, the same on every replica."""
        self.epoch = epoch
