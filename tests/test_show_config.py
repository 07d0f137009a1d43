"""show_config(): SIMD level and OpenMP per compiled module."""
import io
import os

import pytest

import minigrad
from minigrad import config
from minigrad.kernels import threads


def test_cpu_simd_level_matches_proc_cpuinfo():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo")
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    expected = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else
                "AVX" if "avx" in flags else "SSE4.2" if "sse4_2" in flags else None)
    if expected is not None:
        assert config.cpu_simd_level() == expected


def test_every_compiled_module_is_listed_with_its_openmp_status():
    modules = {m["name"]: m for m in config.compiled_modules()}
    assert "threads" in modules
    directory = os.path.join(os.path.dirname(minigrad.__file__), "_C")
    built = {f.split(".")[0] for f in os.listdir(directory) if f.endswith((".so", ".pyd"))}
    assert set(modules) == built
    assert modules["threads"]["openmp"] == threads.openmp_enabled()


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="Linux only")
def test_elf_needed_agrees_with_the_loaded_openmp_runtime():
    threads_module = next(m for m in config.compiled_modules() if m["name"] == "threads")
    needed = config.elf_needed_libraries(threads_module["path"])
    assert "libc.so.6" in needed
    links_openmp = any(lib.startswith(("libgomp", "libomp")) for lib in needed)
    assert links_openmp == threads.openmp_enabled()
    if links_openmp:  # the runtime it names is really mapped into this process
        with open("/proc/self/maps") as maps:
            assert any(threads_module["runtime"] in line for line in maps)


def test_elf_parser_on_non_elf_file(tmp_path):
    path = tmp_path / "not_elf.so"
    path.write_bytes(b"MZ\x90\x00" + bytes(60))
    assert config.elf_needed_libraries(str(path)) is None


def test_build_simd_from_compiler_flags():
    assert config._build_simd("GNU C17 12.2.0 -mtune=generic -march=x86-64 -g -O3").startswith("SSE2")
    assert config._build_simd("GNU C17 12.2.0 -march=x86-64-v3 -O3").startswith("AVX2")
    assert config._build_simd("GNU C17 12.2.0 -O3 -mavx2").startswith("AVX2")
    assert config.cpu_simd_level() in config._build_simd("GNU C17 -march=native -O3")
    assert config._build_simd("").startswith("unknown")


def test_show_config_prints_simd_and_modules():
    out = io.StringIO()
    minigrad.show_config(file=out)
    text = out.getvalue()
    assert "CPU SIMD:" in text
    assert "kernel modules (minigrad._C):" in text
    line = next(l for l in text.splitlines() if l.strip().startswith("threads ") and "built for" in l)
    assert ("OpenMP" in line) and (("serial" in line) != threads.openmp_enabled())
