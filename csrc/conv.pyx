# cython: language_level=3
"""Convolution kernels: im2col / col2im, fused im2col + GEMM, direct depthwise.

Every array is N-d with three spatial axes (D, H, W); 1-d and 2-d
convolutions come in with size-1 leading spatial axes, so one set of kernels
serves conv1d, conv2d and conv3d and their transposes.

Shapes (P = Do*Ho*Wo output positions, K = kd*kh*kw kernel offsets,
S = D*H*W input positions, Cg = C/groups, Mg = M/groups):

    input          x       (N, C, D, H, W)
    weight         w       (M, Cg, kd, kh, kw)
    output         y       (N, M, Do, Ho, Wo)
    columns        col     (C*K, P)          one image; row c*K + k holds input
                                             channel c seen through kernel offset k
    conv           y[n]    = w (M, Cg*K) @ col(x[n]) (Cg*K, P), once per group

The geometry of one axis: output position o reads input position
    i = o*stride - pad_before + k*dilation,   k = 0 .. kernel-1,
and positions outside [0, size) read zero padding. The output sizes are
passed in (they are the output array's shape), so asymmetric padding
('same' with an even kernel) and transposed convolution's output_padding
need nothing special here.

Parallel loops run over images, or over (image, channel) planes: each
output element then has exactly one writer, and every sum is done in a fixed
order, so results are bitwise identical for any thread count. GEMMs go to
scipy's BLAS (``scipy.linalg.cython_blas``); the caller
(minigrad/kernels/conv.py) holds that BLAS to one thread while several
OpenMP threads call it, and lets it use them all when one thread does.
Scratch memory is a workspace array the caller owns and reuses: one slice
per thread, so no kernel allocates.
"""
from cython.parallel cimport parallel, prange
from libc.string cimport memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

from omp_compat cimport omp_get_thread_num

ctypedef fused floating:
    float
    double


cdef struct Geometry:
    # sizes of one image: channels in and out, input and output spatial sizes
    Py_ssize_t C, M, D, H, W, Do, Ho, Wo
    # per spatial axis: kernel size, stride, padding before, dilation
    Py_ssize_t kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw
    Py_ssize_t K, S, P       # kd*kh*kw, D*H*W, Do*Ho*Wo


cdef Geometry make_geometry(const Py_ssize_t* input_shape, const Py_ssize_t* output_shape,
                            const Py_ssize_t* kernel, tuple stride, tuple padding, tuple dilation):
    """input_shape (N, C, D, H, W), output_shape (N, M, Do, Ho, Wo), kernel (kd, kh, kw);
    stride, padding (before), dilation: 3-tuples."""
    cdef Geometry g
    g.C, g.D, g.H, g.W = input_shape[1], input_shape[2], input_shape[3], input_shape[4]
    g.M, g.Do, g.Ho, g.Wo = output_shape[1], output_shape[2], output_shape[3], output_shape[4]
    g.kd, g.kh, g.kw = kernel[0], kernel[1], kernel[2]
    g.sd, g.sh, g.sw = stride
    g.pd, g.ph, g.pw = padding
    g.dd, g.dh, g.dw = dilation
    g.K = g.kd * g.kh * g.kw
    g.S = g.D * g.H * g.W
    g.P = g.Do * g.Ho * g.Wo
    return g


cdef inline bint is_pointwise(const Geometry* g) noexcept nogil:
    """1x1 kernel, stride 1, no padding: the columns are the input itself."""
    return (g.K == 1 and g.sd == 1 and g.sh == 1 and g.sw == 1 and g.pd == 0 and g.ph == 0
            and g.pw == 0 and g.D == g.Do and g.H == g.Ho and g.W == g.Wo)


