"""Double backward (create_graph=True) of the movement, indexing, scatter, construction,
fused-linalg, einsum and decomposition ops, and of in-place ops.

Each op: its create_graph gradient equals the plain (array) backward's, and gradgradcheck
checks the second derivatives against float64 finite differences of the first. A few
second derivatives against closed forms with real values (the Hessian of log det, det,
inv, solve, eigenvalues, matrix_exp, tr(A^3), |a x b|^2, products scattered together).
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import linalg as LA
from minigrad.autograd import grad, gradgradcheck


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def constant(array):
    return mg.tensor(np.asarray(array))


def rand(*shape, seed=0, shift=0.0):
    array = np.random.default_rng(seed + 7 * len(shape) + sum(shape)).standard_normal(shape)
    if shift:
        array = array + shift * np.eye(shape[-1])
    return leaf(array)


def spd(a):
    return a @ a.mT + constant(3 * np.eye(a.shape[-1]))


def sym(a):
    return a + a.mT


def check(fn, inputs):
    """create_graph's gradients equal the plain backward's; second derivatives by finite differences."""
    outputs = fn(*inputs)
    outputs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
    rng = np.random.default_rng(1)
    weights = [constant(rng.standard_normal(o.shape)) for o in outputs]
    plain = grad(list(outputs), list(inputs), weights, retain_graph=True, allow_unused=True,
                 materialize_grads=True)
    recorded = grad(list(outputs), list(inputs), weights, create_graph=True, allow_unused=True,
                    materialize_grads=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.array, p.array, rtol=1e-10, atol=1e-12)
    assert any(r.requires_grad for r in recorded)
    assert gradgradcheck(fn, inputs)


def hessian_form(f, x, v, w):
    """d^2 f(x)[v, w]: the gradient's directional derivative along w, dotted with v."""
    g, = grad(f(x), x, create_graph=True)
    hw, = grad((g * constant(w)).sum(), x)
    return float((hw.array * v).sum())


IDX = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])

SHAPE_CASES = {
    "repeat": (lambda a: a.repeat(2, 1, 3) ** 2, [rand(3, 4)]),
    "tile": (lambda a: mg.tile(a, (2,)) ** 2, [rand(3)]),
    "flip": (lambda a: a.flip(0, 1) * a, [rand(3, 4)]),
    "roll_dims": (lambda a: a.roll((1, -2), (1, 0)) * a, [rand(3, 4)]),
    "roll_flat": (lambda a: mg.roll(a, 2) * a, [rand(3, 4)]),
    "reshape_permute_expand": (lambda a: a.reshape(4, 3).permute(1, 0).unsqueeze(0).expand(2, 3, 4) ** 2,
                               [rand(3, 4)]),
    "getitem": (lambda a: a[np.array([0, 2, 2]), 1:] ** 2, [rand(3, 4)]),
    "cat_stack": (lambda a, b: mg.cat([a * b, a], 1) * mg.stack([b, b], 2).sum(2).repeat(1, 2), [rand(3, 2),
                                                                                                  rand(3, 2)]),
}

