"""nn.init: PyTorch's fans, gains and bounds; default layer initialisation."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import init


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(1.3867504905630728)  # PyTorch's value
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(minigrad.empty(32, 4, 3, 3)) == (36, 288)
    assert init._calculate_fan_in_and_fan_out(minigrad.empty(10, 20)) == (20, 10)
    with pytest.raises(ValueError, match="fewer than 2"):
        init._calculate_fan_in_and_fan_out(minigrad.empty(5))


def _bound_is_tight(array, bound):
    return np.abs(array).max() <= bound and np.abs(array).max() > 0.97 * bound


def test_default_linear_and_conv_init_bounds():
    layer = nn.Linear(256, 128)
    assert _bound_is_tight(layer.weight.array, 1 / 16) and _bound_is_tight(layer.bias.array, 1 / 16)
    assert layer.weight.dtype == np.float32
    conv = nn.Conv2d(16, 32, 3, groups=4)           # fan_in = 16/4 * 3 * 3 = 36
    assert _bound_is_tight(conv.weight.array, 1 / 6)
    assert np.abs(conv.bias.array).max() <= 1 / 6
    transposed = nn.ConvTranspose2d(16, 32, 3, groups=4)  # weight (16, 8, 3, 3): fan_in = 72
    assert transposed.weight.shape == (16, 8, 3, 3)
    assert _bound_is_tight(transposed.weight.array, 1 / math.sqrt(72))
    assert np.abs(transposed.bias.array).max() <= 1 / math.sqrt(72)
    # U(-b, b) has standard deviation b / sqrt(3)
    assert layer.weight.array.std() == pytest.approx(1 / 16 / math.sqrt(3), rel=0.03)


def test_kaiming_and_xavier_statistics():
    w = minigrad.empty(300, 200)
    init.kaiming_normal_(w, nonlinearity="relu", mode="fan_out")
    assert w.array.std() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    assert abs(w.array.mean()) < 0.002
    init.kaiming_uniform_(w, nonlinearity="relu")
    assert _bound_is_tight(w.array, math.sqrt(2) * math.sqrt(3 / 200))
    init.xavier_uniform_(w, gain=init.calculate_gain("tanh"))
    assert _bound_is_tight(w.array, 5 / 3 * math.sqrt(6 / 500))
    init.xavier_normal_(w)
    assert w.array.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_simple_fills_and_reproducibility():
    w = minigrad.empty(4, 5)
    assert init.constant_(w, 0.5) is w and np.all(w.array == 0.5)
    init.zeros_(w)
    assert np.all(w.array == 0)
    init.ones_(w)
    assert np.all(w.array == 1)
    init.eye_(w)
    np.testing.assert_array_equal(w.array, np.eye(4, 5))
    init.uniform_(w, -2, -1)
    assert w.array.min() >= -2 and w.array.max() <= -1
    init.normal_(w, 3.0, 0.0)
    assert np.all(w.array == 3)
    init.trunc_normal_(w, std=5, a=-1, b=1)
    assert np.abs(w.array).max() <= 1
    minigrad.manual_seed(7)
    first = nn.Linear(5, 5).weight.array.copy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(5, 5).weight.array, first)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    w = minigrad.empty(*shape)
    init.orthogonal_(w, gain=2.0)
    flat = w.array.reshape(shape[0], -1).astype(np.float64)
    if flat.shape[0] <= flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, 4 * np.eye(flat.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat.T @ flat, 4 * np.eye(flat.shape[1]), atol=1e-5)
