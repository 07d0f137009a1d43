/*
 * Winograd F(2x2, 3x3) for one vector width: compiled once per
 * instruction-set path (csrc/simd_paths.h, included by csrc/winograd.h) on the
 * vectors of csrc/simd_lanes.h. Vectors run over SIMD_LANES neighbouring
 * tiles of one tile row: tile (i, j) covers the outputs (2i .. 2i+1,
 * 2j .. 2j+1) and reads the padded input d = x_padded[2i .. 2i+3, 2j .. 2j+3].
 *
 *   winograd_input:   V[xi][c][t] = (B^T d B)[xi]   for the tiles t of a block
 *   winograd_output:  y = A^T m A + bias, m[xi] = Mx[xi][m][t], into out (M, Ho, Wo)
 *
 *   B^T = | 1  0 -1  0 |     A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |           | 0  1 -1 -1 |
 *         | 0 -1  1  0 |
 *         | 0  1  0 -1 |
 *
 * (The 16 products between them are GEMMs: csrc/conv.pyx, winograd_forward.)
 */

/* t[s] = (B^T applied down the columns of four rows)[r]: rows d0..d3 -> row r of B^T d */
SIMD_INLINE void SIMD(winograd_bt)(const vec *d0, const vec *d1, const vec *d2, const vec *d3, vec *t)
{
    for (int s = 0; s < 4; s++) {
        t[0 * 4 + s] = d0[s] - d2[s];
        t[1 * 4 + s] = d1[s] + d2[s];
        t[2 * 4 + s] = d2[s] - d1[s];
        t[3 * 4 + s] = d1[s] - d3[s];
    }
}

/* V (16, C, ldv): the transformed inputs of the tiles (i, j), i in [i0, i0 + tile_rows),
   j < tw, of one padded image (C planes of Hp x Wp, `plane` floats apart, rows from
   padded row 2*i0 on), tile (i, j) at column v0 + (i - i0) * tw + j. Reads up to
   2 * SIMD_LANES + 2 floats past a row's last tile (the caller leaves slack).
   Returns 1 where an input is inf or nan (some V is then inf or nan: the
   transforms mix a patch's 16 values, so the caller must not use the
   results, which would spread a nan to outputs whose window never held it). */
static SIMD_TARGET int SIMD(winograd_input)(const float *padded, ptrdiff_t C, ptrdiff_t plane, ptrdiff_t Wp,
                                            ptrdiff_t tw, ptrdiff_t tile_rows, float *V, ptrdiff_t ldv,
                                            ptrdiff_t v0)
{
    vec check = SIMD(broadcast)(0.0f);            /* the sum of every V: inf or nan if any is */
    for (ptrdiff_t c = 0; c < C; c++)
        for (ptrdiff_t i = 0; i < tile_rows; i++) {
            const float *rows = padded + c * plane + 2 * i * Wp;
            float *dst = V + c * ldv + v0 + i * tw;
            for (ptrdiff_t j = 0; j < tw; j += SIMD_LANES) {
                vec d[4][4], t[16];
                for (int r = 0; r < 4; r++)
                    for (int s = 0; s < 4; s++)           /* d[r][s] of the tiles j .. j + L-1 */
                        d[r][s] = SIMD(load_even)(rows + r * Wp + 2 * j + s);
                SIMD(winograd_bt)(d[0], d[1], d[2], d[3], t);
                const ptrdiff_t n = tw - j < SIMD_LANES ? tw - j : SIMD_LANES;
                vec v[16];
                for (int r = 0; r < 4; r++) {             /* row r of (B^T d) B */
                    const vec *u = t + r * 4;
                    v[r * 4 + 0] = u[0] - u[2];
                    v[r * 4 + 1] = u[1] + u[2];
                    v[r * 4 + 2] = u[2] - u[1];
                    v[r * 4 + 3] = u[1] - u[3];
                }
                for (int k = 0; k < 16; k++) {
                    float *out = dst + k * C * ldv + j;
                    if (n == SIMD_LANES)
                        SIMD(store)(out, v[k]);
                    else
                        SIMD(store_first)(out, n, v[k]);
                }
                /* their sum as a tree (a chain of 16 adds would wait on itself), the
                   lanes past n (read past the tiles) left out */
                for (int width = 8; width >= 1; width /= 2)
                    for (int k = 0; k < width; k++)
                        v[k] += v[k + width];
                check += n == SIMD_LANES ? v[0] : SIMD(keep_first)(v[0], n);
            }
        }
    return SIMD(any_nan)(check * 0.0f);
}

/* out (M, Ho, Wo) rows 2*i0 .. of one image = A^T m A + bias[m] for the tiles
   (i, j), i in [i0, i0 + tile_rows), from Mx (16, M, ldm), tile (i, j) at column
   v0 + (i - i0) * tw + j (bias NULL: none). Reads up to SIMD_LANES floats past
   a tile row's last tile in Mx (the caller leaves slack). */
static SIMD_TARGET void SIMD(winograd_output)(const float *Mx, ptrdiff_t M, ptrdiff_t ldm, ptrdiff_t tw,
                                              ptrdiff_t i0, ptrdiff_t tile_rows, ptrdiff_t v0,
                                              const float *bias, float *out, ptrdiff_t Ho, ptrdiff_t Wo)
{
    for (ptrdiff_t m = 0; m < M; m++) {
        const vec b = SIMD(broadcast)(bias != NULL ? bias[m] : 0.0f);
        for (ptrdiff_t i = 0; i < tile_rows; i++) {
            const float *src = Mx + m * ldm + v0 + i * tw;
            const ptrdiff_t oh = 2 * (i0 + i);
            for (ptrdiff_t j = 0; j < tw; j += SIMD_LANES) {
                vec x[16], u[8];
                for (int k = 0; k < 16; k++)
                    x[k] = SIMD(load)(src + k * M * ldm + j);
                for (int s = 0; s < 4; s++) {             /* A^T down the columns */
                    u[0 * 4 + s] = x[0 * 4 + s] + x[1 * 4 + s] + x[2 * 4 + s];
                    u[1 * 4 + s] = x[1 * 4 + s] - x[2 * 4 + s] - x[3 * 4 + s];
                }
                const ptrdiff_t n = Wo - 2 * j;           /* outputs of this row from column 2j on */
                for (int a = 0; a < 2 && oh + a < Ho; a++) {
                    const vec *w = u + a * 4;
                    vec left = w[0] + w[1] + w[2] + b, right = w[1] - w[2] - w[3] + b, low, high;
                    SIMD(zip)(left, right, &low, &high);  /* columns 2j, 2j+1, 2j+2, .. */
                    float *dst = out + (m * Ho + oh + a) * Wo + 2 * j;
                    if (n >= 2 * SIMD_LANES) {
                        SIMD(store)(dst, low);
                        SIMD(store)(dst + SIMD_LANES, high);
                    } else if (n > SIMD_LANES) {
                        SIMD(store)(dst, low);
                        SIMD(store_first)(dst + SIMD_LANES, n - SIMD_LANES, high);
                    } else {
                        SIMD(store_first)(dst, n, low);
                    }
                }
            }
        }
    }
}
