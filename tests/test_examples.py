"""Every example runs end to end in its smoke mode (a tiny subset, one epoch).

Each runs as a subprocess, as a user would start it, with a timeout, and must
print its table and write its outputs (checkpoint, pictures when matplotlib is
installed) into a temporary folder. The Fashion-MNIST examples need the data:
$MINIGRAD_DATA, or ../shared/data beside the repository; without it they are
skipped.
"""
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def fashion_mnist_root():
    """A folder holding fashion-mnist/ (or the files themselves), or None."""
    for candidate in (os.environ.get("MINIGRAD_DATA"), REPO.parent / "shared" / "data"):
        if not candidate:
            continue
        for folder in (Path(candidate) / "fashion-mnist", Path(candidate)):
            if all((folder / name).exists() or (folder / name[:-3]).exists() for name in FASHION_FILES):
                return str(candidate)
    return None


DATA = fashion_mnist_root()
needs_data = pytest.mark.skipif(DATA is None,
                                reason="Fashion-MNIST not found ($MINIGRAD_DATA or ../shared/data)")


def run_example(script, *args, out, timeout=150, env=None):
    """Run examples/<script> with args and --out; returns its stdout (fails on a non-zero exit)."""
    environment = dict(os.environ if env is None else env)
    # the minigrad these tests import, wherever it lives (source tree or installed)
    package_root = str(Path(minigrad.__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, environment.get("PYTHONPATH")]))
    environment["MPLBACKEND"] = "Agg"
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--out", str(out)],
                            cwd=out, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    # not a terminal: no progress bar, so no carriage-return fragments in a log
    assert "\r" not in result.stdout and "\r" not in result.stderr
    return result.stdout


def check_picture(path):
    if HAVE_MATPLOTLIB:
        assert path.exists() and path.stat().st_size > 1000, f"{path} missing"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_data
def test_mnist_knn_smoke(tmp_path):
    stdout = run_example("mnist_knn.py", "--dataset", "fashion-mnist", "--data-dir", DATA, "--smoke",
                         "--compare", "--threads", "2", out=tmp_path)
    for row in ("k-NN on raw pixels", "softmax head", "k-NN on learned embeddings"):
        assert row in stdout
    epoch_lines = [line for line in stdout.splitlines() if " epoch 1/1: " in line]
    assert [line.split(" epoch")[0] for line in epoch_lines] == ["softmax", "k-NN"]
    assert all(" img/s, " in line and "loss " in line for line in epoch_lines)
    checkpoint = minigrad.load(str(tmp_path / "fashion-mnist_knn.safetensors"))
    assert checkpoint["embed_dim"] == 64
    assert "embed.weight" in checkpoint["model"]
    assert 0.0 <= checkpoint["test_accuracy"] <= 1.0
    check_picture(tmp_path / "fashion-mnist_knn.png")


@needs_data
def test_mnist_knn_memory_bank_and_softmax_weighting(tmp_path):
    stdout = run_example("mnist_knn.py", "--dataset", "fashion-mnist", "--data-dir", DATA, "--smoke",
                         "--memory", "256", "--weighting", "softmax", "--temperature", "0.5", out=tmp_path)
    assert "k-NN on learned embeddings (k=20, softmax)" in stdout


