"""Shared timing helpers for the benchmark scripts (not part of the package).

The scripts time the installed minigrad; importing this module stops a
script with a clear message when minigrad is not installed.
"""
import importlib.util
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
