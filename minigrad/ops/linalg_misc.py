"""PyTorch's older top-level linear-algebra names, built on minigrad.linalg.

- ``nuclear_norm(x, dim=(-2,-1))``: sum of singular values; ``frobenius_norm(x, dim)``: sqrt(sum x^2)
- ``triangular_solve(b, A, upper, transpose, unitriangular)``: X with op(A) X = b, op(A) = A or A^T,
  returned with a copy of A (torch's (solution, cloned_coefficient))
- ``geqrf(A)``: LAPACK's compact QR (reflectors below the diagonal, R on and above, and tau);
  ``orgqr(A, tau)``: Q from them (linalg.householder_product); ``ormqr(A, tau, C, left, transpose)``:
  op(Q) C or C op(Q) with the full m x m Q = H_1 ... H_k
- ``svd_lowrank(A, q, niter, M)``, ``pca_lowrank(A, q, center, niter)``: Halko-Martinsson-Tropp
  randomized SVD of A - M (A minus its column means for PCA), torch's algorithm, minigrad's generator.
"""
import warnings
from collections import namedtuple

import numpy as np
import scipy.linalg.lapack as lapack

from minigrad import linalg
from minigrad.creation import randn
from minigrad.ops.shape import cat
from minigrad.tensor import Tensor

__all__ = ["frobenius_norm", "geqrf", "nuclear_norm", "orgqr", "ormqr", "pca_lowrank", "svd_lowrank",
           "triangular_solve"]

# torch.return_types.triangular_solve and torch.return_types.geqrf
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
GeqrfResult = namedtuple("geqrf", ["a", "tau"])


def _require_tensor(function, value, argument="input", position=1):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _require_floating(name, A, label="A"):
    if not (np.issubdtype(A.dtype, np.floating) or np.issubdtype(A.dtype, np.complexfloating)):
        raise RuntimeError(f"{name}: Expected {label} to be a floating point or complex tensor, "
                           f"but got {np.dtype(A.dtype).name}")


def _require_matrix(name, A, label="A"):
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    """||input||_* = sum of the singular values of each matrix over the 2 dims `dim`."""
    _require_tensor("nuclear_norm", input)
    if isinstance(dim, bool):  # nuclear_norm(x, True): torch's (input, keepdim) overload
        dim, keepdim = (-2, -1), dim
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    ndim = input.dim()
    if ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    for d in dim:
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                             f"but got {d})")
    first, second = (d % ndim for d in dim)
    if first == second:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    matrices = input.movedim((first, second), (-2, -1))                # (*rest, m, n)
    norm = linalg.svdvals(matrices).sum(-1)                             # (*rest,)
    if keepdim:
        for d in sorted((first, second)):
            norm = norm.unsqueeze(d)
    return norm


def frobenius_norm(input, dim, keepdim=False):
    """sqrt(sum over `dim` (one or two dims) of |input|^2)."""
    _require_tensor("frobenius_norm", input)
    dim = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions instead.")
    return linalg.vector_norm(input, 2, dim=dim, keepdim=keepdim)


_triangular_solve_warned = False


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """(X, A.clone()) with op(A) X = input, op(A) = A^T if transpose else A, A triangular (batches
    broadcast; the coefficient is returned broadcast to the batch shape)."""
    global _triangular_solve_warned
    _require_tensor("triangular_solve", input)
    _require_tensor("triangular_solve", A, "A", 2)
    if not _triangular_solve_warned:
        _triangular_solve_warned = True
        warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular"
                      "and will be removed in a future PyTorch release.\ntorch.linalg.solve_triangular has "
                      "its arguments reversed and does not return a copy of one of the inputs.\n"
                      "X = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
                      "X = torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    if input.dim() < 2 or A.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: The input tensor {'b' if input.dim() < 2 else 'A'} "
                           f"must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"torch.triangular_solve: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is {input.shape[-2]} by "
                           f"{input.shape[-1]}")
    if A.dtype != input.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but got b.dtype = "
                           f"{np.dtype(input.dtype).name} and A.dtype = {np.dtype(A.dtype).name} instead.")
    batch = np.broadcast_shapes(tuple(input.shape[:-2]), tuple(A.shape[:-2]))
    coefficient = A.expand(*batch, *A.shape[-2:])                       # (*batch, n, n)
    b = input.expand(*batch, *input.shape[-2:])                         # (*batch, n, k)
    op_A = coefficient.mH if transpose else coefficient
    solution = linalg.solve_triangular(op_A, b, upper=upper != bool(transpose), unitriangular=unitriangular)
    return TriangularSolveResult(solution, coefficient.clone())


