"""Module backward hooks (register_full_backward_hook / _pre_hook), forward-hook
options (prepend, with_kwargs, always_call) and the global register_module_* hooks.

Values are float64 and checked against autograd.grad of the same quantities, or
against closed forms."""
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import autograd, nn
from minigrad.nn.modules import module as module_module


def t64(array, requires_grad=False):
    return minigrad.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 5)

    def head(self, activation):  # what follows conv2
        pooled = self.relu(activation).mean(dim=(2, 3))  # (N, 4)
        return self.fc(pooled)

    def forward(self, x):
        return self.head(self.conv2(self.relu(self.conv1(x))))


def test_grad_cam_capture_matches_autograd_grad():
    minigrad.manual_seed(0)
    model = SmallCNN().double()
    x = t64(np.random.default_rng(0).standard_normal((2, 2, 6, 6)), requires_grad=True)
    captured = {}
    forward_handle = model.conv2.register_forward_hook(
        lambda module, args, output: captured.__setitem__("activation", output))
    backward_handle = model.conv2.register_full_backward_hook(
        lambda module, grad_input, grad_output: captured.update(grad_input=grad_input, grad_output=grad_output))
    scores = model(x)
    scores[:, 3].sum().backward()

    # The same quantities without hooks: the activation as a leaf, then autograd.grad.
    forward_handle.remove()
    backward_handle.remove()
    conv1_out = model.relu(model.conv1(x))
    activation = model.conv2(conv1_out)
    np.testing.assert_allclose(captured["activation"].detach().numpy(), activation.detach().numpy(), rtol=1e-12)
    leaf = activation.detach().requires_grad_(True)
    (expected_grad_output,) = autograd.grad(model.head(leaf)[:, 3].sum(), leaf)
    assert len(captured["grad_output"]) == 1
    np.testing.assert_allclose(captured["grad_output"][0].detach().numpy(), expected_grad_output.detach().numpy(),
                               rtol=1e-10)
    (expected_grad_input,) = autograd.grad(model.head(model.conv2(conv1_out))[:, 3].sum(), conv1_out)
    np.testing.assert_allclose(captured["grad_input"][0].detach().numpy(), expected_grad_input.detach().numpy(),
                               rtol=1e-10)
    assert np.abs(expected_grad_output.detach().numpy()).sum() > 0  # a gradient that could be wrong

    # Grad-CAM: channel weights are the spatially averaged gradients.
    weights = captured["grad_output"][0].detach().numpy().mean(axis=(2, 3), keepdims=True)
    cam = np.maximum((weights * captured["activation"].detach().numpy()).sum(axis=1), 0)
    assert cam.shape == (2, 4, 4)


def test_returned_grad_input_scales_the_gradient():
    layer = nn.Linear(3, 2).double()
    x = t64([[1.0, -2.0, 0.5]], requires_grad=True)
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: (grad_input[0] * 3,))
    layer(x).sum().backward()
    # d(sum(x W^T + b))/dx = sum of W's rows; scaled by 3. The weight's gradient is not.
    np.testing.assert_allclose(x.grad.detach().numpy(), 3 * layer.weight.detach().numpy().sum(axis=0, keepdims=True))
    np.testing.assert_allclose(layer.weight.grad.detach().numpy(), np.array([[1.0, -2.0, 0.5]] * 2))


class TwoInTwoOut(nn.Module):
    def forward(self, a, b, scale=1.0):
        return a * b * scale, a + b, 7


