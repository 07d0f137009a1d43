"""DataLoader: batches of a dataset as Tensors, optionally shuffled and prefetched.

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader: ...

Order and shuffling: each epoch (each ``iter(loader)``) with ``shuffle=True``
draws a fresh permutation from the loader's generator, which is minigrad's
(``minigrad.manual_seed``) unless a ``generator`` (np.random.Generator) or a
``seed`` is given, so runs are reproducible.

Speed: when ``collate_fn`` is None and the dataset has ``get_batch(indices)``
(TensorDataset, MNIST, Subsets of them), a batch is a single fancy-indexing
operation instead of ``batch_size`` Python calls. With ``num_workers > 0``,
batches are produced by background threads, up to
``num_workers * prefetch_factor`` ahead, so loading overlaps the training step
(NumPy releases the GIL in its copies). Batches still come out in order. Random
transforms draw from the shared generator, so with several workers their
draws can interleave differently from run to run; use num_workers=0 for
bit-exact reproducibility of augmented batches.
"""
import collections.abc
import numbers
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minigrad.random import generator as default_generator
from minigrad.tensor import Tensor


def default_collate(batch):
    """Merge a list of samples into a batch, like PyTorch's default_collate.

    Tensors and arrays are stacked into a Tensor with a new first dimension;
    Python floats become a float64 Tensor, ints an int64 Tensor, bools a bool
    Tensor; strings stay a list; dicts are collated key by key; tuples and
    lists are collated position by position (into a list).
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor._make(np.stack([sample.array for sample in batch]), False, None)
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "OUS":
            raise TypeError(f"default_collate: can't make a Tensor of arrays of dtype {first.dtype}")
        return Tensor._make(np.stack(batch), False, None)
    if isinstance(first, np.generic):
        return Tensor._make(np.asarray(batch), False, None)
    if isinstance(first, bool):
        return Tensor._make(np.asarray(batch, dtype=np.bool_), False, None)
    if isinstance(first, numbers.Integral):
        return Tensor._make(np.asarray(batch, dtype=np.int64), False, None)
    if isinstance(first, numbers.Real):
        return Tensor._make(np.asarray(batch, dtype=np.float64), False, None)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(list(items)) for items in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(items)) for items in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain Tensors, arrays, numbers, strings, "
                    f"dicts or lists; found {type(first).__name__}")


def _positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer, but got {name}={value!r}")


class DataLoader:
    """Iterate over `dataset` in batches (PyTorch's torch.utils.array.DataLoader).

    Args:
        dataset: has ``__len__`` and ``__getitem__`` (and optionally ``get_batch``).
        batch_size: samples per batch; None yields single samples uncollated.
        shuffle: a new random order every epoch.
        drop_last: drop the last batch if it is smaller than batch_size.
        collate_fn: merges a list of samples into a batch (default_collate).
        num_workers: 0 loads in the main thread; > 0 prefetches with that many threads.
        generator: np.random.Generator for shuffling (default: minigrad's).
        seed: shortcut for ``generator=np.random.default_rng(seed)``.
        prefetch_factor: batches in flight per worker when num_workers > 0.
        sampler: an iterable of indices (minigrad.data.sampler), instead of shuffle.
        batch_sampler: an iterable of lists of indices, instead of batch_size,
            shuffle, sampler and drop_last.
        pin_memory: accepted for PyTorch scripts; there is no GPU memory to pin.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 num_workers=0, generator=None, *, seed=None, prefetch_factor=2, sampler=None,
                 batch_sampler=None, pin_memory=False):
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        _positive_int("batch_size", batch_size, allow_none=True)
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative, got {num_workers!r}")
        _positive_int("prefetch_factor", prefetch_factor)
        if generator is not None and seed is not None:
            raise ValueError("give either generator or seed, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be an np.random.Generator, got "
                            f"{type(generator).__name__}")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        self.sampler, self.batch_sampler, self.pin_memory = sampler, batch_sampler, bool(pin_memory)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _order(self):
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle:
            return (self.generator or default_generator()).permutation(n)
        return np.arange(n)

    def _batches_of_indices(self):
        if self.batch_sampler is not None:
            return [np.asarray(list(batch), dtype=np.int64) for batch in self.batch_sampler]
        order = self._order()
        if self.batch_size is None:
            return [int(i) for i in order]
        stop = len(self) * self.batch_size
        return [order[start:min(start + self.batch_size, len(order))]
                for start in range(0, min(stop, len(order)), self.batch_size)]

    def _fetch(self, indices):
        if self.batch_size is None:
            sample = self.dataset[indices]
            return self.collate_fn(sample) if self.collate_fn is not None else sample
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(indices)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self):
        batches = self._batches_of_indices()
        if self.num_workers == 0:
            return (self._fetch(indices) for indices in batches)
        return self._prefetching_iterator(batches)

    def _prefetching_iterator(self, batches):
        in_flight = collections.deque()
        ahead = self.num_workers * self.prefetch_factor
        pool = ThreadPoolExecutor(max_workers=self.num_workers, thread_name_prefix="minigrad-data")
        try:
            upcoming = iter(batches)
            for indices in upcoming:
                in_flight.append(pool.submit(self._fetch, indices))
                if len(in_flight) >= ahead:
                    break
            while in_flight:
                batch = in_flight.popleft().result()
                for indices in upcoming:  # refill: keep `ahead` batches in flight
                    in_flight.append(pool.submit(self._fetch, indices))
                    break
                yield batch
        finally:
            # Also runs when the loop is left early (break) and the generator is closed.
            pool.shutdown(wait=True, cancel_futures=True)
