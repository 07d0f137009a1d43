/*
 * Pooling's row loops for one vector width (max pooling's interior, average
 * pooling's rows): compiled once per instruction-set path (csrc/simd_paths.h,
 * included by csrc/pool_rows.h) on the vectors of csrc/simd_lanes.h (`vec`:
 * SIMD_LANES floats, `lanes_mask`: as many ints).
 *
 * Reference: minigrad/reference/pooling.py (max_pool, avg_pool, avg_pool_backward).
 */

/* Every other value from p on (stride 2), or consecutive ones (stride 1). */
SIMD_INLINE vec SIMD(load_strided)(const float *p, ptrdiff_t stride)
{
    return stride == 1 ? SIMD(load)(p) : SIMD(load_even)(p);
}

/* One block of SIMD_LANES outputs from ow on: the running maximum and the
   number of the tap that holds it stay in registers through all taps, with
   a compare and two bit-mask selects per tap (no branches). `stride` is a
   constant 1 or 2 where this is inlined. Returns the lanes that read a nan. */
SIMD_INLINE lanes_mask SIMD(max_fold_block)(const float *src, const int64_t *tap_offset, ptrdiff_t taps,
                                     ptrdiff_t stride, ptrdiff_t ow, float *best, int32_t *which)
{
    const float *first = src + ow * stride;
    vec top = SIMD(load_strided)(first + tap_offset[0], stride);
    lanes_mask holder = {0};                        /* tap 0 holds every maximum so far */
    lanes_mask nan = top != top;
    for (ptrdiff_t t = 1; t < taps; t++) {
        vec value = SIMD(load_strided)(first + tap_offset[t], stride);
        lanes_mask larger = value > top;            /* strict: the first of equal maxima stays */
        top = (vec)((larger & (lanes_mask)value) | (~larger & (lanes_mask)top));
        holder = (larger & (int)t) | (~larger & holder);
        nan |= value != value;
    }
    __builtin_memcpy(best + ow, &top, sizeof top);
    __builtin_memcpy(which + ow, &holder, sizeof holder);
    return nan;
}

/* The same, one output at a time (short rows, other strides). */
SIMD_INLINE int SIMD(max_fold_one)(const float *src, const int64_t *tap_offset, ptrdiff_t taps,
                                   ptrdiff_t stride, ptrdiff_t ow, float *best, int32_t *which)
{
    const float *first = src + ow * stride;
    float top = first[tap_offset[0]];
    int32_t holder = 0;
    int nan = top != top;
    for (ptrdiff_t t = 1; t < taps; t++) {
        float value = first[tap_offset[t]];
        int32_t larger = -(int32_t)(value > top);
        top = value > top ? value : top;
        holder = ((int32_t)t & larger) | (holder & ~larger);
        nan |= value != value;
    }
    best[ow] = top;
    which[ow] = holder;
    return nan;
}

/* Outputs begin <= ow < end, blocks of SIMD_LANES (the last block ends at
   `end`, overlapping the one before: its outputs come out the same twice),
   the outputs of a row shorter than a block one by one. */
SIMD_INLINE int SIMD(max_fold_outputs)(const float *src, const int64_t *tap_offset, ptrdiff_t taps,
                                       ptrdiff_t stride, ptrdiff_t begin, ptrdiff_t end, float *best,
                                       int32_t *which)
{
    int nan = 0;
    if (end - begin < SIMD_LANES) {
        for (ptrdiff_t ow = begin; ow < end; ow++)
            nan |= SIMD(max_fold_one)(src, tap_offset, taps, stride, ow, best, which);
        return nan;
    }
    lanes_mask nan_lanes = {0};
    for (ptrdiff_t ow = begin;; ow += SIMD_LANES) {
        if (ow + SIMD_LANES > end)
            ow = end - SIMD_LANES;
        nan_lanes |= SIMD(max_fold_block)(src, tap_offset, taps, stride, ow, best, which);
        if (ow + SIMD_LANES == end)
            return SIMD(any_lane)(nan_lanes);
    }
}

/* best[ow], index[ow] for begin <= ow < end: the maximum over taps t of
   plane[first + tap_offset[t] + ow*stride] and its position there, for the
   first t that holds it (which: scratch for the tap numbers); returns
   nonzero if a value read is nan (then the caller redoes the row). */
