"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence)
and recurrent layers on a PackedSequence, against each sequence run alone."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck, nn
from minigrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LENGTHS = [2, 4, 1, 3]  # unsorted on purpose


def sequences(rng, lengths=LENGTHS, features=3, dtype=np.float64):
    return [Tensor(rng.standard_normal((n, features)).astype(dtype)) for n in lengths]


def test_pad_sequence_both_layouts_and_sides():
    a, b = Tensor(np.array([[1.0], [2.0], [3.0]])), Tensor(np.array([[4.0]]))
    padded = pad_sequence([a, b], padding_value=-1.0)  # (T, B, 1)
    np.testing.assert_array_equal(padded.array[..., 0], [[1, 4], [2, -1], [3, -1]])
    np.testing.assert_array_equal(pad_sequence([a, b], batch_first=True).array[..., 0], [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(pad_sequence([a, b], batch_first=True, padding_side="left").array[..., 0],
                                  [[1, 2, 3], [0, 0, 4]])
    with pytest.raises(RuntimeError, match="sequence 1"):
        pad_sequence([a, Tensor(np.zeros((2, 2)))])


def test_pack_padded_sequence_layout():
    # Three sorted sequences of lengths 3, 2, 1: the values say (sequence, step).
    padded = Tensor(np.array([[10, 20, 30], [11, 21, 0], [12, 0, 0]], dtype=np.float64))  # (T, B)
    packed = pack_padded_sequence(padded, [3, 2, 1])
    np.testing.assert_array_equal(packed.data.array, [10, 20, 30, 11, 21, 12])
    np.testing.assert_array_equal(packed.batch_sizes.array, [3, 2, 1])
    assert packed.batch_sizes.dtype == np.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    same = pack_padded_sequence(Tensor(padded.array.T.copy()), minigrad.tensor([3, 2, 1]), batch_first=True)
    np.testing.assert_array_equal(same.data.array, packed.data.array)


def test_enforce_sorted_both_ways_and_round_trip():
    rng = np.random.default_rng(0)
    padded = pad_sequence(sequences(rng), batch_first=True)  # (B, T, 3)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(padded, LENGTHS, batch_first=True)
    packed = pack_padded_sequence(padded, LENGTHS, batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(packed.sorted_indices.array, [1, 3, 0, 2])
    np.testing.assert_array_equal(packed.unsorted_indices.array, [2, 0, 3, 1])
    np.testing.assert_array_equal(packed.batch_sizes.array, [4, 3, 2, 1])
    unpadded, lengths = pad_packed_sequence(packed, batch_first=True)
    np.testing.assert_array_equal(unpadded.array, padded.array)
    np.testing.assert_array_equal(lengths.array, LENGTHS)
    longer, _ = pad_packed_sequence(packed, total_length=6, padding_value=7.0)  # (T, B, 3)
    assert longer.shape == (6, 4, 3) and np.all(longer.array[4:] == 7.0) and np.all(longer.array[2:, 0] == 7.0)
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(padded, [2, 4, 0, 3], batch_first=True, enforce_sorted=False)


def test_pack_sequence_unpack_and_unpad():
    rng = np.random.default_rng(1)
    seqs = sequences(rng)
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert isinstance(packed, PackedSequence) and packed.data.shape == (sum(LENGTHS), 3)
    for original, back in zip(seqs, unpack_sequence(packed)):
        np.testing.assert_array_equal(back.array, original.array)
    for original, back in zip(seqs, unpad_sequence(pad_sequence(seqs), LENGTHS)):
        np.testing.assert_array_equal(back.array, original.array)
    with pytest.raises(RuntimeError, match="sorted"):
        pack_sequence(seqs)


def test_gradient_flows_through_packing():
    rng = np.random.default_rng(2)
    padded = Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)  # (T, B, 2)

    def round_trip(x):
        packed = pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
        return pad_packed_sequence(PackedSequence(packed.data * packed.data, packed.batch_sizes,
                                                  packed.sorted_indices, packed.unsorted_indices))[0]
    assert gradcheck(round_trip, (padded,))
    round_trip(padded).sum().backward()
    mask = np.zeros((4, 3, 1))
    for b, n in enumerate([2, 4, 3]):
        mask[:n, b] = 1
    np.testing.assert_allclose(padded.grad.array, 2 * padded.array * mask)  # padding gets no gradient


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_packed_input_matches_each_sequence_alone(cls):
    minigrad.manual_seed(0)
    module = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    rng = np.random.default_rng(3)
    seqs = sequences(rng)
    h0 = rng.standard_normal((4, len(seqs), 4))
    c0 = rng.standard_normal(h0.shape)
    hx = (Tensor(h0), Tensor(c0)) if cls == "LSTM" else Tensor(h0)
    packed = pack_sequence(seqs, enforce_sorted=False)
    output, state = module(packed, hx)
    assert isinstance(output, PackedSequence)
    padded, lengths = pad_packed_sequence(output)  # (T, B, 8)
    np.testing.assert_array_equal(lengths.array, LENGTHS)
    for b, seq in enumerate(seqs):
        alone_hx = (Tensor(h0[:, b]), Tensor(c0[:, b])) if cls == "LSTM" else Tensor(h0[:, b])
        alone_out, alone_state = module(seq, alone_hx)  # unbatched (L, 3)
        np.testing.assert_allclose(padded.array[:len(seq), b], alone_out.array, rtol=1e-12, atol=1e-12)
        assert np.all(padded.array[len(seq):, b] == 0)
        if cls == "LSTM":
            np.testing.assert_allclose(state[0].array[:, b], alone_state[0].array, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(state[1].array[:, b], alone_state[1].array, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(state.array[:, b], alone_state.array, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_packed_gradcheck(cls):
    minigrad.manual_seed(0)
    module = getattr(nn, cls)(2, 3, bidirectional=True).double()
    rng = np.random.default_rng(4)
    padded = Tensor(rng.standard_normal((3, 3, 2)), requires_grad=True)
    h0 = Tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)

    def run(x, h):
        hx = (h, h * 0.5) if cls == "LSTM" else h
        output, state = module(pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False), hx)
        h_n = state[0] if cls == "LSTM" else state
        return output.data, h_n
    assert gradcheck(run, (padded, h0))


def test_matches_torch_on_a_packed_batch():
    torch = pytest.importorskip("torch")
    minigrad.manual_seed(0)
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    with torch.no_grad():
        for name, parameter in theirs.named_parameters():
            parameter.copy_(torch.from_numpy(getattr(ours, name).array))
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, 3)) for n in LENGTHS]
    out, (h_n, c_n) = ours(pack_sequence([Tensor(s) for s in seqs], enforce_sorted=False))
    ref_out, (ref_h, ref_c) = theirs(torch.nn.utils.rnn.pack_sequence([torch.from_numpy(s) for s in seqs],
                                                                      enforce_sorted=False))
    np.testing.assert_allclose(out.data.array, ref_out.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out.batch_sizes.array, ref_out.batch_sizes.numpy())
    np.testing.assert_allclose(h_n.array, ref_h.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_n.array, ref_c.detach().numpy(), rtol=1e-10, atol=1e-12)
