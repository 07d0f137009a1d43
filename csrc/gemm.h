/*
 * A packed float32 GEMM with an AVX-512 micro-kernel: minigrad's own matrix
 * product for the convolution kernels (csrc/conv.pyx) and, through
 * minigrad/kernels/gemm.py, for Linear layers.
 *
 *     C (m, n) = A (m, k) @ B (k, n)            (+ C when accumulate)
 *
 * Why not just BLAS? OpenBLAS picks its kernels from the CPU model (or the
 * OPENBLAS_CORETYPE variable) and uses AVX2 on CPUs it does not know or is
 * told not to trust: on the project's AMD Zen 5 machine sgemm then reaches
 * ~120 GFLOP/s per core instead of ~230. This file asks the CPU itself
 * (__builtin_cpu_supports) and, where it has AVX-512, runs the same
 * algorithm OpenBLAS and BLIS use. Elsewhere minigrad_gemm_available()
 * is 0 and the callers use BLAS.
 *
 * The algorithm (Goto / BLIS), readable in NumPy in tests/reference/gemm.py:
 *
 *   for each block of KC rows of B (and KC columns of A):
 *     pack that (KC, n) block of B into panels of NR columns, each panel
 *       (KC, NR) contiguous: the micro-kernel then reads B with unit stride;
 *     for each block of MC rows of A:
 *       pack the (MC, KC) block of A into panels of MR rows, stored
 *         column by column: (KC, MR) contiguous;
 *       for each B panel, for each A panel:
 *         micro-kernel: an (MR, NR) tile of C += A panel @ B panel.
 *
 * The micro-kernel keeps its 8 x 32 tile of C in 16 AVX-512 registers
 * (two 16-float rows each) for the whole KC loop: per step of k it loads
 * 32 floats of B, broadcasts 8 floats of A and issues 16 fused multiply-adds.
 * Each C element is summed in the same order (k ascending) whatever the
 * shape of the tile or the number of threads, so results are bitwise
 * identical for any thread count.
 *
 * Operands have a row stride and a column stride, so a transposed operand
 * costs nothing but a different packing order: A[i][p] = a[i*rsa + p*csa],
 * B[p][j] = b[p*rsb + j*csb]; C is row-major with leading dimension ldc.
 *
 * Scratch: the caller passes `pack`, MINIGRAD_GEMM_PACK_FLOATS floats per
 * thread (the packed A block and B panel), 64-byte aligned or not.
 */
#ifndef MINIGRAD_GEMM_H
#define MINIGRAD_GEMM_H

#include <stddef.h>
#include "cpu_features.h"
#include <string.h>

#define GEMM_MR 8      /* rows of a C tile (8 broadcasts of A per step) */
#define GEMM_NV 2      /* 16-float registers per row of a C tile */
#define GEMM_NR (16 * GEMM_NV)  /* columns of a C tile */
#define GEMM_KC 256    /* depth of a block: a (KC, NR) B panel is 32 KiB, in L1 */
#define GEMM_MC 128    /* rows of an A block: (MC, KC) is 128 KiB, in L2 */
#define GEMM_NC 2048   /* columns of a B block: (KC, NC) is 2 MiB, in L3 */

/* MC must hold whole A panels and NC whole B panels (gemm_serial's block offsets
   rely on it); gemm_pack_b copies a row of a panel as two 16-float halves */
typedef char gemm_blocks_hold_whole_panels[
    (GEMM_MC % GEMM_MR == 0 && GEMM_NC % GEMM_NR == 0 && GEMM_NV == 2) ? 1 : -1];

/* floats of scratch one thread needs: packed A block + packed B block + alignment slack */
#define MINIGRAD_GEMM_PACK_FLOATS (GEMM_MC * GEMM_KC + GEMM_KC * GEMM_NC + 32)

/* Where B comes from. Either a strided matrix (pack == NULL: B[p][j] =
   b[p*rsb + j*csb]) or a function that packs any block of a matrix that is
   never stored: the convolution's columns, packed straight from the image
   (csrc/im2col_pack.h, "implicit GEMM"). pack(source, p0, kc, j0, nc, packed)
   must write what gemm_pack_b writes for B[p0 : p0+kc, j0 : j0+nc]. */
typedef struct gemm_b_source gemm_b_source;
struct gemm_b_source {
    void (*pack)(const gemm_b_source *source, int p0, int kc, int j0, int nc, float *packed);
    const float *b;
    ptrdiff_t rsb, csb;
    const void *context;      /* whatever `pack` reads */
};

