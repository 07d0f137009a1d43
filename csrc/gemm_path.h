/*
 * One instruction-set path of the GEMM (csrc/gemm.h), included once per
 * path by csrc/gemm_paths.h: SIMD_FN(gemm_tile) becomes gemm_tile_avx512,
 * gemm_tile_avx2 and gemm_tile_generic. The vectors are GCC/Clang vector
 * extensions (`vec`: SIMD_LANES floats, one register of the path), so the
 * arithmetic reads like scalar code; only the transposes
 * (SIMD_FN(gemm_transpose), in gemm.h) and the fused multiply-add are
 * intrinsics.
 *
 * Reference: minigrad/reference/gemm.py
 */
#define GEMM_NR (SIMD_LANES * GEMM_NV)
#define vec SIMD_FN(gemm_vec)
#define vec_unaligned SIMD_FN(gemm_vec_unaligned)

typedef float vec __attribute__((vector_size(4 * SIMD_LANES)));
typedef float vec_unaligned __attribute__((vector_size(4 * SIMD_LANES), aligned(4)));

/* MC must hold whole A panels and NC whole B panels (gemm_serial's block
   offsets rely on it), and fit the scratch of MINIGRAD_GEMM_PACK_FLOATS */
typedef char SIMD_FN(gemm_blocks_hold_whole_panels)[
    (GEMM_MC % GEMM_MR == 0 && GEMM_NC % GEMM_NR == 0 && GEMM_MC <= GEMM_MC_MAX) ? 1 : -1];

/* Pack A[i0 : i0+mc, p0 : p0+kc] into panels of MR rows: panel r holds, for
   each p, the MR values A[i0 + r*MR + i][p0 + p] (zero past row m). On the
   AVX-512 path, where rows of A are contiguous, two panels (16 rows) at a
   time go through 16x16 transposes: row p of the transposed block is panel
   r's 8 values, then panel r+1's. */
SIMD_TARGET
static void SIMD_FN(gemm_pack_a)(int mc, int kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                 float *packed)
{
#if SIMD_LANES == 2 * GEMM_MR
    float block[SIMD_LANES * SIMD_LANES] __attribute__((aligned(64)));
#endif
    for (int r = 0; r < mc; r += GEMM_MR) {
        int rows = mc - r < GEMM_MR ? mc - r : GEMM_MR;
#if SIMD_LANES == 2 * GEMM_MR
        if (csa == 1 && rows == GEMM_MR && mc - r >= 2 * GEMM_MR) {   /* rows of A are contiguous */
            float *next = packed + kc * GEMM_MR;
            int p = 0;
            for (; p + SIMD_LANES <= kc; p += SIMD_LANES) {
                SIMD_FN(gemm_transpose)(a + r * rsa + p, rsa, block, SIMD_LANES);
                for (int q = 0; q < SIMD_LANES; q++) {
                    memcpy(packed + (p + q) * GEMM_MR, block + q * SIMD_LANES, GEMM_MR * sizeof(float));
                    memcpy(next + (p + q) * GEMM_MR, block + q * SIMD_LANES + GEMM_MR,
                           GEMM_MR * sizeof(float));
                }
            }
            for (int q = p; q < kc; q++)                          /* the rest of both panels */
                for (int i = 0; i < 2 * GEMM_MR; i++)
                    (i < GEMM_MR ? packed : next)[q * GEMM_MR + i % GEMM_MR] = a[(r + i) * rsa + q];
            packed += 2 * kc * GEMM_MR;
            r += GEMM_MR;
            continue;
        }
#endif
#if SIMD_LANES == 8 && GEMM_MR < 8
        /* AVX2, rows of A contiguous: 8x8 transposes of this panel's 6 rows
           and the next 2, stored 6 floats apart (gemm_transpose_avx2 stores
           its rows in order, each spill overwritten by the next row). The
           last 8 values of the panel go one by one, so nothing is written
           past the panel; a last panel with fewer than 8 rows left in the
           block too. */
        if (csa == 1 && mc - r >= 8) {
            int p = 0;
            for (; p + 8 < kc; p += 8)
                SIMD_FN(gemm_transpose)(a + r * rsa + p, rsa, packed + p * GEMM_MR, GEMM_MR);
            for (int q = p; q < kc; q++)
                for (int i = 0; i < GEMM_MR; i++)
                    packed[q * GEMM_MR + i] = a[(r + i) * rsa + q];
            packed += kc * GEMM_MR;
            continue;
        }
#endif
        if (csa == 1) {
            for (int i = 0; i < rows; i++) {
                const float *src = a + (r + i) * rsa;
                for (int q = 0; q < kc; q++)
                    packed[q * GEMM_MR + i] = src[q];
            }
        } else if (rsa == 1 && rows == GEMM_MR) { /* columns of A contiguous (a transposed view): MR floats a step */
            for (int q = 0; q < kc; q++)
                memcpy(packed + q * GEMM_MR, a + r + q * csa, GEMM_MR * sizeof(float));
        } else {                                  /* A transposed, or a last panel's few rows */
            for (int q = 0; q < kc; q++)
                for (int i = 0; i < rows; i++)
                    packed[q * GEMM_MR + i] = a[(r + i) * rsa + q * csa];
        }
        for (int i = rows; i < GEMM_MR; i++)
            for (int q = 0; q < kc; q++)
                packed[q * GEMM_MR + i] = 0.0f;
        packed += kc * GEMM_MR;
    }
}

