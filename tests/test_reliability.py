"""NaN locality and memory of interpolate, batch norm's corner cases, clear errors."""
import math
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import gradcheck


def reference_linear(x, out_size, align_corners=False):
    """1-d linear resize of a vector, one output at a time (PyTorch's source coordinates)."""
    n = len(x)
    y = np.empty(out_size)
    for o in range(out_size):
        if align_corners:
            source = o * (n - 1) / (out_size - 1) if out_size > 1 else 0.0
        else:
            source = max((o + 0.5) * n / out_size - 0.5, 0.0)
        i0 = min(int(source), n - 1)
        i1 = min(i0 + 1, n - 1)
        t = source - i0
        y[o] = (1 - t) * x[i0] + t * x[i1]
    return y


# ---------------------------------------------------------------- interpolate
def test_a_nan_reaches_only_the_outputs_next_to_it():
    x = np.zeros((1, 1, 8))
    x[0, 0, 2] = np.nan
    y = F.interpolate(mg.tensor(x), scale_factor=2, mode="linear").numpy()[0, 0]
    # outputs 3..6 read input 2 (PyTorch gives the same); a dense matrix would make all 16 NaN
    assert np.isnan(y).tolist() == [False] * 3 + [True] * 4 + [False] * 9
    np.testing.assert_array_equal(y[~np.isnan(y)], 0)


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")
def test_an_axis_that_keeps_its_size_is_copied():
    x = np.zeros((1, 1, 3, 8))
    x[0, 0, 1, 1] = np.inf
    y = F.interpolate(mg.tensor(x), size=(6, 8), mode="bilinear").numpy()[0, 0]
    rows, columns = np.nonzero(~np.isfinite(y))
    # the width is copied: only column 1 is touched, in the rows that read input row 1
    assert columns.tolist() == [1] * 5 and rows.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("align_corners", [False, True])
def test_linear_matches_the_per_output_reference(align_corners):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(11)
    for out_size in (1, 5, 11, 23):
        y = F.interpolate(mg.tensor(x[None, None]), size=out_size, mode="linear",
                          align_corners=align_corners)
        np.testing.assert_allclose(y.numpy()[0, 0], reference_linear(x, out_size, align_corners),
                                   rtol=1e-12, atol=1e-12)


def test_upsampling_a_long_signal_needs_no_dense_matrix():
    # the (out, in) matrix of a 4096-sample signal would take 128 MiB (2 GiB at 16,384)
    x = mg.tensor(np.random.default_rng(1).standard_normal((1, 1, 4096)).astype(np.float32),
                  requires_grad=True)
    tracemalloc.start()
    try:
        y = F.interpolate(x, scale_factor=2, mode="linear")
        y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    np.testing.assert_allclose(x.grad.numpy().sum(), 8192, rtol=1e-5)  # every output weighs 1


def test_nearest_exact_follows_pytorch_source_positions():
    x = mg.tensor(np.arange(5.0)[None, None])
    # src = min(floor((o + 0.5) * 5/3), 4): [0, 2, 4]; 'nearest' floors o * 5/3: [0, 1, 3]
    assert F.interpolate(x, size=3, mode="nearest-exact").numpy().ravel().tolist() == [0, 2, 4]
    assert F.interpolate(x, size=3, mode="nearest").numpy().ravel().tolist() == [0, 1, 3]
    up = F.interpolate(x, scale_factor=2, mode="nearest-exact").numpy().ravel()
    assert up.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


@pytest.mark.parametrize("mode,shape", [("nearest-exact", (1, 2, 3, 4)), ("trilinear", (1, 1, 2, 3, 3)),
                                        ("bilinear", (2, 1, 3, 4)), ("area", (1, 2, 5, 7))])
def test_gradients_of_the_new_and_rewritten_modes(mode, shape):
    x = mg.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    size = tuple(s * 2 - 1 for s in shape[2:])
    assert gradcheck(lambda t: F.interpolate(t, size=size, mode=mode), (x,))


def test_area_is_adaptive_average_pooling():
    x = mg.tensor(np.random.default_rng(3).standard_normal((2, 3, 9, 7)))
    np.testing.assert_allclose(F.interpolate(x, size=(4, 3), mode="area").numpy(),
                               F.adaptive_avg_pool2d(x, (4, 3)).numpy(), rtol=1e-12)


