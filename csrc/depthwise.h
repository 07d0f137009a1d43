/*
 * The row loops of the stride-1 depthwise convolution in float32, for CPUs
 * with AVX-512 (csrc/conv.pyx calls them; it keeps its own Cython loops for
 * float64, for other CPUs and for other geometries).
 *
 * Both work on one zero-padded input plane (Hp, Wp) (see pad_plane in
 * conv.pyx), so no read needs a bounds check. Tap (b, c) of an output at
 * (oh, ow) reads padded[(oh + b*dh) * Wp + ow + c*dw].
 *
 *   depthwise_correlate_f32:    out (Ho, Wo) (+)= bias + sum over taps of w[tap] * shifted plane
 *   depthwise_weight_grad_f32:  sums (K, 16) += gy (Ho, Wo) * shifted plane, per tap
 *
 * Why C and not Cython: the same loop compiled for AVX-512 holds 16 floats
 * in one register and does a multiply-add in one instruction; the portable
 * build (SSE2, 4 floats, no fused multiply-add) is 3-4x slower here. The
 * functions carry __attribute__((target("avx512f"))), so the rest of the
 * module still runs on any x86-64, and conv.pyx calls them only where
 * minigrad_depthwise_available() says the CPU has AVX-512.
 *
 * Vectors are GCC/Clang vector extensions (`vec16`: 16 floats, one AVX-512
 * register), so the arithmetic reads like scalar code: acc += w * v.
 * Rows are cut into blocks of 16 outputs; a last, shorter block computes all
 * 16 lanes (reading past the row end into the next row or the 16 floats of
 * slack the caller leaves after the plane) and keeps only the lanes it needs.
 *
 * The sums of each output are done in a fixed order (taps in order, rows in
 * order), so results do not depend on the number of threads.
 */
#ifndef MINIGRAD_DEPTHWISE_H
#define MINIGRAD_DEPTHWISE_H

#include <stddef.h>
#include <string.h>

/* floats of slack the caller leaves (zeroed) after each padded plane */
#define DEPTHWISE_SLACK 16

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
#if MINIGRAD_DEPTHWISE_COMPILED
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if MINIGRAD_DEPTHWISE_COMPILED

#define AVX512 __attribute__((target("avx512f")))

typedef float vec16 __attribute__((vector_size(64)));      /* 16 floats */
typedef int mask16 __attribute__((vector_size(64)));       /* 16 lane masks: 0 or -1 */

static inline AVX512 vec16 load16(const float *p)
{
    vec16 v;
    memcpy(&v, p, sizeof v);                               /* an unaligned load */
    return v;
}

static inline AVX512 void store16(float *p, vec16 v)
{
    memcpy(p, &v, sizeof v);
}

static inline AVX512 vec16 broadcast16(float x)
{
    vec16 v = {0};
    return v + x;
}

/* the first n (< 16) floats at p, zeros in the other lanes */
static inline AVX512 vec16 load_first(const float *p, ptrdiff_t n)
{
    float lanes[16] = {0};
    memcpy(lanes, p, n * sizeof(float));
    return load16(lanes);
}

/* lanes [0, n) all ones, the others zero */
static inline AVX512 mask16 first_lanes(ptrdiff_t n)
{
    mask16 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return lane < (int)n;
}

/* first + the sum over taps of taps[b*kw + c] * the 16 input values under tap (b, c) */
static inline __attribute__((always_inline)) AVX512 vec16
correlate_block(const float *src, const vec16 *taps, vec16 first, ptrdiff_t Wp, ptrdiff_t kh,
                ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    vec16 acc = first;
    for (ptrdiff_t b = 0; b < kh; b++)
        for (ptrdiff_t c = 0; c < kw; c++)
            acc += taps[b * kw + c] * load16(src + b * dh * Wp + c * dw);
    return acc;
}

/* out (Ho, Wo) (+)= first + sum_{b, c} w[b*kw + c] * padded[(oh + b*dh)*Wp + ow + c*dw].
   Each block of 16 outputs keeps its sum in one register through all taps;
   the K filter taps are broadcast into registers once per plane. `kh`, `kw`,
   `dh`, `dw` are constants where correlate_3x3 inlines this. */
