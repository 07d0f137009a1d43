# cython: language_level=3
"""Depthwise convolution kernels (groups == C): direct loops, no im2col.

Every array is N-d with three spatial axes (D, H, W), as in csrc/conv.pyx
(whose Geometry this module shares, csrc/conv_geometry.pxd):

    input          x       (N, C, D, H, W)
    weight         w       (M, 1, kd, kh, kw)      M = C * mult
    output         y       (N, M, Do, Ho, Wo)      output channel m reads input channel m // mult

A handful of multiply-adds per output does not make a good GEMM, so these are
direct loops, vectorised along rows: float32 2-d planes run csrc/depthwise.h
(explicit vectors, one variant per instruction-set path, chosen at every
call), everything else (float64, 3-d, other strides) the Cython loops below.

Parallel loops run over (image, channel) planes or over fixed chunks of them:
each output element has exactly one writer, and every sum is done in a fixed
order, so results are bitwise identical for any thread count. Scratch memory
is a workspace array the caller (minigrad/kernels/conv.py) owns and reuses:
one slice per thread, so no kernel allocates.

Reference: minigrad/reference/conv.py (conv, conv_input_grad and
conv_weight_grad with groups == C).
"""
from cython.parallel cimport parallel, prange
from libc.stddef cimport ptrdiff_t
from libc.string cimport memset

from cython cimport floating

from conv_geometry cimport Geometry, fill, geometry_from_tuples, input_row, make_geometry, valid_range
from omp_compat cimport omp_get_thread_num


# Row operations on one output row of Wo entries and the input row it reads
# (every stride-th element). Plain-local arguments let the compiler
# vectorise the stride-1 loops.

cdef inline void gather_axpy_row(floating* dst, floating a, const floating* src, Py_ssize_t n,
                                 Py_ssize_t stride) noexcept nogil:
    """dst[i] += a * src[i*stride]"""
    cdef Py_ssize_t i
    if stride == 1:
        for i in range(n):
            dst[i] = dst[i] + a * src[i]
    else:
        for i in range(n):
            dst[i] = dst[i] + a * src[i * stride]


cdef inline void scatter_axpy_row(floating* dst, floating a, const floating* src, Py_ssize_t n,
                                  Py_ssize_t stride) noexcept nogil:
    """dst[i*stride] += a * src[i]"""
    cdef Py_ssize_t i
    if stride == 1:
        for i in range(n):
            dst[i] = dst[i] + a * src[i]
    else:
        for i in range(n):
            dst[i * stride] = dst[i * stride] + a * src[i]


cdef inline void product_add_row(floating* acc, const floating* a, const floating* b, Py_ssize_t n,
                                 Py_ssize_t stride) noexcept nogil:
    """acc[i] += a[i] * b[i*stride]"""
    cdef Py_ssize_t i
    if stride == 1:
        for i in range(n):
            acc[i] = acc[i] + a[i] * b[i]
    else:
        for i in range(n):
            acc[i] = acc[i] + a[i] * b[i * stride]


# ---------------------------------------------------------------------------
# Depthwise: each input channel c has its own filters (groups == C,
# weight (M, 1, kd, kh, kw), output channel m reads input channel m // mult).
# A handful of multiply-adds per output: direct loops beat tiny GEMMs.
# The innermost loops run along a row with stride 1 where possible, so the
# compiler vectorises them.
# ---------------------------------------------------------------------------

cdef void depthwise_forward_plane(const floating* x, const floating* w, floating* y,
                                  const Geometry* g) noexcept nogil:
    """y (Do, Ho, Wo) += x (D, H, W) correlated with one filter w (K,), tap by tap."""
    cdef Py_ssize_t a, b, c, od, oh, iw0, lo, hi, start
    cdef Py_ssize_t Wo = g.Wo, sw = g.sw
    cdef floating wv
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                wv = w[(a * g.kh + b) * g.kw + c]
                iw0 = c * g.dw - g.pw
                valid_range(iw0, sw, g.W, Wo, &lo, &hi)
                for od in range(g.Do):
                    for oh in range(g.Ho):
                        start = input_row(g, a, b, od, oh)
                        if start >= 0:
                            gather_axpy_row(y + (od * g.Ho + oh) * Wo + lo, wv,
                                            x + start + iw0 + lo * sw, hi - lo, sw)


