"""The in-place methods of minigrad/inplace_methods.py: values against NumPy, gradients through
the change (float64 finite differences on a non-leaf), version counters, PyTorch's errors."""
import math

import numpy as np
import pytest
from scipy import special

import minigrad
from minigrad import Tensor, gradcheck
from minigrad.inplace_methods import POINTWISE, RESTRIDE, ZERO_GRADIENT

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation"
INSIDE_ONE = np.array([-0.7, -0.2, 0.1, 0.45, 0.8])     # arcsin, arctanh, ... domain
POSITIVE = np.array([0.3, 0.9, 1.7, 2.5, 4.0])
ABOVE_ONE = np.array([1.2, 1.5, 2.0, 3.0, 5.5])
MIXED = np.array([-2.7, -1.5, -0.3, 0.4, 1.5, 2.5, 3.6])  # away from rounding's jumps


def _sign(x):
    return np.sign(x)


# name: (arguments, NumPy reference, input values, differentiable)
UNARY = {
    "acos_": ((), np.arccos, INSIDE_ONE, True), "arccos_": ((), np.arccos, INSIDE_ONE, True),
    "asin_": ((), np.arcsin, INSIDE_ONE, True), "arcsin_": ((), np.arcsin, INSIDE_ONE, True),
    "atan_": ((), np.arctan, MIXED, True), "arctan_": ((), np.arctan, MIXED, True),
    "atanh_": ((), np.arctanh, INSIDE_ONE, True), "arctanh_": ((), np.arctanh, INSIDE_ONE, True),
    "acosh_": ((), np.arccosh, ABOVE_ONE, True), "arccosh_": ((), np.arccosh, ABOVE_ONE, True),
    "asinh_": ((), np.arcsinh, MIXED, True), "arcsinh_": ((), np.arcsinh, MIXED, True),
    "cos_": ((), np.cos, MIXED, True), "cosh_": ((), np.cosh, MIXED, True),
    "sin_": ((), np.sin, MIXED, True), "sinh_": ((), np.sinh, MIXED, True),
    "tan_": ((), np.tan, INSIDE_ONE, True),
    "deg2rad_": ((), np.deg2rad, MIXED * 60, True), "rad2deg_": ((), np.rad2deg, MIXED, True),
    "erf_": ((), special.erf, MIXED, True), "erfc_": ((), special.erfc, MIXED, True),
    "exp2_": ((), np.exp2, MIXED, True), "expm1_": ((), np.expm1, MIXED, True),
    "log10_": ((), np.log10, POSITIVE, True), "log1p_": ((), np.log1p, POSITIVE, True),
    "log2_": ((), np.log2, POSITIVE, True), "rsqrt_": ((), lambda x: 1 / np.sqrt(x), POSITIVE, True),
    "reciprocal_": ((), lambda x: 1 / x, POSITIVE, True), "square_": ((), np.square, MIXED, True),
    "logit_": ((), lambda p: np.log(p / (1 - p)), INSIDE_ONE / 2 + 0.5, True),
    "frac_": ((), lambda x: x - np.trunc(x), MIXED, True),
    "negative_": ((), np.negative, MIXED, True), "absolute_": ((), np.abs, MIXED, True),
    "sign_": ((), _sign, MIXED, True), "sgn_": ((), _sign, MIXED, True),
    "ceil_": ((), np.ceil, MIXED, True), "floor_": ((), np.floor, MIXED, True),
    "trunc_": ((), np.trunc, MIXED, True), "fix_": ((), np.trunc, MIXED, True),
    "round_": ((), np.round, np.array([-2.7, -1.2, -0.3, 0.4, 1.2, 3.6]), True),
}


