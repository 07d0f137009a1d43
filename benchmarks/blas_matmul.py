"""What holding BLAS to one thread costs, and what tiling on minigrad's threads wins back.

    python benchmarks/blas_matmul.py [--size 2048] [--threads 2]

numpy's and scipy's OpenBLAS stay on one thread for good (minigrad/kernels/blas.py
says why); ``blas.matmul`` cuts a big product into fixed 256 x 512 tiles and runs
them on minigrad's OpenMP threads. Rows: GFLOP/s of a size^3 product.
"""
import argparse

import numpy as np
from _timing import median_seconds, print_table

import minigrad as mg
from minigrad.kernels import blas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=mg.get_num_threads())
    args = parser.parse_args()
    n = args.size
    rows = []
    for dtype in (np.float32, np.float64):
        a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
        flop = 2 * n ** 3
        mg.set_num_threads(1)
        single = median_seconds(lambda: np.matmul(a, a), repeats=5, warmup=1)
        rows.append([np.dtype(dtype).name, "numpy matmul, BLAS on 1 thread", 1, f"{flop / single / 1e9:.1f}"])
        for threads in sorted({1, args.threads}):
            mg.set_num_threads(threads)
            tiled = median_seconds(lambda: blas.matmul(a, a), repeats=5, warmup=1)
            rows.append([np.dtype(dtype).name, "blas.matmul, tiled", threads, f"{flop / tiled / 1e9:.1f}"])
    print_table(["dtype", "product", "threads", "GFLOP/s"], rows)


if __name__ == "__main__":
    main()
