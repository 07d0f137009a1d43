"""Layout queries, unfold and the legacy shape methods, random in-place fills and
indexed writes: values against plain NumPy loops, gradients by float64 finite
differences (minigrad.gradcheck), errors as PyTorch raises them."""
import pickle

import numpy as np
import pytest

import minigrad
from minigrad import gradcheck

rng = np.random.default_rng(7)


def t64(values, requires_grad=True):
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def long(values):
    return minigrad.tensor(np.asarray(values, dtype=np.int64))


# ------------------------------------------------------------------ layout
def test_stride_storage_offset_contiguity():
    x = minigrad.zeros(2, 3, 4)
    assert x.stride() == (12, 4, 1)
    assert x.stride(0) == 12 and x.stride(-1) == 1
    assert x.is_contiguous()
    xt = x.transpose(0, 2)
    assert xt.stride() == (1, 4, 12)
    assert not xt.is_contiguous()
    column = x[:, 1]
    assert column.storage_offset() == 4
    assert x[1, 2, 3:].storage_offset() == 12 + 8 + 3
    assert x.storage_offset() == 0
    assert column.data_ptr() - x.data_ptr() == 4 * x.element_size()
    assert x[:, :, :1].is_contiguous() is False
    assert minigrad.zeros(3, 1)[:, :1].is_contiguous()  # size-1 dims have any stride
    with pytest.raises(IndexError):
        x.stride(3)


def test_channels_last_contiguity_and_memory_format_names():
    nhwc = minigrad.zeros(2, 4, 5, 3).permute(0, 3, 1, 2)  # (N, C, H, W) with C fastest
    assert nhwc.is_contiguous(memory_format=minigrad.channels_last)
    assert not nhwc.is_contiguous()
    assert not minigrad.zeros(2, 3, 4, 5).is_contiguous(memory_format=minigrad.channels_last)
    assert minigrad.zeros(2, 4, 5, 6, 3).permute(0, 4, 1, 2, 3).is_contiguous(
        memory_format=minigrad.channels_last_3d)
    assert repr(minigrad.channels_last) == "torch.channels_last"
    with pytest.raises(RuntimeError, match="preserve_format"):
        minigrad.zeros(2).is_contiguous(memory_format=minigrad.preserve_format)


def test_device_and_layout_properties():
    x = minigrad.zeros(2)
    assert x.is_cpu is True
    assert x.get_device() == -1
    assert x.layout is minigrad.strided
    assert repr(minigrad.strided) == "torch.strided"
    assert pickle.loads(pickle.dumps(minigrad.strided)) is minigrad.strided


# ------------------------------------------------------------------ unfold
def unfold_reference(array, axis, size, step):
    count = (array.shape[axis] - size) // step + 1
    windows = [np.take(array, range(i * step, i * step + size), axis=axis) for i in range(count)]
    stacked = np.stack(windows, axis=axis)  # (..., count, ..., [window at axis + 1])
    return np.moveaxis(stacked, axis + 1, -1)


@pytest.mark.parametrize("dim,size,step", [(1, 3, 2), (0, 2, 1), (-1, 4, 5), (-1, 2, 3), (2, 1, 3), (1, 5, 1)])
def test_unfold_values_and_gradient(dim, size, step):
    values = rng.standard_normal((3, 5, 4))
    x = t64(values)
    out = x.unfold(dim, size, step)
    np.testing.assert_allclose(out.detach().numpy(), unfold_reference(values, dim % 3, size, step))
    assert gradcheck(lambda a: a.unfold(dim, size, step), (x,))


