"""minigrad.save / minigrad.load: checkpoints that never unpickle.

A checkpoint is a NumPy ``.npz`` archive (a zip file) holding
- one array member per Tensor / ndarray in the saved object (``a0``, ``a1``, ...),
- ``__manifest__``: UTF-8 JSON (stored as a uint8 array) describing the nested
  structure: dicts (str/int/float/bool/None keys), lists, tuples, Tensors,
  arrays, NumPy scalars, ints, floats (as exact hex), bools, strings and None,
  plus each array's dtype, shape and SHA-256.

Loading uses ``np.load(..., allow_pickle=False)``: NumPy refuses object
arrays, so a file cannot make ``load`` run code, whatever it contains. The
manifest is validated node by node and every array is checked against its
recorded dtype, shape and hash, so truncated or tampered files raise
``CheckpointError`` naming the file and the problem.

Saving is atomic: the archive is written to a temporary file in the target's
directory, flushed and fsync'ed, then renamed over the target with
``os.replace``. A crash (or exception) mid-save leaves the previous checkpoint
untouched.
"""
import hashlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_MANIFEST = "__manifest__"


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupt, tampered with, or not a minigrad checkpoint."""


# ---------------------------------------------------------------- encoding
class _Encoder:
    """Walks the object, collecting arrays and building the JSON manifest."""

    def __init__(self):
        self.arrays = {}

    def _add_array(self, array):
        if array.dtype.hasobject or array.dtype.kind not in "biufcUS":
            raise TypeError(f"minigrad.save can't store arrays of dtype {array.dtype} "
                            f"(only numeric, bool and string arrays)")
        name = f"a{len(self.arrays)}"
        array = np.asarray(array, order="C")  # not ascontiguousarray: it makes 0-d 1-d
        self.arrays[name] = array
        return {"array": name, "dtype": array.dtype.str, "shape": list(array.shape),
                "sha256": hashlib.sha256(array.tobytes()).hexdigest()}

    def encode(self, obj, where="obj"):
        # bool before int: bool is a subclass of int.
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, bool):
            return {"type": "bool", "value": obj}
        if isinstance(obj, int):
            return {"type": "int", "value": str(obj)}  # str: JSON readers may round big ints
        if isinstance(obj, float):
            return {"type": "float", "value": obj.hex()}  # exact, and covers nan/inf
        if isinstance(obj, str):
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            node = self._add_array(obj.array)
            node.update(type="tensor", requires_grad=bool(obj.requires_grad))
            return node
        if isinstance(obj, np.ndarray):
            node = self._add_array(obj)
            node["type"] = "ndarray"
            return node
        if isinstance(obj, np.generic):
            node = self._add_array(np.asarray(obj))
            node["type"] = "npscalar"
            return node
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if key is not None and not isinstance(key, (str, int, float, bool)):
                    raise TypeError(f"minigrad.save: dict keys must be str, int, float, bool or "
                                    f"None, got {type(key).__name__} key {key!r} in {where}")
                items.append([self.encode(key, where), self.encode(value, f"{where}[{key!r}]")])
            return {"type": "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {"type": kind,
                    "items": [self.encode(item, f"{where}[{i}]") for i, item in enumerate(obj)]}
        raise TypeError(f"minigrad.save can't store {type(obj).__name__} (at {where}); it stores "
                        f"nested dicts/lists/tuples of Tensors, arrays, numbers, strings, "
                        f"bools and None")


def save(obj, f):
    """Save `obj` (e.g. ``{'model': model.state_dict(), 'optimizer': opt.state_dict()}``) to `f`.

    `f` is a path (written atomically) or a binary file object.
    """
    encoder = _Encoder()
    manifest = {"format": FORMAT, "version": VERSION, "root": encoder.encode(obj)}
    manifest_bytes = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    members = dict(encoder.arrays)
    members[_MANIFEST] = manifest_bytes

    if hasattr(f, "write"):
        _write_archive(f, members)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            _write_archive(temp_file, members)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _write_archive(file, members):
    np.savez(file, allow_pickle=False, **members)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, archive, name):
        self.archive = archive
        self.name = name
        self.used = set()

    def fail(self, message):
        raise CheckpointError(f"{self.name}: {message}")

    def _array(self, node):
        member = node.get("array")
        if not isinstance(member, str) or member == _MANIFEST or member not in self.archive.files:
            self.fail(f"manifest refers to a missing array {member!r} (file truncated or tampered)")
        if member in self.used:
            self.fail(f"manifest uses array {member!r} twice (tampered)")
        self.used.add(member)
        try:
            array = self.archive[member]
        except ValueError as error:  # NumPy refuses object (pickled) arrays here
            self.fail(f"array {member!r} could not be read safely ({error}); minigrad checkpoints "
                      f"never contain pickled objects, so this file was not written by "
                      f"minigrad.save or was tampered with")
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            self.fail(f"array {member!r} is corrupt ({type(error).__name__}: {error})")
        if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
            self.fail(f"array {member!r} is {array.dtype.str}{list(array.shape)}, the manifest "
                      f"says {node.get('dtype')}{node.get('shape')} (tampered)")
        if hashlib.sha256(np.asarray(array, order="C").tobytes()).hexdigest() != node.get("sha256"):
            self.fail(f"array {member!r} does not match its SHA-256 in the manifest (corrupt or "
                      f"tampered)")
        return array

    def decode(self, node):
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            self.fail(f"malformed manifest node {str(node)[:80]!r}")
        kind = node["type"]
        value = node.get("value")
        if kind == "none":
            return None
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "int" and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        if kind == "float" and isinstance(value, str):
            try:
                return float.fromhex(value)
            except ValueError:
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
            return self._array(node)[()]
        if kind in ("list", "tuple") and isinstance(node.get("items"), list):
            items = [self.decode(item) for item in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(node.get("items"), list):
            result = {}
            for pair in node["items"]:
                if not isinstance(pair, list) or len(pair) != 2:
                    self.fail("malformed dict entry in the manifest")
                key = self.decode(pair[0])
                if key is not None and not isinstance(key, (str, int, float, bool)):
                    self.fail(f"dict key of type {type(key).__name__} in the manifest (tampered)")
                result[key] = self.decode(pair[1])
            return result
        self.fail(f"malformed manifest node of type {kind!r}")


def load(f):
    """Load an object saved by ``minigrad.save``; saved Tensors come back as Tensors.

    Raises CheckpointError (a ValueError) for truncated, corrupt, tampered or
    foreign files, including files that contain pickled objects: nothing in
    the file is ever unpickled or executed.
    """
    name = repr(os.fspath(f)) if not hasattr(f, "read") else "checkpoint"
    if not hasattr(f, "read"):
        with open(os.fspath(f), "rb") as file:
            raw = file.read()
    else:
        raw = f.read()
    if not raw.startswith(b"PK"):
        kind = "a pickle (e.g. torch.save output)" if raw[:1] == b"\x80" else "not a zip archive"
        raise CheckpointError(f"{name} is not a minigrad checkpoint: {kind}; minigrad.load "
                              f"reads only files written by minigrad.save")
    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise CheckpointError(f"{name} is truncated or corrupt: {error}") from None
    with archive:
        if not isinstance(archive, np.lib.npyio.NpzFile) or _MANIFEST not in archive.files:
            raise CheckpointError(f"{name} has no minigrad manifest (not written by minigrad.save, "
                                  f"or truncated)")
        decoder = _Decoder(archive, name)
        try:
            manifest_bytes = archive[_MANIFEST]
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
            raise CheckpointError(f"{name}: the manifest is corrupt ({error})") from None
        if manifest_bytes.dtype != np.uint8 or manifest_bytes.ndim != 1:
            raise CheckpointError(f"{name}: the manifest is malformed (tampered)")
        try:
            manifest = json.loads(manifest_bytes.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CheckpointError(f"{name}: the manifest is not valid JSON ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise CheckpointError(f"{name}: not a minigrad checkpoint manifest")
        if manifest.get("version") != VERSION:
            raise CheckpointError(f"{name}: checkpoint format version {manifest.get('version')!r} "
                                  f"is not supported (this minigrad reads version {VERSION})")
        return decoder.decode(manifest.get("root"))
