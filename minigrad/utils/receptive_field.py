"""Output sizes and receptive fields of stacks of convolutions and pools.

Output size of a convolution or pooling window (PyTorch's formula), per
spatial dimension, for input size i, kernel k, stride s, padding p,
dilation d:

    out = floor((i + 2p - k - (k-1)(d-1)) / s) + 1
        = floor((i + 2p - d(k-1) - 1) / s) + 1

d(k-1)+1 is the *effective* kernel: a dilated 3x3 with d=2 spans 5 pixels.
A transposed convolution runs that map backwards:

    out = (i-1)s - 2p + d(k-1) + output_padding + 1

Receptive field (Araujo, Norris & Sim, "Computing receptive fields of
convolutional neural networks", Distill 2019). Every layer's output grid is
described by three numbers per dimension, in input-pixel units:

- r, the receptive field: how many input pixels one output value can see;
- j, the jump: the distance between neighbouring outputs, in input pixels;
- start: where the first output's window is centred (input pixel centres are
  at 0, 1, 2, ...; negative means the window hangs over the padding).

The input starts with r=1, j=1, start=0, and a layer with effective kernel
k_eff = d(k-1)+1, stride s and padding p gives

    r_out     = r_in + (k_eff - 1) * j_in
    j_out     = j_in * s
    start_out = start_in + ((k_eff - 1)/2 - p) * j_in

This is the *theoretical* receptive field: the padding counts as if it were
image, and every pixel in it can influence the output (the *effective*
receptive field, where the gradient is large, is much smaller).
"""
import math

from minigrad.ops import _args  # the geometry the conv and pooling ops use
from minigrad.tensor import float32

