"""batch/layer/group/instance norm against the NumPy references, running statistics,
gradcheck, thread determinism, numerical stability, validation."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck
from minigrad._C import batchnorm as batchnorm_module
from minigrad.kernels import cpu
from minigrad.reference import normalization as ref

SHAPES = [(16, 5), (4, 3, 7), (3, 4, 5, 6), (2, 3, 3, 4, 5)]


def leaf(array):
    return minigrad.tensor(array, requires_grad=True)


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_training_matches_reference(shape, cpu_path):
    rng = np.random.default_rng(len(shape))
    channels = shape[1]
    x = rng.standard_normal(shape) * 3 + 2
    w, b = rng.standard_normal(channels), rng.standard_normal(channels)
    xt, wt, bt = leaf(x), leaf(w), leaf(b)
    out = F.batch_norm(xt, None, None, wt, bt, training=True)
    expected, cache = ref.batch_norm(x, w, b)
    np.testing.assert_allclose(out.array, expected, rtol=1e-10, atol=1e-12)
    grad = rng.standard_normal(shape)
    out.backward(grad)
    grad_x, grad_w, grad_b = ref.batch_norm_backward(grad, cache)
    np.testing.assert_allclose(xt.grad.array, grad_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(wt.grad.array, grad_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bt.grad.array, grad_b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_eval_uses_running_stats(shape):
    rng = np.random.default_rng(10 + len(shape))
    channels = shape[1]
    x = rng.standard_normal(shape)
    w, b = rng.standard_normal(channels), rng.standard_normal(channels)
    mean, var = rng.standard_normal(channels), rng.random(channels) + 0.5
    running_mean, running_var = minigrad.tensor(mean.copy()), minigrad.tensor(var.copy())
    out = F.batch_norm(minigrad.tensor(x), running_mean, running_var, minigrad.tensor(w),
                       minigrad.tensor(b), training=False)
    np.testing.assert_allclose(out.array, ref.batch_norm_eval(x, mean, var, w, b), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(running_mean.array, mean)  # untouched in eval mode
    xt, wt, bt = leaf(x[:2]), leaf(w), leaf(b)
    assert gradcheck(lambda a, c, d: F.batch_norm(a, running_mean, running_var, c, d), (xt, wt, bt))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_boundary_form_references_agree_with_the_whole_input_ones(dtype):
    """batch_norm_forward / batch_norm_backward_from_statistics (the kernel boundary's
    form, (N, C, L) arrays and float64 statistics) against batch_norm / _backward / _eval."""
    rng = np.random.default_rng(20)
    x = (rng.standard_normal((5, 3, 7)) * 2 + 1).astype(dtype)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    grad = rng.standard_normal(x.shape).astype(dtype)
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    y, mean, var, invstd = ref.batch_norm_forward(x, w, b, 1e-5)
    x64 = x.astype(np.float64)
    expected, cache = ref.batch_norm(x64, w, b)
    assert y.dtype == dtype and mean.dtype == var.dtype == invstd.dtype == np.float64
    np.testing.assert_allclose(y, expected, **tolerance)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x64.var(axis=(0, 2)) + 1e-5), rtol=1e-12)
    grad_x, grad_w, grad_b = ref.batch_norm_backward_from_statistics(grad, x, mean, invstd, w, True)
    assert grad_x.dtype == dtype and grad_w.dtype == grad_b.dtype == np.float64
    for got, want in zip((grad_x, grad_w, grad_b), ref.batch_norm_backward(grad.astype(np.float64), cache)):
        np.testing.assert_allclose(got, want, **tolerance)
    none, grad_w_only, _ = ref.batch_norm_backward_from_statistics(grad, x, mean, invstd, w, True, False)
    assert none is None
    np.testing.assert_array_equal(grad_w_only, grad_w)
    # eval: the given statistics, and grad_x = g * weight * invstd
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    y, mean, var, invstd = ref.batch_norm_forward(x, w, b, 1e-5, running_mean, running_var)
    np.testing.assert_allclose(y, ref.batch_norm_eval(x64, running_mean, running_var, w, b), **tolerance)
    np.testing.assert_array_equal(mean, running_mean)
    grad_x, _, _ = ref.batch_norm_backward_from_statistics(grad, x, mean, invstd, w, False)
    np.testing.assert_allclose(grad_x, grad * (w / np.sqrt(running_var + 1e-5))[:, None], **tolerance)
    # no affine: weight 1, bias 0
    plain, _, _, _ = ref.batch_norm_forward(x, None, None, 1e-5)
    np.testing.assert_allclose(plain, ref.batch_norm(x64, np.ones(3), np.zeros(3))[0], **tolerance)


def test_running_statistics_after_several_steps():
    rng = np.random.default_rng(3)
    channels, momentum = 4, 0.3
    running_mean, running_var = minigrad.zeros(channels), minigrad.ones(channels)
    mean_array, var_array = running_mean.array, running_var.array
    expected_mean, expected_var = np.zeros(channels), np.ones(channels)
    for step in range(5):
        x = (rng.standard_normal((8, channels, 3, 3)) * (step + 1) + step).astype(np.float32)
        F.batch_norm(minigrad.tensor(x), running_mean, running_var, training=True, momentum=momentum)
        batch = x.astype(np.float64)
        batch_mean = batch.mean(axis=(0, 2, 3))
        batch_var = batch.var(axis=(0, 2, 3), ddof=1)  # unbiased, as PyTorch
        expected_mean = (1 - momentum) * expected_mean + momentum * batch_mean
        expected_var = (1 - momentum) * expected_var + momentum * batch_var
    assert running_mean.array is mean_array and running_var.array is var_array  # updated in place
    assert running_mean.dtype == np.float32
    np.testing.assert_allclose(running_mean.array, expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(running_var.array, expected_var, rtol=1e-5, atol=1e-6)


def test_batch_norm_gradcheck():
    rng = np.random.default_rng(4)
    for shape in [(5, 3), (3, 2, 4), (2, 3, 3, 2)]:
        x, w, b = (leaf(rng.standard_normal(shape)), leaf(rng.standard_normal(shape[1])),
                   leaf(rng.standard_normal(shape[1])))
        assert gradcheck(lambda a, c, d: F.batch_norm(a, None, None, c, d, training=True), (x, w, b))
    assert gradcheck(lambda a: F.batch_norm(a, None, None, training=True), (x,))


def test_batch_norm_float32_stable_with_large_offset(cpu_path):
    # E[x^2] - E[x]^2 in float32 would lose every digit here
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((64, 3, 8, 8)) * 0.01 + 1000.0).astype(np.float32)
    out = F.batch_norm(minigrad.tensor(x), None, None, training=True)
    expected, _ = ref.batch_norm(x.astype(np.float64), np.ones(3), np.zeros(3))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(64, 5, 9, 11), (3, 7, 70, 70), (300, 6)])
def test_batch_norm_one_and_two_threads_bitwise_identical(shape, set_threads, cpu_path):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape).astype(np.float32) + 3
    grad = rng.standard_normal(shape).astype(np.float32)
    channels = shape[1]
    results = []
    for n in (1, 2):
        set_threads(n)
        xt, wt, bt = leaf(x), leaf(np.linspace(0.5, 2, channels, dtype=np.float32)), \
            leaf(np.zeros(channels, np.float32))
        running_mean, running_var = minigrad.zeros(channels), minigrad.ones(channels)
        out = F.batch_norm(xt, running_mean, running_var, wt, bt, training=True)
        out.backward(grad)
        results.append([a.tobytes() for a in (out.array, xt.grad.array, wt.grad.array, bt.grad.array,
                                              running_mean.array, running_var.array)])
    assert results[0] == results[1]


def test_layer_norm_matches_reference(cpu_path):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 5, 6)) * 2 + 1
    for normalized_shape in [(6,), (5, 6), (4, 5, 6)]:
        w, b = rng.standard_normal(normalized_shape), rng.standard_normal(normalized_shape)
        xt, wt, bt = leaf(x), leaf(w), leaf(b)
        out = F.layer_norm(xt, normalized_shape, wt, bt)
        expected, cache = ref.layer_norm(x, normalized_shape, w, b)
        np.testing.assert_allclose(out.array, expected, rtol=1e-10, atol=1e-12)
        grad = rng.standard_normal(x.shape)
        out.backward(grad)
        for got, want in zip((xt.grad, wt.grad, bt.grad), ref.layer_norm_backward(grad, cache)):
            np.testing.assert_allclose(got.array, want, rtol=1e-9, atol=1e-11)
    small = leaf(rng.standard_normal((3, 5)))
    assert gradcheck(lambda a, c, d: F.layer_norm(a, 5, c, d),
                     (small, leaf(rng.standard_normal(5)), leaf(rng.standard_normal(5))))
    assert gradcheck(lambda a: F.layer_norm(a, (5,)), (small,))


def test_group_norm_matches_reference(cpu_path):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 6, 4, 5))
    for groups in (1, 2, 3, 6):
        w, b = rng.standard_normal(6), rng.standard_normal(6)
        xt, wt, bt = leaf(x), leaf(w), leaf(b)
        out = F.group_norm(xt, groups, wt, bt)
        expected, cache = ref.group_norm(x, groups, w, b)
        np.testing.assert_allclose(out.array, expected, rtol=1e-10, atol=1e-12)
        grad = rng.standard_normal(x.shape)
        out.backward(grad)
        for got, want in zip((xt.grad, wt.grad, bt.grad), ref.group_norm_backward(grad, cache)):
            np.testing.assert_allclose(got.array, want, rtol=1e-9, atol=1e-11)
    small = leaf(rng.standard_normal((2, 4, 3)))
    assert gradcheck(lambda a, c, d: F.group_norm(a, 2, c, d),
                     (small, leaf(rng.standard_normal(4)), leaf(rng.standard_normal(4))))


def test_instance_norm_matches_reference_and_updates_running_stats():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 5, 6)) * 2 + 1
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    running_mean, running_var = minigrad.zeros(4, dtype=minigrad.float64), minigrad.ones(4, dtype=minigrad.float64)
    out = F.instance_norm(minigrad.tensor(x), running_mean, running_var, minigrad.tensor(w),
                          minigrad.tensor(b), momentum=0.5)
    np.testing.assert_allclose(out.array, ref.instance_norm(x, w, b), rtol=1e-10, atol=1e-12)
    # running stats: batch statistics per instance, averaged over the images
    np.testing.assert_allclose(running_mean.array, 0.5 * x.mean(axis=(2, 3)).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(running_var.array,
                               0.5 + 0.5 * x.var(axis=(2, 3), ddof=1).mean(axis=0), rtol=1e-12)
    small = leaf(rng.standard_normal((2, 3, 4)))
    assert gradcheck(lambda a, c, d: F.instance_norm(a, weight=c, bias=d),
                     (small, leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))))
    evaluated = F.instance_norm(minigrad.tensor(x), running_mean, running_var, use_input_stats=False)
    np.testing.assert_allclose(evaluated.array,
                               ref.batch_norm_eval(x, running_mean.array, running_var.array,
                                                   np.ones(4), np.zeros(4)), rtol=1e-10)


def test_validation_errors():
    x = minigrad.randn(4, 3, 5)
    with pytest.raises(ValueError, match="running_mean should contain 3"):
        F.batch_norm(x, minigrad.zeros(4), minigrad.ones(4), training=True)
    with pytest.raises(ValueError, match="weight should contain 3"):
        F.batch_norm(x, None, None, minigrad.ones(2), training=True)
    with pytest.raises(ValueError, match="required when training=False"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(minigrad.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match="num_groups"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        F.instance_norm(minigrad.randn(4, 3))


def test_kernel_paths_follow_set_cpu_path():
    for path in cpu.supported_paths():
        with cpu.use_cpu_path(path):
            assert batchnorm_module.kernel_paths() == {"batch_norm": path}
