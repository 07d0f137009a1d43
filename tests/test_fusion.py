"""Batch norm fused with a following ReLU (ops.normalization.batch_norm_relu, and
nn.Sequential's use of it): values against the NumPy reference, bitwise equality
with the two ops run one after the other, float64 gradcheck, thread determinism,
and the cases that must not fuse (hooks, a subclass's own forward); and that the
first convolution of a conv-BN-ReLU net computes no input gradient."""
import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import gradcheck
from minigrad.kernels import activation as activation_kernels
from minigrad.kernels import batchnorm as kernels
from minigrad.ops import normalization as ops
from minigrad.reference import normalization as ref

SHAPES = [(16, 5), (4, 3, 7), (3, 4, 5, 6), (9, 3, 40, 50)]   # the last: rows longer than a block


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    weight, bias = rng.standard_normal(channels), rng.standard_normal(channels)
    grad = rng.standard_normal(shape).astype(dtype)
    return x, weight, bias, grad


def _as_ncl(array):
    return array.reshape(array.shape[0], array.shape[1], -1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernels_equal_batch_norm_then_relu_bitwise(shape, dtype, cpu_path):
    x, weight, bias, grad = _data(shape, dtype)
    x, grad = _as_ncl(x), _as_ncl(grad)
    fused, mean, var, invstd = kernels.batch_norm_relu_forward(x, weight, bias, 1e-5)
    normalized, mean_2, var_2, _ = kernels.batch_norm_forward(x, weight, bias, 1e-5)
    separate = activation_kernels.relu(normalized)
    assert (fused == 0).any() and (fused > 0).any()
    np.testing.assert_array_equal(fused, separate)
    np.testing.assert_array_equal(mean, mean_2)
    np.testing.assert_array_equal(var, var_2)
    fused_grads = kernels.batch_norm_relu_backward(grad, fused, x, mean, invstd, weight, True)
    masked = activation_kernels.relu_backward(grad, separate)
    separate_grads = kernels.batch_norm_backward(masked, x, mean, invstd, weight, True)
    for got, expected in zip(fused_grads, separate_grads):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_mask_recomputed_from_the_input_is_the_outputs_bitwise(shape, dtype, cpu_path):
    """The fused backward may recompute the ReLU's mask from x with the forward's scale and
    shift (relu_scale_shift) instead of reading the ReLU's output: the same mask, so the
    same bits, also for inputs whose normalised value lands on 0 or within rounding of it
    (x equal to the mean, its float neighbours, and a weight of 0 for one channel)."""
    x, weight, bias, grad = _data(shape, dtype, seed=3)
    x, grad = _as_ncl(x), _as_ncl(grad)
    bias[0], weight[-1] = 0.0, 0.0
    mean = x.astype(np.float64).mean(axis=(0, 2))
    edge = np.array([mean[0], np.nextafter(dtype(mean[0]), dtype(np.inf)),
                     np.nextafter(dtype(mean[0]), dtype(-np.inf))], dtype=dtype)
    x[0, 0, :min(3, x.shape[2])] = edge[:min(3, x.shape[2])]
    for training_weight in (weight, None):
        output, mean, var, invstd = kernels.batch_norm_relu_forward(x, training_weight, bias, 1e-5)
        scale_shift = kernels.relu_scale_shift(training_weight, bias, var, 1e-5, x.shape[1], x.dtype)
        for compute_grad_input in (True, False):
            from_output = kernels.batch_norm_relu_backward(grad, output, x, mean, invstd, training_weight, True,
                                                           compute_grad_input)
            from_input = kernels.batch_norm_relu_backward(grad, output, x, mean, invstd, training_weight, True,
                                                          compute_grad_input, relu_scale_shift=scale_shift)
            for got, expected in zip(from_input, from_output):
                if expected is None:
                    assert got is None
                else:
                    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_fused_op_matches_reference(shape, cpu_path):
    x, weight, bias, grad = _data(shape, np.float64, seed=1)
    xt, wt, bt = (minigrad.tensor(a, requires_grad=True) for a in (x, weight, bias))
    out = ops.batch_norm_relu(xt, None, None, wt, bt, training=True)
    expected, cache = ref.batch_norm_relu(x, weight, bias)
    np.testing.assert_allclose(out.array, expected, rtol=1e-10, atol=1e-12)
    out.backward(minigrad.tensor(grad))
    for got, want in zip((xt.grad, wt.grad, bt.grad), ref.batch_norm_relu_backward(grad, cache)):
        np.testing.assert_allclose(got.array, want, rtol=1e-9, atol=1e-11)


def test_fused_op_keeps_nan_and_masks_at_zero(cpu_path):
    x = np.array([[1.0, np.nan], [-1.0, 3.0], [0.5, 2.0]], dtype=np.float32)   # (N=3, C=2)
    running_mean, running_var = np.zeros(2, np.float32), np.ones(2, np.float32)
    out = ops.batch_norm_relu(minigrad.tensor(x), minigrad.tensor(running_mean),
                              minigrad.tensor(running_var), training=False, eps=0.0)
    np.testing.assert_array_equal(out.array, [[1.0, np.nan], [0.0, 3.0], [0.5, 2.0]])


@pytest.mark.parametrize("training", [True, False])
def test_fused_op_gradcheck(training, cpu_path):
    x, weight, bias, _ = _data((3, 3, 3, 4), np.float64, seed=2)
    rng = np.random.default_rng(3)
    running_mean = minigrad.tensor(rng.standard_normal(3))
    running_var = minigrad.tensor(rng.uniform(0.5, 2.0, 3))
    inputs = [minigrad.tensor(a, requires_grad=True) for a in (x, weight, bias)]

    def fused(x, weight, bias):
        mean, var = (minigrad.tensor(v.array.copy()) for v in (running_mean, running_var))
        return ops.batch_norm_relu(x, mean, var, weight, bias, training=training)

    assert gradcheck(fused, inputs)


def _pair():
    """A conv-BN-ReLU block, the same weights every time."""
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())


