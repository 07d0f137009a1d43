/*
 * Implicit GEMM: the convolution's column matrix packed for the own GEMM
 * (csrc/gemm.h) straight from the image, never written out.
 *
 *     columns (Cg*K, P) = im2col(image):  row q = c*K + (a*kh + b)*kw + t holds
 *     channel c seen through kernel tap (a, b, t), column j output position j.
 *
 * The GEMM asks for blocks of it, rows p0 .. p0+kc-1 and columns
 * j0 .. j0+nc-1, packed as gemm_pack_b packs a stored matrix: panels of NR
 * columns, each (kc, NR) row by row, zero past column nc.
 *
 * The image comes zero-padded (conv.pyx pads it once per image), so every
 * read is inside it and nothing here checks bounds. Within a panel the
 * columns fall into runs that stay inside one output row; for row q a run is
 * a piece of one padded input row, at a fixed offset per tap:
 *
 *     columns[q][j] = image[c][od*sd + a*dd][oh*sh + b*dh][ow*sw + t*dw]
 *                   = (image + c*plane + tap offset)[run offset + i*sw]
 *
 * So each group of panels is cut into runs once, then every row q copies its
 * runs. Writing the columns with im2col and packing them again took about a
 * fifth of a dense 3x3 convolution's forward pass (perf, 64->64 channels at
 * 32x32); this does the packing's work alone.
 *
 * The weight gradient needs B = columns^T (P, Cg*K) instead:
 * conv_pack_columns_transposed, below, with a column of ones for the bias.
 *
 * The readable version is tests/reference/conv.py's pack_columns: gemm_pack_b
 * of a block of im2col (or of its transpose); tests/test_conv.py compares the
 * two exactly, through minigrad.kernels.conv.pack_columns.
 */
#ifndef MINIGRAD_IM2COL_PACK_H
#define MINIGRAD_IM2COL_PACK_H

#include <stddef.h>
#include "gemm.h"

/* The image and geometry the packer reads (the gemm_b_source's context). */
typedef struct conv_columns {
    const float *image;        /* the group's first input channel, zero-padded: (Cg, Dp, Hp, Wp) */
    ptrdiff_t Dp, Hp, Wp;      /* padded input sizes */
    ptrdiff_t Ho, Wo;          /* output rows and columns */
    ptrdiff_t kh, kw, K;       /* kernel taps along H and W, and all taps kd*kh*kw */
    ptrdiff_t sd, sh, sw, dd, dh, dw;   /* stride, dilation */
    ptrdiff_t ones_from;       /* conv_pack_columns_transposed: rows q >= this are all ones */
} conv_columns;

/* Columns column .. column+length-1 of a chunk of panels: within one panel
   and one output row (od, oh), from output column ow on. */
typedef struct column_run {
    int length;
    ptrdiff_t dst;             /* where the run goes in the packed panels, in row p = 0 */
    ptrdiff_t src;             /* (od*sd*Hp + oh*sh)*Wp + ow*sw: where it reads at tap 0 */
} column_run;

/* Panels packed together: their runs are worked out once, then each row q
   reads a few consecutive input rows (row by row through the image; panel by
   panel would jump across channels 4 KiB apart, which the L1 cache cannot hold). */
#define CONV_PACK_PANELS 8

/* Cut columns j .. j+count-1 into runs, each within one output row and
   within one stretch of `split` columns; stretch i starts at i*pitch in the
   destination (panels: split NR, pitch kc*NR). Returns the number of runs,
   at most count (each has a column at least). */
static int conv_column_runs(const conv_columns *g, ptrdiff_t j, int count, int split, ptrdiff_t pitch,
                            column_run *runs)
{
    int n = 0;
    ptrdiff_t row = j / g->Wo, ow = j - row * g->Wo;   /* column j: output position j */
    for (int column = 0; column < count; n++) {
        ptrdiff_t od = row / g->Ho, oh = row - od * g->Ho;
        ptrdiff_t length = g->Wo - ow;
        int stretch_left = split - column % split;
        if (length > stretch_left)
            length = stretch_left;
        if (length > count - column)
            length = count - column;
        runs[n].length = (int)length;
        runs[n].dst = (ptrdiff_t)(column / split) * pitch + column % split;
        runs[n].src = (od * g->sd * g->Hp + oh * g->sh) * g->Wp + ow * g->sw;
        column += (int)length;
        ow += length;
        if (ow == g->Wo) {
            row += 1;
            ow = 0;
        }
    }
    return n;
}

/* dst[0 : n] = src[0 : n*stride : stride]. With AVX-512 and stride 1: 16 at a
   time, the last 16 (or 8) overlapping the ones before rather than masked
   (on the project's Zen 5, masked loads that leave lanes out took more than
   half of the packer's time in perf; without them the packer went from 27%
   to 18% of a dense 3x3 convolution's forward pass);
   stride 2: 16 at a time through a permute. */
