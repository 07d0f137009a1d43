/*
 * Dense (groups == 1) float32 convolutions without packing: vectors over the
 * output channels, each image value broadcast straight from the padded image
 * (csrc/tap_broadcast_lanes.h), compiled for each path:
 *
 *   AVX-512   16 floats per vector, blocks of 8 rows (or positions) x 3 vectors
 *   AVX2+FMA   8 floats per vector, blocks of 4 rows (or positions) x 3 vectors
 *   generic    4 floats per vector: SSE2 on x86-64, NEON on aarch64
 *
 * Two products:
 * - the weight gradient (tap_broadcast_f32): csrc/conv.pyx
 *   (tap_broadcast_weight_grad) pads each image, writes its output gradient
 *   channels-last (dyt, tap_transpose), calls tap_broadcast_f32 per image and
 *   adds the per-chunk sums in a fixed order. NumPy reference:
 *   minigrad/reference/conv.py's conv_weight_grad, gw = sum_n dy[n] @ im2col(x[n])^T;
 * - the forward, and the input gradient as the adjoint's forward
 *   (tap_forward_f32): csrc/conv.pyx (tap_broadcast_forward) packs the
 *   weights once (tap_pack_panels), pads each image, computes its output
 *   channels-last (out_t) and transposes it back with the bias
 *   (tap_untranspose). NumPy reference: minigrad/reference/conv.py's conv,
 *   y[n] = w @ im2col(x[n]) + b; the block walk itself is in docs/02-im2col.md.
 */
#ifndef MINIGRAD_TAP_BROADCAST_H
#define MINIGRAD_TAP_BROADCAST_H

#include <stddef.h>
#include "cpu_features.h"

/* the most rows of one block (AVX-512's single-vector blocks) */
#define TAP_MAX_ROWS 16

/* floats of dyt one tile of output rows may span (128 KiB: in L2 on any CPU) */
#define TAP_TILE_FLOATS 32768

/* The weight gradient's images per walk: a block of a small image walks few
   positions (49 for 7x7) between setting up and storing its sums, so images
   of one plane are taken several at a time, enough for TAP_WALK_POSITIONS
   positions, as many as fit their dyt (P, pitch) into one tile, at most
   TAP_MAX_IMAGES. The number depends on the geometry and the path only,
   never on the threads. Measured on a 2-core Xeon in one process against
   the build that walks one image at a time: 20-27% faster at 7x7 and 8x8
   (AVX-512 and AVX2), the same at 14x14; 128 positions gained 22% at 7x7. */
#define TAP_MAX_IMAGES 8
#define TAP_WALK_POSITIONS 256
static inline ptrdiff_t tap_images_per_walk(ptrdiff_t Do, ptrdiff_t P, ptrdiff_t pitch)
{
    ptrdiff_t images = (TAP_WALK_POSITIONS + P - 1) / P;
    const ptrdiff_t fit = TAP_TILE_FLOATS / (P * pitch);
    if (images > fit)
        images = fit;
    if (images > TAP_MAX_IMAGES)
        images = TAP_MAX_IMAGES;
    return Do != 1 || images < 1 ? 1 : images;
}

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

/* The forward: the most positions of one block (AVX-512's single-vector
   blocks), so the most floats a block reads past a line is 15 * sw; and the
   floats of weight panel rows one block of rows may span (24 KiB: in L1). */
#define TAP_MAX_POSITIONS 16
#define TAP_PANEL_FLOATS 6144

/* The forward's blocks of output channels: vectors taken 3 at a time, 4 as 2 + 2. */
static inline ptrdiff_t tap_block_vectors(ptrdiff_t left)
{
    return left == 4 ? 2 : left >= 3 ? 3 : left;
}

/* panels = the weights (M, rows) as tap_forward reads them: for each block of
   nv vectors of channels (tap_block_vectors), its (rows, nv * lanes) panel,
   panel[r][j] = w[m0 + j][r] (zero for channels past M). pitch: M rounded up
   to whole vectors of `lanes` floats; panels: rows * pitch floats. */
static void tap_pack_panels(const float *w, ptrdiff_t M, ptrdiff_t rows, ptrdiff_t lanes, ptrdiff_t pitch,
                            float *panels)
{
    for (ptrdiff_t v0 = 0; v0 < pitch / lanes;) {
        const ptrdiff_t width = tap_block_vectors(pitch / lanes - v0) * lanes, m0 = v0 * lanes;
        for (ptrdiff_t r = 0; r < rows; r++)
            for (ptrdiff_t j = 0; j < width; j++)
                panels[r * width + j] = m0 + j < M ? w[(m0 + j) * rows + r] : 0.0f;
        panels += rows * width;
        v0 += width / lanes;
    }
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
                              ptrdiff_t images, ptrdiff_t image_step, float *sums, int accumulate)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        tap_broadcast_avx512(image, t, dyt, pitch, images, image_step, sums, accumulate);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        tap_broadcast_avx2(image, t, dyt, pitch, images, image_step, sums, accumulate);
        return;
    }
#endif
    tap_broadcast_generic(image, t, dyt, pitch, images, image_step, sums, accumulate);
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

static void tap_forward_f32(const float *image, const tap_geometry *t, const float *panels,
                            const ptrdiff_t *offset, ptrdiff_t pitch, ptrdiff_t row_pitch, ptrdiff_t h0,
                            ptrdiff_t h1, float *out_t)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        tap_forward_avx512(image, t, panels, offset, pitch, row_pitch, h0, h1, out_t);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        tap_forward_avx2(image, t, panels, offset, pitch, row_pitch, h0, h1, out_t);
        return;
    }
#endif
    tap_forward_generic(image, t, panels, offset, pitch, row_pitch, h0, h1, out_t);
}

static void tap_untranspose(const float *out_t, ptrdiff_t pitch, ptrdiff_t row_pitch, const tap_geometry *t,
                            ptrdiff_t M, const float *bias, ptrdiff_t h0, ptrdiff_t h1, float *out)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        tap_untranspose_avx512(out_t, pitch, row_pitch, t, M, bias, h0, h1, out);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        tap_untranspose_avx2(out_t, pitch, row_pitch, t, M, bias, h0, h1, out);
        return;
    }
#endif
    tap_untranspose_generic(out_t, pitch, row_pitch, t, M, bias, h0, h1, out);
}

#else  /* no GCC-style vectors: never called, minigrad_tap_broadcast_available() is 0 */

static void tap_forward_f32(const float *image, const tap_geometry *t, const float *panels,
                            const ptrdiff_t *offset, ptrdiff_t pitch, ptrdiff_t row_pitch, ptrdiff_t h0,
                            ptrdiff_t h1, float *out_t)
{
}

static void tap_untranspose(const float *out_t, ptrdiff_t pitch, ptrdiff_t row_pitch, const tap_geometry *t,
                            ptrdiff_t M, const float *bias, ptrdiff_t h0, ptrdiff_t h1, float *out)
{
}

static void tap_transpose(const float *gy, ptrdiff_t M, ptrdiff_t P, float *dyt, ptrdiff_t pitch)
{
}

static void tap_broadcast_f32(const float *image, const tap_geometry *t, const float *dyt, ptrdiff_t pitch,
                              ptrdiff_t images, ptrdiff_t image_step, float *sums, int accumulate)
{
}

#endif
#endif
