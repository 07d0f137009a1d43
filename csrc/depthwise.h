/*
 * The row loops of the stride-1 (and stride-2 along rows) depthwise
 * convolution in float32, written once over the vector width
 * (csrc/depthwise_lanes.h) and compiled for each instruction-set path:
 *
 *   AVX-512   16 floats per vector, fused multiply-add
 *   AVX2+FMA   8 floats per vector, fused multiply-add
 *   generic    4 floats per vector: SSE2 on x86-64, NEON on aarch64
 *
 * depthwise_correlate_f32 and depthwise_weight_grad_f32 below pick the
 * variant of the path chosen now (minigrad_isa(), csrc/cpu_features.h) at
 * every call. csrc/depthwise.pyx calls them; it keeps Cython loops for
 * float64, for 3-d planes and for other strides.
 *
 * Both work on one zero-padded input plane (Hp, Wp) (see pad_plane in
 * depthwise.pyx), so no read needs a bounds check. Tap (b, c) of an output at
 * (oh, ow) reads padded[(oh + b*dh) * Wp + ow + c*dw] (stride 1; the forward
 * also takes stride 2 along rows: padded[(oh*sh + b*dh) * Wp + 2*ow + c*dw]).
 *
 *   depthwise_correlate_f32:    out (Ho, Wo) (+)= bias + sum over taps of w[tap] * shifted plane
 *   depthwise_weight_grad_f32:  sums (K, 16) += gy (Ho, Wo) * shifted plane, per tap
 *
 * Why C and not Cython: the same loop with explicit vectors holds a block of
 * outputs in registers through all taps, and on AVX2 / AVX-512 does a
 * multiply-add in one instruction; Cython's loops compile to portable SSE2
 * code without fused multiply-adds. Each variant carries a
 * function target attribute (__attribute__((target("avx2,fma"))), ...), so
 * the module itself still runs on any x86-64.
 *
 * 3x3 filters (the depthwise filter of MobileNet and its kin) get their own
 * copies of the loops with the sizes as constants, so the compiler unrolls
 * the taps and keeps every running sum in a register; other sizes run the
 * same code with the sizes as variables.
 */
#ifndef MINIGRAD_DEPTHWISE_H
#define MINIGRAD_DEPTHWISE_H

#include <stddef.h>
#include "cpu_features.h"

/* floats of slack the caller leaves (zeroed) after each padded plane: the
   stride-2 loops read up to 2*16 - 1 past a row's end */
#define DEPTHWISE_SLACK 32

/* the most filter taps (kh*kw) these loops take: they keep one vector per
   tap on the stack (4 KiB with AVX-512) */
#define DEPTHWISE_MAX_TAPS 64

/* the weight-gradient sums of one tap: 16 floats on every path (a path with
   fewer lanes uses the first ones), so the caller's layout is the same */
#define DEPTHWISE_SUM_LANES 16

/* GCC/Clang vector extensions are all the loops need */
#if defined(__GNUC__) && !defined(MINIGRAD_NO_VECTOR_DEPTHWISE)
#define MINIGRAD_DEPTHWISE_COMPILED 1
#else
#define MINIGRAD_DEPTHWISE_COMPILED 0
#endif

/* whether depthwise_correlate_f32 / depthwise_weight_grad_f32 exist in this build */
static int minigrad_depthwise_available(void)
{
    return MINIGRAD_DEPTHWISE_COMPILED;
}

#if MINIGRAD_DEPTHWISE_COMPILED

#define SIMD_BODY "depthwise_lanes.h"
#include "simd_paths.h"      /* correlate_avx512/_avx2/_generic, weight_grad_... */

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
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        correlate_avx512(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        correlate_avx2(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw);
        return;
    }
#endif
    correlate_generic(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw);
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
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512)
        return weight_grad_avx512(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
    if (minigrad_isa() == MINIGRAD_ISA_AVX2)
        return weight_grad_avx2(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
#endif
    return weight_grad_generic(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

#else  /* no GCC-style vectors: never called, minigrad_depthwise_available() is 0 */

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
