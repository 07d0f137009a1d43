"""Convolution, pooling, normalization and resizing layers against the functional
ops they wrap and small NumPy references; argument and input-shape validation."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops import conv as conv_ops
from minigrad.ops import normalization as norm_ops
from minigrad.ops import pooling as pool_ops
from minigrad.ops import resize as resize_ops


def f32(rng, *shape):
    return minigrad.tensor(rng.standard_normal(shape).astype(np.float32))


def reference_conv2d(x, w, b, stride, padding, dilation=(1, 1), groups=1):
    """Direct sliding-window convolution (cross-correlation), for small inputs."""
    x = np.pad(x, [(0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])])
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    out_h = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, out_h, out_w))
    per_group = o // groups
    for oc in range(o):
        g = oc // per_group
        for i in range(out_h):
            for j in range(out_w):
                rows = i * stride[0] + dilation[0] * np.arange(kh)
                cols = j * stride[1] + dilation[1] * np.arange(kw)
                patch = x[:, g * cg:(g + 1) * cg][:, :, rows][:, :, :, cols]
                out[:, oc, i, j] = np.einsum("nckl,ckl->n", patch, w[oc])
    return out + (0 if b is None else b[None, :, None, None])


# ------------------------------------------------------------------ convolution
@pytest.mark.parametrize("kwargs", [
    dict(stride=1, padding=0), dict(stride=2, padding=1), dict(padding=(1, 2), dilation=2),
    dict(groups=2, bias=False),
])
def test_conv2d_matches_functional_and_reference(rng, kwargs):
    layer = nn.Conv2d(4, 6, 3, **kwargs)
    x = f32(rng, 2, 4, 9, 8)
    out = layer(x)
    functional = F.conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding,
                          layer.dilation, layer.groups)
    np.testing.assert_array_equal(out.array, functional.array)
    expected = reference_conv2d(x.array.astype(np.float64), layer.weight.array.astype(np.float64),
                                None if layer.bias is None else layer.bias.array, layer.stride,
                                layer.padding, layer.dilation, layer.groups)
    np.testing.assert_allclose(out.array, expected, rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert layer.weight.grad.shape == layer.weight.shape


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(rng, mode):
    layer = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode)
    x = f32(rng, 1, 2, 5, 6)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode=mode), layer.weight, layer.bias)
    np.testing.assert_allclose(layer(x).array, expected.array, rtol=1e-6)


def test_conv_same_valid_padding_and_unbatched(rng):
    x = f32(rng, 2, 3, 7, 6)
    for k in (3, 4):
        layer = nn.Conv2d(3, 5, k, padding="same", dilation=2)
        assert layer(x).shape == (2, 5, 7, 6)
    assert nn.Conv2d(3, 5, 3, padding="valid")(x).shape == (2, 5, 5, 4)
    layer = nn.Conv2d(3, 5, 3)
    np.testing.assert_allclose(layer(x[0]).array, layer(x[:1]).array[0], rtol=1e-6)
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(3, 5, 3, stride=2, padding="same")


def test_conv1d_conv3d_shapes_and_functional(rng):
    c1 = nn.Conv1d(3, 4, 5, stride=2, padding=2)
    x1 = f32(rng, 2, 3, 11)
    assert c1(x1).shape == (2, 4, 6)
    np.testing.assert_array_equal(c1(x1).array, F.conv1d(x1, c1.weight, c1.bias, 2, 2).array)
    c3 = nn.Conv3d(2, 3, (1, 3, 3), padding=(0, 1, 1))
    x3 = f32(rng, 1, 2, 4, 5, 5)
    assert c3.weight.shape == (3, 2, 1, 3, 3) and c3(x3).shape == (1, 3, 4, 5, 5)
    np.testing.assert_array_equal(c3(x3).array, F.conv3d(x3, c3.weight, c3.bias, 1, (0, 1, 1)).array)


def test_conv_transpose(rng):
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert layer.weight.shape == (4, 3, 3, 3)
    x = f32(rng, 2, 4, 5, 5)
    out = layer(x)
    assert out.shape == (2, 6, 10, 10)   # (5-1)*2 - 2 + 3 + 1
    expected = F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, 1, 2)
    np.testing.assert_array_equal(out.array, expected.array)
    plain = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    assert plain(x, output_size=(10, 10)).shape == (2, 6, 10, 10)
    assert plain(x).shape == (2, 6, 9, 9)
    with pytest.raises(ValueError, match="output size"):
        plain(x, output_size=(12, 12))
    assert nn.ConvTranspose1d(2, 3, 4, stride=2)(f32(rng, 1, 2, 5)).shape == (1, 3, 12)
    assert nn.ConvTranspose3d(2, 3, 2, stride=2)(f32(rng, 1, 2, 2, 3, 3)).shape == (1, 3, 4, 6, 6)


def test_conv_transpose_is_the_input_gradient_of_conv(rng):
    """ConvTranspose2d(x) with conv's weight = d(sum(conv(z) * x)) / dz."""
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False)
    z = minigrad.tensor(rng.standard_normal((1, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y = conv(z)
    g = f32(rng, *y.shape)
    (y * g).sum().backward()
    transposed = nn.ConvTranspose2d(5, 3, 3, stride=2, padding=1, output_padding=1, bias=False)
    transposed.weight.array[...] = conv.weight.array
    np.testing.assert_allclose(transposed(g).array, z.grad.array, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(in_channels=4, out_channels=6, kernel_size=3, groups=3), "in_channels"),
    (dict(in_channels=6, out_channels=4, kernel_size=3, groups=3), "out_channels"),
    (dict(in_channels=-1, out_channels=4, kernel_size=3), "in_channels"),
    (dict(in_channels=3, out_channels=4, kernel_size=-3), "kernel_size"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, stride=0), "stride"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1), "padding"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, groups=0), "groups"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding_mode="mirror"), "padding_mode"),
])
def test_conv_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        nn.Conv2d(**kwargs)


