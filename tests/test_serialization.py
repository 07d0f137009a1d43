"""minigrad.save / minigrad.load: round trips, atomic writes, and no unpickling ever."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad import optim, serialization
from minigrad.serialization import CheckpointError


def sample_checkpoint():
    weight = minigrad.randn(3, 4, requires_grad=True)
    return {
        "model": {"layer.weight": weight, "layer.bias": minigrad.zeros(4),
                  "bn.num_batches_tracked": minigrad.tensor(7)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": minigrad.ones(3, 4)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
                                        "params": [0]}]},
        "epoch": 12, "best": float("inf"), "loss": 0.1 + 0.2, "huge": 2 ** 100,
        "name": "run-π", "notes": None, "flags": [True, False],
        "array": np.arange(6, dtype=np.int16).reshape(2, 3), "scalar": np.float32(0.5),
        "strings": np.array(["a", "bc"]), 2.5: "float key", None: "none key",
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.array, b.array)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def test_round_trip_keeps_structure_types_and_values(tmp_path):
    checkpoint = sample_checkpoint()
    path = tmp_path / "model.ckpt"
    minigrad.save(checkpoint, path)
    loaded = minigrad.load(path)
    assert_same(checkpoint, loaded)
    assert isinstance(loaded["model"]["layer.weight"], minigrad.Tensor)
    assert loaded["model"]["layer.weight"].requires_grad
    assert loaded["loss"] == 0.1 + 0.2                      # bit-exact floats
    assert 0 in loaded["optimizer"]["state"]                # int keys stay ints
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    # loaded tensors don't share memory with the saved ones
    loaded["model"]["layer.bias"].array[0] = 5
    assert checkpoint["model"]["layer.bias"].array[0] == 0


def test_file_objects_and_nan(tmp_path):
    buffer = io.BytesIO()
    minigrad.save([float("nan"), -0.0], buffer)
    buffer.seek(0)
    value = minigrad.load(buffer)
    assert np.isnan(value[0]) and str(value[1]) == "-0.0"


@pytest.mark.parametrize("obj, match", [
    (object(), "can't store object"),
    ({"f": lambda: 0}, "can't store function"),
    ({(1, 2): 3}, "dict keys"),
    (np.array([{}, 1], dtype=object), "dtype object"),
])
def test_unsupported_objects_raise_before_writing(tmp_path, obj, match):
    path = tmp_path / "x.ckpt"
    with pytest.raises(TypeError, match=match):
        minigrad.save(obj, path)
    assert not os.listdir(tmp_path)


def test_optimizer_state_survives_a_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    target = rng.standard_normal(5)

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((params[0] - minigrad.tensor(target)) ** 2).sum().backward()
            opt.step()

    straight = [minigrad.zeros(5, dtype=minigrad.float64, requires_grad=True)]
    train(straight, optim.Adam(straight, lr=0.1, amsgrad=True), 10)

    params = [minigrad.zeros(5, dtype=minigrad.float64, requires_grad=True)]
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    train(params, opt, 4)
    minigrad.save({"params": params, "optimizer": opt.state_dict()}, tmp_path / "ckpt")

    checkpoint = minigrad.load(tmp_path / "ckpt")
    params = [minigrad.tensor(p.array, requires_grad=True) for p in checkpoint["params"]]
    opt = optim.Adam(params, lr=0.5)
    opt.load_state_dict(checkpoint["optimizer"])
    assert opt.param_groups[0]["lr"] == 0.1 and opt.state[params[0]]["step"] == 4
    train(params, opt, 6)
    np.testing.assert_allclose(params[0].array, straight[0].array, rtol=1e-13)


# ----------------------------------------------------------------- atomicity
def test_failure_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.ckpt"
    minigrad.save({"epoch": 1, "w": minigrad.ones(3)}, path)
    before = path.read_bytes()

    def crash_halfway(file, members):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed mid-save")
    monkeypatch.setattr(serialization, "_write_archive", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        minigrad.save({"epoch": 2, "w": minigrad.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert minigrad.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["latest.ckpt"]          # no temp file left behind

    def fsync_fails(fd):
        raise OSError("disk full")
    monkeypatch.setattr(serialization.os, "fsync", fsync_fails)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"epoch": 3}, path)
    monkeypatch.undo()
    assert minigrad.load(path)["epoch"] == 1 and os.listdir(tmp_path) == ["latest.ckpt"]


# --------------------------------------------------- damaged and hostile files
def test_truncated_file_raises_clearly(tmp_path):
    path = tmp_path / "ckpt"
    minigrad.save(sample_checkpoint(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated|corrupt|manifest"):
            minigrad.load(path)


def test_flipped_byte_is_detected(tmp_path):
    path = tmp_path / "ckpt"
    minigrad.save({"w": minigrad.tensor(np.arange(1000, dtype=np.float64))}, path)
    data = bytearray(path.read_bytes())
    position = data.index(np.float64(500).tobytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        minigrad.load(path)


def rewrite_member(path, name, array):
    """Replace one array of a checkpoint with a valid-looking one (fresh zip CRCs)."""
    with np.load(path) as archive:
        members = {key: archive[key] for key in archive.files}
    members[name] = array
    with open(path, "wb") as file:
        np.savez(file, **members)


def test_tampered_array_or_manifest_is_detected(tmp_path):
    path = tmp_path / "ckpt"
    minigrad.save({"w": minigrad.ones(4)}, path)
    rewrite_member(path, "a0", np.full(4, 2.0, dtype=np.float32))
    with pytest.raises(CheckpointError, match="SHA-256"):
        minigrad.load(path)
    rewrite_member(path, "a0", np.ones(5, dtype=np.float32))
    with pytest.raises(CheckpointError, match="the manifest says"):
        minigrad.load(path)
    manifest = {"format": "minigrad-checkpoint", "version": 1,
                "root": {"type": "tensor", "array": "a9"}}
    rewrite_member(path, "__manifest__", np.frombuffer(json.dumps(manifest).encode(), np.uint8))
    with pytest.raises(CheckpointError, match="missing array"):
        minigrad.load(path)
    rewrite_member(path, "__manifest__", np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        minigrad.load(path)


class _CreatesMarkerWhenUnpickled:
    """Unpickling this calls open(marker, 'w'): the file appearing would prove code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_smuggled_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _CreatesMarkerWhenUnpickled(marker)
    manifest = {"format": "minigrad-checkpoint", "version": 1,
                "root": {"type": "ndarray", "array": "a0", "dtype": "|O", "shape": [1],
                         "sha256": ""}}
    path = tmp_path / "evil.ckpt"
    with open(path, "wb") as file:
        np.savez(file, a0=payload,
                 __manifest__=np.frombuffer(json.dumps(manifest).encode(), np.uint8))
    # sanity: the payload really would create the marker if unpickled
    with zipfile.ZipFile(path) as archive:
        assert b"pwned" in archive.read("a0.npy")

    with pytest.raises(CheckpointError, match="pickled objects"):
        minigrad.load(path)
    assert not marker.exists()

    # a plain pickle file (what torch.save writes) is refused before anything is parsed
    path.write_bytes(pickle.dumps({"w": _CreatesMarkerWhenUnpickled(marker)}))
    with pytest.raises(CheckpointError, match="pickle"):
        minigrad.load(path)
    assert not marker.exists()


def test_foreign_files_are_refused(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.arange(3))
    with pytest.raises(CheckpointError, match="no minigrad manifest"):
        minigrad.load(path)
    path.write_text("hello")
    with pytest.raises(CheckpointError, match="not a zip archive"):
        minigrad.load(path)
