# cython: language_level=3
"""Elementwise activation kernels: ReLU and exact GELU, forward and backward.

Reference: minigrad/reference/activation.py (relu, relu_backward, gelu,
gelu_backward), which the kernel boundary minigrad/kernels/activation.py runs
instead under minigrad.use_reference_kernels().

Every array is a flat contiguous vector of n elements (the boundary module
minigrad/kernels/activation.py flattens and allocates). Each loop is one
`prange` over elements: one reader pass and one writer pass, and each output
element has exactly one writer, so any thread count gives bitwise
identical results.

They stand in for NumPy's `np.maximum(x, 0)` (a scalar-broadcast loop,
several times slower than a copy) and `grad * (y > 0)` (a bool mask array,
then a mixed bool/float multiply): one pass each, at memory speed
(benchmarks/README.md has the numbers). As in PyTorch, relu(NaN) = NaN and
the gradient at 0 is 0. Both loops read every input element
unconditionally, so the compiler turns the `a if cond else b` into a vector
select; loading grad[i] only when y[i] > 0 would compile to a branch,
mispredicted half the time on real activations.

GELU(x) = x Phi(x), Phi the standard normal CDF; its derivative is
Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi). The boundary module
passes gauss = exp(-x^2/2), computed by NumPy's vectorised exp (a libm call
inside this loop is scalar; so is libm's erf, which at ~10 ns per element
was no faster than scipy.special.erf). Phi then needs no further
transcendental call:
- float32: Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7 in erf,
  the formula PyTorch's vectorised float erf uses): for z = |x|/sqrt(2),
      erfc(z) = t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-z^2),
      t = 1 / (1 + p z),   and exp(-z^2) = gauss,
  so Phi(-|x|) = erfc(z) / 2 and Phi(|x|) = 1 - Phi(-|x|);
- float64: the C library's erfc, to full double precision.
The backward recomputes Phi instead of keeping it from the forward: one
array less alive between the passes.
"""
from cython.parallel cimport prange
from libc.math cimport erfc, fabsf

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


cdef double SQRT_HALF = 0.70710678118654752440       # 1 / sqrt(2)
cdef double INV_SQRT_2PI = 0.39894228040143267794    # 1 / sqrt(2 pi)


cdef inline floating normal_cdf(floating x, floating gauss) noexcept nogil:
    """Phi(x), given gauss = exp(-x^2 / 2)."""
    # Constants typed `floating`, so that the float32 path stays in float (a
    # bare literal is a double in C), and no `a if x > 0 else b` at the end:
    # gcc keeps that a branch ("control flow in loop"), leaving the loop scalar.
    cdef floating one = 1, half = 0.5, t, lower_tail
    cdef floating p = 0.3275911 / 1.4142135623730951   # A&S 7.1.26 p, for z = |x| / sqrt(2)
    cdef floating a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741
    cdef floating a4 = -1.453152027, a5 = 1.061405429
    if floating is float:
        t = one / (one + p * fabsf(x))
        lower_tail = half * t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * gauss  # Phi(-|x|)
        # Phi(x) = Phi(-|x|) for x <= 0, and 1 - Phi(-|x|) for x > 0
        return lower_tail + (x > 0) * (one - 2 * lower_tail)
    else:
        return half * erfc(-x * SQRT_HALF)


def gelu_forward(const floating[::1] x, const floating[::1] gauss, floating[::1] y,
                 int num_threads):
    """y = x * Phi(x); gauss = exp(-x^2 / 2)."""
    cdef Py_ssize_t i, n = x.shape[0]
    if n == 0:
        return
    cdef const floating* xp = &x[0]
    cdef const floating* ep = &gauss[0]
    cdef floating* yp = &y[0]
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        yp[i] = xp[i] * normal_cdf(xp[i], ep[i])


def gelu_backward(const floating[::1] grad, const floating[::1] x, const floating[::1] gauss,
                  floating[::1] grad_x, int num_threads):
    """grad_x = grad * (Phi(x) + x phi(x)), phi(x) = gauss / sqrt(2 pi)."""
    cdef Py_ssize_t i, n = grad.shape[0]
    if n == 0:
        return
    cdef const floating* gp = &grad[0]
    cdef const floating* xp = &x[0]
    cdef const floating* ep = &gauss[0]
    cdef floating* outp = &grad_x[0]
    cdef floating c = <floating>INV_SQRT_2PI
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        outp[i] = gp[i] * (normal_cdf(xp[i], ep[i]) + xp[i] * ep[i] * c)


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module
