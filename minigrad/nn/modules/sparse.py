"""Embedding: a lookup table of learnable vectors, one row per index (as torch.nn.Embedding).

The forward pass gathers rows, ``weight[indices]``; the backward pass adds
each incoming gradient row back into the row it came from (an index may
appear many times). The row ``padding_idx`` gets no gradient.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.tensor import Tensor


class EmbeddingLookup(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.weight_shape, ctx.padding_idx = weight.shape, padding_idx
        ctx.save_for_backward(indices)
        return weight[indices]  # indices (...) -> (..., embedding_dim)

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad.dtype)
        np.add.at(grad_weight, indices.reshape(-1), grad.reshape(-1, ctx.weight_shape[1]))
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The scatter-add as an op (linear in grad; the indices are constants)
        from minigrad.ops.elementwise import _constant
        from minigrad.ops.shape import ScatterIntoZeros
        indices, = ctx.saved_tensors
        rows = grad.reshape(-1, ctx.weight_shape[1])                     # (K, embedding_dim)
        grad_weight = ScatterIntoZeros.apply(rows, ctx.weight_shape, indices.array.reshape(-1))
        if ctx.padding_idx is not None:
            keep = np.ones((ctx.weight_shape[0], 1), dtype=grad.dtype)
            keep[ctx.padding_idx] = 0
            grad_weight = grad_weight * _constant(keep)
        return grad_weight, None, None


def _padding_index(padding_idx, num_embeddings):
    """PyTorch's rule: padding_idx in [-num_embeddings, num_embeddings), negatives count from the end."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                         f"({num_embeddings}), got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` (num_embeddings, dim) picked by the integer tensor `input` (any shape)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError("embedding: max_norm, scale_grad_by_freq and sparse are not supported by "
                         "minigrad (clip the weight rows yourself under no_grad for max_norm)")
    indices = input.array if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected input of an integer dtype (int64 or int32), got "
                        f"{indices.dtype}")
    num_embeddings = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {int(bad)} is out of range for an embedding table "
                         f"with {num_embeddings} rows")
    return EmbeddingLookup.apply(weight, indices, _padding_index(padding_idx, num_embeddings))


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1); row padding_idx starts at zero."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise ValueError("Embedding: max_norm, scale_grad_by_freq and sparse are not "
                             "supported by minigrad")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings)
        self.max_norm, self.norm_type = None, norm_type
        self.scale_grad_by_freq, self.sparse = False, False
        dtype = factory_dtype("Embedding", device, dtype)
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            weight = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if weight.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {weight.shape}, expected "
                                 f"{(self.num_embeddings, self.embedding_dim)}")
            self.weight = Parameter(np.array(weight, copy=True), requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is a copy of `embeddings` (2-D); frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