def test_unfold_zero_dim_and_errors():
    out = minigrad.tensor(5.0).unfold(0, 1, 1)
    assert out.shape == (1,) and out.item() == 5.0
    x = minigrad.zeros(5)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 5 but size is 6"):
        x.unfold(0, 6, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        x.unfold(0, 2, 0)


# --------------------------------------------------------- legacy shape methods
def test_sum_to_size_values_gradient_and_errors():
    values = rng.standard_normal((3, 4, 5))
    x = t64(values)
    np.testing.assert_allclose(x.sum_to_size(1, 5).detach().numpy(), values.sum(axis=(0, 1)).reshape(1, 5))
    np.testing.assert_allclose(x.sum_to_size((4, 1)).detach().numpy(), values.sum(axis=(0, 2))[:, None])
    assert x.sum_to_size(3, 4, 5) is x
    assert gradcheck(lambda a: a.sum_to_size(4, 1), (x,))
    with pytest.raises(RuntimeError, match="is not expandable to size"):
        x.sum_to_size(2, 5)


def test_new_legacy_constructor():
    x = minigrad.zeros(2, dtype=minigrad.float64)
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == minigrad.float64
    assert x.new(minigrad.Size([4])).shape == (4,)
    data = x.new([1, 2])
    assert data.dtype == minigrad.float64 and data.tolist() == [1.0, 2.0]
    assert x.new((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, as in PyTorch
    assert x.new().shape == (0,)
    with pytest.raises(RuntimeError, match="negative"):
        x.new(2, -1)


def test_resize_keeps_leading_elements():
    x = minigrad.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    version = x._version
    assert x.resize_(2, 2) is x
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    assert x._version == version + 1
    x.resize_(3, 2)
    assert x.shape == (3, 2)
    np.testing.assert_array_equal(x.numpy()[:2], [[1.0, 2.0], [3.0, 4.0]])
    y = minigrad.zeros(4, 1)
    x.resize_as_(y)
    assert x.shape == (4, 1)
    np.testing.assert_array_equal(x.numpy().ravel(), [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        t64([1.0]).resize_(2)
    with pytest.raises(RuntimeError, match="negative"):
        x.resize_(-1)


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False), ((3, 5), True),
                                        ((3, 3, 3), False)])
def test_fill_diagonal_values_and_gradient(shape, wrap):
    values = rng.standard_normal(shape)
    expected = values.copy()
    if len(shape) == 2:  # by hand: (i, i), restarting every ncols + 1 rows when wrapping
        rows, cols = shape
        for i in range(rows):
            block, j = divmod(i, cols + 1)
            if (block == 0 or wrap) and j < cols:
                expected[i, j] = 2.5
    else:
        for i in range(shape[0]):
            expected[i, i, i] = 2.5
    x = t64(values, requires_grad=False)
    x.fill_diagonal_(2.5, wrap=wrap)
    np.testing.assert_allclose(x.numpy(), expected)
    leaf = t64(values)
    assert gradcheck(lambda a: (a * 1).fill_diagonal_(2.5, wrap=wrap), (leaf,))
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        minigrad.zeros(2, 3, 4).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.fill_diagonal_(0)


# ------------------------------------------------------------- random fills
def test_random_fill_statistics():
    minigrad.manual_seed(0)
    n = 200_000
    x = minigrad.empty(n, dtype=minigrad.float64)
    assert abs(x.exponential_(2.0).mean().item() - 0.5) < 0.01
    assert x.min().item() >= 0
    assert abs(x.geometric_(0.25).mean().item() - 4.0) < 0.05
    assert x.min().item() == 1.0 and float(np.abs(x.numpy() - np.round(x.numpy())).max()) == 0.0
    c = x.cauchy_(3.0, 0.5).numpy()
    assert abs(np.median(c) - 3.0) < 0.01
    assert abs(np.mean(np.abs(c - 3.0) < 0.5) - 0.5) < 0.01  # half the mass within one sigma
    logs = np.log(x.log_normal_(1.0, 0.5).numpy())
    assert abs(logs.mean() - 1.0) < 0.01 and abs(logs.std() - 0.5) < 0.01
    assert abs(x.bernoulli_(0.3).mean().item() - 0.3) < 0.01
    assert set(np.unique(x.numpy())) == {0.0, 1.0}
    values = x.random_(2, 7).numpy()
    assert set(np.unique(values)) == {2.0, 3.0, 4.0, 5.0, 6.0}
    assert abs(values.mean() - 4.0) < 0.02
    assert set(np.unique(x.random_(3).numpy())) == {0.0, 1.0, 2.0}
    assert set(np.unique(x.random_(**{"from": -2, "to": 0}).numpy())) == {-2.0, -1.0}
    wide = minigrad.empty(1000).random_().numpy()  # float32: integers in [0, 2**24]
    assert wide.min() >= 0 and wide.max() <= 2 ** 24 and wide.max() > 2 ** 23
    ints = minigrad.empty(1000, dtype=minigrad.int64).random_().numpy()
    assert ints.min() >= 0 and ints.max() > 2 ** 61


def test_random_fills_are_reproducible_and_take_a_generator():
    minigrad.manual_seed(5)
    first = minigrad.empty(50).exponential_().numpy().copy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(minigrad.empty(50).exponential_().numpy(), first)
    g1, g2 = minigrad.Generator().manual_seed(3), minigrad.Generator().manual_seed(3)
    a = minigrad.empty(20).cauchy_(generator=g1).numpy().copy()
    np.testing.assert_array_equal(minigrad.empty(20).cauchy_(generator=g2).numpy(), a)


def test_bernoulli_with_tensor_probabilities_and_methods():
    minigrad.manual_seed(1)
    p = minigrad.tensor(np.array([0.0, 1.0, 0.5], dtype=np.float32))
    draws = np.stack([minigrad.empty(3).bernoulli_(p).numpy() for _ in range(2000)])
    assert draws[:, 0].max() == 0 and draws[:, 1].min() == 1 and abs(draws[:, 2].mean() - 0.5) < 0.05
    probabilities = minigrad.full((4000,), 0.2)
    assert abs(probabilities.bernoulli().mean().item() - 0.2) < 0.03
    weights = minigrad.tensor([0.0, 1.0, 3.0])
    samples = weights.multinomial(4000, replacement=True).numpy()
    assert samples.min() >= 1 and abs(np.mean(samples == 2) - 0.75) < 0.03
    assert sorted(weights.multinomial(2).tolist()) == [1, 2]


def test_random_fill_errors():
    x = minigrad.empty(3)
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0, but found lambda=0"):
        x.exponential_(0)
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\), but got p=0"):
        x.geometric_(0)
    with pytest.raises(RuntimeError, match="log_normal_ expects std > 0.0, but found std=0"):
        x.log_normal_(1, 0)
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=2"):
        x.bernoulli_(2)
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0, but found sigma=0"):
        x.cauchy_(0, 0)
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to', but got from=5 >= to=2"):
        x.random_(5, 2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        t64([1.0]).exponential_()
    with pytest.raises(TypeError, match="must be an int"):
        x.random_(1.5)


# ------------------------------------------------------------ indexed writes
def test_index_put_values_gradient_and_errors():
    values = rng.standard_normal((4, 5))
    rows, cols = np.array([0, 2, 3]), np.array([1, 1, 4])
    new = rng.standard_normal(3)
    expected = values.copy()
    for r, c, v in zip(rows, cols, new):
        expected[r, c] = v
    x, v = t64(values), t64(new)
    out = x.index_put((long(rows), long(cols)), v)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    assert gradcheck(lambda a, b: a.index_put((long(rows), long(cols)), b), (x, v))
    # accumulate: repeated rows add up; values broadcast along the row
    row_values = rng.standard_normal(5)
    expected = values.copy()
    for r in (0, 0, 3):
        expected[r] += row_values
    out = x.index_put((long([0, 0, 3]),), t64(row_values), accumulate=True)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    assert gradcheck(lambda a, b: a.index_put((long([0, 0, 3]),), b, accumulate=True), (x, t64(row_values)))
    # a bool mask and a broadcast scalar value
    mask = values > 0
    out = x.index_put((minigrad.tensor(mask),), t64([7.0]))
    np.testing.assert_allclose(out.detach().numpy(), np.where(mask, 7.0, values))
    assert gradcheck(lambda a, b: a.index_put((minigrad.tensor(mask),), b), (x, t64([7.0])))
    # in place
    y = t64(values, requires_grad=False)
    y.index_put_((long([1]),), t64(np.zeros(5), requires_grad=False))
    np.testing.assert_allclose(y.numpy()[1], 0.0)
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        x.index_put(long([0]), v)
    with pytest.raises(RuntimeError, match="cannot be broadcast to indexing result"):
        x.index_put((long([0, 1]),), t64(np.ones((3, 3))))
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        x.index_put((long([0]),), minigrad.ones(5))


def test_put_values_gradient_and_errors():
    values = rng.standard_normal((3, 4))
    index = np.array([[0, -1], [5, 2]])
    source = rng.standard_normal((2, 2))
    expected = values.copy().ravel()
    for i, s in zip(index.ravel(), source.ravel()):
        expected[i] = s
    x, s = t64(values), t64(source)
    np.testing.assert_allclose(x.put(long(index), s).detach().numpy(), expected.reshape(3, 4))
    assert gradcheck(lambda a, b: a.put(long(index), b), (x, s))
    expected = values.copy().ravel()
    for i, v in zip([0, 0, 7], [1.0, 2.0, 3.0]):
        expected[i] += v
    out = x.put(long([0, 0, 7]), t64([1.0, 2.0, 3.0]), accumulate=True)
    np.testing.assert_allclose(out.detach().numpy(), expected.reshape(3, 4))
    assert gradcheck(lambda a, b: a.put(long([0, 0, 7]), b, accumulate=True), (x, t64([1.0, 2.0, 3.0])))
    y = t64(values, requires_grad=False)
    y.put_(long([11]), t64([9.0], requires_grad=False))
    assert y.numpy()[2, 3] == 9.0
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12 elements"):
        x.put(long([12]), t64([1.0]))
    with pytest.raises(IndexError, match="same number of elements"):
        x.put(long([0, 1]), t64([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index"):
        x.put(t64([0.0], requires_grad=False), t64([1.0]))


def test_masked_scatter_values_gradient_and_errors():
    values = rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) > 0.5
    source = rng.standard_normal((4, 4))
    expected = values.copy()
    taken = iter(source.ravel())
    for i in range(3):
        for j in range(4):
            if mask[i, j]:
                expected[i, j] = next(taken)
    x, s = t64(values), t64(source)
    np.testing.assert_allclose(x.masked_scatter(minigrad.tensor(mask), s).detach().numpy(), expected)
    assert gradcheck(lambda a, b: a.masked_scatter(minigrad.tensor(mask), b), (x, s))
    # the mask broadcasts with the input (a row mask, the same for every row)
    row_mask = np.array([True, False, True, True])
    out = x.masked_scatter(minigrad.tensor(row_mask), s)
    flat = source.ravel()
    expected = values.copy()
    expected[:, row_mask] = flat[:9].reshape(3, 3)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    assert gradcheck(lambda a, b: a.masked_scatter(minigrad.tensor(row_mask), b), (x, s))
    y = t64(values, requires_grad=False)
    y.masked_scatter_(minigrad.tensor(mask), t64(source, requires_grad=False))
    np.testing.assert_allclose(y.numpy()[mask], source.ravel()[:mask.sum()])
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        x.masked_scatter(minigrad.tensor(np.ones((3, 4), dtype=bool)), t64(np.ones(5)))
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_scatter(t64(np.ones((3, 4)), requires_grad=False), s)


def index_reduce_reference(values, dim, index, source, reduce, include_self):
    out = np.moveaxis(values.copy(), dim, 0)
    src = np.moveaxis(source, dim, 0)
    for row in set(index.tolist()):
        members = [src[i] for i in range(len(index)) if index[i] == row]
        if include_self:
            members.append(out[row])
        stack = np.stack(members)
        out[row] = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](stack, axis=0)
    return np.moveaxis(out, 0, dim)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_values_and_gradient(reduce, include_self):
    values = rng.standard_normal((3, 4, 2))
    source = rng.standard_normal((3, 5, 2))
    index = np.array([0, 2, 0, 3, 0])
    if reduce == "prod":  # exact zeros: one zero in a group, and two zeros in another
        values[1, 0, 0] = 0.0
        source[1, 0, 0] = 0.0
        source[2, 2, 1] = 0.0
    x, s = t64(values), t64(source)
    out = x.index_reduce(1, long(index), s, reduce, include_self=include_self)
    np.testing.assert_allclose(out.detach().numpy(),
                               index_reduce_reference(values, 1, index, source, reduce, include_self))
    # (finite differences across an exact zero are exact for a product: it is linear in each member)
    assert gradcheck(lambda a, b: a.index_reduce(1, long(index), b, reduce, include_self=include_self), (x, s))


def test_index_reduce_ties_share_the_gradient_and_int_mean_floors():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    s = t64([[5.0, 1.0], [5.0, 1.0]])
    out = x.index_reduce(0, long([0, 0]), s, "amax")
    np.testing.assert_allclose(out.detach().numpy(), [[5.0, 2.0], [3.0, 4.0]])
    out.sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), [[0.5, 0.0], [0.5, 0.0]])  # two equal maxima
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 1.0], [1.0, 1.0]])
    ints = minigrad.tensor(np.array([[1, 2, 3], [4, 5, 6]]))
    out = ints.index_reduce(0, long([0, 0]), minigrad.tensor(np.array([[2, 2, 2], [3, 3, 4]])), "mean")
    assert out.tolist() == [[2, 2, 3], [4, 5, 6]]  # (1 + 2 + 3) // 3, 7 // 3, 9 // 3
    y = t64([[1.0, 2.0]], requires_grad=False)
    y.index_reduce_(1, long([1, 1]), t64([[3.0, 4.0]], requires_grad=False), "prod", include_self=False)
    assert y.tolist() == [[1.0, 12.0]]


