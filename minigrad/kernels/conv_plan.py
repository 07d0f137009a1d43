"""How a convolution runs: which kernel computes each of its three products,
on how many threads, with how much scratch.

``choose_algorithm`` is the one place that picks the kernels; forward and
backward passes (and the transposed convolutions, which run the same three
products in another order) all ask it:

- ``"depthwise"`` (groups == C > 1, one input channel per group): direct
  loops, csrc/depthwise.pyx; one kernel computes all three gradients;
- ``"implicit_gemm"`` (float32 with minigrad's own GEMM): the GEMM packs the
  column matrix straight from the zero-padded image (csrc/im2col_pack.h);
  small images go several to one GEMM (``implicit_images``). The input
  gradient runs this way too when the stride is 1 and each group has enough
  input channels (ADJOINT_MIN_CHANNELS, or no fewer than its outputs): it is
  then a forward convolution of grad_out with the flipped, transposed
  weights (``adjoint_weight``);
- ``"tap_broadcast"`` (float32, groups == 1, a few vectors of output
  channels: ``tap_forward`` for the forward and the adjoint, TAP_MAX_VECTORS
  for the weight gradient): no packing at all; vectors over the output
  channels, each image value broadcast straight from the padded image
  (csrc/tap_broadcast.h). As the adjoint's forward, the input gradient takes
  it whatever the channel counts;
- ``"winograd"`` (float32, groups == 1, 3x3, stride 1, dilation 1, 2-d, the
  channel counts and output size of ``winograd``): the forward, and the input
  gradient as the adjoint's forward, by Winograd F(2x2, 3x3)
  (csrc/winograd.h): 16 GEMMs over 2x2 tiles, 2.25x fewer multiply-adds;
- ``"im2col_gemm"`` / ``"col2im_gemm"``: the columns are written, then one
  GEMM per image and group (float64, ``MINIGRAD_GEMM=blas``, 1x1 kernels and
  strided input gradients).

``plan`` adds the thread counts and the scratch sizes. A plan depends only on
the shapes, the thread count and the tuning constants below, so it is worked
out once per shape and cached: on later calls a convolution crosses into
compiled code once, for the kernel itself. Scratch sizes come from the
kernels' own size functions (``columns_size``, ``implicit_forward_size``,
``tap_forward_size``, ``tap_broadcast_size``, ``winograd_size``,
``weight_grad_size``, ``depthwise_workspace_size``), which the kernels use
to index their workspace.

Threads: the kernels parallelise over images, image planes, batch chunks or
slabs of output rows; where only one item has work (a batch of one), the own
GEMM splits its columns among the threads instead, and the broadcast-tap
forward cuts each image into parts of its output rows: both leave every sum
as it was. scipy's BLAS always runs on one thread (minigrad/kernels/blas.py).
"""
import collections
import functools
import math

import numpy as np

from minigrad._C import conv as _conv
from minigrad._C import depthwise as _depthwise
from minigrad.kernels import cpu, gemm
from minigrad.kernels.threads import get_num_threads

# Images per GEMM on BLAS: enough for about this many output positions
# (columns); late layers have few positions per image (14x14 = 196), and a
# GEMM that narrow runs far below BLAS's peak.
COLUMNS_PER_GEMM = 1024

# Column slabs, where a column matrix is written: about this many elements
# (1 MiB of float32), so that a slab's columns are still in the core's L2
# cache when the GEMM reads them back; slabs also share one image among threads.
SLAB_ELEMENTS = 256 * 1024

# The implicit GEMM puts images side by side when one has fewer output
# positions than IMPLICIT_SMALL_IMAGE, about IMPLICIT_COLUMNS_PER_GEMM
# positions per GEMM: a 7x7 image alone is 49 columns, four 16-wide panels
# a quarter empty (measured on the main example's 48->96 layer at 7x7).
IMPLICIT_SMALL_IMAGE = 128
IMPLICIT_COLUMNS_PER_GEMM = 256