def geqrf(input):
    """LAPACK ?geqrf: (a, tau), R on and above a's diagonal, reflector i's v_i = (0,..,1, a[i+1:, i])
    below it, tau (*, min(m, n)); A = H_1 ... H_k R with H_i = I - tau_i v_i v_i^H. Not differentiable."""
    _require_tensor("geqrf", input)
    _require_matrix("geqrf", input, "input")
    _require_floating("geqrf", input, "input")
    if input.requires_grad:
        from minigrad.autograd import is_grad_enabled
        if is_grad_enabled():
            raise NotImplementedError("the derivative for 'geqrf' is not implemented.")
    array = input.array
    m, n = array.shape[-2:]
    flat = array.reshape((-1, m, n))                                    # (batch, m, n)
    a_out = np.empty_like(flat)
    tau_out = np.empty((flat.shape[0], min(m, n)), dtype=array.dtype)
    routine = lapack.get_lapack_funcs("geqrf", (flat,))
    for index, matrix in enumerate(flat):
        if min(m, n) == 0:
            a_out[index] = matrix
            continue
        qr, tau, _, info = routine(matrix)
        if info < 0:
            raise RuntimeError(f"geqrf: Argument {-info} has illegal value.")
        a_out[index], tau_out[index] = qr, tau
    return GeqrfResult(Tensor(a_out.reshape(array.shape)),
                       Tensor(tau_out.reshape(array.shape[:-2] + (min(m, n),))))


def orgqr(input, tau):
    """Q's first n columns from geqrf's reflectors: linalg.householder_product(input, tau)."""
    _require_tensor("orgqr", input)
    _require_tensor("orgqr", tau, "tau", 2)
    return linalg.householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """op(Q) @ other (left) or other @ op(Q), Q = H_1 ... H_k the full (mn, mn) product of the
    reflectors in input (*, mn, k), op(Q) = Q^H if transpose else Q. Differentiable."""
    _require_tensor("ormqr", input)
    _require_tensor("ormqr", tau, "tau", 2)
    _require_tensor("ormqr", other, "other", 3)
    _require_matrix("torch.ormqr", input, "input")
    _require_matrix("torch.ormqr", other, "other")
    mn, k = input.shape[-2:]
    size = other.shape[-2] if left else other.shape[-1]
    if size != mn:
        side = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"torch.ormqr: {side} must be equal to input.shape[-2] when left={left}; "
                           f"got {size} and {mn}")
    reflector_count = min(size, k)
    if tau.shape[-1] != reflector_count:
        side = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min({side}, input.shape[-1])")
    # the first reflector_count reflectors, then identity ones (tau = 0) so that householder_product
    # returns all mn columns of Q
    reflectors = input[..., :reflector_count]                                      # (*, mn, r)
    reflectors = cat([reflectors, input.new_zeros(*input.shape[:-1], mn - reflector_count)], -1)  # (*, mn, mn)
    taus = cat([tau, tau.new_zeros(*tau.shape[:-1], mn - reflector_count)], -1)    # (*, mn)
    Q = linalg.householder_product(reflectors, taus)                                # (*, mn, mn)
    op_Q = Q.mH if transpose else Q
    return op_Q @ other if left else other @ op_Q


def _approximate_basis(A, q, niter, M):
    """Orthonormal Q (*, m, q) with A - M ~ Q Q^H (A - M): power iteration on a random sketch."""
    R = randn(A.shape[-1], q, dtype=A.dtype)                            # (n, q)

    def times(left, right, Mat):
        X = left @ right
        return X if Mat is None else X - Mat @ right

    Q = linalg.qr(times(A, R, M)).Q
    for _ in range(niter):
        Q = linalg.qr(times(A.mH, Q, None if M is None else M.mH)).Q
        Q = linalg.qr(times(A, Q, M)).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.expand(*A.shape)
    if m < n:                                                           # work on the tall A^H
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)                              # (*, rows, q)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M                  # (*, q, cols)
    U, S, Vh = linalg.svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A, q=6, niter=2, M=None):
    """Randomized (U, S, V), U (*, m, q), S (*, q), V (*, n, q), with A - M ~ U diag(S) V^H
    (exact when rank(A - M) <= q); q must not exceed min(m, n)."""
    _require_tensor("svd_lowrank", A, "A")
    _require_matrix("svd_lowrank", A)
    _require_floating("svd_lowrank", A)
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A minus its column means (center) with q = min(6, m, n) by default:
    V's columns are the principal directions, S**2 / (m - 1) their variances."""
    _require_tensor("pca_lowrank", A, "A")
    _require_matrix("pca_lowrank", A)
    _require_floating("pca_lowrank", A)
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=-2, keepdim=True), q, niter, None)
