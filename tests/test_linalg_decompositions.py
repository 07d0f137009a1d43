"""minigrad.linalg's decompositions and what is built on them (ops/linalg_decompositions.py).

Forward values against NumPy/SciPy or the defining identity (Q R = A, L L^T = A, ...),
gradients against float64 central differences (mg.gradcheck), and PyTorch's errors.
"""
import math

import numpy as np
import pytest
import scipy.linalg

import minigrad as mg
from minigrad import linalg as LA


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def constant(array, dtype=np.float64):
    return mg.tensor(np.asarray(array, dtype=dtype))


def spd(rng, n, batch=()):
    """A well-conditioned symmetric positive-definite matrix (*batch, n, n)."""
    x = rng.standard_normal(batch + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def symmetric(x):
    """X + X^T: a function of X whose eigh/cholesky gradient finite differences can check."""
    return x + x.mT


def close(actual, expected, rtol=1e-7, atol=1e-9):
    actual = actual.array if isinstance(actual, mg.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ det, slogdet, logdet
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)], ids=str)
def test_det_slogdet_logdet_forward(rng, batch):
    a = rng.standard_normal(batch + (4, 4))
    close(LA.det(constant(a)), np.linalg.det(a))
    sign, logabsdet = LA.slogdet(constant(a))
    expected_sign, expected_log = np.linalg.slogdet(a)
    close(sign, expected_sign)
    close(logabsdet, expected_log)
    assert not sign.requires_grad
    p = spd(rng, 4, batch)
    close(mg.logdet(constant(p)), np.log(np.linalg.det(p)))
    close(mg.det(constant(a)), np.linalg.det(a))
    close(constant(a).det(), np.linalg.det(a))


def test_logdet_of_negative_and_zero_determinants():
    assert math.isnan(mg.logdet(constant(-np.eye(3))).item())
    assert mg.logdet(constant(np.zeros((3, 3)))).item() == -math.inf


def test_det_gradient_closed_form_and_gradcheck(rng):
    a = rng.standard_normal((3, 3))
    x = leaf(a)
    LA.det(x).backward()
    close(x.grad, np.linalg.det(a) * np.linalg.inv(a).T)        # d det / dA = det A^-T
    assert mg.gradcheck(LA.det, (leaf(rng.standard_normal((2, 4, 4))),))
    assert mg.gradcheck(lambda t: LA.slogdet(t).logabsdet, (leaf(rng.standard_normal((2, 3, 3))),))
    assert mg.gradcheck(mg.logdet, (leaf(spd(rng, 3)),))


def test_det_gradient_of_a_singular_matrix_is_the_adjugate():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])   # rank 2
    x = leaf(a)
    LA.det(x).backward()
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                           for j in range(3)] for i in range(3)])
    close(x.grad, cofactors, atol=1e-12)
    assert np.abs(cofactors).max() > 1                            # not trivially zero
    assert mg.gradcheck(LA.det, (leaf(a),))


# ------------------------------------------------------------------ inv, inv_ex
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inv_forward_and_dtype(rng, dtype):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    out = LA.inv(constant(a, dtype))
    assert out.dtype == dtype
    close(out, np.linalg.inv(a), rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    close(mg.inverse(constant(a)), np.linalg.inv(a))
    close(constant(a).inverse(), np.linalg.inv(a))
    inverse, info = LA.inv_ex(constant(a))
    close(inverse, np.linalg.inv(a))
    assert info.dtype == np.int32 and info.array.tolist() == [0, 0]


def test_inv_gradient(rng):
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    g = rng.standard_normal((3, 3))
    x = leaf(a)
    LA.inv(x).backward(constant(g))
    ia = np.linalg.inv(a)
    close(x.grad, -ia.T @ g @ ia.T)                               # -A^-T g A^-T
    assert mg.gradcheck(LA.inv, (leaf(rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)),))
    assert mg.gradcheck(lambda t: LA.inv_ex(t).inverse, (leaf(a),))


def test_inv_ex_reports_singular_matrices_without_raising():
    a = np.stack([np.eye(3), [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]])
    inverse, info = LA.inv_ex(constant(a))
    assert info.array.tolist() == [0, 2]
    close(inverse.array[0], np.eye(3))
    assert not np.isfinite(inverse.array[1]).all()


# ------------------------------------------------------------------ solve
@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 4)),
    ((3, 3), (2, 3, 1)), ((2, 1, 3, 3), (4, 3, 2)),
], ids=str)
def test_solve_forward_and_gradcheck(rng, a_shape, b_shape):
    a = rng.standard_normal(a_shape) + 3 * np.eye(3)
    b = rng.standard_normal(b_shape)
    out = LA.solve(constant(a), constant(b))
    vector = len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and b_shape == a_shape[:-1])
    expected = (np.linalg.solve(a, b[..., None])[..., 0] if vector else np.linalg.solve(a, b))
    close(out, expected)
    assert mg.gradcheck(LA.solve, (leaf(a), leaf(b)))


