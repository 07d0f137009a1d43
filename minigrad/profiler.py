"""Where does the time go? A per-operation profiler for forward and backward.

    with minigrad.profiler.profile() as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.table())

While the block runs, ``minigrad.autograd._observer`` points at the
profile: ``Function.apply`` times every forward and reports it with
``record_forward(ctx, input_arrays, result, seconds)``, and the backward
walk reports every node with ``record_backward(node, seconds)``. Outside a
profile the observer is None and the only cost is one ``is not None`` test
per operation. On exit the previous observer comes back (profiles nest: an
inner profile passes every event on to the outer one).

FLOPs are counted per operation type from the shapes of its arrays
(``FLOP_FORMULAS``; one multiply-add = 2 FLOPs):

- MatMul: 2*m*n*k (per matrix of a batch);
- convolution: 2 * N*Cout*out_spatial * (Cin/groups) * kernel elements;
  transposed convolution: 2 * N*Cin*in_spatial * (Cout/groups) * kernel elements;
- linear: 2 * output elements * in_features (+ output elements for the bias);
- elementwise ops (add, mul, exp, relu, ...): one per output element;
- reductions (sum, mean, max, ...): one per input element; var: three;
- pooling: one comparison or add per window element per output (adaptive
  pools: one per input element); batch norm: 7 per element;
  softmax / log_softmax / cross entropy: 5 per input element;
- shape ops (reshape, permute, indexing, cat, ...): 0, they only move data.

Unknown operation types count 0 FLOPs (``register_flops`` adds a formula).
A backward node counts its forward FLOPs once for each of its first two
inputs that needs a gradient: exact for products (the input and the weight
gradient of a matmul or a convolution are each a product of the same size as
the forward; a bias gradient is a cheap sum), an estimate for the rest.
"""
import math
import time
import weakref

import numpy as np

from minigrad import autograd


def _numel(array):
    return int(np.size(array)) if array is not None else 0


def _first(result):
    return result[0] if type(result) is tuple else result


def _matmul_flops(ctx, arrays, result):
    a = arrays[0]
    k = np.shape(a)[-1] if np.ndim(a) else 1
    return 2 * _numel(_first(result)) * k


def _conv_flops(ctx, arrays, result):
    """2 * (output elements) * (Cin/groups * kernel): the weight is (Cout, Cin/groups, *kernel)."""
    weight = arrays[1] if len(arrays) > 1 else None
    if weight is None or np.ndim(weight) < 3:
        return 0
    return 2 * _numel(_first(result)) * math.prod(np.shape(weight)[1:])


def _conv_transpose_flops(ctx, arrays, result):
    """2 * (input elements) * (Cout/groups * kernel): the weight is (Cin, Cout/groups, *kernel)."""
    weight = arrays[1] if len(arrays) > 1 else None
    if weight is None or np.ndim(weight) < 3:
        return 0
    return 2 * _numel(arrays[0]) * math.prod(np.shape(weight)[1:])


def _linear_flops(ctx, arrays, result):
    weight = arrays[1] if len(arrays) > 1 else None
    if weight is None or np.ndim(weight) != 2:
        return 0
    out = _numel(_first(result))
    bias = len(arrays) > 2 and arrays[2] is not None
    return 2 * out * np.shape(weight)[1] + (out if bias else 0)


def _window_flops(kernel, result):
    kernel = (kernel,) if isinstance(kernel, (int, np.integer)) else tuple(kernel)
    return _numel(_first(result)) * math.prod(int(k) for k in kernel)


def _max_pool_flops(ctx, arrays, result):
    """MaxPool.forward(input, leading, kernel_size, ...): one comparison per window element."""
    return _window_flops(arrays[2], result)


def _avg_pool_flops(ctx, arrays, result):
    """AvgPool keeps (kernel_size, stride, ...) in ctx.window: one add per window element."""
    return _window_flops(ctx.window[0], result)


