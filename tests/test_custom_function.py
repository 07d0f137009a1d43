"""A user's torch.autograd.Function, as PyTorch defines it: forward and backward
work on Tensors, ctx.save_for_backward / saved_tensors / needs_input_grad /
mark_non_differentiable / mark_dirty / set_materialize_grads."""
import numpy as np
import pytest

import minigrad
import minigrad as torch
from minigrad.autograd import gradcheck


class MyReLU(torch.autograd.Function):
    """Verbatim from PyTorch's "Learning PyTorch with examples" tutorial."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LegendrePolynomial3(torch.autograd.Function):
    seen = []

    @staticmethod
    def forward(ctx, input):
        LegendrePolynomial3.seen.append(type(input))
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        LegendrePolynomial3.seen.append((type(grad_output), type(input)))
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def double(values, requires_grad=True):
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_tutorial_relu_forward_backward_and_graph_node():
    x = double([-1.5, -0.2, 0.3, 2.0])
    y = MyReLU.apply(x)
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 0.0, 0.3, 2.0])
    assert y.requires_grad and isinstance(y.grad_fn, MyReLU)
    assert y.grad_fn.name() == "MyReLUBackward" and "grad_fn=<MyReLUBackward>" in repr(y)
    (accumulate, _), = y.grad_fn.next_functions
    assert accumulate.variable is x
    (y * double([1.0, 2.0, 3.0, 4.0], False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 3.0, 4.0])
    assert gradcheck(MyReLU.apply, (double([[-1.5, 0.7], [0.4, -0.1]]),))


def test_legendre_sees_tensors_and_passes_gradcheck():
    LegendrePolynomial3.seen.clear()
    x = double(np.linspace(-1, 1, 5))
    y = LegendrePolynomial3.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), 0.5 * (5 * x.array ** 3 - 3 * x.array))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (5 * x.array ** 2 - 1))
    assert LegendrePolynomial3.seen == [torch.Tensor, (torch.Tensor, torch.Tensor)]
    assert gradcheck(LegendrePolynomial3.apply, (double([0.1, -0.7, 0.9]),))


class ScaleShift(torch.autograd.Function):
    """a * scale + shift with non-tensor arguments; records needs_input_grad and grad mode."""
    seen = []

    @staticmethod
    def forward(ctx, a, scale, b, note):
        ScaleShift.seen.append(("forward", ctx.needs_input_grad, torch.is_grad_enabled(), note))
        ctx.scale = scale
        return a * scale + b

    @staticmethod
    def backward(ctx, grad_output):
        ScaleShift.seen.append(("backward", torch.is_grad_enabled()))
        grad_a = grad_output * ctx.scale if ctx.needs_input_grad[0] else None
        grad_b = grad_output if ctx.needs_input_grad[2] else None
        return grad_a, None, grad_b, None


def test_non_tensor_arguments_needs_input_grad_and_no_recording_inside():
    ScaleShift.seen.clear()
    a, b = double([1.0, 2.0]), double([5.0, 6.0], requires_grad=False)
    y = ScaleShift.apply(a, 3.0, b, "hello")
    np.testing.assert_array_equal(y.detach().numpy(), [8.0, 12.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])
    assert ScaleShift.seen == [("forward", (True, False, False, False), False, "hello"), ("backward", False)]
    assert gradcheck(lambda a, b: ScaleShift.apply(a, -2.0, b, None), (double([0.3, 0.4]), double([1.0, 2.0])))
    with torch.no_grad():
        assert ScaleShift.apply(a, 3.0, b, "").grad_fn is None


class SinCos(torch.autograd.Function):
    """Two differentiable outputs: backward gets one gradient per output."""
    seen = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        SinCos.seen.append((grad_sin is None, grad_cos is None))
        x, = ctx.saved_tensors
        if grad_sin is None:
            grad_sin = torch.zeros_like(x)
        if grad_cos is None:
            grad_cos = torch.zeros_like(x)
        return grad_sin * x.cos() - grad_cos * x.sin()


def test_several_outputs():
    x = double([0.1, 1.2, -0.7])
    sin, cos = SinCos.apply(x)
    np.testing.assert_allclose(sin.detach().numpy(), np.sin(x.array))
    np.testing.assert_allclose(cos.detach().numpy(), np.cos(x.array))
    (2 * sin + 3 * cos + sin * cos).sum().backward()
    s, c = np.sin(x.array), np.cos(x.array)
    np.testing.assert_allclose(x.grad.numpy(), 2 * c - 3 * s + c * c - s * s)
    assert gradcheck(SinCos.apply, (double([0.3, -2.0]),))
    # Only one output used: the other gradient arrives as zeros (materialized) ...
    SinCos.seen.clear()
    x.grad = None
    SinCos.apply(x)[1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -s)
    assert SinCos.seen == [(False, False)]


class SinCosNoMaterialize(SinCos):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return SinCos.forward(ctx, x)


def test_set_materialize_grads_false_hands_none():
    SinCos.seen.clear()
    x = double([0.5])
    SinCosNoMaterialize.apply(x)[0].sum().backward()
    assert SinCos.seen == [(False, True)]
    np.testing.assert_allclose(x.grad.numpy(), np.cos(0.5))


class TooFew(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WrongShape(TooFew):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.sum(), grad_output


class GradientForANumber(TooFew):
    """Called as apply(tensor, number): its gradient for the number must be None."""

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


def test_errors_of_a_wrong_backward():
    a, b = double([1.0, 2.0]), double([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"TooFewBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        TooFew.apply(a, b).sum().backward()
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[\] but expected shape \[2\]"):
        WrongShape.apply(a, b).sum().backward()
    with pytest.raises(RuntimeError, match="position 1.*not a Tensor"):
        GradientForANumber.apply(a, 2.0).sum().backward()


class ArgMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.max(1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(x, indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        x, indices = ctx.saved_tensors
        grad = torch.zeros_like(x)
        grad[torch.arange(x.shape[0]), indices] = grad_values
        return grad


def test_mark_non_differentiable_and_integer_outputs():
    x = double([[1.0, 5.0, 2.0], [7.0, 2.0, 3.0]])
    values, indices = ArgMax.apply(x)
    assert values.requires_grad and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    (values * double([2.0, 3.0], False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 2, 0], [3, 0, 0]])


class DoubleInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


def test_mark_dirty_rebases_the_input():
    leaf = double([1.0, -3.0])
    hidden = leaf * 1.0
    out = DoubleInPlace.apply(hidden)
    assert out is hidden and isinstance(hidden.grad_fn, DoubleInPlace)
    np.testing.assert_array_equal(hidden.detach().numpy(), [2.0, -6.0])
    (out * out).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [8.0, -24.0])  # d(4 l^2)/dl
    with pytest.raises(RuntimeError, match="leaf Variable"):
        DoubleInPlace.apply(double([1.0]))


def test_a_saved_input_changed_in_place_is_detected():
    x = double([1.0, -2.0])
    hidden = x * 1.0
    y = MyReLU.apply(hidden)
    with torch.no_grad():
        hidden += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


class Cube(torch.autograd.Function):
    """PyTorch 2's style: forward without ctx, then setup_context; once_differentiable backward."""

    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        ctx.save_for_backward(x)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * grad_output