def test_solve_left_false(rng):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 4, 3))
    out = LA.solve(constant(a), constant(b), left=False)
    close(out.array @ a, b)                                       # X A = B
    assert mg.gradcheck(lambda x, y: LA.solve(x, y, left=False), (leaf(a), leaf(b)))


def test_solve_gradient_closed_form(rng):
    a, b, g = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    x, y = leaf(a), leaf(b)
    LA.solve(x, y).backward(constant(g))
    grad_b = np.linalg.solve(a.T, g)
    close(y.grad, grad_b)
    close(x.grad, -grad_b @ np.linalg.solve(a, b).T)


def test_solve_ex(rng):
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    result, info = LA.solve_ex(constant(a), constant(b))
    close(result, np.linalg.solve(a, b))
    assert info.item() == 0
    result, info = LA.solve_ex(constant(np.zeros((3, 3))), constant(b))
    assert info.item() == 1 and not np.isfinite(result.array).all()


# ------------------------------------------------------------------ solve_triangular
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular(rng, upper, left, unitriangular):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 4) if left else (4, 3))
    out = LA.solve_triangular(constant(a), constant(b), upper=upper, left=left, unitriangular=unitriangular)
    triangle = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        triangle = triangle - np.eye(3) * triangle + np.eye(3)
    close(triangle @ out.array if left else out.array @ triangle, np.broadcast_to(b, (2,) + b.shape))
    for k in range(2):                                            # the same as SciPy's, matrix by matrix
        if left:
            close(out.array[k], scipy.linalg.solve_triangular(a[k], b, lower=not upper,
                                                              unit_diagonal=unitriangular))
    x = leaf(a)
    assert mg.gradcheck(lambda t, y: LA.solve_triangular(t, y, upper=upper, left=left, unitriangular=unitriangular),
                        (x, leaf(b)))
    # the gradient of A lives in the triangle that was read
    LA.solve_triangular(x, constant(b), upper=upper, left=left, unitriangular=unitriangular).sum().backward()
    outside = np.tril(x.grad.array, -1) if upper else np.triu(x.grad.array, 1)
    assert np.all(outside == 0)
    if unitriangular:
        assert np.all(np.diagonal(x.grad.array, axis1=-2, axis2=-1) == 0)


# ------------------------------------------------------------------ cholesky
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_forward(rng, batch, dtype):
    a = spd(rng, 4, batch)
    L = LA.cholesky(constant(a, dtype))
    assert L.dtype == dtype
    close(L, np.linalg.cholesky(a), rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)
    U = LA.cholesky(constant(a), upper=True)
    close(np.swapaxes(U.array, -1, -2) @ U.array, a)
    close(mg.cholesky(constant(a), True), U.array)
    close(constant(a).cholesky(), np.linalg.cholesky(a))
    L, info = LA.cholesky_ex(constant(a))
    close(L, np.linalg.cholesky(a))
    assert np.all(info.array == 0) and info.dtype == np.int32


