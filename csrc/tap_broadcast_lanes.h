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

/* The end of every block below: accumulator row i (+)= into ROW (an
   expression of i: where row i's first vector goes), for the first `valid`
   of its R rows (accumulate: add to what is there). */
#define TAP_STORE_ROWS(R, NV, ROW)                                                              \
    for (int i = 0; i < R && i < valid; i++)                                                    \
        for (int j = 0; j < NV; j++) {                                                          \
            float *out_ = (ROW) + j * SIMD_LANES;                                               \
            SIMD(store)(out_, accumulate ? SIMD(load)(out_) + acc[i][j] : acc[i][j]);           \
        }

/* One block: R rows (row[i]: where row i reads the padded image; `valid` of
   them are real) x NV vectors of channels from dyt's column 0 (dyt: positions
   x pitch floats, from output row `first` on). The output rows oh in [first,
   stop) of one output plane, each of Wo positions: row i's value at (oh, ow)
   is row[i][plane + oh * step_h + ow * sw] (plane: od * step_d). images > 1:
   the same walk over that many images, image_step floats apart, their dyt
   one after the other (whole planes of one-plane images only). */
#define TAP_BLOCK(R, NV)                                                                        \
SIMD_INLINE void SIMD(tap_block_##R##_##NV)(const float *const *row, ptrdiff_t valid,           \
                                             const float *dyt, ptrdiff_t pitch,                  \
                                             ptrdiff_t plane, ptrdiff_t first, ptrdiff_t stop,   \
                                             ptrdiff_t Wo, ptrdiff_t step_h, ptrdiff_t sw,       \
                                             ptrdiff_t images, ptrdiff_t image_step,             \
                                             float *sums, int accumulate)                        \
{                                                                                               \
    vec acc[R][NV];                                                                             \
    for (int i = 0; i < R; i++)                                                                 \
        for (int j = 0; j < NV; j++)                                                            \
            acc[i][j] = (vec){0};                                                               \
    for (ptrdiff_t image = 0; image < images; image++)                                          \
    for (ptrdiff_t oh = first; oh < stop; oh++) {                                               \
        const ptrdiff_t at = image * image_step + plane + oh * step_h;                          \
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
    TAP_STORE_ROWS(R, NV, sums + i * pitch)                                                     \
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
   (dyt from that row on; plane: od * step_d), of `images` images image_step apart */
static SIMD_TARGET void SIMD(tap_broadcast_tile)(const float *image, const tap_geometry *t, const float *dyt,
                                                 ptrdiff_t pitch, ptrdiff_t plane, ptrdiff_t first,
                                                 ptrdiff_t stop, ptrdiff_t images, ptrdiff_t image_step,
                                                 float *sums, int accumulate)
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
                            t->step_h, t->sw, images, image_step, block_sums, accumulate);
            else if (vectors == 2)
                TAP_CALL_OF(TAP_ROWS_2, 2, row, valid, dyt + m0, pitch, plane, first, stop, t->Wo,
                            t->step_h, t->sw, images, image_step, block_sums, accumulate);
            else
                TAP_CALL_OF(TAP_ROWS_1, 1, row, valid, dyt + m0, pitch, plane, first, stop, t->Wo,
                            t->step_h, t->sw, images, image_step, block_sums, accumulate);
        }
    }
}

/* sums (C*K, pitch) (+)= the block sums of every im2col row and channel vector.
   Row r = (c, a, b, e) (channel, then kernel tap) reads the padded image
   (C, Dp, Hp, Wp) from image + c*Dp*Hp*Wp + a*dd*Hp*Wp + b*dh*Wp + e*dw on.
   pitch: the channels rounded up to whole vectors (dyt is zero past them).
   The output rows of each output plane are taken in tiles whose part of dyt
   fits TAP_TILE_FLOATS, so that every block of a tile reads it from cache (a
   large image would otherwise stream all of dyt from memory once per block).
   images > 1 (tap_images_per_walk: one-plane images whose dyt fit one tile
   together): every block walks all their positions, image_step floats apart
   in `image` (dyt one image after the other), before it stores its sums. */
