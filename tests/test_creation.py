"""Creation functions and minigrad.manual_seed."""
import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("make, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_ones(make, value):
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32
        np.testing.assert_array_equal(t.array, np.full((2, 3), value))
    assert make(()).shape == () and make(0).shape == (0,)
    assert make(3, dtype=mg.float64).dtype == np.float64
    assert make(3, dtype=mg.int64).dtype == np.int64
    assert make(3, requires_grad=True).requires_grad


def test_full():
    np.testing.assert_array_equal(mg.full((2, 2), 1.5).array, np.full((2, 2), 1.5))
    assert mg.full((2,), 1.5).dtype == np.float32
    assert mg.full((2,), 7).dtype == np.int64
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full((2,), 7, dtype=mg.float64).dtype == np.float64


def test_like_functions():
    base = mg.tensor(np.zeros((2, 3)))  # float64
    for made, value in ((mg.zeros_like(base), 0.0), (mg.ones_like(base), 1.0),
                        (mg.full_like(base, 4.0), 4.0)):
        assert made.shape == (2, 3) and made.dtype == np.float64
        np.testing.assert_array_equal(made.array, np.full((2, 3), value))
    assert mg.ones_like(base, dtype=mg.float32).dtype == np.float32
    assert mg.zeros_like(base, requires_grad=True).requires_grad


def test_bad_sizes():
    with pytest.raises(ValueError, match=r"non-negative.*-1"):
        mg.zeros(2, -1)
    with pytest.raises(TypeError, match="ints"):
        mg.ones(2.5)


def test_arange():
    for args, expected in [((5,), np.arange(5)), ((2, 7), np.arange(2, 7)), ((1, 10, 3), np.arange(1, 10, 3)),
                           ((5, 0, -2), np.arange(5, 0, -2))]:
        t = mg.arange(*args)
        assert t.dtype == np.int64
        np.testing.assert_array_equal(t.array, expected)
    t = mg.arange(0, 1, 0.25)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.array, [0.0, 0.25, 0.5, 0.75])
    assert mg.arange(3, dtype=mg.float64).dtype == np.float64
    with pytest.raises(ValueError, match="step"):
        mg.arange(0, 3, 0)


def test_eye():
    np.testing.assert_array_equal(mg.eye(3).array, np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 4).array, np.eye(2, 4))
    assert mg.eye(2).dtype == np.float32 and mg.eye(2, dtype=mg.float64).dtype == np.float64


def test_randn_rand_statistics():
    normal = mg.randn(200_000)
    uniform = mg.rand(200_000)
    assert normal.dtype == np.float32 and uniform.dtype == np.float32
    assert abs(normal.array.mean()) < 0.01 and abs(normal.array.std() - 1) < 0.01
    assert uniform.array.min() >= 0 and uniform.array.max() < 1
    assert abs(uniform.array.mean() - 0.5) < 0.01
    assert mg.randn(2, 3).shape == (2, 3) and mg.rand((4,)).shape == (4,)
    assert mg.randn(2, dtype=mg.float64).dtype == np.float64
    assert mg.randn(2, requires_grad=True).requires_grad


def test_randint():
    t = mg.randint(3, 7, (1000,))
    assert t.dtype == np.int64 and t.shape == (1000,)
    assert set(np.unique(t.array)) == {3, 4, 5, 6}
    low_zero = mg.randint(4, (500,))  # randint(high, size), as in PyTorch
    assert set(np.unique(low_zero.array)) == {0, 1, 2, 3}
    assert mg.randint(0, 2, size=(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"high \(2\).*low \(5\)"):
        mg.randint(5, 2, (3,))


def draw_everything():
    """One draw from every random source in minigrad."""
    t = mg.zeros(3)
    with mg.no_grad():
        t.uniform_(-1, 1)
    u = mg.zeros(3)
    with mg.no_grad():
        u.normal_(0, 2)
    return np.concatenate([mg.randn(4).array, mg.rand(4).array, mg.randint(0, 100, (4,)).array,
                           mg.randperm(5).array, t.array, u.array])


def test_manual_seed_makes_every_draw_reproducible():
    mg.manual_seed(123)
    first = draw_everything()
    mg.manual_seed(123)
    second = draw_everything()
    np.testing.assert_array_equal(first, second)
    mg.manual_seed(124)
    assert not np.array_equal(first, draw_everything())
    assert mg.initial_seed() == 124


def test_manual_seed_is_independent_of_numpy_global_state():
    mg.manual_seed(7)
    first = mg.randn(5).array
    mg.manual_seed(7)
    np.random.seed(99)
    np.random.standard_normal(10)
    np.testing.assert_array_equal(first, mg.randn(5).array)


def test_rng_state_round_trip():
    state = mg.get_rng_state()
    first = mg.rand(3).array
    mg.set_rng_state(state)
    np.testing.assert_array_equal(first, mg.rand(3).array)


def test_manual_seed_rejects_non_integers():
    with pytest.raises(TypeError, match="int"):
        mg.manual_seed(1.5)
