"""What minigrad was built with and how many threads it uses."""
import platform
import sys

import numpy as np
import scipy

from minigrad.kernels import blas, threads


def show_config(file=None):
    """Print versions, whether OpenMP is compiled in, the thread count and the BLAS in use."""
    try:
        import Cython
        cython_version = Cython.__version__
    except ImportError:
        cython_version = "not installed (only needed to build)"
    from minigrad import __version__
    lines = [
        f"minigrad {__version__}",
        f"  python:   {platform.python_version()} ({sys.platform}, {platform.machine()})",
        f"  numpy:    {np.__version__}",
        f"  scipy:    {scipy.__version__}",
        f"  Cython:   {cython_version}",
        f"  OpenMP:   {'yes' if threads.openmp_enabled() else 'no (kernels run serially)'}",
        f"  threads:  {threads.get_num_threads()} (kernels and BLAS; minigrad.set_num_threads)",
        "  BLAS:",
    ]
    lines += [f"    {line}" for line in blas.describe()]
    print("\n".join(lines), file=file)
