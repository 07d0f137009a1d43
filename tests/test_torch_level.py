"""torch's top-level names for the functional ops (minigrad/ops/torch_level.py) and the
runtime switches (minigrad/runtime_settings.py).

Each alias gives F's values for the same arguments given in torch's top-level form
(int reductions, (input, p, train) dropout, weight before running stats, ...); the ops
whose top-level form adds something (feature_dropout, embedding_bag's extra outputs,
rrelu's generator, ints for reductions) are checked against NumPy by hand, with
gradients against float64 central differences.
"""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F


def t(array, dtype=np.float64, requires_grad=False):
    return mg.tensor(np.asarray(array, dtype=dtype), requires_grad=requires_grad)


def same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_every_alias_is_exported():
    names = ("conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d max_pool1d "
             "max_pool1d_with_indices max_pool2d max_pool3d avg_pool1d adaptive_avg_pool1d "
             "adaptive_max_pool1d batch_norm layer_norm group_norm instance_norm rms_norm dropout "
             "alpha_dropout feature_alpha_dropout feature_dropout embedding embedding_bag bilinear "
             "pixel_shuffle pixel_unshuffle channel_shuffle prelu rrelu hardshrink pdist pairwise_distance "
             "cosine_similarity kl_div binary_cross_entropy_with_logits cosine_embedding_loss ctc_loss "
             "hinge_embedding_loss margin_ranking_loss poisson_nll_loss triplet_margin_loss "
             "constant_pad_nd").split()
    for name in names:
        assert callable(getattr(mg, name)), name
        assert getattr(mg, name).__module__ == "minigrad.ops.torch_level", name


# ------------------------------------------------------------------ convolution
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_aliases_equal_functional(rng, dims):
    x = t(rng.standard_normal((2, 4) + (6,) * dims))
    w = t(rng.standard_normal((6, 2) + (3,) * dims))
    b = t(rng.standard_normal(6))
    conv = getattr(mg, f"conv{dims}d")
    same(conv(x, w, b, 2, 1, 1, 2), getattr(F, f"conv{dims}d")(x, w, b, 2, 1, 1, 2))
    same(conv(x, w, padding="same", dilation=2, groups=2),
         getattr(F, f"conv{dims}d")(x, w, padding="same", dilation=2, groups=2))
    wt = t(rng.standard_normal((4, 3) + (3,) * dims))
    transpose = getattr(mg, f"conv_transpose{dims}d")
    same(transpose(x, wt, None, 2, 1, 1, 1, 1), getattr(F, f"conv_transpose{dims}d")(x, wt, None, 2, 1, 1, 1, 1))
    same(transpose(x, w[:4], groups=2, dilation=2),
         getattr(F, f"conv_transpose{dims}d")(x, w[:4], groups=2, dilation=2))


def test_conv1d_alias_against_numpy_and_gradient(rng):
    x, w = rng.standard_normal((1, 2, 7)), rng.standard_normal((3, 2, 3))
    expected = np.zeros((1, 3, 5))
    for o in range(3):
        for i in range(5):
            expected[0, o, i] = np.sum(x[0, :, i:i + 3] * w[o])
    np.testing.assert_allclose(mg.conv1d(t(x), t(w)).numpy(), expected, rtol=1e-12)
    assert mg.gradcheck(lambda a, b: mg.conv1d(a, b, stride=2, padding=1),
                        (t(x, requires_grad=True), t(w, requires_grad=True)))


