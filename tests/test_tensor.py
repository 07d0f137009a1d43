"""The Tensor itself: construction and dtype rules, attributes, conversions,
operators, comparisons, type promotion and bad input."""
import numpy as np
import pytest

import minigrad
import minigrad as mg
from minigrad import Tensor


# ------------------------------------------------------------ construction
@pytest.mark.parametrize("data, expected", [
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    ([[1, 2], [3.5, 4]], np.float32),          # mixed ints and floats: floats win
    (np.array([1.0, 2.0]), np.float64),         # float64 arrays stay float64
    (np.array([1.0], dtype=np.float32), np.float32),
    (3, np.int64),
    ([1, 2, 3], np.int64),
    (np.array([1, 2], dtype=np.int64), np.int64),
    (np.array([1, 2], dtype=np.int32), np.int32),  # arrays keep their dtype
    ([True, False], np.bool_),
])
def test_tensor_dtype_rules(data, expected):
    t = mg.tensor(data)
    assert t.dtype == expected
    np.testing.assert_array_equal(t.array, np.asarray(data))


@pytest.mark.parametrize("dtype", [mg.float64, np.float64, "float64", "double"])
def test_tensor_explicit_dtype(dtype):
    t = mg.tensor([1, 2], dtype=dtype)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.array, [1.0, 2.0])


def test_dtype_names():
    assert mg.float32 == np.float32 and mg.float64 == np.float64 and mg.int64 == np.int64
    assert mg.zeros(2, dtype=mg.int64).dtype == np.int64


def test_unknown_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="unknown dtype"):
        mg.tensor([1.0], dtype="not-a-dtype")


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    source = np.array([1.0, 2.0])
    copied, shared = mg.tensor(source), mg.from_numpy(source)
    source[0] = 10.0
    assert copied.array[0] == 1.0
    assert shared.array[0] == 10.0


def test_tensor_from_a_tensor_and_from_zero_dim_tensors():
    a = mg.tensor([1.0, 2.0])
    assert mg.tensor(a).array is not a.array
    stacked = mg.tensor([mg.tensor(1.0), mg.tensor(2.0)])
    np.testing.assert_array_equal(stacked.array, [1.0, 2.0])


# -------------------------------------------------------------- attributes
def test_attributes():
    t = mg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and len(t) == 2
    assert t.dtype == mg.float32
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None and t.is_leaf


def test_item_and_python_numbers():
    assert mg.tensor(2.5).item() == 2.5
    assert isinstance(mg.tensor([7]).item(), int)
    assert float(mg.tensor([1.5])) == 1.5 and int(mg.tensor(3)) == 3
    with pytest.raises(ValueError, match=r"\(2,\)"):
        mg.tensor([1.0, 2.0]).item()


def test_truth_value():
    assert bool(mg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad():
    t = mg.tensor([1.0, 2.0])
    t.numpy()[0] = 5.0
    assert t.array[0] == 5.0
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    np.testing.assert_array_equal(w.detach().numpy(), [1.0])
    np.testing.assert_array_equal(np.asarray(t), [5.0, 2.0])


def test_detach_cuts_the_graph_and_shares_memory():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.array, y.array)
    (d * w).sum().backward()  # gradient reaches w only through the direct use
    np.testing.assert_allclose(w.grad.array, [2.0, 4.0])


def test_requires_grad_():
    t = mg.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    assert mg.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)


def test_zero_():
    t = mg.tensor([1.0, 2.0])
    assert t.zero_() is t
    np.testing.assert_array_equal(t.array, [0.0, 0.0])
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w.zero_()
    with mg.no_grad():
        w.zero_()
    np.testing.assert_array_equal(w.array, [0.0, 0.0])


def test_grad_zero_():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert isinstance(w.grad, mg.Tensor)
    w.grad.zero_()
    np.testing.assert_array_equal(w.grad.array, [0.0, 0.0])


def test_repr():
    assert repr(mg.tensor([1.5, 2.0])) == "tensor([1.5, 2. ])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor([1.5], requires_grad=True)) == "tensor([1.5], requires_grad=True)"
    assert "dtype=minigrad.float64" in repr(mg.tensor(np.array([1.0])))
    assert "grad_fn=<AddBackward0>" in repr(mg.tensor([1.0], requires_grad=True) + 1)


