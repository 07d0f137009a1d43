"""Lazy layers: UninitializedParameter/Buffer, materialised by the first forward.

Literal reprs and key lists marked "torch 2.13" were produced by PyTorch 2.13
for the same layers and inputs.
"""
import copy
import math

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn

# (lazy layer, input shape, torch 2.13's repr before, after, state_dict keys, parameter shapes after)
CASES = [
    (lambda: nn.LazyLinear(5), (2, 3),
     "LazyLinear(in_features=0, out_features=5, bias=True)", "Linear(in_features=3, out_features=5, bias=True)",
     ["weight", "bias"], {"weight": (5, 3), "bias": (5,)}),
    (lambda: nn.LazyLinear(3, bias=False), (4, 2, 7),
     "LazyLinear(in_features=0, out_features=3, bias=False)", "Linear(in_features=7, out_features=3, bias=False)",
     ["weight"], {"weight": (3, 7)}),
    (lambda: nn.LazyConv1d(4, 3), (2, 5),
     "LazyConv1d(0, 4, kernel_size=(3,), stride=(1,))", "Conv1d(2, 4, kernel_size=(3,), stride=(1,))",
     ["weight", "bias"], {"weight": (4, 2, 3), "bias": (4,)}),
    (lambda: nn.LazyConv2d(4, 3), (1, 2, 5, 5),
     "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1))", "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1))",
     ["weight", "bias"], {"weight": (4, 2, 3, 3), "bias": (4,)}),
    (lambda: nn.LazyConv3d(4, 3, groups=2, bias=False), (1, 6, 4, 4, 4),
     "LazyConv3d(0, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), groups=2, bias=False)",
     "Conv3d(6, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), groups=2, bias=False)",
     ["weight"], {"weight": (4, 3, 3, 3, 3)}),
    (lambda: nn.LazyConvTranspose1d(4, 3, stride=2), (1, 3, 5),
     "LazyConvTranspose1d(0, 4, kernel_size=(3,), stride=(2,))", "ConvTranspose1d(3, 4, kernel_size=(3,), stride=(2,))",
     ["weight", "bias"], {"weight": (3, 4, 3), "bias": (4,)}),
    (lambda: nn.LazyConvTranspose2d(4, 3, groups=2), (1, 6, 5, 5),
     "LazyConvTranspose2d(0, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)",
     "ConvTranspose2d(6, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)",
     ["weight", "bias"], {"weight": (6, 2, 3, 3), "bias": (4,)}),
    (lambda: nn.LazyConvTranspose3d(2, 2), (3, 2, 2, 2),
     "LazyConvTranspose3d(0, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))",
     "ConvTranspose3d(3, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))",
     ["weight", "bias"], {"weight": (3, 2, 2, 2, 2), "bias": (2,)}),
    (lambda: nn.LazyBatchNorm1d(), (4, 3),
     "LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
     {"weight": (3,), "bias": (3,)}),
    (lambda: nn.LazyBatchNorm2d(), (2, 3, 4, 4),
     "LazyBatchNorm2d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
     {"weight": (3,), "bias": (3,)}),
    (lambda: nn.LazyBatchNorm3d(momentum=0.2), (2, 3, 2, 2, 2),
     "LazyBatchNorm3d(0, eps=1e-05, momentum=0.2, affine=True, bias=True, track_running_stats=True)",
     "BatchNorm3d(3, eps=1e-05, momentum=0.2, affine=True, bias=True, track_running_stats=True)",
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
     {"weight": (3,), "bias": (3,)}),
    (lambda: nn.LazyInstanceNorm1d(), (2, 3, 5),
     "LazyInstanceNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
     {"weight": (3,), "bias": (3,)}),
    (lambda: nn.LazyInstanceNorm2d(), (2, 3, 4, 4),
     "LazyInstanceNorm2d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
     {"weight": (3,), "bias": (3,)}),
    # nothing to materialise: minigrad still reads num_features (torch 2.13 keeps 0 and warns at every call)
    (lambda: nn.LazyInstanceNorm3d(affine=False, track_running_stats=False), (2, 3, 2, 2, 2),
     "LazyInstanceNorm3d(0, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)",
     "InstanceNorm3d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)",
     [], {}),
]


