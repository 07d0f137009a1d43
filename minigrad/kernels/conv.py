"""Typed boundary of the convolution kernels (``minigrad._C.conv``, ``minigrad._C.depthwise``).

Every function takes arrays with three spatial axes, ``(N, C, D, H, W)``
(conv1d and conv2d add size-1 leading spatial axes), checks dtypes and
shapes, makes the arrays contiguous, allocates the result, and calls the
kernel with the thread count. Geometry is given per spatial axis as
3-tuples: ``stride``, ``padding`` (the padding *before* each axis; the
padding after is implied by the output size), ``dilation``.

Which kernel runs:
- ``groups == C > 1`` (depthwise: one input channel per group): the direct
  depthwise loops; ``depthwise_backward`` computes all three gradients of
  such a convolution in one pass;
- otherwise a GEMM per image and group. With the own GEMM (below), the
  forward pass and the weight gradient are "implicit": the GEMM packs the
  column matrix straight from the zero-padded image (csrc/im2col_pack.h),
  and a stride-1 input gradient with enough channels is a forward
  convolution with flipped weights; a strided input gradient is GEMM +
  col2im. With BLAS, im2col + GEMM, a few images per GEMM when each has
  few output positions. A 1x1, stride-1, unpadded kernel skips im2col and
  multiplies the input directly.
``algorithm="gemm"`` or ``"direct"`` forces one (tests compare the two).

Threads: the kernels parallelise over images, image planes or slabs of
output rows. scipy's BLAS is always held to one thread: two thread pools on
the same cores ran 1.5-6x slower, and OpenBLAS's sums change with its
thread count (a batch-of-one conv2d's weight gradient differed by 4e-3
between 1 and 2 threads), while minigrad's results must not. A batch of one
is cut into slabs of output rows instead; the own GEMM splits its columns
among threads, which leaves every sum as it was.

GEMM: float32 products go to minigrad's own GEMM (csrc/gemm.h) on the
instruction-set path the kernels take now (AVX-512, AVX2 or generic:
minigrad.kernels.cpu), whatever OpenBLAS was told to use (on the project's
machine OPENBLAS_CORETYPE=Haswell holds OpenBLAS to AVX2, half the speed),
and only it packs the columns straight from the image; float64 and
``MINIGRAD_GEMM=blas`` use scipy's BLAS. Plans depend on the path (its
tile sets the packed weights' size), so they are forgotten when it changes.

Scratch memory: each Python thread keeps one workspace array per dtype,
grown to the largest size asked for and reused by every later call, so
that speed does not depend on the allocator handing large blocks back to
the OS between calls. Workspaces are per Python thread (``threading.local``):
calls from several Python threads never share scratch.
"""
import collections
import functools
import math
import threading

import numpy as np

from minigrad._C import conv as _kernel
from minigrad._C import depthwise as _depthwise
from minigrad.kernels import cpu, gemm
from minigrad.kernels.threads import get_num_threads

# Images per GEMM: enough for about this many output positions (columns).
# Late layers have few positions per image (14x14 = 196), and a GEMM that
# narrow runs far below BLAS's peak.
COLUMNS_PER_GEMM = 1024

# Column slabs, where a column matrix is still written (col2im's input
# gradients; BLAS's 1x1 convolutions and big images): about this many
# elements (1 MiB of float32), so that a slab's columns are still in the
# core's L2 cache when they are read back (measured on one core, dense
# 64->64 3x3 on 32x32 before the implicit GEMM: 64K elements 15.3/14.4/15.6 ms
# forward/input/weight gradient, 256K 15.2/14.0/15.5, whole images
# 14.0/13.7/16.1; slabs also share one image among threads).
SLAB_ELEMENTS = 256 * 1024

# Partial sums of the weight gradient: a fixed number of batch chunks, so
# that the order of additions does not depend on the thread count.
WEIGHT_GRAD_CHUNKS = 8

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Below this many multiply-adds per thread, waking another thread costs more
# than it saves (and on a busy machine much more).
MIN_WORK_PER_THREAD = 200_000


