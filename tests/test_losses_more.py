"""The losses beyond the classics and the distances: values against plain NumPy formulas
(written here independently, loop by loop where that is clearer), gradients by float64 gradcheck."""
import itertools
import math

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import gradcheck


def t64(array, requires_grad=True):
    return minigrad.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def reduce(loss, reduction):
    return {"none": loss, "mean": np.mean(loss), "sum": np.sum(loss)}[reduction]


REDUCTIONS = ["none", "mean", "sum"]


# --------------------------------------------------------- pointwise losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss(rng, reduction):
    x, y, w = rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4)), rng.random((3, 4))
    d = x - y
    delta = 0.7
    expected = np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
    out = F.huber_loss(t64(x, False), t64(y, False), reduction, delta)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-12)
    weighted = F.huber_loss(t64(x, False), t64(y, False), reduction, delta, weight=t64(w, False))
    np.testing.assert_allclose(weighted.array, reduce(expected * w, reduction), rtol=1e-12)
    assert gradcheck(lambda a, b: F.huber_loss(a, b, reduction, delta), [t64(x), t64(y)])
    module = nn.HuberLoss(reduction, delta)
    np.testing.assert_allclose(module(t64(x, False), t64(y, False)).array, out.array)
    with pytest.raises(RuntimeError, match="delta"):
        F.huber_loss(t64(x), t64(y), delta=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [True, False])
def test_poisson_nll_loss(rng, reduction, log_input, full):
    x = rng.standard_normal((3, 4)) if log_input else rng.random((3, 4)) + 0.2
    target = np.floor(rng.random((3, 4)) * 5)
    if log_input:
        expected = np.exp(x) - target * x
    else:
        expected = x - target * np.log(x + 1e-8)
    if full:
        factorial_log = np.array([[math.log(math.factorial(int(k))) for k in row] for row in target])
        stirling = np.array([[k * math.log(k) - k + 0.5 * math.log(2 * math.pi * k) if k > 1 else 0
                              for k in row] for row in target])
        assert np.all(np.abs(stirling - factorial_log) < 0.1)  # the approximation of log(k!)
        expected = expected + stirling
    out = F.poisson_nll_loss(t64(x, False), t64(target, False), log_input, full, reduction=reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-12)
    assert gradcheck(lambda a: F.poisson_nll_loss(a, t64(target, False), log_input, full,
                                                  reduction=reduction), [t64(x)])
    module = nn.PoissonNLLLoss(log_input, full, reduction=reduction)
    np.testing.assert_allclose(module(t64(x, False), t64(target, False)).array, out.array)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1), "float"])
def test_gaussian_nll_loss(rng, reduction, var_shape):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    var = 0.5 if var_shape == "float" else rng.random(var_shape) + 0.05
    full_var = np.broadcast_to(var if np.ndim(var) != 1 else var[:, None], x.shape)
    clamped = np.maximum(full_var, 0.1)
    expected = 0.5 * (np.log(clamped) + (x - y) ** 2 / clamped) + 0.5 * math.log(2 * math.pi)
    var_arg = var if var_shape == "float" else t64(var, False)
    out = F.gaussian_nll_loss(t64(x, False), t64(y, False), var_arg, True, 0.1, reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-12)
    if var_shape != "float":
        big = rng.random(var_shape) + 0.2
        assert gradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction=reduction),
                         [t64(x), t64(y), t64(big)])
    out_module = nn.GaussianNLLLoss(full=True, eps=0.1, reduction=reduction)(
        t64(x, False), t64(y, False), var_arg)
    np.testing.assert_allclose(out_module.array, out.array)


def test_gaussian_nll_loss_rejects_bad_var():
    x = t64(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, t64(-np.ones((3, 4))))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(x, x, t64(np.ones((2, 4))))


