"""Convolutions against the NumPy reference (minigrad/reference/conv.py) and scipy."""
import gc
import math
import os
import threading

import numpy as np
import pytest
import scipy.signal

import minigrad
import minigrad.nn.functional as F
from minigrad._C import conv as compiled_conv
from minigrad.kernels import conv as kernels
from minigrad.kernels import conv_plan
from minigrad.kernels import gemm as gemm_kernels
from minigrad.reference.conv import col2im as ref_col2im
from minigrad.reference.conv import conv as ref_conv
from minigrad.reference.conv import conv_transpose as ref_conv_transpose
from minigrad.reference.conv import conv_weight_grad as ref_conv_weight_grad
from minigrad.reference.conv import im2col as ref_im2col
from minigrad.reference.conv import pack_columns as ref_pack_columns
from minigrad.reference.conv import winograd_conv as ref_winograd_conv


def _to3(values, fill):
    return (fill,) * (3 - len(values)) + tuple(values)


def _random_conv_config(rng, dims, transposed):
    """A random small geometry: (input shape, weight shape, kwargs)."""
    groups = int(rng.choice([1, 1, 2, 3]))
    cin = groups * int(rng.integers(1, 3))
    cout = groups * int(rng.integers(1, 3))
    batch = int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, size=dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=dims))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=dims))
    size = tuple(int(d * (k - 1) + 1 + rng.integers(0, 5)) for k, d in zip(kernel, dilation))
    if transposed:
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        padding = tuple(min(p, (d * (k - 1) + op) // 2) for p, d, k, op
                        in zip(padding, dilation, kernel, output_padding))
        weight = (cin, cout // groups) + kernel
        kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                      dilation=dilation)
    else:
        weight = (cout, cin // groups) + kernel
        kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return (batch, cin) + size, weight, kwargs


def _reference_forward(dims, transposed, x, w, b, kwargs):
    """The reference result in the user's layout (N, C, *spatial)."""
    stride = _to3(kwargs["stride"], 1)
    padding = _to3(kwargs["padding"], 0)
    dilation = _to3(kwargs["dilation"], 1)
    x5 = x.reshape(x.shape[:2] + (1,) * (3 - dims) + x.shape[2:])
    w5 = w.reshape(w.shape[:2] + (1,) * (3 - dims) + w.shape[2:])
    if transposed:
        out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in zip(
            x.shape[2:], kwargs["stride"], kwargs["padding"], kwargs["dilation"], w.shape[2:],
            kwargs["output_padding"]))
        y5 = ref_conv_transpose(x5, w5, b, _to3(out, 1), stride, padding, dilation, kwargs["groups"])
    else:
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, s, p, d, k in zip(
            x.shape[2:], kwargs["stride"], kwargs["padding"], kwargs["dilation"], w.shape[2:]))
        y5 = ref_conv(x5, w5, b, _to3(out, 1), stride, padding, dilation, kwargs["groups"])
    return y5.reshape(y5.shape[:2] + y5.shape[5 - dims:])


FUNCTIONS = {(1, False): F.conv1d, (2, False): F.conv2d, (3, False): F.conv3d,
             (1, True): F.conv_transpose1d, (2, True): F.conv_transpose2d, (3, True): F.conv_transpose3d}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_reference(dims, transposed, dtype, rng, cpu_path):
    fn = FUNCTIONS[dims, transposed]
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for _ in range(12):
        x_shape, w_shape, kwargs = _random_conv_config(rng, dims, transposed)
        out_channels = w_shape[1] * kwargs["groups"] if transposed else w_shape[0]
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(out_channels).astype(dtype)
        X = minigrad.tensor(x, requires_grad=True)
        W = minigrad.tensor(w, requires_grad=True)
        B = minigrad.tensor(b, requires_grad=True)
        y = fn(X, W, B, **kwargs)
        expected = _reference_forward(dims, transposed, x.astype(np.float64), w.astype(np.float64),
                                      b.astype(np.float64), kwargs)
        assert y.dtype == dtype and y.shape == expected.shape, (kwargs, y.shape, expected.shape)
        np.testing.assert_allclose(y.array, expected, rtol=tol, atol=tol, err_msg=str(kwargs))

        # Backward against the reference's own Jacobian: for a linear map y = A x,
        # <A x, g> is linear in x, so finite differences are exact up to rounding.
        g = rng.standard_normal(y.shape)
        y.backward(g.astype(dtype))
        x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)

        def loss(xv, wv, bv):
            return float(np.sum(_reference_forward(dims, transposed, xv, wv, bv, kwargs) * g))

        base = loss(x64, w64, b64)
        for array, grad, name in ((x64, X.grad.array, "x"), (w64, W.grad.array, "w"), (b64, B.grad.array, "b")):
            assert grad.shape == array.shape and grad.dtype == dtype
            index = tuple(int(rng.integers(0, n)) for n in array.shape)
            bumped = [x64.copy(), w64.copy(), b64.copy()]
            which = "xwb".index(name)
            bumped[which][index] += 1.0
            directional = loss(*bumped) - base
            np.testing.assert_allclose(grad[index], directional, rtol=tol * 10, atol=tol * 10,
                                       err_msg=f"d/d{name} at {index}, {kwargs}")