cdef void depthwise_input_grad_plane(const floating* gy, const floating* w, floating* gx,
                                     const Geometry* g) noexcept nogil:
    """gx (D, H, W) += gy (Do, Ho, Wo) scattered back through one filter w (K,)."""
    cdef Py_ssize_t a, b, c, od, oh, iw0, lo, hi, start
    cdef Py_ssize_t Wo = g.Wo, sw = g.sw
    cdef floating wv
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                wv = w[(a * g.kh + b) * g.kw + c]
                iw0 = c * g.dw - g.pw
                valid_range(iw0, sw, g.W, Wo, &lo, &hi)
                for od in range(g.Do):
                    for oh in range(g.Ho):
                        start = input_row(g, a, b, od, oh)
                        if start >= 0:
                            scatter_axpy_row(gx + start + iw0 + lo * sw, wv,
                                             gy + (od * g.Ho + oh) * Wo + lo, hi - lo, sw)


cdef void depthwise_weight_grad_plane(const floating* x, const floating* gy, floating* sums,
                                      const Geometry* g) noexcept nogil:
    """sums (K, Wo) += products of gy (Do, Ho, Wo) with x (D, H, W) seen through each tap.

    Row k of sums, added up, is this plane's contribution to filter weight k.
    """
    cdef Py_ssize_t a, b, c, od, oh, iw0, lo, hi, start
    cdef Py_ssize_t Wo = g.Wo, sw = g.sw
    cdef floating* acc
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                acc = sums + ((a * g.kh + b) * g.kw + c) * Wo
                iw0 = c * g.dw - g.pw
                valid_range(iw0, sw, g.W, Wo, &lo, &hi)
                for od in range(g.Do):
                    for oh in range(g.Ho):
                        start = input_row(g, a, b, od, oh)
                        if start >= 0:
                            product_add_row(acc + lo, gy + (od * g.Ho + oh) * Wo + lo,
                                            x + start + iw0 + lo * sw, hi - lo, sw)


# With stride 1 on every axis (the common case) there is a faster way:
# zero-pad the input plane once into scratch (Dp, Hp, Wp), so that no read
# needs a bounds check, then compute 16 outputs of a row at a time with all
# K taps added in registers (correlate_rows). The input gradient is the same
# operation on the padded output gradient with the filter flipped
# (adjoint_geometry), and the weight gradient the same loop accumulating
# products instead (correlate_rows_weight_grad).
#
# In float32, 2-d (and 1-d) planes go to the same loops written in C with
# explicit vectors (csrc/depthwise.h), compiled for AVX-512 (16 floats per
# register), AVX2+FMA (8) and SSE2/NEON (4): faster than what the compiler
# vectorises of the Cython loops.
# Training calls depthwise_backward (at the end of this section): all three
# gradients in one pass over the planes.

cdef extern from "depthwise.h" nogil:
    const int DEPTHWISE_SLACK
    const int DEPTHWISE_MAX_TAPS
    const int DEPTHWISE_SUM_LANES
    int minigrad_depthwise_available()
    void depthwise_correlate_f32(float* out, const float* padded, const float* w, float bias,
                                 int flip, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                 ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,
                                 ptrdiff_t dh, ptrdiff_t dw)
    int depthwise_weight_grad_f32(const float* gy, const float* padded, float* sums, ptrdiff_t Ho,
                                   ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                   ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)

cdef bint VECTOR_DEPTHWISE = minigrad_depthwise_available()


cdef inline bint planar(const Geometry* g) noexcept nogil:
    """A 2-d (or 1-d) plane, one depth slice in and out, and not too many taps:
    depthwise.h's row loops apply."""
    return g.D == 1 and g.Do == 1 and g.kd == 1 and g.K <= DEPTHWISE_MAX_TAPS


cdef inline bint vector_stride2(const Geometry* g) noexcept nogil:
    """Stride 2 along rows (any stride down columns): only depthwise.h's float32
    loops take it (forward and weight gradient), on a plane padded like the
    stride-1 case."""
    return VECTOR_DEPTHWISE and planar(g) and g.sw == 2


cdef inline Py_ssize_t padded_extent(Py_ssize_t out_size, Py_ssize_t kernel, Py_ssize_t stride,
                                     Py_ssize_t dilation) noexcept nogil:
    """Input positions that `out_size` outputs read along one axis, padding included."""
    return max(0, (out_size - 1) * stride + (kernel - 1) * dilation + 1)


