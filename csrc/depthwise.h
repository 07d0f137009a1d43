/*
 * The row loops of the stride-1 depthwise convolution in float32, for CPUs
 * with AVX-512 (csrc/conv.pyx calls them; it keeps its own Cython loops for
 * float64, for other CPUs and for other geometries).
 *
 * Both work on one zero-padded input plane (Hp, Wp) (see pad_plane in
 * conv.pyx), so no read needs a bounds check. Tap (b, c) of an output at
 * (oh, ow) reads padded[(oh + b*dh) * Wp + ow + c*dw] (stride 1; the forward
 * also takes stride 2 along rows: padded[(oh*sh + b*dh) * Wp + 2*ow + c*dw]).
 *
 *   depthwise_correlate_f32:    out (Ho, Wo) (+)= bias + sum over taps of w[tap] * shifted plane
 *   depthwise_weight_grad_f32:  sums (K, 16) += gy (Ho, Wo) * shifted plane, per tap
 *
 * Why C and not Cython: the same loop compiled for AVX-512 holds 16 floats
 * in one register and does a multiply-add in one instruction; the portable
 * build (SSE2, 4 floats, no fused multiply-add) of conv.pyx's loops was
 * 2-3x slower per kernel (32x64x32x32 images, 3x3 filters, one thread). The
 * functions carry __attribute__((target("avx512f"))), so the rest of the
 * module still runs on any x86-64, and conv.pyx calls them only where
 * minigrad_depthwise_available() says the CPU has AVX-512.
 *
 * Vectors are GCC/Clang vector extensions (`vec16`: 16 floats, one AVX-512
 * register), so the arithmetic reads like scalar code: acc += w * v; the
 * few AVX-512 intrinsics are loads and stores of part of a vector.
 * Rows are cut into blocks of 16 outputs; a last, shorter block computes all
 * 16 lanes (reading past the row end into the next row or the
 * DEPTHWISE_SLACK floats the caller leaves after the plane) and keeps only
 * the lanes it needs.
 *
 * 3x3 filters (the depthwise filter of MobileNet and its kin) get their own
 * copies of the loops with the sizes as constants, so the compiler unrolls
 * the taps and keeps every running sum in a register; other sizes run the
 * same code with the sizes as variables.
 *
 * The sums of each output are done in a fixed order (taps in order, rows in
 * order), so results do not depend on the number of threads.
 */
#ifndef MINIGRAD_DEPTHWISE_H
#define MINIGRAD_DEPTHWISE_H

#include <stddef.h>
#include "cpu_features.h"

/* floats of slack the caller leaves (zeroed) after each padded plane */
#define DEPTHWISE_SLACK 32

/* the most filter taps (kh*kw) these loops take: they keep one 16-float
   vector per tap on the stack (4 KiB) */
#define DEPTHWISE_MAX_TAPS 64

#if defined(__GNUC__) && (defined(__x86_64__) || defined(_M_X64)) && !defined(MINIGRAD_NO_AVX512_DEPTHWISE)
#define MINIGRAD_DEPTHWISE_COMPILED 1
#else
#define MINIGRAD_DEPTHWISE_COMPILED 0
#endif

static int minigrad_depthwise_available(void)
{
    return MINIGRAD_DEPTHWISE_COMPILED && minigrad_cpu_has_avx512();
}

#if MINIGRAD_DEPTHWISE_COMPILED

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

typedef float vec16 __attribute__((vector_size(64)));      /* 16 floats: one AVX-512 register */

static inline AVX512 vec16 load16(const float *p)
{
    return _mm512_loadu_ps(p);
}

static inline AVX512 void store16(float *p, vec16 v)
{
    _mm512_storeu_ps(p, v);
}

static inline AVX512 vec16 broadcast16(float x)
{
    return _mm512_set1_ps(x);
}

/* A short block: lanes [0, n) of 16, n < 16. Masked loads and stores touch
   only those lanes (no read past the end of an array, no function call). */
static inline __mmask16 first_lanes(ptrdiff_t n)
{
    return (__mmask16)((1u << n) - 1);
}

static inline AVX512 vec16 load_first(const float *p, ptrdiff_t n)     /* zeros in the other lanes */
{
    return _mm512_maskz_loadu_ps(first_lanes(n), p);
}

