"""torch.special's orthogonal polynomials and the remaining Bessel functions.

Polynomials p_n(x) of degree n, each a three-term recurrence
p_{k+1} = (a_k x + b_k) p_k - c_k p_{k-1}:

    chebyshev T  T_0 = 1, T_1 = x,      T_{k+1} = 2x T_k - T_{k-1}    (T_n(cos t) = cos(n t))
    chebyshev U  U_0 = 1, U_1 = 2x,     U_{k+1} = 2x U_k - U_{k-1}    (U_n(cos t) = sin((n+1) t) / sin t)
    chebyshev V  V_n = U_n - U_{n-1}    chebyshev W  W_n = U_n + U_{n-1}
    shifted      T*_n(x) = T_n(2x - 1), likewise U*, V*, W*
    hermite H    H_0 = 1, H_1 = 2x,     H_{k+1} = 2x H_k - 2k H_{k-1}   (physicists')
    hermite He   He_0 = 1, He_1 = x,    He_{k+1} = x He_k - k He_{k-1}  (probabilists')
    laguerre L   L_0 = 1, L_1 = 1 - x,  (k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}
    legendre P   P_0 = 1, P_1 = x,      (k+1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}

As in PyTorch: n broadcasts against x, a non-integer n is truncated toward zero
(n = 2.5 gives p_2), a negative n gives 0, integer inputs give float32, and the
results carry no gradient (PyTorch records none for these functions).

Bessel functions of one argument: airy_ai (Ai), bessel_y0/y1 (Y_0, Y_1, nan for x < 0),
modified_bessel_i0/i1/k0/k1 (I_0, I_1, K_0, K_1), scaled_modified_bessel_k0/k1
(exp(x) K_0(x), exp(x) K_1(x)) and spherical_bessel_j0 (sin(x) / x, 1 at 0).
Values come from scipy.special.
"""
import numpy as np
from scipy import special

from minigrad.ops.promotion import is_integral
from minigrad.settings import get_default_dtype, result_type
from minigrad.tensor import Tensor


def _constant(values, dtype):
    """A result outside the graph, as PyTorch's (no grad_fn, requires_grad False)."""
    return Tensor._make(np.asarray(values).astype(dtype, copy=False), False, None)


