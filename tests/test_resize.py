"""interpolate (hand-computed values, gradcheck), pixel_shuffle / pixel_unshuffle."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck


def values(t):
    return t.array.tolist()


def test_nearest_hand_computed():
    x = minigrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert values(F.interpolate(x, scale_factor=2)) == [[[[1, 1, 2, 2], [1, 1, 2, 2],
                                                          [3, 3, 4, 4], [3, 3, 4, 4]]]]
    line = minigrad.arange(6.0).reshape(1, 1, 6)
    assert values(F.interpolate(line, size=3)) == [[[0.0, 2.0, 4.0]]]      # floor(o * 6/3)
    short = minigrad.arange(4.0).reshape(1, 1, 4)
    # scale = 1/1.5: sources floor(o * 0.667) = 0, 0, 1, 2, 2, 3
    assert values(F.interpolate(short, scale_factor=1.5)) == [[[0.0, 0.0, 1.0, 2.0, 2.0, 3.0]]]
    assert F.interpolate(minigrad.randn(1, 2, 5, 7), size=(3, 10)).shape == (1, 2, 3, 10)


def test_bilinear_align_corners_true_hand_computed():
    x = minigrad.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    out = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(out.array[0, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]], rtol=1e-6)


def test_bilinear_align_corners_false_hand_computed():
    x = minigrad.tensor([[[[0.0, 1.0]]]])
    # sources (o + 0.5) * 0.5 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past the end: x[1])
    out = F.interpolate(x, size=(1, 4), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(out.array[0, 0, 0], [0.0, 0.25, 0.75, 1.0], rtol=1e-6)
    # align_corners=None means False
    same = F.interpolate(x, scale_factor=(1, 2), mode="bilinear")
    np.testing.assert_allclose(same.array, out.array)
    line = minigrad.tensor([[[0.0, 10.0]]])
    np.testing.assert_allclose(F.interpolate(line, size=4, mode="linear").array[0, 0],
                               [0.0, 2.5, 7.5, 10.0], rtol=1e-6)
    # downsampling 4 -> 2: sources 0.5 and 2.5
    down = F.interpolate(minigrad.tensor([[[0.0, 1.0, 2.0, 3.0]]]), size=2, mode="linear")
    np.testing.assert_allclose(down.array[0, 0], [0.5, 2.5], rtol=1e-6)


def test_bilinear_preserves_constants_and_float_dtypes():
    x = minigrad.full((2, 3, 5, 4), 7.0)
    for align in (True, False):
        out = F.interpolate(x, size=(9, 11), mode="bilinear", align_corners=align)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.array, 7.0, rtol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(size=(7, 5), mode="nearest"),
    dict(scale_factor=0.5, mode="nearest"),
    dict(size=(7, 5), mode="bilinear", align_corners=True),
    dict(size=(7, 5), mode="bilinear", align_corners=False),
    dict(scale_factor=(1.5, 0.7), mode="bilinear"),
])
def test_interpolate_gradcheck(kwargs):
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((1, 2, 4, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **kwargs), (x,))


def test_pixel_shuffle_hand_computed_and_round_trip():
    x = minigrad.arange(4.0).reshape(1, 4, 1, 1)
    assert values(F.pixel_shuffle(x, 2)) == [[[[0.0, 1.0], [2.0, 3.0]]]]
    rng = np.random.default_rng(1)
    y = minigrad.tensor(rng.standard_normal((2, 18, 4, 5)))
    shuffled = F.pixel_shuffle(y, 3)
    assert shuffled.shape == (2, 2, 12, 15)
    np.testing.assert_array_equal(F.pixel_unshuffle(shuffled, 3).array, y.array)
    # output channel c, pixel (h*r + i, w*r + j) comes from input channel c*r*r + i*r + j
    np.testing.assert_array_equal(shuffled.array[1, 1, 3 * 3 + 2, 4 * 3 + 1], y.array[1, 9 + 2 * 3 + 1, 3, 4])
    z = minigrad.tensor(rng.standard_normal((3, 6, 4)))  # unbatched
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(z, 2), 2).array, z.array)
    leaf = minigrad.tensor(rng.standard_normal((1, 8, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), (leaf,))


def test_validation_errors():
    x = minigrad.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="mode"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(ValueError, match="3-D"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(ValueError, match="divisible"):
        F.pixel_shuffle(minigrad.randn(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="divisible"):
        F.pixel_unshuffle(minigrad.randn(1, 3, 3, 4), 2)
