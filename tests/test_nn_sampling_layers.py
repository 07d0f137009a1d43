"""gumbel_softmax, fractional max pooling, CrossMapLRN2d, AdaptiveLogSoftmaxWithLoss:
plain NumPy references, closed forms, gradcheck, state_dict keys, errors."""
import itertools
import math
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import gradcheck
from minigrad.ops.fractional_pool import generate_intervals


def np_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ---- gumbel_softmax

def test_gumbel_softmax_is_the_softmax_of_logits_plus_gumbel_noise(rng):
    logits = rng.standard_normal((4, 5))
    minigrad.manual_seed(11)
    noise = -np.log(minigrad.random.generator().standard_exponential((4, 5)))   # Gumbel(0, 1)
    minigrad.manual_seed(11)
    y = F.gumbel_softmax(minigrad.tensor(logits), tau=0.5)
    np.testing.assert_allclose(y.numpy(), np_softmax((logits + noise) / 0.5), rtol=1e-12)
    np.testing.assert_allclose(y.numpy().sum(axis=-1), 1.0)


def test_gumbel_softmax_is_reproducible_under_manual_seed(rng):
    logits = minigrad.tensor(rng.standard_normal((3, 6)))
    minigrad.manual_seed(5)
    first = F.gumbel_softmax(logits, dim=0).numpy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(F.gumbel_softmax(logits, dim=0).numpy(), first)
    np.testing.assert_allclose(first.sum(axis=0), 1.0)
    assert not np.array_equal(F.gumbel_softmax(logits, dim=0).numpy(), first)   # a fresh draw


