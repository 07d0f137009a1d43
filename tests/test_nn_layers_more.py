"""The 3d/1d pooling, norm, dropout, activation and shape layers added after the first set:
forward against plain NumPy, float64 gradcheck, repr and state_dict as PyTorch's."""
import itertools
import math
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import gradcheck


def tensor(array, grad=False):
    return minigrad.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------- NumPy references
def windows_reference(x, kernel, stride, reduce):
    """Unpadded pooling of (N, C, *spatial) by explicit loops over output positions."""
    spatial = x.shape[2:]
    out_shape = tuple((s - k) // st + 1 for s, k, st in zip(spatial, kernel, stride))
    out = np.empty(x.shape[:2] + out_shape)
    for pos in itertools.product(*(range(o) for o in out_shape)):
        window = tuple(slice(p * st, p * st + k) for p, st, k in zip(pos, stride, kernel))
        block = x[(slice(None), slice(None)) + window].reshape(x.shape[:2] + (-1,))
        out[(slice(None), slice(None)) + pos] = reduce(block, axis=-1)
    return out


def adaptive_reference(x, output_size, reduce):
    """PyTorch's adaptive bins [floor(i*in/out), ceil((i+1)*in/out)) along each spatial dim."""
    spatial = x.shape[2:]
    out = np.empty(x.shape[:2] + tuple(output_size))
    for pos in itertools.product(*(range(o) for o in output_size)):
        window = tuple(slice(math.floor(p * s / o), math.ceil((p + 1) * s / o))
                       for p, s, o in zip(pos, spatial, output_size))
        block = x[(slice(None), slice(None)) + window].reshape(x.shape[:2] + (-1,))
        out[(slice(None), slice(None)) + pos] = reduce(block, axis=-1)
    return out


# ---------------------------------------------------------------- pooling
def test_max_and_avg_pool3d_layers_match_windows():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6, 7))
    np.testing.assert_allclose(nn.MaxPool3d(2)(tensor(x)).array,
                               windows_reference(x, (2, 2, 2), (2, 2, 2), np.max))
    np.testing.assert_allclose(nn.AvgPool3d((2, 3, 2), stride=(1, 2, 3))(tensor(x)).array,
                               windows_reference(x, (2, 3, 2), (1, 2, 3), np.mean), rtol=1e-12)
    # unbatched (C, D, H, W)
    np.testing.assert_allclose(nn.MaxPool3d(3, stride=2)(tensor(x[0])).array,
                               windows_reference(x[:1], (3, 3, 3), (2, 2, 2), np.max)[0])


def test_pool3d_layers_gradcheck():
    x = tensor(np.random.default_rng(1).standard_normal((1, 2, 4, 4, 5)), grad=True)
    assert gradcheck(nn.MaxPool3d(2, stride=1, padding=1), (x,))
    assert gradcheck(nn.AvgPool3d(3, stride=2, padding=1, count_include_pad=False), (x,))


@pytest.mark.parametrize("dims", [1, 3])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool_layers_match_bins(dims, kind):
    rng = np.random.default_rng(dims)
    spatial = (7, 5, 6)[:dims]
    x = rng.standard_normal((2, 3) + spatial)
    output_size = (3, 2, 4)[:dims]
    layer = getattr(nn, f"Adaptive{kind.capitalize()}Pool{dims}d")(output_size)
    expected = adaptive_reference(x, output_size, np.mean if kind == "avg" else np.max)
    np.testing.assert_allclose(layer(tensor(x)).array, expected, rtol=1e-12)
    xg = tensor(x[:1, :2], grad=True)
    assert gradcheck(layer, (xg,))


def test_adaptive_pool3d_none_keeps_size_and_indices():
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 5, 6))
    out = F.adaptive_avg_pool3d(tensor(x), (None, 2, 3))
    np.testing.assert_allclose(out.array, adaptive_reference(x, (4, 2, 3), np.mean), rtol=1e-12)
    values, indices = nn.AdaptiveMaxPool3d(2, return_indices=True)(tensor(x))
    flat = x.reshape(1, 2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, indices.array.reshape(1, 2, -1), -1),
                                  values.array.reshape(1, 2, -1))