@pytest.mark.parametrize("make, shape, before, after, keys, shapes", CASES)
def test_materialised_by_the_first_forward(make, shape, before, after, keys, shapes):
    layer = make()
    lazy_class = type(layer)
    assert repr(layer) == before
    assert list(layer.state_dict()) == keys
    assert layer.has_uninitialized_params() == bool(shapes)
    for name in shapes:
        value = getattr(layer, name)
        assert isinstance(value, nn.UninitializedParameter) and isinstance(value, nn.Parameter)
        assert repr(value) == "<UninitializedParameter>"
        assert layer.state_dict()[name] is value                     # as torch: the placeholder itself
    layer(minigrad.randn(*shape))
    assert type(layer) is lazy_class.cls_to_become and type(layer).__name__ == lazy_class.__name__[4:]
    assert not hasattr(layer, "has_uninitialized_params")
    assert repr(layer) == after
    assert list(layer.state_dict()) == keys
    for name, expected in shapes.items():
        value = getattr(layer, name)
        assert type(value) is nn.Parameter and value.shape == expected and value.dtype == np.float32
        assert np.all(np.isfinite(value.array))
    for name in ("running_mean", "running_var"):
        if name in keys:
            buffer = getattr(layer, name)
            assert type(buffer) is minigrad.Tensor and buffer.shape == (3,)


def test_outputs_equal_the_ordinary_layers(rng):
    x = minigrad.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    conv = nn.LazyConv2d(4, 3, padding=1, stride=2)
    out = conv(x)
    np.testing.assert_allclose(out.array, F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1).array)
    linear = nn.LazyLinear(5)
    flat = x.reshape(2, -1)
    np.testing.assert_allclose(linear(flat).array, flat.array @ linear.weight.array.T + linear.bias.array,
                               rtol=1e-5, atol=1e-5)
    transposed = nn.LazyConvTranspose2d(2, 3, stride=2, output_padding=1)
    np.testing.assert_allclose(transposed(x).array,
                               F.conv_transpose2d(x, transposed.weight, transposed.bias, stride=2,
                                                  output_padding=1).array)


def test_initialisation_as_the_ordinary_layers():
    minigrad.manual_seed(0)
    linear = nn.LazyLinear(400)
    linear(minigrad.randn(1, 25))
    bound = 1 / math.sqrt(25)           # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for values in (linear.weight.array, linear.bias.array):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    conv = nn.LazyConv2d(64, 3)
    conv(minigrad.randn(1, 8, 3, 3))
    bound = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.array).max() <= bound and np.abs(conv.weight.array).max() > 0.95 * bound
    norm = nn.LazyBatchNorm2d()
    norm(minigrad.randn(4, 3, 2, 2))
    assert norm.weight.array.tolist() == [1, 1, 1] and norm.bias.array.tolist() == [0, 0, 0]


def test_batch_norm_statistics_after_materialising(rng):
    x = rng.standard_normal((8, 3, 4, 4)).astype(np.float32) * 3 + 1
    norm = nn.LazyBatchNorm2d()
    out = norm(minigrad.tensor(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(out.array, expected, rtol=1e-4, atol=1e-4)
    assert int(norm.num_batches_tracked.array) == 1
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(norm.running_mean.array, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.array, 0.9 + 0.1 * unbiased, rtol=1e-5)


def test_instance_norm_unbatched(rng):
    # minigrad reads C from dimension 0 of an unbatched (C, L) input (torch 2.13 reads dimension 1 and fails)
    x = rng.standard_normal((3, 7)).astype(np.float32)
    norm = nn.LazyInstanceNorm1d(affine=False, track_running_stats=False)
    out = norm(minigrad.tensor(x))
    assert norm.num_features == 3
    expected = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out.array, expected, rtol=1e-4, atol=1e-5)


def test_sequential_of_lazy_layers():
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    # torch 2.13: the same keys before and after the first forward
    keys = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
            "1.num_batches_tracked", "4.weight", "4.bias"]
    assert list(model.state_dict()) == keys
    assert model(minigrad.randn(2, 3, 6, 6)).shape == (2, 2)
    assert list(model.state_dict()) == keys
    assert repr(model) == (                                          # torch 2.13
        "Sequential(\n"
        "  (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=64, out_features=2, bias=True)\n"
        ")")
    assert model[4].weight.shape == (2, 64)


@pytest.mark.parametrize("optimizer", [minigrad.optim.SGD, minigrad.optim.Adam])
def test_optimizer_built_before_the_first_forward(optimizer):
    # as torch 2.13: no warning, the materialised parameters are the same objects and train
    layer = nn.LazyLinear(2)
    before = list(layer.parameters())
    opt = optimizer(layer.parameters(), lr=0.1)
    x = minigrad.randn(4, 3)
    layer(x).sum().backward()
    assert [p is q for p, q in zip(before, layer.parameters())] == [True, True]
    assert opt.param_groups[0]["params"][0] is layer.weight
    weight = layer.weight.array.copy()
    opt.step()
    assert layer.weight.shape == (2, 3) and not np.allclose(layer.weight.array, weight)
    if optimizer is minigrad.optim.SGD:
        np.testing.assert_allclose(layer.weight.array, weight - 0.1 * x.array.sum(axis=0), rtol=1e-5)


