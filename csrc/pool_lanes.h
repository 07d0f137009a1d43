/*
 * Max pooling's interior row loop for one vector width: compiled once per
 * instruction-set path (csrc/simd_paths.h, included by csrc/pool_rows.h) on
 * the vectors of csrc/simd_lanes.h (`vec`: SIMD_LANES floats, `lanes_mask`:
 * as many ints).
 *
 * Reference: minigrad/reference/pooling.py (max_pool).
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
