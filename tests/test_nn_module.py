"""The module system: registration, iteration, modes, hooks, repr, state_dict round trips."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn


class Net(nn.Module):
    """The same model as a PyTorch one whose state_dict keys are listed below."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.heads = nn.ModuleDict({"cls": nn.Linear(8 * 4 * 4, 10),
                                    "aux": nn.ModuleList([nn.Linear(10, 2), nn.PReLU()])})
        self.register_buffer("scale", minigrad.ones(1))
        self.register_buffer("tmp", minigrad.ones(1), persistent=False)
        self.ln = nn.LayerNorm((4, 4))
        self.gn = nn.GroupNorm(2, 8)
        self.inorm = nn.InstanceNorm2d(8, affine=True, track_running_stats=True)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2, groups=2)
        self.bn1 = nn.BatchNorm1d(10, affine=False)


# Printed by PyTorch 2.13 for the identical torch.nn model.
TORCH_KEYS_AND_SHAPES = [
    ("scale", (1,)), ("features.0.weight", (8, 3, 3, 3)), ("features.1.weight", (8,)),
    ("features.1.bias", (8,)), ("features.1.running_mean", (8,)), ("features.1.running_var", (8,)),
    ("features.1.num_batches_tracked", ()), ("heads.cls.weight", (10, 128)), ("heads.cls.bias", (10,)),
    ("heads.aux.0.weight", (2, 10)), ("heads.aux.0.bias", (2,)), ("heads.aux.1.weight", (1,)),
    ("ln.weight", (4, 4)), ("ln.bias", (4, 4)), ("gn.weight", (8,)), ("gn.bias", (8,)),
    ("inorm.weight", (8,)), ("inorm.bias", (8,)), ("inorm.running_mean", (8,)),
    ("inorm.running_var", (8,)), ("inorm.num_batches_tracked", ()), ("up.weight", (8, 2, 2, 2)),
    ("up.bias", (4,)), ("bn1.running_mean", (10,)), ("bn1.running_var", (10,)),
    ("bn1.num_batches_tracked", ()),
]


def test_state_dict_keys_and_shapes_equal_pytorch():
    state = Net().state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == TORCH_KEYS_AND_SHAPES
    assert state["features.1.num_batches_tracked"].dtype == np.int64
    assert all(not v.requires_grad for v in state.values())


def test_named_modules_parameters_buffers():
    net = Net()
    assert [n for n, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "features.3", "heads",
        "heads.cls", "heads.aux", "heads.aux.0", "heads.aux.1", "ln", "gn", "inorm", "up", "bn1"]
    params = [n for n, _ in net.named_parameters()]
    assert params == [k for k, _ in TORCH_KEYS_AND_SHAPES
                      if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))
                      and k != "scale"]
    buffers = [n for n, _ in net.named_buffers()]
    assert buffers[:2] == ["scale", "tmp"] and "features.1.running_mean" in buffers
    assert len(list(net.children())) == 7
    assert sum(p.numel() for p in net.parameters()) == sum(
        int(np.prod(s)) for k, s in TORCH_KEYS_AND_SHAPES if k in params)


def test_shared_parameters_counted_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_load_state_dict_round_trip():
    a, b = Net(), Net()
    a.features[1].running_mean.array[...] = np.arange(8)
    a.features[1].num_batches_tracked.array[...] = 5
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.array, vb.array)
    # values are copied, not shared
    a.heads["cls"].weight.array[...] = 0
    assert np.any(b.heads["cls"].weight.array != 0)
    # plain NumPy arrays are accepted too
    b.load_state_dict({k: v.array for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(b.heads["cls"].weight.array, 0)


def test_state_dict_shares_memory_and_keep_vars():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    state["weight"].array[...] = 3
    np.testing.assert_array_equal(layer.weight.array, 3)
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight
    assert list(layer.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


def test_load_state_dict_strict_errors_name_keys():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 3))
    partial = {"0.weight": minigrad.zeros(3, 2), "extra": minigrad.zeros(1)}
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(partial)
    message = str(error.value)
    assert 'Missing key(s) in state_dict: "0.bias", "1.weight", "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra".' in message
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.array, 0)


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: copying a param with "
                                           r"shape \(2, 2\) from checkpoint, the shape in current "
                                           r"model is \(3, 2\)"):
        model.load_state_dict({"0.weight": minigrad.zeros(2, 2)}, strict=False)


