"""What minigrad was built with and how many threads it uses."""
import glob
import os
import platform
import re
import struct
import sys

import numpy as np
import scipy

from minigrad import allocator
from minigrad.kernels import blas, threads

# x86 SIMD levels, best first: the /proc/cpuinfo flag that proves each one.
_SIMD_LEVELS = (("AVX-512", "avx512f"), ("AVX2", "avx2"), ("AVX", "avx"),
                ("SSE4.2", "sse4_2"), ("SSE2", "sse2"))

# What gcc/clang -march / -m flags let the compiler use (x86-64).
_MARCH_LEVELS = {"x86-64": "SSE2", "x86-64-v2": "SSE4.2", "x86-64-v3": "AVX2",
                 "x86-64-v4": "AVX-512"}
_M_FLAG_LEVELS = (("-mavx512f", "AVX-512"), ("-mavx2", "AVX2"), ("-mavx", "AVX"),
                  ("-msse4.2", "SSE4.2"))

_OPENMP_RUNTIMES = ("libgomp", "libomp", "libiomp", "vcomp")


def cpu_simd_level():
    """The best x86 SIMD instruction set this CPU offers, from /proc/cpuinfo (Linux)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
            else:
                return "unknown"
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    for level, flag in _SIMD_LEVELS:
        if flag in flags:
            return level
    return "none of SSE2..AVX-512" if platform.machine() in ("x86_64", "AMD64") else platform.machine()


def elf_needed_libraries(path):
    """The DT_NEEDED entries of an ELF shared object: the libraries it links against.

    Reads the ELF header, finds the .dynamic section and the string table it
    points into. Returns None for a file that is not a 64- or 32-bit ELF
    (macOS, Windows).
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        return None
    is64, little = data[4] == 2, data[5] == 1
    end = "<" if little else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        section = end + "IIQQQQIIQQ"   # name type flags addr offset size link info align entsize
        entry, entry_size = end + "qQ", 16
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        section = end + "IIIIIIIIII"
        entry, entry_size = end + "iI", 8
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]
    needed = []
    for _, kind, _, _, offset, size, link, _, _, _ in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strtab_offset = sections[link][4]
        for position in range(offset, offset + size, entry_size):
            tag, value = struct.unpack_from(entry, data, position)
            if tag == 0:  # DT_NULL ends the table
                break
            if tag == 1:  # DT_NEEDED: an offset into the string table
                start = strtab_offset + value
                needed.append(data[start:data.index(b"\x00", start)].decode())
    return needed


def _compiler_flags(path):
    """The compiler command line recorded in the debug info ('GNU C17 12.2.0 -O3 ...'), or ''."""
    with open(path, "rb") as f:
        match = re.search(rb"GNU C[^\x00]{0,1000}", f.read())
    return match.group().decode(errors="replace") if match else ""


def _build_simd(flags):
    """The SIMD level the recorded compiler flags allow, e.g. SSE2 for -march=x86-64."""
    if not flags:
        return "unknown (no compiler flags recorded)"
    march = re.findall(r"-march=(\S+)", flags)
    if march and march[-1] == "native":
        return f"{cpu_simd_level()} (-march=native: this CPU's)"
    level = _MARCH_LEVELS.get(march[-1]) if march else "SSE2"
    for flag, flag_level in _M_FLAG_LEVELS:
        if flag in flags.split():
            level = flag_level
            break
    return f"{level or 'unknown'} (-march={march[-1] if march else 'default'})"


def compiled_modules():
    """One dict per compiled module in minigrad/_C: name, path, openmp, runtime, simd.

    ``openmp`` comes from the module's own ``openmp_enabled()`` when it has
    one, else from whether its shared object links an OpenMP runtime
    (libgomp for gcc, libomp for clang), read from its ELF DT_NEEDED entries.
    ``simd`` is what the recorded compiler flags let the compiler emit (the
    kernels' own loops; numpy and OpenBLAS pick their SIMD code at run time).
    """
    import importlib
    directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_C")
    modules = []
    paths = glob.glob(os.path.join(directory, "*.so")) + glob.glob(os.path.join(directory, "*.pyd"))
    for path in sorted(paths):
        name = os.path.basename(path).split(".")[0]
        try:
            needed = elf_needed_libraries(path)
        except (OSError, struct.error, IndexError, ValueError):
            needed = None
        runtime = next((lib for lib in needed or () if lib.startswith(_OPENMP_RUNTIMES)), None)
        openmp = None if needed is None else runtime is not None
        try:
            module = importlib.import_module(f"minigrad._C.{name}")
            if callable(getattr(module, "openmp_enabled", None)):
                openmp = bool(module.openmp_enabled())
        except ImportError:
            pass
        try:
            simd = _build_simd(_compiler_flags(path))
        except OSError:
            simd = "unknown"
        modules.append(dict(name=name, path=path, openmp=openmp, runtime=runtime, simd=simd))
    return modules


def kernel_paths():
    """{kernel name: instruction-set path} of every compiled kernel under the current choice.

    The convention: a compiled module (csrc/*.pyx) may define ``kernel_paths()``
    returning such a dict for its own kernels ("avx512", "avx2", "generic", or
    "blas" where BLAS does the work); the dicts are merged here, module by
    module, in name order. The float32 GEMM kernels are then reported by
    minigrad.kernels.gemm, which knows whether ``MINIGRAD_GEMM=blas`` turned
    the own GEMM off. float64 always runs on BLAS and is not listed.
    """
    import importlib

    from minigrad.kernels import gemm
    paths = {}
    for module in compiled_modules():
        try:
            loaded = importlib.import_module(f"minigrad._C.{module['name']}")
        except ImportError:
            continue
        if callable(getattr(loaded, "kernel_paths", None)):
            paths.update(loaded.kernel_paths())
    paths.update(gemm.kernel_paths())
    return paths


def show_config(file=None):
    """Print versions, SIMD level, whether each kernel module has OpenMP, threads and BLAS."""
    try:
        import Cython
        cython_version = Cython.__version__
    except ImportError:
        cython_version = "not installed (only needed to build)"
    from minigrad import __version__
    from minigrad.kernels import cpu
    lines = [
        f"minigrad {__version__}",
        f"  python:   {platform.python_version()} ({sys.platform}, {platform.machine()})",
        f"  numpy:    {np.__version__}",
        f"  scipy:    {scipy.__version__}",
        f"  Cython:   {cython_version}",
        f"  CPU SIMD: {cpu_simd_level()}",
        f"  OpenMP:   {'yes' if threads.openmp_enabled() else 'no (kernels run serially)'}",
        f"  threads:  {threads.get_num_threads()} (kernels and tiled BLAS products; minigrad.set_num_threads)",
        f"  CPU path: {cpu.cpu_path()} (this CPU runs {', '.join(cpu.supported_paths())}; "
        "MINIGRAD_CPU or minigrad.kernels.cpu.set_cpu_path)",
        f"  malloc:   {allocator.describe()}",
        "  kernel paths: " + ", ".join(f"{name} {path}" for name, path in sorted(kernel_paths().items())),
        "  kernel modules (minigrad._C):",
    ]
    for module in compiled_modules():
        openmp = {True: f"OpenMP ({module['runtime'] or 'yes'})", False: "serial (no OpenMP)",
                  None: "OpenMP unknown"}[module["openmp"]]
        lines.append(f"    {module['name']:<12} {openmp}, built for {module['simd']}")
    lines.append("  BLAS:")
    lines += [f"    {line}" for line in blas.describe()]
    print("\n".join(lines), file=file)
