"""ops/_args.py: the argument parsing shared by the ops, the layers and minigrad.utils."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops import _args


def _windows_by_sliding(size, kernel, stride, before, after, dilation):
    """How many window starts -before, -before + stride, ... keep the last tap inside the padding."""
    reach = dilation * (kernel - 1) + 1
    return len(np.arange(-before, size + after - reach + 1, stride))


def test_ntuple_repeats_ints_and_checks_tuples():
    assert _args.ntuple(3, 2, "kernel_size", "op") == (3, 3)
    assert _args.ntuple(np.int64(2), 3, "stride", "op") == (2, 2, 2)
    assert _args.ntuple([1, 2], 2, "padding", "op", minimum=0) == (1, 2)
    assert _args.ntuple((4,), 2, "kernel_size", "op", allow_single=True) == (4, 4)
    with pytest.raises(ValueError, match=r"op: stride must be an int or a tuple of 2 ints, got \(1, 2, 3\)"):
        _args.ntuple((1, 2, 3), 2, "stride", "op")
    with pytest.raises(ValueError, match="op: kernel_size must be >= 1, got 0"):
        _args.ntuple(0, 2, "kernel_size", "op", minimum=1)
    with pytest.raises(ValueError, match="tuple of 2 ints, got True"):
        _args.ntuple(True, 2, "stride", "op")
    with pytest.raises(ValueError, match=r"tuple of 2 ints, got \(1, 2.5\)"):
        _args.ntuple((1, 2.5), 2, "stride", "op")
    with pytest.raises(TypeError, match=r"stride must contain ints, got \(1, 2.5\)"):
        _args.ntuple((1, 2.5), 2, "stride", "op", entry_error=TypeError)


def test_conv_out_size_counts_the_windows():
    for size in range(1, 10):
        for kernel in range(1, 4):
            for stride in range(1, 4):
                for before, after in ((0, 0), (1, 1), (0, 1), (2, 1)):
                    for dilation in (1, 2):
                        if size + before + after < _args.effective_kernel(kernel, dilation):
                            continue
                        assert _args.conv_out_size(size, kernel, stride, before, after, dilation) == \
                            _windows_by_sliding(size, kernel, stride, before, after, dilation)


def test_pool_out_size_ceil_mode_drops_a_window_in_the_right_padding():
    assert _args.pool_out_size(5, 2, 2, 0, 1, ceil_mode=False) == 2
    assert _args.pool_out_size(5, 2, 2, 0, 1, ceil_mode=True) == 3
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 = in + padding
    assert _args.pool_out_size(5, 2, 2, 1, 1, ceil_mode=True) == 3
    # the pooling op agrees with the formula
    x = minigrad.randn(1, 1, 5, 7)
    assert F.max_pool2d(x, 2, 2, 1, ceil_mode=True).shape[-2:] == (
        _args.pool_out_size(5, 2, 2, 1, 1, True), _args.pool_out_size(7, 2, 2, 1, 1, True))


def test_conv_transpose_out_size_inverts_the_conv_size():
    for size in range(1, 8):
        for kernel in range(1, 4):
            for stride in range(1, 4):
                out = _args.conv_transpose_out_size(size, kernel, stride, 0, 1, 0)
                assert _args.conv_out_size(out, kernel, stride, 0, 0, 1) == size


def test_adaptive_windows_cover_the_input():
    for size in range(1, 12):
        for out in range(1, size + 1):
            windows = [_args.adaptive_window(i, size, out) for i in range(out)]
            assert windows[0][0] == 0 and windows[-1][1] == size
            assert all(start < end for start, end in windows)
            assert _args.adaptive_window_lengths(size, out) == [end - start for start, end in windows]
    assert _args.adaptive_window_lengths(5, 3) == [2, 3, 2]   # [0, 2), [1, 4), [3, 5)


def test_conv_padding_strings_and_numbers():
    assert _args.conv_padding("op", "valid", (3, 3), (1, 1), (1, 1)) == ((0, 0), (0, 0))
    # 'same' with an even kernel pads the odd one after, as PyTorch does
    assert _args.conv_padding("op", "same", (4, 3), (1, 1), (1, 2)) == ((1, 2), (2, 2))
    assert _args.conv_padding("op", 2, (3, 3), (2, 2), (1, 1)) == ((2, 2), (2, 2))
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        _args.conv_padding("op", "same", (3,), (2,), (1,))
    with pytest.raises(ValueError, match="'same' or 'valid', got 'full'"):
        _args.conv_padding("op", "full", (3,), (1,), (1,))
    with pytest.raises(ValueError, match="must be an int or a tuple of 1 ints, got 'same'"):
        _args.conv_padding("op", "same", (3,), (1,), (1,), allow_strings=False)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        _args.conv_padding("op", -1, (3,), (1,), (1,))


def test_pad_widths_is_f_pad_order():
    # (before, after) per axis (H, W) -> (left, right, top, bottom)
    assert _args.pad_widths((1, 2), (3, 4)) == (2, 4, 1, 3)
    x = minigrad.randn(1, 1, 3, 4)
    assert F.pad(x, _args.pad_widths((1, 2), (3, 4))).shape == (1, 1, 3 + 1 + 3, 4 + 2 + 4)


def test_layers_and_ops_give_the_same_argument_errors():
    x = minigrad.randn(1, 3, 6, 6)
    for layer_call, op_call in [
        (lambda: nn.Conv2d(3, 4, 3, stride=0), lambda: F.conv2d(x, minigrad.randn(4, 3, 3, 3), stride=0)),
        (lambda: nn.MaxPool2d(3, padding=2), lambda: F.max_pool2d(x, 3, padding=2)),
        (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
         lambda: F.conv2d(x, minigrad.randn(4, 3, 3, 3), stride=2, padding="same")),
    ]:
        with pytest.raises(ValueError) as from_layer:
            layer_call()
        with pytest.raises(ValueError) as from_op:
            op_call()
        # the same text after the name of the layer or op
        assert str(from_layer.value).split(": ", 1)[1] == str(from_op.value).split(": ", 1)[1]
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular'"):
        nn.Conv1d(1, 1, 3, padding_mode="mirror")


def test_conv_layer_same_padding_with_an_even_kernel_matches_explicit_padding(rng):
    layer = nn.Conv2d(2, 3, 4, padding="same")
    x = minigrad.tensor(rng.standard_normal((1, 2, 5, 6)).astype(np.float32))
    padded = F.pad(x, (1, 2, 1, 2))     # d(k-1) = 3: one before, two after
    expected = F.conv2d(padded, layer.weight, layer.bias)
    np.testing.assert_allclose(layer(x).array, expected.array, rtol=1e-5, atol=1e-6)
    reflect = nn.Conv2d(2, 3, 4, padding="same", padding_mode="reflect")
    assert reflect(x).shape == (1, 3, 5, 6)
