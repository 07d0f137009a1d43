"""Double backward (create_graph=True) of the last ops without one: grid_sample, linalg.vander,
the Gamma sampler (whose second derivative raises, as in PyTorch), and the linalg Functions of
several outputs (_SeveralOutputs).

gradgradcheck compares the recorded first-order gradients with plain backward's and checks the
second derivatives against float64 finite differences; a few second derivatives against closed
forms with real values.
"""
import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import grad, gradgradcheck


def leaf(array, dtype=np.float64):
    return mg.tensor(np.asarray(array, dtype=dtype), requires_grad=True)


def constant(array):
    return mg.tensor(np.asarray(array))


def position(g, size, align_corners):
    """The pixel position of normalised coordinates g (grid_sample's unnormalisation)."""
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def smooth_grid(shape, spatial_sizes, align_corners, seed=0, low=-1.3, high=1.3):
    """Random normalised coordinates whose pixel positions are at least 0.075 from every
    multiple of 1/2 (bilinear weights kink at integers; nearest rounds, reflection mirrors
    and border clips at half-integers or integers), so finite differences stay on one piece."""
    rng = np.random.default_rng(seed)
    d = shape[-1]
    grid = np.empty(shape)
    for k in range(d):
        size = spatial_sizes[d - 1 - k]            # component k is spatial axis d - 1 - k
        values = rng.uniform(low, high, size=4 * int(np.prod(shape[:-1])) + 64)
        fraction = (2 * position(values, size, align_corners)) % 1
        values = values[(fraction > 0.15) & (fraction < 0.85)]
        grid[..., k] = values[:int(np.prod(shape[:-1]))].reshape(shape[:-1])
    return grid


GRID_CASES = [(2, mode, padding, corners)
              for mode, padding, corners in itertools.product(("bilinear", "nearest", "bicubic"),
                                                              ("zeros", "border", "reflection"),
                                                              (False, True))]
GRID_CASES += [(3, mode, padding, corners)
               for mode, padding, corners in itertools.product(("bilinear", "nearest"),
                                                               ("zeros", "border", "reflection"),
                                                               (False, True))]


@pytest.mark.parametrize("dim,mode,padding_mode,align_corners", GRID_CASES)
def test_grid_sample_gradgradcheck(dim, mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    shape, grid_shape = ((2, 2, 3, 4), (2, 2, 3, 2)) if dim == 2 else ((1, 2, 2, 3, 3), (1, 1, 2, 2, 3))
    x = leaf(rng.standard_normal(shape))
    g = leaf(smooth_grid(grid_shape, shape[2:], align_corners))

    def f(x, g):
        return F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    assert gradgradcheck(f, (x, g))


@pytest.mark.parametrize("wrt", ["input", "grid"])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_gradgradcheck_one_input(wrt, mode):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 3, 4, 3))
    g = smooth_grid((1, 3, 2, 2), (4, 3), False, seed=2)
    x, g = (leaf(x), constant(g)) if wrt == "input" else (constant(x), leaf(g))

    def f(x, g):
        return F.grid_sample(x, g, mode=mode, padding_mode="border", align_corners=False) ** 2

    assert gradgradcheck(f, (x, g))
    # the gradient is recorded as a function of what requires grad
    first, = grad(f(x, g).sum(), x if wrt == "input" else g, create_graph=True)
    assert first.requires_grad


def test_grid_sample_bilinear_mixed_second_derivatives_closed_form():
    # a 2 x 2 image, align_corners=True: y = (1-u)(1-v) a + u(1-v) b + (1-u) v c + u v d,
    # u = (gx + 1) / 2, v = (gy + 1) / 2; so d2y/dgx2 = 0, d2y/dgx dgy = (a - b - c + d) / 4
    # and d(dy/dgx)/dx = [[-(1-v), 1-v], [-v, v]] / 2
    a, b, c, d = 0.7, -1.1, 2.3, 0.4
    x = leaf([[[[a, b], [c, d]]]])
    gx, gy = 0.2, -0.4
    g = leaf([[[[gx, gy]]]])
    y = F.grid_sample(x, g, mode="bilinear", align_corners=True)
    dgrid, = grad(y.sum(), g, create_graph=True)
    u, v = (gx + 1) / 2, (gy + 1) / 2
    np.testing.assert_allclose(dgrid.array.ravel(),
                               [((b - a) * (1 - v) + (d - c) * v) / 2, ((c - a) * (1 - u) + (d - b) * u) / 2])
    h_grid, h_input = grad(dgrid[..., 0].sum(), (g, x))
    np.testing.assert_allclose(h_grid.array.ravel(), [0.0, (a - b - c + d) / 4], atol=1e-15)
    np.testing.assert_allclose(h_input.array[0, 0], np.array([[-(1 - v), 1 - v], [-v, v]]) / 2)


