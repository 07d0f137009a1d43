"""nn.grad: conv{1,2,3}d_input / conv{1,2,3}d_weight against a NumPy loop over the convolution's
definition and against autograd, with gradchecks of their own gradients; nn.parameter's path."""
import itertools

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn
from minigrad.nn import grad as G


def _conv_grads_reference(x, w, gy, stride, padding, dilation, groups):
    """dL/dx, dL/dw of y[n, o, p] = sum_{c, k} x_pad[n, g*Cg + c, p*s + k*d] w[o, c, k], by loops."""
    dims = x.ndim - 2
    x_pad = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    out_per_group, in_per_group = w.shape[0] // groups, w.shape[1]
    for n, o in itertools.product(range(x.shape[0]), range(w.shape[0])):
        g = o // out_per_group
        for pos in np.ndindex(*gy.shape[2:]):
            for c in range(in_per_group):
                for k in np.ndindex(*w.shape[2:]):
                    at = (n, g * in_per_group + c) + tuple(pos[i] * stride[i] + k[i] * dilation[i]
                                                           for i in range(dims))
                    dx_pad[at] += gy[(n, o) + pos] * w[(o, c) + k]
                    dw[(o, c) + k] += gy[(n, o) + pos] * x_pad[at]
    crop = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))
    return dx_pad[crop], dw


CASES = [  # dims, input shape, weight shape, stride, padding, dilation, groups
    (1, (2, 4, 11), (6, 2, 3), 3, 1, 2, 2),
    (2, (2, 4, 9, 8), (6, 4, 3, 2), 2, (1, 0), (1, 2), 1),
    (2, (1, 6, 7, 7), (6, 2, 3, 3), (3, 2), 2, 1, 3),
    (2, (2, 3, 5, 5), (3, 3, 1, 1), 1, 0, 1, 1),
    (3, (1, 2, 6, 5, 7), (4, 1, 2, 3, 2), (2, 1, 3), 1, (1, 2, 1), 2),
]


def _tuple(value, dims):
    return (value,) * dims if isinstance(value, int) else tuple(value)


@pytest.mark.parametrize("dims, x_shape, w_shape, stride, padding, dilation, groups", CASES)
def test_conv_grads_match_numpy_loop_and_autograd(rng, dims, x_shape, w_shape, stride, padding,
                                                  dilation, groups):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    xt = minigrad.tensor(x, requires_grad=True)
    wt = minigrad.tensor(w, requires_grad=True)
    y = conv(xt, wt, None, stride, padding, dilation, groups)
    gy = rng.standard_normal(y.shape)
    y.backward(minigrad.tensor(gy))
    grad_input = getattr(G, f"conv{dims}d_input")(x_shape, minigrad.tensor(w), minigrad.tensor(gy),
                                                  stride, padding, dilation, groups)
    grad_weight = getattr(G, f"conv{dims}d_weight")(minigrad.tensor(x), w_shape,
                                                    minigrad.tensor(gy), stride, padding, dilation,
                                                    groups)
    dx, dw = _conv_grads_reference(x, w, gy, _tuple(stride, dims), _tuple(padding, dims),
                                   _tuple(dilation, dims), groups)
    assert tuple(grad_input.shape) == x_shape and tuple(grad_weight.shape) == w_shape
    np.testing.assert_allclose(grad_input.array, dx, atol=1e-12)
    np.testing.assert_allclose(grad_weight.array, dw, atol=1e-12)
    np.testing.assert_allclose(grad_input.array, xt.grad.array, atol=1e-12)
    np.testing.assert_allclose(grad_weight.array, wt.grad.array, atol=1e-12)


def test_input_positions_a_stride_skips_get_zero_gradient(rng):
    # 2-wide windows at stride 3 over 9 inputs read 0-1, 3-4, 6-7: never 2, 5 or 8
    w = minigrad.tensor(rng.standard_normal((1, 1, 2)))
    gy = minigrad.tensor(rng.standard_normal((1, 1, 3)))
    dx = G.conv1d_input((1, 1, 9), w, gy, stride=3)
    assert dx.shape == (1, 1, 9)
    np.testing.assert_array_equal(dx.array[0, 0, [2, 5, 8]], 0)
    np.testing.assert_allclose(dx.array[0, 0, [0, 1]], gy.array[0, 0, 0] * w.array[0, 0])


def test_conv_grads_are_differentiable(rng):
    w = minigrad.tensor(rng.standard_normal((4, 1, 2, 3)), requires_grad=True)
    gy = minigrad.tensor(rng.standard_normal((2, 4, 4, 2)), requires_grad=True)
    x = minigrad.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda ww, gg: G.conv2d_input((2, 2, 5, 5), ww, gg, stride=(1, 2), padding=0,
                                                   dilation=(1, 1), groups=2), [w, gy])
    assert gradcheck(lambda xx, gg: G.conv2d_weight(xx, (4, 1, 2, 3), gg, stride=(1, 2),
                                                    groups=2), [x, gy])


def test_conv_grads_float32_and_errors(rng):
    w = minigrad.tensor(rng.standard_normal((3, 2, 3)).astype(np.float32))
    gy = minigrad.tensor(rng.standard_normal((1, 3, 4)).astype(np.float32))
    assert G.conv1d_input((1, 2, 6), w, gy).dtype == minigrad.float32
    with pytest.raises(RuntimeError, match="does not match"):
        G.conv1d_input((1, 2, 7), w, gy)
    with pytest.raises(RuntimeError, match="does not match"):
        G.conv1d_weight(minigrad.zeros(1, 2, 6), (3, 2, 2), gy)
    with pytest.raises(RuntimeError, match="input_size must be 3"):
        G.conv1d_input((2, 6), w, gy)
    with pytest.raises(RuntimeError, match="expected weight to be 4-d"):
        G.conv2d_input((1, 2, 6, 6), w, gy)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        G.conv1d_input((1, 2, 6), w, gy, stride=0)


def test_nn_parameter_path():
    assert nn.parameter.Parameter is nn.Parameter and nn.parameter.Buffer is nn.Buffer
    lazy = nn.parameter.UninitializedParameter()
    assert nn.parameter.is_lazy(lazy) and not nn.parameter.is_lazy(nn.Parameter(minigrad.zeros(1)))
    assert isinstance(nn.parameter.UninitializedBuffer(), nn.parameter.UninitializedTensorMixin)
    from minigrad.nn.parameter import UninitializedParameter
    assert UninitializedParameter is nn.UninitializedParameter