cdef inline Py_ssize_t padded_plane_size(const Geometry* g) noexcept nogil:
    """Dp*Hp*Wp: the input plane padded so that the conv gives (Do, Ho, Wo) with no bounds checks."""
    return (padded_extent(g.Do, g.kd, g.sd, g.dd) * padded_extent(g.Ho, g.kh, g.sh, g.dh)
            * padded_extent(g.Wo, g.kw, g.sw, g.dw))


cdef void pad_plane(const floating* x, floating* padded, const Geometry* g) noexcept nogil:
    """x (D, H, W) -> padded (Dp, Hp, Wp) with x at offset (pd, ph, pw), zeros around,
    and DEPTHWISE_SLACK zeros after it (depthwise.h's last blocks read into them).

    Parts of x beyond the padded extent (which no output reads) are left out.
    """
    cdef Py_ssize_t Dp = padded_extent(g.Do, g.kd, g.sd, g.dd)
    cdef Py_ssize_t Hp = padded_extent(g.Ho, g.kh, g.sh, g.dh)
    cdef Py_ssize_t Wp = padded_extent(g.Wo, g.kw, g.sw, g.dw)
    cdef Py_ssize_t id_, ih, i, stop = g.W
    cdef floating* dst
    cdef const floating* src
    memset(padded, 0, (Dp * Hp * Wp + DEPTHWISE_SLACK) * sizeof(floating))
    if g.pw + stop > Wp:
        stop = Wp - g.pw
    for id_ in range(g.D):
        if g.pd + id_ >= Dp:
            break
        for ih in range(g.H):
            if g.ph + ih >= Hp:
                break
            # rows are short (tens of floats): a loop the compiler vectorises
            # beats a memcpy call per row
            dst = padded + ((g.pd + id_) * Hp + g.ph + ih) * Wp + g.pw
            src = x + (id_ * g.H + ih) * g.W
            for i in range(stop):
                dst[i] = src[i]


cdef void correlate_rows(floating* out, const floating* padded, const floating* w, floating bias,
                         bint flip, bint accumulate, const Geometry* g) noexcept nogil:
    """out (Do, Ho, Wo) (+)= bias + sum_k w[k] * padded[position + offset(k)], stride 1.

    padded is the zero-padded input plane (Dp, Hp, Wp). flip=True uses the
    filter reversed on every axis (w[K-1-k]); accumulate=True adds to out
    instead of starting from bias. 16 outputs of a row at a time, kept in a
    small local array that the compiler holds in vector registers while all
    K taps are added in, so each output is loaded and stored once; the last
    Wo % 16 outputs of a row one at a time.
    """
    cdef floating acc[16]
    cdef floating total
    cdef floating first = 0 if accumulate else bias
    cdef Py_ssize_t kd = g.kd, kh = g.kh, kw = g.kw, dd = g.dd, dh = g.dh, dw = g.dw, K = g.K
    cdef Py_ssize_t Ho = g.Ho, Wo = g.Wo, Hp = g.Ho + (kh - 1) * dh, Wp = g.Wo + (kw - 1) * dw
    cdef Py_ssize_t full = Wo - Wo % 16
    cdef Py_ssize_t od, oh, start, j, a, b, c, k
    cdef floating* row
    cdef const floating* src
    cdef const floating* base
    cdef floating wk
    if floating is float:
        if VECTOR_DEPTHWISE and planar(g):
            depthwise_correlate_f32(out, padded, w, bias, flip, accumulate, Ho, Wo,
                                    padded_extent(Wo, kw, g.sw, dw), kh, kw, g.sh, g.sw, dh, dw)
            return
    for od in range(g.Do):
        for oh in range(Ho):
            row = out + (od * Ho + oh) * Wo
            base = padded + (od * Hp + oh) * Wp
            for start in range(0, full, 16):
                for j in range(16):
                    acc[j] = first
                k = 0
                for a in range(kd):
                    for b in range(kh):
                        src = base + (a * dd * Hp + b * dh) * Wp + start
                        for c in range(kw):
                            wk = w[K - 1 - k] if flip else w[k]
                            for j in range(16):
                                acc[j] = acc[j] + wk * src[j]
                            src = src + dw
                            k = k + 1
                # (A branch on `accumulate` inside the tap loops, or loading
                # acc from row, would keep acc out of registers.)
                if accumulate:
                    for j in range(16):
                        row[start + j] = row[start + j] + acc[j]
                else:
                    for j in range(16):
                        row[start + j] = acc[j]
            for start in range(full, Wo):
                total = row[start] if accumulate else bias
                k = 0
                for a in range(kd):
                    for b in range(kh):
                        src = base + (a * dd * Hp + b * dh) * Wp + start
                        for c in range(kw):
                            total = total + (w[K - 1 - k] if flip else w[k]) * src[c * dw]
                            k = k + 1
                row[start] = total