static SIMD_TARGET int SIMD(max_fold_row)(const float *plane, ptrdiff_t first,
                                          const int64_t *tap_offset, ptrdiff_t taps,
                                          ptrdiff_t stride, ptrdiff_t begin, ptrdiff_t end,
                                          float *best, int64_t *index, int32_t *which)
{
    const float *src = plane + first;
    int nan = 0;
    if (stride == 1)
        nan = SIMD(max_fold_outputs)(src, tap_offset, taps, 1, begin, end, best, which);
    else if (stride == 2)
        nan = SIMD(max_fold_outputs)(src, tap_offset, taps, 2, begin, end, best, which);
    else
        for (ptrdiff_t ow = begin; ow < end; ow++)
            nan |= SIMD(max_fold_one)(src, tap_offset, taps, stride, ow, best, which);
    for (ptrdiff_t ow = begin; ow < end; ow++)
        index[ow] = first + ow * stride + tap_offset[which[ow]];
    return nan;
}


/* ---------------------------------------------------------------- max pooling of whole planes
 * When every window lies inside the plane (no padding, floor mode: the usual
 * MaxPool2d(2) or MaxPool2d(3, 2)), all output rows share one table of tap
 * offsets, and one call pools a whole plane: no set-up per row, and a row
 * shorter than a vector is one block of masked loads and stores. The fold is
 * max_fold_block's, so the results are the same bytes.
 */

/* lanes [0, n) of load_strided(p, stride), zeros in the others, reading
   nothing past the last float they need (n <= SIMD_LANES) */
SIMD_INLINE vec SIMD(load_strided_first)(const float *p, ptrdiff_t stride, ptrdiff_t n)
{
    if (n == SIMD_LANES)
        return SIMD(load_strided)(p, stride);
    if (stride == 1)
        return SIMD(load_first)(p, n);
    /* p[0], p[2], .., p[2n-2]: the even lanes of the first 2n-1 floats */
    vec a = SIMD(load_first)(p, 2 * n - 1 < SIMD_LANES ? 2 * n - 1 : SIMD_LANES);
    vec b = 2 * n - 1 > SIMD_LANES ? SIMD(load_first)(p + SIMD_LANES, 2 * n - 1 - SIMD_LANES)
                                   : SIMD(broadcast)(0.0f);
    return SIMD(even_lanes)(a, b);
}

/* n <= SIMD_LANES outputs from src on, `stride` apart (a constant 1 or 2
   where inlined): best[i] = their maxima over the taps, index[i] =
   position + i*stride + the offset of the first tap that holds it.
   Returns the lanes that read a nan. */
SIMD_INLINE lanes_mask SIMD(max_pool_block)(const float *src, ptrdiff_t position,
                                            const int64_t *tap_offset, ptrdiff_t taps,
                                            ptrdiff_t stride, ptrdiff_t n, float *best,
                                            int64_t *index)
{
    vec top = SIMD(load_strided_first)(src + tap_offset[0], stride, n);
    lanes_mask holder = {0};                        /* tap 0 holds every maximum so far */
    lanes_mask nan = top != top;
    for (ptrdiff_t t = 1; t < taps; t++) {
        vec value = SIMD(load_strided_first)(src + tap_offset[t], stride, n);
        lanes_mask larger = value > top;            /* strict: the first of equal maxima stays */
        top = (vec)((larger & (lanes_mask)value) | (~larger & (lanes_mask)top));
        holder = (larger & (int)t) | (~larger & holder);
        nan |= value != value;
    }
    if (n == SIMD_LANES)
        SIMD(store)(best, top);
    else
        SIMD(store_first)(best, n, top);
    for (ptrdiff_t i = 0; i < n; i++)
        index[i] = position + i * stride + tap_offset[holder[i]];
    return nan;
}

/* One output row of n outputs: blocks of SIMD_LANES, the last one ending at
   n (overlapping the one before: its outputs come out the same twice), or
   one short block. */