cdef inline void valid_range(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                             Py_ssize_t out_size, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Output positions o in [lo, hi) with 0 <= o*stride + offset < size."""
    cdef Py_ssize_t first = 0, last
    if offset < 0:
        first = (-offset + stride - 1) // stride
    if size - 1 - offset < 0:
        last = 0
    else:
        last = (size - 1 - offset) // stride + 1
    if last > out_size:
        last = out_size
    if first > last:
        first = last
    lo[0] = first
    hi[0] = last


# ---------------------------------------------------------------------------
# BLAS, row-major: C (m, n) = op(A) @ op(B) + beta * C
# ---------------------------------------------------------------------------

cdef inline void matmul(bint transpose_a, bint transpose_b, int m, int n, int k,
                        const floating* a, int lda, const floating* b, int ldb,
                        floating beta, floating* c, int ldc) noexcept nogil:
    # BLAS is column-major; a row-major matrix is its transpose there, so
    # C = A @ B is computed as C^T = B^T @ A^T: swap the operands.
    cdef char ta = b'T' if transpose_a else b'N'
    cdef char tb = b'T' if transpose_b else b'N'
    cdef floating one = 1
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &one, <float*>b, &ldb, <float*>a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &one, <double*>b, &ldb, <double*>a, &lda, &beta, c, &ldc)


# ---------------------------------------------------------------------------
# im2col / col2im of one channel plane
# ---------------------------------------------------------------------------

cdef void im2col_plane(const floating* x, floating* col, const Geometry* g) noexcept nogil:
    """x: one channel (D, H, W) -> col: its K rows (K, P) of the column matrix."""
    cdef Py_ssize_t a, b, c, od, oh, ow, id_, ih, iw0, lo, hi
    cdef floating* row
    cdef const floating* src
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                iw0 = c * g.dw - g.pw
                valid_range(iw0, g.sw, g.W, g.Wo, &lo, &hi)
                row = col + ((a * g.kh + b) * g.kw + c) * g.P
                for od in range(g.Do):
                    id_ = od * g.sd - g.pd + a * g.dd
                    for oh in range(g.Ho):
                        ih = oh * g.sh - g.ph + b * g.dh
                        if id_ < 0 or id_ >= g.D or ih < 0 or ih >= g.H:
                            memset(row, 0, g.Wo * sizeof(floating))
                        else:
                            src = x + (id_ * g.H + ih) * g.W + iw0
                            for ow in range(lo):
                                row[ow] = 0
                            if g.sw == 1:
                                for ow in range(lo, hi):
                                    row[ow] = src[ow]
                            else:
                                for ow in range(lo, hi):
                                    row[ow] = src[ow * g.sw]
                            for ow in range(hi, g.Wo):
                                row[ow] = 0
                        row += g.Wo


cdef void col2im_plane(const floating* col, floating* x, const Geometry* g) noexcept nogil:
    """Adjoint of im2col_plane: add the K rows (K, P) back into x (D, H, W)."""
    cdef Py_ssize_t a, b, c, od, oh, ow, id_, ih, iw0, lo, hi
    cdef const floating* row
    cdef floating* dst
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                iw0 = c * g.dw - g.pw
                valid_range(iw0, g.sw, g.W, g.Wo, &lo, &hi)
                row = col + ((a * g.kh + b) * g.kw + c) * g.P
                for od in range(g.Do):
                    id_ = od * g.sd - g.pd + a * g.dd
                    for oh in range(g.Ho):
                        ih = oh * g.sh - g.ph + b * g.dh
                        if id_ >= 0 and id_ < g.D and ih >= 0 and ih < g.H:
                            dst = x + (id_ * g.H + ih) * g.W + iw0
                            if g.sw == 1:
                                for ow in range(lo, hi):
                                    dst[ow] = dst[ow] + row[ow]
                            else:
                                for ow in range(lo, hi):
                                    dst[ow * g.sw] = dst[ow * g.sw] + row[ow]
                        row += g.Wo


cdef inline void fill(floating* x, Py_ssize_t n, floating value) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        x[i] = value


def im2col(const floating[:, :, :, :, ::1] x, floating[:, :, ::1] col, tuple output_size,
           tuple kernel, tuple stride, tuple padding, tuple dilation, int num_threads):
    """x (N, C, D, H, W) -> col (N, C*K, P); parallel over (image, channel)."""
    cdef Py_ssize_t out_shape[5]
    cdef Py_ssize_t kernel_size[3]
    out_shape[0], out_shape[1] = x.shape[0], x.shape[1]
    out_shape[2], out_shape[3], out_shape[4] = output_size
    kernel_size[0], kernel_size[1], kernel_size[2] = kernel
    cdef Geometry g = make_geometry(&x.shape[0], out_shape, kernel_size, stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], plane
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef floating* cp = &col[0, 0, 0]
    for plane in prange(N * g.C, nogil=True, schedule="static", num_threads=num_threads):
        im2col_plane(xp + plane * g.S, cp + plane * g.K * g.P, &g)


def col2im(const floating[:, :, ::1] col, floating[:, :, :, :, ::1] x, tuple output_size,
           tuple kernel, tuple stride, tuple padding, tuple dilation, int num_threads):
    """col (N, C*K, P) -> x (N, C, D, H, W), overwritten; one writer per plane."""
    cdef Py_ssize_t out_shape[5]
    cdef Py_ssize_t kernel_size[3]
    out_shape[0], out_shape[1] = x.shape[0], x.shape[1]
    out_shape[2], out_shape[3], out_shape[4] = output_size
    kernel_size[0], kernel_size[1], kernel_size[2] = kernel
    cdef Geometry g = make_geometry(&x.shape[0], out_shape, kernel_size, stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], plane
    cdef const floating* cp = &col[0, 0, 0]
    cdef floating* xp = &x[0, 0, 0, 0, 0]
    for plane in prange(N * g.C, nogil=True, schedule="static", num_threads=num_threads):
        memset(xp + plane * g.S, 0, g.S * sizeof(floating))
        col2im_plane(cp + plane * g.K * g.P, xp + plane * g.S, &g)


# ---------------------------------------------------------------------------
# im2col + GEMM, one image at a time per thread
# ---------------------------------------------------------------------------

def columns_size(tuple input_shape, tuple output_shape, tuple kernel):
    """Scratch elements one thread needs for one image's columns (0 for 1x1)."""
    C = input_shape[1]
    K = kernel[0] * kernel[1] * kernel[2]
    P = output_shape[2] * output_shape[3] * output_shape[4]
    return C * K * P


def conv_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] weight,
                 const floating[::1] bias, floating[:, :, :, :, ::1] out, floating[::1] workspace,
                 tuple stride, tuple padding, tuple dilation, int groups, int num_threads):
    """out[n] = weight @ im2col(x[n]) + bias, group by group.

    workspace: at least num_threads * columns_size(...) elements (unused for 1x1).
    bias: (M,) or empty for none.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], n, m, grp, tid
    cdef bint pointwise = is_pointwise(&g), has_bias = bias.shape[0] > 0
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P
    cdef Py_ssize_t col_size = 0 if pointwise else g.C * g.K * g.P
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* yp = &out[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0] if col_size > 0 else NULL
    cdef floating* scratch
    cdef const floating* columns
    cdef floating* y
    cdef floating beta = 1 if has_bias else 0

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * col_size
        for n in prange(N, schedule="static"):
            if pointwise:
                columns = xp + n * g.C * g.S                     # (C, P) already
            else:
                for m in range(g.C):                             # (C*K, P)
                    im2col_plane(xp + (n * g.C + m) * g.S, scratch + m * g.K * g.P, &g)
                columns = scratch
            y = yp + n * g.M * g.P
            if has_bias:
                for m in range(g.M):
                    fill(y + m * g.P, g.P, bp[m])
            for grp in range(groups):
                # y_g (Mg, P) = w_g (Mg, Cg*K) @ columns_g (Cg*K, P)
                matmul(False, False, <int>Mg, P, Kcg, wp + grp * Mg * Kcg, Kcg,
                       columns + grp * Kcg * P, P, beta, y + grp * Mg * P, P)


def conv_input_grad(const floating[:, :, :, :, ::1] grad_out, const floating[:, :, :, :, ::1] weight,
                    const floating[::1] bias, floating[:, :, :, :, ::1] grad_in,
                    floating[::1] workspace, tuple stride, tuple padding, tuple dilation,
                    int groups, int num_threads):
    """grad_in[n] = col2im(weight^T @ grad_out[n]) (+ bias): conv's adjoint.

    This is also the forward pass of the transposed convolution, whose bias
    is added per channel of grad_in (empty bias: none).
    """
    cdef Geometry g = make_geometry(&grad_in.shape[0], &grad_out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = grad_in.shape[0], n, c, grp, tid
    cdef bint pointwise = is_pointwise(&g), has_bias = bias.shape[0] > 0
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P
    cdef Py_ssize_t col_size = 0 if pointwise else g.C * g.K * g.P
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* gxp = &grad_in[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0] if col_size > 0 else NULL
    cdef floating* scratch
    cdef floating* gx
    cdef floating* dcol
    cdef floating beta

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * col_size
        for n in prange(N, schedule="static"):
            gx = gxp + n * g.C * g.S
            for c in range(g.C):
                if has_bias:
                    fill(gx + c * g.S, g.S, bp[c])
                elif not pointwise:
                    memset(gx + c * g.S, 0, g.S * sizeof(floating))
            # 1x1: the columns' gradient is grad_in[n] itself, no col2im.
            dcol = gx if pointwise else scratch
            beta = 1 if (pointwise and has_bias) else 0
            for grp in range(groups):
                # dcol_g (Cg*K, P) = w_g^T (Cg*K, Mg) @ grad_out_g (Mg, P)
                matmul(True, False, Kcg, P, <int>Mg, wp + grp * Mg * Kcg, Kcg,
                       gyp + (n * g.M + grp * Mg) * g.P, P, beta, dcol + grp * Kcg * P, P)
            if not pointwise:
                for c in range(g.C):
                    col2im_plane(scratch + c * g.K * g.P, gx + c * g.S, &g)


def conv_weight_grad(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                     floating[:, :, :, :, ::1] grad_weight, floating[::1] workspace,
                     tuple stride, tuple padding, tuple dilation, int groups, int chunks,
                     int num_threads):
    """grad_weight = sum over images of grad_out[n] @ im2col(x[n])^T, group by group.

    The batch is cut into `chunks` fixed ranges (a number that does not
    depend on the thread count); each chunk sums its images into its own
    partial result, and the partials are added in chunk order: the same
    result for any number of threads.
    workspace: num_threads * columns_size(...) + chunks * grad_weight.size elements.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0],
                                    &grad_weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], n, m, grp, tid, chunk, first, stop, j
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P
    cdef Py_ssize_t col_size = 0 if pointwise else g.C * g.K * g.P
    cdef Py_ssize_t weight_size = g.M * Cg * g.K
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* partials = ws + num_threads * col_size
    cdef floating* scratch
    cdef floating* partial
    cdef const floating* columns
    cdef floating beta, total

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * col_size
        for chunk in prange(chunks, schedule="static"):
            first = chunk * N // chunks
            stop = (chunk + 1) * N // chunks
            partial = partials + chunk * weight_size
            for n in range(first, stop):
                if pointwise:
                    columns = xp + n * g.C * g.S
                else:
                    for m in range(g.C):
                        im2col_plane(xp + (n * g.C + m) * g.S, scratch + m * g.K * g.P, &g)
                    columns = scratch
                beta = 0 if n == first else 1
                for grp in range(groups):
                    # partial_g (Mg, Cg*K) += grad_out_g (Mg, P) @ columns_g^T (P, Cg*K)
                    matmul(False, True, <int>Mg, Kcg, P, gyp + (n * g.M + grp * Mg) * g.P, P,
                           columns + grp * Kcg * P, P, beta, partial + grp * Mg * Kcg, Kcg)

    for j in prange(weight_size, nogil=True, schedule="static", num_threads=num_threads):
        total = partials[j]
        for chunk in range(1, chunks):
            total = total + partials[chunk * weight_size + j]
        gwp[j] = total


