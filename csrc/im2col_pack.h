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
 * runs. The column matrix is never written: packing is the only copy.
 *
 * The weight gradient needs B = columns^T (P, Cg*K) instead:
 * conv_pack_columns_transposed, below.
 *
 * The packers are written once over the vector width (csrc/im2col_pack_path.h)
 * and compiled for each instruction-set path beside the GEMM's (AVX-512,
 * AVX2, generic: csrc/gemm_paths.h); conv_pack_columns and
 * conv_pack_columns_transposed call the current path's copy, whose panels are
 * that path's NR wide.
 *
 * Reference: minigrad/reference/conv.py's pack_columns, gemm_pack_b
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
    ptrdiff_t P;               /* output positions of one image, Do*Ho*Wo */
    ptrdiff_t image_stride;    /* floats from one padded image to the next */
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
   at most count (each has a column at least).

   Several images side by side: column j is output position j % P of image
   j / P, which reads the padded image image_stride floats after the first
   (small images: one GEMM's columns for several of them, so that its
   panels are full). */
static int conv_column_runs(const conv_columns *g, ptrdiff_t j, int count, int split, ptrdiff_t pitch,
                            column_run *runs)
{
    int n = 0;
    ptrdiff_t image = j / g->P, position = j - image * g->P;
    ptrdiff_t rows = g->P / g->Wo;                     /* output rows of one image, Do*Ho */
    ptrdiff_t row = position / g->Wo, ow = position - row * g->Wo;
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
        runs[n].src = image * g->image_stride + (od * g->sd * g->Hp + oh * g->sh) * g->Wp + ow * g->sw;
        column += (int)length;
        ow += length;
        if (ow == g->Wo) {
            ow = 0;
            if (++row == rows) {
                row = 0;
                image++;
            }
        }
    }
    return n;
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

#if MINIGRAD_GEMM_COMPILED && MINIGRAD_X86_64
/* dst[0 : done] = src[0 : 2*done : 2] for the stride-2 copies of
   conv_copy_run (downsampling convolutions), n >= one vector; returns done.
   AVX-512: 16 even elements from two loads (0..15 and 15..30, never past the
   last one read) and one permute. */
__attribute__((target("avx512f")))
static inline ptrdiff_t conv_copy_even_avx512(float *dst, const float *src, ptrdiff_t n)
{
    const __m512i even = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17,
                                          14, 12, 10, 8, 6, 4, 2, 0);
    ptrdiff_t done = 0;
    for (; n - done >= 16; done += 16, src += 32, dst += 16)
        _mm512_storeu_ps(dst, _mm512_permutex2var_ps(_mm512_loadu_ps(src), even,
                                                     _mm512_loadu_ps(src + 15)));
    return done;
}

/* AVX2: 8 even elements from two loads (0..7 and 7..14), each permuted to
   its half, then blended. */
__attribute__((target("avx2,fma")))
static inline ptrdiff_t conv_copy_even_avx2(float *dst, const float *src, ptrdiff_t n)
{
    const __m256i low = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    const __m256i high = _mm256_setr_epi32(0, 0, 0, 0, 1, 3, 5, 7);
    ptrdiff_t done = 0;
    for (; n - done >= 8; done += 8, src += 16, dst += 8) {
        __m256 first = _mm256_permutevar8x32_ps(_mm256_loadu_ps(src), low);
        __m256 second = _mm256_permutevar8x32_ps(_mm256_loadu_ps(src + 7), high);
        _mm256_storeu_ps(dst, _mm256_blend_ps(first, second, 0xF0));
    }
    return done;
}
#endif

/* Generic: left to conv_copy_run's element loop. */
static inline ptrdiff_t conv_copy_even_generic(float *dst, const float *src, ptrdiff_t n)
{
    (void)dst, (void)src, (void)n;
    return 0;
}

#if MINIGRAD_GEMM_COMPILED

#define SIMD_PATH_FILE "im2col_pack_path.h"
#include "gemm_paths.h"

/* The gemm_b_source packers: the current path's (see the top of this file). */
static void conv_pack_columns(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                              float *packed)
{
#if MINIGRAD_X86_64
    switch (minigrad_isa()) {
    case MINIGRAD_ISA_AVX512:
        conv_pack_columns_avx512(source, p0, kc, j0, nc, packed);
        return;
    case MINIGRAD_ISA_AVX2:
        conv_pack_columns_avx2(source, p0, kc, j0, nc, packed);
        return;
    }
#endif
    conv_pack_columns_generic(source, p0, kc, j0, nc, packed);
}

static void conv_pack_columns_transposed(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                                         float *packed)
{
#if MINIGRAD_X86_64
    switch (minigrad_isa()) {
    case MINIGRAD_ISA_AVX512:
        conv_pack_columns_transposed_avx512(source, p0, kc, j0, nc, packed);
        return;
    case MINIGRAD_ISA_AVX2:
        conv_pack_columns_transposed_avx2(source, p0, kc, j0, nc, packed);
        return;
    }
#endif
    conv_pack_columns_transposed_generic(source, p0, kc, j0, nc, packed);
}

#else  /* no own GEMM (minigrad_gemm_nr() is 1): B element by element, panels one column wide */

/* Element (q, j) of the columns: row q, output position j. */
static float conv_column_element(const conv_columns *g, ptrdiff_t q, ptrdiff_t j)
{
    column_row row = conv_column_row(g, q);
    ptrdiff_t line = j / g->Wo, ow = j - line * g->Wo, od = line / g->Ho, oh = line - od * g->Ho;
    return conv_row_image(g, &row)[(od * g->sd * g->Hp + oh * g->sh) * g->Wp + ow * g->sw];
}

static void conv_pack_columns(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                              float *packed)
{
    const conv_columns *g = (const conv_columns *)source->context;
    for (int j = 0; j < nc; j++)
        for (int p = 0; p < kc; p++)
            packed[(ptrdiff_t)j * kc + p] = conv_column_element(g, p0 + p, j0 + j);
}

static void conv_pack_columns_transposed(const gemm_b_source *source, int p0, int kc, int j0, int nc,
                                         float *packed)
{
    const conv_columns *g = (const conv_columns *)source->context;
    for (int j = 0; j < nc; j++)
        for (int p = 0; p < kc; p++)
            packed[(ptrdiff_t)j * kc + p] = conv_column_element(g, j0 + j, p0 + p);
}

#endif

#endif
