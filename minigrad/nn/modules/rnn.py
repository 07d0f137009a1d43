"""Recurrent layers: RNN, LSTM, GRU and their single-step cells (as torch.nn).

One time step of each, with x the input and h (and c) the state; the gates
are stacked in PyTorch's order in weight_ih (G*H, input) and weight_hh (G*H, H):

    RNN  (G=1): h' = tanh(W_ih x + b_ih + W_hh h + b_hh)        (or relu)
    LSTM (G=4): i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the 4 chunks of
                W_ih x + b_ih + W_hh h + b_hh
                c' = f * c + i * g,   h' = o * tanh(c')
    GRU  (G=3): r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
                z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
                n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
                h' = (1 - z) * n + z * h

The layers loop over time with ordinary differentiable ops, so backward
through time is autograd's ordinary backward walk. A PackedSequence input
(minigrad.nn.utils.rnn) is stepped over its real steps only: step t updates
the first batch_sizes[t] sequences, and each sequence's final state is the
one at its own length. Every weight and bias
starts as U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch.
"""
import math

import numpy as np

from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import factory_dtype, is_int
from minigrad.nn.utils.rnn import PackedSequence
from minigrad.ops.activation import relu, sigmoid, tanh
from minigrad.ops.dropout import dropout
from minigrad.ops.linalg import linear
from minigrad.ops.shape import cat, stack
from minigrad.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _chunk(gates, count):
    """(N, count*H) -> count tensors (N, H), in PyTorch's gate order."""
    size = gates.shape[-1] // count
    return [gates[:, k * size:(k + 1) * size] for k in range(count)]


def recurrent_step(mode, input_gates, state, weight_hh, bias_hh):
    """One time step. input_gates: (N, G*H) = x W_ih^T + b_ih; state: h or (h, c), each (N, H)."""
    if mode == "LSTM":
        hidden, cell = state
        gates = input_gates + linear(hidden, weight_hh, bias_hh)  # (N, 4H): i, f, g, o
        i, f, g, o = _chunk(gates, 4)
        cell = sigmoid(f) * cell + sigmoid(i) * tanh(g)
        return sigmoid(o) * tanh(cell), cell
    if mode == "GRU":
        x_r, x_z, x_n = _chunk(input_gates, 3)
        h_r, h_z, h_n = _chunk(linear(state, weight_hh, bias_hh), 3)  # (N, H) each
        reset = sigmoid(x_r + h_r)
        update = sigmoid(x_z + h_z)
        candidate = tanh(x_n + reset * h_n)
        return (1 - update) * candidate + update * state
    pre_activation = input_gates + linear(state, weight_hh, bias_hh)
    return tanh(pre_activation) if mode == "RNN_TANH" else relu(pre_activation)


def _rows(state, start, stop):
    """Rows start:stop of a state h (N, H) or (h, c)."""
    if isinstance(state, tuple):
        return tuple(part[start:stop] for part in state)
    return state[start:stop]


def _join_rows(states):
    """Concatenate the rows of states (each h or (h, c)) in order."""
    if len(states) == 1:
        return states[0]
    if isinstance(states[0], tuple):
        return tuple(cat(list(parts), 0) for parts in zip(*states))
    return cat(states, 0)