def _thread_plan(work_items, multiply_adds, threads=None):
    """(OpenMP threads, GEMM threads) for `work_items` parallel items of total `multiply_adds`.

    The GEMM gets the threads only when the items cannot use them (batch of
    one) and there is enough work to share."""
    threads = get_num_threads() if threads is None else threads
    by_work = max(1, multiply_adds // MIN_WORK_PER_THREAD)
    omp_threads = max(1, min(threads, work_items, by_work))
    return omp_threads, (min(threads, by_work) if omp_threads == 1 else 1)


def _multiply_adds(output_shape, weight_shape):
    """Multiply-adds of one convolution: images x output positions x weight size."""
    return int(output_shape[0]) * math.prod(output_shape[2:]) * math.prod(weight_shape)


class _Workspaces(threading.local):
    def __init__(self):
        self.buffers = {}


_workspaces = _Workspaces()


def workspace(dtype, size):
    """A reusable scratch array of at least `size` elements, private to this Python thread."""
    buffer = _workspaces.buffers.get(dtype)
    if buffer is None or buffer.size < size:
        buffer = np.empty(max(int(size), 1), dtype=dtype)
        _workspaces.buffers[dtype] = buffer
    return buffer


def _uses_own_gemm(dtype):
    return dtype == np.float32 and gemm.PACK_SIZE > 0


def _gemm_pack(dtype, omp_threads, blas_threads, packed_weights):
    """The own GEMM's scratch: `packed_weights` elements for the weights packed
    once per call, then packing space for each thread (empty: the kernel calls BLAS)."""
    if not _uses_own_gemm(dtype):
        return _NO_PACK
    return gemm.pack_buffer(packed_weights + max(omp_threads, blas_threads) * gemm.PACK_SIZE)


def _gemm_shape(dtype, input_shape, output_shape, kernel_size):
    """(images, rows): how the kernels that write a column matrix cut the batch
    into GEMMs (the implicit GEMM writes none: _implicit_plan).

    The own GEMM packs the weights once and runs well on narrow products, so it
    takes one image at a time, in slabs of `rows` output rows whose columns
    (C*K, rows*Wo) fit in the core's cache. BLAS runs far below its peak on
    narrow products, so it gets several images side by side instead, unless
    an image has enough columns on its own."""
    R = output_shape[2] * output_shape[3]
    images = _kernel.images_per_chunk(math.prod(output_shape[2:]), output_shape[0], COLUMNS_PER_GEMM)
    if _uses_own_gemm(dtype) or images == 1:
        # (BLAS too when an image is big enough, or alone: its slabs are then
        # work for several threads, each calling BLAS on one thread)
        column_height = input_shape[1] * math.prod(kernel_size)       # C*K
        rows = SLAB_ELEMENTS // max(1, column_height * output_shape[4])
        return 1, max(1, min(R, rows))
    return images, R


_NO_PACK = np.empty(0, dtype=np.float32)


def release_workspaces():
    """Free this Python thread's scratch arrays (they regrow on the next call)."""
    _workspaces.buffers.clear()


def _check_float(name, array):
    if array.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"conv kernels: {name} must be float32 or float64, got {array.dtype}")


def _prepare(dtype, *arrays):
    return tuple(np.ascontiguousarray(a, dtype=dtype) for a in arrays)


def _bias_array(bias, dtype):
    if bias is None:
        return np.empty(0, dtype=dtype)
    return np.ascontiguousarray(bias, dtype=dtype).reshape(-1)


def is_direct(in_channels, groups, algorithm=None):
    """Whether the direct depthwise kernel handles this grouping."""
    if algorithm not in (None, "gemm", "direct"):
        raise ValueError(f"conv kernels: algorithm must be None, 'gemm' or 'direct', got {algorithm!r}")
    depthwise = groups == in_channels
    if algorithm is None:
        # A single input channel (groups == 1) is faster as one GEMM per image.
        return depthwise and groups > 1
    if algorithm == "direct" and not depthwise:
        raise ValueError(f"conv kernels: the direct kernel needs groups == in_channels, "
                         f"got groups={groups}, in_channels={in_channels}")
    return algorithm == "direct"