def test_conv_wrong_input_shape_says_expected_and_got():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"expected input with 3 channels.*\(2, 4, 8, 8\) with 4"):
        layer(minigrad.randn(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"expected 3-d or 4-d input, got 2-d"):
        layer(minigrad.randn(3, 8))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(3, 3, 3, stride=1, output_padding=1)


# ---------------------------------------------------------------------- pooling
def test_pooling_modules_match_functional(rng):
    x = f32(rng, 2, 3, 8, 9)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).array, F.max_pool2d(x, 2).array)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(x).array, F.max_pool2d(x, 3, 2, 1).array)
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).array, F.avg_pool2d(x, 2).array)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).array,
                                  F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).array)
    x1 = f32(rng, 2, 3, 10)
    np.testing.assert_array_equal(nn.MaxPool1d(2)(x1).array, F.max_pool1d(x1, 2).array)
    np.testing.assert_array_equal(nn.AvgPool1d(3, 2)(x1).array, F.avg_pool1d(x1, 3, 2).array)
    blocks = x.array[:, :, :8, :8].reshape(2, 3, 4, 2, 4, 2)
    np.testing.assert_allclose(nn.MaxPool2d(2)(x).array, blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).array, blocks.mean(axis=(3, 5)), rtol=1e-6)


def test_adaptive_pooling_and_unpool(rng):
    x = f32(rng, 2, 3, 7, 9)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).array, x.array.mean(axis=(2, 3), keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(nn.AdaptiveMaxPool2d((1, 1))(x).array, x.array.max(axis=(2, 3), keepdims=True))
    assert nn.AdaptiveAvgPool2d((3, 4))(x).shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((3, 4))(x).array,
                                  F.adaptive_avg_pool2d(x, (3, 4)).array)
    y = f32(rng, 1, 2, 4, 4)
    pooled, indices = nn.MaxPool2d(2, return_indices=True)(y)
    restored = nn.MaxUnpool2d(2)(pooled, indices)
    assert restored.shape == (1, 2, 4, 4)
    kept = restored.array != 0
    assert kept.sum() == 8
    np.testing.assert_array_equal(restored.array[kept], y.array[kept])
    np.testing.assert_allclose(restored.array.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5)), pooled.array)


def test_spatial_pyramid_pooling(rng):
    layer = nn.SpatialPyramidPooling((1, 2), mode="avg")
    for size in ((4, 4), (6, 8)):
        x = f32(rng, 2, 3, *size)
        out = layer(x)
        assert out.shape == (2, 3 * (1 + 4))
        np.testing.assert_allclose(out.array[:, :3], x.array.mean(axis=(2, 3)), rtol=1e-5)
        np.testing.assert_array_equal(out.array, F.spatial_pyramid_pool(x, (1, 2), "avg").array)
    with pytest.raises(ValueError, match="levels"):
        nn.SpatialPyramidPooling((0, 2))


def test_pooling_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="kernel_size"):
        nn.MaxPool2d(0)
    with pytest.raises(ValueError, match="padding"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="output_size"):
        nn.AdaptiveAvgPool2d(-1)
    with pytest.raises(ValueError, match="3-d or 4-d"):
        nn.MaxPool2d(2)(minigrad.randn(4, 4))


# ---------------------------------------------------------------- normalization
def test_batchnorm2d_training_uses_batch_statistics_and_updates_running(rng):
    bn = nn.BatchNorm2d(3, momentum=0.2)
    x = minigrad.tensor((rng.standard_normal((4, 3, 5, 5)) * 3 + 2).astype(np.float32))
    out = bn(x).array.astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)
    data = x.array.astype(np.float64)
    mean, var_unbiased = data.mean(axis=(0, 2, 3)), data.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.array, 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.array, 0.8 + 0.2 * var_unbiased, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1


