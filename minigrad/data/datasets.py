"""MNIST and Fashion-MNIST from the standard IDX ``.gz`` files.

Where the files are looked for (first match wins, file by file):
    <root>/<name>/FILE, <root>/FILE       name is 'mnist' or 'fashion-mnist'
    /usr/share/datasets/fashion-mnist/FILE (Fashion-MNIST only: Debian's
                                           package dataset-fashion-mnist)
with root = the ``root`` argument, else the ``MINIGRAD_DATA`` environment
variable, else ``~/.cache/minigrad``. ``download=True`` fetches missing files
into ``<root>/<name>/`` from several mirrors, atomically, verifying checksums.

Every file is checked when it is first decoded: gzip integrity, the IDX magic
number and dimensions, and a checksum (the MD5 of the official ``.gz``, or the
SHA-256 of its decompressed contents, which survives re-compression). The
decoded arrays are cached as ``.npy`` in the cache directory,
``$XDG_CACHE_HOME/minigrad/decoded/<name>/`` (``~/.cache/minigrad/...``
without XDG_CACHE_HOME), never in the data folder, which may be read-only
and shared (Debian's /usr/share/datasets), so later loads of the 60,000
training images take a few milliseconds. Where the cache directory cannot
be written, every load decodes the files again.
"""
import gzip
import hashlib
import json
import math
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from minigrad.data.dataloader import default_collate
from minigrad.data.dataset import Dataset
from minigrad.data.transforms import supports_batch
from minigrad.tensor import Tensor

# IDX type byte -> big-endian dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetFileError(ValueError):
    """A dataset file is truncated, corrupt, or not the expected file."""


def _read_bytes(path):
    """The (decompressed, if gzip) contents of `path`, with clear errors for bad gzip."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw, raw
    try:
        return raw, gzip.decompress(raw)
    except EOFError:
        raise DatasetFileError(f"{path}: truncated gzip file (the compressed stream ends early); "
                               f"delete it and download it again") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as error:
        raise DatasetFileError(f"{path}: corrupt gzip file ({error}); delete it and download it "
                               f"again") from None


def parse_idx(content, name="IDX data"):
    """Decode the bytes of an IDX file into an array (native byte order).

    Layout: two zero bytes, a type byte (0x08 = uint8, ...), the number of
    dimensions, then one big-endian int32 per dimension, then the values.
    """
    if len(content) < 4:
        raise DatasetFileError(f"{name}: truncated: {len(content)} bytes, too short for an IDX "
                               f"header")
    if content[0] != 0 or content[1] != 0 or content[2] not in _IDX_DTYPES:
        raise DatasetFileError(f"{name}: bad magic number 0x{content[:4].hex()} (expected "
                               f"0x0000TTDD, TT a type code in "
                               f"{sorted(hex(t) for t in _IDX_DTYPES)}): not an IDX file")
    ndim = content[3]
    if ndim == 0:
        raise DatasetFileError(f"{name}: IDX header says 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DatasetFileError(f"{name}: truncated inside the header ({len(content)} bytes, "
                               f"the header of a {ndim}-d IDX file has {header_size})")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[content[2]])
    expected = math.prod(shape) * dtype.itemsize     # Python ints: a huge header cannot overflow
    found = len(content) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise DatasetFileError(f"{name}: {problem}: the header announces shape {shape} "
                               f"({expected} bytes of data) but the file holds {found}")
    array = np.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file (``.gz`` or uncompressed) into a NumPy array."""
    return parse_idx(_read_bytes(path)[1], name=str(path))


# ---------------------------------------------------------------- locating
def data_root(root=None):
    """The root argument, else $MINIGRAD_DATA, else ~/.cache/minigrad."""
    if root is not None:
        return Path(os.fspath(root)).expanduser()
    if os.environ.get("MINIGRAD_DATA"):
        return Path(os.environ["MINIGRAD_DATA"]).expanduser()
    return Path.home() / ".cache" / "minigrad"