cdef void correlate_rows_weight_grad(const floating* gy, const floating* padded, floating* sums,
                                     const Geometry* g) noexcept nogil:
    """sums[k*16 + j] += gy * padded seen through tap k, over every output row (stride 1).

    The weight gradient of one (image, filter) plane, tap by tap: 16
    interleaved partial sums held in registers (a local array the compiler
    vectorises), in a fixed order. The last Wo % 16 outputs of each row go
    to lane 0.
    """
    cdef floating acc[16]
    cdef floating total
    cdef Py_ssize_t kd = g.kd, kh = g.kh, kw = g.kw, dd = g.dd, dh = g.dh, dw = g.dw
    cdef Py_ssize_t Do = g.Do, Ho = g.Ho, Wo = g.Wo, Hp = g.Ho + (kh - 1) * dh, Wp = g.Wo + (kw - 1) * dw
    cdef Py_ssize_t full = Wo - Wo % 16
    cdef Py_ssize_t od, oh, start, j, a, b, c, k = 0
    cdef const floating* row
    cdef const floating* src
    if floating is float:
        if VECTOR_DEPTHWISE and planar(g):
            depthwise_weight_grad_f32(gy, padded, sums, Ho, Wo, padded_extent(Wo, kw, g.sw, dw), kh, kw,
                                      g.sh, g.sw, dh, dw, False)
            return
    for a in range(kd):
        for b in range(kh):
            for c in range(kw):
                for j in range(16):
                    acc[j] = 0
                total = 0
                for od in range(Do):
                    for oh in range(Ho):
                        row = gy + (od * Ho + oh) * Wo
                        src = padded + ((od + a * dd) * Hp + oh + b * dh) * Wp + c * dw
                        for start in range(0, full, 16):
                            for j in range(16):
                                acc[j] = acc[j] + row[start + j] * src[start + j]
                        for start in range(full, Wo):
                            total = total + row[start] * src[start]
                for j in range(16):
                    sums[k * 16 + j] = sums[k * 16 + j] + acc[j]
                sums[k * 16] = sums[k * 16] + total
                k = k + 1


cdef Geometry adjoint_geometry(const Geometry* g) noexcept nogil:
    """The input gradient as a stride-1 convolution: of the output gradient,
    spread out by the stride (stride - 1 zeros between entries: (Do-1)*sd + 1
    positions, ...; nothing to spread with stride 1), with the flipped filter,
    padded by dilation*(kernel-1) - padding, mapping back to (D, H, W). Its
    geometry (channels kept as they are); spread_plane builds its input."""
    cdef Geometry t = g[0]
    t.D, t.H, t.W = (g.Do - 1) * g.sd + 1, (g.Ho - 1) * g.sh + 1, (g.Wo - 1) * g.sw + 1
    t.Do, t.Ho, t.Wo = g.D, g.H, g.W
    t.sd, t.sh, t.sw = 1, 1, 1
    t.pd = g.dd * (g.kd - 1) - g.pd
    t.ph = g.dh * (g.kh - 1) - g.ph
    t.pw = g.dw * (g.kw - 1) - g.pw
    t.S, t.P = t.D * t.H * t.W, g.S
    return t


cdef void spread_plane(const floating* gy, floating* padded, const Geometry* adjoint,
                       const Geometry* g) noexcept nogil:
    """One output-gradient plane gy (Do, Ho, Wo) of g -> the padded input plane
    of its adjoint (stride-1) convolution: gy[od, oh, ow] at position
    (od*sd, oh*sh, ow*sw) + the adjoint's padding, zeros everywhere else."""
    cdef Py_ssize_t Dp, Hp, Wp, od, oh, ow, row
    if unit_stride(g):
        pad_plane(gy, padded, adjoint)
        return
    Dp = padded_extent(adjoint.Do, g.kd, 1, g.dd)
    Hp = padded_extent(adjoint.Ho, g.kh, 1, g.dh)
    Wp = padded_extent(adjoint.Wo, g.kw, 1, g.dw)
    memset(padded, 0, (Dp * Hp * Wp + DEPTHWISE_SLACK) * sizeof(floating))
    for od in range(g.Do):
        if adjoint.pd + od * g.sd >= Dp:
            break
        for oh in range(g.Ho):
            if adjoint.ph + oh * g.sh >= Hp:
                break
            row = ((adjoint.pd + od * g.sd) * Hp + adjoint.ph + oh * g.sh) * Wp + adjoint.pw
            for ow in range(g.Wo):
                if adjoint.pw + ow * g.sw >= Wp:
                    break
                padded[row + ow * g.sw] = gy[(od * g.Ho + oh) * g.Wo + ow]