SIMD_INLINE lanes_mask SIMD(max_pool_row)(const float *row, ptrdiff_t position,
                                          const int64_t *tap_offset, ptrdiff_t taps,
                                          ptrdiff_t stride, ptrdiff_t n, float *best,
                                          int64_t *index)
{
    if (n <= SIMD_LANES)
        return SIMD(max_pool_block)(row, position, tap_offset, taps, stride, n, best, index);
    lanes_mask nan = {0};
    for (ptrdiff_t ow = 0;; ow += SIMD_LANES) {
        if (ow + SIMD_LANES > n)
            ow = n - SIMD_LANES;
        nan |= SIMD(max_pool_block)(row + ow * stride, position + ow * stride, tap_offset, taps,
                                    stride, SIMD_LANES, best + ow, index + ow);
        if (ow + SIMD_LANES == n)
            return nan;
    }
}

/* A whole plane of out_d x out_h x out_w outputs whose windows all lie
   inside it: output (od, oh, ow) reads plane[first + od*step_d + oh*step_h
   + ow*stride + tap_offset[t]], t < taps. best, index: the plane's outputs
   and flat argmax positions. Returns nonzero if a value read is nan (then
   the caller redoes the plane with PyTorch's nan rule). */
static SIMD_TARGET int SIMD(max_pool_plane)(const float *plane, ptrdiff_t first,
                                            const int64_t *tap_offset, ptrdiff_t taps,
                                            ptrdiff_t out_d, ptrdiff_t out_h, ptrdiff_t out_w,
                                            ptrdiff_t step_d, ptrdiff_t step_h, ptrdiff_t stride,
                                            float *best, int64_t *index)
{
    lanes_mask nan = {0};
    int scalar_nan = 0;
    for (ptrdiff_t od = 0; od < out_d; od++)
        for (ptrdiff_t oh = 0; oh < out_h; oh++) {
            ptrdiff_t position = first + od * step_d + oh * step_h;
            ptrdiff_t out = (od * out_h + oh) * out_w;
            if (stride == 1)
                nan |= SIMD(max_pool_row)(plane + position, position, tap_offset, taps, 1, out_w,
                                          best + out, index + out);
            else if (stride == 2)
                nan |= SIMD(max_pool_row)(plane + position, position, tap_offset, taps, 2, out_w,
                                          best + out, index + out);
            else
                for (ptrdiff_t ow = 0; ow < out_w; ow++) {
                    int32_t which;
                    scalar_nan |= SIMD(max_fold_one)(plane + position + ow * stride, tap_offset, taps,
                                                     stride, 0, best + out + ow, &which);
                    index[out + ow] = position + ow * stride + tap_offset[which];
                }
        }
    return scalar_nan || SIMD(any_lane)(nan);
}

/* ---------------------------------------------------------------- average pooling
 * The interior of one output row of float32 average pooling:
 *
 *   avg_pool_interior:    dst[ow] = sum over rows r and columns j < full_w of
 *                         src[row_offset[r] + ow*stride + j] (in double) * scale, begin <= ow < end
 *   avg_spread_interior:  column[ow*stride + j] += share of ow  for j < full_w, begin <= ow < end
 *   avg_put_interior:     the same written straight into the rows, for windows that do not overlap
 *   put_row:              row = column, or row += column
 *
 * A block of SIMD_LANES outputs at a time; stride 1 and 2 only (the callers
 * loop over other strides themselves).
 */
/* One block of outputs from ow on: SIMD_LANES window sums in double (two
   registers), the taps added in the order (r, j), starting from the first
   tap's value as the scalar loop does; then times scale of ow (override, or
   scale_dh * scale_w[ow], multiplied as in the scalar loop) and rounded to
   float once. `stride` is a constant 1 or 2 where this is inlined. */