def test_grid_sample_bicubic_second_derivative_closed_form():
    # one row (H = 1, align_corners=True: every point reads row 0 with weight 1), width 6:
    # y(gx) = sum_k W_k(t) row[floor - 1 + k], t = position - floor, position = 2.5 (gx + 1);
    # d2y/dgx2 = 2.5^2 sum_k W_k''(t) row[...], W'' from the cubic convolution kernel (A = -0.75)
    A = -0.75
    row = np.array([0.3, -1.2, 0.8, 2.1, -0.5, 1.4])
    x = leaf(row.reshape(1, 1, 1, 6))
    pos = 2.3
    g = leaf([[[[pos / 2.5 - 1, 0.1]]]])
    y = F.grid_sample(x, g, mode="bicubic", padding_mode="zeros", align_corners=True)
    dgrid, = grad(y.sum(), g, create_graph=True)
    hessian, = grad(dgrid[..., 0].sum(), g)

    def near2(s):      # (A + 2)|s|^3 - (A + 3)|s|^2 + 1, twice differentiated
        return 6 * (A + 2) * s - 2 * (A + 3)

    def far2(s):       # A|s|^3 - 5A|s|^2 + 8A|s| - 4A, twice differentiated
        return 6 * A * s - 10 * A

    t = pos - 2
    second = [far2(t + 1), near2(t), near2(1 - t), far2(2 - t)]
    expected = 2.5 ** 2 * np.dot(second, row[1:5])
    np.testing.assert_allclose(hessian.array.ravel(), [expected, 0.0], rtol=1e-12, atol=1e-12)
    assert abs(expected) > 0.1


