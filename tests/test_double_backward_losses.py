"""Double backward (create_graph=True) through the losses, the reductions and scans,
statistics, norms and distances: gradgradcheck in float64 (finite differences of
the first-order backward) for every op and option, and closed-form second
derivatives with real values (the softmax Hessian diag(p) - p p^T, ...)."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import grad, gradgradcheck

RNG = np.random.default_rng(20240607)


def leaf(*shape, low=None, high=None, requires_grad=True):
    """A float64 leaf: standard normal, or uniform in [low, high]."""
    data = RNG.standard_normal(shape) if low is None else RNG.uniform(low, high, shape)
    return mg.tensor(data, requires_grad=requires_grad)


def hessian(f, x):
    """The full Hessian of the scalar f(x), row by row: d/dx of each entry of grad f."""
    g, = grad(f(x), x, create_graph=True)
    flat = g.reshape(-1)
    rows = [grad(flat[i], x, retain_graph=True)[0].array.reshape(-1) for i in range(flat.shape[0])]
    return np.stack(rows)


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# ------------------------------------------------------------------ losses
X = leaf(4, 5)
X4 = leaf(2, 3, 2, 2)
Y = leaf(4, 5)
LABELS = mg.tensor(np.array([1, 0, 4, 2]))
LABELS_IGNORED = mg.tensor(np.array([1, -100, 4, 2]))
LABELS4 = mg.tensor(RNG.integers(0, 3, (2, 2, 2)))
WEIGHT = mg.tensor(RNG.uniform(0.5, 2, 5))
PROBABILITIES = mg.tensor(RNG.dirichlet(np.ones(5), 4), requires_grad=True)
P = leaf(4, 5, low=0.1, high=0.9)
TARGET01 = leaf(4, 5, low=0.0, high=1.0)
POSITIVE = leaf(4, 5, low=0.5, high=2.0)

LOSS_CASES = {
    "cross_entropy": (lambda x, r: F.cross_entropy(x, LABELS, reduction=r), (X,)),
    "cross_entropy weight ignore_index smoothing": (
        lambda x, r: F.cross_entropy(x, LABELS_IGNORED, weight=WEIGHT, label_smoothing=0.2, reduction=r),
        (X,)),
    "cross_entropy (N, C, d1, d2) smoothing": (
        lambda x, r: F.cross_entropy(x, LABELS4, reduction=r, label_smoothing=0.1), (X4,)),
    "cross_entropy (C,)": (lambda x, r: F.cross_entropy(x[0], LABELS[0], reduction=r), (X,)),
    "cross_entropy probabilities weight smoothing": (
        lambda x, t, r: F.cross_entropy(x, t, weight=WEIGHT, label_smoothing=0.1, reduction=r),
        (X, PROBABILITIES)),
    "cross_entropy probabilities (N, C, d1, d2)": (
        lambda x, t, r: F.cross_entropy(x, t / t.sum(1, keepdim=True), reduction=r),
        (X4, leaf(2, 3, 2, 2, low=0.2, high=1.0))),
    "nll_loss weight ignore_index": (
        lambda x, r: F.nll_loss(x * x, LABELS_IGNORED, weight=WEIGHT, reduction=r), (X,)),
    "nll_loss (N, C, d1, d2)": (lambda x, r: F.nll_loss(x * x, LABELS4, reduction=r), (X4,)),
    "mse_loss": (lambda a, b, r: F.mse_loss(a * a, b, reduction=r), (X, Y)),
    "l1_loss": (lambda a, b, r: F.l1_loss(a * a, b, reduction=r), (X, Y)),
    "smooth_l1_loss": (lambda a, b, r: F.smooth_l1_loss(a * a, b, reduction=r, beta=0.8), (X, Y)),
    "smooth_l1_loss beta=0": (lambda a, b, r: F.smooth_l1_loss(a * a, b, reduction=r, beta=0.0), (X, Y)),
    "huber_loss weight": (
        lambda a, b, r: F.huber_loss(a * a, b, reduction=r, delta=0.7, weight=POSITIVE.detach()), (X, Y)),
    "binary_cross_entropy weight": (
        lambda p, t, r: F.binary_cross_entropy(p, t, weight=WEIGHT, reduction=r), (P, TARGET01)),
    "binary_cross_entropy_with_logits": (
        lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r), (X * 3, TARGET01)),
    "binary_cross_entropy_with_logits weight pos_weight": (
        lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, weight=WEIGHT, pos_weight=WEIGHT * 1.5,
                                                           reduction=r), (X, TARGET01)),
    "kl_div": (lambda q, t, r: F.kl_div(q, t, reduction=r), (X, P)),
    "kl_div log_target": (lambda q, t, r: F.kl_div(q, t, reduction=r, log_target=True), (X, Y)),
    "poisson_nll_loss": (lambda a, t, r: F.poisson_nll_loss(a, t, reduction=r), (X, P)),
    "poisson_nll_loss rates full": (
        lambda a, t, r: F.poisson_nll_loss(a, t * 3, log_input=False, full=True, reduction=r),
        (POSITIVE, P)),
    "gaussian_nll_loss": (lambda a, t, v, r: F.gaussian_nll_loss(a, t, v, reduction=r), (X, Y, POSITIVE)),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", list(LOSS_CASES))
def test_loss_gradgradcheck(name, reduction):
    function, inputs = LOSS_CASES[name]
    inputs = tuple(mg.tensor(x.detach().array, requires_grad=True) for x in inputs)
    assert gradgradcheck(lambda *args: function(*args, reduction), inputs)


def test_kl_div_batchmean_and_bce_target_only_gradgradcheck():
    assert gradgradcheck(lambda q, t: F.kl_div(q, t, reduction="batchmean"), (leaf(3, 4), leaf(3, 4, low=.1, high=1)))
    # only the target requires grad: the loss is linear in it, its second derivative mixes with grad
    assert gradgradcheck(lambda t: F.binary_cross_entropy(P.detach(), t), (leaf(4, 5, low=0, high=1),))
    assert gradgradcheck(lambda t: F.cross_entropy(X.detach(), t), (mg.tensor(PROBABILITIES.array,
                                                                               requires_grad=True),))


def test_cross_entropy_hessian_is_diag_p_minus_p_pT():
    z = np.array([0.3, -1.2, 2.0, 0.5])
    p = softmax(z)
    x = mg.tensor(z, requires_grad=True)
    expected = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(hessian(lambda x: F.cross_entropy(x, mg.tensor(np.array(2))), x),
                               expected, rtol=1e-12, atol=1e-14)
    # a class weight w_y scales the row's Hessian; with 'mean' it cancels (divided by sum of w_y)
    w = mg.tensor(np.array([1.0, 2.0, 3.0, 0.5]))
    np.testing.assert_allclose(
        hessian(lambda x: F.cross_entropy(x.reshape(1, 4), mg.tensor(np.array([2])), weight=w,
                                          reduction="sum"), x), 3.0 * expected, rtol=1e-12, atol=1e-14)
    # label smoothing / probability targets: the Hessian is sum(q) (diag(p) - p p^T)
    q = np.array([0.1, 0.2, 0.3, 0.4]) * 2.0
    target = mg.tensor(q[None, :])
    np.testing.assert_allclose(
        hessian(lambda x: F.cross_entropy(x.reshape(1, 4), target, reduction="sum"), x),
        q.sum() * expected, rtol=1e-12, atol=1e-14)


def test_cross_entropy_mixed_second_derivative_with_probabilities():
    # d/dt_j d/dx_i of -sum_c t_c log softmax(x)_c = p_i - delta_ij  (sum(t) changes p's weight)
    z = np.array([0.3, -1.2, 2.0])
    x = mg.tensor(z[None, :], requires_grad=True)
    t = mg.tensor(np.array([[0.2, 0.5, 0.3]]), requires_grad=True)
    g, = grad(F.cross_entropy(x, t, reduction="sum"), x, create_graph=True)
    mixed = np.stack([grad(g[0, i], t, retain_graph=True)[0].array[0] for i in range(3)])
    np.testing.assert_allclose(mixed, softmax(z)[:, None] - np.eye(3), rtol=1e-12, atol=1e-14)


def test_elementwise_loss_second_derivatives():
    x = mg.tensor(np.array([-2.0, 0.3, 1.5]), requires_grad=True)
    y = mg.tensor(np.array([0.5, 0.25, 1.0]))
    np.testing.assert_allclose(hessian(lambda x: F.mse_loss(x, y), x), np.eye(3) * 2 / 3, rtol=1e-12)
    # binary_cross_entropy_with_logits: d2/dx2 = s (1 - s), times (1 + (pw - 1) y) with pos_weight
    s = 1 / (1 + np.exp(-x.array))
    np.testing.assert_allclose(hessian(lambda x: F.binary_cross_entropy_with_logits(x, y, reduction="sum"), x),
                               np.diag(s * (1 - s)), rtol=1e-12)
    pw = mg.tensor(np.array([2.0, 3.0, 0.5]))
    np.testing.assert_allclose(
        hessian(lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="sum"), x),
        np.diag((1 + (pw.array - 1) * y.array) * s * (1 - s)), rtol=1e-12)
    # binary_cross_entropy: d2/dp2 = y / p^2 + (1 - y) / (1 - p)^2
    p = mg.tensor(np.array([0.2, 0.6, 0.9]), requires_grad=True)
    np.testing.assert_allclose(
        hessian(lambda p: F.binary_cross_entropy(p, y, reduction="sum"), p),
        np.diag(y.array / p.array ** 2 + (1 - y.array) / (1 - p.array) ** 2), rtol=1e-10)
    # kl_div: d2/dt2 of t (log t - q) = 1 / t;  smooth_l1: 1 / beta inside, 0 outside
    t = mg.tensor(np.array([0.2, 0.6, 0.9]), requires_grad=True)
    np.testing.assert_allclose(hessian(lambda t: F.kl_div(x.detach(), t, reduction="sum"), t),
                               np.diag(1 / t.array), rtol=1e-12)
    np.testing.assert_allclose(hessian(lambda x: F.smooth_l1_loss(x, y, reduction="sum", beta=0.5), x),
                               np.diag([0.0, 2.0, 0.0]), atol=0)


def test_nll_loss_gradient_is_linear_in_grad_outputs():
    x = mg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    labels = mg.tensor(np.array([3, 0, 3]))
    v = mg.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    g, = grad(F.nll_loss(x, labels, reduction="none"), x, grad_outputs=v, create_graph=True)
    # d/dv of sum(g * c) = -c[n, y_n]
    c = RNG.standard_normal((3, 4))
    dv, = grad((g * mg.tensor(c)).sum(), v)
    np.testing.assert_allclose(dv.array, -c[np.arange(3), labels.array], rtol=1e-12)


# ------------------------------------------------------- reductions and scans
A = leaf(3, 4)
WITH_ZEROS = mg.tensor(np.array([[1.5, 0.0, 2.0, -1.2], [0.7, 1.1, 0.0, 0.0], [0.9, -1.3, 1.2, 0.8]]),
                       requires_grad=True)
REDUCTION_CASES = {
    "max()": lambda a: a.max(),
    "min()": lambda a: a.min(),
    "amax dim": lambda a: mg.amax(a, dim=1),
    "amin dims keepdim": lambda a: mg.amin(a, dim=(0, 1), keepdim=True),
    "max(dim)": lambda a: a.max(dim=1)[0],
    "min(dim, keepdim)": lambda a: a.min(dim=0, keepdim=True)[0],
    "median(dim)": lambda a: a.median(dim=1)[0],
    "median()": lambda a: a.median(),
    "mode(dim)": lambda a: mg.mode(a, 1)[0],
    "prod()": lambda a: a.prod(),
    "prod(dim)": lambda a: a.prod(dim=1),
    "prod(dim, keepdim)": lambda a: a.prod(dim=0, keepdim=True),
    "logsumexp dim": lambda a: mg.logsumexp(a, dim=1),
    "logsumexp dims keepdim": lambda a: mg.logsumexp(a, dim=(0, 1), keepdim=True),
    "cumsum": lambda a: mg.cumsum(a * a, 1),
    "cumprod dim 0": lambda a: mg.cumprod(a, 0),
    "cumprod dim 1": lambda a: mg.cumprod(a, 1),
    "logcumsumexp dim 1": lambda a: mg.logcumsumexp(a, 1),
    "logcumsumexp dim 0": lambda a: mg.logcumsumexp(a, 0),
    "cummax": lambda a: mg.cummax(a, 1)[0] ** 2,
    "cummin": lambda a: mg.cummin(a, 0)[0] ** 2,
    "std": lambda a: a.std(dim=1),
    "std_mean": lambda a: mg.std_mean(a, dim=0)[0],
}


@pytest.mark.parametrize("name", list(REDUCTION_CASES))
def test_reduction_gradgradcheck(name):
    assert gradgradcheck(REDUCTION_CASES[name], (mg.tensor(A.array, requires_grad=True),))


@pytest.mark.parametrize("name", ["prod()", "prod(dim)", "prod(dim, keepdim)", "cumprod dim 0", "cumprod dim 1"])
def test_products_with_zeros_gradgradcheck(name):
    assert gradgradcheck(REDUCTION_CASES[name], (mg.tensor(WITH_ZEROS.array, requires_grad=True),))


def test_logsumexp_and_logcumsumexp_hessians():
    z = np.array([0.5, -1.0, 2.5, 0.1])
    p = softmax(z)
    x = mg.tensor(z, requires_grad=True)
    expected = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(hessian(lambda x: mg.logsumexp(x, 0), x), expected, rtol=1e-12, atol=1e-14)
    # the last running log-sum-exp is the logsumexp of everything
    np.testing.assert_allclose(hessian(lambda x: mg.logcumsumexp(x, 0)[-1], x), expected, rtol=1e-12,
                               atol=1e-14)
    # the second one involves only x_0, x_1
    p2 = softmax(z[:2])
    h = hessian(lambda x: mg.logcumsumexp(x, 0)[1], x)
    np.testing.assert_allclose(h[:2, :2], np.diag(p2) - np.outer(p2, p2), rtol=1e-12)
    np.testing.assert_array_equal(h[2:], 0)


def test_prod_hessian_with_and_without_zero():
    x = mg.tensor(np.array([2.0, 3.0, 5.0]), requires_grad=True)
    np.testing.assert_allclose(hessian(lambda x: x.prod(), x), [[0, 5, 3], [5, 0, 2], [3, 2, 0]], rtol=1e-12)
    z = mg.tensor(np.array([0.0, 3.0, 5.0]), requires_grad=True)
    np.testing.assert_allclose(hessian(lambda x: x.prod(), z), [[0, 5, 3], [5, 0, 0], [3, 0, 0]], atol=0)
    # cumprod's last entry is the product: the same Hessian
    np.testing.assert_allclose(hessian(lambda x: mg.cumprod(x, 0)[-1], z), [[0, 5, 3], [5, 0, 0], [3, 0, 0]],
                               atol=0)


def test_max_gradient_is_linear_and_ties_share():
    x = mg.tensor(np.array([1.0, 3.0, 3.0, -2.0]), requires_grad=True)
    g, = grad(x.max() * 4, x, create_graph=True)
    np.testing.assert_array_equal(g.array, [0, 2, 2, 0])
    np.testing.assert_array_equal(hessian(lambda x: x.max() ** 2, x)[1:3, 1:3], [[0.5, 0.5], [0.5, 0.5]])


# ------------------------------------------------------------------ statistics
STATISTICS_CASES = {
    "nansum": lambda a: mg.nansum(a * a, dim=1),
    "nanmean": lambda a: mg.nanmean(a * a),
    "nanmean dim keepdim": lambda a: mg.nanmean(a * a, dim=0, keepdim=True),
    "quantile linear": lambda a: mg.quantile(a, 0.3, dim=1) ** 2,
    "quantile several q": lambda a: mg.quantile(a * a, mg.tensor(np.array([0.2, 0.75]))),
    "quantile nearest": lambda a: mg.quantile(a, 0.4, dim=0, interpolation="nearest") ** 2,
    "nanquantile": lambda a: mg.nanquantile(a * a, 0.6),
    "kthvalue": lambda a: mg.kthvalue(a, 2, dim=1)[0] ** 2,
    "nanmedian": lambda a: mg.nanmedian(a) ** 2,
    "aminmax": lambda a: mg.aminmax(a, dim=1)[1] ** 2,
    "cov": lambda a: mg.cov(a),
    "corrcoef": lambda a: mg.corrcoef(a),
    "diff": lambda a: mg.diff(a * a, dim=1),
    "trapezoid": lambda a: mg.trapezoid(a * a),
}


@pytest.mark.parametrize("name", list(STATISTICS_CASES))
def test_statistics_gradgradcheck(name):
    assert gradgradcheck(STATISTICS_CASES[name], (mg.tensor(A.array, requires_grad=True),))


def test_nan_reductions_second_derivative_ignores_nans():
    x = mg.tensor(np.array([1.0, np.nan, 3.0]), requires_grad=True)
    h = hessian(lambda x: mg.nanmean(x * x), x)
    np.testing.assert_allclose(h, np.diag([1.0, 0.0, 1.0]))   # d2/dx2 of (x0^2 + x2^2) / 2


def test_poisson_second_derivative_is_zero():
    rates = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    g, = grad(mg.poisson(rates * rates).sum(), rates, create_graph=True)
    np.testing.assert_array_equal(grad(g.sum(), rates)[0].array, 0)


# ------------------------------------------------------------- norms, distances
NORM_CASES = {
    "vector_norm": lambda a: mg.linalg.vector_norm(a),
    "vector_norm 3 dim": lambda a: mg.linalg.vector_norm(a, 3, dim=1),
    "vector_norm 0.5 keepdim": lambda a: mg.linalg.vector_norm(a, 0.5, dim=0, keepdim=True),
    "vector_norm -1.5": lambda a: mg.linalg.vector_norm(a, -1.5, dim=1),
    "vector_norm 1": lambda a: mg.linalg.vector_norm(a * a, 1, dim=1),
    "vector_norm inf": lambda a: mg.linalg.vector_norm(a, math.inf, dim=1) ** 2,
    "vector_norm -inf": lambda a: mg.linalg.vector_norm(a, -math.inf) ** 2,
    "vector_norm 0": lambda a: mg.linalg.vector_norm(a, 0) * a.sum(),
    "Tensor.norm": lambda a: a.norm(),
    "Tensor.norm p dim": lambda a: a.norm(p=3, dim=0),
    "linalg.norm": lambda a: mg.linalg.norm(a),
    "matrix_norm fro": lambda a: mg.linalg.matrix_norm(a),
    "matrix_norm 1": lambda a: mg.linalg.matrix_norm(a, 1) ** 2,
    "matrix_norm inf": lambda a: mg.linalg.matrix_norm(a, math.inf) ** 2,
    "normalize": lambda a: F.normalize(a, dim=1),
    "cosine_similarity": lambda a: F.cosine_similarity(a[:2], a[1:]),
    "pairwise_distance": lambda a: F.pairwise_distance(a[:2], a[1:]),
    "pdist": lambda a: F.pdist(a, 3),
    "renorm p=2": lambda a: mg.renorm(a, 2, 0, 1.0),
    "renorm p=3": lambda a: mg.renorm(a, 3, 1, 0.5),
    "dist": lambda a: mg.dist(a, a[0] * 2),
    "dist inf": lambda a: mg.dist(a, a[0] * 2, math.inf) ** 2,
}


@pytest.mark.parametrize("name", list(NORM_CASES))
def test_norm_gradgradcheck(name):
    assert gradgradcheck(NORM_CASES[name], (mg.tensor(A.array, requires_grad=True),))


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 1.5, 0.5, math.inf])
@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_gradgradcheck(p, mode):
    x1, x2 = leaf(3, 2), leaf(2, 2)
    assert gradgradcheck(lambda a, b: mg.cdist(a, b, p=p, compute_mode=mode), (x1, x2))


def test_cdist_batched_broadcast_gradgradcheck():
    for p in (2.0, 3.0):
        assert gradgradcheck(lambda a, b: mg.cdist(a, b, p=p), (leaf(2, 1, 3, 2), leaf(3, 2, 2)))


def test_norm_and_cdist_hessians():
    # ||x||: (I - u u^T) / ||x||
    v = np.array([3.0, -4.0, 12.0])
    r, u = 13.0, v / 13.0
    x = mg.tensor(v, requires_grad=True)
    expected = (np.eye(3) - np.outer(u, u)) / r
    np.testing.assert_allclose(hessian(lambda x: mg.linalg.vector_norm(x), x), expected, rtol=1e-12, atol=1e-15)
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        h = hessian(lambda x: mg.cdist(x.reshape(1, 3), mg.tensor(np.zeros((1, 3))), compute_mode=mode).sum(), x)
        np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)
    # ||x||_3: d2/dx_i dx_j = 2 |x_i| delta_ij / n^2 - 2 s_i s_j x_i^2 x_j^2 / n^5 (s = sign)
    n = np.sum(np.abs(v) ** 3) ** (1 / 3)
    s = np.sign(v)
    expected3 = 2 * np.diag(np.abs(v)) / n ** 2 - 2 * np.outer(s * v ** 2, s * v ** 2) / n ** 5
    np.testing.assert_allclose(hessian(lambda x: mg.linalg.vector_norm(x, 3), x), expected3, rtol=1e-10)


# ------------------------------------------------------------------- ctc_loss
def test_ctc_loss_double_backward_raises_like_pytorch():
    log_probs = mg.tensor(np.log(RNG.dirichlet(np.ones(3), (5, 1))), requires_grad=True)  # (T, N, C)
    loss = F.ctc_loss(log_probs * 1.0, mg.tensor(np.array([[1, 2]])), [5], [2], reduction="sum")
    g, = grad(loss, log_probs, create_graph=True)
    # the first-order gradient is still given: minus the posterior of each class, which sums to 1
    np.testing.assert_allclose(g.array.sum(axis=2), -1, rtol=1e-12)
    with pytest.raises(RuntimeError, match="ctc_loss.*not implemented"):
        grad(g.sum(), log_probs)
