"""Fused multiply-adds (addmm, addbmm, baddbmm, addmv, addr, addcmul, addcdiv),
cross products, cdist, dist and renorm: forward against plain NumPy loops,
float64 gradcheck, in-place forms, and PyTorch's errors."""
import itertools
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import gradcheck


def leaf(values, requires_grad=True, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


# ------------------------------------------------------------------- addmm family
def matmul_loops(a, b):
    n, m = a.shape
    p = b.shape[1]
    return np.array([[sum(a[i, k] * b[k, j] for k in range(m)) for j in range(p)] for i in range(n)])


@pytest.mark.parametrize("input_shape", [(2, 5), (5,), (1, 5), (2, 1), ()])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_addmm(input_shape, beta, alpha):
    c, a, b = randn(*input_shape), randn(2, 3), randn(3, 5)
    out = mg.addmm(leaf(c), leaf(a), leaf(b), beta=beta, alpha=alpha)
    np.testing.assert_allclose(out.array, beta * np.broadcast_to(c, (2, 5)) + alpha * matmul_loops(a, b),
                               rtol=1e-12)
    assert gradcheck(lambda c, a, b: mg.addmm(c, a, b, beta=beta, alpha=alpha), (leaf(c), leaf(a), leaf(b)))
    assert leaf(c).addmm(leaf(a), leaf(b), beta=beta, alpha=alpha).tolist() == out.tolist()
    assert out.grad_fn.name() == "AddmmBackward0"


def test_addmm_beta_zero_ignores_nan_and_gives_zero_gradient():
    c = leaf(np.full((2, 2), np.nan))
    out = mg.addmm(c, leaf(np.eye(2)), leaf([[1.0, 2.0], [3.0, 4.0]]), beta=0)
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    out.sum().backward()
    assert c.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_addmm_integers_and_float32():
    out = mg.addmm(mg.tensor([[1, 1]]), mg.tensor([[1, 2]]), mg.tensor([[3, 4], [5, 6]]), alpha=2)
    assert out.dtype == np.int64 and out.tolist() == [[27, 33]]
    f = mg.addmm(mg.zeros(2, 2), mg.ones(2, 3), mg.ones(3, 2))
    assert f.dtype == np.float32 and f.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_baddbmm_and_addbmm():
    c, b1, b2 = randn(4, 2, 5), randn(4, 2, 3), randn(4, 3, 5)
    products = np.stack([matmul_loops(b1[i], b2[i]) for i in range(4)])
    out = mg.baddbmm(leaf(c), leaf(b1), leaf(b2), beta=2, alpha=0.5)
    np.testing.assert_allclose(out.array, 2 * c + 0.5 * products, rtol=1e-12)
    out = mg.baddbmm(leaf(c[0, 0]), leaf(b1), leaf(b2))          # input (5,) broadcast to (4, 2, 5)
    np.testing.assert_allclose(out.array, c[0, 0] + products, rtol=1e-12)
    out = mg.addbmm(leaf(c[0]), leaf(b1), leaf(b2), beta=-1, alpha=3)
    np.testing.assert_allclose(out.array, -c[0] + 3 * products.sum(0), rtol=1e-12)
    assert gradcheck(lambda c, a, b: mg.baddbmm(c, a, b, beta=2, alpha=0.5),
                     (leaf(c[:, :1]), leaf(b1), leaf(b2)))
    assert gradcheck(lambda c, a, b: mg.addbmm(c, a, b, beta=-1, alpha=3), (leaf(c[0, 0]), leaf(b1), leaf(b2)))
    assert leaf(c).baddbmm(leaf(b1), leaf(b2)).tolist() == mg.baddbmm(leaf(c), leaf(b1), leaf(b2)).tolist()
    assert leaf(c[0]).addbmm(leaf(b1), leaf(b2)).tolist() == mg.addbmm(leaf(c[0]), leaf(b1), leaf(b2)).tolist()


def test_addmv_and_addr():
    c, a, v = randn(2), randn(2, 3), randn(3)
    out = mg.addmv(leaf(c), leaf(a), leaf(v), beta=0.5, alpha=2)
    np.testing.assert_allclose(out.array, 0.5 * c + 2 * matmul_loops(a, v[:, None])[:, 0], rtol=1e-12)
    assert gradcheck(lambda c, a, v: mg.addmv(c, a, v, beta=0.5, alpha=2), (leaf(c), leaf(a), leaf(v)))
    assert gradcheck(lambda c, a, v: mg.addmv(c, a, v), (leaf(1.5), leaf(a), leaf(v)))
    u = randn(2)
    out = mg.addr(leaf(a), leaf(u), leaf(v), beta=2, alpha=-1)
    np.testing.assert_allclose(out.array, 2 * a - np.array([[x * y for y in v] for x in u]), rtol=1e-12)
    assert gradcheck(lambda c, u, v: mg.addr(c, u, v, beta=2, alpha=-1), (leaf(a[0]), leaf(u), leaf(v)))
    assert leaf(c).addmv(leaf(a), leaf(v)).tolist() == mg.addmv(leaf(c), leaf(a), leaf(v)).tolist()
    assert leaf(a).addr(leaf(u), leaf(v)).tolist() == mg.addr(leaf(a), leaf(u), leaf(v)).tolist()
    assert mg.addmv(leaf(c), leaf(a), leaf(v)).grad_fn.name() == "AddmvBackward0"
    assert mg.addr(leaf(a), leaf(u), leaf(v)).grad_fn.name() == "AddrBackward0"


def test_addr_promotes_and_handles_bool():
    out = mg.addr(mg.zeros(2, 3), mg.tensor([1, 2]), mg.tensor([1.0, 2.0, 3.0]))
    assert out.dtype == np.float32 and out.tolist() == [[1, 2, 3], [2, 4, 6]]
    out = mg.addr(mg.tensor([[True, False], [False, False]]), mg.tensor([True, False]),
                  mg.tensor([False, True]))
    assert out.tolist() == [[True, True], [False, False]]
    with pytest.raises(RuntimeError, match="integral input tensors, argument beta.*0.5"):
        mg.addr(mg.tensor([[1]]), mg.tensor([1]), mg.tensor([1]), beta=0.5)


@pytest.mark.parametrize("method, args, function", [
    ("addmm_", (randn(2, 3), randn(3, 4)), mg.addmm),
    ("baddbmm_", (randn(2, 2, 3), randn(2, 3, 4)), mg.baddbmm),
    ("addbmm_", (randn(5, 2, 3), randn(5, 3, 4)), mg.addbmm),
])
def test_inplace_addmm_family(method, args, function):
    shape = (2, 2, 4) if method == "baddbmm_" else (2, 4)
    start = randn(*shape)
    x = leaf(start, requires_grad=False)
    operands = [leaf(a) for a in args]
    expected = function(leaf(start), *operands, beta=0.5, alpha=2).array
    assert getattr(x, method)(*operands, beta=0.5, alpha=2) is x
    np.testing.assert_allclose(x.array, expected, rtol=1e-12)
    # gradients flow to the operands through the in-place write
    y = leaf(start) * 1
    getattr(y, method)(*operands, beta=0.5, alpha=2)
    y.sum().backward()
    expected_grads = [g.grad.array.copy() for g in operands]
    for g in operands:
        g.grad = None
    function(leaf(start), *operands, beta=0.5, alpha=2).sum().backward()
    for got, g in zip(expected_grads, operands):
        np.testing.assert_allclose(got, g.grad.array)


def test_inplace_addmv_addr_and_shape_errors():
    x = leaf([1.0, 2.0], requires_grad=False)
    x.addmv_(leaf(np.eye(2)), leaf([3.0, 4.0]), alpha=2)
    assert x.tolist() == [7.0, 10.0]
    m = leaf(np.zeros((2, 2)), requires_grad=False)
    m.addr_(leaf([1.0, 2.0]), leaf([3.0, 4.0]))
    assert m.tolist() == [[3.0, 4.0], [6.0, 8.0]]
    with pytest.raises(RuntimeError, match="addmm_.*shape"):
        leaf([1.0], requires_grad=False).addmm_(leaf(np.ones((2, 2))), leaf(np.ones((2, 2))))


def test_addmm_family_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        mg.addmm(mg.zeros(2, 5), mg.zeros(2, 3), mg.zeros(4, 5))
    with pytest.raises(RuntimeError, match="mat1 must be a matrix, got 1-D"):
        mg.addmm(mg.zeros(2, 5), mg.zeros(3), mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(5\).*existing size \(4\).*"
                                           r"Target sizes: \[2, 5\].*Tensor sizes: \[2, 4\]"):
        mg.addmm(mg.zeros(2, 4), mg.zeros(2, 3), mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match="number of sizes provided"):
        mg.addmm(mg.zeros(3, 2, 5), mg.zeros(2, 3), mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype.*Double and Float"):
        mg.addmm(mg.zeros(2, 5), mg.zeros(2, 3, dtype=mg.float64), mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype.*Double and Float"):
        mg.addmm(mg.zeros(2, 5, dtype=mg.float64), mg.zeros(2, 3), mg.zeros(3, 5))
    with pytest.raises(TypeError, match="'mat2' must be Tensor"):
        mg.addmm(mg.zeros(2, 5), mg.zeros(2, 3), [[1.0]])
    with pytest.raises(RuntimeError, match="same number of batches, got 4 and 3"):
        mg.addbmm(mg.zeros(2, 5), mg.zeros(4, 2, 3), mg.zeros(3, 3, 5))
    with pytest.raises(RuntimeError, match=r"Incompatible matrix sizes for bmm \(2x3 and 4x5\)"):
        mg.addbmm(mg.zeros(2, 5), mg.zeros(4, 2, 3), mg.zeros(4, 4, 5))
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[4, 3\] but got: \[3, 3\]"):
        mg.baddbmm(mg.zeros(2, 5), mg.zeros(4, 2, 3), mg.zeros(3, 3, 5))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        mg.baddbmm(mg.zeros(2, 5), mg.zeros(2, 3), mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"):
        mg.addmv(mg.zeros(2), mg.zeros(2, 3), mg.zeros(4))
    with pytest.raises(RuntimeError, match="vector \\+ matrix @ vector expected, got 1, 2, 2"):
        mg.addmv(mg.zeros(2), mg.zeros(2, 3), mg.zeros(3, 1))
    with pytest.raises(RuntimeError, match="same dtype.*Float, Float, and Double"):
        mg.addmv(mg.zeros(2), mg.zeros(2, 3), mg.zeros(3, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="Expected 1-D argument vec2, but got 2-D"):
        mg.addr(mg.zeros(2, 3), mg.zeros(2), mg.zeros(3, 1))


# -------------------------------------------------------------- addcmul, addcdiv
def test_addcmul_addcdiv():
    c, a, b = randn(2, 3), randn(3), randn(2, 1)
    b_positive = np.abs(b) + 0.5
    out = mg.addcmul(leaf(c), leaf(a), leaf(b), value=0.5)
    np.testing.assert_allclose(out.array, c + 0.5 * a * b, rtol=1e-12)
    out = mg.addcdiv(leaf(c), leaf(a), leaf(b_positive), value=-2)
    np.testing.assert_allclose(out.array, c - 2 * a / b_positive, rtol=1e-12)
    assert gradcheck(lambda c, a, b: mg.addcmul(c, a, b, value=0.5), (leaf(c), leaf(a), leaf(b)))
    assert gradcheck(lambda c, a, b: mg.addcdiv(c, a, b, value=-2), (leaf(c), leaf(a), leaf(b_positive)))
    assert leaf(c).addcmul(leaf(a), leaf(b)).tolist() == mg.addcmul(leaf(c), leaf(a), leaf(b)).tolist()
    assert leaf(c).addcdiv(leaf(a), leaf(b)).tolist() == mg.addcdiv(leaf(c), leaf(a), leaf(b)).tolist()
    # integers: value is cast to the integer dtype, as in PyTorch
    out = mg.addcmul(mg.tensor([1, 2]), mg.tensor([3, 3]), mg.tensor([1, 1]), value=2)
    assert out.dtype == np.int64 and out.tolist() == [7, 8]
    assert mg.addcdiv(mg.tensor([1, 2]), mg.tensor([3.0, 3.0]), mg.tensor([2, 2])).tolist() == [2.5, 3.5]


def test_addcmul_addcdiv_errors():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"):
        mg.addcmul(mg.zeros(2), mg.ones(3), mg.ones(2))
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        mg.addcdiv(mg.zeros(2), mg.tensor([1, 2]), mg.tensor([1, 2]))


# ---------------------------------------------------------------------- cross
def cross_by_components(a, b):
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def test_cross_values_and_gradients():
    a, b = randn(4, 3), randn(1, 3)
    out = mg.linalg.cross(leaf(a), leaf(b))
    np.testing.assert_allclose(out.array, cross_by_components(a, np.broadcast_to(b, a.shape)), rtol=1e-12)
    assert gradcheck(mg.linalg.cross, (leaf(a), leaf(b)))
    # along another dim
    a2, b2 = randn(3, 2, 4), randn(3, 2, 4)
    out = mg.cross(leaf(a2), leaf(b2), dim=0)
    expected = np.moveaxis(cross_by_components(np.moveaxis(a2, 0, -1), np.moveaxis(b2, 0, -1)), -1, 0)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    assert gradcheck(lambda x, y: mg.cross(x, y, dim=0), (leaf(a2), leaf(b2)))
    assert leaf(a2).cross(leaf(b2), dim=0).tolist() == out.tolist()
    # e_x x e_y = e_z
    assert mg.linalg.cross(mg.tensor([1.0, 0, 0]), mg.tensor([0.0, 1, 0])).tolist() == [0.0, 0.0, 1.0]


def test_cross_without_dim_takes_the_first_dim_of_size_3_and_warns():
    a, b = randn(3, 3), randn(3, 3)
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        out = mg.cross(leaf(a), leaf(b))
    expected = cross_by_components(a.T, b.T).T           # dim 0, not -1
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.linalg.cross(leaf(a), leaf(b))                # linalg.cross: dim=-1, no warning


def test_cross_errors():
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        mg.linalg.cross(mg.zeros(2, 3), mg.zeros(4, 1, 3))
    with pytest.raises(RuntimeError, match="dimension -1 must have length 3. Got 2 and 2"):
        mg.linalg.cross(mg.zeros(3, 2), mg.zeros(3, 2))
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 5"):
        mg.linalg.cross(mg.zeros(3, 3), mg.zeros(3, 3), dim=5)
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        mg.cross(mg.zeros(2, 4), mg.zeros(2, 4))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        mg.linalg.cross(mg.zeros(3, 3), mg.zeros(3, 3, dtype=mg.float64))


# ----------------------------------------------------------------------- cdist
def cdist_loops(x1, x2, p):
    """The distance of every pair of rows, one pair at a time."""
    out = np.zeros((x1.shape[0], x2.shape[0]))
    for i, j in itertools.product(range(x1.shape[0]), range(x2.shape[0])):
        d = np.abs(x1[i] - x2[j])
        if p == 0:
            out[i, j] = np.count_nonzero(d)
        elif p == math.inf:
            out[i, j] = d.max()
        else:
            out[i, j] = (d ** p).sum() ** (1 / p)
    return out


P_VALUES = [0, 1, 2, 3, 0.5, 1.5, math.inf]


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("rows", [(4, 5), (30, 27)])   # the second uses the mm formula for p = 2
def test_cdist_forward(p, rows):
    x1, x2 = randn(rows[0], 3), randn(rows[1], 3)
    out = mg.cdist(leaf(x1), leaf(x2), p=p)
    np.testing.assert_allclose(out.array, cdist_loops(x1, x2, p), rtol=1e-10, atol=1e-12)


def test_cdist_batches_broadcast():
    x1, x2 = randn(2, 1, 4, 3), randn(5, 6, 3)
    out = mg.cdist(leaf(x1), leaf(x2), p=1)
    assert out.shape == (2, 5, 4, 6)
    for i, j in itertools.product(range(2), range(5)):
        np.testing.assert_allclose(out.array[i, j], cdist_loops(x1[i, 0], x2[j], 1), rtol=1e-12)


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_gradcheck(p):
    x1, x2 = leaf(randn(2, 1, 4, 3)), leaf(randn(3, 5, 3))
    assert gradcheck(lambda a, b: mg.cdist(a, b, p=p), (x1, x2))


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist", None])
def test_cdist_compute_modes_agree(mode):
    x1, x2 = randn(6, 4), randn(5, 4)
    out = mg.cdist(leaf(x1), leaf(x2), compute_mode=mode)
    np.testing.assert_allclose(out.array, cdist_loops(x1, x2, 2), rtol=1e-10)
    assert gradcheck(lambda a, b: mg.cdist(a, b, compute_mode=mode), (leaf(x1), leaf(x2)))


def test_cdist_gradient_of_equal_rows_is_zero():
    a = leaf([[0.0, 1.0], [1.0, 1.0]])
    b = leaf([[0.0, 1.0], [0.0, 0.0]], requires_grad=False)
    mg.cdist(a, b).sum().backward()
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(a.grad.array, [[0.0, 1.0], [1 + s, s]])
    a.grad = None
    mg.cdist(a, b, p=math.inf).sum().backward()      # every tie gets the full sign (PyTorch's)
    np.testing.assert_allclose(a.grad.array, [[0.0, 1.0], [2.0, 1.0]])
    a.grad = None
    mg.cdist(a, b, p=0.5).sum().backward()
    np.testing.assert_allclose(a.grad.array, [[0.0, 1.0], [3.0, 2.0]])


def test_cdist_float32():
    x1, x2 = randn(3, 2).astype(np.float32), randn(4, 2).astype(np.float32)
    out = mg.cdist(mg.tensor(x1), mg.tensor(x2))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, cdist_loops(x1.astype(np.float64), x2.astype(np.float64), 2),
                               rtol=1e-5)


def test_cdist_errors():
    with pytest.raises(RuntimeError, match="at least 2D tensors, X1 got: 1D"):
        mg.cdist(mg.zeros(3), mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="same number of columns. X1: 3 X2: 4"):
        mg.cdist(mg.zeros(2, 3), mg.zeros(2, 4))
    with pytest.raises(RuntimeError, match="non-negative p values, got -1"):
        mg.cdist(mg.zeros(2, 3), mg.zeros(2, 3), p=-1)
    with pytest.raises(ValueError, match="x is not a valid value for compute_mode"):
        mg.cdist(mg.zeros(2, 3), mg.zeros(2, 3), compute_mode="x")
    with pytest.raises(RuntimeError, match="floating-point dtypes, X1 got: Long"):
        mg.cdist(mg.zeros(2, 3, dtype=mg.int64), mg.zeros(2, 3, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        mg.cdist(mg.zeros(2, 3, dtype=mg.float64), mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="batch dimensions"):
        mg.cdist(mg.zeros(2, 2, 3), mg.zeros(3, 2, 3))


# ------------------------------------------------------------------ dist, renorm
@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, math.inf])
def test_dist(p):
    a, b = randn(2, 3), randn(3)
    difference = np.abs(a - b).ravel()
    expected = (np.count_nonzero(difference) if p == 0 else difference.max() if p == math.inf
                else (difference ** p).sum() ** (1 / p))
    out = mg.dist(leaf(a), leaf(b), p)
    assert out.item() == pytest.approx(expected, rel=1e-12)
    assert leaf(a).dist(leaf(b), p).item() == out.item()
    if p != 0:
        assert gradcheck(lambda x, y: mg.dist(x, y, p), (leaf(a), leaf(b)))


def test_dist_errors():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(4\)"):
        mg.dist(mg.zeros(2, 3), mg.zeros(4, 3))


def renorm_loops(x, p, dim, maxnorm):
    out = np.moveaxis(x.copy(), dim, 0)
    for i in range(out.shape[0]):
        norm = (np.abs(out[i]) ** p).sum() ** (1 / p)
        if norm > maxnorm:
            out[i] *= maxnorm / (norm + 1e-7)
    return np.moveaxis(out, 0, dim)


@pytest.mark.parametrize("p, dim, maxnorm", [(2, 0, 1.0), (1, 1, 0.5), (3, -1, 2.0), (2, 2, 100.0)])
def test_renorm(p, dim, maxnorm):
    x = randn(3, 4, 2) * 2
    out = mg.renorm(leaf(x), p, dim, maxnorm)
    np.testing.assert_allclose(out.array, renorm_loops(x, p, dim, maxnorm), rtol=1e-12)
    assert gradcheck(lambda t: mg.renorm(t, p, dim, maxnorm), (leaf(x),))
    y = leaf(x, requires_grad=False)
    y.renorm_(p, dim, maxnorm)
    np.testing.assert_array_equal(y.array, out.array)
    assert leaf(x).renorm(p, dim, maxnorm).tolist() == out.tolist()


def test_renorm_gradient_goes_through_the_norm():
    x = leaf([[3.0, 4.0], [0.3, 0.4]])
    mg.renorm(x, 2, 0, 1).backward(mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64))
    # row 0: d/dx (x / ||x||) g = (g - (g.u) u) / ||x|| with u = x / ||x||, ||x|| = 5 (+1e-7)
    u, g = np.array([0.6, 0.8]), np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.array[0], (g - (g @ u) * u) / 5, rtol=1e-6)
    np.testing.assert_array_equal(x.grad.array[1], [3.0, 4.0])


def test_renorm_errors():
    with pytest.raises(RuntimeError, match="at least 2 dimensions, got 1"):
        mg.renorm(mg.zeros(3), 2, 0, 1)
    with pytest.raises(RuntimeError, match="non-positive-norm not supported, got p = 0"):
        mg.renorm(mg.zeros(3, 3), 0, 0, 1)
    with pytest.raises(RuntimeError, match="maxnorm to be >= 0 but got -1"):
        mg.renorm(mg.zeros(3, 3), 2, 0, -1)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 3"):
        mg.renorm(mg.zeros(3, 3), 2, 3, 1)