INDEXING_CASES = {
    "gather": (lambda a: mg.gather(a, 0, constant(IDX)) ** 2, [rand(3, 4)]),
    "take_along_dim": (lambda a: mg.take_along_dim(a, constant(np.array([3, 0, 3]))) ** 3, [rand(2, 2)]),
    "scatter": (lambda a, b: mg.scatter(a * a, 0, constant(IDX), b * b), [rand(3, 4), rand(2, 4)]),
    "scatter_larger_src": (lambda a, b: mg.scatter(a * a, 1, constant(IDX[:, :2]), b * b), [rand(3, 4),
                                                                                            rand(3, 5)]),
    "scatter_value": (lambda a: mg.scatter(a * a, 0, constant(IDX), value=2.0), [rand(3, 4)]),
    "scatter_add": (lambda a, b: mg.scatter_add(a, 0, constant(IDX), b) ** 2, [rand(3, 4), rand(2, 4)]),
    "scatter_multiply": (lambda a, b: mg.scatter(a, 0, constant(IDX), b, reduce="multiply") * a,
                         [rand(3, 4), rand(2, 4)]),
    "index_select": (lambda a: mg.index_select(a, 1, constant(np.array([0, 2, 2]))) ** 2, [rand(3, 4)]),
    "take": (lambda a: mg.take(a, constant(np.array([[0, 5], [5, 11]]))) ** 2, [rand(3, 4)]),
    "masked_fill": (lambda a, v: mg.masked_fill(a, constant(np.array([[True, False, True]])), v * v) * a,
                    [rand(2, 3), leaf(0.7)]),
    "sort": (lambda a: mg.sort(a * a, 1, descending=True)[0] * a, [rand(3, 4)]),
    "topk": (lambda a: mg.topk(a * a, 2, 0)[0] ** 2, [rand(3, 4)]),
}


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    check(lambda a, b: mg.scatter_reduce(a * a, 0, constant(IDX), b * b, reduce, include_self=include_self),
          [rand(3, 4), rand(2, 4)])


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    # zeros of the input, a single zero of src, and both at one place (1, 1): the exact formulas
    a = leaf([[0., 2.], [3., 0.], [1.5, 0.5]])
    src = leaf([[1., 0.], [2., 3.]])
    check(lambda a, b: mg.scatter_reduce(a, 0, constant(np.array([[0, 1], [1, 2]])), b, "prod",
                                         include_self=include_self), [a, src])


def test_scatter_reduce_prod_two_zeros_refuses_a_double_backward():
    # two zeros of src at one place: the gradient is right (0 for each), its derivative raises (as PyTorch)
    a, src = leaf([[2., 3.]]), leaf([[0., 1.], [0., 4.]])
    out = mg.scatter_reduce(a, 0, constant(np.zeros((2, 2), np.int64)), src, "prod")
    g, = grad(out.sum(), src, create_graph=True)
    np.testing.assert_allclose(g.array, [[0., 12.], [0., 3.]])
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src"):
        grad(g.sum(), a)
    out = mg.index_reduce(a, 0, constant(np.array([0, 0])), src, "prod")
    g, = grad(out.sum(), src, create_graph=True)
    np.testing.assert_allclose(g.array, [[0., 12.], [0., 3.]])
    with pytest.raises(RuntimeError, match="Double backward is unsupported for source"):
        grad(g.sum(), src)


def test_scatter_prod_hessian_closed_form():
    # out[0] = 7 * s0 * s1 * s2: d^2 out / ds_i ds_j = out / (s_i s_j) off the diagonal, 0 on it
    s = np.array([2., 3., 5.])
    f = lambda src: mg.scatter_reduce(constant(np.array([7.])), 0, constant(np.zeros(3, np.int64)),  # noqa: E731
                                      src, "prod").sum()
    hessian = np.array([[hessian_form(f, leaf(s), np.eye(3)[i], np.eye(3)[j]) for j in range(3)]
                        for i in range(3)])
    expected = 210 / np.outer(s, s) * (1 - np.eye(3))
    np.testing.assert_allclose(hessian, expected, rtol=1e-12)


def test_gather_hessian_closed_form():
    # f = sum_k x[idx_k]^3: H = diag(6 x_i count_i)
    x = np.array([0.5, -1.0, 2.0, 3.0])
    index = np.array([0, 2, 2, 3, 0, 0])
    f = lambda t: (mg.gather(t, 0, constant(index)) ** 3).sum()  # noqa: E731
    t = leaf(x)
    g, = grad(f(t), t, create_graph=True)
    h, = grad(g.sum(), t)
    np.testing.assert_allclose(h.array, 6 * x * np.bincount(index, minlength=4), rtol=1e-12)


