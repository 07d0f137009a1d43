"""minigrad.save / minigrad.load: safetensors round trips, atomic writes, hostile files, no unpickling."""
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim, serialization
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
        "half": np.array([1.5, -2.0], dtype=np.float16), "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.float64), 2.5: "float key", None: "none key",
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
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


def header_of(path):
    raw = Path(path).read_bytes()
    length = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + length]), raw[8 + length:]


# ------------------------------------------------------------------ round trips
def test_round_trip_keeps_structure_types_and_values(tmp_path):
    checkpoint = sample_checkpoint()
    path = tmp_path / "model.safetensors"
    minigrad.save(checkpoint, path)
    loaded = minigrad.load(path)
    assert_same(checkpoint, loaded)
    assert loaded["model"]["layer.weight"].requires_grad
    assert loaded["loss"] == 0.1 + 0.2                      # bit-exact floats
    assert 0 in loaded["optimizer"]["state"]                # int keys stay ints
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    loaded["model"]["layer.bias"].numpy()[0] = 5            # no memory shared with the saved ones
    assert checkpoint["model"]["layer.bias"].numpy()[0] == 0


def test_file_is_plain_safetensors_with_state_dict_keys(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    state = model.state_dict()
    path = tmp_path / "cnn.safetensors"
    minigrad.save(state, path)
    header, data = header_of(path)
    assert set(header) - {"__metadata__"} == set(state)
    assert header["0.weight"]["dtype"] == "F32" and header["0.weight"]["shape"] == [2, 1, 3, 3]
    assert header["1.num_batches_tracked"] == {"dtype": "I64", "shape": [],
                                               "data_offsets": header["1.num_batches_tracked"]
                                               ["data_offsets"]}
    begin, end = header["3.bias"]["data_offsets"]
    np.testing.assert_array_equal(np.frombuffer(data[begin:end], "<f4"), state["3.bias"].numpy())
    assert int.from_bytes(Path(path).read_bytes()[:8], "little") % 8 == 0    # tensors stay aligned
    for entry in (e for k, e in header.items() if k != "__metadata__"):
        assert entry["data_offsets"][0] % serialization.DTYPES[entry["dtype"]].itemsize == 0
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    fresh.load_state_dict(minigrad.load(path))
    x = minigrad.randn(2, 1, 4, 4)
    model.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_foreign_safetensors_loads_as_flat_dict_and_bfloat16_as_float32(tmp_path):
    values = np.array([1.0, -2.5, 2.0 ** 120], dtype=np.float32)     # exact in bfloat16
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")
    header = {"__metadata__": {"format": "pt"},
              "w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]},
              "i": {"dtype": "I32", "shape": [1, 2], "data_offsets": [6, 14]}}
    path = tmp_path / "foreign.safetensors"
    write_raw(path, header, bf16.tobytes() + np.array([[7, -8]], "<i4").tobytes())
    loaded = minigrad.load(path)
    assert list(loaded) == ["w", "i"]
    assert loaded["w"].dtype == minigrad.float32 and loaded["i"].dtype == np.int32
    np.testing.assert_array_equal(loaded["w"].numpy(), values)
    np.testing.assert_array_equal(loaded["i"].numpy(), [[7, -8]])
    arrays, metadata = serialization.read_safetensors(path)
    assert metadata == {"format": "pt"} and set(arrays) == {"w", "i"}


def test_file_objects_tensor_root_and_nan():
    buffer = io.BytesIO()
    minigrad.save([float("nan"), -0.0, minigrad.arange(3)], buffer)
    buffer.seek(0)
    value = minigrad.load(buffer)
    assert np.isnan(value[0]) and str(value[1]) == "-0.0"
    np.testing.assert_array_equal(value[2].numpy(), [0, 1, 2])
    buffer = io.BytesIO()
    minigrad.save(minigrad.ones(2, 2), buffer)
    buffer.seek(0)
    assert_same(minigrad.load(buffer), minigrad.ones(2, 2))


def test_colliding_tensor_names_stay_apart(tmp_path):
    obj = {"a.b": minigrad.ones(1), "a": {"b": minigrad.zeros(1)}, "__metadata__": minigrad.ones(2)}
    minigrad.save(obj, tmp_path / "x")
    assert_same(minigrad.load(tmp_path / "x"), obj)


@pytest.mark.parametrize("obj, match", [
    (object(), "can't store object"),
    ({"f": lambda: 0}, "can't store function"),
    ({(1, 2): 3}, "dict keys"),
    (np.array([{}, 1], dtype=object), "dtype object"),
    (np.array(["a", "bc"]), "dtype <U2"),
    (np.ones(2, dtype=np.complex64), "dtype complex64"),
])
def test_unsupported_objects_raise_before_writing(tmp_path, obj, match):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=match):
        minigrad.save(obj, path)
    assert not os.listdir(tmp_path)