def test_several_inputs_and_outputs():
    module = TwoInTwoOut()
    seen = []
    module.register_full_backward_pre_hook(lambda m, grad_output: seen.append(("pre", grad_output)))
    module.register_full_backward_hook(lambda m, grad_input, grad_output:
                                       seen.append(("full", grad_input, grad_output)))
    a = t64([1.0, 2.0], requires_grad=True)
    b = t64([3.0, -1.0], requires_grad=True)
    product, total, seven = module(a, b, 2.0)
    assert seven == 7
    (product * t64([1.0, 10.0])).sum().backward()  # `total` unused
    (_, pre_grads), (_, grad_input, grad_output) = seen
    assert pre_grads[1] is None and pre_grads[2] is None  # no gradient reached output 1; output 2 is an int
    np.testing.assert_allclose(pre_grads[0].detach().numpy(), [1.0, 10.0])
    assert len(grad_input) == 3 and grad_input[2] is None  # the float argument
    np.testing.assert_allclose(grad_input[0].detach().numpy(), [2 * 3.0, 10 * 2 * -1.0])  # d/da = g * b * scale
    np.testing.assert_allclose(grad_input[1].detach().numpy(), [2 * 1.0, 10 * 2 * 2.0])
    assert grad_output[1] is None
    np.testing.assert_allclose(a.grad.detach().numpy(), grad_input[0].detach().numpy())

    # Both outputs used, and a pre-hook that doubles the gradient of the sum output.
    module = TwoInTwoOut()
    module.register_full_backward_pre_hook(lambda m, go: (go[0], go[1] * 2, go[2]))
    a.grad = b.grad = None
    product, total, _ = module(a, b)
    (product + total).sum().backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), b.detach().numpy() + 2)
    np.testing.assert_allclose(b.grad.detach().numpy(), a.detach().numpy() + 2)


def test_input_that_does_not_require_grad_gets_zeros_like_torch():
    module = TwoInTwoOut()
    seen = []
    module.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append(grad_input))
    a = t64([1.0, 2.0], requires_grad=True)
    product, _, _ = module(a, t64([3.0, 4.0]))
    product.sum().backward()
    (grad_input,) = seen
    np.testing.assert_allclose(grad_input[0].detach().numpy(), [3.0, 4.0])
    np.testing.assert_allclose(grad_input[1].detach().numpy(), [0.0, 0.0])  # PyTorch materializes zeros here