def _geometry(stride, padding, dilation):
    return tuple(map(int, stride)), tuple(map(int, padding)), tuple(map(int, dilation))


GemmPlan = collections.namedtuple(
    "GemmPlan", "images rows omp_threads blas_threads columns packed_weights uses_blas")


def _is_pointwise(input_shape, output_shape, kernel_size, stride, padding):
    """1x1 kernel, stride 1, no padding: the columns are the input itself."""
    return (math.prod(kernel_size) == 1 and all(s == 1 for s in stride) and not any(padding)
            and tuple(input_shape[2:]) == tuple(output_shape[2:]))


def _gemm_plan(dtype, input_shape, output_shape, weight_shape, groups, adjoint, threads):
    """How conv_forward (adjoint=False) or conv_input_grad (adjoint=True) cuts
    its work: images or slabs per GEMM, threads, scratch sizes. It depends
    only on the shapes and this module's tuning constants, so it is worked out
    once per shape (tiny convolutions spent more time deciding than computing)."""
    tuning = (gemm.PACK_SIZE, MIN_WORK_PER_THREAD, SLAB_ELEMENTS, COLUMNS_PER_GEMM)
    return _cached_gemm_plan(dtype, input_shape, output_shape, weight_shape, groups, adjoint, threads,
                             tuning)