def test_solve_triangular_promotes_mixed_dtypes(rng):
    a = np.triu(rng.standard_normal((3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    out = LA.solve_triangular(constant(a, np.float32), constant(b), upper=True)
    assert out.dtype == np.float64
    close(a @ out.array, b, rtol=1e-6, atol=1e-6)


def test_cholesky_reads_only_the_lower_triangle(rng):
    a = spd(rng, 3)
    garbage = a + np.triu(rng.standard_normal((3, 3)), 1)
    close(LA.cholesky(constant(garbage)), np.linalg.cholesky(a))


def test_cholesky_gradient(rng):
    for upper in (False, True):
        assert mg.gradcheck(lambda x: LA.cholesky(symmetric(x) + 8 * mg.eye(3, dtype=mg.float64), upper=upper),
                            (leaf(rng.standard_normal((2, 3, 3))),))
    x = leaf(spd(rng, 3))
    (LA.cholesky(x) * constant(rng.standard_normal((3, 3)))).sum().backward()
    close(x.grad, x.grad.array.T)                                 # symmetric, as PyTorch's


def test_cholesky_ex_reports_the_failing_minor():
    a = np.stack([np.eye(3), np.diag([1.0, -2.0, 1.0])])
    _, info = LA.cholesky_ex(constant(a))
    assert info.array.tolist() == [0, 2]


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(rng, upper):
    a = spd(rng, 3, (2,))
    factor = np.linalg.cholesky(a)
    if upper:
        factor = np.swapaxes(factor, -1, -2)
    b = rng.standard_normal((2, 3, 2))
    close(mg.cholesky_solve(constant(b), constant(factor), upper), np.linalg.solve(a, b))
    close(mg.cholesky_inverse(constant(factor), upper), np.linalg.inv(a))
    close(constant(factor).cholesky_inverse(upper), np.linalg.inv(a))
    close(constant(b).cholesky_solve(constant(factor), upper), np.linalg.solve(a, b))
    # PyTorch differentiates these as if the factor were a full matrix: A = F F^T (F^T F)
    # (through the triangle the forward reads, so finite differences see the same function)
    triangle = mg.triu if upper else mg.tril
    assert mg.gradcheck(lambda y, f: mg.cholesky_solve(y, triangle(f), upper), (leaf(b), leaf(factor)))
    full = leaf(factor)
    g = rng.standard_normal((2, 3, 2))
    mg.cholesky_solve(constant(b), full, upper).backward(constant(g))
    x = np.linalg.solve(a, b)
    grad_b = np.linalg.solve(a, g)
    common = grad_b @ np.swapaxes(x, -1, -2)
    common = common + np.swapaxes(common, -1, -2)
    close(full.grad, -(factor @ common) if upper else -(common @ factor))
    assert mg.gradcheck(lambda f: mg.cholesky_inverse(triangle(f), upper), (leaf(factor),))


# ------------------------------------------------------------------ qr
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 3)], ids=str)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_forward(rng, shape, mode):
    a = rng.standard_normal(shape)
    Q, R = LA.qr(constant(a), mode=mode)
    m, n = shape[-2:]
    k = min(m, n)
    if mode == "r":
        assert tuple(Q.shape) == (0,)
        close(np.abs(R.array), np.abs(np.linalg.qr(a, mode="r")))
        return
    rows = k if mode == "reduced" else m
    assert tuple(Q.shape) == shape[:-2] + (m, rows) and tuple(R.shape) == shape[:-2] + (rows, n)
    close(Q.array @ R.array, a)
    close(np.swapaxes(Q.array, -1, -2) @ Q.array, np.broadcast_to(np.eye(rows), shape[:-2] + (rows, rows)),
          atol=1e-12)
    assert np.all(np.tril(R.array, -1) == 0)
    expected_Q, expected_R = np.linalg.qr(a, mode=mode)           # LAPACK's signs
    close(Q, expected_Q)
    close(R, expected_R)


@pytest.mark.parametrize("shape, mode", [((5, 3), "reduced"), ((4, 4), "reduced"), ((3, 5), "reduced"),
                                         ((3, 5), "complete"), ((2, 4, 3), "reduced")], ids=str)
def test_qr_gradcheck(rng, shape, mode):
    assert mg.gradcheck(lambda x: tuple(LA.qr(x, mode=mode)), (leaf(rng.standard_normal(shape)),))
    assert mg.gradcheck(lambda x: LA.qr(x, mode=mode).R, (leaf(rng.standard_normal(shape)),))


def test_qr_not_differentiable_cases(rng):
    x = leaf(rng.standard_normal((4, 3)))
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        LA.qr(x, mode="complete").Q.sum().backward()


def test_torch_qr_and_method(rng):
    a = rng.standard_normal((4, 3))
    Q, R = mg.qr(constant(a))
    close(Q, np.linalg.qr(a)[0])
    Q, R = constant(a).qr(some=False)
    assert tuple(Q.shape) == (4, 4) and tuple(R.shape) == (4, 3)