# ---------------------------------------------------------------------- pooling
def test_pool_aliases_have_no_return_indices_and_empty_stride_means_kernel(rng):
    x = t(rng.standard_normal((2, 3, 9)))
    same(mg.max_pool1d(x, 3), F.max_pool1d(x, 3))
    same(mg.max_pool1d(x, 3, []), F.max_pool1d(x, 3, 3))
    same(mg.max_pool1d(x, 3, 2, 1, 2, True), F.max_pool1d(x, 3, 2, 1, 2, True))
    np.testing.assert_allclose(mg.max_pool1d(x, 3).numpy(), x.numpy().reshape(2, 3, 3, 3).max(-1))
    with pytest.raises(TypeError):
        mg.max_pool1d(x, 3, 2, 0, 1, False, True)   # torch.max_pool1d has no return_indices
    x2 = t(rng.standard_normal((2, 3, 6, 6)))
    same(mg.max_pool2d(x2, 2), F.max_pool2d(x2, 2))
    same(mg.max_pool2d(x2, 3, (), 1, 1, True), F.max_pool2d(x2, 3, None, 1, 1, True))
    x3 = t(rng.standard_normal((1, 2, 4, 4, 4)))
    same(mg.max_pool3d(x3, 2, 1), F.max_pool3d(x3, 2, 1))
    same(mg.avg_pool1d(x, 2), F.avg_pool1d(x, 2))
    same(mg.avg_pool1d(x, 3, 2, 1, True, False), F.avg_pool1d(x, 3, 2, 1, True, False))
    same(mg.adaptive_avg_pool1d(x, 4), F.adaptive_avg_pool1d(x, 4))


def test_pool_aliases_that_always_return_indices(rng):
    x = t(rng.standard_normal((2, 3, 8)))
    out, indices = mg.max_pool1d_with_indices(x, 2)
    np.testing.assert_array_equal(indices.numpy(), x.numpy().reshape(2, 3, 4, 2).argmax(-1) + np.arange(0, 8, 2))
    same((out, indices), F.max_pool1d(x, 2, return_indices=True))
    out, indices = mg.adaptive_max_pool1d(x, 4)
    np.testing.assert_allclose(out.numpy(), x.numpy().reshape(2, 3, 4, 2).max(-1))
    same((out, indices), F.adaptive_max_pool1d(x, 4, return_indices=True))


