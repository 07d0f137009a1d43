"""Matrix decompositions and what is built on them: torch.linalg's det, inv,
solve, cholesky, qr, svd, eigh, lu, pinv, lstsq, matrix_exp, ...

Every function works on a matrix (m, n) or a batch of them (*, m, n). The
forward passes call LAPACK through numpy.linalg and scipy.linalg (the same
routines PyTorch calls on the CPU, so signs and pivots agree); the backward
passes are the closed-form derivatives, written beside each forward:

    det:       d det(A) / dA = adj(A)^T             (through the SVD: singular A is fine)
    inv:       X = A^-1,  gA = -X^T g X^T
    solve:     X = A^-1 B, gB = A^-T g,  gA = -gB X^T
    cholesky:  A = L L^T, gA = sym(L^-T Phi(L^T gL) L^-1)          (Murray 2016)
    qr:        A = QR,    gA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T   (m >= n)
    eigh:      A = V diag(w) V^T, gA = V (diag(gw) + F o skew(V^T gV)) V^T, F_ij = 1/(w_j - w_i)
    svd:       A = U diag(s) V^T (Townsend 2016, see Svd.backward_several)
    matrix_exp: the upper-right block of exp([[A^T, g], [0, A^T]])  (Mathias 1996)

Limits, as in PyTorch: eigh and svd gradients are infinite when two
eigen/singular values coincide (F divides by their difference) unless the
loss does not depend on the eigenvectors; the svd gradient through U or V
of a rank-deficient matrix divides by a zero singular value.

Functions with several differentiable outputs (qr, svd, eigh, slogdet's
logabsdet beside its sign, lu) are Functions of class _SeveralOutputs: each
output gets its own graph node, and backward_several receives the gradient
of each output (None for an output that no gradient reached).
"""
import math
import time
from collections import namedtuple

import numpy as np
import scipy.linalg
from scipy.linalg import blas as scipy_blas
from scipy.linalg import lapack

from minigrad import autograd
from minigrad.autograd import Function, _edge_to, _OutputOf, is_grad_enabled
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.linalg import matmul
from minigrad.tensor import Tensor


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix is singular or not positive-definite."""


# What the functions return, with torch.return_types' field names.
SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])
QRResult = namedtuple("linalg_qr", ["Q", "R"])
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = namedtuple("svd", ["U", "S", "V"])
TorchQRResult = namedtuple("qr", ["Q", "R"])
EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
LUFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])

_TORCH_DTYPE_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "int64": "Long", "int32": "Int",
                      "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                      "float32": "Float", "float64": "Double"}


# ---------------------------------------------------------------- helpers
def _mT(x):
    """The transpose of each matrix of a batch (*, m, n) -> (*, n, m)."""
    return np.swapaxes(x, -1, -2)


def _dtype_name(dtype):
    return _TORCH_DTYPE_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _check_matrix(name, A, square=True, label="A"):
    """A must be a float32/float64 Tensor of shape (*, m, n) (square: m == n)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}: {label} must be a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")
    _check_floating(name, A)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {label} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return A


def _check_floating(name, A):
    kind = A.array.dtype.kind
    if kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype_name(A.array.dtype)}")
    if A.array.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {_dtype_name(A.array.dtype)}")


def _check_same_dtype(name, A, B, first="A", second="B"):
    if A.array.dtype != B.array.dtype:
        raise RuntimeError(f"{name}: Expected {first} and {second} to have the same dtype, but found "
                           f"{first} of type {_dtype_name(A.array.dtype)} and {second} of type "
                           f"{_dtype_name(B.array.dtype)} instead")


def _scalar_name(dtype):
    """PyTorch's lower-case scalar type name: float32 -> 'float', float64 -> 'double'."""
    return {"float32": "float", "float64": "double", "float16": "half", "int64": "long",
            "int32": "int"}.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _batch_prefix(batched, index):
    return f"(Batch element {index}): " if batched else ""


def _each_matrix(function, *arrays):
    """Apply `function` to each matrix of a batch: arrays (*, m, n) with broadcast batch dims.

    function returns one array or a tuple of arrays; the results are stacked
    back into the batch shape.
    """
    batch = np.broadcast_shapes(*[a.shape[:-2] for a in arrays])
    arrays = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
    results = [function(*[a[index] for a in arrays]) for index in np.ndindex(*batch)]
    several = isinstance(results[0], tuple) if results else False
    if not results:  # an empty batch: run once on zeros to learn the output shapes
        probe = function(*[np.zeros(a.shape[-2:], a.dtype) + np.eye(*a.shape[-2:], dtype=a.dtype)
                           for a in arrays])
        several = isinstance(probe, tuple)
        probes = probe if several else (probe,)
        stacked = tuple(np.zeros(batch + np.shape(p), np.asarray(p).dtype) for p in probes)
        return stacked if several else stacked[0]
    if several:
        return tuple(np.stack(parts).reshape(batch + np.shape(parts[0])) for parts in zip(*results))
    return np.stack(results).reshape(batch + np.shape(results[0]))


def _eye_like(A):
    """Identity matrices of A's shape (*, n, n) and dtype."""
    return np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()


def _tensor(array):
    return Tensor._make(np.asarray(array), False, None)


# ------------------------------------------------ double backward helpers (Tensors)
# Each op's backward_graph is its backward written with Tensor ops (matmul, the
# solves below, masks), so it is recorded and can be differentiated again; see
# "double backward" in minigrad/autograd.py.
def _triangle_of(x, upper, diagonal=0):
    """triu(x, diagonal) or tril(x, diagonal) of each matrix, as a product with a constant mask."""
    ones = np.ones(tuple(x.shape[-2:]), dtype=x.dtype)
    return x * _tensor(np.triu(ones, diagonal) if upper else np.tril(ones, diagonal))


def _eye_tensor(n, dtype, columns=None):
    return _tensor(np.eye(n, columns, dtype=dtype))


def _zeros_tensor(shape, dtype):
    return _tensor(np.zeros(tuple(shape), dtype))


def _reconnected(ctx, index, array):
    """Output `index` of a _SeveralOutputs node as a Tensor of the graph: a node of its
    own pointing at ctx (as the original output's), so a double backward reaches ctx."""
    return Tensor._make(array, True, _OutputOf(ctx, index, array))


def _solve_triangular_t(A, B, upper, left, unitriangular, transpose=False):
    """_triangular_solve on Tensors (differentiable): op(A) X = B or X op(A) = B."""
    if transpose:
        A, upper = A.mT, not upper
    return SolveTriangular.apply(A, B, upper, left, unitriangular)


class _SeveralOutputs(Function):
    """A Function whose forward returns a tuple of arrays, each a differentiable output.

    ``apply`` gives each floating output its own node (_OutputOf) pointing at
    this ctx; backward gathers the gradients by output and passes them on to
    ``backward_several(ctx, *grads)``, None for an output that no gradient
    reached. Integer outputs (pivots, info) and those listed in
    ``non_differentiable`` (slogdet's sign, lu's P) carry no gradient.
    """

    non_differentiable = ()

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls()
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
        ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        start = time.perf_counter()
        results = cls.forward(ctx, *arrays, **kwargs)
        observer = autograd._observer  # minigrad.profiler, while it records
        if observer is not None:
            observer.record_forward(ctx, arrays, results[0], time.perf_counter() - start)
        if not (is_grad_enabled() and True in ctx.needs_input_grad):
            return tuple([Tensor._make(r, False, None) for r in results])
        ctx.next_nodes = tuple([_edge_to(a) for a in args])
        ctx.output_shape = ctx.output_dtype = None  # gradients arrive gathered by output
        ctx._output_id = None  # no single output: backward_graph reconnects its outputs itself
        ctx.output_specs = [(r.shape, r.dtype) for r in results]
        outputs = []
        for index, result in enumerate(results):
            if result.dtype.kind == "f" and index not in cls.non_differentiable:
                outputs.append(Tensor._make(result, True, _OutputOf(ctx, index, result)))
            else:
                outputs.append(Tensor._make(result, False, None))
        return tuple(outputs)

    @staticmethod
    def backward(ctx, grads_by_output):
        grads = []
        for index, (_, dtype) in enumerate(ctx.output_specs):
            grad = grads_by_output.get(index)
            grads.append(None if grad is None else np.asarray(grad).astype(dtype, copy=False))
        return type(ctx).backward_several(ctx, *grads)

    @staticmethod
    def _backward_graph(ctx, grads_by_output):
        """backward for a create_graph walk: the Tensor gradients by output, to the
        subclass's backward_several_graph (a subclass sets backward_graph to this)."""
        grads = []
        for index, (_, dtype) in enumerate(ctx.output_specs):
            grad = grads_by_output.get(index)
            if grad is not None and grad.array.dtype != dtype:
                grad = grad.to(dtype)
            grads.append(grad)
        return type(ctx).backward_several_graph(ctx, *grads)


