/*
 * The weight gradient of a convolution by broadcast taps, for one vector
 * width: compiled once per instruction-set path (csrc/simd_paths.h, included
 * by csrc/tap_broadcast.h) on the vectors of csrc/simd_lanes.h.
 *
 *   sums[r, m] (+)= sum over output positions p of  x_padded[offset[r] + at(p)] * dyt[p, m]
 *
 * r is a row of im2col (a channel and a kernel tap), m an output channel.
 * A block holds R rows x NV vectors of output channels in registers for the
 * whole walk over the positions: each step loads NV vectors of dyt (the
 * output gradient of one position, channels last) and broadcasts one value
 * of the padded image per row -- a broadcast reads any address, so nothing is
 * packed, which is where the GEMM of the implicit path spends ~40% here.
 * Positions are walked in order, so each sum has one fixed order: results do
 * not depend on the number of threads.
 */

/* The block shape of each vector count: R rows so that R * NV accumulators
   fit the registers (32 on AVX-512, 16 on AVX2 and SSE2; NEON has 32). */
#if SIMD_LANES == 16
#define TAP_ROWS_3 8
#define TAP_ROWS_2 12
#define TAP_ROWS_1 16
#else
#define TAP_ROWS_3 4
#define TAP_ROWS_2 6
#define TAP_ROWS_1 12
#endif

/* One block: R rows (row[i]: where row i reads the padded image; `valid` of
   them are real) x NV vectors of channels from dyt's column 0 (dyt: positions
   x pitch floats, from output row `first` on). The output rows oh in [first,
   stop) of one output plane, each of Wo positions: row i's value at (oh, ow)
   is row[i][plane + oh * step_h + ow * sw] (plane: od * step_d). */
