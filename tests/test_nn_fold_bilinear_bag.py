"""unfold/fold (against plain loops), bilinear, embedding_bag and ParameterList/ParameterDict.

Literal key lists, reprs and values marked "torch 2.13" were produced by PyTorch
2.13 for the same arguments.
"""
import copy
import itertools
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck, nn

# ---------------------------------------------------------------------------
# unfold / fold
# ---------------------------------------------------------------------------


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def unfold_loop(x, kernel_size, dilation=1, padding=0, stride=1):
    """columns[n, c*kh*kw + i*kw + j, oh*bw + ow] = padded x[n, c, oh*sh + i*dh, ow*sw + j*dw], by loops."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    N, C, H, W = x.shape
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    padded[:, :, ph:ph + H, pw:pw + W] = x
    bh = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    bw = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, C * kh * kw, bh * bw), dtype=x.dtype)
    for n, c, i, j, oh, ow in itertools.product(range(N), range(C), range(kh), range(kw), range(bh), range(bw)):
        out[n, c * kh * kw + i * kw + j, oh * bw + ow] = padded[n, c, oh * sh + i * dh, ow * sw + j * dw]
    return out


def fold_loop(columns, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The sum of every column entry into the place unfold read it from, by loops."""
    (H, W), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (output_size, kernel_size, dilation, padding,
                                                                 stride))
    N, CK, L = columns.shape
    C = CK // (kh * kw)
    bh = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    bw = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=columns.dtype)
    for n, c, i, j, oh, ow in itertools.product(range(N), range(C), range(kh), range(kw), range(bh), range(bw)):
        padded[n, c, oh * sh + i * dh, ow * sw + j * dw] += columns[n, c * kh * kw + i * kw + j, oh * bw + ow]
    return padded[:, :, ph:ph + H, pw:pw + W]


GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(1, 2), stride=2, dilation=2),
    dict(kernel_size=[3, 2], dilation=[1, 2], padding=[2, 0], stride=[1, 2]),
]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfold_and_fold_match_the_loops(rng, geometry, dtype):
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    columns = F.unfold(minigrad.tensor(x), **geometry)
    expected = unfold_loop(x, **geometry)
    assert columns.dtype == dtype and columns.shape == expected.shape
    np.testing.assert_allclose(columns.array, expected, rtol=1e-6)

    c = rng.standard_normal(expected.shape).astype(dtype)
    images = F.fold(minigrad.tensor(c), (7, 8), **geometry)
    assert images.dtype == dtype and images.shape == (2, 3, 7, 8)
    np.testing.assert_allclose(images.array, fold_loop(c, (7, 8), **geometry), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("geometry", GEOMETRIES[:2])
def test_reference_kernels_give_the_same(rng, geometry):
    x = rng.standard_normal((2, 3, 7, 8))
    with minigrad.use_reference_kernels():
        columns = F.unfold(minigrad.tensor(x), **geometry)
        images = F.fold(columns, (7, 8), **geometry)
    np.testing.assert_allclose(columns.array, unfold_loop(x, **geometry))
    np.testing.assert_allclose(images.array, fold_loop(unfold_loop(x, **geometry), (7, 8), **geometry))


def test_unbatched_inputs(rng):
    x = rng.standard_normal((3, 5, 6))
    columns = F.unfold(minigrad.tensor(x), 2, padding=1)
    assert columns.shape == (12, 42)
    np.testing.assert_allclose(columns.array, unfold_loop(x[None], 2, padding=1)[0])
    images = F.fold(columns, (5, 6), 2, padding=1)
    assert images.shape == (3, 5, 6)
    np.testing.assert_allclose(images.array, fold_loop(columns.array[None], (5, 6), 2, padding=1)[0])


def test_hand_computed_values():
    x = minigrad.arange(1.0, 10.0).reshape(1, 1, 3, 3)      # [[1 2 3] [4 5 6] [7 8 9]]
    columns = F.unfold(x, 2)
    # the four 2x2 blocks, one per column: top-left entries 1 2 4 5, top-right 2 3 5 6, ...
    assert columns.array[0].tolist() == [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
    # fold adds the overlaps: the centre was read by all four blocks
    assert F.fold(columns, (3, 3), 2).array[0, 0].tolist() == [[1, 4, 3], [8, 20, 12], [7, 16, 9]]
    # non-overlapping blocks (stride = kernel): fold undoes unfold
    image = minigrad.randn(2, 3, 4, 6)
    np.testing.assert_array_equal(F.fold(F.unfold(image, 2, stride=2), (4, 6), 2, stride=2).array, image.array)


def test_fold_is_the_adjoint_of_unfold(rng):
    geometry = GEOMETRIES[1]
    x = rng.standard_normal((2, 3, 7, 8))
    c = rng.standard_normal(unfold_loop(x, **geometry).shape)
    left = np.sum(F.unfold(minigrad.tensor(x), **geometry).array * c)
    right = np.sum(x * F.fold(minigrad.tensor(c), (7, 8), **geometry).array)
    assert left == pytest.approx(right, rel=1e-12)


def test_empty_batch():
    assert F.unfold(minigrad.zeros(0, 3, 5, 6), 2).shape == (0, 12, 20)
    assert F.fold(minigrad.zeros(0, 12, 20), (5, 6), 2).shape == (0, 3, 5, 6)


@pytest.mark.parametrize("geometry", GEOMETRIES[:3])
def test_gradcheck(rng, geometry):
    x = minigrad.tensor(rng.standard_normal((2, 2, 6, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, **geometry), (x,))
    blocks = unfold_loop(x.array, **geometry).shape
    c = minigrad.tensor(rng.standard_normal(blocks), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, (6, 7), **geometry), (c,))
    unbatched = minigrad.tensor(rng.standard_normal((2, 6, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, **geometry), (unbatched,))


def test_each_is_the_others_backward(rng):
    x = minigrad.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    columns = F.unfold(x, 3, padding=1)
    assert columns.grad_fn.name() == "Im2ColBackward0"
    g = rng.standard_normal(columns.shape)
    columns.backward(minigrad.tensor(g))
    np.testing.assert_allclose(x.grad.array, fold_loop(g, (5, 5), 3, padding=1))
    c = minigrad.tensor(rng.standard_normal((1, 18, 25)), requires_grad=True)
    images = F.fold(c, (5, 5), 3, padding=1)
    assert images.grad_fn.name() == "Col2ImBackward0"
    gy = rng.standard_normal(images.shape)
    images.backward(minigrad.tensor(gy))
    np.testing.assert_allclose(c.grad.array, unfold_loop(gy, 3, padding=1))


def test_float16_computed_in_float32(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float16)
    out = F.unfold(minigrad.tensor(x), 2)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.array, unfold_loop(x.astype(np.float32), 2), rtol=1e-3)
    assert F.fold(out, (4, 4), 2).dtype == np.float16


# torch 2.13's messages
@pytest.mark.parametrize("call, error, message", [
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), (7, 2)), RuntimeError,
     "calculated shape of the array of sliding blocks as (-1, 5), but its components must be at least one"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 0), RuntimeError,
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 2, stride=0), RuntimeError,
     "stride should be greater than zero, but got stride_height: 0 stride_width: 0"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 2, padding=-1), RuntimeError,
     "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 2, dilation=(1, 0)), RuntimeError,
     "dilation should be greater than zero, but got dilation_height: 1 dilation_width: 0"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), (2, 2, 2)), RuntimeError,
     "It is expected kernel_size equals to 2, but got size 3"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 2, padding=(1, 2, 3)), RuntimeError,
     "It is expected padding equals to 2, but got size 3"),
    (lambda: F.unfold(minigrad.randn(2, 3, 5, 6), 2.5), TypeError, "must be tuple of ints"),
    (lambda: F.unfold(minigrad.randn(1, 2, 3, 4, 5), 2), RuntimeError,
     "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for "
     "input, but got: [1, 2, 3, 4, 5]"),
    (lambda: F.unfold(minigrad.randn(2, 0, 5, 6), 2), RuntimeError, "but got: [2, 0, 5, 6]"),
    (lambda: F.unfold(minigrad.randn(5, 6), 2), IndexError, "(5, 6)"),
    (lambda: F.unfold(minigrad.zeros(2, 3, 5, 6, dtype=minigrad.int64), 2), NotImplementedError,
     '"im2col_out_cpu" not implemented'),
    (lambda: F.fold(minigrad.randn(2, 12, 20), (5, 7), 2), RuntimeError,
     "Given output_size=(5, 7), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected "
     "size of input's dimension 2 to match the calculated number of sliding blocks 4 * 6 = 24, but got "
     "input.size(2)=20."),
    (lambda: F.fold(minigrad.randn(2, 13, 20), (5, 6), 2), RuntimeError,
     "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
     "input.size(1)=13 and kernel_size=(2, 2)."),
    (lambda: F.fold(minigrad.randn(1, 2, 12, 20), (5, 6), 2), RuntimeError,
     "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for "
     "input, but got: [1, 2, 12, 20]"),
    (lambda: F.fold(minigrad.randn(2, 12, 0), (1, 1), 2), RuntimeError, "but got: [2, 12, 0]"),
    (lambda: F.fold(minigrad.randn(2, 12, 20), (5, 6, 7), 2), RuntimeError,
     "It is expected output_size equals to 2, but got size 3"),
    (lambda: F.fold(minigrad.randn(2, 12, 20), (1, 1), 2), RuntimeError,
     "calculated number of sliding blocks 0 * 0 = 0, but got input.size(2)=20."),
    (lambda: F.fold(minigrad.randn(2, 12, 20), (5, 6), 2, stride=0), RuntimeError,
     "stride should be greater than zero"),
    (lambda: F.fold(minigrad.zeros(2, 12, 20, dtype=minigrad.int64), (5, 6), 2), NotImplementedError,
     '"col2im_out_cpu" not implemented'),
    (lambda: F.fold(np.zeros((2, 12, 20)), (5, 6), 2), TypeError, "must be Tensor"),
])
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_fold_unfold_layers():
    # torch 2.13's reprs; the layers keep their arguments as given and have no state
    unfold = nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))
    assert repr(unfold) == "Unfold(kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))"
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    fold = nn.Fold((4, 5), 2, stride=2)
    assert repr(fold) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=2)"
    assert repr(nn.Fold(output_size=4, kernel_size=2)) == \
        "Fold(output_size=4, kernel_size=2, dilation=1, padding=0, stride=1)"
    assert list(unfold.state_dict()) == [] and list(fold.state_dict()) == []
    x = minigrad.randn(2, 3, 5, 6)
    np.testing.assert_array_equal(unfold(x).array, unfold_loop(x.array, (2, 3), 2, 1, (1, 2)))
    c = minigrad.randn(2, 12, 4)                     # blocks: floor((4 - 2) / 2) + 1 = 2 by 2
    np.testing.assert_allclose(fold(c).array, fold_loop(c.array, (4, 5), 2, stride=2), rtol=1e-6)


