"""autograd.grad walks only the graph between its outputs and its inputs, as PyTorch does:
nodes that lead to no input never run, the walk stops at the inputs, and nothing's .grad changes."""
import numpy as np
import pytest

import minigrad as torch
from minigrad.autograd import Function, grad


class Spy(Function):
    """An identity whose backward counts its calls (a user's PyTorch-style Function)."""
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad_output):
        Spy.calls += 1
        return grad_output


@pytest.fixture(autouse=True)
def reset_spy():
    Spy.calls = 0


def test_grad_of_a_non_leaf_after_the_graph_below_it_was_freed():
    x = torch.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    hidden = x.exp()
    loss = (hidden * hidden).sum()
    hidden.sum().backward()  # frees the Exp node below `hidden`
    grad_hidden, = grad(loss, hidden)
    np.testing.assert_allclose(grad_hidden.numpy(), 2 * np.exp(x.array))
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.array))  # only the backward above wrote it


def test_nodes_below_the_inputs_and_off_the_path_never_run():
    x = torch.tensor(np.array([1.0, 2.0]), requires_grad=True)
    below = Spy.apply(x)                    # below the input: must not run
    hidden = below * 3
    side = Spy.apply(torch.ones(2, requires_grad=True))  # off the path to the input
    loss = (hidden ** 2).sum() + side.sum()
    grad_hidden, = grad(loss, hidden)
    np.testing.assert_allclose(grad_hidden.numpy(), 2 * 3 * x.array)
    assert Spy.calls == 0
    assert x.grad is None and hidden.grad is None
    # The graph below the input is still whole: a backward through it runs the spy once.
    hidden.sum().backward()
    assert Spy.calls == 1 and x.grad.tolist() == [3.0, 3.0]


def test_an_input_node_runs_when_another_input_lies_below_it():
    x = torch.tensor(np.array([0.3, -0.7]), requires_grad=True)
    hidden = Spy.apply(x) * 2
    loss = (hidden.sin() * x).sum()
    grad_hidden, grad_x = grad(loss, [hidden, x])
    h = 2 * x.array
    np.testing.assert_allclose(grad_hidden.numpy(), np.cos(h) * x.array)
    np.testing.assert_allclose(grad_x.numpy(), np.sin(h) + 2 * np.cos(h) * x.array)
    assert Spy.calls == 1


def test_values_equal_those_of_the_full_backward():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    hidden = (x @ w).tanh()
    loss = (hidden * hidden.sigmoid()).sum() + (w ** 2).sum()
    grad_hidden, grad_w = grad(loss, [hidden, w], retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(grad_w.numpy(), w.grad.numpy(), rtol=1e-12)
    # d loss / d hidden from a full backward of the same expression on a leaf copy of hidden
    hidden_leaf = torch.tensor(hidden.array.copy(), requires_grad=True)
    (hidden_leaf * hidden_leaf.sigmoid()).sum().backward()
    np.testing.assert_allclose(grad_hidden.numpy(), hidden_leaf.grad.numpy(), rtol=1e-12)
    assert hidden_leaf.grad is not None and x.grad is not None  # x's from the backward only


def test_retain_graph_keeps_only_the_walked_part_and_defaults_to_freeing_it():
    x = torch.tensor(np.array([1.0, -2.0]), requires_grad=True)
    hidden = x * x
    loss = (hidden * 3).sum()
    first, = grad(loss, hidden, retain_graph=True)
    second, = grad(loss, hidden)  # retained: runs again, then frees the part above hidden
    assert first.tolist() == second.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="second time"):
        grad(loss, hidden)
    hidden.sum().backward()  # the graph below hidden was never walked, so never freed
    assert x.grad.tolist() == [2.0, -4.0]


def test_a_freed_node_between_outputs_and_inputs_still_raises():
    x = torch.tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden = x.exp()
    loss = (hidden * x).sum()
    hidden.sum().backward()  # frees Exp, which lies between loss and x
    with pytest.raises(RuntimeError, match="second time"):
        grad(loss, [hidden, x])


def test_an_already_freed_branch_that_leads_to_no_input_is_skipped():
    w = torch.tensor(np.array([0.1, 0.2]), requires_grad=True)
    branch = w.exp().sum()
    branch.backward()
    q = torch.tensor(np.array([1.0, 3.0]), requires_grad=True)
    loss = (w.exp() * q).sum() + branch
    grad_q, = grad(loss, q)
    np.testing.assert_allclose(grad_q.numpy(), np.exp(w.array))
