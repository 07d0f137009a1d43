# cython: language_level=3
"""Elementwise activation kernels: ReLU forward and backward.

Every array is a flat contiguous vector of n elements (the boundary module
minigrad/kernels/activation.py flattens and allocates). Each loop is one
`prange` over elements: one reader pass and one writer pass, and each output
element has exactly one writer, so any thread count gives bitwise
identical results.

They replace NumPy's `np.maximum(x, 0)` (a scalar-broadcast loop that ran
3.5x slower than a copy) and `grad * (y > 0)` (a bool mask array, then a
mixed bool/float multiply): measured on 2M float32 at 1 thread, forward
0.67 -> 0.19 ms and backward 0.70 -> 0.38 ms, PyTorch's speed.
As in PyTorch, relu(NaN) = NaN and the gradient at 0 is 0.

Both loops read every input element unconditionally, so the compiler turns
the `a if cond else b` into a vector select. Loading grad[i] only when
y[i] > 0 compiles to a branch instead, mispredicted half the time on real
activations: 9.7 ms instead of 0.38 ms.
"""
from cython.parallel cimport prange

ctypedef fused floating:
    float
    double


def relu_forward(const floating[::1] x, floating[::1] y, int num_threads):
    """y = x where x is not negative (NaN stays NaN), else 0."""
    cdef Py_ssize_t i, n = x.shape[0]
    if n == 0:
        return
    cdef const floating* xp = &x[0]
    cdef floating* yp = &y[0]
    cdef floating v
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        v = xp[i]
        yp[i] = 0 if v < 0 else v   # NaN < 0 is false: NaN passes through


def relu_backward(const floating[::1] grad, const floating[::1] y, floating[::1] grad_x,
                  int num_threads):
    """grad_x = grad where the output y > 0, else 0 (y = relu(x), saved by forward)."""
    cdef Py_ssize_t i, n = grad.shape[0]
    if n == 0:
        return
    cdef const floating* gp = &grad[0]
    cdef const floating* yp = &y[0]
    cdef floating* outp = &grad_x[0]
    cdef floating g
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        g = gp[i]
        outp[i] = g if yp[i] > 0 else 0