static inline AVX512 void store_first(float *p, ptrdiff_t n, vec16 v)
{
    _mm512_mask_storeu_ps(p, first_lanes(n), v);
}

/* acc[i] = first + the sum over taps (b, c) of taps[b*kw + c] * the 16 input
   values under that tap for output row i, i < rows. The input rows of the
   window are walked once: each 16-value load serves every output row it is
   under (with rows = 4 and a 3x3 filter, 18 loads for 36 multiply-adds
   instead of 36). Each acc[i] still adds its taps in the order (b, c), so
   the result does not depend on `rows`. */
static inline __attribute__((always_inline)) AVX512 void
correlate_tile(vec16 *acc, const float *src, const vec16 *taps, vec16 first, ptrdiff_t rows,
               ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    for (ptrdiff_t i = 0; i < rows; i++)
        acc[i] = first;
    /* (unrolled completely where the sizes are constants: then every test
       below is decided at compile time and the sums stay in registers) */
#pragma GCC unroll 16
    for (ptrdiff_t r = 0; r < rows + (kh - 1) * dh; r++)          /* input rows of the window */
#pragma GCC unroll 16
        for (ptrdiff_t c = 0; c < kw; c++) {
            vec16 v = load16(src + r * Wp + c * dw);
#pragma GCC unroll 16
            for (ptrdiff_t i = 0; i < rows; i++) {               /* output row i, filter row b */
                ptrdiff_t b = (r - i) / dh;
                if (r >= i && (r - i) % dh == 0 && b < kh)
                    acc[i] += taps[b * kw + c] * v;
            }
        }
}

/* `rows` output rows from oh on: all their 16-output blocks, then a short last block */
static inline __attribute__((always_inline)) AVX512 void
correlate_row_group(float *out, const float *padded, const vec16 *taps, vec16 first, int accumulate,
                    ptrdiff_t oh, ptrdiff_t rows, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                    ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    const ptrdiff_t full = Wo - Wo % 16;
    vec16 acc[rows];
    for (ptrdiff_t start = 0; start < full; start += 16) {
        correlate_tile(acc, padded + oh * Wp + start, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + start;
            store16(dst, accumulate ? load16(dst) + acc[i] : acc[i]);
        }
    }
    if (full < Wo) {
        ptrdiff_t n = Wo - full;
        correlate_tile(acc, padded + oh * Wp + full, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + full;
            store_first(dst, n, accumulate ? load_first(dst, n) + acc[i] : acc[i]);
        }
    }
}

/* out (Ho, Wo) (+)= first + sum_{b, c} w[b*kw + c] * padded[(oh + b*dh)*Wp + ow + c*dw].
   Blocks of 16 outputs keep their sums in registers through all taps; the
   K filter taps are broadcast into registers once per plane. Rows go
   `rows` at a time (correlate_tile), the last Ho % rows one by one. `kh`,
   `kw`, `dh`, `dw` and `rows` are constants where correlate_3x3 inlines this. */
static inline __attribute__((always_inline)) AVX512 void
correlate_rows(float *out, const float *padded, const float *w, float first, int accumulate,
               ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
               ptrdiff_t dh, ptrdiff_t dw, ptrdiff_t rows)
{
    const vec16 start_value = broadcast16(first);
    vec16 taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = broadcast16(w[k]);
    ptrdiff_t oh = 0;
    for (; oh + rows <= Ho; oh += rows)
        correlate_row_group(out, padded, taps, start_value, accumulate, oh, rows, Wo, Wp, kh, kw, dh, dw);
    for (; oh < Ho; oh++)
        correlate_row_group(out, padded, taps, start_value, accumulate, oh, 1, Wo, Wp, kh, kw, dh, dw);
}

static AVX512 void correlate_3x3(float *out, const float *padded, const float *w, float first,
                                 int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    correlate_rows(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, 1, 1, 4);
}

static AVX512 void correlate_any(float *out, const float *padded, const float *w, float first,
                                 int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                 ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    correlate_rows(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw, 1);
}

/* The even lanes of a, then those of b: a0 a2 .. a14 b0 b2 .. b14 (one permute). */
static inline AVX512 vec16 even_lanes(vec16 a, vec16 b)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
}

