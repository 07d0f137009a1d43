"""The autograd engine: graph walks, accumulation, freeing, no_grad,
gradcheck and the Function API."""
import threading
import time
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, GradcheckError


# ------------------------------------------------------------ graph walks
def test_a_chain_of_100000_ops_backpropagates():
    x = mg.tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()   # iterative walk: no recursion limit (its speed: benchmarks/graph_walk.py)
    np.testing.assert_allclose(x.grad.item(), 1.00001 ** 100_000, rtol=1e-9)


def test_a_long_unused_chain_can_be_dropped():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    del y  # freeing 100k nested graph nodes must not overflow the C stack


def test_reused_non_leaf_nodes():
    a = mg.tensor([2.0, -1.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad.array, [4.0, 4.0])


def test_diamond_graph():
    a = mg.tensor([3.0], requires_grad=True)
    b = a * 2            # 6
    c = b * b + b.exp()  # dc/db = 2b + e^b
    d = c * b            # dd/db = c + b * dc/db
    d.backward(mg.ones(1))
    b_value = 6.0
    c_value = b_value ** 2 + np.exp(b_value)
    expected = (c_value + b_value * (2 * b_value + np.exp(b_value))) * 2
    np.testing.assert_allclose(a.grad.array, [expected], rtol=1e-6)


def test_only_inputs_that_require_grad_get_gradients():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 4.0])
    (w * x).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.array, [3.0, 4.0])


def test_gradients_accumulate_across_backward_calls():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [3.0 + 2.0, 3.0 + 4.0])
    w.grad = None
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [3.0, 3.0])


def test_backward_on_a_leaf_accumulates_the_gradient_itself():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.backward(mg.tensor([5.0, 6.0]))
    np.testing.assert_array_equal(w.grad.array, [5.0, 6.0])


def test_leaf_gradients_are_private_copies():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both leaves
    a.grad.array[0] = 100.0
    assert b.grad.item() == 1.0


def test_saved_tensors_are_freed_and_a_second_backward_is_an_error():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    multiply_node = y.grad_fn.next_nodes[0]
    assert len(multiply_node.saved_tensors) == 2
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        multiply_node.saved_tensors
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_keeps_the_graph_for_another_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(w.grad.array, [4.0, 8.0])


def test_a_shared_subgraph_freed_by_one_backward_cannot_be_reused():
    w = mg.tensor([1.0], requires_grad=True)
    h = w * 2
    (h * 3).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 4).sum().backward()


# ----------------------------------------------------------------- no_grad
def test_no_grad_context_manager():
    w = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = w * 2
        with mg.enable_grad():
            z = w * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError):
        with mg.no_grad():
            raise KeyError("x")
    assert mg.is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    w = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def double(t):
        return t * 2

    @mg.no_grad
    def triple(t):
        """Triples."""
        return t * 3

    assert not double(w).requires_grad and not triple(w).requires_grad
    assert triple.__name__ == "triple" and triple.__doc__ == "Triples."
    assert mg.is_grad_enabled() and (w * 2).requires_grad


def test_set_grad_enabled():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_no_grad_is_thread_local():
    seen = {}
    entered, checked = threading.Event(), threading.Event()

    def worker():
        entered.wait(5)
        seen["worker, main in no_grad"] = mg.is_grad_enabled()
        with mg.no_grad():
            seen["worker in no_grad"] = mg.is_grad_enabled()
            checked.set()
            time.sleep(0.05)

    thread = threading.Thread(target=worker)
    thread.start()
    with mg.no_grad():
        entered.set()
        checked.wait(5)
    seen["main after its no_grad, worker in no_grad"] = mg.is_grad_enabled()
    thread.join(5)
    assert seen == {"worker, main in no_grad": True, "worker in no_grad": False,
                    "main after its no_grad, worker in no_grad": True}


def test_detach_stops_the_gradient():
    w = mg.tensor([2.0], requires_grad=True)
    (w * w.detach()).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [2.0])  # not 2w = 4


