"""Margin and embedding losses, with PyTorch's signatures and reductions.

Each loss is written as a composition of differentiable ops (relu for the
hinge max(0, .), logsigmoid for the soft margin, norms for distances), so
its backward pass is the chain rule through them. The integer targets
(class indices, +-1 labels) only select terms: they become constant masks.

    soft_margin            log(1 + exp(-y x))                 y in {-1, 1}
    multilabel_soft_margin -mean_c [y log s(x) + (1 - y) log s(-x)]
    multilabel_margin      sum_{j in y} sum_{i not in y} max(0, 1 - (x_j - x_i)) / C
    multi_margin           sum_{i != y} max(0, margin - x_y + x_i)^p / C
    margin_ranking         max(0, -y (x1 - x2) + margin)
    hinge_embedding        x where y = 1, max(0, margin - x) where y = -1
    cosine_embedding       1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1
    triplet_margin         max(0, d(a, p) - d(a, n) + margin)
"""
import numpy as np

from minigrad.ops.distance import pairwise_distance
from minigrad.ops.loss import _as_tensor, _check_reduction, _reduce
from minigrad.ops.pointwise_activations import logsigmoid
from minigrad.tensor import Tensor


def _labels(target, name):
    return target.detach().array


def _constant(array, like):
    return Tensor(np.asarray(array, dtype=like.dtype))


