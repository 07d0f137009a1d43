"""The functional ops (minigrad.nn.functional) under PyTorch's top-level names.

``torch.conv2d``, ``torch.batch_norm``, ``torch.kl_div`` ... are the ATen
operators that ``torch.nn.functional`` wraps. Their signatures sometimes
differ from F's: reductions are ints (0 'none', 1 'mean', 2 'sum'),
dropout takes ``(input, p, train)`` with no defaults, batch_norm puts weight
and bias before the running statistics, embedding takes ``(weight, indices)``
and ``embedding_bag`` returns four tensors. Each function here converts
those arguments and calls the F version, so the maths lives in one place.
"""
import builtins

import numpy as np

from minigrad.nn import functional as F
from minigrad.ops.dropout import MaskMultiply, _apply_dropout, _check_p
from minigrad.ops.embedding_bag import _bag_of_each
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

# ATen's reduction enum (at::Reduction): the int torch's top-level losses take.
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, name):
    if isinstance(reduction, str):
        raise TypeError(f"{name}(): argument 'reduction' must be int (0 'none', 1 'mean', 2 'sum'), "
                        f"not str {reduction!r}; the string form is torch.nn.functional.{name}")
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise RuntimeError(f"{name}(): reduction must be 0 ('none'), 1 ('mean') or 2 ('sum'), got "
                           f"{reduction!r}")
    return _REDUCTIONS[reduction]


def _stride(stride):
    """ATen's stride=[] (empty) means the kernel size, as F's stride=None does."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return None
    return stride


# ------------------------------------------------------------------ convolution
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return F.conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return F.conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


# ---------------------------------------------------------------------- pooling
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """(output, indices): indices are positions along L."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return F.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """(output, indices), always both (torch's top-level form)."""
    return F.adaptive_max_pool1d(input, output_size, True)


# ---------------------------------------------------------------- normalization
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """F.batch_norm with ATen's argument order: weight and bias before the running statistics."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


# ---------------------------------------------------------------------- dropout
def dropout(input, p, train):
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    """Zero whole features of (N, C, *): one draw per (n, c), kept ones scaled by 1/(1-p)."""
    _check_p(p, "feature_dropout")
    if input.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{tuple(input.shape)}")
    if not train or p == 0:
        return input
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)  # (N, C, 1, ..., 1)
    return _apply_dropout(input, p, mask_shape, False)


# -------------------------------------------------------------------- embedding
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by indices; ATen's padding_idx is -1 for none (any negative: none)."""
    padding = None if padding_idx < 0 else padding_idx
    return F.embedding(indices, weight, padding, None, 2.0, scale_grad_by_freq, sparse)


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices), as torch's CPU operator returns them.

    mode: 0 sum, 1 mean, 2 max. offset2bag[i] is the bag of indices[i]; bag_size the
    number of non-padding indices in each bag; max_indices (mode max) the row of weight
    each output element came from. In sum mode the three are zeros/empty, as in torch.
    """
    if not isinstance(offsets, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"embedding_bag(): indices and offsets must be Tensors (indices 1-d, offsets the "
                        f"bag starts), got {type(indices).__name__} and {type(offsets).__name__}")
    if isinstance(mode, bool) or mode not in _BAG_MODES:
        raise RuntimeError(f"embedding_bag(): mode must be 0 (sum), 1 (mean) or 2 (max), got {mode!r}")
    output = F.embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq, _BAG_MODES[mode],
                             sparse, per_sample_weights, include_last_offset, padding_idx)
    index_array = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    offset_array = offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets)
    num_offsets = len(offset_array)
    flat, bags, num_bags = _bag_of_each(index_array, offset_array, include_last_offset)
    offset2bag = np.zeros(len(index_array), np.int64)
    offset2bag[:len(bags)] = bags
    if mode == 0:
        # torch's sum path fills only offset2bag, and only when it must skip padding rows.
        zeros = np.zeros(num_offsets, np.int64)
        if padding_idx is None:
            offset2bag = np.zeros(0, np.int64)
        return output, Tensor(offset2bag), Tensor(zeros), Tensor(zeros.copy())
    keep = np.ones(len(flat), bool)
    if padding_idx is not None:
        keep = flat != int(padding_idx) % weight.shape[0]
    bag_size = np.bincount(bags[keep], minlength=num_bags).astype(np.int64)
    if mode == 1:
        return output, Tensor(offset2bag), Tensor(bag_size), Tensor(bag_size.copy())
    # max: the weight row that won each (bag, feature); 0 for an empty bag.
    rows = weight.array[flat[keep]]                        # (kept, D)
    max_indices = np.zeros((num_bags, weight.shape[1]), np.int64)
    for bag in range(num_bags):
        in_bag = bags[keep] == bag
        if in_bag.any():
            max_indices[bag] = flat[keep][in_bag][np.argmax(rows[in_bag], axis=0)]
    return output, Tensor(offset2bag), Tensor(bag_size), Tensor(max_indices)


def bilinear(input1, input2, weight, bias=None):
    return F.bilinear(input1, input2, weight, bias)


# ------------------------------------------------------------------------ shape
def pixel_shuffle(input, upscale_factor):
    return F.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return F.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    return F.channel_shuffle(input, groups)


def constant_pad_nd(input, pad, value=0):
    """Pad the last len(pad)//2 dimensions with `value` (negative pads crop)."""
    return F.pad(input, pad, "constant", value)


# ------------------------------------------------------------------ activations
def prelu(input, weight):
    return F.prelu(input, weight)


def rrelu(input, lower=0.125, upper=1.0 / 3, training=False, generator=None):
    """F.rrelu; in training the slopes r ~ U(lower, upper) come from `generator` when given."""
    if generator is None or not training:
        return F.rrelu(input, lower, upper, training)
    if lower > upper:
        raise ValueError(f"rrelu: expected lower <= upper, got lower={lower!r}, upper={upper!r}")
    slopes = numpy_generator(generator).uniform(lower, upper, input.shape)
    factor = np.where(input.array > 0, 1.0, slopes).astype(input.dtype)
    return MaskMultiply.apply(input, factor)


def hardshrink(input, lambd=0.5):
    return F.hardshrink(input, lambd)


# -------------------------------------------------------------------- distances
def pdist(input, p=2.0):
    return F.pdist(input, p)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    return F.pairwise_distance(x1, x2, p, eps, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    return F.cosine_similarity(x1, x2, dim, eps)


# ------------------------------------------------------------------------ losses
def kl_div(input, target, reduction=1, *, log_target=False):
    """ATen's kl_div: reduction 1 is the mean over all elements (F's 'mean', not 'batchmean')."""
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """F.poisson_nll_loss with every argument required and reduction an int, as ATen's."""
    return F.poisson_nll_loss(input, target, builtins.bool(log_input), builtins.bool(full), eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))