cdef inline bint unit_stride(const Geometry* g) noexcept nogil:
    return g.sd == 1 and g.sh == 1 and g.sw == 1


cdef Py_ssize_t scratch_per_thread(const Geometry* g) noexcept nogil:
    """Scratch one thread needs in the depthwise kernels: a padded plane (of
    the forward's or the adjoint's geometry, whichever is larger) and its slack."""
    cdef Geometry adjoint = adjoint_geometry(g)
    return max(padded_plane_size(g), padded_plane_size(&adjoint)) + DEPTHWISE_SLACK


def depthwise_scratch_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride,
                           tuple dilation):
    """Elements of scratch one thread needs in the depthwise kernels."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, (0, 0, 0), dilation)
    return scratch_per_thread(&g)


# The steps whose workspace layouts differ (depthwise_workspace_size's `step`)
cdef dict WORKSPACE_STEPS = {"forward": 0, "input_grad": 0, "weight_grad": 1, "backward": 2}


cdef Py_ssize_t workspace_elements(const Geometry* g, int step, Py_ssize_t chunks,
                                   Py_ssize_t num_threads) noexcept nogil:
    """The workspace layout of the kernels: padded planes per thread (two for
    the backward pass), then the chunks' partial sums: (M, K, lanes) weight
    sums, lanes = 16 or Wo per tap (max(Wo, 16) reserved), and for the
    backward pass (M, 16) bias sums."""
    cdef Py_ssize_t per_thread = scratch_per_thread(g), lanes = max(g.Wo, 16)
    if step == 0:                    # forward, input_grad
        return num_threads * per_thread
    if step == 1:                    # weight_grad
        return num_threads * per_thread + chunks * g.M * g.K * lanes
    return num_threads * 2 * per_thread + chunks * g.M * (g.K * lanes + 16)


def depthwise_workspace_size(str step, tuple input_shape, tuple output_shape, tuple kernel, tuple stride,
                             tuple dilation, Py_ssize_t chunks, Py_ssize_t num_threads):
    """Elements of workspace the kernel of `step` ("forward", "input_grad",
    "weight_grad", "backward") needs with `num_threads` threads and `chunks`
    chunks of partial sums (ignored by forward and input_grad)."""
    if step not in WORKSPACE_STEPS:
        raise ValueError(f"depthwise_workspace_size: step must be one of {tuple(WORKSPACE_STEPS)}, got {step!r}")
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, (0, 0, 0), dilation)
    return workspace_elements(&g, WORKSPACE_STEPS[step], chunks, num_threads)


cdef int check_workspace(str kernel, Py_ssize_t length, const Geometry* g, int step, Py_ssize_t chunks,
                         Py_ssize_t num_threads) except -1:
    """Raise ValueError, before any work, where the workspace is shorter than the kernel's layout."""
    cdef Py_ssize_t needed = workspace_elements(g, step, chunks, num_threads)
    if num_threads < 1 or chunks < 1:
        raise ValueError(f"{kernel}: num_threads and chunks must be >= 1, got {num_threads} and {chunks}")
    if length < needed:
        raise ValueError(f"{kernel}: workspace has {length} elements, needs {needed} "
                         f"(depthwise_workspace_size)")
    return 0


