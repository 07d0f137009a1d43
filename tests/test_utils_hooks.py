"""minigrad.utils.hooks: the RemovableHandle that tensor and module hooks return."""
from collections import OrderedDict

import numpy as np

import minigrad
from minigrad import nn
from minigrad.autograd_hooks import RemovableHandle as EngineHandle
from minigrad.utils.hooks import RemovableHandle, unserializable_hook


def test_it_is_the_engines_handle():
    assert RemovableHandle is EngineHandle
    x = minigrad.ones(3, requires_grad=True)
    assert isinstance(x.register_hook(lambda g: g * 2), RemovableHandle)
    assert isinstance(nn.Linear(2, 2).register_forward_hook(lambda m, i, o: None), RemovableHandle)


def test_remove_and_context_manager_and_extra_dict():
    hooks, extra, more = OrderedDict(), {}, {}
    first = RemovableHandle(hooks, extra_dict=[extra, more])
    second = RemovableHandle(hooks, extra_dict=extra)
    assert first.id != second.id
    hooks[first.id], hooks[second.id] = "a", "b"
    extra[first.id], more[first.id], extra[second.id] = 1, 2, 3
    first.remove()
    assert list(hooks.values()) == ["b"] and extra == {second.id: 3} and more == {}
    first.remove()   # twice is fine
    with second:
        pass
    assert not hooks and not extra


def test_a_removed_tensor_hook_no_longer_runs():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_unserializable_hook_marks_the_function():
    @unserializable_hook
    def hook(grad):
        return grad
    assert hook.__torch_unserializable__ is True and hook(5) == 5