def test_with_indices_functionals_return_the_pair():
    x = tensor(np.random.default_rng(3).standard_normal((2, 3, 6, 6, 6)))
    for n, fn in ((1, F.max_pool1d_with_indices), (2, F.max_pool2d_with_indices),
                  (3, F.max_pool3d_with_indices)):
        inp = tensor(x.array[(0,) * (3 - n)])
        out, idx = fn(inp, 2)
        ref_out, ref_idx = getattr(F, f"max_pool{n}d")(inp, 2, return_indices=True)
        np.testing.assert_array_equal(out.array, ref_out.array)
        np.testing.assert_array_equal(idx.array, ref_idx.array)
    for n in (1, 2, 3):
        inp = tensor(x.array[(0,) * (3 - n)])
        out, idx = getattr(F, f"adaptive_max_pool{n}d_with_indices")(inp, 3)
        expected = adaptive_reference(inp.array, (3,) * n, np.max)
        np.testing.assert_array_equal(out.array, expected)
        assert idx.dtype.kind == "i"


@pytest.mark.parametrize("dims", [1, 3])
def test_max_unpool_puts_maxima_back(dims):
    rng = np.random.default_rng(4 + dims)
    x = rng.standard_normal((2, 3) + (4,) * dims)
    pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
    unpool = getattr(nn, f"MaxUnpool{dims}d")(2)
    values, indices = pool(tensor(x))
    restored = unpool(values, indices)
    expected = np.zeros((2, 3, 4 ** dims))
    np.put_along_axis(expected, indices.array.reshape(2, 3, -1), values.array.reshape(2, 3, -1), -1)
    np.testing.assert_array_equal(restored.array, expected.reshape(x.shape))
    # each kept value is a window maximum: the restored non-zeros are the input's there
    kept = restored.array != 0
    np.testing.assert_array_equal(restored.array[kept], x[kept])
    functional = getattr(F, f"max_unpool{dims}d")
    np.testing.assert_array_equal(functional(values, indices, 2).array, restored.array)
    vg = tensor(values.array, grad=True)
    assert gradcheck(lambda v: unpool(v, indices), (vg,))


def test_pool_layer_reprs_match_pytorch():
    assert repr(nn.MaxPool3d(2)) == "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool3d(3, 1)) == "AvgPool3d(kernel_size=3, stride=1, padding=0)"
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool1d(4)) == "AdaptiveAvgPool1d(output_size=4)"
    assert repr(nn.AdaptiveMaxPool3d((2, None, 3))) == "AdaptiveMaxPool3d(output_size=(2, None, 3))"
    assert repr(nn.MaxUnpool1d(2)) == "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.MaxUnpool3d(2)) == ("MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), "
                                       "padding=(0, 0, 0))")


def test_pool_layers_reject_bad_input():
    with pytest.raises(ValueError, match="MaxPool3d"):
        nn.MaxPool3d(2)(tensor(np.zeros((3, 4, 4))))
    with pytest.raises(ValueError, match="output_size"):
        nn.AdaptiveAvgPool3d((2, 2))
    with pytest.raises(ValueError, match="AdaptiveMaxPool1d"):
        nn.AdaptiveMaxPool1d(2)(tensor(np.zeros((1, 2, 3, 4))))


