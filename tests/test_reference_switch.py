"""The reference switch: under minigrad.use_reference_kernels() the kernel boundary
(minigrad/kernels/) runs the NumPy references of minigrad/reference/ instead of the
compiled kernels, forward and backward, and gets the same results.

Each family is run twice, compiled and on the references; in the second run the
compiled module's functions raise (a spy), so a passing test also shows that no
compiled kernel of that family ran.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad import reference as switch
from minigrad._C import activation as compiled_activation
from minigrad._C import batchnorm as compiled_batchnorm
from minigrad._C import conv as compiled_conv
from minigrad._C import depthwise as compiled_depthwise
from minigrad._C import gemm as compiled_gemm
from minigrad._C import pooling as compiled_pooling
from minigrad.kernels import batchnorm as batchnorm_boundary
from minigrad.kernels import pooling as pooling_boundary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIGHT = dict(rtol=1e-12, atol=1e-12)


@pytest.fixture(autouse=True)
def compiled_by_default():
    """Every test starts with the compiled kernels and leaves the switch as it found it."""
    previous = switch.reference_kernels_enabled()
    switch.set_reference_kernels(False)
    yield
    switch.set_reference_kernels(previous)


class CompiledKernelCalled(AssertionError):
    pass


def forbid_compiled(monkeypatch, *modules):
    """Make every public function of the compiled modules raise when called."""
    for module in modules:
        for name in dir(module):
            if name.startswith("_") or not callable(getattr(module, name)):
                continue

            def spy(*args, _name=f"{module.__name__}.{name}", **kwargs):
                raise CompiledKernelCalled(f"{_name} ran under use_reference_kernels()")

            monkeypatch.setattr(module, name, spy)


def both_ways(run, monkeypatch, *modules):
    """run() compiled, then on the references with `modules` forbidden: (compiled, reference)."""
    compiled = run()
    with monkeypatch.context() as patch:
        forbid_compiled(patch, *modules)
        with minigrad.use_reference_kernels():
            referenced = run()
    return compiled, referenced


def assert_same(compiled, referenced, exact=False, **tolerance):
    assert len(compiled) == len(referenced)
    for fast, slow in zip(compiled, referenced):
        if fast is None or slow is None:
            assert fast is None and slow is None
            continue
        assert fast.shape == slow.shape and fast.dtype == slow.dtype
        if exact or fast.dtype.kind in "iu":
            np.testing.assert_array_equal(fast, slow)
        else:
            np.testing.assert_allclose(fast, slow, **(tolerance or TIGHT))


def forward_and_backward(op, x, *args, seed=0, **kwargs):
    """op(x) and the gradient of <op(x), g> for a random g; outputs and indices as arrays."""
    xt = minigrad.tensor(x, requires_grad=True)
    result = op(xt, *args, **kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    grad = np.random.default_rng(seed).standard_normal(outputs[0].shape).astype(x.dtype)
    outputs[0].backward(minigrad.tensor(grad))
    return [o.array.copy() for o in outputs] + [xt.grad.array.copy()]


def test_the_spy_catches_a_compiled_call(monkeypatch):
    forbid_compiled(monkeypatch, compiled_pooling)
    with pytest.raises(CompiledKernelCalled, match="max_pool_forward"):
        F.max_pool2d(minigrad.randn(1, 1, 4, 4), 2)


# ---------------------------------------------------------------- pooling
POOLING_CASES = {
    "max1d": (F.max_pool1d, (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True,
                                             return_indices=True)),
    "max2d": (F.max_pool2d, (2, 3, 9, 10), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1),
                                                ceil_mode=True, return_indices=True)),
    "max2d_dilated": (F.max_pool2d, (1, 2, 11, 12), dict(kernel_size=3, stride=2, dilation=2,
                                                         return_indices=True)),
    "max3d": (F.max_pool3d, (1, 2, 5, 6, 7), dict(kernel_size=2, stride=(1, 2, 2), padding=1,
                                                  return_indices=True)),
    "avg1d": (F.avg_pool1d, (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False)),
    "avg2d": (F.avg_pool2d, (2, 3, 9, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "avg2d_override": (F.avg_pool2d, (2, 3, 8, 7), dict(kernel_size=(2, 3), stride=1, padding=(1, 1),
                                                        divisor_override=5)),
    "avg3d": (F.avg_pool3d, (1, 2, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=2, padding=1,
                                                  ceil_mode=True, count_include_pad=False)),
    "adaptive_avg1d": (F.adaptive_avg_pool1d, (2, 3, 10), dict(output_size=4)),
    "adaptive_avg2d": (F.adaptive_avg_pool2d, (2, 3, 7, 10), dict(output_size=(3, 4))),
    "adaptive_max1d": (F.adaptive_max_pool1d, (2, 3, 10), dict(output_size=4, return_indices=True)),
    "adaptive_max2d": (F.adaptive_max_pool2d, (2, 3, 7, 10), dict(output_size=(3, 4), return_indices=True)),
}


@pytest.mark.parametrize("case", sorted(POOLING_CASES))
def test_pooling_forward_and_backward_on_the_references(case, monkeypatch):
    op, shape, config = POOLING_CASES[case]
    x = np.random.default_rng(len(case)).standard_normal(shape)
    compiled, referenced = both_ways(lambda: forward_and_backward(op, x, **config), monkeypatch,
                                     compiled_pooling)
    assert_same(compiled, referenced)


def test_max_pool_nan_rule_on_the_references(monkeypatch):
    """A NaN wins a window, the last NaN of it, as in PyTorch and the kernel."""
    x = np.arange(24, dtype=np.float64).reshape(1, 1, 4, 6)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[0, 0, 2, 5] = np.nan      # two NaNs in the first window
    run = lambda: [a.array for a in F.max_pool2d(minigrad.tensor(x), 2, return_indices=True)]  # noqa: E731
    compiled, referenced = both_ways(run, monkeypatch, compiled_pooling)
    assert_same(compiled, referenced, exact=True)
    assert referenced[1][0, 0].tolist() == [[7, 9, 11], [19, 21, 17]]   # 7 = (1, 1): the last NaN
    assert np.isnan(referenced[0][0, 0, 0, 0]) and np.isnan(referenced[0][0, 0, 1, 2])


def test_max_unpool_forward_and_backward_on_the_references(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 9))
    pooled, indices = F.max_pool2d(minigrad.tensor(x), 2, return_indices=True)
    pooled_1d, indices_1d = F.max_pool1d(minigrad.tensor(x[:, :, 0]), 3, 2, return_indices=True)

    def run():
        unpooled = forward_and_backward(F.max_unpool2d, pooled.array, indices, 2, output_size=(9, 9))
        return unpooled + forward_and_backward(F.max_unpool1d, pooled_1d.array, indices_1d, 3, 2)

    compiled, referenced = both_ways(run, monkeypatch, compiled_pooling)
    assert_same(compiled, referenced, exact=True)


def test_pooling_boundary_returns_the_same_arrays(monkeypatch):
    """The boundary's own entry points on (P, D, H, W) planes, float32 included."""
    rng = np.random.default_rng(4)
    planes = rng.standard_normal((5, 1, 7, 9)).astype(np.float32)
    windows = dict(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def run():
        output, indices = pooling_boundary.max_pool(planes, (1, 4, 5), dilation=(1, 1, 1), **windows)
        grad = pooling_boundary.max_pool_backward(output, indices, planes.shape)
        average = pooling_boundary.avg_pool(planes, (1, 4, 5), count_include_pad=True, divisor_override=None,
                                            **windows)
        spread = pooling_boundary.avg_pool_backward(average, planes.shape, count_include_pad=True,
                                                    divisor_override=None, **windows)
        return [output, indices, grad, average, spread]

    compiled, referenced = both_ways(run, monkeypatch, compiled_pooling)
    assert_same(compiled[:3], referenced[:3], exact=True)       # max and its routing do not round
    assert_same(compiled[3:], referenced[3:], rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- normalisation
def normalisation_run(shape, dtype=np.float64, training=True, affine=True):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    channels = shape[1]
    weight = minigrad.tensor(rng.standard_normal(channels).astype(dtype), requires_grad=True) if affine else None
    bias = minigrad.tensor(rng.standard_normal(channels).astype(dtype), requires_grad=True) if affine else None
    running_mean = minigrad.tensor(rng.standard_normal(channels).astype(dtype))
    running_var = minigrad.tensor(rng.uniform(0.5, 2, channels).astype(dtype))
    grad = rng.standard_normal(shape).astype(dtype)

    def run():
        xt = minigrad.tensor(x, requires_grad=True)
        mean, var = minigrad.tensor(running_mean.array.copy()), minigrad.tensor(running_var.array.copy())
        for parameter in (weight, bias):
            if parameter is not None:
                parameter.grad = None
        out = F.batch_norm(xt, mean, var, weight, bias, training=training, momentum=0.3)
        out.backward(minigrad.tensor(grad))
        return [out.array, xt.grad.array, mean.array, var.array] + \
            [p.grad.array.copy() for p in (weight, bias) if p is not None]
    return run


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 7), (3, 4, 5, 6), (2, 3, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
def test_batch_norm_forward_and_backward_on_the_references(shape, training, monkeypatch):
    compiled, referenced = both_ways(normalisation_run(shape, training=training), monkeypatch,
                                     compiled_batchnorm)
    assert_same(compiled, referenced, rtol=1e-11, atol=1e-12)


def test_batch_norm_float32_and_no_affine_on_the_references(monkeypatch):
    compiled, referenced = both_ways(normalisation_run((8, 3, 6, 6), np.float32, affine=False), monkeypatch,
                                     compiled_batchnorm)
    assert_same(compiled, referenced, rtol=1e-5, atol=1e-5)


def test_batch_norm_boundary_returns_the_same_statistics(monkeypatch):
    """(output, mean, var, invstd) and (grad_input, grad_weight, grad_bias), float64 statistics."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4, 10)) + 3
    grad = rng.standard_normal(x.shape)
    weight = rng.standard_normal(4).astype(np.float32)
    running_mean, running_var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)

    def run():
        training = batchnorm_boundary.batch_norm_forward(x, weight, None, 1e-5)
        evaluated = batchnorm_boundary.batch_norm_forward(x, weight, None, 1e-5, running_mean, running_var)
        output, mean, var, invstd = training
        backward = batchnorm_boundary.batch_norm_backward(grad, x, mean, invstd, weight, True)
        without_input = batchnorm_boundary.batch_norm_backward(grad, x, mean, invstd, weight, True, False)
        eval_backward = batchnorm_boundary.batch_norm_backward(grad, x, evaluated[1], evaluated[3], weight, False)
        return list(training) + list(evaluated) + list(backward) + list(without_input) + list(eval_backward)

    compiled, referenced = both_ways(run, monkeypatch, compiled_batchnorm)
    assert_same(compiled, referenced, rtol=1e-11, atol=1e-12)
    assert referenced[1].dtype == referenced[3].dtype == np.float64


def test_layer_group_instance_norm_on_the_references(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 4, 5)) * 2 + 1
    weight, bias = rng.standard_normal((4, 5)), rng.standard_normal(6)

    def run():
        layer = forward_and_backward(F.layer_norm, x, (4, 5), minigrad.tensor(weight))
        group = forward_and_backward(F.group_norm, x, 3, None, minigrad.tensor(bias))
        instance = forward_and_backward(F.instance_norm, x)
        return layer + group + instance

    compiled, referenced = both_ways(run, monkeypatch, compiled_batchnorm)
    assert_same(compiled, referenced, rtol=1e-11, atol=1e-12)


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_and_gelu_on_the_references(dtype, monkeypatch):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((40, 300)) * 3).astype(dtype)    # large enough for the compiled path
    x[0, :4] = [np.nan, 0.0, np.inf, -np.inf]

    def run():
        return forward_and_backward(minigrad.relu, x) + forward_and_backward(F.gelu, x[1:])

    compiled, referenced = both_ways(run, monkeypatch, compiled_activation)
    tolerance = TIGHT if dtype == np.float64 else dict(rtol=1e-5, atol=5e-7)
    assert_same(compiled[:2], referenced[:2], exact=True)      # relu and its gradient do not round
    assert_same(compiled[2:], referenced[2:], **tolerance)


def test_activation_references_against_closed_forms():
    """minigrad/reference/activation.py by itself: math.erf and central differences."""
    from minigrad.reference import activation as reference
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -1.0], dtype=np.float32)
    y = reference.relu(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [np.nan, np.inf, 0, 0, 0, 2.5, 0])
    np.testing.assert_array_equal(reference.relu_backward(np.full(7, 3.0, np.float32), y), [0, 3, 0, 0, 0, 3, 0])
    np.testing.assert_array_equal(reference.relu(np.arange(-2, 3)), [0, 0, 0, 1, 2])
    points = np.linspace(-6, 6, 25)
    exact = [t * 0.5 * math.erfc(-t / math.sqrt(2)) for t in points]       # erfc: no cancellation in the tail
    np.testing.assert_allclose(reference.gelu(points), exact, rtol=1e-14, atol=1e-300)
    textbook = [t * 0.5 * (1 + math.erf(t / math.sqrt(2))) for t in points]
    np.testing.assert_allclose(reference.gelu(points), textbook, rtol=1e-14, atol=1e-15)
    h = 1e-6
    slopes = (reference.gelu(points + h) - reference.gelu(points - h)) / (2 * h)
    np.testing.assert_allclose(reference.gelu_backward(np.ones_like(points), points), slopes, rtol=1e-7, atol=1e-9)
    assert reference.gelu(points.astype(np.float32)).dtype == np.float32


# ---------------------------------------------------------------- a whole training step
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.max_pool = nn.MaxPool2d(2)
        self.avg_pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.adaptive = nn.AdaptiveAvgPool2d((3, 2))
        self.fc = nn.Linear(4 * 3 * 2, 5)

    def forward(self, x):
        x = self.max_pool(self.relu(self.norm(self.conv(x))))  # (8, 4, 16, 16) -> (8, 4, 8, 8)
        x = self.adaptive(self.avg_pool(x))                     # -> (8, 4, 3, 2)
        return self.fc(x.reshape(x.shape[0], -1))               # -> (8, 5)


def test_cnn_training_step_both_ways(monkeypatch):
    """One SGD step of a small CNN from the same weights: loss, gradients, updated
    weights and running statistics agree; the second run calls no compiled kernel at all
    (convolution, Linear's GEMM, pooling, batch norm and ReLU all on the references)."""
    minigrad.manual_seed(0)
    model = SmallCNN().double()
    initial = {name: value.array.copy() for name, value in model.state_dict().items()}
    rng = np.random.default_rng(8)
    images = minigrad.tensor(rng.standard_normal((8, 2, 16, 16)))
    labels = minigrad.tensor(rng.integers(0, 5, 8))

    def step():
        model.load_state_dict({name: minigrad.tensor(value.copy()) for name, value in initial.items()})
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        grads = [p.grad.array.copy() for p in model.parameters()]
        optimizer.step()
        after = [value.array.copy() for value in model.state_dict().values()]
        return [loss.array.copy()] + grads + after + [model.fc.bias.array.copy()]

    compiled, referenced = both_ways(step, monkeypatch, compiled_pooling, compiled_batchnorm,
                                     compiled_activation, compiled_conv, compiled_depthwise, compiled_gemm)
    assert_same(compiled, referenced, rtol=1e-10, atol=1e-12)
    assert not np.allclose(referenced[-1], initial["fc.bias"])   # the step did change the weights


# ---------------------------------------------------------------- the switch itself
def test_context_manager_restores_the_previous_state_on_exceptions():
    assert not minigrad.reference_kernels_enabled()
    with pytest.raises(RuntimeError, match="inside"):
        with minigrad.use_reference_kernels():
            assert minigrad.reference_kernels_enabled()
            raise RuntimeError("inside")
    assert not minigrad.reference_kernels_enabled()
    with minigrad.use_reference_kernels():
        with pytest.raises(ValueError):
            with minigrad.use_reference_kernels(False):
                assert not minigrad.reference_kernels_enabled()
                raise ValueError
        assert minigrad.reference_kernels_enabled()       # the outer block's state is back
    assert not minigrad.reference_kernels_enabled()
    with pytest.raises(TypeError, match="True or False"):
        switch.set_reference_kernels(1)
    with pytest.raises(TypeError, match="True or False"):
        with minigrad.use_reference_kernels("yes"):
            pass
    assert not minigrad.reference_kernels_enabled()


@pytest.mark.parametrize("value,expected", [("1", True), (" On ", True), ("true", True), ("0", False),
                                            ("", False), ("off", False)])
def test_environment_values(value, expected, monkeypatch):
    monkeypatch.setenv("MINIGRAD_REFERENCE_KERNELS", value)
    assert switch._from_environment() is expected


def test_a_bad_environment_value_warns_and_runs_compiled(monkeypatch):
    monkeypatch.setenv("MINIGRAD_REFERENCE_KERNELS", "maybe")
    with pytest.warns(RuntimeWarning, match="MINIGRAD_REFERENCE_KERNELS='maybe'"):
        assert switch._from_environment() is False


def test_environment_variable_turns_the_switch_on_for_a_whole_run():
    code = ("import minigrad\n"
            "from minigrad._C import pooling\n"
            "del pooling.max_pool_forward  # a compiled call would now fail\n"
            "assert minigrad.reference_kernels_enabled()\n"
            "x = minigrad.arange(16.0).reshape(1, 1, 4, 4)\n"
            "print(minigrad.nn.functional.max_pool2d(x, 2).numpy().ravel().tolist())\n")
    env = dict(os.environ, MINIGRAD_REFERENCE_KERNELS="1")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[5.0, 7.0, 13.0, 15.0]"
