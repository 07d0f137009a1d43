"""Autograd bookkeeping on a long graph: a chain of N multiplications, built and walked back.

    python benchmarks/graph_walk.py [--ops 100000]

Target: a 100,000-op chain in under 10 s on one core (the backward walk is
iterative, so its length is limited by memory, not by Python's recursion).
The correctness of the same chain is a unit test (tests/test_autograd.py).
"""
import argparse
import time

import numpy as np
from _timing import print_table

import minigrad as mg


def chain_seconds(ops):
    """(seconds to build, seconds to walk back) a chain of `ops` multiplications."""
    x = mg.tensor(np.array(1.0), requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(ops):
        y = y * 1.00001
    built = time.perf_counter()
    y.backward()
    walked = time.perf_counter()
    assert abs(x.grad.item() / 1.00001 ** ops - 1) < 1e-9
    return built - start, walked - built


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000)
    args = parser.parse_args()
    rows = []
    for ops in sorted({args.ops // 10, args.ops}):
        build, walk = chain_seconds(ops)
        rows.append([f"{ops:,}", f"{build:.2f}", f"{walk:.2f}", f"{build + walk:.2f}",
                     "yes" if ops < 100_000 or build + walk < 10 else "NO (target: < 10 s)"])
    print_table(["ops", "build (s)", "backward (s)", "total (s)", "within target"], rows)


if __name__ == "__main__":
    main()