def test_conversions():
    t = mg.tensor([1.7, -2.2])
    assert t.double().dtype == np.float64 and t.to(mg.float64).dtype == np.float64
    np.testing.assert_array_equal(t.long().array, [1, -2])
    assert t.double().float().dtype == np.float32
    c = t.clone()
    assert c.array is not t.array and np.array_equal(c.array, t.array)
    assert t.contiguous() is t
    assert t.tolist() == pytest.approx([1.7, -2.2])


def test_cast_passes_the_gradient_back_in_the_input_dtype():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w.double() * 3).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.array, [3.0, 3.0])


# --------------------------------------------------------------- operators
def test_operators_forward(rng):
    a_np = rng.standard_normal((3, 4)).astype(np.float32)
    b_np = rng.uniform(0.5, 2.0, (4,)).astype(np.float32)
    a, b = mg.tensor(a_np), mg.tensor(b_np)
    cases = {
        "+": (a + b, a_np + b_np), "-": (a - b, a_np - b_np), "*": (a * b, a_np * b_np),
        "/": (a / b, a_np / b_np), "**": (b ** a, b_np ** a_np), "neg": (-a, -a_np),
        "@": (a @ mg.tensor(a_np.T), a_np @ a_np.T),
        "r+": (2 + a, 2 + a_np), "r-": (2 - a, 2 - a_np), "r*": (2 * a, 2 * a_np),
        "r/": (2 / b, 2 / b_np), "r**": (2 ** a, 2 ** a_np),
        "abs": (abs(a), np.abs(a_np)), "pos": (+a, a_np),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, mg.Tensor), name
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got.array, expected, rtol=1e-6, err_msg=name)


def test_numpy_operands_defer_to_the_tensor():
    t = mg.tensor([1.0, 2.0])
    for result in (np.float64(2.0) * t, np.array([1.0, 1.0]) + t, np.ones((2, 2)) @ t):
        assert isinstance(result, mg.Tensor)
    assert (np.float64(2.0) * t).dtype == np.float32  # a NumPy scalar is a Python number
    assert (t / np.sqrt(4)).dtype == np.float32
    np.testing.assert_array_equal((np.array([1.0, 1.0]) - t).array, [0.0, -1.0])


@pytest.mark.parametrize("make, expected", [
    (lambda: mg.tensor([1, 2]) + mg.tensor([0.5, 1.0]), np.float32),
    (lambda: mg.tensor([1, 2]) * 0.5, np.float32),
    (lambda: 0.5 * mg.tensor([1, 2]), np.float32),
    (lambda: mg.tensor([1, 2]) / mg.tensor([2, 4]), np.float32),
    (lambda: mg.tensor([1, 2]) / 2, np.float32),
    (lambda: mg.tensor([1, 2]) + 1, np.int64),
    (lambda: mg.tensor([1, 2]) * mg.tensor([3, 4]), np.int64),
    (lambda: mg.tensor([1.0]) + mg.tensor(np.array([1.0])), np.float64),
    (lambda: mg.tensor([1, 2]) + mg.tensor(np.array([1.0, 2.0])), np.float64),
    (lambda: mg.tensor([1, 2]) ** 0.5, np.float32),
    (lambda: mg.maximum(mg.tensor([1, 2]), mg.tensor([1.5, 0.0])), np.float32),
    (lambda: mg.tensor([1, 4]).sqrt(), np.float32),
    (lambda: mg.where(mg.tensor([True, False]), mg.tensor([1, 2]), mg.tensor([0.5, 1.5])), np.float32),
    (lambda: mg.where(mg.tensor([True, False]), mg.tensor([1, 2]), 0), np.int64),
    (lambda: mg.tensor([0, 1]).exp(), np.float32),
])
def test_type_promotion_follows_pytorch(make, expected):
    assert make().dtype == expected


def test_mixed_precision_gradients_keep_each_inputs_dtype():
    w32 = mg.tensor([1.0, 2.0], requires_grad=True)
    x64 = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    hidden = w32 * 2                  # float32 node
    (hidden * x64).sum().backward()   # float64 consumer
    assert w32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_allclose(w32.grad.array, [6.0, 8.0])
    np.testing.assert_allclose(x64.grad.array, [2.0, 4.0])


