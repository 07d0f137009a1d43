"""Typed boundary to the pooling kernels (minigrad._C.pooling).

The ops in minigrad/ops/pooling.py have already validated their arguments
and viewed the input as planes: every array here is (P, D, H, W), P = N*C,
with D = 1 for 2-d pooling and D = H = 1 for 1-d pooling. This module turns
kernel_size / stride / padding / dilation (or adaptive bin edges) into
per-dimension window tables, makes arrays contiguous, allocates outputs and
calls the kernels with the current thread count.

A window table for one spatial dimension says, for each output position o,
which input positions its window reads: begin[o] + j * dilation for
j < count[o]. Padding is never read: for max pooling it is -inf (it never
wins), for average pooling it is 0 (it only changes the divisor).

Under minigrad.use_reference_kernels() every entry point runs its readable
NumPy reference in minigrad/reference/pooling.py instead of the kernel; the
references take (N, C, *spatial), so the planes go in as (P, 1, D, H, W),
one channel per plane, and come back as [:, 0].
"""
import functools
import math
from typing import NamedTuple

import numpy as np

from minigrad._C import pooling as _kernel
from minigrad.kernels.threads import get_num_threads
from minigrad.reference import pooling as reference
from minigrad.reference import reference_kernels_enabled


# ---------------------------------------------------------------- window tables
# The tables are cached (a network pools the same shapes every step) and
# read-only, so a cached table cannot be changed by accident.
def _frozen(array):
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@functools.lru_cache(maxsize=256)
def max_windows(in_size, out_size, kernel, stride, padding, dilation):
    """begin, count of the in-bounds taps start + j*dilation (j < kernel) of each window."""
    start = np.arange(out_size, dtype=np.int64) * stride - padding
    first_tap = np.where(start < 0, (-start + dilation - 1) // dilation, 0)
    last_tap = np.minimum(kernel - 1, (in_size - 1 - start) // dilation)
    count = np.maximum(last_tap - first_tap + 1, 0)
    return _frozen(start + first_tap * dilation), _frozen(count)


@functools.lru_cache(maxsize=256)
def avg_windows(in_size, out_size, kernel, stride, padding, count_include_pad):
    """begin, count, 1/divisor of each window (PyTorch's avg_pool rule).

    The padded window is [start, min(start + kernel, in + padding)); its
    length is the divisor with count_include_pad, otherwise the number of
    elements inside the input is.
    """
    start = np.arange(out_size, dtype=np.int64) * stride - padding
    end = np.minimum(start + kernel, in_size + padding)
    padded_length = end - start
    begin, end = np.maximum(start, 0), np.minimum(end, in_size)
    count = end - begin
    divisor = padded_length if count_include_pad else count
    return _frozen(begin), _frozen(count), _frozen(1.0 / divisor)


@functools.lru_cache(maxsize=256)
def adaptive_windows(in_size, out_size):
    """PyTorch's adaptive bins [floor(o*in/out), ceil((o+1)*in/out)): begin, count, 1/count."""
    o = np.arange(out_size, dtype=np.int64)
    begin = (o * in_size) // out_size
    end = -((-(o + 1) * in_size) // out_size)
    count = end - begin
    return _frozen(begin), _frozen(count), _frozen(1.0 / count)


# ---------------------------------------------------------------- helpers
def _planes(array):
    """(P, D, H, W) -> contiguous (P, D*H*W) (a view when `array` is contiguous)."""
    return np.ascontiguousarray(array).reshape(array.shape[0], math.prod(array.shape[1:]))


def _check_float(array, name):
    if array.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 input, got {array.dtype}")


def _ceil_mode(input_shape, output_size, kernel_size, stride, padding, dilation=(1, 1, 1)):
    """The ceil_mode that gives these output sizes (the references take a ceil_mode, the
    boundary the sizes the op computed with it): True where any size is not floor's."""
    floor_sizes = tuple(reference.output_size(i, k, s, p, d, False)
                        for i, k, s, p, d in zip(input_shape[1:], kernel_size, stride, padding, dilation))
    return tuple(output_size) != floor_sizes


def _one_channel_per_plane(plane_shape):
    """(P, D, H, W) -> (P, 1, D, H, W): the planes as the references' (N, C, *spatial)."""
    return (plane_shape[0], 1) + tuple(plane_shape[1:])


def _table_args(tables):
    """[(begin, count, extra), ...] for (D, H, W) -> flat argument list, int64 contiguous."""
    args = []
    for table in tables:
        args.append(np.ascontiguousarray(table[0], dtype=np.int64))
        args.append(np.ascontiguousarray(table[1], dtype=np.int64))
        args.append(table[2])
    return args


# ---------------------------------------------------------------- max pooling
def max_pool(input, output_size, kernel_size, stride, padding, dilation):
    """(P, D, H, W) -> output (P, oD, oH, oW), indices (int64, flat positions in the input plane)."""
    _check_float(input, "max_pool")
    if reference_kernels_enabled():
        output, indices = reference.max_pool(input[:, None], kernel_size, stride, padding, dilation,
                                             _ceil_mode(input.shape, output_size, kernel_size, stride,
                                                        padding, dilation))
        return output[:, 0], indices[:, 0]
    layout = _max_layout(tuple(input.shape[1:]), tuple(output_size), tuple(kernel_size), tuple(stride),
                         tuple(padding), tuple(dilation))
    return _max_over_windows(input, output_size, layout)


def adaptive_max_pool(input, output_size):
    """(P, D, H, W) -> output (P, oD, oH, oW), indices, over PyTorch's adaptive bins."""
    _check_float(input, "adaptive_max_pool")
    if reference_kernels_enabled():
        output, indices = reference.adaptive_pool(input[:, None], output_size, "max")
        return output[:, 0], indices[:, 0]
    return _max_over_windows(input, output_size, _adaptive_layout(tuple(input.shape[1:]), tuple(output_size),
                                                                  average=False))


def _interior(begin, count, full):
    """(first, end, stride): the outputs first <= o < end have whole windows
    (count == full) starting `stride` apart, or (0, 0, 0) if there are none."""
    whole = np.flatnonzero(count == full)
    if whole.size == 0:
        return 0, 0, 0
    first, end = int(whole[0]), int(whole[-1]) + 1
    if not np.all(count[first:end] == full):  # whole windows always form one run
        return 0, 0, 0
    steps = np.diff(begin[first:end])
    stride = int(steps[0]) if steps.size else 0
    if not np.all(steps == stride):  # adaptive bins need not be evenly spaced
        return 0, 0, 0
    return first, end, stride


class _Layout(NamedTuple):
    """What the kernels need of one pooling's windows, besides the arrays (cached per shape)."""
    table_args: tuple   # begin, count (int64) and dilation per axis (D, H, W), flat
    full_w: int         # taps of a whole window along W (0: none is known whole, adaptive max)
    interior: tuple     # (first, end, stride) of the outputs along W with whole windows
    whole: bool         # every window whole and evenly spaced along every axis
    window_rows: int    # the most rows (d, h) of one window


def _layout(tables, full_w, kernel_size):
    begin_w, count_w = tables[2][0], tables[2][1]
    whole = kernel_size is not None and all(
        _interior(begin, count, full)[:2] == (0, len(begin)) for (begin, count, _), full in zip(tables, kernel_size))
    return _Layout(tuple(_table_args(tables)), full_w,
                   _interior(begin_w, count_w, full_w) if full_w else (0, 0, 0), whole,
                   int(tables[0][1].max()) * int(tables[1][1].max()))


@functools.lru_cache(maxsize=256)
def _max_layout(input_dims, output_size, kernel_size, stride, padding, dilation):
    tables = [max_windows(n, o, k, s, p, d) + (d,)
              for n, o, k, s, p, d in zip(input_dims, output_size, kernel_size, stride, padding, dilation)]
    return _layout(tables, kernel_size[2], kernel_size)


@functools.lru_cache(maxsize=256)
def _adaptive_layout(input_dims, output_size, average):
    """Adaptive bins; average: with their 1/count (an average pool's table), else dilation 1."""
    tables = [adaptive_windows(n, o) if average else adaptive_windows(n, o)[:2] + (1,)
              for n, o in zip(input_dims, output_size)]
    return _layout(tables, int(tables[2][1].max()) if average else 0, None)


@functools.lru_cache(maxsize=256)
def _avg_layout(input_dims, output_size, kernel_size, stride, padding, count_include_pad):
    tables = [avg_windows(n, o, k, s, p, count_include_pad)
              for n, o, k, s, p in zip(input_dims, output_size, kernel_size, stride, padding)]
    return _layout(tables, int(tables[2][1].max()), None)


def _max_over_windows(input, output_size, layout):
    planes = input.shape[0]
    output = np.empty((planes,) + tuple(output_size), dtype=input.dtype)
    indices = np.empty((planes,) + tuple(output_size), dtype=np.int64)
    # Per-thread scratch: the running argmax's tap number along an output row,
    # and the offset of each tap of a window (at most kernel_d*kernel_h*kernel_w).
    which = np.empty((get_num_threads(), output_size[2] + 16), dtype=np.int32)
    tap_offsets = np.empty((get_num_threads(), layout.window_rows * layout.full_w + 8), dtype=np.int64)
    _kernel.max_pool_forward(_planes(input), _planes(output), _planes(indices),
                             input.shape[2], input.shape[3], *layout.table_args,
                             layout.full_w, *layout.interior, layout.whole, which, tap_offsets,
                             get_num_threads())
    return output, indices


def max_pool_backward(grad_output, indices, input_shape):
    """Route each output gradient to its argmax: one writer per plane, race-free."""
    if reference_kernels_enabled():
        return reference.max_pool_backward(grad_output[:, None], indices[:, None],
                                           _one_channel_per_plane(input_shape))[:, 0]
    grad_input = np.empty(input_shape, dtype=grad_output.dtype)
    _kernel.scatter_add_planes(_planes(grad_output), _planes(indices), _planes(grad_input),
                               get_num_threads())
    return grad_input


# ---------------------------------------------------------------- average pooling
def avg_pool(input, output_size, kernel_size, stride, padding, count_include_pad, divisor_override):
    """(P, D, H, W) -> (P, oD, oH, oW): window sums (in double) / divisor (PyTorch's rule)."""
    _check_float(input, "avg_pool")
    if reference_kernels_enabled():
        ceil_mode = _ceil_mode(input.shape, output_size, kernel_size, stride, padding)
        return reference.avg_pool(input[:, None], kernel_size, stride, padding, ceil_mode, count_include_pad,
                                  divisor_override)[:, 0]
    layout = _avg_layout(tuple(input.shape[1:]), tuple(output_size), tuple(kernel_size), tuple(stride),
                         tuple(padding), count_include_pad)
    return _average_over_windows(input, output_size, layout, divisor_override)


def avg_pool_backward(grad_output, input_shape, kernel_size, stride, padding, count_include_pad,
                      divisor_override):
    if reference_kernels_enabled():
        return reference.avg_pool_backward(grad_output[:, None], _one_channel_per_plane(input_shape),
                                           kernel_size, stride, padding, count_include_pad,
                                           divisor_override)[:, 0]
    layout = _avg_layout(tuple(input_shape[1:]), tuple(grad_output.shape[1:]), tuple(kernel_size),
                         tuple(stride), tuple(padding), count_include_pad)
    return _spread_over_windows(grad_output, input_shape, layout, divisor_override)


def adaptive_avg_pool(input, output_size):
    _check_float(input, "adaptive_avg_pool")
    if reference_kernels_enabled():
        return reference.adaptive_pool(input[:, None], output_size, "avg")[:, 0]
    return _average_over_windows(input, output_size,
                                 _adaptive_layout(tuple(input.shape[1:]), tuple(output_size), average=True), None)


def adaptive_avg_pool_backward(grad_output, input_shape):
    if reference_kernels_enabled():
        return reference.adaptive_avg_pool_backward(grad_output[:, None],
                                                    _one_channel_per_plane(input_shape))[:, 0]
    return _spread_over_windows(grad_output, input_shape,
                                _adaptive_layout(tuple(input_shape[1:]), tuple(grad_output.shape[1:]), average=True),
                                None)


def _average_arguments(layout, divisor_override, in_rows, in_w, out_w, scratch_dtype):
    """Kernel arguments after the tables: override scale, interior run along W, scratch."""
    # 1/divisor_override, or 0 for "use the tables"
    override_scale = 1.0 / divisor_override if divisor_override else 0.0
    # Two rows of accumulators per thread (in_w + out_w: double in the forward,
    # the gradient's dtype in the backward), padded so that no two threads' rows
    # share a 64-byte cache line: threads writing one line would take it from each other.
    # The float32 backward's vector loop adds zeros to up to 31 floats past the
    # column row (csrc/pool_rows.h, avg_spread_interior): 32 more, then the padding.
    row_length = (in_w + out_w + 32 + 16 + 15) // 16 * 16
    scratch = np.empty((get_num_threads(), row_length), dtype=scratch_dtype)
    # The backward's flags: which input rows (d, h) of the plane hold a gradient yet.
    row_written = np.empty((get_num_threads(), in_rows + 64), dtype=np.uint8)
    # The float32 kernels' list of a window's rows (d, h), per thread: 8 int64 (a
    # cache line) more than they use, for the same reason as the accumulators.
    row_offsets = np.empty((get_num_threads(), (layout.window_rows + 1 + 8 + 7) // 8 * 8), dtype=np.int64)
    return [override_scale, layout.full_w, *layout.interior, scratch, row_written, row_offsets,
            get_num_threads()]


def _average_over_windows(input, output_size, layout, divisor_override):
    planes = input.shape[0]
    output = np.empty((planes,) + tuple(output_size), dtype=input.dtype)
    _kernel.avg_pool_forward(_planes(input), _planes(output), input.shape[2], input.shape[3],
                             *layout.table_args,
                             *_average_arguments(layout, divisor_override,
                                                 input.shape[1] * input.shape[2], input.shape[3],
                                                 output_size[2], np.float64))
    return output


def _spread_over_windows(grad_output, input_shape, layout, divisor_override):
    grad_input = np.empty(input_shape, dtype=grad_output.dtype)
    _kernel.avg_pool_backward(_planes(grad_output), _planes(grad_input), input_shape[2],
                              input_shape[3], *layout.table_args,
                              *_average_arguments(layout, divisor_override,
                                                  input_shape[1] * input_shape[2], input_shape[3],
                                                  grad_output.shape[3], grad_output.dtype))
    return grad_input


# ---------------------------------------------------------------- unpooling
def check_unpool_indices(indices, plane_size):
    """IndexError unless every index lies in [0, plane_size): checked before any write."""
    if indices.size == 0:
        return
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= plane_size:
        bad = low if low < 0 else high
        raise IndexError(f"max_unpool: index {bad} is out of range for an output plane of "
                         f"{plane_size} elements (expected 0 <= index < {plane_size})")


def max_unpool(input, indices, output_size):
    """(P, D, H, W) values and indices -> (P, oD, oH, oW) zeros with the values at their indices."""
    _check_float(input, "max_unpool")
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    check_unpool_indices(indices, math.prod(output_size))
    if reference_kernels_enabled():
        return reference.max_unpool(input[:, None], indices[:, None], output_size)[:, 0]
    output = np.empty((input.shape[0],) + tuple(output_size), dtype=input.dtype)
    _kernel.scatter_planes(_planes(input), _planes(indices), _planes(output),
                           get_num_threads())
    return output


def max_unpool_backward(grad_output, indices):
    """grad_input[p, i] = grad_output[p, indices[p, i]]."""
    if reference_kernels_enabled():
        return reference.max_unpool_backward(grad_output[:, None], indices[:, None])[:, 0]
    grad_input = np.empty(indices.shape, dtype=grad_output.dtype)
    _kernel.gather_planes(_planes(grad_output), _planes(indices),
                          _planes(grad_input), get_num_threads())
    return grad_input
