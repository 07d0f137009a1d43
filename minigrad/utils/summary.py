"""``summary(model, input_size)``: a table of a model's layers, parameters and cost.

One forward pass on zeros, with hooks on the layers, records each layer's
output shape; parameter counts come from the modules and multiply-adds from
closed forms per layer type (see ``multiply_adds``). The classic exercise it
answers: a 5x5 convolution from 100 to 64 channels on a 256x256 image costs
256*256*64*5*5*100 ~ 1.05e10 multiply-adds; squeezing to 32 channels with a
1x1 convolution first costs 256*256*32*100 + 256*256*64*5*5*32 ~ 3.6e9.
"""
import html
import math

import numpy as np

from minigrad.ops._args import adaptive_window_lengths, ntuple
from minigrad.tensor import float32


class LayerTable(list):
    """A list of per-layer dicts that prints as an aligned table (an HTML table in notebooks).

    ``columns`` are the keys shown; ``totals`` (a dict, possibly empty) is
    printed below the rows.
    """

    def __init__(self, rows, columns, totals=None):
        super().__init__(rows)
        self.columns = list(columns)
        self.totals = dict(totals or {})

    def __str__(self):
        header = [c.replace("_", " ") for c in self.columns]
        body = [[_format(row.get(c, "")) for c in self.columns] for row in self]
        numeric = [bool(self) and all(_is_number(row.get(c)) for row in self) for c in self.columns]
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
                  for i, h in enumerate(header)]

        def line(cells):
            # Numbers right-aligned, everything else left-aligned.
            return "  ".join(cell.rjust(w) if right else cell.ljust(w)
                             for cell, w, right in zip(cells, widths, numeric)).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        lines = [rule, line(header), rule] + [line(r) for r in body] + [rule]
        if self.totals:
            width = max(len(k) for k in self.totals)
            lines += [f"{key.replace('_', ' ').ljust(width)}  {_format(value)}"
                      for key, value in self.totals.items()] + [rule]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        """The table as HTML, for notebooks (numbers right-aligned, totals below)."""
        def cell(tag, value, right):
            style = ' style="text-align:right"' if right else ' style="text-align:left"'
            return f"<{tag}{style}>{html.escape(_format(value))}</{tag}>"

        numeric = [bool(self) and all(_is_number(row.get(c)) for row in self) for c in self.columns]
        head = "".join(cell("th", c.replace("_", " "), right)
                       for c, right in zip(self.columns, numeric))
        body = "".join("<tr>" + "".join(cell("td", row.get(c, ""), right)
                                        for c, right in zip(self.columns, numeric)) + "</tr>"
                       for row in self)
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        if self.totals:
            table += "<table><tbody>" + "".join(
                f"<tr>{cell('th', key.replace('_', ' '), False)}{cell('td', value, True)}</tr>"
                for key, value in self.totals.items()) + "</tbody></table>"
        return table


def _is_number(value):
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _format(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_format(v).replace(",", "") for v in value) + ")"
    if isinstance(value, list):
        return " ".join(_format(v) for v in value)
    return str(value)


def _window_total(input_size, output_size):
    """Sum of the window lengths of an adaptive pool along one dimension."""
    return sum(adaptive_window_lengths(input_size, output_size))