# ------------------------------------------------------------------ eigh, eigvalsh
@pytest.mark.parametrize("UPLO", ["L", "U"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eigh_forward(rng, UPLO, dtype):
    a = rng.standard_normal((2, 4, 4))
    w, V = LA.eigh(constant(a, dtype), UPLO=UPLO)
    assert w.dtype == dtype and V.dtype == dtype
    triangle = np.tril(a) if UPLO == "L" else np.triu(a)
    s = triangle + np.swapaxes(triangle, -1, -2) - triangle * np.eye(4)       # the symmetric matrix read
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}
    close(w, np.linalg.eigvalsh(s), **tolerance)
    close(V.array @ (w.array[..., None] * np.swapaxes(V.array, -1, -2)), s, **tolerance)
    assert np.all(np.diff(w.array, axis=-1) > 0)
    close(LA.eigvalsh(constant(a, dtype), UPLO=UPLO), np.linalg.eigvalsh(s), **tolerance)


def test_eigh_gradient(rng):
    x = leaf(rng.standard_normal((2, 4, 4)))
    assert mg.gradcheck(lambda t: tuple(LA.eigh(symmetric(t))), (x,))
    assert mg.gradcheck(lambda t: LA.eigvalsh(symmetric(t)), (x,))
    # eigenvalues only: gA = V diag(g) V^T
    a = spd(rng, 3)
    y = leaf(a)
    g = rng.standard_normal(3)
    LA.eigvalsh(y).backward(constant(g))
    _, V = np.linalg.eigh(a)
    close(y.grad, V @ np.diag(g) @ V.T)
    # the gradient is symmetric (PyTorch's convention)
    y = leaf(a)
    (LA.eigh(y).eigenvectors * constant(rng.standard_normal((3, 3)))).sum().backward()
    close(y.grad, y.grad.array.T)


# ------------------------------------------------------------------ svd, svdvals
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_forward(rng, shape, full_matrices):
    a = rng.standard_normal(shape)
    U, S, Vh = LA.svd(constant(a), full_matrices=full_matrices)
    expected_U, expected_S, expected_Vh = np.linalg.svd(a, full_matrices=full_matrices)
    close(S, expected_S)
    close(U, expected_U)
    close(Vh, expected_Vh)
    k = min(shape[-2:])
    close(U.array[..., :k] @ (S.array[..., None] * Vh.array[..., :k, :]), a)
    close(LA.svdvals(constant(a)), expected_S)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3)], ids=str)
def test_svd_gradcheck(rng, shape):
    x = leaf(rng.standard_normal(shape))
    assert mg.gradcheck(lambda t: tuple(LA.svd(t, full_matrices=False)), (x,))
    assert mg.gradcheck(LA.svdvals, (x,))
    assert mg.gradcheck(lambda t: LA.svd(t, full_matrices=False).U, (x,))
    assert mg.gradcheck(lambda t: LA.svd(t, full_matrices=False).Vh, (x,))
    k = min(shape[-2:])
    # full_matrices: the determined part (the first k columns) differentiates as the reduced SVD
    assert mg.gradcheck(lambda t: (lambda u, s, vh: (u[..., :k], s, vh[..., :k, :]))(*LA.svd(t)), (x,))


def test_svdvals_gradient_closed_form(rng):
    a = rng.standard_normal((4, 3))
    g = rng.standard_normal(3)
    x = leaf(a)
    LA.svdvals(x).backward(constant(g))
    U, _, Vh = np.linalg.svd(a, full_matrices=False)
    close(x.grad, U @ np.diag(g) @ Vh)


def test_torch_svd_returns_V(rng):
    a = rng.standard_normal((4, 3))
    U, S, V = mg.svd(constant(a))
    assert tuple(U.shape) == (4, 3) and tuple(V.shape) == (3, 3)
    close(U.array @ np.diag(S.array) @ V.array.T, a)
    U, S, V = constant(a).svd(some=False)
    assert tuple(U.shape) == (4, 4)
    U, S, V = mg.svd(constant(a), compute_uv=False)
    assert np.all(U.array == 0) and tuple(U.shape) == (4, 4) and tuple(V.shape) == (3, 3)
    close(S, np.linalg.svd(a, compute_uv=False))
    assert mg.gradcheck(lambda t: tuple(mg.svd(t)), (leaf(a),))


# ------------------------------------------------------------------ pinv, matrix_rank
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4)], ids=str)
def test_pinv_forward_and_gradcheck(rng, shape):
    a = rng.standard_normal(shape)
    close(LA.pinv(constant(a)), np.linalg.pinv(a))
    close(mg.pinverse(constant(a)), np.linalg.pinv(a))
    close(constant(a).pinverse(), np.linalg.pinv(a))
    assert mg.gradcheck(LA.pinv, (leaf(a),))


def test_pinv_of_rank_deficient_matrix_and_tolerances(rng):
    a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))      # rank 2
    p = LA.pinv(constant(a))
    close(a @ p.array @ a, a)
    close(p, np.linalg.pinv(a))
    # nudges of eps=1e-6 make singular values ~1e-6: atol keeps them out, so the rank stays 2
    assert mg.gradcheck(lambda t: LA.pinv(t, atol=1e-3), (leaf(a),))
    b = np.diag([4.0, 1.0, 0.1])
    close(LA.pinv(constant(b), atol=0.5), np.diag([0.25, 1.0, 0.0]))
    close(LA.pinv(constant(b), rtol=0.2), np.diag([0.25, 1.0, 0.0]))    # 0.2 * 4 = 0.8 > 0.1
    close(LA.pinv(constant(b), rtol=0.3), np.diag([0.25, 0.0, 0.0]))
    close(mg.pinverse(constant(b), rcond=0.3), np.diag([0.25, 0.0, 0.0]))
    h = spd(rng, 3) - 3 * np.eye(3)
    close(LA.pinv(constant(h), hermitian=True), np.linalg.pinv(h))
    assert mg.gradcheck(lambda t: LA.pinv(symmetric(t), hermitian=True), (leaf(h),))


