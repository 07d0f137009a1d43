"""minigrad keeps freed memory mapped between steps (glibc): no page faults for a repeated allocation."""
import io
import pathlib
import subprocess
import sys

import pytest

import minigrad
from minigrad import allocator

ROOT = str(pathlib.Path(minigrad.__file__).parents[1])

# A step's pattern: several 8 MiB temporaries alive at once, then all freed (glibc
# then holds more free memory at the heap's top than its default trim threshold,
# and returns it). Run it 20 times; print the minor page faults of the last 10.
PROBE = """
import resource, sys
import numpy as np
import minigrad
def churn():
    temporaries = [np.ones(2 << 20, dtype=np.float32) for _ in range(4)]   # 4 x 8 MiB, written
    del temporaries
for _ in range(10):
    churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(minigrad.allocator.describe())
"""


def _probe(setting):
    env = {"MINIGRAD_MALLOC_TUNING": setting, "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    faults, line = result.stdout.splitlines()
    return int(faults), line


@pytest.mark.skipif(allocator._glibc() is None, reason="malloc tuning applies to glibc only")
def test_repeated_large_allocations_do_not_fault_pages_in_again():
    tuned_faults, tuned = _probe("1")
    default_faults, default = _probe("0")
    assert tuned.startswith("glibc, mmap_threshold 32 MiB") and "defaults" in default
    assert tuned_faults < 100                   # the 8 MiB stays mapped
    assert default_faults > 5 * 2048            # about one 8 MiB block (2,048 pages) faulted in again per step


def test_show_config_says_how_malloc_is_set_up():
    out = io.StringIO()
    minigrad.show_config(file=out)
    assert f"malloc:   {allocator.describe()}" in out.getvalue()
    assert allocator.describe() != "not applied"


def test_bad_environment_value_warns():
    code = "import warnings; warnings.simplefilter('error'); import minigrad"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"MINIGRAD_MALLOC_TUNING": "maybe", "PATH": "/usr/bin:/bin"},
                            cwd=ROOT)
    assert result.returncode != 0 and "MINIGRAD_MALLOC_TUNING='maybe' is not 0 or 1" in result.stderr


def test_other_systems_keep_their_allocator(monkeypatch):
    """On Windows there is no glibc (and ctypes.CDLL(None) raises TypeError): malloc is left alone."""
    monkeypatch.setattr(allocator.os, "name", "nt")
    monkeypatch.setattr(allocator, "_state", allocator._state)
    assert allocator._glibc() is None
    assert allocator.tune_malloc() == "the C library's defaults (not glibc)" == allocator.describe()
