"""minigrad.autograd.graph: saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks,
increment_version, register_multi_grad_hook. Gradients are checked against closed forms."""
import numpy as np
import pytest

import minigrad
from minigrad import autograd
from minigrad.autograd.graph import (
    disable_saved_tensors_hooks,
    increment_version,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
)


def t64(values, requires_grad=False):
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_identity_hooks_see_every_saved_tensor_and_keep_the_gradient():
    x = t64([0.5, -1.0, 2.0], requires_grad=True)
    packed, unpacked = [], []

    def pack(tensor):
        packed.append(tensor.detach().numpy().copy())
        return ("boxed", tensor)

    def unpack(box):
        unpacked.append(box[0])
        return box[1]

    with saved_tensors_hooks(pack, unpack):
        y = (x.exp() * x).sum()
    assert len(packed) >= 2  # exp saves its output, mul both factors
    assert any(np.allclose(p, x.detach().numpy()) for p in packed)
    assert any(np.allclose(p, np.exp(x.detach().numpy())) for p in packed)
    assert unpacked == []
    y.backward()
    assert len(unpacked) == len(packed)
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.exp(xv) * (1 + xv), rtol=1e-12)


def test_unpacked_values_are_what_backward_uses():
    a = t64([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t * 0 + 3, lambda packed: packed):
        y = (a * a).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), [6.0, 6.0])  # 3 + 3, as PyTorch


def test_innermost_hooks_apply_and_nothing_is_packed_outside_or_under_no_grad():
    a = t64([1.0, 2.0], requires_grad=True)
    calls = []
    with saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t):
            (a * a).sum()
        with minigrad.no_grad():
            (a * a).sum()
        (a * 1.0).detach()
    (a * a).sum()
    assert calls[:2] == ["inner", "inner"] and set(calls[2:]) <= {"outer"} and "outer" in calls


def test_hooks_replace_the_version_check_as_in_pytorch():
    a = t64([1.0, 2.0], requires_grad=True)
    b = a * 1
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (b * b).sum()
    with minigrad.no_grad():
        b.add_(1)
    y.backward()  # no error: with hooks PyTorch does not check versions; the new values are used
    np.testing.assert_allclose(a.grad.detach().numpy(), [4.0, 6.0])


def test_hook_errors():
    a = t64([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: 5, lambda packed: packed):
        y = (a * a).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
        y.backward()
    with saved_tensors_hooks(lambda t: t.add_(1), lambda packed: packed):
        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            (a * a).sum()


def test_user_function_saved_tensors_go_through_the_hooks():
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad

    x = t64([1.0, -2.0], requires_grad=True)
    seen = []
    with saved_tensors_hooks(lambda t: seen.append(t) or t.detach().clone(), lambda t: t):
        y = Cube.apply(x).sum()
    assert len(seen) == 1 and seen[0] is x  # the Tensor itself, as in PyTorch
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [3.0, 12.0])


