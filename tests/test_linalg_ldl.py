"""minigrad.linalg's vander, diagonal and LDL^T factorisation (ops/linalg_ldl.py).

The compact LD / pivots format is checked by rebuilding A = (P1 L1 P2 L2 ...) D (...)^T
from it as LAPACK's sytrf documentation defines it, and against PyTorch 2.13's output
for a matrix that needs 2x2 pivots; solutions against A X = B; gradients of vander
and diagonal against float64 central differences; PyTorch's errors.
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import linalg as LA


def symmetric(rng, shape):
    a = rng.standard_normal(shape)
    return a + np.swapaxes(a, -1, -2)


def rebuild(LD, pivots):
    """A from LAPACK's lower sytrf format: A = L D L^T, L = P(1) L(1) P(2) L(2) ..., where each
    P(k) swaps row k (k+1 for a 2x2 block) with |pivots[k]| - 1 and L(k) holds the multipliers
    below block k."""
    n = LD.shape[0]
    L, D = np.eye(n), np.zeros((n, n))
    k = 0
    while k < n:
        size = 1 if pivots[k] > 0 else 2
        swap_row, target = (k, pivots[k] - 1) if size == 1 else (k + 1, -pivots[k] - 1)
        P = np.eye(n)
        P[[swap_row, target]] = P[[target, swap_row]]
        Lk = np.eye(n)
        Lk[k + size:, k:k + size] = LD[k + size:, k:k + size]
        L = L @ P @ Lk
        D[k:k + size, k:k + size] = LD[k:k + size, k:k + size]
        if size == 2:
            D[k, k + 1] = LD[k + 1, k]
        k += size
    return L @ D @ L.T


# PyTorch 2.13: torch.linalg.ldl_factor of this matrix (it needs 2x2 pivots: A[0, 0] = 0).
NEEDS_2X2 = np.array([[0.0, 1, 3, 4], [1, 0, 2, 1], [3, 2, 0, 1], [4, 1, 1, 0]])
TORCH_LD = np.array([[0.0, 0, 0, 0], [4, 0, 0, 0], [0.25, 0.75, -1.5, 0], [0.25, 0.25, -2 / 3, 1 / 6]])
TORCH_PIVOTS = np.array([-4, -4, 3, 4], dtype=np.int32)


def test_ldl_factor_matches_pytorch_compact_format():
    LD, pivots = LA.ldl_factor(mg.tensor(NEEDS_2X2))
    np.testing.assert_allclose(LD.numpy(), TORCH_LD, rtol=1e-12, atol=1e-12)
    assert pivots.dtype == mg.int32
    np.testing.assert_array_equal(pivots.numpy(), TORCH_PIVOTS)
    np.testing.assert_allclose(rebuild(LD.numpy(), pivots.numpy()), NEEDS_2X2, atol=1e-12)
    result = LA.ldl_factor(mg.tensor(NEEDS_2X2))
    assert type(result).__name__ == "linalg_ldl_factor" and result.LD is not None and result.pivots is not None


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_ldl_factor_rebuilds_a_batch(rng, dtype, tol):
    A = symmetric(rng, (3, 6, 6)).astype(dtype)
    A[1, :2, :2] = 0.0                                        # forces a 2x2 pivot in one matrix
    LD, pivots, info = LA.ldl_factor_ex(mg.tensor(A))
    assert LD.dtype == dtype and tuple(pivots.shape) == (3, 6) and tuple(info.shape) == (3,)
    np.testing.assert_array_equal(info.numpy(), 0)
    assert (pivots.numpy()[1] < 0).any()
    for b in range(3):
        assert np.allclose(np.triu(LD.numpy()[b], 1), 0)   # zeros above the diagonal
        np.testing.assert_allclose(rebuild(LD.numpy()[b].astype(np.float64), pivots.numpy()[b]), A[b],
                                   rtol=tol, atol=tol * 10)
    LD_h, pivots_h = LA.ldl_factor(mg.tensor(A), hermitian=True)  # the same for real matrices
    np.testing.assert_array_equal(LD_h.numpy(), LD.numpy())
    np.testing.assert_array_equal(pivots_h.numpy(), pivots.numpy())


def test_ldl_factor_reads_only_the_lower_triangle(rng):
    A = symmetric(rng, (5, 5))
    garbage = np.tril(A) + np.triu(rng.standard_normal((5, 5)), 1)
    np.testing.assert_array_equal(LA.ldl_factor(mg.tensor(garbage)).LD.numpy(), LA.ldl_factor(mg.tensor(A)).LD.numpy())


def test_ldl_solve(rng):
    A = symmetric(rng, (2, 5, 5))
    B = rng.standard_normal((2, 5, 3))
    LD, pivots = LA.ldl_factor(mg.tensor(A))
    X = LA.ldl_solve(LD, pivots, mg.tensor(B)).numpy()
    np.testing.assert_allclose(A @ X, B, atol=1e-10)
    np.testing.assert_allclose(X, np.linalg.solve(A, B), rtol=1e-9, atol=1e-10)
    # batch dims broadcast: one factorisation, several right-hand sides
    LD0, pivots0 = LA.ldl_factor(mg.tensor(A[0]))
    many = rng.standard_normal((4, 5, 2))
    X = LA.ldl_solve(LD0, pivots0, mg.tensor(many)).numpy()
    assert X.shape == (4, 5, 2)
    np.testing.assert_allclose(A[0] @ X, many, atol=1e-10)
    np.testing.assert_allclose(LA.ldl_solve(LD, pivots.long(), mg.tensor(B), hermitian=True).numpy(),
                               np.linalg.solve(A, B), rtol=1e-9, atol=1e-10)
    # float32, and the 2x2-pivot matrix
    LD32, pivots32 = LA.ldl_factor(mg.tensor(NEEDS_2X2.astype(np.float32)))
    rhs = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    X32 = LA.ldl_solve(LD32, pivots32, mg.tensor(rhs))
    assert X32.dtype == mg.float32
    np.testing.assert_allclose(NEEDS_2X2 @ X32.numpy(), rhs, atol=1e-4)


def test_ldl_singular_and_empty():
    zero = mg.zeros(2, 3, 3, dtype=mg.float64)
    LD, pivots, info = LA.ldl_factor_ex(zero)
    np.testing.assert_array_equal(info.numpy(), [1, 1])
    np.testing.assert_array_equal(pivots.numpy(), [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.ldl_factor(zero)
    with pytest.raises(RuntimeError, match="singular"):
        LA.ldl_factor_ex(zero, check_errors=True)
    LD, pivots = LA.ldl_factor(mg.zeros(2, 0, 0))
    assert tuple(LD.shape) == (2, 0, 0) and tuple(pivots.shape) == (2, 0)
    assert tuple(LA.ldl_solve(LD, pivots, mg.zeros(2, 0, 3)).shape) == (2, 0, 3)
    assert tuple(LA.ldl_solve(mg.eye(2), mg.tensor([1, 2], dtype=mg.int32), mg.zeros(2, 0)).shape) == (2, 0)


def test_ldl_has_no_derivative_as_pytorch(rng):
    A = mg.tensor(symmetric(rng, (3, 3)), requires_grad=True)
    LD, pivots = LA.ldl_factor(A)
    assert LD.requires_grad and not pivots.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        LD.sum().backward()
    LD, pivots = LA.ldl_factor(A.detach())
    B = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    X = LA.ldl_solve(LD, pivots, B)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
        X.sum().backward()


def test_ldl_errors(rng):
    with pytest.raises(RuntimeError, match="square matrices, but they are 3 by 4"):
        LA.ldl_factor(mg.zeros(3, 4))
    with pytest.raises(RuntimeError, match="floating point.*Got Long"):
        LA.ldl_factor(mg.ones(3, 3, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.ldl_factor(mg.ones(3))
    with pytest.raises(TypeError, match="must be Tensor"):
        LA.ldl_factor(np.eye(3))
    LD, pivots = LA.ldl_factor(mg.tensor(symmetric(rng, (2, 4, 4))))
    B = mg.tensor(rng.standard_normal((2, 4, 3)))
    with pytest.raises(RuntimeError, match="each A matrix is 4 by 4 but each b matrix is 5 by 3"):
        LA.ldl_solve(LD, pivots, mg.zeros(2, 5, 3, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="b of type Float and A of type Double"):
        LA.ldl_solve(LD, pivots, B.float())
    with pytest.raises(RuntimeError, match="pivots with shape \\[2, 3\\]"):
        LA.ldl_solve(LD, pivots[:, :3], B)
    with pytest.raises(RuntimeError, match="pivots to be integers. Got Float"):
        LA.ldl_solve(LD, pivots.float(), B)
    with pytest.raises(IndexError, match="Dimension out of range"):
        LA.ldl_solve(LD[0], pivots[0], mg.zeros(4, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="pivots must be 1-based"):
        LA.ldl_solve(LD[0], mg.tensor([1, 2, 9, 4], dtype=mg.int32), B[0])
    with pytest.raises(RuntimeError, match="negative pivot"):
        LA.ldl_solve(LD[0], mg.tensor([1, 2, 3, -4], dtype=mg.int32), B[0])


# ---------------------------------------------------------------------- vander
def test_vander_increasing_powers():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -2.0, 0.5]])
    np.testing.assert_array_equal(LA.vander(mg.tensor(x)).numpy(), np.stack([np.vander(r, increasing=True) for r in x]))
    np.testing.assert_array_equal(LA.vander(mg.tensor(x), N=5).numpy(),
                                  np.stack([np.vander(r, 5, increasing=True) for r in x]))
    np.testing.assert_array_equal(LA.vander(mg.tensor([1.0, 2.0, 3.0]), N=2).numpy(), [[1, 1], [1, 2], [1, 3]])
    ints = LA.vander(mg.tensor([2, 3], dtype=mg.int32), N=3)
    assert ints.dtype == mg.int64
    np.testing.assert_array_equal(ints.numpy(), [[1, 2, 4], [1, 3, 9]])
    assert LA.vander(mg.tensor([1.0], dtype=mg.float32), N=3).dtype == mg.float32


def test_vander_gradient(rng):
    assert mg.gradcheck(lambda t: LA.vander(t, N=4), (mg.tensor(rng.standard_normal((2, 3)), requires_grad=True),))
    assert mg.gradcheck(lambda t: LA.vander(t), (mg.tensor([0.0, 1.5, -0.7], requires_grad=True, dtype=mg.float64),))


def test_vander_errors():
    x = mg.tensor([1.0, 2.0])
    for N in (1, 0, -1):
        with pytest.raises(RuntimeError, match="N must be greater than 1"):
            LA.vander(x, N=N)
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(mg.tensor([2.0]))
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(mg.tensor(2.0))
    with pytest.raises(RuntimeError, match="Bool"):
        LA.vander(mg.tensor([True, False]))
    with pytest.raises(TypeError, match="'N' must be int"):
        LA.vander(x, N=2.0)


# -------------------------------------------------------------------- diagonal
def test_linalg_diagonal(rng):
    A = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(LA.diagonal(mg.tensor(A)).numpy(), np.diagonal(A, 0, -2, -1))
    np.testing.assert_array_equal(LA.diagonal(mg.tensor(A), offset=1, dim1=0, dim2=2).numpy(),
                                  np.diagonal(A, 1, 0, 2))
    np.testing.assert_array_equal(LA.diagonal(mg.tensor(A), offset=-1).numpy(), np.diagonal(A, -1, -2, -1))
    assert tuple(LA.diagonal(mg.tensor(A), offset=7).shape) == (2, 0)
    with pytest.raises(TypeError):
        LA.diagonal(mg.tensor(A), 1)                  # offset is keyword-only, as in PyTorch
    with pytest.raises(IndexError, match="Dimension out of range"):
        LA.diagonal(mg.tensor([1.0, 2.0]))
    assert mg.gradcheck(lambda t: LA.diagonal(t, offset=1), (mg.tensor(rng.standard_normal((2, 3, 4)),
                                                                        requires_grad=True),))