def _unfused(block, x):
    conv, bn, _ = block
    return F.relu(bn(conv(x)))


@pytest.mark.parametrize("momentum", [0.1, None])
def test_sequential_fuses_and_matches_the_separate_ops(momentum, cpu_path):
    rng = np.random.default_rng(4)
    images = rng.standard_normal((5, 2, 7, 7)).astype(np.float32)
    grad = rng.standard_normal((5, 6, 7, 7)).astype(np.float32)
    fused_block, separate_block = _pair(), _pair()
    for block in (fused_block, separate_block):
        block[1].momentum = momentum
    for training in (True, True, False):   # two training steps (running stats move), then eval
        outputs = []
        for block, run in ((fused_block, lambda b, x: b(x)), (separate_block, _unfused)):
            block.train(training)
            block.zero_grad()
            x = minigrad.tensor(images, requires_grad=True)
            out = run(block, x)
            out.backward(minigrad.tensor(grad))
            outputs.append((out, x.grad, [p.grad.array.copy() for p in block.parameters()]))
        (out_f, gx_f, gp_f), (out_s, gx_s, gp_s) = outputs
        assert type(out_f.grad_fn).__name__ == "BatchNormReLU"
        assert type(out_s.grad_fn).__name__ == "ReLU"
        np.testing.assert_array_equal(out_f.array, out_s.array)
        np.testing.assert_array_equal(gx_f.array, gx_s.array)
        for got, expected in zip(gp_f, gp_s):
            np.testing.assert_array_equal(got, expected)
    fused_state, separate_state = fused_block.state_dict(), separate_block.state_dict()
    assert list(fused_state) == list(separate_state)
    for key in fused_state:
        np.testing.assert_array_equal(fused_state[key].numpy(), separate_state[key].numpy())
    assert int(fused_block[1].num_batches_tracked.item()) == 2