def test_save_on_cpu():
    x = t64([0.5, 1.5], requires_grad=True)
    for pin_memory in (False, True):
        x.grad = None
        with save_on_cpu(pin_memory=pin_memory):
            y = (x.sin() * x).sum()
        y.backward()
        xv = x.detach().numpy()
        np.testing.assert_allclose(x.grad.detach().numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-12)
    assert isinstance(save_on_cpu(), saved_tensors_hooks)


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no saved tensors hooks in this region"):
        with pytest.raises(RuntimeError, match="no saved tensors hooks in this region"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        with disable_saved_tensors_hooks("inner message"):
            with pytest.raises(RuntimeError, match="inner message"):
                saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
        with pytest.raises(RuntimeError, match="no saved tensors hooks in this region"):
            saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again
        with pytest.raises(RuntimeError, match="already active"):
            with disable_saved_tensors_hooks("already active"):
                pass


def test_increment_version():
    v = t64([1.0, 2.0])
    assert v._version == 0
    increment_version(v)
    increment_version([v, v])
    assert v._version == 3
    x = t64([1.0, 2.0], requires_grad=True)
    q = x * 1
    y = (q * q).sum()
    increment_version(q)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_multi_grad_hook_all():
    a = t64([1.0, 2.0], requires_grad=True)
    b = t64([3.0, 4.0], requires_grad=True)
    c, d = a * 2, b * 3
    calls = []
    handle = register_multi_grad_hook(
        (a, b, c, d), lambda grads: calls.append([None if g is None else g.detach().numpy().tolist() for g in grads]))
    (c * d).sum().backward(retain_graph=True)
    assert calls == [[[18.0, 24.0], [6.0, 12.0], [9.0, 12.0], [2.0, 4.0]]]  # d(cd)/da = 2d, ...
    calls.clear()
    c.sum().backward(retain_graph=True)  # reaches a and c only
    assert calls == [[[2.0, 2.0], None, [1.0, 1.0], None]]
    calls.clear()
    autograd.grad((c * d).sum(), (c,), retain_graph=True)  # stops at c
    assert calls == [[None, None, [9.0, 12.0], None]]
    handle.remove()
    calls.clear()
    (c * d).sum().backward()
    assert calls == []


def test_multi_grad_hook_any():
    a = t64([1.0, 2.0], requires_grad=True)
    b = a * 2  # b's gradient is computed before a's
    calls = []
    register_multi_grad_hook((a, b), lambda grad: calls.append(grad.detach().numpy().tolist()), mode="any")
    (b * b).sum().backward()
    assert calls == [[4.0, 8.0]]  # once per backward, with b's gradient 2b
    with pytest.raises(ValueError, match=r"Expects mode to be one of \('all', 'any'\) but got some"):
        register_multi_grad_hook((a,), print, mode="some")


def test_node_hooks():
    from minigrad.autograd.graph import Node

    a = t64([1.0, 2.0], requires_grad=True)
    b = t64([3.0, 4.0])
    y = a * b
    assert isinstance(y.grad_fn, Node) and not isinstance(a, Node)
    y.grad_fn.metadata["tag"] = "product"
    assert y.grad_fn.metadata == {"tag": "product"}
    calls = []
    pre = y.grad_fn.register_prehook(lambda grad_outputs: calls.append(("pre", grad_outputs)))
    post = y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append(("post", grad_inputs, grad_outputs)))
    (y * t64([1.0, 10.0])).sum().backward(retain_graph=True)
    (_, pre_grads), (_, grad_inputs, grad_outputs) = calls
    np.testing.assert_allclose(pre_grads[0].detach().numpy(), [1.0, 10.0])
    np.testing.assert_allclose(grad_inputs[0].detach().numpy(), [3.0, 40.0])  # g * b
    assert grad_inputs[1] is None  # b does not require grad
    np.testing.assert_allclose(grad_outputs[0].detach().numpy(), [1.0, 10.0])
    pre.remove()
    post.remove()

    a.grad = None
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 2,))
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(a.grad.detach().numpy(), [60.0, 80.0])  # 1 * 2 * b * 10


def test_node_hook_errors():
    a = t64([1.0, 2.0], requires_grad=True)
    b = t64([3.0, 4.0])
    cases = [
        ("register_hook", lambda gi, go: (gi[0],), r"returned an incorrect number of values \(got 1, but expected 2\)"),
        ("register_prehook", lambda go: (go[0], go[0]), r"incorrect number of values \(got 2, but expected 1\)"),
        ("register_prehook", lambda go: (go[0][:1],), "has changed the size of value"),
        ("register_hook", lambda gi, go: (gi[0][:1], None), "has changed the size of value"),
    ]
    for method, hook, message in cases:
        y = a * b
        getattr(y.grad_fn, method)(hook)
        with pytest.raises(RuntimeError, match=message):
            y.sum().backward()
