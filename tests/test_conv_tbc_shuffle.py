"""F.conv_tbc against a NumPy loop of its formula, F.native_channel_shuffle, nn.Container."""
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn


def conv_tbc_reference(x, w, b, pad):
    """out[t, b, o] = bias[o] + sum_{k, c} x_pad[t + k, b, c] w[k, c, o] (plain loops over t, k)."""
    time, batch, _ = x.shape
    if pad >= 0:
        x = np.concatenate([np.zeros((pad,) + x.shape[1:]), x, np.zeros((pad,) + x.shape[1:])])
    else:
        x = x[-pad:time + pad]
    kernel = w.shape[0]
    out_time = x.shape[0] - kernel + 1
    out = np.tile(b, (out_time, batch, 1)).astype(np.float64)
    for t in range(out_time):
        for k in range(kernel):
            out[t] += x[t + k] @ w[k]          # (B, C_in) @ (C_in, C_out)
    return out


@pytest.mark.parametrize("time,batch,cin,cout,kernel,pad", [
    (7, 2, 3, 4, 2, 0), (5, 3, 2, 5, 3, 1), (9, 1, 4, 2, 3, -2), (4, 2, 3, 3, 6, 2), (6, 2, 1, 1, 1, 0),
])
def test_conv_tbc_matches_the_formula(time, batch, cin, cout, kernel, pad):
    rng = np.random.default_rng(time * 10 + kernel)
    x, w, b = rng.standard_normal((time, batch, cin)), rng.standard_normal((kernel, cin, cout)), \
        rng.standard_normal(cout)
    out = F.conv_tbc(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(b), pad)
    assert tuple(out.shape) == (time + 2 * pad - kernel + 1, batch, cout)
    np.testing.assert_allclose(out.array, conv_tbc_reference(x, w, b, pad), rtol=1e-12, atol=1e-12)


def test_conv_tbc_float32_and_keyword_pad():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(6, 2, 3), (3, 3, 2), (2,)])
    out = F.conv_tbc(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(b), pad=1)
    assert out.dtype == minigrad.float32
    np.testing.assert_allclose(out.array, conv_tbc_reference(x, w, b, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pad", [0, 2, -1])
def test_conv_tbc_gradients(pad):
    rng = np.random.default_rng(1)
    x = minigrad.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((3, 3, 2)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv_tbc(x, w, b, pad), (x, w, b))


@pytest.mark.parametrize("shapes,error,match", [
    (((5, 3), (2, 3, 4), (4,)), RuntimeError, "Input must have 3 dims"),
    (((5, 2, 3), (3, 4), (4,)), RuntimeError, "Weight tensor must have 3 dims"),
    (((5, 2, 3), (2, 3, 4), (1, 4)), RuntimeError, "Bias must be 1-D"),
    (((5, 2, 3), (2, 4, 4), (4,)), RuntimeError, "Input dim 2 \\(input channels\\) is not == dim 1"),
    (((5, 2, 3), (2, 3, 4), (3,)), RuntimeError, "Bias size must equal dim 2"),
    (((5, 2, 3), (9, 3, 4), (4,)), RuntimeError, "negative dimension -3"),
    (((5, 2, 3), (0, 3, 4), (4,)), RuntimeError, "kernel width"),
])
def test_conv_tbc_bad_shapes_raise(shapes, error, match):
    x, w, b = (minigrad.zeros(*s) for s in shapes)
    with pytest.raises(error, match=match):
        F.conv_tbc(x, w, b)


def test_conv_tbc_bad_pad_and_dtype_raise():
    x, w, b = minigrad.zeros(5, 2, 3), minigrad.zeros(2, 3, 4), minigrad.zeros(4)
    with pytest.raises(TypeError, match="'pad' \\(position 4\\) must be int, not float"):
        F.conv_tbc(x, w, b, 1.5)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv_tbc(x, w.double(), b)
    with pytest.raises(TypeError, match="missing"):
        F.conv_tbc(x, w)  # bias is required, as in PyTorch


def test_native_channel_shuffle_is_channel_shuffle():
    x = minigrad.tensor(np.arange(24.0).reshape(1, 6, 2, 2))
    out = F.native_channel_shuffle(x, 2)
    # channel g * 3 + j moves to j * 2 + g: order 0, 3, 1, 4, 2, 5
    np.testing.assert_array_equal(out.array, np.arange(24.0).reshape(1, 6, 2, 2)[:, [0, 3, 1, 4, 2, 5]])
    np.testing.assert_array_equal(out.array, nn.ChannelShuffle(2)(x).array)
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.native_channel_shuffle(x, 4)
    with pytest.raises(RuntimeError, match="must be positive"):
        F.native_channel_shuffle(x, 0)


def test_container_warns_and_registers_the_modules():
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        container = nn.Container(first=nn.Linear(2, 3), act=nn.ReLU())
    assert [name for name, _ in container.named_children()] == ["first", "act"]
    assert [name for name, _ in container.named_parameters()] == ["first.weight", "first.bias"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match="not a Module"):
            nn.Container(bad=3)


def test_top_level_names():
    assert minigrad.conv_tbc is F.conv_tbc
    x = minigrad.tensor(np.arange(8.0).reshape(1, 4, 2))
    np.testing.assert_array_equal(minigrad.native_channel_shuffle(x, 2).array,
                                  np.arange(8.0).reshape(1, 4, 2)[:, [0, 2, 1, 3]])