# ---------------------------------------------------------------------------
# bilinear
# ---------------------------------------------------------------------------

def bilinear_loop(x1, x2, weight, bias):
    """y[b, o] = x1[b] @ weight[o] @ x2[b] + bias[o], by loops."""
    out = np.zeros((x1.shape[0], weight.shape[0]))
    for b, o in itertools.product(range(x1.shape[0]), range(weight.shape[0])):
        out[b, o] = x1[b] @ weight[o] @ x2[b] + (0 if bias is None else bias[o])
    return out


@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_the_loop(rng, with_bias):
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    weight, bias = rng.standard_normal((2, 3, 5)), rng.standard_normal(2) if with_bias else None
    out = F.bilinear(minigrad.tensor(x1), minigrad.tensor(x2), minigrad.tensor(weight),
                     None if bias is None else minigrad.tensor(bias))
    np.testing.assert_allclose(out.array, bilinear_loop(x1, x2, weight, bias), rtol=1e-12)


def test_bilinear_batch_shapes(rng):
    x1, x2 = rng.standard_normal((2, 7, 3)), rng.standard_normal((2, 7, 4))
    weight, bias = rng.standard_normal((5, 3, 4)), rng.standard_normal(5)
    out = F.bilinear(minigrad.tensor(x1), minigrad.tensor(x2), minigrad.tensor(weight), minigrad.tensor(bias))
    assert out.shape == (2, 7, 5)
    expected = bilinear_loop(x1.reshape(14, 3), x2.reshape(14, 4), weight, bias).reshape(2, 7, 5)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    one = F.bilinear(minigrad.tensor(x1[0, 0]), minigrad.tensor(x2[0, 0]), minigrad.tensor(weight),
                     minigrad.tensor(bias))
    assert one.shape == (5,)
    np.testing.assert_allclose(one.array, expected[0, 0], rtol=1e-12)
    assert F.bilinear(minigrad.zeros(0, 3), minigrad.zeros(0, 4), minigrad.randn(5, 3, 4)).shape == (0, 5)


def test_bilinear_hand_computed():
    # y = x1^T A x2 + b with A = [[1, 2], [3, 4]]: [1, 1] A [1, -1]^T = (1 + 3) - (2 + 4) = -2
    out = F.bilinear(minigrad.tensor([[1.0, 1.0]]), minigrad.tensor([[1.0, -1.0]]),
                     minigrad.tensor([[[1.0, 2.0], [3.0, 4.0]]]), minigrad.tensor([0.5]))
    assert out.array.tolist() == [[-1.5]]


def test_bilinear_gradcheck(rng):
    args = [minigrad.tensor(rng.standard_normal(shape), requires_grad=True)
            for shape in [(3, 2, 4), (3, 2, 5), (6, 4, 5), (6,)]]
    assert gradcheck(F.bilinear, args)
    assert gradcheck(lambda a, b, w: F.bilinear(a, b, w), args[:3])