# ---------------------------------------------------------------- normalization
def test_batch_norm_takes_weight_and_bias_before_running_stats(rng):
    x = rng.standard_normal((4, 3, 5))
    weight, bias = rng.standard_normal(3), rng.standard_normal(3)
    mean_a, var_a, mean_b, var_b = (t(np.zeros(3)), t(np.ones(3)), t(np.zeros(3)), t(np.ones(3)))
    out = mg.batch_norm(t(x), t(weight), t(bias), mean_a, var_a, True, 0.2, 1e-5, False)
    same(out, F.batch_norm(t(x), mean_b, var_b, t(weight), t(bias), True, 0.2, 1e-5))
    same(mean_a, mean_b)
    same(var_a, var_b)
    mu, var = x.mean((0, 2)), x.var((0, 2))
    expected = (x - mu[:, None]) / np.sqrt(var[:, None] + 1e-5) * weight[:, None] + bias[:, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(mean_a.numpy(), 0.2 * mu, rtol=1e-10)
    evaluated = mg.batch_norm(t(x), None, None, t(mu), t(var), False, 0.1, 1e-5, True)
    np.testing.assert_allclose(evaluated.numpy(), (x - mu[:, None]) / np.sqrt(var[:, None] + 1e-5), rtol=1e-10)
    assert mg.gradcheck(lambda a, w: mg.batch_norm(a, w, None, None, None, True, 0.1, 1e-5, False),
                        (t(x, requires_grad=True), t(weight, requires_grad=True)))


def test_layer_group_instance_rms_norm_aliases(rng):
    x = t(rng.standard_normal((2, 4, 5)))
    w, b = t(rng.standard_normal(5)), t(rng.standard_normal(5))
    same(mg.layer_norm(x, (5,), w, b, 1e-3, True), F.layer_norm(x, (5,), w, b, 1e-3))
    same(mg.layer_norm(x, [4, 5]), F.layer_norm(x, [4, 5]))
    wc, bc = t(rng.standard_normal(4)), t(rng.standard_normal(4))
    same(mg.group_norm(x, 2, wc, bc, 1e-4, False), F.group_norm(x, 2, wc, bc, 1e-4))
    same(mg.instance_norm(x, wc, bc, None, None, True, 0.1, 1e-5, False),
         F.instance_norm(x, None, None, wc, bc, True, 0.1, 1e-5))
    same(mg.rms_norm(x, (5,), w), F.rms_norm(x, (5,), w))
    same(mg.rms_norm(x, [5], eps=1e-2), F.rms_norm(x, [5], eps=1e-2))
    arr = x.numpy()
    np.testing.assert_allclose(mg.rms_norm(x, (5,), w).numpy(),
                               arr / np.sqrt((arr ** 2).mean(-1, keepdims=True) + np.finfo(np.float64).eps)
                               * w.numpy(), rtol=1e-10)


# ---------------------------------------------------------------------- dropout
def test_dropout_aliases_take_p_and_train_without_defaults(rng):
    x = t(rng.standard_normal((4, 6, 3)))
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
        mg.manual_seed(5)
        a = getattr(mg, name)(x, 0.3, True)
        mg.manual_seed(5)
        b = getattr(F, name)(x, 0.3, True)
        same(a, b)
        same(getattr(mg, name)(x, 0.3, False), x)
        with pytest.raises(TypeError):
            getattr(mg, name)(x)                 # torch.dropout(input, p, train): no defaults


def test_feature_dropout_zeroes_whole_channels_and_scales(rng):
    x = t(rng.standard_normal((50, 8, 3, 2)) + 5.0)
    out = mg.feature_dropout(x, 0.25, True).numpy()
    ratio = out / x.numpy()                                          # 0 or 1/(1-p) per (n, c)
    per_channel = np.round(ratio, 12).reshape(50, 8, -1)
    assert np.all(per_channel == per_channel[..., :1])               # one draw per channel
    values = np.unique(np.round(per_channel[..., 0], 12))
    np.testing.assert_allclose(values, [0.0, 1 / 0.75])
    dropped = np.mean(per_channel[..., 0] == 0)
    assert 0.15 < dropped < 0.35
    same(mg.feature_dropout(x, 0.25, False), x)
    np.testing.assert_array_equal(mg.feature_dropout(x, 1.0, True).numpy(), 0)
    flat = t(rng.standard_normal((3, 4)))
    kept = mg.feature_dropout(flat, 0.5, True).numpy() / flat.numpy()
    assert set(np.round(np.unique(kept), 12)) <= {0.0, 2.0}
    leaf = t(rng.standard_normal((4, 3, 2)), requires_grad=True)
    mg.manual_seed(3)
    out = mg.feature_dropout(leaf, 0.5, True)
    out.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), out.detach().numpy() / leaf.detach().numpy())


