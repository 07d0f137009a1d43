"""The instruction-set path switch (minigrad/kernels/cpu.py, csrc/cpu_features.h)."""
import os
import subprocess
import sys

import pytest

from minigrad._C import activation, batchnorm, conv, pooling, threads
from minigrad.kernels import cpu


def test_every_module_follows_the_switch():
    for name in cpu.supported_paths():
        with cpu.use_cpu_path(name):
            assert cpu.cpu_path() == name
            assert {m.current_isa() for m in (activation, batchnorm, conv, pooling, threads)} == {
                cpu.PATHS.index(name)}
    assert cpu.cpu_path() == cpu.best_path()


def test_generic_is_always_supported_and_paths_are_ordered():
    paths = cpu.supported_paths()
    assert paths[0] == "generic"
    assert paths == cpu.PATHS[:len(paths)]
    assert cpu.best_path() == paths[-1]


def test_unknown_or_unsupported_paths_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown CPU path 'sse9'.*generic, avx2, avx512"):
        cpu.set_cpu_path("sse9")
    unsupported = [p for p in cpu.PATHS if p not in cpu.supported_paths()]
    for name in unsupported:
        with pytest.raises(ValueError, match="lacks"):
            cpu.set_cpu_path(name)
    assert cpu.cpu_path() == cpu.best_path()


def _path_in_subprocess(value):
    env = dict(os.environ, MINIGRAD_CPU=value)
    out = subprocess.run([sys.executable, "-W", "always", "-c",
                          "import minigrad; print(minigrad.kernels.cpu.cpu_path())"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip(), out.stderr


def test_environment_variable_forces_a_lower_path():
    assert _path_in_subprocess("generic")[0] == "generic"


def test_bad_environment_value_warns_and_keeps_the_best_path():
    path, stderr = _path_in_subprocess("bogus")
    assert path == cpu.best_path()
    assert "MINIGRAD_CPU='bogus' ignored" in stderr
