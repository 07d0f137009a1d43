"""The breadth of PyTorch's tensor API: values against NumPy / closed forms, gradients by
float64 finite differences (minigrad.gradcheck)."""
import math

import numpy as np
import pytest
from scipy import special

import minigrad as mg
import minigrad.nn.functional as F

rng = np.random.default_rng(0)


def leaf(*shape, low=-2.0, high=2.0):
    return mg.tensor(rng.uniform(low, high, size=shape), dtype=mg.float64, requires_grad=True)


# ---------------------------------------------------------------- silent bugs
def test_and_or_on_integer_tensors_are_bitwise():
    x = mg.tensor([[1, -8, 1], [32, 1, 6]], dtype=mg.int32)
    result = x & 0x1337
    assert result.dtype == mg.int32
    np.testing.assert_array_equal(result.numpy(), [[1, 4912, 1], [32, 1, 6]])
    np.testing.assert_array_equal((x | 2).numpy(), np.array([[1, -8, 1], [32, 1, 6]]) | 2)
    np.testing.assert_array_equal((x ^ 3).numpy(), [[2, -5, 2], [35, 2, 5]])
    np.testing.assert_array_equal((~x).numpy(), [[-2, 7, -2], [-33, -2, -7]])
    np.testing.assert_array_equal((x << 2).numpy(), [[4, -32, 4], [128, 4, 24]])
    np.testing.assert_array_equal((x >> 1).numpy(), [[0, -4, 0], [16, 0, 3]])  # arithmetic shift
    np.testing.assert_array_equal((6 & mg.tensor([3, 4])).numpy(), [2, 4])
    np.testing.assert_array_equal(mg.bitwise_xor(x, x).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(mg.bitwise_left_shift(mg.tensor([1]), 3).numpy(), [8])


def test_bool_tensors_stay_logical_and_floats_are_an_error():
    a, b = mg.tensor([True, True, False]), mg.tensor([True, False, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, False])
    np.testing.assert_array_equal((a ^ b).numpy(), [False, True, False])
    np.testing.assert_array_equal((~a).numpy(), [False, False, True])
    assert (a & b).dtype == mg.bool
    with pytest.raises(TypeError, match="integer and bool"):
        mg.tensor([1.0]) & 1


def test_ints_with_index_tensors_follow_pytorch_axis_order():
    a = mg.arange(24).reshape(2, 3, 4)
    idx = mg.tensor([0, 2])
    x = a.numpy()
    out = a[0, :, idx]
    assert out.shape == (3, 2)  # NumPy would give (2, 3)
    np.testing.assert_array_equal(out.numpy(), x[0][:, [0, 2]])
    assert a[:, 0, idx].shape == (2, 2)
    assert a[0, None, :, idx].shape == (1, 3, 2)
    np.testing.assert_array_equal(a[1, mg.tensor([0, 1]), :].numpy(), x[1][[0, 1], :])
    np.testing.assert_array_equal(a[idx.new_tensor([0, 1]), :, idx].numpy(), x[[0, 1], :, [0, 2]])
    mask = mg.tensor([True, False, True])
    np.testing.assert_array_equal(a[1, mask, idx].numpy(), x[1][[0, 2], [0, 2]])  # mask -> [0, 2]
    w = leaf(2, 3, 4)
    mg.gradcheck(lambda t: t[1, :, mg.tensor([3, 0, 3])], [w])
    w.grad = None
    w[0, :, mg.tensor([1, 1])].sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[0, :, 1] = 2  # a repeated index adds up
    np.testing.assert_array_equal(w.grad.numpy(), expected)


def test_assignment_with_ints_and_index_tensors_uses_the_same_order():
    a = mg.zeros(2, 3, 4, dtype=mg.int64)
    a[0, :, mg.tensor([0, 2])] = mg.arange(6).reshape(3, 2)  # a (3, 2) target, as a[0, :, idx] reads
    expected = np.zeros((2, 3, 4), dtype=np.int64)
    expected[0][:, [0, 2]] = np.arange(6).reshape(3, 2)
    np.testing.assert_array_equal(a.numpy(), expected)
    a[1, mg.tensor([0, 1]), 3] = 7
    assert a.numpy()[1, :2, 3].tolist() == [7, 7]


def test_pow_exponent_gradient_at_zero_base():
    base = mg.tensor([0.0, 0.0, 0.0, 2.0], requires_grad=True)
    exponent = mg.tensor([-1.0, 0.0, 2.0, 1.0], requires_grad=True)
    (base ** exponent).sum().backward()
    np.testing.assert_array_equal(exponent.grad.numpy()[:3], [-math.inf, 0.0, 0.0])
    assert exponent.grad.numpy()[3] == pytest.approx(2 * math.log(2))
    np.testing.assert_array_equal(base.grad.numpy(), [-math.inf, 0.0, 0.0, 1.0])


# ------------------------------------------------------------------- dtypes
def test_dtype_aliases_and_conversions():
    assert mg.int == mg.int32 and mg.long == mg.int64 and mg.short == mg.int16
    assert mg.half == mg.float16 and mg.float == mg.float32 and mg.double == mg.float64
    assert mg.int8 == np.int8 and mg.uint8 == np.uint8 and mg.bool == np.bool_
    x = mg.tensor([1.7, -2.2])
    for method, dtype in (("int", np.int32), ("long", np.int64), ("short", np.int16),
                          ("char", np.int8), ("byte", np.uint8), ("half", np.float16),
                          ("double", np.float64), ("float", np.float32), ("bool", np.bool_)):
        assert getattr(x, method)().dtype == dtype
    np.testing.assert_array_equal(x.int().numpy(), [1, -2])
    assert x.is_floating_point() and not x.long().is_floating_point()
    assert x.element_size() == 4 and x.double().element_size() == 8 and x.half().element_size() == 2


def test_view_dtype_reinterprets_bits():
    x = mg.tensor([1.0, -2.0])
    np.testing.assert_array_equal(x.view(mg.int32).numpy(), [1065353216, -1073741824])
    assert x.view(mg.int16).shape == (4,)
    np.testing.assert_array_equal(x.view(mg.int32).view(mg.float32).numpy(), [1.0, -2.0])
    with pytest.raises(RuntimeError, match="multiple of 8"):
        mg.tensor([1.0]).view(mg.float64)
    assert x.view(2, 1).shape == (2, 1)


def test_legacy_constructor_and_python_protocols():
    assert mg.Tensor(3, 4).shape == (3, 4) and mg.Tensor(3, 4).dtype == mg.float32
    assert mg.Tensor([1, 2]).dtype == mg.float32
    assert mg.Tensor(np.arange(3)).dtype == np.arange(3).dtype  # an ndarray keeps its dtype
    assert [10, 20, 30][mg.tensor(2)] == 30
    assert list(range(mg.tensor(3))) == [0, 1, 2]
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][mg.tensor(1.0)]
    loss = mg.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{mg.tensor(7):>3d}" == "  7"
    assert f"{mg.tensor([1.0, 2.0])}" == repr(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{mg.tensor([1.0, 2.0]):.2f}"


# ----------------------------------------------------------------- creation
def test_creation_keywords_generators_and_likes():
    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    assert x.dtype == mg.float64 and x.requires_grad
    g1, g2 = mg.Generator().manual_seed(5), mg.Generator().manual_seed(5)
    np.testing.assert_array_equal(mg.rand(4, generator=g1).numpy(), mg.rand(4, generator=g2).numpy())
    np.testing.assert_array_equal(mg.randint(0, 10, (5,), generator=g1).numpy(),
                                  mg.randint(0, 10, (5,), generator=g2).numpy())
    assert g1.initial_seed() == 5
    r = mg.randint(3, 10, (50,), dtype=mg.int32)
    assert r.dtype == mg.int32 and 3 <= r.numpy().min() and r.numpy().max() < 10
    with pytest.raises(RuntimeError, match="floating point"):
        mg.randint(0, 3, (2,), requires_grad=True)
    base = mg.ones(2, 3, dtype=mg.float64)
    for like in (mg.randn_like, mg.rand_like, mg.zeros_like, mg.ones_like, mg.empty_like):
        made = like(base)
        assert made.shape == (2, 3) and made.dtype == mg.float64
    assert mg.full_like(base, 7).numpy().tolist() == [[7.0] * 3] * 2
    ints = mg.randint_like(base, 5)
    assert ints.shape == (2, 3) and ints.numpy().max() < 5
    assert mg.zeros_like(base, dtype=mg.int64).dtype == mg.int64


def test_new_tensor_family_takes_the_dtype_of_self():
    x = mg.zeros(1, dtype=mg.float64)
    assert x.new_tensor([1, 2]).dtype == mg.float64
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros((2,)).dtype == mg.float64
    np.testing.assert_array_equal(x.new_ones(2).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.new_full((2,), 3).numpy(), [3.0, 3.0])
    assert x.new_empty(4).shape == (4,)
    assert x.new_zeros(2, dtype=mg.int32).dtype == mg.int32


# -------------------------------------------------------------- reductions
def test_numpy_style_axis_and_keepdims():
    data = rng.standard_normal((3, 4))
    x = mg.tensor(data)
    np.testing.assert_allclose(x.sum(axis=0).numpy(), data.sum(0))
    np.testing.assert_allclose(mg.mean(x, axis=1, keepdims=True).numpy(), data.mean(1, keepdims=True))
    np.testing.assert_allclose(x.std(axis=(0, 1)).numpy(), data.std(ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.amax(axis=1).numpy(), data.max(1))
    np.testing.assert_array_equal(x.argmax(axis=1, keepdims=True).numpy(), data.argmax(1)[:, None])
    assert x.max(axis=0).values.shape == (4,)
    np.testing.assert_allclose(x.prod(axis=0).numpy(), data.prod(0))
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=0, axis=0)


def test_prod_all_any_and_gradients_with_zeros():
    data = np.array([[2.0, 0.0, 3.0], [1.5, -1.0, 4.0]])
    np.testing.assert_allclose(mg.tensor(data).prod(1).numpy(), data.prod(1))
    assert mg.prod(mg.tensor([True, True])).dtype == mg.int64
    x = mg.tensor(data, requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 6.0, 0.0], [-4.0, 6.0, -1.5]])
    mg.gradcheck(lambda t: t.prod((0, 2), keepdim=True), [leaf(2, 3, 2)])
    m = mg.tensor([[1, 0], [1, 1]])
    np.testing.assert_array_equal(m.all(1).numpy(), [False, True])
    np.testing.assert_array_equal(mg.any(m, dim=0).numpy(), [True, True])
    assert m.all().item() is False and m.any().dtype == mg.bool


