"""The one typed boundary between Python and the compiled kernels.

Nothing else in minigrad imports ``minigrad._C``. Each module here validates
shapes and dtypes, makes arrays contiguous, allocates outputs and picks the
thread count, then calls a Cython kernel that trusts its inputs:

    Tensor -> Function (minigrad/ops) -> minigrad.kernels.<family> -> minigrad._C.<family>

- ``threads``: the thread count every parallel kernel uses.
- ``cpu``: the instruction-set path (AVX-512, AVX2, generic) the kernels take;
  ``MINIGRAD_CPU`` forces a lower one.
- ``blas``: the OpenBLAS libraries numpy and scipy bundle (held to one thread), and
  ``matmul``, big products tiled on minigrad's threads.
- ``gemm``: minigrad's own float32 GEMM (AVX-512, AVX2 and portable paths; ``minigrad._C.gemm``),
  for 2-d products (``Linear``) and tests.
- ``conv``: the convolution kernels (``minigrad._C.conv``, ``minigrad._C.depthwise``); ``conv_plan``
  chooses the kernel, threads and scratch sizes of each convolution; ``workspace`` holds the
  reusable scratch arrays every kernel call is given.
- ``pooling``, ``batchnorm``, ``activation``: the other kernel families.

Under ``minigrad.use_reference_kernels()`` the boundary runs the NumPy references
(minigrad/reference/) instead of the compiled kernels.
"""
from minigrad.kernels import (
    blas,  # noqa: F401,E402  (holds numpy's and scipy's OpenBLAS to one thread)
    cpu,  # noqa: F401,E402  (reads MINIGRAD_CPU once, at import)
)
