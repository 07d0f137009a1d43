/*
 * float32 pooling rows in explicit vectors, compiled for each instruction-set
 * path (csrc/pool_lanes.h through csrc/simd_paths.h) and picked per call with
 * minigrad_isa(); csrc/pooling.pyx calls them (float64 stays in Cython).
 *
 *   max_fold_row_f32:  best[ow], index[ow] = max and first argmax over the taps t
 *                      of plane[first + tap_offset[t] + ow*stride], begin <= ow < end
 *                      (the interior of one max-pool output row; the edges stay in Cython)
 *   max_pool_plane_f32:  the same for a whole plane whose windows all lie inside it
 *   avg_pool_plane_f32:           out = the window sums (in double) * 1/divisor, one plane
 *   avg_pool_backward_plane_f32:  its backward, one plane: each output's gradient
 *                                 * 1/divisor spread over its window
 *
 * Max pooling: a block of outputs keeps its running maximum and tap number in
 * registers through all the window's taps; stride 2 (the usual pooling
 * stride) loads two vectors and keeps every other float. The loop of one path
 * has a fixed order, and each output has one writer: the same result for any
 * thread count (and on every path: a maximum does not round).
 *
 * Average pooling's windows come as pooling.pyx's tables (avg_windows below):
 * along W, output ow covers columns begin_w[ow] .. begin_w[ow] + count_w[ow] - 1,
 * and the interior outputs begin <= ow < end cover first + ow*stride + j,
 * j < full_w. The interior takes the vector loop of the chosen path (stride 1
 * or 2, rows of at least 4 outputs), the edges and other strides a scalar
 * loop that adds in the same order, so the path changes no result: every
 * path gives the same bytes (tests/test_pooling.py checks it).
 *
 * Reference: minigrad/reference/pooling.py (max_pool, avg_pool, avg_pool_backward).
 */
#ifndef MINIGRAD_POOL_ROWS_H
#define MINIGRAD_POOL_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include "cpu_features.h"

#if defined(__GNUC__)
#define MINIGRAD_POOL_ROWS_COMPILED 1
#define SIMD_BODY "pool_lanes.h"
#include "simd_paths.h"       /* max_fold_row_avx512 / _avx2 / _generic */
#else
#define MINIGRAD_POOL_ROWS_COMPILED 0
#endif

/* whether max_fold_row_f32 is compiled in (else pooling.pyx keeps its own loop) */
static int minigrad_pool_rows_available(void)
{
    return MINIGRAD_POOL_ROWS_COMPILED;
}

static int max_fold_row_f32(const float *plane, ptrdiff_t first, const int64_t *tap_offset,
                            ptrdiff_t taps, ptrdiff_t stride, ptrdiff_t begin, ptrdiff_t end,
                            float *best, int64_t *index, int32_t *which)
{
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    /* A row shorter than 16 outputs on the AVX-512 path takes the AVX2 loop
       (every CPU with AVX-512 has AVX2 and FMA), one shorter than 8 the
       generic one (4 lanes: a 14x14 -> 7x7 pool's rows), rather than going
       one output at a time. */
    if (minigrad_isa() == MINIGRAD_ISA_AVX512 && end - begin >= 16)
        return max_fold_row_avx512(plane, first, tap_offset, taps, stride, begin, end, best,
                                   index, which);
    if (minigrad_isa() >= MINIGRAD_ISA_AVX2 && end - begin >= 8)
        return max_fold_row_avx2(plane, first, tap_offset, taps, stride, begin, end, best,
                                 index, which);
#endif
    return max_fold_row_generic(plane, first, tap_offset, taps, stride, begin, end, best, index,
                                which);
#else
    return 0;
#endif
}

/* A whole float32 plane of max pooling whose windows all lie inside it
   (csrc/pool_lanes.h, max_pool_plane): the widest path whose vector fits
   its rows (AVX-512 for rows of more than 8 outputs, one masked block up to
   16); returns nonzero if a value read is nan. */
