"""nn.utils: gradient clipping, parameter vectors, weight norm, conv-bn fusion."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn
from minigrad.nn import utils


def _with_grads(rng):
    params = [nn.Parameter(minigrad.zeros(3, 2)), nn.Parameter(minigrad.zeros(4))]
    for p in params:
        p.grad = minigrad.tensor(rng.standard_normal(p.shape).astype(np.float32))
    return params


def test_clip_grad_norm(rng):
    params = _with_grads(rng)
    grads = [p.grad.array.copy() for p in params]
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    returned = utils.clip_grad_norm_(params, max_norm=0.5)
    assert returned.item() == pytest.approx(norm, rel=1e-6)
    new_norm = np.sqrt(sum((p.grad.array.astype(np.float64) ** 2).sum() for p in params))
    assert new_norm == pytest.approx(0.5, rel=1e-5)
    np.testing.assert_allclose(params[0].grad.array / grads[0], 0.5 / (norm + 1e-6), rtol=1e-5)
    # below the threshold: unchanged
    before = [p.grad.array.copy() for p in params]
    utils.clip_grad_norm_(params, max_norm=10.0)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.grad.array, b)
    # infinity norm
    params = _with_grads(rng)
    largest = max(np.abs(p.grad.array).max() for p in params)
    assert utils.clip_grad_norm_(params, 0.1, norm_type="inf").item() == pytest.approx(largest)
    assert max(np.abs(p.grad.array).max() for p in params) == pytest.approx(0.1, rel=1e-4)
    params[0].grad.array[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value(rng):
    params = _with_grads(rng)
    expected = [np.clip(p.grad.array, -0.3, 0.3) for p in params]
    utils.clip_grad_value_(params, 0.3)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p.grad.array, e)
    with pytest.raises(ValueError, match="clip_value"):
        utils.clip_grad_value_(params, -1)


def test_parameters_vector_round_trip():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    vector = utils.parameters_to_vector(model.parameters())
    assert vector.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vector.array[:12], model[0].weight.array.reshape(-1))
    utils.vector_to_parameters(minigrad.arange(26, dtype=minigrad.float32), model.parameters())
    np.testing.assert_array_equal(model[0].weight.array.reshape(-1), np.arange(12))
    np.testing.assert_array_equal(model[1].bias.array, [24, 25])
    with pytest.raises(ValueError, match="26 elements"):
        utils.vector_to_parameters(minigrad.zeros(5), model.parameters())


@pytest.mark.filterwarnings("ignore:.*weight_norm. is deprecated:FutureWarning")
def test_weight_norm_keys_forward_and_remove(rng):
    layer = nn.Linear(3, 4)
    weight = layer.weight.array.copy()
    x = minigrad.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    before = layer(x).array
    utils.weight_norm(layer)
    # PyTorch's keys and shapes for the same call
    assert [(k, tuple(v.shape)) for k, v in layer.state_dict().items()] == [
        ("bias", (4,)), ("weight_g", (4, 1)), ("weight_v", (4, 3))]
    np.testing.assert_allclose(layer.weight_g.array[:, 0], np.linalg.norm(weight, axis=1), rtol=1e-6)
    np.testing.assert_allclose(layer(x).array, before, rtol=1e-5, atol=1e-6)
    layer.weight_g.array[...] *= 2   # doubling g doubles every weight row
    np.testing.assert_allclose(layer(x).array - layer.bias.array,
                               2 * (before - layer.bias.array), rtol=1e-4, atol=1e-5)
    layer(x).sum().backward()
    assert layer.weight_g.grad is not None and layer.weight_v.grad is not None
    utils.remove_weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.array, 2 * weight, rtol=1e-5)
    conv = nn.Conv2d(3, 4, 3)
    utils.weight_norm(conv, dim=None)
    assert [(k, tuple(v.shape)) for k, v in conv.state_dict().items()] == [
        ("bias", (4,)), ("weight_g", ()), ("weight_v", (4, 3, 3, 3))]
    with pytest.raises(ValueError, match="no parameter"):
        utils.weight_norm(nn.ReLU())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_gradcheck(rng, dim):
    v = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    shape = {0: (4, 1), 1: (1, 3), None: ()}[dim]
    g = minigrad.tensor(rng.uniform(0.5, 2, shape), requires_grad=True)
    x = minigrad.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert gradcheck(lambda a, gg, vv: F.linear(a, utils.weight_from_g_v(gg, vv, dim)), [x, g, v])


@pytest.mark.filterwarnings("ignore:.*weight_norm. is deprecated:FutureWarning")
def test_weight_norm_module_gradients_match_gradcheck_function(rng):
    layer = nn.Linear(3, 2).double()
    utils.weight_norm(layer)
    x = minigrad.tensor(rng.standard_normal((4, 3)))
    layer(x).sum().backward()
    g = minigrad.tensor(layer.weight_g.array.copy(), requires_grad=True)
    v = minigrad.tensor(layer.weight_v.array.copy(), requires_grad=True)
    F.linear(x, utils.weight_from_g_v(g, v, 0), layer.bias).sum().backward()
    np.testing.assert_allclose(layer.weight_g.grad.array, g.grad.array)
    np.testing.assert_allclose(layer.weight_v.grad.array, v.grad.array)


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches(rng, bias):
    conv = nn.Conv2d(3, 6, 3, padding=1, bias=bias)
    bn = nn.BatchNorm2d(6)
    bn.running_mean.array[...] = rng.standard_normal(6)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, 6)
    bn.weight.array[...] = rng.standard_normal(6)
    bn.bias.array[...] = rng.standard_normal(6)
    with pytest.raises(ValueError, match="evaluation mode"):
        utils.fuse_conv_bn_eval(conv, bn)
    conv.eval()
    bn.eval()
    fused = utils.fuse_conv_bn_eval(conv, bn)
    x = minigrad.tensor(rng.standard_normal((2, 3, 7, 7)).astype(np.float32))
    np.testing.assert_allclose(fused(x).array, bn(conv(x)).array, rtol=1e-4, atol=1e-5)
    assert fused.bias is not None and fused is not conv
    assert conv.bias is None if not bias else conv.bias is not fused.bias


def test_fuse_conv_transpose_bn_eval(rng):
    conv = nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2).eval()
    bn = nn.BatchNorm2d(6).eval()
    bn.running_mean.array[...] = rng.standard_normal(6)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, 6)
    fused = utils.fuse_conv_bn_eval(conv, bn, transpose=True)
    x = minigrad.tensor(rng.standard_normal((1, 4, 3, 3)).astype(np.float32))
    np.testing.assert_allclose(fused(x).array, bn(conv(x)).array, rtol=1e-4, atol=1e-5)
