"""nn.utils.parametrize and parametrizations, the spectral_norm hook, functional_call,
skip_init, fuse_linear_bn_*, get_total_norm / clip_grads_with_norm_ (torch.nn.utils)."""
import warnings

import numpy as np
import pytest
import scipy.linalg

import minigrad
from minigrad import gradcheck, nn
from minigrad.nn import utils
from minigrad.nn.utils import parametrizations as PZ
from minigrad.nn.utils import parametrize as P


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, X):
        return X * self.factor

    def right_inverse(self, A):
        return A / self.factor


def _linear(rng, n_in=3, n_out=3):
    layer = nn.Linear(n_in, n_out).double()
    layer.weight.array[...] = rng.standard_normal((n_out, n_in))
    return layer


# ------------------------------------------------------------------ parametrize
def test_register_parametrization_keys_class_value_and_gradient(rng):
    layer = _linear(rng)
    original = layer.weight
    W = layer.weight.array.copy()
    P.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear" and isinstance(layer, nn.Linear)
    assert P.type_before_parametrizations(layer) is nn.Linear
    assert P.is_parametrized(layer) and P.is_parametrized(layer, "weight")
    assert not P.is_parametrized(layer, "bias")
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    # right_inverse ran: original is triu(W), kept as the same Parameter object
    assert layer.parametrizations.weight.original is original
    np.testing.assert_allclose(original.array, np.triu(W))
    expected = np.triu(W) + np.triu(W, 1).T
    np.testing.assert_allclose(layer.weight.array, expected)
    x = minigrad.tensor(rng.standard_normal((4, 3)))
    layer(x).sum().backward()
    # d/dO sum(x @ (triu O + triu(O,1)^T)^T): G = 1^T x per row; grad = triu(G) + triu(G^T, 1)
    G = np.ones((4, 3)).T @ x.array   # (out, in)
    np.testing.assert_allclose(original.grad.array, np.triu(G) + np.triu(G.T, 1), atol=1e-12)
    assert list(dict(layer.named_parameters())) == ["bias", "parametrizations.weight.original"]