def test_setup_context_and_once_differentiable():
    from minigrad.autograd.function import once_differentiable  # PyTorch's module path
    assert once_differentiable is torch.autograd.once_differentiable
    x = double([0.5, -2.0])
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.75, 12.0])
    assert gradcheck(Cube.apply, (double([1.5]),))


def test_a_custom_function_inside_a_network_trains_like_the_builtin():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((3, 4))
    inputs = torch.tensor(rng.standard_normal((5, 3)))
    grads = []
    for activation in (MyReLU.apply, torch.relu):
        w = torch.tensor(weight.copy(), requires_grad=True)
        activation(inputs @ w).pow(2).mean().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_several_outputs_print_after_backward_and_dirty_inputs_keep_their_node_without_grad():
    class Two(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a * 2 + grad_b * 3

    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    (a.sum() + b.sum()).backward()
    assert "grad_fn=<TwoBackward>" in repr(a) and x.grad.tolist() == [5.0, 5.0]

    class Double(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.mul_(2)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1.0
    with minigrad.no_grad():
        Double.apply(h)                 # not recorded: h still comes from w * 1
    assert h.grad_fn.name() == "MulBackward0" and h.requires_grad
    h.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_inference_mode_false_records_again():
    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.no_grad(), minigrad.inference_mode(False):
        assert (x * 2).requires_grad
    with minigrad.inference_mode():
        assert not (x * 2).requires_grad
