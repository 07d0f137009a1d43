"""Typed boundary of the convolution kernels (``minigrad._C.conv``, ``minigrad._C.depthwise``).

Every function takes arrays with three spatial axes, ``(N, C, D, H, W)``
(conv1d and conv2d add size-1 leading spatial axes), checks dtypes and
shapes, makes the arrays contiguous, allocates the result, and calls the
kernel that minigrad/kernels/conv_plan.py chose, with the thread counts and
the scratch (minigrad/kernels/workspace.py) of its plan. Geometry is given
per spatial axis as 3-tuples: ``stride``, ``padding`` (the padding *before*
each axis; the padding after is implied by the output size), ``dilation``.

    conv_forward             y = conv(x, w) + b           (a transposed conv's backward, for its input)
    conv_input_grad          dL/dx = conv's adjoint        (a transposed conv's forward, with a bias)
    conv_weight_grad         dL/dw (and dL/db)
    conv_backward            (dL/dx, dL/dw, dL/db) of a convolution: one call
    conv_transpose_backward  the same for a transposed convolution
    im2col, col2im           the column matrix and its adjoint

``algorithm="gemm"`` or ``"direct"`` forces the GEMM or the depthwise kernels
(tests compare the two). Under ``minigrad.use_reference_kernels()`` every
function runs its NumPy reference instead of the compiled kernel.

Reference: minigrad/reference/conv.py
"""
import math

import numpy as np

from minigrad import reference
from minigrad._C import conv as _conv
from minigrad._C import depthwise as _depthwise
from minigrad.kernels import conv_plan, gemm
from minigrad.kernels.threads import get_num_threads
from minigrad.kernels.workspace import pack_buffer, workspace
from minigrad.reference import conv as reference_conv

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_float(name, array):
    if array.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"conv kernels: {name} must be float32 or float64, got {array.dtype}")


def _prepare(dtype, *arrays):
    return tuple(np.ascontiguousarray(a, dtype=dtype) for a in arrays)


def _bias_array(bias, dtype):
    if bias is None:
        return np.empty(0, dtype=dtype)
    return np.ascontiguousarray(bias, dtype=dtype).reshape(-1)


def _geometry(stride, padding, dilation):
    return tuple(map(int, stride)), tuple(map(int, padding)), tuple(map(int, dilation))


def _plan(x_shape, out_shape, weight_shape, dtype, groups, stride, padding, dilation, algorithm=None):
    return conv_plan.plan(dtype, tuple(x_shape), tuple(out_shape), tuple(weight_shape), int(groups), stride,
                          padding, dilation, algorithm)


def _sum_over_positions(grad_out):
    """dL/db (M,): grad_out (N, M, Do, Ho, Wo) summed over images and positions."""
    return grad_out.sum(axis=(0, 2, 3, 4))


# ---------------------------------------------------------------------------
# The kernel calls, one per algorithm: arrays checked and allocated, plan made
# ---------------------------------------------------------------------------

def _forward(plan, x, weight, bias, out, stride, dilation, groups):
    """out = conv(x, weight) + bias (bias: (M,) or empty) with the kernel of `plan`."""
    scratch = workspace(x.dtype, plan.workspace)
    if plan.algorithm == "depthwise":
        _depthwise.depthwise_forward(x, weight, bias, out, scratch, stride, plan.padding, dilation,
                                     plan.omp_threads)
    elif plan.algorithm == "implicit_gemm":
        _conv.implicit_gemm_forward(x, weight, bias, out, scratch, pack_buffer(plan.pack), stride, plan.padding,
                                    dilation, groups, plan.images, plan.omp_threads, plan.gemm_threads)
    elif plan.algorithm == "tap_broadcast":
        _conv.tap_broadcast_forward(x, weight, bias, out, scratch, stride, plan.padding, dilation, plan.chunks,
                                    plan.omp_threads)
    elif plan.algorithm == "winograd":
        if not _conv.winograd_forward(x, weight, bias, out, scratch, plan.padding, plan.omp_threads):
            _direct_forward(x, weight, bias, out, plan.padding)   # an inf or nan in x
    else:
        _conv.im2col_gemm_forward(x, weight, bias, out, scratch, pack_buffer(plan.pack), stride, plan.padding,
                                  dilation, groups, plan.images, plan.rows, plan.omp_threads, plan.gemm_threads)