def test_mnist_knn_missing_data_says_how_to_proceed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_DATA"}
    env["HOME"] = str(tmp_path)               # no ~/.cache/minigrad either
    empty = tmp_path / "empty"
    empty.mkdir()
    environment = dict(env, PYTHONPATH=str(Path(minigrad.__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, str(EXAMPLES / "mnist_knn.py"), "--data-dir", str(empty),
                             "--no-download", "--out", str(tmp_path)],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    message = result.stderr
    assert "Traceback" not in message
    assert message.count("Could not find or download MNIST") == 1
    assert "--dataset fashion-mnist" in message and "dataset-fashion-mnist" in message
    assert "--data-dir" in message and "MINIGRAD_DATA" in message


@needs_data
def test_checkerboard_smoke(tmp_path):
    stdout = run_example("checkerboard.py", "--data-dir", DATA, "--smoke", out=tmp_path)
    for row in ("transposed k=3", "transposed k=4", "resize-conv", "pixel shuffle", "PSNR"):
        assert row in stdout
    check_picture(tmp_path / "checkerboard.png")


def test_conv_bn_fusion_outputs_match(tmp_path):
    stdout = run_example("conv_bn_fusion.py", "--smoke", out=tmp_path)
    assert "fused" in stdout and "speedup" in stdout


def test_weight_decay_vs_l2(tmp_path):
    stdout = run_example("weight_decay_vs_l2.py", "--smoke", out=tmp_path)
    lines = {line.split("  ")[0]: line.split() for line in stdout.splitlines()}
    # SGD: weight decay == L2 exactly (float64); Adam + L2 != AdamW
    assert float(lines["SGD weight_decay vs SGD + L2"][-3]) < 1e-12
    assert float(lines["Adam weight_decay vs Adam + L2"][-3]) < 1e-10
    assert float(lines["Adam + L2 vs AdamW"][-3]) > 1e-4
    check_picture(tmp_path / "weight_decay_vs_l2.png")


def test_receptive_field_sizes(tmp_path):
    stdout = run_example("receptive_field.py", "--smoke", out=tmp_path)
    rows = {line[:24].strip(): line.split() for line in stdout.splitlines()}
    # theoretical and measured extents agree: 3x3 dilation 2 -> 5x5; dilations 1,2,4 -> 15x15
    assert rows["3x3, dilation 2"][-5:-3] == ["5x5", "5x5"]
    assert rows["3x3, dilations 1,2,4"][-5:-3] == ["15x15", "15x15"]
    # dilations 2,2,2 span 13x13 but see only every other pixel: 7x7 = 49 of 169
    assert rows["3x3, dilations 2,2,2"][-3:-1] == ["49", "169"]
    check_picture(tmp_path / "receptive_field.png")


def test_architectures_table(tmp_path):
    stdout = run_example("architectures.py", "--smoke", out=tmp_path)
    for row in ("plain", "bottleneck", "depthwise separable", "Fire", "Inception"):
        assert row in stdout


@needs_data
def test_fashion_cnn_smoke(tmp_path):
    stdout = run_example("fashion_cnn.py", "--data-dir", DATA, "--smoke", out=tmp_path)
    assert "PReLU" in stdout and "SqueezeNet" in stdout


def test_segmentation_fcn_smoke(tmp_path):
    stdout = run_example("segmentation_fcn.py", "--smoke", out=tmp_path)
    assert "unpool" in stdout and "transposed" in stdout and "mean IoU" in stdout
    check_picture(tmp_path / "segmentation_fcn.png")


def test_quickstart(tmp_path):
    environment = dict(os.environ, PYTHONPATH=str(Path(minigrad.__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py"), "--steps", "50"], cwd=tmp_path,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "trained in" in result.stdout


def test_notebook_tour_runs_as_a_script(tmp_path):
    source = (EXAMPLES / "notebook_tour.py").read_text()
    assert source.count("\n# %%") >= 8 and "# %% [markdown]" in source     # jupytext percent cells
    stdout = run_example("notebook_tour.py", out=tmp_path)
    cells = [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines()]
    rows = {row[0]: row for row in cells}
    assert rows["transposed k=3"][-2:] == ["1..4", "0.272"]        # uneven overlap: checkerboard
    for kind in ("transposed k=4", "resize-conv", "pixel shuffle"):
        assert rows[kind][-1] == "0.000"
    assert "18 layers -> 12 layers" in stdout and "identical outputs: True" in stdout
    assert rows["3x3, dilations 1,2,4"][-3:-1] == ["15x15", "15x15"]
    assert rows["3x3, dilations 2,2,2"][-3:] == ["13x13", "13x13", "49"]
    assert (tmp_path / "fused_network.safetensors").exists()


def test_progress_draws_a_bar_only_for_a_watcher(monkeypatch, capsys):
    sys.path.insert(0, str(EXAMPLES))
    try:
        import _common
    finally:
        sys.path.remove(str(EXAMPLES))

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, want_bar in ((Terminal(), importlib.util.find_spec("tqdm") is not None),
                             (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        progress = _common.Progress(100, "demo epoch 1/2")
        for _ in range(10):
            progress.update(10, loss=0.5)
        progress.close()
        assert (progress.bar is not None) == want_bar
        assert capsys.readouterr().out.startswith("demo epoch 1/2: loss 0.5, ")
        if not want_bar:
            assert stream.getvalue() == ""


def test_char_rnn_quick(tmp_path):
    stdout = run_example("char_rnn.py", "--quick", out=tmp_path)
    rows = {line.split()[0]: line.split() for line in stdout.splitlines()
            if line.split()[:1] in (["RNN"], ["GRU"], ["LSTM"])}
    assert set(rows) == {"RNN", "GRU", "LSTM"}
    for kind, cells in rows.items():
        first, last = float(cells[1]), float(cells[2])
        assert last < first - 1.0, f"{kind} did not learn: {first} -> {last} bits/char"
