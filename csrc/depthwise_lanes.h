/*
 * The depthwise row loops for one vector width: compiled once per
 * instruction-set path (csrc/simd_paths.h, included by csrc/depthwise.h),
 * on the vectors of csrc/simd_lanes.h: `vec` is SIMD_LANES floats, so the
 * arithmetic reads like scalar code: acc += w * v. SIMD(name) is name with
 * the path's suffix (correlate_3x3_avx2, ...).
 *
 * Rows are cut into blocks of SIMD_LANES outputs; a last, shorter block
 * computes all lanes (reading past the row end into the next row or the
 * DEPTHWISE_SLACK floats the caller leaves after the plane) and keeps only
 * the lanes it needs.
 *
 * The sums of each output are done in a fixed order (taps in order, rows in
 * order), so on one path results do not depend on the number of threads.
 * (Paths differ in the last bits: AVX2 and AVX-512 fuse each multiply-add
 * into one rounding, SSE2 rounds twice.)
 */

/* acc[i] = first + the sum over taps (b, c) of taps[b*kw + c] * the SIMD_LANES
   input values under that tap for output row i, i < rows. The input rows of
   the window are walked once: each load serves every output row it is under
   (with rows = 4 and a 3x3 filter, 18 loads for 36 multiply-adds instead of
   36). Each acc[i] still adds its taps in the order (b, c), so the result
   does not depend on `rows`. */
SIMD_INLINE void SIMD(correlate_tile)(vec *acc, const float *src, const vec *taps, vec first,
                                      ptrdiff_t rows, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                      ptrdiff_t dh, ptrdiff_t dw)
{
    for (ptrdiff_t i = 0; i < rows; i++)
        acc[i] = first;
    /* (unrolled completely where the sizes are constants: then every test
       below is decided at compile time and the sums stay in registers) */
#pragma GCC unroll 16
    for (ptrdiff_t r = 0; r < rows + (kh - 1) * dh; r++)          /* input rows of the window */
#pragma GCC unroll 16
        for (ptrdiff_t c = 0; c < kw; c++) {
            vec v = SIMD(load)(src + r * Wp + c * dw);
#pragma GCC unroll 16
            for (ptrdiff_t i = 0; i < rows; i++) {               /* output row i, filter row b */
                ptrdiff_t b = (r - i) / dh;
                if (r >= i && (r - i) % dh == 0 && b < kh)
                    acc[i] += taps[b * kw + c] * v;
            }
        }
}

/* `rows` output rows from oh on: all their full blocks, then a short last block */
SIMD_INLINE void SIMD(correlate_row_group)(float *out, const float *padded, const vec *taps, vec first,
                                           int accumulate, ptrdiff_t oh, ptrdiff_t rows, ptrdiff_t Wo,
                                           ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh,
                                           ptrdiff_t dw)
{
    const ptrdiff_t full = Wo - Wo % SIMD_LANES;
    vec acc[rows];
    for (ptrdiff_t start = 0; start < full; start += SIMD_LANES) {
        SIMD(correlate_tile)(acc, padded + oh * Wp + start, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + start;
            SIMD(store)(dst, accumulate ? SIMD(load)(dst) + acc[i] : acc[i]);
        }
    }
    if (full < Wo) {
        ptrdiff_t n = Wo - full;
        SIMD(correlate_tile)(acc, padded + oh * Wp + full, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + full;
            SIMD(store_first)(dst, n, accumulate ? SIMD(load_first)(dst, n) + acc[i] : acc[i]);
        }
    }
}

/* out (Ho, Wo) (+)= first + sum_{b, c} w[b*kw + c] * padded[(oh + b*dh)*Wp + ow + c*dw].
   Blocks of SIMD_LANES outputs keep their sums in registers through all taps;
   the K filter taps are broadcast into registers once per plane. Rows go
   `rows` at a time (correlate_tile), the last Ho % rows one by one. `kh`,
   `kw`, `dh`, `dw` and `rows` are constants where correlate_3x3 inlines this. */
SIMD_INLINE void SIMD(correlate_rows)(float *out, const float *padded, const float *w, float first,
                                      int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                      ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw,
                                      ptrdiff_t rows)
{
    const vec start_value = SIMD(broadcast)(first);
    vec taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = SIMD(broadcast)(w[k]);
    ptrdiff_t oh = 0;
    for (; oh + rows <= Ho; oh += rows)
        SIMD(correlate_row_group)(out, padded, taps, start_value, accumulate, oh, rows, Wo, Wp, kh, kw,
                                  dh, dw);
    for (; oh < Ho; oh++)
        SIMD(correlate_row_group)(out, padded, taps, start_value, accumulate, oh, 1, Wo, Wp, kh, kw,
                                  dh, dw);
}

