"""Statistics and counting ops (minigrad/ops/statistics.py) against NumPy and SciPy:
NaN-ignoring reductions, quantiles, kthvalue and nanmedian (with PyTorch's tie
indices), cov/corrcoef, histograms, bincount, unique, count_nonzero, aminmax,
diff, gradient, trapezoid rules, searchsorted/bucketize, poisson, msort;
float64 gradchecks of the differentiable ones and PyTorch's errors."""
import itertools

import numpy as np
import pytest
from scipy import integrate

import minigrad as mg

NAN = np.nan


def leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def distinct(rng, shape):
    """Values with no ties (order statistics have a gradient only there)."""
    return rng.permutation(np.prod(shape)).reshape(shape) + rng.random(shape) * 0.5


# ------------------------------------------------------------ nansum, nanmean
def with_nans(rng):
    x = rng.standard_normal((3, 4, 5))
    x[0, 1, 2] = x[2, 3, 0] = x[1, 0, 4] = NAN
    return x


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nansum_nanmean_forward(dim, keepdim, dtype, rng):
    x = with_nans(rng)
    axis = dim if not isinstance(dim, tuple) else tuple(dim)
    for name, reference in (("nansum", np.nansum), ("nanmean", np.nanmean)):
        out = getattr(mg, name)(mg.tensor(x.astype(dtype)), dim, keepdim)
        expected = reference(x, axis=axis, keepdims=keepdim)
        assert out.dtype == dtype and out.shape == np.shape(expected)
        np.testing.assert_allclose(out.array, expected, rtol=1e-5, atol=1e-6)
        method = getattr(mg.tensor(x.astype(dtype)), name)(dim=dim, keepdim=keepdim)
        np.testing.assert_allclose(method.array, out.array)


def test_nansum_nanmean_gradients_skip_nans(rng):
    x = with_nans(rng)
    assert mg.gradcheck(lambda t: mg.nansum(t, 1), (leaf(x),))
    assert mg.gradcheck(lambda t: mg.nanmean(t, (0, 2), keepdim=True), (leaf(x),))
    t = leaf(x)
    mg.nanmean(t, 2).sum().backward()
    counts = np.sum(~np.isnan(x), axis=2, keepdims=True)
    np.testing.assert_allclose(t.grad.array, np.where(np.isnan(x), 0, 1 / counts))


def test_nanmean_of_all_nans_and_integer_inputs():
    assert np.isnan(mg.nanmean(mg.tensor([NAN, NAN])).item())
    total = mg.nansum(mg.tensor([1, 2, 3], dtype=mg.int32))
    assert total.dtype == np.int64 and total.item() == 6
    with pytest.raises(RuntimeError, match="nanmean.*floating point"):
        mg.nanmean(mg.tensor([1, 2]))


# ------------------------------------------------------------ quantile, nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (-1, True), (1, False)])
def test_quantile_against_numpy(interpolation, dim, keepdim, rng):
    x = np.round(rng.standard_normal((4, 6, 3)), 1)          # rounded: ties and exact ranks
    for q in (0.0, 0.25, 0.5, 0.8, 1.0, np.array([0.1, 0.5, 0.95])):
        q_arg = mg.tensor(q) if isinstance(q, np.ndarray) else q
        out = mg.quantile(mg.tensor(x), q_arg, dim, keepdim, interpolation=interpolation)
        expected = np.quantile(x, q, axis=dim, keepdims=keepdim, method=interpolation)
        assert out.shape == expected.shape and out.dtype == np.float64
        np.testing.assert_allclose(out.array, expected, rtol=1e-12, atol=1e-12)
    method = mg.tensor(x).quantile(0.3, dim, keepdim, interpolation=interpolation)
    np.testing.assert_allclose(method.array, np.quantile(x, 0.3, axis=dim, keepdims=keepdim,
                                                         method=interpolation))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_nanquantile_ignores_nans_and_quantile_propagates_them(interpolation, rng):
    x = rng.standard_normal((5, 7))
    x[0, 3] = x[2, 0] = x[2, 6] = NAN
    x[4] = NAN                                                # a row with no number
    q = np.array([0.2, 0.5, 0.7], dtype=np.float32)
    out = mg.nanquantile(mg.tensor(x.astype(np.float32)), mg.tensor(q), 1, interpolation=interpolation)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(x.astype(np.float32), q, axis=1, method=interpolation)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, expected, rtol=1e-6)
    plain = mg.quantile(mg.tensor(x), 0.5, 1, interpolation=interpolation).array
    assert np.isnan(plain[[0, 2, 4]]).all() and not np.isnan(plain[[1, 3]]).any()