def test_conv2d_matches_scipy_correlate(rng):
    x = rng.standard_normal((2, 3, 9, 7))
    w = rng.standard_normal((4, 3, 3, 2))
    y = F.conv2d(minigrad.tensor(x), minigrad.tensor(w)).array
    expected = np.zeros((2, 4, 7, 6))
    for n in range(2):
        for m in range(4):
            for c in range(3):
                expected[n, m] += scipy.signal.correlate(x[n, c], w[m, c], mode="valid")
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_conv1d_and_conv3d_match_scipy_correlate(rng):
    x = rng.standard_normal((1, 2, 11))
    w = rng.standard_normal((3, 2, 4))
    y = F.conv1d(minigrad.tensor(x), minigrad.tensor(w), padding=2).array
    padded = np.pad(x, [(0, 0), (0, 0), (2, 2)])
    expected = np.stack([sum(scipy.signal.correlate(padded[0, c], w[m, c], mode="valid") for c in range(2))
                         for m in range(3)])[None]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)

    x = rng.standard_normal((1, 2, 5, 6, 4))
    w = rng.standard_normal((2, 2, 2, 3, 2))
    y = F.conv3d(minigrad.tensor(x), minigrad.tensor(w)).array
    expected = np.stack([sum(scipy.signal.correlate(x[0, c], w[m, c], mode="valid") for c in range(2))
                         for m in range(2)])[None]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_separable_1x3_then_3x1_equals_outer_product_kernel(rng):
    x = rng.standard_normal((2, 1, 8, 9))
    row, col = rng.standard_normal(3), rng.standard_normal(3)
    separable = F.conv2d(F.conv2d(minigrad.tensor(x), minigrad.tensor(row.reshape(1, 1, 1, 3))),
                         minigrad.tensor(col.reshape(1, 1, 3, 1)))
    full = F.conv2d(minigrad.tensor(x), minigrad.tensor(np.outer(col, row).reshape(1, 1, 3, 3)))
    np.testing.assert_allclose(separable.array, full.array, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding(padding, rng):
    x = rng.standard_normal((2, 2, 7, 8))
    for kernel, dilation in (((3, 3), 1), ((2, 4), 1), ((3, 2), (2, 3))):
        w = rng.standard_normal((3, 2) + kernel)
        y = F.conv2d(minigrad.tensor(x), minigrad.tensor(w), padding=padding, dilation=dilation)
        d = (dilation, dilation) if isinstance(dilation, int) else dilation
        if padding == "same":
            assert y.shape == x.shape[:1] + (3,) + x.shape[2:]
            total = [di * (k - 1) for di, k in zip(d, kernel)]
            padded = np.pad(x, [(0, 0), (0, 0)] + [(t // 2, t - t // 2) for t in total])
        else:
            padded = x
        expected = F.conv2d(minigrad.tensor(padded), minigrad.tensor(w), dilation=dilation)
        np.testing.assert_allclose(y.array, expected.array, rtol=1e-12, atol=1e-12)


def test_unbatched_input(rng):
    x = rng.standard_normal((3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    X = minigrad.tensor(x, requires_grad=True)
    y = F.conv2d(X, minigrad.tensor(w), padding=1)
    batched = F.conv2d(minigrad.tensor(x[None]), minigrad.tensor(w), padding=1)
    assert y.shape == (4, 6, 5)
    np.testing.assert_allclose(y.array, batched.array[0], rtol=1e-12)
    y.sum().backward()
    assert X.grad.shape == x.shape
    t = F.conv_transpose1d(minigrad.tensor(rng.standard_normal((3, 5))),
                           minigrad.tensor(rng.standard_normal((3, 2, 3))),
                           stride=2)
    assert t.shape == (2, 11)


def test_empty_batch(rng):
    x = minigrad.tensor(np.zeros((0, 2, 5, 5), dtype=np.float32), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.shape == (0, 3, 3, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape and np.all(w.grad.array == 0)


@pytest.mark.parametrize("fn,kwargs,transposed", [
    (F.conv2d, dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), False),
    (F.conv2d, dict(groups=4, padding=1), False),                       # depthwise
    (F.conv2d, dict(), False),                                          # 1x1 when k == 1
    (F.conv_transpose2d, dict(stride=2, padding=1, output_padding=1, groups=2), True),
    (F.conv_transpose2d, dict(stride=2, groups=4, dilation=2, output_padding=1), True),
    (F.conv_transpose2d, dict(groups=4, dilation=2, padding=1, output_padding=1), True),   # depthwise, stride 1
    (F.conv1d, dict(stride=2, padding=1), False),
    (F.conv3d, dict(padding=(0, 1, 1), groups=2), False),
    (F.conv_transpose3d, dict(stride=(1, 2, 1)), True),
])
def test_gradcheck_float64(fn, kwargs, transposed, rng):
    dims = {F.conv1d: 1, F.conv2d: 2, F.conv3d: 3, F.conv_transpose2d: 2, F.conv_transpose3d: 3}[fn]
    groups = kwargs.get("groups", 1)
    spatial = {1: (5,), 2: (4, 3), 3: (3, 3, 2)}[dims]
    kernel = {1: (3,), 2: (2, 2), 3: (2, 2, 1)}[dims]
    if fn is F.conv2d and not kwargs:
        kernel = (1, 1)
    cin = 4 if groups == 4 else 2
    cout = 4 if groups == 4 else 2
    w_shape = (cin, cout // groups) + kernel if transposed else (cout, cin // groups) + kernel
    x = minigrad.tensor(rng.standard_normal((2, cin) + spatial), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal(w_shape), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(cout), requires_grad=True)
    assert minigrad.gradcheck(lambda x, w, b: fn(x, w, b, **kwargs), (x, w, b))


# ---------------------------------------------------------------------------
# Kernel level: im2col/col2im, the two algorithms, threads, memory
# ---------------------------------------------------------------------------

GEOMETRIES = [  # input (N, C, D, H, W), kernel, stride, padding, dilation
    ((2, 3, 1, 7, 6), (1, 3, 2), (1, 2, 1), (0, 1, 2), (1, 1, 2)),
    ((1, 2, 4, 5, 3), (2, 2, 3), (2, 1, 1), (1, 0, 1), (1, 2, 1)),
    ((3, 1, 1, 1, 9), (1, 1, 4), (1, 1, 3), (0, 0, 2), (1, 1, 1)),
]


def _output_size(shape, kernel, stride, padding, dilation):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation))


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_matches_reference_and_col2im_is_its_adjoint(geometry, dtype, rng):
    shape, kernel, stride, padding, dilation = geometry
    out = _output_size(shape, kernel, stride, padding, dilation)
    x = rng.standard_normal(shape).astype(dtype)
    columns = kernels.im2col(x, out, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(columns, ref_im2col(x, out, kernel, stride, padding, dilation))
    c = rng.standard_normal(columns.shape).astype(dtype)
    back = kernels.col2im(c, shape, out, kernel, stride, padding, dilation)
    np.testing.assert_allclose(back, ref_col2im(c, shape, out, kernel, stride, padding, dilation),
                               rtol=1e-5, atol=1e-5)
    # <im2col(x), c> == <x, col2im(c)>
    lhs = np.sum(columns.astype(np.float64) * c)
    rhs = np.sum(x.astype(np.float64) * back)
    assert abs(lhs - rhs) <= 1e-4 * (1 + abs(lhs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_depthwise_matches_gemm(dtype, rng):
    for mult, stride, padding, dilation, shape, kernel in (
            (1, (1, 1, 1), (0, 1, 1), (1, 1, 1), (2, 3, 1, 9, 8), (1, 3, 3)),
            (3, (1, 2, 2), (0, 2, 0), (1, 1, 2), (2, 3, 1, 9, 8), (1, 3, 3)),
            (2, (1, 1, 3), (0, 0, 1), (1, 2, 1), (2, 3, 1, 9, 8), (1, 3, 3)),
            (2, (1, 1, 1), (1, 0, 3), (2, 1, 2), (2, 3, 5, 7, 37), (2, 3, 4)),     # 3-d, 16-wide blocks
            (1, (1, 1, 1), (0, 5, 0), (1, 1, 1), (3, 3, 1, 6, 18), (1, 2, 2)),     # padding > reach
        ):
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((3 * mult, 1) + kernel).astype(dtype)
        b = rng.standard_normal(3 * mult).astype(dtype)
        out = _output_size(x.shape, kernel, stride, padding, dilation)
        results = {}
        for algorithm in ("gemm", "direct"):
            y = kernels.conv_forward(x, w, b, stride, padding, dilation, out, 3, algorithm)
            g = np.cos(np.arange(y.size)).reshape(y.shape).astype(dtype)
            gx = kernels.conv_input_grad(g, w, b[:3], stride, padding, dilation, x.shape, 3, algorithm)
            gw = kernels.conv_weight_grad(x, g, kernel, stride, padding, dilation, 3, algorithm)
            results[algorithm] = (y, gx, gw)
        tol = 2e-4 if dtype == np.float32 else 1e-11
        for a, b_ in zip(results["gemm"], results["direct"]):
            np.testing.assert_allclose(a, b_, rtol=tol, atol=tol)


@pytest.mark.parametrize("fn,x_shape,w_shape,kwargs", [
    (F.conv2d, (5, 6, 7, 6), (4, 3, 3, 3), dict(padding=1, groups=2, stride=(1, 2))),
    (F.conv2d, (5, 6, 7, 6), (4, 6, 1, 1), dict()),
    (F.conv_transpose2d, (5, 6, 4, 3), (6, 2, 3, 3), dict(stride=2, groups=3)),
    (F.conv_transpose2d, (3, 6, 4, 3), (6, 2, 1, 1), dict(groups=3)),
])
def test_one_image_per_gemm_matches_several(fn, x_shape, w_shape, kwargs, rng, monkeypatch):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    out_channels = w_shape[1] * kwargs.get("groups", 1) if fn is F.conv_transpose2d else w_shape[0]
    b = rng.standard_normal(out_channels)
    results = []
    for columns in (1, 1024):          # one image per GEMM, then all images in one GEMM
        monkeypatch.setattr(conv_plan, "COLUMNS_PER_GEMM", columns)
        X, W, B = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
        y = fn(X, W, B, **kwargs)
        (y * y).sum().backward()
        results.append((y.array, X.grad.array, W.grad.array, B.grad.array))
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)


CONFIGS_FOR_THREADS = [
    (F.conv2d, (8, 6, 10, 9), (8, 3, 3, 3), dict(padding=1, groups=2)),      # im2col + GEMM
    (F.conv2d, (8, 6, 10, 9), (12, 1, 3, 3), dict(padding=1, groups=6)),     # depthwise
    (F.conv2d, (8, 6, 10, 9), (5, 6, 1, 1), dict()),                         # 1x1
    (F.conv_transpose2d, (8, 6, 5, 4), (6, 4, 4, 4), dict(stride=2, padding=1)),
    (F.conv2d, (1, 6, 10, 9), (8, 6, 3, 3), dict()),                         # batch of one
    (F.conv2d, (1, 30, 40, 70), (8, 30, 3, 3), dict(padding=1)),  # one image, the GEMM's threads
]


@pytest.mark.parametrize("fn,x_shape,w_shape,kwargs", CONFIGS_FOR_THREADS)
def test_bitwise_identical_for_1_and_2_threads(fn, x_shape, w_shape, kwargs, rng, monkeypatch,
                                              cpu_path, set_threads):
    monkeypatch.setattr(conv_plan, "MIN_WORK_PER_THREAD", 1)   # use every thread even on tiny inputs
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    out_channels = w_shape[1] * kwargs.get("groups", 1) if fn is F.conv_transpose2d else w_shape[0]
    b = rng.standard_normal(out_channels).astype(np.float32)
    results = []
    for threads in (1, 2, 1, 2):
        set_threads(threads)
        X, W, B = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
        y = fn(X, W, B, **kwargs)
        (y * y).sum().backward()
        results.append((y.array, X.grad.array, W.grad.array, B.grad.array))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_no_memory_growth_over_1000_calls(rng):
    x = minigrad.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    wd = minigrad.tensor(rng.standard_normal((8, 1, 3, 3)).astype(np.float32), requires_grad=True)

    def step():
        y = F.conv2d(x, w, padding=1)                      # im2col + GEMM
        z = F.conv2d(y, wd, groups=4)                      # depthwise
        t = F.conv_transpose2d(y, w, stride=2)             # GEMM + col2im, weight (4, 3, 3, 3)
        (z.sum() + t.sum()).backward()
        x.grad = w.grad = wd.grad = None

    for _ in range(50):
        step()
    gc.collect()
    before = _resident_bytes()
    for _ in range(1000):
        step()
    gc.collect()
    growth = _resident_bytes() - before
    assert growth < 2_000_000, f"resident memory grew by {growth} bytes over 1000 calls"


def test_calls_from_several_python_threads(rng, monkeypatch):
    monkeypatch.setattr(conv_plan, "MIN_WORK_PER_THREAD", 1)
    x = rng.standard_normal((4, 4, 12, 12)).astype(np.float32)
    weights = [rng.standard_normal((6, 4, 3, 3)).astype(np.float32) for _ in range(4)]
    expected = [F.conv2d(minigrad.tensor(x), minigrad.tensor(w), padding=1).array for w in weights]
    failures = []

    def work(i):
        for _ in range(20):
            y = F.conv2d(minigrad.tensor(x), minigrad.tensor(weights[i]), padding=1).array
            if not np.array_equal(y, expected[i]):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# ---------------------------------------------------------------------------
# Validation: ValueError before any kernel runs, naming the bad value
# ---------------------------------------------------------------------------

def _t(shape, dtype=np.float32):
    return minigrad.tensor(np.ones(shape, dtype=dtype))


@pytest.mark.parametrize("call,words", [
    (lambda: F.conv2d(_t((2, 3, 5)), _t((4, 3, 3))), "weight"),
    (lambda: F.conv2d(_t((1, 2, 3, 5, 5)), _t((4, 3, 3, 3))), "input"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 2, 3, 3))), "channels"),
    (lambda: F.conv2d(_t((2, 4, 5, 5)), _t((3, 2, 3, 3)), groups=2), "groups"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), groups=0), "groups"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), stride=0), "stride"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), stride=(1, -1)), "stride"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), padding=-1), "padding"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), padding="full"), "padding"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), padding="same", stride=2), "same"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), dilation=0), "dilation"),
    (lambda: F.conv2d(_t((2, 3, 2, 5)), _t((4, 3, 3, 3))), "kernel size"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), dilation=3), "kernel size"),
    (lambda: F.conv2d(_t((2, 3, 5, 5), np.int64), _t((4, 3, 3, 3), np.int64)), "float"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3), np.float64)), "dtype"),
    (lambda: F.conv2d(_t((2, 3, 5, 5)), _t((4, 3, 3, 3)), _t((3,))), "bias"),
    (lambda: F.conv1d(_t((2, 3, 5)), _t((4, 3, 3)), stride=(1, 1)), "stride"),
    (lambda: F.conv_transpose2d(_t((2, 3, 5, 5)), _t((3, 2, 3, 3)), stride=2, output_padding=2),
     "output_padding"),
    (lambda: F.conv_transpose2d(_t((2, 3, 5, 5)), _t((3, 2, 3, 3)), output_padding=-1), "output_padding"),
    (lambda: F.conv_transpose2d(_t((2, 3, 5, 5)), _t((4, 2, 3, 3))), "channels"),
    (lambda: F.conv_transpose2d(_t((2, 3, 5, 5)), _t((3, 2, 3, 3)), groups=2), "groups"),
    (lambda: F.conv_transpose2d(_t((2, 3, 2, 2)), _t((3, 2, 3, 3)), padding=3), "output size"),
    (lambda: F.conv_transpose2d(_t((2, 3, 5, 5)), _t((3, 2, 3, 3)), padding=-1), "padding"),
    (lambda: F.conv3d(_t((3, 5, 5)), _t((4, 3, 3, 3, 3))), "input"),
])
def test_validation_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_output_padding_allowed_below_dilation(rng):
    # output_padding may reach max(stride, dilation) - 1 (PyTorch's rule).
    x = minigrad.tensor(rng.standard_normal((1, 2, 4, 4)))
    w = minigrad.tensor(rng.standard_normal((2, 1, 3, 3)))
    y = F.conv_transpose2d(x, w, stride=1, output_padding=2, dilation=3)
    assert y.shape == (1, 1, 4 - 1 + 3 * 2 + 2 + 1, 4 - 1 + 3 * 2 + 2 + 1)