def soft_margin_loss(input, target, reduction="mean"):
    """log(1 + exp(-target * input)) with target in {-1, 1}: logistic loss."""
    name = "soft_margin_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    return _reduce(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """One-vs-all logistic loss averaged over the C classes: input, target (N, C) or (C,)."""
    name = "multilabel_soft_margin_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


def _check_margin_input(input, name):
    if input.ndim not in (1, 2) or (input.ndim == 2 and input.shape[1] == 0):
        raise RuntimeError(f"{name}: expected a non-empty 1-d (C) or 2-d (N, C) input, got shape "
                           f"{tuple(input.shape)}")
    return input if input.ndim == 2 else input.unsqueeze(0)


def multilabel_margin_loss(input, target, reduction="mean"):
    """Multi-class multi-label hinge loss.

    target has input's shape and holds the positive classes of each row,
    ended by the first -1 (e.g. [3, 0, -1, 1] means classes 3 and 0).
    Every (positive j, negative i) pair contributes max(0, 1 - (x_j - x_i)) / C.
    """
    name = "multilabel_margin_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    rows = _check_margin_input(input, name)                              # (N, C)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: inconsistent target size: {tuple(target.shape)} for input "
                           f"of size: {tuple(input.shape)}")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected an integer (int64) target, got {target.dtype}")
    labels = _labels(target, name).reshape(rows.shape).astype(np.int64)
    classes = rows.shape[1]
    # count[n, j]: how often class j is listed before the first -1 (a repeat counts again)
    count = np.zeros(rows.shape, dtype=np.int64)
    for n, row in enumerate(labels):
        for j in row:
            if j < 0:
                break
            if j >= classes:
                raise RuntimeError(f"{name}: target class {j} is out of bounds for {classes} "
                                   f"classes")
            count[n, j] += 1
    negative = count == 0                                                # (N, C)
    # pairs[n, j, i] = count[n, j] * [i is negative]
    pairs = count[:, :, None] * negative[:, None, :]                     # (N, C, C)
    hinge = (1 - rows.unsqueeze(2) + rows.unsqueeze(1)).relu()           # (N, C, C): 1 - x_j + x_i
    loss = (hinge * _constant(pairs, rows)).sum((1, 2)) / classes        # (N,)
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """Multi-class hinge loss: sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C, p in {1, 2}."""
    name = "multi_margin_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if p not in (1, 2):
        raise ValueError(f"only p == 1 and p == 2 supported, got p={p}")
    rows = _check_margin_input(input, name)                              # (N, C)
    classes = rows.shape[1]
    labels = _labels(target, name).reshape(-1).astype(np.int64)
    if labels.shape[0] != rows.shape[0] or target.ndim > 1:
        raise RuntimeError(f"{name}: inconsistent target size: {tuple(target.shape)} for input "
                           f"of size: {tuple(input.shape)}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise RuntimeError(f"{name}: target out of range: classes must be in [0, {classes}), got "
                           f"{int(labels.min() if labels.min() < 0 else labels.max())}")
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), got "
                         f"{tuple(weight.shape)}")
    picked = rows.gather(1, Tensor(labels[:, None]))                     # (N, 1): x_y
    hinge = (margin - picked + rows).relu()                              # (N, C)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones(rows.shape, dtype=rows.dtype)
    others[np.arange(len(labels)), labels] = 0                           # the i != y terms
    hinge = hinge * Tensor(others)
    if weight is not None:
        hinge = hinge * weight.gather(0, Tensor(labels)).unsqueeze(1)
    loss = hinge.sum(1) / classes
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin): target 1 asks input1 to rank higher."""
    name = "margin_ranking_loss"
    input1, input2 = _as_tensor(input1, "input1", name), _as_tensor(input2, "input2", name)
    target = _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {tuple(input1.shape)}, input2: "
                           f"{tuple(input2.shape)}, target: {tuple(target.shape)} ")
    return _reduce((-target * (input1 - input2) + margin).relu(), reduction)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1 (input: a distance)."""
    name = "hinge_embedding_loss"
    input, target = _as_tensor(input, "input", name), _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    labels = _labels(target, name)
    # PyTorch's rule: the margin term wherever target != 1, the input term wherever target != -1
    margin_term = (margin - input).relu() * _constant(labels != 1, input)
    input_term = input * _constant(labels != -1, input)
    return _reduce(margin_term + input_term, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1.

    input1, input2 (N, D) or (D,); target (N,) or (). The squared norms get
    1e-12 added before the square root (PyTorch's EPSILON).
    """
    name = "cosine_embedding_loss"
    input1, input2 = _as_tensor(input1, "input1", name), _as_tensor(input2, "input2", name)
    target = _as_tensor(target, "target", name)
    _check_reduction(reduction, name)
    if tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"{name}: input1 and input2 must have the same size, got "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if input1.ndim not in (1, 2):
        raise RuntimeError(f"{name}: 1D target tensor expects 2D input tensors, but found inputs "
                           f"with sizes {tuple(input1.shape)} and {tuple(input2.shape)}.")
    if target.ndim != input1.ndim - 1 or (target.ndim == 1 and target.shape[0] != input1.shape[0]):
        raise RuntimeError(f"{name}: target of shape {tuple(target.shape)} does not match inputs "
                           f"of shape {tuple(input1.shape)} (one label per row expected)")
    dim = input1.ndim - 1
    epsilon = 1e-12
    product = (input1 * input2).sum(dim)
    magnitude1 = (input1 * input1).sum(dim) + epsilon
    magnitude2 = (input2 * input2).sum(dim) + epsilon
    cos = product / (magnitude1 * magnitude2).sqrt()
    labels = _labels(target, name)
    loss = (1 - cos) * _constant(labels == 1, cos) + (cos - margin).relu() * _constant(labels == -1, cos)
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, and "
                           f"negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin), d the pairwise p-norm distance; swap uses
    min(d(a, n), d(p, n)) as the negative distance (Balntas et al.)."""
    return triplet_margin_with_distance_loss(
        anchor, positive, negative,
        distance_function=lambda x1, x2: pairwise_distance(x1, x2, p, eps),
        margin=margin, swap=swap, reduction=reduction, _name="triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean",
                                      _name="triplet_margin_with_distance_loss"):
    """The triplet loss with any distance_function(x1, x2) (default: pairwise_distance)."""
    anchor = _as_tensor(anchor, "anchor", _name)
    positive = _as_tensor(positive, "positive", _name)
    negative = _as_tensor(negative, "negative", _name)
    _check_reduction(reduction, _name)
    if _name != "triplet_margin_loss" and margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        swapped = distance(positive, negative)
        negative_distance = negative_distance.minimum(swapped)
    return _reduce((margin + positive_distance - negative_distance).clamp_min(0), reduction)