def test_parametrized_weight_trains_through_original(rng):
    layer = _linear(rng)
    P.register_parametrization(layer, "weight", Symmetric())
    optimizer = minigrad.optim.SGD(layer.parameters(), lr=0.1)
    x = minigrad.tensor(rng.standard_normal((8, 3)))
    target = minigrad.tensor(rng.standard_normal((8, 3)))
    losses = []
    for _ in range(30):
        loss = ((layer(x) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    np.testing.assert_allclose(layer.weight.array, layer.weight.array.T)   # still symmetric


def test_gradcheck_through_parametrization_chain(rng):
    layer = _linear(rng)
    P.register_parametrization(layer, "weight", Symmetric())
    P.register_parametrization(layer, "weight", Scale(3.0))
    assert len(layer.parametrizations.weight) == 2
    x = minigrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    plist = layer.parametrizations.weight
    O = plist.original

    def f(inp, orig):
        symmetric = orig.triu() + orig.triu(1).mT
        return inp @ (3.0 * symmetric).mT

    np.testing.assert_allclose((x @ layer.weight.mT).array, f(x, O).array)
    assert gradcheck(lambda inp, orig: inp @ plist[1](plist[0](orig)).mT, [x, O])


def test_setter_calls_right_inverse_and_remove_parametrizations(rng):
    layer = _linear(rng)
    P.register_parametrization(layer, "weight", Scale(2.0))
    original = layer.parametrizations.weight.original
    value = rng.standard_normal((3, 3))
    layer.weight = minigrad.tensor(value)
    np.testing.assert_allclose(original.array, value / 2)
    np.testing.assert_allclose(layer.weight.array, value)
    # leave_parametrized=True: the current value, in the same Parameter object
    P.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert layer.weight is original and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.array, value)
    assert list(layer.state_dict()) == ["bias", "weight"]
    # leave_parametrized=False: back to the original
    P.register_parametrization(layer, "weight", Scale(2.0))
    P.remove_parametrizations(layer, "weight", leave_parametrized=False)
    np.testing.assert_allclose(layer.weight.array, value / 2)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(layer, "weight")


def test_parametrization_errors(rng):
    class Shrink(nn.Module):
        def forward(self, X):
            return X[:2]

    class ToFloat(nn.Module):
        def forward(self, X):
            return X.float()

    layer = _linear(rng)
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(layer, "weight", Shrink())
    with pytest.raises(ValueError, match="may not change the dtype"):
        P.register_parametrization(layer, "weight", ToFloat())
    assert not P.is_parametrized(layer)
    P.register_parametrization(layer, "weight", Shrink(), unsafe=True)
    assert layer.weight.shape == (2, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(layer, "nothing", Symmetric())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = minigrad.zeros(2, 3, dtype=minigrad.float64)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        layer.__getstate__()


def test_cached_computes_once(rng):
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1.0

    layer = _linear(rng)
    P.register_parametrization(layer, "weight", Counting())
    calls.clear()
    layer.weight
    layer.weight
    assert len(calls) == 2
    calls.clear()
    with P.cached():
        a = layer.weight
        b = layer.weight
    assert len(calls) == 1 and a is b
    layer.weight
    assert len(calls) == 2


def test_state_dict_round_trip_and_deepcopy(rng):
    import copy
    a, b = _linear(rng), _linear(rng)
    P.register_parametrization(a, "weight", Symmetric())
    P.register_parametrization(b, "weight", Symmetric())
    b.load_state_dict(a.state_dict())
    np.testing.assert_allclose(b.weight.array, a.weight.array)
    c = copy.deepcopy(a)
    assert type(c).__name__ == "ParametrizedLinear"
    np.testing.assert_allclose(c.weight.array, a.weight.array)
    c.parametrizations.weight.original.array[...] = 0
    assert np.abs(a.weight.array).sum() > 0
    d = nn.Linear(3, 3).double()
    P.transfer_parametrizations_and_params(a, d)
    np.testing.assert_allclose(d.weight.array, a.weight.array)


def test_buffer_parametrization_is_a_buffer(rng):
    bn = nn.BatchNorm1d(3).double()
    bn.running_var.array[...] = [1.0, 4.0, 9.0]
    P.register_parametrization(bn, "running_var", Scale(2.0))
    assert "parametrizations.running_var.original" in bn.state_dict()
    assert "parametrizations.running_var.original" not in dict(bn.named_parameters())
    np.testing.assert_allclose(bn.running_var.array, [1.0, 4.0, 9.0])


# ------------------------------------------------------------- parametrizations
def _skew_exp(X):
    A = np.tril(X)
    return scipy.linalg.expm(A - A.T)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_is_orthogonal_and_keeps_orthogonal_weights(rng, shape, orthogonal_map,
                                                               use_trivialization):
    layer = nn.Linear(shape[1], shape[0]).double()
    PZ.orthogonal(layer, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    Q = layer.weight.array
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    keys = sorted(layer.state_dict())
    expected = ["bias", "parametrizations.weight.original"]
    if use_trivialization:
        expected.insert(1, "parametrizations.weight.0.base")
    assert keys == expected
    # after a step of training it is still orthogonal
    x = minigrad.tensor(rng.standard_normal((6, shape[1])))
    layer(x).pow(2).sum().backward()
    original = layer.parametrizations.weight.original
    assert original.grad is not None and np.abs(original.grad.array).sum() > 0
    original.array[...] -= 0.1 * original.grad.array
    Q = layer.weight.array
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)


def test_orthogonal_maps_match_closed_forms(rng):
    X = rng.standard_normal((4, 4))
    orth = PZ._Orthogonal(minigrad.tensor(X), PZ._OrthMaps.matrix_exp, use_trivialization=False)
    np.testing.assert_allclose(orth(minigrad.tensor(X)).array, _skew_exp(X), atol=1e-12)
    orth.orthogonal_map = PZ._OrthMaps.cayley
    A = np.tril(X) - np.tril(X).T
    cayley = np.linalg.solve(np.eye(4) - A / 2, np.eye(4) + A / 2)
    np.testing.assert_allclose(orth(minigrad.tensor(X)).array, cayley, atol=1e-12)
    # householder: H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i = (0..0, 1, X[i+1:, i])
    T = rng.standard_normal((5, 3))
    T[np.arange(3), np.arange(3)] = [1.0, -1.0, 1.0]
    orth = PZ._Orthogonal(minigrad.tensor(T), PZ._OrthMaps.householder, use_trivialization=False)
    Q = np.eye(5)
    for i in range(3):
        v = np.zeros(5)
        v[i] = 1.0
        v[i + 1:] = T[i + 1:, i]
        Q = Q @ (np.eye(5) - 2.0 / (v @ v) * np.outer(v, v))
    Q = Q[:, :3] * np.array([1.0, -1.0, 1.0])
    np.testing.assert_allclose(orth(minigrad.tensor(T)).array, Q, atol=1e-12)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_gradcheck(rng, orthogonal_map):
    shape = (4, 3) if orthogonal_map == "householder" else (3, 3)
    X = minigrad.tensor(rng.standard_normal(shape) * 0.5, requires_grad=True)
    if orthogonal_map == "householder":
        X.array[np.arange(3), np.arange(3)] = [1.5, -1.5, 1.5]   # signs (int cast), away from the jumps
    orth = PZ._Orthogonal(X, getattr(PZ._OrthMaps, orthogonal_map), use_trivialization=False)
    assert gradcheck(lambda x: orth(x), [X])


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix"):
        PZ.orthogonal(nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        PZ.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        PZ.orthogonal(nn.Linear(3, 3), name="w")
    layer = PZ.orthogonal(nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        layer.weight = minigrad.eye(3)


@pytest.mark.parametrize("dim, g_shape", [(0, (4, 1, 1, 1)), (1, (1, 3, 1, 1)), (None, ()),
                                          (-1, ()), (-2, (1, 1, 2, 1))])
def test_weight_norm_parametrization(rng, dim, g_shape):
    conv = nn.Conv2d(3, 4, (2, 3)).double()
    W = conv.weight.array.copy()
    PZ.weight_norm(conv, dim=dim)
    assert sorted(conv.state_dict()) == ["bias", "parametrizations.weight.original0",
                                         "parametrizations.weight.original1"]
    g = conv.parametrizations.weight.original0
    v = conv.parametrizations.weight.original1
    assert tuple(g.shape) == g_shape
    if dim is None or dim == -1:
        np.testing.assert_allclose(g.array, np.linalg.norm(W))
    else:
        axes = tuple(d for d in range(4) if d != dim % 4)
        np.testing.assert_allclose(g.array, np.sqrt((W ** 2).sum(axis=axes, keepdims=True)))
    np.testing.assert_allclose(conv.weight.array, W, atol=1e-12)
    g.array[...] *= 2
    np.testing.assert_allclose(conv.weight.array, 2 * W, atol=1e-12)
    assert gradcheck(lambda gg, vv: conv.parametrizations.weight[0](gg, vv), [g, v])
    utils.parametrize.remove_parametrizations(conv, "weight")
    np.testing.assert_allclose(conv.weight.array, 2 * W, atol=1e-12)
    with pytest.raises(ValueError, match="sequence of tensors"):
        PZ.weight_norm(conv)
        utils.parametrize.remove_parametrizations(conv, "weight", leave_parametrized=False)


def test_spectral_norm_parametrization(rng):
    layer = nn.Linear(5, 4).double()
    W = rng.standard_normal((4, 5))
    layer.weight.array[...] = W
    PZ.spectral_norm(layer)
    assert sorted(layer.state_dict()) == ["bias", "parametrizations.weight.0._u",
                                          "parametrizations.weight.0._v",
                                          "parametrizations.weight.original"]
    sigma = np.linalg.svd(W, compute_uv=False)[0]
    for _ in range(30):   # training forwards: one power step each
        weight = layer.weight.array
    np.testing.assert_allclose(weight, W / sigma, rtol=1e-8)
    sn = layer.parametrizations.weight[0]
    u, _, vt = np.linalg.svd(W)
    np.testing.assert_allclose(np.abs(sn._u.array), np.abs(u[:, 0]), atol=1e-8)
    np.testing.assert_allclose(np.abs(sn._v.array), np.abs(vt[0]), atol=1e-8)
    layer.eval()   # no power step: the estimate is fixed, sigma = u^T W v differentiated in W
    u_before = sn._u.array.copy()
    W2 = minigrad.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert gradcheck(lambda w: sn(w), [W2])
    np.testing.assert_array_equal(sn._u.array, u_before)
    # a 1-d tensor is divided by its length exactly
    vec = minigrad.tensor(rng.standard_normal(6))
    sn1 = PZ._SpectralNorm(vec)
    np.testing.assert_allclose(sn1(vec).array, vec.array / np.linalg.norm(vec.array))


def test_spectral_norm_parametrization_dims_and_errors():
    conv = PZ.spectral_norm(nn.ConvTranspose2d(2, 3, 3))
    assert conv.parametrizations.weight[0].dim == 1
    assert tuple(conv.parametrizations.weight[0]._u.shape) == (3,)
    assert tuple(conv.parametrizations.weight[0]._v.shape) == (2 * 9,)
    with pytest.raises(IndexError, match="Dimension out of range"):
        PZ.spectral_norm(nn.Linear(3, 3), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        PZ.spectral_norm(nn.Linear(3, 3), n_power_iterations=0)


# -------------------------------------------------------- the spectral_norm hook
def test_spectral_norm_hook(rng):
    layer = nn.Linear(5, 4).double()
    W = rng.standard_normal((4, 5))
    layer.weight.array[...] = W
    utils.spectral_norm(layer, n_power_iterations=3)
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    x = minigrad.tensor(rng.standard_normal((2, 5)))
    for _ in range(20):
        out = layer(x)
    sigma = np.linalg.svd(W, compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.array, W / sigma, rtol=1e-8)
    np.testing.assert_allclose(out.array, x.array @ (W / sigma).T + layer.bias.array, rtol=1e-8)
    out.sum().backward()
    assert layer.weight_orig.grad is not None
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        utils.spectral_norm(layer)
    utils.remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.array, W / sigma, rtol=1e-8)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        utils.remove_spectral_norm(layer)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    conv = utils.spectral_norm(nn.ConvTranspose1d(2, 3, 4))
    assert tuple(conv.weight_u.shape) == (3,) and tuple(conv.weight_v.shape) == (8,)


# ---------------------------------------------------------------- functional_call
def test_functional_call_uses_given_tensors_and_restores(rng):
    layer = _linear(rng, 3, 2)
    before = layer.weight
    W = minigrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    x = minigrad.tensor(rng.standard_normal((4, 3)))
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = utils.stateless.functional_call(layer, {"weight": W}, x)
    np.testing.assert_allclose(out.array, x.array @ W.array.T + layer.bias.array)
    out.sum().backward()
    np.testing.assert_allclose(W.grad.array, np.tile(x.array.sum(0), (2, 1)))
    assert layer.weight is before and layer.weight.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        out = utils.stateless.functional_call(layer, {"weight": W}, (x,), strict=False)
        with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'foo'.\n\tMissing key\\(s\\): "
                                               "'bias'"):
            utils.stateless.functional_call(layer, {"weight": W, "foo": W}, x, strict=True)
        seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU()).double()
        b = minigrad.zeros(3, dtype=minigrad.float64)
        out = utils.stateless.functional_call(seq, {"0.weight": minigrad.eye(3, dtype=minigrad.float64),
                                                    "0.bias": b}, x)
        np.testing.assert_allclose(out.array, np.maximum(x.array, 0))


def test_functional_call_tied_weights_and_parametrized(rng):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(minigrad.ones(2, dtype=minigrad.float64))
            self.b = self.a

        def forward(self, x):
            return x + self.a + self.b

    module = Tied()
    zero = minigrad.zeros(2, dtype=minigrad.float64)
    x = minigrad.zeros(2, dtype=minigrad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        np.testing.assert_allclose(utils.stateless.functional_call(module, {"a": zero}, x).array, 0)
        np.testing.assert_allclose(
            utils.stateless.functional_call(module, {"a": zero}, x, tie_weights=False).array, 1)
        with pytest.raises(ValueError, match="which are tied"):
            utils.stateless.functional_call(module, {"a": zero, "b": zero + 1}, x)
        layer = _linear(rng)
        P.register_parametrization(layer, "weight", Scale(2.0))
        eye = minigrad.eye(3, dtype=minigrad.float64)
        bias = minigrad.zeros(3, dtype=minigrad.float64)
        ones = minigrad.ones(1, 3, dtype=minigrad.float64)
        out = utils.stateless.functional_call(layer, {"weight": eye, "bias": bias}, ones)
        np.testing.assert_allclose(out.array, [[1.0, 1.0, 1.0]])   # parametrization bypassed
        out = utils.stateless.functional_call(
            layer, {"parametrizations.weight.original": eye, "bias": bias}, ones)
        np.testing.assert_allclose(out.array, [[2.0, 2.0, 2.0]])   # through the parametrization
        assert isinstance(type(layer).__dict__["weight"], property)


# ----------------------------------------------------------------------- the rest
def test_skip_init_keeps_the_random_stream():
    minigrad.manual_seed(3)
    expected = minigrad.randn(4).array
    minigrad.manual_seed(3)
    layer = utils.skip_init(nn.Linear, 10, 5, bias=False)
    assert tuple(layer.weight.shape) == (5, 10) and layer.bias is None
    np.testing.assert_array_equal(minigrad.randn(4).array, expected)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="support a 'device' arg"):
        utils.skip_init(NoDevice, 3)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        utils.skip_init(dict)


@pytest.mark.parametrize("features", [4, 1])
def test_fuse_linear_bn_eval(rng, features):
    linear = nn.Linear(3, 4).double().eval()
    bn = nn.BatchNorm1d(features).double().eval()
    bn.running_mean.array[...] = rng.standard_normal(features)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, features)
    bn.weight.array[...] = rng.standard_normal(features)
    bn.bias.array[...] = rng.standard_normal(features)
    fused = utils.fuse_linear_bn_eval(linear, bn)
    x = rng.standard_normal((5, 3))
    z = x @ linear.weight.array.T + linear.bias.array
    s = bn.weight.array / np.sqrt(bn.running_var.array + bn.eps)
    expected = (z - bn.running_mean.array) * s + bn.bias.array
    np.testing.assert_allclose(fused(minigrad.tensor(x)).array, expected, rtol=1e-12)
    assert isinstance(fused.weight, nn.Parameter) and fused is not linear
    w, b = utils.fuse_linear_bn_weights(linear.weight, None, bn.running_mean, bn.running_var,
                                        bn.eps, bn.weight, bn.bias)
    np.testing.assert_allclose(b.array, -bn.running_mean.array * s + bn.bias.array)
    assert w.requires_grad and not b.requires_grad
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        utils.fuse_linear_bn_eval(linear.train(), bn)
    with pytest.raises(AssertionError, match="bn.num_features == 1"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 5).eval(), nn.BatchNorm1d(4).eval())