static int max_pool_plane_f32(const float *plane, ptrdiff_t first, const int64_t *tap_offset,
                              ptrdiff_t taps, ptrdiff_t out_d, ptrdiff_t out_h, ptrdiff_t out_w,
                              ptrdiff_t step_d, ptrdiff_t step_h, ptrdiff_t stride, float *best,
                              int64_t *index)
{
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512 && out_w > 8)
        return max_pool_plane_avx512(plane, first, tap_offset, taps, out_d, out_h, out_w, step_d,
                                     step_h, stride, best, index);
    if (minigrad_isa() >= MINIGRAD_ISA_AVX2)
        return max_pool_plane_avx2(plane, first, tap_offset, taps, out_d, out_h, out_w, step_d,
                                   step_h, stride, best, index);
#endif
    return max_pool_plane_generic(plane, first, tap_offset, taps, out_d, out_h, out_w, step_d,
                                  step_h, stride, best, index);
#else
    (void)plane; (void)first; (void)tap_offset; (void)taps; (void)out_d; (void)out_h;
    (void)out_w; (void)step_d; (void)step_h; (void)stride; (void)best; (void)index;
    return 0;
#endif
}

/* The widest path whose vector fits in a row of n interior outputs: 16, 8
   or 4 lanes, or 0 (a scalar loop) for a row shorter than 4 or a stride
   other than 1 and 2. */
static int avg_lanes(ptrdiff_t n, ptrdiff_t stride)
{
#if MINIGRAD_POOL_ROWS_COMPILED
    if (stride != 1 && stride != 2)
        return 0;
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512 && n >= 16)
        return 16;
    if (minigrad_isa() >= MINIGRAD_ISA_AVX2 && n >= 8)
        return 8;
#endif
    return n >= 4 ? 4 : 0;
#else
    return 0;
#endif
}

/* The sum, in double, of plane[row_offset[r] + w] over rows r < rows and
   columns first <= w < first + count, times scale, rounded once. */
static float avg_of_window(const float *plane, const int64_t *row_offset, ptrdiff_t rows,
                           ptrdiff_t first, ptrdiff_t count, double scale)
{
    double sum = 0;
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t w = first; w < first + count; w++)
            sum = (r == 0 && w == first) ? (double)plane[row_offset[r] + w]
                                         : sum + plane[row_offset[r] + w];
    return (float)(sum * scale);
}

/* dst[ow] for 0 <= ow < out_w: the sum, in double, of plane[row_offset[r] + w]
   over the window's rows r < rows and its columns w, times override_scale
   where that is not 0, else times scale_dh * scale_w[ow]; rounded once. */
static void avg_pool_row_f32(const float *plane, const int64_t *row_offset, ptrdiff_t rows,
                             const int64_t *begin_w, const int64_t *count_w, const double *scale_w,
                             ptrdiff_t out_w, ptrdiff_t first, ptrdiff_t full_w, ptrdiff_t stride,
                             ptrdiff_t begin, ptrdiff_t end, double scale_dh, double override_scale,
                             float *dst)
{
    int lanes = rows > 0 && full_w > 0 ? avg_lanes(end - begin, stride) : 0;
    if (!lanes)     /* every output through the scalar loop below */
        begin = end = out_w;
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    if (lanes == 16)
        avg_pool_interior_avx512(plane + first, row_offset, rows, full_w, stride, begin, end,
                                 scale_w, scale_dh, override_scale, dst);
    else if (lanes == 8)
        avg_pool_interior_avx2(plane + first, row_offset, rows, full_w, stride, begin, end,
                               scale_w, scale_dh, override_scale, dst);
    else
#endif
    if (lanes == 4)
        avg_pool_interior_generic(plane + first, row_offset, rows, full_w, stride, begin, end,
                                  scale_w, scale_dh, override_scale, dst);
#endif
    for (ptrdiff_t ow = 0; ow < out_w; ow++) {
        if (ow == begin)
            ow = end;       /* past the interior */
        if (ow >= out_w)
            break;
        dst[ow] = avg_of_window(plane, row_offset, rows, begin_w[ow], count_w[ow],
                                override_scale != 0 ? override_scale : scale_dh * scale_w[ow]);
    }
}