def test_hard_gumbel_softmax_is_one_hot_with_the_soft_gradient(rng):
    logits_values = rng.standard_normal((4, 5))
    weights = minigrad.tensor(rng.standard_normal((4, 5)))
    minigrad.manual_seed(2)
    soft_logits = minigrad.tensor(logits_values, requires_grad=True)
    soft = F.gumbel_softmax(soft_logits, tau=0.7)
    (soft * weights).sum().backward()
    minigrad.manual_seed(2)
    hard_logits = minigrad.tensor(logits_values, requires_grad=True)
    hard = F.gumbel_softmax(hard_logits, tau=0.7, hard=True)
    (hard * weights).sum().backward()
    expected = np.zeros((4, 5))
    expected[np.arange(4), soft.detach().numpy().argmax(axis=1)] = 1
    np.testing.assert_allclose(hard.detach().numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(hard_logits.grad.numpy(), soft_logits.grad.numpy(), rtol=1e-12)


def test_gumbel_softmax_samples_follow_the_softmax():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    minigrad.manual_seed(0)
    draws = F.gumbel_softmax(minigrad.tensor(np.tile(logits, (20000, 1))), hard=True).numpy()
    np.testing.assert_allclose(draws.mean(axis=0), [0.5, 0.3, 0.2], atol=0.015)


def test_gumbel_softmax_gradcheck(rng):
    logits = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def sample(t):
        minigrad.manual_seed(7)                  # the same noise at every evaluation
        return F.gumbel_softmax(t, tau=1.3, dim=1)
    assert gradcheck(sample, (logits,))


def test_gumbel_softmax_eps_warns_and_bad_dim_raises():
    logits = minigrad.randn(2, 3)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(logits, eps=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.gumbel_softmax(logits)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.gumbel_softmax(logits, dim=2)


# ---- fractional max pooling

def ref_intervals(u, in_size, out_size, k):
    if out_size == 1:
        return [in_size - k]
    alpha = (in_size - k) / (out_size - 1)
    return [math.floor((i + u) * alpha) - math.floor(u * alpha) for i in range(out_size - 1)] + [in_size - k]


def ref_fractional_max_pool(x, kernel, out_sizes, samples):
    """Loops over planes and outputs; samples (N, C, d): 2-D (width, height), 3-D (time, height, width)."""
    d = len(kernel)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    order = (1, 0) if d == 2 else (0, 1, 2)
    out = np.zeros((n, c) + tuple(out_sizes))
    indices = np.zeros((n, c) + tuple(out_sizes), dtype=np.int64)
    for b, ch in itertools.product(range(n), range(c)):
        starts = [ref_intervals(samples[b, ch, order[a]], spatial[a], out_sizes[a], kernel[a]) for a in range(d)]
        for point in itertools.product(*[range(o) for o in out_sizes]):
            best, best_index = -np.inf, None
            for offset in itertools.product(*[range(k) for k in kernel]):
                position = tuple(starts[a][point[a]] + offset[a] for a in range(d))
                if x[(b, ch) + position] > best:
                    best = x[(b, ch) + position]
                    best_index = int(np.ravel_multi_index(position, spatial))
            out[(b, ch) + point], indices[(b, ch) + point] = best, best_index
    return out, indices


def test_generate_intervals_hand_computed():
    # alpha = (10 - 3) / 3 = 7/3; u = 0.5: floor(0.5 alpha) = 1, floor(1.5 alpha) = 3, floor(2.5 alpha) = 5
    np.testing.assert_array_equal(generate_intervals(np.array([0.5]), 10, 4, 3), [[0, 2, 4, 7]])
    np.testing.assert_array_equal(generate_intervals(np.array([0.0]), 10, 1, 3), [[7]])
    np.testing.assert_array_equal(generate_intervals(np.array([0.9]), 6, 5, 2), [[0, 1, 2, 3, 4]])   # alpha 1


@pytest.mark.parametrize("shape,kernel,out", [((2, 3, 10, 9), (3, 2), (4, 5)), ((2, 2, 8, 8), (2, 2), (1, 1)),
                                              ((2, 2, 7, 7), (2, 3), (6, 5))])
def test_fractional_max_pool2d_matches_loop_reference(rng, shape, kernel, out):
    x = rng.standard_normal(shape)
    samples = rng.random((shape[0], shape[1], 2))
    output, indices = F.fractional_max_pool2d(minigrad.tensor(x), kernel, out, return_indices=True,
                                              _random_samples=minigrad.tensor(samples))
    expected, expected_indices = ref_fractional_max_pool(x, kernel, out, samples)
    np.testing.assert_array_equal(output.numpy(), expected)
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
    assert indices.dtype == minigrad.int64


def test_fractional_max_pool3d_matches_loop_reference(rng):
    x = rng.standard_normal((2, 2, 7, 8, 9))
    samples = rng.random((2, 2, 3))
    output, indices = F.fractional_max_pool3d_with_indices(minigrad.tensor(x), (2, 3, 2), (3, 4, 5),
                                                           _random_samples=minigrad.tensor(samples))
    expected, expected_indices = ref_fractional_max_pool(x, (2, 3, 2), (3, 4, 5), samples)
    np.testing.assert_array_equal(output.numpy(), expected)
    np.testing.assert_array_equal(indices.numpy(), expected_indices)


def test_fractional_max_pool_unbatched_and_float32(rng):
    x = rng.standard_normal((3, 9, 8)).astype(np.float32)
    samples = rng.random((1, 3, 2)).astype(np.float32)
    output = F.fractional_max_pool2d(minigrad.tensor(x), 2, output_size=(4, 5),
                                     _random_samples=minigrad.tensor(samples))
    assert output.shape == (3, 4, 5) and output.dtype == minigrad.float32
    expected, _ = ref_fractional_max_pool(x[None].astype(np.float64), (2, 2), (4, 5), samples.astype(np.float64))
    np.testing.assert_array_equal(output.numpy(), expected[0])
    volume = F.fractional_max_pool3d(minigrad.randn(2, 6, 7, 8), 2, output_ratio=0.5)
    assert volume.shape == (2, 3, 3, 4)


def test_stride_one_output_is_max_pool_with_stride_one(rng):
    x = minigrad.tensor(rng.standard_normal((2, 3, 7, 6)))
    # out = in - k + 1: alpha = 1, every window starts one after the last, whatever the samples
    output = F.fractional_max_pool2d(x, 2, output_size=(6, 5))
    np.testing.assert_array_equal(output.numpy(), F.max_pool2d(x, 2, stride=1).numpy())


def test_fractional_max_pool_gradient_goes_to_the_argmax(rng):
    x = minigrad.tensor(rng.standard_normal((2, 2, 9, 8)), requires_grad=True)
    samples = minigrad.tensor(rng.random((2, 2, 2)))
    output, indices = F.fractional_max_pool2d(x, 3, (4, 3), return_indices=True, _random_samples=samples)
    weights = rng.standard_normal(output.shape)
    (output * minigrad.tensor(weights)).sum().backward()
    expected = np.zeros((2, 2, 72))
    for b, ch in itertools.product(range(2), range(2)):
        for index, w in zip(indices.numpy()[b, ch].ravel(), weights[b, ch].ravel()):
            expected[b, ch, index] += w          # overlapping windows add up
    np.testing.assert_allclose(x.grad.numpy(), expected.reshape(2, 2, 9, 8), rtol=1e-12)
    assert gradcheck(lambda t: F.fractional_max_pool2d(t, 3, (4, 3), _random_samples=samples), (x,))
    volume = minigrad.tensor(rng.standard_normal((1, 2, 5, 6, 5)), requires_grad=True)
    volume_samples = minigrad.tensor(rng.random((1, 2, 3)))
    assert gradcheck(lambda t: F.fractional_max_pool3d(t, 2, (3, 4, 2), _random_samples=volume_samples),
                     (volume,))


def test_fractional_max_pool_draws_from_minigrads_generator(rng):
    x = minigrad.tensor(rng.standard_normal((2, 3, 20, 20)))
    minigrad.manual_seed(3)
    first = F.fractional_max_pool2d(x, 2, output_size=7).numpy()
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(F.fractional_max_pool2d(x, 2, output_size=7).numpy(), first)


def test_fractional_max_pool_layers():
    layer = nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)
    assert repr(layer) == "FractionalMaxPool2d()"
    assert layer.kernel_size == (3, 3) and layer.output_ratio == (0.5, 0.5) and layer.output_size is None
    output, indices = layer(minigrad.randn(2, 3, 10, 9))
    assert output.shape == indices.shape == (2, 3, 5, 4)      # floor(10 * 0.5), floor(9 * 0.5)
    assert list(layer.state_dict().keys()) == []
    samples = minigrad.rand(1, 2, 3)
    volume_layer = nn.FractionalMaxPool3d(2, output_size=(2, 3, 2), _random_samples=samples)
    assert list(volume_layer.state_dict().keys()) == ["_random_samples"]
    x = minigrad.randn(1, 2, 5, 6, 5)
    np.testing.assert_array_equal(volume_layer(x).numpy(),
                                  F.fractional_max_pool3d(x, 2, (2, 3, 2), _random_samples=samples).numpy())
    assert repr(volume_layer) == "FractionalMaxPool3d()"


def test_fractional_max_pool_errors():
    x = minigrad.randn(2, 3, 10, 9)
    with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either an output size"):
        nn.FractionalMaxPool2d(3)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio may be specified"):
        nn.FractionalMaxPool2d(3, output_size=3, output_ratio=0.5)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool3d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 3)
    with pytest.raises(ValueError, match="output_ratio to either be a single Int or tuple of Ints"):
        F.fractional_max_pool2d(x, 3, output_ratio=(0.5, 0.5, 0.5))
    with pytest.raises(TypeError):                  # PyTorch's functional 2-D takes len() of the ratio
        F.fractional_max_pool2d(x, 3, output_ratio=0.5)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height 10"):
        F.fractional_max_pool2d(x, 3, output_size=9)
    with pytest.raises(RuntimeError, match=r"fractional_max_pool3d_out\(\): pool time 2 too large "
                                           r"relative to input time 6"):
        F.fractional_max_pool3d(minigrad.randn(1, 1, 6, 6, 6), 2, (5, 4, 4))   # 3-D: the last start < in - k
    with pytest.raises(RuntimeError, match="pool width 2 too large relative to input width 6"):
        F.fractional_max_pool3d(minigrad.randn(1, 1, 6, 6, 6), 2, (4, 5, 5))   # width checked before height
    with pytest.raises(RuntimeError, match="kernel_size must either be a single Int or tuple of Ints"):
        F.fractional_max_pool2d(x, (3, 3, 3), output_size=(5, 4))
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D tensor, but got: \[1, 1, 1, 6, 6\]"):
        F.fractional_max_pool2d(minigrad.randn(1, 1, 1, 6, 6), 2, (3, 3))
    with pytest.raises(RuntimeError, match=r"non-batch dimensions, but got\[2, 0, 10, 9\] with dimension 1"):
        F.fractional_max_pool2d(minigrad.randn(2, 0, 10, 9), 3, (5, 4))
    with pytest.raises(RuntimeError, match="size\\(0\\) no less then input batch size"):
        F.fractional_max_pool2d(x, 3, (5, 4), _random_samples=minigrad.rand(1, 3, 2))
    with pytest.raises(RuntimeError, match="size\\(1\\) equals to input channel size"):
        F.fractional_max_pool2d(x, 3, (5, 4), _random_samples=minigrad.rand(2, 2, 2))
    with pytest.raises(RuntimeError, match="size\\(2\\) equals to 2; got 3"):
        F.fractional_max_pool2d(x, 3, (5, 4), _random_samples=minigrad.rand(2, 3, 3))
    with pytest.raises(RuntimeError, match="same dtype as input"):
        F.fractional_max_pool2d(x, 3, (5, 4), _random_samples=minigrad.rand(2, 3, 2).double())