# ---------------------------------------------------------------- det, slogdet
def _det_gradient_direction(A):
    """adj(A)^T = d det(A) / dA, through the SVD A = U diag(s) Vh:
    adj(A)^T = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh (finite for singular A)."""
    U, s, Vh = np.linalg.svd(A)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)  # (*, n)
    signs = np.linalg.det(U) * np.linalg.det(Vh)                                           # (*,)
    return signs[..., None, None] * (U * others[..., None, :]) @ Vh


class Det(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return np.asarray(np.linalg.det(A))

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        return grad[..., None, None] * _det_gradient_direction(A)

    @staticmethod
    def backward_graph(ctx, grad):
        """g det(A) A^-T; where some matrix is (nearly) singular, g cof(A) with the
        cofactors det(minor_ij) (-1)^(i+j), differentiable there too."""
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        grad = grad.unsqueeze(-1).unsqueeze(-1)
        if n == 0:
            return _zeros_tensor(A.shape, A.dtype)
        if n == 1:
            return grad * _tensor(np.ones(tuple(A.shape), A.dtype))
        values = np.linalg.svd(A.array, compute_uv=False) if A.array.size else np.ones(A.shape[:-1], A.dtype)
        if np.all(values[..., -1] > 1e3 * np.finfo(A.dtype).eps * values[..., 0]):
            return grad * Det.apply(A).unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT
        rows = np.array([[r for r in range(n) if r != i] for i in range(n)])          # (n, n-1)
        minors = A[(Ellipsis, rows[:, None, :, None], rows[None, :, None, :])]        # (*, n, n, n-1, n-1)
        signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
        return grad * Det.apply(minors) * _tensor(signs.astype(A.dtype))


def det(A):
    """det(A) of each matrix of (*, n, n) -> (*); gA = g adj(A)^T = g det(A) A^-T."""
    _check_matrix("linalg.det", A)
    return Det.apply(A)


class Slogdet(_SeveralOutputs):
    """(sign, log|det A|); only logabsdet is differentiable: g log|det| / dA = A^-T."""

    non_differentiable = (0,)

    @staticmethod
    def forward(ctx, A):
        sign, logabsdet = np.linalg.slogdet(A)
        ctx.save_for_backward(A)
        return np.asarray(sign, A.dtype), np.asarray(logabsdet, A.dtype)

    @staticmethod
    def backward_several(ctx, grad_sign, grad_logabsdet):
        (A,) = ctx.saved_tensors
        if grad_logabsdet is None:
            return (np.zeros_like(A),)
        U, s, Vh = np.linalg.svd(A)
        with np.errstate(divide="ignore"):
            inverse_transpose = (U / s[..., None, :]) @ Vh                 # A^-T = U diag(1/s) Vh
        return (grad_logabsdet[..., None, None] * inverse_transpose,)

    @staticmethod
    def backward_several_graph(ctx, grad_sign, grad_logabsdet):
        (A,) = ctx.saved_tensors
        if grad_logabsdet is None:
            return (None,)
        return (grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT,)

    backward_graph = _SeveralOutputs._backward_graph


def slogdet(A):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet); A (*, n, n)."""
    _check_matrix("linalg.slogdet", A)
    sign, logabsdet = Slogdet.apply(A)
    return SlogdetResult(sign, logabsdet)


def logdet(input):
    """log(det(A)): nan where det(A) < 0, -inf where it is 0 (as torch.logdet)."""
    _check_matrix("logdet", input)
    sign, logabsdet = slogdet(input)
    return logabsdet + _tensor(np.where(sign.array < 0, np.nan, 0).astype(input.array.dtype))


# ---------------------------------------------------------------- inv
def _lu_info(A):
    """LAPACK getrf's info for each matrix of (*, n, n): 0, or the first zero diagonal of U (1-based)."""
    getrf = lapack.get_lapack_funcs("getrf", (A,))
    return _each_matrix(lambda a: np.array([[getrf(a)[2]]]), A)[..., 0, 0]


def _raise_singular(name, A, message):
    info = _lu_info(A)
    batched = A.ndim > 2
    index = int(np.flatnonzero(info.reshape(-1) > 0)[0]) if (info > 0).any() else 0
    diagonal = int(info.reshape(-1)[index]) if info.size else 0
    raise LinAlgError(f"{name}: {_batch_prefix(batched, index)}"
                      + message.format(diagonal=diagonal))


_SINGULAR_INV = ("The diagonal element {diagonal} is zero, the inversion could not be completed "
                 "because the input matrix is singular.")


def _inverse_with_info(A):
    """(A^-1, info): getrf+getri per matrix; a singular matrix gives info > 0 (inf/nan inverse)."""
    try:
        return np.linalg.inv(A), np.zeros(A.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        # Some matrix is singular: each by its LU, back substitution through a zero pivot
        # giving inf/nan where LAPACK's would.
        getrf = lapack.get_lapack_funcs("getrf", (A,))

        def invert(a):
            lu, piv, _ = getrf(a)
            return scipy.linalg.lu_solve((lu, piv), np.eye(a.shape[-1], dtype=a.dtype), check_finite=False)
        with np.errstate(all="ignore"):
            return _each_matrix(invert, A), _lu_info(A).astype(np.int32)


class Inv(Function):
    @staticmethod
    def forward(ctx, A):
        inverse = np.linalg.inv(A)
        ctx.save_for_backward(inverse)
        return inverse

    @staticmethod
    def backward(ctx, grad):
        (inverse,) = ctx.saved_tensors
        inverse_t = _mT(inverse)
        return -(inverse_t @ grad @ inverse_t)              # gA = -A^-T g A^-T

    @staticmethod
    def backward_graph(ctx, grad):
        (inverse,) = ctx.saved_tensors                      # the output, in the graph
        inverse_t = inverse.mT
        return -(inverse_t @ grad @ inverse_t)


class InvEx(Function):
    @staticmethod
    def forward(ctx, A):
        inverse, info = _inverse_with_info(A)
        ctx.save_for_backward(inverse)
        return inverse, info

    backward = staticmethod(Inv.backward)
    backward_graph = staticmethod(Inv.backward_graph)


def inv(A):
    """A^-1 of each matrix of (*, n, n); a singular matrix raises LinAlgError."""
    _check_matrix("linalg.inv", A)
    try:
        return Inv.apply(A)
    except np.linalg.LinAlgError:
        _raise_singular("linalg.inv", A.array, _SINGULAR_INV)


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info > 0 is the zero diagonal of U for a singular matrix (no error
    unless check_errors)."""
    _check_matrix("linalg.inv", A)
    inverse, info = InvEx.apply(A)
    if check_errors and (info.array > 0).any():
        _raise_singular("linalg.inv_ex", A.array, _SINGULAR_INV)
    return InvExResult(inverse, info)


def inverse(input):
    """torch.inverse: linalg.inv."""
    return inv(input)


# ---------------------------------------------------------------- solve
class Solve(Function):
    """X = A^-1 B for A (*, n, n), B (*, n, k) with broadcast batch dims."""

    @staticmethod
    def forward(ctx, A, B):
        X = np.linalg.solve(A, B)
        ctx.save_for_backward(A, X)
        ctx.shapes = A.shape, B.shape
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_B = np.linalg.solve(_mT(A), grad)              # A^-T g, (*, n, k)
        grad_A = -(grad_B @ _mT(X)) if ctx.needs_input_grad[0] else None
        return (None if grad_A is None else unbroadcast(grad_A, a_shape),
                unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        A, X = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_B = Solve.apply(A.mT, grad)
        grad_A = unbroadcast(-(grad_B @ X.mT), a_shape) if ctx.needs_input_grad[0] else None
        return grad_A, unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[1] else None


def _is_vector_rhs(A, B):
    """torch's rule: B is a batch of vectors if it is 1-d or has A's shape without the last dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _check_solve_shapes(name, A, B, left, vector):
    n = A.shape[-1]
    rows = B.shape[-1] if vector else (B.shape[-2] if left else B.shape[-1])
    if rows != n:
        b_shape = f"{B.shape[-1]}x1" if vector else f"{B.shape[-2]}x{B.shape[-1]}"
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {equation} "
                           f"({n}x{n} and {b_shape})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1] if vector else B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"{name}: the batch dimensions of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)} cannot be broadcast together") from None