def test_bilinear_layer(rng):
    minigrad.manual_seed(0)
    layer = nn.Bilinear(4, 100, 300)
    # torch 2.13: repr, state_dict keys, weight (out, in1, in2)
    assert repr(layer) == "Bilinear(in1_features=4, in2_features=100, out_features=300, bias=True)"
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (300, 4, 100)
    # U(-1/sqrt(in1), 1/sqrt(in1)) = U(-0.5, 0.5) for weight and bias: in2 plays no part
    for values in (layer.weight.array, layer.bias.array):
        assert np.abs(values).max() <= 0.5 and np.abs(values).max() > 0.49
        assert abs(values.mean()) < 0.05 and values.std() == pytest.approx(1 / np.sqrt(12), rel=0.05)
    x1, x2 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 100)).astype(np.float32)
    out = layer(minigrad.tensor(x1), minigrad.tensor(x2))
    np.testing.assert_allclose(out.array, bilinear_loop(x1, x2, layer.weight.array, layer.bias.array),
                               rtol=1e-4, atol=1e-5)
    plain = nn.Bilinear(3, 4, 5, bias=False)
    assert repr(plain) == "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=False)"
    assert list(plain.state_dict()) == ["weight"] and plain.bias is None
    assert nn.Bilinear(2, 3, 4, dtype=minigrad.float64).weight.dtype == np.float64


@pytest.mark.parametrize("call, error, message", [
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(3, 4), w, b), RuntimeError,
     "bilinear(): input batch dimensions do not match at dim 0: got 2 and 3"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(2, 5), w, b), RuntimeError,
     "bilinear(): input2 size does not match weight size: got 5 but expected 4"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 2), minigrad.randn(2, 4), w, b), RuntimeError,
     "bilinear(): input1 size does not match weight size: got 2 but expected 3"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(2, 4), w, minigrad.randn(4)), RuntimeError,
     "bilinear(): bias size does not match weight size: got 4 but expected 5"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(4), w, b), RuntimeError,
     "bilinear(): input dimensions do not match: got 2 and 1"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(2, 4), minigrad.randn(5, 3), b), IndexError,
     "weight of shape (5, 3)"),
    (lambda w, b: F.bilinear(minigrad.randn(2, 3), minigrad.randn(2, 4).double(), w, b), RuntimeError,
     "same floating dtype, got input1: float, input2: double, weight: float, bias: float"),
    (lambda w, b: F.bilinear(np.zeros((2, 3)), minigrad.randn(2, 4), w, b), TypeError, "must be Tensor"),
    (lambda w, b: nn.Bilinear(0, 4, 5), ValueError, "in1_features must be > 0, but got (in1_features=0)"),
    (lambda w, b: nn.Bilinear(-1, 4, 5), ValueError, "-1"),
])
def test_bilinear_errors(call, error, message):
    with pytest.raises(error) as info:
        call(minigrad.randn(5, 3, 4), minigrad.randn(5))
    assert message in str(info.value)


# ---------------------------------------------------------------------------
# embedding_bag
# ---------------------------------------------------------------------------

def embedding_bag_loop(indices, weight, offsets=None, mode="mean", per_sample_weights=None,
                       include_last_offset=False, padding_idx=None):
    """Each bag reduced row by row in plain Python (the reference)."""
    indices = np.asarray(indices)
    if indices.ndim == 2:
        bags = [list(range(b * indices.shape[1], (b + 1) * indices.shape[1])) for b in range(indices.shape[0])]
        indices = indices.reshape(-1)
        weights = None if per_sample_weights is None else np.asarray(per_sample_weights).reshape(-1)
    else:
        bounds = list(offsets) if include_last_offset else list(offsets) + [len(indices)]
        bags = [list(range(bounds[b], bounds[b + 1])) for b in range(len(bounds) - 1)]
        weights = per_sample_weights
    out = np.zeros((len(bags), weight.shape[1]))
    for b, positions in enumerate(bags):
        rows = [(weight[indices[i]], 1.0 if weights is None else weights[i]) for i in positions
                if indices[i] != padding_idx]
        if not rows:
            continue
        if mode == "sum":
            out[b] = sum(w * row for row, w in rows)
        elif mode == "mean":
            out[b] = sum(row for row, _ in rows) / len(rows)
        else:
            out[b] = np.max([row for row, _ in rows], axis=0)
    return out