CONSTRUCTION_CASES = {
    "diagonal": (lambda a: mg.diagonal(a * a, 1, 0, 2), [rand(3, 4, 5)]),
    "diagonal_negative": (lambda a: mg.diagonal(a * a, -2, 2, 0), [rand(3, 4, 5)]),
    "diag_embed": (lambda a: mg.diag_embed(a * a, -1, 0, 2), [rand(3, 4)]),
    "diag_vector": (lambda a: mg.diag(a * a, 1), [rand(4)]),
    "diag_matrix": (lambda a: mg.diag(a * a, -1), [rand(4, 3)]),
    "index_add": (lambda a, b: mg.index_add(a * a, 1, constant(np.array([0, 2, 2])), b * b, alpha=2.0),
                  [rand(3, 4, 5), rand(3, 3, 5)]),
    "index_copy": (lambda a, b: mg.index_copy(a * a, 1, constant(np.array([0, 3, 1])), b * b),
                   [rand(3, 4, 5), rand(3, 3, 5)]),
    "index_fill": (lambda a, v: mg.index_fill(a * a, 1, constant(np.array([0, 2, 2])), v * v) * a,
                   [rand(3, 4, 5), leaf(0.3)]),
}

ROWS, COLS = constant(np.array([0, 2, 2])), constant(np.array([1, 1, 4]))
MASK = np.random.default_rng(3).standard_normal((4, 5)) > 0

WRITE_CASES = {
    "index_put": (lambda a, b: mg.index_put(a * a, (ROWS, COLS), b * b), [rand(4, 5), rand(3)]),
    "index_put_accumulate": (lambda a, b: mg.index_put(a * a, (ROWS, COLS), b * b, accumulate=True),
                             [rand(4, 5), rand(3)]),
    "index_put_rows_broadcast": (lambda a, b: mg.index_put(a * a, (ROWS,), b * b, accumulate=True),
                                 [rand(4, 5), rand(5)]),
    "index_put_mask": (lambda a, b: mg.index_put(a * a, (constant(MASK),), b * b), [rand(4, 5), rand(1)]),
    "put": (lambda a, b: mg.put(a * a, constant(np.array([0, 7, 7])), b * b, accumulate=True),
            [rand(4, 5), rand(3)]),
    "masked_scatter": (lambda a, b: mg.masked_scatter(a * a, constant(MASK), b * b), [rand(4, 5), rand(20)]),
    "select_scatter": (lambda a, b: mg.select_scatter(a * a, b * b, 1, 2), [rand(4, 5), rand(4)]),
    "slice_scatter": (lambda a, b: mg.slice_scatter(a * a, b * b, 1, 1, 5, 2), [rand(4, 5), rand(4, 2)]),
    "diagonal_scatter": (lambda a, b: mg.diagonal_scatter(a * a, b * b, 1), [rand(4, 5), rand(4)]),
    "as_strided": (lambda a: mg.as_strided(a * a, (3, 3), (1, 2), 1), [rand(3, 4)]),
}


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    check(lambda a, b: mg.index_reduce(a * a, 0, ROWS, b * b, reduce, include_self=include_self),
          [rand(4, 5), rand(3, 5)])


@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_prod_with_zeros(include_self):
    check(lambda a, b: mg.index_reduce(a, 0, constant(np.array([0, 1])), b, "prod", include_self=include_self),
          [leaf([[0., 2.], [3., 4.], [1.5, 0.]]), leaf([[1., 0.], [2., 3.]])])


def test_stft_istft():
    # istft's overlap-add (OverlapAdd); center=False keeps the padding op out
    window = constant(np.hanning(8) + 0.1)
    check(lambda x: mg.istft(mg.stft(x * x, 8, 2, window=window, center=False, return_complex=False) ** 2,
                             8, 2, window=window, center=False), [rand(2, 16)])