#if MINIGRAD_GEMM_COMPILED
__attribute__((target("avx512f")))
#endif
static inline void conv_copy_run(float *dst, const float *src, ptrdiff_t n, ptrdiff_t stride)
{
#if MINIGRAD_GEMM_COMPILED
    for (; stride == 1 && n > 32; n -= 16, src += 16, dst += 16)
        _mm512_storeu_ps(dst, _mm512_loadu_ps(src));
    if (stride == 1 && n >= 16) {                      /* [0, 16) and [n-16, n) */
        __m512 head = _mm512_loadu_ps(src), tail = _mm512_loadu_ps(src + n - 16);
        _mm512_storeu_ps(dst, head);
        _mm512_storeu_ps(dst + n - 16, tail);
        return;
    }
    if (stride == 1 && n >= 8) {
        __m256 head = _mm256_loadu_ps(src), tail = _mm256_loadu_ps(src + n - 8);
        _mm256_storeu_ps(dst, head);
        _mm256_storeu_ps(dst + n - 8, tail);
        return;
    }
    /* stride 2 (downsampling convolutions): 16 even elements from two loads
       (0..15 and 15..30, never past the last one read) and one permute */
    if (stride == 2 && n >= 16) {
        const __m512i even = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17,
                                              14, 12, 10, 8, 6, 4, 2, 0);
        for (; n >= 16; n -= 16, src += 32, dst += 16)
            _mm512_storeu_ps(dst, _mm512_permutex2var_ps(_mm512_loadu_ps(src), even,
                                                         _mm512_loadu_ps(src + 15)));
    }
#endif
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = src[i * stride];
}

/* Row q of the columns: channel c seen through tap (a, b, t). The packers walk
   the rows in order, so they count the tap up instead of dividing. */
typedef struct column_row {
    ptrdiff_t c, a, b, t;
} column_row;

static inline column_row conv_column_row(const conv_columns *g, ptrdiff_t q)
{
    column_row row;
    ptrdiff_t tap = q % g->K;
    row.c = q / g->K;
    row.a = tap / (g->kh * g->kw);
    row.b = tap / g->kw % g->kh;
    row.t = tap % g->kw;
    return row;
}

static inline void conv_next_row(const conv_columns *g, column_row *row)
{
    if (++row->t == g->kw) {
        row->t = 0;
        if (++row->b == g->kh) {
            row->b = 0;
            if (++row->a * g->kh * g->kw == g->K) {
                row->a = 0;
                row->c++;
            }
        }
    }
}

/* Where row q reads the padded image: its pixel at tap 0 of output (0, 0, 0);
   a run adds its own offset (column_run.src). */
static inline const float *conv_row_image(const conv_columns *g, const column_row *row)
{
    return g->image + row->c * g->Dp * g->Hp * g->Wp
           + (row->a * g->dd * g->Hp + row->b * g->dh) * g->Wp + row->t * g->dw;
}

/* The gemm_b_source packer: see the top of this file. */
#if MINIGRAD_GEMM_COMPILED
__attribute__((target("avx512f")))
#endif
static void conv_pack_columns(const gemm_b_source *source, int p0, int kc, int j0, int nc,
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
                    conv_copy_run(row + runs[r].dst, image + runs[r].src, runs[r].length, 1);
            else
                for (int r = 0; r < n_runs; r++)
                    conv_copy_run(row + runs[r].dst, image + runs[r].src, runs[r].length, g->sw);
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
   Sixteen rows q at a time are copied, run by run, into `rows` (16, kc),
   then transposed into the panel, 16 x 16 at a time.

   Rows q from ones_from on are ones: the bias is a weight on a constant
   input 1, so with B = [columns^T | 1] the GEMM's last column of
   grad_out @ B is the bias gradient, sum over positions of grad_out, in the
   same pass over grad_out as the weight gradient. */
#if MINIGRAD_GEMM_COMPILED
__attribute__((target("avx512f")))
#endif
static void conv_pack_columns_transposed(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                                         float *packed)
{
    const conv_columns *g = (const conv_columns *)source->context;
    column_run runs[GEMM_KC + 2];
    float rows[16 * GEMM_KC] __attribute__((aligned(64)));
    int n_runs = conv_column_runs(g, p0, kc, kc, 0, runs);       /* one stretch: the kc positions */
    column_row q = conv_column_row(g, j0);
    for (int j = 0; j < nc; j += 16) {
        int count = nc - j < 16 ? nc - j : 16;
        float *panel = packed + (ptrdiff_t)(j / GEMM_NR) * kc * GEMM_NR + j % GEMM_NR;
        for (int i = 0; i < count; i++, conv_next_row(g, &q)) {   /* row j0 + j + i of the columns */
            if (j0 + j + i >= g->ones_from) {
                for (int p = 0; p < kc; p++)
                    rows[i * kc + p] = 1.0f;
                continue;
            }
            const float *image = conv_row_image(g, &q);
            for (int r = 0; r < n_runs; r++)
                conv_copy_run(rows + i * kc + runs[r].dst, image + runs[r].src, runs[r].length, g->sw);
        }
        for (int i = count; i < 16; i++)                  /* past column nc: zero */
            for (int p = 0; p < kc; p++)
                rows[i * kc + p] = 0.0f;
        int p = 0;
#if MINIGRAD_GEMM_COMPILED
        for (; p + 16 <= kc; p += 16)
            transpose_16x16(rows + p, kc, panel + (ptrdiff_t)p * GEMM_NR, GEMM_NR);
#endif
        for (; p < kc; p++)
            for (int i = 0; i < 16; i++)
                panel[(ptrdiff_t)p * GEMM_NR + i] = rows[i * kc + p];
    }
    if (nc % GEMM_NR && nc % GEMM_NR <= 16) {           /* a last panel's empty right half */
        float *panel = packed + (ptrdiff_t)(nc / GEMM_NR) * kc * GEMM_NR;
        for (int p = 0; p < kc; p++)
            for (int i = 16; i < GEMM_NR; i++)
                panel[(ptrdiff_t)p * GEMM_NR + i] = 0.0f;
    }
}

#endif