def depthwise_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] weight,
                      const floating[::1] bias, floating[:, :, :, :, ::1] out, floating[::1] workspace,
                      tuple stride, tuple padding, tuple dilation, int num_threads):
    """out[n, m] = sum_k weight[m, 0, k] * x[n, m // mult] shifted by k (+ bias[m]).

    Parallel over (image, input channel): each thread pads that input plane
    once and computes its `mult` output planes.
    workspace: num_threads * depthwise_scratch_size(...) elements.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], mult = g.M // g.C, plane, m, n, c, k, tid
    check_workspace("depthwise_forward", workspace.shape[0], &g, 0, 1, num_threads)
    cdef Py_ssize_t scratch_size = scratch_per_thread(&g)
    cdef bint has_bias = bias.shape[0] > 0
    cdef bint fast = unit_stride(&g) or (floating is float and vector_stride2(&g))
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* yp = &out[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* padded

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        padded = ws + tid * scratch_size
        for plane in prange(N * g.C, schedule="static"):
            n = plane // g.C
            c = plane % g.C
            if fast:
                pad_plane(xp + plane * g.S, padded, &g)
            for m in range(c * mult, (c + 1) * mult):
                if fast:
                    correlate_rows(yp + (n * g.M + m) * g.P, padded, wp + m * g.K,
                                   bp[m] if has_bias else 0, False, False, &g)
                else:
                    fill(yp + (n * g.M + m) * g.P, g.P, bp[m] if has_bias else 0)
                    depthwise_forward_plane(xp + plane * g.S, wp + m * g.K, yp + (n * g.M + m) * g.P, &g)


def depthwise_input_grad(const floating[:, :, :, :, ::1] grad_out, const floating[:, :, :, :, ::1] weight,
                         const floating[::1] bias, floating[:, :, :, :, ::1] grad_in,
                         floating[::1] workspace, tuple stride, tuple padding, tuple dilation,
                         int num_threads):
    """grad_in[n, c] = sum over its mult filters of the scattered grad_out (+ bias[c]).

    Parallel over (image, input channel): one writer per grad_in plane. Also
    the forward pass of a transposed depthwise convolution. Where the padding
    allows (adjoint_geometry), it is the stride-1 forward kernel run on
    grad_out, spread out by the stride, with flipped filters.
    workspace: num_threads * depthwise_scratch_size(...) elements.
    """
    cdef Geometry g = make_geometry(&grad_in.shape[0], &grad_out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Geometry adjoint = adjoint_geometry(&g)
    cdef Py_ssize_t N = grad_in.shape[0], mult = g.M // g.C, plane, m, n, c, tid
    check_workspace("depthwise_input_grad", workspace.shape[0], &g, 0, 1, num_threads)
    cdef Py_ssize_t scratch_size = scratch_per_thread(&g)
    cdef bint has_bias = bias.shape[0] > 0
    cdef bint fast = adjoint.pd >= 0 and adjoint.ph >= 0 and adjoint.pw >= 0
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* gxp = &grad_in[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* padded

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        padded = ws + tid * scratch_size
        for plane in prange(N * g.C, schedule="static"):
            n = plane // g.C
            c = plane % g.C
            if fast:
                for m in range(c * mult, (c + 1) * mult):
                    spread_plane(gyp + (n * g.M + m) * g.P, padded, &adjoint, &g)
                    correlate_rows(gxp + plane * g.S, padded, wp + m * g.K, bp[c] if has_bias else 0,
                                   True, m > c * mult, &adjoint)
            else:
                fill(gxp + plane * g.S, g.S, bp[c] if has_bias else 0)
                for m in range(c * mult, (c + 1) * mult):
                    depthwise_input_grad_plane(gyp + (n * g.M + m) * g.P, wp + m * g.K,
                                               gxp + plane * g.S, &g)


def depthwise_weight_grad(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                          floating[:, :, :, :, ::1] grad_weight, floating[::1] workspace,
                          tuple stride, tuple padding, tuple dilation, int chunks, int num_threads):
    """grad_weight[m, 0, k] = sum over images and positions of grad_out * shifted x.

    The batch is cut into `chunks` fixed ranges (independent of the thread
    count); each chunk walks its planes in memory order and adds into its
    own partial sums, (M, K, width) with `width` interleaved lanes per tap:
    16 with stride 1 (correlate_rows_weight_grad), else Wo
    (depthwise_weight_grad_plane). The partials are then added in a fixed
    order: the same result for any number of threads.
    workspace: num_threads * depthwise_scratch_size(...) + chunks * M * K * max(Wo, 16).
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0],
                                    &grad_weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], mult = g.M // g.C, n, m, c, k, j, tid, chunk, first, stop
    check_workspace("depthwise_weight_grad", workspace.shape[0], &g, 1, chunks, num_threads)
    cdef Py_ssize_t scratch_size = scratch_per_thread(&g)
    cdef bint fast = unit_stride(&g) or (floating is float and vector_stride2(&g))
    cdef Py_ssize_t width = DEPTHWISE_SUM_LANES if fast else g.Wo       # partial sums per tap
    cdef Py_ssize_t partial_size = g.M * g.K * width
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* partials = ws + num_threads * scratch_size
    cdef floating* padded
    cdef floating* partial

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        padded = ws + tid * scratch_size
        for chunk in prange(chunks, schedule="static"):
            first = chunk * N // chunks
            stop = (chunk + 1) * N // chunks
            partial = partials + chunk * partial_size
            memset(partial, 0, partial_size * sizeof(floating))
            for n in range(first, stop):
                for c in range(g.C):
                    if fast:
                        pad_plane(xp + (n * g.C + c) * g.S, padded, &g)
                    for m in range(c * mult, (c + 1) * mult):
                        if fast:
                            correlate_rows_weight_grad(gyp + (n * g.M + m) * g.P, padded,
                                                       partial + m * g.K * width, &g)
                        else:
                            depthwise_weight_grad_plane(xp + (n * g.C + c) * g.S, gyp + (n * g.M + m) * g.P,
                                                        partial + m * g.K * width, &g)

    sum_weight_partials(partials, chunks, partial_size, width, gwp, &g, num_threads)