/* Stride 2 along rows, stride sh down columns: out[oh, ow] (+)= first + the sum
   over taps of w[b*kw + c] * padded[(oh*sh + b*dh)*Wp + 2*ow + c*dw]. A block
   of SIMD_LANES outputs spans twice as many input columns: it computes the
   stride-1 sums of all of them (two vectors, contiguous loads as above) and
   keeps the even ones. Twice the multiply-adds, but no gathers. Reads up to
   2*SIMD_LANES - 1 floats past a row's end (DEPTHWISE_SLACK). */
SIMD_INLINE void SIMD(correlate_rows_stride2)(float *out, const float *padded, const float *w,
                                              float first, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                              ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                                              ptrdiff_t dh, ptrdiff_t dw)
{
    const vec start_value = SIMD(broadcast)(first);
    vec taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = SIMD(broadcast)(w[k]);
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        const float *src = padded + oh * sh * Wp;
        float *row = out + oh * Wo;
        for (ptrdiff_t start = 0; start < Wo; start += SIMD_LANES) {
            vec low, high;
            SIMD(correlate_tile)(&low, src + 2 * start, taps, start_value, 1, Wp, kh, kw, dh, dw);
            SIMD(correlate_tile)(&high, src + 2 * start + SIMD_LANES, taps, start_value, 1, Wp, kh, kw,
                                 dh, dw);
            vec acc = SIMD(even_lanes)(low, high);
            ptrdiff_t n = Wo - start;
            if (n >= SIMD_LANES)
                SIMD(store)(row + start, accumulate ? SIMD(load)(row + start) + acc : acc);
            else
                SIMD(store_first)(row + start, n,
                                  accumulate ? SIMD(load_first)(row + start, n) + acc : acc);
        }
    }
}

static SIMD_TARGET void SIMD(correlate_3x3)(float *out, const float *padded, const float *w,
                                            float first, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                            ptrdiff_t Wp)
{
    SIMD(correlate_rows)(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, 1, 1, 4);
}

static SIMD_TARGET void SIMD(correlate_any)(float *out, const float *padded, const float *w,
                                            float first, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                            ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh,
                                            ptrdiff_t dw)
{
    SIMD(correlate_rows)(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw, 1);
}

static SIMD_TARGET void SIMD(correlate_3x3_stride2)(float *out, const float *padded, const float *w,
                                                    float first, int accumulate, ptrdiff_t Ho,
                                                    ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t sh)
{
    SIMD(correlate_rows_stride2)(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, sh, 1, 1);
}

static SIMD_TARGET void SIMD(correlate_any_stride2)(float *out, const float *padded, const float *w,
                                                    float first, int accumulate, ptrdiff_t Ho,
                                                    ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                                                    ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t dh,
                                                    ptrdiff_t dw)
{
    SIMD(correlate_rows_stride2)(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh, dw);
}

/* out (Ho, Wo) = first + sum over taps (see depthwise_correlate_f32 in depthwise.h) */
static void SIMD(correlate)(float *out, const float *padded, const float *taps, float first,
                            int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                            ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw)
{
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (sw == 2 && three_by_three)
        SIMD(correlate_3x3_stride2)(out, padded, taps, first, accumulate, Ho, Wo, Wp, sh);
    else if (sw == 2)
        SIMD(correlate_any_stride2)(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh,
                                    dw);
    else if (three_by_three)
        SIMD(correlate_3x3)(out, padded, taps, first, accumulate, Ho, Wo, Wp);
    else
        SIMD(correlate_any)(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw);
}

/* acc[k] += g * (the input values under tap k). In a short block (n <
   SIMD_LANES) the lanes from n on read past the row end: they are zeroed in
   both g (load_first) and v, so whatever they held (even inf or nan) adds
   nothing. */