def test_scans_match_numpy_and_gradcheck():
    data = rng.standard_normal((3, 4))
    x = mg.tensor(data)
    np.testing.assert_allclose(x.cumsum(1).numpy(), np.cumsum(data, 1), rtol=1e-6)
    np.testing.assert_allclose(x.cumprod(0).numpy(), np.cumprod(data, 0), rtol=1e-6)
    np.testing.assert_allclose(x.logcumsumexp(1).numpy(), np.log(np.cumsum(np.exp(data), 1)), rtol=1e-6)
    assert mg.cumsum(mg.tensor([True, True]), 0).dtype == mg.int64
    values, indices = mg.cummax(mg.tensor([1.0, 3.0, 3.0, 2.0, 3.0]), 0)
    np.testing.assert_array_equal(values.numpy(), [1, 3, 3, 3, 3])
    np.testing.assert_array_equal(indices.numpy(), [0, 1, 2, 2, 4])  # the last of ties, as PyTorch
    np.testing.assert_array_equal(mg.cummin(mg.tensor([2, 1, 3]), 0).indices.numpy(), [0, 1, 1])
    for fn in (lambda t: t.cumsum(1), lambda t: t.cumprod(-1), lambda t: t.logcumsumexp(0),
               lambda t: t.cummax(1).values, lambda t: t.cummin(0).values):
        mg.gradcheck(fn, [leaf(3, 4)])
    with_zero = mg.tensor([[2.0, 0.0, 3.0, 0.5], [0.0, 1.0, 0.0, 2.0]], dtype=mg.float64,
                          requires_grad=True)
    mg.gradcheck(lambda t: t.cumprod(1), [with_zero])