static SIMD_TARGET void SIMD(tap_broadcast)(const float *image, const tap_geometry *t, const float *dyt,
                                            ptrdiff_t pitch, ptrdiff_t images, ptrdiff_t image_step,
                                            float *sums, int accumulate)
{
    const ptrdiff_t per_tile = TAP_TILE_FLOATS / (pitch * t->Wo), tile = per_tile > 1 ? per_tile : 1;
    if (images > 1) {
        SIMD(tap_broadcast_tile)(image, t, dyt, pitch, 0, 0, t->Ho, images, image_step, sums, accumulate);
        return;
    }
    for (ptrdiff_t od = 0; od < t->Do; od++)
        for (ptrdiff_t first = 0; first < t->Ho; first += tile) {
            const ptrdiff_t stop = t->Ho - first < tile ? t->Ho : first + tile;
            SIMD(tap_broadcast_tile)(image, t, dyt + (od * t->Ho + first) * t->Wo * pitch, pitch,
                                     od * t->step_d, first, stop, 1, 0, sums, accumulate || od > 0 || first > 0);
        }
}


/* ------------------------------------------------------------------------
 * The forward by broadcast taps (and the input gradient, which is the
 * forward of the adjoint convolution): the same idea turned around.
 *
 *   out_t[q(p), m] (+)= sum over im2col rows r of  x_padded[at(p) + offset[r]] * panel[r, m]
 *
 * A block holds R output positions x NV vectors of output channels in
 * registers for the walk over the rows r of one block of rows: each step
 * loads NV vectors of the packed weights (row r of the panel) and broadcasts
 * one image value per position. The R positions of a block lie along one
 * line of the output, `step` floats apart in the padded image (the stride;
 * 1 and 2 are compiled as constants, so the R reads of a step are one
 * address plus fixed displacements). out_t is positions x channels (channels
 * last); tap_untranspose turns it into (M, P) and adds the bias.
 * ------------------------------------------------------------------------ */

/* positions of a block with NV vectors: R * NV accumulators in the registers */
#if SIMD_LANES == 16
#define TAP_POSITIONS_3 8
#define TAP_POSITIONS_2 12
#define TAP_POSITIONS_1 16
#else
#define TAP_POSITIONS_3 4
#define TAP_POSITIONS_2 6
#define TAP_POSITIONS_1 12
#endif

#define TAP_FORWARD_BLOCK(R, NV, NAME, STEP)                                                    \
SIMD_INLINE void SIMD(tap_forward_##NAME##_##R##_##NV)(const float *base, ptrdiff_t step,       \
                                                        const ptrdiff_t *offset, ptrdiff_t rows, \
                                                        const float *panel, float *dst,          \
                                                        ptrdiff_t pitch, ptrdiff_t valid,        \
                                                        int accumulate)                          \
{                                                                                               \
    vec acc[R][NV];                                                                             \
    (void)step;                                                                                 \
    for (int i = 0; i < R; i++)                                                                 \
        for (int j = 0; j < NV; j++)                                                            \
            acc[i][j] = (vec){0};                                                               \
    for (ptrdiff_t r = 0; r < rows; r++, panel += NV * SIMD_LANES) {                            \
        vec w[NV];                                                                              \
        for (int j = 0; j < NV; j++)                                                            \
            w[j] = SIMD(load)(panel + j * SIMD_LANES);                                          \
        const float *at = base + offset[r];                                                     \
        for (int i = 0; i < R; i++) {                                                           \
            const float tap = at[i * (STEP)];                                                   \
            for (int j = 0; j < NV; j++)                                                        \
                acc[i][j] += tap * w[j];                                                        \
        }                                                                                       \
    }                                                                                           \
    TAP_STORE_ROWS(R, NV, dst + i * pitch)                                                      \
}

#define TAP_FORWARD_BLOCKS_OF(R, NV)                                                            \
    TAP_FORWARD_BLOCK(R, NV, unit, 1)                                                           \
    TAP_FORWARD_BLOCK(R, NV, two, 2)                                                            \
    TAP_FORWARD_BLOCK(R, NV, any, step)
TAP_FORWARD_BLOCKS_OF(TAP_POSITIONS_1, 1)
TAP_FORWARD_BLOCKS_OF(TAP_POSITIONS_2, 2)
TAP_FORWARD_BLOCKS_OF(TAP_POSITIONS_3, 3)