SIMD_INLINE void SIMD(add_tap_products)(vec *acc, vec g, const float *src, ptrdiff_t n, ptrdiff_t Wp,
                                        ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sw, ptrdiff_t dh,
                                        ptrdiff_t dw)
{
#pragma GCC unroll 16
    for (ptrdiff_t b = 0; b < kh; b++)
#pragma GCC unroll 16
        for (ptrdiff_t c = 0; c < kw; c++) {
            const float *p = src + b * dh * Wp + c * dw;
            vec v = sw == 1 ? SIMD(load)(p)
                            : SIMD(even_lanes)(SIMD(load)(p), SIMD(load)(p + SIMD_LANES));
            if (n < SIMD_LANES)          /* a constant in the full blocks: the test folds away */
                v = SIMD(keep_first)(v, n);
            acc[b * kw + c] += g * v;
        }
}

/* sums[k*DEPTHWISE_SUM_LANES + j] += gy[oh, ow] * padded at tap k, for the
   outputs ow = j (mod SIMD_LANES), j < SIMD_LANES (the other lanes of the 16 are
   left as they are). Row by row: each block of gy is loaded once and
   multiplied with the K shifted input blocks, K running sums held in
   registers. With stride sw = 2 along rows an input block is the even columns
   of twice as many (even_lanes). The sizes are constants where
   weight_grad_3x3 inlines this, so the tap loops unroll and the K sums stay
   in registers. */
SIMD_INLINE int SIMD(weight_grad_rows)(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                       ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                       ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    const ptrdiff_t full = Wo - Wo % SIMD_LANES;
    vec finite = SIMD(broadcast)(0.0f);          /* flip: stays 0 while every gy is finite */
    vec acc[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        acc[k] = SIMD(broadcast)(0.0f);
    /* The full blocks of all rows in one loop, then the short last blocks:
       over a loop nest (rows, blocks) the compiler kept the K sums in memory
       between rows. */
    ptrdiff_t oh = 0, start = 0;
    for (ptrdiff_t block = 0; block < Ho * (full / SIMD_LANES); block++) {
        vec g = SIMD(load)(gy + oh * Wo + start);
        if (flip)
            finite += g * 0.0f;
        SIMD(add_tap_products)(acc, g, padded + oh * sh * Wp + sw * start, SIMD_LANES, Wp, kh, kw, sw,
                               dh, dw);
        start += SIMD_LANES;
        if (start == full) {
            start = 0;
            oh++;
        }
    }
    if (full < Wo)
        for (oh = 0; oh < Ho; oh++) {
            vec g = SIMD(load_first)(gy + oh * Wo + full, Wo - full);
            if (flip)
                finite += g * 0.0f;
            SIMD(add_tap_products)(acc, g, padded + oh * sh * Wp + sw * full, Wo - full, Wp, kh, kw,
                                   sw, dh, dw);
        }
    if (flip && SIMD(any_nan)(finite))
        return 0;                              /* a nan or inf in gy: nothing added */
    for (ptrdiff_t k = 0; k < kh * kw; k++) {
        float *dst = sums + (flip ? kh * kw - 1 - k : k) * DEPTHWISE_SUM_LANES;
        SIMD(store)(dst, SIMD(load)(dst) + acc[k]);
    }
    return 1;
}

static SIMD_TARGET int SIMD(weight_grad_3x3)(const float *gy, const float *padded, float *sums,
                                             ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    return SIMD(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 0);
}

static SIMD_TARGET int SIMD(weight_grad_3x3_flipped)(const float *gy, const float *padded, float *sums,
                                                     ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    return SIMD(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 1);
}

static SIMD_TARGET int SIMD(weight_grad_3x3_stride2)(const float *gy, const float *padded, float *sums,
                                                     ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                                     ptrdiff_t sh)
{
    return SIMD(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, sh, 2, 1, 1, 0);
}

static SIMD_TARGET int SIMD(weight_grad_any)(const float *gy, const float *padded, float *sums,
                                             ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                                             ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh,
                                             ptrdiff_t dw, int flip)
{
    return SIMD(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

/* sums (K, DEPTHWISE_SUM_LANES) += the weight-gradient products (see depthwise_weight_grad_f32) */
static int SIMD(weight_grad)(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                             ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                             ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (three_by_three && sw == 1 && sh == 1)
        return flip ? SIMD(weight_grad_3x3_flipped)(gy, padded, sums, Ho, Wo, Wp)
                    : SIMD(weight_grad_3x3)(gy, padded, sums, Ho, Wo, Wp);
    if (three_by_three && sw == 2 && !flip)
        return SIMD(weight_grad_3x3_stride2)(gy, padded, sums, Ho, Wo, Wp, sh);
    return SIMD(weight_grad_any)(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}