/* Pack B[p0 : p0+kc, j0 : j0+nc] into panels of NR columns: panel s holds, for
   each p, the NR values B[p0 + p][j0 + s*NR + j] (zero past column n). */
SIMD_TARGET
static void SIMD_FN(gemm_pack_b)(int kc, int nc, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                                 float *packed)
{
    if (csb == 1) {
        /* rows of B are contiguous: read them row by row, each row's NR-wide
           pieces into their panels. (Panel by panel would read kc rows far
           apart, a few cache lines from each: for B fresh from memory, as a
           1x1 convolution's input is, the prefetchers cannot follow that.) */
        int full = nc / GEMM_NR * GEMM_NR;
        for (int p = 0; p < kc; p++) {
            const float *src = b + p * rsb;
            float *dst = packed + p * GEMM_NR;
            for (int s = 0; s < full; s += GEMM_NR, dst += kc * GEMM_NR)
#pragma GCC unroll 4
                for (int v = 0; v < GEMM_NV; v++)
                    *(vec *)(dst + SIMD_LANES * v) = *(const vec_unaligned *)(src + s + SIMD_LANES * v);
            if (full < nc)
                for (int j = 0; j < GEMM_NR; j++)
                    dst[j] = full + j < nc ? src[full + j] : 0.0f;
        }
        return;
    }
    for (int s = 0; s < nc; s += GEMM_NR) {
        int cols = nc - s < GEMM_NR ? nc - s : GEMM_NR;
        if (csb == 1) {                           /* (not reached: handled above) */
            for (int p = 0; p < kc; p++, packed += GEMM_NR) {
                const float *src = b + p * rsb + s;
                if (cols == GEMM_NR) {
#pragma GCC unroll 4
                    for (int v = 0; v < GEMM_NV; v++)
                        *(vec *)(packed + SIMD_LANES * v) = *(const vec_unaligned *)(src + SIMD_LANES * v);
                } else {
                    for (int j = 0; j < GEMM_NR; j++)
                        packed[j] = j < cols ? src[j] : 0.0f;
                }
            }
            continue;
        }
        /* columns of B are contiguous (B transposed): transpose LANES x LANES blocks */
        int p = 0;
        if (rsb == 1 && cols == GEMM_NR)
            for (; p + SIMD_LANES <= kc; p += SIMD_LANES)
                for (int j = 0; j < GEMM_NR; j += SIMD_LANES)
                    SIMD_FN(gemm_transpose)(b + (s + j) * csb + p, csb, packed + p * GEMM_NR + j, GEMM_NR);
        for (int j = 0; j < cols; j++) {          /* the rest one by one */
            const float *src = b + (s + j) * csb;
            for (int q = p; q < kc; q++)
                packed[q * GEMM_NR + j] = src[q * rsb];
        }
        for (int j = cols; j < GEMM_NR; j++)
            for (int q = p; q < kc; q++)
                packed[q * GEMM_NR + j] = 0.0f;
        packed += kc * GEMM_NR;
    }
}

