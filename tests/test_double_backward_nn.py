"""Double backward (create_graph=True) of the layer ops: convolutions, pooling,
normalisation, padding, fold/unfold, interpolate, embeddings, bilinear,
affine_grid, CrossMapLRN, fractional max pooling.

Every op: gradgradcheck in float64 (the double backward against finite
differences of the first-order backward, w.r.t. the inputs and the incoming
gradient) over several configurations; a few closed-form second derivatives
with real values; and the main use case end to end, a WGAN-GP gradient
penalty on a small conv net, whose gradient w.r.t. the conv weights is
checked against finite differences.
"""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.autograd import grad, gradcheck, gradgradcheck
from minigrad.ops.cross_map_lrn import cross_map_lrn2d
from minigrad.ops.normalization import batch_norm_relu


def _randn(rng, *shape, requires_grad=True):
    return minigrad.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


def _distinct(rng, *shape):
    """Values 0.1 apart (no ties: max pooling is smooth around them)."""
    values = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1
    return minigrad.tensor(values + 0.01 * rng.standard_normal(shape), requires_grad=True)


def _gradgradcheck(fn, inputs):
    """gradgradcheck, and first that the recorded gradients (create_graph=True, from
    backward_graph) equal the array backward's: gradgradcheck alone differentiates
    the recorded ones, so it cannot see a backward_graph that is wrong to begin with."""
    rng = np.random.default_rng(123)
    wrt = [x for x in inputs if isinstance(x, minigrad.Tensor) and x.requires_grad]
    output = fn(*inputs)
    weights = minigrad.tensor(rng.standard_normal(output.shape))
    plain = grad((output * weights).sum(), wrt, allow_unused=True)
    recorded = grad((fn(*inputs) * weights).sum(), wrt, create_graph=True, allow_unused=True)
    for p, r in zip(plain, recorded):
        assert (p is None) == (r is None)
        if p is not None:
            np.testing.assert_allclose(r.array, p.array, rtol=1e-10, atol=1e-12)
    return gradgradcheck(fn, inputs)


def _third_order(fn, x):
    """fn(x) -> Tensor: gradgradcheck of x -> d sum(fn(x)^3) / dx checks the third derivative."""
    def first(x):
        y = fn(x)
        return grad((y * y * y).sum(), x, create_graph=True)[0]
    return _gradgradcheck(first, (x,))