/* The same block with its R positions anywhere: position i reads the padded
   image from pos[i] and stores to dst[i] (a block that runs over the end of
   an output row into the next, with no positions between to compute and
   drop). Its R pointers take R registers, so only blocks of up to
   TAP_GATHER_MOST positions are taken so (the stores' pointers are read
   once, after the walk). */
#define TAP_GATHER_MOST 8
#define TAP_GATHER_BLOCK(R, NV)                                                                 \
SIMD_INLINE void SIMD(tap_gather_##R##_##NV)(const float *const *pos, const ptrdiff_t *offset,  \
                                              ptrdiff_t rows, const float *panel,                \
                                              float *const *dst, ptrdiff_t valid, int accumulate) \
{                                                                                               \
    vec acc[R][NV];                                                                             \
    const float *at[R];                                                                         \
    for (int i = 0; i < R; i++) {                                                               \
        at[i] = pos[i];                                                                         \
        for (int j = 0; j < NV; j++)                                                            \
            acc[i][j] = (vec){0};                                                               \
    }                                                                                           \
    for (ptrdiff_t r = 0; r < rows; r++, panel += NV * SIMD_LANES) {                            \
        vec w[NV];                                                                              \
        for (int j = 0; j < NV; j++)                                                            \
            w[j] = SIMD(load)(panel + j * SIMD_LANES);                                          \
        const ptrdiff_t o = offset[r];                                                          \
        for (int i = 0; i < R; i++) {                                                           \
            const float tap = at[i][o];                                                         \
            for (int j = 0; j < NV; j++)                                                        \
                acc[i][j] += tap * w[j];                                                        \
        }                                                                                       \
    }                                                                                           \
    TAP_STORE_ROWS(R, NV, dst[i])                                                               \
}
#define TAP_GATHER_BLOCK_OF(R, NV) TAP_GATHER_BLOCK(R, NV)
#if TAP_POSITIONS_3 <= TAP_GATHER_MOST
TAP_GATHER_BLOCK_OF(TAP_POSITIONS_3, 3)
#endif
#if TAP_POSITIONS_2 <= TAP_GATHER_MOST
TAP_GATHER_BLOCK_OF(TAP_POSITIONS_2, 2)
#endif

#define TAP_FORWARD_CALL(NAME, R, NV, ...) SIMD(tap_##NAME##_##R##_##NV)(__VA_ARGS__)
#define TAP_FORWARD_CALL_OF(NAME, R, NV, ...) TAP_FORWARD_CALL(NAME, R, NV, __VA_ARGS__)

/* One block of R positions (R from nv), dispatched on the step. */
SIMD_INLINE void SIMD(tap_forward_block)(ptrdiff_t nv, const float *base, ptrdiff_t step,
                                         const ptrdiff_t *offset, ptrdiff_t rows, const float *panel,
                                         float *dst, ptrdiff_t pitch, ptrdiff_t valid, int accumulate)
{
#define TAP_FORWARD_STEPS(R, NV)                                                                \
    if (step == 1)                                                                              \
        TAP_FORWARD_CALL_OF(forward_unit, R, NV, base, step, offset, rows, panel, dst, pitch, valid, accumulate); \
    else if (step == 2)                                                                         \
        TAP_FORWARD_CALL_OF(forward_two, R, NV, base, step, offset, rows, panel, dst, pitch, valid, accumulate); \
    else                                                                                        \
        TAP_FORWARD_CALL_OF(forward_any, R, NV, base, step, offset, rows, panel, dst, pitch, valid, accumulate);
    if (nv == 3) {
        TAP_FORWARD_STEPS(TAP_POSITIONS_3, 3)
    } else if (nv == 2) {
        TAP_FORWARD_STEPS(TAP_POSITIONS_2, 2)
    } else {
        TAP_FORWARD_STEPS(TAP_POSITIONS_1, 1)
    }
#undef TAP_FORWARD_STEPS
}

/* a gather block of nv vectors (one with at most TAP_GATHER_MOST positions) */
SIMD_INLINE void SIMD(tap_gather_block)(ptrdiff_t nv, const float *const *pos, const ptrdiff_t *offset,
                                        ptrdiff_t rows, const float *panel, float *const *dst, ptrdiff_t valid,
                                        int accumulate)
{
#if TAP_POSITIONS_3 <= TAP_GATHER_MOST
    if (nv == 3)
        TAP_FORWARD_CALL_OF(gather, TAP_POSITIONS_3, 3, pos, offset, rows, panel, dst, valid, accumulate);
#endif
#if TAP_POSITIONS_2 <= TAP_GATHER_MOST
    if (nv == 2)
        TAP_FORWARD_CALL_OF(gather, TAP_POSITIONS_2, 2, pos, offset, rows, panel, dst, valid, accumulate);
#endif
}

