"""Batches of sequences of different lengths (as torch.nn.utils.rnn).

A padded batch is (T, B, *) (or (B, T, *) with batch_first), every sequence
filled up to the longest length T. A PackedSequence keeps only the real steps,
time-major: with the sequences sorted by decreasing length, step t holds the
first ``batch_sizes[t]`` of them (those longer than t), so

    lengths 3, 2, 1 (sorted)  ->  batch_sizes [3, 2, 1]
    data = [a0 b0 c0 | a1 b1 | a2]                  # (sum(lengths), *)

RNN, LSTM and GRU take a PackedSequence and step over only the real steps:
each sequence's final state is the one at its own length.
"""
from collections import namedtuple

import numpy as np

from minigrad.ops.shape import cat, stack
from minigrad.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as in PyTorch.

    data (sum(lengths), *); batch_sizes (T,) int64: how many sequences step t
    has; sorted_indices: batch position of the k-th longest sequence (None when
    the batch was already sorted); unsorted_indices: its inverse permutation.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        return self._with_data(self.data.to(*args, **kwargs))

    def cpu(self):
        return self

    def float(self):
        return self._with_data(self.data.float())

    def double(self):
        return self._with_data(self.data.double())

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _inverse_permutation(permutation):
    order = np.asarray(permutation.array if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return Tensor._make(inverse.astype(np.int64), False, None)


def _lengths_list(lengths, batch):
    """lengths (a list, ndarray or 1-D integer Tensor) as a list of B positive ints."""
    array = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or len(array) != batch:
        raise ValueError(f"pack_padded_sequence: expected one length per sequence ({batch}), got "
                         f"lengths of shape {tuple(array.shape)}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(array == np.round(array)):
            raise ValueError(f"pack_padded_sequence: lengths must be integers, got {array.tolist()}")
    values = [int(n) for n in array]
    if any(n <= 0 for n in values):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           f"'lengths' that is <= 0: {values}")
    return values


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences with the given lengths.

    enforce_sorted=True expects lengths in decreasing order (an error otherwise);
    False sorts them, remembering the permutation in sorted_indices.
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be a Tensor of at least 2 dimensions, "
                         f"got {getattr(input, 'shape', type(input).__name__)}")
    if batch_first:
        input = input.transpose(0, 1)  # (T, B, *)
    steps, batch = input.shape[0], input.shape[1]
    lengths = _lengths_list(lengths, batch)
    if max(lengths) > steps:
        raise RuntimeError(f"pack_padded_sequence: a length ({max(lengths)}) is longer than the padded "
                           f"sequences ({steps} steps)")
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(f"`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               f"True, got {lengths}. You can pass `enforce_sorted=False` to "
                               f"pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
                               f"you do not need ONNX exportability.")
    else:
        order = np.argsort(-np.asarray(lengths), kind="stable")
        sorted_indices = Tensor._make(order.astype(np.int64), False, None)
        input = input.index_select(1, sorted_indices)
        lengths = [lengths[k] for k in order]
    # batch_sizes[t]: how many (sorted) sequences are longer than t.
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = cat([input[t, :size] for t, size in enumerate(batch_sizes)], 0)  # (sum(lengths), *)
    return PackedSequence(data, Tensor._make(np.array(batch_sizes, dtype=np.int64), False, None),
                          sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (T, B, *), lengths (B,) int64), in the
    original batch order; T is the longest length, or total_length if given."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = [int(n) for n in sequence.batch_sizes.array]
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence "
                             f"in input, but got total_length={total_length} and max sequence length "
                             f"being {steps}")
        steps = total_length
    data = sequence.data
    batch, features = batch_sizes[0], tuple(data.shape[1:])
    padding = Tensor._make(np.full((batch,) + features, padding_value, dtype=data.dtype), False, None)
    rows, offset = [], 0
    for size in batch_sizes:
        step = data[offset:offset + size]  # (size, *): the sequences still running at this step
        rows.append(step if size == batch else cat([step, padding[size:]], 0))
        offset += size
    rows.extend([padding] * (steps - len(batch_sizes)))
    padded = stack(rows, 0)  # (T, B, *), sorted order
    lengths = np.array([sum(1 for size in batch_sizes if size > b) for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.array]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._make(lengths, False, None)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into (T, B, *) (or (B, T, *)), filled with padding_value."""
    sequences = list(sequences) if not isinstance(sequences, Tensor) else list(sequences.unbind(0))
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trailing = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if not isinstance(s, Tensor) or tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: sequence {k} has shape {getattr(s, 'shape', type(s).__name__)}; "
                               f"every sequence must be a Tensor (L_i, *{trailing})")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = Tensor._make(np.full((missing,) + trailing, padding_value, dtype=s.dtype), False, None)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence(pad_sequence(sequences), their lengths)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences (L_i, *) of a padded batch, as a list."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _lengths_list(lengths, padded_sequences.shape[0])
    return [padded_sequences[b, :n] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The sequences (L_i, *) of a PackedSequence, as a list in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