# ------------------------------------------------------------ margin losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_losses(rng, reduction):
    x, y = rng.standard_normal((3, 4)), np.sign(rng.standard_normal((3, 4)))
    out = F.soft_margin_loss(t64(x, False), t64(y, False), reduction)
    np.testing.assert_allclose(out.array, reduce(np.log1p(np.exp(-y * x)), reduction), rtol=1e-12)
    assert gradcheck(lambda a: F.soft_margin_loss(a, t64(y, False), reduction), [t64(x)])
    assert nn.SoftMarginLoss(reduction=reduction)(t64(x, False), t64(y, False)).allclose(out)

    labels, weight = (y > 0).astype(float), rng.random(4)
    sigmoid = 1 / (1 + np.exp(-x))
    per_class = -(labels * np.log(sigmoid) + (1 - labels) * np.log(1 - sigmoid)) * weight
    out = F.multilabel_soft_margin_loss(t64(x, False), t64(labels, False), t64(weight, False),
                                        reduction)
    np.testing.assert_allclose(out.array, reduce(per_class.mean(1), reduction), rtol=1e-12)
    assert gradcheck(lambda a: F.multilabel_soft_margin_loss(a, t64(labels, False),
                                                             reduction=reduction), [t64(x)])
    module = nn.MultiLabelSoftMarginLoss(weight=t64(weight, False), reduction=reduction)
    np.testing.assert_allclose(module(t64(x, False), t64(labels, False)).array, out.array)
    assert list(module.state_dict()) == ["weight"]


def multilabel_margin_reference(x, target):
    loss = []
    for row, labels in zip(x, target):
        listed = list(itertools.takewhile(lambda j: j >= 0, labels))
        total = 0.0
        for j in listed:
            for i in range(len(row)):
                if i not in listed:
                    total += max(0.0, 1 - (row[j] - row[i]))
        loss.append(total / len(row))
    return np.array(loss)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(rng, reduction):
    x = rng.standard_normal((4, 5))
    target = np.array([[3, 0, -1, 1, 1], [1, 1, 2, -1, 0], [-1, 0, 0, 0, 0], [0, 1, 2, 3, 4]])
    out = F.multilabel_margin_loss(t64(x, False), minigrad.tensor(target), reduction)
    np.testing.assert_allclose(out.array, reduce(multilabel_margin_reference(x, target), reduction),
                               rtol=1e-12)
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, minigrad.tensor(target), reduction),
                     [t64(x)])
    single = F.multilabel_margin_loss(t64(x[0], False), minigrad.tensor(target[0]), "none")
    assert single.shape == ()
    np.testing.assert_allclose(single.array, multilabel_margin_reference(x[:1], target[:1])[0])
    assert nn.MultiLabelMarginLoss(reduction=reduction)(t64(x, False), minigrad.tensor(target)).allclose(out)
    with pytest.raises(RuntimeError, match="out of bounds"):
        F.multilabel_margin_loss(t64(x), minigrad.tensor(np.full((4, 5), 7)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(rng, reduction, p):
    x, labels, weight = rng.standard_normal((4, 5)), np.array([0, 3, 2, 4]), rng.random(5)
    margin = 0.7
    expected = np.zeros(4)
    for n in range(4):
        for i in range(5):
            if i != labels[n]:
                expected[n] += weight[labels[n]] * max(0.0, margin - x[n, labels[n]] + x[n, i]) ** p
    expected /= 5
    out = F.multi_margin_loss(t64(x, False), minigrad.tensor(labels), p, margin, t64(weight, False),
                              reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-12)
    assert gradcheck(lambda a: F.multi_margin_loss(a, minigrad.tensor(labels), p, margin,
                                                   reduction=reduction), [t64(x)])
    module = nn.MultiMarginLoss(p, margin, t64(weight, False), reduction)
    np.testing.assert_allclose(module(t64(x, False), minigrad.tensor(labels)).array, out.array)
    with pytest.raises(ValueError, match="p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_and_hinge_losses(rng, reduction):
    x1, x2 = rng.standard_normal((6,)), rng.standard_normal((6,))
    y = np.array([1.0, -1, 1, -1, 1, 0])
    out = F.margin_ranking_loss(t64(x1, False), t64(x2, False), t64(y, False), 0.3, reduction)
    np.testing.assert_allclose(out.array, reduce(np.maximum(0, -y * (x1 - x2) + 0.3), reduction))
    assert gradcheck(lambda a, b: F.margin_ranking_loss(a, b, t64(y, False), 0.3, reduction),
                     [t64(x1), t64(x2)])
    assert nn.MarginRankingLoss(0.3, reduction)(t64(x1, False), t64(x2, False), t64(y, False)).allclose(out)
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(t64(x1), t64(x2[None]), t64(y))

    # target 0 (neither +1 nor -1) takes both terms, as in PyTorch
    expected = np.where(y != 1, np.maximum(0, 0.5 - x1), 0) + np.where(y != -1, x1, 0)
    out = F.hinge_embedding_loss(t64(x1, False), t64(y, False), 0.5, reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction))
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, t64(y, False), 0.5, reduction), [t64(x1)])
    assert nn.HingeEmbeddingLoss(0.5, reduction)(t64(x1, False), t64(y, False)).allclose(out)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(rng, reduction):
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = np.array([1.0, -1, 1, -1, -1])
    cos = np.array([a @ b / np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(x1, x2)])
    expected = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    out = F.cosine_embedding_loss(t64(x1, False), t64(x2, False), t64(y, False), 0.1, reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-10)
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, t64(y, False), 0.1, reduction),
                     [t64(x1), t64(x2)])
    module = nn.CosineEmbeddingLoss(0.1, reduction)
    np.testing.assert_allclose(module(t64(x1, False), t64(x2, False), t64(y, False)).array, out.array)
    with pytest.raises(RuntimeError, match="same size"):
        F.cosine_embedding_loss(t64(x1), t64(x2[:, :2]), t64(y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_losses(rng, reduction, swap):
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))

    def dist(u, v, norm=2.0):
        return np.sum(np.abs(u - v + 1e-6) ** norm, axis=-1) ** (1 / norm)

    negative = np.minimum(dist(a, n, 1.5), dist(p, n, 1.5)) if swap else dist(a, n, 1.5)
    expected = np.maximum(0, dist(a, p, 1.5) - negative + 1.0)
    out = F.triplet_margin_loss(t64(a, False), t64(p, False), t64(n, False), 1.0, 1.5, swap=swap,
                                reduction=reduction)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-10)
    assert gradcheck(lambda u, v, w: F.triplet_margin_loss(u, v, w, 1.0, 1.5, swap=swap,
                                                           reduction=reduction),
                     [t64(a), t64(p), t64(n)])
    module = nn.TripletMarginLoss(1.0, 1.5, swap=swap, reduction=reduction)
    np.testing.assert_allclose(module(t64(a, False), t64(p, False), t64(n, False)).array, out.array)

    def l1(u, v):
        return (u - v).abs().sum(-1)

    negative = np.abs(a - n).sum(-1)
    if swap:
        negative = np.minimum(negative, np.abs(p - n).sum(-1))
    expected = np.maximum(0, np.abs(a - p).sum(-1) - negative + 2.0)
    module = nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=2.0, swap=swap,
                                              reduction=reduction)
    np.testing.assert_allclose(module(t64(a, False), t64(p, False), t64(n, False)).array,
                               reduce(expected, reduction), rtol=1e-12)
    assert "PairwiseDistance" in repr(nn.TripletMarginWithDistanceLoss())
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(t64(a), t64(p[0]), t64(n))