def test_fuse_conv_bn_weights_tensors_give_parameters(rng):
    conv = nn.Conv2d(2, 3, 3).double()
    bn = nn.BatchNorm2d(3).double()
    bn.running_var.array[...] = [1.0, 4.0, 0.25]
    w, b = utils.fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                      0.0, bn.weight, bn.bias)
    assert isinstance(w, nn.Parameter) and isinstance(b, nn.Parameter)
    np.testing.assert_allclose(w.array, conv.weight.array / np.array([1.0, 2.0, 0.5])[:, None,
                                                                                    None, None])
    np.testing.assert_allclose(b.array, conv.bias.array / np.array([1.0, 2.0, 0.5]))


def test_get_total_norm_and_clip_grads_with_norm(rng):
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    tensors = [minigrad.tensor(g) for g in grads]
    flat = np.concatenate([g.ravel() for g in grads])
    for p in [2.0, 1.0, 3.5]:
        assert utils.get_total_norm(tensors, p).item() == pytest.approx(
            np.sum(np.abs(flat) ** p) ** (1 / p), rel=1e-12)
    assert utils.get_total_norm(tensors, float("inf")).item() == pytest.approx(np.abs(flat).max())
    assert utils.get_total_norm(tensors, "-inf").item() == pytest.approx(np.abs(flat).min())
    assert utils.get_total_norm(tensors, 0).item() == 2.0   # tensors with a nonzero entry
    assert utils.get_total_norm([]).item() == 0.0
    assert utils.get_total_norm(tensors[0]).item() == pytest.approx(np.linalg.norm(grads[0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([minigrad.tensor([np.inf])], error_if_nonfinite=True)
    params = [nn.Parameter(minigrad.zeros(3, 4, dtype=minigrad.float64)),
              nn.Parameter(minigrad.zeros(5, dtype=minigrad.float64))]
    for p, g in zip(params, grads):
        p.grad = minigrad.tensor(g.copy())
    total = utils.get_total_norm([p.grad for p in params])
    utils.clip_grads_with_norm_(params, 1.0, total)
    clipped = np.concatenate([p.grad.array.ravel() for p in params])
    np.testing.assert_allclose(clipped, flat / (np.linalg.norm(flat) + 1e-6))
    utils.clip_grads_with_norm_(params, 100.0, total)   # coefficient clamped at 1: unchanged
    np.testing.assert_allclose(np.concatenate([p.grad.array.ravel() for p in params]), clipped)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        utils.clip_grad_norm(params, 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        utils.clip_grad_norm_((p for p in []), 1.0)
    assert utils.clip_grad.clip_grad_value_ is utils.clip_grad_value_
    assert utils.convert_parameters.parameters_to_vector is utils.parameters_to_vector


def test_old_weight_norm_warns_and_dim_minus_one_is_the_whole_tensor():
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        layer = utils.weight_norm(nn.Linear(3, 4), dim=-1)
    assert tuple(layer.weight_g.shape) == ()
    assert utils.weight_norm is utils.remove_weight_norm.__globals__["weight_norm"]


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_batches_of_matrices_and_float32(orthogonal_map):
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(minigrad.randn(3, 5, 2))

    module = PZ.orthogonal(Stack(), orthogonal_map=orthogonal_map)
    Q = module.weight.array
    assert Q.dtype == np.float32 and Q.shape == (3, 5, 2)
    np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(2), (3, 2, 2)),
                               atol=1e-5)
    # an orthogonal value assigned through the setter comes back unchanged
    target = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 5, 2)))[0]
    module.weight = minigrad.tensor(target.astype(np.float32))
    np.testing.assert_allclose(module.weight.array, target, atol=1e-5)