def test_quantile_scalar_tensor_q_gives_no_q_dimension():
    x = mg.tensor([[1.0, 2.0, 4.0], [0.0, 10.0, 20.0]])
    out = mg.quantile(x, mg.tensor(0.75), dim=1)
    assert out.shape == (2,)
    np.testing.assert_allclose(out.array, [3.0, 15.0])


@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "lower", "nearest"])
def test_quantile_gradcheck(interpolation, rng):
    x = distinct(rng, (3, 5))
    q = mg.tensor(np.array([0.1, 0.5, 0.9]))
    assert mg.gradcheck(lambda t: mg.quantile(t, q, 1, interpolation=interpolation), (leaf(x),))
    assert mg.gradcheck(lambda t: mg.quantile(t, 0.37, interpolation=interpolation), (leaf(x),))
    y = x.copy()
    y[1, 2] = NAN
    assert mg.gradcheck(lambda t: mg.nanquantile(t, 0.6, 1, keepdim=True), (leaf(y),))


def test_quantile_linear_gradient_splits_between_neighbours():
    t = leaf([4.0, 1.0, 3.0, 2.0])                            # sorted 1 2 3 4; q=0.5: rank 1.5
    mg.quantile(t, 0.5).backward()
    np.testing.assert_allclose(t.grad.array, [0, 0, 0.5, 0.5])


def test_quantile_errors():
    x = mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\] but got 1.5"):
        mg.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match=r"quantile\(\) q values must be in the range \[0, 1\]"):
        mg.quantile(x, mg.tensor([0.5, -0.1]))
    with pytest.raises(RuntimeError, match="q must be a scalar or 1D tensor"):
        mg.quantile(x, mg.tensor([[0.5]]))
    with pytest.raises(RuntimeError, match="q tensor must be same dtype"):
        mg.quantile(x, mg.tensor([0.5], dtype=mg.float64))
    with pytest.raises(RuntimeError, match="must be either float or double"):
        mg.quantile(mg.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="must be non-empty"):
        mg.nanquantile(mg.zeros(0), 0.5)
    with pytest.raises(RuntimeError, match="interpolation must be one of .* but got cubic"):
        mg.quantile(x, 0.5, interpolation="cubic")


# ------------------------------------------------------------ kthvalue, nanmedian, msort
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_kthvalue_values_and_indices(dim, keepdim, rng):
    x = rng.integers(0, 4, (5, 6)).astype(np.float32)         # many ties
    for k in range(1, x.shape[dim] + 1):
        values, indices = mg.kthvalue(mg.tensor(x), k, dim, keepdim)
        expected = np.take(np.sort(x, axis=dim), [k - 1], axis=dim)
        expected = expected if keepdim else np.squeeze(expected, dim)
        np.testing.assert_array_equal(values.array, expected)
        assert indices.dtype == np.int64 and indices.shape == expected.shape
        picked = np.take_along_axis(x, indices.array if keepdim else np.expand_dims(indices.array, dim), dim)
        np.testing.assert_array_equal(picked if keepdim else np.squeeze(picked, dim), expected)


def test_kthvalue_ties_pick_pytorchs_index():
    # torch.kthvalue(torch.tensor([3., 1, 2, 1, 3, 1]), k) on CPU: indices 5, 1, 4 for k = 1, 3, 5
    x = mg.tensor([3.0, 1.0, 2.0, 1.0, 3.0, 1.0])
    assert [x.kthvalue(k).indices.item() for k in (1, 3, 5)] == [5, 1, 4]
    # NaN is the largest: torch.kthvalue(tensor([1., nan, 0.]), 3) -> (nan, 1)
    values, indices = mg.kthvalue(mg.tensor([1.0, NAN, 0.0]), 3)
    assert np.isnan(values.item()) and indices.item() == 1


