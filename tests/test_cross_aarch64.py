"""The kernels on a CPU the tests do not run on: aarch64 (Apple Silicon, Raspberry Pi).

Where an aarch64 cross-compiler is installed (Debian: gcc-aarch64-linux-gnu),
every generated kernel module (csrc/*.c, written by the build) must compile
for aarch64 with OpenMP: every intrinsic and __builtin_cpu_supports is behind
an x86 guard, so only the generic path is built there. Where qemu-user is
installed too (Debian: qemu-user-static), the own GEMM (csrc/gemm.h) and the
float32 average-pool rows (csrc/pool_rows.h) run on that path under emulation
and are checked against double-precision loops (tests/native/gemm_check.c,
tests/native/pool_check.c). The same checks also run natively with the host's
C compiler: the GEMM on the best path of this CPU, the pooling rows on every
path it has (each giving the same bytes). The broadcast taps, Winograd's
transforms and the vector operations of csrc/simd_lanes.h (tests/native/
tap_check.c, winograd_check.c, lanes_check.c) likewise. Missing tools skip the tests.
"""
import os
import shutil
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
GEMM_CHECK = os.path.join(ROOT, "tests", "native", "gemm_check.c")
POOL_CHECK = os.path.join(ROOT, "tests", "native", "pool_check.c")
TAP_CHECK = os.path.join(ROOT, "tests", "native", "tap_check.c")
WINOGRAD_CHECK = os.path.join(ROOT, "tests", "native", "winograd_check.c")
LANES_CHECK = os.path.join(ROOT, "tests", "native", "lanes_check.c")
CROSS_CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
HOST_CC = shutil.which("gcc") or shutil.which("cc")


def _run(command, timeout=600):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(CROSS_CC is None, reason="no aarch64 cross-compiler (apt install gcc-aarch64-linux-gnu)")
@pytest.mark.parametrize("module", ["activation", "batchnorm", "conv", "depthwise", "gemm", "pooling", "threads"])
def test_generated_kernel_module_compiles_for_aarch64(module, tmp_path):
    source = os.path.join(CSRC, f"{module}.c")
    if not os.path.exists(source):
        pytest.skip(f"{source} is written by the build (python setup.py build_ext)")
    result = _run([CROSS_CC, "-c", "-O2", "-fopenmp", "-fPIC", f"-I{CSRC}",
                   f"-I{sysconfig.get_paths()['include']}", source, "-o", str(tmp_path / f"{module}.o")])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "error" not in result.stderr


def _compile_check(compiler, output, extra, source=GEMM_CHECK):
    """Compiles one of tests/native/*_check.c against csrc/ into `output`."""
    result = _run([compiler, "-O2", f"-I{CSRC}", source, "-lm", "-o", str(output), *extra])
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.skipif(CROSS_CC is None or QEMU is None,
                    reason="needs gcc-aarch64-linux-gnu and qemu-user-static")
def test_own_gemm_is_right_on_aarch64_under_qemu(tmp_path):
    binary = tmp_path / "gemm_check_aarch64"
    _compile_check(CROSS_CC, binary, ["-static"])
    result = _run([QEMU, str(binary)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("path 0 (0: generic), tile 6 x 8") and result.stdout.strip().endswith("ok")


@pytest.mark.skipif(HOST_CC is None, reason="no C compiler")
def test_own_gemm_is_right_natively_on_the_best_path(tmp_path):
    binary = tmp_path / "gemm_check"
    _compile_check(HOST_CC, binary, [])
    result = _run([str(binary)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")


# The kernels with a check of their own (tests/native/*_check.c): the float32
# average-pool rows (csrc/pool_rows.h), the broadcast-tap kernels
# (csrc/tap_broadcast.h) and the Winograd transforms (csrc/winograd.h), each
# on aarch64's generic path under qemu and on every path of this CPU.
NATIVE_CHECKS = {"average_pool_rows": POOL_CHECK, "broadcast_taps": TAP_CHECK, "winograd": WINOGRAD_CHECK,
                 "vector_lanes": LANES_CHECK}


@pytest.mark.skipif(CROSS_CC is None or QEMU is None,
                    reason="needs gcc-aarch64-linux-gnu and qemu-user-static")
@pytest.mark.parametrize("kernel", sorted(NATIVE_CHECKS))
def test_kernel_is_right_on_aarch64_under_qemu(kernel, tmp_path):
    binary = tmp_path / f"{kernel}_check_aarch64"
    _compile_check(CROSS_CC, binary, ["-static"], NATIVE_CHECKS[kernel])
    result = _run([QEMU, str(binary)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("paths 0 .. 0 (0: generic)") and result.stdout.strip().endswith("ok")


@pytest.mark.skipif(HOST_CC is None, reason="no C compiler")
@pytest.mark.parametrize("kernel", sorted(NATIVE_CHECKS))
def test_kernel_is_right_natively_on_every_path(kernel, tmp_path):
    binary = tmp_path / f"{kernel}_check"
    _compile_check(HOST_CC, binary, [], NATIVE_CHECKS[kernel])
    result = _run([str(binary)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
