# cython: language_level=3
"""Convolution kernels: im2col / col2im, the im2col GEMMs and the implicit GEMM.

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
and positions outside [0, size) read zero padding (csrc/conv_geometry.pxd).
The output sizes are passed in (they are the output array's shape), so
asymmetric padding ('same' with an even kernel) and transposed convolution's
output_padding need nothing special here.

One entry point per algorithm (minigrad/kernels/conv_plan.py chooses):

- implicit_gemm_forward, implicit_gemm_weight_grad: the own GEMM
  (csrc/gemm.h, float32) packs its B blocks straight from the zero-padded
  image (csrc/im2col_pack.h), so no column matrix is ever written;
- im2col_gemm_forward, col2im_gemm_input_grad, im2col_gemm_weight_grad: the
  columns are written (in slabs of output rows that stay in cache, or a few
  images side by side when each has few positions), then one GEMM per group:
  the own GEMM where the caller passes its packing scratch, else scipy's BLAS
  (float64, ``MINIGRAD_GEMM=blas``), held to one thread by minigrad/kernels/blas.py;
- im2col, col2im: the column matrix itself.
Depthwise convolutions (groups == C) are direct loops in csrc/depthwise.pyx.

Parallel loops run over images (or chunks of images), or over (image,
channel) planes: each output element has exactly one writer, and every sum
is done in a fixed order, so results are bitwise identical for any thread
count. The own GEMM gets all the threads (`gemm_threads`) when only one
OpenMP thread has work. Scratch memory is a workspace array the caller owns
and reuses, one slice per thread, sized by the *_size functions below (the
kernels index it with the same functions), so no kernel allocates.

Reference: minigrad/reference/conv.py (im2col, col2im, conv, conv_input_grad,
conv_weight_grad, pack_columns).
"""
from cython.parallel cimport parallel, prange
from libc.stddef cimport ptrdiff_t
from libc.string cimport memcpy, memset
from cython cimport floating

from conv_geometry cimport Geometry, fill, geometry_from_tuples, input_row, make_geometry, shape5, valid_range
from gemm_calls cimport (MINIGRAD_GEMM_PACK_FLOATS, gemm_b_source, matmul, minigrad_gemm_available,
                         minigrad_gemm_pack_a, minigrad_gemm_packed_a_size, minigrad_sgemm,
                         minigrad_sgemm_source, pack_weights)
from im2col_rows cimport add_row, copy_row, next_output_rows, rows_in_run, zero_padding_columns
from omp_compat cimport omp_get_thread_num


cdef inline bint is_pointwise(const Geometry* g) noexcept nogil:
    """1x1 kernel, stride 1, no padding: the columns are the input itself."""
    return (g.K == 1 and g.sd == 1 and g.sh == 1 and g.sw == 1 and g.pd == 0 and g.ph == 0
            and g.pw == 0 and g.D == g.Do and g.H == g.Ho and g.W == g.Wo)


# ---------------------------------------------------------------------------
# im2col / col2im of one channel plane: for every kernel tap (a, b, c), every
# output row reads one input row, shifted by c*dilation - padding.
# ---------------------------------------------------------------------------

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
    cdef Geometry g = geometry_from_tuples(shape5(x.shape), (x.shape[0], x.shape[1]) + output_size, kernel,
                                           stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], plane
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef floating* cp = &col[0, 0, 0]
    for plane in prange(N * g.C, nogil=True, schedule="static", num_threads=num_threads):
        im2col_plane(xp + plane * g.S, cp + plane * g.K * g.P, &g)


def col2im(floating[:, :, ::1] col, floating[:, :, :, :, ::1] x, tuple output_size,
           tuple kernel, tuple stride, tuple padding, tuple dilation, int num_threads):
    """col (N, C*K, P) -> x (N, C, D, H, W), overwritten; one writer per plane.
    col's entries that read the padding are zeroed (see col2im_rows)."""
    cdef Geometry g = geometry_from_tuples(shape5(x.shape), (x.shape[0], x.shape[1]) + output_size, kernel,
                                           stride, padding, dilation)
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
# Scratch sizes: the kernels index their workspace with these, and the
# planner (minigrad/kernels/conv_plan.py) sizes it with their def versions.
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t columns_per_thread(const Geometry* g, Py_ssize_t images,
                                          Py_ssize_t rows) noexcept nogil:
    """Scratch elements one thread of the im2col GEMMs needs: the columns of
    one slab of `rows` output rows (images == 1), or of `images` images side
    by side (C*K, images*P) and a (max(C, M), images*P) staging matrix."""
    if images > 1:
        return g.C * g.K * g.P * images + max(g.C, g.M) * g.P * images
    return g.C * g.K * rows * g.Wo


def columns_size(tuple input_shape, tuple output_shape, tuple kernel, Py_ssize_t images,
                 Py_ssize_t rows):
    """columns_per_thread for these shapes (input (N, C, D, H, W), output (N, M, Do, Ho, Wo))."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, (1, 1, 1), (0, 0, 0),
                                           (1, 1, 1))
    return columns_per_thread(&g, images, rows)


# ---------------------------------------------------------------------------
# Implicit GEMM (csrc/im2col_pack.h): the own GEMM packs its B blocks straight
# from the image, so the column matrix is never written.
# ---------------------------------------------------------------------------

# The bias gradient: grad_out summed over positions, image by image while the
# weight gradient has the image in cache; each row in double (float32 runs,
# csrc/lane_sums.h, the order fixed per path).
cdef extern from "lane_sums.h" nogil:
    double centred_sum_f(const float* x, Py_ssize_t n, float high, float low)


cdef inline void add_position_sums(const float* gy, Py_ssize_t M, Py_ssize_t P, double* sums) noexcept nogil:
    """sums[m] += sum over positions p of gy[m, p], gy (M, P): one image's bias gradient."""
    cdef Py_ssize_t m
    for m in range(M):
        sums[m] = sums[m] + centred_sum_f(gy + m * P, P, 0, 0)


cdef check_bias_sums(str kernel, Py_ssize_t bias, Py_ssize_t rows, Py_ssize_t columns, Py_ssize_t chunks,
                     Py_ssize_t M):
    """ValueError unless grad_bias (bias,) and bias_sums (rows, columns) fit M channels and
    `chunks` chunks (or grad_bias is empty: no bias gradient)."""
    if bias != 0 and (bias != M or rows < chunks or columns != M):
        raise ValueError(f"{kernel}: grad_bias ({bias},) and bias_sums ({rows}, {columns}) must be "
                         f"({M},) and ({chunks}, {M}) for {M} channels and {chunks} chunks")