def test_matrix_rank(rng):
    a = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))
    rank = LA.matrix_rank(constant(a))
    assert rank.dtype == np.int64 and rank.array.tolist() == [2, 2]
    b = np.diag([4.0, 1.0, 0.1])
    assert LA.matrix_rank(constant(b), atol=0.5).item() == 2
    assert LA.matrix_rank(constant(b), rtol=0.3).item() == 1
    assert LA.matrix_rank(constant(b), hermitian=True).item() == 3
    assert LA.matrix_rank(constant(np.diag([-4.0, 1.0, 0.0])), hermitian=True).item() == 2
    assert LA.matrix_rank(constant(np.zeros((3, 3)))).item() == 0


# ------------------------------------------------------------------ lstsq
@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
def test_lstsq_tall(rng, driver):
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    result = LA.lstsq(constant(a), constant(b), driver=driver)
    expected = np.stack([np.linalg.lstsq(a[k], b[k], rcond=None)[0] for k in range(2)])
    close(result.solution, expected)
    if driver in (None, "gelsy"):
        assert result.residuals.numel() == 0 and result.singular_values.numel() == 0
        assert result.rank.array.tolist() == [3, 3]
    else:
        close(result.residuals, ((a @ expected - b) ** 2).sum(-2))
    if driver in ("gelsd", "gelss"):
        close(result.singular_values, np.linalg.svd(a, compute_uv=False))
    if driver == "gels":
        assert result.rank.numel() == 0
    assert mg.gradcheck(lambda x, y: LA.lstsq(x, y, driver=driver).solution, (leaf(a), leaf(b)))
    if driver not in (None, "gelsy"):
        assert mg.gradcheck(lambda x, y: LA.lstsq(x, y, driver=driver).residuals, (leaf(a), leaf(b)))


def test_lstsq_wide_vector_and_rank_deficient(rng):
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 2))
    result = LA.lstsq(constant(a), constant(b))
    close(result.solution, np.linalg.pinv(a) @ b)                        # the minimum-norm solution
    assert result.residuals.numel() == 0
    assert mg.gradcheck(lambda x, y: LA.lstsq(x, y).solution, (leaf(a), leaf(b)))
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    result = LA.lstsq(constant(a), constant(b))
    close(result.solution, np.linalg.lstsq(a, b, rcond=None)[0])
    low_rank = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 3))
    result = LA.lstsq(constant(low_rank), constant(rng.standard_normal((5, 2))), driver="gelsd")
    assert result.rank.item() == 2 and result.residuals.numel() == 0     # not full rank: no residuals


# ------------------------------------------------------------------ matrix_power, matrix_exp
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -2])
def test_matrix_power(rng, n):
    a = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    out = LA.matrix_power(constant(a), n)
    close(out, np.linalg.matrix_power(a, n))
    close(mg.matrix_power(constant(a), n), np.linalg.matrix_power(a, n))
    close(constant(a).matrix_power(n), np.linalg.matrix_power(a, n))
    x = leaf(a)
    assert mg.gradcheck(lambda t: LA.matrix_power(t, n), (x,))
    if n == 0:
        LA.matrix_power(x, 0).sum().backward()
        assert np.all(x.grad.array == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_exp(rng, dtype):
    a = rng.standard_normal((2, 3, 3))
    out = LA.matrix_exp(constant(a, dtype))
    assert out.dtype == dtype
    close(out, scipy.linalg.expm(a), rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    close(mg.matrix_exp(constant(np.diag([1.0, 2.0]))), np.diag(np.exp([1.0, 2.0])))
    close(constant(a).matrix_exp(), scipy.linalg.expm(a))
    assert mg.gradcheck(LA.matrix_exp, (leaf(a),))


# ------------------------------------------------------------------ products
def test_multi_dot_and_chain_matmul(rng):
    shapes = [(3,), (3, 4), (4, 10), (10, 2), (2,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    close(LA.multi_dot([constant(x) for x in arrays]), np.linalg.multi_dot(arrays))
    assert mg.gradcheck(lambda *t: LA.multi_dot(t), tuple(leaf(x) for x in arrays))
    mats = [rng.standard_normal(s) for s in [(2, 3), (3, 4), (4, 5)]]
    close(mg.chain_matmul(*[constant(x) for x in mats]), mats[0] @ mats[1] @ mats[2])
    close(mg.chain_matmul(constant(mats[0])), mats[0])
    assert mg.gradcheck(lambda *t: mg.chain_matmul(*t), tuple(leaf(x) for x in mats))


def test_vecdot(rng):
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((4, 3))
    close(LA.vecdot(constant(x), constant(y)), (x * y).sum(-1))
    close(LA.vecdot(constant(x), constant(y[:, :1]), dim=-2), (x * y[:, :1]).sum(-2))
    assert mg.gradcheck(LA.vecdot, (leaf(x), leaf(y)))


# ------------------------------------------------------------------ cond, tensorinv, tensorsolve
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1])
def test_cond(rng, p):
    a = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    expected = np.stack([np.linalg.cond(m, p) for m in a])
    close(LA.cond(constant(a), p), expected)
    assert mg.gradcheck(lambda t: LA.cond(t, p), (leaf(a),))


def test_cond_of_a_rectangular_matrix(rng):
    a = rng.standard_normal((3, 5))
    close(LA.cond(constant(a)), np.linalg.cond(a))


def test_tensorinv_and_tensorsolve(rng):
    a = rng.standard_normal((4, 6, 8, 3))
    close(LA.tensorinv(constant(a), ind=2), np.linalg.tensorinv(a, ind=2))
    assert mg.gradcheck(lambda t: LA.tensorinv(t, ind=1), (leaf(rng.standard_normal((6, 2, 3))),))
    a, b = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3))
    close(LA.tensorsolve(constant(a), constant(b)), np.linalg.tensorsolve(a, b))
    assert mg.gradcheck(LA.tensorsolve, (leaf(a), leaf(b)))
    moved = np.moveaxis(a, 2, 0)                                          # (6, 2, 3)
    close(LA.tensorsolve(constant(moved), constant(b), dims=(0,)), np.linalg.tensorsolve(moved, b, axes=(0,)))


