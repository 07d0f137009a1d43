"""IDX reader, MNIST / Fashion-MNIST loading, caching, checksums and download (no network)."""
import gzip
import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.data import DataLoader, datasets, transforms
from minigrad.data.datasets import MNIST, DatasetFileError, FashionMNIST, parse_idx, read_idx


def _real_data_root():
    for candidate in (os.environ.get("MINIGRAD_DATA"),
                      Path(__file__).resolve().parents[1].parent / "shared" / "data"):
        if candidate and (Path(candidate) / "fashion-mnist").is_dir():
            return Path(candidate)
    return None


REAL_ROOT = _real_data_root()
needs_real_data = pytest.mark.skipif(REAL_ROOT is None, reason="no offline copy of the datasets")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Caches go under a temporary HOME; MINIGRAD_DATA and XDG_CACHE_HOME are unset unless a
    test sets them; no system-wide data folder (Debian's /usr/share/datasets) is searched."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(FashionMNIST, "extra_dirs", ())


def idx_bytes(array, type_code=0x08):
    """Encode `array` as an IDX file (big-endian values)."""
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + np.asarray(array).astype(dtype).tobytes()


def write_split(directory, prefix, images, labels):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny MNIST in <root>/mnist/ whose checksums are registered as the official ones."""
    rng = np.random.default_rng(0)
    root = tmp_path / "root"
    splits = {"train": (rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
                        rng.integers(0, 10, 7, dtype=np.uint8)),
              "t10k": (rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
                       rng.integers(0, 10, 5, dtype=np.uint8))}
    for prefix, (images, labels) in splits.items():
        write_split(root / "mnist", prefix, images, labels)
    register_checksums(monkeypatch, MNIST, root / "mnist")
    return root, splits


def register_checksums(monkeypatch, cls, directory):
    checksums = {path.name: {"md5": {hashlib.md5(path.read_bytes()).hexdigest()}}
                 for path in Path(directory).glob("*.gz")}
    monkeypatch.setattr(cls, "checksums", checksums)


# ------------------------------------------------------------------ IDX reader
@pytest.mark.parametrize("type_code, array", [
    (0x08, np.arange(24, dtype=np.uint8).reshape(2, 3, 4)),
    (0x0C, np.array([[-5, 70000], [3, 2 ** 31 - 1]], dtype=np.int32)),
    (0x0B, np.array([-300, 7, 12000], dtype=np.int16)),
    (0x0E, np.array([0.5, -1e300, np.pi])),
])
@pytest.mark.parametrize("compressed", [True, False])
def test_read_idx_round_trip(tmp_path, type_code, array, compressed):
    content = idx_bytes(array, type_code)
    path = tmp_path / ("data.idx.gz" if compressed else "data.idx")
    path.write_bytes(gzip.compress(content) if compressed else content)
    got = read_idx(path)
    np.testing.assert_array_equal(got, array)
    assert got.shape == array.shape and got.dtype.isnative


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize("content, match", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x02" + GOOD[4:], "bad magic number"),
    (b"\x00\x00\x07\x02" + GOOD[4:], "bad magic number"),
    (GOOD[:6], "truncated inside the header"),
    (GOOD[:-1], "truncated: the header announces shape \\(3, 4\\)"),
    (GOOD + b"\x00", "trailing bytes"),
])
def test_idx_errors_name_the_file_and_the_problem(tmp_path, content, match):
    path = tmp_path / "broken-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DatasetFileError, match=match) as error:
        read_idx(path)
    assert "broken-idx1-ubyte.gz" in str(error.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    compressed = gzip.compress(GOOD * 50)
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DatasetFileError, match="truncated.gz: truncated gzip"):
        read_idx(truncated)
    corrupt = bytearray(compressed)
    corrupt[-6] ^= 0xFF                          # inside the CRC-32 / size trailer
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(corrupt))
    with pytest.raises(DatasetFileError, match="corrupt.gz: corrupt gzip"):
        read_idx(path)


def test_parse_idx_returns_native_arrays():
    array = parse_idx(idx_bytes(np.array([1, 2, 3], dtype=np.int32), 0x0C))
    assert array.dtype == np.int32 and array.tolist() == [1, 2, 3]


# -------------------------------------------------------------- MNIST loading
def test_mnist_from_files(fake_mnist):
    root, splits = fake_mnist
    train = MNIST(root, train=True)
    test = MNIST(root=str(root), train=False)
    assert len(train) == 7 and len(test) == 5
    np.testing.assert_array_equal(train.data, splits["train"][0])
    assert train.targets.dtype == np.int64 and train.targets.tolist() == splits["train"][1].tolist()
    image, target = test[2]
    assert image.shape == (28, 28) and target == int(splits["t10k"][1][2])


def test_mnist_transforms_and_batches(fake_mnist):
    root, splits = fake_mnist
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.1307, 0.3081)])
    dataset = MNIST(root, transform=pipeline)
    image, _ = dataset[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    fast = list(DataLoader(dataset, batch_size=3))
    slow = list(DataLoader(dataset, batch_size=3, collate_fn=minigrad.data.default_collate))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_allclose(xf.data, xs.data, rtol=1e-6)
        np.testing.assert_array_equal(yf.data, ys.data)
    expected = (splits["train"][0][:3] / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(fast[0][0].data[:, 0], expected, rtol=1e-5, atol=1e-6)
    # a transform without batch support falls back to per-sample calls
    lam = MNIST(root, transform=transforms.Lambda(lambda im: im.sum()))
    xb, yb = next(iter(DataLoader(lam, batch_size=2)))
    assert xb.tolist() == [int(splits["train"][0][i].sum()) for i in range(2)]


def test_root_layouts_and_environment(fake_mnist, tmp_path, monkeypatch):
    root, _ = fake_mnist
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in (root / "mnist").glob("*.gz"):
        (flat / path.name).write_bytes(path.read_bytes())
    assert len(MNIST(flat, train=False)) == 5            # files directly in <root>
    monkeypatch.setenv("MINIGRAD_DATA", str(root))
    assert MNIST(train=False).root == root              # <MINIGRAD_DATA>/mnist
    monkeypatch.delenv("MINIGRAD_DATA")
    assert datasets.data_root() == Path.home() / ".cache" / "minigrad"


def cached_files(name="mnist"):
    return sorted((datasets.cache_dir() / name).glob("*.npy"))


def test_decoded_arrays_are_cached(fake_mnist, monkeypatch):
    root, splits = fake_mnist
    MNIST(root)
    assert datasets.cache_dir() == Path.home() / ".cache" / "minigrad" / "decoded"
    assert [p.name.split("-")[:2] for p in cached_files()] == [["train", "images"], ["train", "labels"]]

    def no_decoding(path):
        raise AssertionError(f"{path} was decoded again instead of read from the cache")
    monkeypatch.setattr(datasets, "_read_bytes", no_decoding)
    np.testing.assert_array_equal(MNIST(root).data, splits["train"][0])
    monkeypatch.undo()

    # a changed source file invalidates its cache
    new_images = np.zeros((7, 28, 28), dtype=np.uint8)
    write_split(root / "mnist", "train", new_images, splits["train"][1])
    register_checksums(monkeypatch, MNIST, root / "mnist")
    monkeypatch.setenv("HOME", str(root.parent / "home"))
    os.utime(root / "mnist" / "train-images-idx3-ubyte.gz", ns=(1, 1))
    assert MNIST(root).data.max() == 0


def test_caches_go_to_xdg_cache_home_never_into_the_data_folder(fake_mnist, tmp_path, monkeypatch):
    root, splits = fake_mnist
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    before = sorted(p.name for p in (root / "mnist").iterdir())
    MNIST(root, train=False)
    assert sorted(p.name for p in (root / "mnist").iterdir()) == before
    assert len(list((tmp_path / "xdg" / "minigrad" / "decoded" / "mnist").glob("*.npy"))) == 2


@pytest.mark.parametrize("cache_writable", [True, False])
def test_a_read_only_data_folder_works(fake_mnist, tmp_path, monkeypatch, cache_writable):
    # a shared, read-only data folder (Debian's /usr/share/datasets)
    root, splits = fake_mnist
    if not cache_writable:  # a file where the cache folder should be: unwritable even for root
        (tmp_path / "not-a-folder").write_text("")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    folder = root / "mnist"
    before = sorted(p.name for p in folder.iterdir())
    folder.chmod(0o555)
    try:
        for _ in range(2):
            dataset = MNIST(root, train=False)
            np.testing.assert_array_equal(dataset.data, splits["t10k"][0])
            np.testing.assert_array_equal(dataset.targets, splits["t10k"][1])
    finally:
        folder.chmod(0o755)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert len(cached_files()) == (2 if cache_writable else 0)


def test_two_data_folders_keep_separate_caches(fake_mnist, tmp_path):
    root, splits = fake_mnist
    other = tmp_path / "other"
    write_split(other / "mnist", "t10k", splits["t10k"][0], splits["t10k"][1])
    MNIST(root, train=False)
    MNIST(other, train=False)
    assert len(cached_files()) == 4


def test_an_idx_header_that_overflows_int64_names_the_file(tmp_path):
    # 65536**4 = 2**64: an int64 product wraps to 0 bytes, matching an empty body
    path = tmp_path / "huge-idx4-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 4]) + np.array([65536] * 4, dtype=">u4").tobytes())
    with pytest.raises(DatasetFileError, match="huge-idx4-ubyte.*truncated"):
        read_idx(path)


def test_checksum_and_content_errors(fake_mnist, monkeypatch):
    root, splits = fake_mnist
    monkeypatch.setattr(MNIST, "checksums", {"t10k-images-idx3-ubyte.gz": {"md5": {"0" * 32}}})
    with pytest.raises(DatasetFileError, match="t10k-images-idx3-ubyte.gz: checksum mismatch"):
        MNIST(root, train=False)
    monkeypatch.setattr(MNIST, "checksums", {})
    write_split(root / "mnist", "t10k", splits["t10k"][0], np.arange(4, dtype=np.uint8))
    with pytest.raises(DatasetFileError, match="has 5 images but .* has 4 labels"):
        MNIST(root, train=False)
    write_split(root / "mnist", "t10k", splits["t10k"][0][:, :27], np.arange(5, dtype=np.uint8))
    with pytest.raises(DatasetFileError, match=r"expected uint8 images of shape \(N, 28, 28\)"):
        MNIST(root, train=False)
    write_split(root / "mnist", "t10k", splits["t10k"][0], np.full(5, 12, dtype=np.uint8))
    with pytest.raises(DatasetFileError, match="label 12 is out of range"):
        MNIST(root, train=False)


def test_missing_files_explain_how_to_proceed(tmp_path):
    with pytest.raises(RuntimeError, match="download=True") as error:
        MNIST(tmp_path / "empty", train=False)
    assert "t10k-images-idx3-ubyte.gz" in str(error.value) and "MINIGRAD_DATA" in str(error.value)


# -------------------------------------------------------------------- download
def test_download_tries_mirrors_until_a_valid_copy(fake_mnist, tmp_path, monkeypatch):
    source, splits = fake_mnist
    corrupt = tmp_path / "corrupt-mirror"
    corrupt.mkdir()
    for path in (source / "mnist").glob("*.gz"):
        (corrupt / path.name).write_bytes(path.read_bytes()[:-10])
    mirrors = [(tmp_path / "missing-mirror").as_uri() + "/", corrupt.as_uri() + "/",
               (source / "mnist").as_uri() + "/"]
    monkeypatch.setattr(MNIST, "mirrors", mirrors)
    opened = []
    real_urlopen = datasets._urlopen
    monkeypatch.setattr(datasets, "_urlopen", lambda url: opened.append(url) or real_urlopen(url))

    target = tmp_path / "downloads"
    dataset = MNIST(target, train=False, download=True)
    np.testing.assert_array_equal(dataset.data, splits["t10k"][0])
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert (target / "mnist" / name).read_bytes() == (source / "mnist" / name).read_bytes()
    assert len(opened) == 6 and opened[2].startswith((source / "mnist").as_uri())
    assert not list((target / "mnist").glob(".*.tmp"))     # temp files renamed or removed
    opened.clear()
    MNIST(target, train=False, download=True)              # present: nothing fetched
    assert opened == []


def test_download_failure_gives_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/",
                                                  "http://mirror.invalid/fashion/"])

    def offline(url):
        if url.startswith("http"):
            raise OSError("network is unreachable")
        return urllib.request.urlopen(url)
    monkeypatch.setattr(datasets, "_urlopen", offline)
    with pytest.raises(RuntimeError) as error:
        FashionMNIST(tmp_path / "root", train=False, download=True)
    message = str(error.value)
    assert "could not download t10k-images-idx3-ubyte.gz from any mirror" in message
    assert "mirror.invalid" in message and "network is unreachable" in message
    assert "MINIGRAD_DATA" in message and "dataset-fashion-mnist" in message
    assert not list((tmp_path / "root" / "fashion-mnist").iterdir())


# ------------------------------------------------------------ the real files
@needs_real_data
def test_real_fashion_mnist(monkeypatch):
    train = FashionMNIST(REAL_ROOT, train=True)
    test = FashionMNIST(REAL_ROOT, train=False)
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28)
    # Fashion-MNIST is balanced: 6,000 / 1,000 images per class
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert np.bincount(test.targets).tolist() == [1000] * 10
    # the second load comes from the decoded .npy cache: nothing is decompressed again
    # (checked by what it does, not by a time limit, which a busy machine can miss)
    def no_decompressing(data):
        raise AssertionError("the cached reload decompressed a .gz file again")
    monkeypatch.setattr(datasets.gzip, "decompress", no_decompressing)
    again = FashionMNIST(REAL_ROOT, train=True)
    np.testing.assert_array_equal(again.data[::997], train.data[::997])


@needs_real_data
def test_real_mnist_test_split():
    if not (REAL_ROOT / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("no offline MNIST test split")
    test = MNIST(REAL_ROOT, train=False, transform=transforms.ToTensor())
    assert len(test) == 10000
    assert np.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                  974, 1009]
    images, labels = next(iter(DataLoader(test, batch_size=8)))
    assert images.shape == (8, 1, 28, 28) and labels.tolist() == [7, 2, 1, 0, 4, 1, 4, 9]
    assert 0.0 <= images.data.min() and images.data.max() <= 1.0
