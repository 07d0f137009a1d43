"""Output-size formulas and receptive fields against hand-computed values and brute force."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.utils import (
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
    receptive_field,
    receptive_field_step,
)

# ------------------------------------------------------------- output sizes

def _conv_size_by_sliding(i, k, s, p, d):
    """Count the window positions directly: starts -p, -p+s, ... while the last tap fits."""
    count, start = 0, -p
    while start + d * (k - 1) <= i - 1 + p:
        count += 1
        start += s
    return count


def test_conv_output_size_matches_sliding_windows():
    for i in range(1, 14):
        for k in range(1, 6):
            for s in range(1, 4):
                for p in range(0, 3):
                    for d in range(1, 4):
                        if d * (k - 1) + 1 > i + 2 * p:
                            with pytest.raises(ValueError, match="effective kernel"):
                                conv_output_size(i, k, s, p, d)
                            continue
                        expected = _conv_size_by_sliding(i, k, s, p, d)
                        assert conv_output_size(i, k, s, p, d) == expected
                        assert conv_output_size(i, k, s, p, d) == \
                            (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1


def test_conv_output_size_tuples_and_strings():
    assert conv_output_size((256, 256), 5, padding=2) == (256, 256)
    assert conv_output_size((10, 12), (3, 5), (1, 2), (1, 2), (2, 1)) == (8, 6)
    assert conv_output_size(32, 5) == 28
    assert conv_output_size((7, 9), 3, padding="same") == (7, 9)
    assert conv_output_size(9, 3, padding="valid") == 7
    with pytest.raises(ValueError, match="stride 1"):
        conv_output_size(9, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(9, 3, stride=0)
    with pytest.raises(ValueError, match="kernel_size"):
        conv_output_size(9, 3.5)
    assert conv_output_size(9, (3, 3, 3)) == (7, 7, 7)   # an int applies to every dimension
    with pytest.raises(ValueError, match="padding"):
        conv_output_size(9, 3, padding=-1)
    with pytest.raises(ValueError, match="different numbers"):
        conv_output_size((9, 9), (3, 3, 3))


def _transpose_size_by_scatter(i, k, s, p, op, d):
    """Scatter each input position's kernel taps and measure the span, minus the crop."""
    last = (i - 1) * s + d * (k - 1)                # the furthest tap, before cropping
    return last + 1 - 2 * p + op


def test_conv_transpose_output_size():
    assert conv_transpose_output_size(16, 4, stride=2, padding=1) == 32
    assert conv_transpose_output_size((5, 7), 3, 2, 1, (1, 0)) == (10, 13)
    for i in range(1, 9):
        for k in range(1, 5):
            for s in range(1, 4):
                for d in range(1, 3):
                    for op in range(max(s, d)):
                        expected = _transpose_size_by_scatter(i, k, s, 0, op, d)
                        assert conv_transpose_output_size(i, k, s, 0, op, d) == expected
                        # a transposed conv undoes the shape map of the conv
                        if op == 0:
                            assert conv_output_size(expected, k, s, 0, d) == i
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_size(5, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="< 1"):
        conv_transpose_output_size(1, 2, stride=1, padding=1)


def test_pool_output_size_ceil_mode():
    assert pool_output_size(5, 2) == 2
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    assert pool_output_size(6, 3, 2, 1, ceil_mode=True) == 4
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 = i + p, inside the
    # right padding, so it is dropped (as PyTorch does)
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, 1) == 3
    assert pool_output_size((8, 9), 2) == (4, 4)


# -------------------------------------------------------- receptive fields

def rf(model, size, **kwargs):
    return receptive_field(model, size, verbose=False, **kwargs)


def test_step_formula():
    assert receptive_field_step(1, 1, 0, kernel_size=3, dilation=2) == (5, 1, 2.0)


def test_dilated_3x3_sees_5():
    table = rf(nn.Conv2d(1, 1, 3, dilation=2), (1, 9, 9))
    assert table[-1]["receptive_field"] == (5, 5)
    assert table[-1]["jump"] == (1, 1)
    assert table[-1]["start"] == (2, 2)             # no padding: the first window is centred on pixel 2
    assert table[-1]["output_size"] == (5, 5)