def test_module_whose_inputs_do_not_require_grad():
    layer = nn.Linear(2, 1).double()
    seen = []
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append((grad_input, grad_output)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        layer(t64([[1.0, 2.0]])).sum().backward()
    ((grad_input, grad_output),) = seen
    assert grad_input == (None,)
    np.testing.assert_allclose(grad_output[0].detach().numpy(), [[1.0]])
    np.testing.assert_allclose(layer.weight.grad.detach().numpy(), [[1.0, 2.0]])

    layer.register_full_backward_hook(lambda m, grad_input, grad_output: (t64([[1.0, 1.0]]),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="no input requires gradient should always return None"):
            layer(t64([[1.0, 2.0]])).sum().backward()


def test_handle_removes_the_hook():
    layer = nn.Linear(2, 2).double()
    calls = []
    handle = layer.register_full_backward_hook(lambda *args: calls.append(1))
    pre_handle = layer.register_full_backward_pre_hook(lambda *args: calls.append(2))
    x = t64([[1.0, 2.0]], requires_grad=True)
    layer(x).sum().backward()
    assert calls == [2, 1]
    handle.remove()
    pre_handle.remove()
    out = layer(x)
    assert type(out.grad_fn).__name__ != "_OutputOf"  # no identity node any more
    out.sum().backward()
    assert calls == [2, 1]
    with layer.register_full_backward_hook(lambda *args: calls.append(3)):
        layer(x).sum().backward()
    layer(x).sum().backward()
    assert calls == [2, 1, 3]


def test_prepend_orders_the_hooks():
    layer = nn.Linear(2, 2).double()
    order = []
    layer.register_full_backward_hook(lambda *args: order.append("full-a"))
    layer.register_full_backward_hook(lambda *args: order.append("full-b"), prepend=True)
    layer.register_full_backward_pre_hook(lambda *args: order.append("pre-a"))
    layer.register_full_backward_pre_hook(lambda *args: order.append("pre-b"), prepend=True)
    layer.register_forward_hook(lambda *args: order.append("fwd-a"))
    layer.register_forward_hook(lambda *args: order.append("fwd-b"), prepend=True)
    layer.register_forward_pre_hook(lambda *args: order.append("fpre-a"))
    layer.register_forward_pre_hook(lambda *args: order.append("fpre-b"), prepend=True)
    layer(t64([[1.0, 2.0]], requires_grad=True)).sum().backward()
    assert order == ["fpre-b", "fpre-a", "fwd-b", "fwd-a", "pre-b", "pre-a", "full-b", "full-a"]


def test_wrong_number_of_gradients_raises():
    layer = nn.Linear(2, 2).double()
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0], grad_input[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(t64([[1.0, 2.0]], requires_grad=True)).sum().backward()
    layer = nn.Linear(2, 2).double()
    layer.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0], grad_output[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        layer(t64([[1.0, 2.0]], requires_grad=True)).sum().backward()


def test_inplace_on_hooked_inputs_or_outputs_raises():
    layer = nn.Linear(2, 2).double()
    layer.register_full_backward_hook(lambda *args: None)
    out = layer(t64([[1.0, 2.0]], requires_grad=True))
    with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being modified inplace"):
        out.add_(1)
    class DoublesInPlace(nn.Module):  # minigrad's ReLU(inplace=True) makes a new tensor, so a module of its own
        def forward(self, first, second):
            return second.mul_(2)

    doubles = DoublesInPlace()
    doubles.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Output 1 of BackwardHookFunction is a view"):
        doubles(t64([1.0], requires_grad=True), t64([1.0, -1.0], requires_grad=True) * 1)
    with minigrad.no_grad():  # nothing is recorded: no identity, no error
        out = layer(t64([[1.0, 2.0]], requires_grad=True))
        out.add_(1)


def test_forward_hooks_with_kwargs_and_always_call():
    module = TwoInTwoOut()
    seen = []
    module.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs) or (out[0] + 1,), with_kwargs=True)

    def pre(m, args, kwargs):
        return args, {"scale": kwargs["scale"] * 10}

    module.register_forward_pre_hook(pre, with_kwargs=True)
    (out,) = module(t64([1.0]), t64([2.0]), scale=0.5)
    assert seen == [{"scale": 5.0}]
    np.testing.assert_allclose(out.detach().numpy(), [1.0 * 2.0 * 5.0 + 1])

    module = TwoInTwoOut()
    module.register_forward_pre_hook(lambda m, args, kwargs: "bad", with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        module(t64([1.0]), t64([2.0]))

    class Failing(nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    failing = Failing()
    calls = []
    failing.register_forward_hook(lambda m, args, out: calls.append(("always", out)), always_call=True)
    failing.register_forward_hook(lambda m, args, out: calls.append(("plain", out)))
    with pytest.raises(ValueError, match="forward failed"):
        failing(t64([1.0]))
    assert calls == [("always", None)]

    failing = Failing()
    failing.register_forward_hook(lambda m, args, out: 1 / 0, always_call=True)
    with pytest.warns(UserWarning, match="always_call=True`` raised an exception"):
        with pytest.raises(ValueError, match="forward failed"):
            failing(t64([1.0]))


def test_forward_and_backward_hooks_together():
    layer = nn.Linear(2, 2).double()
    layer.register_forward_hook(lambda m, args, out: out * 2)  # doubles the output
    grads = []
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: grads.append(grad_output[0]))
    x = t64([[1.0, 2.0]], requires_grad=True)
    out = layer(x)
    np.testing.assert_allclose(out.detach().numpy(),
                               2 * (x.detach().numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()))
    out.sum().backward()
    np.testing.assert_allclose(grads[0].detach().numpy(), [[1.0, 1.0]])  # the gradient of the module's returned output
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * layer.weight.detach().numpy().sum(axis=0, keepdims=True))


def test_global_module_hooks_apply_to_every_module():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    events = []
    handles = [
        module_module.register_module_forward_pre_hook(lambda m, args: events.append(("fpre", type(m).__name__))),
        module_module.register_module_forward_hook(lambda m, args, out: events.append(("fwd", type(m).__name__))),
        module_module.register_module_full_backward_pre_hook(lambda m, go: events.append(("bpre", type(m).__name__))),
        module_module.register_module_full_backward_hook(lambda m, gi, go: events.append(("bwd", type(m).__name__))),
    ]
    try:
        x = t64([[1.0, -1.0]], requires_grad=True)
        model(x).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    names = ["Sequential", "Linear", "ReLU", "Linear"]
    assert [e for e in events if e[0] == "fpre"] == [("fpre", n) for n in names]
    assert [e for e in events if e[0] == "fwd"] == [("fwd", n) for n in ["Linear", "ReLU", "Linear", "Sequential"]]
    backward = [e for e in events if e[0] in ("bpre", "bwd")]
    assert backward == [("bpre", "Sequential"), ("bpre", "Linear"), ("bwd", "Linear"), ("bpre", "ReLU"),
                        ("bwd", "ReLU"), ("bpre", "Linear"), ("bwd", "Linear"), ("bwd", "Sequential")]
    events.clear()
    model(x)
    assert events == []  # removed


