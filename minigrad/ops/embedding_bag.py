"""embedding_bag: sums, means or maxima of bags of embedding rows (``F.embedding_bag``).

A bag is a run of indices; its output row reduces the embedding rows it picks:

    sum:   out[b] = sum over i in bag b of  w_i * weight[input[i]]     (w_i: per_sample_weights, else 1)
    mean:  out[b] = (1 / |bag b|) * sum over i in bag b of weight[input[i]]
    max:   out[b, d] = max over i in bag b of weight[input[i], d]

Bags are the rows of a 2-d input (B, N), or, for a 1-d input, the runs
``input[offsets[b]:offsets[b + 1]]`` (the last one runs to the end, or with
include_last_offset=True offsets holds B + 1 boundaries). Entries equal to
padding_idx are left out (and not counted by the mean); an empty bag gives
zeros. Backward sends each output row's gradient back to the rows it read
(scaled by w_i or 1/|bag|; for max, to the row that was the maximum, the
first one on ties), and to per_sample_weights: dL/dw_i = g[b] . weight[input[i]].
"""
import numpy as np

from minigrad.autograd import Function, no_grad
from minigrad.ops._args import is_int
from minigrad.ops.shape import ScatterIntoZeros
from minigrad.tensor import Tensor

_MODES = ("sum", "mean", "max")


class EmbeddingBag(Function):
    """out (B, D) from weight (num_embeddings, D), the kept indices and the bag of each."""

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, weight, per_sample_weights, indices, bags, num_bags, mode):
        # indices (K,): the rows read, padding left out; bags (K,): the bag of each, in order
        rows = weight[indices]                                                   # (K, D)
        out = np.zeros((num_bags, weight.shape[1]), dtype=weight.dtype)
        ctx.mode, ctx.weight_shape = mode, weight.shape
        if mode == "max":
            out[...] = -np.inf
            np.maximum.at(out, bags, rows)
            # the position (in 0..K-1) of each maximum, the first on ties; K where the bag is empty
            positions = np.arange(len(indices))[:, None]                         # (K, 1)
            first = np.full(out.shape, len(indices), dtype=np.int64)             # (B, D)
            np.minimum.at(first, bags, np.where(rows == out[bags], positions, len(indices)))
            out[first == len(indices)] = 0
            ctx.save_for_backward(indices, first)
            return out
        scale = np.ones(len(indices), dtype=weight.dtype)                        # (K,): dout[b] / drow
        if per_sample_weights is not None:
            scale = per_sample_weights
            rows = rows * scale[:, None]
        np.add.at(out, bags, rows)
        if mode == "mean":                         # the sum, then divided by the bag's size (as torch)
            counts = np.bincount(bags, minlength=num_bags)                       # (B,)
            out /= np.maximum(counts, 1)[:, None]
            scale = (1.0 / counts[bags]).astype(weight.dtype)
        ctx.save_for_backward(weight, indices, bags, scale)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad_output.dtype)
        if ctx.mode == "max":
            indices, first = ctx.saved_tensors
            found = first < len(indices)                                         # (B, D): bag not empty
            columns = np.broadcast_to(np.arange(ctx.weight_shape[1]), first.shape)
            np.add.at(grad_weight, (indices[first[found]], columns[found]), grad_output[found])
            return grad_weight, None, None, None, None, None
        weight, indices, bags, scale = ctx.saved_tensors
        grad_rows = grad_output[bags]                                            # (K, D)
        np.add.at(grad_weight, indices, grad_rows * scale[:, None])
        grad_per_sample = None
        if ctx.needs_input_grad[1]:
            grad_per_sample = (grad_rows * weight[indices]).sum(axis=1)          # (K,)
        return (grad_weight if ctx.needs_input_grad[0] else None), grad_per_sample, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad_output):
        # The same scatter-adds as ops; weight and per_sample_weights come back as
        # the inputs (scale is per_sample_weights itself when given, else a constant).
        if ctx.mode == "max":
            indices, first = ctx.saved_tensors
            bag, column = np.nonzero(first.array < len(indices))             # the non-empty (bag, column)s
            rows = indices.array[first.array[bag, column]]
            grad_weight = ScatterIntoZeros.apply(grad_output[bag, column], ctx.weight_shape, (rows, column))
            return grad_weight, None, None, None, None, None
        weight, indices, bags, scale = ctx.saved_tensors
        grad_rows = grad_output[bags.array]                                   # (K, D)
        grad_weight = grad_per_sample = None
        if ctx.needs_input_grad[0]:
            grad_weight = ScatterIntoZeros.apply(grad_rows * scale.reshape(-1, 1), ctx.weight_shape,
                                                 indices.array)
        if ctx.needs_input_grad[1]:
            grad_per_sample = (grad_rows * weight[indices.array]).sum(axis=1)  # (K,)
        return grad_weight, grad_per_sample, None, None, None, None


