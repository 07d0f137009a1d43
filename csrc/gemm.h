/*
 * A packed float32 GEMM: minigrad's own matrix product for the convolution
 * kernels (csrc/conv.pyx, through csrc/gemm_calls.pxd) and, through
 * csrc/gemm.pyx and minigrad/kernels/gemm.py, for Linear layers.
 *
 * Reference: minigrad/reference/gemm.py
 *
 *     C (m, n) = A (m, k) @ B (k, n)            (+ C when accumulate)
 *
 * Why not just BLAS? OpenBLAS picks its kernels from the CPU model (or the
 * OPENBLAS_CORETYPE variable) and uses AVX2 on CPUs it does not know or is
 * told not to trust, at half the speed its AVX-512 kernels reach on CPUs
 * that have them. And the convolutions need a GEMM
 * that packs its B operand itself (the implicit GEMM, csrc/im2col_pack.h).
 *
 * It is written once over the vector width (csrc/gemm_path.h) and compiled
 * for three instruction-set paths (csrc/gemm_paths.h): AVX-512 (an 8 x 32
 * tile of C), AVX2 + FMA (6 x 16) and a portable generic path (6 x 8, SSE2 on
 * x86-64, NEON on aarch64). Every call takes the path minigrad_isa() names
 * (csrc/cpu_features.h; minigrad.kernels.cpu.set_cpu_path changes it).
 *
 * The algorithm (Goto / BLIS), readable in NumPy in minigrad/reference/gemm.py:
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
 * The micro-kernel keeps its MR x NR tile of C in registers (NV = 2 vectors
 * a row) for the whole KC loop: per step of k it loads NR floats of B,
 * broadcasts MR floats of A and issues MR*NV fused multiply-adds. Each C
 * element is summed in the same order (k ascending) whatever the shape of
 * the tile or the number of threads, so results are bitwise identical for
 * any thread count (on one path: the paths differ in their tiles and fused
 * multiply-adds, so in the last bits).
 *
 * Operands have a row stride and a column stride, so a transposed operand
 * costs nothing but a different packing order: A[i][p] = a[i*rsa + p*csa],
 * B[p][j] = b[p*rsb + j*csb]; C is row-major with leading dimension ldc.
 *
 * Scratch: the caller passes `pack`, MINIGRAD_GEMM_PACK_FLOATS floats per
 * thread (the packed A block and B panel, sized for the largest path),
 * 64-byte aligned or not.
 */
#ifndef MINIGRAD_GEMM_H
#define MINIGRAD_GEMM_H

#include <stddef.h>
#include <string.h>
#include "cpu_features.h"

#define GEMM_KC 256      /* depth of a block: a (KC, NR) B panel is 16-32 KiB, in L1 */
#define GEMM_MC_MAX 144  /* most rows of an A block of any path: (MC, KC) <= 144 KiB, in L2 */
#define GEMM_NC 2048     /* columns of a B block: (KC, NC) is 2 MiB, in L3 */
#define GEMM_NR_MAX 32   /* widest tile of any path (AVX-512's) */

/* floats of scratch one thread needs: packed A block + packed B block + alignment slack */
#define MINIGRAD_GEMM_PACK_FLOATS (GEMM_MC_MAX * GEMM_KC + GEMM_KC * GEMM_NC + 32)

/* Where B comes from. Either a strided matrix (pack == NULL: B[p][j] =
   b[p*rsb + j*csb]) or a function that packs any block of a matrix that is
   never stored: the convolution's columns, packed straight from the image
   (csrc/im2col_pack.h, "implicit GEMM"). pack(source, p0, kc, j0, nc, packed)
   must write what gemm_pack_b writes for B[p0 : p0+kc, j0 : j0+nc], in
   panels of the current path's NR (minigrad_gemm_nr()). */
typedef struct gemm_b_source gemm_b_source;
struct gemm_b_source {
    void (*pack)(const gemm_b_source *source, int p0, int kc, int j0, int nc, float *packed);
    const float *b;
    ptrdiff_t rsb, csb;
    const void *context;      /* whatever `pack` reads */
};

/* GCC and Clang (vector extensions, target attributes); other compilers get
   the plain loops at the end of this file and the callers use BLAS. */
#if defined(__GNUC__) && !defined(MINIGRAD_NO_OWN_GEMM)
#define MINIGRAD_GEMM_COMPILED 1
#else
#define MINIGRAD_GEMM_COMPILED 0
#endif

static int minigrad_gemm_available(void)
{
    return MINIGRAD_GEMM_COMPILED;
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

#if MINIGRAD_GEMM_COMPILED

#if MINIGRAD_X86_64
#include <immintrin.h>

/* dst (16, 16) = src (16, 16)^T; rows of src are src_stride floats apart, of
   dst dst_stride. Three rounds of shuffles: 32-bit pairs, 64-bit pairs, then
   128-bit lanes twice (the standard AVX-512 transpose). */
__attribute__((target("avx512f")))
static void gemm_transpose_avx512(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride)
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

/* dst (8, 8) = src (8, 8)^T with AVX: pairs of rows interleaved, then
   pairs of pairs, then the 128-bit halves swapped across. The rows of dst
   are stored in order, 0 to 7, so with dst_stride < 8 each store's spill
   into the next row is overwritten by that row (gemm_pack_a packs 6-row
   panels so): only the last row writes 8 - dst_stride floats past its end. */
__attribute__((target("avx2,fma")))
static void gemm_transpose_avx2(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * src_stride);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      /* a(i,0) a(i+1,0) a(i,1) a(i+1,1) | 4, 5 */
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  /* columns 2, 3 | 6, 7 */
    }
    for (int i = 0; i < 8; i += 4) {                    /* rows i..i+3 of columns c | c+4 */
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        _mm256_storeu_ps(dst + i * dst_stride, t[i]);
}
#endif