FUSED_CASES = {
    "addmm": (lambda i, a, b: mg.addmm(i, a, b, beta=0.5, alpha=2.0) ** 2, [rand(3, 1), rand(3, 4), rand(4, 2)]),
    "baddbmm": (lambda i, a, b: mg.baddbmm(i, a, b) ** 2, [rand(2, 3, 2), rand(2, 3, 4), rand(2, 4, 2)]),
    "addbmm": (lambda i, a, b: mg.addbmm(i, a, b, alpha=0.5) ** 2, [rand(3, 2), rand(2, 3, 4), rand(2, 4, 2)]),
    "addmv": (lambda i, a, b: mg.addmv(i, a, b) ** 2, [rand(3), rand(3, 4), rand(4)]),
    "addr": (lambda i, a, b: mg.addr(i, a, b, beta=2.0) ** 2, [rand(3, 4), rand(3), rand(4)]),
    "addcmul": (lambda i, a, b: mg.addcmul(i, a, b, value=0.5) ** 2, [rand(3, 4), rand(3, 1), rand(4)]),
    "addcdiv": (lambda i, a, b: mg.addcdiv(i, a, b + 3.0, value=0.5) ** 2, [rand(3, 4), rand(3, 1), rand(4)]),
    "linalg_cross_broadcast": (lambda a, b: LA.cross(a, b) ** 2, [rand(2, 3), rand(1, 3)]),
    "cross_dim0": (lambda a, b: mg.cross(a, b, dim=0) ** 2, [rand(3, 2), rand(3, 2)]),
    "einsum_matmul": (lambda a, b: mg.einsum("ij,jk->ik", a, b) ** 2, [rand(3, 4), rand(4, 2)]),
    "einsum_diagonal": (lambda a: mg.einsum("ii->i", a) ** 2, [rand(3, 3)]),
    "einsum_trace_scalar": (lambda a: mg.einsum("ii", a * a), [rand(3, 3)]),
    "einsum_repeated_in_3d": (lambda a, b: mg.einsum("iij,jk->ik", a, b) ** 2, [rand(3, 3, 2), rand(2, 4)]),
    "einsum_ellipsis_broadcast": (lambda a, b: mg.einsum("...ij,...jk", a, b) ** 2, [rand(2, 3, 4),
                                                                                   rand(1, 4, 2)]),
    "einsum_three": (lambda a, b, c: mg.einsum("i,ij,j->", a, b, c) ** 2, [rand(3), rand(3, 4), rand(4)]),
    "einsum_same_operand": (lambda a: mg.einsum("ij,ij->i", a, a), [rand(3, 4)]),
}

SINGULAR = [[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]]