def _direct_forward(x, weight, bias, out, padding):
    """out = conv(x, weight) + bias (3x3, stride 1, groups 1) on the implicit GEMM: where
    Winograd's transforms met an inf or a nan (they mix a whole patch, so they would put a
    nan where the direct sums give a number or an inf)."""
    geometry = ((1, 1, 1), padding, (1, 1, 1))
    plan = conv_plan._forward_plan("implicit_gemm", x.dtype, x.shape, out.shape, weight.shape, 1, *geometry,
                                   get_num_threads())
    _conv.implicit_gemm_forward(x, weight, bias, out, workspace(x.dtype, plan.workspace), pack_buffer(plan.pack),
                                geometry[0], padding, geometry[2], 1, plan.images, plan.omp_threads,
                                plan.gemm_threads)


def _input_grad(plan, grad_out, weight, bias, grad_in, stride, dilation, groups):
    """grad_in = conv's adjoint of grad_out (+ bias per channel of grad_in) with the kernel of `plan`."""
    if grad_out.size == 0:  # nothing flows back: bias (or zero) everywhere
        grad_in[...] = 0 if bias.size == 0 else bias.reshape(1, -1, 1, 1, 1)
        return
    scratch = workspace(grad_out.dtype, plan.workspace)
    if plan.algorithm == "depthwise":
        _depthwise.depthwise_input_grad(grad_out, weight, bias, grad_in, scratch, stride, plan.padding, dilation,
                                        plan.omp_threads)
    elif plan.algorithm == "implicit_gemm":
        # stride 1: a forward convolution of grad_out with the flipped, transposed
        # weights (plan.padding is its padding), on the implicit GEMM: no col2im
        _conv.implicit_gemm_forward(grad_out, conv_plan.adjoint_weight(weight, groups), bias, grad_in, scratch,
                                    pack_buffer(plan.pack), stride, plan.padding, dilation, groups,
                                    plan.images, plan.omp_threads, plan.gemm_threads)
    elif plan.algorithm == "tap_broadcast":     # the same adjoint forward, by broadcast taps
        _conv.tap_broadcast_forward(grad_out, conv_plan.adjoint_weight(weight, groups), bias, grad_in, scratch,
                                    stride, plan.padding, dilation, plan.chunks, plan.omp_threads)
    elif plan.algorithm == "winograd":          # the same adjoint forward, by Winograd F(2x2, 3x3)
        adjoint = conv_plan.adjoint_weight(weight, groups)
        if not _conv.winograd_forward(grad_out, adjoint, bias, grad_in, scratch, plan.padding, plan.omp_threads):
            _direct_forward(grad_out, adjoint, bias, grad_in, plan.padding)   # an inf or nan in grad_out
    else:
        _conv.col2im_gemm_input_grad(grad_out, weight, bias, grad_in, scratch, pack_buffer(plan.pack), stride,
                                     plan.padding, dilation, groups, plan.images, plan.rows, plan.omp_threads,
                                     plan.gemm_threads)


def _weight_grad(plan, x, grad_out, grad_weight, with_bias, stride, dilation, groups):
    """grad_weight = sum over images of grad_out x im2col(x) with the kernel of `plan`;
    returns the bias gradient (M,) when with_bias, else None."""
    M = grad_out.shape[1]
    if grad_weight.size == 0 or x.size == 0 or grad_out.size == 0:
        grad_weight[...] = 0
        return _sum_over_positions(grad_out) if with_bias else None
    scratch = workspace(x.dtype, plan.workspace)
    if plan.algorithm in ("implicit_gemm", "tap_broadcast"):
        # the bias gradient from the same pass: each image's grad_out summed over
        # positions while it is in cache, per chunk (bias_sums), then in chunk order
        grad_bias = np.empty(M if with_bias else 0, dtype=x.dtype)
        bias_sums = np.empty((plan.chunks, M) if with_bias else (0, 0), dtype=np.float64)
        if plan.algorithm == "implicit_gemm":
            _conv.implicit_gemm_weight_grad(x, grad_out, grad_weight, grad_bias, bias_sums, scratch,
                                            pack_buffer(plan.pack), stride, plan.padding, dilation, groups,
                                            plan.chunks, plan.omp_threads, plan.gemm_threads)
        else:
            _conv.tap_broadcast_weight_grad(x, grad_out, grad_weight, grad_bias, bias_sums, scratch, stride,
                                            plan.padding, dilation, plan.chunks, plan.omp_threads)
        return grad_bias if with_bias else None
    if plan.algorithm == "depthwise":
        _depthwise.depthwise_weight_grad(x, grad_out, grad_weight, scratch, stride, plan.padding, dilation,
                                         plan.chunks, plan.omp_threads)
    else:
        _conv.im2col_gemm_weight_grad(x, grad_out, grad_weight, scratch, stride, plan.padding, dilation, groups,
                                      plan.chunks, plan.images, plan.rows, plan.omp_threads)
    return _sum_over_positions(grad_out) if with_bias else None