# Partial sums of the weight gradient: a fixed number of batch chunks, so
# that the order of additions does not depend on the thread count.
WEIGHT_GRAD_CHUNKS = 8

# The most vectors of output channels for the broadcast-tap weight gradient
# (96 channels on AVX-512, 48 on AVX2, 24 on SSE2/NEON).
TAP_MAX_VECTORS = 6

# The forward by broadcast taps (and the input gradient run as the adjoint's
# forward) up to this many vectors of output channels; more take the
# implicit GEMM, whose rows are then the output channels (benchmarks/conv_bench.py).
# And only where the channels fill at least 3/4 of their vectors (AVX-512's
# 16-float vectors hold 24 channels in 2 vectors at 3/4; 1 channel in one is
# 16 times the work), with at least TAP_FORWARD_MIN_ROWS im2col rows (Cin*K:
# a 1-channel 3x3 layer has 9, too few steps to pay for a block's set-up).
TAP_FORWARD_MAX_VECTORS = 12
TAP_FORWARD_MIN_ROWS = 32

# Winograd F(2x2, 3x3) (csrc/winograd.h) for 3x3 stride-1 convolutions with
# at least WINOGRAD_MIN_INPUTS input and WINOGRAD_MIN_OUTPUTS output channels,
# at most WINOGRAD_MAX_CHANNELS of both together (more, and a tile block's
# transformed inputs and results no longer fit the L2 cache with enough
# tiles for the GEMMs) and outputs of at least WINOGRAD_MIN_SIZE x
# WINOGRAD_MIN_SIZE (on smaller ones the tiles of a row half fill a vector,
# and a 7x7 output is 8x8 of tiles' outputs). Measured against the broadcast
# taps on a 2-core Xeon (AVX2 and AVX-512) in benchmarks/conv_bench.py and
# on the main example's layers: 24->24 at 28x28 1.18x (AVX2) / 1.31x faster,
# 48->48 at 14x14 1.36x / 1.11x, 64->64 at 32x32 1.22x / 1.26x; 16->16 at
# 28x28, 48->96 at 7x7 and 256->256 at 14x14 were slower.
WINOGRAD_MIN_INPUTS = 16
WINOGRAD_MIN_OUTPUTS = 24
WINOGRAD_MAX_CHANNELS = 256
WINOGRAD_MIN_SIZE = 12

# Below this many multiply-adds per thread, waking another thread costs more
# than it saves (and on a busy machine much more).
MIN_WORK_PER_THREAD = 200_000

# The input gradient runs as a forward convolution by broadcast taps where
# those take its output channels (the input's, TAP_FORWARD_MAX_VECTORS):
# measured as fast as col2im or faster on every layer of the main example and
# benchmarks/conv_bench.py, up to 15% on 48->96 at 7x7. On the implicit GEMM
# it does so when there are at least
# this many input channels per group, or at least as many as output channels:
# the input channels are the rows of that GEMM (the columns it packs from
# grad_out are shared by fewer rows below that), the output channels its
# depth. Measured on the main example's layers (AVX2 and AVX-512, 1 and 2
# threads): 24->24 and 48->48 run 5-35% faster as a convolution, 24->48 and
# 48->96 10-25% slower than through col2im.
ADJOINT_MIN_CHANNELS = 64

ALGORITHMS = ("depthwise", "tap_broadcast", "implicit_gemm", "im2col_gemm", "col2im_gemm")

# Which kernel computes each product of one convolution.
Algorithms = collections.namedtuple("Algorithms", "forward input_grad weight_grad")

# How one kernel call runs: `padding` is the padding the kernel is called with
# (the adjoint's for an input gradient run as a forward convolution);
# workspace and pack are element counts (pack: float32, 0 for BLAS).
Plan = collections.namedtuple(
    "Plan", "algorithm omp_threads gemm_threads images rows chunks padding workspace pack")

# The plans of one convolution's products; `backward` (depthwise only) is the
# kernel that computes all three gradients in one pass.
ConvPlan = collections.namedtuple("ConvPlan", "algorithms forward input_grad weight_grad backward")


