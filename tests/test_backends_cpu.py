"""minigrad.backends.cpu.get_cpu_capability: PyTorch's names for minigrad's CPU path."""
import os
import platform
import subprocess
import sys

import minigrad
import minigrad.backends.cpu
from minigrad.kernels import cpu


def test_follows_the_path_switch():
    expected = {"generic": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}
    for name in cpu.supported_paths():
        with cpu.use_cpu_path(name):
            assert minigrad.backends.cpu.get_cpu_capability() == expected[name]
    assert minigrad.backends.cpu.get_cpu_capability() == expected[cpu.best_path()]


def test_default_matches_the_cpu_flags():
    # The best path by default: read the CPU's own flags independently of csrc/cpu_features.h.
    if platform.machine() not in ("x86_64", "AMD64") or not os.path.exists("/proc/cpuinfo"):
        assert minigrad.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512")
        return
    with open("/proc/cpuinfo") as f:
        flags = next(line for line in f if line.startswith("flags")).split()
    if "avx512f" in flags:
        expected = "AVX512"
    elif "avx2" in flags and "fma" in flags:
        expected = "AVX2"
    else:
        expected = "DEFAULT"
    if "MINIGRAD_CPU" not in os.environ:
        assert minigrad.backends.cpu.get_cpu_capability() == expected


def test_environment_variable():
    env = dict(os.environ, MINIGRAD_CPU="generic")
    out = subprocess.run([sys.executable, "-c", "import minigrad; print(minigrad.backends.cpu.get_cpu_capability())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "DEFAULT"
