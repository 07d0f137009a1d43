"""minigrad.data: IterableDataset through the DataLoader (batching, drop_last, worker threads),
get_worker_info, ChainDataset, StackDataset, default_convert, DistributedSampler."""
import collections
import threading

import numpy as np
import pytest

import minigrad
import minigrad.utils.data as utils_data
from minigrad.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    DistributedSampler,
    IterableDataset,
    StackDataset,
    TensorDataset,
    WorkerInfo,
    default_convert,
    get_worker_info,
)


class Range(IterableDataset):
    """start..end-1; in a worker only every num_workers-th value from start + id."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        return iter(range(self.start + info.id, self.end, info.num_workers))


class SizedRange(Range):
    def __len__(self):
        return self.end - self.start


def _values(loader):
    return [b.tolist() if isinstance(b, minigrad.Tensor) else b for b in loader]


@pytest.mark.parametrize("batch_size, drop_last, expected", [
    (None, False, list(range(7))),
    (1, False, [[i] for i in range(7)]),
    (3, False, [[0, 1, 2], [3, 4, 5], [6]]),
    (3, True, [[0, 1, 2], [3, 4, 5]]),
    (7, True, [list(range(7))]),
    (8, True, []),
])
def test_iterable_dataset_batches_in_the_main_thread(batch_size, drop_last, expected):
    loader = DataLoader(Range(0, 7), batch_size=batch_size, drop_last=drop_last)
    assert _values(loader) == expected
    assert _values(loader) == expected    # a second epoch iterates again


def test_iterable_dataset_len_errors_and_collation():
    assert len(DataLoader(SizedRange(0, 7), batch_size=3)) == 3
    assert len(DataLoader(SizedRange(0, 7), batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(SizedRange(0, 7), batch_size=None)) == 7
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(Range(0, 7)))
    for kwargs, word in [(dict(shuffle=True), "shuffle"), (dict(sampler=[0, 1]), "sampler"),
                         (dict(batch_sampler=[[0]]), "batch_sampler")]:
        with pytest.raises(ValueError, match=f"IterableDataset: expected unspecified {word}"):
            DataLoader(Range(0, 3), **kwargs)

    class Pairs(IterableDataset):
        def __iter__(self):
            for i in range(4):
                yield np.full(2, i, dtype=np.float32), i

    batches = list(DataLoader(Pairs(), batch_size=2))
    assert batches[1][0].tolist() == [[2.0, 2.0], [3.0, 3.0]] and batches[1][1].tolist() == [2, 3]
    single = list(DataLoader(Pairs(), batch_size=None))   # default_convert: arrays to Tensors
    assert isinstance(single[0], list) and isinstance(single[0][0], minigrad.Tensor)
    assert single[3][1] == 3
    custom = list(DataLoader(Pairs(), batch_size=2, collate_fn=lambda b: len(b)))
    assert custom == [2, 2]


@pytest.mark.parametrize("num_workers, batch_size, drop_last, expected", [
    # worker 0 streams 0,2,4,..., worker 1 streams 1,3,5,...; batches alternate between them
    (2, 2, False, [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]),
    (2, 2, True, [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10]]),
    (3, 2, False, [[0, 3], [1, 4], [2, 5], [6, 9], [7, 10], [8]]),
    (3, None, False, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    (4, 3, False, [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7]]),
])
def test_iterable_dataset_workers_round_robin(num_workers, batch_size, drop_last, expected):
    loader = DataLoader(Range(0, 11), batch_size=batch_size, num_workers=num_workers,
                        drop_last=drop_last)
    assert _values(loader) == expected


def test_worker_info_seeds_copies_and_init_fn():
    seen, started = [], []

    class Reporter(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            seen.append((info.id, info.num_workers, info.seed, info.dataset is self,
                         info.dataset is dataset, threading.current_thread().name))
            yield info.id

    dataset = Reporter()
    assert get_worker_info() is None
    loader = DataLoader(dataset, batch_size=None, num_workers=3, seed=5,
                        worker_init_fn=lambda i: started.append((i, get_worker_info().id)))
    assert sorted(loader) == [0, 1, 2]
    assert sorted(started) == [(0, 0), (1, 1), (2, 2)]
    seen.sort()
    assert [s[:2] for s in seen] == [(0, 3), (1, 3), (2, 3)]
    base = seen[0][2]
    assert [s[2] for s in seen] == [base, base + 1, base + 2]
    expected_base = int(np.random.default_rng(5).integers(0, 2 ** 63 - 1))
    assert base == expected_base
    assert all(s[3] and not s[4] for s in seen)   # each worker iterates its own copy
    assert get_worker_info() is None
    info = WorkerInfo(id=1, num_workers=2, seed=3, dataset=None)
    assert repr(info) == "WorkerInfo(id=1, num_workers=2, seed=3, dataset=None)"
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo"):
        info.id = 0


def test_worker_errors_reach_the_main_thread_and_break_stops_workers():
    class Failing(IterableDataset):
        def __iter__(self):
            yield 1
            raise KeyError("bad sample")

    with pytest.raises(KeyError, match="bad sample"):
        list(DataLoader(Failing(), batch_size=None, num_workers=2))
    before = threading.active_count()
    batch = next(iter(DataLoader(Range(0, 10 ** 6), batch_size=4, num_workers=2)))  # then closed
    assert batch.tolist() == [0, 2, 4, 6]
    assert threading.active_count() == before


def test_map_style_workers_see_their_worker_info():
    class Ids(TensorDataset):
        def __getitem__(self, index):
            info = get_worker_info()
            return (index, -1 if info is None else info.num_workers)

    dataset = Ids(minigrad.zeros(6))
    out = list(DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=list))
    assert [pair for batch in out for pair in batch] == [(i, 2) for i in range(6)]
    out = list(DataLoader(dataset, batch_size=2, collate_fn=list))
    assert out[0] == [(0, -1), (1, -1)]


def test_chain_dataset():
    chained = ChainDataset([SizedRange(0, 3), SizedRange(10, 12)])
    assert list(chained) == [0, 1, 2, 10, 11] and len(chained) == 5
    assert list(Range(0, 2) + Range(5, 7)) == [0, 1, 5, 6]
    assert isinstance(Range(0, 2) + Range(5, 7), ChainDataset)
    assert _values(DataLoader(chained, batch_size=2)) == [[0, 1], [2, 10], [11]]
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([TensorDataset(minigrad.zeros(2))]))
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Range(0, 2)])


def test_stack_dataset_tuple_and_dict():
    images = TensorDataset(minigrad.arange(5.0))
    labels = [10, 11, 12, 13, 14]
    stacked = StackDataset(images, labels)
    assert len(stacked) == 5
    sample = stacked[2]
    assert isinstance(sample, tuple) and sample[0][0].item() == 2.0 and sample[1] == 12
    named = StackDataset(image=images, label=labels)
    assert named[4]["label"] == 14 and named[4]["image"][0].item() == 4.0
    batch = next(iter(DataLoader(named, batch_size=3)))
    assert batch["label"].tolist() == [10, 11, 12]
    assert batch["image"][0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(images, [1, 2])
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a=images, b=[1])
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(images, b=labels)
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()


def test_default_convert():
    Point = collections.namedtuple("Point", "x y")
    array = np.arange(3)
    out = default_convert((array, 1, {"a": np.float64(2.0)}, ["s"], Point(np.ones(2), "t")))
    assert isinstance(out, list) and isinstance(out[0], minigrad.Tensor)
    assert out[0].tolist() == [0, 1, 2] and out[0].dtype == minigrad.int64
    out[0].array[0] = 7
    assert array[0] == 7   # shares memory, as torch.as_tensor
    assert out[1] == 1 and out[2]["a"].item() == 2.0 and out[2]["a"].dtype == minigrad.float64
    assert out[3] == ["s"] and isinstance(out[4], Point) and isinstance(out[4].x, minigrad.Tensor)
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings
    t = minigrad.ones(2)
    assert default_convert(t) is t


def _distributed(n, replicas, **kwargs):
    return [list(DistributedSampler(range(n), replicas, rank, **kwargs)) for rank in range(replicas)]


def test_distributed_sampler_index_arithmetic():
    # 10 over 3: padded to 12 with the first two indices, then strided
    assert _distributed(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    # drop_last: cut to 9, 3 each
    assert _distributed(10, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7],
                                                                   [2, 5, 8]]
    # padding longer than the dataset: repeat it whole
    assert _distributed(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]
    assert _distributed(9, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    sampler = DistributedSampler(range(10), 4, 1, shuffle=False)
    assert len(sampler) == 3 and sampler.total_size == 12 and sampler.num_samples == 3
    assert len(DistributedSampler(range(10), 4, 1, drop_last=True)) == 2


def test_distributed_sampler_shuffle_epochs_and_loader():
    parts = _distributed(10, 2, seed=3)
    assert sorted(parts[0] + parts[1]) == list(range(10))
    permutation = np.random.default_rng(3).permutation(10).tolist()
    assert parts[0] == permutation[0::2] and parts[1] == permutation[1::2]
    assert _distributed(10, 2, seed=3) == parts   # every replica draws the same order
    sampler = DistributedSampler(range(10), 2, 0, seed=3)
    sampler.set_epoch(1)
    assert sampler.epoch == 1
    assert list(sampler) == np.random.default_rng(4).permutation(10).tolist()[0::2]
    data = TensorDataset(minigrad.arange(10))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4), num_replicas=2)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), 2, -1)


def test_torch_paths():
    for name in ("IterableDataset", "ChainDataset", "StackDataset", "default_convert",
                 "DistributedSampler", "get_worker_info"):
        assert getattr(utils_data, name) is getattr(minigrad.data, name)
    assert utils_data.distributed.DistributedSampler is DistributedSampler
    assert utils_data.dataset.IterableDataset is IterableDataset
    assert utils_data.dataloader.default_convert is default_convert


def test_dataloader_worker_options():
    import time

    class Slow(IterableDataset):
        def __iter__(self):
            time.sleep(0.5)
            yield 1

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(DataLoader(Slow(), batch_size=None, num_workers=1, timeout=0.05))

    class SlowItems(minigrad.data.Dataset):
        def __getitem__(self, index):
            time.sleep(0.5)
            return index

        def __len__(self):
            return 2

    with pytest.raises(RuntimeError, match="timed out"):
        list(DataLoader(SlowItems(), num_workers=1, timeout=0.05))
    loader = DataLoader(Range(0, 4), batch_size=2, num_workers=2, persistent_workers=True,
                        in_order=False, multiprocessing_context="spawn")
    assert _values(loader) == [[0, 2], [1, 3]] and _values(loader) == [[0, 2], [1, 3]]
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(Range(0, 4), timeout=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(Range(0, 4), persistent_workers=True)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used"):
        DataLoader(Range(0, 4), multiprocessing_context="fork")
