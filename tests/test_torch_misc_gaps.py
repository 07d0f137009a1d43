"""as_strided, empty_strided, frombuffer, the *_copy ops, unsafe splits, nonzero_static,
Tensor.apply_/map_/map2_, and the linear-algebra odds: values against NumPy/SciPy,
gradients against float64 finite differences (minigrad.gradcheck), errors as PyTorch raises them."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import gradcheck


def _rand(*shape, seed=0, requires_grad=True):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


# ------------------------------------------------------------------ as_strided
@pytest.mark.parametrize("size,stride,offset", [((3, 3), (1, 1), 0),   # overlapping windows
                                                 ((2, 3), (3, 1), 0), ((3, 2), (1, 3), 0),
                                                 ((2, 2), (4, 2), 1), ((4,), (0,), 5), ((2, 2, 2), (1, 2, 3), 2)])
def test_as_strided_values_and_gradient(size, stride, offset):
    x = _rand(3, 4)
    base = x.detach().numpy().reshape(-1)
    expected = np.lib.stride_tricks.as_strided(base[offset:], size, [s * base.itemsize for s in stride])
    np.testing.assert_array_equal(mg.as_strided(x, size, stride, offset).detach().numpy(), expected)
    np.testing.assert_array_equal(x.as_strided(size, stride, offset).detach().numpy(), expected)
    assert gradcheck(lambda a: mg.as_strided(a, size, stride, offset), (x,))


def test_as_strided_overlap_gradient_counts_uses():
    x = mg.arange(5.0, dtype=mg.float64).requires_grad_()
    mg.as_strided(x, (3, 3), (1, 1)).sum().backward()  # element k appears in min(k+1, 3, 5-k) windows
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1, 2, 3, 2, 1])


def test_as_strided_is_a_copy():
    x = mg.arange(4.0)
    y = mg.as_strided(x, (2,), (2,))
    y.array[0] = 100
    assert x.array[0] == 0


def test_as_strided_errors():
    x = mg.arange(6.0)
    with pytest.raises(RuntimeError, match="Negative strides"):
        mg.as_strided(x, (3, 3), (1, -1))
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        mg.as_strided(x, (3, 3), (2, 2))
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        mg.as_strided(x, (3,), (1, 2))
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.as_strided(np.zeros(3), (1,), (1,))


def test_empty_strided():
    t = mg.empty_strided((2, 3), (1, 2), dtype=mg.float64, requires_grad=True)
    assert t.shape == (2, 3) and t.stride() == (1, 2) and t.dtype == mg.float64 and t.requires_grad
    assert mg.empty_strided((4,), (1,)).dtype == mg.float32
    with pytest.raises(RuntimeError, match="mismatch in length"):
        mg.empty_strided((2, 3), (1,))


def test_frombuffer_shares_memory_and_checks():
    buffer = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = mg.frombuffer(buffer, dtype=mg.float32, offset=4, count=2)
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 2.0])
    t.array[0] = 9.0
    np.testing.assert_array_equal(np.frombuffer(buffer, np.float32), [0, 9, 2, 3])
    np.testing.assert_array_equal(mg.frombuffer(buffer, dtype=mg.int16).detach().numpy(),
                                  np.frombuffer(buffer, np.int16))
    with pytest.raises(ValueError, match="multiple of element size"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, offset=3)
    with pytest.raises(ValueError, match="must not be greater than actual buffer length"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, count=5)
    with pytest.raises(ValueError, match="must not be 0"):
        mg.frombuffer(bytearray(0), dtype=mg.float32)
    with pytest.raises(ValueError, match="must be non-negative"):
        mg.frombuffer(bytearray(8), dtype=mg.float32, offset=-1)


def test_frombuffer_warns_on_read_only_buffer():
    from minigrad.ops import torch_misc
    torch_misc._frombuffer_warned = False
    with pytest.warns(UserWarning, match="not writable"):
        t = mg.frombuffer(b"abcd", dtype=mg.uint8)
    np.testing.assert_array_equal(t.detach().numpy(), [97, 98, 99, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per program, as in PyTorch
        mg.frombuffer(b"abcd", dtype=mg.uint8)


# ------------------------------------------------------------------ *_copy ops
X = np.random.default_rng(1).standard_normal((3, 4, 2))
COPY_CASES = [  # name, args, NumPy reference of the view
    ("alias_copy", (), lambda a: a),
    ("detach_copy", (), lambda a: a),
    ("diagonal_copy", (1, 0, 1), lambda a: np.diagonal(a, 1, 0, 1)),
    ("expand_copy", ((2, 3, 4, 2),), lambda a: np.broadcast_to(a, (2, 3, 4, 2))),
    ("narrow_copy", (1, 1, 2), lambda a: a[:, 1:3]),
    ("permute_copy", ((2, 0, 1),), lambda a: a.transpose(2, 0, 1)),
    ("select_copy", (1, -1), lambda a: a[:, -1]),
    ("slice_copy", (1, 0, 4, 2), lambda a: a[:, 0:4:2]),
    ("squeeze_copy", (), lambda a: a),
    ("transpose_copy", (0, 2), lambda a: a.swapaxes(0, 2)),
    ("unfold_copy", (1, 2, 1), lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1)),
    ("unsqueeze_copy", (1,), lambda a: a[:, None]),
    ("view_copy", ((4, 6),), lambda a: a.reshape(4, 6)),
]


@pytest.mark.parametrize("name,args,reference", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copy_ops_values_gradients_and_independence(name, args, reference):
    x = mg.tensor(X, requires_grad=True)
    out = getattr(mg, name)(x, *args)
    np.testing.assert_allclose(out.detach().numpy(), reference(X))
    out.array[...] = 0  # a new tensor: writing it leaves x alone
    np.testing.assert_array_equal(x.detach().numpy(), X)
    if name == "detach_copy":
        assert not out.requires_grad
    else:
        assert gradcheck(lambda a: getattr(mg, name)(a, *args), (x,))


def test_list_copy_ops():
    x = mg.tensor(X, requires_grad=True)
    for parts, reference in [(mg.split_copy(x, 2, 1), np.split(X, 2, axis=1)),
                             (mg.split_with_sizes_copy(x, [1, 3], 1), np.split(X, [1], axis=1)),
                             (mg.unbind_copy(x, 2), [X[..., 0], X[..., 1]])]:
        assert isinstance(parts, tuple) and len(parts) == len(reference)
        for part, expected in zip(parts, reference):
            np.testing.assert_allclose(part.detach().numpy(), expected)
    assert gradcheck(lambda a: mg.split_with_sizes_copy(a, [1, 3], 1), (x,))
    assert gradcheck(lambda a: mg.unbind_copy(a, 0), (x,))


def test_t_copy_squeeze_dim_and_method():
    m = _rand(2, 3)
    np.testing.assert_array_equal(mg.t_copy(m).detach().numpy(), m.detach().numpy().T)
    assert gradcheck(mg.t_copy, (m,))
    assert mg.squeeze_copy(mg.zeros(1, 3, 1), 0).shape == (3, 1)
    np.testing.assert_array_equal(m.narrow_copy(1, 1, 2).detach().numpy(), m.detach().numpy()[:, 1:3])
    with pytest.raises(IndexError):
        mg.slice_copy(m, 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.t_copy([1, 2])


# -------------------------------------------------------------- unsafe splits
def test_unsafe_splits_match_split():
    x = _rand(5, 3)
    a = x.detach().numpy()
    for parts, reference in [(mg.unsafe_split(x, 2), np.split(a, [2, 4])),
                             (x.unsafe_split(2, 1), np.split(a, [2], axis=1)),
                             (mg.unsafe_chunk(x, 3), np.split(a, [2, 4])),
                             (x.unsafe_chunk(2, dim=1), np.split(a, [2], axis=1)),
                             (mg.unsafe_split_with_sizes(x, [1, 4]), np.split(a, [1])),
                             (x.unsafe_split_with_sizes([2, 1], 1), np.split(a, [2], axis=1))]:
        assert len(parts) == len(reference)
        for part, expected in zip(parts, reference):
            np.testing.assert_array_equal(part.detach().numpy(), expected)
    assert gradcheck(lambda t: mg.unsafe_split(t, 2), (x,))
    assert gradcheck(lambda t: mg.unsafe_chunk(t, 2, 1), (x,))


def test_nonzero_static():
    x = mg.tensor([[0, 1], [1, 1]])
    np.testing.assert_array_equal(mg.nonzero_static(x, size=5).detach().numpy(),
                                  [[0, 1], [1, 0], [1, 1], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(x.nonzero_static(size=1, fill_value=7).detach().numpy(), [[0, 1]])
    out = mg.nonzero_static(mg.tensor([0.0, 2.0, 0.0, 3.0]), size=3, fill_value=9)
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.detach().numpy(), [[1], [3], [9]])
    with pytest.raises(RuntimeError, match="non-negative integer"):
        mg.nonzero_static(x, size=-1)


# ------------------------------------------------------- Python-callable maps
def test_apply_map_map2():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.apply_(lambda v: v * v) is x
    np.testing.assert_array_equal(x.detach().numpy(), [[1, 4], [9, 16]])
    x.map_(mg.tensor([10.0, 20.0]), lambda a, b: a - b)  # broadcast along rows
    np.testing.assert_array_equal(x.detach().numpy(), [[-9, -16], [-1, -4]])
    x.map2_(mg.tensor([[1.0], [2.0]]), mg.tensor(3.0), lambda a, b, c: a * b + c)
    np.testing.assert_array_equal(x.detach().numpy(), [[-6, -13], [1, -5]])
    i = mg.tensor([1, 2, 3])
    i.apply_(lambda v: v // 2)
    assert i.dtype == mg.int64
    np.testing.assert_array_equal(i.detach().numpy(), [0, 1, 1])


def test_apply_map_errors():
    g = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires grad"):
        g.apply_(lambda v: v)
    with pytest.raises(RuntimeError, match="requires grad"):
        g.map_(mg.ones(2), lambda a, b: a)
    with pytest.raises(RuntimeError, match="requires grad"):
        g.map2_(mg.ones(2), mg.ones(2), lambda a, b, c: a)
    with pytest.raises(RuntimeError, match="expanded size"):
        mg.ones(2).map_(mg.ones(3), lambda a, b: a)


# ------------------------------------------------------ linear-algebra odds
import scipy.linalg  # noqa: E402


def test_nuclear_and_frobenius_norm():
    x = _rand(3, 4, 5)
    a = x.detach().numpy()
    np.testing.assert_allclose(mg.nuclear_norm(x).detach().numpy(),
                               [np.linalg.norm(m, "nuc") for m in a])
    np.testing.assert_allclose(mg.nuclear_norm(x, (0, 2), keepdim=True).detach().numpy(),
                               np.array([np.linalg.norm(a[:, j, :], "nuc") for j in range(4)]).reshape(1, 4, 1))
    np.testing.assert_allclose(mg.nuclear_norm(x[0], True).detach().numpy(), [[np.linalg.norm(a[0], "nuc")]])
    np.testing.assert_allclose(mg.frobenius_norm(x, (0, 2)).detach().numpy(), np.sqrt((a ** 2).sum((0, 2))))
    np.testing.assert_allclose(mg.frobenius_norm(x, 1, keepdim=True).detach().numpy(),
                               np.sqrt((a ** 2).sum(1, keepdims=True)))
    assert gradcheck(lambda t: mg.nuclear_norm(t, (1, 2)), (x,))
    assert gradcheck(lambda t: mg.frobenius_norm(t, (-2, -1)), (x,))
    with pytest.raises(RuntimeError, match="Expected at most 2 dimensions, but got 3"):
        mg.frobenius_norm(x, (0, 1, 2))
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        mg.nuclear_norm(x, (0,))
    with pytest.raises(TypeError):
        mg.frobenius_norm(x)  # dim is required, as in torch


@pytest.mark.parametrize("upper,transpose,unitriangular", [(True, False, False), (False, False, False),
                                                          (True, True, False), (False, True, True)])
def test_triangular_solve(upper, transpose, unitriangular):
    rng = np.random.default_rng(3)
    A = mg.tensor(rng.standard_normal((3, 3)) + 4 * np.eye(3), requires_grad=True)
    b = mg.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)   # batch of 2 against one A
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation warning, tested below
        solution, coefficient = mg.triangular_solve(b, A, upper, transpose, unitriangular)
    T = np.triu(A.detach().numpy()) if upper else np.tril(A.detach().numpy())
    if unitriangular:
        np.fill_diagonal(T, 1.0)
    T = T.T if transpose else T
    for i in range(2):
        np.testing.assert_allclose(solution.detach().numpy()[i],
                                   scipy.linalg.solve(T, b.detach().numpy()[i]), rtol=1e-10)
    assert coefficient.shape == (2, 3, 3)
    np.testing.assert_array_equal(coefficient.detach().numpy()[1], A.detach().numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda bb, AA: bb.triangular_solve(AA, upper, transpose, unitriangular).solution,
                         (b, A))
        with pytest.raises(RuntimeError, match="Incompatible matrix sizes"):
            mg.triangular_solve(mg.ones(4, 1), mg.eye(3))
        with pytest.raises(RuntimeError, match="same dtype"):
            mg.triangular_solve(mg.ones(3, 1, dtype=mg.float32), mg.eye(3, dtype=mg.float64))


def test_triangular_solve_warns_deprecation_once():
    from minigrad.ops import linalg_misc
    linalg_misc._triangular_solve_warned = False
    with pytest.warns(UserWarning, match="triangular_solve is deprecated"):
        mg.triangular_solve(mg.ones(2, 1), mg.eye(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.triangular_solve(mg.ones(2, 1), mg.eye(2))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_geqrf_orgqr_ormqr(shape):
    A = _rand(*shape, requires_grad=False)
    a, tau = mg.geqrf(A)
    m, n = shape[-2:]
    k = min(m, n)
    assert tau.shape == shape[:-2] + (k,)
    for index in np.ndindex(*shape[:-2]):
        qr, expected_tau, _, _ = scipy.linalg.lapack.dgeqrf(A.detach().numpy()[index])
        np.testing.assert_allclose(a.detach().numpy()[index], qr)
        np.testing.assert_allclose(tau.detach().numpy()[index], expected_tau)
    # A = Q R with Q the full product of the reflectors
    Q = mg.ormqr(a, tau, mg.eye(m, dtype=mg.float64).expand(*shape[:-2], m, m))
    R = np.triu(a.detach().numpy())
    np.testing.assert_allclose(Q.detach().numpy() @ R, A.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(Q.detach().numpy(), -1, -2) @ Q.detach().numpy(),
                               np.broadcast_to(np.eye(m), Q.shape), atol=1e-12)
    if m >= n:
        np.testing.assert_allclose(a.orgqr(tau).detach().numpy(), Q.detach().numpy()[..., :n], atol=1e-12)


def test_ormqr_sides_and_gradient():
    a, tau = _rand(5, 3, requires_grad=False).geqrf()
    Q = scipy.linalg.qr(_rand(5, 3, requires_grad=False).detach().numpy())[0]  # same A, same signs as LAPACK
    C = _rand(5, 2, seed=1)
    D = _rand(4, 5, seed=2)
    np.testing.assert_allclose(a.ormqr(tau, C).detach().numpy(), Q @ C.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(mg.ormqr(a, tau, C, transpose=True).detach().numpy(), Q.T @ C.detach().numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(mg.ormqr(a, tau, D, left=False).detach().numpy(), D.detach().numpy() @ Q,
                               atol=1e-12)
    np.testing.assert_allclose(mg.ormqr(a, tau, D, left=False, transpose=True).detach().numpy(),
                               D.detach().numpy() @ Q.T, atol=1e-12)
    a.requires_grad_()
    tau.requires_grad_()
    assert gradcheck(lambda x, t, c: mg.ormqr(x, t, c), (a, tau, C))
    assert gradcheck(lambda x, t: mg.orgqr(x, t), (a, tau))
    with pytest.raises(RuntimeError, match="must be equal to input.shape"):
        mg.ormqr(a, tau, D)
    with pytest.raises(RuntimeError, match=r"tau.shape\[-1\] must be equal to min"):
        mg.ormqr(a, tau[:2], C)
    with pytest.raises(NotImplementedError, match="derivative for 'geqrf' is not implemented"):
        mg.geqrf(_rand(3, 3))


@pytest.mark.parametrize("shape,rank,q", [((8, 6), 2, 4), ((5, 9), 3, 3), ((2, 7, 7), 1, 6)])
def test_svd_lowrank_reconstructs_low_rank(shape, rank, q):
    mg.manual_seed(0)
    rng = np.random.default_rng(4)
    A = rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(shape[:-2] + (rank, shape[-1]))
    U, S, V = mg.svd_lowrank(mg.tensor(A), q=q)
    m, n = shape[-2:]
    assert U.shape == shape[:-2] + (m, q) and S.shape == shape[:-2] + (q,) and V.shape == shape[:-2] + (n, q)
    u, s, v = U.detach().numpy(), S.detach().numpy(), V.detach().numpy()
    np.testing.assert_allclose((u * s[..., None, :]) @ np.swapaxes(v, -1, -2), A, atol=1e-10)
    np.testing.assert_allclose(s[..., :rank], np.linalg.svd(A, compute_uv=False)[..., :rank], rtol=1e-10)
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(q), s.shape + (q,)),
                               atol=1e-10)


def test_svd_lowrank_with_M_and_pca_lowrank():
    mg.manual_seed(1)
    rng = np.random.default_rng(5)
    A = rng.standard_normal((10, 2)) @ rng.standard_normal((2, 5)) + rng.standard_normal((1, 5))  # rank 2 + offset
    M = np.broadcast_to(A.mean(0, keepdims=True), A.shape)
    U, S, V = mg.svd_lowrank(mg.tensor(A), q=3, M=mg.tensor(A.mean(0, keepdims=True)))
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).detach().numpy(), A - M, atol=1e-10)
    U, S, V = mg.pca_lowrank(mg.tensor(A))
    assert U.shape == (10, 5) and S.shape == (5,) and V.shape == (5, 5)   # q = min(6, m, n)
    centred = A - A.mean(0)
    np.testing.assert_allclose(S.detach().numpy(), np.linalg.svd(centred, compute_uv=False), atol=1e-10)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).detach().numpy(), centred, atol=1e-10)
    U, S, V = mg.pca_lowrank(mg.tensor(A), q=2, center=False)
    assert S.shape == (2,)
    np.testing.assert_allclose(S.detach().numpy(), np.linalg.svd(A, compute_uv=False)[:2], rtol=1e-3)
    with pytest.raises(ValueError, match=r"q\(=9\) must be non-negative integer and not greater than"):
        mg.pca_lowrank(mg.tensor(A), q=9)
    with pytest.raises(ValueError, match="niter"):
        mg.pca_lowrank(mg.tensor(A), niter=-1)


def test_svd_lowrank_gradient():
    mg.manual_seed(2)
    rng = np.random.default_rng(6)
    A = mg.tensor(rng.standard_normal((6, 2)) @ rng.standard_normal((2, 4)), requires_grad=True)

    def top_singular_values(x):
        mg.manual_seed(3)  # the same sketch every evaluation
        return mg.svd_lowrank(x, q=2)[1]
    assert gradcheck(top_singular_values, (A,))


def test_float32_paths():
    x = mg.arange(6.0)  # float32
    y = mg.as_strided(x, (2, 2), (1, 2), 1)
    assert y.dtype == mg.float32
    np.testing.assert_array_equal(y.numpy(), [[1, 3], [2, 4]])
    A = mg.tensor(np.random.default_rng(7).standard_normal((4, 3)).astype(np.float32))
    a, tau = mg.geqrf(A)
    qr, expected_tau, _, _ = scipy.linalg.lapack.sgeqrf(A.numpy())
    assert a.dtype == mg.float32 and tau.dtype == mg.float32
    np.testing.assert_allclose(a.numpy(), qr, rtol=1e-5)
    np.testing.assert_allclose(tau.numpy(), expected_tau, rtol=1e-5)
    np.testing.assert_allclose(mg.nuclear_norm(A).item(), np.linalg.norm(A.numpy(), "nuc"), rtol=1e-5)
    U, S, V = mg.svd_lowrank(A, q=3)
    assert U.dtype == mg.float32
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).numpy(), A.numpy(), atol=1e-4)