cdef inline void merge_position_sums(const double* sums, Py_ssize_t chunks, Py_ssize_t M,
                                     float* grad_bias) noexcept nogil:
    """grad_bias[m] = the chunks' sums (chunks, M) added in chunk order, rounded once."""
    cdef Py_ssize_t m, chunk
    cdef double total
    for m in range(M):
        total = sums[m]
        for chunk in range(1, chunks):
            total = total + sums[chunk * M + m]
        grad_bias[m] = <float>total


cdef extern from "im2col_pack.h" nogil:
    ctypedef struct conv_columns:
        const float* image
        ptrdiff_t Dp, Hp, Wp, Ho, Wo, kh, kw, K, sd, sh, sw, dd, dh, dw, P, image_stride
    void conv_pack_columns(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                           float* packed)
    void conv_pack_columns_transposed(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                                      float* packed)


cdef inline Py_ssize_t padded_size(Py_ssize_t size, Py_ssize_t pad, Py_ssize_t out, Py_ssize_t kernel,
                                   Py_ssize_t stride, Py_ssize_t dilation) noexcept nogil:
    """Length of an axis padded so that every read is inside: the image after
    `pad` zeros, and zeros up to the last position the last output reads."""
    return max(pad + size, (out - 1) * stride + (kernel - 1) * dilation + 1)


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
    columns.P = g.P
    columns.image_stride = g.C * columns.Dp * columns.Hp * columns.Wp     # images padded side by side
    return columns


cdef inline Py_ssize_t padded_volume(const Geometry* g) noexcept nogil:
    """Elements of one zero-padded image (C, Dp, Hp, Wp)."""
    cdef conv_columns columns = padded_columns(g)
    return g.C * columns.Dp * columns.Hp * columns.Wp


cdef const float* padded_image(const float* x, const Geometry* g, const conv_columns* columns,
                               float* scratch) noexcept nogil:
    """x (C, D, H, W) zero-padded to (C, Dp, Hp, Wp) in scratch, x from
    (pd, ph, pw) on; x itself when there is nothing to pad."""
    if columns.Dp == g.D and columns.Hp == g.H and columns.Wp == g.W:
        return x
    padded_copy(x, g, columns, scratch)
    return scratch


cdef void padded_copy(const float* x, const Geometry* g, const conv_columns* columns,
                      float* scratch) noexcept nogil:
    """scratch (C, Dp, Hp, Wp) = x (C, D, H, W) zero-padded, x from (pd, ph, pw) on."""
    cdef Py_ssize_t c, d, h, Dp = columns.Dp, Hp = columns.Hp, Wp = columns.Wp
    memset(scratch, 0, g.C * Dp * Hp * Wp * sizeof(float))
    for c in range(g.C):
        for d in range(g.D):
            for h in range(g.H):
                memcpy(scratch + ((c * Dp + d + g.pd) * Hp + h + g.ph) * Wp + g.pw,
                       x + ((c * g.D + d) * g.H + h) * g.W, g.W * sizeof(float))


cdef void implicit_gemm(int m, int n, int k, const float* a, const float* packed_a, bint transposed,
                        conv_columns columns, const float* image, bint accumulate, float* c,
                        float* pack, int gemm_threads) noexcept nogil:
    """c (m, n) (+)= A (m, k) @ B, B packed from `image` (a group's first padded
    channel) as the GEMM asks for it: the columns (Cg*K, P), or transposed,
    columns^T (P, Cg*K). A: `a` (row-major,
    rows k apart) or packed already (packed_a)."""
    cdef gemm_b_source source
    columns.image = image
    source.pack = conv_pack_columns_transposed if transposed else conv_pack_columns
    source.b = NULL
    source.rsb = 0
    source.csb = 0
    source.context = &columns
    minigrad_sgemm_source(m, n, k, a, k, 1, packed_a, &source, accumulate, c, n, pack, gemm_threads)


cdef const float* padded_images(const float* x, Py_ssize_t count, const Geometry* g,
                                const conv_columns* columns, float* scratch) noexcept nogil:
    """`count` consecutive images of x (C, D, H, W) zero-padded side by side in
    scratch, image_stride apart; x itself when there is nothing to pad (its
    images are then just as far apart)."""
    cdef Py_ssize_t b
    if padded_image(x, g, columns, scratch) == x:
        return x
    for b in range(1, count):
        padded_image(x + b * g.C * g.S, g, columns, scratch + b * columns.image_stride)
    return scratch