SIMD_INLINE void SIMD(avg_pool_block)(const float *src, const int64_t *row_offset, ptrdiff_t rows,
                                      ptrdiff_t full_w, ptrdiff_t stride, ptrdiff_t ow,
                                      const double *scale_w, double scale_dh,
                                      double override_scale, float *dst)
{
    const float *first = src + ow * stride;
    SIMD(dvec) low, high, tap_low, tap_high, scale_low, scale_high;
    SIMD(widen)(SIMD(load_strided)(first + row_offset[0], stride), &low, &high);
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t j = r == 0 ? 1 : 0; j < full_w; j++) {
            SIMD(widen)(SIMD(load_strided)(first + row_offset[r] + j, stride), &tap_low, &tap_high);
            low += tap_low;
            high += tap_high;
        }
    if (override_scale != 0) {
        low *= override_scale;
        high *= override_scale;
    } else {
        __builtin_memcpy(&scale_low, scale_w + ow, sizeof scale_low);
        __builtin_memcpy(&scale_high, scale_w + ow + SIMD_LANES / 2, sizeof scale_high);
        low *= scale_dh * scale_low;
        high *= scale_dh * scale_high;
    }
    SIMD(store)(dst + ow, SIMD(narrow)(low, high));
}

/* Outputs begin <= ow < end with end - begin >= SIMD_LANES: blocks of
   SIMD_LANES, the last one ending at `end` (overlapping the one before:
   an output is computed from scratch, so the overlap comes out the same). */
static SIMD_TARGET void SIMD(avg_pool_interior)(const float *src, const int64_t *row_offset,
                                                ptrdiff_t rows, ptrdiff_t full_w, ptrdiff_t stride,
                                                ptrdiff_t begin, ptrdiff_t end,
                                                const double *scale_w, double scale_dh,
                                                double override_scale, float *dst)
{
    for (ptrdiff_t ow = begin;; ow += SIMD_LANES) {
        if (ow + SIMD_LANES > end)
            ow = end - SIMD_LANES;
        if (stride == 1)
            SIMD(avg_pool_block)(src, row_offset, rows, full_w, 1, ow, scale_w, scale_dh,
                                 override_scale, dst);
        else
            SIMD(avg_pool_block)(src, row_offset, rows, full_w, 2, ow, scale_w, scale_dh,
                                 override_scale, dst);
        if (ow + SIMD_LANES == end)
            return;
    }
}

/* The shares (float)(grad[ow] * scale of ow) of the SIMD_LANES outputs from
   ow on, multiplied as in the scalar loop (override where that is not 0,
   else scale_dh * scale_w[ow]); the lanes from n on are 0 (n < SIMD_LANES:
   nothing past grad[ow + n - 1] or scale_w[ow + n - 1] is read). Computed
   from grad in registers: a share row just stored and loaded again at
   another offset would stall on the store. */
SIMD_INLINE vec SIMD(avg_share_block)(const float *grad, const double *scale_w, double scale_dh,
                                      double override_scale, ptrdiff_t ow, ptrdiff_t n)
{
    SIMD(dvec) low, high;
    SIMD(widen)(n >= SIMD_LANES ? SIMD(load)(grad + ow) : SIMD(load_first)(grad + ow, n),
                &low, &high);
    if (override_scale != 0) {
        low *= override_scale;
        high *= override_scale;
    } else {
        low *= scale_dh * SIMD(load_first_doubles)(scale_w + ow, n);
        high *= scale_dh * SIMD(load_first_doubles)(scale_w + ow + SIMD_LANES / 2,
                                                    n - SIMD_LANES / 2);
    }
    return SIMD(narrow)(low, high);
}

/* column[ow*stride + j] += share of ow for begin <= ow < end, j < full_w, in
   the order of the scalar loop (j outside, ow inside: every column element
   gets its shares in increasing j). Stride 2 takes two taps j, j+1 per
   pass: they fill the even and the odd columns of a block, so a block adds
   zip(share, share) (zip(share, 0) for a last single tap) to 2*SIMD_LANES
   columns. The first pass covers every column from begin*stride on once,
   so it stores 0 + its shares instead of adding them to the zeroed column
   (no load of a column just stored). The last block of a row has zero
   shares after `end` and so writes (adds) zeros to up to
   stride*SIMD_LANES - 1 columns past the interior: columns that hold zeros
   there yet, or room the caller leaves after the column row. Zero plus a
   share is what the scalar loop computes (+0.0 for a share of -0.0), and
   adding +0.0 changes no column (none is ever -0.0). */
