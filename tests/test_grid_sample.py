"""affine_grid and grid_sample: plain-loop NumPy references, closed forms, gradcheck, errors."""
import itertools
import math
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck

PADDINGS = ("zeros", "border", "reflection")


# ---- the references: one output point at a time, scalar math

def ref_unnormalize(g, size, align_corners):
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def ref_reflect(p, size, align_corners):
    """Mirror p at the borders (pixel centres with align_corners, pixel edges without)."""
    if align_corners:
        if size == 1:
            return 0.0
        period = 2 * (size - 1)
        p = abs(p) % period
        return period - p if p > size - 1 else p
    q = abs(p + 0.5) % (2 * size)           # q in [0, 2 size): 0 and size are the edges
    q = 2 * size - q if q > size else q
    return min(max(q - 0.5, 0.0), size - 1)


def ref_pad(p, size, padding_mode, align_corners):
    if padding_mode == "border":
        return min(max(p, 0.0), size - 1)
    if padding_mode == "reflection":
        return ref_reflect(p, size, align_corners)
    return p


def ref_read(image, position):
    """image[position] for integer positions inside, else 0."""
    if all(0 <= p < s for p, s in zip(position, image.shape)):
        return image[tuple(position)]
    return 0.0


def ref_cubic(distance, a=-0.75):
    d = abs(distance)
    if d <= 1:
        return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
    if d < 2:
        return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a
    return 0.0


def ref_grid_sample(x, grid, mode, padding_mode, align_corners):
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    d = len(spatial)
    out_spatial = grid.shape[1:-1]
    out = np.zeros((n, c) + out_spatial)
    for b in range(n):
        for point in itertools.product(*[range(s) for s in out_spatial]):
            g = grid[(b,) + point]                      # (x, y[, z])
            raw = [ref_unnormalize(g[d - 1 - a], spatial[a], align_corners) for a in range(d)]
            for ch in range(c):
                image = x[b, ch]
                if mode == "nearest":
                    p = [ref_pad(raw[a], spatial[a], padding_mode, align_corners) for a in range(d)]
                    value = ref_read(image, [int(np.rint(v)) for v in p])
                elif mode == "bilinear":
                    p = [ref_pad(raw[a], spatial[a], padding_mode, align_corners) for a in range(d)]
                    value = 0.0
                    for corner in itertools.product((0, 1), repeat=d):
                        tap = [math.floor(p[a]) + corner[a] for a in range(d)]
                        weight = np.prod([1 - abs(p[a] - tap[a]) for a in range(d)])
                        value += weight * ref_read(image, tap)
                else:                                   # bicubic: pad each tap's integer position
                    value = 0.0
                    for offsets in itertools.product((-1, 0, 1, 2), repeat=d):
                        tap = [math.floor(raw[a]) + offsets[a] for a in range(d)]
                        weight = np.prod([ref_cubic(raw[a] - tap[a]) for a in range(d)])
                        padded = [int(ref_pad(float(tap[a]), spatial[a], padding_mode, align_corners))
                                  for a in range(d)]
                        value += weight * ref_read(image, padded)
                out[(b, ch) + point] = value
    return out


def ref_affine_grid(theta, size, align_corners):
    spatial = size[2:]
    d = len(spatial)

    def centre(i, steps):
        if steps == 1:
            return 0.0
        value = -1 + 2 * i / (steps - 1)
        return value if align_corners else value * (steps - 1) / steps

    grid = np.zeros((size[0],) + tuple(spatial) + (d,))
    for b in range(size[0]):
        for point in itertools.product(*[range(s) for s in spatial]):
            # homogeneous (x, y[, z], 1): x runs along the last spatial axis
            coords = [centre(point[d - 1 - j], spatial[d - 1 - j]) for j in range(d)] + [1.0]
            grid[(b,) + point] = theta[b] @ np.array(coords)
    return grid


# ---- forward against the references