#if defined(__GNUC__) && (defined(__x86_64__) || defined(_M_X64)) && !defined(MINIGRAD_NO_AVX512_GEMM)
#define MINIGRAD_GEMM_COMPILED 1
#include <immintrin.h>
#else
#define MINIGRAD_GEMM_COMPILED 0
#endif

static int minigrad_gemm_available(void)
{
    return MINIGRAD_GEMM_COMPILED && minigrad_cpu_has_avx512();
}

#if MINIGRAD_GEMM_COMPILED

/* dst (16, 16) = src (16, 16)^T; rows of src are src_stride floats apart, of
   dst dst_stride. Three rounds of shuffles: 32-bit pairs, 64-bit pairs, then
   128-bit lanes twice (the standard AVX-512 transpose). */
__attribute__((target("avx512f")))
static void transpose_16x16(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(src + i * src_stride);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
        __m512d t2 = _mm512_castps_pd(t[i + 2]), t3 = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
    for (int i = 0; i < 16; i++)
        _mm512_storeu_ps(dst + i * dst_stride, r[i]);
}

/* Pack A[i0 : i0+mc, p0 : p0+kc] into panels of MR rows: panel r holds, for
   each p, the MR values A[i0 + r*MR + i][p0 + p] (zero past row m). Where rows
   of A are contiguous, two panels (16 rows) at a time go through 16x16
   transposes: row p of the transposed block is panel r's 8 values, then
   panel r+1's. */