def _depthwise_backward(plan, x, grad_out, weight, needs, stride, dilation):
    """(grad_x, grad_weight, grad_bias) of a depthwise convolution in one pass; None where not needed."""
    need_input, need_weight, need_bias = (bool(n) for n in needs)
    M = grad_out.shape[1]
    grad_in = np.empty(x.shape, dtype=x.dtype) if need_input else None
    grad_weight = np.empty(weight.shape, dtype=x.dtype) if need_weight else None
    grad_bias = np.empty(M, dtype=x.dtype) if need_bias else None
    if x.size == 0 or grad_out.size == 0:
        for grad in (grad_in, grad_weight, grad_bias):
            if grad is not None:
                grad[...] = 0
        return grad_in, grad_weight, grad_bias
    skipped = np.empty((0, 1, 1, 1, 1), dtype=x.dtype)      # size 0: the kernel skips that gradient
    _depthwise.depthwise_backward(x, grad_out, weight,
                                  grad_in if need_input else skipped,
                                  grad_weight if need_weight else skipped,
                                  grad_bias if need_bias else skipped.reshape(0),
                                  workspace(x.dtype, plan.workspace), stride, plan.padding, dilation,
                                  plan.chunks, plan.omp_threads)
    return grad_in, grad_weight, grad_bias


# ---------------------------------------------------------------------------
# The boundary
# ---------------------------------------------------------------------------

def conv_forward(x, weight, bias, stride, padding, dilation, output_size, groups, algorithm=None):
    """y (N, M, Do, Ho, Wo) = conv(x (N, C, D, H, W), weight (M, C/groups, kd, kh, kw)) + bias."""
    _check_float("x", x)
    x, weight = _prepare(x.dtype, x, weight)
    bias = _bias_array(bias, x.dtype)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    out = np.empty(x.shape[:1] + weight.shape[:1] + tuple(output_size), dtype=x.dtype)
    if out.size == 0:
        return out
    if reference.reference_kernels_enabled():
        conv_plan.is_direct(x.shape[1], groups, algorithm)     # the same check of `algorithm` as below
        return reference_conv.conv(x, weight, bias if bias.size else None, out.shape[2:], stride, padding,
                                   dilation, groups)
    plan = _plan(x.shape, out.shape, weight.shape, x.dtype, groups, stride, padding, dilation, algorithm)
    _forward(plan.forward, x, weight, bias, out, stride, dilation, groups)
    return out


def conv_input_grad(grad_out, weight, bias, stride, padding, dilation, input_shape, groups, algorithm=None):
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
    if reference.reference_kernels_enabled():
        conv_plan.is_direct(grad_in.shape[1], groups, algorithm)
        return reference_conv.conv_transpose(grad_out, weight, bias if bias.size else None, grad_in.shape[2:],
                                             stride, padding, dilation, groups)
    plan = _plan(grad_in.shape, grad_out.shape, weight.shape, grad_out.dtype, groups, stride, padding, dilation,
                 algorithm)
    _input_grad(plan.input_grad, grad_out, weight, bias, grad_in, stride, dilation, groups)
    return grad_in


