"""A differentiable k-nearest-neighbour classifier, usable as a training loss.

The idea: classify an embedding by a weighted vote of the labels of its k
nearest neighbours, and make that vote differentiable in the embeddings, so
that a network can be trained to produce embeddings in which same-class
points are close (metric learning; a soft version of neighbourhood
components analysis).

For each embedding x_i of a batch:
  1. candidates: the OTHER embeddings of the batch (x_i itself is excluded:
     it would always be its own nearest neighbour), plus an optional memory
     bank of embeddings from earlier batches;
  2. its k nearest candidates by Euclidean distance d_ij (ties broken by
     candidate order: earlier in the batch first, then the memory bank);
     k is reduced to the number of candidates when there are fewer;
  3. neighbour weights  w_ij = 1 / d_ij  (closer counts more), or with
     weighting='softmax'  w_ij = softmax_j(-d_ij / temperature);
  4. class probabilities  p_i(c) = sum_{j: y_j = c} w_ij / sum_j w_ij;
  5. loss = mean_i -log p_i(y_i): minus the log of the weight mass on the
     correct class.
Choosing the neighbours is a discrete step (no gradient), but the distances,
hence the weights and the loss, are differentiable in every embedding
involved (the query and its neighbours). A point none of whose k neighbours
shares its label gets mass 0; its loss is clamped to -log(1e-12) and gives no
gradient (nothing pulls in a same-class point that is not a neighbour), so
early in training use a k large enough, or a memory bank.

At test time ``fit(embeddings, labels)`` stores a reference set and
``predict(queries)`` votes among the stored embeddings, computing distances
block by block (||q||^2 + ||s||^2 - 2 q.s for a block of queries at once).
Ties between classes in the vote go to the smaller class index.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minigrad.autograd import no_grad
from minigrad.kernels.threads import get_num_threads
from minigrad.nn.module import Module
from minigrad.nn.modules._utils import is_int
from minigrad.ops.activation import softmax
from minigrad.ops.elementwise import clamp, log
from minigrad.ops.shape import cat
from minigrad.tensor import Tensor

# Prediction computes the distances of a block of queries to every stored
# embedding at once, (B, M) float64: about this many bytes per block (B at
# most batch_size). The passes over a block and its partition then run from
# cache: on a 2-core Xeon, 10,000 queries against 60,000 embeddings took
# 10-15 s in blocks of 1024 (480 MB each), 6 s in blocks of 32, 3.4 s with the
# blocks on 2 threads.
DISTANCE_BLOCK_BYTES = 16 << 20


def _squared_distances(queries, references, reference_norms=None):
    """(Q, D), (M, D) float64 arrays -> (Q, M) squared Euclidean distances, >= 0.

    |q - r|^2 = |q|^2 + |r|^2 - 2 q.r, with one (Q, M) array updated in place:
    each temporary would cost another pass over it (DISTANCE_BLOCK_BYTES at
    prediction time). reference_norms: the (M,) |r|^2, when the caller reuses
    them across blocks."""
    if reference_norms is None:
        reference_norms = np.einsum("md,md->m", references, references)
    distances = queries @ references.T                                  # (Q, M)
    distances *= -2
    distances += np.einsum("qd,qd->q", queries, queries)[:, None]
    distances += reference_norms[None, :]
    return np.maximum(distances, 0, out=distances)


class KNNClassifier(Module):
    """Differentiable k-NN over embeddings (N, D) with integer labels (N,).

    Arguments:
      k: number of neighbours; weighting: 'inverse_distance' (1/d) or
      'softmax' (softmax of -d / temperature); eps: added to squared distances
      before the square root (keeps 1/d finite for duplicate points);
      memory_size: how many embeddings of earlier batches (detached) to keep
      as extra candidates during training (0: none); num_classes: the number
      of classes (default: inferred from the labels seen); batch_size: the most
      queries per block at prediction time (fewer against a large reference
      set: see DISTANCE_BLOCK_BYTES).
    """

    def __init__(self, k=5, weighting="inverse_distance", temperature=1.0, eps=1e-8,
                 memory_size=0, num_classes=None, batch_size=1024):
        super().__init__()
        if not is_int(k) or k < 1:
            raise ValueError(f"KNNClassifier: k must be a positive integer, got {k!r}")
        if weighting not in ("inverse_distance", "softmax"):
            raise ValueError(f"KNNClassifier: weighting must be 'inverse_distance' or 'softmax', "
                             f"got {weighting!r}")
        if not temperature > 0:
            raise ValueError(f"KNNClassifier: temperature must be positive, got {temperature!r}")
        if not eps > 0:
            raise ValueError(f"KNNClassifier: eps must be positive, got {eps!r}")
        if not is_int(memory_size) or memory_size < 0:
            raise ValueError(f"KNNClassifier: memory_size must be a non-negative integer, got "
                             f"{memory_size!r}")
        if num_classes is not None and (not is_int(num_classes) or num_classes < 1):
            raise ValueError(f"KNNClassifier: num_classes must be a positive integer, got "
                             f"{num_classes!r}")
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"KNNClassifier: batch_size must be a positive integer, got {batch_size!r}")
        self.k, self.weighting, self.temperature, self.eps = int(k), weighting, temperature, eps
        self.memory_size, self.num_classes, self.batch_size = int(memory_size), num_classes, batch_size
        # Non-persistent state: the memory bank and the stored reference set.
        self.register_buffer("memory_embeddings", None, persistent=False)
        self.register_buffer("memory_labels", None, persistent=False)
        self.register_buffer("stored_embeddings", None, persistent=False)
        self.register_buffer("stored_labels", None, persistent=False)

    # ----------------------------------------------------------------- checks
    def _check(self, embeddings, labels, name="embeddings"):
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            shape = getattr(embeddings, "shape", type(embeddings).__name__)
            raise ValueError(f"KNNClassifier: expected {name} of shape (N, D), got {shape}")
        if embeddings.dtype.kind != "f":
            raise TypeError(f"KNNClassifier: {name} must be floating point, got {embeddings.dtype}")
        if labels is None:
            return None
        labels_array = labels.array if isinstance(labels, Tensor) else np.asarray(labels)
        if labels_array.dtype.kind not in "iu":
            raise TypeError(f"KNNClassifier: labels must be integers, got {labels_array.dtype}")
        if labels_array.shape != (embeddings.shape[0],):
            raise ValueError(f"KNNClassifier: labels must have shape ({embeddings.shape[0]},) to "
                             f"match {name} {tuple(embeddings.shape)}, got {labels_array.shape}")
        if labels_array.size and labels_array.min() < 0:
            raise ValueError(f"KNNClassifier: labels must be non-negative, got "
                             f"{int(labels_array.min())}")
        if self.num_classes is not None and labels_array.size and labels_array.max() >= self.num_classes:
            raise ValueError(f"KNNClassifier: label {int(labels_array.max())} is out of range for "
                             f"num_classes={self.num_classes}")
        return labels_array.astype(np.int64)

    # --------------------------------------------------------------- training
    def _candidates(self, embeddings, labels):
        """The batch followed by the memory bank: (M, D) tensor, (M,) labels, batch size."""
        if self.memory_size and self.memory_embeddings is not None:
            memory = self.memory_embeddings.to(embeddings.dtype)
            if memory.shape[1] != embeddings.shape[1]:
                raise ValueError(f"KNNClassifier: embeddings have {embeddings.shape[1]} dimensions "
                                 f"but the memory bank holds {memory.shape[1]}")
            return (cat([embeddings, memory], 0),
                    np.concatenate([labels, self.memory_labels.array]))
        return embeddings, labels

    def _neighbours(self, query_data, candidate_data, exclude_self, candidate_norms=None):
        """Indices (Q, k) of the k nearest candidates, self excluded; stable under ties.
        candidate_data may already be float64, with candidate_norms its squared norms."""
        distances = _squared_distances(query_data.astype(np.float64), candidate_data.astype(np.float64, copy=False),
                                       candidate_norms)
        available = candidate_data.shape[0] - (1 if exclude_self else 0)
        if available < 1:
            raise ValueError("KNNClassifier: no neighbours available: a batch of one embedding "
                             "needs a memory bank (memory_size > 0) or a larger batch")
        if exclude_self:
            rows = np.arange(query_data.shape[0])
            distances[rows, rows] = np.inf   # query i is candidate i: never its own neighbour
        k = min(self.k, available)
        if 2 * k >= distances.shape[1]:   # most of them: the first k of one stable sort
            return np.argsort(distances, axis=1, kind="stable")[:, :k]
        # Only the k nearest need ordering: partition first (linear time), then
        # sort those k by (distance, index), the order a stable full sort gives.
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]                   # (Q, k), unordered
        nearest_distances = np.take_along_axis(distances, nearest, 1)
        order = np.lexsort((nearest, nearest_distances), axis=1)
        nearest = np.take_along_axis(nearest, order, 1)
        # Where several candidates tie with the k-th distance, the partition may
        # have kept any of them; the stable sort keeps the smallest indices.
        kth = np.take_along_axis(distances, nearest[:, -1:], 1)                       # (Q, 1)
        tied = (distances == kth).sum(1) > (np.take_along_axis(distances, nearest, 1) == kth).sum(1)
        if tied.any():
            nearest[tied] = np.argsort(distances[tied], axis=1, kind="stable")[:, :k]
        return nearest

    def _weights(self, queries, neighbours):
        """(Q, D) queries, (Q, k, D) neighbours -> (Q, k) normalised weights (differentiable)."""
        difference = queries.unsqueeze(1) - neighbours                    # (Q, k, D)
        distance = ((difference * difference).sum(2) + self.eps).sqrt()    # (Q, k)
        if self.weighting == "softmax":
            return softmax(distance * (-1.0 / self.temperature), 1)
        inverse = 1.0 / distance
        return inverse / inverse.sum(1, keepdim=True)

    def class_probabilities(self, embeddings, labels):
        """(N, C) differentiable leave-one-out class probabilities of a labelled batch."""
        labels = self._check(embeddings, labels)
        weights, neighbour_labels = self._batch_weights(embeddings, labels)
        return self._probabilities(weights, neighbour_labels, labels, embeddings.dtype)

    def _probabilities(self, weights, neighbour_labels, labels, dtype):
        classes = self._num_classes(labels)
        one_hot = (neighbour_labels[:, :, None] == np.arange(classes)).astype(dtype)
        return (weights.unsqueeze(2) * Tensor(one_hot)).sum(1)           # (N, k, 1) * (N, k, C)

    def _batch_weights(self, embeddings, labels):
        candidates, candidate_labels = self._candidates(embeddings, labels)
        index = self._neighbours(embeddings.array, candidates.array, exclude_self=True)   # (N, k)
        weights = self._weights(embeddings, candidates[index])
        return weights, candidate_labels[index]

    def _num_classes(self, labels):
        if self.num_classes is not None:
            return self.num_classes
        seen = [labels]
        if self.memory_labels is not None:
            seen.append(self.memory_labels.array)
        if self.stored_labels is not None:
            seen.append(self.stored_labels.array)
        return int(max(int(s.max()) for s in seen if s.size)) + 1

    def forward(self, embeddings, labels, return_probabilities=False):
        """Mean over the batch of -log(weight mass of the neighbours with the right label).

        return_probabilities: (loss, probabilities), probabilities the (N, C)
        class_probabilities of the batch, detached, from the same neighbours and
        weights (for a running accuracy: no second neighbour search)."""
        labels = self._check(embeddings, labels)
        weights, neighbour_labels = self._batch_weights(embeddings, labels)
        same_class = (neighbour_labels == labels[:, None]).astype(embeddings.dtype)   # (N, k)
        mass = (weights * Tensor(same_class)).sum(1)                                  # (N,)
        # No neighbour of the right class gives mass 0: clamp so the loss stays finite.
        loss = -log(clamp(mass, min=1e-12)).mean()
        if return_probabilities:
            with no_grad():
                probabilities = self._probabilities(weights.detach(), neighbour_labels, labels, embeddings.dtype)
        if self.training and self.memory_size:
            self._enqueue(embeddings.array, labels)
        return (loss, probabilities) if return_probabilities else loss

    def _enqueue(self, embeddings, labels):
        """Append (detached) embeddings to the memory bank, dropping the oldest (FIFO)."""
        if self.memory_embeddings is None:
            stacked, stacked_labels = embeddings, labels
        else:
            old = self.memory_embeddings.array
            stacked = np.concatenate([old, embeddings.astype(old.dtype)])
            stacked_labels = np.concatenate([self.memory_labels.array, labels])
        self.memory_embeddings = Tensor(np.array(stacked[-self.memory_size:], copy=True))
        self.memory_labels = Tensor(np.array(stacked_labels[-self.memory_size:], copy=True))

    def reset_memory(self):
        self.memory_embeddings = None
        self.memory_labels = None

    # -------------------------------------------------------------- inference
    def fit(self, embeddings, labels):
        """Store (a detached copy of) a labelled reference set for predict()."""
        labels = self._check(embeddings, labels)
        if embeddings.shape[0] == 0:
            raise ValueError("KNNClassifier.fit: the reference set is empty")
        self.stored_embeddings = Tensor(np.array(embeddings.array, copy=True))
        self.stored_labels = Tensor(labels.copy())
        return self

    def predict_proba(self, queries):
        """(Q, C) class probabilities of new queries from their k nearest stored embeddings."""
        if self.stored_embeddings is None:
            raise RuntimeError("KNNClassifier: call fit(embeddings, labels) before predict")
        self._check(queries, None, "queries")
        reference = self.stored_embeddings.array
        if queries.shape[1] != reference.shape[1]:
            raise ValueError(f"KNNClassifier: queries have {queries.shape[1]} dimensions, the stored "
                             f"embeddings {reference.shape[1]}")
        labels = self.stored_labels.array
        classes = self._num_classes(labels)
        reference64 = reference.astype(np.float64)              # converted once, not once per block
        norms64 = np.einsum("md,md->m", reference64, reference64)
        rows = max(1, min(self.batch_size, DISTANCE_BLOCK_BYTES // (8 * max(1, reference.shape[0]))))
        blocks = [queries.array[start:start + rows] for start in range(0, queries.shape[0], rows)]   # (B, D)

        def neighbours(block):                                                   # (B, k)
            return self._neighbours(block, reference64, False, norms64)
        # The blocks are independent: on threads (NumPy releases the GIL in the
        # product and the partition), the same indices whatever their number.
        threads = min(get_num_threads(), len(blocks))
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                indices = list(pool.map(neighbours, blocks))
        else:
            indices = [neighbours(block) for block in blocks]
        probabilities = []
        with no_grad():
            for block, index in zip(blocks, indices):
                weights = self._weights(Tensor(block), Tensor(reference[index])).array  # (B, k)
                votes = np.zeros((block.shape[0], classes), dtype=weights.dtype)
                np.add.at(votes, (np.arange(block.shape[0])[:, None], labels[index]), weights)
                probabilities.append(votes)
        return Tensor(np.concatenate(probabilities) if probabilities else np.zeros((0, classes)))

    def predict(self, queries):
        """(Q,) int64 predicted labels (ties between classes: the smaller class index)."""
        return Tensor(np.argmax(self.predict_proba(queries).array, axis=1).astype(np.int64))

    def extra_repr(self):
        text = f"k={self.k}, weighting={self.weighting!r}"
        if self.weighting == "softmax":
            text += f", temperature={self.temperature}"
        if self.memory_size:
            text += f", memory_size={self.memory_size}"
        return text