# ---------------------------------------------------------------------------
# Depthwise: each input channel c has its own filters (groups == C,
# weight (M, 1, kd, kh, kw), output channel m reads input channel m // mult).
# A handful of multiply-adds per output: direct loops beat tiny GEMMs.
# The innermost loops run along a row with stride 1 where possible, so the
# compiler vectorises them.
# ---------------------------------------------------------------------------

cdef void depthwise_forward_plane(const floating* x, const floating* w, floating* y,
                                  const Geometry* g) noexcept nogil:
    """y (Do, Ho, Wo) += x (D, H, W) correlated with one filter w (K,)."""
    cdef Py_ssize_t a, b, c, od, oh, ow, id_, ih, iw0, lo, hi
    cdef const floating* src
    cdef floating* row
    cdef floating wv
    for od in range(g.Do):
        for oh in range(g.Ho):
            row = y + (od * g.Ho + oh) * g.Wo
            for a in range(g.kd):
                id_ = od * g.sd - g.pd + a * g.dd
                if id_ < 0 or id_ >= g.D:
                    continue
                for b in range(g.kh):
                    ih = oh * g.sh - g.ph + b * g.dh
                    if ih < 0 or ih >= g.H:
                        continue
                    for c in range(g.kw):
                        wv = w[(a * g.kh + b) * g.kw + c]
                        iw0 = c * g.dw - g.pw
                        valid_range(iw0, g.sw, g.W, g.Wo, &lo, &hi)
                        src = x + (id_ * g.H + ih) * g.W + iw0
                        if g.sw == 1:
                            for ow in range(lo, hi):
                                row[ow] = row[ow] + wv * src[ow]
                        else:
                            for ow in range(lo, hi):
                                row[ow] = row[ow] + wv * src[ow * g.sw]