def test_logsumexp_median_var_mean_and_norms():
    data = rng.standard_normal((3, 5))
    x = mg.tensor(data)
    np.testing.assert_allclose(mg.logsumexp(x, 1).numpy(), special.logsumexp(data, 1), rtol=1e-6)
    np.testing.assert_allclose(mg.tensor([1000.0, 1000.0]).logsumexp(0).item(), 1000 + math.log(2))
    assert mg.median(mg.tensor([1.0, 2.0, 3.0, 4.0])).item() == 2.0  # the lower median
    values, indices = mg.tensor([[1.0, 5.0, 2.0, 4.0]]).median(1)
    assert values.tolist() == [2.0] and indices.tolist() == [2]
    values, indices = mg.mode(mg.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
    assert values.item() == 1.0 and indices.item() == 3  # smallest of ties, its last index
    rows = mg.tensor([[1, 2, 2, 1, 1], [5, 5, 4, 4, 0]]).mode(1)
    assert rows.values.tolist() == [1, 4] and rows.indices.tolist() == [4, 3]
    var, mean = mg.var_mean(x, 1)
    np.testing.assert_allclose(var.numpy(), data.var(1, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(mean.numpy(), data.mean(1), rtol=1e-6)
    std, _ = mg.std_mean(x, dim=0, correction=0)
    np.testing.assert_allclose(std.numpy(), data.std(0), rtol=1e-6)
    np.testing.assert_allclose(x.norm().item(), np.linalg.norm(data), rtol=1e-6)
    np.testing.assert_allclose(mg.norm(x, p=1, dim=1).numpy(), np.abs(data).sum(1), rtol=1e-6)
    np.testing.assert_allclose(mg.linalg.vector_norm(x, ord=3, dim=0).numpy(),
                               (np.abs(data) ** 3).sum(0) ** (1 / 3), rtol=1e-6)
    np.testing.assert_allclose(mg.linalg.vector_norm(x, ord=math.inf).item(), np.abs(data).max())
    np.testing.assert_allclose(mg.linalg.matrix_norm(x, ord=1).item(), np.linalg.norm(data, 1), rtol=1e-6)
    np.testing.assert_allclose(mg.linalg.norm(x).item(), np.linalg.norm(data), rtol=1e-6)
    for fn in (lambda t: t.logsumexp((0, 1)), lambda t: t.median(1).values, lambda t: t.norm(dim=1),
               lambda t: t.median(), lambda t: mg.cat([t, t]).mode(0).values,
               lambda t: mg.linalg.vector_norm(t, 3, 0), lambda t: mg.linalg.vector_norm(t, 1),
               lambda t: mg.linalg.vector_norm(t, math.inf, 1), lambda t: mg.std_mean(t, 1)[0]):
        mg.gradcheck(fn, [leaf(3, 4)])
    zero = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    zero.norm().backward()
    np.testing.assert_array_equal(zero.grad.numpy(), [0.0, 0.0, 0.0])  # PyTorch's subgradient


# --------------------------------------------------------------- pointwise
UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh, "atanh": np.arctanh,
    "log1p": np.log1p, "expm1": np.expm1, "log2": np.log2, "log10": np.log10, "exp2": np.exp2,
    "rsqrt": lambda x: 1 / np.sqrt(x), "reciprocal": lambda x: 1 / x, "erf": special.erf,
    "erfc": special.erfc, "erfinv": special.erfinv, "square": np.square, "frac": lambda x: x - np.trunc(x),
}
POSITIVE = {"log1p", "log2", "log10", "rsqrt", "reciprocal"}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math_values_and_gradients(name):
    low, high = (0.2, 2.0) if name in POSITIVE else (-0.8, 0.8)
    x = leaf(3, 4, low=low, high=high)
    np.testing.assert_allclose(getattr(mg, name)(x).detach().numpy(), UNARY[name](x.detach().numpy()),
                               rtol=1e-12)
    np.testing.assert_allclose(getattr(x, name)().detach().numpy(), UNARY[name](x.detach().numpy()),
                               rtol=1e-12)
    mg.gradcheck(getattr(mg, name), [x])
    assert getattr(mg, name)(mg.tensor([0.5])).dtype == mg.float32


def test_acosh_and_rounding_functions():
    x = leaf(4, low=1.5, high=3.0)
    mg.gradcheck(mg.acosh, [x])
    data = np.array([-2.5, -1.5, -0.4, 0.5, 1.5, 2.7])
    t = mg.tensor(data, requires_grad=True)
    for name, reference in (("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc),
                            ("sign", np.sign), ("round", np.round)):
        out = getattr(t, name)()
        np.testing.assert_array_equal(out.detach().numpy(), reference(data))
        out.sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), np.zeros(6))  # flat almost everywhere
        t.grad = None
    np.testing.assert_allclose(mg.round(mg.tensor([1.2345, -2.5551]), decimals=2).numpy(),
                               [1.23, -2.56], rtol=1e-6)
    assert mg.floor(mg.tensor([3, -2])).dtype == mg.int64
    assert mg.sign(mg.tensor([-3, 0, 2])).tolist() == [-1, 0, 1]


def test_binary_math():
    a, b = rng.uniform(-3, 3, (3, 4)), rng.uniform(0.5, 2, (4,))
    ta, tb = mg.tensor(a), mg.tensor(b)
    np.testing.assert_allclose(mg.atan2(ta, tb).numpy(), np.arctan2(a, b), rtol=1e-6)
    np.testing.assert_allclose(mg.hypot(ta, tb).numpy(), np.hypot(a, b), rtol=1e-6)
    np.testing.assert_allclose(mg.copysign(tb, -ta).numpy(), np.copysign(b, -a), rtol=1e-6)
    np.testing.assert_allclose(mg.fmod(ta, tb).numpy(), np.fmod(a, b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((ta % tb).numpy(), np.remainder(a, b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mg.lerp(ta, tb, 0.25).numpy(), a + 0.25 * (b - a), rtol=1e-6)
    assert mg.fmod(mg.tensor([-7, 7]), 3).tolist() == [-1, 1]
    assert mg.remainder(mg.tensor([-7, 7]), 3).tolist() == [2, 1]
    for fn in (mg.atan2, mg.hypot, mg.fmod, mg.remainder, lambda x, y: mg.lerp(x, y, 0.3),
               lambda x, y: mg.lerp(x, y, y), mg.copysign):
        mg.gradcheck(fn, [leaf(3, 4), leaf(4, low=0.5, high=2.0)])


def test_functional_arithmetic_with_alpha_and_rounding_modes():
    a, b = mg.tensor([7.0, -7.0, 5.0]), mg.tensor([2.0, 2.0, -3.0])
    np.testing.assert_allclose(mg.add(a, b, alpha=2).numpy(), [11.0, -3.0, -1.0])
    np.testing.assert_allclose(a.sub(b, alpha=0.5).numpy(), [6.0, -8.0, 6.5])
    np.testing.assert_allclose(mg.div(a, b, rounding_mode="trunc").numpy(), [3.0, -3.0, -1.0])
    np.testing.assert_allclose(mg.div(a, b, rounding_mode="floor").numpy(), [3.0, -4.0, -2.0])
    ints = mg.tensor([7, -7, 5])
    trunc = mg.div(ints, mg.tensor([2, 2, -3]), rounding_mode="trunc")
    assert trunc.dtype == mg.int64 and trunc.tolist() == [3, -3, -1]
    assert (ints // 2).tolist() == [3, -4, 2] and mg.floor_divide(ints, 2).dtype == mg.int64
    assert mg.true_divide(ints, 2).dtype == mg.float32
    with pytest.raises(ValueError, match="rounding_mode"):
        mg.div(a, b, rounding_mode="round")
    mg.gradcheck(lambda x, y: mg.add(x, y, alpha=-1.5), [leaf(3), leaf(3)])


def test_comparisons_masks_and_triangles():
    x = mg.tensor([1.0, math.nan, math.inf, -math.inf])
    assert mg.isnan(x).tolist() == [False, True, False, False]
    assert x.isinf().tolist() == [False, False, True, True]
    assert mg.isfinite(x).tolist() == [True, False, False, False]
    np.testing.assert_array_equal(mg.nan_to_num(x, posinf=9.0).numpy(),
                                  np.array([1.0, 0.0, 9.0, np.finfo(np.float32).min], np.float32))
    y = mg.tensor([1.0, math.nan, 3.0], requires_grad=True)
    y.nan_to_num().sum().backward()
    assert y.grad.tolist() == [1.0, 0.0, 1.0]
    assert mg.isclose(mg.tensor([1.0, 2.0]), mg.tensor([1.0 + 1e-7, 2.1])).tolist() == [True, False]
    assert mg.allclose(mg.tensor([1.0]), mg.tensor([1.0 + 1e-9])) is True
    assert mg.equal(mg.tensor([1, 2]), mg.tensor([1, 2])) and not mg.equal(mg.tensor([1]), mg.tensor([1, 1]))
    data = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(mg.tril(mg.tensor(data)).numpy(), np.tril(data))
    np.testing.assert_array_equal(mg.tensor(data).triu(1).numpy(), np.triu(data, 1))
    mg.gradcheck(lambda t: t.tril(-1), [leaf(3, 4)])


# --------------------------------------------------------- shape, movement
def test_movement_ops_match_numpy_and_gradcheck():
    data = rng.standard_normal((2, 3, 4))
    x = mg.tensor(data)
    np.testing.assert_array_equal(x.repeat(2, 1, 1, 2).numpy(), np.tile(data, (2, 1, 1, 2)))
    np.testing.assert_array_equal(mg.tile(x, (2,)).numpy(), np.tile(data, 2))
    np.testing.assert_array_equal(x.flip(0, 2).numpy(), data[::-1, :, ::-1])
    np.testing.assert_array_equal(mg.fliplr(x).numpy(), data[:, ::-1])
    np.testing.assert_array_equal(mg.flipud(x).numpy(), data[::-1])
    np.testing.assert_array_equal(x.roll(1, 2).numpy(), np.roll(data, 1, 2))
    np.testing.assert_array_equal(mg.roll(x, (1, -1), (0, 1)).numpy(), np.roll(data, (1, -1), (0, 1)))
    np.testing.assert_array_equal(x.roll(5).numpy(), np.roll(data, 5))
    np.testing.assert_array_equal(x.narrow(2, 1, 2).numpy(), data[:, :, 1:3])
    np.testing.assert_array_equal(mg.movedim(x, 0, -1).numpy(), np.moveaxis(data, 0, -1))
    np.testing.assert_array_equal(x.swapaxes(0, 2).numpy(), np.swapaxes(data, 0, 2))
    np.testing.assert_array_equal(x.repeat_interleave(2, dim=1).numpy(), np.repeat(data, 2, 1))
    assert mg.t(mg.ones(2, 3)).shape == (3, 2) and mg.ones(3).t().shape == (3,)
    assert [p.shape for p in x.chunk(3, 2)] == [(2, 3, 2), (2, 3, 2)]
    assert [p.shape for p in mg.split(x, 3, 2)] == [(2, 3, 3), (2, 3, 1)]
    assert [p.shape for p in x.split([1, 2], 1)] == [(2, 1, 4), (2, 2, 4)]
    assert [p.shape for p in mg.unbind(x, 1)] == [(2, 4)] * 3
    with pytest.raises(ValueError, match="must sum"):
        x.split([1, 1], 1)
    for fn in (lambda t: t.repeat(2, 1, 3), lambda t: t.flip(1), lambda t: t.roll((1, 2), (0, 1)),
               lambda t: t.roll(3), lambda t: t.narrow(1, 1, 2), lambda t: mg.movedim(t, (0, 1), (1, 0)),
               lambda t: t.chunk(2, 1)[1], lambda t: t.unbind(0)[1] * 2, lambda t: t.repeat_interleave(2, 0)):
        mg.gradcheck(fn, [leaf(2, 3)])


# ----------------------------------------------------------------- indexing
def test_gather_scatter_and_friends():
    data = rng.standard_normal((3, 4))
    x = mg.tensor(data)
    index = mg.tensor([[0, 1], [2, 0], [3, 3]])
    np.testing.assert_array_equal(x.gather(1, index).numpy(), np.take_along_axis(data, index.numpy(), 1))
    small = mg.tensor([[2, 0, 1]])
    np.testing.assert_array_equal(mg.gather(x, 0, small).numpy(), [[data[2, 0], data[0, 1], data[1, 2]]])
    target = mg.zeros(3, 5, dtype=mg.float64)
    src = mg.tensor(np.arange(1.0, 7.0).reshape(3, 2))
    expected = np.zeros((3, 5))
    expected[[0, 0, 1, 1, 2, 2], [0, 1, 2, 0, 3, 3]] = [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(target.scatter(1, index, src).numpy()[:2], expected[:2])
    added = mg.scatter_add(target, 1, index, src)
    assert added.numpy()[2, 3] == 11.0  # repeated indices add up
    np.testing.assert_array_equal(target.scatter(1, index, value=2.5).numpy()[0, :2], [2.5, 2.5])
    reduced = mg.scatter_reduce(mg.ones(3, 5, dtype=mg.float64), 1, index, src, "amax", include_self=False)
    assert reduced.numpy()[2, 3] == 6.0 and reduced.numpy()[2, 0] == 1.0
    mean = mg.scatter_reduce(mg.ones(3, 5, dtype=mg.float64), 1, index, src, "mean")
    assert mean.numpy()[2, 3] == pytest.approx((1 + 5 + 6) / 3)
    g_index = mg.tensor([[0, 1], [2, 0], [3, 1]])
    for fn in (lambda t: t.gather(1, index),
               lambda t, s: t.scatter(1, g_index, s),
               lambda t, s: t.scatter_add(1, index, s),
               lambda t, s: t.scatter_reduce(1, g_index, s, "sum", include_self=False),
               lambda t, s: t.scatter_reduce(1, index, s, "mean"),
               lambda t, s: t.scatter_reduce(1, g_index, s, "amax"),
               lambda t, s: t.scatter_reduce(1, g_index, s, "prod")):
        inputs = [leaf(3, 4, low=0.5, high=2.0)]
        if fn.__code__.co_argcount == 2:
            inputs.append(leaf(3, 3, low=0.5, high=2.0))
        mg.gradcheck(fn, inputs)
    with pytest.raises(IndexError, match="out of range"):
        x.gather(1, mg.tensor([[4]]))


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_through_zero_factors(include_self):
    # Row 0: target 0 has one zero factor (src), target 1 two zeros (self and src).
    # Row 1: target 0 has a zero in self only; target 2 has no zero.
    index = mg.tensor([[0, 0, 1, 1], [2, 0, 2, 0]])
    base = np.array([[2.0, 0.0, 3.0], [0.0, 1.5, -2.0]])
    src = np.array([[0.0, 4.0, 0.0, 5.0], [3.0, 2.0, -1.0, 0.5]])
    fn = lambda t, s: t.scatter_reduce(1, index, s, "prod", include_self=include_self)  # noqa: E731
    a, b = mg.tensor(base, requires_grad=True), mg.tensor(src, requires_grad=True)
    fn(a, b).sum().backward()
    # The closed form: a factor's gradient is the product of the other factors of its target;
    # input elements that are no target pass the gradient through (1), and with
    # include_self=False the targets' own values take no part (0).
    targets = {(r, t) for (r, _), t in np.ndenumerate(index.numpy())}
    factors = {key: [("self", key, base[key])] if include_self else [] for key in targets}
    for (r, j), t in np.ndenumerate(index.numpy()):
        factors[(r, t)].append(("src", (r, j), src[r, j]))
    expected = {"self": np.ones_like(base), "src": np.zeros_like(src)}
    for key in targets:
        expected["self"][key] = 0.0
    for members in factors.values():
        for kind, where, _ in members:
            expected[kind][where] = np.prod([v for k, w, v in members if (k, w) != (kind, where)])
    np.testing.assert_allclose(a.grad.numpy(), expected["self"], rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), expected["src"], rtol=1e-12)
    mg.gradcheck(fn, [mg.tensor(base, requires_grad=True), mg.tensor(src, requires_grad=True)])


def test_select_mask_take_sort_topk():
    data = rng.standard_normal((3, 4))
    x = mg.tensor(data)
    np.testing.assert_array_equal(x.index_select(1, mg.tensor([3, 0])).numpy(), data[:, [3, 0]])
    mask = mg.tensor(data > 0)
    np.testing.assert_array_equal(x.masked_fill(mask, -1.0).numpy(), np.where(data > 0, -1.0, data))
    filled = mg.masked_fill(mg.tensor([1, 2]), mg.tensor([True, False]), 9.7)
    assert filled.dtype == mg.int64 and filled.tolist() == [9, 2]  # the value takes the input's dtype
    np.testing.assert_array_equal(mg.take(x, mg.tensor([[0, 11]])).numpy(), [[data.flat[0], data.flat[11]]])
    values, indices = x.sort(1, descending=True)
    np.testing.assert_array_equal(values.numpy(), -np.sort(-data, 1))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-data, 1))
    np.testing.assert_array_equal(mg.argsort(x, 0).numpy(), np.argsort(data, 0))
    top = x.topk(2, dim=1)
    np.testing.assert_array_equal(top.values.numpy(), -np.sort(-data, 1)[:, :2])
    np.testing.assert_array_equal(mg.topk(x, 1, largest=False).indices.numpy(), data.argmin(1)[:, None])
    assert mg.nonzero(mg.tensor([[0, 1], [2, 0]])).tolist() == [[0, 1], [1, 0]]
    assert x.where(mask, 0.0).numpy()[~(data > 0)].tolist() == [0.0] * int((data <= 0).sum())
    value = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    for fn in (lambda t: t.index_select(0, mg.tensor([2, 2, 0])), lambda t: t.masked_fill(mask, 3.0),
               lambda t: t.take(mg.tensor([1, 1, 5])), lambda t: t.sort(0).values,
               lambda t: t.topk(3, 1).values, lambda t, v: t.masked_fill(mask, v)):
        inputs = [leaf(3, 4)] + ([value] if fn.__code__.co_argcount == 2 else [])
        mg.gradcheck(fn, inputs)


# ----------------------------------------------------------- linear algebra
def test_named_products_and_einsum():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    v, w = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(mg.mm(mg.tensor(a), mg.tensor(b)).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(mg.tensor(a).mv(mg.tensor(v)).numpy(), a @ v, rtol=1e-6)
    np.testing.assert_allclose(mg.dot(mg.tensor(v), mg.tensor(w)).item(), v @ w, rtol=1e-6)
    np.testing.assert_allclose(mg.outer(mg.tensor(v), mg.tensor(w)).numpy(), np.outer(v, w), rtol=1e-6)
    batch = rng.standard_normal((5, 2, 3))
    np.testing.assert_allclose(mg.bmm(mg.tensor(batch), mg.tensor(np.stack([b] * 5))).numpy(),
                               batch @ b, rtol=1e-6)
    with pytest.raises(ValueError, match="mm: input must be a 2-D"):
        mg.mm(mg.tensor(v), mg.tensor(b))
    for equation, shapes in (
            ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk", [(2, 2, 3), (2, 3, 4)]),
            ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]),
            ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(3,), (2,)]),
            ("ij,ij->i", [(2, 3), (2, 3)]), ("ijk->kj", [(2, 3, 4)]),
            # '...' broadcasts: size-1 dims expand, missing leading dims too
            ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("...i,...i", [(1, 3), (4, 3)])):
        arrays = [rng.standard_normal(s) for s in shapes]
        np.testing.assert_allclose(mg.einsum(equation, *[mg.tensor(x) for x in arrays]).numpy(),
                                   np.einsum(equation, *arrays), rtol=1e-6, atol=1e-6)
        mg.gradcheck(lambda *ts, eq=equation: mg.einsum(eq, *ts), [leaf(*s) for s in shapes])
    with pytest.raises(ValueError, match=r"dims under '\.\.\.' of sizes 2 and 4 do not broadcast"):
        mg.einsum("...i,...i", mg.randn(2, 3), mg.randn(4, 3))
    for fn, shapes in ((mg.mm, [(2, 3), (3, 4)]), (mg.mv, [(2, 3), (3,)]), (mg.dot, [(3,), (3,)]),
                       (mg.outer, [(3,), (2,)]), (mg.bmm, [(2, 2, 3), (2, 3, 2)])):
        mg.gradcheck(fn, [leaf(*s) for s in shapes])