def test_load_state_dict_materialises():
    source = nn.Linear(3, 5)
    layer = nn.LazyLinear(5)
    layer.load_state_dict(source.state_dict())
    # as torch 2.13: still a LazyLinear until its first forward, with the checkpoint's shapes and values
    assert type(layer) is nn.LazyLinear and not layer.has_uninitialized_params()
    assert layer.weight.shape == (5, 3)
    np.testing.assert_array_equal(layer.weight.array, source.weight.array)
    x = minigrad.randn(2, 3)
    np.testing.assert_allclose(layer(x).array, source(x).array)       # not re-initialised by the forward
    assert type(layer) is nn.Linear and layer.in_features == 3
    norm = nn.LazyBatchNorm1d()
    norm.load_state_dict(nn.BatchNorm1d(4).state_dict())
    assert norm.num_features == 4 and norm.running_mean.shape == (4,)


def test_dtype_before_the_first_forward(rng):
    layer = nn.LazyLinear(2).double()
    assert layer.has_uninitialized_params()
    x = minigrad.tensor(rng.standard_normal((3, 4)))
    assert layer(x).dtype == np.float64 and layer.weight.dtype == np.float64
    assert nn.LazyConv1d(2, 3, dtype=minigrad.float64)(x[None]).dtype == np.float64
    assert nn.LazyBatchNorm1d(dtype=minigrad.float64)(x).dtype == np.float64


def test_gradcheck_after_materialising(rng):
    layer = nn.LazyLinear(2, dtype=minigrad.float64)
    x = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    layer(x)
    assert gradcheck(lambda t, w, b: F.linear(t, w, b), (x, layer.weight, layer.bias))
    conv = nn.LazyConv1d(2, 2, dtype=minigrad.float64)
    signal = minigrad.tensor(rng.standard_normal((2, 3, 5)), requires_grad=True)
    conv(signal)
    assert gradcheck(lambda t, w, b: F.conv1d(t, w, b), (signal, conv.weight, conv.bias))


def test_deepcopy_keeps_it_lazy():
    layer = nn.LazyLinear(5)
    twin = copy.deepcopy(layer)
    assert isinstance(twin.weight, nn.UninitializedParameter) and twin.weight is not layer.weight
    twin(minigrad.randn(1, 4))
    assert repr(twin) == "Linear(in_features=4, out_features=5, bias=True)"
    assert repr(layer) == "LazyLinear(in_features=0, out_features=5, bias=True)"


def test_uninitialized_tensors():
    param = nn.UninitializedParameter(dtype=minigrad.float64)
    message = "Can't access the shape of an uninitialized parameter or buffer"
    for access in (lambda: param.shape, lambda: param.size(), lambda: param.numel(), lambda: param.ndim):
        with pytest.raises(RuntimeError, match=message):
            access()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        param.share_memory_()
    param.materialize((2, 3))
    assert type(param) is nn.Parameter and param.shape == (2, 3) and param.dtype == np.float64
    buffer = nn.UninitializedBuffer()
    assert repr(buffer) == "<UninitializedBuffer>" and not buffer.requires_grad
    buffer.materialize((4,), dtype=minigrad.float64)
    assert type(buffer) is minigrad.Tensor and buffer.shape == (4,) and buffer.dtype == np.float64


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.LazyConv2d(4, 3, groups=2)(minigrad.randn(1, 3, 5, 5)), ValueError,
     "in_channels must be divisible by groups"),
    (lambda: nn.LazyConv2d(4, 3)(minigrad.randn(3, 5)), RuntimeError,
     "Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of size: [3, 5]"),
    (lambda: nn.LazyBatchNorm2d()(minigrad.randn(4, 3)), ValueError, "expected 4-d input, got 2-d input"),
    (lambda: nn.LazyInstanceNorm2d()(minigrad.randn(4, 3)), ValueError, "expected 3-d or 4-d input"),
    (lambda: nn.LazyLinear(5)(minigrad.tensor(3.0)), IndexError, "at least 1 dimension"),
    (lambda: nn.LazyLinear(-1), ValueError, "out_features must be a non-negative integer, got -1"),
    (lambda: nn.LazyConv2d(5, 3, groups=2), ValueError, "out_channels (5) must be divisible by groups (2)"),
    (lambda: nn.LazyLinear(5, device="cuda"), ValueError, "device must be None or 'cpu'"),
])
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_a_failed_first_forward_leaves_it_lazy():
    layer = nn.LazyConv2d(4, 3)
    with pytest.raises(RuntimeError):
        layer(minigrad.randn(3, 5))
    assert type(layer) is nn.LazyConv2d and layer.has_uninitialized_params()
    assert layer(minigrad.randn(1, 2, 5, 5)).shape == (1, 4, 3, 3)
