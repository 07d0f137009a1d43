"""Build script: compiles every csrc/*.pyx into minigrad._C.<name>.

OpenMP is found by compiling and linking a tiny program with the real
compiler. If that fails (Apple clang, say) or MINIGRAD_NO_OPENMP=1 is set,
the kernels are built serially and a warning is printed to stderr; `prange`
then compiles to a plain loop. MINIGRAD_NATIVE=1 adds -march=native.
"""
import glob
import os
import sys
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int threads = 0;
    #pragma omp parallel reduction(+:threads)
    threads += 1;
    printf("%d\n", threads);
    return threads > 0 ? 0 : 1;
}
"""

# Candidate (compile flags, link flags) per compiler family, tried in order.
OPENMP_FLAG_CANDIDATES = {
    "msvc": [(["/openmp"], [])],
    "unix": [
        (["-fopenmp"], ["-fopenmp"]),
        (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),  # Apple clang + libomp
    ],
}


def _warn(message):
    # warnings.warn is swallowed by pip; stderr is shown with -v and in logs.
    sys.stderr.write(f"\n*** minigrad build warning: {message}\n\n")


def find_openmp_flags(compiler):
    """Return (compile_args, link_args) that build an OpenMP program, or None."""
    if os.environ.get("MINIGRAD_NO_OPENMP", "") not in ("", "0"):
        _warn("MINIGRAD_NO_OPENMP is set: building serial kernels.")
        return None
    candidates = OPENMP_FLAG_CANDIDATES.get(compiler.compiler_type, OPENMP_FLAG_CANDIDATES["unix"])
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "omp_probe.c")
        with open(source, "w") as f:
            f.write(OPENMP_PROBE)
        for compile_args, link_args in candidates:
            try:
                objects = compiler.compile([source], output_dir=tmp, extra_postargs=compile_args)
                compiler.link_executable(objects, "omp_probe", output_dir=tmp, extra_postargs=link_args)
            except Exception:  # CompileError / LinkError: try the next flags
                continue
            return compile_args, link_args
    _warn("the C compiler cannot build OpenMP programs: building serial kernels "
          "(install libomp / use gcc for multi-threaded kernels).")
    return None


class BuildExtWithOpenMP(build_ext):
    def build_extensions(self):
        openmp = find_openmp_flags(self.compiler)
        unix = self.compiler.compiler_type != "msvc"
        optimise = ["-O3"] if unix else ["/O2"]
        if unix and os.environ.get("MINIGRAD_NATIVE", "") not in ("", "0"):
            optimise.append("-march=native")
        for ext in self.extensions:
            ext.extra_compile_args = optimise + (openmp[0] if openmp else [])
            ext.extra_link_args = openmp[1] if openmp else []
        super().build_extensions()


def extensions():
    # One module per csrc/*.pyx: activation, batchnorm, conv (im2col, col2im, the
    # implicit GEMM), depthwise, gemm (the own GEMM), pooling, threads. The
    # shared C headers and Cython declarations (*.h, *.pxd, *.pxi) are rebuilt into each.
    shared = sorted(glob.glob(os.path.join("csrc", "*.h")) + glob.glob(os.path.join("csrc", "*.pxd"))
                    + glob.glob(os.path.join("csrc", "*.pxi")))
    modules = []
    for pyx in sorted(glob.glob(os.path.join("csrc", "*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]
        modules.append(Extension(f"minigrad._C.{name}", [pyx], include_dirs=["csrc"], depends=shared))
    return cythonize(
        modules,
        include_path=["csrc"],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "nonecheck": False,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtWithOpenMP})
