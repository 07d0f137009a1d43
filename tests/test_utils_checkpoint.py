"""minigrad.utils.checkpoint: the same gradients as without checkpointing, activations not kept."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential, set_checkpoint_debug_enabled

BOTH = pytest.mark.parametrize("use_reentrant", [True, False])


def double(*shape, requires_grad=True):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=requires_grad)


def make_model():
    minigrad.manual_seed(0)
    return nn.Linear(4, 5).double(), nn.Linear(5, 3).double()


def run(first, second, x, y, mode, preserve_rng_state=True):
    """Forward (dropout inside), move the generator on, backward; the gradients of everything."""
    def block(a, b):
        hidden = F.dropout(first(a).tanh(), 0.5, training=True)
        return second(hidden) * b
    parameters = list(first.parameters()) + list(second.parameters())
    for p in parameters:
        p.grad = None
    x, y = x.detach().requires_grad_(), y.detach().requires_grad_()
    minigrad.manual_seed(3)
    if mode is None:
        out = block(x, y)
    else:
        out = checkpoint(block, x, y, use_reentrant=mode, preserve_rng_state=preserve_rng_state)
    minigrad.randn(10)   # other draws between forward and backward must not change the mask
    (out ** 2).sum().backward()
    return out.detach().numpy(), [x.grad.numpy(), y.grad.numpy()] + [p.grad.numpy() for p in parameters]


@BOTH
def test_gradients_equal_the_plain_run_with_dropout(use_reentrant):
    first, second = make_model()
    x, y = double(6, 4), double(6, 3)
    out, expected = run(first, second, x, y, None)
    out_checkpointed, grads = run(first, second, x, y, use_reentrant)
    np.testing.assert_allclose(out_checkpointed, out, rtol=1e-14)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    # Without the generator state, the recomputation draws another mask: wrong gradients.
    _, unpreserved = run(first, second, x, y, use_reentrant, preserve_rng_state=False)
    assert not np.allclose(unpreserved[0], expected[0])


@BOTH
def test_gradcheck_through_a_checkpoint(use_reentrant):
    # d/dx sum(sin(x * w)) against finite differences, w an argument.
    x, w = double(5), double(5)
    assert gradcheck(lambda a, b: checkpoint(lambda p, q: (p * q).sin().exp(), a, b, use_reentrant=use_reentrant),
                     (x, w))
    # Closed form: d/dx sum(sin(x)^2) = 2 sin(x) cos(x).
    x = double(7)
    checkpoint(lambda t: t.sin() ** 2, x, use_reentrant=use_reentrant).sum().backward()
    values = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sin(values) * np.cos(values), rtol=1e-13)


@BOTH
def test_activations_are_freed(use_reentrant):
    kept = []

    def block(t):
        hidden = t.exp()
        kept.append(weakref.ref(hidden.array))
        hidden2 = hidden.sin()
        kept.append(weakref.ref(hidden2.array))
        return hidden2.cos()

    x = double(1000)
    out = block(x)   # without checkpointing: sin saves exp's result, cos saves sin's
    gc.collect()
    assert all(ref() is not None for ref in kept)
    del out
    kept.clear()
    out = checkpoint(block, x, use_reentrant=use_reentrant)
    gc.collect()
    assert len(kept) == 2 and all(ref() is None for ref in kept)
    out.sum().backward()   # recomputed: 2 more intermediates, the gradient is still right
    values = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(np.sin(np.exp(values))) * np.cos(np.exp(values))
                               * np.exp(values), rtol=1e-12)


def test_non_reentrant_finds_captured_tensors_and_works_with_autograd_grad():
    a = double(4)
    outer = a * 2              # a non-leaf tensor of an outer graph, captured by the closure
    weight = double(4)         # a leaf captured by the closure
    x = double(4)
    out = checkpoint(lambda t: (t * outer * weight).sin(), x, use_reentrant=False)
    assert out.requires_grad
    gx, ga, gw = minigrad.autograd.grad(out.sum(), (x, a, weight))
    xv, av, wv = x.detach().numpy(), a.detach().numpy(), weight.detach().numpy()
    c = np.cos(xv * 2 * av * wv)
    np.testing.assert_allclose(gx.numpy(), c * 2 * av * wv, rtol=1e-13)
    np.testing.assert_allclose(ga.numpy(), c * 2 * xv * wv, rtol=1e-13)
    np.testing.assert_allclose(gw.numpy(), c * 2 * xv * av, rtol=1e-13)
    # A parameter alone makes the output require grad (the input does not).
    layer = nn.Linear(3, 2).double()
    y = checkpoint(layer, double(4, 3, requires_grad=False), use_reentrant=False)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), [4.0, 4.0])


def test_non_reentrant_keyword_arguments_and_nested_outputs():
    x, scale = double(3), double(3)

    def block(t, *, scale, power=2):
        return {"out": [t * scale, (t ** power).sum()], "n": 7}

    result = checkpoint(block, x, scale=scale, power=3, use_reentrant=False)
    assert result["n"] == 7 and isinstance(result["out"], list)
    (result["out"][0].sum() + result["out"][1]).backward()
    xv, sv = x.detach().numpy(), scale.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), sv + 3 * xv ** 2, rtol=1e-13)
    np.testing.assert_allclose(scale.grad.numpy(), xv, rtol=1e-13)


def test_reentrant_several_outputs_and_parameters():
    layer = nn.Linear(3, 3).double()
    x = double(2, 3)
    first, second = checkpoint(lambda t: (layer(t), layer(t).exp()), x, use_reentrant=True)
    (first.sum() + second.sum()).backward()
    grads = [x.grad.numpy().copy(), layer.weight.grad.numpy().copy()]
    x.grad, layer.weight.grad, layer.bias.grad = None, None, None
    (layer(x).sum() + layer(x).exp().sum()).backward()
    np.testing.assert_allclose(grads[0], x.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(grads[1], layer.weight.grad.numpy(), rtol=1e-13)


def test_context_fn_wraps_forward_and_recomputation():
    entered = []

    class Context:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            entered.append(self.name)

        def __exit__(self, *exc_info):
            return False

    x = double(3)
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=False,
                     context_fn=lambda: (Context("forward"), Context("recompute")))
    assert entered == ["forward"]
    out.sum().backward()
    assert entered == ["forward", "recompute"]


def test_determinism_check():
    calls = []

    def changing(t):
        calls.append(1)
        return t.sin() if len(calls) == 1 else t.reshape(1, 3).sin().reshape(3)

    x = double(3)
    with pytest.raises(CheckpointError, match=r"have different metadata than during the forward pass.\ntensor at "
                       r"position 0:\nsaved metadata: {'shape': minigrad.Size\(\[3\]\), 'dtype': 'minigrad.float64'}"):
        checkpoint(changing, x, use_reentrant=False).sum().backward()
    calls.clear()
    with pytest.raises(CheckpointError, match="A different number of operations"):
        checkpoint(lambda t: t.sin() if not calls.append(1) and len(calls) == 1 else t, x,
                   use_reentrant=False).sum().backward()
    calls.clear()
    checkpoint(changing, x, use_reentrant=False, determinism_check="none").sum().backward()
    calls.clear()
    with pytest.raises(CheckpointError, match="Operations executed during the original forward:\n\n"
                       "UnaryMathBackward0\n\nOperations executed during recomputation:\n\nReshapeBackward0"):
        checkpoint(changing, x, use_reentrant=False, debug=True).sum().backward()
    calls.clear()
    with set_checkpoint_debug_enabled(True):
        with pytest.raises(CheckpointError, match="Operations executed during recomputation"):
            checkpoint(changing, x, use_reentrant=False).sum().backward()
    assert issubclass(CheckpointError, RuntimeError)


@BOTH
def test_checkpoint_sequential_matches_the_plain_model(use_reentrant):
    minigrad.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = double(5, 3)
    checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant).sum().backward()
    grads = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()]
    x.grad = None
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, [x] + list(model.parameters())):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
    # A plain list of functions, 3 segments of 1 (the rest in the last).
    y = double(4)
    out = checkpoint_sequential([lambda t: t.exp(), lambda t: t.sin(), lambda t: t * 3, lambda t: t.sum()], 3, y,
                                use_reentrant=use_reentrant)
    out.backward()
    yv = y.detach().numpy()
    np.testing.assert_allclose(y.grad.numpy(), 3 * np.cos(np.exp(yv)) * np.exp(yv), rtol=1e-13)


def test_under_no_grad_it_just_runs():
    x = double(3)
    with minigrad.no_grad():
        out = checkpoint(lambda t: t * 2, x, use_reentrant=False)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), 2 * x.detach().numpy())


def test_warnings_and_errors():
    x = double(3)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([lambda t: t * 2], 1, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        out = checkpoint(lambda t: t * 2, double(3, requires_grad=False), use_reentrant=True)
    assert not out.requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments: s"):
        checkpoint(lambda a, s=1: a * s, x, s=2, use_reentrant=True)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when use_reentrant=False"):
        checkpoint(lambda a: a, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got x"):
        checkpoint(lambda a: a, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        checkpoint(lambda a: a, x, use_reentrant=False, debug=True,
                   context_fn=lambda: (minigrad.no_grad(), minigrad.no_grad()))
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True, this checkpoint"):
        checkpoint(lambda a: a.detach() * 2, x, use_reentrant=True).sum().backward()
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        checkpoint(lambda a: a * 2, x, use_reentrant=False, foo=1)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, use_reentrant=True, foo=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lambda t: t * 2, x, use_reentrant=False)   # no warning when it is passed