def test_whole_module_or_optimizer_points_to_state_dict(tmp_path):
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"Linear object.*never pickles.*model\.state_dict\(\)"):
        minigrad.save(model, tmp_path / "m")
    with pytest.raises(TypeError, match=r"SGD object .*\['opt'\]"):
        minigrad.save({"opt": optim.SGD(model.parameters(), lr=0.1)}, tmp_path / "m")
    assert not os.listdir(tmp_path)


def test_too_deep_nesting_is_refused_when_saving(tmp_path):
    nested = []
    for _ in range(serialization.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(ValueError, match="nested more than"):
        minigrad.save(nested, tmp_path / "deep")


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
    minigrad.save(opt.state_dict(), tmp_path / "optimizer.safetensors")
    minigrad.save(params, tmp_path / "params.safetensors")

    params = [minigrad.tensor(p.detach().numpy(), requires_grad=True)
              for p in minigrad.load(tmp_path / "params.safetensors")]
    opt = optim.Adam(params, lr=0.5)
    opt.load_state_dict(minigrad.load(tmp_path / "optimizer.safetensors"))
    assert opt.param_groups[0]["lr"] == 0.1 and opt.state[params[0]]["step"] == 4
    train(params, opt, 6)
    np.testing.assert_allclose(params[0].detach().numpy(), straight[0].detach().numpy(),
                               rtol=1e-13)


def test_weights_only_and_map_location_as_in_torch(tmp_path):
    path = tmp_path / "w"
    minigrad.save({"w": minigrad.ones(2)}, path)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                   {"map_location": {"cuda:0": "cpu"}}, {"map_location": None}):
        assert_same(minigrad.load(path, **kwargs), {"w": minigrad.ones(2)})
    calls = []
    loaded = minigrad.load(path, map_location=lambda tensor, location: calls.append(location)
                           or tensor * 2)
    assert calls == ["cpu"]
    np.testing.assert_array_equal(loaded["w"].numpy(), [2, 2])
    with pytest.raises(RuntimeError, match="CPU only"):
        minigrad.load(path, map_location="cuda:0")
    with pytest.raises(TypeError, match="weights_only"):
        minigrad.load(path, weights_only="yes")
    # weights_only=False never enables pickle
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps({"w": _CreatesMarkerWhenUnpickled(marker)}))
    with pytest.raises(CheckpointError, match="never unpickles"):
        minigrad.load(path, weights_only=False)
    assert not marker.exists()


# ------------------------------------------------------------- PyTorch interchange
class _TorchCNN:
    """The same small CNN in minigrad and in PyTorch: identical state_dict keys."""

    @staticmethod
    def layers(nn_module):
        return nn_module.Sequential(
            nn_module.Conv2d(1, 4, 3, padding=1), nn_module.BatchNorm2d(4), nn_module.ReLU(),
            nn_module.MaxPool2d(2), nn_module.Conv2d(4, 6, 3, stride=2), nn_module.ReLU(),
            nn_module.Flatten(), nn_module.Linear(6, 3))


