"""Function.fresh_gradients: a leaf takes a freshly allocated gradient as its .grad
instead of copying it, but only when no one else can see that array."""
import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad.autograd import Function

returned = []  # the arrays the test ops' backward handed out


class Fresh(Function):
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays
    fresh_gradients = True

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output * 2  # a new array
        returned.append(grad)
        return grad


class FreshToBoth(Function):
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays
    fresh_gradients = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output.copy()
        return grad, grad  # the same array for two inputs


class PassThrough(Function):
    works_on_arrays = True  # minigrad's op contract: forward and backward see ndarrays
    fresh_gradients = True  # wrongly claimed: backward hands grad_output on

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(grad_output.shape)


def test_a_fresh_gradient_becomes_the_leaf_gradient_without_a_copy():
    returned.clear()
    x = minigrad.tensor(np.arange(4.0), requires_grad=True)
    Fresh.apply(x).backward(np.ones(4))
    assert x.grad.array is returned[0]
    np.testing.assert_array_equal(x.grad.array, [2, 2, 2, 2])
    Fresh.apply(x).backward(np.ones(4))  # accumulates in place
    np.testing.assert_array_equal(x.grad.array, [4, 4, 4, 4])


def test_one_array_for_two_leaves_is_still_copied():
    a = minigrad.tensor([1.0], requires_grad=True)
    b = minigrad.tensor([1.0], requires_grad=True)
    FreshToBoth.apply(a, b).backward(np.ones(1))
    a.grad.array[0] = 100.0
    assert b.grad.item() == 1.0


def test_grad_output_or_a_view_of_it_is_still_copied():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    seed = np.ones(2)
    PassThrough.apply(x).backward(seed)
    assert not np.shares_memory(x.grad.array, seed)


def test_a_gradient_of_another_dtype_is_cast_into_a_copy():
    returned.clear()
    x = minigrad.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    Fresh.apply(x).backward(np.ones(3, np.float32))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.array, [2, 2, 2])


def test_pooling_and_batch_norm_gradients_are_private(rng):
    x = minigrad.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    seed = rng.standard_normal((2, 3, 3, 3))
    F.avg_pool2d(x, 2).backward(seed)
    first = x.grad.array.copy()
    assert not np.shares_memory(x.grad.array, seed)
    F.max_pool2d(x, 2).backward(seed)  # accumulates into the taken array
    assert not np.array_equal(x.grad.array, first)
    y = minigrad.tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True)
    out_seed = rng.standard_normal((4, 3, 2, 2))
    F.batch_norm(y, None, None, training=True).backward(out_seed)
    assert not np.shares_memory(y.grad.array, out_seed)
    np.testing.assert_allclose(y.grad.array.sum(axis=(0, 2, 3)), 0, atol=1e-10)


def test_conv_and_linear_gradients_of_a_weight_used_twice_add_up():
    # the first use's fresh gradient becomes .grad, the second is added to it in place
    rng = np.random.default_rng(5)
    x = minigrad.tensor(rng.standard_normal((2, 3, 6, 6)))
    w = minigrad.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    lw = minigrad.tensor(rng.standard_normal((5, 4 * 36)), requires_grad=True)
    def head(weight):
        features = minigrad.nn.functional.conv2d(x, weight, padding=1).reshape(2, -1)
        return minigrad.nn.functional.linear(features, lw).sum()
    (head(w) + head(w)).backward()
    w2 = minigrad.tensor(w.array.copy(), requires_grad=True)
    lw2 = minigrad.tensor(lw.array.copy(), requires_grad=True)
    features = minigrad.nn.functional.conv2d(x, w2, padding=1).reshape(2, -1)
    minigrad.nn.functional.linear(features, lw2).sum().backward()
    np.testing.assert_allclose(w.grad.array, 2 * w2.grad.array, rtol=1e-12)
    np.testing.assert_allclose(lw.grad.array, 2 * lw2.grad.array, rtol=1e-12)
