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
import copy
import itertools
import numbers
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from minigrad.data.dataset import IterableDataset
from minigrad.data.worker import WorkerInfo, _set_worker_info, get_worker_info  # noqa: F401
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


def default_convert(data):
    """Turn NumPy arrays and scalars inside `data` into Tensors, keeping the structure (torch's).

    What the DataLoader applies to each sample when batch_size=None (no
    batching). Tensors stay as they are, arrays of strings or objects too;
    dicts, namedtuples and lists are converted element by element, tuples
    become lists (as PyTorch, for backwards compatibility).
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if data.dtype.kind in "OUSV":
            return data
        return Tensor._make(data, False, None)   # shares memory, as torch.as_tensor
    if isinstance(data, np.generic) and data.dtype.kind not in "OUSV":
        return Tensor._make(np.asarray(data), False, None)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return type(data)({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


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
        worker_init_fn: called as worker_init_fn(worker_id) in each worker thread as it starts,
            where get_worker_info() already gives that worker's WorkerInfo.
        timeout: seconds to wait for a batch from the workers (0: forever), then a RuntimeError.
        multiprocessing_context, persistent_workers, pin_memory_device, in_order: accepted
            and checked for PyTorch scripts; the workers are threads, started afresh each
            epoch, and the batches always come out in order.

    An IterableDataset is iterated, not indexed: batches are runs of batch_size
    consecutive samples (no shuffle, sampler or batch_sampler); with
    num_workers > 0 each worker thread iterates its own shallow copy of it and
    the batches come out round robin over the workers, as PyTorch's processes.
    Worker i's WorkerInfo.seed is base_seed + i, base_seed drawn once per epoch
    from the loader's generator (threads share minigrad's generator, so it is
    not reseeded per worker as PyTorch's processes are).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 num_workers=0, generator=None, *, seed=None, prefetch_factor=2, sampler=None,
                 batch_sampler=None, pin_memory=False, worker_init_fn=None, timeout=0,
                 multiprocessing_context=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if isinstance(dataset, IterableDataset):   # a stream: no order of indices to choose
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
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
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and multiprocessing_context is not None:
            raise ValueError("multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={num_workers}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
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
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory_device, self.in_order = pin_memory_device, bool(in_order)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):   # the dataset's own __len__, if it has one
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
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
            return (self.collate_fn or default_convert)(self.dataset[indices])
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(indices)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            if self.num_workers == 0:
                return self._stream_batches(self.dataset)
            return self._iterable_worker_iterator()
        batches = self._batches_of_indices()
        if self.num_workers == 0:
            return (self._fetch(indices) for indices in batches)
        return self._prefetching_iterator(batches)

    # ------------------------------------------------------------- workers
    def _base_seed(self):
        """The epoch's base seed; worker i gets base_seed + i (as PyTorch)."""
        return int((self.generator or default_generator()).integers(0, 2 ** 63 - 1))

    def _start_worker(self, worker_id, base_seed, dataset):
        _set_worker_info(WorkerInfo(id=worker_id, num_workers=self.num_workers,
                                    seed=base_seed + worker_id, dataset=dataset))
        if self.worker_init_fn is not None:
            self.worker_init_fn(worker_id)

    def _stream_batches(self, dataset):
        """Consecutive samples of an IterableDataset, collated batch_size at a time."""
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for sample in dataset:
                yield convert(sample)
            return
        collate = self.collate_fn or default_collate
        batch = []
        for sample in dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def _iterable_worker_iterator(self):
        """Each worker thread iterates its own (shallow) copy of the dataset and batches it;
        batches come out round robin over the workers not yet exhausted, as PyTorch's."""
        base_seed, stop = self._base_seed(), threading.Event()
        queues = [queue.Queue(maxsize=self.prefetch_factor) for _ in range(self.num_workers)]
        done = object()

        def put(q, item):
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def work(worker_id):
            q = queues[worker_id]
            try:
                dataset = copy.copy(self.dataset)
                self._start_worker(worker_id, base_seed, dataset)
                for batch in self._stream_batches(dataset):
                    if not put(q, (True, batch)):
                        return
                put(q, (True, done))
            except BaseException as error:   # handed to the main thread, raised there
                put(q, (False, error))

        threads = [threading.Thread(target=work, args=(i,), daemon=True,
                                    name=f"minigrad-data-{i}") for i in range(self.num_workers)]
        for thread in threads:
            thread.start()
        try:
            active = list(range(self.num_workers))
            while active:
                for worker_id in list(active):
                    try:
                        ok, item = queues[worker_id].get(timeout=self.timeout or None)
                    except queue.Empty:
                        raise RuntimeError(f"DataLoader timed out after {self.timeout} "
                                           "seconds") from None
                    if not ok:
                        raise item
                    if item is done:
                        active.remove(worker_id)
                        continue
                    yield item
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def _prefetching_iterator(self, batches):
        in_flight = collections.deque()
        ahead = self.num_workers * self.prefetch_factor
        base_seed, ids = self._base_seed(), itertools.count()
        pool = ThreadPoolExecutor(max_workers=self.num_workers, thread_name_prefix="minigrad-data",
                                  initializer=lambda: self._start_worker(next(ids), base_seed,
                                                                         self.dataset))
        try:
            upcoming = iter(batches)
            for indices in upcoming:
                in_flight.append(pool.submit(self._fetch, indices))
                if len(in_flight) >= ahead:
                    break
            while in_flight:
                try:
                    batch = in_flight.popleft().result(timeout=self.timeout or None)
                except FutureTimeout:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} "
                                       "seconds") from None
                for indices in upcoming:  # refill: keep `ahead` batches in flight
                    in_flight.append(pool.submit(self._fetch, indices))
                    break
                yield batch
        finally:
            # Also runs when the loop is left early (break) and the generator is closed.
            pool.shutdown(wait=True, cancel_futures=True)
