"""minigrad.testing: assert_close (PyTorch's rules and messages), make_tensor, assert_allclose."""
import re
import warnings

import numpy as np
import pytest

import minigrad
from minigrad.testing import assert_allclose, assert_close, make_tensor


def f32(*values):
    return minigrad.tensor(np.array(values, dtype=np.float32))


def f64(*values):
    return minigrad.tensor(np.array(values, dtype=np.float64))


def message_of(actual, expected, **kwargs):
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **kwargs)
    return str(info.value)


# ------------------------------------------------------------- assert_close
def test_tensor_message_gives_counts_and_greatest_differences():
    # |2.5 - 2| = 0.5 at (1,), 0.5 / 2.5 = 0.2 in float32; 2 of 3 elements are off.
    assert message_of(f32(1, 2, 3), f32(1, 2.5, 3.1)) == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 2 / 3 (66.7%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        f"Greatest relative difference: {float(np.float32(0.5) / np.float32(2.5))} at index (1,) "
        "(up to 1.3e-06 allowed)")
    two_d = message_of(minigrad.tensor([[1.0, 2.0], [3.0, 4.0]]), minigrad.tensor([[1.0, 2.0], [3.0, 5.0]]))
    assert "Mismatched elements: 1 / 4 (25.0%)" in two_d
    assert "Greatest absolute difference: 1.0 at index (1, 1)" in two_d


def test_greatest_differences_only_over_mismatches():
    # Differences 0, 1, 2, 3 against 1, 3, 5, 7: relative 1/3, 2/5, 3/7 -> the greatest of both at (3,).
    text = message_of(f32(1, 2, 3, 4), f32(1, 3, 5, 7))
    assert "Mismatched elements: 3 / 4 (75.0%)" in text
    assert "Greatest absolute difference: 3.0 at index (3,)" in text
    assert f"Greatest relative difference: {float(np.float32(3) / np.float32(7))} at index (3,)" in text
    # Division by an expected 0 is an infinite relative difference.
    assert "Greatest relative difference: inf at index (1,)" in message_of(f32(0, 2), f32(1, 0))


def test_default_tolerances_per_dtype():
    assert_close(f32(0, 1), f32(1e-6, 1))                  # within float32's atol 1e-5
    with pytest.raises(AssertionError, match=r"up to 1e-05 allowed"):
        assert_close(f32(0, 1), f32(2e-5, 1))
    assert_close(f64(1.0), f64(1.0 + 5e-8))               # float64: 1e-7 + 1e-7 * 1
    with pytest.raises(AssertionError, match=r"up to 1e-07 allowed"):
        assert_close(f64(1.0), f64(1.0 + 5e-7))
    # Integers are compared exactly, and the message says "equal" without tolerances.
    assert message_of(minigrad.tensor([1, 2, 3]), minigrad.tensor([1, 2, 4])) == (
        "Tensor-likes are not equal!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 1 at index (2,)\n"
        "Greatest relative difference: 0.25 at index (2,)")
    assert "Tensor-likes are not equal!" in message_of(f64(1, 2), f64(1, 2.1), rtol=0, atol=0)
    assert_close(f64(1, 2), f64(1, 2.1), rtol=0.1, atol=0)
    assert_close(f32(1.0, 2.0), f32(1.0, 2.01), rtol=0, atol=0.02)


def test_nan_and_inf():
    assert "Greatest absolute difference: nan" in message_of(f32(np.nan), f32(np.nan))
    assert_close(f32(np.nan, 1), f32(np.nan, 1), equal_nan=True)
    assert_close(f32(np.inf, 1), f32(np.inf, 1))
    with pytest.raises(AssertionError):
        assert_close(f32(np.inf), f32(-np.inf))


def test_attribute_checks():
    assert message_of(f32(1, 2), f64(1, 2)) == (
        "The values for attribute 'dtype' do not match: minigrad.float32 != minigrad.float64.")
    assert message_of(f32(1, 2), f32(1, 2, 3)) == (
        "The values for attribute 'shape' do not match: minigrad.Size([2]) != minigrad.Size([3]).")
    assert_close(f32(1, 2), f64(1, 2), check_dtype=False)
    # Promoted to a common dtype, with the loosest of the two dtypes' tolerances (float32's).
    assert "(up to 1.3e-06 allowed)" in message_of(f32(1, 2), f64(1, 2.1), check_dtype=False)
    x = minigrad.ones(2, 3)
    assert_close(x.T.contiguous(), x.T)
    assert message_of(x.T.contiguous(), x.T, check_stride=True) == (
        "The values for attribute 'stride()' do not match: (2, 1) != (1, 3).")