def uses_own_gemm(dtype):
    """Whether float products of this dtype go to minigrad's own GEMM (float32, unless turned off)."""
    return dtype == np.float32 and gemm.PACK_SIZE > 0


def is_pointwise(input_shape, output_shape, kernel_size, stride, padding):
    """1x1 kernel, stride 1, no padding: the columns are the input itself."""
    return (math.prod(kernel_size) == 1 and all(s == 1 for s in stride) and not any(padding)
            and tuple(input_shape[2:]) == tuple(output_shape[2:]))


def is_direct(in_channels, groups, algorithm=None):
    """Whether the direct depthwise kernel handles this grouping (`algorithm`:
    None to choose, "gemm" or "direct" to force one; tests compare the two)."""
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


def adjoint_padding(kernel_size, padding, dilation):
    """The padding of the forward convolution that computes a stride-1 input gradient."""
    return tuple(d * (k - 1) - p for k, p, d in zip(kernel_size, padding, dilation))


def adjoint_weight(weight, groups):
    """(M, C/groups, kd, kh, kw) -> (C, M/groups, kd, kh, kw), taps flipped: with
    stride 1, grad_x = conv(grad_out, this, padding = dilation*(kernel-1) - padding).

    grad_x[c, i] = sum over m, taps t of grad_out[m, i + padding - t*dilation] * w[m, c, t];
    with t' = kernel-1-t that is a correlation, the same in every group."""
    M, Cg = weight.shape[:2]
    grouped = weight.reshape((groups, M // groups, Cg) + weight.shape[2:])
    flipped = grouped.swapaxes(1, 2)[:, :, :, ::-1, ::-1, ::-1]
    return np.ascontiguousarray(flipped).reshape((groups * Cg, M // groups) + weight.shape[2:])


def choose_algorithm(dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                     algorithm=None):
    """Algorithms(forward, input_grad, weight_grad): the kernel of each product of the
    convolution of input (N, C, D, H, W) into output (N, M, Do, Ho, Wo) with weight
    (M, C/groups, kd, kh, kw). `algorithm`: "gemm" or "direct" forces one (see is_direct)."""
    if is_direct(input_shape[1], groups, algorithm):
        return Algorithms("depthwise", "depthwise", "depthwise")
    if not uses_own_gemm(np.dtype(dtype)):
        return Algorithms("im2col_gemm", "col2im_gemm", "im2col_gemm")
    kernel_size = weight_shape[2:]
    # a 1x1 convolution is a plain GEMM of the input: nothing to pack from an image
    forward = ("im2col_gemm" if is_pointwise(input_shape, output_shape, kernel_size, stride, padding)
               else "winograd" if winograd(input_shape, output_shape, weight_shape, groups, stride, dilation)
               else "tap_broadcast" if tap_forward(output_shape, weight_shape[1:], groups) else "implicit_gemm")
    # the input gradient as a forward convolution of grad_out (stride 1): into the
    # input's channels, with filters (M/groups, kd, kh, kw)
    adjoint_taps = tap_forward(input_shape, (output_shape[1] // groups,) + tuple(kernel_size), groups)
    adjoint_is_a_convolution = (
        (adjoint_taps or input_shape[1] // groups >= min(ADJOINT_MIN_CHANNELS, output_shape[1] // groups))
        and all(s == 1 for s in stride)
        and math.prod(kernel_size) > 1 and all(p <= d * (k - 1) for k, p, d in zip(kernel_size, padding, dilation)))
    # The weight gradient of a dense convolution needs no packing with broadcast taps, where
    # a few vectors hold the output channels: measured faster up to TAP_MAX_VECTORS (more
    # vectors need more passes over the image; benchmarks/conv_bench.py)
    broadcast_taps = (groups == 1 and _conv.tap_broadcast_available()
                      and output_shape[1] <= TAP_MAX_VECTORS * _conv.tap_lanes())
    weight_grad = "tap_broadcast" if broadcast_taps else "implicit_gemm"
    input_grad = "col2im_gemm"
    if adjoint_is_a_convolution:
        adjoint_shape = (input_shape[1], output_shape[1] // groups) + tuple(kernel_size)
        input_grad = ("winograd" if winograd(output_shape, input_shape, adjoint_shape, groups, stride, dilation)
                      else "tap_broadcast" if adjoint_taps else "implicit_gemm")
    return Algorithms(forward, input_grad, weight_grad)


def winograd(input_shape, output_shape, weight_shape, groups, stride, dilation):
    """Whether a forward convolution of input (N, C, D, H, W) into output (N, M, Do,
    Ho, Wo) with weight (M, C, kd, kh, kw) runs by Winograd F(2x2, 3x3)."""
    C, M = input_shape[1], output_shape[1]
    return (groups == 1 and _conv.winograd_available() and tuple(weight_shape[2:]) == (1, 3, 3)
            and all(s == 1 for s in stride) and all(d == 1 for d in dilation)
            and input_shape[2] == 1 and output_shape[2] == 1
            and C >= WINOGRAD_MIN_INPUTS and M >= WINOGRAD_MIN_OUTPUTS and C + M <= WINOGRAD_MAX_CHANNELS
            and min(output_shape[3], output_shape[4]) >= WINOGRAD_MIN_SIZE)


def tap_forward(output_shape, filter_shape, groups):
    """Whether a forward convolution into `output_shape` (N, M, Do, Ho, Wo), each
    filter (Cin/groups, kd, kh, kw), runs by broadcast taps. Not for a single
    output row of a single image (a 1-d convolution of a batch of one): the
    taps share an image among threads by its rows, the implicit GEMM by its
    columns (a rule that does not depend on the thread count, so neither does
    any result)."""
    if groups != 1 or not _conv.tap_broadcast_available() or output_shape[0] * output_shape[3] < 2:
        return False
    channels, lanes = output_shape[1], _conv.tap_lanes()
    vectors = -(-channels // lanes)
    return (vectors <= TAP_FORWARD_MAX_VECTORS and 4 * channels >= 3 * vectors * lanes
            and math.prod(filter_shape) >= TAP_FORWARD_MIN_ROWS)


def plan(dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation, algorithm=None):
    """The ConvPlan of a convolution (shapes and geometry as in choose_algorithm:
    tuples of ints, geometry 3-tuples), for the current thread count."""
    for name, shape in (("input_shape", input_shape), ("output_shape", output_shape),
                        ("weight_shape", weight_shape)):
        if len(shape) != 5:
            raise ValueError(f"conv plan: {name} must have 5 entries ((N, C, D, H, W) or "
                             f"(M, C/groups, kd, kh, kw)), got {tuple(shape)}")
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if len(value) != 3:
            raise ValueError(f"conv plan: {name} must be a 3-tuple (depth, height, width), got {tuple(value)}")
    tuning = (gemm.PACK_SIZE, MIN_WORK_PER_THREAD, SLAB_ELEMENTS, COLUMNS_PER_GEMM, WEIGHT_GRAD_CHUNKS,
              ADJOINT_MIN_CHANNELS, IMPLICIT_SMALL_IMAGE, IMPLICIT_COLUMNS_PER_GEMM, TAP_MAX_VECTORS,
              TAP_FORWARD_MAX_VECTORS, TAP_FORWARD_MIN_ROWS, WINOGRAD_MIN_INPUTS, WINOGRAD_MIN_OUTPUTS,
              WINOGRAD_MAX_CHANNELS, WINOGRAD_MIN_SIZE)
    return _cached_plan(np.dtype(dtype), input_shape, output_shape, weight_shape, groups, stride, padding,
                        dilation, algorithm, get_num_threads(), tuning)


def _check_consistent(input_shape, output_shape, weight_shape, groups):
    """The three shapes of one convolution agree: the same batch, the weight's channels
    (M, C/groups) those of the output and the input. The kernels read the arrays by
    these shapes, so a mismatch would read past an array rather than fail."""
    N, C, M = input_shape[0], input_shape[1], output_shape[1]
    if groups < 1 or C % groups or M % groups:
        raise ValueError(f"conv plan: groups={groups} must divide the input's {C} and the output's {M} channels")
    if output_shape[0] != N or weight_shape[0] != M or weight_shape[1] * groups != C:
        raise ValueError(f"conv plan: input {tuple(input_shape)}, output {tuple(output_shape)} and weight "
                         f"{tuple(weight_shape)} (groups={groups}) do not agree: expected the same batch, "
                         f"weight (M, C/groups, ...) = ({M}, {C // groups}, ...)")


@functools.lru_cache(maxsize=512)
def _cached_plan(dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                 algorithm, threads, tuning):
    _check_consistent(input_shape, output_shape, weight_shape, groups)
    algorithms = choose_algorithm(dtype, input_shape, output_shape, weight_shape, groups, stride, padding,
                                  dilation, algorithm)
    shapes = (dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation, threads)
    if algorithms.forward == "depthwise":
        return ConvPlan(algorithms, _depthwise_plan("forward", *shapes), _depthwise_plan("input_grad", *shapes),
                        _depthwise_plan("weight_grad", *shapes), _depthwise_plan("backward", *shapes))
    if algorithms.forward in ("implicit_gemm", "tap_broadcast", "winograd"):
        forward = _forward_plan(algorithms.forward, *shapes)
    else:
        forward = _columns_plan(False, *shapes)
    if algorithms.input_grad in ("implicit_gemm", "tap_broadcast", "winograd"):
        # the adjoint as a forward convolution: grad_out in, grad_x out, flipped weights
        C, M = input_shape[1], output_shape[1]
        adjoint_shape = (C, M // groups) + tuple(weight_shape[2:])
        input_grad = _forward_plan(algorithms.input_grad, dtype, output_shape, input_shape, adjoint_shape, groups,
                                   stride, adjoint_padding(weight_shape[2:], padding, dilation), dilation, threads)
    else:
        input_grad = _columns_plan(True, *shapes)
    weight_grad = _weight_grad_plan(algorithms.weight_grad, *shapes)
    return ConvPlan(algorithms, forward, input_grad, weight_grad, None)


def _thread_plan(work_items, multiply_adds, threads):
    """(OpenMP threads, GEMM threads) for `work_items` parallel items of total `multiply_adds`.

    The GEMM gets the threads only when the items cannot use them (batch of
    one) and there is enough work to share."""
    by_work = max(1, multiply_adds // MIN_WORK_PER_THREAD)
    omp_threads = max(1, min(threads, work_items, by_work))
    return omp_threads, (min(threads, by_work) if omp_threads == 1 else 1)


def _multiply_adds(output_shape, weight_shape):
    """Multiply-adds of one convolution: images x output positions x weight size."""
    return int(output_shape[0]) * math.prod(output_shape[2:]) * math.prod(weight_shape)


def _packed_weights(transposed, weight_shape, groups):
    """float32 elements of every group's weight matrix (M/G, C/G*K), or its transpose, packed for the GEMM."""
    Mg, Kcg = weight_shape[0] // groups, math.prod(weight_shape[1:])
    return groups * (gemm.packed_size(Kcg, Mg) if transposed else gemm.packed_size(Mg, Kcg))


def _gemm_pack(omp_threads, gemm_threads, packed_weights):
    """The own GEMM's scratch: the weights packed once per call, then packing space per thread."""
    return packed_weights + max(omp_threads, gemm_threads) * gemm.PACK_SIZE


def images_per_gemm(positions, batch):
    """Images side by side in one BLAS GEMM: enough for ~COLUMNS_PER_GEMM columns, at most the batch."""
    return max(1, min(-(-COLUMNS_PER_GEMM // positions), batch))


def _columns_shape(dtype, input_shape, output_shape, kernel_size):
    """(images, rows): how the kernels that write a column matrix cut the batch into GEMMs.

    The own GEMM packs the weights once and runs well on narrow products, so it
    takes one image at a time, in slabs of `rows` output rows whose columns
    (C*K, rows*Wo) fit in the core's cache. BLAS runs far below its peak on
    narrow products, so it gets several images side by side instead, unless
    an image has enough columns on its own (its slabs are then work for
    several threads, each calling BLAS on one thread)."""
    R = output_shape[2] * output_shape[3]
    images = images_per_gemm(math.prod(output_shape[2:]), output_shape[0])
    if uses_own_gemm(dtype) or images == 1:
        column_height = input_shape[1] * math.prod(kernel_size)       # C*K
        rows = SLAB_ELEMENTS // max(1, column_height * output_shape[4])
        return 1, max(1, min(R, rows))
    return images, R


def _depthwise_plan(step, dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                    threads):
    """Depthwise kernels: (image, channel) planes in parallel, or chunks of them for the
    weight sums; scratch: as the kernel's own depthwise_workspace_size lays it out."""
    N, C = input_shape[:2]
    work = _multiply_adds(output_shape, weight_shape)
    chunks = 1
    if step in ("forward", "input_grad"):
        omp_threads, _ = _thread_plan(N * C, work, threads)
    elif step == "weight_grad":
        chunks = min(N, WEIGHT_GRAD_CHUNKS)
        omp_threads, _ = _thread_plan(chunks, work, threads)
    else:                       # backward: input, weight and bias gradients in one pass
        chunks = min(N * C, WEIGHT_GRAD_CHUNKS)
        omp_threads, _ = _thread_plan(chunks, 2 * work, threads)
    workspace = _depthwise.depthwise_workspace_size(step, input_shape, output_shape, tuple(weight_shape[2:]),
                                                    stride, dilation, chunks, omp_threads)
    return Plan("depthwise", omp_threads, 1, 1, 1, chunks, padding, workspace, 0)


def _forward_plan(algorithm, dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                  threads):
    """A forward convolution (or an input gradient as the adjoint's forward):
    by broadcast taps, images in parallel, each cut into parts of its output
    rows where the batch is smaller than the threads (chunks: the parts)."""
    if algorithm == "implicit_gemm":
        return _implicit_forward_plan(dtype, input_shape, output_shape, weight_shape, groups, stride, padding,
                                      dilation, threads)
    if algorithm == "winograd":     # items of tiles in parallel (csrc/conv.pyx, winograd_items)
        items = _conv.winograd_work_items(input_shape, output_shape)
        omp_threads, _ = _thread_plan(items, _multiply_adds(output_shape, weight_shape), threads)
        return Plan("winograd", omp_threads, 1, 1, 0, 1, padding,
                    _conv.winograd_size(input_shape, output_shape, omp_threads), 0)
    N = input_shape[0]
    parts = max(1, min(output_shape[3], -(-threads // max(N, 1))))
    omp_threads, _ = _thread_plan(N * parts, _multiply_adds(output_shape, weight_shape), threads)
    size = _conv.tap_forward_size(input_shape, output_shape, tuple(weight_shape[2:]), stride, padding, dilation,
                                  omp_threads)
    return Plan("tap_broadcast", omp_threads, 1, 1, 0, parts, padding, size, 0)


def _implicit_forward_plan(dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                           threads):
    """implicit_gemm_forward: images in parallel (or, for a batch too small, the
    threads inside each GEMM), small images several per GEMM (implicit_images);
    scratch: the zero-padded images (and a result) per thread."""
    N = input_shape[0]
    images = implicit_images(math.prod(output_shape[2:]), N, threads)
    omp_threads, gemm_threads = _thread_plan(-(-N // images), _multiply_adds(output_shape, weight_shape), threads)
    size = _conv.implicit_forward_size(input_shape, output_shape, tuple(weight_shape[2:]), stride, padding,
                                       dilation, groups, images)
    return Plan("implicit_gemm", omp_threads, gemm_threads, images, output_shape[2] * output_shape[3], 1, padding,
                omp_threads * size, _gemm_pack(omp_threads, gemm_threads, _packed_weights(False, weight_shape,
                                                                                          groups)))


def implicit_images(positions, batch, threads):
    """Images side by side in one implicit GEMM: 1 for images of IMPLICIT_SMALL_IMAGE
    positions or more; else enough for ~IMPLICIT_COLUMNS_PER_GEMM columns, while
    leaving every thread a group of images (a number that depends on the thread
    count only through that limit: each image's result is the same either way)."""
    if positions >= IMPLICIT_SMALL_IMAGE:
        return 1
    return max(1, min(-(-IMPLICIT_COLUMNS_PER_GEMM // positions), -(-batch // max(1, threads))))


def _columns_plan(adjoint, dtype, input_shape, output_shape, weight_shape, groups, stride, padding, dilation,
                  threads):
    """im2col_gemm_forward (adjoint=False) or col2im_gemm_input_grad (adjoint=True):
    slabs or images per GEMM, threads, scratch."""
    N = input_shape[0]
    images, rows = _columns_shape(dtype, input_shape, output_shape, weight_shape[2:])
    if adjoint:     # the slabs of one image add into the same input rows: one thread per image
        items = N if images == 1 else -(-N // images)
    else:
        R = output_shape[2] * output_shape[3]
        items = N * -(-R // rows) if images == 1 else -(-N // images)
    omp_threads, gemm_threads = _thread_plan(items, _multiply_adds(output_shape, weight_shape), threads)
    columns = _conv.columns_size(input_shape, output_shape, tuple(weight_shape[2:]), images, rows)
    if not uses_own_gemm(dtype):
        return Plan("col2im_gemm" if adjoint else "im2col_gemm", omp_threads, 1, images, rows, 1, padding,
                    omp_threads * columns, 0)
    return Plan("col2im_gemm" if adjoint else "im2col_gemm", omp_threads, gemm_threads, images, rows, 1,
                padding, omp_threads * columns,
                _gemm_pack(omp_threads, gemm_threads, _packed_weights(adjoint, weight_shape, groups)))


def _weight_grad_plan(algorithm, dtype, input_shape, output_shape, weight_shape, groups, stride, padding,
                      dilation, threads):
    """The weight gradient: a fixed number of batch chunks, each summing into its own partial result."""
    N = input_shape[0]
    chunks = min(N, WEIGHT_GRAD_CHUNKS)
    omp_threads, gemm_threads = _thread_plan(chunks, _multiply_adds(output_shape, weight_shape), threads)
    kernel_size = tuple(weight_shape[2:])
    if algorithm == "tap_broadcast":
        omp_threads = min(threads, chunks)
        size = _conv.tap_broadcast_size(input_shape, output_shape, kernel_size, stride, padding, dilation,
                                        chunks, omp_threads)
        return Plan(algorithm, omp_threads, 1, 1, 0, chunks, padding, size, 0)
    if algorithm == "implicit_gemm":
        size = _conv.weight_grad_size(input_shape, output_shape, kernel_size, stride, padding, dilation, groups,
                                      chunks, 0, 0, omp_threads)
        return Plan(algorithm, omp_threads, gemm_threads, 1, 0, chunks, padding, size,
                    _gemm_pack(omp_threads, gemm_threads, 0))
    images, rows = _columns_shape(dtype, input_shape, output_shape, kernel_size)
    if images > 1:      # BLAS: images side by side, within one chunk
        images = images_per_gemm(math.prod(output_shape[2:]), -(-N // chunks))
    size = _conv.weight_grad_size(input_shape, output_shape, kernel_size, stride, padding, dilation, groups,
                                  chunks, images, rows, omp_threads)
    return Plan(algorithm, omp_threads, 1, images, rows, chunks, padding, size, 0)


@cpu.on_path_change
def _forget_plans(path):
    """A new path has another GEMM tile, so other packed sizes: plan again."""
    _cached_plan.cache_clear()