def padded_image_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride,
                      tuple padding, tuple dilation):
    """Elements of one zero-padded image (C, Dp, Hp, Wp): the implicit GEMM's scratch per thread."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, padding, dilation)
    return padded_volume(&g)


def implicit_forward_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride,
                          tuple padding, tuple dilation, int groups, Py_ssize_t images):
    """Workspace elements per thread of implicit_gemm_forward with `images` images
    per GEMM: their padded images, and for images > 1 a group's result (M/groups, images*P)."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, padding, dilation)
    return images * padded_volume(&g) + (g.M // groups * images * g.P if images > 1 else 0)



def implicit_gemm_forward(const float[:, :, :, :, ::1] x, const float[:, :, :, :, ::1] weight,
                          const float[::1] bias, float[:, :, :, :, ::1] out, float[::1] workspace,
                          float[::1] pack, tuple stride, tuple padding, tuple dilation, int groups,
                          int images, int num_threads, int gemm_threads):
    """out[n] = weight @ im2col(x[n]) + bias, group by group, with the own GEMM
    packing the columns from the image (csrc/im2col_pack.h): images in
    parallel, each zero-padded first into this thread's workspace slice unless
    it has no padding.

    images > 1 (small images): that many images side by side in one GEMM,
    whose columns (Cg*K, images*P) then fill the GEMM's panels (7x7 is 49
    columns: 4 panels of 16, a quarter empty); the result goes through the
    workspace and is copied out per image. The sums are the same either way.

    workspace: num_threads * implicit_forward_size() elements; pack: the packed
    weights (groups * gemm_packed_size(Mg, Cg*K)), then
    max(num_threads, gemm_threads) * gemm_pack_size() elements; bias: (M,) or empty.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0], &weight.shape[2], stride, padding,
                                    dilation)
    cdef Py_ssize_t N = x.shape[0], n, m, b, grp, tid, item, count
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef int Kcg = <int>(Cg * g.K)
    cdef conv_columns columns = padded_columns(&g)
    cdef Py_ssize_t plane = columns.Dp * columns.Hp * columns.Wp
    cdef Py_ssize_t items
    cdef Py_ssize_t scratch_size = images * padded_volume(&g) + (Mg * images * g.P if images > 1 else 0)
    cdef bint has_bias = bias.shape[0] > 0
    cdef const float* xp = &x[0, 0, 0, 0, 0]
    cdef const float* bp = &bias[0] if has_bias else NULL
    cdef float* yp = &out[0, 0, 0, 0, 0]
    cdef float* ws = &workspace[0]
    cdef float* packed_weights = &pack[0]
    cdef ptrdiff_t packed_size = minigrad_gemm_packed_a_size(<int>Mg, Kcg)
    cdef float* pack_base = packed_weights + groups * packed_size
    cdef const float* image
    cdef float* yg
    cdef float* result
    if images < 1:
        raise ValueError(f"implicit_gemm_forward: images must be at least 1, got {images}")
    if workspace.shape[0] < num_threads * scratch_size:
        raise ValueError(f"implicit_gemm_forward: images={images} needs a workspace of "
                         f"{num_threads * scratch_size} floats, got {workspace.shape[0]}")
    items = (N + images - 1) // images
    with nogil:
        pack_weights(&weight[0, 0, 0, 0, 0], groups, <int>Mg, Kcg, False, packed_weights)
        with parallel(num_threads=num_threads):
            tid = omp_get_thread_num()
            for item in prange(items, schedule="static"):
                n = item * images
                count = min(images, N - n)
                image = padded_images(xp + n * g.C * g.S, count, &g, &columns, ws + tid * scratch_size)
                result = ws + tid * scratch_size + images * padded_volume(&g)      # (Mg, count*P)
                for grp in range(groups):
                    if count == 1:
                        # y_g (Mg, P) = w_g (Mg, Cg*K) @ im2col(x_g) (Cg*K, P) (+ bias_g)
                        yg = yp + (n * g.M + grp * Mg) * g.P
                        implicit_gemm(<int>Mg, <int>g.P, Kcg, NULL, packed_weights + grp * packed_size,
                                      False, columns, image + grp * Cg * plane, False, yg,
                                      pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS, gemm_threads)
                        if has_bias:   # y_g is in cache now (filling it first was a pass through memory)
                            for m in range(Mg):
                                add_constant(yg + m * g.P, yg + m * g.P, g.P, bp[grp * Mg + m])
                        continue
                    # result (Mg, count*P) = w_g (Mg, Cg*K) @ [im2col(x_g[n]) | ... | im2col(x_g[n+count-1])]
                    implicit_gemm(<int>Mg, <int>(count * g.P), Kcg, NULL, packed_weights + grp * packed_size,
                                  False, columns, image + grp * Cg * plane, False, result,
                                  pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS, gemm_threads)
                    for b in range(count):
                        for m in range(Mg):
                            yg = yp + ((n + b) * g.M + grp * Mg + m) * g.P
                            if has_bias:
                                add_constant(yg, result + (m * count + b) * g.P, g.P, bp[grp * Mg + m])
                            else:
                                memcpy(yg, result + (m * count + b) * g.P, g.P * sizeof(float))


def implicit_gemm_weight_grad(const float[:, :, :, :, ::1] x, const float[:, :, :, :, ::1] grad_out,
                              float[:, :, :, :, ::1] grad_weight, float[::1] grad_bias,
                              double[:, ::1] bias_sums, float[::1] workspace, float[::1] pack,
                              tuple stride, tuple padding, tuple dilation, int groups, int chunks,
                              int num_threads, int gemm_threads):
    """grad_weight = sum over images of grad_out[n] @ im2col(x[n])^T, group by group,
    with the own GEMM packing B = im2col(x[n])^T from the padded image; a
    non-empty grad_bias (M,) gets the bias gradient, grad_out summed over
    positions, each image's right after its GEMM (bias_sums (chunks, M): the
    chunks' sums; a column of ones in B would cost a whole extra panel of the
    GEMM where Cg*K fills its panels).

    The batch is cut into `chunks` fixed ranges (a number that does not
    depend on the thread count); each chunk sums its images into its own
    partial result (M, Cg*K), and the partials are added in chunk order:
    the same result for any number of threads.
    workspace: weight_grad_size(..., images=0) elements; pack:
    max(num_threads, gemm_threads) * gemm_pack_size() elements.
    """
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0], &grad_weight.shape[2], stride,
                                    padding, dilation)
    cdef Py_ssize_t N = x.shape[0], n, grp, tid, chunk, first, stop, j
    cdef Py_ssize_t Cg = g.C // groups, Mg = g.M // groups
    cdef bint with_bias = grad_bias.shape[0] > 0
    cdef int width = <int>(Cg * g.K)                                        # columns of B and of a partial
    cdef conv_columns columns = padded_columns(&g)
    cdef Py_ssize_t plane = columns.Dp * columns.Hp * columns.Wp, scratch_size = padded_volume(&g)
    cdef const float* xp = &x[0, 0, 0, 0, 0]
    cdef const float* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef float* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef float* ws = &workspace[0]
    cdef float* partials = ws + num_threads * scratch_size                  # (chunks, M, width)
    cdef float* pack_base = &pack[0]
    cdef double* sums = NULL                                            # (chunks, M), from 0
    cdef const float* image
    cdef float total
    check_bias_sums("implicit_gemm_weight_grad", grad_bias.shape[0], bias_sums.shape[0], bias_sums.shape[1],
                    chunks, g.M)
    if with_bias:
        sums = &bias_sums[0, 0]
        memset(sums, 0, chunks * g.M * sizeof(double))
    with nogil:
        with parallel(num_threads=num_threads):
            tid = omp_get_thread_num()
            for chunk in prange(chunks, schedule="static"):
                first = chunk * N // chunks
                stop = (chunk + 1) * N // chunks
                for n in range(first, stop):
                    image = padded_image(xp + n * g.C * g.S, &g, &columns, ws + tid * scratch_size)
                    for grp in range(groups):
                        # partial_g (Mg, width) (+)= grad_out_g (Mg, P) @ im2col(x_g)^T (P, width)
                        implicit_gemm(<int>Mg, width, <int>g.P, gyp + (n * g.M + grp * Mg) * g.P, NULL,
                                      True, columns, image + grp * Cg * plane, n > first,
                                      partials + (chunk * g.M + grp * Mg) * width,
                                      pack_base + tid * MINIGRAD_GEMM_PACK_FLOATS, gemm_threads)
                    if with_bias:     # grad_out[n] (M, P), still in cache
                        add_position_sums(gyp + n * g.M * g.P, g.M, g.P, sums + chunk * g.M)
        # partials (chunks, M, width): add them up in chunk order
        for j in prange(g.M * width, schedule="static", num_threads=num_threads):
            total = partials[j]
            for chunk in range(1, chunks):
                total = total + partials[chunk * g.M * width + j]
            gwp[j] = total
        if with_bias:
            merge_position_sums(sums, chunks, g.M, &grad_bias[0])


def weight_grad_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride, tuple padding,
                     tuple dilation, int groups, Py_ssize_t chunks, Py_ssize_t images, Py_ssize_t rows,
                     int num_threads):
    """Workspace elements of a weight gradient: the threads' scratch, then `chunks`
    partial results (M, Cg*K). images == 0: implicit_gemm_weight_grad (a padded
    image per thread); else im2col_gemm_weight_grad (columns_per_thread each)."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, padding, dilation)
    cdef Py_ssize_t weight_size = g.M * (g.C // groups) * g.K
    if images == 0:
        return num_threads * padded_volume(&g) + chunks * weight_size
    return num_threads * columns_per_thread(&g, images, rows) + chunks * weight_size


# ---------------------------------------------------------------------------
# The weight gradient by broadcast taps (groups == 1, float32): no packing.
# gw[m, r] = sum over images n and positions p of dy[n, m, p] * im2col(x[n])[r, p];
# csrc/tap_broadcast.h holds R rows r x a few vectors of channels m in
# registers and broadcasts im2col(x[n])[r, p] straight from the padded image.
# ---------------------------------------------------------------------------

cdef extern from "tap_broadcast.h" nogil:
    ctypedef struct tap_geometry:
        ptrdiff_t C, Dp, Hp, Wp, kd, kh, kw, dd, dh, dw, Do, Ho, Wo, step_d, step_h, sw
    int minigrad_tap_broadcast_available()
    ptrdiff_t tap_broadcast_lanes()
    void tap_transpose(const float* gy, ptrdiff_t M, ptrdiff_t P, float* dyt, ptrdiff_t pitch)
    void tap_broadcast_f32(const float* image, const tap_geometry* t, const float* dyt, ptrdiff_t pitch,
                           ptrdiff_t images, ptrdiff_t image_step, float* sums, int accumulate)
    ptrdiff_t tap_images_per_walk(ptrdiff_t Do, ptrdiff_t P, ptrdiff_t pitch)
    ptrdiff_t tap_row_offset(const tap_geometry* t, ptrdiff_t r)
    void tap_pack_panels(const float* w, ptrdiff_t M, ptrdiff_t rows, ptrdiff_t lanes, ptrdiff_t pitch,
                         float* panels)
    void tap_forward_f32(const float* image, const tap_geometry* t, const float* panels,
                         const ptrdiff_t* offset, ptrdiff_t pitch, ptrdiff_t row_pitch, ptrdiff_t h0,
                         ptrdiff_t h1, float* out_t)
    void tap_untranspose(const float* out_t, ptrdiff_t pitch, ptrdiff_t row_pitch, const tap_geometry* t,
                         ptrdiff_t M, const float* bias, ptrdiff_t h0, ptrdiff_t h1, float* out)
    enum: TAP_MAX_POSITIONS


def tap_broadcast_available():
    """Whether this build has the broadcast-tap weight gradient (GCC-style vectors)."""
    return bool(minigrad_tap_broadcast_available())


def tap_lanes():
    """Floats per vector of the broadcast-tap weight gradient on the current path."""
    return tap_broadcast_lanes()


cdef inline Py_ssize_t tap_pitch(Py_ssize_t M) noexcept nogil:
    """Output channels rounded up to whole vectors of the current path."""
    cdef Py_ssize_t lanes = tap_broadcast_lanes()
    return (M + lanes - 1) // lanes * lanes


cdef tap_geometry tap_view(const Geometry* g, const conv_columns* columns) noexcept nogil:
    """The broadcast-tap kernels' view of g's padded images."""
    cdef tap_geometry t
    t.C, t.Dp, t.Hp, t.Wp = g.C, columns.Dp, columns.Hp, columns.Wp
    t.kd, t.kh, t.kw, t.dd, t.dh, t.dw = g.kd, g.kh, g.kw, g.dd, g.dh, g.dw
    t.Do, t.Ho, t.Wo = g.Do, g.Ho, g.Wo
    t.step_d, t.step_h, t.sw = g.sd * columns.Hp * columns.Wp, g.sh * columns.Wp, g.sw
    return t


cdef inline Py_ssize_t tap_row_pitch(const Geometry* g, const conv_columns* columns) noexcept nogil:
    """out_t's rows per output row in tap_forward: the padded width where an
    output plane may be walked as one line (stride 1), else the output width."""
    return columns.Wp if g.sh == 1 and g.sw == 1 else g.Wo


cdef inline Py_ssize_t tap_forward_scratch(const Geometry* g, const conv_columns* columns) noexcept nogil:
    """Per thread: the padded image, zeros for the reads past its end, out_t."""
    return (padded_volume(g) + TAP_MAX_POSITIONS * g.sw
            + g.Do * g.Ho * tap_row_pitch(g, columns) * tap_pitch(g.M))


def tap_broadcast_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride, tuple padding,
                       tuple dilation, Py_ssize_t chunks, int num_threads):
    """Workspace elements of tap_broadcast_weight_grad on the current path: per
    thread the padded images and output gradients channels-last (P, pitch) of
    one walk (tap_images_per_walk), then `chunks` partial sums (C*K, pitch)."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, padding, dilation)
    cdef Py_ssize_t pitch = tap_pitch(g.M), images = tap_images_per_walk(g.Do, g.P, pitch)
    return num_threads * images * (padded_volume(&g) + g.P * pitch) + chunks * g.C * g.K * pitch


def tap_broadcast_weight_grad(const float[:, :, :, :, ::1] x, const float[:, :, :, :, ::1] grad_out,
                              float[:, :, :, :, ::1] grad_weight, float[::1] grad_bias,
                              double[:, ::1] bias_sums, float[::1] workspace, tuple stride,
                              tuple padding, tuple dilation, int chunks, int num_threads):
    """grad_weight (M, C, kd, kh, kw) = sum over images of grad_out[n] @ im2col(x[n])^T
    (groups == 1), by broadcast taps (csrc/tap_broadcast.h); a non-empty
    grad_bias (M,) gets the bias gradient, grad_out summed over positions,
    each image's as it is transposed (bias_sums (chunks, M): the chunks' sums).

    The batch is cut into `chunks` fixed ranges (a number that does not depend
    on the thread count); each sums its images into its own partial (C*K,
    pitch), and the partials are added in chunk order: the same result for any
    number of threads. Small one-plane images are walked several at a time
    (tap_images_per_walk), in order. workspace: tap_broadcast_size(...) elements."""
    cdef Geometry g = make_geometry(&x.shape[0], &grad_out.shape[0], &grad_weight.shape[2], stride,
                                    padding, dilation)
    cdef Py_ssize_t N = x.shape[0], rows = g.C * g.K, pitch = tap_pitch(g.M)
    cdef Py_ssize_t images = tap_images_per_walk(g.Do, g.P, pitch), volume = padded_volume(&g)
    cdef conv_columns columns = padded_columns(&g)
    cdef Py_ssize_t scratch_size = images * (volume + g.P * pitch)
    cdef Py_ssize_t n, m, r, j, chunk, first, stop, tid, i, count
    cdef const float* xp = &x[0, 0, 0, 0, 0]
    cdef const float* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef float* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef float* ws = &workspace[0]
    cdef float* partials = ws + num_threads * scratch_size                   # (chunks, rows, pitch)
    cdef bint with_bias = grad_bias.shape[0] > 0
    cdef double* sums = NULL                                            # (chunks, M), from 0
    cdef float* dyt
    cdef const float* image
    cdef float total
    cdef tap_geometry t = tap_view(&g, &columns)
    check_bias_sums("tap_broadcast_weight_grad", grad_bias.shape[0], bias_sums.shape[0], bias_sums.shape[1],
                    chunks, g.M)
    if with_bias:
        sums = &bias_sums[0, 0]
        memset(sums, 0, chunks * g.M * sizeof(double))
    with nogil:
        with parallel(num_threads=num_threads):
            tid = omp_get_thread_num()
            dyt = ws + tid * scratch_size + images * volume              # (images, P, pitch)
            for chunk in prange(chunks, schedule="static"):
                first = chunk * N // chunks
                stop = (chunk + 1) * N // chunks
                n = first
                while n < stop:
                    count = min(images, stop - n)
                    for i in range(count):   # images n .. n+count-1, volume apart (x itself if unpadded)
                        image = padded_image(xp + (n + i) * g.C * g.S, &g, &columns,
                                             ws + tid * scratch_size + i * volume)
                        # dyt (P, pitch) = grad_out[n + i] (M, P) transposed, zeros past channel M
                        tap_transpose(gyp + (n + i) * g.M * g.P, g.M, g.P, dyt + i * g.P * pitch, pitch)
                        if with_bias:     # grad_out[n + i], just read
                            add_position_sums(gyp + (n + i) * g.M * g.P, g.M, g.P, sums + chunk * g.M)
                    image = image - (count - 1) * volume
                    tap_broadcast_f32(image, &t, dyt, pitch, count, volume, partials + chunk * rows * pitch,
                                      n > first)
                    n = n + count
        # partials (chunks, rows, pitch): added in chunk order into grad_weight (M, rows)
        for j in prange(g.M * rows, schedule="static", num_threads=num_threads):
            m = j // rows
            r = j - m * rows
            total = partials[r * pitch + m]
            for chunk in range(1, chunks):
                total = total + partials[(chunk * rows + r) * pitch + m]
            gwp[j] = total
        if with_bias:
            merge_position_sums(sums, chunks, g.M, &grad_bias[0])


def tap_forward_size(tuple input_shape, tuple output_shape, tuple kernel, tuple stride, tuple padding,
                     tuple dilation, int num_threads):
    """Workspace elements of tap_broadcast_forward on the current path: the
    row offsets (two floats each) and the packed weights (C*K, pitch), then
    tap_forward_scratch per thread."""
    cdef Geometry g = geometry_from_tuples(input_shape, output_shape, kernel, stride, padding, dilation)
    cdef conv_columns columns = padded_columns(&g)
    return 2 * g.C * g.K + g.C * g.K * tap_pitch(g.M) + num_threads * tap_forward_scratch(&g, &columns)


def tap_broadcast_forward(const float[:, :, :, :, ::1] x, const float[:, :, :, :, ::1] weight,
                          const float[::1] bias, float[:, :, :, :, ::1] out, float[::1] workspace,
                          tuple stride, tuple padding, tuple dilation, int parts, int num_threads):
    """out[n] = weight @ im2col(x[n]) + bias (groups == 1) by broadcast taps
    (csrc/tap_broadcast.h): images in parallel, each copied zero-padded into
    this thread's scratch, its result computed channels-last (out_t) and
    transposed into out[n] with the bias. parts > 1 (a batch smaller than the
    threads): each image's output rows in that many parts, in parallel too.
    Every output is one sum in one order, whatever the threads or parts.
    workspace: tap_forward_size(...) elements; bias: (M,) or empty."""
    cdef Geometry g = make_geometry(&x.shape[0], &out.shape[0], &weight.shape[2], stride, padding, dilation)
    cdef Py_ssize_t N = x.shape[0], rows = g.C * g.K, pitch = tap_pitch(g.M), n, r, tid, item, part
    cdef conv_columns columns = padded_columns(&g)
    cdef tap_geometry t = tap_view(&g, &columns)
    cdef Py_ssize_t row_pitch = tap_row_pitch(&g, &columns), volume = padded_volume(&g)
    cdef Py_ssize_t scratch_size = tap_forward_scratch(&g, &columns), slack = TAP_MAX_POSITIONS * g.sw
    cdef const float* xp = &x[0, 0, 0, 0, 0]
    cdef const float* bp = &bias[0] if bias.shape[0] > 0 else NULL
    cdef float* yp = &out[0, 0, 0, 0, 0]
    cdef float* ws = &workspace[0]
    cdef ptrdiff_t* offset = <ptrdiff_t*> ws                          # (rows,): two floats each
    cdef float* panels = ws + 2 * rows                                # (rows, pitch)
    cdef float* image
    cdef float* out_t
    if parts < 1:
        raise ValueError(f"tap_broadcast_forward: parts must be at least 1, got {parts}")
    if workspace.shape[0] < 2 * rows + rows * pitch + num_threads * scratch_size:
        raise ValueError(f"tap_broadcast_forward: needs a workspace of "
                         f"{2 * rows + rows * pitch + num_threads * scratch_size} floats, got {workspace.shape[0]}")
    with nogil:
        for r in range(rows):
            offset[r] = tap_row_offset(&t, r)
        tap_pack_panels(&weight[0, 0, 0, 0, 0], g.M, rows, tap_broadcast_lanes(), pitch, panels)
        with parallel(num_threads=num_threads):
            tid = omp_get_thread_num()
            image = panels + rows * pitch + tid * scratch_size
            out_t = image + volume + slack                             # (Do * Ho * row_pitch, pitch)
            for item in prange(N * parts, schedule="static"):
                n = item // parts
                part = item - n * parts
                # the padded image, always a copy: a block reads up to
                # (TAP_MAX_POSITIONS - 1) * sw floats past it, zeros here
                memset(image + volume, 0, slack * sizeof(float))
                padded_copy(xp + n * g.C * g.S, &g, &columns, image)
                tap_forward_f32(image, &t, panels, offset, pitch, row_pitch, part * g.Ho // parts,
                                (part + 1) * g.Ho // parts, out_t)
                tap_untranspose(out_t, pitch, row_pitch, &t, g.M, bp, part * g.Ho // parts,
                                (part + 1) * g.Ho // parts, yp + n * g.M * g.P)


def pack_columns(const float[:, :, :, :, ::1] x, tuple output_size, tuple kernel, tuple stride,
                 tuple padding, tuple dilation, int p0, int kc, int j0, int nc, bint transposed,
                 float[::1] scratch, float[::1] packed):
    """What the implicit GEMM's packers hand the GEMM, for the tests: from image
    x[0] (C, D, H, W), block [p0 : p0+kc, j0 : j0+nc] of B = im2col(x[0]) (C*K, P),
    or with `transposed` of B = im2col(x[0])^T (P, C*K), packed into panels of NR
    columns (gemm_tile(); packed: at least
    ceil(nc / NR) * kc * NR elements). scratch: padded_image_size() elements."""
    cdef Geometry g = geometry_from_tuples(shape5(x.shape), (1, 1) + output_size, kernel, stride, padding,
                                           dilation)
    cdef conv_columns columns = padded_columns(&g)
    cdef gemm_b_source source
    columns.image = padded_image(&x[0, 0, 0, 0, 0], &g, &columns, &scratch[0])
    source.pack = conv_pack_columns_transposed if transposed else conv_pack_columns
    source.context = &columns
    with nogil:
        source.pack(&source, p0, kc, j0, nc, &packed[0])




def im2col_gemm_forward(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] weight,
                 const floating[::1] bias, floating[:, :, :, :, ::1] out, floating[::1] workspace,
                 float[::1] pack, tuple stride, tuple padding, tuple dilation, int groups, int images,
                 int rows, int num_threads, int gemm_threads):
    """out[n] = weight @ im2col(x[n]) + bias, group by group, the columns written.

    With one image per GEMM (images == 1), the work is cut into slabs of
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
    cdef Py_ssize_t scratch_size = columns_per_thread(&g, images, rows)
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

    if floating is float:
        if packed_weights != NULL:
            with nogil:
                pack_weights(wp, groups, <int>Mg, Kcg, False, packed_weights)
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
                columns = slab_columns(xp + n * g.C * g.S, scratch, first_row, stop_row, pointwise, &g)
                ldb = P if pointwise else cols
                for grp in range(groups):
                    # y_g[:, slab] (Mg, cols) = w_g (Mg, Cg*K) @ columns_g (Cg*K, cols)
                    packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                    matmul(False, False, <int>Mg, cols, Kcg, wp + grp * Mg * Kcg, Kcg,
                           columns + grp * Kcg * ldb, ldb, 0, y + grp * Mg * P + offset, P,
                           packed_w, thread_pack, gemm_threads)
                if has_bias:   # the slab is in cache now (filling it first was a pass through memory)
                    for m in range(g.M):
                        add_constant(y + m * g.P + offset, y + m * g.P + offset, cols, bp[m])
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