def test_round_trip_minigrad_pytorch_minigrad(tmp_path):
    torch = pytest.importorskip("torch")
    try:
        from safetensors.torch import load_file, save_file
    except ImportError:              # PyTorch without the safetensors package: minigrad's reader
        def load_file(path):
            return {k: torch.from_numpy(v) for k, v in serialization.read_safetensors(path)[0].items()}

        def save_file(tensors, path):
            with open(path, "wb") as file:
                serialization.write_safetensors({k: v.numpy() for k, v in tensors.items()}, file)

    minigrad.manual_seed(0)
    model = _TorchCNN.layers(nn)
    images = np.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(np.float32)
    model.train()
    model(minigrad.tensor(images))                    # running statistics away from 0 and 1
    model.eval()
    path = tmp_path / "cnn.safetensors"
    minigrad.save(model.state_dict(), path)

    # minigrad -> PyTorch: same keys, same outputs
    torch_model = _TorchCNN.layers(torch.nn)
    torch_model.load_state_dict(load_file(str(path)), strict=True)
    torch_model.eval()
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(torch_out, model(minigrad.tensor(images)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)

    # PyTorch trains a step, saves; minigrad loads: same outputs as PyTorch
    torch_model.train()
    torch.optim.SGD(torch_model.parameters(), lr=0.1).zero_grad()
    loss = torch_model(torch.from_numpy(images)).square().mean()
    loss.backward()
    with torch.no_grad():
        for parameter in torch_model.parameters():
            parameter -= 0.1 * parameter.grad
    torch_model.eval()
    back_path = tmp_path / "from_torch.safetensors"
    save_file({k: v.contiguous() for k, v in torch_model.state_dict().items()}, str(back_path))
    restored = _TorchCNN.layers(nn)
    restored.load_state_dict(minigrad.load(back_path))
    restored.eval()
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(restored(minigrad.tensor(images)).detach().numpy(), torch_out,
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(torch_out, model(minigrad.tensor(images)).detach().numpy())


# ----------------------------------------------------------------- atomic writes
def test_failure_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.safetensors"
    minigrad.save({"epoch": 1, "w": minigrad.ones(3)}, path)
    before = path.read_bytes()

    def crash_halfway(arrays, file, metadata=None):
        file.write(b"half a file")
        raise KeyboardInterrupt("killed mid-save")
    monkeypatch.setattr(serialization, "write_safetensors", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        minigrad.save({"epoch": 2, "w": minigrad.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and minigrad.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["latest.safetensors"]          # no temp file left behind

    def fsync_fails(fd):
        raise OSError("disk full")
    monkeypatch.setattr(serialization.os, "fsync", fsync_fails)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"epoch": 3}, path)
    monkeypatch.undo()
    assert minigrad.load(path)["epoch"] == 1 and os.listdir(tmp_path) == ["latest.safetensors"]


def test_temp_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "latest.safetensors"
    minigrad.save({"epoch": 1}, path)
    # a process killed between writing and renaming (os._exit runs no cleanup, like SIGKILL)
    killed = ("import os, minigrad\n"
              "os.fsync = lambda fd: os._exit(9)\n"
              f"minigrad.save({{'epoch': 2}}, {str(path)!r})\n")
    package_root = str(Path(minigrad.__file__).resolve().parents[1])
    result = subprocess.run([sys.executable, "-c", killed], env=dict(os.environ, PYTHONPATH=package_root),
                            capture_output=True, timeout=60)
    assert result.returncode == 9
    assert len(os.listdir(tmp_path)) == 2                            # the leftover temp file
    (leftover,) = set(os.listdir(tmp_path)) - {"latest.safetensors"}
    other_target = tmp_path / leftover.replace(".latest.safetensors.", ".latest.safetensors.1.", 1)
    other_target.write_bytes(b"another target's temporary file")
    minigrad.save({"epoch": 3}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["latest.safetensors", other_target.name])
    assert minigrad.load(path)["epoch"] == 3


def test_permissions_follow_the_umask_or_the_old_file(tmp_path):
    old_umask = os.umask(0o022)
    try:
        minigrad.save({"epoch": 1}, tmp_path / "new")
        assert (tmp_path / "new").stat().st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "new", 0o640)
        minigrad.save({"epoch": 2}, tmp_path / "new")
        assert (tmp_path / "new").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old_umask)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_saving_to_a_symlink_writes_through_to_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "epoch3.safetensors"
    minigrad.save({"epoch": 3}, target)
    link = tmp_path / "latest.safetensors"
    os.symlink(os.path.join("runs", "epoch3.safetensors"), link)
    minigrad.save({"epoch": 4}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "epoch3.safetensors")
    assert minigrad.load(target)["epoch"] == 4
    assert sorted(os.listdir(tmp_path / "runs")) == ["epoch3.safetensors"]


# ------------------------------------------------- malformed safetensors files
def write_raw(path, header, data=b"", header_bytes=None):
    header_bytes = json.dumps(header).encode() if header_bytes is None else header_bytes
    Path(path).write_bytes(len(header_bytes).to_bytes(8, "little") + header_bytes + data)


def f32(shape, begin, end):
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


@pytest.mark.parametrize("header, data, match", [
    ({"w": f32([2], 0, 8)}, b"\0" * 4, "not a range inside the 4 data bytes"),
    ({"w": f32([2], 0, 8), "v": f32([2], 4, 12)}, b"\0" * 12, "overlap"),
    ({"w": f32([1], 0, 4), "v": f32([1], 8, 12)}, b"\0" * 12, r"bytes \[4, 8\) belong to no"),
    ({"w": f32([1], 0, 4)}, b"\0" * 8, "last 4 data bytes belong to no tensor"),
    ({"w": f32([1], 4, 0)}, b"\0" * 4, "not a range"),
    ({"w": f32([1], -4, 0)}, b"\0" * 4, "not a range"),
    ({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0", "dtype 'F8_E4M3'"),
    ({"w": {"dtype": "OBJECT", "shape": [1], "data_offsets": [0, 1]}}, b"\0", "dtype 'OBJECT'"),
    ({"w": f32([3], 0, 8)}, b"\0" * 8, r"shape \[3\] of F32 needs 12 bytes"),
    ({"w": f32([2 ** 40], 0, 4)}, b"\0" * 4, "needs 4398046511104 bytes"),
    ({"w": f32([2 ** 62, 2 ** 62, 2 ** 62], 0, 4)}, b"\0" * 4, "needs"),
    ({"w": f32([-1], 0, 4)}, b"\0" * 4, "non-negative integers"),
    ({"w": f32([1.0], 0, 4)}, b"\0" * 4, "non-negative integers"),
    ({"w": f32([True], 0, 4)}, b"\0" * 4, "non-negative integers"),
    ({"w": f32([1] * 65, 0, 4)}, b"\0" * 4, "at most 64"),
    ({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "exactly dtype, shape and data_offsets"),
    ({"w": [1, 2]}, b"", "exactly dtype, shape"),
    ({"__metadata__": {"minigrad": 3}}, b"", "strings to strings"),
    ({"__metadata__": {"minigrad": "{not json"}}, b"", "structure metadata is not valid JSON"),
    ({"__metadata__": {"minigrad": '{"version": 9}'}}, b"", "version 9"),
    ({"__metadata__": {"minigrad": '{"version":2,"root":{"type":"tensor","name":"v"}}'},
      "w": f32([1], 0, 4)}, b"\0" * 4, "missing tensor 'v'"),
    ({"__metadata__": {"minigrad": '{"version":2,"root":{"type":"list","items":[]}}'},
      "w": f32([1], 0, 4)}, b"\0" * 4, "not in its structure"),
    ({"__metadata__": {"minigrad": '{"version":2,"root":{"type":"list","items":['
                                   '{"type":"tensor","name":"w"},{"type":"ndarray","name":"w"}]}}'},
      "w": f32([1], 0, 4)}, b"\0" * 4, "twice"),
    ({"__metadata__": {"minigrad": '{"version":2,"root":{"type":"eval","value":"1"}}'}}, b"",
     "malformed structure node"),
    ({"w": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07", "other than 0 and 1"),
])
def test_malformed_header_raises_clearly(tmp_path, header, data, match):
    path = tmp_path / "bad.safetensors"
    write_raw(path, header, data)
    with pytest.raises(CheckpointError, match=match):
        minigrad.load(path)


@pytest.mark.parametrize("raw, match", [
    (b"", "too short"),
    (b"\x05\0\0\0", "too short"),
    ((10 ** 6).to_bytes(8, "little") + b'{"w": 1}', "1000000-byte header, but only 8 bytes follow"),
    ((2 ** 64 - 1).to_bytes(8, "little") + b"{}", "but only 2 bytes follow"),
    ((5).to_bytes(8, "little") + b"[1,2]", "not a JSON object"),
    ((9).to_bytes(8, "little") + b"{not json", "not valid JSON"),
    ((4).to_bytes(8, "little") + b"{\xff\xfe}", "not valid JSON"),
    ((2).to_bytes(8, "little") + b"{}" + b"\0" * 3, "last 3 data bytes"),
    ((15).to_bytes(8, "little") + b'{"a":{},"a":{}}', "names 'a' twice"),
])
def test_malformed_file_raises_clearly(tmp_path, raw, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=match):
        minigrad.load(path)


def test_header_nested_past_the_json_parser_recursion_limit(tmp_path):
    header = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    (tmp_path / "deep").write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(CheckpointError, match="not valid JSON .*RecursionError"):
        minigrad.load(tmp_path / "deep")


def test_deeply_nested_structure_is_refused(tmp_path):
    root = '{"type":"none"}'
    for _ in range(serialization.MAX_DEPTH + 5):
        root = '{"type":"list","items":[' + root + "]}"
    write_raw(tmp_path / "deep", {"__metadata__": {"minigrad": '{"version":2,"root":' + root + "}"}})
    with pytest.raises(CheckpointError, match="nested more than"):
        minigrad.load(tmp_path / "deep")


def assert_only_checkpoint_errors(path, variants):
    """Every damaged variant of a file loads, or raises CheckpointError: never anything else."""
    for raw in variants:
        path.write_bytes(raw)
        try:
            minigrad.load(path)
        except CheckpointError:
            pass


def test_every_truncation_and_flipped_byte_of_a_safetensors_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    minigrad.save({"w": minigrad.ones(2), "step": 3, "betas": (0.5, None), 1: [np.int8(2)]}, path)
    good = path.read_bytes()
    for cut in range(0, len(good), 3):
        path.write_bytes(good[:cut])
        with pytest.raises(CheckpointError):
            minigrad.load(path)
    header_end = 8 + int.from_bytes(good[:8], "little")
    flips = []
    for position in range(0, header_end, 2):
        damaged = bytearray(good)
        damaged[position] ^= 0x01 if position % 4 else 0x80
        flips.append(bytes(damaged))
    assert_only_checkpoint_errors(path, flips)


# ------------------------------------------------------ format version 1: .npz
def write_v1(path, obj_node, arrays, extra_members=None):
    """A checkpoint of minigrad's format version 1 (.npz with a JSON __manifest__), as it wrote them."""
    manifest = {"format": "minigrad-checkpoint", "version": 1, "root": obj_node}
    members = dict(arrays)
    members["__manifest__"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **members)
    if extra_members:
        with zipfile.ZipFile(path, "a") as archive:
            for name, data in extra_members.items():
                archive.writestr(name, data)


def v1_array_node(kind, name, array, **extra):
    import hashlib
    return dict(type=kind, array=name, dtype=array.dtype.str, shape=list(array.shape),
                sha256=hashlib.sha256(array.tobytes()).hexdigest(), **extra)


def v1_checkpoint(path):
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    labels = np.array(["a", "bc"])
    node = {"type": "dict", "items": [
        [{"type": "str", "value": "weight"}, v1_array_node("tensor", "a0", weight, requires_grad=True)],
        [{"type": "str", "value": "labels"}, v1_array_node("ndarray", "a1", labels)],
        [{"type": "int", "value": "0"}, {"type": "float", "value": (0.5).hex()}]]}
    write_v1(path, node, {"a0": weight, "a1": labels})
    return weight, labels


def test_earlier_npz_checkpoints_still_load(tmp_path):
    path = tmp_path / "old.pt"
    weight, labels = v1_checkpoint(path)
    loaded = minigrad.load(path)
    assert list(loaded) == ["weight", "labels", 0] and loaded[0] == 0.5
    assert loaded["weight"].requires_grad
    np.testing.assert_array_equal(loaded["weight"].detach().numpy(), weight)
    np.testing.assert_array_equal(loaded["labels"], labels)


def test_npz_member_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    # a 300-byte .npy member that declares 2**40 float32s: NumPy would try to allocate 4 TiB
    small = np.zeros(50, dtype=np.float32)
    header = np.lib.format.header_data_from_array_1_0(small)
    header["shape"] = (2 ** 40,)
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, header)
    npy = stream.getvalue() + small.tobytes()
    path = tmp_path / "huge.ckpt"
    node = {"type": "ndarray", "array": "a0", "dtype": "<f4", "shape": [2 ** 40], "sha256": ""}
    write_v1(path, node, {}, extra_members={"a0.npy": npy})
    with pytest.raises(CheckpointError, match=r"declares shape \(1099511627776,\)"):
        minigrad.load(path)


def test_npz_members_that_are_not_plain_npy_arrays_are_refused(tmp_path):
    path = tmp_path / "ckpt"
    # a manifest member that is not .npy at all (NumPy hands back raw bytes for it)
    manifest = json.dumps({"format": "minigrad-checkpoint", "version": 1, "root": {"type": "none"}})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__manifest__.npy", manifest)
    with pytest.raises(CheckpointError, match="corrupt .npy header"):
        minigrad.load(path)
    # a compressed member (a zip bomb could declare any size)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__manifest__.npy", b"\0" * 1000)
    with pytest.raises(CheckpointError, match="not an uncompressed .npy"):
        minigrad.load(path)
    # an unknown compression method (zipfile raises NotImplementedError for it)
    v1_checkpoint(path)
    raw = bytearray(path.read_bytes())
    for signature, method_offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            struct.pack_into("<H", raw, start + method_offset, 99)
            start += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        minigrad.load(path)
    # nesting deep enough to overflow the JSON parser's recursion
    deep = np.frombuffer(b'{"format": "minigrad-checkpoint", "root": ' + b"[" * 100_000, np.uint8)
    with open(path, "wb") as file:
        np.savez(file, __manifest__=deep)
    with pytest.raises(CheckpointError, match="RecursionError"):
        minigrad.load(path)


def test_every_truncation_and_flipped_byte_of_an_npz_file(tmp_path):
    path = tmp_path / "old.ckpt"
    v1_checkpoint(path)
    good = path.read_bytes()
    for cut in range(0, len(good), 13):
        path.write_bytes(good[:cut])
        with pytest.raises(CheckpointError):
            minigrad.load(path)
    flips = []
    for position in range(0, len(good), 3):
        damaged = bytearray(good)
        damaged[position] ^= 0x41
        flips.append(bytes(damaged))
    assert_only_checkpoint_errors(path, flips)


def test_tampered_npz_array_is_detected(tmp_path):
    path = tmp_path / "ckpt"
    weight = np.ones(4, dtype=np.float32)
    write_v1(path, v1_array_node("tensor", "a0", weight), {"a0": np.full(4, 2.0, np.float32)})
    with pytest.raises(CheckpointError, match="SHA-256"):
        minigrad.load(path)
    write_v1(path, v1_array_node("tensor", "a0", weight), {"a0": np.ones(5, np.float32)})
    with pytest.raises(CheckpointError, match="the manifest says"):
        minigrad.load(path)
    write_v1(path, {"type": "tensor", "array": "a9"}, {"a0": weight})
    with pytest.raises(CheckpointError, match="missing array"):
        minigrad.load(path)


# ------------------------------------------------------------------ no unpickling
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
    path = tmp_path / "evil.ckpt"
    write_v1(path, {"type": "ndarray", "array": "a0", "dtype": "|O", "shape": [1], "sha256": ""},
             {"a0": payload})
    with zipfile.ZipFile(path) as archive:           # the payload really would run if unpickled
        assert b"pwned" in archive.read("a0.npy")
    with pytest.raises(CheckpointError, match="pickled objects"):
        minigrad.load(path)
    assert not marker.exists()

    # a plain pickle, and a zip of pickles (what torch.save writes), are refused unread
    path.write_bytes(pickle.dumps({"w": _CreatesMarkerWhenUnpickled(marker)}))
    with pytest.raises(CheckpointError, match="pickle.*safetensors"):
        minigrad.load(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(_CreatesMarkerWhenUnpickled(marker)))
    with pytest.raises(CheckpointError, match="torch.save .*save_file"):
        minigrad.load(path)
    assert not marker.exists()


def test_foreign_files_are_refused(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.arange(3))
    with pytest.raises(CheckpointError, match="no minigrad manifest"):
        minigrad.load(path)
    path.write_text("hello, this is not a checkpoint")
    with pytest.raises(CheckpointError, match="header"):
        minigrad.load(path)