BAG_INPUTS = [
    dict(input=np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 2, 7, 7]), offsets=np.array([0, 3, 3, 7])),
    dict(input=np.array([[1, 2, 4, 5], [4, 3, 2, 9], [2, 2, 2, 2]])),
    dict(input=np.array([1, 2, 2, 5, 2, 7]), offsets=np.array([0, 2, 3, 6]), include_last_offset=True),
]


@pytest.mark.parametrize("case", BAG_INPUTS)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_matches_the_loop(rng, case, mode, padding_idx):
    weight = rng.standard_normal((10, 4))
    offsets = case.get("offsets")
    out = F.embedding_bag(minigrad.tensor(case["input"]), minigrad.tensor(weight),
                          None if offsets is None else minigrad.tensor(offsets), mode=mode,
                          include_last_offset=case.get("include_last_offset", False), padding_idx=padding_idx)
    expected = embedding_bag_loop(case["input"], weight, offsets, mode,
                                  include_last_offset=case.get("include_last_offset", False),
                                  padding_idx=padding_idx)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)


@pytest.mark.parametrize("case", BAG_INPUTS)
def test_per_sample_weights(rng, case):
    weight, samples = rng.standard_normal((10, 3)), rng.standard_normal(case["input"].shape)
    offsets = case.get("offsets")
    kwargs = dict(mode="sum", include_last_offset=case.get("include_last_offset", False), padding_idx=2)
    out = F.embedding_bag(minigrad.tensor(case["input"]), minigrad.tensor(weight),
                          None if offsets is None else minigrad.tensor(offsets),
                          per_sample_weights=minigrad.tensor(samples), **kwargs)
    np.testing.assert_allclose(out.array, embedding_bag_loop(case["input"], weight, offsets,
                                                             per_sample_weights=samples, **kwargs), rtol=1e-12)


def test_embedding_bag_torch_values():
    # torch 2.13 for this weight, input and offsets
    weight = minigrad.arange(30.0).reshape(10, 3)
    input, offsets = minigrad.tensor([1, 2, 4, 5, 4, 3, 2, 9]), minigrad.tensor([0, 4])
    assert F.embedding_bag(input, weight, offsets).array.tolist() == [[9, 10, 11], [13.5, 14.5, 15.5]]
    assert F.embedding_bag(input, weight, offsets, mode="max").array.tolist() == [[15, 16, 17], [27, 28, 29]]
    assert F.embedding_bag(input, weight, minigrad.tensor([0, 4, 4]), mode="max").array.tolist() == \
        [[15, 16, 17], [0, 0, 0], [27, 28, 29]]
    assert F.embedding_bag(input, weight, offsets, padding_idx=2).array.tolist() == [[10, 11, 12], [16, 17, 18]]
    assert F.embedding_bag(minigrad.tensor([2, 2, 1]), weight, minigrad.tensor([0, 2]), padding_idx=2,
                           mode="max").array.tolist() == [[0, 0, 0], [3, 4, 5]]
    assert F.embedding_bag(input, weight, offsets, mode="sum",
                           per_sample_weights=minigrad.arange(8.0)).array.tolist() == \
        [[75, 81, 87], [318, 340, 362]]
    assert F.embedding_bag(minigrad.zeros(0, dtype=minigrad.int64), weight, minigrad.tensor([0, 0])).shape == (2, 3)
    assert F.embedding_bag(input.int(), weight, offsets.int()).array.tolist() == [[9, 10, 11], [13.5, 14.5, 15.5]]