/* Pack all of A (m, k) once, block by block in the order gemm_serial walks
   them (KC-deep blocks of all rows, MC rows each). */
SIMD_TARGET
static void SIMD_FN(gemm_pack_whole_a)(int m, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                       float *packed)
{
    ptrdiff_t m_padded = (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    int depth = gemm_block_depth(k);
    for (int p0 = 0; p0 < k; p0 += depth) {
        int kc = k - p0 < depth ? k - p0 : depth;
        for (int i0 = 0; i0 < m; i0 += GEMM_MC) {
            int mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
            SIMD_FN(gemm_pack_a)(mc, kc, a + i0 * rsa + p0 * csa, rsa, csa,
                                 packed + p0 * m_padded + i0 * kc);
        }
    }
}

/* The micro-kernel: C tile (rows, cols) (+)= A panel (kc, MR)^T @ B panel (kc, NR),
   rows <= MR, cols <= NR. The packed B panel is 64-byte aligned, its rows
   ldb floats apart and zero-padded past `cols`. A whole tile is loaded and
   stored with vectors; a tile at the edge of C goes through a small buffer,
   so nothing past `rows` and `cols` is touched. accumulate = 0 overwrites C
   (never reads it). nv: vector registers per row actually used (NV, or 1
   for a narrow last panel). Every element of C is the same sum in the same
   order (k ascending, then + C), whatever the tile's shape. */
SIMD_TARGET __attribute__((always_inline))
static inline void SIMD_FN(gemm_tile)(int nv, int kc, const float *a, const float *b, ptrdiff_t ldb,
                                      float *c, ptrdiff_t ldc, int rows, int cols, int accumulate)
{
    vec acc[GEMM_MR][GEMM_NV];                  /* the tile: row i is acc[i][0] | acc[i][1] | ... */
    const vec zero = {0};
#pragma GCC unroll 16
    for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i][v] = zero;
    /* C's tile is read and written once, after the k loop: fetch it into the
       cache meanwhile, so that the stores at the end do not wait for memory */
#pragma GCC unroll 16
    for (int i = 0; i < GEMM_MR; i++)
        if (i < rows) {
            __builtin_prefetch(c + i * ldc, 1);
            __builtin_prefetch(c + i * ldc + nv * SIMD_LANES - 1, 1);
        }
    for (int p = 0; p < kc; p++) {
        vec bv[GEMM_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = *(const vec *)(b + SIMD_LANES * v);      /* packed: aligned, zero-padded */
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            vec ai = a[i] - zero;                  /* a[i] in every lane (x - 0 is x, even -0) */
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[i][v] = SIMD_FMA(ai, bv[v], acc[i][v]);
        }
        __builtin_prefetch(a + 16 * GEMM_MR);        /* the A panel streams from L2 */
        a += GEMM_MR;
        b += ldb;
    }
    if (rows == GEMM_MR && cols >= nv * SIMD_LANES) {
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) {
                vec_unaligned *dst = (vec_unaligned *)(c + i * ldc + SIMD_LANES * v);
                if (accumulate)
                    *dst = acc[i][v] + *dst;
                else
                    *dst = acc[i][v];
            }
        return;
    }
    float tile[GEMM_MR][GEMM_NR] __attribute__((aligned(64)));
#pragma GCC unroll 16
    for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            *(vec *)(tile[i] + SIMD_LANES * v) = acc[i][v];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            c[i * ldc + j] = accumulate ? tile[i][j] + c[i * ldc + j] : tile[i][j];
}

SIMD_TARGET
static void SIMD_FN(gemm_micro_kernel)(int kc, const float *a, const float *b, ptrdiff_t ldb,
                                       float *c, ptrdiff_t ldc, int rows, int cols, int accumulate)
{
    if (cols <= SIMD_LANES)      /* a narrow last panel (14x14 = 196 = 6*32 + 4): half the work */
        SIMD_FN(gemm_tile)(1, kc, a, b, ldb, c, ldc, rows, cols, accumulate);
    else
        SIMD_FN(gemm_tile)(GEMM_NV, kc, a, b, ldb, c, ldc, rows, cols, accumulate);
}

/* One thread: C (m, n) (+)= A (m, k) @ B[:, first : first+n], scratch `pack`;
   A comes packed already (gemm_pack_whole_a) or, when prepacked_a is NULL, from a. */