def test_float16_is_computed_in_float32_and_returned_as_float16():
    x32 = np.random.default_rng(4).standard_normal((1, 2, 4, 5)).astype(np.float32)
    x16 = x32.astype(np.float16)
    t = mg.tensor(x16, requires_grad=True)
    y = F.interpolate(t, scale_factor=2, mode="bilinear")
    assert y.dtype == np.float16
    expected = F.interpolate(mg.tensor(x16.astype(np.float32)), scale_factor=2, mode="bilinear")
    np.testing.assert_array_equal(y.detach().numpy(), expected.numpy().astype(np.float16))
    y.sum().backward()
    assert t.grad.dtype == np.float16
    np.testing.assert_allclose(t.grad.numpy().astype(np.float32).sum(), 2 * 8 * 10, rtol=1e-3)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(size=2.5), TypeError, "size must be an int or a tuple of 2 ints, got 2.5"),
    (dict(size=(2, 2.5)), ValueError, "positive ints"),
    (dict(scale_factor=math.nan), ValueError, "finite positive number.*nan"),
    (dict(scale_factor=math.inf), ValueError, "finite positive number.*inf"),
    (dict(scale_factor=(2, math.inf)), ValueError, "finite positive number"),
    (dict(scale_factor="2"), TypeError, "scale_factor must be a number"),
    (dict(size=3, mode="bicubic"), ValueError, "'bicubic' is not available"),
    (dict(size=3, mode="nearest-exact", align_corners=True), ValueError, "align_corners"),
])
def test_interpolate_argument_errors_are_clear(kwargs, error, match):
    kwargs.setdefault("mode", "bilinear")
    with pytest.raises(error, match=match):
        F.interpolate(mg.tensor(np.ones((1, 1, 4, 4))), **kwargs)


# ---------------------------------------------------------------- batch norm
def test_batch_norm_eval_gradient_ignores_a_nan_elsewhere():
    # eval: grad_x = g * weight / sqrt(running_var + eps), independent of x
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 4)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    x_t = mg.tensor(x, requires_grad=True)
    weight = mg.tensor(np.array([3.0, 1.0, -2.0], np.float32), requires_grad=True)
    running_var = mg.tensor(np.array([4.0, 1.0, 0.25], np.float32))
    y = F.batch_norm(x_t, mg.tensor(np.zeros(3, np.float32)), running_var, weight, None, training=False)
    y.sum().backward()
    expected = (np.array([3.0, 1.0, -2.0]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + 1e-5))
    np.testing.assert_allclose(x_t.grad.numpy(), np.broadcast_to(expected[None, :, None, None], x.shape),
                               rtol=1e-6)
    assert np.isnan(weight.grad.numpy()[0]) and not np.isnan(weight.grad.numpy()[1:]).any()


def test_batch_norm_2d_eval_on_an_empty_batch_returns_an_empty_tensor():
    layer = nn.BatchNorm2d(3)
    layer.eval()
    x = mg.tensor(np.zeros((0, 3, 4, 4), np.float32), requires_grad=True)
    y = layer(x)
    assert y.shape == (0, 3, 4, 4) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_a_permuted_input(training):
    rng = np.random.default_rng(6)
    channels_last = rng.standard_normal((2, 4, 5, 3))
    weight_of_g = rng.standard_normal((2, 3, 4, 5))
    results = []
    for x in (mg.tensor(channels_last, requires_grad=True), ):
        for view in (x.permute(0, 3, 1, 2), mg.tensor(np.ascontiguousarray(channels_last.transpose(0, 3, 1, 2)),
                                                      requires_grad=True)):
            y = F.batch_norm(view, mg.tensor(np.zeros(3)), mg.tensor(np.ones(3)), training=training)
            (y * mg.tensor(weight_of_g)).sum().backward()
            results.append(y.detach().numpy())
        results.append(x.grad.numpy().transpose(0, 3, 1, 2))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)
    assert results[2].shape == (2, 3, 4, 5) and np.isfinite(results[2]).all()


# ---------------------------------------------------------------- zero-length kernels
@pytest.mark.parametrize("op,x_shape,w_shape", [
    (F.conv1d, (1, 3, 9), (4, 3, 0)),
    (F.conv2d, (1, 3, 9, 6), (4, 3, 0, 3)),
    (F.conv3d, (1, 3, 4, 4, 4), (4, 3, 2, 2, 0)),
    (F.conv_transpose2d, (1, 3, 5, 5), (3, 4, 3, 0)),
    (F.conv2d, (1, 3, 9, 6), (3, 1, 0, 3)),        # depthwise (groups=3) below
])
def test_a_zero_length_kernel_axis_is_rejected(op, x_shape, w_shape):
    groups = 3 if w_shape[1] == 1 else 1
    with pytest.raises(ValueError, match="kernel size should be greater than zero"):
        op(mg.tensor(np.ones(x_shape, np.float32)), mg.tensor(np.ones(w_shape, np.float32)), groups=groups)


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
def test_pooling_rejects_a_zero_kernel(op):
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        op(mg.tensor(np.ones((1, 1, 4, 4), np.float32)), (0, 2))


@pytest.mark.parametrize("op", [F.adaptive_avg_pool2d, F.adaptive_max_pool2d])
def test_adaptive_pooling_with_a_float_size_is_a_clear_error(op):
    with pytest.raises(TypeError, match="output_size must be an int or a tuple of 2 ints.*2.5"):
        op(mg.tensor(np.ones((1, 1, 4, 4), np.float32)), 2.5)