def test_kthvalue_gradcheck_and_errors(rng):
    x = distinct(rng, (3, 4))
    assert mg.gradcheck(lambda t: mg.kthvalue(t, 2, 0).values, (leaf(x),))
    assert mg.gradcheck(lambda t: t.kthvalue(3, keepdim=True).values, (leaf(x),))
    with pytest.raises(RuntimeError, match="selected number k out of range for dimension 0"):
        mg.kthvalue(mg.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="out of range"):
        mg.kthvalue(mg.tensor([1.0, 2.0]), 0)
    values, indices = mg.kthvalue(mg.tensor(3.0), 1)
    assert values.item() == 3.0 and indices.item() == 0


def lower_nanmedian(row):
    numbers = np.sort(row[~np.isnan(row)])
    return numbers[(len(numbers) - 1) // 2] if len(numbers) else NAN


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_nanmedian_dim(dim, keepdim, rng):
    x = rng.integers(0, 5, (6, 7)).astype(np.float64)
    x[rng.random(x.shape) < 0.3] = NAN
    x[:, 2] = NAN                                             # a column of NaNs only
    values, indices = mg.nanmedian(mg.tensor(x), dim, keepdim)
    expected = np.apply_along_axis(lower_nanmedian, dim, x)
    expected = np.expand_dims(expected, dim) if keepdim else expected
    np.testing.assert_array_equal(values.array, expected)
    picked = np.take_along_axis(x, indices.array if keepdim else np.expand_dims(indices.array, dim), dim)
    np.testing.assert_array_equal(picked if keepdim else np.squeeze(picked, dim), expected)


def test_nanmedian_indices_as_pytorch():
    # torch.nanmedian(t, 0).indices on CPU: equal values go by index (the median in a
    # stable sort), a row of NaNs to the NaN std::nth_element leaves at position 0
    assert mg.nanmedian(mg.tensor([1.0, NAN, 1.0, 2.0]), 0).indices.item() == 2
    assert mg.nanmedian(mg.tensor([2.0, 1.0, 1.0, 1.0, 2.0]), 0).indices.item() == 3
    nan_rows = [mg.nanmedian(mg.full((n,), NAN), 0).indices.item() for n in range(1, 12)]
    assert nan_rows == [0, 0, 0, 2, 2, 3, 5, 6, 7, 8, 8]


def test_nanmedian_all_and_gradients(rng):
    x = rng.standard_normal(9)
    x[[1, 5]] = NAN
    assert mg.nanmedian(mg.tensor(x)).item() == lower_nanmedian(x)
    assert np.isnan(mg.nanmedian(mg.tensor([NAN, NAN])).item())
    assert np.isnan(mg.nanmedian(mg.zeros(0)).item())
    t = leaf([1.0, 2.0, 2.0, NAN, 3.0])                     # lower median 2, twice: shared
    mg.nanmedian(t).backward()
    np.testing.assert_allclose(t.grad.array, [0, 0.5, 0.5, 0, 0])
    y = distinct(rng, (4, 5))
    y[0, 1] = NAN
    assert mg.gradcheck(lambda s: mg.nanmedian(s, 1).values, (leaf(y),))
    assert mg.gradcheck(lambda s: s.nanmedian(), (leaf(y),))
    with pytest.raises(IndexError, match="reduction dim 1 to have non-zero size"):
        mg.nanmedian(mg.ones(2, 0), 1)


def test_msort(rng):
    x = rng.standard_normal((5, 3))
    np.testing.assert_array_equal(mg.msort(mg.tensor(x)).array, np.sort(x, axis=0))
    np.testing.assert_array_equal(mg.tensor(x).msort().array, np.sort(x, axis=0))
    assert mg.gradcheck(mg.msort, (leaf(x),))


# ------------------------------------------------------------ aminmax, count_nonzero
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True), (-1, False)])
def test_aminmax(dim, keepdim, rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    low, high = mg.aminmax(mg.tensor(x), dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(low.array, np.min(x, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(high.array, np.max(x, axis=dim, keepdims=keepdim))
    result = mg.tensor(x).aminmax(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(result.max.array, high.array)
    assert mg.gradcheck(lambda t: mg.aminmax(t, dim=dim, keepdim=keepdim), (leaf(x),))


def test_aminmax_ties_share_the_gradient_and_empty_error():
    t = leaf([1.0, 3.0, 3.0])
    mg.aminmax(t).max.backward()
    np.testing.assert_allclose(t.grad.array, [0, 0.5, 0.5])
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        mg.aminmax(mg.zeros(0))


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), (2, 0)], ids=str)
def test_count_nonzero(dim, rng):
    x = rng.integers(-1, 2, (3, 4, 5))
    out = mg.count_nonzero(mg.tensor(x), dim)
    expected = np.count_nonzero(x, axis=dim)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.array, expected)
    np.testing.assert_array_equal(mg.tensor(x).count_nonzero(dim).array, expected)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        mg.count_nonzero(mg.tensor(x), (0, 0))


# ------------------------------------------------------------ cov, corrcoef
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_against_numpy(correction, rng):
    x = rng.standard_normal((3, 8))
    fweights = rng.integers(1, 4, 8)
    aweights = rng.random(8) + 0.1
    np.testing.assert_allclose(mg.cov(mg.tensor(x), correction=correction).array,
                               np.cov(x, ddof=correction))
    np.testing.assert_allclose(mg.tensor(x).cov(correction=correction, fweights=mg.tensor(fweights)).array,
                               np.cov(x, ddof=correction, fweights=fweights))
    np.testing.assert_allclose(
        mg.cov(mg.tensor(x), correction=correction, fweights=mg.tensor(fweights),
               aweights=mg.tensor(aweights)).array,
        np.cov(x, ddof=correction, fweights=fweights, aweights=aweights))
    one = mg.cov(mg.tensor(x[0]), correction=correction, aweights=mg.tensor(aweights))
    assert one.shape == ()
    np.testing.assert_allclose(one.item(), np.cov(x[0], ddof=correction, aweights=aweights))
    assert mg.gradcheck(lambda t: mg.cov(t, correction=correction, aweights=mg.tensor(aweights)), (leaf(x),))


def test_cov_integer_input_and_errors():
    out = mg.cov(mg.tensor([[1, 2, 4], [3, 1, 0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, np.cov([[1, 2, 4], [3, 1, 0]]), rtol=1e-6)
    x = mg.tensor([1.0, 2.0, 4.0])
    with pytest.raises(RuntimeError, match="two or fewer dimensions but got an input with 3"):
        mg.cov(mg.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="fweights to have integral dtype"):
        mg.cov(x, fweights=mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="fweights cannot be negative"):
        mg.cov(x, fweights=mg.tensor([1, -2, 3]))
    with pytest.raises(RuntimeError, match="aweights to have floating point dtype"):
        mg.cov(x, aweights=mg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="aweights cannot be negative"):
        mg.cov(x, aweights=mg.tensor([1.0, -2.0, 3.0]))
    with pytest.raises(RuntimeError, match="same numel as there are observations in the input but got 2 != 3"):
        mg.cov(x, fweights=mg.tensor([1, 2]))


def test_corrcoef(rng):
    x = rng.standard_normal((4, 10))
    np.testing.assert_allclose(mg.corrcoef(mg.tensor(x)).array, np.corrcoef(x))
    np.testing.assert_allclose(mg.tensor(x).corrcoef().array, np.corrcoef(x))
    assert mg.corrcoef(mg.tensor([1.0, 2.0, 4.0])).item() == 1.0
    assert mg.gradcheck(mg.corrcoef, (leaf(x),))


# ------------------------------------------------------------ histc, histogram, bincount
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc_against_numpy(dtype, rng):
    x = rng.standard_normal(500).astype(dtype)
    for bins, low, high in [(10, 0, 0), (7, -1, 1), (100, 0.3, 2.0), (1, 0, 0)]:
        out = mg.histc(mg.tensor(x), bins, low, high)
        data_range = (x.min(), x.max()) if low == high == 0 else (low, high)
        expected, _ = np.histogram(x, bins, range=data_range)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.array, expected)
    np.testing.assert_array_equal(mg.tensor(x).histc(5).array, np.histogram(x, 5)[0])


def test_histc_one_value_widens_by_one_and_errors():
    np.testing.assert_array_equal(mg.histc(mg.tensor([2.0, 2.0]), 4).array, [0, 0, 2, 0])  # range [1, 3]
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        mg.histc(mg.tensor([1.0]), bins=-1)
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        mg.histc(mg.tensor([1.0]), 4, 3, 1)
    with pytest.raises(RuntimeError, match="is not finite"):
        mg.histc(mg.tensor([2.0, NAN]), 4)
    with pytest.raises(NotImplementedError, match="histogram_cpu"):
        mg.histc(mg.tensor([1, 2]), 4)


@pytest.mark.parametrize("density", [False, True])
@pytest.mark.parametrize("bins, value_range", [(10, None), (7, (-1.0, 1.0)), (30, (0.3, 2.0))])
def test_histogram_against_numpy(bins, value_range, density, rng):
    x = rng.standard_normal((20, 10))
    weight = rng.random((20, 10))
    for w in (None, weight):
        hist, edges = mg.histogram(mg.tensor(x), bins, range=value_range, density=density,
                                   weight=None if w is None else mg.tensor(w))
        expected, expected_edges = np.histogram(x, bins, range=value_range, density=density, weights=w)
        np.testing.assert_allclose(edges.array, expected_edges, rtol=1e-12)
        np.testing.assert_allclose(hist.array, expected, rtol=1e-10)


def test_histogram_edges_tensor_single_value_and_errors(rng):
    x = rng.standard_normal(300).astype(np.float32)
    edges = np.array([-1.5, -0.2, 0.0, 0.9, 2.0], dtype=np.float32)
    result = mg.tensor(x).histogram(mg.tensor(edges))
    np.testing.assert_array_equal(result.hist.array, np.histogram(x, edges)[0])
    np.testing.assert_array_equal(result.bin_edges.array, edges)
    hist, edges = mg.histogram(mg.tensor([2.0, 2.0]), 4)       # range [1.5, 2.5], as NumPy
    np.testing.assert_array_equal(hist.array, [0, 0, 2, 0])
    np.testing.assert_allclose(edges.array, [1.5, 1.75, 2.0, 2.25, 2.5])
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0"):
        mg.histogram(mg.tensor(x), 0)
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        mg.histogram(mg.tensor(x), 4, range=(3.0, 1.0))
    with pytest.raises(NotImplementedError, match="histogramdd"):
        mg.histogram(mg.tensor([1, 2]), 4)
    with pytest.raises(RuntimeError, match="weight should have the same shape"):
        mg.histogram(mg.tensor([1.0, 2.0]), 3, weight=mg.ones(3))


def test_bincount(rng):
    x = rng.integers(0, 7, 50)
    out = mg.bincount(mg.tensor(x))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.array, np.bincount(x))
    np.testing.assert_array_equal(mg.tensor(x).bincount(minlength=12).array, np.bincount(x, minlength=12))
    w = rng.random(50).astype(np.float32)
    weighted = mg.bincount(mg.tensor(x), mg.tensor(w))
    assert weighted.dtype == np.float32                       # float32 weights stay float32
    np.testing.assert_allclose(weighted.array, np.bincount(x, w), rtol=1e-6)
    assert mg.bincount(mg.tensor(x), mg.tensor(x)).dtype == np.float64   # other weights: double
    assert mg.bincount(mg.tensor(np.zeros(0, dtype=np.int64))).shape == (0,)


def test_bincount_errors():
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        mg.bincount(mg.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        mg.bincount(mg.tensor([[1, 2]]))
    with pytest.raises(RuntimeError, match="not implemented for float32"):
        mg.bincount(mg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        mg.bincount(mg.tensor([1, 2]), minlength=-1)
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        mg.bincount(mg.tensor([1, 2]), weights=mg.tensor([1.0, 2.0, 3.0]))


# ------------------------------------------------------------ unique, unique_consecutive
@pytest.mark.parametrize("return_inverse, return_counts", list(itertools.product([False, True], repeat=2)))
def test_unique_flat(return_inverse, return_counts, rng):
    x = rng.integers(-3, 4, (4, 6))
    result = mg.unique(mg.tensor(x), return_inverse=return_inverse, return_counts=return_counts)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    results = result if isinstance(result, tuple) else (result,)
    assert len(results) == 1 + return_inverse + return_counts
    np.testing.assert_array_equal(results[0].array, values)
    if return_inverse:
        assert results[1].dtype == np.int64 and results[1].shape == x.shape
        np.testing.assert_array_equal(values[results[1].array], x)
    if return_counts:
        np.testing.assert_array_equal(results[-1].array, counts)


def test_unique_dim_and_nans(rng):
    x = np.array([[1, 2], [1, 2], [0, 5], [1, 0]])
    values, inverse, counts = mg.tensor(x).unique(return_inverse=True, return_counts=True, dim=0)
    np.testing.assert_array_equal(values.array, [[0, 5], [1, 0], [1, 2]])
    np.testing.assert_array_equal(inverse.array, [2, 2, 0, 1])
    np.testing.assert_array_equal(counts.array, [1, 1, 2])
    columns = mg.unique(mg.tensor(x), dim=1)
    np.testing.assert_array_equal(columns.array, np.unique(x, axis=1))
    values, counts = mg.unique(mg.tensor([NAN, 1.0, NAN]), return_counts=True)  # NaNs all distinct
    np.testing.assert_array_equal(values.array, [1.0, NAN, NAN])
    np.testing.assert_array_equal(counts.array, [1, 1, 1])
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.unique(mg.tensor(x), dim=3)


def consecutive_reference(sequence):
    groups = [(key, len(list(group))) for key, group in itertools.groupby(sequence)]
    return [g[0] for g in groups], [g[1] for g in groups]


def test_unique_consecutive(rng):
    x = rng.integers(0, 3, 30)
    values, inverse, counts = mg.unique_consecutive(mg.tensor(x), return_inverse=True, return_counts=True)
    expected_values, expected_counts = consecutive_reference(x.tolist())
    np.testing.assert_array_equal(values.array, expected_values)
    np.testing.assert_array_equal(counts.array, expected_counts)
    np.testing.assert_array_equal(values.array[inverse.array], x)
    rows = np.array([[1, 1], [1, 1], [2, 3], [1, 1]])
    values, inverse, counts = mg.tensor(rows).unique_consecutive(True, True, dim=0)
    np.testing.assert_array_equal(values.array, [[1, 1], [2, 3], [1, 1]])
    np.testing.assert_array_equal(inverse.array, [0, 0, 1, 2])
    np.testing.assert_array_equal(counts.array, [2, 1, 1])
    np.testing.assert_array_equal(mg.unique_consecutive(mg.tensor([NAN, NAN, 1.0])).array, [NAN, NAN, 1.0])


# ------------------------------------------------------------ diff, gradient, trapezoid
@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_diff_against_numpy(n, dim, rng):
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(mg.diff(mg.tensor(x), n, dim).array, np.diff(x, n, axis=dim))
    before, after = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    if dim != 0:
        out = mg.tensor(x).diff(n, dim, prepend=mg.tensor(before), append=mg.tensor(after))
        np.testing.assert_allclose(out.array, np.diff(x, n, axis=dim, prepend=before, append=after))
        assert mg.gradcheck(lambda t, b: mg.diff(t, n, dim, prepend=b), (leaf(x), leaf(before)))
    else:
        assert mg.gradcheck(lambda t: mg.diff(t, n, dim), (leaf(x),))


def test_diff_bool_integer_and_errors():
    np.testing.assert_array_equal(mg.diff(mg.tensor([True, False, False])).array, [True, False])
    out = mg.diff(mg.tensor([1, 3, 2]), n=5)
    assert out.shape == (0,) and out.dtype == np.int64
    with pytest.raises(RuntimeError, match="order must be non-negative but got -1"):
        mg.diff(mg.tensor([1, 3, 2]), n=-1)
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        mg.diff(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="prepend or append to be the same dimension"):
        mg.diff(mg.ones(2, 3), prepend=mg.ones(3))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_against_numpy(edge_order, rng):
    f = rng.standard_normal((5, 6))
    for out, expected in zip(mg.gradient(mg.tensor(f), edge_order=edge_order),
                             np.gradient(f, edge_order=edge_order)):
        np.testing.assert_allclose(out.array, expected)
    out, = mg.gradient(mg.tensor(f), spacing=2.0, dim=1, edge_order=edge_order)
    np.testing.assert_allclose(out.array, np.gradient(f, 2.0, axis=1, edge_order=edge_order))
    for out, expected in zip(mg.gradient(mg.tensor(f), spacing=[0.5, 3.0], edge_order=edge_order),
                             np.gradient(f, 0.5, 3.0, edge_order=edge_order)):
        np.testing.assert_allclose(out.array, expected)
    rows, columns = np.cumsum(rng.random(5) + 0.1), np.cumsum(rng.random(6) + 0.1)
    for out, expected in zip(mg.gradient(mg.tensor(f), spacing=[mg.tensor(rows), mg.tensor(columns)],
                                         edge_order=edge_order),
                             np.gradient(f, rows, columns, edge_order=edge_order)):
        np.testing.assert_allclose(out.array, expected)
    assert mg.gradcheck(lambda t: mg.gradient(t, spacing=[mg.tensor(rows), mg.tensor(columns)],
                                              edge_order=edge_order), (leaf(f),))
    assert mg.gradcheck(lambda t: mg.gradient(t, dim=0, edge_order=edge_order), (leaf(f),))


def test_gradient_integer_input_and_errors():
    out, = mg.gradient(mg.tensor([1, 3, 2, 5]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.array, [2.0, 0.5, 1.0, 3.0])
    with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
        mg.gradient(mg.tensor([1.0, 3.0, 2.0]), edge_order=3)
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        mg.gradient(mg.tensor([1.0, 3.0]), edge_order=2)
    with pytest.raises(RuntimeError, match="list of length equal to 'self.dim\\(\\) = 1'"):
        mg.gradient(mg.tensor([1.0, 3.0, 2.0]), spacing=[2.0, 3.0])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_trapezoid_rules_against_scipy(dim, rng):
    y = rng.standard_normal((4, 5))
    x = np.cumsum(rng.random(y.shape[dim]) + 0.1)
    np.testing.assert_allclose(mg.trapezoid(mg.tensor(y), dim=dim).array, integrate.trapezoid(y, axis=dim))
    np.testing.assert_allclose(mg.trapezoid(mg.tensor(y), dx=0.3, dim=dim).array,
                               integrate.trapezoid(y, dx=0.3, axis=dim))
    np.testing.assert_allclose(mg.trapezoid(mg.tensor(y), mg.tensor(x), dim=dim).array,
                               integrate.trapezoid(y, x, axis=dim))
    np.testing.assert_allclose(mg.trapz(mg.tensor(y), mg.tensor(x), dim=dim).array,
                               integrate.trapezoid(y, x, axis=dim))
    np.testing.assert_allclose(mg.cumulative_trapezoid(mg.tensor(y), mg.tensor(x), dim=dim).array,
                               integrate.cumulative_trapezoid(y, x, axis=dim))
    np.testing.assert_allclose(mg.cumulative_trapezoid(mg.tensor(y), dx=2, dim=dim).array,
                               integrate.cumulative_trapezoid(y, dx=2, axis=dim))
    assert mg.gradcheck(lambda t: mg.trapezoid(t, mg.tensor(x), dim=dim), (leaf(y),))
    assert mg.gradcheck(lambda t: mg.cumulative_trapezoid(t, dx=0.5, dim=dim), (leaf(y),))
    assert mg.gradcheck(lambda t: mg.trapz(t, dim=dim), (leaf(y),))


def test_trapezoid_sample_points_per_row_integers_and_errors(rng):
    y = rng.standard_normal((3, 5))
    x = np.cumsum(rng.random((3, 5)), axis=1)
    np.testing.assert_allclose(mg.trapezoid(mg.tensor(y), mg.tensor(x)).array, integrate.trapezoid(y, x))
    assert mg.gradcheck(lambda t, s: mg.trapezoid(t, s), (leaf(y), leaf(x)))
    out = mg.trapezoid(mg.tensor([1, 3, 2]))
    assert out.dtype == np.float32 and out.item() == 4.5
    with pytest.raises(RuntimeError, match="There must be one `x` value for each sample point"):
        mg.trapezoid(mg.tensor([1.0, 3.0, 2.0]), mg.tensor([1.0, 3.0]))
    with pytest.raises(TypeError, match="x must be a Tensor"):
        mg.trapezoid(mg.tensor([1.0, 3.0, 2.0]), 2.0)


# ------------------------------------------------------------ searchsorted, bucketize
def test_searchsorted_and_bucketize_against_numpy(rng):
    boundaries = np.array([-1.0, 0.0, 0.0, 0.5, 1.0])
    values = np.array([[-2.0, 0.0, 0.5, 0.7], [1.0, 2.0, -1.0, 0.25]])
    for right in (False, True):
        side = "right" if right else "left"
        expected = np.searchsorted(boundaries, values, side=side)
        out = mg.searchsorted(mg.tensor(boundaries), mg.tensor(values), right=right)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.array, expected)
        np.testing.assert_array_equal(mg.searchsorted(mg.tensor(boundaries), mg.tensor(values),
                                                      side=side).array, expected)
        out = mg.bucketize(mg.tensor(values), mg.tensor(boundaries), right=right, out_int32=True)
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out.array, expected)
    assert mg.searchsorted(mg.tensor(boundaries), 0.2).item() == 3
    assert mg.bucketize(0.0, mg.tensor(boundaries)).item() == 1


def test_searchsorted_rows_and_sorter(rng):
    sequence = np.sort(rng.standard_normal((3, 6)), axis=1)
    values = rng.standard_normal((3, 4))
    out = mg.searchsorted(mg.tensor(sequence), mg.tensor(values))
    np.testing.assert_array_equal(out.array, [np.searchsorted(s, v) for s, v in zip(sequence, values)])
    shuffled = np.ascontiguousarray(sequence[:, rng.permutation(6)])
    sorter = np.argsort(shuffled, axis=1)
    out = mg.searchsorted(mg.tensor(shuffled), mg.tensor(values), side="right", sorter=mg.tensor(sorter))
    np.testing.assert_array_equal(out.array, [np.searchsorted(s, v, side="right")
                                              for s, v in zip(sequence, values)])


def test_searchsorted_errors():
    boundaries = mg.tensor([1, 3, 5])
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        mg.searchsorted(boundaries, mg.tensor([3]), side="left", right=True)
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got foo"):
        mg.searchsorted(boundaries, mg.tensor([3]), side="foo")
    with pytest.raises(RuntimeError, match="first N-1 dimensions of boundaries tensor and input value"):
        mg.searchsorted(mg.tensor([[1, 3, 5]]), mg.tensor([[3], [4]]))
    with pytest.raises(RuntimeError, match="input value can be a scalar only when boundaries tensor "
                                           "dimension is 1"):
        mg.searchsorted(mg.tensor([[1, 3, 5]]), 3)
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension, but got dim\\(2\\)"):
        mg.bucketize(mg.tensor([3.0]), mg.tensor([[1, 3, 5]]))


# ------------------------------------------------------------ poisson
def test_poisson_samples_rates_and_seeding():
    rates = mg.tensor(np.array([0.0, 0.5, 3.0, 20.0] * 5000, dtype=np.float32).reshape(-1, 4))
    draws = mg.poisson(rates)
    assert draws.dtype == np.float32 and draws.shape == rates.shape
    assert np.all(draws.array[:, 0] == 0) and np.all(draws.array == np.round(draws.array))
    # 5000 draws per rate: the sample mean is within 5 standard errors sqrt(rate / 5000)
    means = draws.array.mean(axis=0)
    np.testing.assert_allclose(means[1:], [0.5, 3.0, 20.0], atol=0, rtol=5 * np.sqrt(1 / (5000 * 0.5)))
    np.testing.assert_allclose(draws.array.var(axis=0)[1:], [0.5, 3.0, 20.0], rtol=0.1)
    first = mg.poisson(rates, generator=mg.Generator().manual_seed(7))
    again = mg.poisson(rates, generator=mg.Generator().manual_seed(7))
    np.testing.assert_array_equal(first.array, again.array)


def test_poisson_gradient_is_zero_and_errors():
    rates = leaf([1.0, 3.0])
    mg.poisson(rates).sum().backward()
    np.testing.assert_array_equal(rates.grad.array, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
        mg.poisson(mg.tensor([-1.0]))
    with pytest.raises(RuntimeError, match="poisson_cpu"):
        mg.poisson(mg.tensor([1, 2]))