def test_setattr_registration_and_delattr():
    module = nn.Module()
    module.w = nn.Parameter(minigrad.zeros(2))
    module.child = nn.Linear(1, 1)
    module.register_buffer("b", minigrad.zeros(1))
    module.plain = minigrad.zeros(1)
    assert list(module._parameters) == ["w"] and list(module._modules) == ["child"]
    assert [n for n, _ in module.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert list(module.state_dict()) == ["w", "b", "child.weight", "child.bias"]
    module.b = minigrad.ones(1)
    np.testing.assert_array_equal(module.state_dict()["b"].array, 1)
    with pytest.raises(TypeError):
        module.w = minigrad.zeros(2)  # a plain tensor cannot replace a parameter
    module.w = None
    assert "w" not in module.state_dict()
    del module.child
    assert list(module.state_dict()) == ["b"]
    with pytest.raises(AttributeError):
        module.child
    module.register_parameter("p", None)
    module.add_module("seq", nn.Sequential())
    assert "seq" in dict(module.named_children())
    with pytest.raises(KeyError):
        module.register_buffer("a.b", None)
    with pytest.raises(TypeError):
        module.register_parameter("q", minigrad.zeros(1))


def test_module_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_parameter_basics():
    p = nn.Parameter(minigrad.zeros(2, 3))
    assert p.requires_grad and isinstance(p, minigrad.Tensor)
    assert not nn.Parameter(minigrad.zeros(1), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.array is not p.array


def test_train_eval_zero_grad_apply_requires_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    layer = nn.Linear(3, 2)
    layer(minigrad.randn(4, 3)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(layer.weight.grad.array, 0)
    layer.zero_grad()
    assert layer.weight.grad is None
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited.count("Linear") == 2
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_dtype_conversion():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[1].running_mean.dtype == np.float64
    assert net.features[1].num_batches_tracked.dtype == np.int64
    net.to(minigrad.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.float()
    assert net.to("cpu") is net


def test_forward_hooks_and_handles():
    layer = nn.Linear(3, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, inputs: calls.append(("pre", inputs[0].shape)))
    post = layer.register_forward_hook(lambda m, inputs, out: calls.append(("post", out.shape)))
    layer(minigrad.randn(4, 3))
    assert calls == [("pre", (4, 3)), ("post", (4, 2))]
    pre.remove()
    post.remove()
    layer(minigrad.randn(4, 3))
    assert len(calls) == 2
    # hooks may replace the input or the output
    layer.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,))
    handle = layer.register_forward_hook(lambda m, inputs, out: out * 2)
    out = layer(minigrad.randn(1, 3))
    np.testing.assert_allclose(out.array, 2 * layer.bias.array[None])
    handle.remove()


def test_repr_matches_pytorch_format():
    text = repr(Net())
    assert "(features): Sequential(\n    (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), " \
           "padding=(1, 1), bias=False)" in text
    assert "(1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)" in text
    assert "(3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)" in text
    assert "(cls): Linear(in_features=128, out_features=10, bias=True)" in text
    assert "(1): PReLU(num_parameters=1)" in text
    assert "(up): ConvTranspose2d(8, 4, kernel_size=(2, 2), stride=(2, 2), groups=2)" in text
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Conv1d(4, 4, 3, dilation=2, groups=2)) == \
        "Conv1d(4, 4, kernel_size=(3,), stride=(1,), dilation=(2,), groups=2)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.Dropout2d(0.1)) == "Dropout2d(p=0.1, inplace=False)"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.GELU()) == "GELU(approximate='none')"


def test_sequential_indexing_slicing_and_containers():
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    x = minigrad.randn(5, 4)
    np.testing.assert_allclose(seq(x).array, seq[2](seq[1](seq[0](x))).array)
    with pytest.raises(IndexError):
        seq[3]
    seq.append(nn.Tanh())
    assert len(seq) == 4 and list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]

    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    assert isinstance(layers[-1], nn.ReLU)
    assert list(layers.state_dict())[:2] == ["0.weight", "0.bias"]

    blocks = nn.ModuleDict({"a": nn.Linear(1, 1)})
    blocks["b"] = nn.Linear(1, 2)
    assert list(blocks.keys()) == ["a", "b"] and "b" in blocks
    assert list(blocks.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
