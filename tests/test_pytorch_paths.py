"""PyTorch's module paths and the samplers: torch.utils.data, backends, nn.parallel, multiprocessing."""
import multiprocessing as std_multiprocessing

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, nn
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def test_utils_data_is_minigrad_data():
    assert minigrad.utils.data.DataLoader is minigrad.data.DataLoader
    assert minigrad.utils.data.random_split is minigrad.data.random_split
    assert minigrad.utils.data.sampler.Sampler is minigrad.data.sampler.Sampler


def test_sequential_random_and_subset_samplers():
    data = list(range(10))
    assert list(SequentialSampler(data)) == list(range(10))
    drawn = list(RandomSampler(data, generator=np.random.default_rng(0)))
    assert sorted(drawn) == list(range(10)) and drawn == np.random.default_rng(0).permutation(10).tolist()
    with_replacement = list(RandomSampler(data, replacement=True, num_samples=25,
                                          generator=np.random.default_rng(1)))
    assert len(with_replacement) == 25 and set(with_replacement) <= set(range(10))
    assert sorted(SubsetRandomSampler([3, 5, 7])) == [3, 5, 7]
    assert len(RandomSampler(data, num_samples=15)) == 15 and len(list(RandomSampler(data, num_samples=15))) == 15


def test_weighted_random_sampler_follows_the_weights():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=np.random.default_rng(2))
    counts = np.bincount(list(sampler), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3.0) < 0.3
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0], 2, replacement=False)


def test_batch_sampler_and_dataloader_arguments():
    assert list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    x = Tensor(np.arange(10, dtype=np.float32))
    dataset = TensorDataset(x)
    loader = DataLoader(dataset, batch_size=4, sampler=SubsetRandomSampler([1, 3, 5, 7, 9]), drop_last=True)
    batches = [b[0].array.tolist() for b in loader]
    assert len(loader) == 1 and len(batches) == 1 and set(batches[0]) <= {1, 3, 5, 7, 9}
    loader = DataLoader(dataset, batch_sampler=[[0, 9], [2, 2, 4]])
    assert [b[0].array.tolist() for b in loader] == [[0.0, 9.0], [2.0, 2.0, 4.0]] and len(loader) == 2
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, sampler=SequentialSampler(dataset), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_size=2, batch_sampler=[[0]])


def test_backends_parallel_and_multiprocessing():
    minigrad.backends.cudnn.benchmark = True
    assert minigrad.backends.cudnn.is_available() is False
    assert minigrad.backends.mps.is_available() is False
    model = nn.Linear(2, 3)
    wrapped = nn.DataParallel(model)
    x = minigrad.randn(4, 2)
    np.testing.assert_array_equal(wrapped(x).array, model(x).array)
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]
    with pytest.raises(RuntimeError, match="DistributedDataParallel is not supported"):
        nn.parallel.DistributedDataParallel(model)
    assert minigrad.multiprocessing.Process is std_multiprocessing.Process


def _train_in_child(model):
    with minigrad.no_grad():
        model.weight += 1.0


@pytest.mark.skipif("fork" not in std_multiprocessing.get_all_start_methods(), reason="needs fork")
def test_share_memory_lets_forked_processes_update_the_model():
    model = nn.Linear(2, 3)
    before = model.weight.array.copy()
    model.share_memory()
    assert model.weight.is_shared()
    np.testing.assert_array_equal(model.weight.array, before)
    context = minigrad.multiprocessing.get_context("fork")
    child = context.Process(target=_train_in_child, args=(model,))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    np.testing.assert_allclose(model.weight.array, before + 1.0)


def test_mnist_data_and_targets_are_tensors(tmp_path, monkeypatch):
    """As in torchvision: data a uint8 Tensor (N, 28, 28), targets an int64 Tensor (N,)."""
    import gzip
    import hashlib

    from minigrad.data.datasets import MNIST

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    labels = np.array([4, 0, 9], dtype=np.uint8)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, array in (("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)):
        header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
        (folder / name).write_bytes(gzip.compress(header + array.tobytes()))
    monkeypatch.setattr(MNIST, "checksums", {p.name: {"md5": {hashlib.md5(p.read_bytes()).hexdigest()}}
                                             for p in folder.glob("*.gz")})
    dataset = MNIST(str(tmp_path), train=False)
    assert isinstance(dataset.data, Tensor) and dataset.data.dtype == np.uint8
    assert isinstance(dataset.targets, Tensor) and dataset.targets.dtype == np.int64
    np.testing.assert_array_equal(dataset.data.array, images)
    assert dataset.targets.tolist() == [4, 0, 9]
    image, target = dataset[2]
    np.testing.assert_array_equal(image, images[2])
    assert target == 9
    batch_images, batch_targets = next(iter(DataLoader(dataset, batch_size=2)))
    assert batch_images.shape == (2, 28, 28) and batch_targets.tolist() == [4, 0]
