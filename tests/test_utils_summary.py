"""summary(): parameters and multiply-adds against closed forms, per layer type."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.utils import summary


def rows_by_type(table):
    out = {}
    for row in table:
        out.setdefault(row["type"], []).append(row)
    return out


# --------------------------------------------------- the course-slide figures

def test_5x5_conv_100_to_64_on_256x256():
    conv = nn.Conv2d(100, 64, 5, padding=2)
    table = summary(conv, (100, 256, 256), verbose=False)
    assert len(table) == 1
    row = table[0]
    assert row["output_shape"] == (1, 64, 256, 256)
    assert row["multiply_adds"] == 256 * 256 * 64 * 5 * 5 * 100 == 10_485_760_000
    assert row["params"] == row["trainable_params"] == 64 * 100 * 25 + 64
    assert row["output_bytes"] == 64 * 256 * 256 * 4


def test_1x1_bottleneck_before_the_5x5():
    model = nn.Sequential(nn.Conv2d(100, 32, 1), nn.Conv2d(32, 64, 5, padding=2))
    table = summary(model, (100, 256, 256), verbose=False)
    assert [r["multiply_adds"] for r in table] == [256 * 256 * 32 * 100, 256 * 256 * 64 * 5 * 5 * 32]
    assert table.totals["multiply_adds"] == 256 * 256 * 32 * 100 + 256 * 256 * 64 * 5 * 5 * 32
    assert table.totals["multiply_adds"] == 3_565_158_400
    assert [r["output_shape"] for r in table] == [(1, 32, 256, 256), (1, 64, 256, 256)]


def test_depthwise_separable_has_656_weights_against_4608():
    separable = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False),
                              nn.Conv2d(16, 32, 1, bias=False))
    full = nn.Conv2d(16, 32, 3, padding=1, bias=False)
    a = summary(separable, (16, 12, 12), verbose=False)
    b = summary(full, (16, 12, 12), verbose=False)
    assert [r["params"] for r in a] == [16 * 9, 16 * 32]
    assert a.totals["total_params"] == 656
    assert b.totals["total_params"] == 4608
    assert a.totals["multiply_adds"] == 12 * 12 * (16 * 9 + 16 * 32)
    assert b.totals["multiply_adds"] == 12 * 12 * 32 * 16 * 9


# -------------------------------------------------------- every layer type

def _adaptive_windows(size, bins):
    """Sum of PyTorch's adaptive bin lengths [floor(i*n/o), ceil((i+1)*n/o))."""
    return sum(math.ceil((i + 1) * size / bins) - math.floor(i * size / bins) for i in range(bins))


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("layer, input_size, output_shape, params, multiply_adds", [
    # Conv1d: out = floor((17 + 2 - 2 - 1) / 2) + 1 = 9
    (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), (4, 17), (6, 9),
     6 * 2 * 3 + 6, 6 * 9 * 2 * 3),
    # Conv2d: H = (10 + 2 - 2*2 - 1) + 1 = 8, W = floor((12 + 4 - 4 - 1) / 2) + 1 = 6
    (lambda: nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1)), (3, 10, 12),
     (8, 8, 6), 8 * 3 * 15 + 8, 8 * 8 * 6 * 3 * 15),
    (lambda: nn.Conv3d(2, 4, 3, padding=1, bias=False), (2, 5, 6, 7), (4, 5, 6, 7),
     4 * 2 * 27, 4 * 5 * 6 * 7 * 2 * 27),
    # ConvTranspose: every input value times a (Cout/groups) x k slice of the weight
    (lambda: nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2), (6, 5, 5), (4, 10, 10),
     6 * 2 * 16 + 4, 6 * 5 * 5 * 2 * 16),
    (lambda: nn.ConvTranspose1d(3, 5, 3, stride=2), (3, 7), (5, 15), 3 * 5 * 3 + 5, 3 * 7 * 5 * 3),
    (lambda: nn.Linear(20, 7), (20,), (7,), 20 * 7 + 7, 7 * 20),
    (lambda: nn.Linear(20, 7, bias=False), (3, 20), (3, 7), 20 * 7, 3 * 7 * 20),
    (lambda: nn.BatchNorm2d(8), (8, 6, 6), (8, 6, 6), 16, 8 * 36),
    (lambda: nn.BatchNorm1d(20), (20,), (20,), 40, 20),
    (lambda: nn.LayerNorm(6), (4, 6), (4, 6), 12, 24),
    (lambda: nn.GroupNorm(2, 4), (4, 3, 3), (4, 3, 3), 8, 36),
    (lambda: nn.MaxPool2d(2), (3, 8, 9), (3, 4, 4), 0, 0),
    (lambda: nn.MaxPool1d(3, stride=2, padding=1), (2, 9), (2, 5), 0, 0),
    # AvgPool: the sum of each window (3x3 = 9 elements) per output, padding included
    (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 9, 9), (2, 5, 5), 0, 2 * 25 * 9),
    (lambda: nn.AvgPool1d(2), (3, 8), (3, 4), 0, 3 * 4 * 2),
    (lambda: nn.AdaptiveAvgPool2d((1, 1)), (2, 5, 7), (2, 1, 1), 0, 2 * 35),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7), (2, 2, 3), 0,
     2 * _adaptive_windows(5, 2) * _adaptive_windows(7, 3)),
    (lambda: nn.AdaptiveMaxPool2d(2), (2, 5, 7), (2, 2, 2), 0, 0),
    # bilinear: each output is a weighted sum of its 4 nearest inputs
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4), (2, 6, 8), 0, 2 * 6 * 8 * 4),
    (lambda: nn.Upsample(scale_factor=2, mode="linear"), (2, 3), (2, 6), 0, 2 * 6 * 2),
    (lambda: nn.Upsample(size=(5, 5), mode="nearest"), (2, 3, 4), (2, 5, 5), 0, 0),
    (lambda: nn.ReLU(), (3, 4), (3, 4), 0, 0),
    (lambda: nn.Dropout(0.5), (3, 4), (3, 4), 0, 0),
    (lambda: nn.Flatten(), (3, 4, 5), (60,), 0, 0),
])
def test_layer_closed_forms(batch, layer, input_size, output_shape, params, multiply_adds):
    table = summary(layer(), input_size, batch_size=batch, verbose=False)
    assert len(table) == 1
    row = table[0]
    assert row["output_shape"] == (batch,) + output_shape
    assert row["params"] == row["trainable_params"] == params
    assert row["multiply_adds"] == batch * multiply_adds
    assert row["output_bytes"] == batch * math.prod(output_shape) * 4
    assert table.totals["multiply_adds"] == batch * multiply_adds
    assert table.totals["input_bytes"] == batch * math.prod(input_size) * 4