def conv_weight_grad(x, grad_out, kernel_size, stride, padding, dilation, groups, algorithm=None,
                     with_bias=False):
    """grad_weight (M, C/groups, kd, kh, kw) = sum over the batch of grad_out x im2col(x).

    with_bias: return (grad_weight, grad_bias), grad_bias (M,) the sum of
    grad_out over images and positions.
    """
    _check_float("x", x)
    x, grad_out = _prepare(x.dtype, x, grad_out)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    weight_shape = grad_out.shape[1:2] + (x.shape[1] // groups,) + tuple(kernel_size)
    if reference.reference_kernels_enabled():
        conv_plan.is_direct(x.shape[1], groups, algorithm)
        grad_weight = reference_conv.conv_weight_grad(x, grad_out, tuple(kernel_size), stride, padding, dilation,
                                                      groups)
        return (grad_weight, _sum_over_positions(grad_out)) if with_bias else grad_weight
    grad_weight = np.empty(weight_shape, dtype=x.dtype)
    plan = _plan(x.shape, grad_out.shape, weight_shape, x.dtype, groups, stride, padding, dilation, algorithm)
    grad_bias = _weight_grad(plan.weight_grad, x, grad_out, grad_weight, with_bias, stride, dilation, groups)
    return (grad_weight, grad_bias) if with_bias else grad_weight


def conv_backward(x, weight, grad_out, stride, padding, dilation, groups, needs=(True, True, True)):
    """(grad_x, grad_weight, grad_bias) of y = conv(x, weight) + bias for dL/dy = grad_out.

    x (N, C, D, H, W), weight (M, C/groups, kd, kh, kw), grad_out (N, M, Do, Ho, Wo);
    needs: which of the three to compute (the others come back as None).
    One plan serves all three products; a depthwise convolution computes
    them in one pass over the (image, channel) planes.
    """
    _check_float("x", x)
    x, weight, grad_out = _prepare(x.dtype, x, weight, grad_out)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    need_input, need_weight, need_bias = (bool(n) for n in needs)
    if reference.reference_kernels_enabled():
        return (reference_conv.conv_input_grad(grad_out, weight, x.shape, stride, padding, dilation, groups)
                if need_input else None,
                reference_conv.conv_weight_grad(x, grad_out, weight.shape[2:], stride, padding, dilation, groups)
                if need_weight else None,
                _sum_over_positions(grad_out) if need_bias else None)
    plan = _plan(x.shape, grad_out.shape, weight.shape, x.dtype, groups, stride, padding, dilation)
    if plan.backward is not None:
        return _depthwise_backward(plan.backward, x, grad_out, weight, needs, stride, dilation)
    grad_x = grad_weight = grad_bias = None
    if need_input:
        grad_x = np.empty(x.shape, dtype=x.dtype)
        if grad_x.size:
            _input_grad(plan.input_grad, grad_out, weight, _bias_array(None, x.dtype), grad_x, stride, dilation,
                        groups)
    if need_weight:
        grad_weight = np.empty(weight.shape, dtype=x.dtype)
        grad_bias = _weight_grad(plan.weight_grad, x, grad_out, grad_weight, need_bias, stride, dilation, groups)
    elif need_bias:
        grad_bias = _sum_over_positions(grad_out)
    return grad_x, grad_weight, grad_bias


def conv_transpose_backward(x, weight, grad_out, stride, padding, dilation, groups, needs=(True, True, True)):
    """(grad_x, grad_weight, grad_bias) of y = conv_transpose(x, weight) + bias for dL/dy = grad_out.

    As a convolution from y's shape to x's: its input is grad_out (N, Cout, *),
    its output x (N, Cin, *), its weight `weight` (Cin, Cout/groups, *kernel). So
    grad_x is that convolution's forward pass of grad_out, and grad_weight its
    weight gradient with input grad_out and output gradient x.
    """
    _check_float("x", x)
    x, weight, grad_out = _prepare(x.dtype, x, weight, grad_out)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    need_input, need_weight, need_bias = (bool(n) for n in needs)
    grad_bias = _sum_over_positions(grad_out) if need_bias else None
    if reference.reference_kernels_enabled():
        return (reference_conv.conv(grad_out, weight, None, x.shape[2:], stride, padding, dilation, groups)
                if need_input else None,
                reference_conv.conv_weight_grad(grad_out, x, weight.shape[2:], stride, padding, dilation, groups)
                if need_weight else None,
                grad_bias)
    plan = _plan(grad_out.shape, x.shape, weight.shape, x.dtype, groups, stride, padding, dilation)
    grad_x = grad_weight = None
    if need_input:
        grad_x = np.empty(x.shape, dtype=x.dtype)
        if grad_x.size:
            _forward(plan.forward, grad_out, weight, _bias_array(None, x.dtype), grad_x, stride, dilation, groups)
    if need_weight:
        grad_weight = np.empty(weight.shape, dtype=x.dtype)
        _weight_grad(plan.weight_grad, grad_out, x, grad_weight, False, stride, dilation, groups)
    return grad_x, grad_weight, grad_bias


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
    N, C = x.shape[:2]
    M = grad_out.shape[1]
    if weight.shape[:2] != (M, 1) or M % C:
        raise ValueError(f"depthwise_backward: expected weight ({M}, 1, kd, kh, kw) with {M} a multiple "
                         f"of C={C}, got weight of shape {weight.shape}")
    if reference.reference_kernels_enabled():
        return conv_backward(x, weight, grad_out, stride, padding, dilation, C, needs)
    plan = _plan(x.shape, grad_out.shape, weight.shape, x.dtype, C, stride, padding, dilation, "direct")
    return _depthwise_backward(plan.backward, x, grad_out, weight, needs, stride, dilation)


def im2col(x, output_size, kernel_size, stride, padding, dilation):
    """x (N, C, D, H, W) -> columns (N, C*kd*kh*kw, Do*Ho*Wo)."""
    _check_float("x", x)
    (x,) = _prepare(x.dtype, x)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    output_size, kernel_size = tuple(map(int, output_size)), tuple(map(int, kernel_size))
    if reference.reference_kernels_enabled():
        return reference_conv.im2col(x, output_size, kernel_size, stride, padding, dilation)
    N, C = x.shape[:2]
    columns = np.empty((N, C * math.prod(kernel_size), math.prod(output_size)), dtype=x.dtype)
    if columns.size and x.size:
        _conv.im2col(x, columns, output_size, kernel_size, stride, padding, dilation, get_num_threads())
    else:
        columns[...] = 0
    return columns


def col2im(columns, input_shape, output_size, kernel_size, stride, padding, dilation):
    """Adjoint of im2col: columns (N, C*K, P) summed back into an (input_shape) array."""
    _check_float("columns", columns)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    output_size, kernel_size = tuple(map(int, output_size)), tuple(map(int, kernel_size))
    N, C = input_shape[:2]
    K, P = math.prod(kernel_size), math.prod(output_size)
    if columns.shape != (N, C * K, P):
        raise ValueError(f"col2im: columns have shape {columns.shape}, expected {(N, C * K, P)}")
    if reference.reference_kernels_enabled():
        return reference_conv.col2im(columns, tuple(input_shape), output_size, kernel_size, stride, padding,
                                     dilation)
    columns = np.array(columns, order="C")    # a copy: the kernel zeroes the entries it skips
    x = np.zeros(tuple(input_shape), dtype=columns.dtype)
    if columns.size and x.size:
        _conv.col2im(columns, x, output_size, kernel_size, stride, padding, dilation, get_num_threads())
    return x


def pack_columns(x, output_size, kernel_size, stride, padding, dilation, rows, columns,
                 transposed=False):
    """The implicit GEMM's packed block, for tests and teaching: B = im2col(x)
    (C*K, P) of one image x (1, C, D, H, W), or with `transposed` B =
    im2col(x)^T (P, C*K); rows and columns: ranges (slices with a start and stop) of B.
    Returns the panels (ceil(columns / NR), rows, NR) the GEMM reads
    (minigrad/reference/gemm.py's pack_b of that block), NR the current path's
    panel width (gemm.tile()[1]: 32 AVX-512, 16 AVX2, 8 generic). float32,
    own GEMM only."""
    if not conv_plan.uses_own_gemm(np.dtype(np.float32)):
        raise RuntimeError("pack_columns: the implicit GEMM needs minigrad's own GEMM "
                           "(MINIGRAD_GEMM=blas turns it off)")
    x = np.ascontiguousarray(x, dtype=np.float32)
    stride, padding, dilation = _geometry(stride, padding, dilation)
    output_size, kernel_size = tuple(map(int, output_size)), tuple(map(int, kernel_size))
    C, K, P = x.shape[1], math.prod(kernel_size), math.prod(output_size)
    height, width = (P, C * K) if transposed else (C * K, P)
    p0, p1 = rows.start, rows.stop
    j0, j1 = columns.start, columns.stop
    if x.shape[0] != 1 or not (0 <= p0 < p1 <= height and 0 <= j0 < j1 <= width) or p1 - p0 > 256:
        raise ValueError(f"pack_columns: expected one image and a block of at most 256 rows inside "
                         f"B ({height}, {width}), got x {x.shape}, rows {rows}, columns {columns}")
    nr = gemm.tile()[1]
    panels = np.empty((-(-(j1 - j0) // nr), p1 - p0, nr), dtype=np.float32)
    scratch = np.empty(_conv.padded_image_size(x.shape, (1, 1) + output_size, kernel_size, stride,
                                               padding, dilation), dtype=np.float32)
    _conv.pack_columns(x, output_size, kernel_size, stride, padding, dilation, p0, p1 - p0, j0,
                       j1 - j0, transposed, scratch,
                       panels.reshape(-1))
    return panels
