"""``minigrad.linalg``: the parts of ``torch.linalg`` a deep-learning course uses."""

from minigrad.ops.linalg import matmul  # noqa: F401
from minigrad.ops.reduction import matrix_norm, vector_norm  # noqa: F401


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002  (PyTorch's names)
    """torch.linalg.norm: a vector norm (1-d input or one dim), else a matrix norm.

    ord=None is the 2-norm of a vector and the Frobenius norm of a matrix; with
    dim=None and ord=None any input is flattened.
    """
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None:
        dim = tuple(range(A.ndim)) if A.ndim <= 2 else None
    two_dims = isinstance(dim, (tuple, list)) and len(dim) == 2
    if two_dims or (dim is None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# --- mathfns ---
from minigrad.ops.fused_linalg import linalg_cross as cross  # noqa: E402, F401

# --- end mathfns ---
# --- linalg ---
# Decompositions and the functions built on them (minigrad/ops/linalg_decompositions.py).
from minigrad.ops.linalg_decompositions import (  # noqa: E402, F401
    LinAlgError,
    cholesky,
    cholesky_ex,
    cond,
    det,
    eigh,
    eigvalsh,
    householder_product,
    inv,
    inv_ex,
    lstsq,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matrix_exp,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    svd,
    svdvals,
    tensorinv,
    tensorsolve,
    vecdot,
)

# --- toplevelgaps ---
# vander, diagonal and the LDL^T factorisation (minigrad/ops/linalg_ldl.py).
from minigrad.ops.linalg_ldl import diagonal, ldl_factor, ldl_factor_ex, ldl_solve, vander  # noqa: E402, F401

# --- end toplevelgaps ---
