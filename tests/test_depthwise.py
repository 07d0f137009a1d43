"""The depthwise backward pass (kernels.depthwise_backward: input, weight and
bias gradients in one pass) against the NumPy reference, in float32 (the
explicit-vector row loops of csrc/depthwise.h, on every instruction-set path
this CPU runs) and float64."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad._C import depthwise as depthwise_module
from minigrad.kernels import conv as kernels
from minigrad.kernels import conv_plan, cpu
from minigrad.reference.conv import conv as ref_conv
from minigrad.reference.conv import conv_transpose as ref_conv_transpose
from minigrad.reference.conv import im2col as ref_im2col


def _output_size(shape, kernel, stride, padding, dilation):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation))


def _reference_gradients(x, gy, weight, stride, padding, dilation):
    """(grad_x, grad_w, grad_b) of a depthwise conv, computed in float64 from im2col / col2im."""
    x, gy, weight = (a.astype(np.float64) for a in (x, gy, weight))
    N, C = x.shape[:2]
    M, kernel = weight.shape[0], weight.shape[2:]
    K = int(np.prod(kernel))
    grad_x = ref_conv_transpose(gy, weight, None, x.shape[2:],
                                stride, padding, dilation, C)
    columns = ref_im2col(x, gy.shape[2:], kernel, stride, padding, dilation)   # (N, C*K, P)
    columns = np.repeat(columns.reshape(N, C, K, -1), M // C, axis=1)           # (N, M, K, P)
    grad_w = np.einsum("nmp,nmkp->mk", gy.reshape(N, M, -1), columns).reshape(weight.shape)
    return grad_x, grad_w, gy.sum(axis=(0, 2, 3, 4))


# (input shape, channel multiplier, kernel, stride, padding, dilation)
GEOMETRIES = [
    ((3, 4, 1, 9, 37), 1, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),    # two 16-wide blocks + a short one
    ((2, 3, 1, 20, 16), 2, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),   # multiplier 2, exact blocks
    ((2, 3, 1, 11, 21), 1, (1, 5, 5), (1, 1, 1), (0, 2, 2), (1, 1, 1)),   # 5x5: the general loops
    ((2, 3, 1, 12, 19), 1, (1, 3, 3), (1, 1, 1), (0, 2, 2), (1, 2, 2)),   # dilated
    ((2, 3, 1, 1, 40), 2, (1, 1, 4), (1, 1, 1), (0, 0, 3), (1, 1, 1)),    # conv1d, asymmetric reach
    ((2, 3, 1, 6, 5), 1, (1, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1)),     # no padding, narrow rows
    ((2, 3, 1, 9, 18), 1, (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1)),    # stride 2: the scatter loops
    ((2, 3, 1, 9, 37), 1, (1, 3, 3), (1, 1, 2), (0, 1, 1), (1, 1, 1)),    # stride (1, 2): 19 outputs a row
    ((2, 3, 1, 11, 70), 2, (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1)),   # stride 2, 35 outputs a row
    ((2, 3, 1, 12, 40), 1, (1, 5, 5), (1, 2, 2), (0, 2, 2), (1, 1, 1)),   # 5x5, stride 2
    ((2, 2, 4, 5, 17), 1, (2, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1)),    # conv3d
]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_backward_matches_reference(geometry, dtype, rng, cpu_path):
    shape, mult, kernel, stride, padding, dilation = geometry
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((shape[1] * mult, 1) + kernel).astype(dtype)
    out = _output_size(shape, kernel, stride, padding, dilation)
    gy = rng.standard_normal((shape[0], shape[1] * mult) + out).astype(dtype)
    got = kernels.depthwise_backward(x, gy, weight, stride, padding, dilation)
    expected = _reference_gradients(x, gy, weight, stride, padding, dilation)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for name, a, b in zip(("grad_x", "grad_w", "grad_b"), got, expected):
        assert a.dtype == dtype and a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max(), err_msg=name)


# (input shape, channel multiplier, kernel, stride, padding, dilation): the forward
# pass, stride 2 along rows included (depthwise.h's stride-2 loops in float32)
FORWARD_GEOMETRIES = GEOMETRIES + [
    ((2, 3, 1, 12, 33), 1, (1, 3, 3), (1, 3, 2), (0, 2, 1), (1, 2, 2)),   # dilated, strides (3, 2)
    ((2, 3, 1, 1, 50), 1, (1, 1, 3), (1, 1, 2), (0, 0, 0), (1, 1, 1)),    # conv1d, stride 2
    ((2, 3, 1, 7, 9), 1, (1, 3, 3), (1, 1, 3), (0, 1, 1), (1, 1, 1)),     # stride 3: the general loops
]


@pytest.mark.parametrize("geometry", FORWARD_GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_forward_matches_reference(geometry, dtype, rng, cpu_path):
    shape, mult, kernel, stride, padding, dilation = geometry
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((shape[1] * mult, 1) + kernel).astype(dtype)
    bias = rng.standard_normal(shape[1] * mult).astype(dtype)
    out = _output_size(shape, kernel, stride, padding, dilation)
    y = kernels.conv_forward(x, weight, bias, stride, padding, dilation, out, shape[1], "direct")
    expected = ref_conv(x.astype(np.float64), weight.astype(np.float64), bias.astype(np.float64), out,
                        stride, padding, dilation, shape[1])
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol * np.abs(expected).max())


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, True, True)])
def test_depthwise_backward_computes_only_what_is_needed(needs, rng):
    x = rng.standard_normal((2, 3, 1, 7, 20)).astype(np.float32)
    weight = rng.standard_normal((3, 1, 1, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((2, 3, 1, 7, 20)).astype(np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))
    full = kernels.depthwise_backward(x, gy, weight, *geometry)
    partial = kernels.depthwise_backward(x, gy, weight, *geometry, needs=needs)
    for need, a, b in zip(needs, partial, full):
        if need:
            np.testing.assert_array_equal(a, b)
        else:
            assert a is None


@pytest.mark.parametrize("mult,stride", [(1, 1), (2, 1), (1, 2)])
def test_weight_grad_ignores_what_a_tap_never_reads(mult, stride, rng, cpu_path):
    """An inf in column 0 is never under the rightmost tap (padding 1): that
    tap's gradient stays finite (also where a row ends in a short block, and
    where the one-pass backward has to redo the plane)."""
    x = rng.standard_normal((2, 2, 1, 5, 21)).astype(np.float32)
    x[1, :, :, 2, 0] = np.inf
    weight = rng.standard_normal((2 * mult, 1, 1, 3, 3)).astype(np.float32)
    geometry = ((1, 1, stride), (0, 1, 1), (1, 1, 1))
    gy = rng.standard_normal((2, 2 * mult, 1, 5) + _output_size(x.shape, (1, 3, 3), *geometry)[2:])
    gy = gy.astype(np.float32)
    _, grad_w, _ = kernels.depthwise_backward(x, gy, weight, *geometry)
    _, expected, _ = _reference_gradients(np.nan_to_num(x, posinf=0.0), gy, weight, *geometry)
    np.testing.assert_allclose(grad_w[..., 2], expected[..., 2], rtol=1e-4, atol=1e-4)
    assert np.isinf(grad_w[..., 1]).all()          # the middle tap reads column 0


def test_fused_backward_is_bitwise_identical_for_1_and_2_threads(rng, monkeypatch, cpu_path, set_threads):
    # 5 images x 3 channels = 15 planes: chunks of unequal size, split over the threads
    monkeypatch.setattr(conv_plan, "MIN_WORK_PER_THREAD", 1)
    x = rng.standard_normal((5, 3, 13, 35)).astype(np.float32)
    w = rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    results = []
    for threads in (1, 2, 1, 2):
        set_threads(threads)
        X, W, B = (minigrad.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(X, W, B, padding=1, groups=3)
        (y * y).sum().backward()
        results.append((y.array, X.grad.array, W.grad.array, B.grad.array))
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)


def test_gradcheck_depthwise_with_multiplier_and_bias(rng):
    x = minigrad.tensor(rng.standard_normal((2, 2, 5, 18)), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(4), requires_grad=True)
    assert minigrad.gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), (x, w, b))


def test_depthwise_backward_rejects_a_weight_of_the_wrong_shape(rng):
    x = rng.standard_normal((1, 3, 1, 4, 4)).astype(np.float32)
    gy = rng.standard_normal((1, 3, 1, 4, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="weight"):
        kernels.depthwise_backward(x, gy, np.ones((3, 2, 1, 3, 3), np.float32),
                                   (1, 1, 1), (0, 1, 1), (1, 1, 1))


@pytest.mark.parametrize("stride,padding,output_padding", [(2, 1, 1), (2, 0, 0), ((1, 2), 1, (0, 1)),
                                                           (3, 1, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_conv_transpose_matches_reference(stride, padding, output_padding, dtype, rng,
                                                   cpu_path):
    """A strided depthwise transposed convolution runs the input-gradient
    kernel: grad_out spread out by the stride, then the stride-1 forward loops."""
    x = rng.standard_normal((2, 3, 9, 21)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)      # (C_in, C_out / groups, kh, kw)
    b = rng.standard_normal(6).astype(dtype)
    y = F.conv_transpose2d(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(b), stride=stride,
                           padding=padding, output_padding=output_padding, groups=3).array
    s = (1,) + ((stride,) * 2 if isinstance(stride, int) else stride)
    p = (0,) + ((padding,) * 2 if isinstance(padding, int) else padding)
    op = (output_padding,) * 2 if isinstance(output_padding, int) else output_padding
    out = tuple((n - 1) * st - 2 * pa + 2 + o + 1 for n, st, pa, o in zip(x.shape[2:], s[1:], p[1:], op))
    expected = ref_conv_transpose(x[:, :, None].astype(np.float64), w[:, :, None].astype(np.float64),
                                  b.astype(np.float64), (1,) + out, s, p, (1, 1, 1), 3)[:, :, 0]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol * np.abs(expected).max())


def test_kernel_paths_follow_set_cpu_path():
    for path in cpu.supported_paths():
        with cpu.use_cpu_path(path):
            assert depthwise_module.kernel_paths() == {"depthwise": path}
    assert depthwise_module.kernel_paths() == {"depthwise": cpu.cpu_path()}


@pytest.mark.parametrize("step", ["forward", "input_grad", "weight_grad", "backward"])
def test_every_kernel_refuses_a_workspace_shorter_than_its_layout(step, rng):
    x = rng.standard_normal((2, 3, 1, 9, 10)).astype(np.float32)
    weight = rng.standard_normal((3, 1, 1, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((2, 3, 1, 9, 10)).astype(np.float32)
    geometry = ((1, 1, 1), (0, 1, 1), (1, 1, 1))            # stride, padding, dilation
    size = depthwise_module.depthwise_workspace_size(step, x.shape, gy.shape, (1, 3, 3), geometry[0],
                                                     geometry[2], 2, 2)
    assert size > 0
    # the plan asks the kernel module for the same layout
    plan = getattr(conv_plan.plan(np.float32, x.shape, gy.shape, weight.shape, 3, *geometry), step)
    assert plan.workspace == depthwise_module.depthwise_workspace_size(
        step, x.shape, gy.shape, (1, 3, 3), geometry[0], geometry[2], plan.chunks, plan.omp_threads)
    short = np.zeros(size - 1, dtype=np.float32)
    bias = np.zeros(3, dtype=np.float32)
    out = np.full(x.shape, 7.0, dtype=np.float32)
    with pytest.raises(ValueError, match=f"depthwise_{step}: workspace has {size - 1} elements, needs {size}"):
        if step == "forward":
            depthwise_module.depthwise_forward(x, weight, bias, out, short, *geometry, 2)
        elif step == "input_grad":
            depthwise_module.depthwise_input_grad(gy, weight, bias, out, short, *geometry, 2)
        elif step == "weight_grad":
            depthwise_module.depthwise_weight_grad(x, gy, np.zeros_like(weight), short, *geometry, 2, 2)
        else:
            depthwise_module.depthwise_backward(x, gy, weight, out, np.zeros_like(weight), bias, short,
                                                *geometry, 2, 2)
    assert np.all(out == 7.0)                               # no work done before the check
    with pytest.raises(ValueError, match="step must be one of"):
        depthwise_module.depthwise_workspace_size("sideways", x.shape, gy.shape, (1, 3, 3), geometry[0],
                                                  geometry[2], 2, 2)