def nonleaf(values):
    """A float64 leaf and x * 1, a non-leaf copy of it that may change in place."""
    x = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    return x, x * 1


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_inplace_values_match_numpy(name, dtype):
    args, reference, values, _ = UNARY[name]
    t = Tensor(values.astype(dtype))
    memory = t.array
    assert getattr(t, name)(*args) is t
    assert t.array is memory and t.dtype == dtype and t._version == 1
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(t.array, reference(values.astype(dtype)), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if UNARY[n][3]))
def test_unary_inplace_gradients_on_a_non_leaf(name):
    args, _, values, _ = UNARY[name]

    def changed(x):
        y = x * 1
        getattr(y, name)(*args)
        return y
    assert gradcheck(changed, (Tensor(values.astype(np.float64), requires_grad=True),))


def test_gradients_are_the_derivative_of_the_new_values():
    x, y = nonleaf([0.5, 1.25])
    y.sin_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, np.cos([0.5, 1.25]), rtol=1e-12)
    x, y = nonleaf([0.5, 1.25])
    y.mul_(3).sqrt_().exp2_()                 # chained: exp2(sqrt(3 x))
    y.sum().backward()
    s = np.sqrt(3 * np.array([0.5, 1.25]))
    np.testing.assert_allclose(x.grad.array, np.exp2(s) * math.log(2) * 3 / (2 * s), rtol=1e-12)
    x, y = nonleaf([-1.5, 0.5, 2.5])
    y.floor_()                               # rounding: gradient 0, still part of the graph
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0, 0.0])


def test_round_decimals_and_logit_eps_and_nan_to_num():
    t = Tensor(np.array([1.2345, -2.3456, 0.125]))
    t.round_(decimals=2)
    np.testing.assert_allclose(t.array, [1.23, -2.35, 0.12])
    t = Tensor(np.array([0.5, 1.5, 2.5, -2.5]))
    t.round_()                               # half to even, as PyTorch
    np.testing.assert_array_equal(t.array, [0.0, 2.0, 2.0, -2.0])
    with pytest.raises(TypeError):
        Tensor(np.array([1.5])).round_(1)    # decimals is keyword-only, as in PyTorch
    p = Tensor(np.array([0.0, 0.3, 1.0]))
    p.logit_(eps=0.1)
    np.testing.assert_allclose(p.array, np.log(np.array([0.1, 0.3, 0.9]) / (1 - np.array([0.1, 0.3, 0.9]))))
    n = Tensor(np.array([np.nan, np.inf, -np.inf, 2.0]))
    n.nan_to_num_(nan=1.0, posinf=9.0, neginf=-9.0)
    np.testing.assert_array_equal(n.array, [1.0, 9.0, -9.0, 2.0])
    big = Tensor(np.array([np.inf, -np.inf], dtype=np.float32))
    big.nan_to_num_()
    np.testing.assert_array_equal(big.array, [np.finfo(np.float32).max, np.finfo(np.float32).min])
    x, y = nonleaf([0.2, 0.7])
    y.logit_(eps=0.25)                       # clamped below: gradient 0 there
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [0.0, 1 / (0.7 * 0.3)], rtol=1e-12)


# ------------------------------------------------------------------ integer tensors
FLOAT_RESULT = ["acos_", "asin_", "atan_", "sin_", "cos_", "tan_", "sinh_", "cosh_", "erf_", "erfc_",
                "exp2_", "expm1_", "log10_", "log1p_", "log2_", "rsqrt_", "reciprocal_", "deg2rad_",
                "rad2deg_", "logit_", "atanh_", "acosh_", "asinh_"]


@pytest.mark.parametrize("name", FLOAT_RESULT)
def test_float_results_do_not_fit_an_int_tensor(name):
    n = Tensor(np.array([1, 2, 3]))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"), \
            np.errstate(all="ignore"):
        getattr(n, name)()
    np.testing.assert_array_equal(n.array, [1, 2, 3])
    assert n._version == 0