LINALG_CASES = {
    "det": (LA.det, [rand(3, 3)]),
    "det_batch": (LA.det, [rand(2, 3, 3)]),
    "det_singular": (LA.det, [leaf(SINGULAR)]),
    "det_1x1": (lambda a: LA.det(a * a), [rand(2, 1, 1)]),
    "slogdet": (lambda a: LA.slogdet(a)[1], [rand(3, 3, shift=4)]),
    "logdet": (lambda a: mg.logdet(spd(a)), [rand(3, 3)]),
    "inv": (LA.inv, [rand(2, 3, 3, shift=3)]),
    "inv_ex": (lambda a: LA.inv_ex(a)[0], [rand(3, 3, shift=3)]),
    "matrix_power_negative": (lambda a: LA.matrix_power(a, -2), [rand(3, 3, shift=3)]),
    "matrix_power_zero": (lambda a: LA.matrix_power(a, 0) + a * a, [rand(3, 3)]),
    "solve_broadcast": (LA.solve, [rand(3, 3, shift=3), rand(2, 3, 2)]),
    "solve_vector": (LA.solve, [rand(3, 3, shift=3), rand(3)]),
    "solve_right": (lambda a, b: LA.solve(a, b, left=False), [rand(3, 3, shift=3), rand(2, 3)]),
    "solve_triangular_upper": (lambda a, b: LA.solve_triangular(a, b, upper=True), [rand(3, 3, shift=3),
                                                                                    rand(3, 2)]),
    "solve_triangular_lower_unit_right": (
        lambda a, b: LA.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [rand(3, 3, shift=3), rand(2, 3)]),
    "cholesky": (lambda a: LA.cholesky(spd(a)), [rand(3, 3)]),
    "cholesky_upper_batch": (lambda a: LA.cholesky(spd(a), upper=True), [rand(2, 3, 3)]),
    "cholesky_solve": (lambda b, a: mg.cholesky_solve(b, LA.cholesky(spd(a))), [rand(3, 2), rand(3, 3)]),
    "cholesky_solve_upper": (lambda b, a: mg.cholesky_solve(b, LA.cholesky(spd(a), upper=True), upper=True),
                             [rand(3, 2), rand(3, 3)]),
    "cholesky_inverse": (lambda a: mg.cholesky_inverse(LA.cholesky(spd(a))), [rand(3, 3)]),
    "qr_tall": (LA.qr, [rand(4, 3)]),
    "qr_square_batch": (LA.qr, [rand(2, 3, 3)]),
    "qr_wide": (LA.qr, [rand(3, 5)]),
    "qr_complete_wide": (lambda a: LA.qr(a, "complete"), [rand(3, 4)]),
    "eigh": (lambda a: LA.eigh(sym(a)), [rand(3, 3)]),
    "eigh_upper": (lambda a: LA.eigh(sym(a), UPLO="U")[1], [rand(3, 3)]),
    "eigvalsh_batch": (lambda a: LA.eigvalsh(sym(a)), [rand(2, 4, 4)]),
    "svd_tall": (lambda a: LA.svd(a, full_matrices=False), [rand(4, 3)]),
    "svd_wide": (lambda a: LA.svd(a, full_matrices=False), [rand(3, 4)]),
    "svd_full_matrices": (lambda a: (lambda r: (r.U[:, :3] ** 2).sum() * r.S.sum() + (r.Vh * r.Vh).sum())(
        LA.svd(a)), [rand(4, 3)]),
    "svdvals": (LA.svdvals, [rand(3, 4)]),
    "pinv": (LA.pinv, [rand(4, 3)]),
    "pinv_hermitian": (lambda a: LA.pinv(sym(a), hermitian=True), [rand(3, 3)]),
    "lstsq": (lambda a, b: LA.lstsq(a, b).solution, [rand(4, 3), rand(4, 2)]),
    "matrix_exp": (LA.matrix_exp, [rand(3, 3)]),
    "matrix_exp_batch": (LA.matrix_exp, [rand(2, 2, 2)]),
    "lu_factor_square": (lambda a: LA.lu_factor(a)[0], [rand(3, 3)]),
    "lu_factor_wide": (lambda a: LA.lu_factor(a)[0], [rand(3, 4)]),
    "lu_factor_tall": (lambda a: LA.lu_factor(a)[0], [rand(4, 3)]),
    "lu": (lambda a: LA.lu(a)[1:], [rand(3, 3)]),
    "lu_wide": (lambda a: LA.lu(a)[1:], [rand(2, 4)]),
    "lu_tall": (lambda a: LA.lu(a)[1:], [rand(4, 2)]),
    "lu_solve": (lambda a, b: LA.lu_solve(*LA.lu_factor(a), b), [rand(3, 3, shift=2), rand(3, 2)]),
    "lu_solve_adjoint": (lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, adjoint=True), [rand(3, 3, shift=2),
                                                                                       rand(3, 2)]),
    "lu_solve_right": (lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, left=False), [rand(3, 3, shift=2),
                                                                                   rand(2, 3)]),
}

ALL_CASES = {**SHAPE_CASES, **INDEXING_CASES, **CONSTRUCTION_CASES, **WRITE_CASES, **FUSED_CASES,
             **LINALG_CASES}


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_gradgradcheck(name):
    fn, inputs = ALL_CASES[name]
    check(fn, inputs)