def solve(A, B, *, left=True):
    """X with A X = B (left=True) or X A = B (left=False); A (*, n, n), B (*, n, k) or (*, n)."""
    name = "linalg.solve"
    _check_matrix(name, A)
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}: B must be a Tensor, got {type(B).__name__}")
    _check_floating(name, B)
    _check_same_dtype(name, A, B)
    vector = _is_vector_rhs(A, B)
    if vector and not left:
        # torch reads a vector B as a k x 1 matrix here, which XA = B never fits.
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation XA = B "
                           f"({A.shape[-1]}x{A.shape[-1]} and {B.shape[-1]}x1)")
    _check_solve_shapes(name, A, B, left, vector)
    try:
        if vector:
            return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)       # (*, n, 1) -> (*, n)
        if left:
            return Solve.apply(A, B)
        return Solve.apply(A.mT, B.mT).mT                            # X A = B <=> A^T X^T = B^T
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular.") from None


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info): solve without raising for a singular A unless check_errors."""
    _check_matrix("linalg.solve_ex", A)
    info = _lu_info(A.array).astype(np.int32)
    if (info > 0).any():
        if check_errors:
            _raise_singular("torch.linalg.solve_ex", A.array, "The solver failed because the input matrix "
                            "is singular.")
        with np.errstate(all="ignore"):
            result = _tensor(_solve_singular(A.array, B.array, left, _is_vector_rhs(A, B)))
        return SolveExResult(result, _tensor(info))
    return SolveExResult(solve(A, B, left=left), _tensor(info))


def _solve_singular(A, B, left, vector):
    """LAPACK's getrs through a zero pivot (inf/nan), as torch.linalg.solve_ex returns."""
    if vector:
        B = B[..., None]
    if not left:
        A, B = _mT(A), _mT(B)

    def one(a, b):
        lu, piv, _ = lapack.get_lapack_funcs("getrf", (a,))(a)
        return scipy.linalg.lu_solve((lu, piv), b, check_finite=False)
    X = _each_matrix(one, A, B)
    if not left:
        X = _mT(X)
    return X[..., 0] if vector else X


# ---------------------------------------------------------------- triangular solve
def _triangle(A, upper, unitriangular):
    """The part of A a triangular solve reads: its upper or lower triangle (strict if unitriangular)."""
    offset = 1 if unitriangular else 0
    return np.triu(A, offset) if upper else np.tril(A, -offset)


def _triangular_solve(A, B, upper, left, unitriangular, transpose=False):
    """X with op(A) X = B (left) or X op(A) = B, op(A) = A or A^T; BLAS trsm per matrix."""
    def one(a, b):
        trsm = scipy_blas.get_blas_funcs("trsm", (a, b))
        return trsm(1.0, a, b, side=0 if left else 1, lower=0 if upper else 1,
                    trans_a=1 if transpose else 0, diag=1 if unitriangular else 0)
    with np.errstate(all="ignore"):
        return _each_matrix(one, A, B).astype(B.dtype, copy=False)


class SolveTriangular(Function):
    """X = A^-1 B (left) or B A^-1, A triangular; the gradient of A keeps A's triangle."""

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        X = _triangular_solve(A, B, upper, left, unitriangular)
        ctx.save_for_backward(A, X)
        ctx.options = upper, left, unitriangular
        ctx.shapes = A.shape, B.shape
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        upper, left, unitriangular = ctx.options
        a_shape, b_shape = ctx.shapes
        # left: gB = A^-T g, gA = -gB X^T;  right (X A = B): gB = g A^-T, gA = -X^T gB.
        grad_B = _triangular_solve(A, grad, upper, left, unitriangular, transpose=True)
        grad_A = None
        if ctx.needs_input_grad[0]:
            grad_A = -(grad_B @ _mT(X)) if left else -(_mT(X) @ grad_B)
            grad_A = unbroadcast(_triangle(grad_A, upper, unitriangular), a_shape)
        return grad_A, unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[1] else None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        A, X = ctx.saved_tensors
        upper, left, unitriangular = ctx.options
        a_shape, b_shape = ctx.shapes
        grad_B = _solve_triangular_t(A, grad, upper, left, unitriangular, transpose=True)
        grad_A = None
        if ctx.needs_input_grad[0]:
            grad_A = -(grad_B @ X.mT) if left else -(X.mT @ grad_B)
            grad_A = unbroadcast(_triangle_of(grad_A, upper, (1 if upper else -1) if unitriangular else 0),
                                 a_shape)
        return grad_A, unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[1] else None, None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (left) or X A = B, A (*, n, n) upper or lower triangular, B (*, n, k) / (*, k, n).

    Only A's triangle is read (and not its diagonal if unitriangular, taken as ones).
    """
    name = "linalg.solve_triangular"
    _check_matrix(name, A)
    _check_matrix(name, B, square=False, label="B")
    if A.array.dtype != B.array.dtype:  # PyTorch promotes here (solve and lstsq refuse)
        common = np.promote_types(A.array.dtype, B.array.dtype)
        A, B = A.to(common), B.to(common)
    _check_solve_shapes(name, A, B, left, vector=False)
    return SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))


# ---------------------------------------------------------------- cholesky
_NOT_POSITIVE_DEFINITE = ("The factorization could not be completed because the input is not "
                          "positive-definite (the leading minor of order {order} is not "
                          "positive-definite).")


def _cholesky_with_info(A):
    """(L, info) per matrix: LAPACK potrf of the lower triangle; info = order of the failing minor."""
    try:
        return np.linalg.cholesky(A), np.zeros(A.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        potrf = lapack.get_lapack_funcs("potrf", (A,))

        def one(a):
            factor, info = potrf(a, lower=1, clean=1)
            return factor, np.array([[info]], np.int32)
        L, info = _each_matrix(one, A)
        return L, info[..., 0, 0]


class Cholesky(Function):
    """L with A = L L^T.  gA = sym(L^-T Phi(L^T gL) L^-1), Phi: the lower triangle with
    half its diagonal, sym(X) = (X + X^T) / 2 (Murray 2016, as PyTorch)."""

    @staticmethod
    def forward(ctx, A):
        L, info = _cholesky_with_info(A)
        ctx.save_for_backward(L)
        return L, info

    @staticmethod
    def backward(ctx, grad):
        (L,) = ctx.saved_tensors
        phi = np.tril(_mT(L) @ grad)
        phi -= 0.5 * np.eye(L.shape[-1], dtype=L.dtype) * phi   # halve the diagonal
        # L^-T phi L^-1: two triangular solves.
        left = _triangular_solve(L, phi, upper=False, left=True, unitriangular=False, transpose=True)
        grad_A = _triangular_solve(L, left, upper=False, left=False, unitriangular=False)
        return 0.5 * (grad_A + _mT(grad_A))

    @staticmethod
    def backward_graph(ctx, grad):
        (L,) = ctx.saved_tensors                            # the output, in the graph
        n = L.shape[-1]
        phi = _triangle_of(L.mT @ grad, upper=False) * _tensor(1 - 0.5 * np.eye(n, dtype=L.dtype))
        left = _solve_triangular_t(L, phi, upper=False, left=True, unitriangular=False, transpose=True)
        grad_A = _solve_triangular_t(L, left, upper=False, left=False, unitriangular=False)
        return 0.5 * (grad_A + grad_A.mT)


def _raise_not_positive_definite(name, A, info):
    flat = info.reshape(-1)
    index = int(np.flatnonzero(flat > 0)[0])
    raise LinAlgError(f"{name}: {_batch_prefix(A.ndim > 2, index)}"
                      + _NOT_POSITIVE_DEFINITE.format(order=int(flat[index])))


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): the Cholesky factor of (the lower triangle of) A; info > 0 is the order of the
    first leading minor that is not positive-definite."""
    _check_matrix("linalg.cholesky", A)
    L, info = Cholesky.apply(A)
    if check_errors and (info.array > 0).any():
        _raise_not_positive_definite("linalg.cholesky_ex", A.array, info.array)
    return CholeskyExResult(L.mT if upper else L, info)


def cholesky(A, *, upper=False):
    """L (lower triangular) with A = L L^T, or U = L^T with upper=True; A (*, n, n) symmetric
    positive-definite (only its lower triangle is read)."""
    _check_matrix("linalg.cholesky", A)
    L, info = Cholesky.apply(A)
    if (info.array > 0).any():
        _raise_not_positive_definite("linalg.cholesky", A.array, info.array)
    return L.mT if upper else L


def torch_cholesky(input, upper=False):
    """torch.cholesky (deprecated in PyTorch): linalg.cholesky with `upper` positional."""
    return cholesky(input, upper=upper)


