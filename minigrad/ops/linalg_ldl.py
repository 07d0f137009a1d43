"""torch.linalg's vander and diagonal, and the LDL^T factorisation of symmetric matrices.

vander(x, N) = [1, x, x^2, ..., x^(N-1)] along a new last dim (increasing powers,
unlike torch.vander); d/dx of x^j is j x^(j-1).

ldl_factor (Bunch-Kaufman, LAPACK sytrf with uplo='L', as PyTorch): A = P L D L^T P^T
with L unit lower triangular and D block diagonal with 1x1 and 2x2 blocks. The
result is LAPACK's compact form, as torch returns it:

    LD      (*, n, n): below the diagonal the multipliers of L (its unit diagonal
            not stored), on the diagonal (and first subdiagonal for a 2x2 block) D,
            zeros above the diagonal;
    pivots  (*, n) int32, 1-based: pivots[k] = p > 0 is a 1x1 block after swapping
            rows/columns k+1 and p; pivots[k] = pivots[k+1] = -p < 0 a 2x2 block in
            rows k+1, k+2 after swapping k+2 and p.

ldl_solve solves A X = B from them (LAPACK sytrs). PyTorch has no derivative for
either: their outputs carry a node whose backward raises, as PyTorch's.
"""
from collections import namedtuple

import numpy as np
from scipy.linalg import lapack

from minigrad import autograd
from minigrad.autograd import Function
from minigrad.ops.linalg_decompositions import LinAlgError
from minigrad.ops.torch_misc import _require_tensor
from minigrad.tensor import Tensor

LDLFactorResult = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorExResult = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _type_name(dtype):
    return _TYPE_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


# ------------------------------------------------------------------------ vander
def _powers(x, N):
    """x (..., n) -> (..., n, N) with [..., i, j] = x_i^j, as the running product of x."""
    factors = np.concatenate([np.ones(x.shape + (1,), x.dtype),                   # (..., n, 1)
                              np.repeat(x[..., None], N - 1, axis=-1)], axis=-1)  # (..., n, N)
    return np.cumprod(factors, axis=-1)


class Vander(Function):
    """out[..., i, j] = x[..., i]^j for j < N; d out[..., i, j] / dx_i = j x_i^(j-1)."""

    @staticmethod
    def forward(ctx, x, N):
        powers = _powers(x, N)
        ctx.save_for_backward(powers)
        return powers

    @staticmethod
    def backward(ctx, grad):
        powers, = ctx.saved_tensors
        exponents = np.arange(1, powers.shape[-1], dtype=powers.dtype)              # (N - 1,)
        return (grad[..., 1:] * exponents * powers[..., :-1]).sum(axis=-1), None

    @staticmethod
    def backward_graph(ctx, grad):
        # the same sum; the saved powers come back as this node's output, so their own
        # derivative (j x^(j-1)) is taken by Vander again, to any order
        from minigrad.ops.elementwise import _constant
        powers, = ctx.saved_tensors
        exponents = _constant(np.arange(1, powers.shape[-1], dtype=powers.dtype))   # (N - 1,)
        return (grad[..., 1:] * exponents * powers[..., :-1]).sum(axis=-1), None


def vander(x, N=None):
    """torch.linalg.vander: x (*, n) -> (*, n, N), columns x^0, x^1, ..., x^(N-1); N = n by default."""
    _require_tensor("linalg_vander", x, "x")
    if x.array.dtype == np.bool_:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    if x.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    N = x.shape[-1] if N is None else N
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)):
        raise TypeError(f"linalg_vander(): argument 'N' must be int, not {type(N).__name__}")
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.array.dtype.kind in "iu":  # integers give int64 powers (PyTorch's cumprod), no gradient
        return Tensor._make(_powers(x.array.astype(np.int64), int(N)), False, None)
    return Vander.apply(x, int(N))


# ---------------------------------------------------------------------- diagonal
def _dim(dim, ndim):
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % max(ndim, 1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: the offset diagonal of the matrices in dims (dim1, dim2), as a last dim."""
    from minigrad.ops.construction import diagonal as diagonal_of
    _require_tensor("linalg_diagonal", A, "A")
    _dim(dim1, A.ndim), _dim(dim2, A.ndim)
    return diagonal_of(A, offset, dim1, dim2)


# ------------------------------------------------------------------------ LDL^T
class _NotDifferentiable(Function):
    """Passes values through; its backward raises PyTorch's error for `ctx.op`."""

    @staticmethod
    def forward(ctx, a, values, op):
        ctx.op = op
        return values

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"derivative for aten::{ctx.op} is not implemented")


def _outside_graph(values, inputs, op):
    """values as a Tensor; a node whose backward raises when an input requires grad (as PyTorch)."""
    sources = [t for t in inputs if t.requires_grad]
    if sources and autograd.is_grad_enabled() and values.dtype.kind == "f":
        return _NotDifferentiable.apply(sources[0], values, op)
    return Tensor._make(values, False, None)


def _check_square(op, A, name="A"):
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(A.array.dtype)}")