def test_global_hook_runs_before_the_module_hook_and_can_scale():
    layer = nn.Linear(2, 1).double()
    order = []
    layer.register_full_backward_hook(lambda m, gi, go: order.append("own"))
    handle = module_module.register_module_full_backward_hook(
        lambda m, gi, go: order.append("global") or (gi[0] * 0.5,))
    try:
        x = t64([[1.0, 2.0]], requires_grad=True)
        layer(x).sum().backward()
    finally:
        handle.remove()
    assert order == ["global", "own"]
    np.testing.assert_allclose(x.grad.detach().numpy(), 0.5 * layer.weight.detach().numpy())



def test_a_module_pickled_without_the_hook_registries_still_runs():
    import pickle

    layer = nn.Linear(2, 1).double()
    state = pickle.dumps(layer)
    copy = pickle.loads(state)
    for name in ("_backward_hooks", "_backward_pre_hooks", "_forward_hooks_with_kwargs", "_is_full_backward_hook"):
        del copy.__dict__[name]  # as an older minigrad pickled it
    restored = pickle.loads(pickle.dumps(copy))
    x = t64([[1.0, 2.0]], requires_grad=True)
    seen = []
    restored.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0]))
    np.testing.assert_allclose(restored(x).detach().numpy(), layer(x).detach().numpy())
    restored(x).sum().backward()
    np.testing.assert_allclose(seen[0].detach().numpy(), restored.weight.detach().numpy())


class MulModule(nn.Module):
    def forward(self, a, b):
        return a * b


def test_deprecated_backward_hook_sees_the_last_node():
    module = MulModule()
    seen = []
    module.register_backward_hook(lambda m, grad_input, grad_output: seen.append((grad_input, grad_output)))
    x = t64([1.0, 2.0], requires_grad=True)
    y = t64([3.0, 5.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one node whose inputs are the module's: no warning
        out = module(x * 1, y * 2)
    (out * t64([1.0, 10.0])).sum().backward()
    ((grad_input, grad_output),) = seen
    np.testing.assert_allclose(grad_output[0].detach().numpy(), [1.0, 10.0])
    np.testing.assert_allclose(grad_input[0].detach().numpy(), [6.0, 100.0])  # g * (2y)
    np.testing.assert_allclose(grad_input[1].detach().numpy(), [1.0, 20.0])  # g * x
    np.testing.assert_allclose(y.grad.detach().numpy(), [2.0, 40.0])

    replacing = MulModule()
    replacing.register_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 0, grad_input[1]))
    x.grad = y.grad = None
    replacing(x * 1, y * 2).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [0.0, 0.0])
    np.testing.assert_allclose(y.grad.detach().numpy(), [2.0, 4.0])


def test_deprecated_backward_hook_warnings_and_mixing_errors():
    module = MulModule()
    module.register_backward_hook(lambda *args: None)
    x = t64([1.0, 2.0], requires_grad=True)
    with pytest.warns(FutureWarning, match="forward contains multiple autograd Nodes"):
        module(x, x)  # leaf inputs: PyTorch's AccumulateGrad nodes are not the inputs' grad_fn

    class TwoOutputs(nn.Module):
        def forward(self, a):
            return a * 2, a * 3

    two = TwoOutputs()
    two.register_backward_hook(lambda *args: None)
    with pytest.warns(FutureWarning, match="outputs are generated by different autograd Nodes"):
        two(x * 1)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        module.register_full_backward_hook(lambda *args: None)
    full = nn.Linear(2, 1)
    full.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        full.register_backward_hook(lambda *args: None)


def test_global_deprecated_backward_hook(monkeypatch):
    from minigrad.nn import module_hooks

    monkeypatch.setattr(module_hooks, "_global_is_full_backward_hook", None)
    seen = []
    handle = module_module.register_module_backward_hook(lambda m, gi, go: seen.append(type(m).__name__))
    try:
        with pytest.raises(RuntimeError, match="as a global Module hook"):
            module_module.register_module_full_backward_hook(lambda *args: None)
        x = t64([1.0, 2.0], requires_grad=True)
        MulModule()(x * 1, x * 2).sum().backward()
    finally:
        handle.remove()
    assert seen == ["MulModule"]
