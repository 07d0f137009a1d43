"""autograd.backward's PyTorch signature: several tensors, grad_tensors,
inputs=, create_graph=, and zero_grad of a gradient that has a graph."""
import numpy as np
import pytest

import minigrad as torch
from minigrad import nn


def test_backward_of_several_tensors_adds_their_gradients():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = (x * x).sum(), x * 3.0
    torch.autograd.backward([a, b], [None, torch.tensor([1.0, 0.0, 2.0])])
    assert x.grad.tolist() == [2.0 + 3.0, 4.0, 6.0 + 6.0]
    x.grad = None
    torch.autograd.backward((x * 2).sum(), grad_tensors=[torch.tensor(0.5)])
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="got 1 gradients for 2 tensors"):
        torch.autograd.backward([a, b], [None])


def test_backward_inputs_accumulates_only_into_them():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    hidden = x * w
    loss = (hidden * hidden).sum()
    loss.backward(inputs=[w, hidden], retain_graph=True)
    assert x.grad is None
    assert w.grad.tolist() == [2 * 3.0 * 1.0, 2 * 4.0 * 4.0]          # 2 w x^2
    assert hidden.grad.tolist() == [2 * 3.0, 2 * 8.0]                 # non-leaf: 2 hidden
    loss.backward(inputs=w)
    assert w.grad.tolist() == [12.0, 64.0]                            # accumulated
    with pytest.raises(RuntimeError, match="'inputs' argument to backward"):
        (x * 2).sum().backward(inputs=[])


def test_create_graph_backward_leaves_a_differentiable_grad():
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and np.allclose(first.detach().numpy(), 3 * x.detach().numpy() ** 2)
    x.grad = None
    first.sum().backward()                                            # d/dx sum(3x^2) = 6x
    assert np.allclose(x.grad.numpy(), 6 * x.detach().numpy())


def test_zero_grad_detaches_a_gradient_with_a_graph():
    layer = nn.Linear(2, 1)
    x = torch.randn(4, 2)
    (layer(x) ** 2).sum().backward(create_graph=True)
    weight_grad = layer.weight.grad
    assert weight_grad.grad_fn is not None
    saved = weight_grad.detach().numpy().copy()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad.grad_fn is None and layer.weight.grad.tolist() == [[0.0, 0.0]]
    assert np.array_equal(weight_grad.detach().numpy(), saved)       # the graph's array is untouched