@pytest.mark.parametrize("name, reference", [
    ("square_", np.square), ("sign_", np.sign), ("sgn_", np.sign), ("ceil_", np.ceil),
    ("floor_", np.floor), ("trunc_", np.trunc), ("fix_", np.trunc), ("round_", np.round),
    ("negative_", np.negative), ("absolute_", np.abs), ("bitwise_not_", np.invert),
    ("nan_to_num_", lambda a: a)])
def test_integer_preserving_ops_change_int_tensors(name, reference):
    a = np.array([-3, 0, 2, 7])
    n = Tensor(a.copy())
    getattr(n, name)()
    assert n.dtype == np.int64
    np.testing.assert_array_equal(n.array, reference(a))


def test_bool_tensor_refuses_an_integer_result():
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        Tensor(np.array([True, False])).add_(1)


# ------------------------------------------------------------------------- binary
A = np.array([[5.5, -7.25, 3.0], [-1.5, 4.0, 9.0]])
B = np.array([2.0, 3.0, -2.5])

BINARY = {
    "fmod_": ((Tensor(B),), lambda a: np.fmod(a, B)),
    "remainder_": ((Tensor(B),), lambda a: np.remainder(a, B)),
    "atan2_": ((Tensor(B),), lambda a: np.arctan2(a, B)),
    "arctan2_": ((Tensor(B),), lambda a: np.arctan2(a, B)),
    "multiply_": ((Tensor(B),), lambda a: a * B),
    "divide_": ((Tensor(B),), lambda a: a / B),
    "subtract_": ((Tensor(B),), lambda a: a - B),
    "fmod_number": ((1.5,), lambda a: np.fmod(a, 1.5)),
    "remainder_number": ((-1.5,), lambda a: np.remainder(a, -1.5)),
}


@pytest.mark.parametrize("key", sorted(BINARY))
def test_binary_inplace_values_match_numpy(key):
    name = key if key.endswith("_") else key.split("_")[0] + "_"
    args, reference = BINARY[key]
    t = Tensor(A.copy())
    assert getattr(t, name)(*args) is t and t._version == 1
    np.testing.assert_allclose(t.array, reference(A), rtol=1e-12)


def test_binary_keyword_arguments():
    t = Tensor(A.copy())
    t.subtract_(Tensor(B), alpha=2)
    np.testing.assert_allclose(t.array, A - 2 * B)
    t = Tensor(A.copy())
    t.divide_(Tensor(B), rounding_mode="floor")
    np.testing.assert_allclose(t.array, np.floor(A / B))
    t = Tensor(A.copy())
    t.divide_(Tensor(B), rounding_mode="trunc")
    np.testing.assert_allclose(t.array, np.trunc(A / B))
    n = Tensor(np.array([7, -7, 9]))
    n.divide_(2, rounding_mode="floor")      # integer division keeps int64
    np.testing.assert_array_equal(n.array, [3, -4, 4])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        Tensor(np.array([7, 8])).divide_(2)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        Tensor(np.array([7, 8])).fmod_(1.5)


@pytest.mark.parametrize("name", ["fmod_", "remainder_", "atan2_", "arctan2_", "multiply_", "divide_",
                                  "subtract_"])
def test_binary_inplace_gradients_reach_both_operands(name):
    def changed(a, b):
        y = a * 1
        getattr(y, name)(b)
        return y
    a = Tensor(A.copy(), requires_grad=True)
    b = Tensor(B.copy(), requires_grad=True)
    assert gradcheck(changed, (a, b))


@pytest.mark.parametrize("name, reference", [
    ("bitwise_and_", np.bitwise_and), ("bitwise_or_", np.bitwise_or), ("bitwise_xor_", np.bitwise_xor),
    ("bitwise_left_shift_", np.left_shift), ("bitwise_right_shift_", np.right_shift)])