# ---- CrossMapLRN2d

def ref_cross_map_lrn(x, size, alpha, beta, k):
    """PyTorch's window: {0} and the channels within pre_pad - 1 of c (channel 0 is never dropped)."""
    channels = x.shape[1]
    pre_pad = int((size - 1) / 2 + 1)
    out = np.empty_like(x)
    for c in range(channels):
        window = {0} | set(range(max(c - pre_pad + 1, 0), min(c + pre_pad - 1, channels - 1) + 1))
        scale = k + alpha / size * sum(x[:, j] ** 2 for j in window)
        out[:, c] = x[:, c] * scale ** -beta
    return out


@pytest.mark.parametrize("size,channels", [(1, 3), (2, 4), (3, 2), (3, 6), (4, 7), (5, 8)])
def test_cross_map_lrn2d_matches_reference_and_gradcheck(rng, size, channels):
    x = minigrad.tensor(rng.standard_normal((2, channels, 3, 2)), requires_grad=True)
    layer = nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)
    np.testing.assert_allclose(layer(x).detach().numpy(), ref_cross_map_lrn(x.detach().numpy(), size, 0.5, 0.75, 1.5),
                               rtol=1e-12)
    assert gradcheck(layer, (x,))


def test_cross_map_lrn2d_closed_forms(rng):
    x = rng.standard_normal((2, 1, 3, 3))
    # one channel: x / (k + alpha / size * x^2)^beta
    out = nn.CrossMapLRN2d(3, alpha=0.3, beta=0.5, k=2.0)(minigrad.tensor(x)).numpy()
    np.testing.assert_allclose(out, x / np.sqrt(2.0 + 0.1 * x ** 2), rtol=1e-12)
    # while every window reaches channel 0 the windows are the symmetric ones of local_response_norm
    two = minigrad.tensor(rng.standard_normal((2, 2, 3, 3)))
    np.testing.assert_allclose(nn.CrossMapLRN2d(3, 0.5, 0.75, 1.0)(two).numpy(),
                               F.local_response_norm(two, 3, 0.5, 0.75, 1.0).numpy(), rtol=1e-12)
    assert repr(nn.CrossMapLRN2d(3)) == "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead."):
        nn.CrossMapLRN2d(3)(minigrad.randn(2, 3, 4))


