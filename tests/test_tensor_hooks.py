"""Tensor hooks (register_hook, retain_grad, post-accumulate hooks) and anomaly mode,
against gradients worked out by hand."""
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import autograd


def leaf(values, dtype=np.float64):
    return minigrad.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_leaf_hook_sees_summed_gradient_once_and_can_replace_it():
    x = leaf([1.0, 2.0, 3.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x + 3 * x).sum().backward()  # x used twice: the hook sees 2x + 3 once
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 7.0, 9.0])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])

    y = leaf([1.0, 2.0])
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [20.0, 40.0])


def test_nonleaf_hook_replacement_flows_on_to_the_leaves():
    x = leaf([1.0, -2.0])
    y = x * 3
    y.register_hook(lambda g: g * 0.5)
    (y * y).sum().backward()  # dL/dy = 2y = 6x, halved, times dy/dx = 3: 9x
    np.testing.assert_allclose(x.grad.numpy(), 9 * np.array([1.0, -2.0]))


def test_hooks_run_in_registration_order_each_on_the_previous_result():
    x = leaf([2.0])
    y = x * 1
    order = []
    y.register_hook(lambda g: order.append(("a", float(g.item()))) or g + 1)
    y.register_hook(lambda g: order.append(("b", float(g.item()))) or g * 3)
    y.sum().backward()
    assert order == [("a", 1.0), ("b", 2.0)]
    np.testing.assert_allclose(x.grad.numpy(), [6.0])


def test_handle_remove_and_context_manager():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [1]
    with x.register_hook(lambda g: g * 0):
        (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0])  # 2 + 2 + 0
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0])


def test_nonleaf_hook_runs_after_the_tensor_is_deleted():
    x = leaf([1.0, 2.0])
    y = x * 2
    calls = []
    y.register_hook(lambda g: calls.append(g.numpy().copy()))
    loss = y.sum()
    del y
    loss.backward()
    assert len(calls) == 1 and np.allclose(calls[0], 1.0)


def test_hook_changing_the_shape_raises():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 1).sum().backward()


def test_hook_errors_on_tensors_without_grad():
    t = minigrad.zeros(3)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        t.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        t.retain_grad()
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        t.register_post_accumulate_grad_hook(lambda p: None)
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)


def test_retain_grad_accumulates_after_hooks_and_retains_grad_property():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # registered after retain_grad, still runs before it
    assert y.retains_grad
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), 10 * 2 * np.array([2.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), 2 * 10 * 2 * np.array([2.0, 4.0]))
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * 10 * 2 * np.array([2.0, 4.0]))
    assert y.retains_grad
    x.retain_grad()  # a no-op on a leaf
    assert not x.retains_grad


def test_post_accumulate_hook_sees_updated_grad():
    x = leaf([1.0, 2.0])
    x.grad = minigrad.tensor(np.array([100.0, 100.0]))
    order = []
    x.register_hook(lambda g: order.append(("pre", g.numpy().copy())))
    x.register_post_accumulate_grad_hook(lambda p: order.append(("post", p.grad.numpy().copy())))
    (x * x).sum().backward()
    assert [name for name, _ in order] == ["pre", "post"]
    np.testing.assert_allclose(order[0][1], [2.0, 4.0])
    np.testing.assert_allclose(order[1][1], [102.0, 104.0])
    # autograd.grad accumulates nothing: tensor hooks run, post-accumulate hooks don't
    order.clear()
    (g,) = autograd.grad((x * x * x).sum(), [x])
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert [name for name, _ in order] == ["pre"]


def test_backward_of_a_leaf_itself_runs_its_hooks():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 4)
    x.backward(minigrad.tensor(np.array([1.0, 1.0])))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_autograd_grad_runs_hooks_and_fills_retained_grad():
    # the same numbers torch 2.13 gives
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(("x", g.numpy().copy())))
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: seen.append(("y", g.numpy().copy())) or g * 10)
    z = (y * y).sum() + (x * 3).sum()
    (gx,) = autograd.grad(z, [x], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [83.0, 163.0])
    assert [name for name, _ in seen] == ["y", "x"]
    np.testing.assert_allclose(y.grad.numpy(), [40.0, 80.0])
    assert x.grad is None
    seen.clear()
    (gy,) = autograd.grad((y * y).sum(), [y])  # an input's own node: its hooks run too
    np.testing.assert_allclose(gy.numpy(), [40.0, 80.0])
    assert [name for name, _ in seen] == ["y"]
    np.testing.assert_allclose(y.grad.numpy(), [80.0, 160.0])


def test_hook_on_one_output_of_a_multi_output_op():
    x = leaf([[1.0, 5.0], [4.0, 2.0]])
    values, indices = x.max(dim=1)
    values.register_hook(lambda g: g * 7)
    values.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 7.0], [7.0, 0.0]])


def test_hooked_leaf_used_under_a_shared_subgraph_gets_all_contributions():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    calls = []
    w.register_hook(lambda g: calls.append(g.numpy().copy()))
    a = w * 2
    b = (a @ w).sum() + (w.sum() * a.sum())
    b.backward()
    assert len(calls) == 1
    # d/dw of sum(2w @ w) + 2 * sum(w)^2, by hand
    ones = np.ones((2, 2))
    w_np = w.detach().numpy()
    expected = 2 * (ones @ w_np.T) + 2 * (w_np.T @ ones) + 4 * w_np.sum() * ones
    np.testing.assert_allclose(calls[0], expected)
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_no_hooks_means_plain_walk_still_correct():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_leaf_state_disappears_with_the_leaf():
    x = leaf([1.0])
    x.register_hook(lambda g: g)
    key = id(x)
    assert key in autograd._hooks.leaf_states
    del x
    import gc
    gc.collect()
    assert key not in autograd._hooks.leaf_states


# ----------------------------------------------------------------- anomaly mode
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_anomaly_mode_names_the_function_that_made_nan():
    y = leaf([-1.0, 4.0])
    assert not minigrad.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True):
        assert minigrad.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0' returned nan values in its 0th output\."):
            y.sqrt().sum().backward()
    assert not minigrad.is_anomaly_enabled()
    y.grad = None
    y.sqrt().sum().backward()  # off: the NaN goes through
    assert np.isnan(y.grad.numpy()[0])


def test_detect_anomaly_warns_and_works_as_decorator_and_with_custom_functions():
    class Bad(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = leaf([1.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="Function 'BadBackward' returned nan values in its 0th output"):
                Bad.apply(x).sum().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @autograd.detect_anomaly()
        def run():
            assert minigrad.is_anomaly_enabled()
            (x * 2).sum().backward()

        run()
    assert not minigrad.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True, check_nan=False):
        assert not minigrad.is_anomaly_check_nan_enabled()
        Bad.apply(x).sum().backward()  # not checked
    minigrad.set_anomaly_enabled(True)
    try:
        assert minigrad.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="returned nan"):
            Bad.apply(x).sum().backward()
    finally:
        minigrad.set_anomaly_enabled(False)
    assert not minigrad.is_anomaly_enabled()
