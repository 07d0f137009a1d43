"""minigrad.save / minigrad.load: safetensors checkpoints that PyTorch reads, and that never unpickle.

A checkpoint is a safetensors file (https://github.com/huggingface/safetensors),
the ecosystem's pickle-free format:

    8 bytes       N, the header's length (unsigned, little-endian)
    N bytes       UTF-8 JSON: {tensor name: {"dtype": "F32", "shape": [3, 4],
                  "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
                  (padded with spaces to a multiple of 8 bytes)
    the rest      every tensor's bytes, C order, little-endian, back to back;
                  offsets count from the end of the header

Tensors are named by their path in the saved object: a state_dict's tensors
keep its keys (``conv1.weight``), so ``safetensors.torch.load_file`` gives
PyTorch the same state_dict; nested objects join the keys with dots
(``optimizer.state.0.exp_avg``). Everything that is not an array (the nesting
itself, ints, floats, strings, bools, None, tuples, requires_grad flags) is
one JSON document in ``__metadata__["minigrad"]``; a file without it (written
by PyTorch or any other tool) loads as a flat ``{name: Tensor}`` dict.

The format is written directly (about a hundred lines below) rather than
through the ``safetensors`` package: minigrad depends on NumPy only, and the
reader and the writer are short enough to read.

Loading never runs code from the file: nothing is unpickled, and the header is
checked completely before any tensor is allocated: its length against the
file, the JSON, each dtype, each shape against its byte range, and the ranges
against each other (they must tile the data exactly: no overlap, no hole, no
byte past the end). A damaged or hostile file raises ``CheckpointError``
naming the file and the problem. Checkpoints in minigrad's format version 1
(a NumPy ``.npz`` archive with a JSON ``__manifest__``) load too, checked
the same way.

Saving is atomic: the file is written to a temporary file beside the target
(``.<name>.<pid>.<random>.minigrad-tmp``), flushed and fsync'ed, then renamed
over the target. A crash mid-save leaves the previous checkpoint untouched;
the next save to the same target removes temporary files left by processes
that no longer run. The new file gets the permissions the old one had (or,
for a new file, those the umask gives), and saving to a symbolic link
replaces the file the link points to, not the link.
"""
import hashlib
import io
import json
import math
import os
import re
import secrets
import zipfile

import numpy as np

from minigrad.tensor import Tensor

STRUCTURE_KEY = "minigrad"       # the __metadata__ entry that holds the saved object's structure
VERSION = 2                      # format version 1 is the .npz format (still loaded)
MAX_DEPTH = 100                  # nesting of dicts/lists a checkpoint may have
MAX_HEADER_BYTES = 100_000_000   # the safetensors package's own limit
MAX_DIMS = 64                    # dimensions a tensor may have (PyTorch's limit too)
TEMP_SUFFIX = ".minigrad-tmp"