def test_scalars_and_zero_dim_tensors():
    assert message_of(1.0, 1.1) == (
        "Scalars are not close!\n\nExpected 1.1 but got 1.0.\n"
        f"Absolute difference: {abs(1.0 - 1.1)} (up to 1e-07 allowed)\n"
        f"Relative difference: {abs(1.0 - 1.1) / 1.1} (up to 1e-07 allowed)")
    assert message_of(1, 2) == ("Scalars are not equal!\n\nExpected 2 but got 1.\n"
                                "Absolute difference: 1\nRelative difference: 0.5")
    assert message_of(1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert message_of(True, False) == "Booleans mismatch: True is not False"
    assert message_of(None, 1) == "None mismatch: None is not 1"
    assert_close(None, None)
    assert_close(np.float64(1.0), 1.0)
    assert_close(np.bool_(True), True)
    assert "Scalars are not close!\n\nExpected 2.0 but got 1.0." in message_of(
        minigrad.tensor(1.0), minigrad.tensor(2.0))
    assert "Expected (1+0.1j) but got (1+0j)." in message_of(1 + 0j, 1 + 0.1j)


def test_nested_sequences_and_mappings_name_the_item():
    text = message_of([1.0, f32(2.0)], [1.0, f32(2.5)])
    assert text.endswith("\n\nThe failure occurred for item [1]")
    assert message_of({"a": 1.0, "b": [f64(1, 2)]}, {"a": 1.0, "b": [f64(1, 3)]}).endswith(
        "The failure occurred for item ['b'][0]")
    assert message_of([[1.0, 2.0]], [[1.0, 2.1]]).endswith("The failure occurred for item [0][1]")
    assert message_of([1.0, 2.0], [1.0]) == "The length of the sequences mismatch: 2 != 1"
    assert message_of({"a": f32(1.0)}, {"b": f32(1.0)}) == (
        "The keys of the mappings do not match:\nMissing keys in the actual mapping: ['b']\n"
        "Additional keys in the actual mapping: ['a']")
    assert_close((1.0, 2.0), [1.0, 2.0])                  # any two sequences
    assert_close({"w": f32(1, 2), "n": 3}, {"n": 3, "w": f32(1, 2)})


def test_numpy_arrays_only_against_arrays():
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-8]))
    assert "(up to 1e-07 allowed)" in message_of(np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    assert "Scalars are not close!" in message_of(np.array(3.0), np.array(3.5))
    with pytest.raises(TypeError, match=re.escape(
            "No comparison pair was able to handle inputs of type <class 'minigrad.tensor.Tensor'> "
            "and <class 'numpy.ndarray'>.")):
        assert_close(minigrad.ones(2), np.ones(2, np.float32))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(f32(1.0), 1.0)
    with pytest.raises(TypeError, match="inputs of type <class 'str'> and <class 'str'>"):
        assert_close("a", "a")
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(object(), object())


def test_parameters_against_tensors_unless_subclasses_refused():
    p = minigrad.nn.Parameter(f32(1, 2))
    assert_close(p, f32(1, 2))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(p, f32(1, 2), allow_subclasses=False)


def test_msg_and_tolerance_errors():
    assert message_of(f32(1.0), f32(2.0), msg="custom") == "custom"
    assert message_of([f32(1)], [f32(2)], msg=lambda m: "PRE " + m).startswith("PRE Tensor-likes are not close!")
    assert message_of([f32(1)], [f32(2)], msg=lambda m: "PRE " + m).endswith("The failure occurred for item [0]")
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got no atol"):
        assert_close(f32(1.0), f32(1.0), rtol=1e-3)
    with pytest.raises(ValueError, match="but got no rtol"):
        assert_close(1.0, 1.0, atol=1e-3)


def test_assert_allclose_is_deprecated_and_looser():
    with pytest.warns(FutureWarning, match="assert_allclose\\(\\)` is deprecated since 1.12"):
        assert_allclose([1.0, 2.0], [1.0, 2.00001])         # float32 rtol 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert_allclose(f64(1, np.nan), f64(1, np.nan))      # equal_nan=True by default
        assert_allclose(f32(1, 2), [1, 2.0001])              # expected takes actual's dtype
        with pytest.raises(AssertionError, match="up to 0.0001 allowed"):
            assert_allclose([1.0, 2.0], [1.0, 2.01])
        with pytest.raises(AssertionError, match="^custom$"):
            assert_allclose([1.0], [2.0], msg="custom")


# -------------------------------------------------------------- make_tensor
@pytest.mark.parametrize("dtype,low,high", [
    (minigrad.bool_, 0, 1), (minigrad.uint8, 0, 9), (minigrad.int8, -9, 9), (minigrad.int16, -9, 9),
    (minigrad.int32, -9, 9), (minigrad.int64, -9, 9), (minigrad.float16, -9, 9), (minigrad.float32, -9, 9),
    (minigrad.float64, -9, 9)])
def test_make_tensor_default_ranges(dtype, low, high):
    minigrad.manual_seed(0)
    t = make_tensor(20000, dtype=dtype, device="cpu")
    values = t.numpy().astype(np.float64)
    assert t.dtype == dtype and tuple(t.shape) == (20000,)
    assert values.min() >= low and values.max() <= high
    if np.dtype(dtype).kind == "f":
        assert values.max() < 9 and values.min() < -8.9 and values.max() > 8.9   # [-9, 9)
        assert abs(values.mean()) < 0.2
    else:
        assert set(np.unique(values)) == set(range(low, high + 1))               # every integer of the range


def test_make_tensor_arguments():
    minigrad.manual_seed(1)
    assert make_tensor((2, 3), dtype=minigrad.float32, device="cpu").shape == (2, 3)
    assert make_tensor([2, 3], dtype=minigrad.float32, device="cpu").shape == (2, 3)
    assert make_tensor(2, 3, dtype=minigrad.float32, device="cpu").shape == (2, 3)
    t = make_tensor(1000, dtype=minigrad.float64, device="cpu", low=2.0, high=2.5)
    assert t.numpy().min() >= 2.0 and t.numpy().max() < 2.5
    ints = make_tensor(1000, dtype=minigrad.int64, device="cpu", low=-2.5, high=0.5)  # ceil: [-2, 1)
    assert set(np.unique(ints.numpy())) == {-2, -1, 0}
    clamped = make_tensor(1000, dtype=minigrad.uint8, device="cpu", low=-100, high=3)   # clamped to [0, 3)
    assert set(np.unique(clamped.numpy())) == {0, 1, 2}
    huge = make_tensor(100, dtype=minigrad.float32, device="cpu", low=-1e300, high=1e300)
    assert np.isfinite(huge.numpy()).all()
    no_zero = make_tensor(200, dtype=minigrad.int8, device="cpu", low=0, high=2, exclude_zero=True)
    assert set(np.unique(no_zero.numpy())) == {1}
    tiny = make_tensor(200, dtype=minigrad.float32, device="cpu", low=0, high=1e-45, exclude_zero=True)
    assert (tiny.numpy() != 0).all()
    g = make_tensor(3, dtype=minigrad.float64, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf
    nc = make_tensor(2, 3, dtype=minigrad.float32, device="cpu", noncontiguous=True)
    assert nc.shape == (2, 3) and not nc.is_contiguous() and nc.stride() == (6, 2)
    assert make_tensor((), dtype=minigrad.float32, device="cpu", noncontiguous=True).is_contiguous()
    cl = make_tensor(2, 3, 4, 5, dtype=minigrad.float32, device="cpu", memory_format=minigrad.channels_last)
    assert cl.shape == (2, 3, 4, 5) and cl.stride() == (60, 1, 15, 3)
    assert cl.is_contiguous(memory_format=minigrad.channels_last)
    minigrad.manual_seed(5)
    a = make_tensor(4, dtype=minigrad.float32, device="cpu")
    minigrad.manual_seed(5)
    assert np.array_equal(a.numpy(), make_tensor(4, dtype=minigrad.float32, device="cpu").numpy())
    with pytest.warns(FutureWarning, match="low==high"):
        make_tensor(2, dtype=minigrad.float32, device="cpu", low=1, high=1)


def test_make_tensor_errors():
    with pytest.raises(ValueError, match="`requires_grad=True` is not supported for boolean and integral dtypes"):
        make_tensor(2, dtype=minigrad.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="`low` must be less than `high`, but got 3 >= 2"):
        make_tensor(2, dtype=minigrad.float32, device="cpu", low=3, high=2)
    with pytest.raises(ValueError, match="cannot be NaN"):
        make_tensor(2, dtype=minigrad.float32, device="cpu", low=float("nan"))
    with pytest.raises(ValueError, match=re.escape("is [-5, -1), but minigrad.uint8 only supports [0, 256)")):
        make_tensor(2, dtype=minigrad.uint8, device="cpu", low=-5, high=-1)
    with pytest.raises(ValueError, match="mutually exclusive"):
        make_tensor(2, 3, dtype=minigrad.float32, device="cpu", noncontiguous=True,
                    memory_format=minigrad.channels_last)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        make_tensor(2, 3, 4, dtype=minigrad.float32, device="cpu", memory_format=minigrad.channels_last)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'device'"):
        make_tensor(2, dtype=minigrad.float32)
    with pytest.raises(TypeError, match="is not supported by minigrad.testing.make_tensor"):
        make_tensor(2, dtype=np.complex64, device="cpu")
    with pytest.raises(RuntimeError, match="cuda"):
        make_tensor(2, dtype=minigrad.float32, device="cuda")