class CholeskySolve(Function):
    """X = A^-1 B with A = L L^T (or U^T U). As PyTorch, the gradient treats the factor as a
    full matrix: gB = A^-1 g, C = gB X^T + X gB^T, gL = -C L (upper: gU = -U C)."""

    @staticmethod
    def forward(ctx, B, L, upper):
        if upper:  # A = U^T U: U^T Y = B, then U X = Y
            Y = _triangular_solve(L, B, upper=True, left=True, unitriangular=False, transpose=True)
            X = _triangular_solve(L, Y, upper=True, left=True, unitriangular=False)
        else:      # A = L L^T: L Y = B, then L^T X = Y
            Y = _triangular_solve(L, B, upper=False, left=True, unitriangular=False)
            X = _triangular_solve(L, Y, upper=False, left=True, unitriangular=False, transpose=True)
        ctx.save_for_backward(L, X)
        ctx.upper = upper
        ctx.shapes = B.shape, L.shape
        return X

    @staticmethod
    def backward(ctx, grad):
        L, X = ctx.saved_tensors
        b_shape, l_shape = ctx.shapes
        grad_B = CholeskySolve.forward(type(ctx)(), grad, L, ctx.upper)     # A^-1 g
        grad_L = None
        if ctx.needs_input_grad[1]:
            common = grad_B @ _mT(X)
            common = common + _mT(common)
            grad_L = unbroadcast(-(L @ common) if ctx.upper else -(common @ L), l_shape)
        return unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[0] else None, grad_L, None

    @staticmethod
    def backward_graph(ctx, grad):
        L, X = ctx.saved_tensors
        b_shape, l_shape = ctx.shapes
        grad_B = CholeskySolve.apply(grad, L, ctx.upper)
        grad_L = None
        if ctx.needs_input_grad[1]:
            common = grad_B @ X.mT
            common = common + common.mT
            grad_L = unbroadcast(-(L @ common) if ctx.upper else -(common @ L), l_shape)
        return unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[0] else None, grad_L, None


def cholesky_solve(B, L, upper=False):
    """torch.cholesky_solve: X with A X = B for A = L L^T (or U^T U with upper=True);
    B (*, n, k), L (*, n, n) with broadcast batch dims; only L's triangle is read."""
    name = "cholesky_solve"
    _check_matrix(name, L, label="L")
    _check_matrix(name, B, square=False, label="B")
    if B.array.dtype != L.array.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_dtype_name(B.array.dtype)} and A of type {_dtype_name(L.array.dtype)} instead.")
    _check_solve_shapes(name, L, B, left=True, vector=False)
    return CholeskySolve.apply(B, L, bool(upper))


def cholesky_inverse(L, upper=False):
    """torch.cholesky_inverse: A^-1 for A = L L^T (or U^T U), as cholesky_solve(I, L)."""
    _check_matrix("cholesky_inverse", L, label="L")
    return CholeskySolve.apply(_eye_like(L.array), L, bool(upper))


# ---------------------------------------------------------------- qr
def _copyltu(M):
    """The symmetric matrix with M's lower triangle: copyltu(M)_ij = M_max(i,j),min(i,j)."""
    lower = np.tril(M, -1)
    return lower + _mT(lower) + np.eye(M.shape[-1], dtype=M.dtype) * M


def _qr_backward_tall(Q, R, grad_Q, grad_R):
    """A = QR with Q (m, n), R (n, n), m >= n: gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    M = R @ _mT(grad_R) - _mT(grad_Q) @ Q
    b = grad_Q + Q @ _copyltu(M)
    return _triangular_solve(R, b, upper=True, left=False, unitriangular=False, transpose=True)


def _copyltu_graph(M):
    lower = _triangle_of(M, upper=False, diagonal=-1)
    return lower + lower.mT + _eye_tensor(M.shape[-1], M.dtype) * M


def _qr_backward_tall_graph(Q, R, grad_Q, grad_R):
    """_qr_backward_tall on Tensors."""
    M = R @ grad_R.mT - grad_Q.mT @ Q
    b = grad_Q + Q @ _copyltu_graph(M)
    return _solve_triangular_t(R, b, upper=True, left=False, unitriangular=False, transpose=True)


class QR(_SeveralOutputs):
    @staticmethod
    def forward(ctx, A, mode):
        m, n = A.shape[-2:]
        if mode == "r":
            R = np.linalg.qr(A, mode="r") if A.size else np.zeros(A.shape[:-2] + (min(m, n), n), A.dtype)
            ctx.mode = mode
            return np.zeros((0,), A.dtype), np.asarray(R)
        Q, R = np.linalg.qr(A, mode=mode)
        ctx.save_for_backward(A, Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward_several(ctx, grad_Q, grad_R):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                               "differentiate through linalg.qr.")
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2:]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        grad_Q = np.zeros_like(Q) if grad_Q is None else grad_Q
        grad_R = np.zeros_like(R) if grad_R is None else grad_R
        if m >= n:
            return _qr_backward_tall(Q, R, grad_Q, grad_R), None
        # Wide A = [X | Y] = Q [U | V]: X = QU is square, Y = QV gives gY = Q gV and adds Y gV^T to gQ.
        U, Y = R[..., :, :m], A[..., :, m:]
        grad_U, grad_V = grad_R[..., :, :m], grad_R[..., :, m:]
        grad_X = _qr_backward_tall(Q, U, grad_Q + Y @ _mT(grad_V), grad_U)
        return np.concatenate([grad_X, Q @ grad_V], axis=-1), None

    @staticmethod
    def backward_several_graph(ctx, grad_Q, grad_R):
        if ctx.mode == "r":
            return QR.backward_several(ctx, None, None)   # raises PyTorch's error
        from minigrad.ops.shape import cat
        A, Q, R = ctx.saved_tensors
        if ctx.mode == "complete" and A.shape[-2] > A.shape[-1]:
            return QR.backward_several(ctx, None, None)   # raises PyTorch's error
        Q, R = _reconnected(ctx, 0, Q.array), _reconnected(ctx, 1, R.array)
        m, n = A.shape[-2:]
        grad_Q = _zeros_tensor(Q.shape, Q.dtype) if grad_Q is None else grad_Q
        grad_R = _zeros_tensor(R.shape, R.dtype) if grad_R is None else grad_R
        if m >= n:
            return _qr_backward_tall_graph(Q, R, grad_Q, grad_R), None
        U, Y = R[..., :, :m], A[..., :, m:]
        grad_U, grad_V = grad_R[..., :, :m], grad_R[..., :, m:]
        grad_X = _qr_backward_tall_graph(Q, U, grad_Q + Y @ grad_V.mT, grad_U)
        return cat([grad_X, Q @ grad_V], -1), None

    backward_graph = _SeveralOutputs._backward_graph


def qr(A, mode="reduced"):
    """(Q, R) with A = QR, Q orthonormal columns, R upper triangular; A (*, m, n), k = min(m, n).

    mode='reduced': Q (*, m, k), R (*, k, n); 'complete': Q (*, m, m), R (*, m, n);
    'r': R only (Q is an empty tensor).
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           f"(default), 'r', or 'complete'")
    _check_matrix("linalg.qr", A, square=False)
    Q, R = QR.apply(A, mode)
    return QRResult(Q, R)


def torch_qr(input, some=True):
    """torch.qr (deprecated in PyTorch): linalg.qr with mode 'reduced' (some) or 'complete'."""
    Q, R = qr(input, "reduced" if some else "complete")
    return TorchQRResult(Q, R)