# ---------------------------------------------------------------- normalization
def test_batch_norm3d_train_eval_and_state():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 3, 4, 2)) * 2 + 1
    bn = nn.BatchNorm3d(2, momentum=0.2).double()
    out = bn(tensor(x)).array
    mean = x.mean(axis=(0, 2, 3, 4), keepdims=True)
    var = x.var(axis=(0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10, atol=1e-12)
    unbiased = x.var(axis=(0, 2, 3, 4), ddof=1)
    np.testing.assert_allclose(bn.running_mean.array, 0.2 * mean.ravel(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.array, 0.8 + 0.2 * unbiased, rtol=1e-12)
    assert int(bn.num_batches_tracked.array) == 1
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    bn.eval()
    expected = (x - bn.running_mean.array.reshape(1, 2, 1, 1, 1)) / np.sqrt(
        bn.running_var.array.reshape(1, 2, 1, 1, 1) + 1e-5)
    np.testing.assert_allclose(bn(tensor(x)).array, expected, rtol=1e-10)
    assert isinstance(bn, nn.modules.normalization._BatchNorm)
    with pytest.raises(ValueError, match="BatchNorm3d"):
        bn(tensor(np.zeros((2, 2, 3, 3))))
    xg = tensor(x[:2, :, :2, :2, :2], grad=True)
    assert gradcheck(nn.BatchNorm3d(2).double(), (xg,))


@pytest.mark.parametrize("dims", [1, 3])
def test_instance_norm_1d_3d(dims):
    rng = np.random.default_rng(6 + dims)
    x = rng.standard_normal((2, 3) + (4,) * dims) * 3 - 2
    axes = tuple(range(2, 2 + dims))
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    layer = getattr(nn, f"InstanceNorm{dims}d")(3)
    np.testing.assert_allclose(layer(tensor(x)).array, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(tensor(x[1])).array, expected[1], rtol=1e-10, atol=1e-12)
    assert list(layer.state_dict()) == []
    tracked = getattr(nn, f"InstanceNorm{dims}d")(3, affine=True, track_running_stats=True).double()
    tracked(tensor(x))
    np.testing.assert_allclose(tracked.running_mean.array, 0.1 * x.mean(axis=axes).mean(axis=0),
                               rtol=1e-12)
    assert list(tracked.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked"]
    xg = tensor(x[:1, :2, :3], grad=True)
    assert gradcheck(getattr(nn, f"InstanceNorm{dims}d")(2, affine=True).double(), (xg,))


def test_norm_reprs_and_bias_flag_match_pytorch():
    assert repr(nn.BatchNorm3d(4)) == ("BatchNorm3d(4, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    assert repr(nn.InstanceNorm1d(3)) == ("InstanceNorm1d(3, eps=1e-05, momentum=0.1, "
                                          "affine=False, bias=False, track_running_stats=False)")
    no_shift = nn.BatchNorm2d(3, bias=False)
    assert no_shift.bias is None and list(no_shift.state_dict())[0] == "weight"
    assert "bias" not in no_shift.state_dict()


# ---------------------------------------------------------------- dropout
def test_dropout1d_and_3d_drop_whole_channels():
    minigrad.manual_seed(0)
    x = np.random.default_rng(7).uniform(1, 2, (8, 16, 5))
    out = nn.Dropout1d(0.5)(tensor(x)).array
    zeros = (out == 0).all(axis=-1)
    np.testing.assert_allclose(out[~zeros], 2 * x[~zeros], rtol=1e-12)
    assert 0 < zeros.sum() < zeros.size
    x3 = np.random.default_rng(8).uniform(1, 2, (4, 8, 2, 3, 2))
    out3 = F.dropout3d(tensor(x3), 0.25)
    flat = out3.array.reshape(4, 8, -1)
    dropped = (flat == 0).all(axis=-1)
    np.testing.assert_allclose(flat[~dropped], x3.reshape(4, 8, -1)[~dropped] / 0.75, rtol=1e-12)
    unbatched = F.dropout3d(tensor(x3[0]), 0.5).array.reshape(8, -1)  # (C, D, H, W)
    assert set(np.unique((unbatched == 0).sum(axis=1))) <= {0, 12}
    layer = nn.Dropout3d(0.5).eval()
    np.testing.assert_array_equal(layer(tensor(x3)).array, x3)


def test_dropout1d_rejects_other_ranks_and_dropout3d_warns():
    with pytest.raises(RuntimeError, match="dropout1d"):
        F.dropout1d(tensor(np.ones((2, 3, 4, 5))))
    with pytest.warns(UserWarning, match="dropout3d"):
        F.dropout3d(tensor(np.ones((2, 3, 4))))


def test_dropout_gradients_follow_the_mask():
    x = tensor(np.random.default_rng(9).uniform(1, 2, (3, 4, 5)), grad=True)
    minigrad.manual_seed(1)
    out = F.dropout1d(x, 0.4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.array, out.array / x.array, rtol=1e-12)


def test_alpha_dropout_keeps_mean_and_variance():
    minigrad.manual_seed(2)
    p, alpha = 0.2, 1.7580993408473766
    x = np.random.default_rng(10).standard_normal((400, 500))
    out = nn.AlphaDropout(p)(tensor(x)).array
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    dropped_value = -alpha * a + alpha * a * p
    dropped = np.isclose(out, dropped_value) & ~np.isclose(x, (dropped_value - alpha * a * p) / a)
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] + alpha * a * p, rtol=1e-10)
    assert abs(dropped.mean() - p) < 0.01
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    assert np.array_equal(nn.AlphaDropout(p).eval()(tensor(x)).array, x)
    assert np.array_equal(F.alpha_dropout(tensor(x), p).array, x)  # training=False by default


def test_feature_alpha_dropout_per_channel_and_gradcheck():
    minigrad.manual_seed(3)
    x = np.random.default_rng(11).standard_normal((6, 10, 4, 4))
    out = F.feature_alpha_dropout(tensor(x), 0.5, training=True).array
    alpha, p = 1.7580993408473766, 0.5
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    per_channel = np.isclose(out, -alpha * a + alpha * a * p).all(axis=(2, 3))
    kept = ~per_channel
    np.testing.assert_allclose(out[kept], a * x[kept] + alpha * a * p, rtol=1e-10)
    assert 0 < per_channel.sum() < per_channel.size
    xg = tensor(x[:2, :3], grad=True)

    def seeded(t):
        minigrad.manual_seed(4)
        return F.feature_alpha_dropout(t, 0.3, training=True)
    assert gradcheck(seeded, (xg,))
    assert repr(nn.FeatureAlphaDropout(0.2)) == "FeatureAlphaDropout(p=0.2, inplace=False)"


# ---------------------------------------------------------------- activations
def test_softmax2d_over_channels():
    x = np.random.default_rng(12).standard_normal((2, 4, 3, 3))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax2d()(tensor(x)).array, e / e.sum(axis=1, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax2d()(tensor(x[0])).array,
                               (e / e.sum(axis=1, keepdims=True))[0], rtol=1e-12)
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(tensor(np.zeros((2, 3))))
    assert gradcheck(nn.Softmax2d(), (tensor(x[:1, :, :2, :2], grad=True),))


def test_rrelu_training_and_eval():
    x = np.random.default_rng(13).standard_normal((50, 40))
    lower, upper = 0.1, 0.4
    eval_out = F.rrelu(tensor(x), lower, upper).array  # training=False by default
    np.testing.assert_allclose(eval_out, np.where(x > 0, x, x * (lower + upper) / 2), rtol=1e-12)
    minigrad.manual_seed(5)
    layer = nn.RReLU(lower, upper)
    out = layer(tensor(x)).array
    slopes = out[x < 0] / x[x < 0]
    assert slopes.min() >= lower and slopes.max() <= upper and slopes.std() > 0.05
    np.testing.assert_array_equal(out[x > 0], x[x > 0])
    np.testing.assert_allclose(layer.eval()(tensor(x)).array, eval_out, rtol=1e-12)
    xg = tensor(x[:3, :4], grad=True)

    def seeded(t):
        minigrad.manual_seed(6)
        return F.rrelu(t, lower, upper, training=True)
    assert gradcheck(seeded, (xg,))
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.RReLU(inplace=True)) == "RReLU(lower=0.125, upper=0.3333333333333333, inplace=True)"
    with pytest.raises(ValueError, match="lower"):
        F.rrelu(tensor(x), 0.5, 0.1)


INPLACE = [
    (F.relu_, (), lambda x: np.maximum(x, 0)),
    (F.leaky_relu_, (0.2,), lambda x: np.where(x > 0, x, 0.2 * x)),
    (F.elu_, (0.5,), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (F.hardtanh_, (-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
    (F.selu_, (), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    (F.celu_, (2.0,), lambda x: np.maximum(x, 0) + np.minimum(0, 2.0 * np.expm1(x / 2.0))),
    (F.threshold_, (0.1, -3.0), lambda x: np.where(x > 0.1, x, -3.0)),
    (F.rrelu_, (0.1, 0.3), lambda x: np.where(x > 0, x, 0.2 * x)),
]


@pytest.mark.parametrize("fn,args,reference", INPLACE, ids=lambda v: getattr(v, "__name__", ""))
def test_inplace_activations_overwrite_and_track_versions(fn, args, reference):
    x = np.random.default_rng(14).standard_normal((4, 5))
    t = tensor(x)
    version = t._version
    result = fn(t, *args)
    assert result is t and t._version == version + 1
    np.testing.assert_allclose(t.array, reference(x), rtol=1e-12)
    # on a non-leaf in the graph: gradients flow through the rewritten node
    leaf = tensor(x + 0.05 * np.sign(x), grad=True)  # away from the kinks

    def through(v):
        return fn(v * 1.0, *args)
    assert gradcheck(through, (leaf,))
    with pytest.raises(RuntimeError, match="leaf"):
        fn(tensor(x, grad=True), *args)


def test_functional_inplace_flags():
    t = tensor([-1.0, 2.0])
    assert F.relu(t, inplace=True) is t and t.array.tolist() == [0.0, 2.0]
    t = tensor([-1.0, 2.0])
    assert F.leaky_relu(t, 0.5, inplace=True) is t and t.array.tolist() == [-0.5, 2.0]


# ---------------------------------------------------------------- shape layers
def test_pixel_unshuffle_layer():
    x = np.random.default_rng(15).standard_normal((2, 3, 4, 6))
    out = nn.PixelUnshuffle(2)(tensor(x)).array
    expected = x.reshape(2, 3, 2, 2, 3, 2).transpose(0, 1, 3, 5, 2, 4).reshape(2, 12, 2, 3)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(nn.PixelShuffle(2)(tensor(out)).array, x)
    assert repr(nn.PixelUnshuffle(2)) == "PixelUnshuffle(downscale_factor=2)"
    with pytest.raises(ValueError, match="downscale_factor"):
        nn.PixelUnshuffle(0)


def bilinear_align_corners(x, out_h, out_w):
    n, c, h, w = x.shape
    ys = np.arange(out_h) * ((h - 1) / (out_h - 1) if out_h > 1 else 0)
    xs = np.arange(out_w) * ((w - 1) / (out_w - 1) if out_w > 1 else 0)
    y0 = np.minimum(np.floor(ys).astype(int), h - 1)
    x0 = np.minimum(np.floor(xs).astype(int), w - 1)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = x[..., y0, :][..., x0] * (1 - wx) + x[..., y0, :][..., x1] * wx
    bottom = x[..., y1, :][..., x0] * (1 - wx) + x[..., y1, :][..., x1] * wx
    return top * (1 - wy) + bottom * wy


def test_upsampling_nearest_and_bilinear_2d():
    x = np.random.default_rng(16).standard_normal((1, 2, 3, 4))
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(scale_factor=2)(tensor(x)).array,
                                  x.repeat(2, axis=2).repeat(2, axis=3))
    out = nn.UpsamplingBilinear2d(size=(5, 7))(tensor(x)).array
    np.testing.assert_allclose(out, bilinear_align_corners(x, 5, 7), rtol=1e-12, atol=1e-14)
    layer = nn.UpsamplingBilinear2d(scale_factor=2)
    assert layer.align_corners is True and layer.mode == "bilinear"
    assert repr(layer) == "UpsamplingBilinear2d(scale_factor=2.0, mode='bilinear')"
    assert gradcheck(layer, (tensor(x, grad=True),))


def test_zero_pad_is_a_constant_pad():
    for dims in (1, 2, 3):
        layer = getattr(nn, f"ZeroPad{dims}d")(1)
        assert isinstance(layer, getattr(nn, f"ConstantPad{dims}d"))
        assert isinstance(layer, nn.modules.padding._ConstantPadNd)
        assert layer.value == 0
        assert repr(layer) == f"ZeroPad{dims}d({(1,) * 2 * dims})"
    assert repr(nn.ConstantPad2d(1, 0.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=0.5)"
    assert not isinstance(nn.ConstantPad2d(1, 0.5), nn.ConstantPad1d)
    x = np.arange(6.0).reshape(1, 2, 3)
    np.testing.assert_array_equal(nn.ZeroPad1d((2, 1))(tensor(x)).array,
                                  np.pad(x, ((0, 0), (0, 0), (2, 1))))


def test_no_warnings_from_supported_dropout_ranks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout3d(tensor(np.ones((2, 3, 2, 2, 2))), 0.5)
        F.dropout1d(tensor(np.ones((3, 4))), 0.5)


def test_rms_norm_layer_and_functional():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 3, 4, 5))
    weight = rng.standard_normal((4, 5))
    rms = np.sqrt((x ** 2).mean(axis=(-2, -1), keepdims=True) + 1e-6)
    np.testing.assert_allclose(F.rms_norm(tensor(x), (4, 5), tensor(weight), 1e-6).array,
                               x / rms * weight, rtol=1e-12)
    layer = nn.RMSNorm(5).double()
    eps = np.finfo(np.float64).eps  # eps=None: the dtype's machine epsilon
    np.testing.assert_allclose(layer(tensor(x)).array,
                               x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps), rtol=1e-12)
    assert repr(layer) == "RMSNorm((5,), eps=None, elementwise_affine=True)"
    assert list(layer.state_dict()) == ["weight"]
    assert list(nn.RMSNorm(5, elementwise_affine=False).state_dict()) == []
    assert gradcheck(lambda t, w: F.rms_norm(t, (5,), w, 1e-3),
                     (tensor(x[0, 0], grad=True), tensor(weight[0], grad=True)))
    with pytest.raises(RuntimeError, match="last dimensions"):
        F.rms_norm(tensor(x), (3,))


def test_channel_shuffle_interleaves_groups():
    x = np.random.default_rng(18).standard_normal((2, 6, 3))
    out = nn.ChannelShuffle(3)(tensor(x)).array
    # channel g*2 + j of the input (group g, member j) moves to j*3 + g
    for g, j in itertools.product(range(3), range(2)):
        np.testing.assert_array_equal(out[:, j * 3 + g], x[:, g * 2 + j])
    np.testing.assert_array_equal(F.channel_shuffle(tensor(x), 2).array,
                                  x.reshape(2, 2, 3, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3))
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    assert gradcheck(lambda t: F.channel_shuffle(t, 3), (tensor(x, grad=True),))
    with pytest.raises(RuntimeError, match="divisible"):
        F.channel_shuffle(tensor(x), 4)
    with pytest.raises(RuntimeError, match="positive"):
        F.channel_shuffle(tensor(x), 0)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_lp_pool_is_the_window_power_mean(dims):
    rng = np.random.default_rng(19 + dims)
    x = rng.uniform(0.1, 2.0, (2, 3) + (5, 6, 4)[:dims])
    kernel, stride = (2, 3, 2)[:dims], (1, 2, 2)[:dims]
    expected = windows_reference(x ** 2.5, kernel, stride, np.sum) ** (1 / 2.5)
    layer = getattr(nn, f"LPPool{dims}d")(2.5, kernel, stride)
    np.testing.assert_allclose(layer(tensor(x)).array, expected, rtol=1e-12)
    np.testing.assert_allclose(getattr(F, f"lp_pool{dims}d")(tensor(x), 1, kernel, stride).array,
                               windows_reference(x, kernel, stride, np.sum), rtol=1e-12)
    assert gradcheck(layer, (tensor(x[:1, :2], grad=True),))
    assert repr(layer) == (f"LPPool{dims}d(norm_type=2.5, kernel_size={kernel}, stride={stride}, "
                           f"ceil_mode=False)")
    with pytest.raises(ValueError, match="norm_type"):
        getattr(F, f"lp_pool{dims}d")(tensor(x), 0, kernel)


@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 6, 3, 4), (1, 5, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_local_response_norm_against_channel_loop(shape, size):
    x = np.random.default_rng(size).standard_normal(shape)
    alpha, beta, k = 0.5, 0.8, 2.0
    expected = np.empty_like(x)
    channels = shape[1]
    for c in range(channels):
        window = range(max(c - size // 2, 0), min(c + (size - 1) // 2, channels - 1) + 1)
        mean_square = sum(x[:, j] ** 2 for j in window) / size   # zero padding counts in the mean
        expected[:, c] = x[:, c] / (k + alpha * mean_square) ** beta
    layer = nn.LocalResponseNorm(size, alpha, beta, k)
    np.testing.assert_allclose(layer(tensor(x)).array, expected, rtol=1e-12)
    assert gradcheck(layer, (tensor(x, grad=True),))
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    with pytest.raises(ValueError, match="size"):
        F.local_response_norm(tensor(x), 0)