def col2im_gemm_input_grad(const floating[:, :, :, :, ::1] grad_out, const floating[:, :, :, :, ::1] weight,
                    const floating[::1] bias, floating[:, :, :, :, ::1] grad_in,
                    floating[::1] workspace, float[::1] pack, tuple stride, tuple padding,
                    tuple dilation, int groups, int images, int rows, int num_threads,
                    int gemm_threads):
    """grad_in[n] = col2im(weight^T @ grad_out[n]) (+ bias): conv's adjoint.

    This is also the forward pass of the transposed convolution, whose bias
    is added per channel of grad_in (empty bias: none). Slabs of `rows`
    output rows (one image per GEMM) or `images` images per GEMM, and
    workspace and pack, as in im2col_gemm_forward; the slabs of one image run in
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
    cdef Py_ssize_t scratch_size = columns_per_thread(&g, images, rows)
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
            for c in range(count * g.C):    # 1x1, one image: the GEMM writes grad_in, the bias added after
                if pointwise and images == 1:
                    continue
                if has_bias:
                    fill(gx + c * g.S, g.S, bp[c % g.C])
                else:
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
                    for grp in range(groups):
                        # dcol_g (Cg*K, cols) = w_g^T (Cg*K, Mg) @ grad_out_g[:, slab] (Mg, cols)
                        packed_w = packed_weights + grp * packed_size if packed_weights != NULL else NULL
                        matmul(True, False, Kcg, cols, <int>Mg, wp + grp * Mg * Kcg, Kcg,
                               gy + grp * Mg * P, P, 0, dcol + grp * Kcg * ldc, ldc,
                               packed_w, thread_pack, gemm_threads)
                    if pointwise and has_bias:     # the slab of grad_in, in cache
                        for c in range(g.C):
                            add_constant(gx + c * g.S + offset, gx + c * g.S + offset, cols, bp[c])
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




def im2col_gemm_weight_grad(const floating[:, :, :, :, ::1] x, const floating[:, :, :, :, ::1] grad_out,
                            floating[:, :, :, :, ::1] grad_weight, floating[::1] workspace, tuple stride,
                            tuple padding, tuple dilation, int groups, int chunks, int images, int rows,
                            int num_threads):
    """grad_weight = sum over images of grad_out[n] @ im2col(x[n])^T, group by group,
    the columns written and multiplied with scipy's BLAS (one thread).

    The batch is cut into `chunks` fixed ranges (a number that does not
    depend on the thread count); each chunk sums its images into its own
    partial result, and the partials are added in chunk order: the same
    result for any number of threads. Within a chunk, one image at a time
    in slabs of `rows` output rows (images == 1), or `images` images per GEMM.
    workspace: weight_grad_size(..., images, rows) elements.
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
    cdef Py_ssize_t scratch_size = columns_per_thread(&g, images, rows)
    cdef Py_ssize_t weight_size = g.M * Cg * g.K
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* gyp = &grad_out[0, 0, 0, 0, 0]
    cdef floating* gwp = &grad_weight[0, 0, 0, 0, 0]
    cdef floating* ws = &workspace[0]
    cdef floating* partials = ws + num_threads * scratch_size
    cdef floating* scratch
    cdef floating* staged
    cdef floating* partial
    cdef const floating* columns
    cdef const floating* gy
    cdef floating beta, total

    with nogil, parallel(num_threads=num_threads):
        tid = omp_get_thread_num()
        scratch = ws + tid * scratch_size
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
                                   NULL, NULL, 1)
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
                               partial + grp * Mg * Kcg, Kcg, NULL, NULL, 1)
                    n = n + count

    for j in prange(weight_size, nogil=True, schedule="static", num_threads=num_threads):
        total = partials[j]
        for chunk in range(1, chunks):
            total = total + partials[chunk * weight_size + j]
        gwp[j] = total