def test_grid_sample_nearest_grid_gradient_is_zero_to_second_order():
    rng = np.random.default_rng(5)
    x = leaf(rng.standard_normal((1, 2, 3, 3)))
    g = leaf(smooth_grid((1, 2, 2, 2), (3, 3), False))
    y = F.grid_sample(x, g, mode="nearest", align_corners=False)
    dx, dg = grad((y ** 2).sum(), (x, g), create_graph=True)
    np.testing.assert_array_equal(dg.array, 0)
    h_x, h_g = grad((dx ** 2).sum(), (x, g), allow_unused=True, materialize_grads=True)
    np.testing.assert_array_equal(h_g.array, 0)
    # dx = 2 S^T S x with S the 0/1 selection: (dx^2).sum() has gradient 8 (S^T S)^2 x
    S = np.zeros((4, 9))            # the 2 x 2 = 4 points read pixels of the 3 x 3 image
    for k, (gx, gy) in enumerate(g.array.reshape(4, 2)):
        col = int(np.rint(position(gx, 3, False)))
        r = int(np.rint(position(gy, 3, False)))
        if 0 <= col < 3 and 0 <= r < 3:
            S[k, r * 3 + col] = 1
    M = S.T @ S
    expected = 8 * np.einsum("ij,jk,ck->ci", M, M, x.array.reshape(2, 9))
    np.testing.assert_allclose(h_x.array.reshape(2, 9), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_grid_sample_recorded_gradients_low_precision(dtype):
    rng = np.random.default_rng(6)
    x = leaf(rng.standard_normal((1, 2, 3, 4)), dtype)
    g = leaf(smooth_grid((1, 2, 2, 2), (3, 4), False), dtype)

    def loss():
        return (F.grid_sample(x, g, mode="bilinear", align_corners=False) ** 2).sum()

    plain = grad(loss(), (x, g))
    recorded = grad(loss(), (x, g), create_graph=True)
    for p, r in zip(plain, recorded):
        assert r.dtype == dtype and r.requires_grad
        np.testing.assert_allclose(r.array.astype(np.float64), p.array.astype(np.float64), rtol=1e-3, atol=1e-3)
    second = grad(sum((r ** 2).sum() for r in recorded), (x, g))
    assert all(s.dtype == dtype and np.all(np.isfinite(s.array.astype(np.float64))) for s in second)


# ------------------------------------------------------------------------ vander
@pytest.mark.parametrize("shape,N", [((3,), None), ((2, 3), 5), ((4,), 2), ((2, 1, 2), 4)])
def test_vander_gradgradcheck(shape, N):
    x = leaf(np.random.default_rng(7).uniform(-1.5, 1.5, shape))
    assert gradgradcheck(lambda x: mg.linalg.vander(x, N=N), (x,))


def test_vander_second_and_third_derivatives_closed_form():
    # sum_j x^j (j < 5): derivatives sum_j j x^(j-1), sum_j j (j-1) x^(j-2), sum_j j (j-1) (j-2) x^(j-3)
    values = np.array([0.5, -1.2, 2.0])
    x = leaf(values)
    first, = grad(mg.linalg.vander(x, N=5).sum(), x, create_graph=True)
    second, = grad(first.sum(), x, create_graph=True)
    third, = grad(second.sum(), x)
    j = np.arange(5)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(first.array, (j * values ** np.maximum(j - 1, 0)).sum(0))
        np.testing.assert_allclose(second.array, (j * (j - 1) * values ** np.maximum(j - 2, 0)).sum(0))
        np.testing.assert_allclose(third.array, (j * (j - 1) * (j - 2) * values ** np.maximum(j - 3, 0)).sum(0))
    np.testing.assert_allclose(third.array, 6 + 24 * values)


# ------------------------------------------------------------------ Gamma sampler
def test_gamma_rsample_second_derivative_raises_as_pytorch():
    concentration = leaf([1.5, 2.0, 0.7])
    rate = leaf([1.0, 2.0, 0.5])
    mg.manual_seed(0)
    sample = mg.distributions.Gamma(concentration, rate).rsample()
    d_concentration, d_rate = grad(sample.sum(), (concentration, rate), create_graph=True)
    mg.manual_seed(0)
    plain = grad(mg.distributions.Gamma(concentration, rate).rsample().sum(), (concentration, rate))
    np.testing.assert_allclose(d_concentration.array, plain[0].array, rtol=1e-12)
    np.testing.assert_allclose(d_rate.array, plain[1].array, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="derivative for '_standard_gamma_grad' is not implemented"):
        grad(d_concentration.sum(), concentration)
    # a RuntimeError too (NotImplementedError is one), as PyTorch's
    sample = mg.distributions.Gamma(concentration, rate).rsample()
    d_concentration, = grad(sample.sum(), concentration, create_graph=True)
    with pytest.raises(RuntimeError):
        grad(d_concentration.sum(), concentration)


def test_standard_gamma_recorded_gradient_is_differentiable_in_grad_output():
    # as in PyTorch, grad * dz/da is a product: its derivative in grad is dz/da
    from minigrad.distributions.gamma_sampling import standard_gamma, standard_gamma_grad
    a = leaf([1.5, 3.0])
    weights = leaf([2.0, -0.5])
    z = standard_gamma(a)
    first, = grad(z, a, weights, create_graph=True)
    slope = standard_gamma_grad(a.array, z.array)
    np.testing.assert_allclose(first.array, weights.array * slope)
    np.testing.assert_allclose(grad(first.sum(), weights)[0].array, slope)
    assert np.all(slope > 0)        # a larger concentration moves the sample up


# --------------------------------------------------------- Functions of several outputs
def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_several_outputs_function_has_a_double_backward():
    # _SeveralOutputs is the base of qr, svd, eigh, slogdet, lu_factor, lu (never applied
    # itself); each of them records its backward (backward_several_graph)
    from minigrad.ops import linalg_decompositions as D
    subclasses = set(_subclasses(D._SeveralOutputs))
    assert {D.QR, D.Svd, D.Eigh, D.Slogdet, D.LUFactor, D.LU} <= subclasses
    for cls in subclasses:
        assert getattr(cls, "backward_graph", None) is D._SeveralOutputs._backward_graph, cls
        assert callable(getattr(cls, "backward_several_graph", None)), cls


def test_slogdet_second_derivative_through_several_outputs():
    # d/dA log|det A| = A^-T, so sum(A^-T * E) = tr(A^-1 E), whose derivative along V is
    # -tr(A^-1 V A^-1 E)
    rng = np.random.default_rng(8)
    A = leaf(rng.standard_normal((3, 3)) + 3 * np.eye(3))
    E, V = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    first, = grad(mg.linalg.slogdet(A).logabsdet, A, create_graph=True)
    second, = grad((first * constant(E)).sum(), A)
    inverse = np.linalg.inv(A.array)
    np.testing.assert_allclose((second.array * V).sum(), -np.trace(inverse @ V @ inverse @ E), rtol=1e-10)