/* The widest path whose vector fits in n floats (16, 8 or 4 lanes; 4 also
   below that: the generic loops handle any n). */
static int avg_row_lanes(ptrdiff_t n)
{
#if MINIGRAD_POOL_ROWS_COMPILED && MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512 && n >= 16)
        return 16;
    if (minigrad_isa() >= MINIGRAD_ISA_AVX2 && n >= 8)
        return 8;
#endif
    (void)n;
    return 4;
}

static void avg_put_row_f32(float *row, const float *column, ptrdiff_t n, int add)
{
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    int lanes = avg_row_lanes(n);
    if (lanes == 16)
        put_row_avx512(row, column, n, add);
    else if (lanes == 8)
        put_row_avx2(row, column, n, add);
    else
#endif
        put_row_generic(row, column, n, add);
#else
    for (ptrdiff_t w = 0; w < n; w++)
        row[w] = add ? row[w] + column[w] : column[w];
#endif
}

/* One output row of the float32 backward, whole:
     share of ow = (float)(grad[ow] * scale of ow)
     column[w]   = the sum of the shares of the windows ow that contain column w
                   (the interior with j outside and ow inside, then the edges in order)
     plane_grad[row_index[r] * in_w + w]  = column[w]  for each of the window's rows r,
                   or += where written[row_index[r]] (then it is marked written).
   column must have room for 2 * 16 floats past in_w (avg_spread_interior). */
static void avg_pool_backward_row_f32(const float *grad, const int64_t *begin_w,
                                      const int64_t *count_w, const double *scale_w,
                                      ptrdiff_t out_w, ptrdiff_t in_w, ptrdiff_t first,
                                      ptrdiff_t full_w, ptrdiff_t stride, ptrdiff_t begin,
                                      ptrdiff_t end, double scale_dh, double override_scale,
                                      float *column, float *plane_grad,
                                      const int64_t *row_index, ptrdiff_t rows,
                                      unsigned char *written)
{
    int lanes = full_w > 0 && end > begin ? avg_lanes(end - begin, stride) : 0;
    for (ptrdiff_t w = 0; w < in_w; w++)
        column[w] = 0;
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    if (lanes == 16)
        avg_spread_interior_avx512(column + first, grad, scale_w, scale_dh, override_scale,
                                   full_w, stride, begin, end);
    else if (lanes == 8)
        avg_spread_interior_avx2(column + first, grad, scale_w, scale_dh, override_scale,
                                 full_w, stride, begin, end);
    else
#endif
    if (lanes == 4)
        avg_spread_interior_generic(column + first, grad, scale_w, scale_dh, override_scale,
                                    full_w, stride, begin, end);
#endif
#define SHARE(ow) ((float)(grad[ow] * (override_scale != 0 ? override_scale \
                                                           : scale_dh * scale_w[ow])))
    if (!lanes && end > begin)
        for (ptrdiff_t j = 0; j < full_w; j++)
            for (ptrdiff_t ow = begin; ow < end; ow++)
                column[first + ow * stride + j] += SHARE(ow);
    for (ptrdiff_t ow = 0; ow < out_w; ow++) {
        if (ow == begin && end > begin)
            ow = end;               /* past the interior */
        if (ow >= out_w)
            break;
        float share = SHARE(ow);
        for (ptrdiff_t w = begin_w[ow]; w < begin_w[ow] + count_w[ow]; w++)
            column[w] += share;
    }