static inline __attribute__((always_inline)) AVX512 void
correlate_rows(float *out, const float *padded, const float *w, float first, int accumulate,
               ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
               ptrdiff_t dh, ptrdiff_t dw)
{
    const ptrdiff_t full = Wo - Wo % 16;
    const vec16 start_value = broadcast16(first);
    vec16 taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = broadcast16(w[k]);
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        float *row = out + oh * Wo;
        const float *src = padded + oh * Wp;
        for (ptrdiff_t start = 0; start < full; start += 16) {
            vec16 acc = correlate_block(src + start, taps, start_value, Wp, kh, kw, dh, dw);
            store16(row + start, accumulate ? load16(row + start) + acc : acc);
        }
        if (full < Wo) {                                   /* the row's last, short block */
            float lanes[16];
            store16(lanes, correlate_block(src + full, taps, start_value, Wp, kh, kw, dh, dw));
            for (ptrdiff_t j = 0; j < Wo - full; j++)
                row[full + j] = accumulate ? row[full + j] + lanes[j] : lanes[j];
        }
    }
}

static AVX512 void correlate_3x3(float *out, const float *padded, const float *w, float first,
                                 int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    correlate_rows(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, 1, 1);
}

static AVX512 void correlate_any(float *out, const float *padded, const float *w, float first,
                                 int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                 ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    correlate_rows(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw);
}

/* out (Ho, Wo) = bias + sum_{b, c} w[b*kw + c] * padded[(oh + b*dh)*Wp + ow + c*dw]
   (flip: the filter reversed, w[K-1 - (b*kw + c)]; accumulate: add to out, no bias). */
static void depthwise_correlate_f32(float *out, const float *padded, const float *w, float bias,
                                    int flip, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                    ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                    ptrdiff_t dh, ptrdiff_t dw)
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
    if (kh == 3 && kw == 3 && dh == 1 && dw == 1)
        correlate_3x3(out, padded, taps, first, accumulate, Ho, Wo, Wp);
    else
        correlate_any(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw);
}

/* acc[k] += g * (the 16 input values under tap k), lanes outside `keep` dropped
   after the product, so that whatever they read (even inf or nan) adds nothing */
static inline __attribute__((always_inline)) AVX512 void
add_tap_products(vec16 *acc, vec16 g, const float *src, mask16 keep, ptrdiff_t Wp,
                 ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    for (ptrdiff_t b = 0; b < kh; b++)
        for (ptrdiff_t c = 0; c < kw; c++) {
            vec16 product = g * load16(src + b * dh * Wp + c * dw);
            acc[b * kw + c] += (vec16)((mask16)product & keep);
        }
}

/* sums[k*16 + j] += gy[oh, ow] * padded at tap k, for the outputs ow = j (mod 16).
   Row by row: each 16-output block of gy is loaded once and multiplied with
   the K shifted input blocks, K running sums held in registers. `kh` and
   `kw` (and `dh`, `dw`) are constants where weight_grad_3x3 inlines this, so the tap loops
   unroll and the K sums stay in registers. */
static inline __attribute__((always_inline)) AVX512 void
weight_grad_rows(const float *gy, const float *padded, float *sums, ptrdiff_t Ho, ptrdiff_t Wo,
                 ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    const mask16 all = first_lanes(16);                    /* a constant: the & folds away */
    const ptrdiff_t full = Wo - Wo % 16;
    vec16 acc[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        acc[k] = broadcast16(0.0f);
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        const float *src = padded + oh * Wp;
        for (ptrdiff_t start = 0; start < full; start += 16)
            add_tap_products(acc, load16(gy + oh * Wo + start), src + start, all, Wp, kh, kw, dh, dw);
        if (full < Wo)                                     /* the row's last, short block */
            add_tap_products(acc, load_first(gy + oh * Wo + full, Wo - full), src + full,
                             first_lanes(Wo - full),
                             Wp, kh, kw, dh, dw);
    }
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        store16(sums + k * 16, load16(sums + k * 16) + acc[k]);
}

static AVX512 void weight_grad_3x3(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                   ptrdiff_t Wo, ptrdiff_t Wp)
{
    weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1);
}

static AVX512 void weight_grad_any(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                   ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                   ptrdiff_t dh, ptrdiff_t dw)
{
    weight_grad_rows(gy, padded, sums, Ho, Wo, Wp, kh, kw, dh, dw);
}

static void depthwise_weight_grad_f32(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                      ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                      ptrdiff_t dh, ptrdiff_t dw)
{
    if (kh == 3 && kw == 3 && dh == 1 && dw == 1)
        weight_grad_3x3(gy, padded, sums, Ho, Wo, Wp);
    else
        weight_grad_any(gy, padded, sums, Ho, Wo, Wp, kh, kw, dh, dw);
}

#else  /* no GCC-style vectors or not x86-64: never called, minigrad_depthwise_available() is 0 */

static void depthwise_correlate_f32(float *out, const float *padded, const float *w, float bias,
                                    int flip, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                    ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                    ptrdiff_t dh, ptrdiff_t dw)
{
}

static void depthwise_weight_grad_f32(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                      ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                      ptrdiff_t dh, ptrdiff_t dw)
{
}

#endif
#endif