static ptrdiff_t SIMD(tap_forward_positions)(ptrdiff_t nv)
{
    return nv == 3 ? TAP_POSITIONS_3 : nv == 2 ? TAP_POSITIONS_2 : TAP_POSITIONS_1;
}

/* out_t (Do * Ho * row_pitch, pitch) (+)= the forward of one padded image,
   output rows [h0, h1) of every output plane (a part of the image, for
   threads that share one): position (od, oh, ow) is out_t's row
   (od * Ho + oh) * row_pitch + ow.
   panels: tap_pack_panels' layout of the weights; offset[r]: where im2col
   row r starts in the padded image (tap_row_offset). The image is read up
   to (TAP_MAX_POSITIONS - 1) * sw floats past its end (a last block's
   positions past a line are read, never stored): the caller leaves zeros
   there. Rows are taken in blocks whose panel rows fit TAP_PANEL_FLOATS,
   the same blocks for every channel block, each block's sums added to the
   last in row order: one fixed order per sum.

   merged (sh == sw == 1 and row_pitch == Wp): a plane's output rows can be
   walked as one line of (Ho - 1) * Wp + Wo positions, the Wp - Wo between
   two rows computed and dropped; taken where that needs fewer blocks. */
static SIMD_TARGET void SIMD(tap_forward)(const float *image, const tap_geometry *t, const float *panels,
                                          const ptrdiff_t *offset, ptrdiff_t pitch, ptrdiff_t row_pitch,
                                          ptrdiff_t h0, ptrdiff_t h1, float *out_t)
{
    const ptrdiff_t rows = t->C * t->kd * t->kh * t->kw, vectors = pitch / SIMD_LANES;
    const ptrdiff_t most = TAP_PANEL_FLOATS / (3 * SIMD_LANES);
    const ptrdiff_t blocks = (rows + most - 1) / most, depth = (rows + blocks - 1) / blocks;
    const int merged = t->sw == 1 && t->step_h == t->Wp && row_pitch == t->Wp;
    const ptrdiff_t line = (h1 - h0 - 1) * t->Wp + t->Wo;           /* from row h0 on */
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += depth) {
        const ptrdiff_t kc = rows - r0 < depth ? rows - r0 : depth;
        const float *panel = panels;
        for (ptrdiff_t v0 = 0; v0 < vectors;) {
            const ptrdiff_t nv = tap_block_vectors(vectors - v0), R = SIMD(tap_forward_positions)(nv);
            const float *block_panel = panel + r0 * nv * SIMD_LANES;
            float *block_out = out_t + v0 * SIMD_LANES;
            const ptrdiff_t by_rows = (h1 - h0) * ((t->Wo + R - 1) / R), by_line = (line + R - 1) / R;
            const ptrdiff_t by_gather = ((h1 - h0) * t->Wo + R - 1) / R;
            const int gather = R <= TAP_GATHER_MOST && by_gather < by_rows && (!merged || by_gather < by_line);
            for (ptrdiff_t od = 0; od < t->Do; od++) {
                const float *plane = image + od * t->step_d;
                float *out_plane = block_out + od * t->Ho * row_pitch * pitch;
                if (gather) {                 /* blocks of R positions in a row, over row ends */
                    const float *pos[TAP_GATHER_MOST];
                    float *dst[TAP_GATHER_MOST];
                    const ptrdiff_t last = h1 * t->Wo;
                    for (ptrdiff_t q = h0 * t->Wo; q < last; q += R) {
                        const ptrdiff_t valid = last - q < R ? last - q : R;
                        for (ptrdiff_t i = 0; i < R; i++) {     /* positions past the last repeat it */
                            const ptrdiff_t at = q + (i < valid ? i : valid - 1), oh = at / t->Wo, ow = at % t->Wo;
                            pos[i] = plane + oh * t->step_h + ow * t->sw;
                            dst[i] = out_plane + (oh * row_pitch + ow) * pitch;
                        }
                        SIMD(tap_gather_block)(nv, pos, offset + r0, kc, block_panel, dst, valid, r0 > 0);
                    }
                    continue;
                }
                if (merged && by_line < by_rows) {
                    const float *first = plane + h0 * t->Wp;
                    float *out_first = out_plane + h0 * row_pitch * pitch;
                    for (ptrdiff_t p = 0; p < line; p += R)
                        SIMD(tap_forward_block)(nv, first + p, 1, offset + r0, kc, block_panel,
                                                out_first + p * pitch, pitch, line - p, r0 > 0);
                    continue;
                }
                for (ptrdiff_t oh = h0; oh < h1; oh++)
                    for (ptrdiff_t ow = 0; ow < t->Wo; ow += R)
                        SIMD(tap_forward_block)(nv, plane + oh * t->step_h + ow * t->sw, t->sw, offset + r0, kc,
                                                block_panel, out_plane + (oh * row_pitch + ow) * pitch, pitch,
                                                t->Wo - ow, r0 > 0);
            }
            panel += rows * nv * SIMD_LANES;
            v0 += nv;
        }
    }
}