#undef SHARE
    for (ptrdiff_t r = 0; r < rows; r++) {
        avg_put_row_f32(plane_grad + row_index[r] * in_w, column, in_w, written[row_index[r]]);
        written[row_index[r]] = 1;
    }
}

/* The backward of one output row whose windows do not overlap along W
   (disjoint_w) and none of whose rows is written yet: every element of
   those rows is 0 + the share of the one window containing it, or 0, the
   same as avg_pool_backward_row_f32 computes, written directly into the
   rows (no column row, which would be stored and loaded again). */
static void avg_put_disjoint_row_f32(const float *grad, const int64_t *begin_w,
                                     const int64_t *count_w, const double *scale_w,
                                     ptrdiff_t out_w, ptrdiff_t in_w, ptrdiff_t first,
                                     ptrdiff_t full_w, ptrdiff_t stride, ptrdiff_t begin,
                                     ptrdiff_t end, double scale_dh, double override_scale,
                                     float *plane_grad, const int64_t *row_index, ptrdiff_t rows,
                                     unsigned char *written)
{
    float *row[64];
    int lanes = full_w > 0 && end > begin && rows <= 64 ? avg_lanes(end - begin, stride) : 0;
    /* the interior's columns [lo, hi): written by the vector loop */
    ptrdiff_t lo = lanes ? first + begin * stride : 0, hi = lanes ? first + end * stride : 0;
    if (hi > in_w)
        hi = in_w;
    for (ptrdiff_t r = 0; r < rows && r < 64; r++)
        row[r] = plane_grad + row_index[r] * in_w;
#if MINIGRAD_POOL_ROWS_COMPILED
#if MINIGRAD_X86_64
    if (lanes == 16)
        avg_put_interior_avx512(row, rows, grad, scale_w, scale_dh, override_scale, first,
                                full_w, stride, begin, end, hi);
    else if (lanes == 8)
        avg_put_interior_avx2(row, rows, grad, scale_w, scale_dh, override_scale, first,
                              full_w, stride, begin, end, hi);
    else
#endif
    if (lanes == 4)
        avg_put_interior_generic(row, rows, grad, scale_w, scale_dh, override_scale, first,
                                 full_w, stride, begin, end, hi);
#endif
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *dst = plane_grad + row_index[r] * in_w;
        for (ptrdiff_t w = 0; w < lo; w++)
            dst[w] = 0;
        for (ptrdiff_t w = hi; w < in_w; w++)
            dst[w] = 0;
        for (ptrdiff_t ow = 0; ow < out_w; ow++) {
            if (lanes && ow == begin)
                ow = end;           /* past the interior */
            if (ow >= out_w)
                break;
            float share = (float)(grad[ow] * (override_scale != 0 ? override_scale
                                                                   : scale_dh * scale_w[ow]));
            for (ptrdiff_t w = begin_w[ow]; w < begin_w[ow] + count_w[ow]; w++)
                dst[w] = 0 + share;
        }
        written[row_index[r]] = 1;
    }
}

/* An average pool's windows (csrc/pooling.pyx's tables, one set per call):
   along D, H and W, output o covers the positions begin[o] .. begin[o] +
   count[o] - 1 and has the factor scale[o] (1/divisor = scale_d*scale_h*scale_w,
   or override_scale where that is not 0); along W, the interior outputs
   begin <= ow < end cover first + ow*stride + j, j < full_w. */
typedef struct {
    const int64_t *begin_d, *count_d, *begin_h, *count_h, *begin_w, *count_w;
    const double *scale_d, *scale_h, *scale_w;
    ptrdiff_t out_d, out_h, out_w, in_h, in_w;
    ptrdiff_t first, full_w, stride, begin, end;
    double override_scale;
} avg_windows;

/* out[(od*out_h + oh)*out_w + ow] for one float32 plane (in_d*in_h rows of
   in_w), row by row through avg_pool_row_f32; row_offset: scratch for the
   offsets of a window's rows (at most max count_d * max count_h). */