def test_index_reduce_errors():
    x = t64(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin but got sum"):
        x.index_reduce(0, long([0]), t64(np.ones((1, 3))), "sum")
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\)"):
        x.index_reduce(0, long([0, 0]), t64(np.ones((3, 3))), "prod")
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_reduce(0, long([0, 2]), t64(np.ones((2, 3))), "prod")


def test_select_slice_diagonal_scatter_values_and_gradients():
    values = rng.standard_normal((3, 5))
    x = t64(values)
    src = rng.standard_normal(3)
    expected = values.copy()
    expected[:, -1] = src
    np.testing.assert_allclose(minigrad.select_scatter(x, t64(src), 1, -1).detach().numpy(), expected)
    assert gradcheck(lambda a, b: minigrad.select_scatter(a, b, 1, -1), (x, t64(src)))
    src = rng.standard_normal((3, 2))
    expected = values.copy()
    expected[:, 1::2] = src
    np.testing.assert_allclose(x.slice_scatter(t64(src), 1, 1, None, 2).detach().numpy(), expected)
    assert gradcheck(lambda a, b: minigrad.slice_scatter(a, b, dim=1, start=1, step=2), (x, t64(src)))
    cube = rng.standard_normal((3, 2, 4))
    diag = rng.standard_normal((2, 3))
    expected = cube.copy()
    for k in range(2):
        for i in range(3):
            expected[i, k, i + 1] = diag[k, i]  # offset 1 between dims 0 and 2
    out = minigrad.diagonal_scatter(t64(cube), t64(diag), 1, 0, 2)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    assert gradcheck(lambda a, b: a.diagonal_scatter(b, 1, 0, 2), (t64(cube), t64(diag)))
    expected = values.copy()
    expected[[1, 2], [0, 1]] = [4.0, 5.0]
    np.testing.assert_allclose(minigrad.diagonal_scatter(x, t64([4.0, 5.0]), -1).detach().numpy(), expected)
    with pytest.raises(RuntimeError, match=r"src size = \[3\], slice size = \[2\]"):
        minigrad.diagonal_scatter(t64(np.zeros((2, 3))), t64(np.ones(3)))
    with pytest.raises(RuntimeError, match=r"src size = \[2\], slice size = \[3\]"):
        minigrad.select_scatter(t64(np.zeros((2, 3))), t64(np.ones(2)), 0, 0)
    with pytest.raises(RuntimeError, match=r"src size = \[2, 2\], slice size = \[2, 3\]"):
        minigrad.slice_scatter(t64(np.zeros((2, 3))), t64(np.ones((2, 2))), 1, 0, 3)
    with pytest.raises(IndexError, match="out of range"):
        minigrad.select_scatter(t64(np.zeros((2, 3))), t64(np.ones(3)), 0, 2)


