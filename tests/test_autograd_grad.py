"""minigrad.autograd.grad (PyTorch's torch.autograd.grad): gradients returned, .grad untouched."""
import numpy as np
import pytest

import minigrad as torch
from minigrad.autograd import grad


def test_gradients_of_a_scalar_against_closed_forms_leave_grad_alone():
    x = torch.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    w = torch.tensor(np.array([3.0, 1.0, -2.0]), requires_grad=True)
    loss = (x * x * w).sum() + w.exp().sum()
    grad_x, grad_w = grad(loss, [x, w])
    np.testing.assert_allclose(grad_x.numpy(), 2 * x.array * w.array)
    np.testing.assert_allclose(grad_w.numpy(), x.array ** 2 + np.exp(w.array))
    assert x.grad is None and w.grad is None and not grad_x.requires_grad


def test_non_leaf_input_several_outputs_and_grad_outputs():
    x = torch.tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden = x * 3
    first, second = hidden.sin(), hidden ** 2
    weight = torch.tensor(np.array([1.0, -1.0]))
    grad_hidden, grad_x = grad([first, second], [hidden, x], grad_outputs=[weight, torch.ones(2).double()])
    h = 3 * x.array
    np.testing.assert_allclose(grad_hidden.numpy(), np.cos(h) * [1, -1] + 2 * h)
    np.testing.assert_allclose(grad_x.numpy(), 3 * (np.cos(h) * [1, -1] + 2 * h))


def test_gradient_penalty_style_use_matches_backward():
    x = torch.randn(4, 3, requires_grad=True)
    layer = torch.nn.Linear(3, 1)
    out = layer(x).tanh()
    gradients, = grad(out, x, grad_outputs=torch.ones_like(out), retain_graph=True)
    out.sum().backward()
    np.testing.assert_allclose(gradients.numpy(), x.grad.numpy(), rtol=1e-6)


def test_errors_and_allow_unused():
    x = torch.ones(2, requires_grad=True)
    unused = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 appears not to have been used"):
        grad((x * 2).sum(), [x, unused])
    grad_x, grad_unused = grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert grad_x.tolist() == [2.0, 2.0] and grad_unused is None
    _, zeros = grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert zeros.tolist() == [0.0, 0.0]
    constant, = grad((x * 2).sum(), x, create_graph=True)  # d/dx of 2x does not depend on x
    assert constant.tolist() == [2.0, 2.0] and not constant.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad((x * 2).sum(), torch.ones(2))
    loss = (x * 2).sum()
    grad(loss, x)
    with pytest.raises(RuntimeError, match="second time"):
        grad(loss, x)