# ------------------------------------------------ closed-form second derivatives
A0 = np.array([[4., 1., 0.5], [0.2, 3., -1.], [0.3, 0.4, 5.]])
V0 = np.array([[0.1, -0.4, 0.2], [0.5, 0.3, -0.2], [0.0, 0.7, 0.1]])
W0 = np.array([[-0.3, 0.2, 0.6], [0.1, -0.5, 0.4], [0.8, 0.0, -0.2]])


def test_logdet_hessian():
    # d^2 log det(A)[V, W] = -tr(A^-1 V A^-1 W)
    inverse = np.linalg.inv(A0)
    expected = -np.trace(inverse @ V0 @ inverse @ W0)
    for f in (lambda a: LA.slogdet(a)[1], mg.logdet):
        np.testing.assert_allclose(hessian_form(f, leaf(A0), V0, W0), expected, rtol=1e-10)


def test_det_hessian():
    # d^2 det(A)[V, W] = det(A) (tr(A^-1 V) tr(A^-1 W) - tr(A^-1 V A^-1 W))
    inverse = np.linalg.inv(A0)
    expected = np.linalg.det(A0) * (np.trace(inverse @ V0) * np.trace(inverse @ W0)
                                    - np.trace(inverse @ V0 @ inverse @ W0))
    np.testing.assert_allclose(hessian_form(LA.det, leaf(A0), V0, W0), expected, rtol=1e-10)


def test_det_hessian_at_a_singular_matrix():
    # det is a cubic polynomial: the same formula through the adjugate, with A^-1 det(A) = adj(A)
    A = np.array(SINGULAR)
    adjugate = np.array([[np.linalg.det(np.delete(np.delete(A, j, 0), i, 1)) * (-1) ** (i + j)
                          for j in range(3)] for i in range(3)])
    # d^2 det[V, W] = sum over the pairs of rows replaced by V's and W's rows
    expected = 0.0
    for i in range(3):
        for j in range(3):
            if i != j:
                M = A.copy()
                M[i], M[j] = V0[i], W0[j]
                expected += np.linalg.det(M)
    np.testing.assert_allclose(hessian_form(LA.det, leaf(A), V0, W0), expected, rtol=1e-9, atol=1e-12)
    # the first derivative there: adj(A)^T
    t = leaf(A)
    g, = grad(LA.det(t), t, create_graph=True)
    np.testing.assert_allclose(g.array, adjugate.T, atol=1e-12)


def test_inv_and_solve_hessians():
    inverse = np.linalg.inv(A0)
    C = np.arange(9.).reshape(3, 3) / 10
    # d^2 A^-1[V, W] = A^-1 V A^-1 W A^-1 + A^-1 W A^-1 V A^-1
    expected = (C * (inverse @ V0 @ inverse @ W0 @ inverse + inverse @ W0 @ inverse @ V0 @ inverse)).sum()
    f = lambda a: (LA.inv(a) * constant(C)).sum()  # noqa: E731
    np.testing.assert_allclose(hessian_form(f, leaf(A0), V0, W0), expected, rtol=1e-10)
    b = np.array([1., -2., 0.5])
    X = inverse @ b
    expected = C[0] @ (inverse @ V0 @ inverse @ W0 @ X + inverse @ W0 @ inverse @ V0 @ X)
    f = lambda a: (LA.solve(a, constant(b)) * constant(C[0])).sum()  # noqa: E731
    np.testing.assert_allclose(hessian_form(f, leaf(A0), V0, W0), expected, rtol=1e-10)