# ------------------------------------------------------------------ lu_factor, lu, lu_solve
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)], ids=str)
def test_lu_forward(rng, shape):
    a = rng.standard_normal(shape)
    P, L, U = LA.lu(constant(a))
    close(P.array @ L.array @ U.array, a)
    assert np.all(np.triu(L.array, 1) == 0) and np.all(np.tril(U.array, -1) == 0)
    close(np.diagonal(L.array, axis1=-2, axis2=-1), 1.0)
    for index in np.ndindex(*shape[:-2]):
        expected_P, expected_L, expected_U = scipy.linalg.lu(a[index])
        close(P.array[index], expected_P)
        close(L.array[index], expected_L)
        close(U.array[index], expected_U)
        lu_packed, pivots = scipy.linalg.lu_factor(a[index])
        LU, piv = LA.lu_factor(constant(a))
        close(LU.array[index], lu_packed)
        assert piv.dtype == np.int32 and (piv.array[index] == pivots + 1).all()   # 1-based, as LAPACK
    LU, piv, info = LA.lu_factor_ex(constant(a))
    assert np.all(info.array == 0)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)], ids=str)
def test_lu_gradcheck(rng, shape):
    x = leaf(rng.standard_normal(shape))
    assert mg.gradcheck(lambda t: LA.lu_factor(t).LU, (x,))
    assert mg.gradcheck(lambda t: LA.lu(t)[1:], (x,))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(rng, left, adjoint):
    a = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    b = rng.standard_normal((3, 2) if left else (2, 3))
    LU, pivots = LA.lu_factor(constant(a))
    X = LA.lu_solve(LU, pivots, constant(b), left=left, adjoint=adjoint).array
    op = np.swapaxes(a, -1, -2) if adjoint else a
    close(op @ X if left else X @ op, np.broadcast_to(b, (2,) + b.shape))
    assert mg.gradcheck(lambda t, y: LA.lu_solve(*LA.lu_factor(t), y, left=left, adjoint=adjoint),
                        (leaf(a), leaf(b)))
    lu_leaf = leaf(LU.array)
    assert mg.gradcheck(lambda f, y: LA.lu_solve(f, pivots, y, left=left, adjoint=adjoint), (lu_leaf, leaf(b)))


def test_householder_product(rng):
    a = rng.standard_normal((5, 3))
    packed, tau = scipy.linalg.lapack.dgeqrf(a)[:2]
    Q = LA.householder_product(constant(packed), constant(tau))
    close(Q, np.linalg.qr(a)[0])
    assert mg.gradcheck(LA.householder_product,
                        (leaf(rng.standard_normal((2, 4, 3))), leaf(rng.standard_normal((2, 2)))))


