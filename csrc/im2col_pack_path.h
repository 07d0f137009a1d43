/*
 * One instruction-set path of the implicit GEMM's packers (csrc/im2col_pack.h),
 * included once per path by csrc/gemm_paths.h beside the GEMM's
 * (csrc/gemm_path.h): they write the panels of that path's GEMM, NR =
 * SIMD_LANES * GEMM_NV columns wide.
 *
 * Reference: minigrad/reference/conv.py's pack_columns
 */
#define GEMM_NR (SIMD_LANES * GEMM_NV)
#define vec_unaligned SIMD_FN(pack_vec_unaligned)
#define half_unaligned SIMD_FN(pack_half_unaligned)

typedef float vec_unaligned __attribute__((vector_size(4 * SIMD_LANES), aligned(4)));
typedef float half_unaligned __attribute__((vector_size(2 * SIMD_LANES), aligned(4)));

/* dst[0 : n] = src[0 : n*stride : stride]. Stride 1: a vector at a time, the
   last vector (or half vector) overlapping the ones before rather than
   masked (masked loads that leave lanes out are slow on AMD's cores).
   Stride 2: the path's conv_copy_even, then one by one. */
SIMD_TARGET __attribute__((always_inline))
static inline void SIMD_FN(conv_copy_run)(float *dst, const float *src, ptrdiff_t n, ptrdiff_t stride)
{
    if (stride == 1) {
        for (; n > 2 * SIMD_LANES; n -= SIMD_LANES, src += SIMD_LANES, dst += SIMD_LANES)
            *(vec_unaligned *)dst = *(const vec_unaligned *)src;
        if (n >= SIMD_LANES) {                             /* [0, LANES) and [n-LANES, n) */
            vec_unaligned head = *(const vec_unaligned *)src;
            vec_unaligned tail = *(const vec_unaligned *)(src + n - SIMD_LANES);
            *(vec_unaligned *)dst = head;
            *(vec_unaligned *)(dst + n - SIMD_LANES) = tail;
            return;
        }
        if (n >= SIMD_LANES / 2) {
            half_unaligned head = *(const half_unaligned *)src;
            half_unaligned tail = *(const half_unaligned *)(src + n - SIMD_LANES / 2);
            *(half_unaligned *)dst = head;
            *(half_unaligned *)(dst + n - SIMD_LANES / 2) = tail;
            return;
        }
    }
    if (stride == 2 && n >= SIMD_LANES) {
        ptrdiff_t done = SIMD_FN(conv_copy_even)(dst, src, n);
        dst += done;
        src += 2 * done;
        n -= done;
    }
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = src[i * stride];
}

/* The gemm_b_source packer of the columns: see the top of im2col_pack.h. */
SIMD_TARGET
static void SIMD_FN(conv_pack_columns)(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                                       float *packed)
{
    const conv_columns *g = (const conv_columns *)source->context;
    column_run runs[CONV_PACK_PANELS * (GEMM_NR + 1)];
    for (int s = 0; s < nc; s += CONV_PACK_PANELS * GEMM_NR) {
        int count = nc - s < CONV_PACK_PANELS * GEMM_NR ? nc - s : CONV_PACK_PANELS * GEMM_NR;
        int n_runs = conv_column_runs(g, j0 + s, count, GEMM_NR, (ptrdiff_t)kc * GEMM_NR, runs);
        float *chunk = packed + (ptrdiff_t)(s / GEMM_NR) * kc * GEMM_NR;
        column_row q = conv_column_row(g, p0);
        for (int p = 0; p < kc; p++, conv_next_row(g, &q)) {
            const float *image = conv_row_image(g, &q);
            float *row = chunk + p * GEMM_NR;          /* row p of the chunk's first panel */
            if (g->sw == 1)                               /* (the compiler then drops the stride cases) */
                for (int r = 0; r < n_runs; r++)
                    SIMD_FN(conv_copy_run)(row + runs[r].dst, image + runs[r].src, runs[r].length, 1);
            else
                for (int r = 0; r < n_runs; r++)
                    SIMD_FN(conv_copy_run)(row + runs[r].dst, image + runs[r].src, runs[r].length, g->sw);
            if (count % GEMM_NR) {                        /* past column nc: zero */
                float *last = row + (ptrdiff_t)(count / GEMM_NR) * kc * GEMM_NR;
                for (int i = count % GEMM_NR; i < GEMM_NR; i++)
                    last[i] = 0.0f;
            }
        }
    }
}

/* The weight gradient's packer: B = columns^T, (P, Cg*K), rows p0 .. p0+kc-1
   (output positions) and columns j0 .. j0+nc-1 (rows q of the columns).
   LANES rows q at a time are copied, run by run, into `rows` (LANES, kc),
   then transposed into the panel, LANES x LANES at a time
   (SIMD_FN(gemm_transpose), csrc/gemm.h). */
SIMD_TARGET
static void SIMD_FN(conv_pack_columns_transposed)(const gemm_b_source *source, int p0, int kc, int j0,
                                                  int nc, float *packed)
{
    const conv_columns *g = (const conv_columns *)source->context;
    column_run runs[GEMM_KC + 2];
    float rows[SIMD_LANES * GEMM_KC] __attribute__((aligned(64)));
    int n_runs = conv_column_runs(g, p0, kc, kc, 0, runs);       /* one stretch: the kc positions */
    column_row q = conv_column_row(g, j0);
    for (int j = 0; j < nc; j += SIMD_LANES) {
        int count = nc - j < SIMD_LANES ? nc - j : SIMD_LANES;
        float *panel = packed + (ptrdiff_t)(j / GEMM_NR) * kc * GEMM_NR + j % GEMM_NR;
        for (int i = 0; i < count; i++, conv_next_row(g, &q)) {   /* row j0 + j + i of the columns */
            const float *image = conv_row_image(g, &q);
            for (int r = 0; r < n_runs; r++)
                SIMD_FN(conv_copy_run)(rows + i * kc + runs[r].dst, image + runs[r].src, runs[r].length,
                                       g->sw);
        }
        for (int i = count; i < SIMD_LANES; i++)          /* past column nc: zero */
            for (int p = 0; p < kc; p++)
                rows[i * kc + p] = 0.0f;
        int p = 0;
        for (; p + SIMD_LANES <= kc; p += SIMD_LANES)
            SIMD_FN(gemm_transpose)(rows + p, kc, panel + (ptrdiff_t)p * GEMM_NR, GEMM_NR);
        for (; p < kc; p++)
            for (int i = 0; i < SIMD_LANES; i++)
                panel[(ptrdiff_t)p * GEMM_NR + i] = rows[i * kc + p];
    }
    int filled = (nc % GEMM_NR + SIMD_LANES - 1) / SIMD_LANES * SIMD_LANES;
    if (nc % GEMM_NR && filled < GEMM_NR) {               /* a last panel's empty right part */
        float *panel = packed + (ptrdiff_t)(nc / GEMM_NR) * kc * GEMM_NR;
        for (int p = 0; p < kc; p++)
            for (int i = filled; i < GEMM_NR; i++)
                panel[(ptrdiff_t)p * GEMM_NR + i] = 0.0f;
    }
}

#undef vec_unaligned
#undef half_unaligned
#undef GEMM_NR