def _pool_flops(ctx, arrays, result):
    """A pool of unknown layout: a window-size attribute if there is one, else one per input."""
    kernel = getattr(ctx, "kernel_size", None)
    if kernel is None:  # adaptive or non-overlapping windows visit every input once
        return _numel(arrays[0])
    return _window_flops(kernel, result)


def _per_output(ctx, arrays, result):
    return _numel(_first(result))


def _per_input(ctx, arrays, result):
    return _numel(arrays[0])


def _scaled(formula, factor):
    return lambda ctx, arrays, result: factor * formula(ctx, arrays, result)


def _zero(ctx, arrays, result):
    return 0


FLOP_FORMULAS = {
    "MatMul": _matmul_flops,
    "Linear": _linear_flops,
    "MaxPool": _max_pool_flops,
    "AvgPool": _avg_pool_flops,
    "AdaptiveAvgPool": _per_input,
    "AdaptiveMaxPool": _per_input,
    "MaxUnpool": _zero,
    **{name: _per_output for name in (
        "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Tanh",
        "Sigmoid", "ReLU", "LeakyReLU", "ELU", "GELU", "Clamp", "Maximum", "Minimum", "Where",
        "Dropout")},
    **{name: _per_input for name in ("Sum", "Mean", "Extreme", "ExtremeAlongDim")},
    "Var": _scaled(_per_input, 3),
    **{name: _zero for name in (
        "Reshape", "Permute", "Expand", "GetItem", "Cat", "Stack", "Cast", "Clone", "Pad")},
}


def register_flops(op, formula):
    """Count FLOPs for an op type: formula(ctx, input_arrays, result) -> int.

    `op` is a Function subclass or its name.
    """
    FLOP_FORMULAS[op if isinstance(op, str) else op.__name__] = formula


def flops_of(name, ctx, arrays, result):
    """Forward FLOPs of one call of op `name` (0 when there is no formula)."""
    formula = FLOP_FORMULAS.get(name)
    if formula is None:
        lowered = name.lower()
        # Families whose class names other parts of minigrad choose:
        # Conv2d, ConvTranspose2d, MaxPool2d, BatchNorm, LogSoftmax, ...
        if "conv" in lowered:
            formula = _conv_transpose_flops if "transpose" in lowered else _conv_flops
        elif "pool" in lowered:
            formula = _pool_flops
        elif "batchnorm" in lowered or "batch_norm" in lowered:
            formula = _scaled(_per_input, 7)
        elif "softmax" in lowered or "crossentropy" in lowered or "nll" in lowered:
            formula = _scaled(_per_input, 5)
        else:
            return 0
        FLOP_FORMULAS[name] = formula
    try:
        return int(formula(ctx, arrays, result))
    except (TypeError, ValueError, IndexError, AttributeError):
        return 0  # arguments in an unexpected form: count nothing rather than fail the run


class OpStats:
    """Totals for one op type."""

    __slots__ = ("name", "calls", "backward_calls", "forward_time", "backward_time",
                 "forward_flops", "backward_flops")

    def __init__(self, name):
        self.name = name
        self.calls = self.backward_calls = 0
        self.forward_time = self.backward_time = 0.0
        self.forward_flops = self.backward_flops = 0

    @property
    def total_time(self):
        return self.forward_time + self.backward_time

    @property
    def flops(self):
        return self.forward_flops + self.backward_flops

    @property
    def gflops_per_second(self):
        return self.flops / self.total_time / 1e9 if self.total_time > 0 else 0.0

    def as_dict(self):
        return dict(name=self.name, calls=self.calls, backward_calls=self.backward_calls,
                    forward_time=self.forward_time, backward_time=self.backward_time,
                    total_time=self.total_time, forward_flops=self.forward_flops,
                    backward_flops=self.backward_flops, flops=self.flops,
                    gflops_per_second=self.gflops_per_second)


