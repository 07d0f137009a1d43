"""In-place operators and methods: they mutate, bump versions, and keep autograd honest."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck, nn


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_sgd_step_with_augmented_assignment_changes_the_model():
    model = nn.Linear(3, 2)
    before = model.weight.array.copy()
    x = minigrad.randn(4, 3)
    loss = (model(x) ** 2).sum()
    loss.backward()
    weight = model.weight
    with minigrad.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert model.weight is weight  # the name was not rebound
    np.testing.assert_allclose(model.weight.array, before - 0.1 * model.weight.grad.array, rtol=1e-6)
    assert model.weight._version == 1


@pytest.mark.parametrize("op, reference", [
    ("__iadd__", lambda a, b: a + b), ("__isub__", lambda a, b: a - b),
    ("__imul__", lambda a, b: a * b), ("__itruediv__", lambda a, b: a / b),
    ("__ipow__", lambda a, b: a ** b)])
def test_augmented_operators_match_numpy(op, reference):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    b = np.array([2.0, 0.5, 3.0], dtype=np.float32)
    t = Tensor(a.copy())
    memory = t.array
    result = getattr(t, op)(Tensor(b))
    assert result is t and t.array is memory
    np.testing.assert_allclose(t.array, reference(a, b), rtol=1e-6)


@pytest.mark.parametrize("method, args, reference", [
    ("pow_", (2,), lambda a: a ** 2), ("neg_", (), lambda a: -a), ("exp_", (), np.exp),
    ("sqrt_", (), np.sqrt), ("relu_", (), lambda a: np.maximum(a, 0)),
    ("sigmoid_", (), lambda a: 1 / (1 + np.exp(-a))), ("tanh_", (), np.tanh),
    ("clamp_min_", (0.5,), lambda a: np.maximum(a, 0.5)), ("clamp_", (0.0, 1.0), lambda a: np.clip(a, 0, 1)),
    ("abs_", (), np.abs), ("zero_", (), np.zeros_like), ("fill_", (7.0,), lambda a: np.full_like(a, 7.0))])
def test_unary_inplace_methods_match_numpy(method, args, reference):
    a = np.array([0.25, 1.5, 2.0, 0.75])
    t = Tensor(a.copy())
    assert getattr(t, method)(*args) is t
    np.testing.assert_allclose(t.array, reference(a), rtol=1e-12)
    assert t._version == 1


def test_binary_inplace_methods_match_numpy():
    a, b, c = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([2.0, 4.0, 8.0])
    np.testing.assert_allclose(Tensor(a.copy()).addcmul_(Tensor(b), Tensor(c), value=0.5).array, a + 0.5 * b * c)
    np.testing.assert_allclose(Tensor(a.copy()).addcdiv_(Tensor(b), Tensor(c), value=2).array, a + 2 * b / c)
    np.testing.assert_allclose(Tensor(a.copy()).lerp_(Tensor(b), 0.25).array, a + 0.25 * (b - a))
    np.testing.assert_allclose(Tensor(a.copy()).add_(Tensor(b), alpha=-2).array, a - 2 * b)
    np.testing.assert_allclose(Tensor(a.copy()).sub_(Tensor(b), alpha=3).array, a - 3 * b)
    mask = Tensor(np.array([True, False, True]))
    np.testing.assert_allclose(Tensor(a.copy()).masked_fill_(mask, -1.0).array, [-1.0, 2.0, -1.0])
    np.testing.assert_allclose(Tensor(a.copy()).copy_(Tensor(np.array([9.0]))).array, [9.0, 9.0, 9.0])


def test_leaf_that_requires_grad_cannot_change_in_place_outside_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w += 1
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w.div_(2)
    np.testing.assert_array_equal(w.array, [1.0, 2.0])


def test_non_leaf_div_is_not_reported_as_a_leaf_and_differentiates():
    a = leaf([1.0, 2.0, 4.0])
    x = a * 3
    x.div_(2)
    x.sum().backward()
    np.testing.assert_allclose(a.grad.array, [1.5, 1.5, 1.5])


def test_inplace_on_non_leaf_rebases_the_graph():
    a = leaf([1.0, -2.0, 3.0])
    b = leaf([0.5, 2.0, -1.0])
    x = a * 2
    x += 1
    x *= b          # needs the old x for b's gradient: it was kept aside
    x.pow_(2)
    (x.sum()).backward()
    expected = (a.array * 2 + 1) * b.array
    np.testing.assert_allclose(x.array, expected ** 2)
    np.testing.assert_allclose(a.grad.array, 2 * expected * b.array * 2)
    np.testing.assert_allclose(b.grad.array, 2 * expected * (a.array * 2 + 1))
    assert x.grad_fn.name() == "PowBackward0"


def test_inplace_chain_passes_gradcheck():
    def f(a, b):
        x = a.tanh()
        y = x * 1.0
        y.addcmul_(a, b, value=0.5)
        y.clamp_min_(-0.3)
        y.sigmoid_()
        return y
    rng = np.random.default_rng(0)
    assert gradcheck(f, (leaf(rng.standard_normal(5)), leaf(rng.standard_normal(5))))


def test_plain_buffer_becomes_part_of_the_graph():
    w = leaf([1.0, 2.0])
    total = minigrad.zeros(2, dtype=minigrad.float64)
    for k in range(3):
        total += w * k
    total.sum().backward()
    np.testing.assert_allclose(w.grad.array, [3.0, 3.0])
    assert total.requires_grad and not total.is_leaf


def test_modifying_a_saved_value_raises_in_backward():
    a = leaf([1.0, 2.0])
    y = a.exp()       # exp saves its output
    z = y.sum()
    with minigrad.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_modifying_a_saved_input_through_a_view_raises():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = Tensor(np.ones((2, 2)))
    y = (a * x).sum()    # mul saves x
    x[0].mul_(5)         # a view of x's memory
    assert x._version == 1
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.backward()


def test_unchanged_saved_values_still_backward():
    a = leaf([1.0, 2.0])
    other = Tensor(np.array([3.0, 4.0]))
    y = (a * other).sum()
    unrelated = Tensor(np.zeros(2))
    unrelated += 1
    y.backward()
    np.testing.assert_allclose(a.grad.array, [3.0, 4.0])


def test_shape_and_dtype_errors():
    x = Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x += Tensor(np.ones((2, 3)))
    n = Tensor(np.array([1, 2, 3]))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        n /= 2
    n += 1
    np.testing.assert_array_equal(n.array, [2, 3, 4])
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill_(Tensor(np.array([1, 0, 1])), 0.0)


def test_inplace_on_a_view_inside_the_graph_is_a_clear_error():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = a * 2
    row = y[0]
    with pytest.raises(RuntimeError, match="view"):
        row.mul_(3)


def test_next_functions_and_accumulate_grad():
    a = leaf([1.0])
    b = Tensor(np.array([2.0]))
    y = (a * b).exp()
    (mul_node, index), = y.grad_fn.next_functions
    assert index == 0 and mul_node.name() == "MulBackward0"
    (accumulate, _), (nothing, _) = mul_node.next_functions
    assert accumulate.variable is a and nothing is None
    assert accumulate.name() == "torch::autograd::AccumulateGrad"


class LegendrePolynomial3(minigrad.autograd.Function):
    """Verbatim from PyTorch's "Defining new autograd functions" tutorial."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_custom_function_from_the_pytorch_tutorial():
    x = minigrad.linspace(-1, 1, 7).double()
    c = Tensor(np.array(0.3), requires_grad=True)
    P3 = LegendrePolynomial3.apply
    y = P3(c * x)
    u = 0.3 * x.array
    np.testing.assert_allclose(y.array, 0.5 * (5 * u ** 3 - 3 * u))
    assert gradcheck(lambda c: P3(c * x), (c,))
    assert y.grad_fn.needs_input_grad == (True,)
    # The tutorial's update loop uses in-place operators under no_grad.
    y.sum().backward()
    with minigrad.no_grad():
        c -= 0.1 * c.grad
    np.testing.assert_allclose(c.array, 0.3 - 0.1 * np.sum(1.5 * (5 * u ** 2 - 1) * x.array))


class SortWithIndices(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        order = a.argsort()
        ctx.mark_non_differentiable(order)
        ctx.save_for_backward(order)
        return order


def test_mark_non_differentiable_output_needs_no_grad():
    out = SortWithIndices.apply(leaf([3.0, 1.0, 2.0]))
    assert not out.requires_grad
    np.testing.assert_array_equal(out.array, [1, 2, 0])


def test_inplace_dropout_bumps_the_version_and_rebases_non_leaves():
    import minigrad.nn.functional as F
    minigrad.manual_seed(0)
    x, w = minigrad.tensor([1.0, 2.0, 3.0, 4.0]), minigrad.tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
    y = (x * w).sum()                                  # saves x for w's gradient
    assert F.dropout(x, 0.5, inplace=True) is x
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    leaf = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = leaf * 1.0
    assert F.dropout(h, 0.5, inplace=True) is h and h.grad_fn.name() == "MaskMultiplyBackward0"
    h.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), (h.detach().numpy() != 0) * 2.0)   # 1 / (1 - p)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.dropout(minigrad.tensor([1.0, 2.0], requires_grad=True), inplace=True)