# ---------------------------------------------------------------- validation
# The least value of each argument of the size formulas.
_MINIMUM = {"input_size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}


def _dims(*values):
    """How many spatial dimensions the arguments describe (1 when all are ints)."""
    lengths = {len(v) for v in values if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"arguments describe different numbers of dimensions: {values!r}")
    return lengths.pop() if lengths else 1


def _per_axis(op, **arguments):
    """The int-or-tuple arguments of a size formula -> (one n-tuple each, whether all were ints)."""
    for name, value in arguments.items():
        if isinstance(value, (tuple, list)) and len(value) == 0:
            raise ValueError(f"{op}: {name} must be an int or a non-empty tuple of ints (one per "
                             f"spatial dimension), got {value!r}")
    scalar = all(_args.is_int(value) for value in arguments.values())
    n = _dims(*arguments.values())
    return [_args.ntuple(value, n, name, op, _MINIMUM[name]) for name, value in arguments.items()], scalar


def _result(values, scalar):
    return values[0] if scalar else tuple(values)


# --------------------------------------------------------------- output sizes

def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution: floor((i + 2p - k - (k-1)(d-1)) / s) + 1.

    Every argument is an int or a tuple with one entry per spatial dimension;
    the result is an int when all arguments are ints, else a tuple. `padding`
    may also be 'valid' (no padding) or 'same' (output size = input size,
    stride 1 only, as in PyTorch).

    >>> conv_output_size(32, 5)
    28
    >>> conv_output_size((256, 256), 5, padding=2)
    (256, 256)
    """
    op = "conv_output_size"
    numeric_padding = {} if isinstance(padding, str) else {"padding": padding}
    (size, kernel, stride, dilation, *_), scalar = _per_axis(
        op, input_size=input_size, kernel_size=kernel_size, stride=stride, dilation=dilation, **numeric_padding)
    before, after = _args.conv_padding(op, padding, kernel, stride, dilation)
    _args.check_window_fits(op, size, kernel, dilation, before, after)
    return _result([_args.conv_out_size(*axis) for axis in zip(size, kernel, stride, before, after, dilation)], scalar)


def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output size of max/avg pooling: the convolution formula, with floor or ceil.

    `stride` defaults to `kernel_size` (PyTorch's default for pools). With
    ``ceil_mode=True`` the division rounds up, but (as in PyTorch) a last
    window that would start in the right padding is dropped.
    """
    op = "pool_output_size"
    (size, kernel, stride, padding, dilation), scalar = _per_axis(
        op, input_size=input_size, kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
        padding=padding, dilation=dilation)
    _args.check_window_fits(op, size, kernel, dilation, padding, padding)
    return _result([_args.pool_out_size(*axis, ceil_mode) for axis in zip(size, kernel, stride, padding, dilation)],
                   scalar)


def conv_transpose_output_size(input_size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1):
    """Output size of a transposed convolution: (i-1)s - 2p + d(k-1) + output_padding + 1.

    `output_padding` picks one of the `stride` input sizes that a strided
    convolution maps to the same output size; it must be smaller than
    max(stride, dilation), as in PyTorch.

    >>> conv_transpose_output_size(16, 4, stride=2, padding=1)
    32
    """
    op = "conv_transpose_output_size"
    (size, kernel, stride, padding, output_padding, dilation), scalar = _per_axis(
        op, input_size=input_size, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation)
    _args.check_output_padding(op, output_padding, stride, dilation)
    return _result(list(_args.conv_transpose_output(op, size, kernel, stride, padding, dilation, output_padding)),
                   scalar)


# ----------------------------------------------------------- receptive fields

def receptive_field_step(field, jump, start, kernel_size, stride=1, padding=0, dilation=1):
    """One layer of the recurrence in the module docstring, for one dimension.

    Returns (field, jump, start) of the layer's output.

    >>> receptive_field_step(1, 1, 0, kernel_size=3, dilation=2)
    (5, 1, 2.0)
    """
    effective = dilation * (kernel_size - 1) + 1
    return (field + (effective - 1) * jump,
            jump * stride,
            start + ((effective - 1) / 2 - padding) * jump)


def _layer_geometry(call, spatial_in):
    """(kernel, stride, padding, dilation, transposed, exact) of a conv/pool layer, or None.

    Layers are recognised by PyTorch's class names and attributes
    (kernel_size, stride, padding, dilation); adaptive pools by their input
    and output sizes. None means the layer is not a sliding window.
    """
    module, kind = call.module, call.type
    n = len(spatial_in)
    if kind.startswith("Adaptive") and "Pool" in kind:
        spatial_out = call.output_shapes[0][-n:]
        kernel, stride = [], []
        for i, o in zip(spatial_in, spatial_out):
            # Exact when o divides i; otherwise windows differ in size and the largest is reported.
            kernel.append(max(_args.adaptive_window_lengths(i, o)))
            stride.append(i // o if i % o == 0 else i / o)
        exact = all(i % o == 0 for i, o in zip(spatial_in, spatial_out))
        return tuple(kernel), tuple(stride), (0,) * n, (1,) * n, False, exact
    if not hasattr(module, "kernel_size") or not ("Conv" in kind or "Pool" in kind):
        return None
    kernel = _args.ntuple(module.kernel_size, n, "kernel_size", kind, 1)
    stride = getattr(module, "stride", None)
    stride = kernel if stride is None or stride == () else _args.ntuple(stride, n, "stride", kind, 1)
    dilation = _args.ntuple(getattr(module, "dilation", 1), n, "dilation", kind, 1)
    # the padding on the low side ('same' pads d(k-1)//2 there, as PyTorch does)
    padding, _ = _args.conv_padding(kind, getattr(module, "padding", 0), kernel, stride, dilation)
    return kernel, stride, padding, dilation, "Transpose" in kind, True


def receptive_field(model, input_size, dtype=float32, batch_size=1, verbose=True):
    """Receptive field, jump and start of every layer of a chain of convolutions and pools.

    Runs `model` once on zeros of shape (batch_size, *input_size) with hooks
    on its layers (as ``summary`` does) and applies the recurrence of the
    module docstring to each layer in the order they ran:

    - Conv*d / MaxPool*d / AvgPool*d: kernel_size, stride, padding, dilation.
    - ConvTranspose*d: the jump divides by the stride; an output sees at most
      ceil(k_eff / s) inputs, so r grows by (ceil(k_eff/s) - 1) * j_in.
    - AdaptiveAvgPool*d / AdaptiveMaxPool*d: a window of i/o with stride i/o
      when o divides i (exact); otherwise the largest window and a
      fractional jump (``exact`` is False from there on).
    - Flatten: every remaining position is mixed, a window over the whole
      feature map; the layers after it (Linear, ...) keep that field.
    - Layers that keep the spatial size (ReLU, BatchNorm, Dropout, ...) keep
      r, j and start.

    The model must be a chain: the recurrence follows one path. A layer that
    changes the spatial size without being one of the above, or a size change
    between layers (a functional op in a custom forward), raises ValueError.

    Returns a list of dicts (one per layer, after an "input" row) with keys
    name, type, output_size (the spatial size), receptive_field, jump, start
    (tuples, one entry per spatial dimension) and exact; prints a table when
    `verbose`.
    """
    from minigrad.utils.summary import LayerTable
    from minigrad.utils.tracing import has_children, normalize_input_size, trace_layers

    sizes = normalize_input_size(input_size)
    if len(sizes) != 1 or len(sizes[0]) < 2:
        raise ValueError(f"receptive_field needs one input of shape (channels, *spatial), "
                         f"got input_size {input_size!r}")
    calls, _, _ = trace_layers(model, sizes[0], dtype, batch_size, lambda m: not has_children(m))

    spatial = tuple(sizes[0][1:])
    n = len(spatial)
    field, jump, start, exact = [1] * n, [1] * n, [0.0] * n, True
    rows = [dict(name="input", type="", output_size=spatial, receptive_field=tuple(field),
                 jump=tuple(jump), start=tuple(_tidy(v) for v in start), exact=True)]
    for call in calls:
        if not call.input_shapes or not call.output_shapes:
            continue
        shape_in, shape_out = call.input_shapes[0], call.output_shapes[0]
        label = call.name or call.type
        if spatial and (len(shape_in) != n + 2 or tuple(shape_in[-n:]) != spatial):
            raise ValueError(
                f"layer {label} ({call.type}) received shape {shape_in}, but the previous layer "
                f"produced spatial size {spatial}: something between the layers (a functional op "
                f"in a custom forward?) changed it, and receptive_field only follows chains of layers")
        if not spatial:  # after Flatten: nothing spatial left to slide over
            rows.append(dict(name=label, type=call.type, output_size=(),
                             receptive_field=tuple(_tidy(v) for v in field),
                             jump=tuple(_tidy(v) for v in jump),
                             start=tuple(_tidy(v) for v in start), exact=exact))
            continue
        geometry = _layer_geometry(call, spatial)
        if geometry is not None:
            kernel, stride, padding, dilation, transposed, exact_window = geometry
            exact = exact and exact_window
            for axis in range(n):
                k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
                if transposed:
                    effective = d * (k - 1) + 1
                    field[axis] += (math.ceil(effective / s) - 1) * jump[axis]
                    # Output o is centred on input coordinate (o + p - (k_eff-1)/2) / s.
                    start[axis] += (p - (effective - 1) / 2) / s * jump[axis]
                    jump[axis] = jump[axis] / s
                else:
                    field[axis], jump[axis], start[axis] = receptive_field_step(
                        field[axis], jump[axis], start[axis], k, s, p, d)
            spatial = tuple(shape_out[-n:])
        elif call.type == "Flatten" or len(shape_out) < len(shape_in):
            for axis in range(n):  # one window over the whole remaining map
                field[axis], jump[axis], start[axis] = receptive_field_step(
                    field[axis], jump[axis], start[axis], spatial[axis], spatial[axis], 0, 1)
            spatial = ()
        elif tuple(shape_out) != tuple(shape_in):
            raise ValueError(f"layer {label} ({call.type}) changes the shape from {shape_in} to "
                             f"{shape_out} and is not a convolution, pool or Flatten: its receptive "
                             f"field is unknown")
        rows.append(dict(name=label, type=call.type, output_size=spatial,
                         receptive_field=tuple(_tidy(v) for v in field),
                         jump=tuple(_tidy(v) for v in jump),
                         start=tuple(_tidy(v) for v in start), exact=exact))

    table = LayerTable(rows, ["name", "type", "output_size", "receptive_field", "jump", "start"])
    if verbose:
        print(table)
    return table


def _tidy(value):
    """3.0 -> 3 so that tables and comparisons read naturally."""
    return int(value) if float(value).is_integer() else value