def cache_dir():
    """Where decoded arrays are cached: $XDG_CACHE_HOME/minigrad/decoded, else ~/.cache/minigrad/decoded."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "minigrad" / "decoded"


def _writable(directory):
    """Whether we may write in `directory`: allowed, and not marked read-only.

    The mode bits are checked as well as os.access, so that a folder made
    read-only (chmod a-w) is respected even by root, whom access() lets through.
    """
    try:
        return os.access(directory, os.W_OK) and bool(os.stat(directory).st_mode & 0o222)
    except OSError:
        return False


def _write_atomically(path, write):
    """Call write(file) on a temp file beside `path`, fsync it, then rename it to `path`."""
    path = Path(path)
    if not _writable(path.parent):
        raise PermissionError(f"{path.parent} is read-only")
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        os.chmod(temp, 0o644)  # mkstemp creates 0600; data files are meant to be shared
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _urlopen(url, timeout=30):
    """Open a URL (module-level so that tests can replace it)."""
    import urllib.request  # only needed for downloads; keeps `import minigrad` light
    request = urllib.request.Request(url, headers={"User-Agent": "minigrad"})
    return urllib.request.urlopen(request, timeout=timeout)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, 10 classes.

    Samples are ``(image, target)``: image a uint8 ``(28, 28)`` array (after
    ``transform`` if given, e.g. ``transforms.ToTensor()``), target an int.
    ``dataset.data`` (a uint8 Tensor (N, 28, 28)) and ``dataset.targets`` (an
    int64 Tensor (N,)) hold everything, as in torchvision; the DataLoader batches them by fancy indexing, applying
    batch-capable transforms to the whole batch at once.
    """

    name = "mnist"
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    files = {
        True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }
    # Accepted checksums: MD5s of the official .gz files, and SHA-256 of the
    # decompressed IDX contents where known (the same data re-compressed).
    checksums = {
        "train-images-idx3-ubyte.gz": {"md5": {"f68b3c2dcbeaaa9fbdd348bbdeb94873"}},
        "train-labels-idx1-ubyte.gz": {
            "md5": {"d53e105ee54ea40749a09fcbcd1e9432"},
            "sha256": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
        "t10k-images-idx3-ubyte.gz": {
            "md5": {"9fb629c4189551a2d022fa330f9573f3"},
            "sha256": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
        "t10k-labels-idx1-ubyte.gz": {
            "md5": {"ec29112dd5afa0611ce80d1b7f02629c"},
            "sha256": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    extra_dirs = ()

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None):
        self.root = data_root(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        image_file, label_file = self.files[self.train]
        paths = {}
        for filename in (image_file, label_file):
            paths[filename] = self._find(filename)
        missing = [f for f, p in paths.items() if p is None]
        if missing and download:
            for filename in missing:
                paths[filename] = self._download(filename)
        elif missing:
            raise RuntimeError(f"{type(self).__name__}: dataset file(s) {missing} not found in "
                               f"{[str(d) for d in self._search_dirs()]}. Use download=True to "
                               f"download them. " + self._offline_help())
        images = self._load(paths[image_file], kind="images")
        labels = self._load(paths[label_file], kind="labels")
        if len(images) != len(labels):
            raise DatasetFileError(f"{paths[image_file]} has {len(images)} images but "
                                   f"{paths[label_file]} has {len(labels)} labels")
        # Tensors, as in torchvision: data uint8 (N, 28, 28), targets int64 (N,).
        self.data = Tensor._make(images, False, None)
        self.targets = Tensor._make(labels.astype(np.int64), False, None)

    # -------------------------------------------------------------- samples
    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data.array[index], int(self.targets.array[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """``[images, targets]`` for `indices`, transformed as a batch when possible."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.target_transform is not None or (self.transform is not None
                                                 and not supports_batch(self.transform)):
            return default_collate([self[int(i)] for i in indices])
        images = self.data.array[indices]  # (B, 28, 28) uint8
        images = self.transform.batch(images) if self.transform is not None \
            else Tensor._make(images, False, None)
        return [images, Tensor._make(self.targets.array[indices], False, None)]

    # --------------------------------------------------------------- files
    def _search_dirs(self):
        return [self.root / self.name, self.root] + [Path(d) for d in self.extra_dirs]

    def _find(self, filename):
        for directory in self._search_dirs():
            if (directory / filename).is_file():
                return directory / filename
        return None

    @classmethod
    def _offline_help(cls):
        names = ", ".join(f for pair in cls.files.values() for f in pair)
        return (f"To work offline, copy the IDX files ({names}) into a folder and pass "
                f"root=<folder> or set MINIGRAD_DATA=<folder> (the files may sit in "
                f"<folder>/{cls.name}/ or directly in <folder>/).")

    def _verify(self, path, raw, content):
        """Raise DatasetFileError unless raw (.gz bytes) or content matches a known checksum."""
        expected = self.checksums.get(path.name)
        if expected is None:
            return
        md5 = hashlib.md5(raw).hexdigest()
        if md5 in expected.get("md5", ()):
            return
        if "sha256" in expected and hashlib.sha256(content).hexdigest() == expected["sha256"]:
            return
        raise DatasetFileError(f"{path}: checksum mismatch (md5 {md5}, expected one of "
                               f"{sorted(expected.get('md5', ()))}): the file is corrupt or not "
                               f"the official {path.name}; delete it and download it again")

    def _load(self, path, kind):
        """The decoded array of `path`, from the .npy cache when it is up to date."""
        stat = path.stat()
        stamp = {"source": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        for cache in self._cache_paths(path):
            meta = cache.with_suffix(".json")
            try:
                if json.loads(meta.read_text()) == stamp:
                    array = np.load(cache, allow_pickle=False)
                    self._check_array(path, array, kind)
                    return array
            except (OSError, ValueError, DatasetFileError):
                continue  # missing or stale cache: decode again
        raw, content = _read_bytes(path)
        array = parse_idx(content, name=str(path))
        self._check_array(path, array, kind)
        self._verify(path, raw, content)
        self._write_cache(path, array, stamp)
        return array

    def _cache_paths(self, path):
        """The cache file of `path`: one per source file (a digest of its full path in the
        name), so that two data folders with the same file names never evict each other."""
        stem = path.name[:-3] if path.name.endswith(".gz") else path.name
        source = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        return [cache_dir() / self.name / f"{stem}-{source}.npy"]

    def _write_cache(self, path, array, stamp):
        for cache in self._cache_paths(path):
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(cache, lambda f: np.save(f, array, allow_pickle=False))
                _write_atomically(cache.with_suffix(".json"),
                                  lambda f: f.write(json.dumps(stamp).encode()))
                return
            except OSError:
                continue  # read-only cache directory: no cache is not an error

    @staticmethod
    def _check_array(path, array, kind):
        if kind == "images":
            if array.dtype != np.uint8 or array.ndim != 3 or array.shape[1:] != (28, 28):
                raise DatasetFileError(f"{path}: expected uint8 images of shape (N, 28, 28), "
                                       f"found {array.dtype} {array.shape}")
        else:
            if array.dtype != np.uint8 or array.ndim != 1:
                raise DatasetFileError(f"{path}: expected uint8 labels of shape (N,), found "
                                       f"{array.dtype} {array.shape}")
            if array.size and array.max() > 9:
                raise DatasetFileError(f"{path}: label {int(array.max())} is out of range 0..9")

    # ------------------------------------------------------------- download
    def _download(self, filename):
        """Fetch `filename` into <root>/<name>/ from the first mirror that serves a valid copy."""
        directory = self.root / self.name
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / filename
        errors = []
        for mirror in self.mirrors:
            url = mirror.rstrip("/") + "/" + filename
            try:
                with _urlopen(url) as response:
                    raw = response.read()
                content = gzip.decompress(raw)
                self._verify(target, raw, content)
                parse_idx(content, name=url)
            except Exception as error:  # network, HTTP, gzip, checksum: try the next mirror
                errors.append(f"  {url}: {type(error).__name__}: {error}")
                continue
            _write_atomically(target, lambda f, raw=raw: f.write(raw))
            return target
        raise RuntimeError(f"{type(self).__name__}: could not download {filename} from any "
                           f"mirror:\n" + "\n".join(errors) + "\n" + self._offline_help())

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split!r}, samples={len(self)}, root={str(self.root)!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and sizes as MNIST, 10 clothing classes."""

    name = "fashion-mnist"
    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    checksums = {
        "train-images-idx3-ubyte.gz": {
            "md5": {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "cf8536b0aa1a6ac5fa3f23001093305c"},
            "sha256": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
        "train-labels-idx1-ubyte.gz": {
            "md5": {"25c81989df183df01b3e8a0aad5dffbe", "10bea18fdb374794d4bb42e356e600c9"},
            "sha256": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
        "t10k-images-idx3-ubyte.gz": {
            "md5": {"bef4ecab320f06d8554ea6380940ec79", "f78720b4224f21cce2f2ccf2d7a94c9a"},
            "sha256": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
        "t10k-labels-idx1-ubyte.gz": {
            "md5": {"bb300cfdad3c16e7a12a480ee83cd310", "0d30e22e447f3c33dab9ed536400ac01"},
            "sha256": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    extra_dirs = ("/usr/share/datasets/fashion-mnist",)

    @classmethod
    def _offline_help(cls):
        return (super()._offline_help() + " On Debian/Ubuntu, `apt install dataset-fashion-mnist` "
                "puts the files in /usr/share/datasets/fashion-mnist, which is searched too.")