# ---- AdaptiveLogSoftmaxWithLoss

def ref_adaptive(weights, cutoffs, n_classes, x, target, head_bias=None):
    """Every row's log p(target) from the layer's weights, in NumPy."""
    head = x @ weights["head.weight"].T + (0 if head_bias is None else head_bias)
    head_logprob = np_log_softmax(head)
    bounds = [0] + cutoffs + [n_classes]
    shortlist = cutoffs[0]
    out = np.empty(len(target))
    for row, t in enumerate(target):
        if t < shortlist:
            out[row] = head_logprob[row, t]
            continue
        i = next(i for i in range(1, len(bounds) - 1) if bounds[i] <= t < bounds[i + 1])
        hidden = x[row] @ weights[f"tail.{i - 1}.0.weight"].T
        tail = np_log_softmax(hidden @ weights[f"tail.{i - 1}.1.weight"].T)
        out[row] = head_logprob[row, shortlist + i - 1] + tail[t - bounds[i]]
    return out


def test_adaptive_log_softmax_structure():
    layer = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0)
    assert list(layer.state_dict().keys()) == ["head.weight", "tail.0.0.weight", "tail.0.1.weight",
                                               "tail.1.0.weight", "tail.1.1.weight"]
    assert [tuple(v.shape) for v in layer.state_dict().values()] == [(6, 16), (8, 16), (6, 8), (4, 16), (10, 4)]
    assert repr(layer) == (
        "AdaptiveLogSoftmaxWithLoss(\n"
        "  (head): Linear(in_features=16, out_features=6, bias=False)\n"
        "  (tail): ModuleList(\n"
        "    (0): Sequential(\n"
        "      (0): Linear(in_features=16, out_features=8, bias=False)\n"
        "      (1): Linear(in_features=8, out_features=6, bias=False)\n"
        "    )\n"
        "    (1): Sequential(\n"
        "      (0): Linear(in_features=16, out_features=4, bias=False)\n"
        "      (1): Linear(in_features=4, out_features=10, bias=False)\n"
        "    )\n"
        "  )\n"
        ")")
    biased = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3], head_bias=True)
    assert list(biased.state_dict().keys()) == ["head.weight", "head.bias", "tail.0.0.weight", "tail.0.1.weight"]
    assert biased.cutoffs == [3, 10] and biased.shortlist_size == 3 and biased.n_clusters == 1
    assert biased.head_size == 4