def run_direction(mode, steps, batch_sizes, initial_state, weights, reverse):
    """One layer in one direction over a (possibly packed) sequence.

    steps[t]: (batch_sizes[t], features), the sequences still running at step t
    (batch_sizes never increases: a padded batch has batch_sizes = [N] * L).
    initial_state: h_0 (N, H) or (h_0, c_0). Returns the output h of every
    step and the final state (N rows), taken at each sequence's last step.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    batch = batch_sizes[0]
    outputs = [None] * len(steps)
    if not reverse:
        state, finished = initial_state, []  # finished: final states of rows that stopped, last rows first
        for t, size in enumerate(batch_sizes):
            running = batch_sizes[t - 1] if t else batch
            if size < running:  # sequences running-1 .. size ended at step t-1
                finished.append(_rows(state, size, running))
                state = _rows(state, 0, size)
            state = recurrent_step(mode, linear(steps[t], weight_ih, bias_ih), state, weight_hh, bias_hh)
            outputs[t] = state[0] if mode == "LSTM" else state
        return outputs, _join_rows([state] + finished[::-1])
    state, running = None, 0
    for t in reversed(range(len(steps))):
        size = batch_sizes[t]
        if size > running:  # sequences whose last step is t start here, from their initial state
            starting = initial_state if running == 0 and size == batch else _rows(initial_state, running, size)
            state = starting if state is None else _join_rows([state, starting])
            running = size
        state = recurrent_step(mode, linear(steps[t], weight_ih, bias_ih), state, weight_hh, bias_hh)
        outputs[t] = state[0] if mode == "LSTM" else state
    return outputs, state


def _check_sizes(layer, input_size, hidden_size):
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not is_int(value) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(input_size), int(hidden_size)


def _check_input(layer, input, batched_ndim, input_size):
    """input: a Tensor of batched_ndim dimensions, or one fewer (unbatched); features last."""
    if not isinstance(input, Tensor) or input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"{layer}: expected a {batched_ndim - 1}-D (unbatched) or "
                         f"{batched_ndim}-D (batched) input Tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    if input.shape[-1] != input_size:
        raise RuntimeError(f"{layer}: input.size(-1) must be equal to input_size. Expected "
                           f"{input_size}, got {input.shape[-1]}")


def _nonlinearity_mode(layer, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


class RNNBase(Module):
    """The multi-layer, optionally bidirectional loop shared by RNN, LSTM and GRU.

    input (L, N, input_size), or (N, L, input_size) with batch_first, or
    unbatched (L, input_size); initial state (D * num_layers, N, hidden_size)
    with D = 2 if bidirectional else 1 (zeros when not given).
    Returns output (L, N, D * hidden_size) (the last layer's h at every step)
    and the final state of every layer and direction.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{layer}: unrecognized RNN mode {mode!r}; expected one of "
                             f"{', '.join(repr(m) for m in _GATES)}")
        self.input_size, self.hidden_size = _check_sizes(layer, input_size, hidden_size)
        if not is_int(num_layers) or num_layers <= 0:
            raise ValueError(f"{layer}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{layer}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if proj_size != 0:
            raise ValueError(f"{layer}: proj_size={proj_size!r} (LSTM with projections) is not "
                             f"supported by minigrad; use proj_size=0 and a Linear layer after it")
        self.mode = mode
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), 0
        dtype = factory_dtype(layer, device, dtype)
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {f"weight_ih_l{k}{suffix}": (gate_size, layer_input),
                          f"weight_hh_l{k}{suffix}": (gate_size, self.hidden_size)}
                if self.bias:
                    shapes[f"bias_ih_l{k}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{k}{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -bound, bound)

    def flatten_parameters(self):
        """A no-op: PyTorch packs the weights into one buffer for cuDNN; minigrad has no cuDNN."""

    @property
    def all_weights(self):
        """[[weight_ih, weight_hh, bias_ih, bias_hh] per layer and direction], as in PyTorch."""
        per_direction = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per_direction]]
                for i in range(0, len(names), per_direction)]

    def _weights(self, k, suffix):
        bias = (lambda name: getattr(self, name)) if self.bias else (lambda name: None)
        return (getattr(self, f"weight_ih_l{k}{suffix}"), getattr(self, f"weight_hh_l{k}{suffix}"),
                bias(f"bias_ih_l{k}{suffix}"), bias(f"bias_hh_l{k}{suffix}"))

    def _initial_state(self, name, state, batch, batched, reference):
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if state is None:
            return Tensor._make(np.zeros(expected, dtype=reference.dtype), False, None)
        if not isinstance(state, Tensor):
            raise TypeError(f"{type(self).__name__}: {name} must be a Tensor, got {type(state).__name__}")
        if not batched:
            if state.ndim != 2:
                raise RuntimeError(f"{type(self).__name__}: for unbatched 2-D input, {name} should "
                                   f"also be 2-D but got {state.ndim}-D tensor")
            state = state.unsqueeze(1)
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: expected {name} size {expected}, got "
                               f"{tuple(state.shape)}")
        return state

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        _check_input(type(self).__name__, input, 3, self.input_size)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)  # (L, 1, input_size)
        elif self.batch_first:
            input = input.transpose(0, 1)  # (L, N, input_size)
        length, batch = input.shape[0], input.shape[1]
        # The sequence is kept as a list of (N, features) steps between layers:
        # slicing one stacked tensor per step would cost a full-size gradient per slice.
        steps = [input[t] for t in range(length)]
        steps, h_n, c_n = self._run(steps, [batch] * length, hx, batched, input)
        output = stack(steps, 0)  # (L, N, D*H)
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _forward_packed(self, packed, hx):
        """PyTorch's semantics: hx and the returned state are in the batch's original order;
        the output is packed like the input."""
        data, order, unorder = packed.data, packed.sorted_indices, packed.unsorted_indices
        if not isinstance(data, Tensor) or data.ndim != 2 or data.shape[1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: a PackedSequence's data must be (sum(lengths), "
                               f"{self.input_size}), got {getattr(data, 'shape', type(data).__name__)}")
        batch_sizes = [int(n) for n in packed.batch_sizes.array]
        offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
        steps = [data[offsets[t]:offsets[t + 1]] for t in range(len(batch_sizes))]
        if hx is not None and order is not None:  # into the packed (sorted) order
            hx = tuple(h.index_select(1, order) for h in hx) if isinstance(hx, (tuple, list)) \
                else hx.index_select(1, order)
        steps, h_n, c_n = self._run(steps, batch_sizes, hx, True, data)
        if unorder is not None:  # back to the batch's original order
            h_n = h_n.index_select(1, unorder)
            c_n = c_n.index_select(1, unorder) if c_n is not None else None
        output = packed._with_data(cat(steps, 0))  # (sum(lengths), D*H)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _run(self, steps, batch_sizes, hx, batched, reference):
        """Every layer and direction over steps[t] (batch_sizes[t], features).
        Returns the last layer's output steps, h_n and c_n (None unless LSTM)."""
        batch = batch_sizes[0]
        lstm = self.mode == "LSTM"
        if lstm:
            if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx if hx is not None else (None, None)
            h0 = self._initial_state("h_0", h0, batch, batched, reference)
            c0 = self._initial_state("c_0", c0, batch, batched, reference)
        else:
            h0 = self._initial_state("hx", hx, batch, batched, reference)

        final_h, final_c = [], []
        directions = 2 if self.bidirectional else 1
        for k in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                index = k * directions + direction
                initial = (h0[index], c0[index]) if lstm else h0[index]
                out, state = run_direction(self.mode, steps, batch_sizes, initial,
                                           self._weights(k, suffix), reverse=direction == 1)
                outputs.append(out)
                final_h.append(state[0] if lstm else state)
                if lstm:
                    final_c.append(state[1])
            steps = outputs[0] if directions == 1 else [cat(pair, 1) for pair in zip(*outputs)]
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                steps = [dropout(step, self.dropout, True) for step in steps]
        h_n = stack(final_h, 0)  # (D*num_layers, N, H)
        c_n = stack(final_c, 0) if lstm else None
        return steps, h_n, c_n

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu). Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(_nonlinearity_mode("RNN", nonlinearity), input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o). Returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n). Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step: input (N, input_size) or (input_size,), state (N, hidden_size).

    As in PyTorch, it holds weight_ih (num_chunks*H, input_size), weight_hh
    (num_chunks*H, H) and the two biases; the subclasses set ``mode`` and forward.
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        self.input_size, self.hidden_size = _check_sizes(layer, input_size, hidden_size)
        if not is_int(num_chunks) or num_chunks <= 0:
            raise ValueError(f"{layer}: num_chunks must be a positive integer, got {num_chunks!r}")
        self.bias = bool(bias)
        dtype = factory_dtype(layer, device, dtype)
        gate_size = int(num_chunks) * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gate_size, self.hidden_size), dtype=dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(np.empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    def _state(self, name, state, input):
        expected = (input.shape[0], self.hidden_size)
        if state is None:
            return Tensor._make(np.zeros(expected, dtype=input.dtype), False, None)
        if state.ndim == 1:
            state = state.unsqueeze(0)
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: expected {name} of shape {expected}, got "
                               f"{tuple(state.shape)}")
        return state

    def _step(self, input, state):
        _check_input(type(self).__name__, input, 2, self.input_size)
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if self.mode == "LSTM":
            h, c = state if state is not None else (None, None)
            state = (self._state("hx", h, input), self._state("cx", c, input))
        else:
            state = self._state("hx", state, input)
        new_state = recurrent_step(self.mode, linear(input, self.weight_ih, self.bias_ih),
                                   state, self.weight_hh, self.bias_hh)
        if batched:
            return new_state
        if self.mode == "LSTM":
            return new_state[0].squeeze(0), new_state[1].squeeze(0)
        return new_state.squeeze(0)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        mode = _nonlinearity_mode("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.mode, self.nonlinearity = mode, nonlinearity

    def forward(self, input, hx=None):
        return self._step(input, hx)


class LSTMCell(RNNCellBase):
    """(h', c') from input and (h, c); gates i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)
        self.mode = "LSTM"

    def forward(self, input, hx=None):
        return self._step(input, hx)


class GRUCell(RNNCellBase):
    """h' from input and h; gates r, z, n."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)
        self.mode = "GRU"

    def forward(self, input, hx=None):
        return self._step(input, hx)