cdef void sum_weight_partials(const floating* partials, Py_ssize_t chunks, Py_ssize_t partial_size,
                              Py_ssize_t width, floating* grad_weight, const Geometry* g,
                              int num_threads) noexcept nogil:
    """grad_weight[m, k] = the sum, in chunk order, of the `width` lanes of each
    chunk's partial sums partials[chunk][m, k, :] (in double): the same result
    for any number of threads."""
    cdef Py_ssize_t m, k, chunk, j
    cdef double total
    for m in prange(g.M, schedule="static", num_threads=num_threads):
        for k in range(g.K):
            total = 0
            for chunk in range(chunks):
                for j in range(width):
                    total = total + partials[chunk * partial_size + (m * g.K + k) * width + j]
            grad_weight[m * g.K + k] = <floating>total


cdef inline void add_lanes(const floating* x, Py_ssize_t n, floating* lanes) noexcept nogil:
    """lanes[j] += the sum of x[i] over i = j (mod 16): 16 interleaved partial sums."""
    cdef floating acc[16]
    cdef Py_ssize_t start, j, full = n - n % 16
    for j in range(16):
        acc[j] = 0
    for start in range(0, full, 16):
        for j in range(16):
            acc[j] = acc[j] + x[start + j]
    for j in range(n - full):
        acc[j] = acc[j] + x[full + j]
    for j in range(16):
        lanes[j] = lanes[j] + acc[j]


