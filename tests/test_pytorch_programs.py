"""Names and behaviours that the official PyTorch examples and tutorials need
(found by running them with ``import minigrad as torch``)."""
import importlib

import minigrad as torch


def test_backends_submodules_import_as_in_pytorch():
    cudnn = importlib.import_module("minigrad.backends.cudnn")  # dcgan: import torch.backends.cudnn as cudnn
    assert cudnn is torch.backends.cudnn and not cudnn.is_available()
    cudnn.benchmark = True
    assert importlib.import_module("minigrad.backends.mps").is_available() is False


def test_grad_fn_prints_as_pytorch_names_it():
    # The "Neural Networks" tutorial prints loss.grad_fn and its next_functions.
    x = torch.ones(2, requires_grad=True)
    loss = (x * 3).sum()
    assert repr(loss.grad_fn).startswith("<SumBackward0 object at 0x")
    assert repr(loss.grad_fn.next_functions[0][0]).startswith("<MulBackward0 object at 0x")


def test_inference_mode_as_context_and_decorator():
    w = torch.ones(2, requires_grad=True)
    with torch.inference_mode():
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad  # restored

    @torch.inference_mode()
    def evaluate(x):
        return torch.is_grad_enabled(), (x * 2).requires_grad
    assert evaluate(w) == (False, False)
    with torch.inference_mode(False):
        assert (w * 2).requires_grad


def test_variable_of_old_tutorials_is_the_tensor():
    x = torch.ones(3)
    v = torch.autograd.Variable(x, requires_grad=True)
    assert v is x and v.requires_grad and isinstance(torch.zeros(1), torch.autograd.Variable)
    assert not isinstance(3.0, torch.autograd.Variable)
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0]


def test_no_grad_decorator_without_parentheses_and_nesting():
    w = torch.ones(1, requires_grad=True)

    @torch.no_grad
    def inner():
        return torch.is_grad_enabled()

    @torch.enable_grad()
    def outer():
        return inner(), torch.is_grad_enabled()
    with torch.no_grad():
        assert outer() == (False, True) and not torch.is_grad_enabled()
    assert torch.is_grad_enabled() and (w * 1).requires_grad
