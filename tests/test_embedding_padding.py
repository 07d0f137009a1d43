"""nn.Embedding and the padding layers."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor, nn


def test_embedding_lookup_gradient_and_padding_idx():
    minigrad.manual_seed(0)
    emb = nn.Embedding(6, 3, padding_idx=2)
    np.testing.assert_array_equal(emb.weight.array[2], 0)
    idx = Tensor(np.array([[1, 2, 1], [5, 0, 2]]))
    out = emb(idx)
    np.testing.assert_array_equal(out.array, emb.weight.array[idx.array])
    weights = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    (out * Tensor(weights)).sum().backward()
    expected = np.zeros((6, 3), np.float32)
    np.add.at(expected, idx.array.ravel(), weights.reshape(-1, 3))
    expected[2] = 0
    np.testing.assert_allclose(emb.weight.grad.array, expected)


def test_embedding_from_pretrained_and_errors():
    table = Tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(Tensor(np.array([2, 0]))).array, [[4, 5], [0, 1]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3
    with pytest.raises(IndexError, match="index 3 is out of range"):
        emb(Tensor(np.array([3])))
    with pytest.raises(TypeError, match="integer dtype"):
        emb(Tensor(np.array([0.0])))
    with pytest.raises(ValueError, match="max_norm"):
        nn.Embedding(3, 2, max_norm=1.0)
    np.testing.assert_array_equal(F.embedding(Tensor(np.array([1])), table).array, [[2, 3]])


@pytest.mark.parametrize("layer, args, numpy_mode, widths", [
    (nn.ReflectionPad1d, (2,), "reflect", [(2, 2)]),
    (nn.ReflectionPad2d, ((1, 2, 0, 1),), "reflect", [(0, 1), (1, 2)]),
    (nn.ReplicationPad1d, ((1, 3),), "edge", [(1, 3)]),
    (nn.ReplicationPad2d, (1,), "edge", [(1, 1), (1, 1)]),
    (nn.ReplicationPad3d, (1,), "edge", [(1, 1)] * 3),
    (nn.CircularPad2d, (1,), "wrap", [(1, 1), (1, 1)]),
    (nn.ZeroPad2d, ((1, 0, 2, 1),), "constant", [(2, 1), (1, 0)]),
])
def test_padding_layers_match_numpy(layer, args, numpy_mode, widths):
    x = np.random.default_rng(0).standard_normal((2, 3) + (4,) * len(widths)).astype(np.float32)
    expected = np.pad(x, [(0, 0), (0, 0)] + widths, mode=numpy_mode)
    np.testing.assert_allclose(layer(*args)(Tensor(x)).array, expected)


def test_constant_pad_value_and_errors():
    x = np.ones((1, 2, 3), np.float32)
    np.testing.assert_allclose(nn.ConstantPad1d((1, 2), 3.5)(Tensor(x)).array,
                               np.pad(x, [(0, 0), (0, 0), (1, 2)], constant_values=3.5))
    with pytest.raises(ValueError, match="padding must be an int or a tuple of 4"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match="3-D or 4-D"):
        nn.ZeroPad2d(1)(Tensor(np.ones(3, np.float32)))


def test_constant_padding_layers_take_any_rank_like_f_pad():
    x = np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(nn.ZeroPad2d(1)(minigrad.tensor(x)).numpy(), np.pad(x, 1))
    y = np.ones((1, 1, 1, 2, 2))
    np.testing.assert_array_equal(nn.ConstantPad2d((1, 0, 0, 1), 0.5)(minigrad.tensor(y)).numpy(),
                                  np.pad(y, [(0, 0)] * 3 + [(0, 1), (1, 0)], constant_values=0.5))
    with pytest.raises(ValueError, match="ReflectionPad2d: expected a 3-D or 4-D input"):
        nn.ReflectionPad2d(1)(minigrad.tensor(x))
