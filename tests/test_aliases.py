"""PyTorch's other names and small utilities (minigrad/ops/aliases.py and their Tensor methods)."""
import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck

A = np.array([[1.5, -2.0, 3.0], [0.0, 2.0, -1.0]])
B = np.array([1.5, 2.0, -4.0])


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal, "greater": np.greater, "greater_equal": np.greater_equal,
               "less": np.less, "less_equal": np.less_equal, "not_equal": np.not_equal}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_as_functions_and_methods(name):
    a, b = Tensor(A), Tensor(B)
    expected = COMPARISONS[name](A, B)
    for result in (getattr(minigrad, name)(a, b), getattr(a, name)(b)):
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.array, expected)
    np.testing.assert_array_equal(getattr(minigrad, name)(a, 2.0).array, COMPARISONS[name](A, 2.0))
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' \(position 1\) must be Tensor, not int"):
        getattr(minigrad, name)(2, a)


@pytest.mark.parametrize("name, reference", [("neg", np.negative), ("negative", np.negative),
                                             ("absolute", np.abs), ("sgn", np.sign),
                                             ("deg2rad", lambda a: a * math.pi / 180),
                                             ("rad2deg", lambda a: a * 180 / math.pi)])
def test_unary_aliases_values_and_gradients(name, reference):
    a = A + 0.25                             # away from abs's and sign's kink at 0
    x = Tensor(a.copy())
    for result in (getattr(minigrad, name)(x), getattr(x, name)()):
        np.testing.assert_allclose(result.array, reference(a), rtol=1e-12)
    assert gradcheck(lambda t: getattr(minigrad, name)(t), (leaf(a),))
    assert gradcheck(lambda t: getattr(t, name)(), (leaf(a),))


def test_deg2rad_of_integers_is_float32_and_exact_angles():
    out = minigrad.deg2rad(Tensor(np.array([0, 90, 180, -360])))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, [0.0, math.pi / 2, math.pi, -2 * math.pi], rtol=1e-6)
    back = minigrad.rad2deg(Tensor(np.array([math.pi, -math.pi / 4])))
    np.testing.assert_allclose(back.array, [180.0, -45.0], rtol=1e-12)
    x = leaf([30.0])
    minigrad.deg2rad(x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [math.pi / 180], rtol=1e-15)


def test_positive_is_the_input_and_bool_tensors_refuse_signs():
    x = Tensor(A)
    assert minigrad.positive(x) is x and x.positive() is x
    mask = Tensor(np.array([True, False]))
    with pytest.raises(RuntimeError, match=r"The `\+` operator, on a bool tensor is not supported."):
        mask.positive()
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor is not supported"):
        minigrad.negative(mask)
    with pytest.raises(RuntimeError, match="Negation"):
        mask.negative()


def test_pow_clone_detach_ravel_clamp_functions():
    x = leaf(A)
    np.testing.assert_allclose(minigrad.pow(x, 2).array, A ** 2)
    np.testing.assert_allclose(minigrad.pow(2, x).array, 2.0 ** A)
    assert gradcheck(lambda t: minigrad.pow(3, t), (leaf(A),))
    copy = minigrad.clone(x)
    assert copy.array is not x.array and copy.grad_fn is not None
    np.testing.assert_array_equal(copy.array, A)
    cut = minigrad.detach(x)
    assert cut.array is x.array and not cut.requires_grad
    flat = minigrad.ravel(Tensor(A))
    assert flat.shape == (6,)
    np.testing.assert_array_equal(flat.array, A.ravel())
    np.testing.assert_array_equal(Tensor(A).t().ravel().array, A.T.ravel())   # a copy when it must be
    np.testing.assert_array_equal(minigrad.clamp_min(Tensor(A), 0.5).array, np.maximum(A, 0.5))
    np.testing.assert_array_equal(minigrad.clamp_max(Tensor(A), Tensor(B)).array, np.minimum(A, B))
    assert gradcheck(lambda t: minigrad.clamp_min(t, 0.7), (leaf(A),))