def test_bitwise_inplace_matches_numpy(name, reference):
    a, b = np.array([12, 5, 255, 1024]), np.array([10, 3, 4, 2])
    n = Tensor(a.copy())
    getattr(n, name)(Tensor(b))
    np.testing.assert_array_equal(n.array, reference(a, b))
    assert n.dtype == np.int64 and n._version == 1
    with pytest.raises(TypeError, match="integer and bool"):
        getattr(Tensor(np.array([1.0, 2.0])), name)(Tensor(np.array([1.0, 1.0])))


# ---------------------------------------------------------- comparisons, logical
COMPARE = {"eq_": np.equal, "ne_": np.not_equal, "lt_": np.less, "le_": np.less_equal,
           "gt_": np.greater, "ge_": np.greater_equal, "greater_": np.greater,
           "greater_equal_": np.greater_equal, "less_": np.less, "less_equal_": np.less_equal,
           "not_equal_": np.not_equal}
LOGICAL = {"logical_and_": np.logical_and, "logical_or_": np.logical_or, "logical_xor_": np.logical_xor}


@pytest.mark.parametrize("name", sorted(COMPARE) + sorted(LOGICAL))
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_comparisons_write_zero_one_in_the_tensors_dtype(name, dtype):
    a = np.array([[0, 1, 2], [3, 0, 5]]).astype(dtype)
    b = np.array([1, 1, 0]).astype(dtype)
    t = Tensor(a.copy())
    assert getattr(t, name)(Tensor(b)) is t and t._version == 1
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.array, (COMPARE | LOGICAL)[name](a, b).astype(dtype))