@pytest.mark.parametrize("slab_elements", [1, 200, 10**9])
def test_slabs_of_output_rows_match_the_reference(monkeypatch, slab_elements, cpu_path):
    # the own GEMM cuts each image into slabs of output rows; with tiny slabs they
    # cross depth boundaries of a 3-d conv and split 2-d images row by row
    monkeypatch.setattr(conv_plan, "SLAB_ELEMENTS", slab_elements)
    rng = np.random.default_rng(11)
    for shape, kernel, stride, padding, dilation, groups in [
            ((2, 3, 4, 5, 6), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),     # 'same', 3-d
            ((3, 4, 1, 7, 9), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 2),     # 'same', 2-d, groups
            ((2, 2, 1, 9, 8), (1, 3, 2), (1, 2, 1), (0, 2, 0), (1, 2, 1), 1),     # strided, dilated
            ((2, 6, 1, 5, 5), (1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1)]:    # pointwise
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((4, shape[1] // groups) + kernel).astype(np.float32)
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                    for n, p, d, k, s in zip(shape[2:], padding, dilation, kernel, stride))
        y = kernels.conv_forward(x, w, None, stride, padding, dilation, out, groups)
        expected = ref_conv(x.astype(np.float64), w.astype(np.float64), None, out, stride, padding,
                            dilation, groups)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        gx = kernels.conv_input_grad(gy, w, None, stride, padding, dilation, x.shape, groups)
        gw = kernels.conv_weight_grad(x, gy, kernel, stride, padding, dilation, groups)
        # adjoint identities: <conv(x), gy> = <x, gx> and = <w, gw>
        inner = float(np.sum(y.astype(np.float64) * gy))
        np.testing.assert_allclose(float(np.sum(x.astype(np.float64) * gx)), inner, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(float(np.sum(w.astype(np.float64) * gw)), inner, rtol=1e-4, atol=1e-3)


IMPLICIT_GEMM_CASES = [
    # input (N, C, D, H, W), kernel, stride, padding, dilation, groups
    ((2, 40, 1, 40, 70), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1),   # 2 k-blocks, 2 column blocks
    ((2, 4, 5, 6, 7), (3, 3, 3), (2, 1, 2), (1, 0, 2), (1, 2, 1), 1),      # 3-d, strided, dilated
    ((3, 6, 1, 9, 33), (1, 2, 5), (1, 1, 3), (0, 1, 2), (1, 1, 1), 2),     # groups, wide stride
    ((1, 3, 1, 1, 50), (1, 1, 4), (1, 1, 1), (0, 0, 3), (1, 1, 2), 3),     # 1-d, depth-free, groups
    ((2, 5, 1, 8, 8), (1, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1),      # no padding: no copy
    ((2, 3, 1, 6, 70), (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1), 1),     # stride 2, long rows
]


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,groups", [
    ((7, 5, 1, 7, 7), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1),      # 7x7, batch not a multiple
    ((5, 4, 2, 3, 5), (2, 3, 3), (1, 2, 1), (1, 1, 0), (1, 1, 2), 2),      # 3-d, strided, groups
    ((6, 3, 1, 4, 4), (1, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1),      # no padding: x read in place
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_implicit_gemm_puts_small_images_side_by_side(shape, kernel, stride, padding, dilation, groups,
                                                      with_bias, monkeypatch, cpu_path, set_threads):
    # several small images in one GEMM (conv_plan.implicit_images): column j of the packed
    # columns is position j % P of image j / P; each image's result is bitwise the one it
    # gets alone, for any thread count, and matches the float64 reference
    monkeypatch.setattr(conv_plan, "TAP_FORWARD_MAX_VECTORS", 0)      # the implicit GEMM, not broadcast taps
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((6, shape[1] // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32) if with_bias else None
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(shape[2:], padding, dilation, kernel, stride))
    results = {}
    for threads, columns in ((1, 1), (1, 100), (2, 100), (1, 10 ** 6)):   # 1: one image per GEMM
        set_threads(threads)
        monkeypatch.setattr(conv_plan, "IMPLICIT_COLUMNS_PER_GEMM", columns)
        plan = conv_plan.plan(np.float32, x.shape, (shape[0], 6) + out, w.shape, groups, stride, padding,
                              dilation)
        assert plan.forward.algorithm == "implicit_gemm"
        assert plan.forward.images == conv_plan.implicit_images(math.prod(out), shape[0], threads)
        results[threads, columns] = (plan.forward.images,
                                     kernels.conv_forward(x, w, b, stride, padding, dilation, out, groups))
    assert results[1, 1][0] == 1 and results[1, 10 ** 6][0] == shape[0]
    assert 1 < results[2, 100][0] <= -(-shape[0] // 2)
    expected = ref_conv(x.astype(np.float64), w.astype(np.float64),
                        None if b is None else b.astype(np.float64), out, stride, padding, dilation, groups)
    for _images, y in results.values():
        np.testing.assert_array_equal(y, results[1, 1][1])
    np.testing.assert_allclose(results[1, 1][1], expected, rtol=1e-4, atol=1e-4)


def test_implicit_images_fills_a_gemm_but_leaves_every_thread_work():
    assert conv_plan.implicit_images(49, 128, 2) == -(-conv_plan.IMPLICIT_COLUMNS_PER_GEMM // 49)
    assert conv_plan.implicit_images(49, 3, 2) == 2          # 3 images, 2 threads: 2 + 1
    assert conv_plan.implicit_images(49, 1, 2) == 1
    assert conv_plan.implicit_images(conv_plan.IMPLICIT_SMALL_IMAGE, 128, 2) == 1   # large enough alone


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,groups", IMPLICIT_GEMM_CASES)
def test_implicit_gemm_matches_reference_and_blas(shape, kernel, stride, padding, dilation, groups,
                                                  monkeypatch, cpu_path):
    # float32 forward packs the columns from the padded image (csrc/im2col_pack.h);
    # with stride 1 the input gradient is a forward convolution with flipped weights
    monkeypatch.setattr(conv_plan, "ADJOINT_MIN_CHANNELS", 1)    # the adjoint as a forward conv too
    monkeypatch.setattr(conv_plan, "TAP_FORWARD_MAX_VECTORS", 0)  # on the implicit GEMM, not broadcast taps
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((6, shape[1] // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(shape[2:], padding, dilation, kernel, stride))
    gy = rng.standard_normal((shape[0], 6) + out).astype(np.float32)
    bx = rng.standard_normal(shape[1]).astype(np.float32)
    results = []
    for pack_size in (gemm_kernels.PACK_SIZE, 0):          # own GEMM, then BLAS
        monkeypatch.setattr(gemm_kernels, "PACK_SIZE", pack_size)
        results.append((kernels.conv_forward(x, w, b, stride, padding, dilation, out, groups),
                        kernels.conv_input_grad(gy, w, bx, stride, padding, dilation, x.shape, groups),
                        kernels.conv_weight_grad(x, gy, kernel, stride, padding, dilation, groups,
                                                 with_bias=True)))
    expected = ref_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), out, stride,
                        padding, dilation, groups)
    np.testing.assert_allclose(results[0][0], expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-4)
    for own, blas in zip(results[0][2], results[1][2]):          # weight and bias gradients
        np.testing.assert_allclose(own, blas, rtol=1e-4, atol=1e-3)
    # the bias gradient (a GEMM column of ones with the own GEMM) sums grad_out
    np.testing.assert_allclose(results[0][2][1], gy.astype(np.float64).sum(axis=(0, 2, 3, 4)),
                               rtol=1e-4, atol=1e-3)
    # the input gradient is the adjoint: <conv(x), gy> = <x, grad_x> (bias aside)
    y = ref_conv(x.astype(np.float64), w.astype(np.float64), None, out, stride, padding, dilation, groups)
    grad_x = results[0][1].astype(np.float64) - bx.reshape(1, -1, 1, 1, 1)
    np.testing.assert_allclose(float(np.sum(x * grad_x)), float(np.sum(y * gy)), rtol=1e-4, atol=1e-3)
    # and so is the weight gradient: <conv(x, w), gy> = <w, grad_w>
    np.testing.assert_allclose(float(np.sum(w * results[0][2][0].astype(np.float64))), float(np.sum(y * gy)),
                               rtol=1e-4, atol=1e-3)


def test_adjoint_weight_flips_and_transposes_each_group(rng):
    w = rng.standard_normal((6, 2, 1, 2, 3))            # groups=3: Mg=2, Cg=2
    flipped = conv_plan.adjoint_weight(w, 3)
    assert flipped.shape == (6, 2, 1, 2, 3)
    for c in range(6):
        for m in range(2):
            group = c // 2
            np.testing.assert_array_equal(flipped[c, m], w[group * 2 + m, c % 2, ::-1, ::-1, ::-1])


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
def test_packed_columns_are_pack_b_of_im2col(cpu_path):
    # the packers copy, so they must agree with the reference exactly: blocks that
    # start and stop mid-row and mid-panel, strides 1-3 (2 has its own vector path),
    # 3-d, and the transposed packer's column of ones
    rng = np.random.default_rng(21)
    for shape, kernel, stride, padding, dilation in [
            ((1, 5, 1, 14, 14), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),
            ((1, 3, 1, 9, 70), (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1)),
            ((1, 2, 4, 6, 41), (3, 2, 3), (2, 1, 3), (1, 0, 2), (1, 2, 1)),
            ((1, 4, 1, 1, 300), (1, 1, 5), (1, 1, 1), (0, 0, 4), (1, 1, 2))]:
        x = rng.standard_normal(shape).astype(np.float32)
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                    for n, p, d, k, s in zip(shape[2:], padding, dilation, kernel, stride))
        C, K, P = shape[1], int(np.prod(kernel)), int(np.prod(out))
        for transposed in (False, True):
            height, width = (P, C * K) if transposed else (C * K, P)
            for _ in range(6):
                p0 = int(rng.integers(0, height))
                p1 = int(rng.integers(p0 + 1, min(height, p0 + 256) + 1))
                j0 = int(rng.integers(0, width))
                j1 = int(rng.integers(j0 + 1, width + 1))
                rows, columns = slice(p0, p1), slice(j0, j1)
                packed = kernels.pack_columns(x, out, kernel, stride, padding, dilation, rows, columns,
                                              transposed)
                expected = ref_pack_columns(x, out, kernel, stride, padding, dilation, rows, columns,
                                            transposed, nr=gemm_kernels.tile()[1])
                assert np.array_equal(packed, expected), (shape, transposed, rows, columns)


def test_blas_path_bitwise_identical_for_1_and_2_threads_on_one_image(rng, monkeypatch, set_threads):
    # float64 and MINIGRAD_GEMM=blas run on BLAS, whose sums change with its own
    # thread count: BLAS stays on one thread and a lone image is cut into slabs
    monkeypatch.setattr(gemm_kernels, "PACK_SIZE", 0)
    monkeypatch.setattr(conv_plan, "MIN_WORK_PER_THREAD", 1)
    x = rng.standard_normal((1, 30, 40, 70)).astype(np.float32)
    w = rng.standard_normal((8, 30, 3, 3)).astype(np.float32)
    results = []
    for threads in (1, 2):
        set_threads(threads)
        X = minigrad.tensor(x, requires_grad=True)
        W = minigrad.tensor(w, requires_grad=True)
        y = F.conv2d(X, W, padding=1)
        (y * y).sum().backward()
        results.append((y.array, X.grad.array, W.grad.array))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
def test_pack_columns_rejects_blocks_outside_the_matrix():
    x = np.zeros((1, 2, 1, 5, 5), np.float32)
    geometry = ((1, 5, 5), (1, 1, 3), (1, 1, 1), (0, 0, 1), (1, 1, 1))
    with pytest.raises(ValueError, match="rows"):
        kernels.pack_columns(x, *geometry, slice(0, 19), slice(0, 4))      # B has 18 rows
    with pytest.raises(ValueError, match="one image"):
        kernels.pack_columns(np.zeros((2, 2, 1, 5, 5), np.float32), *geometry, slice(0, 1), slice(0, 1))


@pytest.mark.parametrize("groups", [1, 8])
def test_conv2d_forward_crosses_into_compiled_code_once(groups, compiled_conv_calls):
    # dense (the implicit GEMM, or im2col + BLAS where the own GEMM is off) and
    # depthwise: after the first call of a shape (which plans it, asking the
    # kernels for their scratch sizes), a forward pass is one call into C
    rng = np.random.default_rng(8)
    x = minigrad.tensor(rng.standard_normal((2, 8, 12, 12)).astype(np.float32))
    w = minigrad.tensor(rng.standard_normal((8, 8 // groups, 3, 3)).astype(np.float32))
    F.conv2d(x, w, padding=1, groups=groups)
    taps = conv_plan.tap_forward((2, 8, 1, 12, 12), (8 // groups, 1, 3, 3), groups)   # not on AVX-512
    compiled_conv_calls.clear()
    F.conv2d(x, w, padding=1, groups=groups)
    if groups == 8:
        expected = "depthwise_forward"
    elif gemm_kernels.PACK_SIZE == 0:
        expected = "im2col_gemm_forward"
    else:
        expected = "tap_broadcast_forward" if taps else "implicit_gemm_forward"
    assert compiled_conv_calls == [expected]


REFERENCE_SWITCH_CASES = [
    # function, input shape, weight shape, keyword arguments
    (F.conv1d, (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    (F.conv2d, (2, 3, 9, 8), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    (F.conv2d, (2, 6, 7, 7), (6, 1, 3, 3), dict(padding=1, groups=6)),                  # depthwise
    (F.conv2d, (1, 5, 6, 6), (3, 5, 1, 1), dict()),                                      # 1x1
    (F.conv3d, (1, 2, 4, 5, 6), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1)),
    (F.conv_transpose1d, (2, 4, 6), (4, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (F.conv_transpose2d, (2, 3, 5, 4), (3, 2, 3, 3), dict(stride=2, padding=1, dilation=(1, 2))),
    (F.conv_transpose2d, (1, 4, 5, 5), (4, 1, 3, 3), dict(padding=1, groups=4)),         # depthwise
    (F.conv_transpose3d, (1, 2, 3, 3, 4), (2, 2, 2, 2, 3), dict(stride=(2, 1, 1))),
]


def _value_and_gradients(fn, x, w, b, kwargs):
    X, W, B = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
    y = fn(X, W, B, **kwargs)
    weights = np.cos(np.arange(y.array.size)).reshape(y.shape).astype(x.dtype)
    (y * minigrad.tensor(weights)).sum().backward()
    return y.array, X.grad.array, W.grad.array, B.grad.array


@pytest.mark.parametrize("fn,x_shape,w_shape,kwargs", REFERENCE_SWITCH_CASES)
def test_reference_switch_runs_every_conv_on_the_numpy_reference(fn, x_shape, w_shape, kwargs,
                                                                 compiled_conv_calls):
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    transposed = fn.__name__.startswith("conv_transpose")
    b = rng.standard_normal(w_shape[1] * kwargs.get("groups", 1) if transposed else w_shape[0])
    compiled = _value_and_gradients(fn, x, w, b, kwargs)
    assert compiled_conv_calls                      # the compiled kernels ran ...
    compiled_conv_calls.clear()
    with minigrad.use_reference_kernels():
        on_reference = _value_and_gradients(fn, x, w, b, kwargs)
    assert compiled_conv_calls == []                # ... and under the switch they did not
    for fast, slow in zip(compiled, on_reference):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_reference_switch_matches_the_implicit_gemm_in_float32(compiled_conv_calls):
    rng = np.random.default_rng(14)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 9, 9), (5, 4, 3, 3), (5,)))
    compiled = _value_and_gradients(F.conv2d, x, w, b, dict(padding=1))
    compiled_conv_calls.clear()
    with minigrad.use_reference_kernels():
        on_reference = _value_and_gradients(F.conv2d, x, w, b, dict(padding=1))
    assert compiled_conv_calls == []
    for fast, slow in zip(compiled, on_reference):
        np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-4)


def test_reference_switch_covers_im2col_and_col2im(compiled_conv_calls, rng):
    x = rng.standard_normal((2, 3, 1, 7, 6))
    geometry = ((1, 4, 3), (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1))
    columns = kernels.im2col(x, *geometry)
    back = kernels.col2im(columns, x.shape, *geometry)
    compiled_conv_calls.clear()
    with minigrad.use_reference_kernels():
        np.testing.assert_array_equal(kernels.im2col(x, *geometry), columns)
        np.testing.assert_allclose(kernels.col2im(columns, x.shape, *geometry), back, rtol=1e-14, atol=1e-14)
    assert compiled_conv_calls == []


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
def test_choose_algorithm_picks_the_kernel_for_each_product(monkeypatch):
    monkeypatch.setattr(conv_plan, "WINOGRAD_MIN_SIZE", 10**9)   # the other kernels (Winograd: its own test)

    def choose(c_in, c_out, kernel, stride=1, padding=1, groups=1, size=16):
        out = (size + 2 * padding - kernel) // stride + 1
        return conv_plan.choose_algorithm(np.float32, (2, c_in, 1, size, size), (2, c_out, 1, out, out),
                                          (c_out, c_in // groups, 1, kernel, kernel), groups, (1, stride, stride),
                                          (0, padding, padding), (1, 1, 1))
    many = conv_plan.ADJOINT_MIN_CHANNELS
    # the forward (and the input gradient as the adjoint's forward): broadcast taps while the
    # output channels (the input channels) fill at most TAP_FORWARD_MAX_VECTORS vectors
    widest = conv_plan.TAP_FORWARD_MAX_VECTORS * compiled_conv.tap_lanes()
    assert choose(widest, widest, 3)[:2] == ("tap_broadcast", "tap_broadcast")
    assert choose(widest + 1, widest + 1, 3)[:2] == ("implicit_gemm", "implicit_gemm")
    assert choose(widest, widest + 1, 3)[:2] == ("implicit_gemm",
                                                 "tap_broadcast" if widest >= many else "col2im_gemm")
    assert choose(16, 16, 3, groups=2)[:2] == ("implicit_gemm", "implicit_gemm")   # grouped: the GEMM per group
    lanes = compiled_conv.tap_lanes()
    assert choose(8, 3 * lanes // 4, 3).forward == "tap_broadcast"        # 3/4 of a vector: still taps
    assert choose(8, 3 * lanes // 4 - 1, 3).forward == "implicit_gemm"
    assert choose(2 * lanes, 1, 7)[:2] == ("implicit_gemm", "tap_broadcast")   # into 1 channel: the GEMM
    assert choose(1, 2 * lanes, 3)[:2] == ("implicit_gemm", "col2im_gemm")   # 9 im2col rows: too few
    assert choose(4, 2 * lanes, 3).forward == "tap_broadcast"             # 36 rows
    one_row = conv_plan.choose_algorithm(np.float32, (1, 16, 1, 1, 50), (1, 2 * lanes, 1, 1, 50),
                                         (2 * lanes, 16, 1, 1, 3), 1, (1, 1, 1), (0, 0, 1), (1, 1, 1))
    assert one_row.forward == "implicit_gemm"        # one image of one row: the GEMM shares it among threads
    # the weight gradient: broadcast taps while the output channels fill few vectors
    most = conv_plan.TAP_MAX_VECTORS * compiled_conv.tap_lanes()
    assert choose(24, most, 3).weight_grad == "tap_broadcast"
    assert choose(24, most + 1, 3).weight_grad == "implicit_gemm"
    assert choose(8, 8, 3, groups=2).weight_grad == "implicit_gemm"           # grouped: the GEMM per group
    assert choose(24, 48, 3).input_grad == "tap_broadcast"        # broadcast taps: any channel counts
    # on the implicit GEMM, the adjoint needs enough input channels (its rows)
    wide = 2 * widest
    assert choose(wide, 2 * wide, 3).input_grad == "implicit_gemm"
    assert choose(wide, 2 * wide, 3, groups=wide // 32).input_grad == "col2im_gemm"   # 32 < 64 per group
    assert choose(wide // 4, wide // 4, 3, groups=wide // 32).input_grad == "implicit_gemm"   # as many as outputs
    assert choose(many, many, 3, stride=2).input_grad == "col2im_gemm"         # strided: no adjoint conv
    assert choose(many, many, 3, padding=3).input_grad == "col2im_gemm"        # padding beyond the kernel
    assert choose(many, 2 * many, 1, padding=0).forward == "im2col_gemm"       # 1x1: a plain GEMM
    assert choose(8, 8, 3, groups=8) == ("depthwise",) * 3
    with pytest.raises(ValueError, match="algorithm must be None, 'gemm' or 'direct'"):
        conv_plan.choose_algorithm(np.float32, (1, 2, 1, 4, 4), (1, 2, 1, 4, 4), (2, 1, 1, 3, 3), 2,
                                   (1, 1, 1), (0, 1, 1), (1, 1, 1), algorithm="fast")
    with minigrad.use_reference_kernels(), pytest.raises(ValueError, match="the direct kernel needs groups"):
        kernels.conv_forward(np.zeros((1, 4, 1, 5, 5), np.float32), np.zeros((4, 2, 1, 3, 3), np.float32), None,
                             (1, 1, 1), (0, 0, 0), (1, 1, 1), (1, 3, 3), 2, algorithm="direct")


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
def test_implicit_gemm_forward_refuses_a_workspace_too_short():
    from minigrad._C import conv as compiled
    x = np.zeros((4, 2, 1, 5, 5), np.float32)
    w = np.zeros((3, 2, 1, 3, 3), np.float32)
    out = np.empty((4, 3, 1, 5, 5), np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))
    needed = compiled.implicit_forward_size(x.shape, out.shape, (1, 3, 3), *geometry, 1, 2)
    pack = np.empty(gemm_kernels.packed_size(3, 18) + gemm_kernels.PACK_SIZE, np.float32)
    for images, workspace, message in ((2, needed - 1, "images=2 needs a workspace of"),
                                       (1, 0, "images=1 needs a workspace of"),
                                       (0, needed, "images must be at least 1, got 0")):
        with pytest.raises(ValueError, match=message):
            compiled.implicit_gemm_forward(x, w, np.empty(0, np.float32), out, np.empty(workspace, np.float32),
                                           pack, *geometry, 1, images, 1, 1)
    compiled.implicit_gemm_forward(x, w, np.empty(0, np.float32), out, np.empty(needed, np.float32), pack,
                                   *geometry, 1, 2, 1, 1)
    assert np.all(out == 0)


# ---------------------------------------------------------------- broadcast taps
@pytest.mark.skipif(not compiled_conv.tap_broadcast_available(), reason="built without GCC-style vectors")
@pytest.mark.parametrize("n, c, m, size, kernel, stride, padding, dilation", [
    (3, 5, 7, 9, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),       # rows and channels off every block
    (2, 24, 24, 12, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),    # the main example's layer
    (4, 3, 50, 11, (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1)),     # strided, channels past 3 vectors
    (2, 8, 33, 10, (1, 5, 5), (1, 1, 1), (0, 2, 2), (1, 2, 2)),     # dilated
    (1, 1, 1, 5, (1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1)),       # one row, one channel
    (2, 4, 20, 6, (1, 2, 3), (1, 2, 1), (0, 0, 1), (1, 1, 1)),      # uneven kernel and stride
    (2, 3, 9, 5, (3, 3, 3), (2, 1, 1), (1, 1, 1), (1, 1, 1)),       # 3-d
    (9, 2, 5, 1, (1, 1, 3), (1, 1, 2), (0, 0, 1), (1, 1, 1)),       # 1-d, more images than chunks
    (2, 3, 40, 60, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),     # several tiles of output rows
    (11, 6, 20, 7, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),     # small images walked several at a time
    (13, 5, 12, 6, (1, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1)),     # the same unpadded: read from x itself
])
def test_broadcast_tap_weight_grad_matches_the_reference(n, c, m, size, kernel, stride, padding, dilation,
                                                         cpu_path, set_threads):
    """The broadcast-tap weight gradient on every path, against float64 im2col sums, and
    bitwise the same for 1, 2 and 3 threads; with the bias gradient from the same pass,
    and without it (an empty grad_bias)."""
    rng = np.random.default_rng(n * 100 + m)
    spatial = (size if kernel[0] > 1 else 1, size if kernel[1] > 1 or size > 1 else 1, size)
    x = rng.standard_normal((n, c) + spatial).astype(np.float32)
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation))
    grad_out = rng.standard_normal((n, m) + out).astype(np.float32)
    plan = conv_plan.plan(np.float32, x.shape, grad_out.shape, (m, c) + kernel, 1, stride, padding, dilation)
    assert plan.algorithms.weight_grad == ("tap_broadcast" if m <= conv_plan.TAP_MAX_VECTORS
                                           * compiled_conv.tap_lanes() else "implicit_gemm")
    expected = ref_conv_weight_grad(x.astype(np.float64), grad_out.astype(np.float64), kernel, stride, padding,
                                    dilation, 1)
    expected_bias = grad_out.astype(np.float64).sum(axis=(0, 2, 3, 4))
    results = []
    for threads in (1, 2, 3):
        set_threads(threads)
        for with_bias in (True, False):
            grad_w = np.empty((m, c) + kernel, dtype=np.float32)
            grad_b = np.full(m if with_bias else 0, np.nan, dtype=np.float32)
            bias_sums = np.full((2, m) if with_bias else (0, 0), np.nan)      # 2 chunks
            workspace = np.zeros(compiled_conv.tap_broadcast_size(x.shape, grad_out.shape, kernel, stride,
                                                                  padding, dilation, 2, threads), dtype=np.float32)
            compiled_conv.tap_broadcast_weight_grad(x, grad_out, grad_w, grad_b, bias_sums, workspace, stride,
                                                    padding, dilation, 2, threads)
            results.append((grad_w, grad_b))
            np.testing.assert_allclose(grad_w, expected, rtol=1e-4, atol=1e-4 * math.sqrt(n * math.prod(out)))
    np.testing.assert_allclose(results[0][1], expected_bias, rtol=1e-5, atol=1e-5 * math.sqrt(n * math.prod(out)))
    for grad_w, grad_b in results[1:]:
        assert np.array_equal(grad_w, results[0][0])
        assert grad_b.size == 0 or np.array_equal(grad_b, results[0][1])


@pytest.mark.skipif(not compiled_conv.tap_broadcast_available(), reason="built without GCC-style vectors")
@pytest.mark.parametrize("n, c, m, size, kernel, stride, padding, dilation", [
    (3, 5, 7, 9, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),       # rows and channels off every block
    (2, 24, 24, 28, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),    # the main example's layer
    (2, 3, 16, 14, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),     # rows walked as one line
    (4, 3, 50, 11, (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1)),     # strided, channels past 3 vectors
    (2, 6, 64, 11, (1, 3, 3), (1, 3, 3), (0, 0, 0), (1, 1, 1)),     # stride 3, no padding: 2 + 2 vectors
    (2, 8, 33, 10, (1, 5, 5), (1, 1, 1), (0, 2, 2), (1, 2, 2)),     # dilated
    (1, 40, 9, 20, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),     # one image in parts; 3 row blocks
    (2, 4, 20, 6, (1, 2, 3), (1, 2, 1), (0, 0, 1), (1, 1, 1)),      # uneven kernel and stride
    (2, 3, 9, 5, (3, 3, 3), (2, 1, 1), (1, 1, 1), (1, 1, 1)),       # 3-d
    (3, 2, 5, 1, (1, 1, 3), (1, 1, 2), (0, 0, 1), (1, 1, 1)),       # 1-d
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_broadcast_tap_forward_matches_the_reference(n, c, m, size, kernel, stride, padding, dilation, with_bias,
                                                     cpu_path, set_threads):
    """The broadcast-tap forward on every path against the float64 reference, bitwise the
    same for 1, 2 and 3 threads and for images cut into parts of their output rows."""
    rng = np.random.default_rng(n * 100 + m)
    spatial = (size if kernel[0] > 1 else 1, size if kernel[1] > 1 or size > 1 else 1, size)
    x = rng.standard_normal((n, c) + spatial).astype(np.float32)
    w = rng.standard_normal((m, c) + kernel).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32) if with_bias else np.empty(0, np.float32)
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation))
    plan = conv_plan.plan(np.float32, x.shape, (n, m) + out, w.shape, 1, stride, padding, dilation)
    assert plan.algorithms.forward == (
        "winograd" if conv_plan.winograd(x.shape, (n, m) + out, w.shape, 1, stride, dilation)
        else "tap_broadcast" if conv_plan.tap_forward((n, m) + out, (c,) + kernel, 1) else "implicit_gemm")
    expected = ref_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64) if with_bias else None,
                        out, stride, padding, dilation, 1)
    results = []
    for threads, parts in ((1, 1), (2, 1), (3, 1), (2, 3), (3, 2)):
        set_threads(threads)
        y = np.full((n, m) + out, np.nan, dtype=np.float32)
        workspace = np.full(compiled_conv.tap_forward_size(x.shape, y.shape, kernel, stride, padding, dilation,
                                                           threads), np.nan, dtype=np.float32)
        compiled_conv.tap_broadcast_forward(x, w, b, y, workspace, stride, padding, dilation, min(parts, out[1]),
                                            threads)
        results.append(y)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4 * math.sqrt(c * math.prod(kernel)))
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


@pytest.mark.skipif(not compiled_conv.tap_broadcast_available(), reason="built without GCC-style vectors")
def test_broadcast_tap_forward_refuses_bad_parts_and_a_short_workspace():
    x = np.zeros((2, 3, 1, 6, 6), np.float32)
    w = np.zeros((4, 3, 1, 3, 3), np.float32)
    y = np.empty((2, 4, 1, 6, 6), np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))
    needed = compiled_conv.tap_forward_size(x.shape, y.shape, (1, 3, 3), *geometry, 2)
    with pytest.raises(ValueError, match=f"needs a workspace of {needed} floats, got {needed - 1}"):
        compiled_conv.tap_broadcast_forward(x, w, np.empty(0, np.float32), y, np.empty(needed - 1, np.float32),
                                            *geometry, 1, 2)
    with pytest.raises(ValueError, match="parts must be at least 1, got 0"):
        compiled_conv.tap_broadcast_forward(x, w, np.empty(0, np.float32), y, np.empty(needed, np.float32),
                                            *geometry, 0, 2)


def test_plans_and_workspace_sizes_refuse_shapes_of_the_wrong_rank():
    """4-d shapes (a 2-d convolution's, not yet lifted to 3-d) get a clear error, never a read past the tuple."""
    geometry = ((1, 1, 1), (1, 1, 1), (1, 1, 1))
    with pytest.raises(ValueError, match=r"input_shape must have 5 entries .* got \(8, 4, 6, 6\)"):
        conv_plan.plan(np.float32, (8, 4, 6, 6), (8, 4, 1, 6, 6), (4, 4, 1, 3, 3), 1, *geometry)
    with pytest.raises(ValueError, match=r"stride must be a 3-tuple .* got \(1, 1\)"):
        conv_plan.plan(np.float32, (8, 4, 1, 6, 6), (8, 4, 1, 6, 6), (4, 4, 1, 3, 3), 1, (1, 1), *geometry[1:])
    shapes = ((8, 4, 6, 6), (8, 4, 6, 6), (3, 3))
    for size in (lambda: compiled_conv.tap_forward_size(*shapes, *geometry, 2),
                 lambda: compiled_conv.tap_broadcast_size(*shapes, *geometry, 1, 2),
                 lambda: compiled_conv.implicit_forward_size(*shapes, *geometry, 1, 1),
                 lambda: compiled_conv.padded_image_size(*shapes, *geometry)):
        with pytest.raises(ValueError, match=r"shapes \(N, C, D, H, W\) and a 3-d kernel expected"):
            size()
    with pytest.raises(ValueError, match="input_shape must have 5 entries"):
        kernels.conv_forward(np.zeros((8, 4, 6, 6), np.float32), np.zeros((4, 4, 3, 3), np.float32), None,
                             (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 6, 6), 1)


@pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0, reason="the own GEMM is off (MINIGRAD_GEMM=blas)")
def test_weight_gradient_kernels_refuse_bias_sums_of_another_shape():
    """grad_bias and its per-chunk sums are written by channel and chunk: a wrong
    shape is an error naming both, before anything is written."""
    x = np.zeros((2, 3, 1, 6, 6), np.float32)
    grad_out = np.zeros((2, 4, 1, 6, 6), np.float32)
    grad_w = np.empty((4, 3, 1, 3, 3), np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))
    workspace = np.zeros(1 << 16, np.float32)
    pack = np.zeros(gemm_kernels.PACK_SIZE, np.float32)
    for grad_b, bias_sums in ((np.empty(3, np.float32), np.empty((2, 4))),      # 3 bias values for 4 channels
                              (np.empty(4, np.float32), np.empty((1, 4))),      # 1 row for 2 chunks
                              (np.empty(4, np.float32), np.empty((2, 3)))):     # 3 columns for 4 channels
        message = (rf"grad_bias \({grad_b.shape[0]},\) and bias_sums \({bias_sums.shape[0]}, "
                   rf"{bias_sums.shape[1]}\) must be \(4,\) and \(2, 4\)")
        with pytest.raises(ValueError, match="implicit_gemm_weight_grad: " + message):
            compiled_conv.implicit_gemm_weight_grad(x, grad_out, grad_w, grad_b, bias_sums, workspace, pack,
                                                    *geometry, 1, 2, 1, 1)
        if compiled_conv.tap_broadcast_available():
            with pytest.raises(ValueError, match="tap_broadcast_weight_grad: " + message):
                compiled_conv.tap_broadcast_weight_grad(x, grad_out, grad_w, grad_b, bias_sums, workspace,
                                                        *geometry, 2, 1)


def test_plans_refuse_shapes_that_do_not_agree():
    """The kernels read x, weight and the output by their shapes: a weight whose channels are
    not the input's (or a batch that differs) is an error, not a read past the weight."""
    x = np.zeros((2, 3, 1, 6, 6), np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))
    with pytest.raises(ValueError, match=r"weight \(4, 5, 1, 3, 3\) \(groups=1\) do not agree.*\(4, 3, \.\.\.\)"):
        kernels.conv_forward(x, np.zeros((4, 5, 1, 3, 3), np.float32), None, *geometry, (1, 6, 6), 1)
    with pytest.raises(ValueError, match="groups=2 must divide the input's 3"):
        kernels.conv_forward(x, np.zeros((4, 1, 1, 3, 3), np.float32), None, *geometry, (1, 6, 6), 2)
    with pytest.raises(ValueError, match="expected the same batch"):
        kernels.conv_backward(x, np.zeros((4, 3, 1, 3, 3), np.float32), np.zeros((3, 4, 1, 6, 6), np.float32),
                              *geometry, 1)


# ---------------------------------------------------------------------------
# Winograd F(2x2, 3x3) (csrc/winograd.h)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, c, m, h, w, padding, out", [
    (2, 3, 4, 7, 9, (0, 1, 1), (1, 7, 9)),        # odd sizes: the last tiles half outside
    (1, 2, 3, 6, 5, (0, 0, 0), (1, 4, 3)),        # no padding
    (2, 3, 2, 8, 8, (0, 2, 1), (1, 10, 8)),       # padding 2 (an input gradient's adjoint of padding 0)
    (2, 2, 2, 6, 6, (0, 1, 1), (1, 5, 6)),        # less padding after than before (output_padding's kin)
    (1, 1, 1, 1, 1, (0, 1, 1), (1, 1, 1)),
])
def test_winograd_reference_is_the_convolution(n, c, m, h, w, padding, out):
    rng = np.random.default_rng(h * 10 + w)
    x, weight, bias = rng.standard_normal((n, c, 1, h, w)), rng.standard_normal((m, c, 1, 3, 3)), rng.standard_normal(m)
    np.testing.assert_allclose(ref_winograd_conv(x, weight, bias, out, padding),
                               ref_conv(x, weight, bias, out, (1, 1, 1), padding, (1, 1, 1), 1), rtol=0, atol=1e-12)


def _winograd(x, weight, bias, out_shape, padding, threads, fill=np.nan):
    y = np.full(out_shape, fill, dtype=np.float32)
    workspace = np.full(compiled_conv.winograd_size(x.shape, y.shape, threads), np.nan, dtype=np.float32)
    assert compiled_conv.winograd_forward(x, weight, bias, y, workspace, padding, threads)   # all finite
    return y


@pytest.mark.skipif(not compiled_conv.winograd_available(), reason="built without GCC-style vectors")
@pytest.mark.parametrize("n, c, m, h, w, padding, out", [
    (3, 5, 7, 9, 9, (0, 1, 1), (1, 9, 9)),         # channels and tiles off every vector
    (2, 24, 24, 28, 28, (0, 1, 1), (1, 28, 28)),   # the main example's layer: one image per item
    (7, 8, 24, 14, 14, (0, 1, 1), (1, 14, 14)),    # five images per item, the last item short
    (1, 16, 40, 70, 36, (0, 1, 1), (1, 70, 36)),   # one image in parts of its tile rows
    (2, 6, 9, 13, 11, (0, 2, 0), (1, 15, 9)),      # uneven padding, odd output
    (2, 4, 5, 8, 8, (0, 1, 1), (1, 7, 8)),         # output shorter than the padding allows
    (3, 3, 3, 3, 40, (0, 0, 1), (1, 1, 40)),       # one output row
    (2, 160, 96, 14, 14, (0, 1, 1), (1, 14, 14)),  # the fewest tiles per item (64)
    (5, 16, 16, 16, 16, (0, 1, 1), (1, 16, 16)),   # 256 tiles a row of V, lengthened to 257 (cache sets)
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_winograd_forward_matches_the_reference(n, c, m, h, w, padding, out, with_bias, cpu_path, set_threads):
    """The Winograd kernel on every path against the float64 convolution, bitwise the
    same for 1, 2 and 3 threads; it writes every output and reads no workspace it
    did not write (both start as NaN)."""
    rng = np.random.default_rng(n * 100 + m + h)
    x = rng.standard_normal((n, c, 1, h, w)).astype(np.float32)
    weight = rng.standard_normal((m, c, 1, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32) if with_bias else np.empty(0, np.float32)
    expected = ref_conv(x.astype(np.float64), weight.astype(np.float64), bias.astype(np.float64) if with_bias
                        else None, out, (1, 1, 1), padding, (1, 1, 1), 1)
    results = []
    for threads in (1, 2, 3):
        set_threads(threads)
        y = _winograd(x, weight, bias, (n, m) + out, padding, threads)
        # F(2x2, 3x3) rounds a little more than the direct sums (its transforms add
        # and subtract up to 4 terms): still far inside float32's tolerance here
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=2e-5 * math.sqrt(9 * c) * 4)
        results.append(y)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


@pytest.mark.skipif(not compiled_conv.winograd_available(), reason="built without GCC-style vectors")
def test_winograd_is_chosen_for_the_layers_it_is_faster_on(monkeypatch):
    def choose(c_in, c_out, size, stride=1, padding=1, kernel=3, dilation=1, groups=1, depth=1):
        out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        d_out = depth if depth == 1 else (depth + 2 * padding - kernel) // stride + 1
        return conv_plan.choose_algorithm(
            np.float32, (8, c_in, depth, size, size), (8, c_out, d_out, out, out),
            (c_out, c_in // groups, 1 if depth == 1 else kernel, kernel, kernel), groups,
            (1 if depth == 1 else stride, stride, stride), (0 if depth == 1 else padding, padding, padding),
            (1, dilation, dilation))
    assert choose(24, 24, 28)[:2] == ("winograd", "winograd")     # the main example's layers
    assert choose(24, 48, 14)[:2] == ("winograd", "winograd")
    assert choose(48, 48, 14)[:2] == ("winograd", "winograd")
    assert choose(64, 64, 32)[:2] == ("winograd", "winograd")
    assert choose(48, 96, 7)[:2] == ("tap_broadcast", "tap_broadcast")       # outputs under WINOGRAD_MIN_SIZE
    assert choose(16, 16, 28).forward == "tap_broadcast"                     # too few output channels
    assert choose(1, 24, 28).forward == "implicit_gemm"                      # too few input channels
    assert choose(128, 256, 14)[:2] != ("winograd", "winograd")              # more than WINOGRAD_MAX_CHANNELS
    assert choose(24, 24, 28, stride=2).forward != "winograd"
    assert choose(24, 24, 28, dilation=2).forward != "winograd"
    assert choose(24, 24, 28, kernel=5, padding=2).forward != "winograd"
    assert choose(24, 24, 28, groups=2).forward != "winograd"
    assert choose(24, 24, 14, depth=14).forward != "winograd"                # 3-d
    assert choose(24, 24, 28, padding=0).input_grad == "winograd"            # the adjoint's padding 2
    assert choose(24, 24, 28, padding=3).input_grad == "col2im_gemm"         # no adjoint convolution
    monkeypatch.setattr(conv_plan, "WINOGRAD_MIN_SIZE", 10**9)
    assert choose(24, 24, 28)[:2] == ("tap_broadcast", "tap_broadcast")


@pytest.mark.skipif(not compiled_conv.winograd_available(), reason="built without GCC-style vectors")
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv2d_by_winograd_matches_the_reference_forward_and_backward(padding, rng):
    """Through F.conv2d: a layer that runs its forward and input gradient by Winograd, against the
    reference kernels (and the weight gradient the broadcast taps give)."""
    x = rng.standard_normal((3, 24, 16, 15)).astype(np.float32)
    weight = (rng.standard_normal((32, 24, 3, 3)) / 15).astype(np.float32)
    bias = rng.standard_normal(32).astype(np.float32)
    plan = conv_plan.plan(np.float32, (3, 24, 1, 16, 15), (3, 32, 1, 14 + 2 * padding, 13 + 2 * padding),
                          (32, 24, 1, 3, 3), 1, (1, 1, 1), (0, padding, padding), (1, 1, 1))
    assert plan.algorithms.forward == "winograd"
    assert plan.algorithms.input_grad == ("winograd" if padding <= 2 else "col2im_gemm")
    results = []
    for reference in (False, True):
        tx = minigrad.tensor(x, requires_grad=True)
        tw, tb = minigrad.tensor(weight, requires_grad=True), minigrad.tensor(bias, requires_grad=True)
        with minigrad.use_reference_kernels(reference):
            y = F.conv2d(tx, tw, tb, padding=padding)
            g = minigrad.tensor(np.cos(np.arange(y.numel()).reshape(y.shape)).astype(np.float32))
            (y * g).sum().backward()
        results.append((y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()))
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not compiled_conv.winograd_available(), reason="built without GCC-style vectors")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_winograd_leaves_an_inf_or_nan_where_the_direct_sums_put_it(bad, cpu_path):
    """The transforms mix a patch's 16 values: a nan would reach outputs whose window never
    held it, an inf would come out as nan. The kernel says so (False) and the layer runs
    the direct kernel instead: inf, nan and finite outputs exactly where the reference has them."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 24, 1, 16, 13)).astype(np.float32)
    weight = rng.standard_normal((24, 24, 1, 3, 3)).astype(np.float32)
    x[1, 4, 0, 7, 6] = bad
    x[2, 0, 0, 15, 12] = bad                    # in the last tile row's half-outside tile
    y = np.empty((3, 24, 1, 16, 13), np.float32)
    workspace = np.zeros(compiled_conv.winograd_size(x.shape, y.shape, 2), np.float32)
    assert not compiled_conv.winograd_forward(x, weight, np.empty(0, np.float32), y, workspace, (0, 1, 1), 2)
    assert compiled_conv.winograd_forward(np.nan_to_num(x, posinf=0, neginf=0), weight, np.empty(0, np.float32),
                                          y, workspace, (0, 1, 1), 2)
    plan = conv_plan.plan(np.float32, x.shape, y.shape, weight.shape, 1, (1, 1, 1), (0, 1, 1), (1, 1, 1))
    assert plan.algorithms[:2] == ("winograd", "winograd")
    got = kernels.conv_forward(x, weight, None, (1, 1, 1), (0, 1, 1), (1, 1, 1), (1, 16, 13), 1)
    expected = ref_conv(x.astype(np.float64), weight.astype(np.float64), None, (1, 16, 13), (1, 1, 1), (0, 1, 1),
                        (1, 1, 1), 1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-4, atol=1e-3)
    # the input gradient (the adjoint's forward) likewise
    gy = rng.standard_normal(y.shape).astype(np.float32)
    gy[0, 3, 0, 2, 2] = bad
    got = kernels.conv_input_grad(gy, weight, None, (1, 1, 1), (0, 1, 1), (1, 1, 1), x.shape, 1)
    expected = ref_conv_transpose(gy.astype(np.float64), weight.astype(np.float64), None, (1, 16, 13), (1, 1, 1),
                                  (0, 1, 1), (1, 1, 1), 1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))


@pytest.mark.skipif(not compiled_conv.winograd_available(), reason="built without GCC-style vectors")
def test_winograd_forward_refuses_bad_arguments_before_any_work():
    x = np.zeros((2, 4, 1, 6, 6), np.float32)
    weight = np.zeros((5, 4, 1, 3, 3), np.float32)
    y = np.full((2, 5, 1, 6, 6), 7.0, np.float32)
    workspace = np.zeros(compiled_conv.winograd_size(x.shape, y.shape, 2), np.float32)
    none = np.empty(0, np.float32)
    with pytest.raises(ValueError, match="workspace has .* elements, needs"):
        compiled_conv.winograd_forward(x, weight, none, y, workspace[:-1], (0, 1, 1), 2)
    with pytest.raises(ValueError, match="needs 2-d 3x3 convolutions"):
        compiled_conv.winograd_forward(x, np.zeros((5, 4, 1, 3, 5), np.float32), none, y, workspace, (0, 1, 1), 2)
    with pytest.raises(ValueError, match="does not map"):
        compiled_conv.winograd_forward(x, np.zeros((5, 3, 1, 3, 3), np.float32), none, y, workspace, (0, 1, 1), 2)
    with pytest.raises(ValueError, match="bias has 3 entries, expected 0 or 5"):
        compiled_conv.winograd_forward(x, weight, np.zeros(3, np.float32), y, workspace, (0, 1, 1), 2)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        compiled_conv.winograd_forward(x, weight, none, y, workspace, (0, -1, 1), 2)
    assert np.all(y == 7.0)