/* Stride 2 along rows, stride sh down columns: out[oh, ow] (+)= first + the sum
   over taps of w[b*kw + c] * padded[(oh*sh + b*dh)*Wp + 2*ow + c*dw]. A block
   of 16 outputs spans 32 input columns: it computes the stride-1 sums of all
   32 (two registers, contiguous loads as above) and keeps the even ones.
   Twice the multiply-adds, but no gathers. Reads up to 31 floats past a
   row's end (DEPTHWISE_SLACK). */
static inline __attribute__((always_inline)) AVX512 void
correlate_rows_stride2(float *out, const float *padded, const float *w, float first, int accumulate,
                       ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                       ptrdiff_t sh, ptrdiff_t dh, ptrdiff_t dw)
{
    const vec16 start_value = broadcast16(first);
    vec16 taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = broadcast16(w[k]);
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        const float *src = padded + oh * sh * Wp;
        float *row = out + oh * Wo;
        for (ptrdiff_t start = 0; start < Wo; start += 16) {
            vec16 low, high;
            correlate_tile(&low, src + 2 * start, taps, start_value, 1, Wp, kh, kw, dh, dw);
            correlate_tile(&high, src + 2 * start + 16, taps, start_value, 1, Wp, kh, kw, dh, dw);
            vec16 acc = even_lanes(low, high);
            ptrdiff_t n = Wo - start;
            if (n >= 16)
                store16(row + start, accumulate ? load16(row + start) + acc : acc);
            else
                store_first(row + start, n, accumulate ? load_first(row + start, n) + acc : acc);
        }
    }
}

static AVX512 void correlate_3x3_stride2(float *out, const float *padded, const float *w, float first,
                                         int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                         ptrdiff_t sh)
{
    correlate_rows_stride2(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, sh, 1, 1);
}

static AVX512 void correlate_any_stride2(float *out, const float *padded, const float *w, float first,
                                         int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                         ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t dh,
                                         ptrdiff_t dw)
{
    correlate_rows_stride2(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh, dw);
}

/* out (Ho, Wo) = bias + sum_{b, c} w[b*kw + c] * padded[(oh*sh + b*dh)*Wp + ow*sw + c*dw]
   (flip: the filter reversed, w[K-1 - (b*kw + c)]; accumulate: add to out, no bias).
   sw is 1 or 2; sh is 1 where sw is 1. */
static void depthwise_correlate_f32(float *out, const float *padded, const float *w, float bias,
                                    int flip, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                    ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                                    ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw)
{
    const ptrdiff_t K = kh * kw;
    float flipped[K];
    const float *taps = w;
    if (flip) {
        for (ptrdiff_t k = 0; k < K; k++)
            flipped[k] = w[K - 1 - k];
        taps = flipped;
    }
    float first = accumulate ? 0.0f : bias;
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (sw == 2 && three_by_three)
        correlate_3x3_stride2(out, padded, taps, first, accumulate, Ho, Wo, Wp, sh);
    else if (sw == 2)
        correlate_any_stride2(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh, dw);
    else if (three_by_three)
        correlate_3x3(out, padded, taps, first, accumulate, Ho, Wo, Wp);
    else
        correlate_any(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw);
}

/* acc[k] += g * (the 16 input values under tap k), for the lanes in `keep`
   only: in a short block the other lanes read past the row end, and
   whatever they hold (even inf or nan) must add nothing */
static inline __attribute__((always_inline)) AVX512 void
add_tap_products(vec16 *acc, vec16 g, const float *src, __mmask16 keep, ptrdiff_t Wp,
                 ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw)
{
#pragma GCC unroll 16
    for (ptrdiff_t b = 0; b < kh; b++)
#pragma GCC unroll 16
        for (ptrdiff_t c = 0; c < kw; c++) {
            const float *p = src + b * dh * Wp + c * dw;
            vec16 v = sw == 1 ? load16(p) : even_lanes(load16(p), load16(p + 16));
            if (keep == 0xFFFF)          /* a constant in the full blocks: the test folds away */
                acc[b * kw + c] += g * v;
            else
                acc[b * kw + c] = _mm512_mask3_fmadd_ps(g, v, acc[b * kw + c], keep);
        }
}