def test_convert_conv_weight_memory_format(rng):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.ConvTranspose2d(4, 2, 2)),
                          nn.Linear(3, 3)).double()
    x = minigrad.tensor(rng.standard_normal((1, 3, 6, 6)))
    before = model[:3](x).array
    weight = model[0].weight
    values = weight.array.copy()
    assert utils.convert_conv2d_weight_memory_format(model, minigrad.channels_last) is model
    assert model[0].weight is weight
    assert weight.is_contiguous(memory_format=minigrad.channels_last) and not weight.is_contiguous()
    assert weight.stride() == (27, 1, 9, 3)   # O, then H, W, C innermost: (3*3*3, 1, 3*3, 3)
    assert model[2][0].weight.is_contiguous(memory_format=minigrad.channels_last)
    assert model[3].weight.is_contiguous()    # not a 2-d convolution: untouched
    np.testing.assert_array_equal(weight.array, values)
    np.testing.assert_allclose(model[:3](x).array, before, atol=1e-12)
    utils.convert_conv2d_weight_memory_format(model, minigrad.contiguous_format)
    assert weight.is_contiguous()
    conv3 = nn.Conv3d(2, 3, 2)
    utils.convert_conv3d_weight_memory_format(conv3, minigrad.channels_last_3d)
    assert conv3.weight.is_contiguous(memory_format=minigrad.channels_last_3d)
    with pytest.raises(RuntimeError, match="required rank 4"):
        utils.convert_conv3d_weight_memory_format(nn.Conv3d(2, 3, 2), minigrad.channels_last)
