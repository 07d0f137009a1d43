# cython: language_level=3
"""Pooling kernels: max, average, adaptive, unpooling; forward and backward.

Every kernel works on planes: the input is viewed as (P, D*H*W) where
P = N*C (one plane per image and channel) and (D, H, W) is the spatial
shape (1-d pooling uses D = H = 1, 2-d uses D = 1). The loops run in
parallel over planes, so each output element has exactly one writer: the
results are race-free and bitwise identical for any number of threads.

The windows are described per spatial dimension by two tables built in
minigrad/kernels/pooling.py, so that one kernel serves fixed-size pooling
(with padding, dilation and ceil_mode) and adaptive pooling alike: output
position o along a dimension reads the input positions

    begin[o] + j * dilation    for j in range(count[o])

all of which lie inside the input (padding is never read). Average pooling
also gets a table of 1/divisor per dimension: a window's sum is multiplied
by the product of the three (or by 1/divisor_override), a multiplication
instead of a ~4x slower division per output.

Reference: minigrad/reference/pooling.py (max_pool, max_pool_backward,
avg_pool, avg_pool_backward, adaptive_pool, adaptive_avg_pool_backward,
max_unpool, max_unpool_backward), which the kernel boundary
minigrad/kernels/pooling.py runs instead under minigrad.use_reference_kernels().
"""
from cython.parallel cimport prange
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int32_t, int64_t
from libc.math cimport INFINITY

from omp_compat cimport omp_get_thread_num

ctypedef fused floating:
    float
    double


cdef inline void max_of_window(const floating* src, floating* dst, int64_t* idx,
                               Py_ssize_t first_d, Py_ssize_t taps_d, Py_ssize_t dilation_d,
                               Py_ssize_t first_h, Py_ssize_t taps_h, Py_ssize_t dilation_h,
                               Py_ssize_t first_w, Py_ssize_t taps_w, Py_ssize_t dilation_w,
                               Py_ssize_t in_h, Py_ssize_t in_w) noexcept nogil:
    """dst[0], idx[0] = max and argmax of one window (any shape, clipped or not)."""
    cdef Py_ssize_t jd, jh, jw, row, pos, best_index, take, nan_index = -1
    cdef floating value
    if taps_d == 0 or taps_h == 0 or taps_w == 0:
        dst[0] = -INFINITY
        idx[0] = -1
        return
    best_index = (first_d * in_h + first_h) * in_w + first_w
    for jd in range(taps_d):
        for jh in range(taps_h):
            row = ((first_d + jd * dilation_d) * in_h + first_h + jh * dilation_h) * in_w + first_w
            for jw in range(taps_w):
                pos = row + jw * dilation_w
                value = src[pos]
                # Select with a bit mask, not a branch: on random data a branch here
                # mispredicts half the time, a stall several times the cost of the loop body; whether a
                # compiler turns `if` into a conditional move varies.
                take = -<Py_ssize_t>(value > src[best_index])   # all ones or zero
                best_index = (pos & take) | (best_index & ~take)
                take = -<Py_ssize_t>(value != value)             # NaN
                nan_index = (pos & take) | (nan_index & ~take)
    if nan_index >= 0:  # PyTorch: a NaN wins, the last one of the window
        best_index = nan_index
    dst[0] = src[best_index]
    idx[0] = best_index


# float32 interiors: explicit-vector loops per instruction-set path (csrc/pool_rows.h)
cdef extern from "pool_rows.h" nogil:
    int minigrad_pool_rows_available()
    int max_fold_row_f32(const float* plane, ptrdiff_t first, const int64_t* tap_offset,
                         ptrdiff_t taps, ptrdiff_t stride, ptrdiff_t begin, ptrdiff_t end,
                         float* best, int64_t* index, int32_t* which)
    int max_pool_plane_f32(const float* plane, ptrdiff_t first, const int64_t* tap_offset,
                           ptrdiff_t taps, ptrdiff_t out_d, ptrdiff_t out_h, ptrdiff_t out_w,
                           ptrdiff_t step_d, ptrdiff_t step_h, ptrdiff_t stride, float* best,
                           int64_t* index)
    ctypedef struct avg_windows:
        const int64_t* begin_d
        const int64_t* count_d
        const int64_t* begin_h
        const int64_t* count_h
        const int64_t* begin_w
        const int64_t* count_w
        const double* scale_d
        const double* scale_h
        const double* scale_w
        ptrdiff_t out_d, out_h, out_w, in_h, in_w
        ptrdiff_t first, full_w, stride, begin, end
        double override_scale
    void avg_pool_plane_f32(const float* plane, float* out, const avg_windows* win,
                            int64_t* row_offset)
    void avg_pool_backward_plane_f32(const float* grad, float* plane_grad,
                                     const avg_windows* win, ptrdiff_t in_rows,
                                     int64_t* row_index, float* column, unsigned char* written)