SIMD_TARGET
static void SIMD_FN(gemm_serial)(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                 const float *prepacked_a, const gemm_b_source *b, int first,
                                 int accumulate, float *c, ptrdiff_t ldc, float *pack)
{
    ptrdiff_t m_padded = (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    /* 64-byte align the packed blocks (one cache line per 16 floats) */
    float *packed_a = (float *)(((size_t)pack + 63) & ~(size_t)63);
    float *packed_b = packed_a + GEMM_MC_MAX * GEMM_KC;
    int depth = gemm_block_depth(k);
    for (int j0 = 0; j0 < n; j0 += GEMM_NC) {
        int nc = n - j0 < GEMM_NC ? n - j0 : GEMM_NC;
        for (int p0 = 0; p0 < k; p0 += depth) {
            int kc = k - p0 < depth ? k - p0 : depth;
            int acc = accumulate || p0 > 0;       /* later blocks add to the first */
            if (b->pack != NULL)
                b->pack(b, p0, kc, first + j0, nc, packed_b);
            else
                SIMD_FN(gemm_pack_b)(kc, nc, b->b + p0 * b->rsb + (first + j0) * b->csb, b->rsb, b->csb,
                                     packed_b);
            for (int i0 = 0; i0 < m; i0 += GEMM_MC) {
                int mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
                const float *block_a = packed_a;
                if (prepacked_a != NULL)
                    block_a = prepacked_a + p0 * m_padded + i0 * kc;
                else
                    SIMD_FN(gemm_pack_a)(mc, kc, a + i0 * rsa + p0 * csa, rsa, csa, packed_a);
                for (int s = 0; s < nc; s += GEMM_NR) {
                    int cols = nc - s < GEMM_NR ? nc - s : GEMM_NR;
                    for (int r = 0; r < mc; r += GEMM_MR) {
                        int rows = mc - r < GEMM_MR ? mc - r : GEMM_MR;
                        SIMD_FN(gemm_micro_kernel)(kc, block_a + r * kc, packed_b + s * kc, GEMM_NR,
                                                   c + (i0 + r) * ldc + j0 + s, ldc, rows, cols, acc);
                    }
                }
            }
        }
    }
}

/* The machine's FMA peak on this path, for the benchmarks: 12 accumulator
   registers, each updated `rounds` times by a fused multiply-add that depends
   only on its own previous value, so that two FMA pipes with a latency of up
   to 6 cycles stay busy and nothing touches memory. Returns the sum of the
   accumulators so that the compiler keeps the work. */
#define GEMM_FMA_CHAINS 12
SIMD_TARGET __attribute__((noinline))
static float SIMD_FN(gemm_fma_loop)(long rounds, float seed)
{
    vec scale = (vec){0} + 0.999999f, shift = (vec){0} + 1e-7f;
    vec a0 = (vec){0} + seed, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5;
    vec a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11;
    for (long r = 0; r < rounds; r++) {
        a0 = SIMD_FMA(a0, scale, shift); a1 = SIMD_FMA(a1, scale, shift); a2 = SIMD_FMA(a2, scale, shift);
        a3 = SIMD_FMA(a3, scale, shift); a4 = SIMD_FMA(a4, scale, shift); a5 = SIMD_FMA(a5, scale, shift);
        a6 = SIMD_FMA(a6, scale, shift); a7 = SIMD_FMA(a7, scale, shift); a8 = SIMD_FMA(a8, scale, shift);
        a9 = SIMD_FMA(a9, scale, shift); a10 = SIMD_FMA(a10, scale, shift); a11 = SIMD_FMA(a11, scale, shift);
    }
    vec total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    float sum = 0;
    for (int i = 0; i < SIMD_LANES; i++)
        sum += total[i];
    return sum;
}

/* This path's tile and entry points, for the dispatch in gemm.h. */
static const gemm_path SIMD_FN(gemm_path_table) = {
    GEMM_MR, GEMM_NR, SIMD_FN(gemm_serial), SIMD_FN(gemm_pack_whole_a),
    GEMM_FMA_CHAINS * SIMD_LANES * 2, SIMD_FN(gemm_fma_loop)
};
#undef GEMM_FMA_CHAINS

#undef vec
#undef vec_unaligned
#undef GEMM_NR