def test_comparison_with_a_number_and_logical_not():
    t = Tensor(np.array([1.5, 2.0, 2.5]))
    t.ge_(2)
    np.testing.assert_array_equal(t.array, [0.0, 1.0, 1.0])
    t = Tensor(np.array([0.0, -2.0, 3.0]))
    t.logical_not_()
    np.testing.assert_array_equal(t.array, [1.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        Tensor(np.ones(3)).ne_(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name", ["eq_", "lt_", "not_equal_", "logical_and_", "logical_not_"])
def test_comparisons_on_a_non_leaf_have_zero_gradient(name):
    x, y = nonleaf([0.0, 1.0, 2.0])
    args = () if name == "logical_not_" else (Tensor(np.array([1.0, 1.0, 0.0])),)
    getattr(y, name)(*args)
    assert y.requires_grad and y.grad_fn is not None
    (y * Tensor(np.array([3.0, 4.0, 5.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0, 0.0])


# ------------------------------------------------------------ shape changes (views)
@pytest.mark.parametrize("name, args, reference", [
    ("t_", (), lambda a: a.T), ("transpose_", (0, 2), lambda a: a.transpose(2, 1, 0)),
    ("swapaxes_", (1, -1), lambda a: a.swapaxes(1, 2)), ("swapdims_", (0, 1), lambda a: a.swapaxes(0, 1)),
    ("squeeze_", (), np.squeeze), ("squeeze_", (1,), lambda a: a.squeeze(1)),
    ("unsqueeze_", (1,), lambda a: np.expand_dims(a, 1)), ("unsqueeze_", (-1,), lambda a: a[..., None])])
def test_shape_changes_in_place_share_memory_and_bump_the_version(name, args, reference):
    shape = (2, 3) if name == "t_" else (2, 1, 3) if name == "squeeze_" else (2, 3, 4)
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    t = Tensor(a.copy())
    view = t.reshape(-1)                      # another tensor on the same memory
    assert getattr(t, name)(*args) is t
    np.testing.assert_array_equal(t.array, reference(a))
    assert view.shape == (a.size,)            # the other view keeps its shape
    assert t._version == 1 and view._version == 1
    view.array[0] = -1.0                      # still the same memory
    assert t.array.flat[0] == -1.0 if name != "t_" else t.array[0, 0] == -1.0


def test_t_of_small_tensors_and_errors():
    v = Tensor(np.array([1.0, 2.0]))
    v.t_()
    assert v.shape == (2,) and v._version == 1
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions, but self is 3D"):
        Tensor(np.ones((2, 2, 2))).t_()
    with pytest.raises(IndexError):
        Tensor(np.ones((2, 2))).unsqueeze_(5)


@pytest.mark.parametrize("name, args", [("t_", ()), ("transpose_", (0, 1)), ("swapdims_", (1, 0)),
                                        ("unsqueeze_", (0,)), ("squeeze_", ())])
def test_shape_changes_of_a_non_leaf_differentiate(name, args):
    weights = np.arange(6.0)

    def changed(x):
        y = x * 1
        getattr(y, name)(*args)
        return y.reshape(-1) * Tensor(weights)
    x = Tensor(np.arange(6.0).reshape(2, 3) / 7, requires_grad=True)
    assert gradcheck(changed, (x,))
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    y = x * 1
    y.t_()
    (y * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.arange(6.0).reshape(3, 2).T)


# ---------------------------------------------------------------- scans, triangles
@pytest.mark.parametrize("name, reference", [("cumsum_", np.cumsum), ("cumprod_", np.cumprod)])
def test_scans_in_place(name, reference):
    a = np.array([[1.5, -2.0, 3.0], [0.5, 2.0, -1.0]])
    for dim in (0, 1, -1):
        t = Tensor(a.copy())
        getattr(t, name)(dim)
        np.testing.assert_allclose(t.array, reference(a, axis=dim))
    t = Tensor(a.copy())
    getattr(t, name)(dim=1, dtype=minigrad.float64)   # the tensor's own dtype is accepted
    np.testing.assert_allclose(t.array, reference(a, axis=1))
    with pytest.raises(RuntimeError, match="Bad in-place call"):
        getattr(Tensor(np.array([1, 2])), name)(0, dtype=minigrad.float32)

    def changed(x):
        y = x * 1
        getattr(y, name)(1)
        return y
    assert gradcheck(changed, (Tensor(a.copy(), requires_grad=True),))


@pytest.mark.parametrize("name, reference", [("tril_", np.tril), ("triu_", np.triu)])
def test_triangles_in_place(name, reference):
    a = np.arange(1.0, 13.0).reshape(3, 4)
    for diagonal in (-1, 0, 2):
        t = Tensor(a.copy())
        getattr(t, name)(diagonal)
        np.testing.assert_array_equal(t.array, reference(a, diagonal))
    t = Tensor(a.copy())
    getattr(t, name)(diagonal=1)
    np.testing.assert_array_equal(t.array, reference(a, 1))
    x, y = nonleaf(a)
    getattr(y, name)()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, reference(np.ones_like(a)))


# ------------------------------------------------------------------------ scatters
def _scatter_reference(a, dim, index, src, combine):
    out = a.copy()
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[dim] = index[position]
        out[tuple(target)] = combine(out[tuple(target)], src[position])
    return out


def test_scatters_in_place_match_a_loop():
    a = np.arange(12.0).reshape(3, 4)
    index = np.array([[2, 0, 1, 2], [0, 0, 2, 1]])
    src = np.array([[10.0, 20.0, 30.0, 40.0], [50.0, 60.0, 70.0, 80.0]])
    t = Tensor(a.copy())
    t.scatter_(0, Tensor(index), Tensor(src))
    np.testing.assert_array_equal(t.array, _scatter_reference(a, 0, index, src, lambda old, new: new))
    t = Tensor(a.copy())
    t.scatter_(0, Tensor(index), value=-1.0)
    np.testing.assert_array_equal(t.array, _scatter_reference(a, 0, index, np.full(index.shape, -1.0),
                                                              lambda old, new: new))
    t = Tensor(a.copy())
    t.scatter_add_(0, Tensor(index), Tensor(src))
    np.testing.assert_array_equal(t.array, _scatter_reference(a, 0, index, src, np.add))
    t = Tensor(a.copy())
    t.scatter_reduce_(0, Tensor(index), Tensor(src), "amax")
    np.testing.assert_array_equal(t.array, _scatter_reference(a, 0, index, src, max))
    t = Tensor(a.copy())
    t.scatter_reduce_(0, Tensor(index), Tensor(src), "prod", include_self=True)
    np.testing.assert_array_equal(t.array, _scatter_reference(a, 0, index, src, np.multiply))
    assert t._version == 1


def test_scatter_add_in_place_differentiates_self_and_src():
    index = Tensor(np.array([[2, 0, 1], [0, 0, 2]]))

    def changed(a, src):
        y = a * 1
        y.scatter_add_(0, index, src)
        return y
    a = Tensor(np.arange(9.0).reshape(3, 3) / 5, requires_grad=True)
    src = Tensor(np.arange(6.0).reshape(2, 3) / 3, requires_grad=True)
    assert gradcheck(changed, (a, src))
    y = Tensor(np.zeros((3, 3)))             # a plain tensor: src's gradient alone makes it recorded
    y.scatter_(0, index, src)
    assert y.requires_grad
    (y * Tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    np.testing.assert_array_equal(src.grad.array, [[6.0, 1.0, 5.0], [0.0, 1.0, 8.0]])


# --------------------------------------------------------------- leaves, no_grad
ALL_NAMES = sorted({n + "_" for n in POINTWISE + ZERO_GRADIENT + RESTRIDE} | {"cumsum_", "cumprod_"})
ARGUMENTS = {
    "scatter_": (0, Tensor(np.array([0, 1])), Tensor(np.array([1.0, 2.0]))),
    "scatter_add_": (0, Tensor(np.array([0, 1])), Tensor(np.array([1.0, 2.0]))),
    "scatter_reduce_": (0, Tensor(np.array([0, 1])), Tensor(np.array([1.0, 2.0])), "sum"),
    "transpose_": (0, 0), "swapaxes_": (0, 0), "swapdims_": (0, 0), "unsqueeze_": (0,),
    "cumsum_": (0,), "cumprod_": (0,),
}
NEEDS_OTHER = {"atan2_", "arctan2_", "fmod_", "remainder_", "multiply_", "divide_", "subtract_", "eq_",
               "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
               "not_equal_", "logical_and_", "logical_or_", "logical_xor_"}
INTEGER_ONLY = {"bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_", "bitwise_left_shift_",
                "bitwise_right_shift_"}


def _arguments(name):
    return ARGUMENTS.get(name, (Tensor(np.array([2.0, 3.0])),) if name in NEEDS_OTHER else ())


@pytest.mark.parametrize("name", [n for n in ALL_NAMES if n not in INTEGER_ONLY])
def test_every_inplace_method_refuses_a_leaf_that_requires_grad(name):
    values = np.array([[0.25, 0.5], [0.75, 1.0]]) if name in ("tril_", "triu_") else np.array([0.25, 0.5])
    w = Tensor(values.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        getattr(w, name)(*_arguments(name))
    np.testing.assert_array_equal(w.array, values)
    assert w.shape == values.shape and w._version == 0
    with minigrad.no_grad():                 # an optimizer-style update is allowed
        assert getattr(w, name)(*_arguments(name)) is w
    assert w.is_leaf and w.requires_grad and w._version == 1


def test_every_name_of_the_tables_is_a_tensor_method():
    for name in ALL_NAMES + ["round_", "t_"]:
        method = getattr(Tensor, name)
        assert callable(method) and method.__name__ == name
    assert len(ALL_NAMES) >= 80


def test_backward_refuses_a_saved_value_an_inplace_change_overwrote():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = x.exp()                              # exp saves its output y for backward
    y.sin_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = x * 2                                # mul saves only its inputs: y may change
    y.sin_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, 2 * np.cos(2 * np.array([0.5, 1.5])), rtol=1e-12)