def _sytrf(A):
    """LAPACK sytrf (lower) of each matrix of A (*, n, n): LD, pivots (int32, 1-based), info."""
    n = A.shape[-1]
    batch = A.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    matrices = A.reshape(count, n, n)                                            # (b, n, n)
    LD = np.zeros_like(matrices)
    pivots = np.tile(np.arange(1, n + 1, dtype=np.int32), (matrices.shape[0], 1))  # (b, n)
    info = np.zeros(matrices.shape[0], dtype=np.int32)
    sytrf = lapack.ssytrf if A.dtype == np.float32 else lapack.dsytrf
    if n > 0:
        for b, matrix in enumerate(matrices.astype(np.float64 if A.dtype == np.float16 else A.dtype)):
            factor, ipiv, info[b] = sytrf(matrix, lower=1)
            LD[b] = np.tril(factor)
            pivots[b] = ipiv
    return LD.reshape(A.shape), pivots.reshape(batch + (n,)), info.reshape(batch)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): the compact LDL^T factorisation of the symmetric A (lower triangle read).

    info[b] = k > 0: D[k-1, k-1] is exactly zero (the factorisation finished, but A is singular).
    hermitian=True is the same for real matrices.
    """
    op = "torch.linalg.ldl_factor_ex"
    _require_tensor("linalg_ldl_factor_ex", A, "A")
    _check_square(op, A)
    LD, pivots, info = _sytrf(A.array)
    if check_errors and (info > 0).any():
        _raise_singular(op, info)
    return LDLFactorExResult(_outside_graph(LD, [A], "linalg_ldl_factor_ex"),
                             Tensor._make(pivots, False, None), Tensor._make(info, False, None))


def _raise_singular(op, info):
    first = int(np.flatnonzero(info.reshape(-1) > 0)[0])
    where = "" if info.ndim == 0 else f" (batch element {first})"
    k = int(info.reshape(-1)[first])
    raise LinAlgError(f"{op}{where}: the factorization could not be completed because D[{k - 1}, {k - 1}] "
                      f"is exactly zero: the input matrix is singular.")


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots): ldl_factor_ex that raises LinAlgError for a singular A."""
    _require_tensor("linalg_ldl_factor", A, "A")
    _check_square("torch.linalg.ldl_factor", A)
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    if (info.array > 0).any():
        _raise_singular("torch.linalg.ldl_factor", info.array)
    return LDLFactorResult(LD, pivots)


def _check_pivots(op, pivots):
    """Each row of pivots must be what sytrf writes: 1 <= |p| <= n, negatives in equal pairs."""
    n = pivots.shape[-1]
    for row in pivots.reshape(int(np.prod(pivots.shape[:-1], dtype=np.int64)), n):
        k = 0
        while k < n:
            p = int(row[k])
            if p == 0 or abs(p) > n:
                raise RuntimeError(f"{op}: pivots must be 1-based row numbers in [1, {n}] (negative for a "
                                   f"2x2 block), as ldl_factor returns them, got {p} at position {k}")
            if p < 0:
                if k + 1 >= n or int(row[k + 1]) != p:
                    raise RuntimeError(f"{op}: a negative pivot marks a 2x2 block and must be repeated in the "
                                       f"next position, as ldl_factor returns it, got {row.tolist()}")
                k += 1
            k += 1


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B, A given by ldl_factor's (LD, pivots); batch dims broadcast."""
    op = "torch.linalg.ldl_solve"
    for value, name, position in ((LD, "LD", 1), (pivots, "pivots", 2), (B, "B", 3)):
        _require_tensor("linalg_ldl_solve", value, name, position)
    _check_square(op, LD, "LD")
    if pivots.array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {_type_name(pivots.array.dtype)}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
                           f"with shape {list(pivots.shape)} instead")
    if B.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(B.ndim, 1)}, "
                         f"{max(B.ndim, 1) - 1}], but got -2)")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {n} by {n} "
                           f"but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if B.array.dtype != LD.array.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_type_name(B.array.dtype)} and A of type {_type_name(LD.array.dtype)} instead.")
    _check_pivots(op, pivots.array)
    batch = np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2]))
    k = B.shape[-1]
    count = int(np.prod(batch, dtype=np.int64))
    factors = np.broadcast_to(LD.array, batch + (n, n)).reshape(count, n, n)       # (b, n, n)
    rows = np.broadcast_to(pivots.array, batch + (n,)).reshape(count, n)          # (b, n)
    rhs = np.broadcast_to(B.array, batch + (n, k)).reshape(count, n, k)           # (b, n, k)
    X = np.empty(rhs.shape, dtype=B.array.dtype)
    if n > 0 and k > 0:
        sytrs = lapack.ssytrs if B.array.dtype == np.float32 else lapack.dsytrs
        work = np.float64 if B.array.dtype == np.float16 else B.array.dtype
        for b in range(rhs.shape[0]):
            X[b], _ = sytrs(factors[b].astype(work), rows[b].astype(np.int32), rhs[b].astype(work), lower=1)
    return _outside_graph(X.reshape(batch + (n, k)), [LD, B], "linalg_ldl_solve")