# ---------------------------------------------------------------- eigh
class Eigh(_SeveralOutputs):
    """A = V diag(w) V^T, w ascending.  gA = V (diag(gw) + F o skew(V^T gV)) V^T with
    skew(X) = (X - X^T) / 2 and F_ij = 1 / (w_j - w_i) off the diagonal (infinite for
    repeated eigenvalues); gA is symmetric, as PyTorch's."""

    @staticmethod
    def forward(ctx, A, UPLO):
        w, V = np.linalg.eigh(A, UPLO=UPLO)
        ctx.save_for_backward(w, V)
        return w, V

    @staticmethod
    def backward_several(ctx, grad_w, grad_V):
        w, V = ctx.saved_tensors
        if grad_V is None:
            inner = np.zeros(V.shape, V.dtype)
        else:
            differences = w[..., None, :] - w[..., :, None]            # (*, n, n): w_j - w_i
            n = w.shape[-1]
            differences[..., range(n), range(n)] = 1.0
            projected = _mT(V) @ grad_V
            inner = 0.5 * (projected - _mT(projected)) / differences      # the skew part: gA is symmetric
            inner[..., range(n), range(n)] = 0.0
        if grad_w is not None:
            inner = inner + grad_w[..., None, :] * np.eye(w.shape[-1], dtype=w.dtype)
        return V @ inner @ _mT(V), None

    @staticmethod
    def backward_several_graph(ctx, grad_w, grad_V):
        w, V = ctx.saved_tensors
        w, V = _reconnected(ctx, 0, w.array), _reconnected(ctx, 1, V.array)
        n = w.shape[-1]
        eye = _eye_tensor(n, w.dtype)
        if grad_V is None:
            inner = _zeros_tensor(V.shape, V.dtype)
        else:
            differences = w.unsqueeze(-2) - w.unsqueeze(-1) + eye         # (*, n, n): w_j - w_i, 1 on the diagonal
            projected = V.mT @ grad_V
            inner = 0.5 * (projected - projected.mT) / differences * (1 - eye)
        if grad_w is not None:
            inner = inner + grad_w.unsqueeze(-2) * eye
        return V @ inner @ V.mT, None

    backward_graph = _SeveralOutputs._backward_graph


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L"):
    """(eigenvalues ascending (*, n), eigenvectors (*, n, n) as columns) of symmetric A;
    only the triangle UPLO ('L' lower, 'U' upper) is read."""
    _check_uplo(UPLO)
    _check_matrix("linalg.eigh", A)
    w, V = Eigh.apply(A, UPLO)
    return EighResult(w, V)


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric A, ascending (*, n); gA = V diag(gw) V^T."""
    _check_uplo(UPLO)
    _check_matrix("linalg.eigh", A)
    return Eigh.apply(A, UPLO)[0]


# ---------------------------------------------------------------- svd
class Svd(_SeveralOutputs):
    """A = U diag(S) Vh, k = min(m, n) singular values, descending."""

    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
        ctx.save_for_backward(U, S, Vh)  # the outputs (backward uses their first k columns / rows)
        return U, S, Vh

    @staticmethod
    def backward_several(ctx, grad_U, grad_S=None, grad_Vh=None):
        """Townsend 2016, real case: with J = U^T gU, K = V^T gV, E_ij = s_j^2 - s_i^2,
        gA = U [diag(gS) + ((J - J^T) s_j + s_i (K - K^T)) / E] Vh
             + (gU - U J) diag(1/s) Vh + U diag(1/s) (gV - V K)^T.
        With full_matrices the gradients of the extra columns of U and V are dropped
        (they are not determined by A), as PyTorch does."""
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        eye = np.eye(k, dtype=S.dtype)
        inner = np.zeros(S.shape + (k,), S.dtype) if grad_S is None else grad_S[..., None, :] * eye
        if grad_U is None and grad_Vh is None:
            return U @ inner @ Vh, None
        V = _mT(Vh)
        grad_U = None if grad_U is None else grad_U[..., :, :k]
        grad_V = None if grad_Vh is None else _mT(grad_Vh[..., :k, :])
        E = S[..., None, :] ** 2 - S[..., :, None] ** 2                      # (*, k, k)
        E = E + eye                                                          # the diagonal: numerators are 0
        grad_A = 0
        if grad_U is not None:
            J = _mT(U) @ grad_U
            inner = inner + (J - _mT(J)) * S[..., None, :] / E
            grad_A = grad_A + ((grad_U - U @ J) / S[..., None, :]) @ Vh          # (I - U U^T) gU S^-1 Vh
        if grad_V is not None:
            K = _mT(V) @ grad_V
            inner = inner + S[..., :, None] * (K - _mT(K)) / E
            grad_A = grad_A + U @ _mT((grad_V - V @ K) / S[..., None, :])        # U S^-1 gV^T (I - V V^T)
        return U @ inner @ Vh + grad_A, None

    @staticmethod
    def backward_several_graph(ctx, grad_U, grad_S=None, grad_Vh=None):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        U = _reconnected(ctx, 0, U.array)[..., :, :k]
        S = _reconnected(ctx, 1, S.array)
        Vh = _reconnected(ctx, 2, Vh.array)[..., :k, :]
        eye = _eye_tensor(k, S.dtype)
        inner = _zeros_tensor(tuple(S.shape) + (k,), S.dtype) if grad_S is None else grad_S.unsqueeze(-2) * eye
        if grad_U is None and grad_Vh is None:
            return U @ inner @ Vh, None
        V = Vh.mT
        grad_U = None if grad_U is None else grad_U[..., :, :k]
        grad_V = None if grad_Vh is None else grad_Vh[..., :k, :].mT
        E = S.unsqueeze(-2) ** 2 - S.unsqueeze(-1) ** 2 + eye
        grad_A = None
        if grad_U is not None:
            J = U.mT @ grad_U
            inner = inner + (J - J.mT) * S.unsqueeze(-2) / E
            grad_A = ((grad_U - U @ J) / S.unsqueeze(-2)) @ Vh
        if grad_V is not None:
            K = V.mT @ grad_V
            inner = inner + S.unsqueeze(-1) * (K - K.mT) / E
            term = U @ ((grad_V - V @ K) / S.unsqueeze(-2)).mT
            grad_A = term if grad_A is None else grad_A + term
        return U @ inner @ Vh + grad_A, None

    backward_graph = _SeveralOutputs._backward_graph


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh; A (*, m, n), k = min(m, n), S (*, k) descending.

    full_matrices: U (*, m, m), Vh (*, n, n); else U (*, m, k), Vh (*, k, n).
    """
    _check_matrix("linalg.svd", A, square=False)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA "
                           "inputs with cuSOLVER backend.")
    U, S, Vh = Svd.apply(A, bool(full_matrices))
    return SVDResult(U, S, Vh)


def svdvals(A, *, driver=None):
    """The singular values of A (*, m, n), descending (*, k); gA = U diag(gS) Vh."""
    _check_matrix("linalg.svd", A, square=False)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA "
                           "inputs with cuSOLVER backend.")
    return Svd.apply(A, False)[1]


def torch_svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with A = U diag(S) V^T (V, not Vh); some=True is the reduced SVD.
    compute_uv=False: U and V are zero matrices (m, m) and (n, n)."""
    _check_matrix("svd", input, square=False)
    if not compute_uv:
        S = svdvals(input)
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return TorchSVDResult(_tensor(np.zeros(batch + (m, m), input.array.dtype)), S,
                              _tensor(np.zeros(batch + (n, n), input.array.dtype)))
    U, S, Vh = Svd.apply(input, not some)
    return TorchSVDResult(U, S, Vh.mT)


# ---------------------------------------------------------------- pinv, matrix_rank
def _tolerance(S, atol, rtol, m, n):
    """max(atol, rtol * largest singular value) per matrix, torch's defaults: rtol = eps * max(m, n)
    when neither is given, 0 when only atol is."""
    as_array = lambda t: None if t is None else np.asarray(getattr(t, "array", t), S.dtype)  # noqa: E731
    atol, rtol = as_array(atol), as_array(rtol)
    if rtol is None:
        rtol = np.asarray(np.finfo(S.dtype).eps * max(m, n) if atol is None else 0.0, S.dtype)
    if atol is None:
        atol = np.asarray(0.0, S.dtype)
    largest = S[..., :1] if S.shape[-1] else np.zeros(S.shape[:-1] + (1,), S.dtype)
    return np.maximum(atol[..., None], rtol[..., None] * largest)       # (*, 1)


def _pinv_backward(A, P, grad, _mT=_mT):
    """d A^+ for A (m, n), P = A^+ (n, m), rank held fixed (Golub & Pereyra 1973):
    gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""
    P_t = _mT(P)
    grad_t = _mT(grad)
    term1 = -(P_t @ grad @ P_t)
    term2 = (grad_t - A @ (P @ grad_t)) @ (P @ P_t)
    term3 = (P_t @ P) @ (grad_t - (grad_t @ P) @ A)
    return term1 + term2 + term3


