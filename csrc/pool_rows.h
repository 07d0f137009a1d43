/*
 * The interior of one output row of float32 max pooling, compiled for each
 * instruction-set path (csrc/pool_lanes.h through csrc/simd_paths.h) and
 * picked per call with minigrad_isa(); csrc/pooling.pyx calls it (float64
 * and the window edges stay in Cython).
 *
 *   max_fold_row_f32:  best[ow], index[ow] = max and first argmax over the taps t
 *                      of plane[first + tap_offset[t] + ow*stride], begin <= ow < end
 *
 * A block of outputs keeps its running maximum and tap number in registers
 * through all the window's taps; stride 2 (the usual pooling stride) loads
 * two vectors and keeps every other float. The loop of one path has a fixed
 * order, and each output has one writer: the same result for any thread
 * count (and on every path: a maximum does not round).
 *
 * Reference: minigrad/reference/pooling.py (max_pool).
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
    /* A row shorter than 16 outputs on the AVX-512 path takes the AVX2 loop:
       every CPU with AVX-512 has AVX2 and FMA. */
    if (minigrad_isa() == MINIGRAD_ISA_AVX512 && end - begin >= 16)
        return max_fold_row_avx512(plane, first, tap_offset, taps, stride, begin, end, best,
                                   index, which);
    if (minigrad_isa() >= MINIGRAD_ISA_AVX2)
        return max_fold_row_avx2(plane, first, tap_offset, taps, stride, begin, end, best,
                                 index, which);
#endif
    return max_fold_row_generic(plane, first, tap_offset, taps, stride, begin, end, best, index,
                                which);
#else
    return 0;
#endif
}

#endif