static void avg_pool_plane_f32(const float *plane, float *out, const avg_windows *win,
                               int64_t *row_offset)
{
    for (ptrdiff_t od = 0; od < win->out_d; od++)
        for (ptrdiff_t oh = 0; oh < win->out_h; oh++) {
            ptrdiff_t rows = 0;
            for (ptrdiff_t jd = 0; jd < win->count_d[od]; jd++)
                for (ptrdiff_t jh = 0; jh < win->count_h[oh]; jh++)
                    row_offset[rows++] = ((win->begin_d[od] + jd) * win->in_h +
                                          win->begin_h[oh] + jh) * win->in_w;
            avg_pool_row_f32(plane, row_offset, rows, win->begin_w, win->count_w, win->scale_w,
                             win->out_w, win->first, win->full_w, win->stride, win->begin,
                             win->end, win->scale_d[od] * win->scale_h[oh], win->override_scale,
                             out + (od * win->out_h + oh) * win->out_w);
        }
}

/* The backward of one float32 plane: plane_grad (in_rows rows of in_w) from
   grad, row by row through avg_pool_backward_row_f32. An input row is
   written (=) by the first window that contains it and added to (+=) by
   later ones, noted in written[row]; rows no window contains are zeroed at
   the end, so each element is written once where windows do not overlap
   (no zero-filling pass). row_index: scratch as avg_pool_plane_f32's
   row_offset; column: in_w floats and 32 more; written: in_rows flags. */
static void avg_pool_backward_plane_f32(const float *grad, float *plane_grad,
                                        const avg_windows *win, ptrdiff_t in_rows,
                                        int64_t *row_index, float *column,
                                        unsigned char *written)
{
    /* whether no two windows along W share a column (pooling with kernel <= stride) */
    int disjoint_w = win->full_w <= win->stride || win->end - win->begin <= 1;
    for (ptrdiff_t ow = 0; ow + 1 < win->out_w; ow++)
        if (win->begin_w[ow + 1] < win->begin_w[ow] + win->count_w[ow])
            disjoint_w = 0;
    for (ptrdiff_t r = 0; r < in_rows; r++)
        written[r] = 0;
    for (ptrdiff_t od = 0; od < win->out_d; od++)
        for (ptrdiff_t oh = 0; oh < win->out_h; oh++) {
            ptrdiff_t rows = 0;
            for (ptrdiff_t jd = 0; jd < win->count_d[od]; jd++)
                for (ptrdiff_t jh = 0; jh < win->count_h[oh]; jh++)
                    row_index[rows++] = (win->begin_d[od] + jd) * win->in_h + win->begin_h[oh] + jh;
            int fresh = disjoint_w;
            for (ptrdiff_t r = 0; r < rows; r++)
                fresh = fresh && !written[row_index[r]];
            if (fresh)
                avg_put_disjoint_row_f32(grad + (od * win->out_h + oh) * win->out_w, win->begin_w,
                                         win->count_w, win->scale_w, win->out_w, win->in_w,
                                         win->first, win->full_w, win->stride, win->begin,
                                         win->end, win->scale_d[od] * win->scale_h[oh],
                                         win->override_scale, plane_grad, row_index, rows,
                                         written);
            else
                avg_pool_backward_row_f32(grad + (od * win->out_h + oh) * win->out_w, win->begin_w,
                                          win->count_w, win->scale_w, win->out_w, win->in_w,
                                          win->first, win->full_w, win->stride, win->begin, win->end,
                                          win->scale_d[od] * win->scale_h[oh], win->override_scale,
                                          column, plane_grad, row_index, rows, written);
        }
    for (ptrdiff_t r = 0; r < in_rows; r++)
        if (!written[r])
            for (ptrdiff_t w = 0; w < win->in_w; w++)
                plane_grad[r * win->in_w + w] = 0;
}

#endif
