"""Shared timing helpers for the benchmark scripts (not part of the package).

The scripts time the installed minigrad; importing this module stops a
script with a clear message when minigrad is not installed.
"""
import importlib.util
import os
import statistics
import sys
import time

if importlib.util.find_spec("minigrad") is None:
    sys.exit("minigrad is not importable: install it first with `pip install -e .` "
             "in the repository root, then run the benchmark again.")


def wall_times(function, repeats=20, warmup=3):
    """Wall times (seconds) of `repeats` runs of `function()` after `warmup` runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(function, repeats=20, warmup=3, min_time=None):
    """Median wall time of `function()` over `repeats` runs after `warmup` runs."""
    return statistics.median(wall_times(function, repeats, warmup))


def interleaved_wall_times(functions, repeats=20, warmup=3):
    """{name: wall times} of the functions {name: function}, run in turns: each
    round gives every function a turn, the order rotating from round to round.
    On a machine whose speed changes over minutes (a shared VM), a slow spell
    then hits all of them alike, so their ratio is steadier than that of
    times taken one function after the other. A turn runs its function twice
    and times the second run: as in back-to-back runs, each finds its own
    data in cache, not the other's."""
    names = list(functions)
    for _ in range(warmup):
        for name in names:
            functions[name]()
    times = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            functions[name]()
            start = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - start)
    return times


# PyTorch's own switches for its instruction set (oneDNN's convolutions and
# ATen's vectorised loops), read when torch is imported: with them a machine
# with AVX-512 stands in for an AVX2 laptop for both frameworks, minigrad's
# path being forced with --cpu-path / MINIGRAD_CPU.
TORCH_ISA_ENVIRONMENT = {
    "best": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
    "generic": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default"},
}


def add_torch_isa_argument(parser):
    parser.add_argument("--torch-isa", choices=sorted(TORCH_ISA_ENVIRONMENT), default="best",
                        help="cap PyTorch's instruction set (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY), "
                             "e.g. avx2 with --cpu-path avx2 to time both as on an AVX2 machine")


def torch_isa_environment(name, environment=None):
    """`environment` (default os.environ) with PyTorch capped to instruction set `name`;
    exits if torch is imported already in this process (the cap would not apply)."""
    target = os.environ if environment is None else environment
    if TORCH_ISA_ENVIRONMENT[name] and environment is None and "torch" in sys.modules:
        sys.exit("--torch-isa must be applied before torch is imported")
    target.update(TORCH_ISA_ENVIRONMENT[name])
    return target


def torch_isa(torch):
    """The instruction set PyTorch's vectorised loops run (its get_cpu_capability)."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        return "unknown"


def try_import_torch(threads=None):
    """PyTorch if it happens to be installed (benchmarks compare against it), else None."""
    try:
        import torch
    except ImportError:
        return None
    if threads is not None:
        torch.set_num_threads(threads)
    return torch


def print_table(headers, rows):
    """Print a Markdown table (pasteable into benchmarks/README.md)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