def test_dilations_1_2_4_stacked_see_15():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, dilation=1),
                          nn.Conv2d(1, 1, 3, padding=2, dilation=2),
                          nn.Conv2d(1, 1, 3, padding=4, dilation=4))
    table = rf(model, (1, 20, 20))
    assert [r["receptive_field"] for r in table] == [(1, 1), (3, 3), (7, 7), (15, 15)]
    assert all(r["start"] == (0, 0) and r["jump"] == (1, 1) for r in table)


def test_conv_maxpool_conv_sees_8():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3))
    table = rf(model, (1, 16, 16))
    assert [r["name"] for r in table] == ["input", "0", "1", "2", "3"]
    assert [r["receptive_field"][0] for r in table] == [1, 3, 3, 4, 8]
    assert [r["jump"][0] for r in table] == [1, 1, 1, 2, 2]
    # centres: conv3 (no pad) at 1; pool2 adds 0.5; conv3 adds 1 jump of 2
    assert [r["start"][0] for r in table] == [0, 1, 1, 1.5, 3.5]
    assert [r["output_size"] for r in table] == [(16, 16), (14, 14), (14, 14), (7, 7), (5, 5)]


def _support_of_centre_gradient(model, size):
    """Brute force: the input pixels the centre output depends on (positive weights)."""
    with minigrad.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    x = minigrad.ones((1,) + size, dtype=minigrad.float64, requires_grad=True)
    y = model.double()(x)
    centre = tuple(n // 2 for n in y.shape[2:])
    y[(0, 0) + centre].backward()
    rows = np.nonzero(np.abs(x.grad.numpy()[0, 0]).sum(axis=1))[0]
    cols = np.nonzero(np.abs(x.grad.numpy()[0, 0]).sum(axis=0))[0]
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1, centre


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2)),
    lambda: nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, dilation=4)),
    lambda: nn.Sequential(nn.Conv2d(1, 1, 3), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3)),
    lambda: nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=2), nn.AvgPool2d(3, stride=2), nn.Conv2d(1, 1, 3)),
])
def test_receptive_field_equals_the_gradient_support(make):
    """Without padding in the way, the centre output's gradient covers exactly r x r pixels."""
    model = make()
    size = (1, 41, 41)
    table = rf(model, size)
    rows, cols, centre = _support_of_centre_gradient(model, size)
    assert table[-1]["receptive_field"] == (rows, cols)
    # and the window of that output starts at start + centre * jump - (r-1)/2
    start, jump, field = table[-1]["start"], table[-1]["jump"], table[-1]["receptive_field"]
    assert all(s + c * j - (r - 1) / 2 >= 0 for s, c, j, r in zip(start, centre, jump, field))


def test_transposed_convolution_halves_the_jump():
    model = nn.Sequential(nn.Conv2d(1, 1, 4, stride=2, padding=1),
                          nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1))
    table = rf(model, (1, 8, 8))
    assert table[1]["jump"] == (2, 2) and table[1]["receptive_field"] == (4, 4)
    assert table[2]["jump"] == (1, 1)
    assert table[2]["receptive_field"] == (4 + (2 - 1) * 2,) * 2   # ceil(4/2) = 2 inputs per output
    assert table[2]["output_size"] == (8, 8)


def test_flatten_and_linear_see_everything_and_adaptive_pool():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(),
                          nn.Linear(8, 3))
    table = rf(model, (1, 6, 8))
    assert table[2]["receptive_field"] == (3 + 2, 3 + 3) and table[2]["jump"] == (3, 4)
    assert table[2]["exact"]
    assert table[3]["receptive_field"] == (5 + 3, 6 + 4) and table[3]["output_size"] == ()
    assert table[4]["receptive_field"] == table[3]["receptive_field"]
    uneven = rf(nn.Sequential(nn.AdaptiveAvgPool2d(3)), (1, 7, 7))
    assert not uneven[-1]["exact"] and uneven[-1]["receptive_field"] == (3, 3)


class _HiddenPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3)
        self.b = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.b(nn.functional.max_pool2d(self.a(x), 2))


def test_size_change_outside_layers_is_refused():
    with pytest.raises(ValueError, match="functional op"):
        rf(_HiddenPool(), (1, 12, 12))
    with pytest.raises(ValueError, match=r"\(channels, \*spatial\)"):
        rf(nn.Linear(3, 3), (3,))


def test_prints_table(capsys):
    receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2)), (1, 8, 8))
    out = capsys.readouterr().out
    assert "receptive field" in out and "MaxPool2d" in out