def test_embedding_bag_max_norm():
    # torch 2.13: the rows read are scaled to norm max_norm in place, before the lookup
    weight = minigrad.arange(12.0).reshape(4, 3).double()
    out = F.embedding_bag(minigrad.tensor([0, 1, 3]), weight, minigrad.tensor([0]), max_norm=5.0)
    np.testing.assert_allclose(out.array, [[1.5703, 2.2352, 2.9001]], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(weight.array, axis=1), [np.sqrt(5), 5, np.sqrt(149), 5], rtol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(rng, mode):
    weight = minigrad.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    input, offsets = minigrad.tensor([1, 2, 2, 5, 0, 1, 4]), minigrad.tensor([0, 2, 2, 5])
    assert gradcheck(lambda w: F.embedding_bag(input, w, offsets, mode=mode, padding_idx=4), (weight,))
    fixed = minigrad.tensor([[1, 2, 3], [0, 0, 5]])
    assert gradcheck(lambda w: F.embedding_bag(fixed, w, mode=mode), (weight,))


def test_per_sample_weights_gradcheck(rng):
    weight = minigrad.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    samples = minigrad.tensor(rng.standard_normal(7), requires_grad=True)
    input, offsets = minigrad.tensor([1, 2, 2, 5, 0, 1, 4]), minigrad.tensor([0, 2, 2, 5])
    assert gradcheck(lambda w, s: F.embedding_bag(input, w, offsets, mode="sum", per_sample_weights=s,
                                                  padding_idx=2), (weight, samples))


def test_embedding_bag_backward_values():
    # torch 2.13: max sends the gradient to the first maximum on ties; padding rows get none
    weight = minigrad.ones(4, 2, requires_grad=True)
    F.embedding_bag(minigrad.tensor([0, 1, 2]), weight, minigrad.tensor([0]), mode="max").sum().backward()
    assert weight.grad.array.tolist() == [[1, 1], [0, 0], [0, 0], [0, 0]]
    weight = minigrad.arange(30.0).reshape(10, 3).requires_grad_()
    F.embedding_bag(minigrad.tensor([1, 2, 3, 2]), weight, minigrad.tensor([0, 2]), mode="mean",
                    padding_idx=2).sum().backward()
    assert weight.grad.array[:4].tolist() == [[0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]]
    weight.grad = None
    samples = minigrad.tensor([2.0, 3.0, 4.0], requires_grad=True)
    F.embedding_bag(minigrad.tensor([1, 2, 1]), weight, minigrad.tensor([0, 1]), mode="sum",
                    per_sample_weights=samples).sum().backward()
    assert weight.grad.array[:3].tolist() == [[0, 0, 0], [6, 6, 6], [3, 3, 3]]
    assert samples.grad.array.tolist() == [12, 21, 12]


@pytest.mark.parametrize("call, error, message", [
    (lambda w: F.embedding_bag(minigrad.tensor([[1, 2]]), w, minigrad.tensor([0])), ValueError,
     "if input is 2D, then offsets has to be None"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w), ValueError,
     "offsets has to be a 1D Tensor but got None"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([[0]])), ValueError,
     "offsets has to be a 1D Tensor"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0]), per_sample_weights=minigrad.ones(2)),
     NotImplementedError, "per_sample_weights is only supported for mode='sum' (got mode='mean')"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0]), mode="sum",
                               per_sample_weights=minigrad.ones(3)), ValueError,
     "If per_sample_weights ((3,)) is not None, then it must have the same shape as the input ((2,))"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0]), mode="sum",
                               per_sample_weights=minigrad.ones(2).double()), RuntimeError, "dtype"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2, 3]), w, minigrad.tensor([1, 2])), RuntimeError,
     "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
     "However, got 1"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2, 3]), w, minigrad.tensor([0, 4])), RuntimeError,
     "offsets[-1] can not be greater than input's length 3 but got offsets[-1] of 4"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2, 3]), w, minigrad.tensor([0, 2, 1])), RuntimeError,
     "non-decreasing"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0]), mode="foo"), ValueError,
     "mode has to be one of sum, mean or max"),
    (lambda w: F.embedding_bag(minigrad.tensor([1.0, 2.0]), w, minigrad.tensor([0])), RuntimeError, "integer"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0.0])), RuntimeError, "integer"),
    (lambda w: F.embedding_bag(minigrad.tensor([10]), w, minigrad.tensor([0])), RuntimeError,
     "Index 0 of input takes value 10 which is not in the valid range [0, 10)"),
    (lambda w: F.embedding_bag(minigrad.tensor([1, -1]), w, minigrad.tensor([0])), RuntimeError,
     "Index 1 of input takes value -1 which is not in the valid range [0, 10)"),
    (lambda w: F.embedding_bag(minigrad.zeros(2, 2, 2, dtype=minigrad.int64), w), ValueError,
     "input has to be 1D or 2D Tensor, but got Tensor of dimension 3"),
    (lambda w: F.embedding_bag(minigrad.tensor([1]), w.reshape(-1), minigrad.tensor([0])), ValueError,
     "weight has to be a 2D Tensor, but got Tensor of dimension 1"),
    (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), padding_idx=20), RuntimeError,
     "padding_idx must be within the number of embeddings, -10 through 9, but got 20"),
    (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="max", scale_grad_by_freq=True),
     ValueError, "max mode does not support scaling the gradient by the frequency"),
    (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), scale_grad_by_freq=True),
     ValueError, "not supported by minigrad"),
    (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), sparse=True), ValueError,
     "not supported by minigrad"),
])
def test_embedding_bag_errors(call, error, message):
    with pytest.raises(error) as info:
        call(minigrad.randn(10, 3))
    assert message in str(info.value)


