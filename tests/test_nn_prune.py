"""nn.utils.prune: masks, the weight_orig / weight_mask keys, combined pruning, remove."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn.utils import prune


def _linear(rng, shape=(4, 6)):
    layer = nn.Linear(shape[1], shape[0]).double()
    layer.weight.array[...] = rng.standard_normal(shape)
    return layer


def test_l1_unstructured_mask_keys_forward_and_gradient(rng):
    layer = _linear(rng)
    W = layer.weight.array.copy()
    orig = layer.weight
    prune.l1_unstructured(layer, "weight", amount=0.3)   # round(0.3 * 24) = 7 entries
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert layer.weight_orig is orig and "weight" not in dict(layer.named_parameters())
    mask = layer.weight_mask.array
    assert (mask == 0).sum() == 7 and set(np.unique(mask)) == {0.0, 1.0}
    assert np.abs(W[mask == 0]).max() <= np.abs(W[mask == 1]).min()   # the 7 smallest |w|
    np.testing.assert_array_equal(layer.weight.array, W * mask)
    x = minigrad.tensor(rng.standard_normal((3, 6)))
    out = layer(x)
    np.testing.assert_allclose(out.array, x.array @ (W * mask).T + layer.bias.array)
    out.sum().backward()
    np.testing.assert_allclose(orig.grad.array, np.tile(x.array.sum(0), (4, 1)) * mask)
    assert prune.is_pruned(nn.Sequential(layer)) and not prune.is_pruned(nn.Linear(2, 2))


def test_pruning_follows_training_and_remove(rng):
    layer = _linear(rng)
    prune.l1_unstructured(layer, "weight", amount=5)
    mask = layer.weight_mask.array.copy()
    layer.weight_orig.array[...] += 1.0   # a training step on orig
    x = minigrad.tensor(rng.standard_normal((2, 6)))
    layer(x)                              # the pre-hook recomputes weight
    np.testing.assert_array_equal(layer.weight.array, layer.weight_orig.array * mask)
    orig = layer.weight_orig
    prune.remove(layer, "weight")
    assert list(layer.state_dict()) == ["bias", "weight"]
    assert layer.weight is orig and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(layer.weight.array == 0, mask == 0)
    assert not prune.is_pruned(layer)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")


def test_ln_structured_prunes_channels_of_smallest_norm(rng):
    conv = nn.Conv2d(3, 5, 2).double()
    W = rng.standard_normal((5, 3, 2, 2))
    conv.weight.array[...] = W
    prune.ln_structured(conv, "weight", amount=2, n=1, dim=0)
    norms = np.abs(W).sum(axis=(1, 2, 3))
    pruned = np.sort(np.argsort(norms)[:2])
    channel_zero = (conv.weight_mask.array == 0).all(axis=(1, 2, 3))
    np.testing.assert_array_equal(np.flatnonzero(channel_zero), pruned)
    assert (conv.weight_mask.array[~channel_zero] == 1).all()
    layer = _linear(rng, (4, 5))
    prune.ln_structured(layer, "weight", amount=0.4, n=float("inf"), dim=-1)   # 2 columns
    column_max = np.abs(layer.weight_orig.array).max(axis=0)
    kept = (layer.weight_mask.array == 1).all(axis=0)
    assert kept.sum() == 3 and column_max[~kept].max() <= column_max[kept].min()


def test_repeated_pruning_combines_masks(rng):
    layer = _linear(rng)
    prune.ln_structured(layer, "weight", amount=2, n=2, dim=1)   # two columns
    first = layer.weight_mask.array.copy()
    prune.l1_unstructured(layer, "weight", amount=4)            # 4 more, among the kept entries
    hook = next(iter(layer._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    mask = layer.weight_mask.array
    assert (mask == 0).sum() == 8 + 4 and (mask <= first).all()
    W = layer.weight_orig.array
    newly = (first == 1) & (mask == 0)
    assert np.abs(W[newly]).max() <= np.abs(W[mask == 1]).min()
    assert len(layer._forward_pre_hooks) == 1


def test_random_methods_count_and_seed(rng):
    layer = _linear(rng)
    minigrad.manual_seed(1)
    prune.random_unstructured(layer, "weight", amount=0.5)
    assert (layer.weight_mask.array == 0).sum() == 12
    other = _linear(rng)
    minigrad.manual_seed(1)
    prune.random_unstructured(other, "weight", amount=0.5)
    np.testing.assert_array_equal(layer.weight_mask.array, other.weight_mask.array)
    conv = nn.Conv2d(2, 6, 3)
    prune.random_structured(conv, "weight", amount=3, dim=0)
    zero_filters = (conv.weight_mask.array == 0).all(axis=(1, 2, 3))
    assert zero_filters.sum() == 3 and (conv.weight_mask.array[~zero_filters] == 1).all()


def test_global_unstructured_prunes_the_smallest_over_all(rng):
    a, b = _linear(rng, (4, 6)), _linear(rng, (3, 5))
    b.weight.array[...] *= 0.1   # b's weights are the small ones
    everything = np.concatenate([a.weight.array.ravel(), b.weight.array.ravel()])
    threshold = np.sort(np.abs(everything))[9]
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=10)
    masks = np.concatenate([a.weight_mask.array.ravel(), b.weight_mask.array.ravel()])
    assert (masks == 0).sum() == 10
    np.testing.assert_array_equal(masks == 0, np.abs(everything) <= threshold)
    with pytest.raises(TypeError, match="Only \"unstructured\""):
        prune.global_unstructured([(a, "bias")], prune.RandomStructured, amount=1)


def test_custom_mask_identity_and_importance_scores(rng):
    layer = _linear(rng, (2, 3))
    mask = minigrad.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    prune.custom_from_mask(layer, "weight", mask)
    np.testing.assert_array_equal(layer.weight_mask.array, mask.array)
    other = prune.identity(_linear(rng, (2, 3)), "weight")
    np.testing.assert_array_equal(other.weight_mask.array, np.ones((2, 3)))
    scores = minigrad.tensor(np.arange(6.0).reshape(2, 3))
    layer = prune.l1_unstructured(_linear(rng, (2, 3)), "weight", amount=2,
                                  importance_scores=scores)
    np.testing.assert_array_equal(layer.weight_mask.array, [[0, 0, 1], [1, 1, 1]])
    pruned = prune.L1Unstructured(amount=1).prune(minigrad.tensor([3.0, -1.0, 2.0]))
    np.testing.assert_array_equal(pruned.array, [3.0, 0.0, 2.0])


def test_prune_errors(rng):
    layer = _linear(rng)
    with pytest.raises(ValueError, match="should either be a float in the range"):
        prune.l1_unstructured(layer, "weight", amount=1.5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.l1_unstructured(layer, "weight", amount="a lot")
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(layer, "weight", amount=25)
    assert list(layer.state_dict()) == ["bias", "weight"]   # rolled back (re-registered last, as torch)
    with pytest.raises(ValueError, match="Structured pruning can only be applied"):
        prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index 2"):
        prune.random_structured(layer, "weight", amount=1, dim=2)
    with pytest.raises(AssertionError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(layer, "weight", amount=1, importance_scores=minigrad.zeros(3))
