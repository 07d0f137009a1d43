/*
 * Winograd F(2x2, 3x3): a 3x3, stride-1 convolution with 16 multiplies per
 * 2x2 outputs and channel pair instead of 36 (2.25 times fewer), the
 * multiplies done as 16 GEMMs over the tiles (Lavin & Gray, "Fast Algorithms
 * for Convolutional Neural Networks", 2015):
 *
 *   y (2x2) = A^T [ (G g G^T) * (B^T d B) ] A      (* elementwise, summed over channels)
 *
 * g a 3x3 filter, d a 4x4 patch of the padded input (tiles 2 apart). The
 * transforms are in csrc/winograd_lanes.h (vectors over tiles), compiled for
 * each path; the filter transform G g G^T is winograd_filters below; the
 * driver is csrc/conv.pyx (winograd_forward). NumPy reference:
 * minigrad/reference/conv.py's winograd_conv (and conv, the same sums
 * directly).
 */
#ifndef MINIGRAD_WINOGRAD_H
#define MINIGRAD_WINOGRAD_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && !defined(MINIGRAD_NO_VECTOR_WINOGRAD)
#define MINIGRAD_WINOGRAD_COMPILED 1
#else
#define MINIGRAD_WINOGRAD_COMPILED 0
#endif

static int minigrad_winograd_available(void)
{
    return MINIGRAD_WINOGRAD_COMPILED;
}

/* floats winograd_input may read past a tile row, winograd_output past Mx's rows */
#define WINOGRAD_SLACK 40

/* U (16, M, C): U[xi][m][c] = (G g G^T)[xi] of the filter g = w[m][c] (3x3),
   in double, rounded once.   G = | 1    0    0  |
                                  | 1/2  1/2  1/2 |
                                  | 1/2 -1/2  1/2 |
                                  | 0    0    1  |   */
static void winograd_filters(const float *w, ptrdiff_t M, ptrdiff_t C, float *U)
{
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    for (ptrdiff_t m = 0; m < M; m++)
        for (ptrdiff_t c = 0; c < C; c++) {
            const float *g = w + (m * C + c) * 9;
            double t[4][3];
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 3; b++)
                    t[a][b] = G[a][0] * g[0 * 3 + b] + G[a][1] * g[1 * 3 + b] + G[a][2] * g[2 * 3 + b];
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    U[((a * 4 + b) * M + m) * C + c] =
                        (float)(t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2]);
        }
}

#if MINIGRAD_WINOGRAD_COMPILED

#define SIMD_BODY "winograd_lanes.h"
#include "simd_paths.h"      /* winograd_input_avx512 / _avx2 / _generic, winograd_output_... */

/* returns 1 where an input is inf or nan: the results are then not to be used */
static int winograd_input(const float *padded, ptrdiff_t C, ptrdiff_t plane, ptrdiff_t Wp, ptrdiff_t tw,
                          ptrdiff_t tile_rows, float *V, ptrdiff_t ldv, ptrdiff_t v0)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512)
        return winograd_input_avx512(padded, C, plane, Wp, tw, tile_rows, V, ldv, v0);
    if (minigrad_isa() == MINIGRAD_ISA_AVX2)
        return winograd_input_avx2(padded, C, plane, Wp, tw, tile_rows, V, ldv, v0);
#endif
    return winograd_input_generic(padded, C, plane, Wp, tw, tile_rows, V, ldv, v0);
}

static void winograd_output(const float *Mx, ptrdiff_t M, ptrdiff_t ldm, ptrdiff_t tw, ptrdiff_t i0,
                            ptrdiff_t tile_rows, ptrdiff_t v0, const float *bias, float *out, ptrdiff_t Ho,
                            ptrdiff_t Wo)
{
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512) {
        winograd_output_avx512(Mx, M, ldm, tw, i0, tile_rows, v0, bias, out, Ho, Wo);
        return;
    }
    if (minigrad_isa() == MINIGRAD_ISA_AVX2) {
        winograd_output_avx2(Mx, M, ldm, tw, i0, tile_rows, v0, bias, out, Ho, Wo);
        return;
    }
#endif
    winograd_output_generic(Mx, M, ldm, tw, i0, tile_rows, v0, bias, out, Ho, Wo);
}

#else  /* no GCC-style vectors: never called, minigrad_winograd_available() is 0 */

static int winograd_input(const float *padded, ptrdiff_t C, ptrdiff_t plane, ptrdiff_t Wp, ptrdiff_t tw,
                          ptrdiff_t tile_rows, float *V, ptrdiff_t ldv, ptrdiff_t v0)
{
    return 0;
}

static void winograd_output(const float *Mx, ptrdiff_t M, ptrdiff_t ldm, ptrdiff_t tw, ptrdiff_t i0,
                            ptrdiff_t tile_rows, ptrdiff_t v0, const float *bias, float *out, ptrdiff_t Ho,
                            ptrdiff_t Wo)
{
}

#endif
#endif