# ---------------------------------------------------------------- convolutions
CONV_CASES = [
    (F.conv1d, (2, 2, 7), (3, 2, 3), dict(stride=2, dilation=2)),
    (F.conv1d, (2, 4, 6), (4, 1, 3), dict(padding="same", groups=4)),               # depthwise
    (F.conv2d, (2, 4, 5, 5), (6, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
    (F.conv2d, (1, 3, 6, 5), (3, 1, 2, 3), dict(dilation=2, padding=(1, 0), groups=3)),  # depthwise
    (F.conv2d, (4, 6, 5), (2, 2, 2, 3), dict(padding="same", groups=2)),           # unbatched, even kernel
    (F.conv2d, (2, 3, 6, 6), (2, 3, 3, 3), dict(stride=(2, 3))),                    # leftover rows
    (F.conv3d, (1, 2, 4, 4, 3), (2, 1, 2, 2, 2), dict(stride=(1, 2, 1), groups=2, padding=1)),
]

CONV_TRANSPOSE_CASES = [
    (F.conv_transpose1d, (2, 2, 4), (2, 3, 3), dict(dilation=2)),
    (F.conv_transpose2d, (2, 4, 3, 3), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (F.conv_transpose2d, (3, 2, 3), (3, 2, 2, 2), dict(stride=(1, 2))),             # unbatched
    (F.conv_transpose3d, (1, 2, 2, 3, 2), (2, 1, 2, 2, 2), dict(stride=2, groups=2)),
]


@pytest.mark.parametrize("fn, x_shape, w_shape, options", CONV_CASES + CONV_TRANSPOSE_CASES)
def test_conv_gradgradcheck(fn, x_shape, w_shape, options):
    rng = np.random.default_rng(0)
    transposed = fn.__name__.startswith("conv_transpose")
    out_channels = w_shape[1] * options.get("groups", 1) if transposed else w_shape[0]
    x, w, b = _randn(rng, *x_shape), _randn(rng, *w_shape), _randn(rng, out_channels)
    assert _gradgradcheck(lambda x, w, b: fn(x, w, b, **options), (x, w, b))


@pytest.mark.parametrize("fn, x_shape, w_shape, options", [CONV_CASES[2], CONV_CASES[1], CONV_TRANSPOSE_CASES[1]])
def test_conv_third_order(fn, x_shape, w_shape, options):
    rng = np.random.default_rng(1)
    x, w = _randn(rng, *x_shape), _randn(rng, *w_shape)
    assert _third_order(lambda x: fn(x, w, **options), x)   # x -> conv_transpose -> ConvWeightGrad
    assert _third_order(lambda w: fn(x, w, **options), w)


def test_conv1d_hessian_vector_product_closed_form():
    # f(w) = sum(conv1d(x, w)^2) = |P w|^2 with P the patch matrix: d2f/dw2 v = 2 P^T P v
    rng = np.random.default_rng(2)
    x, w = _randn(rng, 1, 1, 6, requires_grad=False), _randn(rng, 1, 1, 3)
    v = rng.standard_normal(3)
    g, = grad((F.conv1d(x, w, stride=1, padding=1) ** 2).sum(), w, create_graph=True)
    hvp, = grad((g.reshape(3) * minigrad.tensor(v)).sum(), w)
    padded = np.pad(x.array[0, 0], 1)
    patches = np.stack([padded[i:i + 3] for i in range(6)])                     # (6, 3)
    np.testing.assert_allclose(hvp.array.reshape(3), 2 * patches.T @ patches @ v, rtol=1e-12)


def test_conv_mixed_second_derivative_closed_form():
    # d/dx of (dL/dw . V) for L = sum(conv2d(x, w) * G) is conv_transpose2d(G, V)
    rng = np.random.default_rng(3)
    x, w = _randn(rng, 1, 2, 4, 4), _randn(rng, 3, 2, 2, 2)
    upstream, v = rng.standard_normal((1, 3, 3, 3)), rng.standard_normal((3, 2, 2, 2))
    g, = grad((F.conv2d(x, w) * minigrad.tensor(upstream)).sum(), w, create_graph=True)
    mixed, = grad((g * minigrad.tensor(v)).sum(), x)
    expected = np.zeros((2, 4, 4))
    for m in range(3):
        for i in range(3):
            for j in range(3):
                expected[:, i:i + 2, j:j + 2] += upstream[0, m, i, j] * v[m]
    np.testing.assert_allclose(mixed.array[0], expected, rtol=1e-12)


# ---------------------------------------------------------------- pooling
POOL_CASES = [
    (F.max_pool1d, (2, 3, 7), dict(kernel_size=2, dilation=2)),
    (F.max_pool2d, (2, 3, 5, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool2d, (3, 6, 5), dict(kernel_size=(2, 3), stride=1)),                  # overlapping windows
    (F.max_pool3d, (1, 2, 4, 4, 4), dict(kernel_size=2)),
    (F.avg_pool1d, (2, 3, 7), dict(kernel_size=3, stride=2)),
    (F.avg_pool2d, (2, 3, 5, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    (F.avg_pool2d, (3, 5, 5), dict(kernel_size=2, divisor_override=3)),
    (F.avg_pool3d, (1, 2, 4, 4, 4), dict(kernel_size=2, padding=1)),
    (F.adaptive_avg_pool1d, (2, 3, 7), dict(output_size=3)),
    (F.adaptive_avg_pool2d, (2, 3, 5, 7), dict(output_size=(3, 4))),
    (F.adaptive_avg_pool3d, (1, 2, 3, 4, 5), dict(output_size=2)),
    (F.adaptive_max_pool1d, (2, 3, 7), dict(output_size=3)),
    (F.adaptive_max_pool2d, (2, 3, 5, 7), dict(output_size=(3, 4))),
    (F.adaptive_max_pool3d, (1, 2, 3, 4, 5), dict(output_size=(2, 2, 3))),
]


@pytest.mark.parametrize("fn, shape, options", POOL_CASES)
def test_pool_gradgradcheck(fn, shape, options):
    x = _distinct(np.random.default_rng(0), *shape)
    assert _gradgradcheck(lambda x: fn(x, **options) ** 2, (x,))   # squared: x reaches the double backward


@pytest.mark.parametrize("fn, shape, options", [POOL_CASES[1], POOL_CASES[5], POOL_CASES[9]])
def test_pool_third_order(fn, shape, options):
    x = _distinct(np.random.default_rng(1), *shape)
    assert _third_order(lambda x: fn(x, **options), x)


def test_max_pool_double_backward_gathers_at_the_argmax():
    # g = dL/dx = scatter of G at the argmax; d(g . V)/dG = V gathered at the argmax
    rng = np.random.default_rng(4)
    x = _distinct(rng, 1, 1, 4, 4)
    upstream = minigrad.tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True)
    y, indices = F.max_pool2d(x, 2, return_indices=True)
    g, = grad((y * upstream).sum(), x, create_graph=True)
    v = rng.standard_normal((1, 1, 4, 4))
    second, = grad((g * minigrad.tensor(v)).sum(), upstream)
    np.testing.assert_array_equal(second.array.reshape(-1), v.reshape(-1)[indices.array.reshape(-1)])


def test_avg_pool_double_backward_closed_form():
    # d(dL/dx . V)/dG for avg_pool2d(x, 2) is avg_pool2d(V, 2)
    rng = np.random.default_rng(5)
    x = _randn(rng, 1, 2, 4, 6)
    upstream = minigrad.tensor(rng.standard_normal((1, 2, 2, 3)), requires_grad=True)
    g, = grad((F.avg_pool2d(x, 2) * upstream).sum(), x, create_graph=True)
    v = rng.standard_normal((1, 2, 4, 6))
    second, = grad((g * minigrad.tensor(v)).sum(), upstream)
    np.testing.assert_allclose(second.array, v.reshape(1, 2, 2, 2, 3, 2).mean(axis=(3, 5)), rtol=1e-12)


@pytest.mark.parametrize("n, shape, kernel", [(1, (2, 3, 8), 2), (2, (2, 2, 4, 4), 2), (3, (1, 2, 4, 4, 2), (2, 2, 1))])
def test_max_unpool_gradgradcheck(n, shape, kernel):
    rng = np.random.default_rng(6)
    pool, unpool = getattr(F, f"max_pool{n}d"), getattr(F, f"max_unpool{n}d")
    _, indices = pool(_distinct(rng, *shape), kernel, return_indices=True)
    values = _randn(rng, *indices.shape)
    assert _gradgradcheck(lambda v: unpool(v, indices, kernel) ** 2, (values,))


def test_fractional_max_pool_gradgradcheck():
    rng = np.random.default_rng(7)
    samples = minigrad.tensor(rng.random((2, 2, 2)))
    x = _distinct(rng, 2, 2, 5, 5)
    assert _gradgradcheck(lambda x: F.fractional_max_pool2d(x, 2, output_size=(3, 3), _random_samples=samples)
                         ** 2, (x,))
    samples = minigrad.tensor(rng.random((1, 2, 3)))
    x = _distinct(rng, 1, 2, 4, 4, 5)
    assert _gradgradcheck(lambda x: F.fractional_max_pool3d(x, 2, output_size=(2, 2, 3), _random_samples=samples)
                         ** 2, (x,))


# ---------------------------------------------------------------- normalisation
def test_batch_norm_gradgradcheck():
    rng = np.random.default_rng(0)
    x, w, b = _randn(rng, 4, 3, 5), _randn(rng, 3), _randn(rng, 3)
    assert _gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    assert _gradgradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, True, eps=0.1),
                         (_randn(rng, 3, 2, 2, 3), _randn(rng, 2)))
    assert _gradgradcheck(lambda x: F.batch_norm(x, None, None, None, None, True), (_randn(rng, 5, 3),))
    # eval: the running statistics are constants
    running_mean = _randn(rng, 3, requires_grad=False)
    running_var = minigrad.tensor(rng.random(3) + 0.5)
    assert _gradgradcheck(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, False) ** 2,
                         (x, w, b))
    # with the fused ReLU (nn.Sequential's BatchNorm, ReLU pair)
    assert _gradgradcheck(lambda x, w, b: batch_norm_relu(x, None, None, w, b, True), (x, w, b))


def test_batch_norm_third_order():
    assert _third_order(lambda x: F.batch_norm(x, None, None, None, None, True),
                        _randn(np.random.default_rng(1), 3, 2, 2))


def test_batch_norm_training_second_derivative_closed_form():
    # One channel, no affine: y = xhat. d/dx of (dL/dx . V) with L = sum(y * G), at G = xhat:
    # dL/dx = invstd * (G - mean(G) - xhat * mean(G xhat)) = invstd * (xhat - xhat) = 0 when G = xhat,
    # and sum(y * y) = n always, so its full Hessian is zero: H v = 0.
    rng = np.random.default_rng(8)
    x = _randn(rng, 6, 1)
    y = F.batch_norm(x, None, None, None, None, True, eps=0.0)
    g, = grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.array, 0, atol=1e-12)
    hvp, = grad((g * minigrad.tensor(rng.standard_normal((6, 1)))).sum(), x)
    np.testing.assert_allclose(hvp.array, 0, atol=1e-10)


@pytest.mark.parametrize("case", ["layer", "group", "instance", "rms", "local_response", "cross_map"])
def test_other_norms_gradgradcheck(case):
    rng = np.random.default_rng(0)
    if case == "layer":
        assert _gradgradcheck(lambda x, w, b: F.layer_norm(x, (3, 5), w, b),
                             (_randn(rng, 2, 3, 5), _randn(rng, 3, 5), _randn(rng, 3, 5)))
    elif case == "group":
        assert _gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b),
                             (_randn(rng, 2, 4, 3), _randn(rng, 4), _randn(rng, 4)))
    elif case == "instance":
        assert _gradgradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                             (_randn(rng, 2, 3, 4), _randn(rng, 3), _randn(rng, 3)))
    elif case == "rms":
        assert _gradgradcheck(lambda x, w: F.rms_norm(x, (4,), w), (_randn(rng, 2, 3, 4), _randn(rng, 4)))
    elif case == "local_response":
        assert _gradgradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), (_randn(rng, 2, 5, 3),))
        assert _gradgradcheck(lambda x: F.local_response_norm(x, 2, alpha=0.5), (_randn(rng, 1, 4, 3, 2),))
    else:
        assert _gradgradcheck(lambda x: cross_map_lrn2d(x, 3, alpha=0.5, beta=0.75, k=1.0), (_randn(rng, 2, 5, 2, 3),))
        assert _gradgradcheck(lambda x: cross_map_lrn2d(x, 2, alpha=0.3, beta=1.5, k=2.0), (_randn(rng, 1, 4, 2, 2),))


