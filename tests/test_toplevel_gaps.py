"""PyTorch top-level names minigrad answers by construction (minigrad/tensor_types.py,
minigrad/ops/tensor_attributes.py, minigrad/ops/toplevel_inplace.py, minigrad/eager_compile.py,
minigrad/cpu.py): constants, minigrad.dtype, the legacy tensor types, the answers of a real
tensor, the top-level in-place functions, compile.

Values against NumPy, gradients against float64 central differences, PyTorch's errors.
"""
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ constants
def test_constants_are_pythons():
    assert mg.pi == math.pi and mg.e == math.e and mg.inf == math.inf
    assert math.isnan(mg.nan) and mg.newaxis is None
    x = mg.arange(6.0).reshape(2, 3)
    assert tuple(x[:, mg.newaxis].shape) == (2, 1, 3)


# ---------------------------------------------------------------------- dtype
def test_dtype_is_the_type_of_every_minigrad_dtype():
    for d in (mg.float32, mg.float64, mg.float16, mg.int64, mg.int32, mg.int16, mg.int8, mg.uint8, mg.bool,
              mg.float, mg.double, mg.long, mg.half):
        assert isinstance(d, mg.dtype)
    assert isinstance(mg.zeros(2).dtype, mg.dtype)
    for other in ("float32", np.float32, float, np.dtype(np.complex64), 3):
        assert not isinstance(other, mg.dtype)
    with pytest.raises(TypeError, match="cannot create"):
        mg.dtype()
    assert mg.float32 == np.float32  # the dtypes themselves are unchanged NumPy dtypes