def test_embedding_bag_layer(rng):
    minigrad.manual_seed(0)
    bag = nn.EmbeddingBag(1000, 20, padding_idx=3)
    # torch 2.13: repr, keys; weight ~ N(0, 1) with the padding row zero
    assert repr(bag) == "EmbeddingBag(1000, 20, mode='mean', padding_idx=3)"
    assert list(bag.state_dict()) == ["weight"]
    assert np.all(bag.weight.array[3] == 0)
    assert abs(bag.weight.array.mean()) < 0.02 and bag.weight.array.std() == pytest.approx(1, rel=0.03)
    assert repr(nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode='mean')"
    assert repr(nn.EmbeddingBag(4, 2, max_norm=1.0, norm_type=1.0, mode="sum")) == \
        "EmbeddingBag(4, 2, max_norm=1.0, norm_type=1.0, mode='sum')"
    assert nn.EmbeddingBag(10, 3, mode="max", padding_idx=-1).padding_idx == 9

    input, offsets = minigrad.tensor([1, 3, 4, 4, 2]), minigrad.tensor([0, 2])
    np.testing.assert_allclose(bag(input, offsets).array,
                               embedding_bag_loop(input.array, bag.weight.array, offsets.array, padding_idx=3),
                               rtol=1e-6)
    summed = nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True)
    samples = rng.standard_normal(5).astype(np.float32)
    np.testing.assert_allclose(
        summed(input, minigrad.tensor([0, 2, 5]), per_sample_weights=minigrad.tensor(samples)).array,
        embedding_bag_loop(input.array, summed.weight.array, [0, 2, 5], "sum", samples, include_last_offset=True),
        rtol=1e-5)


def test_embedding_bag_from_pretrained():
    table = minigrad.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    bag = nn.EmbeddingBag.from_pretrained(table)
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(bag(minigrad.tensor([[1, 0]])).array, [[2.5, 3.7, 4.65]], rtol=1e-6)  # torch 2.13
    assert nn.EmbeddingBag.from_pretrained(table, freeze=False).weight.requires_grad
    assert repr(nn.EmbeddingBag.from_pretrained(minigrad.ones(3, 2), mode="max", padding_idx=1)) == \
        "EmbeddingBag(3, 2, mode='max', padding_idx=1)"
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.EmbeddingBag.from_pretrained(minigrad.ones(3))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(padding_idx=10), AssertionError, "padding_idx must be within num_embeddings"),
    (dict(padding_idx=-11), AssertionError, "padding_idx must be within num_embeddings"),
    (dict(_weight=minigrad.zeros(9, 3)), AssertionError, "Shape of weight does not match"),
])
def test_embedding_bag_layer_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.EmbeddingBag(10, 3, **kwargs)


# ---------------------------------------------------------------------------
# ParameterList / ParameterDict
# ---------------------------------------------------------------------------

class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = nn.ParameterList([minigrad.zeros(2), minigrad.ones(3)])
        self.pd = nn.ParameterDict({"scale": minigrad.ones(1), "alpha": minigrad.zeros(2)})
        self.bil = nn.Bilinear(2, 3, 4)
        self.bag = nn.EmbeddingBag(5, 2, mode="sum")


def test_state_dict_keys_and_repr_as_torch():
    model = _Model()
    # torch 2.13, same model
    assert list(model.state_dict()) == ["pl.0", "pl.1", "pd.alpha", "pd.scale", "bil.weight", "bil.bias",
                                        "bag.weight"]
    assert [name for name, _ in model.named_parameters()] == list(model.state_dict())
    # torch 2.13's repr, with minigrad's dtype names for torch's
    assert repr(model) == (
        "_Model(\n"
        "  (pl): ParameterList(\n"
        "      (0): Parameter containing: [minigrad.float32 of size 2]\n"
        "      (1): Parameter containing: [minigrad.float32 of size 3]\n"
        "  )\n"
        "  (pd): ParameterDict(\n"
        "      (alpha): Parameter containing: [minigrad.FloatTensor of size 2]\n"
        "      (scale): Parameter containing: [minigrad.FloatTensor of size 1]\n"
        "  )\n"
        "  (bil): Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)\n"
        "  (bag): EmbeddingBag(5, 2, mode='sum')\n"
        ")")
    assert repr(nn.ParameterList([minigrad.zeros(2, 3, dtype=minigrad.float64)])) == \
        "ParameterList(  (0): Parameter containing: [minigrad.float64 of size 2x3])"
    assert repr(nn.ParameterDict({"a": minigrad.zeros(2, 3, dtype=minigrad.float64)})) == \
        "ParameterDict(  (a): Parameter containing: [minigrad.DoubleTensor of size 2x3])"
    # round trip
    other = _Model()
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.bil.weight.array, model.bil.weight.array)