# --------------------------------------------------------------- gradcheck
class WrongSquare(Function):
    """x^2 with a deliberately wrong derivative (x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * x


def test_gradcheck_catches_a_wrong_backward(rng):
    x = mg.tensor(rng.uniform(0.5, 1.5, (3, 2)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0.*analytical.*numerical"):
        mg.gradcheck(WrongSquare.apply, (x,))
    assert mg.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    assert mg.gradcheck(lambda t: t * t, (x,))
    assert x.grad is None  # the caller's tensors are left alone


def test_gradcheck_warns_on_float32():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        mg.gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2, (mg.tensor(np.array([1.0])),))


def test_gradcheck_with_several_outputs_and_constant_arguments(rng):
    x = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = mg.tensor(rng.standard_normal((2, 3)))

    def several(t, constant, scale):
        return constant * 2, (t * constant).sum(1) * scale, t.max(1)  # (values, indices) tuple too

    def flat(t, constant, scale):
        first, second, (values, indices) = several(t, constant, scale)
        return first, second, values, indices

    assert mg.gradcheck(flat, (x, c, 3.0))


# ------------------------------------------------------------ Function API
class ScaledProduct(Function):
    """(a * b * scale, argmax of a): records what the engine hands it."""
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays
    calls = []

    @staticmethod
    def forward(ctx, a, b, scale):
        ScaledProduct.calls.append(("forward", type(a), type(b), scale))
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale, np.argmax(a)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        ScaledProduct.calls.append(("backward", ctx.needs_input_grad, type(grad_output)))
        grad_a = grad_output * b * ctx.scale if ctx.needs_input_grad[0] else None
        grad_b = grad_output * a * ctx.scale if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


def test_function_api():
    ScaledProduct.calls.clear()
    a = mg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    b = mg.tensor([4.0, 5.0, 6.0])
    out, index = ScaledProduct.apply(a, b, 2.0)
    assert out.requires_grad and isinstance(out.grad_fn, ScaledProduct)
    assert isinstance(index, mg.Tensor) and not index.requires_grad and index.item() == 1
    assert out.grad_fn.needs_input_grad == (True, False, False)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.array, [8.0, 10.0, 12.0])
    assert ScaledProduct.calls == [("forward", np.ndarray, np.ndarray, 2.0),
                                   ("backward", (True, False, False), np.ndarray)]


def test_function_under_no_grad_records_nothing():
    a = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        out, _ = ScaledProduct.apply(a, a, 1.0)
    assert out.grad_fn is None and not out.requires_grad


class Identity(Function):
    """Returns one gradient without a tuple; records the gradient's dtype."""
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays
    seen = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        Identity.seen.append(grad_output.dtype)
        return grad_output


def test_backward_hands_each_node_gradients_in_its_output_dtype():
    Identity.seen.clear()
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(w)                                  # float32 node
    (y * mg.tensor(np.array([3.0, 4.0]))).sum().backward()  # float64 consumer
    assert Identity.seen == [np.float32]
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.array, [3.0, 4.0])


def test_non_differentiable_outputs_stop_the_gradient():
    x = mg.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    (values * 1.0 + indices.float()).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[0.0, 1.0], [1.0, 0.0]])


def test_abstract_function_methods():
    class Incomplete(Function):
        pass
    with pytest.raises(NotImplementedError, match="forward"):
        Incomplete.apply(mg.tensor([1.0]))


def test_no_warnings_from_a_plain_training_step(rng):
    w = mg.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = mg.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = ((x @ w).relu() - 1).pow(2).mean()
        loss.backward()
    assert w.grad.shape == (3, 2) and w.grad.dtype == np.float32


class WrongShape(Function):
    """Returns a gradient with a stray leading axis."""
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[None] * 2


def test_a_wrongly_shaped_gradient_is_reported_with_the_node():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    hidden = w * 1.0
    with pytest.raises(RuntimeError, match=r"Mul has shape \(1, 2\).*\(2,\)"):
        WrongShape.apply(hidden).sum().backward()
