"""The tree passes the ruff configuration in pyproject.toml (installed by the `test` extra)."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _ruff_command():
    executable = shutil.which("ruff") or str(pathlib.Path(sys.executable).with_name("ruff"))
    if not pathlib.Path(executable).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    return [executable]


def test_ruff_check_passes():
    result = subprocess.run([*_ruff_command(), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"