/* dst (4, 4) = src (4, 4)^T, element by element (the compiler's choice of shuffles). */
static void gemm_transpose_generic(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            dst[j * dst_stride + i] = src[i * src_stride + j];
}

/* One path's GEMM: its tile and its two entry points (csrc/gemm_path.h). */
typedef struct gemm_path {
    int mr, nr;
    void (*serial)(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                   const float *prepacked_a, const gemm_b_source *b, int first,
                   int accumulate, float *c, ptrdiff_t ldc, float *pack);
    void (*pack_whole_a)(int m, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, float *packed);
    int fma_loop_flops;                       /* floating-point operations of one round of fma_loop */
    float (*fma_loop)(long rounds, float seed);
} gemm_path;

#define SIMD_PATH_FILE "gemm_path.h"
#include "gemm_paths.h"

/* The path the GEMM takes now. */
static inline const gemm_path *gemm_current_path(void)
{
#if MINIGRAD_X86_64
    switch (minigrad_isa()) {
    case MINIGRAD_ISA_AVX512:
        return &gemm_path_table_avx512;
    case MINIGRAD_ISA_AVX2:
        return &gemm_path_table_avx2;
    }
#endif
    return &gemm_path_table_generic;
}

/* The current path's tile: MR rows, NR columns (packed B panels are NR wide). */
static int minigrad_gemm_mr(void)
{
    return gemm_current_path()->mr;
}

static int minigrad_gemm_nr(void)
{
    return gemm_current_path()->nr;
}

/* Floats of a whole packed A (m, k): rows rounded up to MR. */
static ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
{
    int mr = minigrad_gemm_mr();
    return (ptrdiff_t)((m + mr - 1) / mr * mr) * k;
}

/* Pack all of A (m, k) once, block by block in the order the GEMM walks
   them: a weight matrix used by every image of a batch is then packed once
   per call, not once per image. */
static void minigrad_gemm_pack_a(int m, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                 float *packed)
{
    gemm_current_path()->pack_whole_a(m, k, a, rsa, csa, packed);
}

/* FLOPs of one round of minigrad_fma_loop on the current path. */
static int minigrad_fma_loop_flops(void)
{
    return gemm_current_path()->fma_loop_flops;
}

/* The current path's register-only fused multiply-adds, `rounds` rounds on
   this thread (the benchmarks' FMA peak: csrc/gemm.pyx fma_peak). */
static float minigrad_fma_loop(long rounds, float seed)
{
    return gemm_current_path()->fma_loop(rounds, seed);
}

/* C (m, n) (+)= A @ B on `threads` threads, each owning a range of columns of
   C (multiples of NR) and MINIGRAD_GEMM_PACK_FLOATS floats of `pack`.
   prepacked_a: A packed by minigrad_gemm_pack_a, or NULL to read a. */
static void minigrad_sgemm_source(int m, int n, int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                  const float *prepacked_a, const gemm_b_source *b,
                                  int accumulate, float *c, ptrdiff_t ldc, float *pack, int threads)
{
    const gemm_path *path = gemm_current_path();
    int panels = (n + path->nr - 1) / path->nr;
    if (k == 0) {                                 /* empty sum: C = 0 (or unchanged) */
        if (!accumulate)
            for (int i = 0; i < m; i++)
                memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    if (threads > panels)
        threads = panels;
    if (threads <= 1) {
        path->serial(m, n, k, a, rsa, csa, prepacked_a, b, 0, accumulate, c, ldc, pack);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (int t = 0; t < threads; t++) {
        int first = (int)((long long)panels * t / threads) * path->nr;
        int stop = (int)((long long)panels * (t + 1) / threads) * path->nr;
        if (stop > n)
            stop = n;
        path->serial(m, stop - first, k, a, rsa, csa, prepacked_a, b, first,
                     accumulate, c + first, ldc, pack + (ptrdiff_t)t * MINIGRAD_GEMM_PACK_FLOATS);
    }
}

#else  /* no vector extensions: conv.pyx calls BLAS, since minigrad_gemm_available() is 0 */

static int minigrad_gemm_mr(void)
{
    return 1;
}

static int minigrad_gemm_nr(void)
{
    return 1;
}

static ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
{
    return (ptrdiff_t)m * k;
}

/* Scalar multiply-adds in 8 chains: the FMA peak without vectors. */
static int minigrad_fma_loop_flops(void)
{
    return 8 * 2;
}

static float minigrad_fma_loop(long rounds, float seed)
{
    float a[8];
    for (int i = 0; i < 8; i++)
        a[i] = seed + i;
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < 8; i++)
            a[i] = a[i] * 0.999999f + 1e-7f;
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
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