# ---------------------------------------------------------------- padding, fold, resize, layout
@pytest.mark.parametrize("mode, pad", [("constant", (1, 2, 0, -1)), ("reflect", (2, 1, 1, 2)),
                                       ("replicate", (2, 1, 1, 2)), ("circular", (2, 1, 1, 2)),
                                       ("reflect", (1, 1))])
def test_pad_gradgradcheck(mode, pad):
    x = _randn(np.random.default_rng(0), 1, 2, 3, 4)
    value = 0.5 if mode == "constant" else None
    assert _gradgradcheck(lambda x: F.pad(x, pad, mode=mode, value=value) ** 2, (x,))


def test_fold_unfold_gradgradcheck():
    rng = np.random.default_rng(0)
    assert _gradgradcheck(lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)) ** 2,
                         (_randn(rng, 2, 2, 5, 6),))
    assert _gradgradcheck(lambda x: F.unfold(x, 2) ** 2, (_randn(rng, 3, 4, 4),))       # unbatched
    assert _gradgradcheck(lambda x: F.fold(x, (4, 5), 2, stride=1) ** 2, (_randn(rng, 2, 12, 12),))
    assert _gradgradcheck(lambda x: F.fold(x, (5, 5), (2, 3), stride=2, padding=1) ** 2, (_randn(rng, 12, 9),))