def test_eigenvalue_hessian():
    # d^2 lambda_k[V, V] = 2 sum_{j != k} (v_j^T V v_k)^2 / (lambda_k - lambda_j), V symmetric
    S = A0 + A0.T
    V = V0 + V0.T
    w, Q = np.linalg.eigh(S)
    for k in range(3):
        expected = 2 * sum((Q[:, j] @ V @ Q[:, k]) ** 2 / (w[k] - w[j]) for j in range(3) if j != k)
        f = lambda a, k=k: LA.eigvalsh(a)[k]  # noqa: E731
        np.testing.assert_allclose(hessian_form(f, leaf(S), V, V), expected, rtol=1e-8)


def test_matrix_exp_hessian_at_zero():
    # exp(tV + sW) = I + tV + sW + (tV + sW)^2 / 2 + ...: d^2[V, W] at 0 = (VW + WV) / 2
    C = np.arange(9.).reshape(3, 3) / 10
    f = lambda a: (LA.matrix_exp(a) * constant(C)).sum()  # noqa: E731
    expected = (C * (V0 @ W0 + W0 @ V0) / 2).sum()
    np.testing.assert_allclose(hessian_form(f, leaf(np.zeros((3, 3))), V0, W0), expected, rtol=1e-10)


def test_trace_cube_hessian():
    # f = tr(A^3) = einsum('ij,jk,ki', A, A, A): d^2 f[V, W] = 3 tr(A (VW + WV))
    f = lambda a: mg.einsum("ij,jk,ki", a, a, a)  # noqa: E731
    expected = 3 * np.trace(A0 @ (V0 @ W0 + W0 @ V0))
    np.testing.assert_allclose(hessian_form(f, leaf(A0), V0, W0), expected, rtol=1e-10)


def test_cross_norm_hessian():
    # f(a) = |a x b|^2: the Hessian is 2 (|b|^2 I - b b^T)
    b = np.array([0.5, -1., 2.])
    a = leaf([1., 2., 3.])
    g, = grad((LA.cross(a, constant(b)) ** 2).sum(), a, create_graph=True)
    rows = [grad(g[i], a, retain_graph=True)[0].array for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), 2 * (b @ b * np.eye(3) - np.outer(b, b)), rtol=1e-12)


def test_addmm_hessian():
    # f(A) = |I + A B|^2: d^2 f[V, W] = 2 <V B, W B>
    B = np.array([[1., 2.], [0.5, -1.], [3., 0.]])
    f = lambda a: (mg.addmm(constant(np.eye(3, 2)), a, constant(B)) ** 2).sum()  # noqa: E731
    expected = 2 * ((V0 @ B) * (W0 @ B)).sum()
    np.testing.assert_allclose(hessian_form(f, leaf(A0), V0, W0), expected, rtol=1e-12)


# ------------------------------------------------ in-place ops under create_graph
def test_inplace_mul_second_derivatives():
    # x = 2a; x *= b; y = sum(x^2) = 4 sum(a^2 b^2)
    a_values, b_values = np.array([1., 2., 3.]), np.array([0.5, -1., 2.])
    a, b = leaf(a_values), leaf(b_values)
    x = a * 2
    x.mul_(b)
    ga, gb = grad((x * x).sum(), (a, b), create_graph=True)
    np.testing.assert_allclose(ga.array, 8 * a_values * b_values ** 2)
    np.testing.assert_allclose(gb.array, 8 * a_values ** 2 * b_values)
    mixed, = grad(gb.sum(), a, retain_graph=True)             # d/da sum(8 a^2 b) = 16 a b
    np.testing.assert_allclose(mixed.array, 16 * a_values * b_values)
    second, = grad(ga.sum(), a)                               # d/da sum(8 a b^2) = 8 b^2
    np.testing.assert_allclose(second.array, 8 * b_values ** 2)


def test_inplace_op_that_saves_its_output():
    # exp_ saves its output; y = sum(exp(a)^2): d^2 y / da^2 = 4 exp(2a)
    a_values = np.array([0.5, -1., 0.2])
    a = leaf(a_values)
    x = a * 1.0
    x.exp_()
    g, = grad((x * x).sum(), a, create_graph=True)
    np.testing.assert_allclose(g.array, 2 * np.exp(2 * a_values))
    h, = grad(g.sum(), a)
    np.testing.assert_allclose(h.array, 4 * np.exp(2 * a_values))