def test_rsub_is_other_minus_alpha_times_input():
    np.testing.assert_allclose(minigrad.rsub(Tensor(A), Tensor(B)).array, B - A)
    np.testing.assert_allclose(minigrad.rsub(Tensor(A), 2, alpha=3).array, 2 - 3 * A)
    a, b = leaf(A), leaf(B)
    minigrad.rsub(a, b, alpha=2).sum().backward()
    np.testing.assert_array_equal(a.grad.array, np.full(A.shape, -2.0))
    np.testing.assert_array_equal(b.grad.array, [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported"):
        minigrad.rsub(Tensor(np.array([True])), Tensor(np.array([True])))


def test_vdot_inner_ger():
    u, v = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, 2.0])
    assert minigrad.vdot(Tensor(u), Tensor(v)).item() == pytest.approx(np.vdot(u, v))
    assert Tensor(u).vdot(Tensor(v)).item() == pytest.approx(np.vdot(u, v))
    assert gradcheck(minigrad.vdot, (leaf(u), leaf(v)))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        minigrad.vdot(Tensor(A), Tensor(u))
    with pytest.raises(RuntimeError, match="expected both vectors to have same dtype, but found Float and Double"):
        minigrad.vdot(Tensor(u.astype(np.float32)), Tensor(v))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        minigrad.vdot(Tensor(u), Tensor(v[:2]))
    m = np.arange(12.0).reshape(4, 3) / 5
    np.testing.assert_allclose(minigrad.inner(Tensor(A), Tensor(m)).array, np.inner(A, m))
    np.testing.assert_allclose(Tensor(A).inner(Tensor(u)).array, np.inner(A, u))
    assert Tensor(u).inner(Tensor(v)).item() == pytest.approx(np.inner(u, v))
    np.testing.assert_allclose(minigrad.inner(Tensor(np.array(2.0)), Tensor(m)).array, 2 * m)
    assert gradcheck(minigrad.inner, (leaf(A), leaf(m)))
    with pytest.raises(RuntimeError, match=r"the last dimension must match .* shapes \[3\] and \[2\]"):
        minigrad.inner(Tensor(u), Tensor(v[:2]))
    np.testing.assert_allclose(Tensor(u).ger(Tensor(v[:2])).array, np.outer(u, v[:2]))