class Pinv(Function):
    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        m, n = A.shape[-2:]
        if hermitian:
            w, V = np.linalg.eigh(A)
            magnitude = np.abs(w)
            order = np.argsort(-magnitude, axis=-1)
            tolerance = _tolerance(np.take_along_axis(magnitude, order, -1), atol, rtol, m, n)
            with np.errstate(divide="ignore"):
                kept = np.where(magnitude > tolerance, 1.0 / w, 0.0).astype(A.dtype)
            P = (V * kept[..., None, :]) @ _mT(V)
        else:
            U, S, Vh = np.linalg.svd(A, full_matrices=False)
            tolerance = _tolerance(S, atol, rtol, m, n)
            with np.errstate(divide="ignore"):
                kept = np.where(S > tolerance, 1.0 / S, 0.0).astype(A.dtype)
            P = (_mT(Vh) * kept[..., None, :]) @ _mT(U)                    # V diag(1/s) U^T, (*, n, m)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, grad):
        A, P = ctx.saved_tensors
        return _pinv_backward(A, P, grad), None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        A, P = ctx.saved_tensors                            # the input and the output, in the graph
        return _pinv_backward(A, P, grad, lambda t: t.mT), None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    """The Moore-Penrose pseudo-inverse A^+ = V diag(1/s) U^T of A (*, m, n) -> (*, n, m),
    singular values <= max(atol, rtol * s_max) dropped (rcond: the older name of rtol)."""
    if not isinstance(A, Tensor) or A.ndim < 2 or A.array.dtype not in (np.float32, np.float64):
        dtype = _dtype_name(A.array.dtype) if isinstance(A, Tensor) else type(A).__name__
        shape = list(A.shape) if isinstance(A, Tensor) else "?"
        raise RuntimeError(f"linalg.pinv({dtype}{{{shape}}}): expected a tensor with 2 or more "
                           f"dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:
        rtol = rcond
    if hermitian:
        _check_matrix("linalg.eigh", A)
    return Pinv.apply(A, atol, rtol, bool(hermitian))


def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """The number of singular values > max(atol, rtol * s_max) of each matrix (*, m, n) -> (*),
    int64 (tol: the older name of atol)."""
    _check_matrix("linalg.eigh" if hermitian else "linalg.matrix_rank", A, square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A.shape[-2:]
    if hermitian:
        S = np.sort(np.abs(np.linalg.eigvalsh(A.array)), axis=-1)[..., ::-1]
    else:
        S = np.linalg.svd(A.array, compute_uv=False)
    tolerance = _tolerance(S, atol, rtol, m, n)
    return _tensor(np.asarray((S > tolerance).sum(-1), np.int64))


# ---------------------------------------------------------------- lstsq
_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class Lstsq(Function):
    """The least-squares solution X = A^+ B; its gradient is that of pinv(A) @ B."""

    @staticmethod
    def forward(ctx, A, B, rcond, driver):
        m, n = A.shape[-2:]
        if rcond is None:
            rcond = np.finfo(A.dtype).eps * max(m, n)

        def one(a, b):
            if driver == "gels":
                gels = lapack.get_lapack_funcs("gels", (a, b))
                padded = np.zeros((max(m, n), b.shape[1]), b.dtype)
                padded[:m] = b
                _, x, _ = gels(a, padded)
                return x[:n], np.array([[-1]]), np.zeros((1, 0), a.dtype)
            x, _, rank, s = scipy.linalg.lstsq(a, b, cond=rcond, lapack_driver=driver,
                                               check_finite=False)
            s = np.zeros((0,), a.dtype) if s is None or driver == "gelsy" else np.asarray(s, a.dtype)
            return x, np.array([[rank]]), s[None, :]
        X, rank, S = _each_matrix(one, A, B)
        X = X.astype(A.dtype, copy=False)
        rank = rank[..., 0, 0].astype(np.int64)
        S = S[..., 0, :]
        if driver == "gels":
            rank = np.zeros((0,), np.int64)
        if driver not in ("gelsd", "gelss"):
            S = np.zeros((0,), A.dtype)
        ctx.save_for_backward(A, B)
        ctx.shapes = A.shape, B.shape
        return X, rank, S

    @staticmethod
    def backward(ctx, grad):
        A, B = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        P = np.linalg.pinv(A)                                   # (*, n, m)
        grad_A = grad_B = None
        if ctx.needs_input_grad[0]:
            grad_A = unbroadcast(_pinv_backward(A, P, grad @ _mT(B)), a_shape)   # gP = g B^T
        if ctx.needs_input_grad[1]:
            grad_B = unbroadcast(_mT(P) @ grad, b_shape)                          # gB = P^T g
        return grad_A, grad_B, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        A, B = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        P = Pinv.apply(A, None, 1e-15, False)                  # np.linalg.pinv's cutoff, differentiable
        grad_A = grad_B = None
        if ctx.needs_input_grad[0]:
            grad_A = unbroadcast(_pinv_backward(A, P, grad @ B.mT, lambda t: t.mT), a_shape)
        if ctx.needs_input_grad[1]:
            grad_B = unbroadcast(P.mT @ grad, b_shape)
        return grad_A, grad_B, None, None


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) minimising ||A X - B||_F; A (*, m, n),
    B (*, m, k) or (*, m). CPU drivers as torch: 'gelsy' (default), 'gelsd', 'gelss', 'gels'.

    residuals (squared, per column) only for m > n, full rank, driver != 'gelsy'; rank for
    every driver but 'gels'; singular_values for 'gelsd' and 'gelss'; else empty tensors.
    """
    name = "torch.linalg.lstsq"
    _check_matrix("linalg.lstsq", A, square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}: B must be a Tensor, got {type(B).__name__}")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.array.dtype != B.array.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_dtype_name(A.array.dtype)} and other's dtype "
                           f"{_dtype_name(B.array.dtype)}")
    if not (B.ndim <= A.ndim and A.ndim - B.ndim <= 1):
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                           f"(input.dim() - other.dim()) <= 1")
    vector = B.ndim == A.ndim - 1                              # torch's rule for lstsq
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2)")
    matrix_B = B.unsqueeze(-1) if vector else B                # (*, m) -> (*, m, 1)
    solution, rank, S = Lstsq.apply(A, matrix_B, rcond, driver)
    m, n = A.shape[-2:]
    # torch: residuals only when m > n, every matrix full rank, and the driver is not gelsy.
    if m > n and driver != "gelsy" and (driver == "gels" or bool((rank.array == n).all())):
        residuals = ((matmul(A, solution) - matrix_B) ** 2).sum(-2)      # (*, k), differentiable
        if vector:
            residuals = residuals.squeeze(-1)
    else:
        residuals = _tensor(np.zeros((0,), A.array.dtype))
    if vector:
        solution = solution.squeeze(-1)                        # (*, n, 1) -> (*, n)
    return LstsqResult(solution, residuals, rank, S)


# ---------------------------------------------------------------- matrix functions
class IdentityLike(Function):
    """A^0: identity matrices of A's shape, whose gradient with respect to A is zero."""

    @staticmethod
    def forward(ctx, A):
        return _eye_like(A)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def backward_graph(ctx, grad):
        return _zeros_tensor(grad.shape, grad.dtype)


def matrix_power(A, n):
    """A^n for an integer n by repeated squaring (n = 0: the identity; n < 0: inv(A)^-n)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_power: A must be a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        return IdentityLike.apply(A)
    if n < 0:
        A, n = inv(A), -n
    result, square = None, A
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return result


class MatrixExp(Function):
    """exp(A) = sum A^k / k!.  gA = the upper-right block of exp([[A^T, g], [0, A^T]])."""

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return np.asarray(scipy.linalg.expm(A), A.dtype) if A.size else A.copy()

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        block = np.zeros(A.shape[:-2] + (2 * n, 2 * n), A.dtype)      # (*, 2n, 2n)
        block[..., :n, :n] = block[..., n:, n:] = _mT(A)
        block[..., :n, n:] = grad
        return np.asarray(scipy.linalg.expm(block)[..., :n, n:], A.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        from minigrad.ops.shape import cat
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        A_t = A.mT
        block = cat([cat([A_t, grad], -1), cat([_zeros_tensor(A.shape, A.dtype), A_t], -1)], -2)  # (*, 2n, 2n)
        return MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(A):
    """The matrix exponential of each matrix of (*, n, n)."""
    _check_matrix("linalg.matrix_exp", A)
    return MatrixExp.apply(A)


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be a row vector (n,), the last a column
    vector), multiplied in the order of fewest multiply-adds (dynamic programming)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for index, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"multi_dot(): tensor {index} must be a Tensor, got {type(t).__name__}")
    last = len(tensors) - 1
    if tensors[0].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {tensors[0].ndim}D")
    if tensors[last].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {tensors[last].ndim}D")
    for index in range(1, last):
        if tensors[index].ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {index} must be 2D but got {tensors[index].ndim}D")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[last].ndim == 1
    matrices = list(tensors)
    if first_vector:
        matrices[0] = matrices[0].unsqueeze(0)               # (n,) -> (1, n)
    if last_vector:
        matrices[last] = matrices[last].unsqueeze(-1)        # (n,) -> (n, 1)
    for index in range(last):
        if matrices[index].shape[1] != matrices[index + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {index} and {index + 1} with shapes "
                               f"{list(tensors[index].shape)} and {list(tensors[index + 1].shape)} "
                               f"cannot be multiplied")
    dtype = matrices[0].array.dtype
    for index, m in enumerate(matrices):
        if m.array.dtype != dtype:  # PyTorch's wording, "must have be" included
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_scalar_name(dtype)} and "
                               f"tensor {index} {_scalar_name(m.array.dtype)}")
    dims = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    count = len(matrices)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return matrices[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))
    result = product(0, count - 1)
    if first_vector:
        result = result.squeeze(0)
    if last_vector:
        result = result.squeeze(-1)
    return result


def chain_matmul(*matrices):
    """torch.chain_matmul (deprecated in PyTorch): multi_dot of 2-d matrices; one matrix is returned."""
    for m in matrices:
        if not isinstance(m, Tensor) or m.ndim != 2:
            ndim = m.ndim if isinstance(m, Tensor) else type(m).__name__
            raise RuntimeError(f"Tensor dimension is {ndim}, expected 2 instead.")
    if len(matrices) == 0:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


def vecdot(x, y, *, dim=-1):
    """sum(x * y, dim) with broadcasting (the conjugate of x is x itself for real tensors)."""
    for label, t in (("x", x), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg.vecdot: {label} must be a Tensor, got {type(t).__name__}")
    if x.array.dtype != y.array.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of "
                           f"type {_dtype_name(x.array.dtype)} and y of type "
                           f"{_dtype_name(y.array.dtype)} instead.")
    try:
        shape = np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
    except ValueError:
        raise RuntimeError(f"linalg.vecdot: the shapes of x {tuple(x.shape)} and y {tuple(y.shape)} "
                           f"cannot be broadcast together") from None
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-len(shape)}, "
                         f"{len(shape) - 1}], but got {dim})")
    return (x * y).sum(dim)


def cond(A, p=None):
    """The condition number of A in norm p: s_max / s_min for p = None or 2 (s_min / s_max for -2),
    else norm(A, p) * norm(inv(A), p) for p in ('fro', 'nuc', inf, -inf, 1, -1)."""
    from minigrad.ops.reduction import matrix_norm
    name = "linalg.cond"
    if p not in (None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"{name} got an invalid norm type: {p}")
    _check_matrix(name, A, square=False)
    if p in (None, 2, -2):
        S = svdvals(A)
        largest, smallest = S[..., 0], S[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    _check_matrix(f"{name}(ord={p})", A)
    inverse_A = inv_ex(A).inverse
    if p == "nuc":
        return svdvals(A).sum(-1) * svdvals(inverse_A).sum(-1)
    return matrix_norm(A, p) * matrix_norm(inverse_A, p)


def tensorinv(A, ind=2):
    """The tensor X with tensordot(A, X, ind) = identity: A reshaped to a square matrix
    (prod(shape[:ind]), prod(shape[ind:])), inverted, reshaped to shape[ind:] + shape[:ind]."""
    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(columns):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(columns)} != {math.prod(rows)}")
    square = A.reshape(math.prod(rows), math.prod(columns))           # (prod rows, prod columns)
    return inv(square).reshape(*(columns + rows))


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's dims that B does not cover are X's shape.
    dims: dims of A moved to the end first."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        order = [d for d in range(A.ndim) if d not in dims] + list(dims)
        A = A.permute(*order)
    result_shape = tuple(A.shape[B.ndim:])
    rows = math.prod(tuple(B.shape))
    columns = math.prod(result_shape)
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {columns} != "
                           f"{math.prod(tuple(A.shape[:B.ndim]))}")
    square = A.reshape(rows, columns)                                 # (prod B.shape, prod X.shape)
    return solve(square, B.reshape(rows)).reshape(*result_shape)


# ---------------------------------------------------------------- lu
def _getrf(A):
    """LAPACK getrf per matrix of (*, m, n): (LU packed (*, m, n), pivots (*, k) 1-based int32, info)."""
    getrf = lapack.get_lapack_funcs("getrf", (A,))

    def one(a):
        lu, piv, info = getrf(a)
        return lu, (piv + 1).astype(np.int32)[None, :], np.array([[info]], np.int32)
    LU, pivots, info = _each_matrix(one, A)
    return LU.astype(A.dtype, copy=False), pivots[..., 0, :], info[..., 0, 0]


def _permutation_matrix(pivots, m, dtype):
    """P (*, m, m) with A = P L U from LAPACK's row swaps (pivots 1-based, row i swapped with p_i)."""
    batch = pivots.shape[:-1]
    order = np.broadcast_to(np.arange(m), batch + (m,)).copy()          # order[i]: row of A in row i of PA
    for i in range(pivots.shape[-1]):
        j = pivots[..., i].astype(np.int64) - 1
        row_i = order[..., i].copy()
        np.put_along_axis(order, np.full(batch + (1,), i), np.take_along_axis(order, j[..., None], -1), -1)
        np.put_along_axis(order, j[..., None], row_i[..., None], -1)
    P = np.zeros(batch + (m, m), dtype)
    np.put_along_axis(P, order[..., None, :], 1.0, -2)                  # P[order[i], i] = 1
    return P


def _unpack_lu(LU):
    """L (*, m, k) unit lower and U (*, k, n) upper from the packed LU (*, m, n)."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = np.tril(LU[..., :, :k], -1) + np.eye(m, k, dtype=LU.dtype)
    U = np.triu(LU[..., :k, :])
    return L, U


def _lu_backward(P, L, U, grad_L, grad_U):
    """gA of A = P L U (L unit lower (m, k), U upper (k, n)), square or rectangular:
    square: gA = P L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T.  Wide (m < n): the extra
    columns U2 of U add -L^-T gU2 U2^T to gL and get gA2 = P L^-T gU2; tall: the extra rows
    L2 of L add -L2^T gL2 U^-T to gU and get gA2 = gL2 U^-T."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    grad_L = np.zeros_like(L) if grad_L is None else grad_L
    grad_U = np.zeros_like(U) if grad_U is None else grad_U

    def square(L1, U1, gL1, gU1):
        phi = np.tril(_mT(L1) @ gL1, -1) + np.triu(gU1 @ _mT(U1))
        left = _triangular_solve(L1, phi, upper=False, left=True, unitriangular=True, transpose=True)
        return _triangular_solve(U1, left, upper=True, left=False, unitriangular=False, transpose=True)

    if m == n:
        return P @ square(L, U, grad_L, grad_U)
    if m < n:
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gU1, gU2 = grad_U[..., :, :k], grad_U[..., :, k:]
        from_U2 = _triangular_solve(L, gU2, upper=False, left=True, unitriangular=True, transpose=True)
        gA1 = square(L, U1, grad_L - from_U2 @ _mT(U2), gU1)
        return P @ np.concatenate([gA1, from_U2], axis=-1)
    L1, L2 = L[..., :k, :], L[..., k:, :]
    gL1, gL2 = grad_L[..., :k, :], grad_L[..., k:, :]
    gA2 = _triangular_solve(U, gL2, upper=True, left=False, unitriangular=False, transpose=True)
    gA1 = square(L1, U, gL1, grad_U - _mT(L2) @ gA2)
    return P @ np.concatenate([gA1, gA2], axis=-2)


def _lu_backward_graph(P, L, U, grad_L, grad_U):
    """_lu_backward on Tensors (P a constant)."""
    from minigrad.ops.shape import cat
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    grad_L = _zeros_tensor(L.shape, L.dtype) if grad_L is None else grad_L
    grad_U = _zeros_tensor(U.shape, U.dtype) if grad_U is None else grad_U

    def square(L1, U1, gL1, gU1):
        phi = _triangle_of(L1.mT @ gL1, upper=False, diagonal=-1) + _triangle_of(gU1 @ U1.mT, upper=True)
        left = _solve_triangular_t(L1, phi, upper=False, left=True, unitriangular=True, transpose=True)
        return _solve_triangular_t(U1, left, upper=True, left=False, unitriangular=False, transpose=True)

    if m == n:
        return P @ square(L, U, grad_L, grad_U)
    if m < n:
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gU1, gU2 = grad_U[..., :, :k], grad_U[..., :, k:]
        from_U2 = _solve_triangular_t(L, gU2, upper=False, left=True, unitriangular=True, transpose=True)
        gA1 = square(L, U1, grad_L - from_U2 @ U2.mT, gU1)
        return P @ cat([gA1, from_U2], -1)
    L1, L2 = L[..., :k, :], L[..., k:, :]
    gL1, gL2 = grad_L[..., :k, :], grad_L[..., k:, :]
    gA2 = _solve_triangular_t(U, gL2, upper=True, left=False, unitriangular=False, transpose=True)
    gA1 = square(L1, U, gL1, grad_U - L2.mT @ gA2)
    return P @ cat([gA1, gA2], -2)


def _unpack_lu_graph(LU):
    """_unpack_lu on a Tensor: (L unit lower (*, m, k), U upper (*, k, n))."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = _triangle_of(LU[..., :, :k], upper=False, diagonal=-1) + _eye_tensor(m, LU.dtype, k)
    return L, _triangle_of(LU[..., :k, :], upper=True)


class LUFactor(_SeveralOutputs):
    """(LU packed, pivots, info); LU's gradient splits into gL = tril(g, -1), gU = triu(g)."""

    @staticmethod
    def forward(ctx, A):
        LU, pivots, info = _getrf(A)
        ctx.save_for_backward(LU, pivots)
        return LU, pivots, info

    @staticmethod
    def backward_several(ctx, grad_LU, grad_pivots=None, grad_info=None):
        LU, pivots = ctx.saved_tensors
        L, U = _unpack_lu(LU)
        k = min(LU.shape[-2:])
        P = _permutation_matrix(pivots, LU.shape[-2], LU.dtype)
        return (_lu_backward(P, L, U, np.tril(grad_LU[..., :, :k], -1), np.triu(grad_LU[..., :k, :])),)

    @staticmethod
    def backward_several_graph(ctx, grad_LU, grad_pivots=None, grad_info=None):
        LU_packed, pivots = ctx.saved_tensors
        P = _tensor(_permutation_matrix(pivots.array, LU_packed.shape[-2], LU_packed.dtype))
        LU_packed = _reconnected(ctx, 0, LU_packed.array)
        L, U = _unpack_lu_graph(LU_packed)
        k = min(LU_packed.shape[-2:])
        if grad_LU is None:
            return (None,)
        return (_lu_backward_graph(P, L, U, _triangle_of(grad_LU[..., :, :k], upper=False, diagonal=-1),
                                   _triangle_of(grad_LU[..., :k, :], upper=True)),)

    backward_graph = _SeveralOutputs._backward_graph


class LU(_SeveralOutputs):
    """(P, L, U); P carries no gradient."""

    non_differentiable = (0,)

    @staticmethod
    def forward(ctx, A):
        LU_packed, pivots, _ = _getrf(A)
        L, U = _unpack_lu(LU_packed)
        P = _permutation_matrix(pivots, A.shape[-2], A.dtype)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward_several(ctx, grad_P, grad_L, grad_U):
        P, L, U = ctx.saved_tensors
        return (_lu_backward(P, L, U, None if grad_L is None else np.tril(grad_L, -1),
                             None if grad_U is None else np.triu(grad_U)),)

    @staticmethod
    def backward_several_graph(ctx, grad_P, grad_L, grad_U):
        P, L, U = ctx.saved_tensors
        P = _tensor(P.array)
        L, U = _reconnected(ctx, 1, L.array), _reconnected(ctx, 2, U.array)
        return (_lu_backward_graph(P, L, U, None if grad_L is None else _triangle_of(grad_L, False, -1),
                                   None if grad_U is None else _triangle_of(grad_U, True)),)

    backward_graph = _SeveralOutputs._backward_graph


def _raise_singular_u(name, A, info):
    flat = info.reshape(-1)
    index = int(np.flatnonzero(flat > 0)[0])
    raise RuntimeError(f"{name}: {_batch_prefix(A.ndim > 2, index)}U[{flat[index]},{flat[index]}] is "
                       f"zero and using it on lu_solve would result in a division by zero. If you still "
                       f"want to perform the factorization, consider calling linalg.lu(A, pivot) or "
                       f"linalg.lu_factor_ex(A, pivot)")


def _check_pivot(name, pivot):
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): A = P L U packed as LAPACK getrf leaves it; pivots 1-based int32."""
    _check_matrix("linalg.lu_factor_ex", A, square=False)
    _check_pivot("linalg.lu_factor", pivot)
    LU_packed, pivots, info = LUFactor.apply(A)
    if check_errors and (info.array > 0).any():
        _raise_singular_u("torch.linalg.lu_factor_ex", A.array, info.array)
    return LUFactorExResult(LU_packed, pivots, info)


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of A (*, m, n): L (unit diagonal, not stored) below the diagonal, U on and above,
    row i swapped with row pivots[i] (1-based). A singular matrix raises LinAlgError."""
    _check_matrix("linalg.lu_factor", A, square=False)
    _check_pivot("linalg.lu_factor", pivot)
    LU_packed, pivots, info = LUFactor.apply(A)
    if (info.array > 0).any():
        _raise_singular_u("torch.linalg.lu_factor", A.array, info.array)
    return LUFactorResult(LU_packed, pivots)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U; A (*, m, n), k = min(m, n): P (*, m, m), L (*, m, k) unit lower,
    U (*, k, n) upper."""
    _check_matrix("linalg.lu", A, square=False)
    _check_pivot("linalg.lu", pivot)
    P, L, U = LU.apply(A)
    return LUResult(P, L, U)


class LUSolve(Function):
    """X with A X = B (or A^T X = B, adjoint), A = P L U given as (LU, pivots).
    The gradient of A as a free matrix, gA = -gB X^T (adjoint: -X gB^T), goes to the
    factors as gL = tril(P^T gA U^T, -1), gU = triu(L^T P^T gA)."""

    @staticmethod
    def forward(ctx, LU_packed, pivots, B, adjoint):
        def one(lu_matrix, piv, b):
            return scipy.linalg.lu_solve((lu_matrix, piv[0].astype(np.int64) - 1), b,
                                         trans=1 if adjoint else 0, check_finite=False)
        with np.errstate(all="ignore"):
            X = _each_matrix(one, LU_packed, pivots[..., None, :], B).astype(B.dtype, copy=False)
        ctx.save_for_backward(LU_packed, pivots, X)
        ctx.adjoint = adjoint
        ctx.shapes = LU_packed.shape, B.shape
        return X

    @staticmethod
    def backward(ctx, grad):
        LU_packed, pivots, X = ctx.saved_tensors
        lu_shape, b_shape = ctx.shapes
        grad_B = LUSolve.forward(type(ctx)(), LU_packed, pivots, grad, not ctx.adjoint)
        grad_LU = None
        if ctx.needs_input_grad[0]:
            grad_A = -(X @ _mT(grad_B)) if ctx.adjoint else -(grad_B @ _mT(X))
            L, U = _unpack_lu(LU_packed)
            P = _permutation_matrix(pivots, LU_packed.shape[-2], LU_packed.dtype)
            permuted = _mT(P) @ grad_A                                 # P^T gA
            grad_LU = unbroadcast(np.tril(permuted @ _mT(U), -1) + np.triu(_mT(L) @ permuted), lu_shape)
        return grad_LU, None, unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[2] else None, None

    @staticmethod
    def backward_graph(ctx, grad):
        LU_packed, pivots, X = ctx.saved_tensors
        lu_shape, b_shape = ctx.shapes
        grad_B = LUSolve.apply(LU_packed, pivots.array, grad, not ctx.adjoint)
        grad_LU = None
        if ctx.needs_input_grad[0]:
            grad_A = -(X @ grad_B.mT) if ctx.adjoint else -(grad_B @ X.mT)
            L, U = _unpack_lu_graph(LU_packed)
            P = _tensor(_permutation_matrix(pivots.array, LU_packed.shape[-2], LU_packed.dtype))
            permuted = P.mT @ grad_A
            grad_LU = unbroadcast(_triangle_of(permuted @ U.mT, upper=False, diagonal=-1)
                                  + _triangle_of(L.mT @ permuted, upper=True), lu_shape)
        return grad_LU, None, unbroadcast(grad_B, b_shape) if ctx.needs_input_grad[2] else None, None


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B from lu_factor's (LU, pivots); adjoint: A^T X = B; left=False: X A = B."""
    name = "linalg.lu_solve"
    _check_matrix(name, LU, label="LU")
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}: B must be a Tensor, got {type(B).__name__}")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    _check_same_dtype(name, LU, B, "LU", "B")
    _check_solve_shapes(name, LU, B, left, vector=False)
    if tuple(pivots.shape[-1:]) != (LU.shape[-1],):
        raise RuntimeError(f"{name}: Expected pivots of shape {tuple(LU.shape[:-1])}, got "
                           f"{tuple(pivots.shape)}")
    if left:
        return LUSolve.apply(LU, pivots, B, bool(adjoint))
    return LUSolve.apply(LU, pivots, B.mT, not adjoint).mT        # X A = B <=> A^T X^T = B^T