# ---------------------------------------------------------------------------
# Winograd F(2x2, 3x3) (csrc/winograd.h): a 3x3 stride-1 convolution as 16 GEMMs
# ---------------------------------------------------------------------------

cdef extern from "winograd.h" nogil:
    const int WINOGRAD_SLACK
    int minigrad_winograd_available()
    void winograd_filters(const float* w, ptrdiff_t M, ptrdiff_t C, float* U)
    int winograd_input(const float* padded, ptrdiff_t C, ptrdiff_t plane, ptrdiff_t Wp, ptrdiff_t tw,
                       ptrdiff_t tile_rows, float* V, ptrdiff_t ldv, ptrdiff_t v0)
    void winograd_output(const float* Mx, ptrdiff_t M, ptrdiff_t ldm, ptrdiff_t tw, ptrdiff_t i0,
                         ptrdiff_t tile_rows, ptrdiff_t v0, const float* bias, float* out, ptrdiff_t Ho,
                         ptrdiff_t Wo)


cdef inline Py_ssize_t winograd_tiles(Py_ssize_t C, Py_ssize_t M) noexcept nogil:
    """Tiles per item (per 16 GEMMs): 64 to 256, and V and the results together,
    16 * (C + M) floats a tile, at most 2 MiB (a core's L2 cache here). Measured
    on the main example's layers: 512 tiles 8-30% slower at 14x14, 128 tiles 4-6%
    slower at 28x28 (an image in two items) and 2-4% faster at 14x14."""
    return max(64, min(256, 32768 // (C + M)))


def winograd_available():
    """Whether this build has the Winograd kernels (GCC-style vectors and the own GEMM)."""
    return bool(minigrad_winograd_available() and minigrad_gemm_available())


cdef struct WinogradItems:
    Py_ssize_t th, tw, images, tile_rows, parts, items, ldv


cdef int cache_sets_met(Py_ssize_t stride) noexcept nogil:
    """In how many sets of an L1 data cache of 64-byte lines whose sets repeat
    every 4 KiB (x86 and ARM alike) 16 streams of floats `stride` apart start."""
    cdef Py_ssize_t sets[16]
    cdef Py_ssize_t k, j
    cdef int distinct = 0
    for k in range(16):
        sets[k] = (k * stride * 4 // 64) % 64
        distinct += 1
        for j in range(k):
            if sets[j] == sets[k]:
                distinct -= 1
                break
    return distinct


cdef WinogradItems winograd_items(Py_ssize_t N, Py_ssize_t C, Py_ssize_t M, Py_ssize_t Ho, Py_ssize_t Wo,
                                  Py_ssize_t tiles) noexcept nogil:
    """How winograd_forward cuts the batch: items of `images` whole images, or
    of `tile_rows` tile rows of one image (parts per image); ldv: the row length of
    V (16, C, ldv) and of the results (16, M, ldv), the most tiles an item has or a
    little more: the input transform writes the 16 matrices of V at once, the
    output transform reads the 16 of the results, and where C * ldv floats are a
    multiple of 4 KiB (64 channels, 256 tiles) those 16 streams meet in one set
    of the L1 cache, which holds 8 (64->64 at 32x32 on AVX2: the input transform
    took 2.2 times as long per tile as at 30x30; ldv 257 instead of 256 spreads them
    over 16 sets; 128 channels reach 8 sets at best, with ldv 129 instead of 128)."""
    cdef WinogradItems w
    w.th = (Ho + 1) // 2
    w.tw = (Wo + 1) // 2
    if 2 * w.th * w.tw <= tiles:
        w.images = max(1, tiles // (w.th * w.tw))
        w.tile_rows = w.th
        w.parts = 1
        w.items = (N + w.images - 1) // w.images
    else:
        w.images = 1
        w.tile_rows = max(1, tiles // w.tw)
        w.parts = (w.th + w.tile_rows - 1) // w.tile_rows
        w.items = N * w.parts
    w.ldv = w.images * w.tile_rows * w.tw
    cdef Py_ssize_t ldv, tiles_most = w.ldv
    cdef int sets, best = 0
    for ldv in range(tiles_most, tiles_most + 16):     # the first of the widest spreads
        sets = min(cache_sets_met(C * ldv), cache_sets_met(M * ldv))
        if sets > best:
            best, w.ldv = sets, ldv
        if sets == 16:
            break
    return w


cdef inline Py_ssize_t winograd_padded_size(Py_ssize_t C, const WinogradItems* w) noexcept nogil:
    """Floats of one item's padded input: per image C planes of (2*tile_rows + 2, 2*tw + 2)."""
    return w.images * C * (2 * w.tile_rows + 2) * (2 * w.tw + 2) + WINOGRAD_SLACK


def winograd_work_items(tuple input_shape, tuple output_shape):
    """How many items winograd_forward shares among its threads."""
    return winograd_items(input_shape[0], input_shape[1], output_shape[1], output_shape[3], output_shape[4],
                          winograd_tiles(input_shape[1], output_shape[1])).items


def winograd_size(tuple input_shape, tuple output_shape, int num_threads):
    """Workspace elements of winograd_forward: the transformed and packed
    filters, then per thread the padded input, V (16, C, ldv) and the GEMMs'
    results (16, M, ldv) of one item and the GEMM's packing scratch."""
    cdef Py_ssize_t N = input_shape[0], C = input_shape[1], M = output_shape[1]
    cdef WinogradItems w = winograd_items(N, C, M, output_shape[3], output_shape[4], winograd_tiles(C, M))
    cdef Py_ssize_t filters = 16 * M * C + 16 * minigrad_gemm_packed_a_size(<int>M, <int>C)
    cdef Py_ssize_t per_thread = (winograd_padded_size(C, &w) + 16 * C * w.ldv + WINOGRAD_SLACK
                                  + 16 * M * w.ldv + WINOGRAD_SLACK + MINIGRAD_GEMM_PACK_FLOATS)
    return filters + num_threads * per_thread


def winograd_forward(const float[:, :, :, :, ::1] x, const float[:, :, :, :, ::1] weight,
                     const float[::1] bias, float[:, :, :, :, ::1] out, float[::1] workspace,
                     tuple padding, int num_threads):
    """out (N, M, 1, Ho, Wo) = conv(x (N, C, 1, H, W), weight (M, C, 1, 3, 3)) + bias,
    stride 1, dilation 1, `padding` before (the output's size sets the rest), by
    Winograd F(2x2, 3x3) (csrc/winograd.h): per item of tiles (winograd_items),
    its padded input transformed (V), 16 GEMMs Mx[xi] (M, tiles) = U[xi] (M, C)
    @ V[xi] (C, tiles) with the own GEMM, and the results transformed back.
    Every item is computed by one thread in one order: the same bytes for any
    thread count. workspace: winograd_size(...) elements.

    Returns False, with `out` not to be used, where x holds an inf or a nan
    (or values whose transforms overflow): the transforms mix the 16 values
    of a patch, so a nan would reach outputs whose window never held it, and
    an inf would come out as nan; the caller then runs a direct kernel."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t M = out.shape[1], Ho = out.shape[3], Wo = out.shape[4]
    cdef Py_ssize_t ph = padding[1], pw = padding[2]
    if x.shape[2] != 1 or out.shape[2] != 1 or weight.shape[2] != 1 or weight.shape[3] != 3 or weight.shape[4] != 3:
        raise ValueError(f"winograd_forward: needs 2-d 3x3 convolutions, got x {tuple(x.shape)}, "
                         f"weight {tuple(weight.shape)}, out {tuple(out.shape)}")
    if weight.shape[0] != M or weight.shape[1] != C or out.shape[0] != N:
        raise ValueError(f"winograd_forward: weight {tuple(weight.shape)} does not map x {tuple(x.shape)} "
                         f"to out {tuple(out.shape)}")
    if bias.shape[0] not in (0, M):
        raise ValueError(f"winograd_forward: bias has {bias.shape[0]} entries, expected 0 or {M}")
    if ph < 0 or pw < 0:
        raise ValueError(f"winograd_forward: padding must be >= 0, got {padding}")
    needed = winograd_size(tuple(x.shape), tuple(out.shape), num_threads)
    if workspace.shape[0] < needed:
        raise ValueError(f"winograd_forward: workspace has {workspace.shape[0]} elements, needs {needed}")
    cdef WinogradItems w = winograd_items(N, C, M, Ho, Wo, winograd_tiles(C, M))
    cdef Py_ssize_t Wp = 2 * w.tw + 2, packed_size = minigrad_gemm_packed_a_size(<int>M, <int>C)
    cdef Py_ssize_t padded_size = winograd_padded_size(C, &w)
    cdef Py_ssize_t per_thread = padded_size + 16 * C * w.ldv + WINOGRAD_SLACK + 16 * M * w.ldv + WINOGRAD_SLACK \
        + MINIGRAD_GEMM_PACK_FLOATS
    cdef float* U = &workspace[0]                                      # (16, M, C)
    cdef float* packed = U + 16 * M * C                                # 16 packed A operands
    cdef float* threads_base = packed + 16 * packed_size
    cdef const float* xp = &x[0, 0, 0, 0, 0]
    cdef const float* bp = &bias[0] if bias.shape[0] > 0 else NULL
    cdef float* yp = &out[0, 0, 0, 0, 0]
    cdef Py_ssize_t item, n0, n1, i0, rows, count, b, c, r, ih, xi, tid, plane, first, stop
    cdef int nonfinite = 0
    cdef Py_ssize_t columns = max(0, min(W, Wp - pw))     # of an input row that a tile reads
    cdef float* pad
    cdef float* V
    cdef float* Mx
    cdef float* gemm_pack
    cdef float* dst
    with nogil:
        winograd_filters(&weight[0, 0, 0, 0, 0], M, C, U)
        for xi in range(16):
            minigrad_gemm_pack_a(<int>M, <int>C, U + xi * M * C, C, 1, packed + xi * packed_size)
        with parallel(num_threads=num_threads):
            tid = omp_get_thread_num()
            pad = threads_base + tid * per_thread
            V = pad + padded_size                                      # (16, C, ldv)
            Mx = V + 16 * C * w.ldv + WINOGRAD_SLACK                   # (16, M, ldv)
            gemm_pack = Mx + 16 * M * w.ldv + WINOGRAD_SLACK
            for item in prange(w.items, schedule="static"):
                if w.parts == 1:
                    n0 = item * w.images
                    n1 = min(N, n0 + w.images)
                    i0 = 0
                    rows = w.th
                else:
                    n0 = item // w.parts
                    n1 = n0 + 1
                    i0 = (item % w.parts) * w.tile_rows
                    rows = min(w.tile_rows, w.th - i0)
                plane = (2 * rows + 2) * Wp
                count = (n1 - n0) * rows * w.tw
                for b in range(n1 - n0):
                    # padded rows 2*i0 .. 2*(i0+rows)+1 of image n0+b: input row ih = 2*i0 + r - ph
                    memset(pad + b * C * plane, 0, C * plane * sizeof(float))
                    first = max(0, ph - 2 * i0)
                    stop = min(2 * rows + 2, H + ph - 2 * i0)
                    for c in range(C):
                        for r in range(first, stop):
                            ih = 2 * i0 + r - ph
                            dst = pad + (b * C + c) * plane + r * Wp + pw
                            memcpy(dst, xp + ((n0 + b) * C + c) * H * W + ih * W, columns * sizeof(float))
                    nonfinite += winograd_input(pad + b * C * plane, C, plane, Wp, w.tw, rows, V, w.ldv,
                                                b * rows * w.tw)
                for xi in range(16):
                    minigrad_sgemm(<int>M, <int>count, <int>C, U + xi * M * C, C, 1, packed + xi * packed_size,
                                   V + xi * C * w.ldv, w.ldv, 1, False, Mx + xi * M * w.ldv, w.ldv,
                                   gemm_pack, 1)
                for b in range(n1 - n0):
                    winograd_output(Mx, M, w.ldv, w.tw, i0, rows, b * rows * w.tw, bp,
                                    yp + (n0 + b) * M * Ho * Wo, Ho, Wo)
    return nonfinite == 0

include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module


def kernel_paths():
    """{kernel: instruction-set path} of this module's float32 kernels under the
    current choice (minigrad.show_config merges these across modules; float64
    always goes to BLAS). minigrad/kernels/gemm.py reports "blas" for the
    implicit GEMM where MINIGRAD_GEMM=blas."""
    path = current_path_name()
    return {"implicit_gemm": path if minigrad_gemm_available() else "blas", "col2im": path,
            "tap_broadcast": path if minigrad_tap_broadcast_available() else "none",
            "winograd": path if minigrad_winograd_available() and minigrad_gemm_available() else "none"}
