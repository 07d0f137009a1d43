/*
 * The weight gradient of a dense (groups == 1) float32 convolution without
 * packing: vectors over the output channels, one broadcast image value per
 * im2col row (csrc/tap_broadcast_lanes.h), compiled for each path:
 *
 *   AVX-512   16 floats per vector, blocks of 8 rows x 3 vectors
 *   AVX2+FMA   8 floats per vector, blocks of 4 rows x 3 vectors
 *   generic    4 floats per vector: SSE2 on x86-64, NEON on aarch64
 *
 * csrc/conv.pyx (tap_broadcast_weight_grad) pads each image, writes its
 * output gradient channels-last (dyt), calls tap_broadcast_f32 per image and
 * adds the per-chunk sums in a fixed order. The NumPy reference is
 * minigrad/reference/conv.py's conv_weight_grad: gw = sum_n dy[n] @ im2col(x[n])^T.
 */
#ifndef MINIGRAD_TAP_BROADCAST_H
#define MINIGRAD_TAP_BROADCAST_H

#include <stddef.h>
#include "cpu_features.h"

/* the most rows of one block (AVX-512's single-vector blocks) */
#define TAP_MAX_ROWS 16

/* floats of dyt one tile of output rows may span (128 KiB: in L2 on any CPU) */
#define TAP_TILE_FLOATS 32768

/* The geometry the loops need: the padded image (C, Dp, Hp, Wp), the kernel
   (kd, kh, kw) with its dilation, the output positions (Do, Ho, Wo) and how
   far apart their reads are (step_d = sd*Hp*Wp, step_h = sh*Wp, sw). */
typedef struct {
    ptrdiff_t C, Dp, Hp, Wp, kd, kh, kw, dd, dh, dw, Do, Ho, Wo, step_d, step_h, sw;
} tap_geometry;

/* where im2col row r = ((c*kd + a)*kh + b)*kw + e starts in the padded image */
static inline ptrdiff_t tap_row_offset(const tap_geometry *t, ptrdiff_t r)
{
    const ptrdiff_t e = r % t->kw, b = r / t->kw % t->kh, a = r / (t->kw * t->kh) % t->kd;
    const ptrdiff_t c = r / (t->kw * t->kh * t->kd);
    return ((c * t->Dp + a * t->dd) * t->Hp + b * t->dh) * t->Wp + e * t->dw;
}

#if defined(__GNUC__) && !defined(MINIGRAD_NO_VECTOR_TAP_BROADCAST)
#define MINIGRAD_TAP_BROADCAST_COMPILED 1
#else
#define MINIGRAD_TAP_BROADCAST_COMPILED 0
#endif

static int minigrad_tap_broadcast_available(void)
{
    return MINIGRAD_TAP_BROADCAST_COMPILED;
}

/* floats per vector on the path chosen now: dyt's channels are padded to a multiple */
static ptrdiff_t tap_broadcast_lanes(void)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512)
        return 16;
    if (minigrad_isa() == MINIGRAD_ISA_AVX2)
        return 8;
#endif
    return 4;
}

#if MINIGRAD_TAP_BROADCAST_COMPILED

#define SIMD_BODY "tap_broadcast_lanes.h"
#include "simd_paths.h"      /* tap_broadcast_avx512 / _avx2 / _generic */

static void tap_broadcast_f32(const float *image, const tap_geometry *t, const float *dyt, ptrdiff_t pitch,
                              float *sums, int accumulate)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        tap_broadcast_avx512(image, t, dyt, pitch, sums, accumulate);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        tap_broadcast_avx2(image, t, dyt, pitch, sums, accumulate);
        return;
    }
#endif
    tap_broadcast_generic(image, t, dyt, pitch, sums, accumulate);
}

/* dyt (P, pitch) = gy (M, P) transposed, zeros in the channels M .. pitch-1 */
static void tap_transpose(const float *gy, ptrdiff_t M, ptrdiff_t P, float *dyt, ptrdiff_t pitch)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        tap_transpose_avx512(gy, M, P, dyt, pitch);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        tap_transpose_avx2(gy, M, P, dyt, pitch);
        return;
    }
#endif
    tap_transpose_generic(gy, M, P, dyt, pitch);
}

#else  /* no GCC-style vectors: never called, minigrad_tap_broadcast_available() is 0 */

static void tap_transpose(const float *gy, ptrdiff_t M, ptrdiff_t P, float *dyt, ptrdiff_t pitch)
{
}

static void tap_broadcast_f32(const float *image, const tap_geometry *t, const float *dyt, ptrdiff_t pitch,
                              float *sums, int accumulate)
{
}

#endif
#endif