# -------------------------------------------------------------- distances
def test_cosine_similarity_and_pairwise_distance(rng):
    x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((1, 4))
    expected = (x1 @ x2[0]) / np.linalg.norm(x1, axis=1) / np.linalg.norm(x2)
    np.testing.assert_allclose(F.cosine_similarity(t64(x1, False), t64(x2, False)).array, expected,
                               rtol=1e-12)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0)(t64(x1.T, False), t64(x2.T, False)).array,
                               expected, rtol=1e-12)
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=1), [t64(x1), t64(x2)])
    zero = F.cosine_similarity(t64(np.zeros((2, 4)), False), t64(x1[:2], False))
    np.testing.assert_array_equal(zero.array, [0.0, 0.0])        # the eps clamp: no 0/0
    for p in (1.0, 2.0, 3.0, math.inf):
        difference = np.abs(x1 - x2 + 1e-6)
        expected = difference.max(1) if p == math.inf else (difference ** p).sum(1) ** (1 / p)
        out = F.pairwise_distance(t64(x1, False), t64(x2, False), p)
        np.testing.assert_allclose(out.array, expected, rtol=1e-12)
        np.testing.assert_allclose(nn.PairwiseDistance(p, keepdim=True)(
            t64(x1, False), t64(x2, False)).array, expected[:, None], rtol=1e-12)
        assert gradcheck(lambda a, b: F.pairwise_distance(a, b, p), [t64(x1), t64(x2)])