_SORT_KEYS = {
    "total": lambda s: -s.total_time,
    "forward": lambda s: -s.forward_time,
    "backward": lambda s: -s.backward_time,
    "calls": lambda s: -s.calls,
    "flops": lambda s: -s.flops,
    "gflops": lambda s: -s.gflops_per_second,
    "name": lambda s: s.name,
}


class profile:
    """Context manager recording time and FLOPs per op type (see the module docstring).

    Attributes after the block: ``stats`` (op name -> OpStats), ``wall_time``
    (seconds inside the block), ``total_time`` (seconds inside ops, always
    <= wall_time; the rest is Python between ops), ``total_flops``.
    """

    def __init__(self):
        self.stats = {}
        self.wall_time = 0.0
        self._forward_flops = weakref.WeakKeyDictionary()  # graph node -> its forward FLOPs
        self._previous = None
        self._start = None

    # ------------------------------------------------------------- recording
    def __enter__(self):
        self._previous = autograd._observer
        autograd._observer = self
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.wall_time += time.perf_counter() - self._start
        autograd._observer = self._previous
        self._previous = None
        return False

    def _entry(self, name):
        stats = self.stats.get(name)
        if stats is None:
            stats = self.stats[name] = OpStats(name)
        return stats

    def record_forward(self, ctx, input_arrays, result, seconds):
        name = type(ctx).__name__
        stats = self._entry(name)
        flops = flops_of(name, ctx, input_arrays, result)
        stats.calls += 1
        stats.forward_time += seconds
        stats.forward_flops += flops
        if flops and any(ctx.needs_input_grad):
            self._forward_flops[ctx] = flops
        if self._previous is not None:
            self._previous.record_forward(ctx, input_arrays, result, seconds)

    def record_backward(self, node, seconds):
        stats = self._entry(type(node).__name__)
        stats.backward_calls += 1
        stats.backward_time += seconds
        stats.backward_flops += self._forward_flops.pop(node, 0) * sum(node.needs_input_grad[:2])
        if self._previous is not None:
            self._previous.record_backward(node, seconds)

    # ------------------------------------------------------------- reporting
    @property
    def total_time(self):
        return sum(s.total_time for s in self.stats.values())

    @property
    def total_flops(self):
        return sum(s.flops for s in self.stats.values())

    def rows(self, sort_by="total"):
        """The per-op statistics as dicts, sorted (see ``table``)."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"sort_by must be one of {sorted(_SORT_KEYS)}, got {sort_by!r}")
        return [s.as_dict() for s in sorted(self.stats.values(), key=_SORT_KEYS[sort_by])]

    def table(self, sort_by="total", row_limit=None):
        """The statistics as a text table, one row per op type.

        `sort_by`: 'total' (time, the default), 'forward', 'backward',
        'calls', 'flops', 'gflops' or 'name'. `row_limit` keeps the first rows.
        """
        rows = self.rows(sort_by)[:row_limit]
        total = self.total_time
        header = ("op", "calls", "forward ms", "backward ms", "total ms", "% time",
                  "GFLOP", "GFLOP/s")
        body = [(r["name"], f"{r['calls']}", f"{r['forward_time'] * 1e3:.3f}",
                 f"{r['backward_time'] * 1e3:.3f}", f"{r['total_time'] * 1e3:.3f}",
                 f"{100 * r['total_time'] / total:.1f}" if total > 0 else "0.0",
                 f"{r['flops'] / 1e9:.4f}", f"{r['gflops_per_second']:.2f}") for r in rows]
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
                  for i, h in enumerate(header)]

        def line(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "-" * len(line(header))
        in_ops = 100 * total / self.wall_time if self.wall_time > 0 else 0.0
        footer = (f"time in ops {total * 1e3:.3f} ms of {self.wall_time * 1e3:.3f} ms wall "
                  f"({in_ops:.0f}%), {self.total_flops / 1e9:.4f} GFLOP")
        return "\n".join([rule, line(header), rule] + [line(b) for b in body] + [rule, footer])

    def __str__(self):
        return self.table()