def test_fused_results_do_not_depend_on_the_thread_count(set_threads, cpu_path):
    x, weight, bias, grad = _data((8, 4, 30, 30), np.float32, seed=5)
    x, grad = _as_ncl(x), _as_ncl(grad)
    results = []
    for count in (1, 2):
        set_threads(count)
        out, mean, _, invstd = kernels.batch_norm_relu_forward(x, weight, bias, 1e-5)
        results.append([out, *kernels.batch_norm_relu_backward(grad, out, x, mean, invstd, weight, True)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_no_fusion_when_a_hook_needs_the_batch_norm_output():
    seen = []
    block = _pair()
    block[1].register_forward_hook(lambda module, args, output: seen.append(output.array.copy()))
    out = block(minigrad.tensor(np.random.default_rng(6).standard_normal((3, 2, 5, 5)).astype(np.float32)))
    assert type(out.grad_fn).__name__ == "ReLU"
    assert (seen[0] < 0).any()             # the hook saw batch norm's output, before the ReLU
    block = _pair()
    handle = block[2].register_forward_pre_hook(lambda module, args: seen.append("relu"))
    block(minigrad.tensor(np.ones((3, 2, 5, 5), np.float32)))
    assert seen[-1] == "relu"
    handle.remove()
    assert type(block(minigrad.tensor(np.ones((3, 2, 5, 5), np.float32))).grad_fn).__name__ == "BatchNormReLU"


def test_no_fusion_for_a_subclass_forward_or_another_activation():
    class ShiftedBatchNorm(nn.BatchNorm2d):
        def forward(self, input):
            return super().forward(input) + 1.0

    x = minigrad.tensor(np.random.default_rng(7).standard_normal((3, 4, 5, 5)).astype(np.float32))
    shifted = nn.Sequential(ShiftedBatchNorm(4), nn.ReLU())
    assert (shifted(x).array >= 0).all()
    np.testing.assert_array_equal(shifted(x).array, F.relu(shifted[0](x)).array)
    assert type(shifted(x).grad_fn).__name__ == "ReLU"
    assert type(nn.Sequential(nn.BatchNorm2d(4), nn.GELU())(x).grad_fn).__name__ != "BatchNormReLU"
    assert type(nn.Sequential(nn.ReLU(), nn.BatchNorm2d(4))(x).grad_fn).__name__ == "BatchNorm"


def test_fused_sequential_raises_the_batch_norm_errors():
    block = nn.Sequential(nn.BatchNorm2d(4), nn.ReLU())
    with pytest.raises(ValueError, match="4"):
        block(minigrad.tensor(np.ones((2, 3, 5, 5), np.float32)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        block(minigrad.tensor(np.ones((1, 4, 1, 1), np.float32)))


def test_fused_op_on_the_reference_kernels():
    x, weight, bias, grad = _data((4, 3, 5, 6), np.float64, seed=8)
    results = []
    for reference in (False, True):
        with minigrad.use_reference_kernels(reference):
            xt = minigrad.tensor(x, requires_grad=True)
            out = ops.batch_norm_relu(xt, None, None, minigrad.tensor(weight), minigrad.tensor(bias),
                                      training=True)
            out.backward(minigrad.tensor(grad))
            results.append((out.array, xt.grad.array))
    for compiled, reference in zip(*results):
        np.testing.assert_allclose(compiled, reference, rtol=1e-10, atol=1e-12)


def test_main_example_block_skips_the_first_input_gradient(monkeypatch):
    """The images need no gradient: the first convolution's input gradient is never computed,
    the second's is (it flows on to the first block)."""
    from minigrad.kernels import conv as conv_kernels
    calls = []                                      # (input channels, input gradient needed) per backward
    original = conv_kernels.conv_backward

    def spy(x, weight, grad_out, stride, padding, dilation, groups, needs=(True, True, True)):
        calls.append((x.shape[1], bool(needs[0])))
        return original(x, weight, grad_out, stride, padding, dilation, groups, needs)
    monkeypatch.setattr(conv_kernels, "conv_backward", spy)
    minigrad.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU())
    images = minigrad.tensor(np.random.default_rng(9).standard_normal((3, 1, 6, 6)).astype(np.float32))
    net(images).sum().backward()
    assert sorted(calls) == [(1, False), (4, True)]   # only the second conv's input gradient
    assert all(p.grad is not None for p in net.parameters())


def test_backward_kernels_refuse_statistics_of_another_length():
    """mean and invstd hold one value per channel; fewer would be read past their end."""
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"mean has 2 values, expected one per channel \(3\)"):
        kernels.batch_norm_backward(x, x, np.zeros(2), np.ones(3), None, True)
    with pytest.raises(ValueError, match=r"invstd has 4 values, expected one per channel \(3\)"):
        kernels.batch_norm_relu_backward(x, x, x, np.zeros(3), np.ones(4), None, True)
