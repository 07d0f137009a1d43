"""nn.init: dirac_ (groups), sparse_, generator=, and torch's deprecated non-underscore names."""
import math

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.nn import init


def _dirac_reference(shape, groups):
    """Loop over every entry: 1 where o = g*out_per_group + d, i = d < min, at the kernel centre."""
    out = np.zeros(shape)
    per_group = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for o in range(shape[0]):
        for i in range(shape[1]):
            if o % per_group == i and i < min(per_group, shape[1]):
                out[(o, i) + centre] = 1
    return out


@pytest.mark.parametrize("shape, groups", [((6, 3, 3), 2), ((4, 4, 3, 3), 1), ((6, 2, 3, 2, 5), 3),
                                           ((2, 5, 4), 1), ((3, 2, 3, 3), 1), ((8, 2, 3, 3), 4)])
def test_dirac_matches_reference(shape, groups):
    w = minigrad.randn(*shape)
    assert init.dirac_(w, groups) is w
    np.testing.assert_array_equal(w.array, _dirac_reference(shape, groups))


def test_dirac_convolution_is_identity(rng):
    x = minigrad.tensor(rng.standard_normal((2, 4, 5, 5)))
    w = init.dirac_(minigrad.empty(4, 2, 3, 3, dtype=minigrad.float64), groups=2)
    y = F.conv2d(x, w, padding=1, groups=2)
    np.testing.assert_allclose(y.array, x.array)


def test_dirac_errors():
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(minigrad.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(minigrad.empty(5, 2, 3), groups=2)


def test_sparse_zeros_per_column_and_std():
    w = minigrad.empty(200, 50, dtype=minigrad.float64)
    init.sparse_(w, sparsity=0.3, std=0.5)
    zeros = (w.array == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, np.full(50, math.ceil(0.3 * 200)))
    nonzero = w.array[w.array != 0]
    assert abs(nonzero.std() - 0.5) < 0.02 and abs(nonzero.mean()) < 0.02
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(minigrad.empty(3), 0.1)


def test_generator_argument_gives_reproducible_draws():
    for fill in (lambda t, g: init.uniform_(t, -1, 1, generator=g),
                 lambda t, g: init.normal_(t, generator=g),
                 lambda t, g: init.trunc_normal_(t, generator=g),
                 lambda t, g: init.xavier_uniform_(t, generator=g),
                 lambda t, g: init.xavier_normal_(t, generator=g),
                 lambda t, g: init.kaiming_uniform_(t, generator=g),
                 lambda t, g: init.kaiming_normal_(t, generator=g),
                 lambda t, g: init.orthogonal_(t, generator=g),
                 lambda t, g: init.sparse_(t, 0.5, generator=g)):
        a = fill(minigrad.empty(4, 6), minigrad.Generator().manual_seed(7)).array.copy()
        b = fill(minigrad.empty(4, 6), minigrad.Generator().manual_seed(7)).array.copy()
        c = fill(minigrad.empty(4, 6), minigrad.Generator().manual_seed(8)).array.copy()
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


@pytest.mark.parametrize("old, args", [("uniform", ()), ("normal", ()), ("constant", (0.5,)),
                                       ("eye", ()), ("xavier_uniform", ()), ("xavier_normal", ()),
                                       ("kaiming_uniform", ()), ("kaiming_normal", ()),
                                       ("orthogonal", ()), ("sparse", (0.5,))])
def test_deprecated_names_warn_and_do_the_same(old, args):
    minigrad.manual_seed(5)
    expected = getattr(init, old + "_")(minigrad.empty(3, 4), *args).array.copy()
    minigrad.manual_seed(5)
    with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of "
                                           f"`nn.init.{old}_`"):
        result = getattr(init, old)(minigrad.empty(3, 4), *args)
    np.testing.assert_array_equal(result.array, expected)
    assert getattr(init, old).__name__ == old


def test_deprecated_dirac():
    with pytest.warns(FutureWarning, match="nn.init.dirac_"):
        w = init.dirac(minigrad.empty(2, 2, 3))
    np.testing.assert_array_equal(w.array, _dirac_reference((2, 2, 3), 1))