cdef void depthwise_input_grad_plane(const floating* gy, const floating* w, floating* gx,
                                     const Geometry* g) noexcept nogil:
    """gx (D, H, W) += gy (Do, Ho, Wo) scattered back through one filter w (K,)."""
    cdef Py_ssize_t a, b, c, od, oh, ow, id_, ih, iw0, lo, hi
    cdef const floating* row
    cdef floating* dst
    cdef floating wv
    for od in range(g.Do):
        for oh in range(g.Ho):
            row = gy + (od * g.Ho + oh) * g.Wo
            for a in range(g.kd):
                id_ = od * g.sd - g.pd + a * g.dd
                if id_ < 0 or id_ >= g.D:
                    continue
                for b in range(g.kh):
                    ih = oh * g.sh - g.ph + b * g.dh
                    if ih < 0 or ih >= g.H:
                        continue
                    for c in range(g.kw):
                        wv = w[(a * g.kh + b) * g.kw + c]
                        iw0 = c * g.dw - g.pw
                        valid_range(iw0, g.sw, g.W, g.Wo, &lo, &hi)
                        dst = gx + (id_ * g.H + ih) * g.W + iw0
                        if g.sw == 1:
                            for ow in range(lo, hi):
                                dst[ow] = dst[ow] + wv * row[ow]
                        else:
                            for ow in range(lo, hi):
                                dst[ow * g.sw] = dst[ow * g.sw] + wv * row[ow]


