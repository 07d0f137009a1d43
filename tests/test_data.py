"""minigrad.data: datasets, DataLoader batching/shuffling/collate, transforms."""
import threading

import numpy as np
import pytest

import minigrad
from minigrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    transforms,
)
from minigrad.tensor import Tensor


class Squares(Dataset):
    """A dataset without get_batch: samples are computed one by one."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if not 0 <= index < self.n:
            raise IndexError(index)
        return np.array([index, index ** 2], dtype=np.float32), index


def batches_as_arrays(loader):
    return [[t.array for t in batch] for batch in loader]


# ------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_errors():
    x, y = minigrad.arange(12).reshape(6, 2), minigrad.arange(6)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 6
    xi, yi = dataset[4]
    np.testing.assert_array_equal(xi.array, [8, 9])
    assert yi.item() == 4
    assert dataset[-1][1].item() == 5
    with pytest.raises(IndexError, match="out of range"):
        dataset[6]
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, minigrad.arange(5))


def test_subset_concat_and_random_split():
    base = Squares(10)
    subset = Subset(base, [7, 2, 5])
    assert len(subset) == 3 and subset[0][1] == 7 and subset[-1][1] == 5
    concat = ConcatDataset([Squares(3), Squares(4)])
    assert len(concat) == 7 and [concat[i][1] for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert len(Squares(2) + Squares(5)) == 7

    parts = random_split(base, [3, 7])
    indices = sorted(parts[0].indices + parts[1].indices)
    assert [len(p) for p in parts] == [3, 7] and indices == list(range(10))
    fractions = random_split(base, [0.33, 0.33, 0.34])
    assert sum(len(p) for p in fractions) == 10 and [len(p) for p in fractions] == [4, 3, 3]
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(base, [3, 3])
    minigrad.manual_seed(7)
    first = random_split(base, [5, 5])[0].indices
    minigrad.manual_seed(7)
    assert random_split(base, [5, 5])[0].indices == first


# ------------------------------------------------------------------ DataLoader
@pytest.mark.parametrize("drop_last, expected", [(False, 4), (True, 3)])
def test_len_and_batch_sizes(drop_last, expected):
    loader = DataLoader(Squares(10), batch_size=3, drop_last=drop_last)
    assert len(loader) == expected
    sizes = [len(batch[1]) for batch in loader]
    assert sizes == ([3, 3, 3, 1] if not drop_last else [3, 3, 3])


def test_batches_in_order_without_shuffle():
    loader = DataLoader(Squares(5), batch_size=2)
    (x0, y0), (x1, y1), (x2, y2) = loader
    assert isinstance(x0, Tensor) and x0.dtype == np.float32 and x0.shape == (2, 2)
    assert y0.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([y0.array, y1.array, y2.array]), np.arange(5))
    np.testing.assert_array_equal(x1.array, [[2, 4], [3, 9]])


def test_shuffle_is_deterministic_under_manual_seed_and_changes_per_epoch():
    def epoch_orders(seed):
        minigrad.manual_seed(seed)
        loader = DataLoader(Squares(20), batch_size=4, shuffle=True)
        return [np.concatenate([y.array for _, y in loader]) for _ in range(2)]
    first, again, other = epoch_orders(3), epoch_orders(3), epoch_orders(4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert sorted(first[0]) == list(range(20))
    assert not np.array_equal(first[0], first[1])       # a new permutation each epoch
    assert not np.array_equal(first[0], other[0])


def test_seed_and_generator_arguments():
    a = [y.array for _, y in DataLoader(Squares(10), batch_size=5, shuffle=True, seed=11)]
    b = [y.array for _, y in DataLoader(Squares(10), batch_size=5, shuffle=True,
                                       generator=np.random.default_rng(11))]
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))
    np.testing.assert_array_equal(np.concatenate(a), np.random.default_rng(11).permutation(10))


def test_fast_path_equals_per_sample_collate():
    x = minigrad.randn(23, 3, 4)
    y = minigrad.randint(0, 5, (23,))
    dataset = TensorDataset(x, y)
    fast = batches_as_arrays(DataLoader(dataset, batch_size=5, shuffle=True, seed=1))
    slow = batches_as_arrays(DataLoader(dataset, batch_size=5, shuffle=True, seed=1,
                                        collate_fn=default_collate))
    assert len(fast) == len(slow) == 5
    for f, s in zip(fast, slow):
        for a, b in zip(f, s):
            np.testing.assert_array_equal(a, b)
    # Subsets of a TensorDataset keep the fast path and the right rows
    subset = Subset(dataset, [3, 1, 4])
    xb, yb = next(iter(DataLoader(subset, batch_size=3)))
    np.testing.assert_array_equal(xb.array, x.array[[3, 1, 4]])


def test_default_collate_structures():
    batch = [({"a": 1.5, "name": "x", "v": np.array([1, 2])}, 3, True),
             ({"a": 2.5, "name": "y", "v": np.array([3, 4])}, 4, False)]
    out = default_collate(batch)
    assert isinstance(out, list) and len(out) == 3
    assert out[0]["a"].dtype == np.float64 and out[0]["a"].tolist() == [1.5, 2.5]
    assert out[0]["name"] == ["x", "y"]
    np.testing.assert_array_equal(out[0]["v"].array, [[1, 2], [3, 4]])
    assert out[1].dtype == np.int64 and out[1].tolist() == [3, 4]
    assert out[2].dtype == np.bool_
    tensors = default_collate([minigrad.ones(2, 3), minigrad.zeros(2, 3)])
    assert tensors.shape == (2, 2, 3) and not tensors.requires_grad
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_batch_size_none_yields_samples():
    loader = DataLoader(Squares(3), batch_size=None)
    assert len(loader) == 3
    assert [y for _, y in loader] == [0, 1, 2]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.5), ValueError, "batch_size"),
    (dict(num_workers=-1), ValueError, "num_workers"),
    (dict(generator=42), TypeError, "generator"),
    (dict(seed=1, generator=np.random.default_rng()), ValueError, "either generator or seed"),
])
def test_loader_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(Squares(3), **kwargs)


def test_workers_prefetch_in_background_and_keep_order():
    seen_threads = set()

    class Recording(Squares):
        def __getitem__(self, index):
            seen_threads.add(threading.current_thread().name)
            return super().__getitem__(index)

    serial = batches_as_arrays(DataLoader(Recording(50), batch_size=4, shuffle=True, seed=5))
    seen_threads.clear()
    threaded = batches_as_arrays(DataLoader(Recording(50), batch_size=4, shuffle=True, seed=5,
                                            num_workers=3))
    assert all(name.startswith("minigrad-data") for name in seen_threads)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    # leaving the loop early shuts the workers down
    for _ in DataLoader(Recording(50), batch_size=2, num_workers=2):
        break


# ------------------------------------------------------------------ transforms
def test_to_tensor_and_normalize():
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    tensor = transforms.ToTensor()(image)
    assert tensor.shape == (1, 2, 2) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor.array[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    np.testing.assert_allclose(transforms.ToTensor()(rgb).array, np.moveaxis(rgb, -1, 0) / 255,
                               rtol=1e-6)
    batch = transforms.ToTensor().batch(np.stack([image, image]))
    assert batch.shape == (2, 1, 2, 2)

    normalize = transforms.Normalize((0.5, 0.25), (0.5, 2.0))
    x = np.ones((2, 3, 3), dtype=np.float32)
    out = normalize(minigrad.tensor(x))
    np.testing.assert_allclose(out.array[0], 1.0) and np.testing.assert_allclose(out.array[1], 0.375)
    np.testing.assert_allclose(normalize.batch(np.stack([x, x]))[1, 1], 0.375)
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize(0.0, 0.0)
    with pytest.raises(ValueError, match="channels"):
        transforms.Normalize((0.1, 0.2, 0.3), (1, 1, 1))(x)


def test_horizontal_flip():
    images = np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3)
    flip = transforms.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(images[0]), images[0][..., ::-1])
    np.testing.assert_array_equal(flip.batch(images), images[..., ::-1])
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(p=0.0).batch(images), images)
    mixed = transforms.RandomHorizontalFlip(p=0.5).batch(np.repeat(images[:1], 200, 0))
    flipped = np.all(mixed == images[0][..., ::-1], axis=(1, 2, 3))
    kept = np.all(mixed == images[0], axis=(1, 2, 3))
    assert np.all(flipped | kept) and 60 < flipped.sum() < 140


def find_offsets(padded, crop):
    """All (top, left) where `crop` sits in `padded` (brute force reference)."""
    h, w = crop.shape[-2:]
    return [(i, j) for i in range(padded.shape[-2] - h + 1) for j in range(padded.shape[-1] - w + 1)
            if np.array_equal(padded[..., i:i + h, j:j + w], crop)]


def test_random_crop_batch_and_single():
    rng = np.random.default_rng(0)
    images = rng.random((40, 2, 6, 6)).astype(np.float32)   # distinct values: unique offsets
    crop = transforms.RandomCrop(6, padding=2)
    out = crop.batch(images)
    assert out.shape == (40, 2, 6, 6)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = [find_offsets(padded[n], out[n]) for n in range(40)]
    assert all(len(o) == 1 for o in offsets)
    assert len({o[0] for o in offsets}) > 10            # offsets vary image to image
    single = transforms.RandomCrop((3, 4))(minigrad.tensor(images[0]))
    assert isinstance(single, Tensor) and single.shape == (2, 3, 4)
    assert len(find_offsets(images[0], single.array)) == 1
    reflect = transforms.RandomCrop(6, padding=1, padding_mode="reflect").batch(images)
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    assert all(find_offsets(padded[n], reflect[n]) for n in range(40))
    with pytest.raises(ValueError, match="larger than"):
        transforms.RandomCrop(7)(images[0])
    with pytest.raises(ValueError, match="padding"):
        transforms.RandomCrop(3, padding=-1)


def test_random_translate_shifts_with_fill():
    rng = np.random.default_rng(1)
    images = rng.random((30, 1, 10, 10)).astype(np.float32) + 1   # > 0, fill is 0
    shift = transforms.RandomTranslate((0.2, 0.2))
    out = shift.batch(images)
    assert out.shape == images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (3, 3), (3, 3)))
    for n in range(30):
        (top, left), = find_offsets(padded[n], out[n])
        dy, dx = 3 - top, 3 - left                               # the shift applied
        assert abs(dy) <= 2 and abs(dx) <= 2
    assert transforms.RandomTranslate((0, 0)).batch(images).tolist() == images.tolist()


def test_compose_single_and_batch():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.5),
                                   transforms.RandomHorizontalFlip(1.0)])
    images = np.random.default_rng(0).integers(0, 256, (4, 5, 5), dtype=np.uint8)
    batch = pipeline.batch(images)
    for n in range(4):
        np.testing.assert_allclose(batch.array[n], pipeline(images[n]).array, rtol=1e-6)
    assert not transforms.supports_batch(transforms.Compose([transforms.Lambda(lambda x: x)]))