def depthwise_backward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                       const floating[:, :, :, :, ::1] weight, floating[:, :, :, :, ::1] grad_in,
                       floating[:, :, :, :, ::1] grad_weight, floating[::1] grad_bias,
                       floating[::1] workspace, tuple stride, tuple padding, tuple dilation,
                       int chunks, int num_threads):
    """All three gradients of a depthwise convolution in one pass over the (image, channel) planes.

    grad_in (as depthwise_input_grad, no bias), grad_weight (as
    depthwise_weight_grad) and grad_bias[m] = the sum of grad_out[:, m]; each
    is skipped when it has size 0. Done together, every grad_out plane comes
    from memory once and is reused from cache for the other two: the
    backward pass is bound by memory traffic more than by arithmetic.

    The N*C planes are cut into `chunks` fixed ranges (independent of the
    thread count), each adding into its own partial sums: (M, K, width) for
    the weights as in depthwise_weight_grad, then (M, 16) for the bias. The
    partials are added in a fixed order: the same result for any number of
    threads.
    workspace: num_threads * 2 * depthwise_scratch_size(...) + chunks * M * (K * max(Wo, 16) + 16).
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Geometry adjoint = adjoint_geometry(&g)
    cdef Py_ssize_t N = x.shape[0], planes = x.shape[0] * g.C, mult = g.M // g.C
    check_workspace("depthwise_backward", workspace.shape[0], &g, 2, chunks, num_threads)
    cdef Py_ssize_t plane, n, c, m, k, j, tid, chunk
    cdef bint need_input = grad_in.shape[0] > 0, need_weight = grad_weight.shape[0] > 0
    cdef bint need_bias = grad_bias.shape[0] > 0, done
    cdef bint fast_input = adjoint.pd >= 0 and adjoint.ph >= 0 and adjoint.pw >= 0
    # float32 on a 2-d plane: the weight gradient reads the spread grad_out plane
    # the input gradient builds anyway, with x itself: no padded copy of x
    cdef bint fast_weight = unit_stride(&g) or (floating is float and vector_stride2(&g))
    cdef bint weight_from_spread = (floating is float and fast_weight and fast_input
                                    and VECTOR_DEPTHWISE and planar(&g))
    cdef Py_ssize_t width = DEPTHWISE_SUM_LANES if fast_weight else g.Wo       # partial sums per tap
    cdef Py_ssize_t spread_width = padded_extent(g.W, g.kw, 1, g.dw)
    cdef Py_ssize_t bias_offset = g.M * g.K * width           # where a chunk's bias sums start
    cdef Py_ssize_t partial_size = bias_offset + g.M * 16
    cdef Py_ssize_t scratch_size = scratch_per_thread(&g)
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef floating* gxp = &grad_in[0, 0, 0, 0, 0] if need_input else NULL
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0] if need_weight else NULL
    cdef floating* gbp = &grad_bias[0] if need_bias else NULL
    cdef floating* ws = &workspace[0]
    cdef floating* partials = ws + num_threads * 2 * scratch_size
    cdef floating* padded_x
    cdef floating* padded_gy
    cdef floating* partial
    cdef floating* gx_plane
    cdef const floating* gy_plane
    cdef double total

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        padded_x = ws + 2 * tid * scratch_size
        padded_gy = padded_x + scratch_size
        for chunk in prange(chunks, schedule="static"):
            partial = partials + chunk * partial_size
            memset(partial, 0, partial_size * sizeof(floating))
            for plane in range(chunk * planes // chunks, (chunk + 1) * planes // chunks):
                n = plane // g.C
                c = plane % g.C
                gx_plane = gxp + plane * g.S if need_input else NULL
                if need_weight and fast_weight and not weight_from_spread:
                    pad_plane(xp + plane * g.S, padded_x, &g)
                if need_input and not fast_input:
                    fill(gx_plane, g.S, 0)
                for m in range(c * mult, (c + 1) * mult):
                    gy_plane = gyp + (n * g.M + m) * g.P
                    if (need_input and fast_input) or (need_weight and weight_from_spread):
                        spread_plane(gy_plane, padded_gy, &adjoint, &g)
                    if need_input:
                        if fast_input:   # correlate the spread grad_out plane with the flipped filter
                            correlate_rows(gx_plane, padded_gy, wp + m * g.K, 0, True, m > c * mult,
                                           &adjoint)
                        else:
                            depthwise_input_grad_plane(gy_plane, wp + m * g.K, gx_plane, &g)
                    if need_weight:
                        done = False
                        if floating is float:
                            if weight_from_spread:
                                # weight tap (b, c) = the sum over x of x * the spread grad_out
                                # at the flipped offset: x plays grad_out's part, and the taps
                                # come out flipped. A plane of x holding an inf or nan is not
                                # done (products with the padding would be nan).
                                done = depthwise_weight_grad_f32(
                                    xp + plane * g.S, padded_gy, partial + m * g.K * width, g.H, g.W,
                                    spread_width, g.kh, g.kw, 1, 1, g.dh, g.dw, True)
                        if done:
                            pass
                        elif fast_weight:
                            if weight_from_spread:    # x was not padded above
                                pad_plane(xp + plane * g.S, padded_x, &g)
                            correlate_rows_weight_grad(gy_plane, padded_x, partial + m * g.K * width, &g)
                        else:
                            depthwise_weight_grad_plane(xp + plane * g.S, gy_plane,
                                                        partial + m * g.K * width, &g)
                    if need_bias:
                        add_lanes(gy_plane, g.P, partial + bias_offset + m * 16)

    if need_weight:
        sum_weight_partials(partials, chunks, partial_size, width, gwp, &g, num_threads)
    if need_bias:
        for m in range(g.M):
            total = 0
            for chunk in range(chunks):
                for j in range(16):
                    total = total + partials[chunk * partial_size + bias_offset + m * 16 + j]
            gbp[m] = <floating>total


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module


def kernel_paths():
    """{kernel: path} for this module's kernels under the current choice: the
    float32 2-d row loops (csrc/depthwise.h) take the chosen path, or "cython"
    where this build has no vector loops (float64 and 3-d always run Cython)."""
    return {"depthwise": current_path_name() if VECTOR_DEPTHWISE else "cython"}