@pytest.mark.parametrize("shape, options", [
    ((2, 2, 3, 4), dict(size=(5, 3), mode="nearest")),
    ((2, 2, 3, 4), dict(size=(5, 7), mode="nearest-exact")),
    ((2, 2, 3, 4), dict(size=(5, 3), mode="bilinear", align_corners=True)),
    ((2, 2, 3, 4), dict(scale_factor=1.5, mode="bilinear", align_corners=False)),
    ((2, 2, 4), dict(scale_factor=1.7, mode="linear")),
    ((1, 2, 2, 3, 2), dict(size=(3, 2, 4), mode="trilinear")),
    ((1, 2, 5, 5), dict(size=(2, 3), mode="area")),
])
def test_interpolate_gradgradcheck(shape, options):
    x = _randn(np.random.default_rng(0), *shape)
    assert _gradgradcheck(lambda x: F.interpolate(x, **options) ** 2, (x,))


def test_tensor_unfold_gradgradcheck():
    rng = np.random.default_rng(0)
    assert _gradgradcheck(lambda x: x.unfold(1, 3, 2) ** 2, (_randn(rng, 2, 7, 3),))
    assert _gradgradcheck(lambda x: x.unfold(0, 2, 1) ** 2, (_randn(rng, 5, 2),))   # overlapping


