# cython: language_level=3
"""Convolution kernels: im2col / col2im, fused im2col + GEMM.

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

When P is small (late layers: 14x14 = 196) a few images share one GEMM,
their columns side by side: col (C*K, images*P).

The geometry of one axis: output position o reads input position
    i = o*stride - pad_before + k*dilation,   k = 0 .. kernel-1,
and positions outside [0, size) read zero padding. The output sizes are
passed in (they are the output array's shape), so asymmetric padding
('same' with an even kernel) and transposed convolution's output_padding
need nothing special here.

Depthwise convolutions (groups == C) skip im2col: a handful of
multiply-adds per output does not make a good GEMM, so they are direct
loops, vectorised along rows, in their own module (csrc/depthwise.pyx).

Parallel loops run over images (or chunks of images), or over (image,
channel) planes: each output element then has exactly one writer, and every sum is done in a fixed
order, so results are bitwise identical for any thread count. float32
GEMMs go to minigrad's own GEMM (csrc/gemm.h; AVX-512, AVX2 or generic, the
path minigrad_isa() names) where the caller passes its packing scratch
(`pack`); otherwise (``MINIGRAD_GEMM=blas``), and for float64, to scipy's BLAS (``scipy.linalg.cython_blas``). The caller
(minigrad/kernels/conv.py) holds that BLAS to one thread (its sums change
with its thread count), and gives the own GEMM all the threads
(`gemm_threads`) when only one OpenMP thread has work. With the own GEMM
the forward pass and the weight gradient never write the column matrix:
the GEMM packs it from the zero-padded image (csrc/im2col_pack.h, the
"implicit GEMM" section below). Scratch memory is a workspace array the
caller owns and reuses: one slice per thread, so no kernel allocates.
"""
from cython.parallel cimport parallel, prange
from libc.stddef cimport ptrdiff_t
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

from omp_compat cimport omp_get_thread_num

ctypedef fused floating:
    float
    double


include "conv_geometry.pxi"  # Geometry, make_geometry, valid_range, input_row, fill


cdef inline bint is_pointwise(const Geometry* g) noexcept nogil:
    """1x1 kernel, stride 1, no padding: the columns are the input itself."""
    return (g.K == 1 and g.sd == 1 and g.sh == 1 and g.sw == 1 and g.pd == 0 and g.ph == 0
            and g.pw == 0 and g.D == g.Do and g.H == g.Ho and g.W == g.Wo)


# ---------------------------------------------------------------------------
# BLAS, row-major: C (m, n) = op(A) @ op(B) + beta * C
# ---------------------------------------------------------------------------

cdef extern from "gemm.h" nogil:
    const int MINIGRAD_GEMM_PACK_FLOATS
    int minigrad_gemm_available()
    int minigrad_gemm_mr()
    int minigrad_gemm_nr()
    ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
    void minigrad_gemm_pack_a(int m, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                              float* packed)
    void minigrad_sgemm(int m, int n, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                        const float* prepacked_a, const float* b, ptrdiff_t rsb, ptrdiff_t csb,
                        int accumulate, float* c, ptrdiff_t ldc, float* pack, int threads)
    ctypedef struct gemm_b_source:
        void (*pack)(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                     float* packed) noexcept nogil
        const float* b
        ptrdiff_t rsb, csb
        const void* context
    void minigrad_sgemm_source(int m, int n, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                               const float* prepacked_a, const gemm_b_source* b, int accumulate,
                               float* c, ptrdiff_t ldc, float* pack, int threads)


def gemm_pack_size():
    """float32 scratch elements the own GEMM needs per thread on any path, or 0
    where it is not compiled (a compiler without GCC's vector extensions)."""
    return MINIGRAD_GEMM_PACK_FLOATS if minigrad_gemm_available() else 0


def gemm_tile():
    """(MR, NR): the rows and columns of the own GEMM's register tile on the
    current path (packed B panels are NR columns wide)."""
    return minigrad_gemm_mr(), minigrad_gemm_nr()


_PATH_NAMES = ("generic", "avx2", "avx512")


def kernel_paths():
    """{kernel: instruction-set path} of this module's kernels under the current
    choice (minigrad.show_config merges these across modules). float32 only:
    float64 always goes to BLAS. minigrad/kernels/gemm.py reports BLAS instead
    where MINIGRAD_GEMM=blas."""
    path = _PATH_NAMES[minigrad_isa()]
    gemm_path = path if minigrad_gemm_available() else "blas"
    return {"gemm": gemm_path, "implicit_gemm": gemm_path, "col2im": path}


