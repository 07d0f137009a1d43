"""AdaptiveLogSoftmaxWithLoss (Grave et al., 2016): a softmax over many classes
that spends little compute on the rare ones.

The classes are split by cutoffs into a shortlist (the frequent classes,
0 .. cutoffs[0] - 1) and clusters. The head scores the shortlist plus one
logit per cluster; cluster i has its own small tail, Linear(in, in // div^(i+1))
then Linear(that, cluster size). A class c in cluster i gets

    log p(c) = log_softmax(head(x))[shortlist + i] + log_softmax(tail_i(x))[c - cutoff_i]

and a shortlist class log_softmax(head(x))[c]. forward gives every row's
log p(target) and the loss mean(-log p(target)).
"""
import collections

import numpy as np

from minigrad.nn.module import Module
from minigrad.nn.modules.container import ModuleList, Sequential
from minigrad.nn.modules.linear import Linear
from minigrad.ops.activation import log_softmax
from minigrad.ops.shape import cat
from minigrad.tensor import Tensor

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation; forward(input, target) -> (output, loss)."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None,
                 dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                                        Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for projection in self.tail:
            for linear in projection:
                linear.reset_parameters()

    def forward(self, input_, target_):
        if not isinstance(input_, Tensor) or not isinstance(target_, Tensor):
            raise TypeError("AdaptiveLogSoftmaxWithLoss: input and target must be Tensors, got "
                            f"{type(input_).__name__} and {type(target_).__name__}")
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                                   f"size {input_.shape}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                                   f"size {input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_.numpy().reshape(-1)                 # (B,) class of each row
        batch = target.shape[0]
        bounds = [0] + self.cutoffs
        inside = (target >= 0) & (target < self.n_classes)
        if not inside.all():
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min()}, {target.max()}] were found. ")
        # the head column each row reads: its class in the shortlist, else its cluster's logit
        cluster_of = np.searchsorted(np.array(bounds[1:]), target, side="right")   # 0: shortlist
        head_column = np.where(cluster_of == 0, target, self.shortlist_size + cluster_of - 1)
        head_logprob = log_softmax(self.head(input), dim=1)                         # (B, head_size)
        output = head_logprob.gather(1, Tensor(head_column[:, None].astype(np.int64))).squeeze(1)
        for i in range(1, len(bounds) - 1):
            rows = np.nonzero(cluster_of == i)[0]
            if rows.size == 0:
                continue
            relative = (target[rows] - bounds[i]).astype(np.int64)
            cluster_logprob = log_softmax(self.tail[i - 1](input[Tensor(rows)]), dim=1)   # (R, size)
            local = cluster_logprob.gather(1, Tensor(relative[:, None])).squeeze(1)        # (R,)
            placement = np.zeros((batch, rows.size), dtype=local.dtype)                    # row r -> rows[r]
            placement[rows, np.arange(rows.size)] = 1
            output = output + Tensor(placement) @ local
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        """(N, n_classes) log-probabilities from input (N, in_features) and head(input)."""
        head_logprob = log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = log_softmax(self.tail[i](input), dim=1)
            pieces.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(pieces, 1)

    def log_prob(self, input):
        """log p(c | x) of every class: (N, in_features) -> (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row, log_prob(input).argmax(1), the tails run only where needed."""
        head_output = self.head(input)
        output = head_output.detach().numpy().argmax(axis=1)
        outside = output >= self.shortlist_size
        if outside.any():
            rows = np.nonzero(outside)[0]
            log_prob = self._get_full_log_prob(input[Tensor(rows)], head_output[Tensor(rows)])
            output[rows] = log_prob.detach().numpy().argmax(axis=1)
        return Tensor(output.astype(np.int64))