# ---------------------------------------------------------------- attention
def _attention_reference(q, k, v, mask=None, scale=None):
    scores = q @ np.swapaxes(k, -1, -2) * (scale or 1 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)) @ v


def test_scaled_dot_product_attention():
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    tq, tk, tv = mg.tensor(q), mg.tensor(k), mg.tensor(v)
    np.testing.assert_allclose(F.scaled_dot_product_attention(tq, tk, tv).numpy(),
                               _attention_reference(q, k, v), rtol=1e-6)
    causal = np.tril(np.ones((4, 5), dtype=bool))
    np.testing.assert_allclose(F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).numpy(),
                               _attention_reference(q, k, v, causal), rtol=1e-6)
    mask = rng.uniform(size=(4, 5)) > 0.3
    mask[:, 0] = True
    np.testing.assert_allclose(F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mg.tensor(mask),
                                                              scale=0.5).numpy(),
                               _attention_reference(q, k, v, mask, 0.5), rtol=1e-6)
    additive = mg.tensor(np.where(mask, 0.0, -np.inf))
    np.testing.assert_allclose(F.scaled_dot_product_attention(tq, tk, tv, attn_mask=additive).numpy(),
                               _attention_reference(q, k, v, mask), rtol=1e-6)
    mg.manual_seed(0)
    dropped = F.scaled_dot_product_attention(tq, tk, tv, dropout_p=0.5)
    assert dropped.shape == (2, 4, 2) and not np.allclose(dropped.numpy(), _attention_reference(q, k, v))
    mg.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                 [leaf(2, 4, 3), leaf(2, 4, 3), leaf(2, 4, 2)])