# ---------------------------------------------------------------- householder_product
def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i = (0, .., 0, 1, A[i+1:, i])
    (the reflectors geqrf leaves below the diagonal of A (*, m, n), tau (*, k), k <= n <= m).

    Built from differentiable ops (matmul, products), so its gradient is the chain rule.
    """
    from minigrad.ops.pointwise import tril
    name = "torch.linalg.householder_product"
    if not isinstance(A, Tensor) or not isinstance(tau, Tensor):
        raise TypeError(f"{name}: input and tau must be Tensors")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    _check_floating(name, A)
    if tau.array.dtype != A.array.dtype:
        raise RuntimeError(f"{name}: tau dtype {_dtype_name(tau.array.dtype)} does not match input dtype "
                           f"{_dtype_name(A.array.dtype)}")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], "
                           f"but got {list(tau.shape[:-1])}")
    identity = np.eye(m, n, dtype=A.array.dtype)
    reflectors = tril(A, -1) + _tensor(identity)                  # column i is v_i, (*, m, n)
    Q = _tensor(np.broadcast_to(identity, tuple(A.shape)).copy())
    for i in reversed(range(k)):                                   # Q = H_i Q, last reflector first
        v = reflectors[..., :, i:i + 1]                            # (*, m, 1)
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * matmul(v, matmul(v.mT, Q))
    return Q