# safetensors dtype names <-> NumPy dtypes (little-endian, as stored).
DTYPES = {"BOOL": np.dtype("|b1"), "U8": np.dtype("|u1"), "I8": np.dtype("|i1"),
          "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "U32": np.dtype("<u4"),
          "I32": np.dtype("<i4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"),
          "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_NAME_OF_DTYPE = {dtype.newbyteorder("="): name for name, dtype in DTYPES.items()}
# bfloat16 (the top half of a float32) has no NumPy dtype: it loads as float32, exactly.
_BFLOAT16 = "BF16"


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupt, tampered with, or not a checkpoint minigrad reads."""


# ======================================================================= saving
def save(obj, f):
    """Save `obj` to `f` as a safetensors file, e.g. ``minigrad.save(model.state_dict(), path)``.

    `obj` is a Tensor, an array, or nested dicts (str, int, float, bool or
    None keys), lists and tuples of Tensors, NumPy arrays and scalars, ints,
    floats, strings, bools and None: a state_dict, an optimizer's state_dict,
    or ``{'model': ..., 'optimizer': ..., 'epoch': 3}``. Modules and
    optimizers themselves are refused: minigrad never pickles, so save their
    ``state_dict()``. `f` is a path (written atomically, see the module
    docstring) or a binary file object.
    """
    encoder = _Encoder()
    structure = {"version": VERSION, "root": encoder.encode(obj, [], 0)}
    metadata = {STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    arrays = encoder.arrays
    if hasattr(f, "write"):
        write_safetensors(arrays, f, metadata)
    else:
        _write_atomically(os.fspath(f), lambda file: write_safetensors(arrays, file, metadata))


class _Encoder:
    """Walks the object: collects its arrays by name and describes everything as JSON nodes."""

    def __init__(self):
        self.arrays = {}

    def _add_array(self, array, path):
        if array.dtype.newbyteorder("=") not in _NAME_OF_DTYPE:
            raise TypeError(f"minigrad.save can't store arrays of dtype {array.dtype} (at "
                            f"{_where(path)}); it stores bool, int8-64, uint8-64 and float16/32/64")
        name = base = ".".join(str(key) for key in path) or "tensor"
        copies = 0
        while name in self.arrays or name == "__metadata__":  # e.g. keys 'a.b' and 'a' -> 'b'
            copies += 1
            name = f"{base}#{copies}"
        self.arrays[name] = array
        return name

    def encode(self, obj, path, depth):
        if depth > MAX_DEPTH:
            raise ValueError(f"minigrad.save: {_where(path)} is nested more than {MAX_DEPTH} deep")
        # bool before int: bool is a subclass of int.
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, bool):
            return {"type": "bool", "value": obj}
        if isinstance(obj, int):
            return {"type": "int", "value": str(obj)}      # str: JSON readers may round big ints
        if isinstance(obj, float):
            return {"type": "float", "value": obj.hex()}   # exact, and covers nan and inf
        if isinstance(obj, str):
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            array = obj.detach().numpy()
            return {"type": "tensor", "name": self._add_array(array, path),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "name": self._add_array(obj, path)}
        if isinstance(obj, np.generic):
            return {"type": "npscalar", "name": self._add_array(np.asarray(obj), path)}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if key is not None and not isinstance(key, (str, int, float, bool)):
                    raise TypeError(f"minigrad.save: dict keys must be str, int, float, bool or "
                                    f"None, got {type(key).__name__} key {key!r} in {_where(path)}")
                items.append([self.encode(key, path, depth + 1),
                              self.encode(value, path + [key], depth + 1)])
            return {"type": "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            return {"type": "list" if isinstance(obj, list) else "tuple",
                    "items": [self.encode(item, path + [i], depth + 1) for i, item in enumerate(obj)]}
        if callable(getattr(obj, "state_dict", None)):      # a Module, an optimizer, a scheduler
            kind = type(obj).__name__
            raise TypeError(f"minigrad.save can't store a {kind} object (at {_where(path)}): "
                            f"minigrad never pickles, so it saves tensors and plain data only. "
                            f"Save its state instead: minigrad.save(model.state_dict(), path), "
                            f"and restore it with model.load_state_dict(minigrad.load(path))")
        raise TypeError(f"minigrad.save can't store {type(obj).__name__} (at {_where(path)}); it "
                        f"stores nested dicts/lists/tuples of Tensors, arrays, numbers, strings, "
                        f"bools and None")


def _where(path):
    return "obj" + "".join(f"[{key!r}]" for key in path)


def write_safetensors(arrays, file, metadata=None):
    """Write {name: ndarray} and an optional {str: str} metadata map to a binary file as safetensors.

    The tensors are laid out by decreasing item size, so that with the header
    padded to 8 bytes every tensor starts at a multiple of its item size.
    """
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)   # stable: keeps names' order
    offset = 0
    for name in order:
        array = arrays[name]
        header[name] = {"dtype": _NAME_OF_DTYPE[array.dtype.newbyteorder("=")],
                        "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    file.write(len(header_bytes).to_bytes(8, "little"))
    file.write(header_bytes)
    for name in order:
        array = arrays[name]
        stored = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        file.write(stored.reshape(-1).view(np.uint8).data)       # reshape: 0-d arrays too


def _write_atomically(path, write):
    """Call write(file) on a temporary file beside `path`, then rename it over `path`."""
    target = os.path.realpath(path)          # through symlinks: replace what the link points to
    directory, base = os.path.split(target)
    _remove_stale_temp_files(directory, base)
    temp_path = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        old_mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        old_mode = None
    # 0o666 and os.open: the umask applies, as for any file a program creates.
    descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
    try:
        with os.fdopen(descriptor, "wb") as temp_file:
            write(temp_file)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        if old_mode is not None:
            os.chmod(temp_path, old_mode)
        os.replace(temp_path, target)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _remove_stale_temp_files(directory, base):
    """Delete temporary files of `base` whose writing process no longer runs (it was killed)."""
    if os.name != "posix":             # os.kill(pid, 0) only tests for a process on POSIX
        return
    # exactly .<base>.<pid>.<8 hex digits>.minigrad-tmp: never another target's temporary file
    pattern = re.compile(re.escape(f".{base}.") + r"(\d+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX))
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue                   # still running: perhaps saving right now
        except ProcessLookupError:
            pass
        except OSError:                # PermissionError: it runs, as another user
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ====================================================================== loading
def load(f, map_location=None, *, weights_only=None):
    """Load what ``minigrad.save`` wrote (or any safetensors file); Tensors come back as Tensors.

    `f` is a path or a binary file object. A safetensors file written by
    another tool (``safetensors.torch.save_file(model.state_dict(), path)``)
    loads as ``{name: Tensor}``; files in minigrad's version-1 ``.npz`` format
    load too.

    `map_location` and `weights_only` are accepted as in ``torch.load``.
    minigrad runs on the CPU, so `map_location` may be None, 'cpu' (or a
    device whose str() is 'cpu'), a dict mapping locations to 'cpu', or a
    function called as ``map_location(tensor, 'cpu')`` on every loaded tensor
    that returns the Tensor to use. minigrad never unpickles, whatever
    `weights_only` says: ``weights_only=False`` does not enable pickle, and a
    pickle file (what ``torch.save`` writes) is refused.

    Raises CheckpointError (a ValueError) naming the file and the problem for
    a truncated, corrupt, tampered or foreign file. Nothing in the file is
    ever executed.
    """
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"weights_only must be True, False or None, got {weights_only!r}")
    relocate = _map_location_function(map_location)
    if hasattr(f, "read"):
        name, raw = "checkpoint", f.read()
    else:
        name = repr(os.fspath(f))
        with open(os.fspath(f), "rb") as file:
            raw = file.read()
    if not isinstance(raw, bytes):
        raise TypeError(f"minigrad.load needs a binary file, got {type(raw).__name__} from read()")
    if raw[:2] == b"PK":
        obj = _load_npz(raw, name)
    elif raw[:1] == b"\x80":
        raise CheckpointError(f"{name} is a pickle (what torch.save writes with "
                              f"_use_new_zipfile_serialization=False); minigrad never unpickles. "
                              f"{_TORCH_HINT}")
    else:
        arrays, metadata = _read_safetensors_bytes(raw, name)
        obj = _from_safetensors(arrays, metadata, name)
    return _relocate(obj, relocate) if relocate is not None else obj


_TORCH_HINT = ("Save it in PyTorch as safetensors: from safetensors.torch import save_file; "
               "save_file(model.state_dict(), 'model.safetensors'); then minigrad.load that file")


def _map_location_function(map_location):
    """None when tensors stay where they are (the CPU), else the function to apply to each."""
    def is_cpu(location):
        return location is None or str(location).lower() in ("cpu", "cpu:0")

    if isinstance(map_location, dict):
        wrong = [value for value in map_location.values() if not is_cpu(value)]
        if not wrong:
            return None
        map_location = wrong[0]
    elif callable(map_location):
        return map_location
    if is_cpu(map_location):
        return None
    raise RuntimeError(f"map_location={map_location!r}: minigrad runs on the CPU only, so tensors "
                       f"can only be loaded to 'cpu'")


def _relocate(obj, function):
    if isinstance(obj, Tensor):
        moved = function(obj, "cpu")
        if not isinstance(moved, Tensor):
            raise TypeError(f"map_location must return a Tensor, got {type(moved).__name__}")
        return moved
    if isinstance(obj, dict):
        return {key: _relocate(value, function) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_relocate(item, function) for item in obj)
    return obj


def read_safetensors(f):
    """({name: ndarray}, {str: str} metadata) of a safetensors file (a path or a binary file object).

    The arrays are native-endian copies; BF16 tensors become float32 (exactly).
    Raises CheckpointError for a malformed file (see the module docstring).
    """
    if hasattr(f, "read"):
        return _read_safetensors_bytes(f.read(), "safetensors file")
    with open(os.fspath(f), "rb") as file:
        return _read_safetensors_bytes(file.read(), repr(os.fspath(f)))


def _reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise CheckpointError(f"the header names {duplicate!r} twice")
    return dict(pairs)


def _read_safetensors_bytes(raw, name):
    def fail(message):
        raise CheckpointError(f"{name}: {message}")

    if len(raw) < 8:
        fail(f"is {len(raw)} bytes long: too short for a safetensors file (truncated, or not a "
             f"checkpoint)")
    header_length = int.from_bytes(raw[:8], "little")
    if header_length > len(raw) - 8:
        fail(f"declares a {header_length}-byte header, but only {len(raw) - 8} bytes follow "
             f"(truncated, or not a safetensors file)")
    if header_length > MAX_HEADER_BYTES:
        fail(f"declares a {header_length}-byte header, more than the {MAX_HEADER_BYTES} allowed")
    header_bytes, data = raw[8:8 + header_length], memoryview(raw)[8 + header_length:]
    if not header_bytes.startswith(b"{"):
        fail("the header is not a JSON object (not a safetensors file)")
    try:
        header = json.loads(header_bytes.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except CheckpointError as error:
        fail(str(error))
    except (ValueError, RecursionError) as error:     # bad UTF-8 or JSON; absurd nesting
        fail(f"the header is not valid JSON ({type(error).__name__}: {str(error)[:200]})")
    if not isinstance(header, dict):
        fail("the header is not a JSON object")

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("__metadata__ must map strings to strings")

    spans = []                                   # (begin, end, tensor name)
    for tensor, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {tensor!r}: its entry must have exactly dtype, shape and data_offsets, "
                 f"got {str(entry)[:100]}")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES and dtype != _BFLOAT16:
            fail(f"tensor {tensor!r} has dtype {str(dtype)[:20]!r}, which minigrad does not read "
                 f"(it reads {', '.join(list(DTYPES) + [_BFLOAT16])})")
        if not (isinstance(shape, list) and len(shape) <= MAX_DIMS
                and all(_is_count(size) for size in shape)):
            fail(f"tensor {tensor!r}: shape must be a list of at most {MAX_DIMS} non-negative "
                 f"integers, got {str(shape)[:100]}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))
                and offsets[0] <= offsets[1] <= len(data)):
            fail(f"tensor {tensor!r}: data_offsets {str(offsets)[:100]} are not a range inside the "
                 f"{len(data)} data bytes (truncated or corrupt)")
        itemsize = 2 if dtype == _BFLOAT16 else DTYPES[dtype].itemsize
        expected = math.prod(shape) * itemsize       # Python ints: no overflow, nothing allocated
        if offsets[1] - offsets[0] != expected:
            fail(f"tensor {tensor!r}: shape {shape} of {dtype} needs {expected} bytes, but its "
                 f"data_offsets {offsets} hold {offsets[1] - offsets[0]}")
        spans.append((offsets[0], offsets[1], tensor))

    position = 0                                 # the ranges must tile the data exactly
    for begin, end, tensor in sorted(spans):
        if begin < position:
            fail(f"tensor {tensor!r}'s bytes [{begin}, {end}) overlap another tensor's (tampered)")
        if begin > position:
            fail(f"bytes [{position}, {begin}) belong to no tensor (corrupt)")
        position = end
    if position != len(data):
        fail(f"the last {len(data) - position} data bytes belong to no tensor (corrupt)")

    arrays = {}
    for begin, end, tensor in spans:             # in header order
        shape = header[tensor]["shape"]
        dtype = header[tensor]["dtype"]
        if dtype == _BFLOAT16:
            halves = np.frombuffer(data[begin:end], dtype="<u2").astype(np.uint32)
            array = (halves << 16).view(np.float32).reshape(shape)
        else:
            stored = np.frombuffer(data[begin:end], dtype=DTYPES[dtype]).reshape(shape)
            array = stored.astype(DTYPES[dtype].newbyteorder("="), copy=True)
            if dtype == "BOOL" and (array.view(np.uint8) > 1).any():
                fail(f"tensor {tensor!r} is BOOL but holds bytes other than 0 and 1 (corrupt)")
        arrays[tensor] = array
    return arrays, metadata


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _from_safetensors(arrays, metadata, name):
    """The saved object: rebuilt from minigrad's structure, else {name: Tensor} in file order."""
    if STRUCTURE_KEY not in metadata:
        return {tensor: Tensor(array) for tensor, array in arrays.items()}
    try:
        structure = json.loads(metadata[STRUCTURE_KEY])
    except (ValueError, RecursionError) as error:
        raise CheckpointError(f"{name}: minigrad's structure metadata is not valid JSON "
                              f"({type(error).__name__})") from None
    if not isinstance(structure, dict) or structure.get("version") != VERSION:
        version = structure.get("version") if isinstance(structure, dict) else None
        raise CheckpointError(f"{name}: structure version {version!r} is not supported (this "
                              f"minigrad reads version {VERSION})")

    def fetch(node):
        tensor = node.get("name")
        if not isinstance(tensor, str) or tensor not in arrays:
            decoder.fail(f"the structure refers to a missing tensor {str(tensor)[:100]!r} "
                         f"(truncated or tampered)")
        return arrays[tensor]

    decoder = _Decoder(fetch, name)
    obj = decoder.decode(structure.get("root"), 0)
    unused = set(arrays) - decoder.used
    if unused:
        decoder.fail(f"tensors {sorted(unused)[:5]} are in the file but not in its structure "
                     f"(tampered)")
    return obj


class _Decoder:
    """Rebuilds an object from its JSON nodes; `fetch(node)` returns a node's array."""

    def __init__(self, fetch, name):
        self.fetch = fetch
        self.name = name
        self.used = set()

    def fail(self, message):
        raise CheckpointError(f"{self.name}: {message}")

    def _array(self, node):
        key = node.get("name", node.get("array"))
        if isinstance(key, str) and key in self.used:
            self.fail(f"the structure uses array {key!r} twice (tampered)")
        array = self.fetch(node)
        self.used.add(key)
        return array

    def decode(self, node, depth):
        if depth > MAX_DEPTH:
            self.fail(f"the structure is nested more than {MAX_DEPTH} deep (tampered)")
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            self.fail(f"malformed structure node {str(node)[:80]!r}")
        kind = node["type"]
        value = node.get("value")
        if kind == "none":
            return None
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "int" and isinstance(value, str) and len(value) < 1000:
            try:
                return int(value)
            except ValueError:
                pass
        if kind == "float" and isinstance(value, str):
            try:
                return float.fromhex(value)
            except (ValueError, OverflowError):
                pass
        if kind == "str" and isinstance(value, str):
            return value
        if kind == "tensor":
            array = self._array(node)
            requires_grad = node.get("requires_grad") is True and array.dtype.kind == "f"
            return Tensor(array, requires_grad=requires_grad)
        if kind == "ndarray":
            return self._array(node)
        if kind == "npscalar":
            array = self._array(node)
            if array.ndim != 0:
                self.fail(f"a NumPy scalar with shape {array.shape} (tampered)")
            return array[()]
        if kind in ("list", "tuple") and isinstance(node.get("items"), list):
            items = [self.decode(item, depth + 1) for item in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(node.get("items"), list):
            result = {}
            for pair in node["items"]:
                if not isinstance(pair, list) or len(pair) != 2:
                    self.fail("malformed dict entry in the structure")
                key = self.decode(pair[0], depth + 1)
                if key is not None and not isinstance(key, (str, int, float, bool)):
                    self.fail(f"dict key of type {type(key).__name__} in the structure (tampered)")
                result[key] = self.decode(pair[1], depth + 1)
            return result
        self.fail(f"malformed structure node of type {kind[:40]!r}")


# ----------------------------------------------- format version 1: .npz + manifest
# Exceptions zipfile and NumPy's .npy header parser raise for damaged input.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OverflowError, EOFError,
                   OSError, NotImplementedError, RuntimeError, KeyError, TypeError, SyntaxError,
                   RecursionError, MemoryError)
_LEGACY_MANIFEST = "__manifest__"


def _load_npz(raw, name):
    """A checkpoint of format version 1: an uncompressed .npz with a JSON ``__manifest__``."""
    def fail(message):
        raise CheckpointError(f"{name}: {message}")

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
            if any(info.filename.endswith("data.pkl") for info in infos):
                fail(f"was written by torch.save (pickles inside a zip); minigrad never "
                     f"unpickles. {_TORCH_HINT}")
            members = {}
            for info in infos:
                # np.savez stores members uncompressed, so no member is bigger than the file.
                if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED \
                        or info.file_size != info.compress_size or info.file_size > len(raw):
                    fail(f"member {info.filename[:100]!r} is not an uncompressed .npy array (not "
                         f"written by minigrad.save)")
                members[info.filename[:-4]] = archive.read(info)       # checks the CRC
    except CheckpointError:
        raise
    except _ARCHIVE_ERRORS as error:
        fail(f"is truncated or corrupt ({type(error).__name__}: {str(error)[:200]})")
    if _LEGACY_MANIFEST not in members:
        fail("has no minigrad manifest (not written by minigrad.save, or truncated)")

    manifest_bytes = _parse_npy(members[_LEGACY_MANIFEST], _LEGACY_MANIFEST, fail)
    if manifest_bytes.dtype != np.uint8 or manifest_bytes.ndim != 1:
        fail("the manifest is malformed (tampered)")
    try:
        manifest = json.loads(manifest_bytes.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:
        fail(f"the manifest is not valid JSON ({type(error).__name__}: {str(error)[:200]})")
    if not isinstance(manifest, dict) or manifest.get("format") != "minigrad-checkpoint":
        fail("not a minigrad checkpoint manifest")
    if manifest.get("version") != 1:
        fail(f"checkpoint format version {str(manifest.get('version'))[:20]} is not supported")

    def fetch(node):
        member = node.get("array")
        if not isinstance(member, str) or member == _LEGACY_MANIFEST or member not in members:
            fail(f"manifest refers to a missing array {str(member)[:100]!r} (file truncated or "
                 f"tampered)")
        array = _parse_npy(members[member], member, fail)
        if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
            fail(f"array {member!r} is {array.dtype.str}{list(array.shape)}, the manifest says "
                 f"{str(node.get('dtype'))[:20]}{str(node.get('shape'))[:100]} (tampered)")
        if hashlib.sha256(np.asarray(array, order="C").tobytes()).hexdigest() != node.get("sha256"):
            fail(f"array {member!r} does not match its SHA-256 in the manifest (corrupt or tampered)")
        return array

    return _Decoder(fetch, name).decode(manifest.get("root"), 0)


def _parse_npy(data, member, fail):
    """The array in one .npy member, its header checked against its size before anything is allocated."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            fail(f"array {member!r} has .npy format version {version}, which is not supported")
        shape, fortran_order, dtype = read_header(stream)
    except CheckpointError:
        raise
    except _ARCHIVE_ERRORS as error:
        fail(f"array {member!r} has a corrupt .npy header ({type(error).__name__}: "
             f"{str(error)[:200]})")
    if dtype.hasobject:
        fail(f"array {member!r} holds Python objects, which could only be read by unpickling; "
             f"minigrad checkpoints never contain pickled objects, so this file was not written "
             f"by minigrad.save or was tampered with")
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - stream.tell() != expected:
        fail(f"array {member!r} declares shape {shape} of {dtype} ({expected} bytes), but holds "
             f"{len(data) - stream.tell()} bytes (truncated or tampered)")
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C").copy()