def test_batchnorm_eval_uses_running_statistics(rng):
    bn = nn.BatchNorm2d(3)
    bn.running_mean.array[...] = [1.0, -1.0, 0.5]
    bn.running_var.array[...] = [4.0, 1.0, 0.25]
    bn.weight.array[...] = [1.0, 2.0, 3.0]
    bn.bias.array[...] = [0.0, 1.0, -1.0]
    bn.eval()
    x = f32(rng, 2, 3, 4, 4)
    shape = (1, 3, 1, 1)
    expected = ((x.array - bn.running_mean.array.reshape(shape)) / np.sqrt(bn.running_var.array.reshape(shape) + 1e-5)
                * bn.weight.array.reshape(shape) + bn.bias.array.reshape(shape))
    np.testing.assert_allclose(bn(x).array, expected, rtol=1e-5, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 0
    # train/eval switch changes the output of the same input
    bn.train()
    assert not np.allclose(bn(x).array, expected, atol=1e-3)


def test_batchnorm_momentum_none_is_a_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    means = []
    for _ in range(3):
        x = minigrad.tensor((rng.standard_normal((8, 2)) + rng.uniform(-3, 3)).astype(np.float32))
        means.append(x.array.astype(np.float64).mean(axis=0))
        bn(x)
    np.testing.assert_allclose(bn.running_mean.array, np.mean(means, axis=0), rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.item()) == 3


def test_batchnorm_without_running_stats_and_1d_inputs(rng):
    bn = nn.BatchNorm1d(4, track_running_stats=False, affine=False).eval()
    assert list(bn.state_dict()) == []
    x = f32(rng, 6, 4, 3)
    out = bn(x).array.astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-5)
    with pytest.raises(ValueError, match=r"expected input with 4 features.*\(6, 5\)"):
        nn.BatchNorm1d(4)(f32(rng, 6, 5))
    with pytest.raises(ValueError, match="2-d or 3-d"):
        nn.BatchNorm1d(4)(f32(rng, 6, 4, 3, 3))
    with pytest.raises(ValueError, match="4-d"):
        nn.BatchNorm2d(4)(f32(rng, 6, 4))
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=2)


def test_batchnorm_module_matches_functional(rng):
    bn = nn.BatchNorm2d(3)
    x = f32(rng, 2, 3, 4, 4)
    rm, rv = minigrad.zeros(3), minigrad.ones(3)
    expected = F.batch_norm(x, rm, rv, bn.weight, bn.bias, True, 0.1, 1e-5)
    np.testing.assert_array_equal(bn(x).array, expected.array)
    np.testing.assert_array_equal(bn.running_mean.array, rm.array)
    bn(x).sum().backward()
    assert bn.weight.grad is not None and bn.bias.grad is not None


def test_layer_group_instance_norm(rng):
    x = f32(rng, 2, 4, 3, 5)
    data = x.array.astype(np.float64)
    ln = nn.LayerNorm((3, 5))
    ln.weight.array[...] = 2.0
    expected = (data - data.mean(axis=(2, 3), keepdims=True)) / np.sqrt(data.var(axis=(2, 3), keepdims=True) + 1e-5) * 2
    np.testing.assert_allclose(ln(x).array, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ln(x).array, F.layer_norm(x, (3, 5), ln.weight, ln.bias).array)
    gn = nn.GroupNorm(2, 4)
    grouped = data.reshape(2, 2, -1)
    centred = grouped - grouped.mean(-1, keepdims=True)
    expected = (centred / np.sqrt(grouped.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(gn(x).array, expected, rtol=1e-4, atol=1e-5)
    inorm = nn.InstanceNorm2d(4)
    expected = (data - data.mean(axis=(2, 3), keepdims=True)) / np.sqrt(data.var(axis=(2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(inorm(x).array, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"last dimensions are \(3, 5\)"):
        ln(f32(rng, 2, 4, 5, 3))
    with pytest.raises(ValueError, match="4 channels"):
        gn(f32(rng, 2, 3, 3, 5))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(-2)


# --------------------------------------------------------------------- resizing
def test_upsample_and_pixel_shuffle(rng):
    x = f32(rng, 1, 8, 3, 4)
    up = nn.Upsample(scale_factor=2)(x)
    np.testing.assert_array_equal(up.array, x.array.repeat(2, axis=2).repeat(2, axis=3))
    np.testing.assert_array_equal(nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False)(x).array,
                                  F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False).array)
    shuffled = nn.PixelShuffle(2)(x)
    assert shuffled.shape == (1, 2, 6, 8)
    expected = x.array.reshape(1, 2, 2, 2, 3, 4).transpose(0, 1, 4, 2, 5, 3).reshape(1, 2, 6, 8)
    np.testing.assert_array_equal(shuffled.array, expected)
    with pytest.raises(ValueError, match="divisible"):
        nn.PixelShuffle(3)(x)
    with pytest.raises(ValueError, match="size and scale_factor"):
        nn.Upsample()


def test_functional_ops_are_reexported():
    assert F.conv2d is conv_ops.conv2d and F.max_pool2d is pool_ops.max_pool2d
    assert F.batch_norm is norm_ops.batch_norm and F.interpolate is resize_ops.interpolate