def test_pdist(rng):
    x = rng.standard_normal((5, 3))
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    for p in (1.0, 2.0, 0.5):
        expected = [np.sum(np.abs(x[i] - x[j]) ** p) ** (1 / p) for i, j in pairs]
        np.testing.assert_allclose(F.pdist(t64(x, False), p).array, expected, rtol=1e-12)
        assert gradcheck(lambda a: F.pdist(a, p), [t64(x)])
    repeated = x.copy()
    repeated[1] = repeated[0]
    a = t64(repeated)
    F.pdist(a).sum().backward()
    assert np.all(np.isfinite(a.grad.array))          # equal rows give gradient 0, not NaN
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(t64(x[0]))


# ------------------------------------------------------------------- CTC
def ctc_brute_force(log_probs, target, blank):
    """-log of the summed probability of every path that collapses to target."""
    frames, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=frames):
        collapsed = [k for index, k in enumerate(path) if index == 0 or k != path[index - 1]]
        if [k for k in collapsed if k != blank] == list(target):
            total += math.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


def log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_matches_brute_force_enumeration(rng, reduction):
    frames, batch, classes = 5, 4, 3
    lp = log_softmax(rng.standard_normal((frames, batch, classes)), 2)
    targets = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [1, 2, 1]])
    target_lengths = np.array([2, 2, 0, 3])
    input_lengths = np.array([5, 4, 3, 5])
    expected = np.array([ctc_brute_force(lp[:input_lengths[n], n], targets[n, :target_lengths[n]], 0)
                         for n in range(batch)])
    out = F.ctc_loss(t64(lp, False), minigrad.tensor(targets), minigrad.tensor(input_lengths),
                     minigrad.tensor(target_lengths), reduction=reduction)
    if reduction == "mean":
        expected = expected / np.maximum(target_lengths, 1)
    np.testing.assert_allclose(out.array, reduce(expected, reduction), rtol=1e-10)
    # the same targets concatenated
    flat = np.concatenate([targets[n, :target_lengths[n]] for n in range(batch)])
    again = nn.CTCLoss(reduction=reduction)(t64(lp, False), minigrad.tensor(flat), input_lengths,
                                            target_lengths)
    np.testing.assert_allclose(again.array, out.array, rtol=1e-12)
    assert gradcheck(lambda a: F.ctc_loss(a, minigrad.tensor(targets), input_lengths,
                                          target_lengths, reduction=reduction), [t64(lp)])
    logits = rng.standard_normal((frames, batch, classes))
    assert gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, 2), minigrad.tensor(targets),
                                          input_lengths, target_lengths, reduction=reduction),
                     [t64(logits)])


def test_ctc_loss_blank_impossible_alignments_and_errors(rng):
    lp = log_softmax(rng.standard_normal((4, 2, 3)), 2)
    targets = np.array([[0, 1, 0, 1], [0, 0, 0, 0]])   # blank=2 here
    out = F.ctc_loss(t64(lp, False), minigrad.tensor(targets), [4, 4], [2, 3], blank=2,
                     reduction="none")
    np.testing.assert_allclose(out.array[0], ctc_brute_force(lp[:, 0], [0, 1], 2), rtol=1e-10)
    # [0, 0, 0] needs blanks between the repeats: 5 frames, only 4 given
    assert out.array[1] == math.inf
    zeroed = F.ctc_loss(t64(lp), minigrad.tensor(targets), [4, 4], [2, 3], blank=2,
                        reduction="sum", zero_infinity=True)
    zeroed.backward()
    np.testing.assert_allclose(zeroed.array, out.array[0])
    single = F.ctc_loss(t64(lp[:, 0], False), minigrad.tensor(targets[0, :2]), [4], [2], blank=2)
    np.testing.assert_allclose(single.array, out.array[0] / 2, rtol=1e-12)
    with pytest.raises(RuntimeError, match="at most 4"):
        F.ctc_loss(t64(lp), minigrad.tensor(targets), [5, 4], [2, 3])
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(t64(lp), minigrad.tensor(targets), [4, 4], [2, 3], blank=3)


def test_nll_loss2d_is_nll_loss(rng):
    x = log_softmax(rng.standard_normal((2, 3, 4, 4)), 1)
    labels = rng.integers(0, 3, (2, 4, 4))
    assert issubclass(nn.NLLLoss2d, nn.NLLLoss)
    np.testing.assert_allclose(nn.NLLLoss2d()(t64(x, False), minigrad.tensor(labels)).array,
                               nn.NLLLoss()(t64(x, False), minigrad.tensor(labels)).array)