def test_feature_dropout_errors():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.feature_dropout(t(np.ones(3)), 0.5, True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        mg.feature_dropout(t(np.ones((2, 3))), 1.5, True)


# -------------------------------------------------------------------- embedding
def test_embedding_takes_weight_first_and_minus_one_for_no_padding(rng):
    weight = rng.standard_normal((6, 3))
    indices = mg.tensor(np.array([[1, 4], [4, 0]]))
    same(mg.embedding(t(weight), indices), F.embedding(indices, t(weight)))
    np.testing.assert_allclose(mg.embedding(t(weight), indices).numpy(), weight[[[1, 4], [4, 0]]])
    leaf = t(weight, requires_grad=True)
    mg.embedding(leaf, indices, 4).sum().backward()
    expected = np.zeros((6, 3))
    expected[1] = expected[0] = 1                                     # row 4 is padding: no gradient
    np.testing.assert_allclose(leaf.grad.numpy(), expected)
    leaf = t(weight, requires_grad=True)
    mg.embedding(leaf, indices, -1).sum().backward()
    expected[4] = 2
    np.testing.assert_allclose(leaf.grad.numpy(), expected)


def test_embedding_bag_returns_the_four_tensors_of_torch(rng):
    weight = t(rng.standard_normal((6, 3)))
    indices = mg.tensor(np.array([1, 2, 4, 5, 4, 3, 2, 0]))
    offsets = mg.tensor(np.array([0, 2, 2, 5]))
    rows = weight.numpy()[indices.numpy()]
    bags = [slice(0, 2), slice(2, 2), slice(2, 5), slice(5, 8)]
    for mode, name in ((0, "sum"), (1, "mean"), (2, "max")):
        output, offset2bag, bag_size, max_indices = mg.embedding_bag(weight, indices, offsets, False, mode)
        same(output, F.embedding_bag(indices, weight, offsets, mode=name))
        if mode == 0:
            assert tuple(offset2bag.shape) == (0,)
            np.testing.assert_array_equal(bag_size.numpy(), [0, 0, 0, 0])
            np.testing.assert_array_equal(max_indices.numpy(), [0, 0, 0, 0])
            np.testing.assert_allclose(output.numpy(), [rows[b].sum(0) for b in bags], atol=1e-15)
            continue
        np.testing.assert_array_equal(offset2bag.numpy(), [0, 0, 2, 2, 2, 3, 3, 3])
        np.testing.assert_array_equal(bag_size.numpy(), [2, 0, 3, 3])
        if mode == 1:
            np.testing.assert_array_equal(max_indices.numpy(), [2, 0, 3, 3])
        else:
            expected = np.zeros((4, 3), np.int64)
            for bag, part in enumerate(bags):
                if part.stop > part.start:
                    expected[bag] = indices.numpy()[part][rows[part].argmax(0)]
            np.testing.assert_array_equal(max_indices.numpy(), expected)
    # padding_idx: padding rows leave the bag sizes; sum mode then reports offset2bag
    _, offset2bag, bag_size, _ = mg.embedding_bag(weight, indices, offsets, False, 1, False, None, False, 2)
    np.testing.assert_array_equal(bag_size.numpy(), [1, 0, 3, 2])
    _, offset2bag, bag_size, _ = mg.embedding_bag(weight, indices, offsets, False, 0, False, None, False, 2)
    np.testing.assert_array_equal(offset2bag.numpy(), [0, 0, 2, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(bag_size.numpy(), [0, 0, 0, 0])
    # include_last_offset: the last offset ends the last bag
    last = mg.tensor(np.array([0, 2, 2, 5, 8]))
    output, _, bag_size, _ = mg.embedding_bag(weight, indices, last, False, 1, False, None, True)
    same(output, F.embedding_bag(indices, weight, offsets, mode="mean"))
    np.testing.assert_array_equal(bag_size.numpy(), [2, 0, 3, 3])
    per_sample = t(rng.standard_normal(8))
    output = mg.embedding_bag(weight, indices, offsets, False, 0, False, per_sample)[0]
    same(output, F.embedding_bag(indices, weight, offsets, mode="sum", per_sample_weights=per_sample))


def test_embedding_bag_errors(rng):
    weight = t(rng.standard_normal((6, 3)))
    indices = mg.tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="mode must be 0"):
        mg.embedding_bag(weight, indices, mg.tensor(np.array([0])), False, 3)
    with pytest.raises(TypeError, match="offsets must be Tensors"):
        mg.embedding_bag(weight, indices, None)


# ------------------------------------------------------------ shape, activations
def test_shape_and_activation_aliases(rng):
    x = t(rng.standard_normal((2, 8, 4, 4)))
    same(mg.pixel_shuffle(x, 2), F.pixel_shuffle(x, 2))
    same(mg.pixel_unshuffle(x, 2), F.pixel_unshuffle(x, 2))
    same(mg.channel_shuffle(x, 4), F.channel_shuffle(x, 4))
    np.testing.assert_allclose(mg.channel_shuffle(x, 2).numpy(),
                               x.numpy().reshape(2, 2, 4, 4, 4).swapaxes(1, 2).reshape(2, 8, 4, 4))
    weight = t(rng.random(8))
    same(mg.prelu(x, weight), F.prelu(x, weight))
    same(x.prelu(weight), F.prelu(x, weight))
    arr = x.numpy()
    np.testing.assert_allclose(mg.prelu(x, weight).numpy(), np.where(arr > 0, arr, weight.numpy()[:, None, None] * arr))
    same(mg.hardshrink(x, 0.7), F.hardshrink(x, 0.7))
    same(x.hardshrink(), F.hardshrink(x))
    np.testing.assert_allclose(mg.hardshrink(x).numpy(), np.where(np.abs(arr) > 0.5, arr, 0))
    same(mg.rrelu(x), F.rrelu(x))
    same(mg.rrelu(x, 0.1, 0.2), F.rrelu(x, 0.1, 0.2))
    mg.manual_seed(7)
    a = mg.rrelu(x, 0.1, 0.3, True)
    mg.manual_seed(7)
    same(a, F.rrelu(x, 0.1, 0.3, True))


def test_rrelu_draws_its_slopes_from_the_generator(rng):
    x = t(rng.standard_normal((5, 40)))
    first = mg.rrelu(x, 0.1, 0.3, True, mg.Generator().manual_seed(11))
    second = mg.rrelu(x, 0.1, 0.3, True, mg.Generator().manual_seed(11))
    same(first, second)
    arr = x.numpy()
    slopes = first.numpy()[arr < 0] / arr[arr < 0]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and slopes.std() > 0.01
    expected = np.random.default_rng(11).uniform(0.1, 0.3, arr.shape)
    np.testing.assert_allclose(first.numpy(), np.where(arr > 0, arr, expected * arr), rtol=1e-12)
    np.testing.assert_array_equal(first.numpy()[arr > 0], arr[arr > 0])
    leaf = t(arr, requires_grad=True)
    mg.rrelu(leaf, 0.1, 0.3, True, mg.Generator().manual_seed(11)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.where(arr > 0, 1.0, expected), rtol=1e-12)


def test_constant_pad_nd(rng):
    x = t(rng.standard_normal((2, 3, 4)))
    out = mg.constant_pad_nd(x, [1, 2, 0, 1], 3.5)
    expected = np.pad(x.numpy(), ((0, 0), (0, 1), (1, 2)), constant_values=3.5)
    np.testing.assert_allclose(out.numpy(), expected)
    same(mg.constant_pad_nd(x, (1, 1)), F.pad(x, (1, 1)))
    np.testing.assert_allclose(mg.constant_pad_nd(x, [-1, 1]).numpy(),
                               np.pad(x.numpy()[..., 1:], ((0, 0), (0, 0), (0, 1))))
    assert mg.gradcheck(lambda a: mg.constant_pad_nd(a, [1, -1, 2, 0], 2.0), (t(x.numpy(), requires_grad=True),))


# -------------------------------------------------------------------- distances
def test_distance_aliases(rng):
    a, b = t(rng.standard_normal((5, 4))), t(rng.standard_normal((5, 4)))
    same(mg.pdist(a), F.pdist(a))
    same(mg.pdist(a, 1.0), F.pdist(a, 1.0))
    arr = a.numpy()
    np.testing.assert_allclose(mg.pdist(a).numpy(),
                               [np.linalg.norm(arr[i] - arr[j]) for i in range(5) for j in range(i + 1, 5)])
    same(mg.pairwise_distance(a, b), F.pairwise_distance(a, b))
    same(mg.pairwise_distance(a, b, 3.0, 1e-3, True), F.pairwise_distance(a, b, 3.0, 1e-3, True))
    same(mg.cosine_similarity(a, b), F.cosine_similarity(a, b))
    same(mg.cosine_similarity(a, b, 0, 1e-3), F.cosine_similarity(a, b, 0, 1e-3))


# ------------------------------------------------------------------------ losses
REDUCTIONS = [(0, "none"), (1, "mean"), (2, "sum")]


@pytest.mark.parametrize("code, name", REDUCTIONS)
def test_losses_take_reduction_as_an_int(rng, code, name):
    x, y = t(rng.standard_normal((4, 5))), t(rng.standard_normal((4, 5)))
    p = t(rng.random((4, 5)))
    sign = t(np.sign(rng.standard_normal(4)))
    same(mg.kl_div(x, p, code), F.kl_div(x, p, reduction=name))
    same(mg.kl_div(x, y, code, log_target=True), F.kl_div(x, y, reduction=name, log_target=True))
    w, pw = t(rng.random((4, 5))), t(rng.random(5))
    same(mg.binary_cross_entropy_with_logits(x, p, w, pw, code),
         F.binary_cross_entropy_with_logits(x, p, w, reduction=name, pos_weight=pw))
    same(mg.cosine_embedding_loss(x, y, sign, 0.2, code),
         F.cosine_embedding_loss(x, y, sign, 0.2, reduction=name))
    same(mg.hinge_embedding_loss(x, t(np.sign(y.numpy())), 0.5, code),
         F.hinge_embedding_loss(x, t(np.sign(y.numpy())), 0.5, reduction=name))
    same(mg.margin_ranking_loss(x[:, 0], y[:, 0], sign, 0.1, code),
         F.margin_ranking_loss(x[:, 0], y[:, 0], sign, 0.1, reduction=name))
    same(mg.poisson_nll_loss(x, p, True, True, 1e-8, code),
         F.poisson_nll_loss(x, p, True, True, 1e-8, reduction=name))
    same(mg.poisson_nll_loss(p, y.abs(), False, False, 1e-6, code),
         F.poisson_nll_loss(p, y.abs(), False, False, 1e-6, reduction=name))
    z = t(rng.standard_normal((4, 5)))
    same(mg.triplet_margin_loss(x, y, z, 0.5, 1.0, 1e-6, True, code),
         F.triplet_margin_loss(x, y, z, 0.5, 1.0, 1e-6, True, reduction=name))
    log_probs = F.log_softmax(t(rng.standard_normal((6, 2, 4))), 2)
    targets = mg.tensor(np.array([[1, 2], [3, 3]]))
    same(mg.ctc_loss(log_probs, targets, [6, 5], [2, 2], 0, code),
         F.ctc_loss(log_probs, targets, [6, 5], [2, 2], 0, name))


def test_int_reduction_values_against_numpy(rng):
    x, p = rng.standard_normal((3, 4)), rng.random((3, 4))
    pointwise = p * (np.log(p) - x)
    np.testing.assert_allclose(mg.kl_div(t(x), t(p), 0).numpy(), pointwise, rtol=1e-12)
    np.testing.assert_allclose(mg.kl_div(t(x), t(p)).item(), pointwise.mean(), rtol=1e-12)   # 1: mean
    np.testing.assert_allclose(mg.kl_div(t(x), t(p), 2).item(), pointwise.sum(), rtol=1e-12)
    logits = np.log1p(np.exp(-x))
    bce = (1 - p) * x + logits
    np.testing.assert_allclose(mg.binary_cross_entropy_with_logits(t(x), t(p)).item(), bce.mean(), rtol=1e-12)
    assert mg.gradcheck(lambda a: mg.kl_div(a, t(p), 2), (t(x, requires_grad=True),))


def test_reduction_errors(rng):
    x = t(rng.standard_normal((2, 3)))
    with pytest.raises(TypeError, match="must be int"):
        mg.kl_div(x, x, "mean")
    with pytest.raises(RuntimeError, match="got 5"):
        mg.hinge_embedding_loss(x, x, 1.0, 5)
    with pytest.raises(TypeError):
        mg.poisson_nll_loss(x, x)                # torch's form: every argument required


# ------------------------------------------------------------------ runtime switches
@pytest.fixture
def restore_switches():
    saved = (mg.get_float32_matmul_precision(), mg.get_num_interop_threads(), mg.is_warn_always_enabled(),
             mg.are_deterministic_algorithms_enabled(), mg.is_deterministic_algorithms_warn_only_enabled())
    yield
    mg.set_float32_matmul_precision(saved[0])
    mg.set_num_interop_threads(saved[1])
    mg.set_warn_always(saved[2])
    mg.use_deterministic_algorithms(saved[3], warn_only=saved[4])


def test_default_device_is_the_cpu():
    assert mg.get_default_device() == mg.device("cpu")
    mg.set_default_device("cpu")
    mg.set_default_device(None)
    mg.set_default_device(mg.device("cpu"))
    with pytest.raises(RuntimeError, match="CPU only"):
        mg.set_default_device("cuda")
    with pytest.raises(RuntimeError):
        mg.set_default_device("cpu:1")
    assert mg.get_default_device() == mg.device("cpu")


def test_float32_matmul_precision(restore_switches):
    assert mg.get_float32_matmul_precision() == "highest"
    for value in ("high", "medium", "highest"):
        mg.set_float32_matmul_precision(value)
        assert mg.get_float32_matmul_precision() == value
    mg.set_float32_matmul_precision("medium")
    with pytest.warns(UserWarning, match="fast is not one of"):
        mg.set_float32_matmul_precision("fast")
    assert mg.get_float32_matmul_precision() == "medium"
    with pytest.raises(RuntimeError, match="expects a str, but got int"):
        mg.set_float32_matmul_precision(3)


def test_flush_denormal_interop_threads_warn_always(restore_switches):
    assert mg.set_flush_denormal(True) is False
    assert mg.set_flush_denormal(False) is False
    with pytest.raises(TypeError):
        mg.set_flush_denormal(1)
    assert mg.get_num_interop_threads() >= 1
    mg.set_num_interop_threads(3)
    assert mg.get_num_interop_threads() == 3
    for bad in (0, -2, 1.5, True):
        with pytest.raises(RuntimeError, match="positive integer"):
            mg.set_num_interop_threads(bad)
    assert mg.is_warn_always_enabled() is False
    mg.set_warn_always(True)
    assert mg.is_warn_always_enabled() is True
    with pytest.raises(RuntimeError, match="expects a bool, but got int"):
        mg.set_warn_always(1)


def test_inference_mode_flag():
    assert mg.is_inference_mode_enabled() is False
    with mg.inference_mode():
        assert mg.is_inference_mode_enabled() is True
        assert not mg.is_grad_enabled()
        with mg.inference_mode(False):
            assert mg.is_inference_mode_enabled() is False
        assert mg.is_inference_mode_enabled() is True
        made = mg.ones(2)
    assert mg.is_inference_mode_enabled() is False

    @mg.inference_mode()
    def inside():
        return mg.is_inference_mode_enabled()

    assert inside() is True
    assert made.is_inference() is False          # minigrad has no inference tensors
    with mg.no_grad():
        assert mg.is_inference_mode_enabled() is False


def test_deterministic_debug_mode_is_use_deterministic_algorithms(restore_switches):
    mg.use_deterministic_algorithms(False)
    assert mg.get_deterministic_debug_mode() == 0
    mg.set_deterministic_debug_mode("warn")
    assert mg.are_deterministic_algorithms_enabled() and mg.is_deterministic_algorithms_warn_only_enabled()
    assert mg.get_deterministic_debug_mode() == 1
    mg.set_deterministic_debug_mode("error")
    assert mg.are_deterministic_algorithms_enabled() and not mg.is_deterministic_algorithms_warn_only_enabled()
    assert mg.get_deterministic_debug_mode() == 2
    mg.set_deterministic_debug_mode(0)
    assert not mg.are_deterministic_algorithms_enabled()
    mg.set_deterministic_debug_mode(1)
    assert mg.get_deterministic_debug_mode() == 1
    mg.set_deterministic_debug_mode("default")
    assert mg.get_deterministic_debug_mode() == 0
    mg.use_deterministic_algorithms(True)
    assert mg.get_deterministic_debug_mode() == 2
    with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`, but got x"):
        mg.set_deterministic_debug_mode("x")
    with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 5"):
        mg.set_deterministic_debug_mode(5)
    with pytest.raises(TypeError, match="must be str or int"):
        mg.set_deterministic_debug_mode(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.set_deterministic_debug_mode(0)