@functools.lru_cache(maxsize=512)
def _cached_gemm_plan(dtype, input_shape, output_shape, weight_shape, groups, adjoint, threads,
                      tuning):
    N, C = input_shape[:2]
    M = output_shape[1]
    kernel_size = weight_shape[2:]
    images, rows = _gemm_shape(dtype, input_shape, output_shape, kernel_size)
    if adjoint:     # the slabs of one image add into the same input rows: one thread per image
        items = N if images == 1 else -(-N // images)
    else:
        R = output_shape[2] * output_shape[3]
        items = N * -(-R // rows) if images == 1 else -(-N // images)
    omp_threads, blas_threads = _thread_plan(items, _multiply_adds(output_shape, weight_shape), threads)
    if not _uses_own_gemm(dtype):
        blas_threads = 1        # OpenBLAS's sums differ with its thread count; the own GEMM's do not
    columns = _kernel.columns_size(input_shape, output_shape, kernel_size, images, rows)
    K = math.prod(kernel_size)
    packed = (_kernel.gemm_packed_size((C // groups) * K, M // groups) if adjoint
              else _kernel.gemm_packed_size(M // groups, (C // groups) * K))
    return GemmPlan(images, rows, omp_threads, blas_threads, columns, groups * packed,
                    not _uses_own_gemm(dtype))


@functools.lru_cache(maxsize=512)
def _implicit_plan(input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                   threads):
    """conv_forward's plan when the own GEMM packs the columns from the image:
    images in parallel (or, for a batch too small, the threads inside each
    GEMM); scratch: one zero-padded image per thread."""
    N, C = input_shape[:2]
    M = output_shape[1]
    kernel_size = weight_shape[2:]
    omp_threads, gemm_threads = _thread_plan(N, _multiply_adds(output_shape, weight_shape), threads)
    padded = _kernel.padded_image_size(input_shape, output_shape, kernel_size, stride, padding, dilation)
    packed = _kernel.gemm_packed_size(M // groups, (C // groups) * math.prod(kernel_size))
    return GemmPlan(1, output_shape[2] * output_shape[3], omp_threads, gemm_threads, padded,
                    groups * packed, False)


def conv_forward(x, weight, bias, stride, padding, dilation, output_size, groups, algorithm=None):
    """y (N, M, Do, Ho, Wo) = conv(x (N, C, D, H, W), weight (M, C/groups, kd, kh, kw)) + bias."""
    _check_float("x", x)
    x, weight = _prepare(x.dtype, x, weight)
    bias = _bias_array(bias, x.dtype)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    N, C = x.shape[:2]
    M = weight.shape[0]
    out = np.empty((N, M) + tuple(output_size), dtype=x.dtype)
    if out.size == 0:
        return out
    if is_direct(C, groups, algorithm):
        threads, _ = _thread_plan(N * C, _multiply_adds(out.shape, weight.shape))
        scratch = workspace(x.dtype, threads * _depthwise.depthwise_scratch_size(
            x.shape, out.shape, weight.shape[2:], stride, dilation))
        _depthwise.depthwise_forward(x, weight, bias, out, scratch, stride, padding, dilation, threads)
        return out
    if _uses_own_gemm(x.dtype) and not _is_pointwise(x.shape, out.shape, weight.shape[2:], stride,
                                                     padding):
        # implicit GEMM: the columns are packed from each (zero-padded) image
        plan = _implicit_plan(x.shape, out.shape, weight.shape, groups, stride, padding, dilation,
                              get_num_threads())
    else:
        plan = _gemm_plan(x.dtype, x.shape, out.shape, weight.shape, groups, False, get_num_threads())
    scratch = workspace(x.dtype, plan.omp_threads * plan.columns)
    pack = _gemm_pack(x.dtype, plan.omp_threads, plan.blas_threads, plan.packed_weights)
    _kernel.conv_forward(x, weight, bias, out, scratch, pack, stride, padding, dilation, groups,
                         plan.images, plan.rows, plan.omp_threads, plan.blas_threads)
    return out


def conv_input_grad(grad_out, weight, bias, stride, padding, dilation, input_shape, groups,
                    algorithm=None):
    """grad_x (input_shape) = conv's adjoint applied to grad_out (N, M, Do, Ho, Wo) (+ bias).

    With a bias this is the transposed convolution's forward pass.
    """
    _check_float("grad_out", grad_out)
    grad_out, weight = _prepare(grad_out.dtype, grad_out, weight)
    bias = _bias_array(bias, grad_out.dtype)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    grad_in = np.empty(tuple(input_shape), dtype=grad_out.dtype)
    if grad_in.size == 0:
        return grad_in
    N, C = grad_in.shape[:2]
    if grad_out.size == 0:  # nothing flows back: bias (or zero) everywhere
        grad_in[...] = 0 if bias.size == 0 else bias.reshape(1, C, 1, 1, 1)
        return grad_in
    if is_direct(C, groups, algorithm):
        threads, _ = _thread_plan(N * C, _multiply_adds(grad_out.shape, weight.shape))
        scratch = workspace(grad_out.dtype, threads * _depthwise.depthwise_scratch_size(
            grad_in.shape, grad_out.shape, weight.shape[2:], stride, dilation))
        _depthwise.depthwise_input_grad(grad_out, weight, bias, grad_in, scratch, stride, padding,
                                        dilation, threads)
        return grad_in
    kernel_size = weight.shape[2:]
    if _adjoint_is_a_convolution(grad_out.dtype, C // groups, kernel_size, stride, padding, dilation):
        # stride 1: the adjoint is a convolution of grad_out with the flipped,
        # transposed weights, and the forward kernel's implicit GEMM needs no
        # column matrix (col2im was a fifth of this kernel's time)
        full = tuple(d * (k - 1) - p for k, p, d in zip(kernel_size, padding, dilation))
        return conv_forward(grad_out, _adjoint_weight(weight, groups), bias, stride, full, dilation,
                            grad_in.shape[2:], groups, algorithm="gemm")
    plan = _gemm_plan(grad_out.dtype, grad_in.shape, grad_out.shape, weight.shape, groups, True,
                      get_num_threads())
    scratch = workspace(grad_out.dtype, plan.omp_threads * plan.columns)
    pack = _gemm_pack(grad_out.dtype, plan.omp_threads, plan.blas_threads, plan.packed_weights)
    _kernel.conv_input_grad(grad_out, weight, bias, grad_in, scratch, pack, stride, padding,
                            dilation, groups, plan.images, plan.rows, plan.omp_threads,
                            plan.blas_threads)
    return grad_in


# conv_input_grad runs as a forward convolution (implicit GEMM, no col2im) only
# when each group has at least this many input channels: they are the rows
# of that GEMM, and the columns it packs from grad_out are then shared by
# fewer rows (measured, 2 threads: 64 channels at 32x32 6.3 ms against 7.4 ms
# with col2im; 32 channels at 14x14 1.80 against 1.54; 1 channel 1.39 against 0.22).
ADJOINT_MIN_CHANNELS = 64


def _adjoint_is_a_convolution(dtype, channels_per_group, kernel_size, stride, padding, dilation):
    """Whether conv_input_grad runs as conv_forward (own GEMM, stride 1, padding
    at most the kernel's reach, enough channels, not 1x1: that one is a plain GEMM already)."""
    return (_uses_own_gemm(dtype) and channels_per_group >= ADJOINT_MIN_CHANNELS
            and all(s == 1 for s in stride) and math.prod(kernel_size) > 1
            and all(p <= d * (k - 1) for k, p, d in zip(kernel_size, padding, dilation)))


def _adjoint_weight(weight, groups):
    """(M, C/groups, kd, kh, kw) -> (C, M/groups, kd, kh, kw), taps flipped: with
    stride 1, grad_x = conv(grad_out, this, padding = dilation*(kernel-1) - padding).

    grad_x[c, i] = sum over m, taps t of grad_out[m, i + padding - t*dilation] * w[m, c, t];
    with t' = kernel-1-t that is a correlation, the same in every group."""
    M, Cg = weight.shape[:2]
    grouped = weight.reshape((groups, M // groups, Cg) + weight.shape[2:])
    flipped = grouped.swapaxes(1, 2)[:, :, :, ::-1, ::-1, ::-1]
    return np.ascontiguousarray(flipped).reshape((groups * Cg, M // groups) + weight.shape[2:])


def conv_weight_grad(x, grad_out, kernel_size, stride, padding, dilation, groups, algorithm=None,
                     with_bias=False):
    """grad_weight (M, C/groups, kd, kh, kw) = sum over the batch of grad_out x im2col(x).

    with_bias: return (grad_weight, grad_bias), grad_bias (M,) the sum of
    grad_out over images and positions; the own GEMM gets it in the same
    pass, as the weight of a constant input 1 (csrc/im2col_pack.h).
    """
    _check_float("x", x)
    x, grad_out = _prepare(x.dtype, x, grad_out)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    N, C = x.shape[:2]
    M = grad_out.shape[1]
    grad_weight = np.empty((M, C // groups) + tuple(kernel_size), dtype=x.dtype)
    grad_bias = np.empty(M if with_bias else 0, dtype=x.dtype)
    if grad_weight.size == 0 or x.size == 0 or grad_out.size == 0:
        grad_weight[...] = 0
        grad_bias[...] = grad_out.sum(axis=(0, 2, 3, 4)) if grad_bias.size else 0
        return (grad_weight, grad_bias) if with_bias else grad_weight
    K = math.prod(kernel_size)
    work = _multiply_adds(grad_out.shape, grad_weight.shape)
    chunks = min(N, WEIGHT_GRAD_CHUNKS)
    if is_direct(C, groups, algorithm):
        threads, _ = _thread_plan(chunks, work)
        per_thread = _depthwise.depthwise_scratch_size(x.shape, grad_out.shape, tuple(kernel_size),
                                                       stride, dilation)
        partials = chunks * M * K * max(grad_out.shape[4], 16)
        scratch = workspace(x.dtype, threads * per_thread + partials)
        _depthwise.depthwise_weight_grad(x, grad_out, grad_weight, scratch, stride, padding, dilation,
                                         chunks, threads)
    elif _uses_own_gemm(x.dtype):
        # implicit GEMM: the transposed columns (and the ones) are packed from each padded image
        omp_threads, gemm_threads = _thread_plan(chunks, work)
        padded = _kernel.padded_image_size(x.shape, grad_out.shape, tuple(kernel_size), stride, padding,
                                           dilation)
        scratch = workspace(x.dtype, omp_threads * padded + chunks * (grad_weight.size + M))
        pack = _gemm_pack(x.dtype, omp_threads, gemm_threads, 0)
        _kernel.conv_weight_grad(x, grad_out, grad_weight, grad_bias, scratch, pack, stride, padding,
                                 dilation, groups, chunks, 1, grad_out.shape[2] * grad_out.shape[3],
                                 omp_threads, gemm_threads)
        return (grad_weight, grad_bias) if with_bias else grad_weight
    else:
        omp_threads, _ = _thread_plan(chunks, work)
        blas_threads = 1        # OpenBLAS's sums differ with its thread count
        images, rows = _gemm_shape(x.dtype, x.shape, grad_out.shape, tuple(kernel_size))
        if images > 1:      # BLAS: images side by side, within one chunk
            images = _kernel.images_per_chunk(math.prod(grad_out.shape[2:]), -(-N // chunks),
                                               COLUMNS_PER_GEMM)
        columns = _kernel.columns_size(x.shape, grad_out.shape, tuple(kernel_size), images, rows)
        scratch = workspace(x.dtype, omp_threads * columns + chunks * grad_weight.size)
        _kernel.conv_weight_grad(x, grad_out, grad_weight, grad_bias[:0], scratch, _NO_PACK, stride,
                                 padding, dilation, groups, chunks, images, rows, omp_threads,
                                 blas_threads)
    if with_bias:
        grad_bias[...] = grad_out.sum(axis=(0, 2, 3, 4))
        return grad_weight, grad_bias
    return grad_weight


def depthwise_backward(x, grad_out, weight, stride, padding, dilation, needs=(True, True, True)):
    """(grad_x, grad_weight, grad_bias) of a depthwise convolution (groups == C) in one pass.

    x (N, C, D, H, W), grad_out (N, M, Do, Ho, Wo), weight (M, 1, kd, kh, kw).
    needs: which of the three to compute; the others come back as None.
    Together they read every grad_out plane from memory once (three
    separate kernels read it three times), and the sums of the weight and
    bias gradients are done in a fixed order: bitwise the same for any
    thread count.
    """
    _check_float("x", x)
    x, grad_out, weight = _prepare(x.dtype, x, grad_out, weight)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    need_input, need_weight, need_bias = (bool(n) for n in needs)
    N, C = x.shape[:2]
    M = grad_out.shape[1]
    if weight.shape[:2] != (M, 1) or M % C:
        raise ValueError(f"depthwise_backward: expected weight ({M}, 1, kd, kh, kw) with {M} a multiple "
                         f"of C={C}, got weight of shape {weight.shape}")
    grad_in = np.empty(x.shape, dtype=x.dtype) if need_input else None
    grad_weight = np.empty(weight.shape, dtype=x.dtype) if need_weight else None
    grad_bias = np.empty(M, dtype=x.dtype) if need_bias else None
    if x.size == 0 or grad_out.size == 0:
        for grad in (grad_in, grad_weight, grad_bias):
            if grad is not None:
                grad[...] = 0
        return grad_in, grad_weight, grad_bias
    skipped = np.empty((0, 1, 1, 1, 1), dtype=x.dtype)      # size 0: the kernel skips that gradient
    planes = N * C
    chunks = min(planes, WEIGHT_GRAD_CHUNKS)
    threads, _ = _thread_plan(chunks, 2 * _multiply_adds(grad_out.shape, weight.shape))
    per_thread = 2 * _depthwise.depthwise_scratch_size(x.shape, grad_out.shape, weight.shape[2:],
                                                       stride, dilation)
    partials = chunks * M * (math.prod(weight.shape[2:]) * max(grad_out.shape[4], 16) + 16)
    scratch = workspace(x.dtype, threads * per_thread + partials)
    _depthwise.depthwise_backward(x, grad_out, weight,
                                  grad_in if need_input else skipped,
                                  grad_weight if need_weight else skipped,
                                  grad_bias if need_bias else skipped.reshape(0),
                                  scratch, stride, padding, dilation, chunks, threads)
    return grad_in, grad_weight, grad_bias


@cpu.on_path_change
def _forget_plans(path):
    """A new path has another GEMM tile, so other packed sizes: plan again."""
    _cached_gemm_plan.cache_clear()
    _implicit_plan.cache_clear()


def pack_columns(x, output_size, kernel_size, stride, padding, dilation, rows, columns,
                 transposed=False, ones_from=None):
    """The implicit GEMM's packed block, for tests and teaching: B = im2col(x)
    (C*K, P) of one image x (1, C, D, H, W), or with `transposed` B =
    im2col(x)^T (P, C*K) with a column of ones from column `ones_from` on;
    rows and columns: ranges (slices with a start and stop) of B.
    Returns the panels (ceil(columns / NR), rows, NR) the GEMM reads
    (minigrad/reference/gemm.py's pack_b of that block), NR the current path's
    panel width (gemm.tile()[1]: 32 AVX-512, 16 AVX2, 8 generic). float32,
    own GEMM only."""
    if not _uses_own_gemm(np.dtype(np.float32)):
        raise RuntimeError("pack_columns: the implicit GEMM needs minigrad's own GEMM "
                           "(MINIGRAD_GEMM=blas turns it off)")
    x = np.ascontiguousarray(x, dtype=np.float32)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    output_size, kernel_size = tuple(map(int, output_size)), tuple(map(int, kernel_size))
    C, K, P = x.shape[1], math.prod(kernel_size), math.prod(output_size)
    height, width = (P, C * K + (ones_from is not None)) if transposed else (C * K, P)
    p0, p1 = rows.start, rows.stop
    j0, j1 = columns.start, columns.stop
    if x.shape[0] != 1 or not (0 <= p0 < p1 <= height and 0 <= j0 < j1 <= width) or p1 - p0 > 256:
        raise ValueError(f"pack_columns: expected one image and a block of at most 256 rows inside "
                         f"B ({height}, {width}), got x {x.shape}, rows {rows}, columns {columns}")
    nr = gemm.tile()[1]
    panels = np.empty((-(-(j1 - j0) // nr), p1 - p0, nr), dtype=np.float32)
    scratch = np.empty(_kernel.padded_image_size(x.shape, (1, 1) + output_size, kernel_size, stride,
                                                 padding, dilation), dtype=np.float32)
    _kernel.pack_columns(x, output_size, kernel_size, stride, padding, dilation, p0, p1 - p0, j0,
                         j1 - j0, transposed, C * K if ones_from is None else ones_from, scratch,
                         panels.reshape(-1))
    return panels


def im2col(x, output_size, kernel_size, stride, padding, dilation):
    """x (N, C, D, H, W) -> columns (N, C*kd*kh*kw, Do*Ho*Wo)."""
    _check_float("x", x)
    (x,) = _prepare(x.dtype, x)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    N, C = x.shape[:2]
    K, P = math.prod(kernel_size), math.prod(output_size)
    columns = np.empty((N, C * K, P), dtype=x.dtype)
    if columns.size and x.size:
        _kernel.im2col(x, columns, tuple(int(o) for o in output_size), tuple(int(k) for k in kernel_size),
                       stride, padding, dilation, get_num_threads())
    else:
        columns[...] = 0
    return columns


def col2im(columns, input_shape, output_size, kernel_size, stride, padding, dilation):
    """Adjoint of im2col: columns (N, C*K, P) summed back into an (input_shape) array."""
    _check_float("columns", columns)
    columns = np.array(columns, order="C")    # a copy: the kernel zeroes the entries it skips
    stride, padding, dilation = _geometry(stride, padding, dilation)
    N, C = input_shape[:2]
    K, P = math.prod(kernel_size), math.prod(output_size)
    if columns.shape != (N, C * K, P):
        raise ValueError(f"col2im: columns have shape {columns.shape}, expected {(N, C * K, P)}")
    x = np.zeros(tuple(input_shape), dtype=columns.dtype)
    if columns.size and x.size:
        _kernel.col2im(columns, x, tuple(int(o) for o in output_size), tuple(int(k) for k in kernel_size),
                       stride, padding, dilation, get_num_threads())
    return x
