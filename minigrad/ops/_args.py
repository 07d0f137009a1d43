"""Argument parsing shared by the ops, the layers and the model tools.

The functional ops (conv, pooling, pad, ...), the layers that call them
(``nn.Conv2d``, ``nn.MaxPool2d``, ...) and ``minigrad.utils`` (summary,
receptive_field) read the same arguments; this module parses them once:

- ``ntuple``: an int or a tuple of ints -> one int per spatial axis;
- window geometry per spatial axis (PyTorch's formulas):

      conv:            out = floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1
      transposed conv: out = (in - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1
      pooling:         the conv formula, with ceil instead of floor when ceil_mode=True
                       (a last window that would start in the right padding is dropped)
      adaptive bin i:  [floor(i*in/out), ceil((i+1)*in/out))

- padding: 'valid' / 'same' / int / tuple -> (before, after) per axis, and
  the layers' padding_mode ('zeros', 'reflect', 'replicate', 'circular').

Every error is a ValueError (TypeError for a value of the wrong kind) that
names the op, the argument and the value it got.
"""
import numpy as np

from minigrad.tensor import Tensor

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def is_int(value):
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_tensor(value, name, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def _prefix(op):
    return f"{op}: " if op else ""


def ntuple(value, n, name, op, minimum=None, allow_single=False, entry_error=ValueError):
    """An int or a tuple/list of n ints -> a tuple of n ints, each >= minimum.

    allow_single: a 1-element tuple stands for all n axes (as the pooling ops
    accept). entry_error: the error for a right-length tuple holding a
    non-int (the pooling ops raise TypeError there).
    """
    if type(value) is int:                       # the common case, checked first
        values = (value,) * n
    elif is_int(value):
        values = (int(value),) * n
    elif isinstance(value, (tuple, list)) and (len(value) == n or (allow_single and len(value) == 1)):
        if not all(is_int(v) for v in value):
            if entry_error is TypeError:
                raise TypeError(f"{_prefix(op)}{name} must contain ints, got {value!r}")
            raise ValueError(f"{_prefix(op)}{name} must be an int or a tuple of {n} ints, got {value!r}")
        values = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise ValueError(f"{_prefix(op)}{name} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and min(values, default=minimum) < minimum:
        raise ValueError(f"{_prefix(op)}{name} must be >= {minimum}, got {value!r}")
    return values


# ---------------------------------------------------------------- window geometry
def effective_kernel(kernel, dilation):
    """How many input positions a dilated window spans: dilation*(kernel-1) + 1."""
    return dilation * (kernel - 1) + 1


def conv_out_size(size, kernel, stride, padding_before, padding_after, dilation):
    """Output size of a convolution along one axis (floor division)."""
    return (size + padding_before + padding_after - effective_kernel(kernel, dilation)) // stride + 1


def pool_out_size(size, kernel, stride, padding, dilation, ceil_mode):
    """Output size of max/avg pooling along one axis.

    With ceil_mode the division rounds up, but the last window must start
    inside the input or the left padding (PyTorch's rule).
    """
    if not ceil_mode:
        return conv_out_size(size, kernel, stride, padding, padding, dilation)
    extent = size + 2 * padding - effective_kernel(kernel, dilation)
    out = -(-extent // stride) + 1                       # ceil(extent / stride) + 1
    if (out - 1) * stride >= size + padding:             # the last window starts in the right padding
        out -= 1
    return out


def conv_transpose_out_size(size, kernel, stride, padding, dilation, output_padding):
    """Output size of a transposed convolution along one axis."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def adaptive_window(index, size, out_size):
    """(start, end) of adaptive pooling's bin `index`: [floor(i*in/out), ceil((i+1)*in/out))."""
    return index * size // out_size, -(-(index + 1) * size // out_size)


def adaptive_window_lengths(size, out_size):
    """The length of each of adaptive pooling's out_size bins along one axis."""
    return [end - start for start, end in (adaptive_window(i, size, out_size) for i in range(out_size))]


def check_window_fits(op, spatial, kernel, dilation, before, after):
    """Each dilated window must fit in the padded input (else a convolution has no output)."""
    for axis, (i, k, d, p0, p1) in enumerate(zip(spatial, kernel, dilation, before, after)):
        reach = effective_kernel(k, d)
        if i + p0 + p1 < reach:
            raise ValueError(f"{_prefix(op)}the effective kernel size {reach} (kernel size {k}, dilation {d}) "
                             f"on axis {axis} is larger than the padded input size {i + p0 + p1} "
                             f"(input {tuple(spatial)}, padding {tuple(before)} before and "
                             f"{tuple(after)} after)")


def conv_transpose_output(op, spatial, kernel, stride, padding, dilation, output_padding):
    """The output size of a transposed convolution per axis; each must be >= 1."""
    output = tuple(conv_transpose_out_size(*axis) for axis in
                   zip(spatial, kernel, stride, padding, dilation, output_padding))
    if any(o < 1 for o in output):
        raise ValueError(f"{_prefix(op)}the output size {output} would be < 1 (input {tuple(spatial)}, "
                         f"kernel {tuple(kernel)}, stride {stride}, padding {padding}, dilation {dilation})")
    return output


def check_output_padding(op, output_padding, stride, dilation):
    """output_padding picks one of the sizes a strided conv maps to one size: < max(stride, dilation)."""
    if any(p >= max(s, d) for p, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{_prefix(op)}output_padding must be smaller than max(stride, dilation) on every "
                         f"axis, got output_padding={output_padding} with stride={stride}, "
                         f"dilation={dilation}")


# ---------------------------------------------------------------- padding
def same_padding(kernel, dilation):
    """(before, after) that keep the size at stride 1; the odd one goes after, as in PyTorch."""
    total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)


def conv_padding(op, padding, kernel, stride, dilation, allow_strings=True):
    """A convolution's padding -> (before, after), each a tuple with one int per axis.

    padding: an int or a tuple of ints (>= 0, the same on both sides),
    'valid' (none) or 'same' (output size = input size, stride 1 only).
    Transposed convolutions take no strings (allow_strings=False).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if not allow_strings:
            raise ValueError(f"{_prefix(op)}padding must be an int or a tuple of {n} ints, got {padding!r}")
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{_prefix(op)}padding='same' needs stride 1 (it is not supported for "
                                 f"strided convolutions), got stride={tuple(stride)}")
            return same_padding(kernel, dilation)
        raise ValueError(f"{_prefix(op)}padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    padding = ntuple(padding, n, "padding", op, minimum=0)
    return padding, padding


def check_padding_mode(op, padding_mode):
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{_prefix(op)}padding_mode must be 'zeros', 'reflect', 'replicate' or "
                         f"'circular', got {padding_mode!r}")


def pad_widths(before, after):
    """Per-axis (before, after) -> F.pad's flat order: last axis first, (left, right, top, bottom, ...)."""
    flat = []
    for left, right in reversed(list(zip(before, after))):
        flat += [left, right]
    return tuple(flat)


# ---------------------------------------------------------------- pooling windows
def pool_window(op, n, kernel_size, stride, padding, dilation=1):
    """kernel_size, stride (default: kernel_size), padding, dilation of a pooling window -> n-tuples."""
    def parse(value, name, minimum):
        return ntuple(value, n, name, op, minimum, allow_single=True, entry_error=TypeError)
    kernel = parse(kernel_size, "kernel_size", 1)
    # PyTorch's pools take stride=None or an empty list/tuple for 'the kernel size'. Tested by
    # type first: `array == []` is elementwise, and an array goes to ntuple, which names it.
    defaulted = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel if defaulted else parse(stride, "stride", 1)
    return kernel, stride, parse(padding, "padding", 0), parse(dilation, "dilation", 1)


def check_pool_padding(op, padding, kernel):
    """Max and average pooling pad at most half a window on each side (PyTorch's rule)."""
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{_prefix(op)}pad should be at most half of kernel size, but got "
                         f"padding={padding} and kernel_size={kernel}")


def adaptive_output_size(op, n, output_size):
    """Adaptive pooling's output_size -> a tuple of n positive ints or None (None: keep that size)."""
    sizes = (output_size,) * n if is_int(output_size) or output_size is None else output_size
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"{_prefix(op)}output_size must be an int or a tuple of {n} ints (or None), "
                        f"got {output_size!r}")
    if len(sizes) != n:
        raise ValueError(f"{_prefix(op)}output_size must be an int or a tuple of {n} ints (or None), "
                         f"got {output_size!r}")
    if not all(s is None or (is_int(s) and s >= 1) for s in sizes):
        raise ValueError(f"{_prefix(op)}output_size must contain positive ints, got {output_size!r}")
    return tuple(None if s is None else int(s) for s in sizes)