cdef void depthwise_weight_grad_plane(const floating* x, const floating* gy, floating* sums,
                                      const Geometry* g) noexcept nogil:
    """sums (K, Wo) += products of gy (Do, Ho, Wo) with x (D, H, W) seen through each offset.

    Row k of sums, added up, is this plane's contribution to filter weight k.
    """
    cdef Py_ssize_t a, b, c, od, oh, ow, id_, ih, iw0, lo, hi
    cdef const floating* row
    cdef const floating* src
    cdef floating* acc
    for od in range(g.Do):
        for oh in range(g.Ho):
            row = gy + (od * g.Ho + oh) * g.Wo
            for a in range(g.kd):
                id_ = od * g.sd - g.pd + a * g.dd
                if id_ < 0 or id_ >= g.D:
                    continue
                for b in range(g.kh):
                    ih = oh * g.sh - g.ph + b * g.dh
                    if ih < 0 or ih >= g.H:
                        continue
                    for c in range(g.kw):
                        acc = sums + ((a * g.kh + b) * g.kw + c) * g.Wo
                        iw0 = c * g.dw - g.pw
                        valid_range(iw0, g.sw, g.W, g.Wo, &lo, &hi)
                        src = x + (id_ * g.H + ih) * g.W + iw0
                        if g.sw == 1:
                            for ow in range(lo, hi):
                                acc[ow] = acc[ow] + row[ow] * src[ow]
                        else:
                            for ow in range(lo, hi):
                                acc[ow] = acc[ow] + row[ow] * src[ow * g.sw]


