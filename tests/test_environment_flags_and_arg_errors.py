"""The one on/off parser of environment variables, and clear errors for empty strides."""
import numpy as np
import pytest

from minigrad import allocator
from minigrad import reference as switch
from minigrad.environment import env_flag
from minigrad.ops import _args
from minigrad.utils import conv_output_size, pool_output_size


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), (" Yes ", True), ("ON", True),
                                            ("0", False), ("false", False), ("no", False), (" Off", False)])
def test_every_accepted_spelling(value, expected, monkeypatch):
    monkeypatch.setenv("MINIGRAD_TEST_FLAG", value)
    assert env_flag("MINIGRAD_TEST_FLAG", not expected, "unused") is expected


@pytest.mark.parametrize("default", [True, False])
def test_unset_and_empty_mean_the_default(default, monkeypatch):
    monkeypatch.delenv("MINIGRAD_TEST_FLAG", raising=False)
    assert env_flag("MINIGRAD_TEST_FLAG", default, "unused") is default
    monkeypatch.setenv("MINIGRAD_TEST_FLAG", "  ")
    assert env_flag("MINIGRAD_TEST_FLAG", default, "unused") is default


def test_an_unknown_spelling_warns_and_keeps_the_default(monkeypatch):
    monkeypatch.setenv("MINIGRAD_TEST_FLAG", "Maybe")
    with pytest.warns(RuntimeWarning, match=r"MINIGRAD_TEST_FLAG='maybe' is not 0 or 1 .*; the default wins"):
        assert env_flag("MINIGRAD_TEST_FLAG", True, "the default wins") is True


def test_both_switches_use_it(monkeypatch):
    monkeypatch.setenv("MINIGRAD_REFERENCE_KERNELS", "yes")
    assert switch._from_environment() is True
    monkeypatch.setenv("MINIGRAD_REFERENCE_KERNELS", "")
    assert switch._from_environment() is False
    monkeypatch.setattr(allocator, "_state", allocator._state)
    monkeypatch.setenv("MINIGRAD_MALLOC_TUNING", " No ")
    assert allocator.tune_malloc() == "glibc defaults (MINIGRAD_MALLOC_TUNING=no)"


def test_pool_window_takes_an_empty_stride_as_the_kernel_and_names_an_array():
    assert _args.pool_window("max_pool2d", 2, 3, [], 0)[1] == (3, 3)
    assert _args.pool_window("max_pool2d", 2, 3, (), 0)[1] == (3, 3)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be an int or a tuple of 2 ints, got array"):
        _args.pool_window("max_pool2d", 2, 3, np.array([], dtype=np.int64), 0)
    with pytest.raises(ValueError, match=r"stride must be an int or a tuple of 2 ints, got array\(\[2, 2\]\)"):
        _args.pool_window("max_pool2d", 2, 3, np.array([2, 2]), 0)


@pytest.mark.parametrize("name", ["stride", "padding", "dilation", "kernel_size"])
def test_size_formulas_refuse_empty_tuples(name):
    arguments = {"input_size": 8, "kernel_size": 2, name: ()}
    with pytest.raises(ValueError, match=rf"pool_output_size: {name} must be an int or a non-empty tuple.*got \(\)"):
        pool_output_size(**arguments)
    with pytest.raises(ValueError, match=r"conv_output_size: input_size must be .* got \[\]"):
        conv_output_size([], 3)
    assert pool_output_size(8, 2) == 4 and pool_output_size((8, 9), 2, stride=(2, 1)) == (4, 8)