def test_lenet_rows_totals_and_names():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    table = summary(model, (1, 28, 28), verbose=False)
    assert [r["name"] for r in table] == [str(i) for i in range(12)]
    assert [r["output_shape"] for r in table] == [
        (1, 6, 24, 24), (1, 6, 24, 24), (1, 6, 12, 12), (1, 16, 8, 8), (1, 16, 8, 8), (1, 16, 4, 4),
        (1, 256), (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]
    expected_params = 6 * 25 + 6 + 16 * 6 * 25 + 16 + 256 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert table.totals["total_params"] == sum(r["params"] for r in table) == expected_params == 44426
    assert table.totals["multiply_adds"] == (24 * 24 * 6 * 25 + 8 * 8 * 16 * 6 * 25
                                             + 256 * 120 + 120 * 84 + 84 * 10)
    assert table.totals["params_bytes"] == expected_params * 4
    assert table.totals["output_bytes"] == 4 * sum(math.prod(r["output_shape"]) for r in table)
    assert table.totals["total_bytes"] == (table.totals["input_bytes"] + table.totals["output_bytes"]
                                           + table.totals["params_bytes"])


def test_frozen_parameters_and_float64():
    model = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3))
    model[0].requires_grad_(False)
    table = summary(model.double(), (5,), dtype=minigrad.float64, verbose=False)
    assert [(r["trainable_params"], r["params"]) for r in table] == [(0, 24), (15, 15)]
    assert table.totals["trainable_params"] == 15
    assert table.totals["non_trainable_params"] == 24
    assert table[0]["output_bytes"] == 4 * 8
    assert table.totals["params_bytes"] == 39 * 8


class _Twice(nn.Module):
    """One Linear used twice (shared weights) and a parameter owned by the container."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 4)
        self.scale = nn.Parameter(minigrad.ones(4))

    def forward(self, x):
        return self.layer(self.layer(x)) * self.scale


def test_shared_layer_gets_two_rows_but_its_parameters_count_once():
    table = summary(_Twice(), (4,), verbose=False)
    assert [r["name"] for r in table] == ["_Twice", "layer", "layer"]
    assert [r["params"] for r in table] == [4, 20, 0]
    assert [r["multiply_adds"] for r in table] == [0, 16, 16]
    assert table.totals["total_params"] == 24


def test_model_state_is_restored_and_prints_a_table(capsys):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    model.train()
    before = [tuple(b.array.copy() for b in model.buffers())]
    table = summary(model, (1, 6, 6))
    printed = capsys.readouterr().out
    assert all(m.training for m in model.modules())
    assert all(len(m._forward_hooks) == 0 and len(m._forward_pre_hooks) == 0 for m in model.modules())
    # eval mode: the running statistics were not updated by the zero input
    after = [tuple(b.array for b in model.buffers())]
    for x, y in zip(before[0], after[0]):
        np.testing.assert_array_equal(x, y)
    assert str(table) in printed
    for text in ("Conv2d", "BatchNorm2d", "(1, 2, 4, 4)", "total params", "multiply adds"):
        assert text in printed


def test_bad_arguments():
    with pytest.raises(TypeError, match="input_size"):
        summary(nn.Linear(2, 2), "2", verbose=False)
    with pytest.raises(ValueError, match="input_size"):
        summary(nn.Linear(2, 2), (0,), verbose=False)
    with pytest.raises(ValueError, match="batch_size"):
        summary(nn.Linear(2, 2), (2,), batch_size=0, verbose=False)
    with pytest.raises(TypeError, match="Module"):
        summary(lambda x: x, (2,), verbose=False)