def test_ndimension_nelement_mH_H():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.ndimension() == 3 and x.nelement() == 24
    np.testing.assert_array_equal(x.mH.array, np.swapaxes(x.array, -1, -2))
    np.testing.assert_array_equal(Tensor(A).H.array, A.T)
    with pytest.raises(RuntimeError, match="tensor.mH is only supported on matrices or batches of matrices. Got 1-D"):
        Tensor(B).mH
    with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices .* Got 1-D tensor"):
        Tensor(B).H
    with pytest.raises(RuntimeError, match="Got 3-D tensor. For batches of matrices, consider using tensor.mH"):
        x.H
    with pytest.warns(UserWarning, match="deprecated on 0-D"):
        scalar = Tensor(np.array(2.0))
        assert scalar.H is scalar
    w = leaf(A)
    (w.mH * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(w.grad.array, np.arange(6.0).reshape(3, 2).T)


def test_is_nonzero_is_same_size_is_signed():
    assert minigrad.is_nonzero(Tensor(np.array([2.5]))) is True
    assert Tensor(np.array(0)).is_nonzero() is False
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        minigrad.is_nonzero(Tensor(np.array([])))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        minigrad.is_nonzero(Tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="must be Tensor, not int"):
        minigrad.is_nonzero(3)
    assert minigrad.is_same_size(Tensor(A), Tensor(A * 2)) and not Tensor(B).is_same_size(Tensor(B[:, None]))
    signs = {dtype: minigrad.is_signed(minigrad.zeros(2, dtype=dtype)) for dtype in
             (minigrad.uint8, minigrad.bool, minigrad.int8, minigrad.int64, minigrad.float16, minigrad.float32)}
    assert signs == {minigrad.uint8: False, minigrad.bool: False, minigrad.int8: True, minigrad.int64: True,
                     minigrad.float16: True, minigrad.float32: True}
    assert minigrad.zeros(1).is_signed() and not minigrad.zeros(1, dtype=minigrad.uint8).is_signed()


def test_typename():
    assert minigrad.typename(minigrad.zeros(2)) == "minigrad.FloatTensor"
    assert minigrad.typename(minigrad.zeros(2, dtype=minigrad.int64)) == "minigrad.LongTensor"
    assert minigrad.typename(minigrad.zeros(2, dtype=minigrad.bool)) == "minigrad.BoolTensor"
    assert minigrad.typename(3) == "int"
    assert minigrad.typename(minigrad.nn.Linear(2, 2)) == "minigrad.nn.modules.linear.Linear"
    assert minigrad.typename(minigrad.nn.Linear) == "minigrad.nn.modules.linear.Linear"
    assert minigrad.typename(np.zeros) == "numpy.zeros"


def test_split_with_sizes():
    x = Tensor(np.arange(10.0).reshape(2, 5))
    pieces = minigrad.split_with_sizes(x, [1, 4], dim=1)
    assert [p.shape for p in pieces] == [(2, 1), (2, 4)]
    np.testing.assert_array_equal(pieces[1].array, x.array[:, 1:])
    pieces = x.split_with_sizes([2, 0, 3], dim=-1)
    assert [p.shape[1] for p in pieces] == [2, 0, 3]
    with pytest.raises(RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly to 5 \(input "
                                           r"tensor's size at dimension 1\), but got split_sizes=\[2, 2\]"):
        minigrad.split_with_sizes(x, [2, 2], dim=1)
    with pytest.raises(RuntimeError, match="only non-negative entries"):
        minigrad.split_with_sizes(x, [3, -1, 3], 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        minigrad.split_with_sizes(x, [2], dim=2)
    w = leaf(np.arange(10.0).reshape(2, 5))
    first, second = w.split_with_sizes([2, 3], 1)
    (first.sum() * 2 + second.sum() * 3).backward()
    np.testing.assert_array_equal(w.grad.array, [[2, 2, 3, 3, 3]] * 2)


def test_range_is_inclusive_float_and_deprecated():
    with pytest.warns(UserWarning, match="minigrad.range is deprecated"):
        r = minigrad.range(1, 4)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.array, [1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(minigrad.range(0, 1, 0.3).array, [0.0, 0.3, 0.6, 0.9], rtol=1e-6)
        assert minigrad.range(0, 1, 0.1).shape == (11,)
        np.testing.assert_array_equal(minigrad.range(4, 1, -1).array, [4.0, 3.0, 2.0, 1.0])
        ints = minigrad.range(1, 7, 2, dtype=minigrad.int64)
        assert ints.dtype == np.int64 and ints.tolist() == [1, 3, 5, 7]
        assert minigrad.range(1, 3, dtype=minigrad.float64, requires_grad=True).requires_grad
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            minigrad.range(1, 4, 0)
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
            minigrad.range(4, 1)
        with pytest.raises(TypeError, match="missing 1 required positional arguments"):
            minigrad.range(5)


def test_scalar_tensor():
    s = minigrad.scalar_tensor(3)
    assert s.shape == () and s.dtype == np.float32 and s.item() == 3.0
    assert minigrad.scalar_tensor(True).item() == 1.0
    n = minigrad.scalar_tensor(2, dtype=minigrad.int64)
    assert n.dtype == np.int64 and n.item() == 2
    assert minigrad.scalar_tensor(1.5, dtype=minigrad.float64, requires_grad=True).requires_grad
    assert minigrad.scalar_tensor(Tensor(np.array(2.5))).item() == 2.5
    with pytest.raises(TypeError, match="argument 's' \\(position 1\\) must be Number, not list"):
        minigrad.scalar_tensor([1])


def test_asarray_shares_or_copies_as_asked():
    array = np.arange(3.0)
    shared = minigrad.asarray(array)
    assert shared.dtype == np.float64 and np.shares_memory(shared.array, array)
    copied = minigrad.asarray(array, copy=True)
    assert not np.shares_memory(copied.array, array)
    np.testing.assert_array_equal(copied.array, array)
    cast = minigrad.asarray(array, dtype=minigrad.float32)
    assert cast.dtype == np.float32
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'Double' into dtype 'Float'"):
        minigrad.asarray(array, dtype=minigrad.float32, copy=False)
    t = minigrad.ones(3)
    assert minigrad.asarray(t) is t and minigrad.asarray(t, dtype=minigrad.float32) is t
    assert minigrad.asarray(t, dtype=minigrad.float64).dtype == np.float64
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'Long' into dtype 'Float'"):
        minigrad.asarray(minigrad.ones(3, dtype=minigrad.int64), dtype=minigrad.float32, copy=False)
    assert minigrad.asarray([1, 2]).dtype == np.int64 and minigrad.asarray([1.0, 2]).dtype == np.float32
    assert minigrad.asarray(3.5).shape == () and minigrad.asarray(np.float64(3.5)).dtype == np.float64
    with pytest.raises(ValueError, match="can't alias arbitrary sequence into a tensor."):
        minigrad.asarray([1, 2], copy=False)
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.asarray([1, 2], requires_grad=True)
    g = leaf([1.0, 2.0])
    h = g * 2
    assert minigrad.asarray(h) is h          # the graph stays: no detach
    c = minigrad.asarray(h, copy=True)
    assert c.grad_fn is not None and not np.shares_memory(c.array, h.array)
    c.sum().backward()
    np.testing.assert_array_equal(g.grad.array, [2.0, 2.0])
    plain = minigrad.ones(2, dtype=minigrad.float64)
    marked = minigrad.asarray(plain, requires_grad=True)
    assert marked is plain and plain.requires_grad and plain.is_leaf


def test_new_names_are_exported_as_pytorch_has_them():
    for name in ("eq ne lt le gt ge greater greater_equal less less_equal not_equal neg negative positive "
                 "absolute pow clone detach ravel clamp_min clamp_max deg2rad rad2deg sgn vdot rsub range "
                 "scalar_tensor asarray is_nonzero is_same_size is_signed typename split_with_sizes inner").split():
        assert callable(getattr(minigrad, name)), name
    for name in ("positive negative absolute ravel sgn vdot deg2rad rad2deg ndimension nelement ger inner "
                 "greater greater_equal less less_equal not_equal is_signed is_nonzero is_same_size "
                 "split_with_sizes").split():
        assert callable(getattr(Tensor, name)), name
    assert not hasattr(Tensor, "rsub")       # PyTorch has torch.rsub only