def test_parameter_list():
    first = nn.Parameter(minigrad.randn(2, 3))
    plain = minigrad.zeros(4)
    params = nn.ParameterList([first, plain])
    assert params[0] is first
    assert type(params[1]) is nn.Parameter and params[1].requires_grad
    params[1].array[0] = 7                                   # wraps without copying, as torch
    assert plain.array[0] == 7
    params.append(minigrad.ones(2, dtype=minigrad.float64)).extend([minigrad.ones(1)])
    params += [minigrad.ones(5)]
    assert len(params) == 5 and [p.shape[0] for p in params] == [2, 4, 2, 1, 5]
    assert list(params.state_dict()) == ["0", "1", "2", "3", "4"]
    assert params[-1].shape == (5,)
    part = params[1:3]
    assert type(part) is nn.ParameterList and len(part) == 2 and part[0] is params[1]
    params[0] = minigrad.full((3,), 2.0)
    assert type(params[0]) is nn.Parameter and params[0].array.tolist() == [2, 2, 2]
    params.append(3)                                          # not a tensor: kept, not a parameter
    assert params[5] == 3 and len(params) == 6 and len(list(params.parameters())) == 5
    assert repr(params).endswith("(5): Object of type: int\n)")
    assert "0" not in dir(params)
    with pytest.raises(IndexError, match="index 10 is out of range"):
        params[10]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got"):
        params.extend(minigrad.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        params(1)


def test_parameter_list_trains():
    params = nn.ParameterList([minigrad.tensor([1.0, 2.0]), minigrad.tensor([3.0])])
    optimizer = minigrad.optim.SGD(params.parameters(), lr=0.5)
    loss = (params[0] * params[0]).sum() + 3 * params[1].sum()
    loss.backward()
    optimizer.step()
    assert params[0].array.tolist() == [0.0, 0.0] and params[1].array.tolist() == [1.5]
    copied = copy.deepcopy(params)
    assert copied[0] is not params[0] and copied[0].array.tolist() == [0.0, 0.0]


def test_parameter_dict():
    params = nn.ParameterDict({"b": minigrad.zeros(2), "a": nn.Parameter(minigrad.ones(3))})
    assert list(params.keys()) == ["a", "b"]                  # a plain dict: sorted, as torch
    assert type(params["b"]) is nn.Parameter
    ordered = nn.ParameterDict(OrderedDict([("z", minigrad.zeros(1)), ("a", minigrad.zeros(1))]))
    assert list(ordered) == ["z", "a"]
    assert list(nn.ParameterDict([("z", minigrad.zeros(1)), ("a", minigrad.zeros(1))])) == ["z", "a"]
    params["c"] = minigrad.ones(1, 2)
    params.update({"d": minigrad.ones(2)})
    assert list(params.state_dict()) == ["a", "b", "c", "d"]
    assert "c" in params and len(params) == 4
    assert params.pop("c").shape == (1, 2) and "c" not in params
    assert params.popitem()[0] == "d"
    assert params.get("zz") is None and params.get("a") is params["a"]
    assert params.setdefault("e", minigrad.zeros(3)).shape == (3,)
    assert [k for k, _ in params.items()] == ["a", "b", "e"] and len(list(params.values())) == 3
    assert list(reversed(params)) == ["e", "b", "a"]
    del params["e"]
    copied = params.copy()
    assert list(copied) == ["a", "b"] and copied["a"] is params["a"]
    merged = params | nn.ParameterDict({"x": minigrad.zeros(1)})
    assert list(merged) == ["a", "b", "x"] and list(params) == ["a", "b"]
    params |= {"y": minigrad.zeros(1)}
    assert list(params) == ["a", "b", "y"]
    assert list(params.fromkeys(["p", "q"])) == ["p", "q"]
    params.clear()
    assert len(params) == 0 and list(params.parameters()) == []


@pytest.mark.parametrize("call, error, message", [
    (lambda d: d[1], TypeError, "Index given to ParameterDict cannot be used as a key as it is not a string"),
    (lambda d: d.update(5), TypeError, "ParametersDict.update should be called with an iterable"),
    (lambda d: d.update([5]), TypeError, "ParameterDict update sequence element #0 should be Iterable"),
    (lambda d: d.update([("a", minigrad.ones(1), 3)]), ValueError,
     "ParameterDict update sequence element #0 has length 3; 2 is required"),
    (lambda d: d["missing"], AttributeError, "missing"),
    (lambda d: d(1), RuntimeError, "ParameterDict should not be called."),
])
def test_parameter_dict_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(nn.ParameterDict({"a": minigrad.ones(1)}))