/* out (M, P) = out_t transposed (rows of out_t as tap_forward lays them out)
   + bias (NULL: none), output rows [h0, h1) of every plane: tiles of SIMD_LANES positions of an output row x
   SIMD_LANES channels, transposed in registers by zips as tap_transpose does. */
static SIMD_TARGET void SIMD(tap_untranspose)(const float *out_t, ptrdiff_t pitch, ptrdiff_t row_pitch,
                                              const tap_geometry *t, ptrdiff_t M, const float *bias,
                                              ptrdiff_t h0, ptrdiff_t h1, float *out)
{
    const ptrdiff_t P = t->Do * t->Ho * t->Wo;
    vec tile[SIMD_LANES], zipped[SIMD_LANES];
    for (ptrdiff_t m0 = 0; m0 < M; m0 += SIMD_LANES) {
        const ptrdiff_t channels = M - m0 < SIMD_LANES ? M - m0 : SIMD_LANES;
        for (ptrdiff_t line = 0; line < t->Do * t->Ho; line++) {
            if (line % t->Ho < h0 || line % t->Ho >= h1)        /* another part's rows */
                continue;
            for (ptrdiff_t ow = 0; ow < t->Wo; ow += SIMD_LANES) {
                const ptrdiff_t n = t->Wo - ow < SIMD_LANES ? t->Wo - ow : SIMD_LANES;
                const float *src = out_t + (line * row_pitch + ow) * pitch + m0;
                for (int i = 0; i < SIMD_LANES; i++)             /* row i: position ow + i */
                    tile[i] = i < n ? SIMD(load)(src + i * pitch) : (vec){0};
                for (int round = 1; round < SIMD_LANES; round *= 2) {
                    for (int i = 0; i < SIMD_LANES / 2; i++)
                        SIMD(zip)(tile[i], tile[i + SIMD_LANES / 2], &zipped[2 * i], &zipped[2 * i + 1]);
                    for (int i = 0; i < SIMD_LANES; i++)
                        tile[i] = zipped[i];
                }
                float *dst = out + m0 * P + line * t->Wo + ow;
                for (ptrdiff_t j = 0; j < channels; j++) {          /* row j now: channel m0 + j */
                    const vec v = bias != NULL ? tile[j] + bias[m0 + j] : tile[j];
                    if (n == SIMD_LANES)
                        SIMD(store)(dst + j * P, v);
                    else
                        SIMD(store_first)(dst + j * P, n, v);
                }
            }
        }
    }
}

#undef TAP_POSITIONS_1
#undef TAP_POSITIONS_2
#undef TAP_POSITIONS_3
#undef TAP_FORWARD_BLOCK
#undef TAP_FORWARD_BLOCKS_OF
#undef TAP_STORE_ROWS
#undef TAP_GATHER_MOST
#undef TAP_GATHER_BLOCK
#undef TAP_GATHER_BLOCK_OF
#undef TAP_FORWARD_CALL
#undef TAP_FORWARD_CALL_OF
#undef TAP_ROWS_1
#undef TAP_ROWS_2
#undef TAP_ROWS_3
#undef TAP_BLOCK
#undef TAP_BLOCK_OF
#undef TAP_CALL
#undef TAP_CALL_OF