# ---------------------------------------------------------------- legacy types
def test_legacy_types_construct_as_pytorch():
    a = mg.FloatTensor(2, 3)
    assert tuple(a.shape) == (2, 3) and a.dtype == mg.float32
    assert tuple(mg.DoubleTensor(mg.Size([4])).shape) == (4,)
    assert tuple(mg.FloatTensor().shape) == (0,)
    np.testing.assert_array_equal(mg.FloatTensor([1, 2]).numpy(), np.array([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(mg.LongTensor([1.7, -2.9]).numpy(), np.array([1, -2]))  # truncation
    np.testing.assert_array_equal(mg.BoolTensor([1, 0]).numpy(), np.array([True, False]))
    expected = {"FloatTensor": np.float32, "DoubleTensor": np.float64, "HalfTensor": np.float16,
                "LongTensor": np.int64, "IntTensor": np.int32, "ShortTensor": np.int16,
                "CharTensor": np.int8, "ByteTensor": np.uint8, "BoolTensor": np.bool_}
    for name, dtype in expected.items():
        kind = getattr(mg, name)
        assert kind.dtype == dtype and kind(3).dtype == dtype and kind([1, 0]).dtype == dtype
    t = mg.tensor([1.0, 2.0])
    assert mg.FloatTensor(t) is t
    assert tuple(mg.FloatTensor(2, device="cpu").shape) == (2,)


def test_legacy_types_isinstance_by_dtype():
    assert isinstance(mg.zeros(2), mg.FloatTensor)
    assert not isinstance(mg.zeros(2), mg.DoubleTensor)
    assert isinstance(mg.zeros(2, dtype=mg.int64), mg.LongTensor)
    assert isinstance(mg.zeros(2, dtype=mg.int32), mg.IntTensor)
    assert isinstance(mg.tensor([True]), mg.BoolTensor)
    assert not isinstance(np.zeros(2, np.float32), mg.FloatTensor)
    assert type(mg.FloatTensor([1.0])) is mg.Tensor
    assert not issubclass(mg.FloatTensor, mg.Tensor)
    assert repr(mg.FloatTensor) == "<class 'minigrad.FloatTensor'>"


def test_legacy_type_errors():
    with pytest.raises(TypeError, match="Float"):
        mg.FloatTensor(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="ints"):
        mg.FloatTensor(2, "a")
    with pytest.raises(RuntimeError, match="negative"):
        mg.FloatTensor(-1)
    with pytest.raises(RuntimeError, match="cuda"):
        mg.FloatTensor(2, device="cuda")
    with pytest.raises(TypeError):
        mg.FloatTensor([1.0], dtype=mg.float64)


def test_tensor_type_names_and_converts():
    x = mg.tensor([1.5, -2.5])
    assert x.type() == "minigrad.FloatTensor"
    assert mg.zeros(1, dtype=mg.int64).type() == "minigrad.LongTensor"
    np.testing.assert_array_equal(x.type(mg.LongTensor).numpy(), np.array([1, -2]))
    assert x.type("torch.DoubleTensor").dtype == mg.float64
    assert x.type("minigrad.IntTensor").dtype == mg.int32
    assert x.type(mg.float64).dtype == mg.float64 and x.type("float64").dtype == mg.float64
    with pytest.raises(ValueError, match="invalid type"):
        x.type("foo")
    with pytest.raises(TypeError):
        x.type(3)


def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            mg.set_default_tensor_type(mg.DoubleTensor)
        assert mg.get_default_dtype() == mg.float64 and mg.tensor([1.0]).dtype == mg.float64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mg.set_default_tensor_type("torch.FloatTensor")
            assert mg.get_default_dtype() == mg.float32
            with pytest.raises(TypeError, match="floating-point"):
                mg.set_default_tensor_type(mg.LongTensor)
            with pytest.raises(TypeError, match="floating-point"):
                mg.set_default_tensor_type(mg.float64)
    finally:
        mg.set_default_dtype(mg.float32)


# ------------------------------------------------------------ a real tensor's answers
def test_complex_views_of_a_real_tensor_are_the_tensor():
    x = leaf([1.0, -2.0, 3.0])
    for f in (mg.conj, mg.resolve_conj, mg.resolve_neg, mg.conj_physical, mg.real):
        assert f(x) is x
    for m in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
        assert getattr(x, m)() is x
    assert x.real is x
    assert not mg.is_complex(x) and not x.is_complex() and not mg.is_conj(x) and not x.is_conj()
    assert not mg.is_neg(x) and not x.is_neg()
    assert not mg.is_complex(mg.tensor([1, 2]))
    np.testing.assert_array_equal(mg.real(mg.tensor([1, 2])).numpy(), [1, 2])
    (x.conj() * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_imag_raises_and_real_assignment_copies():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        x.imag
    with pytest.raises(RuntimeError, match="non-complex"):
        mg.imag(x)
    with pytest.raises(RuntimeError, match="non-complex"):
        x.imag = mg.zeros(2)
    x.real = mg.tensor([5.0, 6.0])
    np.testing.assert_array_equal(x.numpy(), [5.0, 6.0])
    with pytest.raises(TypeError, match="must be Tensor, not int"):
        mg.is_complex(1)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        mg.conj([1.0])


def test_conj_physical_inplace_bumps_version_and_refuses_leaves():
    x = mg.tensor([1.0, 2.0])
    before = x._version
    assert x.conj_physical_() is x and mg.conj_physical_(x) is x
    assert x._version == before + 2
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf([1.0]).conj_physical_()


def test_isreal_and_layout_flags():
    x = mg.tensor([1.0, np.inf, np.nan])
    np.testing.assert_array_equal(x.isreal().numpy(), [True, True, True])
    for flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested"):
        assert getattr(x, flag) is False
    assert x.is_pinned() is False
    with pytest.raises(RuntimeError, match="accelerator"):
        x.pin_memory()


def test_output_nr():
    a = leaf([1.0, 2.0, 3.0])
    assert a.output_nr == 0 and (a * 2).output_nr == 0

    class Halves(Function):
        @staticmethod
        def forward(ctx, x):
            return x[:1].clone(), x[1:].clone()

        @staticmethod
        def backward(ctx, g1, g2):
            return mg.cat([g1, g2])

    first, second = Halves.apply(a)
    assert (first.output_nr, second.output_nr) == (0, 1)


def test_new_empty_strided():
    x = mg.zeros(2, dtype=mg.float64)
    y = x.new_empty_strided((2, 3), (1, 2))
    assert tuple(y.shape) == (2, 3) and y.stride() == (1, 2) and y.dtype == mg.float64
    z = x.new_empty_strided((2, 3), (3, 1), dtype=mg.int64, requires_grad=False)
    assert z.dtype == mg.int64 and z.stride() == (3, 1) and not z.requires_grad
    assert x.new_empty_strided((2,), (1,), requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="mismatch"):
        x.new_empty_strided((2, 3), (1,))


def test_as_strided_inplace_is_a_view_of_the_same_memory():
    x = mg.arange(6.0)
    before = x._version
    assert mg.as_strided_(x, (2, 2), (1, 2), 1) is x
    np.testing.assert_array_equal(x.numpy(), [[1.0, 3.0], [2.0, 4.0]])
    assert x.stride() == (1, 2) and x._version == before + 1
    y = mg.arange(6.0)
    storage = y.array
    y.as_strided_((3,), (2,))
    storage[0] = 10.0
    np.testing.assert_array_equal(y.numpy(), [10.0, 2.0, 4.0])
    with pytest.raises(RuntimeError, match="out of bounds"):
        mg.arange(4.0).as_strided_((3,), (2,))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf([1.0, 2.0]).as_strided_((1,), (1,))


def test_as_strided_inplace_gradient():
    def f(a):
        b = a * 1.0
        b.as_strided_((2, 2), (1, 2), 1)
        return b * b
    assert mg.gradcheck(f, (leaf(np.random.default_rng(0).standard_normal(6)),))


def test_resize_as_():
    x = mg.arange(6.0)
    assert mg.resize_as_(x, mg.zeros(2, 2)) is x
    np.testing.assert_array_equal(x.numpy(), [[0.0, 1.0], [2.0, 3.0]])


def test_get_device_is_inference_cpu_module():
    x = mg.zeros(2)
    assert mg.get_device(x) == -1 and x.get_device() == -1
    assert mg.is_inference(x) is False and x.is_inference() is False
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.get_device(1)
    assert mg.cpu.is_available() and mg.cpu.is_initialized()
    assert mg.cpu.device_count() == 1 and mg.cpu.current_device() == "cpu"
    assert mg.cpu.synchronize() is None and mg.cpu.synchronize("cpu") is None and mg.cpu.set_device("cpu") is None


# ------------------------------------------------------------------ compile
def test_compile_returns_the_callable_running_eagerly():
    model = mg.nn.Linear(3, 2)
    assert mg.compile(model) is model
    assert mg.compile(model, fullgraph=True, dynamic=False, backend="eager", mode="max-autotune") is model
    assert mg.compile(model, options={"trace.enabled": False}, disable=True) is model

    @mg.compile
    def double(t):
        return t * 2

    @mg.compile(mode="reduce-overhead", backend=lambda gm, inputs: gm)
    def square(t):
        return t * t

    np.testing.assert_array_equal(double(mg.tensor([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(square(mg.tensor([3.0])).numpy(), [9.0])
    x = leaf([1.0, 2.0])
    double(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_compile_errors():
    with pytest.raises(RuntimeError, match="Unrecognized mode=foo"):
        mg.compile(abs, mode="foo")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        mg.compile(abs, mode="default", options={"a": 1})
    with pytest.raises(RuntimeError, match="Invalid backend: 'foo'"):
        mg.compile(abs, backend="foo")
    with pytest.raises(AssertionError, match="callable"):
        mg.compile(3)


# -------------------------------------------------------- top-level in-place functions
X = np.array([[0.2, -0.7, 0.45], [0.9, -0.1, 0.3]])

UNARY = {  # name: NumPy reference on X
    "abs_": np.abs, "acos_": np.arccos, "arccos_": np.arccos, "asin_": np.arcsin, "arcsin_": np.arcsin,
    "atan_": np.arctan, "arctan_": np.arctan, "atanh_": np.arctanh, "arctanh_": np.arctanh,
    "asinh_": np.arcsinh, "arcsinh_": np.arcsinh, "ceil_": np.ceil, "cos_": np.cos, "cosh_": np.cosh,
    "deg2rad_": np.deg2rad, "rad2deg_": np.rad2deg, "exp_": np.exp, "exp2_": np.exp2, "expm1_": np.expm1,
    "fix_": np.fix, "floor_": np.floor, "frac_": lambda v: v - np.trunc(v), "neg_": np.negative,
    "negative_": np.negative, "reciprocal_": lambda v: 1 / v, "relu_": lambda v: np.maximum(v, 0),
    "round_": np.round, "sigmoid_": lambda v: 1 / (1 + np.exp(-v)), "sin_": np.sin,
    "sinc_": np.sinc, "sinh_": np.sinh, "square_": np.square, "tan_": np.tan, "tanh_": np.tanh,
    "trunc_": np.trunc, "zero_": np.zeros_like, "selu_": lambda v: 1.0507009873554805 * np.where(
        v > 0, v, 1.6732632423543772 * np.expm1(v)),
    "erf_": lambda v: np.vectorize(math.erf)(v), "erfc_": lambda v: np.vectorize(math.erfc)(v),
    "i0_": np.i0,
}
POSITIVE = {  # on X + 2.0 (domain > 1)
    "log_": np.log, "log10_": np.log10, "log1p_": np.log1p, "log2_": np.log2, "sqrt_": np.sqrt,
    "rsqrt_": lambda v: 1 / np.sqrt(v), "acosh_": np.arccosh, "arccosh_": np.arccosh,
}


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(POSITIVE))
def test_unary_inplace_values_version_and_leaf_error(name):
    reference, values = (UNARY[name], X) if name in UNARY else (POSITIVE[name], X + 2.0)
    x = mg.tensor(values.copy())
    before = x._version
    out = getattr(mg, name)(x)
    assert out is x and x._version > before
    np.testing.assert_allclose(x.numpy(), reference(values), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(mg, name)(leaf(values))
    with mg.no_grad():  # inside no_grad a leaf may be changed
        changed = getattr(mg, name)(leaf(values))
    np.testing.assert_allclose(changed.detach().numpy(), reference(values), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sin_", "exp_", "tanh_", "sigmoid_", "square_", "sinc_", "selu_", "log1p_"])
def test_unary_inplace_gradient_through_non_leaf(name):
    def f(a):
        b = a * 1.0
        return getattr(mg, name)(b) * 3.0
    assert mg.gradcheck(f, (leaf(np.abs(X) + 0.1),))


def test_inplace_with_arguments():
    x = mg.tensor(X.copy())
    np.testing.assert_allclose(mg.clamp_(x, -0.5, 0.4).numpy(), np.clip(X, -0.5, 0.4))
    x = mg.tensor(X.copy())
    np.testing.assert_allclose(mg.clip_(x, max=0.3).numpy(), np.minimum(X, 0.3))
    np.testing.assert_allclose(mg.clamp_min_(mg.tensor(X.copy()), 0.25).numpy(), np.maximum(X, 0.25))
    np.testing.assert_allclose(mg.clamp_max_(mg.tensor(X.copy()), 0.25).numpy(), np.minimum(X, 0.25))
    np.testing.assert_allclose(mg.round_(mg.tensor([1.234, -5.678]), decimals=1).numpy(), [1.2, -5.7])
    p = np.array([0.2, 0.5, 0.9])
    np.testing.assert_allclose(mg.logit_(mg.tensor(p.copy())).numpy(), np.log(p / (1 - p)))
    np.testing.assert_allclose(mg.logit_(mg.tensor([0.0, 1.0]), eps=0.25).numpy(), np.log([1 / 3, 3]))
    np.testing.assert_allclose(mg.xlogy_(mg.tensor([0.0, 2.0]), mg.tensor([0.0, 3.0])).numpy(),
                               [0.0, 2 * np.log(3)])
    np.testing.assert_array_equal(mg.ldexp_(mg.tensor([1.0, 3.0]), mg.tensor([2, 3])).numpy(), [4.0, 24.0])
    np.testing.assert_array_equal(mg.gcd_(mg.tensor([12, 18]), mg.tensor([8, 27])).numpy(), [4, 9])
    np.testing.assert_array_equal(mg.lcm_(mg.tensor([4, 6]), mg.tensor([6, 4])).numpy(), [12, 12])
    np.testing.assert_array_equal(mg.nan_to_num_(mg.tensor([np.nan, np.inf, -np.inf, 1.0]), nan=2.0,
                                                 posinf=9.0, neginf=-9.0).numpy(), [2.0, 9.0, -9.0, 1.0])
    np.testing.assert_array_equal(mg.nan_to_num_(mg.tensor([np.nan]), nan=None).numpy(), [0.0])
    np.testing.assert_allclose(mg.celu_(mg.tensor([-1.0, 2.0]), alpha=2.0).numpy(), [2 * np.expm1(-0.5), 2.0])
    np.testing.assert_array_equal(mg.threshold_(mg.tensor([0.1, 0.5, 2.0]), 0.4, -1.0).numpy(), [-1.0, 0.5, 2.0])
    np.testing.assert_allclose(mg.rrelu_(mg.tensor([-3.0, 2.0])).numpy(), [-3.0 * (1 / 8 + 1 / 3) / 2, 2.0])
    np.testing.assert_array_equal(mg.fill_(mg.tensor([1.0, 2.0]), 7.0).numpy(), [7.0, 7.0])


def test_rrelu_inplace_training_uses_the_generator():
    values = np.array([-1.0, -2.0, 3.0, -4.0])
    first = mg.rrelu_(mg.tensor(values.copy()), 0.1, 0.3, True, generator=mg.Generator().manual_seed(5))
    second = mg.rrelu_(mg.tensor(values.copy()), 0.1, 0.3, True, generator=mg.Generator().manual_seed(5))
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    slopes = first.numpy()[[0, 1, 3]] / values[[0, 1, 3]]
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all() and first.numpy()[2] == 3.0


def test_fill_is_out_of_place():
    x = leaf([1.0, 2.0])
    y = mg.fill(x, 3.0)
    np.testing.assert_array_equal(y.detach().numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_detach_zero_index_put_addmv_inplace():
    a = leaf([1.0, 2.0])
    b = a * 2
    assert mg.detach_(b) is b and b.grad_fn is None and not b.requires_grad
    x = mg.zeros(3)
    mg.index_put_(x, (mg.tensor([0, 2]),), mg.tensor([5.0, 6.0]))
    np.testing.assert_array_equal(x.numpy(), [5.0, 0.0, 6.0])
    mg.index_put_(x, (mg.tensor([0, 0]),), mg.tensor([1.0, 1.0]), accumulate=True)
    np.testing.assert_array_equal(x.numpy(), [7.0, 0.0, 6.0])
    M, v, y = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0]), np.array([1.0, 2.0, 3.0])
    out = mg.addmv_(mg.tensor(y.copy()), mg.tensor(M), mg.tensor(v), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(out.numpy(), 0.5 * y + 2.0 * M @ v)

    def f(t, mat, vec):
        return mg.addmv_(t * 1.0, mat, vec, alpha=0.5)
    assert mg.gradcheck(f, (leaf(y), leaf(M), leaf(v)))


def test_dropout_inplace():
    x = mg.ones(200, 10, dtype=mg.float64)
    before = x._version
    assert mg.dropout_(x, 0.5, True) is x and x._version > before
    kept = x.numpy() != 0
    np.testing.assert_array_equal(x.numpy()[kept], 2.0)
    assert 0.3 < kept.mean() < 0.7
    y = mg.ones(4, 5)
    mg.dropout_(y, 0.5, False)
    np.testing.assert_array_equal(y.numpy(), np.ones((4, 5)))
    z = mg.ones(50, 8, 3, dtype=mg.float64)
    mg.feature_dropout_(z, 0.5, True)
    per_feature = z.numpy()
    assert (per_feature == per_feature[:, :, :1]).all()  # whole features dropped or kept
    assert set(np.unique(per_feature)) <= {0.0, 2.0}
    w = mg.ones(1000, dtype=mg.float64)
    mg.alpha_dropout_(w, 0.2, True)
    assert len(np.unique(w.numpy())) == 2  # kept ones and dropped ones, both affinely moved
    v = mg.ones(30, 6, 2, dtype=mg.float64)
    mg.feature_alpha_dropout_(v, 0.3, True)
    assert (v.numpy() == v.numpy()[:, :, :1]).all()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mg.dropout_(leaf(np.ones(3)), 0.5, True)


def test_embedding_renorm_():
    w = mg.tensor([[3.0, 4.0], [1.0, 0.0], [6.0, 8.0]])
    assert mg.embedding_renorm_(w, mg.tensor([0, 0, 1]), 1.0, 2.0) is w
    np.testing.assert_allclose(w.numpy(), [[0.6, 0.8], [1.0, 0.0], [6.0, 8.0]], rtol=1e-6)
    w = mg.tensor([[3.0, 4.0], [1.0, 1.0]])
    mg.embedding_renorm_(w, mg.tensor([0, 1]), 2.0, 1.0)  # L1 norms 7 and 2
    np.testing.assert_allclose(w.numpy(), [[6 / 7, 8 / 7], [1.0, 1.0]], rtol=1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mg.embedding_renorm_(leaf([[3.0, 4.0]]), mg.tensor([0]), 1.0, 2.0)
    out = mg.embedding_renorm_(leaf([[3.0, 4.0]]) * 1.0, mg.tensor([0]), 1.0, 2.0)
    with pytest.raises(NotImplementedError, match="embedding_renorm"):
        out.sum().backward()
    with pytest.raises(IndexError, match="out of bounds"):
        mg.embedding_renorm_(mg.zeros(2, 2), mg.tensor([2]), 1.0, 2.0)


def test_inplace_functions_refuse_non_tensors():
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        mg.sin_([1.0])
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.celu_(1.0)