def multiply_adds(module, input_shape, output_shape):
    """Multiply-adds one call of `module` performs, for the whole batch.

    One multiply-add is one product that is added to a sum; additions of a
    bias are not counted. Per layer type (N = batch, spatial = H*W..., k =
    the kernel's number of elements):

    - Conv1d/2d/3d:            N * Cout * out_spatial * (Cin / groups) * k
    - ConvTranspose1d/2d/3d:   N * Cin * in_spatial * (Cout / groups) * k
                               (every input value is multiplied by a
                               (Cout/groups) x k slice of the weight)
    - Linear:                  (elements of the output) * in_features
    - Bilinear:                (elements of the output) * in1 * (in2 + 1)
    - BatchNorm*, LayerNorm, GroupNorm, InstanceNorm*: one per output
      element (with the statistics fixed, normalising is x * scale + shift)
    - AvgPool*:                output elements * k (the sum of each window,
                               the 1/k scale folded in, like a conv with a
                               constant weight)
    - AdaptiveAvgPool*:        N * C * the product over dimensions of the
                               summed window lengths
    - Upsample:                output elements * 2^dims for 'linear',
                               'bilinear', 'trilinear' (a weighted sum of the
                               2^dims nearest inputs); 0 for 'nearest'
    - everything else (MaxPool*, activations, Dropout, Flatten, Embedding,
      ...): 0, there are no multiplications (max pooling compares).
    """
    kind = type(module).__name__
    out_elements = math.prod(output_shape)
    if kind.startswith("ConvTranspose"):
        kernel = math.prod(_kernel(module, len(input_shape) - 2))
        return math.prod(input_shape) * (module.out_channels // module.groups) * kernel
    if kind.startswith("Conv"):
        kernel = math.prod(_kernel(module, len(output_shape) - 2))
        return out_elements * (module.in_channels // module.groups) * kernel
    if kind == "Linear":
        return out_elements * module.in_features
    if kind == "Bilinear":
        return out_elements * module.in1_features * (module.in2_features + 1)
    if kind.startswith(("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")):
        return out_elements
    if kind.startswith("AvgPool"):
        return out_elements * math.prod(_kernel(module, len(output_shape) - 2))
    if kind.startswith("AdaptiveAvgPool"):
        spatial = _adaptive_dims(kind, input_shape)
        total = math.prod(input_shape[:-spatial])
        for i, o in zip(input_shape[-spatial:], output_shape[-spatial:]):
            total *= _window_total(i, o)
        return total
    if kind == "Upsample":
        linear_modes = ("linear", "bilinear", "trilinear")
        return out_elements * 2 ** (len(output_shape) - 2) if module.mode in linear_modes else 0
    return 0


def _adaptive_dims(kind, input_shape):
    for dims in (1, 2, 3):
        if kind.endswith(f"{dims}d"):
            return dims
    return len(input_shape) - 2


def _kernel(module, dims):
    return ntuple(module.kernel_size, dims, "kernel_size", type(module).__name__)


def summary(model, input_size, dtype=float32, batch_size=1, verbose=True):
    """Print and return a table of `model`'s layers: shapes, parameters, multiply-adds, bytes.

    `input_size` is the shape of one example without the batch dimension,
    e.g. (3, 32, 32), or a list of such shapes for a model with several
    inputs. The model runs once on zeros of shape (batch_size, *input_size)
    in eval mode, without a graph; its training flags are restored.

    One row per call of each layer (a module without children, or one that
    owns parameters directly), in the order they ran, as a dict with keys
    name, type, output_shape, trainable_params, params, multiply_adds,
    output_bytes. A module called twice gets two rows; its parameters are
    counted on the first. The returned list's ``.totals`` holds
    total_params, trainable_params, non_trainable_params, multiply_adds,
    input_bytes, output_bytes (all layer outputs: the activations a
    training step keeps for backward), params_bytes and total_bytes.
    Multiply-adds per layer type are defined in ``multiply_adds``.
    """
    from minigrad.utils.tracing import has_children, has_own_parameters, trace_layers

    calls, inputs, _ = trace_layers(model, input_size, dtype, batch_size,
                                    lambda m: not has_children(m) or has_own_parameters(m))
    rows, counted = [], set()
    for call in calls:
        own = list(call.module.parameters(recurse=False)) if id(call.module) not in counted else []
        counted.add(id(call.module))
        shape_in = call.input_shapes[0] if call.input_shapes else ()
        shape_out = call.output_shapes[0] if call.output_shapes else ()
        rows.append(dict(
            name=call.name or call.type,
            type=call.type,
            output_shape=shape_out if len(call.output_shapes) <= 1 else tuple(call.output_shapes),
            trainable_params=sum(p.numel() for p in own if p.requires_grad),
            params=sum(p.numel() for p in own),
            multiply_adds=multiply_adds(call.module, shape_in, shape_out) if call.output_shapes else 0,
            output_bytes=call.output_bytes,
        ))

    unique = {id(p): p for p in model.parameters()}.values()
    totals = dict(
        total_params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
    )
    totals["non_trainable_params"] = totals["total_params"] - totals["trainable_params"]
    totals["multiply_adds"] = sum(row["multiply_adds"] for row in rows)
    totals["input_bytes"] = sum(x.array.nbytes for x in inputs)
    totals["output_bytes"] = sum(row["output_bytes"] for row in rows)
    totals["params_bytes"] = sum(p.array.nbytes for p in unique)
    totals["total_bytes"] = totals["input_bytes"] + totals["output_bytes"] + totals["params_bytes"]

    table = LayerTable(rows, ["name", "type", "output_shape", "trainable_params", "params",
                              "multiply_adds", "output_bytes"], totals)
    if verbose:
        print(table)
    return table