cdef bint VECTOR_MAX_POOL = minigrad_pool_rows_available()


def max_pool_forward(const floating[:, ::1] input, floating[:, ::1] output,
                     int64_t[:, ::1] indices, int in_h, int in_w,
                     const int64_t[::1] begin_d, const int64_t[::1] count_d, int dilation_d,
                     const int64_t[::1] begin_h, const int64_t[::1] count_h, int dilation_h,
                     const int64_t[::1] begin_w, const int64_t[::1] count_w, int dilation_w,
                     int full_w, int interior_begin, int interior_end, int stride_w,
                     bint whole, int32_t[:, ::1] which_scratch, int64_t[:, ::1] tap_scratch,
                     int num_threads):
    """output[p, o] = max over the window of o; indices[p, o] = its flat position.

    As in PyTorch a NaN always wins (the last NaN of the window), and the
    first of equal maxima wins. An empty window (dilation stepping over the
    whole input) gives -inf and index -1.

    Along W, outputs interior_begin <= ow < interior_end have whole
    (unclipped) windows of full_w taps, stride_w apart. For them the loops
    are turned around: taps outside, outputs inside, so that the compiler
    turns the inner loop into SIMD compares and selects (one output at a
    time would be one long chain of compare-and-select). While the taps are
    folded in, the output row holds the running maximum and which_scratch
    (one int32 row per thread) the number of the tap that holds it: 32 bits
    like a float, so that float32 data keeps one lane width in the inner
    loop (64-bit positions would halve the SIMD width). After the row, tap
    numbers become flat positions through tap_scratch[thread][t], the offset
    of tap t from the window's first element. The edges use max_of_window.
    In float32 the interior runs csrc/pool_rows.h instead: the same fold
    with explicit vectors for the chosen instruction-set path, a block of
    outputs held in registers through all the taps.

    whole: every window lies inside the input, evenly spaced along each
    axis (no padding, floor mode; the caller checks). In float32 each plane
    is then one call of max_pool_plane_f32, which walks all its rows with
    one table of tap offsets.
    """
    cdef Py_ssize_t planes = input.shape[0]
    cdef Py_ssize_t out_d = begin_d.shape[0], out_h = begin_h.shape[0], out_w = begin_w.shape[0]
    cdef Py_ssize_t p, od, oh, ow, jd, jh, jw, row, taps, first_w
    cdef Py_ssize_t first_d, first_h, taps_d, taps_h
    cdef floating value, best
    cdef int32_t take, tap_number
    cdef const floating* tap
    cdef int nan_seen
    cdef const floating* src
    cdef floating* dst
    cdef int32_t* which
    cdef int64_t* tap_offset
    cdef int64_t* idx
    cdef Py_ssize_t first, step_d, step_h, i
    if floating is float and VECTOR_MAX_POOL and whole and planes > 0 and out_d * out_h * out_w > 0:
        taps_d, taps_h = count_d[0], count_h[0]
        first = (begin_d[0] * in_h + begin_h[0]) * in_w + begin_w[0]
        step_d = (begin_d[1] - begin_d[0]) * in_h * in_w if out_d > 1 else 0
        step_h = (begin_h[1] - begin_h[0]) * in_w if out_h > 1 else 0
        tap_offset = &tap_scratch[0, 0]      # one table for every plane, read-only below
        taps = 0
        for jd in range(taps_d):
            for jh in range(taps_h):
                for jw in range(full_w):
                    tap_offset[taps] = (jd * dilation_d * in_h + jh * dilation_h) * in_w + jw * dilation_w
                    taps = taps + 1
        for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
            src = &input[p, 0]
            if max_pool_plane_f32(src, first, tap_offset, taps, out_d, out_h, out_w, step_d, step_h,
                                  stride_w, &output[p, 0], &indices[p, 0]):
                for i in range(out_d * out_h * out_w):   # rare: redo the plane with PyTorch's NaN rule
                    od = i // (out_h * out_w)
                    oh = (i // out_w) % out_h
                    ow = i % out_w
                    max_of_window(src, &output[p, i], &indices[p, i], begin_d[od], taps_d, dilation_d,
                                  begin_h[oh], taps_h, dilation_h, begin_w[ow], full_w, dilation_w,
                                  in_h, in_w)
        return
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        src = &input[p, 0]
        which = &which_scratch[omp_get_thread_num(), 0]
        tap_offset = &tap_scratch[omp_get_thread_num(), 0]
        for od in range(out_d):
            first_d = begin_d[od]
            taps_d = count_d[od]
            for oh in range(out_h):
                first_h = begin_h[oh]
                taps_h = count_h[oh]
                dst = &output[p, (od * out_h + oh) * out_w]
                idx = &indices[p, (od * out_h + oh) * out_w]
                for ow in range(out_w):
                    if ow < interior_begin or ow >= interior_end or taps_d == 0 or taps_h == 0:
                        max_of_window(src, dst + ow, idx + ow, first_d, taps_d, dilation_d,
                                      first_h, taps_h, dilation_h, begin_w[ow], count_w[ow],
                                      dilation_w, in_h, in_w)
                if taps_d == 0 or taps_h == 0 or interior_end <= interior_begin:
                    continue
                # Interior: start from the first tap, then fold in the others in
                # the same (d, h, w) order as max_of_window, keeping the first of
                # equal maxima (strict >). NaNs are noted and handled after the row.
                # The window of output ow starts at first_w + ow * stride_w.
                first_w = begin_w[interior_begin] - interior_begin * stride_w
                taps = 0
                for jd in range(taps_d):
                    for jh in range(taps_h):
                        row = ((first_d + jd * dilation_d) * in_h + first_h + jh * dilation_h) * in_w
                        for jw in range(full_w):
                            tap_offset[taps] = row + jw * dilation_w
                            taps = taps + 1
                if floating is float and VECTOR_MAX_POOL:
                    nan_seen = max_fold_row_f32(src, first_w, tap_offset, taps, stride_w,
                                                interior_begin, interior_end, dst, idx, which)
                else:
                    for tap_number in range(taps):
                        tap = src + first_w + tap_offset[tap_number]
                        if tap_number == 0:
                            for ow in range(interior_begin, interior_end):
                                dst[ow] = tap[ow * stride_w]
                                which[ow] = 0
                            nan_seen = 0
                        for ow in range(interior_begin, interior_end):
                            # No branches (on random data a branch mispredicts
                            # half the time): a bit-mask select and a max, both
                            # of which the compiler vectorises.
                            value = tap[ow * stride_w]
                            best = dst[ow]
                            take = -<int32_t>(value > best)   # all ones or zero
                            which[ow] = (tap_number & take) | (which[ow] & ~take)
                            dst[ow] = value if value > best else best
                            nan_seen = nan_seen | (value != value)
                    for ow in range(interior_begin, interior_end):
                        idx[ow] = first_w + ow * stride_w + tap_offset[<Py_ssize_t>which[ow]]
                if nan_seen:  # rare: redo this row with PyTorch's NaN rule
                    for ow in range(interior_begin, interior_end):
                        max_of_window(src, dst + ow, idx + ow, first_d, taps_d, dilation_d,
                                      first_h, taps_h, dilation_h, begin_w[ow], count_w[ow],
                                      dilation_w, in_h, in_w)


def scatter_add_planes(const floating[:, ::1] grad_output, const int64_t[:, ::1] indices,
                       floating[:, ::1] grad_input, int num_threads):
    """grad_input[p] = 0, then grad_input[p, indices[p, o]] += grad_output[p, o].

    The backward of max pooling (each gradient goes to its argmax). Negative
    indices (empty windows) are skipped, and so (never written out of the
    plane) are any past its end: max_pool's indices never are, and
    max_unpool checks a user's before it calls (check_unpool_indices).
    """
    cdef Py_ssize_t planes = grad_input.shape[0], in_plane = grad_input.shape[1]
    cdef Py_ssize_t out_plane = grad_output.shape[1]
    cdef Py_ssize_t p, i, o
    cdef int64_t k
    cdef const floating* g
    cdef const int64_t* idx
    cdef floating* dst
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        g = &grad_output[p, 0]
        idx = &indices[p, 0]
        dst = &grad_input[p, 0]
        for i in range(in_plane):
            dst[i] = 0
        for o in range(out_plane):
            k = idx[o]
            if k >= 0 and k < in_plane:
                dst[k] = dst[k] + g[o]


def scatter_planes(const floating[:, ::1] input, const int64_t[:, ::1] indices,
                   floating[:, ::1] output, int num_threads):
    """output[p] = 0, then output[p, indices[p, i]] = input[p, i] (max unpooling).

    When two inputs name the same position the later one wins, always.
    """
    cdef Py_ssize_t planes = output.shape[0], out_plane = output.shape[1]
    cdef Py_ssize_t in_plane = input.shape[1]
    cdef Py_ssize_t p, i
    cdef const floating* src
    cdef const int64_t* idx
    cdef floating* dst
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        src = &input[p, 0]
        idx = &indices[p, 0]
        dst = &output[p, 0]
        for i in range(out_plane):
            dst[i] = 0
        for i in range(in_plane):
            dst[idx[i]] = src[i]


def gather_planes(const floating[:, ::1] source, const int64_t[:, ::1] indices,
                  floating[:, ::1] output, int num_threads):
    """output[p, i] = source[p, indices[p, i]] (the backward of max unpooling)."""
    cdef Py_ssize_t planes = output.shape[0], out_plane = output.shape[1]
    cdef Py_ssize_t p, i
    cdef const floating* src
    cdef const int64_t* idx
    cdef floating* dst
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        src = &source[p, 0]
        idx = &indices[p, 0]
        dst = &output[p, 0]
        for i in range(out_plane):
            dst[i] = src[idx[i]]


# Average pooling is separable: a window is a box, the product of one
# interval per dimension, and 1/divisor is scale_d * scale_h * scale_w. So
# for each output row (od, oh) the kernels first add up the window's input
# rows (D and H) into one row of column sums, contiguous and vectorised,
# then work along W on that row alone.

cdef inline double scale_of(double scale_dh, const double* scale_w, Py_ssize_t ow,
                            double override_scale) noexcept nogil:
    """1/divisor of output (od, oh, ow): the tables' product, or 1/divisor_override."""
    if override_scale != 0:
        return override_scale
    return scale_dh * scale_w[ow]


cdef avg_windows windows_of(const int64_t[::1] begin_d, const int64_t[::1] count_d,
                            const double[::1] scale_d, const int64_t[::1] begin_h,
                            const int64_t[::1] count_h, const double[::1] scale_h,
                            const int64_t[::1] begin_w, const int64_t[::1] count_w,
                            const double[::1] scale_w, Py_ssize_t in_h, Py_ssize_t in_w,
                            Py_ssize_t first, Py_ssize_t full_w, Py_ssize_t stride,
                            Py_ssize_t begin, Py_ssize_t end, double override_scale):
    """The tables as csrc/pool_rows.h's avg_windows (pointers into the arrays)."""
    cdef avg_windows win
    win.begin_d, win.count_d, win.scale_d = &begin_d[0], &count_d[0], &scale_d[0]
    win.begin_h, win.count_h, win.scale_h = &begin_h[0], &count_h[0], &scale_h[0]
    win.begin_w, win.count_w, win.scale_w = &begin_w[0], &count_w[0], &scale_w[0]
    win.out_d, win.out_h, win.out_w = begin_d.shape[0], begin_h.shape[0], begin_w.shape[0]
    win.in_h, win.in_w = in_h, in_w
    win.first, win.full_w, win.stride, win.begin, win.end = first, full_w, stride, begin, end
    win.override_scale = override_scale
    return win


def avg_pool_forward(const floating[:, ::1] input, floating[:, ::1] output, int in_h, int in_w,
                     const int64_t[::1] begin_d, const int64_t[::1] count_d, const double[::1] scale_d,
                     const int64_t[::1] begin_h, const int64_t[::1] count_h, const double[::1] scale_h,
                     const int64_t[::1] begin_w, const int64_t[::1] count_w, const double[::1] scale_w,
                     double override_scale, int full_w, int interior_begin, int interior_end,
                     int stride_w, double[:, ::1] scratch, unsigned char[:, ::1] row_written,
                     int64_t[:, ::1] row_scratch, int num_threads):
    """output[p, o] = sum over the window of o (accumulated in double) * scale.

    scale is scale_d * scale_h * scale_w (1/divisor), or override_scale when
    that is not 0. Per output row, with scratch[thread] holding two rows of
    doubles (in_w column sums, then out_w window sums):

        column[w] = sum of input[d, h, w] over the window's rows (d, h)
        total[ow] = sum of column[w] over the window's columns w

    The outputs interior_begin <= ow < interior_end (whole windows of full_w
    columns, stride_w apart) are summed tap by tap across the row, a loop
    with a fixed stride that vectorises; the edges go through the tables.
    (row_written is the backward's; unused here.)
    """
    cdef Py_ssize_t planes = input.shape[0]
    cdef Py_ssize_t out_d = begin_d.shape[0], out_h = begin_h.shape[0], out_w = begin_w.shape[0]
    cdef Py_ssize_t p, od, oh, ow, w, jd, jh, jw, first_w
    cdef Py_ssize_t first_d, first_h, taps_d, taps_h
    cdef double scale_dh, sum_w
    cdef const floating* src
    cdef const floating* row
    cdef const double* tap
    cdef floating* dst
    cdef double* column
    cdef double* total
    first_w = begin_w[interior_begin] - interior_begin * stride_w
    cdef avg_windows win = windows_of(begin_d, count_d, scale_d, begin_h, count_h, scale_h,
                                      begin_w, count_w, scale_w, in_h, in_w, first_w, full_w,
                                      stride_w, interior_begin, interior_end, override_scale)
    if floating is float and VECTOR_MAX_POOL:
        for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
            avg_pool_plane_f32(&input[p, 0], &output[p, 0], &win,
                               &row_scratch[omp_get_thread_num(), 0])
        return
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        src = &input[p, 0]
        column = &scratch[omp_get_thread_num(), 0]
        total = column + in_w
        for od in range(out_d):
            first_d = begin_d[od]
            taps_d = count_d[od]
            for oh in range(out_h):
                first_h = begin_h[oh]
                taps_h = count_h[oh]
                dst = &output[p, (od * out_h + oh) * out_w]
                # column sums of the window's rows (the same for every ow): the
                # first row sets them, the others add to them
                if taps_d == 0 or taps_h == 0:
                    for w in range(in_w):
                        column[w] = 0
                for jd in range(taps_d):
                    for jh in range(taps_h):
                        row = src + ((first_d + jd) * in_h + first_h + jh) * in_w
                        if jd == 0 and jh == 0:
                            for w in range(in_w):
                                column[w] = row[w]
                        else:
                            for w in range(in_w):
                                column[w] = column[w] + row[w]
                # window sums along W: the interior tap by tap, the edges from the tables
                for ow in range(interior_begin, interior_end):
                    total[ow] = column[first_w + ow * stride_w]
                for jw in range(1, full_w):
                    tap = column + first_w + jw
                    for ow in range(interior_begin, interior_end):
                        total[ow] = total[ow] + tap[ow * stride_w]
                for ow in range(out_w):
                    if ow < interior_begin or ow >= interior_end:
                        sum_w = 0
                        for w in range(begin_w[ow], begin_w[ow] + count_w[ow]):
                            sum_w = sum_w + column[w]
                        total[ow] = sum_w
                if override_scale != 0:
                    for ow in range(out_w):
                        dst[ow] = <floating>(total[ow] * override_scale)
                else:
                    scale_dh = scale_d[od] * scale_h[oh]
                    for ow in range(out_w):
                        dst[ow] = <floating>(total[ow] * (scale_dh * scale_w[ow]))


def avg_pool_backward(const floating[:, ::1] grad_output, floating[:, ::1] grad_input,
                      int in_h, int in_w,
                      const int64_t[::1] begin_d, const int64_t[::1] count_d, const double[::1] scale_d,
                      const int64_t[::1] begin_h, const int64_t[::1] count_h, const double[::1] scale_h,
                      const int64_t[::1] begin_w, const int64_t[::1] count_w, const double[::1] scale_w,
                      double override_scale, int full_w, int interior_begin, int interior_end,
                      int stride_w, floating[:, ::1] scratch, unsigned char[:, ::1] row_written,
                      int64_t[:, ::1] row_scratch, int num_threads):
    """grad_input[p] = the sum, over the windows containing each element, of grad_output * scale.

    The forward's steps in reverse, per output row (scratch[thread]: two
    rows in the gradient's precision, out_w then in_w long, with room for
    32 more after them; in float32 the whole row is csrc/pool_rows.h's
    avg_pool_backward_row_f32, the window's rows listed in row_scratch[thread]):

        share[ow]  = grad_output[ow] * scale of ow (rounded once)
        column[w]  = sum of share[ow] over the windows ow that contain column w
        grad_input[d, h, w] += column[w] for every row (d, h) of the window

    The last step is a contiguous, vectorised loop. An input row is written
    (=) by the first window that contains it and added to (+=) by later
    ones, noted in row_written[thread] (one flag per input row (d, h));
    rows no window contains are zeroed at the end. So each element is
    written once where windows do not overlap, and no zero-filling pass
    over the whole gradient is needed.
    """
    cdef Py_ssize_t planes = grad_input.shape[0]
    cdef Py_ssize_t in_rows = grad_input.shape[1] // in_w   # rows (d, h) of a plane
    cdef Py_ssize_t out_d = begin_d.shape[0], out_h = begin_h.shape[0], out_w = begin_w.shape[0]
    cdef Py_ssize_t p, r, od, oh, ow, w, jd, jh, jw, first_w, row_index
    cdef Py_ssize_t first_d, first_h, taps_d, taps_h
    cdef double scale_dh
    cdef const floating* g
    cdef floating* dst
    cdef floating* row
    cdef floating* tap
    cdef floating* column
    cdef floating* share
    cdef unsigned char* written
    first_w = begin_w[interior_begin] - interior_begin * stride_w
    cdef avg_windows win = windows_of(begin_d, count_d, scale_d, begin_h, count_h, scale_h,
                                      begin_w, count_w, scale_w, in_h, in_w, first_w, full_w,
                                      stride_w, interior_begin, interior_end, override_scale)
    if floating is float and VECTOR_MAX_POOL:
        for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
            avg_pool_backward_plane_f32(&grad_output[p, 0], &grad_input[p, 0], &win, in_rows,
                                        &row_scratch[omp_get_thread_num(), 0],
                                        <float*>&scratch[omp_get_thread_num(), 0],
                                        &row_written[omp_get_thread_num(), 0])
        return
    for p in prange(planes, nogil=True, schedule="static", num_threads=num_threads):
        dst = &grad_input[p, 0]
        share = &scratch[omp_get_thread_num(), 0]
        column = share + out_w
        written = &row_written[omp_get_thread_num(), 0]
        for r in range(in_rows):
            written[r] = 0
        for od in range(out_d):
            first_d = begin_d[od]
            taps_d = count_d[od]
            for oh in range(out_h):
                first_h = begin_h[oh]
                taps_h = count_h[oh]
                g = &grad_output[p, (od * out_h + oh) * out_w]
                if override_scale != 0:
                    for ow in range(out_w):
                        share[ow] = <floating>(g[ow] * override_scale)
                else:
                    scale_dh = scale_d[od] * scale_h[oh]
                    for ow in range(out_w):
                        share[ow] = <floating>(g[ow] * (scale_dh * scale_w[ow]))
                # spread the shares along W: the interior tap by tap, the edges from the tables
                for w in range(in_w):
                    column[w] = 0
                for jw in range(full_w):
                    tap = column + first_w + jw
                    for ow in range(interior_begin, interior_end):
                        tap[ow * stride_w] = tap[ow * stride_w] + share[ow]
                for ow in range(out_w):
                    if ow < interior_begin or ow >= interior_end:
                        for w in range(begin_w[ow], begin_w[ow] + count_w[ow]):
                            column[w] = column[w] + share[ow]
                # the column row goes to every row of the window
                for jd in range(taps_d):
                    for jh in range(taps_h):
                        row_index = (first_d + jd) * in_h + first_h + jh
                        row = dst + row_index * in_w
                        if written[row_index]:
                            for w in range(in_w):
                                row[w] = row[w] + column[w]
                        else:
                            for w in range(in_w):
                                row[w] = column[w]
                            written[row_index] = 1
        for r in range(in_rows):
            if not written[r]:
                for w in range(in_w):
                    dst[r * in_w + w] = 0


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module


def kernel_paths():
    """{kernel: path} for this module's kernels under the current choice: the
    float32 max- and average-pool rows (csrc/pool_rows.h) take the chosen
    path; float64 and unpooling are Cython loops, vectorised by the compiler
    at the build's baseline (SSE2 on x86-64)."""
    path = current_path_name() if VECTOR_MAX_POOL else "cython"
    return {"max_pool": path, "avg_pool": path}