static SIMD_TARGET void SIMD(avg_spread_interior)(float *column, const float *grad,
                                                  const double *scale_w, double scale_dh,
                                                  double override_scale, ptrdiff_t full_w,
                                                  ptrdiff_t stride, ptrdiff_t begin, ptrdiff_t end)
{
    const vec zero = SIMD(broadcast)(0.0f);
    for (ptrdiff_t j = 0; j < full_w; j += stride) {
        int pair = stride == 2 && j + 1 < full_w;
        for (ptrdiff_t ow = begin; ow < end; ow += SIMD_LANES) {
            vec s = SIMD(avg_share_block)(grad, scale_w, scale_dh, override_scale, ow, end - ow);
            float *dst = column + ow * stride + j;
            if (stride == 1) {
                SIMD(store)(dst, (j == 0 ? zero : SIMD(load)(dst)) + s);
            } else {
                vec low, high;
                SIMD(zip)(s, pair ? s : zero, &low, &high);
                if (j == 0) {
                    SIMD(store)(dst, zero + low);
                    SIMD(store)(dst + SIMD_LANES, zero + high);
                } else {
                    SIMD(store)(dst, SIMD(load)(dst) + low);
                    SIMD(store)(dst + SIMD_LANES, SIMD(load)(dst + SIMD_LANES) + high);
                }
            }
        }
    }
}

/* row[w] = column[w] (add == 0) or row[w] += column[w], 0 <= w < n. */
static SIMD_TARGET void SIMD(put_row)(float *row, const float *column, ptrdiff_t n, int add)
{
    ptrdiff_t w = 0;
    for (; w + SIMD_LANES <= n; w += SIMD_LANES)
        SIMD(store)(row + w, add ? SIMD(load)(row + w) + SIMD(load)(column + w)
                                 : SIMD(load)(column + w));
    if (w < n)
        SIMD(store_first)(row + w, n - w, add ? SIMD(load_first)(row + w, n - w) +
                                                SIMD(load_first)(column + w, n - w)
                                              : SIMD(load_first)(column + w, n - w));
}

/* Windows that do not overlap, the rows of one window none written yet:
   each of the `rows` rows (row[r], in_w floats) gets, directly, the share
   of the window its column lies in (0 + share, as the column loop), at the
   interior columns first + ow*stride + j, begin <= ow < end, j < full_w <=
   stride (stride 1 or 2), a block of outputs at a time: zip(share, share)
   for full_w 2 (zip(share, 0) for full_w 1) at stride 2. The last block
   stores only up to column `limit` (masked), so nothing past the interior's
   columns (or the row) is written. The caller writes the other columns. */
static SIMD_TARGET void SIMD(avg_put_interior)(float *const *row, ptrdiff_t rows,
                                               const float *grad, const double *scale_w,
                                               double scale_dh, double override_scale,
                                               ptrdiff_t first, ptrdiff_t full_w, ptrdiff_t stride,
                                               ptrdiff_t begin, ptrdiff_t end, ptrdiff_t limit)
{
    const vec zero = SIMD(broadcast)(0.0f);
    for (ptrdiff_t ow = begin; ow < end; ow += SIMD_LANES) {
        vec s = zero + SIMD(avg_share_block)(grad, scale_w, scale_dh, override_scale, ow, end - ow);
        ptrdiff_t at = first + ow * stride, n = limit - at;   /* columns left from `at` */
        if (stride == 1) {
            for (ptrdiff_t r = 0; r < rows; r++) {
                if (n >= SIMD_LANES)
                    SIMD(store)(row[r] + at, s);
                else
                    SIMD(store_first)(row[r] + at, n, s);
            }
        } else {
            vec low, high;
            SIMD(zip)(s, full_w == 2 ? s : zero, &low, &high);
            for (ptrdiff_t r = 0; r < rows; r++) {
                if (n >= 2 * SIMD_LANES) {
                    SIMD(store)(row[r] + at, low);
                    SIMD(store)(row[r] + at + SIMD_LANES, high);
                } else if (n > SIMD_LANES) {
                    SIMD(store)(row[r] + at, low);
                    SIMD(store_first)(row[r] + at + SIMD_LANES, n - SIMD_LANES, high);
                } else if (n == SIMD_LANES) {
                    SIMD(store)(row[r] + at, low);
                } else {
                    SIMD(store_first)(row[r] + at, n, low);
                }
            }
        }
    }
}