def test_comparisons_are_bool_and_carry_no_grad(rng):
    a_np = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b_np = rng.integers(0, 3, (4,)).astype(np.float32)
    a = mg.tensor(a_np, requires_grad=True)
    b = mg.tensor(b_np)
    pairs = [(a == b, a_np == b_np), (a != b, a_np != b_np), (a < b, a_np < b_np),
             (a <= b, a_np <= b_np), (a > b, a_np > b_np), (a >= b, a_np >= b_np),
             (a > 1, a_np > 1), (a.eq(b), a_np == b_np), (a.ge(1.0), a_np >= 1)]
    for got, expected in pairs:
        assert got.dtype == np.bool_ and not got.requires_grad and got.grad_fn is None
        np.testing.assert_array_equal(got.array, expected)
    mask = a > 1
    np.testing.assert_array_equal((~mask).array, ~(a_np > 1))
    np.testing.assert_array_equal((mask & (a < 2)).array, (a_np > 1) & (a_np < 2))
    np.testing.assert_array_equal((mask | (a < 1)).array, (a_np > 1) | (a_np < 1))


def test_inplace_helpers_under_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        w.add_(mg.tensor([1.0, 1.0]), alpha=-0.5).mul_(2)
    np.testing.assert_allclose(w.array, [1.0, 3.0])
    t = mg.zeros(2, 2)
    t[0] = 1.0
    t[1, mg.tensor([True, False])] = 5.0
    np.testing.assert_array_equal(t.array, [[1.0, 1.0], [5.0, 0.0]])


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_mismatched_shapes_name_both_shapes(op):
    a, b = mg.zeros(2, 3), mg.zeros(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        {"+": a.__add__, "-": a.__sub__, "*": a.__mul__, "/": a.__truediv__}[op](b)


def test_mismatched_comparison_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        mg.zeros(2, 3) < mg.zeros(4)


def test_backward_on_a_non_scalar_names_the_shape():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()


def test_backward_with_a_wrong_gradient_shape_names_both():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        y.backward(mg.ones(3))


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.tensor([1.0]) * 2).sum().backward()


def test_backward_with_an_explicit_gradient():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).backward(mg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(w.grad.array, [2.0, 40.0])


def test_data_is_a_detached_tensor_sharing_memory_as_in_pytorch():
    p = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = p.data
    assert isinstance(d, Tensor) and not d.requires_grad and d.grad_fn is None
    d.mul_(2.0)                                   # the PyTorch idiom p.data.mul_(...)
    np.testing.assert_array_equal(p.array, [2.0, 4.0, 6.0])
    p.data.fill_(0.5)
    np.testing.assert_array_equal(p.array, [0.5, 0.5, 0.5])
    assert p.array is p.data.array                # same ndarray, no copy


def test_assigning_data_swaps_the_values_and_keeps_the_leaf():
    p = minigrad.tensor([1.0, 2.0], requires_grad=True)
    p.data = minigrad.tensor([[3.0, 4.0, 5.0]])
    assert p.shape == (1, 3) and p.requires_grad and p.is_leaf
    np.testing.assert_array_equal(p.array, [[3.0, 4.0, 5.0]])
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.array, [[2.0, 2.0, 2.0]])


def test_shape_is_a_size_tuple_as_in_pytorch():
    x = mg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == x.shape and x.size(1) == 3 and x.size(-1) == 4
    assert isinstance(x.shape, tuple) and isinstance(x.shape, mg.Size)
    assert repr(x.shape) == "minigrad.Size([2, 3, 4])" and x.shape.numel() == 24 == x.numel()
    assert mg.zeros(mg.Size([0, 5])).shape.numel() == 0 and mg.Size([]).numel() == 1


def test_size_slices_and_sums_stay_sizes():
    size = mg.zeros(2, 3, 4).shape
    assert isinstance(size[1:], mg.Size) and size[1:] == (3, 4) and size[0] == 2 and type(size[0]) is int
    assert isinstance(size + (5,), mg.Size) and size + (5,) == (2, 3, 4, 5)
