"""Pooling ops against the NumPy references, gradcheck, thread determinism, validation."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck
from minigrad._C import pooling as pooling_module
from minigrad.kernels import cpu
from minigrad.kernels import pooling as pooling_kernels
from minigrad.reference import pooling as ref

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def random_config(rng, n, with_dilation):
    """A random valid pooling configuration for n spatial dimensions."""
    while True:
        kernel = tuple(int(k) for k in rng.integers(1, 5, n))
        stride = tuple(int(s) for s in rng.integers(1, 4, n))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        dilation = tuple(int(d) for d in rng.integers(1, 3, n)) if with_dilation else (1,) * n
        ceil_mode = bool(rng.integers(0, 2))
        spatial = tuple(int(s) for s in rng.integers(4 if n == 3 else 5, 8 if n == 3 else 13, n))
        outs = [ref.output_size(i, k, s, p, d, ceil_mode)
                for i, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
        if min(outs) >= 1:
            return spatial, dict(kernel_size=kernel, stride=stride, padding=padding,
                                 dilation=dilation, ceil_mode=ceil_mode)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("trial", range(6))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_matches_reference(n, trial, dtype, cpu_path):
    rng = np.random.default_rng(100 * n + trial)
    spatial, config = random_config(rng, n, with_dilation=True)
    x = rng.standard_normal((2, 3) + spatial).astype(dtype)
    xt = minigrad.tensor(x, requires_grad=True)
    out, indices = MAX_POOL[n](xt, return_indices=True, **config)
    expected, expected_indices = ref.max_pool(x, config["kernel_size"], config["stride"],
                                              config["padding"], config["dilation"], config["ceil_mode"])
    np.testing.assert_array_equal(out.array, expected)
    np.testing.assert_array_equal(indices.array, expected_indices)
    assert indices.dtype == np.int64
    grad = rng.standard_normal(out.shape).astype(dtype)
    out.backward(grad)
    np.testing.assert_allclose(xt.grad.array, ref.max_pool_backward(grad, expected_indices, x.shape),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("width,kernel,stride", [(70, 3, 2), (41, 2, 1), (37, 2, 2), (19, 3, 3),
                                                (14, 2, 2), (12, 3, 2), (9, 2, 1), (13, 2, 1)])
def test_max_pool_float32_rows_ties_and_nans(width, kernel, stride, cpu_path):
    """Rows long enough for whole vector blocks of every path and a last block that
    overlaps the one before, and rows shorter than a vector (7, 6, 9, 13 outputs: the
    wider paths hand them to a narrower one); ties (the first maximum wins) and NaNs (a
    NaN wins, the last one of its window, as in PyTorch: some windows here hold two)."""
    rng = np.random.default_rng(width)
    x = rng.integers(-3, 4, (2, 3, 6, width)).astype(np.float32)    # many equal maxima
    x[1, 2, 3, width // 2] = np.nan
    x[1, 2, 3, width // 2 + 1] = np.nan
    x[0, 1, 0, 5] = np.nan
    x[0, 1, 1, 4] = np.nan
    xt = minigrad.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(xt, kernel, stride, padding=kernel // 2, return_indices=True)
    expected, expected_indices = ref.max_pool(x, (kernel,) * 2, (stride,) * 2, (kernel // 2,) * 2)
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(indices.data, expected_indices)


@pytest.mark.parametrize("spatial,kernel,stride,dilation", [
    ((6, 70), 3, 2, 1), ((7, 41), 2, 1, 1), ((6, 37), 2, 2, 1), ((9, 19), 3, 3, 1), ((14, 14), 2, 2, 1),
    ((7, 7), 2, 2, 1), ((5, 12), 3, 2, 1), ((6, 9), 2, 1, 1), ((8, 33), 3, 2, 2), ((4, 5), 2, 1, 2),
    ((5, 6, 35), 2, 2, 1), ((4, 5, 9), 3, 1, 1), ((40,), 2, 2, 1), ((9,), 3, 2, 1)])
def test_max_pool_whole_planes_ties_and_nans(spatial, kernel, stride, dilation, cpu_path):
    """No padding, floor mode: every window lies inside the plane, and a float32 plane is one
    call of max_pool_plane_f32 (csrc/pool_lanes.h). Rows of 2 to 34 outputs: whole vector
    blocks of every path, a last block overlapping the one before, and rows shorter than a
    vector (one masked block); strides 1, 2 and 3, dilation, 1-, 2- and 3-d. Ties (the first
    maximum wins) and NaNs (a NaN wins, the last one of its window)."""
    rng = np.random.default_rng(sum(spatial) + 10 * kernel + stride)
    x = rng.integers(-3, 4, (2, 3) + spatial).astype(np.float32)     # many equal maxima
    flat = x.reshape(2, 3, -1)
    flat[1, 2, flat.shape[2] // 2] = np.nan
    flat[1, 2, flat.shape[2] // 2 + 1] = np.nan
    flat[0, 1, min(5, flat.shape[2] - 1)] = np.nan
    n = len(spatial)
    config = dict(kernel_size=(kernel,) * n, stride=(stride,) * n, padding=(0,) * n, dilation=(dilation,) * n)
    lift = (1,) * (3 - n)     # the planes (D, H, W) of a 1-d or 2-d pooling
    outs = lift + tuple(ref.output_size(i, kernel, stride, 0, dilation, False) for i in spatial)
    layout = pooling_kernels._max_layout(lift + spatial, outs, lift + config["kernel_size"], lift + config["stride"],
                                         (0,) * 3, lift + config["dilation"])
    assert layout.whole
    xt = minigrad.tensor(x, requires_grad=True)
    out, indices = MAX_POOL[n](xt, return_indices=True, **config)
    expected, expected_indices = ref.max_pool(x, config["kernel_size"], config["stride"], config["padding"],
                                              config["dilation"])
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(indices.data, expected_indices)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(minigrad.tensor(grad))
    np.testing.assert_array_equal(xt.grad.data, ref.max_pool_backward(grad, expected_indices, x.shape))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("trial", range(6))
def test_avg_pool_matches_reference(n, trial):
    rng = np.random.default_rng(200 * n + trial)
    spatial, config = random_config(rng, n, with_dilation=False)
    del config["dilation"]
    config["count_include_pad"] = bool(rng.integers(0, 2))
    if n > 1 and rng.integers(0, 3) == 0:
        config["divisor_override"] = int(rng.integers(1, 7))
    x = rng.standard_normal((2, 3) + spatial)
    out = AVG_POOL[n](minigrad.tensor(x), **config)
    expected = ref.avg_pool(x, config["kernel_size"], config["stride"], config["padding"],
                            config["ceil_mode"], config["count_include_pad"],
                            config.get("divisor_override"))
    np.testing.assert_allclose(out.array, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("trial", range(4))
def test_avg_pool_float32_random_configs_on_every_path(n, trial, cpu_path):
    """float32 average pooling, 1-d to 3-d, random kernel/stride/padding/ceil_mode/
    count_include_pad/divisor_override, on each path, forward and backward, against
    the float64 reference; rows wide enough for whole vector blocks."""
    rng = np.random.default_rng(500 * n + trial)
    spatial, config = random_config(rng, n, with_dilation=False)
    del config["dilation"]
    spatial = spatial[:-1] + (int(rng.integers(17, 40)),)       # a long last dimension
    config["count_include_pad"] = bool(rng.integers(0, 2))
    if n > 1 and rng.integers(0, 2) == 0:
        config["divisor_override"] = int(rng.integers(1, 7))
    args = (config["kernel_size"], config["stride"], config["padding"])
    x = rng.standard_normal((2, 3) + spatial).astype(np.float32)
    xt = minigrad.tensor(x, requires_grad=True)
    out = AVG_POOL[n](xt, **config)
    expected = ref.avg_pool(x.astype(np.float64), *args, config["ceil_mode"], config["count_include_pad"],
                            config.get("divisor_override"))
    np.testing.assert_allclose(out.array, expected, rtol=1e-6, atol=1e-7)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(grad)
    expected_grad = ref.avg_pool_backward(grad.astype(np.float64), x.shape, *args, config["count_include_pad"],
                                          config.get("divisor_override"))
    np.testing.assert_allclose(xt.grad.array, expected_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [(5, 7), (4, 20), (3, 33), (1, 1)])
def test_adaptive_avg_pool_float32_on_every_path(size, cpu_path):
    """Adaptive bins (uneven, overlapping) through the same float32 rows."""
    rng = np.random.default_rng(sum(size))
    x = rng.standard_normal((2, 3, 11, 41)).astype(np.float32)
    xt = minigrad.tensor(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(xt, size)
    np.testing.assert_allclose(out.array, ref.adaptive_pool(x.astype(np.float64), size, "avg"),
                               rtol=1e-6, atol=1e-7)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(grad)
    np.testing.assert_allclose(xt.grad.array, ref.adaptive_avg_pool_backward(grad.astype(np.float64), x.shape),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("trial", range(4))
def test_pool2d_gradcheck(trial):
    rng = np.random.default_rng(300 + trial)
    spatial, config = random_config(rng, 2, with_dilation=True)
    x = minigrad.tensor(rng.standard_normal((1, 2) + spatial[:1] + (min(spatial[1], 7),)),
                        requires_grad=True)
    try:
        MAX_POOL[2](x, **config)
    except ValueError:
        pytest.skip("configuration too large for the trimmed input")
    assert gradcheck(lambda t: F.max_pool2d(t, **config), (x,))
    avg_config = dict(config, count_include_pad=bool(trial % 2),
                      divisor_override=3 if trial == 2 else None)
    del avg_config["dilation"]
    assert gradcheck(lambda t: F.avg_pool2d(t, **avg_config), (x,))


def test_pool1d_and_3d_gradcheck():
    rng = np.random.default_rng(5)
    x1 = minigrad.tensor(rng.standard_normal((2, 2, 9)), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), (x1,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x1,))
    x3 = minigrad.tensor(rng.standard_normal((1, 2, 4, 5, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool3d(t, 2, 1, 1), (x3,))
    assert gradcheck(lambda t: F.avg_pool3d(t, (2, 3, 2), 2, 1, ceil_mode=True), (x3,))


def test_max_pool2d_hand_computed():
    x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    assert out.array.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert indices.array.tolist() == [[[[5, 7], [13, 15]]]]
    # 3x3 / 2 with padding 1 and ceil_mode: windows start at -1, 1, 3 (3 starts inside)
    out = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert out.array.tolist() == [[[[5.0, 7.0, 7.0], [13.0, 15.0, 15.0], [13.0, 15.0, 15.0]]]]
    assert F.max_pool2d(x, 3, 2, 1).shape == (1, 1, 2, 2)


def test_avg_pool2d_hand_computed():
    x = minigrad.ones(1, 1, 3, 3)
    # corner window with padding 1 covers 4 real elements out of 9
    included = F.avg_pool2d(x, 3, 2, 1)
    excluded = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    override = F.avg_pool2d(x, 3, 2, 1, divisor_override=2)
    np.testing.assert_allclose(included.array[0, 0], [[4 / 9, 4 / 9], [4 / 9, 4 / 9]], rtol=1e-6)
    np.testing.assert_allclose(excluded.array[0, 0], np.ones((2, 2)), rtol=1e-6)
    np.testing.assert_allclose(override.array[0, 0], np.full((2, 2), 2.0), rtol=1e-6)


def test_ceil_mode_last_window_must_start_inside():
    # in=5, k=2, s=2, p=1: ceil would give 4 windows, the last starting in the right padding
    x = minigrad.randn(1, 1, 5, 5)
    assert F.max_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(minigrad.randn(1, 1, 6, 6), 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)


AVG_ROW_CASES = [  # (width, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    (70, 3, 2, 1, False, True, None), (41, 2, 1, 0, False, True, None), (37, 2, 2, 0, True, False, None),
    (19, 3, 3, 1, False, False, None), (28, 2, 2, 0, False, True, None), (28, 3, 2, 1, True, False, None),
    (33, 4, 2, 2, True, True, 5), (9, 3, 1, 1, False, False, None), (5, 2, 2, 1, True, True, None),
    (200, 5, 1, 2, False, True, None), (30, 1, 1, 0, False, True, None), (23, 1, 2, 0, False, True, None),
    (37, 2, 2, 0, False, True, None), (45, 2, 3, 0, True, True, 3),
]


@pytest.mark.parametrize("case", AVG_ROW_CASES)
def test_avg_pool_float32_rows_on_every_path(case, cpu_path):
    """float32 average pooling (csrc/pool_rows.h: vector interiors for strides 1
    and 2, scalar edges) against the float64 reference, forward and backward,
    on rows long enough for whole blocks of every path, a last block that
    overlaps the one before (forward) or is partly empty (backward), and
    rows shorter than a block; windows that overlap (the column row) and
    that do not (written directly, also with columns no window covers);
    the sums are in double, so the forward is the reference rounded once."""
    width, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override = case
    rng = np.random.default_rng(width + 7 * kernel + stride)
    x = rng.standard_normal((2, 3, 7, width)).astype(np.float32)
    config = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                  count_include_pad=count_include_pad, divisor_override=divisor_override)
    xt = minigrad.tensor(x, requires_grad=True)
    out = F.avg_pool2d(xt, **config)
    args = ((kernel,) * 2, (stride,) * 2, (padding,) * 2, ceil_mode, count_include_pad, divisor_override)
    expected = ref.avg_pool(x.astype(np.float64), *args)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.array, expected, rtol=1e-6, atol=1e-7)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(grad)
    expected_grad = ref.avg_pool_backward(grad.astype(np.float64), x.shape, *args[:3], *args[4:])
    np.testing.assert_allclose(xt.grad.array, expected_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", AVG_ROW_CASES[:6])
def test_avg_pool_float32_same_bytes_on_every_path(case):
    """Each path adds in the same order as the scalar loop, so every path (and
    1 or 2 threads) gives the same bytes, forward and backward."""
    width, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override = case
    rng = np.random.default_rng(width)
    x = rng.standard_normal((3, 4, 9, width)).astype(np.float32)
    results = []
    for path in cpu.supported_paths():
        with cpu.use_cpu_path(path):
            xt = minigrad.tensor(x, requires_grad=True)
            out = F.avg_pool2d(xt, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
            out.backward(np.ones(out.shape, np.float32) * np.float32(0.3))
            results.append((out.array.tobytes(), xt.grad.array.tobytes()))
    assert all(r == results[0] for r in results)


def test_unbatched_input_and_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 9)).astype(np.float32)
    out, indices = F.max_pool2d(minigrad.tensor(x), 3, 2, return_indices=True)
    expected, expected_indices = ref.max_pool(x[None], 3, 2)
    assert out.dtype == np.float32 and out.shape == (3, 3, 4)
    np.testing.assert_array_equal(out.array, expected[0])
    np.testing.assert_array_equal(indices.array, expected_indices[0])
    avg = F.avg_pool2d(minigrad.tensor(x), 2)
    np.testing.assert_allclose(avg.array, ref.avg_pool(x[None].astype(np.float64), 2)[0], rtol=1e-6)


def test_nan_wins_max_pool_like_pytorch():
    x = minigrad.tensor([[[1.0, np.nan, 3.0, 2.0]]])
    out, indices = F.max_pool1d(x, 2, return_indices=True)
    assert np.isnan(out.array[0, 0, 0]) and out.array[0, 0, 1] == 3.0
    assert indices.array.tolist() == [[[1, 2]]]
    # two NaNs in a window: the last one wins, in the kernel and in the reference
    x = np.array([[[np.nan, 5.0, np.nan, 1.0, 4.0, 4.0]]])
    _, indices = F.max_pool1d(minigrad.tensor(x), 3, return_indices=True)
    _, expected_indices = ref.max_pool(x, 3)
    assert indices.array.tolist() == expected_indices.tolist() == [[[2, 4]]]   # 4: the first of equal maxima
    _, adaptive_indices = ref.adaptive_pool(x, (2,), "max")
    assert adaptive_indices.tolist() == [[[2, 4]]]


def test_reference_nan_rule_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = rng.integers(-2, 3, (2, 3, 7, 8)).astype(np.float64)
    x[rng.random(x.shape) < 0.2] = np.nan
    _, indices = ref.max_pool(x, 3, 2, 1, ceil_mode=True)
    _, expected = torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 2, 1, ceil_mode=True,
                                                 return_indices=True)
    np.testing.assert_array_equal(indices, expected.numpy())


def inner(a, b):
    return float(np.sum(a * b))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_reference_backwards_are_adjoints_of_their_forwards(n):
    """<forward(x), g> = <x, backward(g)> for the linear maps: average pooling
    (every configuration), adaptive average pooling and max unpooling."""
    rng = np.random.default_rng(400 + n)
    spatial, config = random_config(rng, n, with_dilation=False)
    kernel, stride, padding = config["kernel_size"], config["stride"], config["padding"]
    x = rng.standard_normal((2, 3) + spatial)
    for count_include_pad, divisor_override in [(True, None), (False, None), (True, 3)]:
        out = ref.avg_pool(x, kernel, stride, padding, config["ceil_mode"], count_include_pad, divisor_override)
        g = rng.standard_normal(out.shape)
        back = ref.avg_pool_backward(g, x.shape, kernel, stride, padding, count_include_pad, divisor_override)
        assert back.shape == x.shape
        assert inner(out, g) == pytest.approx(inner(x, back), rel=1e-12)
    sizes = tuple(int(s) for s in rng.integers(1, 5, n))
    out = ref.adaptive_pool(x, sizes, "avg")
    g = rng.standard_normal(out.shape)
    assert inner(out, g) == pytest.approx(inner(x, ref.adaptive_avg_pool_backward(g, x.shape)), rel=1e-12)
    pooled, indices = ref.max_pool(x, kernel, kernel)
    unpooled = ref.max_unpool(pooled, indices, spatial)
    g = rng.standard_normal(unpooled.shape)
    assert inner(unpooled, g) == pytest.approx(inner(pooled, ref.max_unpool_backward(g, indices)), rel=1e-12)


def test_reference_avg_pool_backward_hand_computed():
    # 3 inputs, kernel 2, stride 1, padding 1: windows [-1, 1), [0, 2), [1, 3), [2, 4)
    g = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    included = ref.avg_pool_backward(g, (1, 1, 3), 2, 1, 1, count_include_pad=True)
    np.testing.assert_allclose(included[0, 0], [(1 + 2) / 2, (2 + 3) / 2, (3 + 4) / 2])
    excluded = ref.avg_pool_backward(g, (1, 1, 3), 2, 1, 1, count_include_pad=False)
    np.testing.assert_allclose(excluded[0, 0], [1 + 2 / 2, 2 / 2 + 3 / 2, 3 / 2 + 4])
    # adaptive 5 -> 2: bins [0, 3), [2, 5) share element 2
    spread = ref.adaptive_avg_pool_backward(np.array([[[3.0, 6.0]]]), (1, 1, 5))
    np.testing.assert_allclose(spread[0, 0], [1, 1, 3, 2, 2])
    # max_unpool: the later of two values with the same index wins; the backward gathers
    assert ref.max_unpool(np.array([[[1.0, 2.0]]]), np.array([[[3, 3]]]), (4,)).tolist() == [[[0, 0, 0, 2]]]
    assert ref.max_unpool_backward(np.array([[[5.0, 6.0, 7.0]]]), np.array([[[2, 0]]])).tolist() == [[[7, 5]]]


@pytest.mark.parametrize("size", [(1, 1), (3, 4), (5, 7), (2, None), 1])
def test_adaptive_pools_match_reference(size):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 7, 10))
    xt = minigrad.tensor(x, requires_grad=True)
    sizes = (size, size) if isinstance(size, int) else tuple(10 if s is None else s for s in size)
    avg = F.adaptive_avg_pool2d(xt, size)
    np.testing.assert_allclose(avg.array, ref.adaptive_pool(x, sizes, "avg"), rtol=1e-12, atol=1e-14)
    out, indices = F.adaptive_max_pool2d(xt, size, return_indices=True)
    expected, expected_indices = ref.adaptive_pool(x, sizes, "max")
    np.testing.assert_array_equal(out.array, expected)
    np.testing.assert_array_equal(indices.array, expected_indices)


def test_adaptive_bins_are_pytorchs():
    # in=10, out=4: [0,3) [2,5) [5,8) [7,10): overlapping bins
    x = minigrad.arange(10.0).reshape(1, 1, 10)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 4).array[0, 0], [1.0, 3.0, 6.0, 8.0])
    np.testing.assert_allclose(F.adaptive_max_pool1d(x, 4).array[0, 0], [2.0, 4.0, 7.0, 9.0])
    # global average pooling
    y = minigrad.randn(2, 3, 5, 6)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(y, 1).array[..., 0, 0], y.array.mean(axis=(2, 3)),
                               rtol=1e-5, atol=1e-6)


def test_adaptive_gradcheck():
    rng = np.random.default_rng(8)
    x = minigrad.tensor(rng.standard_normal((1, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x,))
    # global average pooling takes the mean's path: same shape, same gradient 1/(H*W)
    assert F.adaptive_avg_pool2d(x, 1).shape == F.adaptive_avg_pool2d(x, (1, 1)).shape == (1, 2, 1, 1)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, 1), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (x,))
    x1 = minigrad.tensor(rng.standard_normal((2, 2, 9)), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 4), (x1,))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), (x1,))


def test_max_unpool_inverts_max_pool():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 8, 8))
    out, indices = F.max_pool2d(minigrad.tensor(x), 2, return_indices=True)
    restored = F.max_unpool2d(out, indices, 2)
    assert restored.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(restored.array, ref.max_unpool(out.array, indices.array, (8, 8)))
    # every element of a 2x2 window's maximum is back in place, the rest is zero
    np.testing.assert_array_equal(restored.array[restored.array != 0], x[restored.array != 0])
    x9 = rng.standard_normal((2, 3, 9, 9))
    out9, indices9 = F.max_pool2d(minigrad.tensor(x9), 2, return_indices=True)
    bigger = F.max_unpool2d(out9, indices9, 2, output_size=(2, 3, 9, 9))
    assert bigger.shape == (2, 3, 9, 9)
    np.testing.assert_array_equal(bigger.array, ref.max_unpool(out9.array, indices9.array, (9, 9)))
    # gradient: gather at the indices
    v = minigrad.tensor(out.array.copy(), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, indices, 2), (v,))
    out1, indices1 = F.max_pool1d(minigrad.tensor(x[:, :, 0]), 3, 3, return_indices=True)
    np.testing.assert_array_equal(F.max_unpool1d(out1, indices1, 3, output_size=(8,)).array,
                                  ref.max_unpool(out1.array, indices1.array, (8,)))


def test_spatial_pyramid_pool_fixed_length():
    rng = np.random.default_rng(10)
    for h, w in [(13, 9), (4, 4), (32, 17)]:
        x = rng.standard_normal((2, 3, h, w))
        out = F.spatial_pyramid_pool(minigrad.tensor(x), levels=(1, 2, 4))
        assert out.shape == (2, 3 * (1 + 4 + 16))
        expected = np.concatenate([ref.adaptive_pool(x, (l, l), "max")[0].reshape(2, -1)
                                   for l in (1, 2, 4)], axis=1)
        np.testing.assert_array_equal(out.array, expected)
    avg = F.spatial_pyramid_pool(minigrad.tensor(x), levels=(1, 3), mode="avg")
    assert avg.shape == (2, 3 * 10)
    xt = minigrad.tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.spatial_pyramid_pool(t, (1, 2)), (xt,))


@pytest.mark.parametrize("op", ["max", "avg", "adaptive_max", "unpool"])
def test_one_and_two_threads_bitwise_identical(op, set_threads, cpu_path):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 6, 15, 13)).astype(np.float32)
    grad = None
    results = []
    for n in (1, 2):
        set_threads(n)
        xt = minigrad.tensor(x, requires_grad=True)
        if op == "max":
            out = F.max_pool2d(xt, 3, 2, 1, ceil_mode=True)
        elif op == "avg":
            out = F.avg_pool2d(xt, 3, 1, 1, count_include_pad=False)
        elif op == "adaptive_max":
            out = F.adaptive_max_pool2d(xt, (4, 5))
        else:
            pooled, indices = F.max_pool2d(minigrad.tensor(x), 3, 1, return_indices=True)
            xt = minigrad.tensor(pooled.array, requires_grad=True)
            out = F.max_unpool2d(xt, indices, 3, 1)
        if grad is None:
            grad = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(grad)
        results.append((out.array.copy(), xt.grad.array.copy()))
    assert results[0][0].tobytes() == results[1][0].tobytes()
    assert results[0][1].tobytes() == results[1][1].tobytes()


def test_validation_errors():
    x = minigrad.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match="pad"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="pad"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(x, 6)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(x, 3, dilation=3)
    with pytest.raises(ValueError, match="stride"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="kernel_size"):
        F.avg_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match="4-D"):
        F.max_pool2d(minigrad.randn(5, 5), 2)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="float32 or float64"):
        F.max_pool1d(minigrad.tensor(np.ones((1, 4), dtype=np.int64)), 2)  # 2-d/3-d take ints


def test_unpool_bad_indices_raise_before_writing():
    out, indices = F.max_pool2d(minigrad.randn(1, 2, 4, 4), 2, return_indices=True)
    too_big = minigrad.tensor(indices.array + 100)
    with pytest.raises(IndexError, match="out of range"):
        F.max_unpool2d(out, too_big, 2)
    negative = minigrad.tensor(indices.array - 100)
    with pytest.raises(IndexError, match="out of range"):
        F.max_unpool2d(out, negative, 2)
    with pytest.raises(ValueError, match="do not match"):
        F.max_unpool2d(out, minigrad.tensor(indices.array[:, :1]), 2)
    with pytest.raises(TypeError, match="integer"):
        F.max_unpool2d(out, out, 2)
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(out, indices, 2, output_size=(10, 10))


def test_kernel_paths_follow_set_cpu_path():
    for path in cpu.supported_paths():
        with cpu.use_cpu_path(path):
            assert pooling_module.kernel_paths() == {"max_pool": path, "avg_pool": path}
