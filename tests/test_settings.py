"""Global settings (minigrad/settings.py): the default dtype and the factories that follow it,
print options, the deterministic-algorithms flag, finfo/iinfo, type promotion, seed().

Every test that changes global state restores it through a fixture, so the rest of the
suite sees float32 and the default print options."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import settings


@pytest.fixture
def default_dtype():
    saved = mg.get_default_dtype()
    yield
    mg.set_default_dtype(saved)


@pytest.fixture
def print_options():
    saved = settings.get_printoptions()
    yield
    mg.set_printoptions(**saved)


@pytest.fixture
def deterministic():
    saved = (mg.are_deterministic_algorithms_enabled(), mg.is_deterministic_algorithms_warn_only_enabled())
    yield
    mg.use_deterministic_algorithms(saved[0], warn_only=saved[1])


# ---------------------------------------------------------------- default dtype
def test_the_default_dtype_is_float32():
    assert mg.get_default_dtype() == mg.float32
    assert mg.tensor([1.0]).dtype == mg.float32
    assert mg.zeros(2).dtype == mg.float32


@pytest.mark.parametrize("make", [
    lambda: mg.tensor([1.0, 2.5]), lambda: mg.tensor(0.5), lambda: mg.Tensor([1, 2]), lambda: mg.Tensor(2, 3),
    lambda: mg.zeros(2), lambda: mg.ones(2, 3), lambda: mg.empty(3), lambda: mg.full((2,), 1.5),
    lambda: mg.rand(2), lambda: mg.randn(2), lambda: mg.arange(0.0, 2.0, 0.5), lambda: mg.linspace(0, 1, 5),
    lambda: mg.logspace(0, 1, 3), lambda: mg.eye(2), lambda: mg.normal(0.0, 1.0, (2,)),
    lambda: mg.arange(3) / 2, lambda: mg.arange(3) * 1.5, lambda: mg.sin(mg.arange(3)),
])
def test_factories_and_promotion_follow_the_default_dtype(make, default_dtype):
    mg.set_default_dtype(mg.float64)
    assert mg.get_default_dtype() == mg.float64
    assert make().dtype == mg.float64
    mg.set_default_dtype(mg.float32)
    assert make().dtype == mg.float32


def test_set_default_dtype_keeps_explicit_and_integer_dtypes(default_dtype):
    mg.set_default_dtype(mg.float64)
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.arange(3).dtype == mg.int64
    assert mg.tensor([1.0], dtype=mg.float32).dtype == mg.float32
    assert mg.tensor(np.ones(2, dtype=np.float32)).dtype == mg.float32  # arrays keep their dtype
    assert (mg.ones(2, dtype=mg.float32) * 2.5).dtype == mg.float32  # a float tensor keeps its dtype
    mg.set_default_dtype("float16")
    assert mg.zeros(1).dtype == mg.float16


def test_layers_and_integer_inputs_follow_the_default_dtype(default_dtype):
    mg.set_default_dtype(mg.float64)
    layers = [mg.nn.Linear(2, 3), mg.nn.Conv2d(1, 2, 3), mg.nn.Embedding(3, 2), mg.nn.LayerNorm(3)]
    assert all(p.dtype == mg.float64 for layer in layers for p in layer.parameters())
    assert mg.nn.BatchNorm2d(3).running_mean.dtype == mg.float64
    assert mg.nn.Parameter().dtype == mg.float64
    assert mg.logsumexp(mg.arange(3), 0).dtype == mg.float64
    assert mg.nn.Linear(2, 3, dtype=mg.float32).weight.dtype == mg.float32
    mg.set_default_dtype(mg.float32)
    assert mg.nn.Linear(2, 3).weight.dtype == mg.float32


def test_set_default_dtype_rejects_non_float_types(default_dtype):
    for bad in (mg.int32, mg.int64, mg.bool):
        with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
            mg.set_default_dtype(bad)
    assert mg.get_default_dtype() == mg.float32


def test_repr_names_dtypes_other_than_the_default(default_dtype):
    assert "dtype" not in repr(mg.tensor([1.5]))
    assert "dtype=minigrad.float64" in repr(mg.tensor([1.5], dtype=mg.float64))
    mg.set_default_dtype(mg.float64)
    assert "dtype" not in repr(mg.tensor([1.5]))
    assert "dtype=minigrad.float32" in repr(mg.tensor([1.5], dtype=mg.float32))


# ---------------------------------------------------------------- print options
def test_set_printoptions_precision_threshold_edgeitems(print_options):
    mg.set_printoptions(precision=2)
    assert repr(mg.tensor([1.23456, 2.5])) == "tensor([1.23, 2.5 ])"
    mg.set_printoptions(threshold=5, edgeitems=2)
    assert repr(mg.arange(10)) == "tensor([0, 1, ..., 8, 9])"
    mg.set_printoptions(profile="full")
    assert "..." not in repr(mg.arange(2000)) and str(1999) in repr(mg.arange(2000))
    mg.set_printoptions(profile="default")
    assert repr(mg.arange(2000)) == "tensor([   0,    1,    2, ..., 1997, 1998, 1999])"
    assert repr(mg.tensor([1.23456])) == "tensor([1.2346])"


def test_set_printoptions_profile_short_linewidth_and_sci_mode(print_options):
    mg.set_printoptions(profile="short")
    assert settings.get_printoptions() == dict(precision=2, threshold=1000, edgeitems=2, linewidth=80,
                                               sci_mode=None)
    assert repr(mg.arange(2000)) == "tensor([   0,    1, ..., 1998, 1999])"
    mg.set_printoptions(profile="default", linewidth=20)
    lines = repr(mg.arange(12)).split("\n")
    assert len(lines) > 1 and all(len(line) <= 20 for line in lines)
    mg.set_printoptions(linewidth=80, precision=3, sci_mode=True)
    assert repr(mg.tensor([1.0, 250.0])) == "tensor([1.000e+00, 2.500e+02])"
    mg.set_printoptions(sci_mode=False)
    assert repr(mg.tensor([1e-5, 123.456789])) == "tensor([  0.   , 123.457])"
    mg.set_printoptions(precision=4)  # sci_mode=None again: back to automatic, as in PyTorch
    assert settings.get_printoptions()["sci_mode"] is None


def test_printoptions_context_restores():
    before = settings.get_printoptions()
    with settings.printoptions(precision=1):
        assert repr(mg.tensor([1.25])) == "tensor([1.2])"
    assert settings.get_printoptions() == before


# ---------------------------------------------------------- deterministic algorithms
def test_use_deterministic_algorithms_records_the_flags(deterministic):
    assert mg.are_deterministic_algorithms_enabled() is False
    mg.use_deterministic_algorithms(True)
    assert mg.are_deterministic_algorithms_enabled() is True
    assert mg.is_deterministic_algorithms_warn_only_enabled() is False
    mg.use_deterministic_algorithms(True, warn_only=True)
    assert mg.is_deterministic_algorithms_warn_only_enabled() is True
    mg.use_deterministic_algorithms(False)
    assert mg.are_deterministic_algorithms_enabled() is False


def test_use_deterministic_algorithms_wants_bools(deterministic):
    with pytest.raises(TypeError, match="argument 'mode' must be bool, not int"):
        mg.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        mg.use_deterministic_algorithms(True, warn_only=1)


# ------------------------------------------------------------------ finfo, iinfo
@pytest.mark.parametrize("dtype", [mg.float16, mg.float32, mg.float64])
def test_finfo_against_the_ieee_formats(dtype):
    mantissa_bits, exponent_bits = {mg.float16: (10, 5), mg.float32: (23, 8), mg.float64: (52, 11)}[dtype]
    info = mg.finfo(dtype)
    assert info.bits == 1 + mantissa_bits + exponent_bits
    assert info.eps == 2.0 ** -mantissa_bits
    largest_exponent = 2 ** (exponent_bits - 1) - 1
    assert info.max == (2 - 2.0 ** -mantissa_bits) * 2.0 ** largest_exponent
    assert info.min == -info.max
    assert info.tiny == info.smallest_normal == 2.0 ** (1 - largest_exponent)
    assert info.resolution == 10.0 ** -int(np.floor(mantissa_bits * np.log10(2)))
    assert info.dtype == str(dtype)
    assert all(isinstance(getattr(info, name), float) for name in ("eps", "max", "min", "tiny", "resolution"))


def test_finfo_default_repr_and_errors(default_dtype):
    assert repr(mg.finfo()) == ("finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, "
                                "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)")
    mg.set_default_dtype(mg.float64)
    assert mg.finfo().dtype == "float64"
    with pytest.raises(TypeError, match="requires a floating point input type"):
        mg.finfo(mg.int32)


@pytest.mark.parametrize("dtype, bits, low, high", [
    (mg.uint8, 8, 0, 255), (mg.int8, 8, -128, 127), (mg.int16, 16, -2 ** 15, 2 ** 15 - 1),
    (mg.int32, 32, -2 ** 31, 2 ** 31 - 1), (mg.int64, 64, -2 ** 63, 2 ** 63 - 1),
])
def test_iinfo(dtype, bits, low, high):
    info = mg.iinfo(dtype)
    assert (info.bits, info.min, info.max, info.dtype) == (bits, low, high, str(dtype))


def test_iinfo_repr_and_error():
    assert repr(mg.iinfo(mg.uint8)) == "iinfo(min=0, max=255, dtype=uint8)"
    assert repr(mg.iinfo(mg.int32)) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"
    with pytest.raises(TypeError, match="requires an integer input type"):
        mg.iinfo(mg.float32)


# ------------------------------------------------------------------------ promotion
@pytest.mark.parametrize("a, b, expected", [
    (mg.uint8, mg.int8, mg.int16), (mg.bool, mg.uint8, mg.uint8), (mg.int32, mg.int64, mg.int64),
    (mg.int64, mg.float16, mg.float16), (mg.int64, mg.float32, mg.float32), (mg.float16, mg.float32, mg.float32),
    (mg.float32, mg.float64, mg.float64), (mg.bool, mg.bool, mg.bool), (mg.uint8, mg.int64, mg.int64),
])
def test_promote_types_table(a, b, expected):
    assert mg.promote_types(a, b) == expected
    assert mg.promote_types(b, a) == expected


def test_result_type_orders_dim_tensors_zero_dim_tensors_then_numbers(default_dtype):
    int32_vector, float64_scalar = mg.ones(2, dtype=mg.int32), mg.tensor(2.0, dtype=mg.float64)
    assert mg.result_type(int32_vector, 2.5) == mg.float32  # a float number: the default dtype
    assert mg.result_type(int32_vector, 7) == mg.int32  # an int number does not widen an int tensor
    assert mg.result_type(mg.ones(2, dtype=mg.uint8), -3) == mg.uint8
    assert mg.result_type(float64_scalar, int32_vector) == mg.float64  # higher category wins
    assert mg.result_type(float64_scalar, mg.ones(2)) == mg.float32  # same category: the dims tensor
    assert mg.result_type(mg.tensor(1, dtype=mg.int16), mg.tensor(1, dtype=mg.int32)) == mg.int32
    assert mg.result_type(mg.tensor([True]), 3) == mg.int64
    assert mg.result_type(2, 2.5) == mg.float32
    assert mg.result_type(True, 3) == mg.int64
    mg.set_default_dtype(mg.float64)
    assert mg.result_type(int32_vector, 2.5) == mg.float64
    with pytest.raises(TypeError, match="expected a Tensor or a number"):
        mg.result_type("a", 1)


def test_result_type_agrees_with_arithmetic():
    for a, b in [(mg.ones(2, dtype=mg.int32), 2.5), (mg.ones(2, dtype=mg.int64), mg.ones(2)),
                 (mg.ones(2, dtype=mg.float64), mg.ones(2))]:
        assert (a * b).dtype == mg.result_type(a, b)


@pytest.mark.parametrize("source, target, expected", [
    (mg.float32, mg.int32, False), (mg.int32, mg.bool, False), (mg.bool, mg.bool, True),
    (mg.int64, mg.float16, True), (mg.float64, mg.float16, True), (mg.bool, mg.int8, True),
    (mg.int64, mg.uint8, True), (mg.float32, mg.bool, False),
])
def test_can_cast(source, target, expected):
    assert mg.can_cast(source, target) is expected


# ------------------------------------------------------------------------ seeds
def test_seed_reseeds_and_initial_seed_reports_it():
    first = mg.seed()
    assert isinstance(first, int) and mg.initial_seed() == first
    draw = mg.rand(3).numpy()
    mg.manual_seed(first)
    np.testing.assert_array_equal(mg.rand(3).numpy(), draw)
    assert mg.seed() != first  # fresh entropy each call