def test_adaptive_log_softmax_matches_reference(rng):
    layer = nn.AdaptiveLogSoftmaxWithLoss(12, 30, [5, 12, 20], div_value=2.0, head_bias=True, dtype=minigrad.float64)
    weights = {name: value.numpy() for name, value in layer.state_dict().items()}
    x = rng.standard_normal((9, 12))
    target = np.array([0, 4, 5, 11, 12, 19, 20, 29, 3])          # every cluster and both ends of each
    result = layer(minigrad.tensor(x), minigrad.tensor(target))
    assert result._fields == ("output", "loss")
    output, loss = result
    expected = ref_adaptive(weights, [5, 12, 20], 30, x, target, weights["head.bias"])
    np.testing.assert_allclose(output.detach().numpy(), expected, rtol=1e-12)
    assert loss.item() == pytest.approx(-expected.mean(), rel=1e-12)
    log_prob = layer.log_prob(minigrad.tensor(x)).detach().numpy()
    assert log_prob.shape == (9, 30)
    np.testing.assert_allclose(np.exp(log_prob).sum(axis=1), 1.0, rtol=1e-12)   # a distribution
    np.testing.assert_allclose(log_prob[np.arange(9), target], expected, rtol=1e-12)
    wide = rng.standard_normal((40, 12)) * 4
    np.testing.assert_array_equal(layer.predict(minigrad.tensor(wide)).numpy(),
                                  layer.log_prob(minigrad.tensor(wide)).detach().numpy().argmax(axis=1))
    one = layer(minigrad.tensor(x[1]), minigrad.tensor(target[1]))    # unbatched
    assert one.output.shape == () and one.output.item() == pytest.approx(expected[1], rel=1e-12)


def test_adaptive_log_softmax_gradcheck(rng):
    layer = nn.AdaptiveLogSoftmaxWithLoss(6, 9, [2, 5], div_value=2.0, dtype=minigrad.float64)
    x = minigrad.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    target = minigrad.tensor([0, 3, 8, 1, 5])
    assert gradcheck(lambda t: layer(t, target), (x,))
    assert gradcheck(layer.log_prob, (x,))
    layer(x, target).loss.backward()
    assert all(p.grad is not None for p in layer.parameters())


def test_adaptive_log_softmax_errors():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    for cutoffs in ([5, 3], [0, 4], [4, 10], [3, 3]):
        with pytest.raises(ValueError, match="unique, positive integers sorted in an increasing order"):
            nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)
    layer = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\], but values in range \[1, 12\]"):
        layer(minigrad.randn(2, 8), minigrad.tensor([1, 12]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        layer(minigrad.randn(3, 8), minigrad.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        layer(minigrad.randn(2, 8, 1), minigrad.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        layer(minigrad.randn(2, 8), minigrad.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        layer(minigrad.randn(2, 8), minigrad.tensor([[1], [2]]))


def test_fractional_max_pool_float16(rng):
    x = rng.standard_normal((1, 2, 11, 11)).astype(np.float16)
    samples = np.full((1, 2, 2), 0.5, dtype=np.float16)          # alpha = (11 - 2) / 3 = 3, exact
    output, indices = F.fractional_max_pool2d(minigrad.tensor(x), 2, 4, return_indices=True,
                                              _random_samples=minigrad.tensor(samples))
    assert output.dtype == minigrad.float16
    expected, expected_indices = ref_fractional_max_pool(x.astype(np.float64), (2, 2), (4, 4),
                                                         samples.astype(np.float64))
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
    np.testing.assert_array_equal(output.numpy(), expected.astype(np.float16))
    with pytest.raises(NotImplementedError, match="not implemented for int64"):
        F.fractional_max_pool2d(minigrad.ones(1, 1, 4, 4, dtype=minigrad.int64), 2, 2)