#define TAP_BLOCK(R, NV)                                                                        \
SIMD_INLINE void SIMD(tap_block_##R##_##NV)(const float *const *row, ptrdiff_t valid,           \
                                             const float *dyt, ptrdiff_t pitch,                  \
                                             ptrdiff_t plane, ptrdiff_t first, ptrdiff_t stop,   \
                                             ptrdiff_t Wo, ptrdiff_t step_h, ptrdiff_t sw,       \
                                             float *sums, int accumulate)                        \
{                                                                                               \
    vec acc[R][NV];                                                                             \
    for (int i = 0; i < R; i++)                                                                 \
        for (int j = 0; j < NV; j++)                                                            \
            acc[i][j] = (vec){0};                                                               \
    for (ptrdiff_t oh = first; oh < stop; oh++) {                                               \
        const ptrdiff_t at = plane + oh * step_h;                                               \
        for (ptrdiff_t ow = 0; ow < Wo; ow++, dyt += pitch) {                                   \
            vec gy[NV];                                                                         \
            for (int j = 0; j < NV; j++)                                                        \
                gy[j] = SIMD(load)(dyt + j * SIMD_LANES);                                       \
            for (int i = 0; i < R; i++) {                                                       \
                const float tap = row[i][at + ow * sw];                                         \
                for (int j = 0; j < NV; j++)                                                    \
                    acc[i][j] += tap * gy[j];                                                   \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    for (int i = 0; i < R && i < valid; i++)                                                    \
        for (int j = 0; j < NV; j++) {                                                          \
            float *dst = sums + i * pitch + j * SIMD_LANES;                                     \
            SIMD(store)(dst, accumulate ? SIMD(load)(dst) + acc[i][j] : acc[i][j]);             \
        }                                                                                       \
}

/* A macro level between, so that TAP_ROWS_n expands before ## pastes it. */
#define TAP_BLOCK_OF(R, NV) TAP_BLOCK(R, NV)
TAP_BLOCK_OF(TAP_ROWS_1, 1)
TAP_BLOCK_OF(TAP_ROWS_2, 2)
TAP_BLOCK_OF(TAP_ROWS_3, 3)

#define TAP_CALL(R, NV, ...) SIMD(tap_block_##R##_##NV)(__VA_ARGS__)
#define TAP_CALL_OF(R, NV, ...) TAP_CALL(R, NV, __VA_ARGS__)

/* dyt (P, pitch) = gy (M, P) transposed, zeros in the channels M .. pitch-1:
   tile by tile of SIMD_LANES channels x SIMD_LANES positions, each tile
   transposed in registers by log2(SIMD_LANES) rounds of zips (a zip of rows i
   and i + L/2 into rows 2i, 2i+1, repeated, transposes an L x L tile). */
static SIMD_TARGET void SIMD(tap_transpose)(const float *gy, ptrdiff_t M, ptrdiff_t P, float *dyt,
                                            ptrdiff_t pitch)
{
    vec tile[SIMD_LANES], zipped[SIMD_LANES];
    for (ptrdiff_t m0 = 0; m0 < pitch; m0 += SIMD_LANES)
        for (ptrdiff_t p0 = 0; p0 < P; p0 += SIMD_LANES) {
            const ptrdiff_t n = P - p0 < SIMD_LANES ? P - p0 : SIMD_LANES;
            for (int i = 0; i < SIMD_LANES; i++) {             /* row i: channel m0 + i */
                const float *src = gy + (m0 + i) * P + p0;
                tile[i] = m0 + i >= M ? (vec){0} : n == SIMD_LANES ? SIMD(load)(src) : SIMD(load_first)(src, n);
            }
            for (int round = 1; round < SIMD_LANES; round *= 2) {
                for (int i = 0; i < SIMD_LANES / 2; i++)
                    SIMD(zip)(tile[i], tile[i + SIMD_LANES / 2], &zipped[2 * i], &zipped[2 * i + 1]);
                for (int i = 0; i < SIMD_LANES; i++)
                    tile[i] = zipped[i];
            }
            for (ptrdiff_t j = 0; j < n; j++)                   /* row j now: position p0 + j */
                SIMD(store)(dyt + (p0 + j) * pitch + m0, tile[j]);
        }
}

/* tap_broadcast over the output rows [first, stop) of the output plane od
   (dyt from that row on; plane: od * step_d) */
static SIMD_TARGET void SIMD(tap_broadcast_tile)(const float *image, const tap_geometry *t, const float *dyt,
                                                 ptrdiff_t pitch, ptrdiff_t plane, ptrdiff_t first,
                                                 ptrdiff_t stop, float *sums, int accumulate)
{
    const ptrdiff_t rows = t->C * t->kd * t->kh * t->kw;
    const float *row[TAP_MAX_ROWS];
    for (ptrdiff_t m0 = 0; m0 < pitch; m0 += 3 * SIMD_LANES) {
        const ptrdiff_t vectors = (pitch - m0) / SIMD_LANES < 3 ? (pitch - m0) / SIMD_LANES : 3;
        const ptrdiff_t R = vectors == 3 ? TAP_ROWS_3 : vectors == 2 ? TAP_ROWS_2 : TAP_ROWS_1;
        for (ptrdiff_t r0 = 0; r0 < rows; r0 += R) {
            const ptrdiff_t valid = rows - r0 < R ? rows - r0 : R;
            for (ptrdiff_t i = 0; i < R; i++)    /* rows past the last repeat it: read, not stored */
                row[i] = image + tap_row_offset(t, i < valid ? r0 + i : rows - 1);
            float *block_sums = sums + r0 * pitch + m0;
            if (vectors == 3)
                TAP_CALL_OF(TAP_ROWS_3, 3, row, valid, dyt + m0, pitch, plane, first, stop, t->Wo,
                            t->step_h, t->sw, block_sums, accumulate);
            else if (vectors == 2)
                TAP_CALL_OF(TAP_ROWS_2, 2, row, valid, dyt + m0, pitch, plane, first, stop, t->Wo,
                            t->step_h, t->sw, block_sums, accumulate);
            else
                TAP_CALL_OF(TAP_ROWS_1, 1, row, valid, dyt + m0, pitch, plane, first, stop, t->Wo,
                            t->step_h, t->sw, block_sums, accumulate);
        }
    }
}

/* sums (C*K, pitch) (+)= the block sums of every im2col row and channel vector.
   Row r = (c, a, b, e) (channel, then kernel tap) reads the padded image
   (C, Dp, Hp, Wp) from image + c*Dp*Hp*Wp + a*dd*Hp*Wp + b*dh*Wp + e*dw on.
   pitch: the channels rounded up to whole vectors (dyt is zero past them).
   The output rows of each output plane are taken in tiles whose part of dyt
   fits TAP_TILE_FLOATS, so that every block of a tile reads it from cache (a
   large image would otherwise stream all of dyt from memory once per block). */
static SIMD_TARGET void SIMD(tap_broadcast)(const float *image, const tap_geometry *t, const float *dyt,
                                            ptrdiff_t pitch, float *sums, int accumulate)
{
    const ptrdiff_t per_tile = TAP_TILE_FLOATS / (pitch * t->Wo), tile = per_tile > 1 ? per_tile : 1;
    for (ptrdiff_t od = 0; od < t->Do; od++)
        for (ptrdiff_t first = 0; first < t->Ho; first += tile) {
            const ptrdiff_t stop = t->Ho - first < tile ? t->Ho : first + tile;
            SIMD(tap_broadcast_tile)(image, t, dyt + (od * t->Ho + first) * t->Wo * pitch, pitch,
                                     od * t->step_d, first, stop, sums, accumulate || od > 0 || first > 0);
        }
}

#undef TAP_ROWS_1
#undef TAP_ROWS_2
#undef TAP_ROWS_3
#undef TAP_BLOCK
#undef TAP_BLOCK_OF
#undef TAP_CALL
#undef TAP_CALL_OF