# ------------------------------------------------------------------- Bessel family
def _spherical_j0(x):
    """j_0(x) = sin(x) / x, 1 at x = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x))


BESSEL = {
    "airy_ai": lambda x: special.airy(x)[0],
    "bessel_y0": special.y0,
    "bessel_y1": special.y1,
    "modified_bessel_i0": special.i0,
    "modified_bessel_i1": special.i1,
    "modified_bessel_k0": special.k0,
    "modified_bessel_k1": special.k1,
    "scaled_modified_bessel_k0": special.k0e,
    "scaled_modified_bessel_k1": special.k1e,
    "spherical_bessel_j0": _spherical_j0,
}


def _bessel(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    dtype = get_default_dtype() if is_integral(input) else input.dtype
    with np.errstate(all="ignore"):
        values = BESSEL[name](input.array.astype(np.float64))
    return _constant(values, dtype)


def airy_ai(input): return _bessel("airy_ai", input)  # noqa: E704  (one line per function)
def bessel_y0(input): return _bessel("bessel_y0", input)  # noqa: E704
def bessel_y1(input): return _bessel("bessel_y1", input)  # noqa: E704
def modified_bessel_i0(input): return _bessel("modified_bessel_i0", input)  # noqa: E704
def modified_bessel_i1(input): return _bessel("modified_bessel_i1", input)  # noqa: E704
def modified_bessel_k0(input): return _bessel("modified_bessel_k0", input)  # noqa: E704
def modified_bessel_k1(input): return _bessel("modified_bessel_k1", input)  # noqa: E704
def scaled_modified_bessel_k0(input): return _bessel("scaled_modified_bessel_k0", input)  # noqa: E704
def scaled_modified_bessel_k1(input): return _bessel("scaled_modified_bessel_k1", input)  # noqa: E704
def spherical_bessel_j0(input): return _bessel("spherical_bessel_j0", input)  # noqa: E704


# ---------------------------------------------------------------- polynomials
def _chebyshev_v(n, x):
    """V_n = U_n - U_{n-1} (U_{-1} = 0)."""
    return special.eval_chebyu(n, x) - np.where(n > 0, special.eval_chebyu(np.maximum(n - 1, 0), x), 0.0)


def _chebyshev_w(n, x):
    """W_n = U_n + U_{n-1} (U_{-1} = 0)."""
    return special.eval_chebyu(n, x) + np.where(n > 0, special.eval_chebyu(np.maximum(n - 1, 0), x), 0.0)


POLYNOMIALS = {
    "chebyshev_polynomial_t": special.eval_chebyt,
    "chebyshev_polynomial_u": special.eval_chebyu,
    "chebyshev_polynomial_v": _chebyshev_v,
    "chebyshev_polynomial_w": _chebyshev_w,
    "shifted_chebyshev_polynomial_t": lambda n, x: special.eval_chebyt(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_u": lambda n, x: special.eval_chebyu(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_v": lambda n, x: _chebyshev_v(n, 2 * x - 1),
    "shifted_chebyshev_polynomial_w": lambda n, x: _chebyshev_w(n, 2 * x - 1),
    "hermite_polynomial_h": special.eval_hermite,
    "hermite_polynomial_he": special.eval_hermitenorm,
    "laguerre_polynomial_l": special.eval_laguerre,
    "legendre_polynomial_p": special.eval_legendre,
}


def _polynomial(name, input, n):
    """p_n(x) broadcast over input and n, in their promoted float dtype."""
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{name}(): expected input or n to be a Tensor, got "
                        f"{type(input).__name__} and {type(n).__name__}")
    for value, argument in ((input, "input"), (n, "n")):
        if not isinstance(value, (Tensor, int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"special_{name}(): argument '{argument}' must be a Tensor or a number, "
                            f"not {type(value).__name__}")
    dtype = result_type(input, n)
    if dtype.kind in "iub":
        dtype = get_default_dtype()
    x = np.asarray(input.array if isinstance(input, Tensor) else input, dtype=dtype)
    degree = np.asarray(n.array if isinstance(n, Tensor) else n)
    with np.errstate(invalid="ignore"):
        degree = np.trunc(degree).astype(np.int64)  # n = 2.5 is degree 2, as PyTorch's int64 cast
    degree, x = np.broadcast_arrays(degree, x)
    with np.errstate(all="ignore"):
        values = POLYNOMIALS[name](np.maximum(degree, 0), x.astype(np.float64))
    return _constant(np.where(degree < 0, 0.0, values), dtype)  # a negative degree gives 0


def chebyshev_polynomial_t(input, n): return _polynomial("chebyshev_polynomial_t", input, n)  # noqa: E704
def chebyshev_polynomial_u(input, n): return _polynomial("chebyshev_polynomial_u", input, n)  # noqa: E704
def chebyshev_polynomial_v(input, n): return _polynomial("chebyshev_polynomial_v", input, n)  # noqa: E704
def chebyshev_polynomial_w(input, n): return _polynomial("chebyshev_polynomial_w", input, n)  # noqa: E704
def shifted_chebyshev_polynomial_t(input, n): return _polynomial("shifted_chebyshev_polynomial_t", input, n)  # noqa: E704, E501
def shifted_chebyshev_polynomial_u(input, n): return _polynomial("shifted_chebyshev_polynomial_u", input, n)  # noqa: E704, E501
def shifted_chebyshev_polynomial_v(input, n): return _polynomial("shifted_chebyshev_polynomial_v", input, n)  # noqa: E704, E501
def shifted_chebyshev_polynomial_w(input, n): return _polynomial("shifted_chebyshev_polynomial_w", input, n)  # noqa: E704, E501
def hermite_polynomial_h(input, n): return _polynomial("hermite_polynomial_h", input, n)  # noqa: E704
def hermite_polynomial_he(input, n): return _polynomial("hermite_polynomial_he", input, n)  # noqa: E704
def laguerre_polynomial_l(input, n): return _polynomial("laguerre_polynomial_l", input, n)  # noqa: E704
def legendre_polynomial_p(input, n): return _polynomial("legendre_polynomial_p", input, n)  # noqa: E704
