"""A PyTorch-style training script runs unchanged with `import minigrad as torch`."""
import os
import subprocess
import sys
from pathlib import Path

import minigrad

SCRIPT = Path(__file__).resolve().parent / "scripts" / "pytorch_style_mnist.py"


def test_pytorch_style_mnist_script_trains_and_saves(tmp_path):
    environment = dict(os.environ, PYTHONPATH=str(Path(minigrad.__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, str(SCRIPT), "--save-model"], cwd=tmp_path,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Test set: Average loss") == 2
    accuracy = float(result.stdout.strip().splitlines()[-1].split()[-1])
    assert accuracy >= 0.5  # ten classes: chance is 0.1
    weights = minigrad.load(str(tmp_path / "mnist_cnn.pt"))
    assert weights["conv1.weight"].shape == (8, 1, 3, 3) and weights["fc2.bias"].shape == (10,)