def test_normalize():
    data = rng.standard_normal((3, 4))
    np.testing.assert_allclose(F.normalize(mg.tensor(data)).numpy(),
                               data / np.linalg.norm(data, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(F.normalize(mg.tensor(data), p=1, dim=0).numpy(),
                               data / np.abs(data).sum(0), rtol=1e-6)
    assert F.normalize(mg.zeros(2, 3)).numpy().tolist() == [[0.0] * 3] * 2
    mg.gradcheck(lambda t: F.normalize(t, dim=-1), [leaf(3, 4)])


# ---------------------------------------- pooling/conv dtypes, negative padding
def test_integer_and_half_inputs_to_pooling_and_conv():
    x = mg.arange(16).reshape(1, 1, 4, 4)
    pooled = F.max_pool2d(x, 2)
    assert pooled.dtype == mg.int64 and pooled.tolist() == [[[[5, 7], [13, 15]]]]
    assert F.avg_pool2d(x, 2).tolist() == [[[[2, 4], [10, 12]]]]  # integer mean rounds toward 0
    with pytest.raises(TypeError, match="float32 or float64"):
        F.max_pool1d(x[0], 2)  # PyTorch has no integer max_pool1d either
    data = rng.standard_normal((1, 2, 4, 4))
    half = mg.tensor(data, dtype=mg.float16, requires_grad=True)
    out = F.max_pool2d(half, 2)
    assert out.dtype == mg.float16
    in_float32 = F.max_pool2d(mg.tensor(data.astype(np.float16)).float(), 2)
    np.testing.assert_array_equal(out.detach().numpy(), in_float32.numpy().astype(np.float16))
    out.sum().backward()
    assert half.grad.dtype == mg.float16 and half.grad.numpy().sum() == 8
    weight = rng.standard_normal((3, 2, 3, 3))
    conv = F.conv2d(mg.tensor(data, dtype=mg.float16), mg.tensor(weight, dtype=mg.float16), padding=1)
    reference = F.conv2d(mg.tensor(data.astype(np.float16).astype(np.float32)),
                         mg.tensor(weight.astype(np.float16).astype(np.float32)), padding=1)
    assert conv.dtype == mg.float16
    np.testing.assert_allclose(conv.numpy().astype(np.float32), reference.numpy(), rtol=2e-3, atol=2e-3)
    assert F.avg_pool2d(mg.tensor(data, dtype=mg.float16), 2).dtype == mg.float16


def test_negative_padding_crops():
    x = mg.arange(6.0).reshape(2, 3)
    assert F.pad(x, (-1, 1)).tolist() == [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0]]
    assert F.pad(x, (-1, 0), mode="replicate").tolist() == [[1.0, 2.0], [4.0, 5.0]]
    assert F.pad(x, (0, 0, -1, 0)).tolist() == [[3.0, 4.0, 5.0]]
    mg.gradcheck(lambda t: F.pad(t, (1, -2, -1, 1)), [leaf(3, 4)])
    with pytest.raises(ValueError, match="to nothing"):
        F.pad(x, (-2, -1))


def test_where_forms_binary_max_and_one_sided_clamps():
    condition = mg.tensor([[True, False], [False, True]])
    rows, columns = mg.where(condition)
    assert rows.tolist() == [0, 1] and columns.tolist() == [0, 1]
    a, b = mg.tensor([1.0, 5.0, 3.0]), mg.tensor([4.0, 2.0, 3.0])
    assert mg.max(a, b).tolist() == [4.0, 5.0, 3.0] and mg.min(a, b).tolist() == [1.0, 2.0, 3.0]
    assert a.clamp_min(2.5).tolist() == [2.5, 5.0, 3.0] and a.clamp_max(2.5).tolist() == [1.0, 2.5, 2.5]
    assert mg.clip(a, 2.0, 4.0).tolist() == [2.0, 4.0, 3.0]
    mg.gradcheck(lambda x, y: mg.max(x, y), [leaf(4), leaf(4)])