# ---------------------------------------------------------------- embeddings, bilinear, affine_grid
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_gradgradcheck(padding_idx):
    indices = minigrad.tensor(np.array([[0, 2, 4], [2, 2, 1]]))
    weight = _randn(np.random.default_rng(0), 5, 3)
    assert _gradgradcheck(lambda w: F.embedding(indices, w, padding_idx=padding_idx) ** 2, (weight,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradgradcheck(mode):
    rng = np.random.default_rng(0)
    flat, offsets = minigrad.tensor(np.array([0, 2, 4, 2, 2, 1, 3])), minigrad.tensor(np.array([0, 3, 3, 5]))
    assert _gradgradcheck(lambda w: F.embedding_bag(flat, w, offsets, mode=mode) ** 2, (_randn(rng, 5, 3),))
    bags = minigrad.tensor(np.array([[0, 1, 3], [4, 4, 2]]))
    assert _gradgradcheck(lambda w: F.embedding_bag(bags, w, mode=mode, padding_idx=4) ** 2, (_randn(rng, 5, 3),))


def test_embedding_bag_per_sample_weights_gradgradcheck():
    rng = np.random.default_rng(0)
    flat, offsets = minigrad.tensor(np.array([0, 2, 4, 2, 2, 1, 3])), minigrad.tensor(np.array([0, 3, 3, 5]))
    assert _gradgradcheck(lambda w, p: F.embedding_bag(flat, w, offsets, mode="sum", per_sample_weights=p,
                                                      padding_idx=2),
                         (_randn(rng, 5, 3), _randn(rng, 7)))


def test_bilinear_gradgradcheck():
    rng = np.random.default_rng(0)
    assert _gradgradcheck(F.bilinear, (_randn(rng, 2, 3, 2), _randn(rng, 2, 3, 4), _randn(rng, 5, 2, 4),
                                       _randn(rng, 5)))
    assert _gradgradcheck(F.bilinear, (_randn(rng, 4, 2), _randn(rng, 4, 3), _randn(rng, 2, 2, 3)))


def test_bilinear_second_derivative_closed_form():
    # y = x1^T A x2 (one output): d2y / dx1 dx2 = A
    rng = np.random.default_rng(9)
    x1, x2, a = _randn(rng, 1, 3), _randn(rng, 1, 2), _randn(rng, 1, 3, 2, requires_grad=False)
    g1, = grad(F.bilinear(x1, x2, a).sum(), x1, create_graph=True)
    rows = [grad(g1[0, i], x2, retain_graph=True)[0].array[0] for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), a.array[0], rtol=1e-12)


@pytest.mark.parametrize("size, align_corners", [((2, 1, 3, 4), False), ((1, 1, 2, 3, 2), True)])
def test_affine_grid_gradgradcheck(size, align_corners):
    d = len(size) - 2
    theta = _randn(np.random.default_rng(0), size[0], d, d + 1)
    assert _gradgradcheck(lambda t: F.affine_grid(t, size, align_corners=align_corners) ** 2, (theta,))


# ---------------------------------------------------------------- WGAN-GP gradient penalty
def _tanh(z):
    """tanh from exp (its own double backward): 1 - 2 / (exp(2z) + 1)."""
    return 1 - 2 / ((z * 2).exp() + 1)


def _leaky_relu(z):
    return minigrad.where(z > 0, z, z * 0.2)


def _critic(x, conv_weight, conv_bias, linear_weight, activation, pool):
    h = F.conv2d(x, conv_weight, conv_bias, padding=1)            # (N, 3, 6, 6)
    h = pool(activation(h), 2)                                    # (N, 3, 3, 3)
    return F.linear(h.reshape(x.shape[0], -1), linear_weight)     # (N, 1)


@pytest.mark.parametrize("activation, pool", [(_tanh, F.avg_pool2d), (_leaky_relu, F.max_pool2d),
                                              (_tanh, F.max_pool2d)])
def test_wgan_gp_gradient_penalty_matches_finite_differences(activation, pool):
    rng = np.random.default_rng(10)
    x = minigrad.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    conv_bias, linear_weight = _randn(rng, 3), _randn(rng, 1, 27)

    def penalty(conv_weight):
        with minigrad.enable_grad():  # gradcheck's finite differences run under no_grad
            scores = _critic(x, conv_weight, conv_bias, linear_weight, activation, pool)
            g, = grad(scores.sum(), x, create_graph=True)         # dD/dx per sample, (N, 2, 6, 6)
        norms = ((g * g).sum(axis=(1, 2, 3)) + 1e-12) ** 0.5      # (N,)
        return ((norms - 1) ** 2).mean()

    conv_weight = _randn(rng, 3, 2, 3, 3)
    assert gradcheck(penalty, (conv_weight,))
    # and the training step's call: backward() of the penalty fills conv_weight.grad
    penalty(conv_weight).backward()
    assert conv_weight.grad is not None and np.abs(conv_weight.grad.array).sum() > 0