def depthwise_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] weight,
                      const floating[::1] bias, floating[:, :, :, :, ::1] out,
                      tuple stride, tuple padding, tuple dilation, int num_threads):
    """out[n, m] = sum_k weight[m, 0, k] * x[n, m // mult] shifted by k (+ bias[m])."""
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], mult = g.M // g.C, plane, m, n
    cdef bint has_bias = bias.shape[0] > 0
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* yp = &out[0, 0, 0, 0, 0]

    for plane in prange(N * g.M, nogil=True, schedule="static", num_threads=num_threads):
        n = plane // g.M
        m = plane % g.M
        fill(yp + plane * g.P, g.P, bp[m] if has_bias else 0)
        depthwise_forward_plane(xp + (n * g.C + m // mult) * g.S, wp + m * g.K, yp + plane * g.P, &g)


def depthwise_input_grad(const floating[:, :, :, :, ::1] grad_out, const floating[:, :, :, :, ::1] weight,
                         const floating[::1] bias, floating[:, :, :, :, ::1] grad_in,
                         tuple stride, tuple padding, tuple dilation, int num_threads):
    """grad_in[n, c] = sum over its mult filters of the scattered grad_out (+ bias[c]).

    Parallel over (image, input channel): one writer per grad_in plane. Also
    the forward pass of a transposed depthwise convolution.
    """
    cdef Geometry g = make_geometry(&grad_in.shape[0], &grad_out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = grad_in.shape[0], mult = g.M // g.C, plane, m, n, c
    cdef bint has_bias = bias.shape[0] > 0
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* gxp = &grad_in[0, 0, 0, 0, 0]

    for plane in prange(N * g.C, nogil=True, schedule="static", num_threads=num_threads):
        n = plane // g.C
        c = plane % g.C
        fill(gxp + plane * g.S, g.S, bp[c] if has_bias else 0)
        for m in range(c * mult, (c + 1) * mult):
            depthwise_input_grad_plane(gyp + (n * g.M + m) * g.P, wp + m * g.K, gxp + plane * g.S, &g)


def depthwise_weight_grad(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                          floating[:, :, :, :, ::1] grad_weight, floating[::1] workspace,
                          tuple stride, tuple padding, tuple dilation, int num_threads):
    """grad_weight[m, 0, k] = sum over images and positions of grad_out * shifted x.

    Parallel over output channels (one writer per filter). Each thread
    accumulates elementwise products into K rows of Wo partial sums (a
    vectorisable loop, in a fixed order), then adds each row up.
    workspace: at least num_threads * K * Wo elements.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0],
                                    &grad_weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], mult = g.M // g.C, n, m, k, ow, tid
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* sums
    cdef double total

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        sums = ws + tid * g.K * g.Wo
        for m in prange(g.M, schedule="static"):
            memset(sums, 0, g.K * g.Wo * sizeof(floating))
            for n in range(N):
                depthwise_weight_grad_plane(xp + (n * g.C + m // mult) * g.S, gyp + (n * g.M + m) * g.P,
                                            sums, &g)
            for k in range(g.K):
                total = 0
                for ow in range(g.Wo):
                    total = total + sums[k * g.Wo + ow]
                gwp[m * g.K + k] = <floating>total
