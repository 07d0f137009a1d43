"""EmbeddingBag: an Embedding whose looked-up rows are summed, averaged or maxed per bag
(as torch.nn.EmbeddingBag), over ``F.embedding_bag`` (minigrad/ops/embedding_bag.py)."""
import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.ops.embedding_bag import embedding_bag
from minigrad.tensor import Tensor


class EmbeddingBag(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1) (row padding_idx zero); forward gives (B, embedding_dim).

    PyTorch's constructor checks are assertions (AssertionError), and so are these.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"EmbeddingBag: {name} must be a positive integer, got {value!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        if padding_idx is not None:
            if not is_int(padding_idx) or not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise AssertionError(f"padding_idx must be within num_embeddings ({self.num_embeddings}), "
                                     f"got {padding_idx!r}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dtype = factory_dtype("EmbeddingBag", device, dtype)
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            weight = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if weight.shape != (self.num_embeddings, self.embedding_dim):
                raise AssertionError(f"Shape of weight does not match num_embeddings and embedding_dim: got "
                                     f"{weight.shape}, expected {(self.num_embeddings, self.embedding_dim)}")
            self.weight = Parameter(_weight.array if isinstance(_weight, Tensor) else np.array(weight))
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                             self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx!r}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose table is `embeddings` (2-D, its memory shared as torch); frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise AssertionError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                                 f"{tuple(embeddings.shape)}")
        rows, columns = embeddings.shape
        bag = cls(rows, columns, max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                  mode=mode, sparse=sparse, _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