class _ScatterPerSample(Function):
    """The kept entries' per-sample weights (K,) taken from the full (L,) array; backward scatters."""

    @staticmethod
    def forward(ctx, per_sample_weights, keep):
        ctx.keep, ctx.size = keep, per_sample_weights.shape
        return per_sample_weights.reshape(-1)[keep]

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(int(np.prod(ctx.size)), dtype=grad.dtype)
        full[ctx.keep] = grad
        return full.reshape(ctx.size), None

    @staticmethod
    def backward_graph(ctx, grad):
        return ScatterIntoZeros.apply(grad, (int(np.prod(ctx.size)),), ctx.keep).reshape(*ctx.size), None


def _integer_array(name, value):
    array = value.array if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected {name} of an integer dtype (int64 or int32), got "
                           f"{array.dtype}")
    return array.astype(np.int64, copy=False)


def _bag_of_each(input, offsets, include_last_offset):
    """(indices (L,), bags (L,), number of bags) from a 2-d input or a 1-d input with offsets."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             f"of fixed length sequences. However, found offsets of type {type(offsets).__name__}")
        num_bags, length = input.shape
        return input.reshape(-1), np.repeat(np.arange(num_bags), length), num_bags
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    offsets = _integer_array("offsets", offsets)
    if offsets.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor, got offsets of shape {tuple(offsets.shape)}")
    length = len(input)
    if len(offsets):
        if offsets[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {int(offsets[0])}")
        if offsets[-1] > length:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but got "
                               f"offsets[-1] of {int(offsets[-1])}")
        if np.any(np.diff(offsets) < 0):
            raise RuntimeError(f"offsets must be non-decreasing, got {offsets.tolist()}")
    if include_last_offset:
        if len(offsets) == 0:
            raise RuntimeError("embedding_bag: include_last_offset=True needs at least one offset")
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, np.append(offsets[1:], length)
    num_bags = len(starts)
    sizes = ends - starts
    used = int(sizes.sum())                       # entries that belong to a bag (past the last: none)
    bags = np.repeat(np.arange(num_bags), sizes)
    return input[:used] if include_last_offset else input, bags, num_bags


def _padding_index(padding_idx, num_embeddings):
    if padding_idx is None:
        return None
    if not is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
        raise RuntimeError(f"padding_idx must be within the number of embeddings, {-num_embeddings} through "
                           f"{num_embeddings - 1}, but got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Rows of weight read by `indices` with a norm above max_norm scaled down to it, in place (as torch)."""
    with no_grad():
        rows = np.unique(indices)
        norms = np.linalg.norm(weight.array[rows], ord=norm_type, axis=1)
        too_long = norms > max_norm
        weight.array[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None].astype(weight.dtype)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Bags of rows of weight (num_embeddings, D) reduced by sum, mean or max: (B, D).

    input (B, N): B bags of N indices; or input (L,) with offsets (B,) (B + 1 with
    include_last_offset): bag b is input[offsets[b]:offsets[b + 1]].
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding_bag(): argument 'weight' must be Tensor, not {type(weight).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if weight.dtype.kind != "f":
        raise RuntimeError(f"embedding_bag: weight must be a floating tensor, got {weight.dtype}")
    indices = _integer_array("input", input)
    if indices.ndim not in (1, 2):
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {indices.ndim}")
    if per_sample_weights is not None:
        if not isinstance(per_sample_weights, Tensor):
            per_sample_weights = Tensor(np.asarray(per_sample_weights, dtype=weight.dtype))
        if tuple(per_sample_weights.shape) != tuple(indices.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not "
                             f"None, then it must have the same shape as the input ({tuple(indices.shape)})")
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None and not isinstance(max_norm, (int, float)):
        raise TypeError(f"embedding_bag: max_norm must be a number or None, got {type(max_norm).__name__}")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if scale_grad_by_freq or sparse:
        raise ValueError("embedding_bag: scale_grad_by_freq and sparse gradients are not supported by minigrad "
                         "(minigrad has no sparse tensors)")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}').")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"embedding_bag: per_sample_weights must have the weight's dtype {weight.dtype}, got "
                           f"{per_sample_weights.dtype}")
    num_embeddings = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num_embeddings)
    flat, bags, num_bags = _bag_of_each(indices, offsets, include_last_offset)
    if flat.size and (flat.min() < 0 or flat.max() >= num_embeddings):
        position = int(np.argmax((flat < 0) | (flat >= num_embeddings)))
        raise RuntimeError(f"Index {position} of input takes value {int(flat[position])} which is not in the "
                           f"valid range [0, {num_embeddings})")
    keep = np.ones(len(flat), dtype=bool) if padding_idx is None else flat != padding_idx
    if max_norm is not None:
        _renorm_rows(weight, flat[keep], float(max_norm), float(norm_type))
    kept_weights = None
    if per_sample_weights is not None:
        kept_weights = _ScatterPerSample.apply(per_sample_weights, np.flatnonzero(keep))
    return EmbeddingBag.apply(weight, kept_weights, flat[keep], bags[keep], num_bags, mode)