def test_inplace_chains_gradgradcheck():
    def chain(a, b):
        x = a * 1.0
        x.mul_(b.t())
        x.exp_()
        x.t_()
        return x * b

    def chain2(a, b):
        y = a.exp() * 2.0
        y.add_(b.t())
        y.pow_(3)
        y.div_(a + 3.0)
        y.unsqueeze_(0)
        return y * y

    check(chain, [rand(2, 3), rand(3, 2)])
    check(chain2, [rand(2, 3), rand(3, 2)])


def test_backward_create_graph_grad_of_inplace_result():
    # backward(create_graph=True) leaves a .grad that can be differentiated
    a = leaf(A0)
    x = a * 1.0
    x.add_(constant(np.eye(3)))
    LA.slogdet(x)[1].backward(create_graph=True)
    inverse = np.linalg.inv(A0 + np.eye(3))
    np.testing.assert_allclose(a.grad.array, inverse.T, rtol=1e-12)
    hw, = grad((a.grad * constant(W0)).sum(), a)
    np.testing.assert_allclose((hw.array * V0).sum(), -np.trace(inverse @ V0 @ inverse @ W0), rtol=1e-10)


# ------------------------------------------------ what is refused, as in PyTorch
def test_qr_complete_tall_refuses_in_a_double_backward_too():
    a = rand(4, 3)
    Q, R = LA.qr(a, "complete")
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        grad(Q.sum(), a, create_graph=True)


def test_qr_mode_r_refuses_in_a_double_backward_too():
    a = rand(3, 3)
    _, R = LA.qr(a, "r")
    with pytest.raises(RuntimeError, match="mode='r'"):
        grad(R.sum(), a, create_graph=True)


def test_embedding_renorm_has_no_derivative():
    weight = rand(4, 3)
    out = weight * 1.0
    mg.embedding_renorm_(out, constant(np.array([0, 2])), 0.5, 2.0)
    with pytest.raises(NotImplementedError, match="embedding_renorm"):
        grad(out.sum(), weight, create_graph=True)


@pytest.mark.parametrize("name", ["scatter_prod", "index_put", "det", "cholesky", "qr", "svd", "lu", "einsum"])
def test_float32_second_derivatives_stay_float32(name):
    fn = {
        "scatter_prod": lambda a: mg.scatter_reduce(a, 0, constant(np.array([[0, 1], [1, 0]])), a[:2] * 2, "prod"),
        "index_put": lambda a: mg.index_put(a, (constant(np.array([0, 1])),), a[0] * a[1]) * a,
        "det": LA.det,
        "cholesky": lambda a: LA.cholesky(a @ a.mT + constant(np.eye(3, dtype=a.array.dtype))),
        "qr": lambda a: LA.qr(a)[0],
        "svd": lambda a: LA.svd(a)[0],
        "lu": lambda a: LA.lu(a)[2],
        "einsum": lambda a: mg.einsum("ii->i", a) ** 2,
    }[name]
    values = np.random.default_rng(5).standard_normal((3, 3)) + 3 * np.eye(3)
    hessians = []
    for dtype in (np.float32, np.float64):
        a = mg.tensor(values.astype(dtype), requires_grad=True)
        y = fn(a)
        weights = constant(np.random.default_rng(6).standard_normal(tuple(y.shape)).astype(dtype))
        g, = grad((y * y * y * weights).sum(), a, create_graph=True)   # (sum(y^2) is constant for orthogonal Q, U)
        h, = grad((g * g).sum(), a)
        assert g.dtype == dtype and h.dtype == dtype
        hessians.append(h.array)
    np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-3, atol=1e-3 * np.abs(hessians[1]).max())