@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_matches_loop_reference(rng, mode, padding_mode, align_corners):
    x = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.7, 1.7, (2, 3, 4, 2))          # reaches past the borders
    out = F.grid_sample(minigrad.tensor(x), minigrad.tensor(grid), mode, padding_mode, align_corners)
    expected = ref_grid_sample(x, grid, mode, padding_mode, align_corners)
    assert out.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d_matches_loop_reference(rng, mode, padding_mode, align_corners):
    x = rng.standard_normal((2, 2, 3, 4, 5))
    grid = rng.uniform(-1.5, 1.5, (2, 2, 3, 2, 3))
    out = F.grid_sample(minigrad.tensor(x), minigrad.tensor(grid), mode, padding_mode, align_corners)
    expected = ref_grid_sample(x, grid, mode, padding_mode, align_corners)
    assert out.shape == (2, 2, 2, 3, 2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_grid_sample_hand_computed_values():
    x = minigrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    centre = minigrad.tensor([[[[0.0, 0.0]]]])
    for align_corners in (False, True):     # the centre of the image: the mean of the four pixels
        assert F.grid_sample(x, centre, align_corners=align_corners).item() == 2.5
    # align_corners=True: (1, -1) is the top-right pixel's centre; x = 0.5 is three quarters across
    corners = minigrad.tensor([[[[1.0, -1.0], [0.5, 1.0]]]])
    np.testing.assert_allclose(F.grid_sample(x, corners, align_corners=True).numpy(), [[[[2.0, 3.75]]]])
    # align_corners=False: (1, -1) is the top-right pixel's outer corner: a quarter of pixel 2 with
    # zeros padding, pixel 2 itself with border padding
    edge = minigrad.tensor([[[[1.0, -1.0]]]])
    assert F.grid_sample(x, edge, align_corners=False).item() == 0.5
    assert F.grid_sample(x, edge, padding_mode="border", align_corners=False).item() == 2.0
    # nearest rounds half to even: position 0.5 reads pixel 0
    half = minigrad.tensor([[[[0.0, -1.0]]]])
    assert F.grid_sample(x, half, mode="nearest", align_corners=True).item() == 1.0


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_loop_reference(rng, align_corners):
    theta = rng.standard_normal((2, 2, 3))
    out = F.affine_grid(minigrad.tensor(theta), [2, 5, 3, 4], align_corners=align_corners)
    assert out.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(out.numpy(), ref_affine_grid(theta, (2, 5, 3, 4), align_corners), rtol=1e-12)
    theta3 = rng.standard_normal((2, 3, 4))
    out3 = F.affine_grid(minigrad.tensor(theta3), (2, 1, 2, 3, 4), align_corners)
    assert out3.shape == (2, 2, 3, 4, 3)
    np.testing.assert_allclose(out3.numpy(), ref_affine_grid(theta3, (2, 1, 2, 3, 4), align_corners),
                               rtol=1e-12)


def test_affine_grid_identity_is_the_pixel_centres():
    identity = minigrad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = F.affine_grid(identity, (1, 1, 2, 3), align_corners=True).numpy()
    np.testing.assert_allclose(grid[0, :, :, 0], [[-1, 0, 1], [-1, 0, 1]])      # x along the width
    np.testing.assert_allclose(grid[0, :, :, 1], [[-1, -1, -1], [1, 1, 1]])     # y down the height
    grid = F.affine_grid(identity, (1, 1, 2, 3), align_corners=False).numpy()
    np.testing.assert_allclose(grid[0, 0, :, 0], [-2 / 3, 0, 2 / 3])              # (2i + 1) / W - 1


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_identity_theta_gives_the_input_back(rng, mode, padding_mode):
    x = rng.standard_normal((2, 3, 5, 6))
    identity = np.tile(np.eye(2, 3), (2, 1, 1))
    for align_corners in (True, False):     # both map the pixel centres onto themselves
        grid = F.affine_grid(minigrad.tensor(identity), x.shape, align_corners=align_corners)
        out = F.grid_sample(minigrad.tensor(x), grid, mode, padding_mode, align_corners)
        np.testing.assert_allclose(out.numpy(), x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_identity_theta_3d_gives_the_input_back(rng, mode):
    x = rng.standard_normal((1, 2, 3, 4, 5))
    grid = F.affine_grid(minigrad.tensor(np.eye(3, 4)[None]), x.shape, align_corners=True)
    np.testing.assert_allclose(F.grid_sample(minigrad.tensor(x), grid, mode, align_corners=True).numpy(),
                               x, rtol=1e-12, atol=1e-12)


def test_a_one_pixel_translation_shifts_the_image(rng):
    x = rng.standard_normal((1, 1, 4, 5))
    theta = np.array([[[1.0, 0.0, 2 / 4], [0.0, 1.0, 0.0]]])      # 2 / (W - 1): one pixel to the right
    grid = F.affine_grid(minigrad.tensor(theta), x.shape, align_corners=True)
    out = F.grid_sample(minigrad.tensor(x), grid, align_corners=True).numpy()
    np.testing.assert_allclose(out[..., :-1], x[..., 1:], rtol=1e-12)
    np.testing.assert_allclose(out[..., -1], 0.0)                   # read from outside: zeros


def test_float32_stays_float32(rng):
    x = minigrad.tensor(rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
    theta = minigrad.tensor(np.eye(2, 3, dtype=np.float32)[None] * 0.9)
    grid = F.affine_grid(theta, (1, 2, 3, 3), align_corners=False)
    assert grid.dtype == minigrad.float32
    out = F.grid_sample(x, grid, mode="bicubic", align_corners=False)
    assert out.dtype == minigrad.float32
    expected = ref_grid_sample(x.numpy().astype(np.float64), grid.numpy().astype(np.float64),
                               "bicubic", "zeros", False)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_align_corners_none_means_false_with_pytorchs_warning(rng):
    x = minigrad.tensor(rng.standard_normal((1, 1, 3, 3)))
    grid = minigrad.tensor(rng.uniform(-1, 1, (1, 2, 2, 2)))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        default = F.grid_sample(x, grid)
    np.testing.assert_array_equal(default.numpy(), F.grid_sample(x, grid, align_corners=False).numpy())
    theta = minigrad.tensor(rng.standard_normal((1, 2, 3)))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        default = F.affine_grid(theta, (1, 1, 3, 3))
    np.testing.assert_array_equal(default.numpy(), F.affine_grid(theta, (1, 1, 3, 3), False).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(x, grid, align_corners=True)


# ---- gradients

@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_gradcheck(rng, mode, padding_mode, align_corners):
    x = minigrad.tensor(rng.standard_normal((2, 2, 3, 4)), requires_grad=True)
    grid = minigrad.tensor(rng.uniform(-1.3, 1.3, (2, 3, 2, 2)), requires_grad=True)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, mode, padding_mode, align_corners), (x, grid))


@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d_gradcheck(rng, padding_mode, align_corners):
    x = minigrad.tensor(rng.standard_normal((1, 2, 2, 3, 3)), requires_grad=True)
    grid = minigrad.tensor(rng.uniform(-1.3, 1.3, (1, 2, 2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, "bilinear", padding_mode, align_corners), (x, grid))


def test_nearest_gives_the_grid_a_zero_gradient(rng):
    x = minigrad.tensor(rng.standard_normal((2, 2, 3, 4)), requires_grad=True)
    grid = minigrad.tensor(rng.uniform(-1.2, 1.2, (2, 3, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a: F.grid_sample(a, grid.detach(), "nearest", "border", False), (x,))
    F.grid_sample(x, grid, "nearest", "zeros", False).sum().backward()
    np.testing.assert_array_equal(grid.grad.numpy(), 0.0)
    # each output adds 1 to the pixel it copied: the counts of the reads
    assert x.grad.numpy().sum() == pytest.approx(
        (ref_grid_sample(np.ones((2, 2, 3, 4)), grid.detach().numpy(), "nearest", "zeros", False)).sum())


def test_affine_grid_gradcheck_and_through_grid_sample(rng):
    theta = minigrad.tensor(rng.standard_normal((2, 2, 3)) * 0.5, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (theta,))
    theta3 = minigrad.tensor(rng.standard_normal((1, 3, 4)) * 0.5, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 3, 2), align_corners=True), (theta3,))
    x = minigrad.tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    assert gradcheck(lambda a, t: F.grid_sample(a, F.affine_grid(t, (2, 2, 3, 3), align_corners=False),
                                                align_corners=False), (x, theta))


# ---- errors, with PyTorch's messages

def test_affine_grid_errors():
    theta = minigrad.randn(2, 2, 3)
    with pytest.raises(ValueError, match=r"Nx2x3 for size \[2, 3, 4, 5\]. Got minigrad.Size\(\[2, 3, 3\]\)"):
        F.affine_grid(minigrad.randn(2, 3, 3), [2, 3, 4, 5], align_corners=False)
    with pytest.raises(ValueError, match=r"3D affine matrices of shape Nx3x4 for size \[2, 3, 4, 5, 6\]"):
        F.affine_grid(theta, [2, 3, 4, 5, 6], align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(minigrad.randn(2, 3), [2, 3, 4, 5], align_corners=False)
    with pytest.raises(NotImplementedError, match=r"only supports 4D and 5D sizes.*Got size \[2, 3, 4\]"):
        F.affine_grid(theta, [2, 3, 4], align_corners=False)
    with pytest.raises(ValueError, match=r"non-zero, positive output size. Got \[2, 3, 0, 4\]"):
        F.affine_grid(theta, [2, 3, 0, 4], align_corners=False)
    with pytest.raises(ValueError, match="floating point type, but got int64"):
        F.affine_grid(minigrad.ones(2, 2, 3, dtype=minigrad.int64), [2, 3, 4, 5], align_corners=False)
    with pytest.raises(RuntimeError, match=r"to be: \[2, 3\] but got: \[3, 3\]"):
        F.affine_grid(minigrad.randn(3, 2, 3), [2, 3, 4, 5], align_corners=False)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(theta, [2, 3, 1, 5], align_corners=True)


def test_grid_sample_errors():
    x, grid = minigrad.randn(2, 3, 4, 5), minigrad.rand(2, 6, 7, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'foo'"):
        F.grid_sample(x, grid, mode="foo", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match=r"same batch size, but got input with sizes \[2, 3, 4, 5\] "
                                           r"and grid with sizes \[1, 6, 7, 2\]"):
        F.grid_sample(x, grid[:1], align_corners=False)
    with pytest.raises(RuntimeError, match=r"size 2 in last dimension, but got grid with sizes \[2, 6, 7, 3\]"):
        F.grid_sample(x, minigrad.rand(2, 6, 7, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="4D or 5D input and grid with same number of dimensions"):
        F.grid_sample(x, minigrad.rand(2, 6, 7, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(minigrad.randn(1, 1, 2, 2, 2), minigrad.rand(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)
    with pytest.raises(RuntimeError, match="dimension 2 being empty"):
        F.grid_sample(minigrad.randn(2, 3, 0, 5), grid, align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, grid.double(), align_corners=False)
    with pytest.raises(TypeError, match="'grid' must be a Tensor"):
        F.grid_sample(x, grid.numpy(), align_corners=False)


def test_empty_batch_channels_and_grid():
    for x_shape, grid_shape, out_shape in (((2, 0, 4, 5), (2, 6, 7, 2), (2, 0, 6, 7)),
                                           ((2, 3, 4, 5), (2, 0, 7, 2), (2, 3, 0, 7)),
                                           ((0, 2, 4, 5), (0, 6, 7, 2), (0, 2, 6, 7))):
        x = minigrad.randn(*x_shape, requires_grad=True)
        grid = minigrad.rand(*grid_shape, requires_grad=True)
        out = F.grid_sample(x, grid, align_corners=False)
        assert out.shape == out_shape
        out.sum().backward()
        assert x.grad.shape == x_shape and grid.grad.shape == grid_shape


def test_float16_is_computed_in_float32(rng):
    x = rng.standard_normal((1, 2, 4, 5)).astype(np.float16)
    grid = rng.uniform(-1.2, 1.2, (1, 3, 2, 2)).astype(np.float16)
    xt, gt = minigrad.tensor(x, requires_grad=True), minigrad.tensor(grid, requires_grad=True)
    out = F.grid_sample(xt, gt, "bilinear", "reflection", False)
    assert out.dtype == minigrad.float16
    expected = ref_grid_sample(x.astype(np.float64), grid.astype(np.float64), "bilinear", "reflection", False)
    np.testing.assert_allclose(out.detach().numpy().astype(np.float64), expected, atol=4e-3)
    out.sum().backward()
    assert xt.grad.dtype == minigrad.float16 and gt.grad.dtype == minigrad.float16
    with pytest.raises(NotImplementedError, match="not implemented for int64"):
        F.grid_sample(minigrad.ones(1, 1, 2, 2, dtype=minigrad.int64), minigrad.zeros(1, 1, 1, 2), align_corners=False)
