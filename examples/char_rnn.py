"""A character-level language model: RNN, GRU and LSTM learn to continue a text.

    python examples/char_rnn.py [--quick] [--steps N] [--out DIR]

Each model reads the text one character at a time (Embedding -> recurrent
layer -> Linear over the alphabet) and learns to predict the next character,
with truncated backpropagation through time: the text is cut into chunks of
--seq-len characters, the hidden state is carried from one chunk to the next
but detached, so gradients flow back at most --seq-len steps.

The table reports the loss in bits per character (log2 of the alphabet size
for a model that knows nothing; lower is better) and the start of a text
each model writes itself, one character at a time from its own predictions.
"""
import argparse
import math
import time

import numpy as np
from _common import add_run_arguments, print_table, setup

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

# Public domain: the opening of Charles Dickens, "A Tale of Two Cities" (1859).
TEXT = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the "
    "season of Light, it was the season of Darkness, it was the spring of hope, it was the winter "
    "of despair, we had everything before us, we had nothing before us, we were all going direct "
    "to Heaven, we were all going direct the other way. "
)


class CharModel(nn.Module):
    """(N, L) character ids -> (N, L, vocabulary) logits, and the recurrent state."""

    def __init__(self, kind, vocabulary, embedding_dim, hidden_size):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding_dim)
        self.rnn = getattr(nn, kind)(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocabulary)

    def forward(self, ids, state=None):
        output, state = self.rnn(self.embed(ids), state)  # (N, L, hidden)
        return self.head(output), state


def detach(state):
    """Cut the state from the previous chunk's graph (truncated backpropagation)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def batches(ids, batch_size, seq_len):
    """Split the text into batch_size parallel streams and walk them in chunks of seq_len."""
    stream_len = (len(ids) - 1) // batch_size
    inputs = ids[:stream_len * batch_size].reshape(batch_size, stream_len)
    targets = ids[1:stream_len * batch_size + 1].reshape(batch_size, stream_len)
    while True:
        for start in range(0, stream_len - seq_len + 1, seq_len):
            yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len], start == 0


def generate(model, alphabet, prompt, length):
    """Greedy continuation of `prompt`: feed each predicted character back in."""
    index = {c: i for i, c in enumerate(alphabet)}
    model.eval()
    with mg.no_grad():
        ids = mg.tensor([[index[c] for c in prompt]])
        logits, state = model(ids)
        text = prompt
        for _ in range(length):
            next_id = int(logits[0, -1].argmax())
            text += alphabet[next_id]
            logits, state = model(mg.tensor([[next_id]]), state)
    model.train()
    return text


def train(kind, ids, vocabulary, args):
    mg.manual_seed(args.seed)
    model = CharModel(kind, vocabulary, args.embedding_dim, args.hidden_size)
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    state, losses = None, []
    stream = batches(ids, args.batch_size, args.seq_len)
    start = time.perf_counter()
    for _ in range(args.steps):
        inputs, targets, new_pass = next(stream)
        if new_pass:
            state = None  # the streams start over: forget the old state
        logits, state = model(mg.tensor(inputs), state)
        state = detach(state)
        loss = F.cross_entropy(logits.reshape(-1, vocabulary), mg.tensor(targets.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # recurrent gradients can explode
        optimizer.step()
        losses.append(loss.item() / math.log(2))  # nats -> bits
    seconds = time.perf_counter() - start
    return model, losses, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    add_run_arguments(parser, quick_help="60 steps of small models (a few seconds)")
    args = parser.parse_args()
    if args.quick or args.smoke:
        args.steps, args.hidden_size, args.seq_len = (60 if args.quick else 20), 32, 16
    setup(args)

    text = TEXT * 4
    alphabet = sorted(set(text))
    ids = np.array([alphabet.index(c) for c in text], dtype=np.int64)
    uniform_bits = math.log2(len(alphabet))
    rows = []
    for kind in ("RNN", "GRU", "LSTM"):
        model, losses, seconds = train(kind, ids, len(alphabet), args)
        first, last = np.mean(losses[:5]), np.mean(losses[-5:])
        sample = generate(model, alphabet, "It was the ", 40)
        rows.append([kind, f"{first:.3f}", f"{last:.3f}", f"{seconds:.1f}", repr(sample)])
    print_table(["model", "bits/char (first steps)", "bits/char (last steps)", "seconds", "sample"],
                rows, title=f"{args.steps} steps; a model that knows nothing: {uniform_bits:.3f} "
                            f"bits/char ({len(alphabet)} characters)")


if __name__ == "__main__":
    main()