def test_isin():
    elements = minigrad.tensor(np.array([[1, 2], [3, 4]]))
    tests = minigrad.tensor(np.array([2, 3, 9]))
    assert minigrad.isin(elements, tests).tolist() == [[False, True], [True, False]]
    assert minigrad.isin(elements, tests, invert=True).tolist() == [[True, False], [False, True]]
    assert minigrad.isin(elements, 4).tolist() == [[False, False], [False, True]]
    assert minigrad.isin(3, tests).item() is True
    assert minigrad.isin(minigrad.tensor([1.0, 2.0]), minigrad.tensor([2, 3])).tolist() == [False, True]
    assert minigrad.isin(elements, tests).dtype == minigrad.bool
    with pytest.raises(TypeError, match="at least one"):
        minigrad.isin(1, 2)


def test_inplace_writes_differentiate_like_their_out_of_place_forms():
    values, source = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = minigrad.tensor(rng.random((3, 4)) > 0.5)
    index = long([2, 0])

    def inplace(a, b):
        out = a * 1  # a non-leaf: in-place writes rebase it onto the new node
        out.masked_scatter_(mask, b)
        out.index_put_((long([1]),), b[0] * 2, accumulate=True)
        out.put_(long([0, 11]), b[1, :2])
        out.index_reduce_(0, index, b[:2], "amax", include_self=False)
        return out

    def out_of_place(a, b):
        out = (a * 1).masked_scatter(mask, b)
        out = out.index_put((long([1]),), b[0] * 2, accumulate=True)
        out = out.put(long([0, 11]), b[1, :2])
        return out.index_reduce(0, index, b[:2], "amax", include_self=False)

    a, b = t64(values), t64(source)
    np.testing.assert_allclose(inplace(a, b).detach().numpy(), out_of_place(a, b).detach().numpy())
    assert gradcheck(inplace, (a, b))