__attribute__((target("avx512f")))
static void gemm_pack_a(int mc, int kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa, float *packed)
{
    float block[16 * 16] __attribute__((aligned(64)));
    for (int r = 0; r < mc; r += GEMM_MR) {
        int rows = mc - r < GEMM_MR ? mc - r : GEMM_MR;
        int p = 0;
        if (csa == 1 && rows == GEMM_MR && mc - r >= 2 * GEMM_MR) {   /* rows of A are contiguous */
            float *next = packed + kc * GEMM_MR;
            for (; p + 16 <= kc; p += 16) {
                transpose_16x16(a + r * rsa + p, rsa, block, 16);
                for (int q = 0; q < 16; q++) {
                    _mm256_storeu_ps(packed + (p + q) * GEMM_MR, _mm256_load_ps(block + q * 16));
                    _mm256_storeu_ps(next + (p + q) * GEMM_MR, _mm256_load_ps(block + q * 16 + 8));
                }
            }
            for (int q = p; q < kc; q++)                          /* the rest of both panels */
                for (int i = 0; i < 2 * GEMM_MR; i++)
                    (i < GEMM_MR ? packed : next)[q * GEMM_MR + i % GEMM_MR] = a[(r + i) * rsa + q];
            packed += 2 * kc * GEMM_MR;
            r += GEMM_MR;
            continue;
        }
        if (csa == 1) {
            for (int i = 0; i < rows; i++) {
                const float *src = a + (r + i) * rsa;
                for (int q = 0; q < kc; q++)
                    packed[q * GEMM_MR + i] = src[q];
            }
        } else {                                  /* columns of A are contiguous (A transposed) */
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
__attribute__((target("avx512f")))
static void gemm_pack_b(int kc, int nc, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float *packed)
{
    for (int s = 0; s < nc; s += GEMM_NR) {
        int cols = nc - s < GEMM_NR ? nc - s : GEMM_NR;
        if (csb == 1) {                           /* rows of B are contiguous: copy 2 x 16 floats */
            __mmask16 left = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
            __mmask16 right = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
            for (int p = 0; p < kc; p++) {
                const float *src = b + p * rsb + s;
                _mm512_store_ps(packed, _mm512_maskz_loadu_ps(left, src));
                _mm512_store_ps(packed + 16, _mm512_maskz_loadu_ps(right, src + 16));
                packed += GEMM_NR;
            }
            continue;
        }
        /* columns of B are contiguous (B transposed): transpose 16x16 blocks */
        int p = 0;
        if (rsb == 1 && cols == GEMM_NR)
            for (; p + 16 <= kc; p += 16)
                for (int j = 0; j < GEMM_NR; j += 16)
                    transpose_16x16(b + (s + j) * csb + p, csb, packed + p * GEMM_NR + j, GEMM_NR);
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

/* Depth of the KC blocks of a product with k terms: k split into the fewest
   blocks of at most GEMM_KC, as equal as possible and a multiple of 16 deep
   (288 = 144 + 144, not 256 + 32: every block loads and stores each C tile once,
   so a thin last block costs almost as much as a full one). */
static inline int gemm_block_depth(int k)
{
    int blocks = (k + GEMM_KC - 1) / GEMM_KC;
    int depth = ((k + blocks - 1) / blocks + 15) / 16 * 16;
    return depth < GEMM_KC ? depth : GEMM_KC;
}

/* Floats of a whole packed A (m, k): rows rounded up to MR. */
static ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
{
    return (ptrdiff_t)((m + GEMM_MR - 1) / GEMM_MR * GEMM_MR) * k;
}

/* Pack all of A (m, k) once, block by block in the order gemm_serial walks
   them (KC-deep blocks of all rows, MC rows each): a weight matrix used by
   every image of a batch is then packed once per call, not once per image. */
static void minigrad_gemm_pack_a(int m, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                 float *packed)
{
    ptrdiff_t m_padded = (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    int depth = gemm_block_depth(k);
    for (int p0 = 0; p0 < k; p0 += depth) {
        int kc = k - p0 < depth ? k - p0 : depth;
        for (int i0 = 0; i0 < m; i0 += GEMM_MC) {
            int mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
            gemm_pack_a(mc, kc, a + i0 * rsa + p0 * csa, rsa, csa, packed + p0 * m_padded + i0 * kc);
        }
    }
}

/* The micro-kernel: C tile (rows, cols) (+)= A panel (kc, MR)^T @ B panel (kc, NR),
   rows <= MR, cols <= NR. The packed B panel is 64-byte aligned, its rows
   ldb floats apart and zero-padded past `cols`; columns of C past `cols` are
   masked off, never read or written. accumulate = 0 overwrites C (never reads it).
   nv: 16-float registers per row actually used (NV, or 1 for a narrow last panel). */
__attribute__((target("avx512f"), always_inline))
static inline void gemm_tile(int nv, int kc, const float *a, const float *b, ptrdiff_t ldb,
                             float *c, ptrdiff_t ldc, int rows, int cols, int accumulate)
{
    __mmask16 mask[GEMM_NV];                    /* the columns of each register that exist */
    __m512 acc[GEMM_MR][GEMM_NV];               /* the tile: row i is acc[i][0] | acc[i][1] | ... */
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        int valid = cols - 16 * v;
        mask[v] = valid >= 16 ? 0xFFFF : valid <= 0 ? 0 : (__mmask16)((1u << valid) - 1);
    }
#pragma GCC unroll 16
    for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 bv[GEMM_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = _mm512_load_ps(b + 16 * v);       /* packed: aligned, zero-padded */
#pragma GCC unroll 16
        for (int i = 0; i < GEMM_MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += GEMM_MR;
        b += ldb;
    }
#pragma GCC unroll 16
    for (int i = 0; i < GEMM_MR; i++) {
        if (i < rows) {
            float *row = c + i * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) {
                if (accumulate)
                    acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_maskz_loadu_ps(mask[v], row + 16 * v));
                _mm512_mask_storeu_ps(row + 16 * v, mask[v], acc[i][v]);
            }
        }
    }
}

__attribute__((target("avx512f")))
static void gemm_micro_kernel(int kc, const float *a, const float *b, ptrdiff_t ldb,
                              float *c, ptrdiff_t ldc, int rows, int cols, int accumulate)
{
    if (cols <= 16)      /* a narrow last panel (14x14 = 196 = 6*32 + 4): half the work */
        gemm_tile(1, kc, a, b, ldb, c, ldc, rows, cols, accumulate);
    else
        gemm_tile(GEMM_NV, kc, a, b, ldb, c, ldc, rows, cols, accumulate);
}

/* One thread: C (m, n) (+)= A (m, k) @ B[:, first : first+n], scratch `pack`;
   A comes packed already (minigrad_gemm_pack_a) or, when prepacked_a is NULL, from a. */
static void gemm_serial(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                        const float *prepacked_a, const gemm_b_source *b, int first,
                        int accumulate, float *c, ptrdiff_t ldc, float *pack)
{
    ptrdiff_t m_padded = (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    /* 64-byte align the packed blocks (one cache line per 16 floats) */
    float *packed_a = (float *)(((size_t)pack + 63) & ~(size_t)63);
    float *packed_b = packed_a + GEMM_MC * GEMM_KC;
    if (k == 0) {                                 /* empty sum: C = 0 (or unchanged) */
        if (!accumulate)
            for (int i = 0; i < m; i++)
                memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    int depth = gemm_block_depth(k);
    for (int j0 = 0; j0 < n; j0 += GEMM_NC) {
        int nc = n - j0 < GEMM_NC ? n - j0 : GEMM_NC;
        for (int p0 = 0; p0 < k; p0 += depth) {
            int kc = k - p0 < depth ? k - p0 : depth;
            int acc = accumulate || p0 > 0;       /* later blocks add to the first */
            if (b->pack != NULL)
                b->pack(b, p0, kc, first + j0, nc, packed_b);
            else
                gemm_pack_b(kc, nc, b->b + p0 * b->rsb + (first + j0) * b->csb, b->rsb, b->csb,
                            packed_b);
            for (int i0 = 0; i0 < m; i0 += GEMM_MC) {
                int mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
                const float *block_a = packed_a;
                if (prepacked_a != NULL)
                    block_a = prepacked_a + p0 * m_padded + i0 * kc;
                else
                    gemm_pack_a(mc, kc, a + i0 * rsa + p0 * csa, rsa, csa, packed_a);
                for (int s = 0; s < nc; s += GEMM_NR) {
                    int cols = nc - s < GEMM_NR ? nc - s : GEMM_NR;
                    for (int r = 0; r < mc; r += GEMM_MR) {
                        int rows = mc - r < GEMM_MR ? mc - r : GEMM_MR;
                        gemm_micro_kernel(kc, block_a + r * kc, packed_b + s * kc, GEMM_NR,
                                          c + (i0 + r) * ldc + j0 + s, ldc, rows, cols, acc);
                    }
                }
            }
        }
    }
}

/* C (m, n) (+)= A @ B on `threads` threads, each owning a range of columns of
   C (multiples of NR) and MINIGRAD_GEMM_PACK_FLOATS floats of `pack`.
   prepacked_a: A packed by minigrad_gemm_pack_a, or NULL to read a. */
static void minigrad_sgemm_source(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                  const float *prepacked_a, const gemm_b_source *b,
                                  int accumulate, float *c, ptrdiff_t ldc, float *pack, int threads)
{
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    if (threads > panels)
        threads = panels;
    if (threads <= 1) {
        gemm_serial(m, n, k, a, rsa, csa, prepacked_a, b, 0, accumulate, c, ldc, pack);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (int t = 0; t < threads; t++) {
        int first = (int)((long long)panels * t / threads) * GEMM_NR;
        int stop = (int)((long long)panels * (t + 1) / threads) * GEMM_NR;
        if (stop > n)
            stop = n;
        gemm_serial(m, stop - first, k, a, rsa, csa, prepacked_a, b, first,
                    accumulate, c + first, ldc, pack + (ptrdiff_t)t * MINIGRAD_GEMM_PACK_FLOATS);
    }
}

#else  /* no AVX-512 in this build: conv.pyx calls BLAS, since minigrad_gemm_available() is 0 */

static ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
{
    return (ptrdiff_t)m * k;
}

/* "Packed" A is plain row-major A here. */
static void minigrad_gemm_pack_a(int m, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                 float *packed)
{
    for (int i = 0; i < m; i++)
        for (int p = 0; p < k; p++)
            packed[i * k + p] = a[i * rsa + p * csa];
}

/* B[p][j], through the packer when B is not stored: a 1x1 block, whose
   panel is one row of NR floats (scratch: NR floats). */
static float gemm_b_element(const gemm_b_source *b, int p, int j, float *scratch)
{
    if (b->pack == NULL)
        return b->b[p * b->rsb + j * b->csb];
    b->pack(b, p, 1, j, 1, scratch);
    return scratch[0];
}

/* The plain definition, correct on any CPU (and the slowest way to compute it);
   pack: at least NR floats. */
static void minigrad_sgemm_source(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                  const float *prepacked_a, const gemm_b_source *b,
                                  int accumulate, float *c, ptrdiff_t ldc, float *pack, int threads)
{
    (void)threads;
    if (prepacked_a != NULL) {
        a = prepacked_a;
        rsa = k;
        csa = 1;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float total = 0.0f;
            for (int p = 0; p < k; p++)
                total += a[i * rsa + p * csa] * gemm_b_element(b, p, j, pack);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + total : total;
        }
}

#endif

/* minigrad_sgemm_source with B a strided matrix. */
static void minigrad_sgemm(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const float *prepacked_a, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                           int accumulate, float *c, ptrdiff_t ldc, float *pack, int threads)
{
    gemm_b_source source = {NULL, b, rsb, csb, NULL};
    minigrad_sgemm_source(m, n, k, a, rsa, csa, prepacked_a, &source, accumulate, c, ldc, pack,
                          threads);
}
#endif