/* sums[k*16 + j] += gy[oh, ow] * padded at tap k, for the outputs ow = j (mod 16).
   Row by row: each 16-output block of gy is loaded once and multiplied with
   the K shifted input blocks, K running sums held in registers. With stride
   sw = 2 along rows an input block is the even columns of 32 (even_lanes).
   The sizes are constants where weight_grad_3x3 inlines this, so the tap
   loops unroll and the K sums stay in registers. */
static inline __attribute__((always_inline)) AVX512 int
weight_grad_rows(const float *gy, const float *padded, float *sums, ptrdiff_t Ho, ptrdiff_t Wo,
                 ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,
                 ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    const ptrdiff_t full = Wo - Wo % 16;
    vec16 finite = broadcast16(0.0f);          /* flip: stays 0 while every gy is finite */
    vec16 acc[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        acc[k] = broadcast16(0.0f);
    /* The full blocks of all rows in one loop, then the short last blocks:
       over a loop nest (rows, blocks) the compiler kept the K sums in memory
       between rows. */
    ptrdiff_t oh = 0, start = 0;
    for (ptrdiff_t block = 0; block < Ho * (full / 16); block++) {
        vec16 g = load16(gy + oh * Wo + start);
        if (flip)
            finite += g * 0.0f;
        add_tap_products(acc, g, padded + oh * sh * Wp + sw * start, 0xFFFF, Wp, kh, kw, sw, dh, dw);
        start += 16;
        if (start == full) {
            start = 0;
            oh++;
        }
    }
    if (full < Wo)
        for (oh = 0; oh < Ho; oh++) {
            vec16 g = load_first(gy + oh * Wo + full, Wo - full);
            if (flip)
                finite += g * 0.0f;
            add_tap_products(acc, g, padded + oh * sh * Wp + sw * full, first_lanes(Wo - full),
                             Wp, kh, kw, sw, dh, dw);
        }
    if (flip && _mm512_cmp_ps_mask(finite, finite, _CMP_UNORD_Q))
        return 0;                              /* a nan or inf in gy: nothing added */
    for (ptrdiff_t k = 0; k < kh * kw; k++) {
        float *dst = sums + (flip ? kh * kw - 1 - k : k) * 16;
        store16(dst, load16(dst) + acc[k]);
    }
    return 1;
}

static AVX512 int weight_grad_3x3(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                  ptrdiff_t Wo, ptrdiff_t Wp)
{
    return weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 0);
}

static AVX512 int weight_grad_3x3_flipped(const float *gy, const float *padded, float *sums,
                                          ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    return weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 1);
}

static AVX512 int weight_grad_3x3_stride2(const float *gy, const float *padded, float *sums,
                                          ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t sh)
{
    return weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, 3, 3, sh, 2, 1, 1, 0);
}

static AVX512 int weight_grad_any(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                  ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                  ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    return weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

/* sw is 1 or 2; sh is 1 where sw is 1. Returns 1 (sums added).
   flip: gy is the input plane and padded the spread output gradient (the
   same products, seen from the other side), so tap k's sums go to
   sums[K-1-k]. Then the padding is read too, and an inf or nan in gy times
   a padding zero would give nan where the true gradient may be finite: such
   a plane adds nothing and returns 0, for the caller to redo it the direct
   way. */
static int depthwise_weight_grad_f32(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                     ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                     ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (three_by_three && sw == 1 && sh == 1)
        return flip ? weight_grad_3x3_flipped(gy, padded, sums, Ho, Wo, Wp)
                    : weight_grad_3x3(gy, padded, sums, Ho, Wo, Wp);
    if (three_by_three && sw == 2 && !flip)
        return weight_grad_3x3_stride2(gy, padded, sums, Ho, Wo, Wp, sh);
    return weight_grad_any(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

#else  /* no GCC-style vectors or not x86-64: never called, minigrad_depthwise_available() is 0 */

static void depthwise_correlate_f32(float *out, const float *padded, const float *w, float bias,
                                    int flip, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                    ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                                    ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw)
{
}

static int depthwise_weight_grad_f32(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                     ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                     ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    return 0;
}

#endif
#endif