def gemm(const float[:, :] a, const float[:, :] b, float[:, ::1] c, bint accumulate,
         float[::1] pack, int num_threads):
    """c (m, n) = a (m, k) @ b (k, n) (+ c when accumulate) with the own GEMM.

    a and b may have any strides (a transposed view costs nothing); pack:
    num_threads * gemm_pack_size() elements. On the current instruction-set path.
    """
    cdef ptrdiff_t item = sizeof(float)
    with nogil:
        minigrad_sgemm(<int>c.shape[0], <int>c.shape[1], <int>a.shape[1], &a[0, 0],
                       a.strides[0] // item, a.strides[1] // item, NULL, &b[0, 0],
                       b.strides[0] // item, b.strides[1] // item, accumulate,
                       &c[0, 0], c.strides[0] // item, &pack[0], num_threads)


cdef inline void matmul(bint transpose_a, bint transpose_b, int m, int n, int k,
                        const floating* a, int lda, const floating* b, int ldb,
                        floating beta, floating* c, int ldc, const float* packed_a, float* pack,
                        int gemm_threads) noexcept nogil:
    """beta is 0 (overwrite C) or 1 (add to C). pack: the own GEMM's scratch
    for `gemm_threads` threads, or NULL for BLAS; packed_a: op(A) packed
    already (pack_weights), or NULL."""
    cdef char ta = b'T' if transpose_a else b'N'
    cdef char tb = b'T' if transpose_b else b'N'
    cdef floating one = 1
    if floating is float:
        if pack != NULL:
            # row-major, a transposed operand is just other strides: A[i][p] = a[i*rsa + p*csa]
            minigrad_sgemm(m, n, k, a, 1 if transpose_a else lda, lda if transpose_a else 1,
                           packed_a, b, 1 if transpose_b else ldb, ldb if transpose_b else 1,
                           beta != 0, c, ldc, pack, gemm_threads)
            return
        # BLAS is column-major; a row-major matrix is its transpose there, so
        # C = A @ B is computed as C^T = B^T @ A^T: swap the operands.
        sgemm(&tb, &ta, &n, &m, &k, &one, <float*>b, &ldb, <float*>a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &one, <double*>b, &ldb, <double*>a, &lda, &beta, c, &ldc)


# ---------------------------------------------------------------------------
# im2col / col2im of one channel plane
# ---------------------------------------------------------------------------

# Row operations. Each works on one output row of Wo entries and the input
# row it reads (every stride-th element). Their arguments are plain locals,
# so the compiler can vectorise the stride-1 loops (a struct field read
# inside the loop could alias the stores and would block that).

cdef inline void copy_row(floating* dst, const floating* src, Py_ssize_t n,
                          Py_ssize_t stride) noexcept nogil:
    """dst[i] = src[i*stride]"""
    cdef Py_ssize_t i
    if stride == 1:
        memcpy(dst, src, n * sizeof(floating))
    elif stride == 2:      # a constant stride the compiler vectorises (even elements)
        for i in range(n):
            dst[i] = src[2 * i]
    else:
        for i in range(n):
            dst[i] = src[i * stride]


cdef extern from "row_add.h" nogil:
    void row_add_f(float* dst, const float* src, ptrdiff_t n)
    void row_add_d(double* dst, const double* src, ptrdiff_t n)
    void row_add_stride2_f(float* dst, const float* src, ptrdiff_t n)


cdef inline void add_row(floating* dst, const floating* src, Py_ssize_t n,
                         Py_ssize_t stride) noexcept nogil:
    """dst[i*stride] += src[i]"""
    cdef Py_ssize_t i
    if stride == 1:            # vectorised for this CPU (csrc/row_add.h)
        if floating is float:
            row_add_f(dst, src, n)
        else:
            row_add_d(dst, src, n)
    elif stride == 2:
        if floating is float:
            row_add_stride2_f(dst, src, n)
        else:
            for i in range(n):
                dst[2 * i] = dst[2 * i] + src[i]
    else:
        for i in range(n):
            dst[i * stride] = dst[i * stride] + src[i]


# ---------------------------------------------------------------------------
# im2col / col2im of one channel plane: for every kernel tap (a, b, c), every
# output row reads one input row, shifted by c*dilation - padding.
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t rows_in_run(const Geometry* g, bint rows_match, Py_ssize_t b, Py_ssize_t oh,
                                   Py_ssize_t rows_left) noexcept nogil:
    """How many output rows from row oh on (at tap b, at most rows_left, within
    one output plane) read consecutive input rows of the image: with stride 1
    along H and whole rows (rows_match), until the plane or the image ends; else 1."""
    cdef Py_ssize_t run = rows_left
    if not rows_match or g.sh != 1:
        return 1
    run = min(run, g.Ho - oh)
    return min(run, g.H - (oh - g.ph + b * g.dh))


cdef inline void next_output_rows(const Geometry* g, Py_ssize_t run, Py_ssize_t* od,
                                  Py_ssize_t* oh) noexcept nogil:
    """(od, oh) moves on by `run` output rows (a run never crosses an output plane)."""
    oh[0] = oh[0] + run
    if oh[0] == g.Ho:
        oh[0] = 0
        od[0] = od[0] + 1


cdef inline void zero_padding_columns(floating* row, Py_ssize_t run, Py_ssize_t Wo, Py_ssize_t lo,
                                      Py_ssize_t hi) noexcept nogil:
    """In `run` output rows of Wo entries, zero the columns outside [lo, hi): those
    that read the padding (a run's one long copy or add gets them wrong)."""
    cdef Py_ssize_t j, ow
    for j in range(run):
        for ow in range(lo):
            row[j * Wo + ow] = 0
        for ow in range(hi, Wo):
            row[j * Wo + ow] = 0


cdef void im2col_rows(const floating* x, floating* col, Py_ssize_t pitch, Py_ssize_t first_row,
                      Py_ssize_t stop_row, const Geometry* g) noexcept nogil:
    """x: one channel (D, H, W) -> col: its K rows, each holding the positions of
    output rows first_row .. stop_row-1 (row r = od*Ho + oh, Wo positions each);
    col's rows are `pitch` apart."""
    cdef Py_ssize_t a, b, c, r, run, iw0, lo, hi, start, od, oh
    cdef Py_ssize_t Wo = g.Wo, sw = g.sw
    # Output rows then read whole input rows, and a run of consecutive input
    # rows is one block copy (the common 'same' convolution with stride 1).
    cdef bint rows_match = sw == 1 and g.W == Wo
    cdef floating* row
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                iw0 = c * g.dw - g.pw
                valid_range(iw0, sw, g.W, Wo, &lo, &hi)
                row = col + ((a * g.kh + b) * g.kw + c) * pitch
                r = first_row
                od = r // g.Ho
                oh = r - od * g.Ho
                while r < stop_row:
                    start = input_row(g, a, b, od, oh)
                    run = 1 if start < 0 else rows_in_run(g, rows_match, b, oh, stop_row - r)
                    if start < 0:
                        memset(row, 0, Wo * sizeof(floating))
                    else:
                        # rows j < run: row[j*Wo + ow] = x[start + j*W + iw0 + ow] for ow in [lo, hi),
                        # one contiguous copy when rows match; the columns outside [lo, hi) are padding
                        copy_row(row + lo, x + start + iw0 + lo * sw, (run - 1) * Wo + hi - lo, sw)
                        zero_padding_columns(row, run, Wo, lo, hi)
                    row += run * Wo
                    r = r + run
                    next_output_rows(g, run, &od, &oh)


cdef void col2im_rows(floating* col, Py_ssize_t pitch, Py_ssize_t first_row,
                      Py_ssize_t stop_row, floating* x, const Geometry* g) noexcept nogil:
    """Adjoint of im2col_rows: add the K rows (positions of output rows
    first_row .. stop_row-1, `pitch` apart) back into x.

    As in im2col_rows, a run of output rows that read consecutive input rows
    (stride 1, W == Wo) is one long add; the entries of col that read the
    padding would land in the next row there, so they are set to zero first
    (col is scratch: those entries are never used)."""
    cdef Py_ssize_t a, b, c, r, run, iw0, lo, hi, start, od, oh
    cdef Py_ssize_t Wo = g.Wo, sw = g.sw
    cdef bint rows_match = sw == 1 and g.W == Wo
    cdef floating* row
    for a in range(g.kd):
        for b in range(g.kh):
            for c in range(g.kw):
                iw0 = c * g.dw - g.pw
                valid_range(iw0, sw, g.W, Wo, &lo, &hi)
                row = col + ((a * g.kh + b) * g.kw + c) * pitch
                r = first_row
                od = r // g.Ho
                oh = r - od * g.Ho
                while r < stop_row:
                    start = input_row(g, a, b, od, oh)
                    run = 1 if start < 0 else rows_in_run(g, rows_match, b, oh, stop_row - r)
                    if start >= 0:
                        if run > 1:         # (one row adds only its columns [lo, hi))
                            zero_padding_columns(row, run, Wo, lo, hi)
                        # rows j < run: x[start + j*W + iw0 + ow] += row[j*Wo + ow] for ow in [lo, hi)
                        add_row(x + start + iw0 + lo * sw, row + lo, (run - 1) * Wo + hi - lo, sw)
                    row += run * Wo
                    r = r + run
                    next_output_rows(g, run, &od, &oh)


cdef inline void im2col_plane_pitched(const floating* x, floating* col, Py_ssize_t pitch,
                                      const Geometry* g) noexcept nogil:
    """x: one channel (D, H, W) -> col: its K rows of P positions, rows `pitch` apart."""
    im2col_rows(x, col, pitch, 0, g.Do * g.Ho, g)


cdef inline void col2im_plane_pitched(floating* col, Py_ssize_t pitch, floating* x,
                                      const Geometry* g) noexcept nogil:
    """Adjoint of im2col_plane_pitched: add the K rows (P positions, `pitch` apart) back into x."""
    col2im_rows(col, pitch, 0, g.Do * g.Ho, x, g)


cdef inline void im2col_plane(const floating* x, floating* col, const Geometry* g) noexcept nogil:
    """x: one channel (D, H, W) -> col: its K rows (K, P) of the column matrix."""
    im2col_plane_pitched(x, col, g.P, g)


cdef inline void col2im_plane(floating* col, floating* x, const Geometry* g) noexcept nogil:
    """Adjoint of im2col_plane: add the K rows (K, P) back into x (D, H, W)."""
    col2im_plane_pitched(col, g.P, x, g)


cdef inline void add_constant(floating* dst, const floating* src, Py_ssize_t n,
                              floating value) noexcept nogil:
    """dst[i] = src[i] + value"""
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = src[i] + value


cdef inline void add_rows(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    """dst[i] += src[i]"""
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = dst[i] + src[i]


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


def col2im(floating[:, :, ::1] col, floating[:, :, :, :, ::1] x, tuple output_size,
           tuple kernel, tuple stride, tuple padding, tuple dilation, int num_threads):
    """col (N, C*K, P) -> x (N, C, D, H, W), overwritten; one writer per plane.
    col's entries that read the padding are zeroed (see col2im_rows)."""
    cdef Py_ssize_t out_shape[5]
    cdef Py_ssize_t kernel_size[3]
    out_shape[0], out_shape[1] = x.shape[0], x.shape[1]
    out_shape[2], out_shape[3], out_shape[4] = output_size
    kernel_size[0], kernel_size[1], kernel_size[2] = kernel
    cdef Geometry g = make_geometry(&x.shape[0], out_shape, kernel_size, stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], plane
    cdef floating* cp = &col[0, 0, 0]
    cdef floating* xp = &x[0, 0, 0, 0, 0]
    for plane in prange(N * g.C, nogil=True, schedule="static", num_threads=num_threads):
        memset(xp + plane * g.S, 0, g.S * sizeof(floating))
        col2im_plane(cp + plane * g.K * g.P, xp + plane * g.S, &g)


# ---------------------------------------------------------------------------
# im2col + GEMM, one image at a time per thread
# ---------------------------------------------------------------------------

cdef void images_to_columns(const floating* x, Py_ssize_t count, floating* col, Py_ssize_t pitch,
                            bint pointwise, const Geometry* g) noexcept nogil:
    """`count` images (C, D, H, W) -> col (C*K, pitch): image b in columns b*P .. (b+1)*P."""
    cdef Py_ssize_t b, c
    for b in range(count):
        for c in range(g.C):
            if pointwise:      # 1x1: the columns are the input plane itself
                memcpy(col + c * pitch + b * g.P, x + (b * g.C + c) * g.S, g.P * sizeof(floating))
            else:
                im2col_plane_pitched(x + (b * g.C + c) * g.S, col + c * g.K * pitch + b * g.P, pitch, g)


cdef void gather_images(const floating* y, Py_ssize_t count, Py_ssize_t rows, Py_ssize_t P,
                        floating* dst, Py_ssize_t pitch) noexcept nogil:
    """`count` matrices (rows, P) side by side -> dst (rows, pitch)."""
    cdef Py_ssize_t b, r
    for b in range(count):
        for r in range(rows):
            memcpy(dst + r * pitch + b * P, y + (b * rows + r) * P, P * sizeof(floating))


cdef const floating* slab_columns(const floating* image, floating* scratch, Py_ssize_t first_row,
                                  Py_ssize_t stop_row, bint pointwise, const Geometry* g) noexcept nogil:
    """The columns of output rows first_row .. stop_row-1 of one image (C, D, H, W):
    for a 1x1 conv the input itself ((C, cols), rows P apart), otherwise im2col
    into scratch ((C*K, cols), cols = (stop_row - first_row) * Wo)."""
    cdef Py_ssize_t c, cols = (stop_row - first_row) * g.Wo
    if pointwise:
        return image + first_row * g.Wo
    for c in range(g.C):
        im2col_rows(image + c * g.S, scratch + c * g.K * cols, cols, first_row, stop_row, g)
    return scratch


# ---------------------------------------------------------------------------
# Implicit GEMM (csrc/im2col_pack.h): the own GEMM packs its B blocks straight
# from the image, so the column matrix is never written.
# ---------------------------------------------------------------------------

cdef extern from "im2col_pack.h" nogil:
    ctypedef struct conv_columns:
        const float* image
        ptrdiff_t Dp, Hp, Wp, Ho, Wo, kh, kw, K, sd, sh, sw, dd, dh, dw, ones_from
    void conv_pack_columns(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                           float* packed)
    void conv_pack_columns_transposed(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                                      float* packed)


cdef inline Py_ssize_t padded_size(Py_ssize_t size, Py_ssize_t pad, Py_ssize_t out, Py_ssize_t kernel,
                                   Py_ssize_t stride, Py_ssize_t dilation) noexcept nogil:
    """Length of an axis padded so that every read is inside: the image after
    `pad` zeros, and zeros up to the last position the last output reads."""
    return max(pad + size, (out - 1) * stride + (kernel - 1) * dilation + 1)


def padded_image_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride,
                      tuple padding, tuple dilation):
    """Elements of one zero-padded image (C, Dp, Hp, Wp) for the implicit GEMM."""
    cdef Py_ssize_t axis, size = input_shape[1]
    for axis in range(3):
        size *= padded_size(input_shape[2 + axis], padding[axis], output_shape[2 + axis], kernel[axis],
                            stride[axis], dilation[axis])
    return size


cdef conv_columns padded_columns(const Geometry* g) noexcept nogil:
    """The packers' view of g's images once zero-padded (csrc/im2col_pack.h):
    every read inside, no padding left to handle. image: set per image."""
    cdef conv_columns columns
    columns.image = NULL
    columns.Dp = padded_size(g.D, g.pd, g.Do, g.kd, g.sd, g.dd)
    columns.Hp = padded_size(g.H, g.ph, g.Ho, g.kh, g.sh, g.dh)
    columns.Wp = padded_size(g.W, g.pw, g.Wo, g.kw, g.sw, g.dw)
    columns.Ho, columns.Wo = g.Ho, g.Wo
    columns.kh, columns.kw, columns.K = g.kh, g.kw, g.K
    columns.sd, columns.sh, columns.sw = g.sd, g.sh, g.sw
    columns.dd, columns.dh, columns.dw = g.dd, g.dh, g.dw
    columns.ones_from = g.C * g.K          # past every row: no column of ones
    return columns


cdef inline Py_ssize_t padded_volume(const Geometry* g) noexcept nogil:
    """Elements of one zero-padded image (C, Dp, Hp, Wp)."""
    cdef conv_columns columns = padded_columns(g)
    return g.C * columns.Dp * columns.Hp * columns.Wp


cdef const float* padded_image(const float* x, const Geometry* g, const conv_columns* columns,
                               float* scratch) noexcept nogil:
    """x (C, D, H, W) zero-padded to (C, Dp, Hp, Wp) in scratch, x from
    (pd, ph, pw) on; x itself when there is nothing to pad."""
    cdef Py_ssize_t c, d, h, Dp = columns.Dp, Hp = columns.Hp, Wp = columns.Wp
    if Dp == g.D and Hp == g.H and Wp == g.W:
        return x
    memset(scratch, 0, g.C * Dp * Hp * Wp * sizeof(float))
    for c in range(g.C):
        for d in range(g.D):
            for h in range(g.H):
                memcpy(scratch + ((c * Dp + d + g.pd) * Hp + h + g.ph) * Wp + g.pw,
                       x + ((c * g.D + d) * g.H + h) * g.W, g.W * sizeof(float))
    return scratch


cdef void implicit_gemm(int m, int n, int k, const float* a, const float* packed_a, bint transposed,
                        conv_columns columns, const float* image, bint accumulate, float* c,
                        float* pack, int gemm_threads) noexcept nogil:
    """c (m, n) (+)= A (m, k) @ B, B packed from `image` (a group's first padded
    channel) as the GEMM asks for it: the columns (Cg*K, P), or transposed,
    columns^T (P, Cg*K) (and ones past row ones_from). A: `a` (row-major,
    rows k apart) or packed already (packed_a)."""
    cdef gemm_b_source source
    columns.image = image
    source.pack = conv_pack_columns_transposed if transposed else conv_pack_columns
    source.b = NULL
    source.rsb = 0
    source.csb = 0
    source.context = &columns
    minigrad_sgemm_source(m, n, k, a, k, 1, packed_a, &source, accumulate, c, n, pack, gemm_threads)


cdef void conv_forward_implicit(const float* x, const float* packed_weights, ptrdiff_t packed_size,
                                const float* bias, float* y, Py_ssize_t N, const Geometry* g,
                                int groups, float* workspace, float* pack, int num_threads,
                                int gemm_threads) noexcept nogil:
    """y[n] = weight @ im2col(x[n]) + bias with the own GEMM packing the columns
    from the image (csrc/im2col_pack.h): image by image, each zero-padded
    first (into workspace: num_threads * padded_image_size() elements) unless
    it has no padding. pack: num_threads * gemm_pack_size() elements."""
    cdef Py_ssize_t n, m, grp, tid
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef conv_columns columns = padded_columns(g)
    cdef Py_ssize_t plane = columns.Dp * columns.Hp * columns.Wp
    cdef const float* image
    cdef float* yg
    with parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        for n in prange(N, schedule="static"):
            image = padded_image(x + n * g.C * g.S, g, &columns, workspace + tid * g.C * plane)
            for grp in range(groups):
                # y_g (Mg, P) = w_g (Mg, Cg*K) @ im2col(x_g) (Cg*K, P) (+ bias_g)
                yg = y + (n * g.M + grp * Mg) * g.P
                if bias != NULL:
                    for m in range(Mg):
                        fill(yg + m * g.P, g.P, bias[grp * Mg + m])
                implicit_gemm(<int>Mg, <int>g.P, <int>(Cg * g.K), NULL,
                              packed_weights + grp * packed_size, False, columns,
                              image + grp * Cg * plane, bias != NULL, yg,
                              pack + tid * MINIGRAD_GEMM_PACK_FLOATS, gemm_threads)


cdef void conv_weight_grad_implicit(const float* x, const float* gy, float* partials, Py_ssize_t N,
                                    const Geometry* g, int groups, Py_ssize_t chunks, bint with_bias,
                                    float* workspace, float* pack, int num_threads,
                                    int gemm_threads) noexcept nogil:
    """partials[chunk] = sum over the chunk's images of grad_out[n] @ B[n],
    group by group, with the own GEMM packing B = im2col(x[n])^T from the image
    (csrc/im2col_pack.h): (M, Cg*K) per chunk, or with_bias (M, Cg*K + 1),
    B with a column of ones, whose product is the bias gradient.
    Scratch as conv_forward_implicit."""
    cdef Py_ssize_t n, grp, tid, chunk, first, stop
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int width = <int>(Cg * g.K + with_bias)          # columns of B (and of a partial)
    cdef conv_columns columns = padded_columns(g)
    cdef Py_ssize_t plane = columns.Dp * columns.Hp * columns.Wp
    cdef const float* image
    columns.ones_from = Cg * g.K
    with parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        for chunk in prange(chunks, schedule="static"):
            first = chunk * N // chunks
            stop = (chunk + 1) * N // chunks
            for n in range(first, stop):
                image = padded_image(x + n * g.C * g.S, g, &columns, workspace + tid * g.C * plane)
                for grp in range(groups):
                    # partial_g (Mg, width) (+)= grad_out_g (Mg, P) @ [im2col(x_g)^T | 1] (P, width)
                    implicit_gemm(<int>Mg, width, <int>g.P, gy + (n * g.M + grp * Mg) * g.P, NULL, True,
                                  columns, image + grp * Cg * plane, n > first,
                                  partials + (chunk * g.M + grp * Mg) * width,
                                  pack + tid * MINIGRAD_GEMM_PACK_FLOATS, gemm_threads)


def pack_columns(const float[:, :, :, :, ::1] x, tuple output_size, tuple kernel, tuple stride,
                 tuple padding, tuple dilation, int p0, int kc, int j0, int nc, bint transposed,
                 Py_ssize_t ones_from, float[::1] scratch, float[::1] packed):
    """What the implicit GEMM's packers hand the GEMM, for the tests: from image
    x[0] (C, D, H, W), block [p0 : p0+kc, j0 : j0+nc] of B = im2col(x[0]) (C*K, P),
    or with `transposed` of B = im2col(x[0])^T (P, C*K) with ones in the columns
    from ones_from on, packed into panels of NR columns (gemm_tile(); packed: at least
    ceil(nc / NR) * kc * NR elements). scratch: padded_image_size() elements."""
    cdef Py_ssize_t out_shape[5]
    cdef Py_ssize_t kernel_size[3]
    out_shape[0], out_shape[1] = 1, 1
    out_shape[2], out_shape[3], out_shape[4] = output_size
    kernel_size[0], kernel_size[1], kernel_size[2] = kernel
    cdef Geometry g = make_geometry(&x.shape[0], out_shape, kernel_size, stride, padding, dilation)
    cdef conv_columns columns = padded_columns(&g)
    cdef gemm_b_source source
    columns.image = padded_image(&x[0, 0, 0, 0, 0], &g, &columns, &scratch[0])
    columns.ones_from = ones_from
    source.pack = conv_pack_columns_transposed if transposed else conv_pack_columns
    source.context = &columns
    with nogil:
        source.pack(&source, p0, kc, j0, nc, &packed[0])


def images_per_chunk(Py_ssize_t positions, Py_ssize_t batch, Py_ssize_t target=1024):
    """Images per GEMM: enough that a GEMM has ~`target` columns (P is small
    for late layers: 14x14 = 196), never more than the batch."""
    cdef Py_ssize_t count = (target + positions - 1) // positions
    return max(1, min(count, batch))


def columns_size(tuple input_shape, tuple output_shape, tuple kernel, Py_ssize_t images,
                 Py_ssize_t rows):
    """Scratch elements one thread needs: columns of `images` images (or, with
    one image, of `rows` output rows), and with more than one image a
    (channels, images*P) staging matrix for the GEMM result."""
    C, M = input_shape[1], output_shape[1]
    K = kernel[0] * kernel[1] * kernel[2]
    P = output_shape[2] * output_shape[3] * output_shape[4]
    if images > 1:
        return C * K * P * images + max(C, M) * P * images
    return C * K * rows * output_shape[4]


def gemm_packed_size(int m, int k):
    """float32 elements of an (m, k) matrix packed for the own GEMM."""
    return minigrad_gemm_packed_a_size(m, k)


cdef void pack_weights(const float* w, int groups, int Mg, int Kcg, bint transpose,
                       float* packed) noexcept nogil:
    """Pack each group's weight matrix w_g (Mg, Cg*K), or its transpose, for the
    own GEMM: done once per call, then shared (read-only) by every thread."""
    cdef int grp
    cdef ptrdiff_t size = minigrad_gemm_packed_a_size(Kcg, Mg) if transpose else \
        minigrad_gemm_packed_a_size(Mg, Kcg)
    for grp in range(groups):
        if transpose:       # w_g^T (Cg*K, Mg): A[i][p] = w_g[p][i]
            minigrad_gemm_pack_a(Kcg, Mg, w + grp * Mg * Kcg, 1, Kcg, packed + grp * size)
        else:
            minigrad_gemm_pack_a(Mg, Kcg, w + grp * Mg * Kcg, Kcg, 1, packed + grp * size)


def conv_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] weight,
                 const floating[::1] bias, floating[:, :, :, :, ::1] out, floating[::1] workspace,
                 float[::1] pack, tuple stride, tuple padding, tuple dilation, int groups, int images,
                 int rows, int num_threads, int gemm_threads):
    """out[n] = weight @ im2col(x[n]) + bias, group by group.

    With the own GEMM (pack not empty, images == 1) and a kernel that is not
    1x1: conv_forward_implicit, image by image, the columns packed from the
    image (workspace: num_threads * padded_image_size() elements).
    Otherwise, with one image per GEMM (images == 1), the work is cut into slabs of
    `rows` output rows of one image: the slab's columns (C*K, rows*Wo) stay
    in cache, the result goes straight into out, and a 1x1 conv multiplies
    the input itself. With `images` > 1 (for BLAS, slow on narrow GEMMs)
    the images' columns sit side by side, (C*K, images*P), and the result is
    copied out per image.
    workspace: num_threads * columns_size(..., images, rows) elements.
    pack: for the own GEMM (float32, any instruction-set path), the packed weights then
    max(num_threads, gemm_threads) * gemm_pack_size() elements; empty for BLAS.
    gemm_threads: threads of each GEMM (1 unless num_threads is 1).
    bias: (M,) or empty for none.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], n, m, b, grp, tid, item, count, first_row, stop_row, offset
    cdef Py_ssize_t R = g.Do * g.Ho
    cdef Py_ssize_t slabs = (R + rows - 1) // rows if images == 1 else 1
    cdef Py_ssize_t items = N * slabs if images == 1 else (N + images - 1) // images
    cdef bint pointwise = is_pointwise(&g), has_bias = bias.shape[0] > 0
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P, pitch = <int>(images * g.P), cols, ldb
    cdef Py_ssize_t col_size = g.C * g.K * pitch
    # as columns_size(): a slab's columns, or images' columns + staged result
    cdef Py_ssize_t scratch_size = g.C * g.K * rows * g.Wo if images == 1 else col_size + g.M * pitch
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* yp = &out[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef float* packed_weights = &pack[0] if pack.shape[0] > 0 else NULL
    cdef ptrdiff_t packed_size = minigrad_gemm_packed_a_size(<int>Mg, Kcg)
    cdef float* pack_base = packed_weights + groups * packed_size if packed_weights != NULL else NULL
    cdef float* thread_pack
    cdef float* packed_w
    cdef floating* scratch
    cdef floating* result
    cdef const floating* columns
    cdef floating* y
    cdef floating beta = 1 if has_bias else 0
    # the own GEMM packs the columns straight from the image (no scratch used)
    cdef bint implicit = packed_weights != NULL and images == 1 and not pointwise

    if floating is float:
        if packed_weights != NULL:
            with nogil:
                pack_weights(wp, groups, <int>Mg, Kcg, False, packed_weights)
                if implicit:
                    conv_forward_implicit(xp, packed_weights, packed_size, bp, yp, N, &g, groups, ws,
                                          pack_base, num_threads, gemm_threads)
            if implicit:
                return
    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * scratch_size
        thread_pack = pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS if pack_base != NULL else NULL
        result = scratch + col_size                               # (M, images*P)
        for item in prange(items, schedule="static"):
            if images == 1:
                # one slab: output rows first_row .. stop_row-1 of image n
                n = item // slabs
                first_row = (item % slabs) * rows
                stop_row = min(first_row + rows, R)
                offset = first_row * g.Wo
                cols = <int>((stop_row - first_row) * g.Wo)
                y = yp + n * g.M * g.P
                if has_bias:
                    for m in range(g.M):
                        fill(y + m * g.P + offset, cols, bp[m])
                columns = slab_columns(xp + n * g.C * g.S, scratch, first_row, stop_row, pointwise, &g)
                ldb = P if pointwise else cols
                for grp in range(groups):
                    # y_g[:, slab] (Mg, cols) = w_g (Mg, Cg*K) @ columns_g (Cg*K, cols)
                    packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                    matmul(False, False, <int>Mg, cols, Kcg, wp + grp * Mg * Kcg, Kcg,
                           columns + grp * Kcg * ldb, ldb, beta, y + grp * Mg * P + offset, P,
                           packed_w, thread_pack, gemm_threads)
            else:
                n = item * images
                count = min(images, N - n)
                images_to_columns(xp + n * g.C * g.S, count, scratch, pitch, pointwise, &g)
                for grp in range(groups):
                    # result_g (Mg, count*P) = w_g (Mg, Cg*K) @ columns_g (Cg*K, count*P)
                    packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                    matmul(False, False, <int>Mg, <int>(count * P), Kcg, wp + grp * Mg * Kcg, Kcg,
                           scratch + grp * Kcg * pitch, pitch, 0, result + grp * Mg * pitch, pitch,
                           packed_w, thread_pack, gemm_threads)
                for b in range(count):
                    for m in range(g.M):
                        y = yp + ((n + b) * g.M + m) * g.P
                        if has_bias:
                            add_constant(y, result + m * pitch + b * g.P, g.P, bp[m])
                        else:
                            memcpy(y, result + m * pitch + b * g.P, g.P * sizeof(floating))


def conv_input_grad(const floating[:, :, :, :, ::1] grad_out, const floating[:, :, :, :, ::1] weight,
                    const floating[::1] bias, floating[:, :, :, :, ::1] grad_in,
                    floating[::1] workspace, float[::1] pack, tuple stride, tuple padding,
                    tuple dilation, int groups, int images, int rows, int num_threads,
                    int gemm_threads):
    """grad_in[n] = col2im(weight^T @ grad_out[n]) (+ bias): conv's adjoint.

    This is also the forward pass of the transposed convolution, whose bias
    is added per channel of grad_in (empty bias: none). Slabs of `rows`
    output rows (one image per GEMM) or `images` images per GEMM, and
    workspace and pack, as in conv_forward; the slabs of one image run in
    order on one thread, since col2im adds them into the same input rows.
    """
    cdef Geometry g = make_geometry(&grad_in.shape[0], &grad_out.shape[0],
                                    &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = grad_in.shape[0], n, b, c, grp, tid, item, count, slab
    cdef Py_ssize_t first_row, stop_row, offset
    cdef Py_ssize_t R = g.Do * g.Ho
    cdef Py_ssize_t slabs = (R + rows - 1) // rows if images == 1 else 1
    cdef Py_ssize_t items = N if images == 1 else (N + images - 1) // images
    cdef bint pointwise = is_pointwise(&g), has_bias = bias.shape[0] > 0
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P, pitch = <int>(images * g.P), cols, ldc
    cdef Py_ssize_t col_size = g.C * g.K * pitch
    # as columns_size(): a slab's columns, or images' columns + staged grad_out
    cdef Py_ssize_t scratch_size = g.C * g.K * rows * g.Wo if images == 1 else col_size + g.M * pitch
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef const floating* wp = &weight[0, 0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if has_bias else NULL
    cdef floating* gxp = &grad_in[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef float* packed_weights = &pack[0] if pack.shape[0] > 0 else NULL
    cdef ptrdiff_t packed_size = minigrad_gemm_packed_a_size(Kcg, <int>Mg)
    cdef float* pack_base = packed_weights + groups * packed_size if packed_weights != NULL else NULL
    cdef float* thread_pack
    cdef float* packed_w
    cdef floating* scratch
    cdef floating* staged
    cdef const floating* gy
    cdef floating* gx
    cdef floating* dcol
    cdef floating beta

    if floating is float:
        if packed_weights != NULL:
            with nogil:
                pack_weights(wp, groups, <int>Mg, Kcg, True, packed_weights)
    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * scratch_size
        thread_pack = pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS if pack_base != NULL else NULL
        staged = scratch + col_size                               # (M, images*P)
        for item in prange(items, schedule="static"):
            n = item * images
            count = 1 if images == 1 else min(images, N - n)
            gx = gxp + n * g.C * g.S
            for c in range(count * g.C):
                if has_bias:
                    fill(gx + c * g.S, g.S, bp[c % g.C])
                elif not (pointwise and images == 1):
                    memset(gx + c * g.S, 0, g.S * sizeof(floating))
            if images == 1:
                for slab in range(slabs):
                    first_row = slab * rows
                    stop_row = min(first_row + rows, R)
                    offset = first_row * g.Wo
                    cols = <int>((stop_row - first_row) * g.Wo)
                    gy = gyp + n * g.M * g.P + offset             # (M, cols), rows P apart
                    # 1x1: the columns' gradient is grad_in[n] itself (rows P apart).
                    dcol = gx + offset if pointwise else scratch
                    ldc = P if pointwise else cols
                    beta = 1 if (pointwise and has_bias) else 0
                    for grp in range(groups):
                        # dcol_g (Cg*K, cols) = w_g^T (Cg*K, Mg) @ grad_out_g[:, slab] (Mg, cols)
                        packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                        matmul(True, False, Kcg, cols, <int>Mg, wp + grp * Mg * Kcg, Kcg,
                               gy + grp * Mg * P, P, beta, dcol + grp * Kcg * ldc, ldc,
                               packed_w, thread_pack, gemm_threads)
                    if not pointwise:
                        for c in range(g.C):
                            col2im_rows(scratch + c * g.K * cols, cols, first_row, stop_row,
                                        gx + c * g.S, &g)
            else:
                gather_images(gyp + n * g.M * g.P, count, g.M, g.P, staged, pitch)
                for grp in range(groups):
                    # dcol_g (Cg*K, count*P) = w_g^T (Cg*K, Mg) @ grad_out_g (Mg, count*P)
                    packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                    matmul(True, False, Kcg, <int>(count * P), <int>Mg, wp + grp * Mg * Kcg, Kcg,
                           staged + grp * Mg * pitch, pitch, 0, scratch + grp * Kcg * pitch, pitch,
                           packed_w, thread_pack, gemm_threads)
                for b in range(count):
                    for c in range(g.C):
                        if pointwise:
                            add_rows(gx + (b * g.C + c) * g.S, scratch + c * pitch + b * g.P, g.P)
                        else:
                            col2im_plane_pitched(scratch + c * g.K * pitch + b * g.P, pitch,
                                                 gx + (b * g.C + c) * g.S, &g)


def conv_weight_grad(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                     floating[:, :, :, :, ::1] grad_weight, floating[::1] grad_bias,
                     floating[::1] workspace, float[::1] pack, tuple stride, tuple padding,
                     tuple dilation, int groups, int chunks, int images, int rows, int num_threads,
                     int gemm_threads):
    """grad_weight = sum over images of grad_out[n] @ im2col(x[n])^T, group by group.

    With the own GEMM (pack not empty, images == 1) the GEMM packs the
    columns from the image, and a non-empty grad_bias (M,) gets the bias
    gradient from the same GEMM (a column of ones); with BLAS grad_bias must
    be empty (the caller sums grad_out itself).

    The batch is cut into `chunks` fixed ranges (a number that does not
    depend on the thread count); each chunk sums its images into its own
    partial result, and the partials are added in chunk order: the same
    result for any number of threads. Within a chunk, one image at a time
    in slabs of `rows` output rows (images == 1), or `images` images per GEMM.
    workspace: num_threads * columns_size(..., images, rows) + chunks * grad_weight.size elements,
    or with the own GEMM num_threads * padded_image_size() + chunks * (grad_weight.size + M).
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0],
                                    &grad_weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], n, c, grp, tid, chunk, first, stop, j, count, slab
    cdef Py_ssize_t first_row, stop_row, offset
    cdef Py_ssize_t R = g.Do * g.Ho
    cdef Py_ssize_t slabs = (R + rows - 1) // rows if images == 1 else 1
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K), P = <int>g.P, pitch = <int>(images * g.P), cols, ldb
    cdef Py_ssize_t col_size = g.C * g.K * pitch
    # as columns_size(): a slab's columns, or images' columns + staged grad_out
    cdef Py_ssize_t scratch_size = g.C * g.K * rows * g.Wo if images == 1 else col_size + g.M * pitch
    cdef Py_ssize_t weight_size = g.M * Cg * g.K
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef float* pack_base = &pack[0] if pack.shape[0] > 0 else NULL
    cdef float* thread_pack
    cdef floating* partials = ws + num_threads * scratch_size
    cdef floating* scratch
    cdef floating* staged
    cdef floating* partial
    cdef const floating* columns
    cdef const floating* gy
    cdef floating beta, total
    # the own GEMM packs the columns straight from the (padded) image
    cdef bint implicit = pack_base != NULL and images == 1
    cdef bint with_bias = grad_bias.shape[0] > 0
    cdef Py_ssize_t width = Kcg + with_bias, m
    if with_bias and not implicit:
        raise ValueError("conv_weight_grad: grad_bias needs the own GEMM")
    if implicit:
        scratch_size = padded_volume(&g)
        partials = ws + num_threads * scratch_size

    if floating is float:
        if implicit:
            with nogil:
                conv_weight_grad_implicit(xp, gyp, partials, N, &g, groups, chunks, with_bias, ws,
                                          pack_base, num_threads, gemm_threads)
                # partials (chunks, M, width): add them up in chunk order
                for j in prange(g.M * width, schedule="static", num_threads=num_threads):
                    total = partials[j]
                    for chunk in range(1, chunks):
                        total = total + partials[chunk * g.M * width + j]
                    m = j // width
                    if j - m * width < Kcg:
                        gwp[m * Kcg + j - m * width] = total
                    else:
                        grad_bias[m] = total
            return
    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * scratch_size
        thread_pack = pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS if pack_base != NULL else NULL
        staged = scratch + col_size
        for chunk in prange(chunks, schedule="static"):
            first = chunk * N // chunks
            stop = (chunk + 1) * N // chunks
            partial = partials + chunk * weight_size
            n = first
            while n < stop:
                if images == 1:
                    for slab in range(slabs):
                        first_row = slab * rows
                        stop_row = min(first_row + rows, R)
                        offset = first_row * g.Wo
                        cols = <int>((stop_row - first_row) * g.Wo)
                        columns = slab_columns(xp + n * g.C * g.S, scratch, first_row, stop_row,
                                               pointwise, &g)
                        ldb = P if pointwise else cols
                        gy = gyp + n * g.M * g.P + offset          # (M, cols), rows P apart
                        beta = 0 if (n == first and slab == 0) else 1
                        for grp in range(groups):
                            # partial_g (Mg, Cg*K) += grad_out_g[:, slab] (Mg, cols)
                            #                        @ columns_g^T (cols, Cg*K)
                            matmul(False, True, <int>Mg, Kcg, cols, gy + grp * Mg * P, P,
                                   columns + grp * Kcg * ldb, ldb, beta, partial + grp * Mg * Kcg, Kcg,
                                   NULL, thread_pack, gemm_threads)
                    n = n + 1
                else:
                    count = min(images, stop - n)
                    images_to_columns(xp + n * g.C * g.S, count, scratch, pitch, pointwise, &g)
                    gather_images(gyp + n * g.M * g.P, count, g.M, g.P, staged, pitch)
                    beta = 0 if n == first else 1
                    for grp in range(groups):
                        # partial_g (Mg, Cg*K) += grad_out_g (Mg, count*P) @ columns_g^T (count*P, Cg*K)
                        matmul(False, True, <int>Mg, Kcg, <int>(count * P), staged + grp * Mg * pitch,
                               pitch, scratch + grp * Kcg * pitch, pitch, beta,
                               partial + grp * Mg * Kcg, Kcg, NULL, thread_pack, gemm_threads)
                    n = n + count

    for j in prange(weight_size, nogil=True, schedule="static", num_threads=num_threads):
        total = partials[j]
        for chunk in range(1, chunks):
            total = total + partials[chunk * weight_size + j]
        gwp[j] = total


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module