# ------------------------------------------------------------------ PyTorch's errors
SINGULAR = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("call, error, message", [
    (lambda: LA.inv(constant(np.ones((3, 4)))), RuntimeError,
     "linalg.inv: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.det(constant(np.ones((3, 4)))), RuntimeError,
     "linalg.det: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.inv(constant(np.ones(3))), RuntimeError,
     "linalg.inv: The input tensor A must have at least 2 dimensions."),
    (lambda: LA.inv(constant(SINGULAR)), LA.LinAlgError,
     "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the "
     "input matrix is singular."),
    (lambda: LA.inv(constant(np.stack([np.eye(3), np.zeros((3, 3))]))), LA.LinAlgError,
     "linalg.inv: (Batch element 1): The diagonal element 1 is zero"),
    (lambda: LA.inv_ex(constant(np.zeros((3, 3))), check_errors=True), LA.LinAlgError,
     "linalg.inv_ex: The diagonal element 1 is zero"),
    (lambda: LA.inv(mg.tensor(np.ones((3, 3), np.int64))), RuntimeError,
     "linalg.inv: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: LA.inv(mg.tensor(np.eye(3, dtype=np.float16))), RuntimeError,
     "linalg.inv: Low precision dtypes not supported. Got Half"),
    (lambda: LA.cholesky(constant(np.diag([1.0, 2.0, -1.0]))), LA.LinAlgError,
     "linalg.cholesky: The factorization could not be completed because the input is not "
     "positive-definite (the leading minor of order 3 is not positive-definite)."),
    (lambda: LA.cholesky(constant(np.stack([np.eye(3), np.diag([1.0, -2.0, 1.0])]))), LA.LinAlgError,
     "linalg.cholesky: (Batch element 1): The factorization could not be completed because the input "
     "is not positive-definite (the leading minor of order 2 is not positive-definite)."),
    (lambda: LA.cholesky(constant(np.ones((3, 4)))), RuntimeError,
     "linalg.cholesky: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.solve(constant(np.eye(3)), constant(np.ones(4))), RuntimeError,
     "linalg.solve: Incompatible shapes of A and B for the equation AX = B (3x3 and 4x1)"),
    (lambda: LA.solve(constant(np.eye(3)), constant(np.ones(3), np.float32)), RuntimeError,
     "linalg.solve: Expected A and B to have the same dtype, but found A of type Double and B of type Float"),
    (lambda: LA.solve(constant(np.zeros((3, 3))), constant(np.ones(3))), LA.LinAlgError,
     "torch.linalg.solve: The solver failed because the input matrix is singular."),
    (lambda: LA.solve(constant(np.eye(3)), constant(np.ones(3)), left=False), RuntimeError,
     "Incompatible shapes of A and B for the equation XA = B (3x3 and 3x1)"),
    (lambda: LA.solve_triangular(constant(np.eye(3)), constant(np.ones((2, 4))), upper=True), RuntimeError,
     "linalg.solve_triangular: Incompatible shapes of A and B for the equation AX = B (3x3 and 2x4)"),
    (lambda: LA.solve_triangular(constant(np.eye(3)), constant(np.ones(3)), upper=True), RuntimeError,
     "linalg.solve_triangular: The input tensor B must have at least 2 dimensions."),
    (lambda: LA.lstsq(constant(np.ones((2, 5, 3))), constant(np.ones(5))), RuntimeError,
     "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1"),
    (lambda: LA.multi_dot([constant(np.ones((2, 3)), np.float32), constant(np.ones((3, 2)))]), RuntimeError,
     "multi_dot(): all tensors must have be the same dtype but tensor 0 is float and tensor 1 double"),
    (lambda: mg.cholesky_solve(constant(np.ones((3, 2)), np.float32), constant(np.eye(3))), RuntimeError,
     "Expected b and A to have the same dtype, but found b of type Float and A of type Double instead."),
    (lambda: LA.householder_product(constant(np.ones((4, 3))), constant(np.ones(2), np.float32)), RuntimeError,
     "torch.linalg.householder_product: tau dtype Float does not match input dtype Double"),
    (lambda: LA.pinv(constant(np.ones((3, 4))), hermitian=True), RuntimeError,
     "linalg.eigh: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.qr(constant(np.ones((3, 3))), mode="x"), RuntimeError,
     "qr received unrecognized mode 'x' but expected one of 'reduced' (default), 'r', or 'complete'"),
    (lambda: LA.eigh(constant(np.eye(3)), UPLO="X"), RuntimeError,
     "Expected UPLO argument to be 'L' or 'U', but got X"),
    (lambda: LA.eigh(constant(np.ones((3, 4)))), RuntimeError,
     "linalg.eigh: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.svd(constant(np.ones(3))), RuntimeError,
     "linalg.svd: The input tensor A must have at least 2 dimensions."),
    (lambda: LA.svd(constant(np.eye(2)), driver="gesvd"), RuntimeError, "only supported on CUDA"),
    (lambda: LA.pinv(constant(np.ones(3))), RuntimeError,
     "linalg.pinv(Double{[3]}): expected a tensor with 2 or more dimensions"),
    (lambda: LA.lstsq(constant(np.ones((3, 3))), constant(np.ones((3, 1))), driver="foo"), RuntimeError,
     "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"),
    (lambda: LA.lstsq(constant(np.ones((3, 3))), constant(np.ones((4, 1)))), RuntimeError,
     "torch.linalg.lstsq: input.size(-2) should match other.size(-2)"),
    (lambda: LA.matrix_power(constant(np.eye(3)), 1.5), TypeError,
     "linalg_matrix_power(): argument 'n' (position 2) must be int, not float"),
    (lambda: LA.matrix_power(constant(np.ones((3, 4))), 2), RuntimeError,
     "linalg.matrix_power: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.matrix_exp(constant(np.ones((3, 4)))), RuntimeError,
     "linalg.matrix_exp: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: LA.multi_dot([constant(np.ones(3))]), RuntimeError,
     "multi_dot(): expected at least 2 tensors but got 1"),
    (lambda: LA.multi_dot([constant(np.ones((2, 3))), constant(np.ones((4, 5)))]), RuntimeError,
     "multi_dot(): tensors 0 and 1 with shapes [2, 3] and [4, 5] cannot be multiplied"),
    (lambda: LA.multi_dot([constant(np.ones((2, 3))), constant(np.ones((3, 3, 5))), constant(np.ones(5))]),
     RuntimeError, "multi_dot(): tensor 1 must be 2D but got 3D"),
    (lambda: LA.cond(constant(np.eye(3)), p=3), RuntimeError, "linalg.cond got an invalid norm type: 3"),
    (lambda: LA.cond(constant(np.ones((2, 3))), p=1), RuntimeError,
     "linalg.cond(ord=1): A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: LA.tensorinv(constant(np.ones((2, 3, 4))), ind=0), RuntimeError,
     "Expected a strictly positive integer for 'ind', but got 0"),
    (lambda: LA.tensorinv(constant(np.ones((2, 3, 4))), ind=1), RuntimeError,
     "prod(self.shape[ind:]) == prod(self.shape[:ind]), but got 12 != 2"),
    (lambda: LA.lu_factor(constant(np.eye(3)), pivot=False), RuntimeError,
     "linalg.lu_factor: LU without pivoting is not implemented on the CPU"),
    (lambda: LA.lu_factor(constant(np.zeros((3, 3)))), RuntimeError,
     "torch.linalg.lu_factor: U[1,1] is zero and using it on lu_solve would result in a division by zero"),
    (lambda: LA.lu_solve(*LA.lu_factor(constant(np.eye(3))), constant(np.ones(3))), RuntimeError,
     "linalg.lu_solve: The input tensor B must have at least 2 dimensions."),
    (lambda: LA.householder_product(constant(np.ones((3, 4))), constant(np.ones(2))), RuntimeError,
     "input.shape[-2] must be greater than or equal to input.shape[-1]"),
])
def test_errors(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


def test_linalg_error_is_a_runtime_error():
    assert issubclass(LA.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError):
        LA.inv(constant(np.zeros((2, 2))))


def test_named_results_have_torch_field_names(rng):
    a = spd(rng, 3)
    assert LA.slogdet(constant(a))._fields == ("sign", "logabsdet")
    assert LA.eigh(constant(a))._fields == ("eigenvalues", "eigenvectors")
    assert LA.qr(constant(a))._fields == ("Q", "R")
    assert LA.svd(constant(a))._fields == ("U", "S", "Vh")
    assert mg.svd(constant(a))._fields == ("U", "S", "V")
    assert LA.lstsq(constant(a), constant(a))._fields == ("solution", "residuals", "rank", "singular_values")
    assert LA.lu(constant(a))._fields == ("P", "L", "U")
    assert LA.lu_factor(constant(a))._fields == ("LU", "pivots")
    assert LA.inv_ex(constant(a))._fields == ("inverse", "info")
    assert LA.cholesky_ex(constant(a))._fields == ("L", "info")


def test_several_outputs_backward_through_one_output_only(rng):
    x = leaf(rng.standard_normal((4, 3)))
    Q, R = LA.qr(x)
    R.sum().backward()                                            # no gradient reaches Q
    expected = leaf(x.array)
    (LA.qr(expected).R + 0 * LA.qr(expected).Q.sum()).sum().backward()
    close(x.grad, expected.grad.array)
    with mg.no_grad():
        U, S, Vh = LA.svd(leaf(rng.standard_normal((3, 3))))
    assert not (U.requires_grad or S.requires_grad or Vh.requires_grad)
