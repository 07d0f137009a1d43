/*
 * The depthwise row loops for one vector width: included by csrc/depthwise.h
 * once per instruction-set path, with
 *
 *   DW_LANES    floats per vector (16 AVX-512, 8 AVX2, 4 SSE2/NEON)
 *   DW_TARGET   the function attribute that compiles for that path (or nothing)
 *   DW(name)    name with the path's suffix (correlate_3x3_avx2, ...)
 *
 * `vec` below is DW_LANES floats (a GCC/Clang vector extension), so the
 * arithmetic reads like scalar code: acc += w * v. Rows are cut into blocks of
 * DW_LANES outputs; a last, shorter block computes all lanes (reading past
 * the row end into the next row or the DEPTHWISE_SLACK floats the caller
 * leaves after the plane) and keeps only the lanes it needs.
 *
 * The sums of each output are done in a fixed order (taps in order, rows in
 * order), so on one path results do not depend on the number of threads.
 * (Paths differ in the last bits: AVX2 and AVX-512 fuse each multiply-add
 * into one rounding, SSE2 rounds twice.)
 */

#define DW_INLINE static inline __attribute__((always_inline)) DW_TARGET

typedef float DW(vec) __attribute__((vector_size(DW_LANES * sizeof(float))));
typedef int DW(lanes_mask) __attribute__((vector_size(DW_LANES * sizeof(int))));
#define vec DW(vec)
#define lanes_mask DW(lanes_mask)

DW_INLINE vec DW(load)(const float *p)
{
#if DW_LANES == 16
    return _mm512_loadu_ps(p);
#else
    vec v;
    __builtin_memcpy(&v, p, sizeof v);     /* one unaligned vector load */
    return v;
#endif
}

DW_INLINE void DW(store)(float *p, vec v)
{
#if DW_LANES == 16
    _mm512_storeu_ps(p, v);
#else
    __builtin_memcpy(p, &v, sizeof v);
#endif
}

DW_INLINE vec DW(broadcast)(float x)
{
    vec v;
    for (int i = 0; i < DW_LANES; i++)
        v[i] = x;
    return v;
}

/* A short block: lanes [0, n) of DW_LANES, 0 < n < DW_LANES. These loads and
   stores touch only those lanes (no read past the end of an array). */
DW_INLINE vec DW(load_first)(const float *p, ptrdiff_t n)     /* zeros in the other lanes */
{
#if DW_LANES == 16
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
    vec v = DW(broadcast)(0.0f);
    for (ptrdiff_t i = 0; i < n; i++)
        v[i] = p[i];
    return v;
#endif
}

DW_INLINE void DW(store_first)(float *p, ptrdiff_t n, vec v)
{
#if DW_LANES == 16
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
#else
    for (ptrdiff_t i = 0; i < n; i++)
        p[i] = v[i];
#endif
}

/* v with the lanes from n on set to zero (n = DW_LANES: v itself) */
DW_INLINE vec DW(keep_first)(vec v, ptrdiff_t n)
{
    lanes_mask keep;
    for (int i = 0; i < DW_LANES; i++)
        keep[i] = i < n ? -1 : 0;
    return (vec)((lanes_mask)v & keep);
}

/* The even lanes of a, then those of b: a0 a2 .. b0 b2 .. (one or two shuffles). */
DW_INLINE vec DW(even_lanes)(vec a, vec b)
{
#if DW_LANES == 16
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
#elif defined(__clang__)
    return __builtin_shufflevector(a, b, DW_EVEN_INDICES);
#else
    return __builtin_shuffle(a, b, (lanes_mask){DW_EVEN_INDICES});
#endif
}

/* whether any lane of v is nan (inf * 0 and nan * 0 are nan) */
DW_INLINE int DW(any_nan)(vec v)
{
    lanes_mask nan = v != v;
    int any = 0;
    for (int i = 0; i < DW_LANES; i++)
        any |= nan[i];
    return any != 0;
}

/* acc[i] = first + the sum over taps (b, c) of taps[b*kw + c] * the DW_LANES
   input values under that tap for output row i, i < rows. The input rows of
   the window are walked once: each load serves every output row it is under
   (with rows = 4 and a 3x3 filter, 18 loads for 36 multiply-adds instead of
   36). Each acc[i] still adds its taps in the order (b, c), so the result
   does not depend on `rows`. */
DW_INLINE void DW(correlate_tile)(vec *acc, const float *src, const vec *taps, vec first,
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
            vec v = DW(load)(src + r * Wp + c * dw);
#pragma GCC unroll 16
            for (ptrdiff_t i = 0; i < rows; i++) {               /* output row i, filter row b */
                ptrdiff_t b = (r - i) / dh;
                if (r >= i && (r - i) % dh == 0 && b < kh)
                    acc[i] += taps[b * kw + c] * v;
            }
        }
}

/* `rows` output rows from oh on: all their full blocks, then a short last block */
DW_INLINE void DW(correlate_row_group)(float *out, const float *padded, const vec *taps, vec first,
                                       int accumulate, ptrdiff_t oh, ptrdiff_t rows, ptrdiff_t Wo,
                                       ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh,
                                       ptrdiff_t dw)
{
    const ptrdiff_t full = Wo - Wo % DW_LANES;
    vec acc[rows];
    for (ptrdiff_t start = 0; start < full; start += DW_LANES) {
        DW(correlate_tile)(acc, padded + oh * Wp + start, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + start;
            DW(store)(dst, accumulate ? DW(load)(dst) + acc[i] : acc[i]);
        }
    }
    if (full < Wo) {
        ptrdiff_t n = Wo - full;
        DW(correlate_tile)(acc, padded + oh * Wp + full, taps, first, rows, Wp, kh, kw, dh, dw);
        for (ptrdiff_t i = 0; i < rows; i++) {
            float *dst = out + (oh + i) * Wo + full;
            DW(store_first)(dst, n, accumulate ? DW(load_first)(dst, n) + acc[i] : acc[i]);
        }
    }
}

/* out (Ho, Wo) (+)= first + sum_{b, c} w[b*kw + c] * padded[(oh + b*dh)*Wp + ow + c*dw].
   Blocks of DW_LANES outputs keep their sums in registers through all taps;
   the K filter taps are broadcast into registers once per plane. Rows go
   `rows` at a time (correlate_tile), the last Ho % rows one by one. `kh`,
   `kw`, `dh`, `dw` and `rows` are constants where correlate_3x3 inlines this. */
DW_INLINE void DW(correlate_rows)(float *out, const float *padded, const float *w, float first,
                                  int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                  ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw,
                                  ptrdiff_t rows)
{
    const vec start_value = DW(broadcast)(first);
    vec taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = DW(broadcast)(w[k]);
    ptrdiff_t oh = 0;
    for (; oh + rows <= Ho; oh += rows)
        DW(correlate_row_group)(out, padded, taps, start_value, accumulate, oh, rows, Wo, Wp, kh, kw,
                                dh, dw);
    for (; oh < Ho; oh++)
        DW(correlate_row_group)(out, padded, taps, start_value, accumulate, oh, 1, Wo, Wp, kh, kw,
                                dh, dw);
}

/* Stride 2 along rows, stride sh down columns: out[oh, ow] (+)= first + the sum
   over taps of w[b*kw + c] * padded[(oh*sh + b*dh)*Wp + 2*ow + c*dw]. A block
   of DW_LANES outputs spans twice as many input columns: it computes the
   stride-1 sums of all of them (two vectors, contiguous loads as above) and
   keeps the even ones. Twice the multiply-adds, but no gathers. Reads up to
   2*DW_LANES - 1 floats past a row's end (DEPTHWISE_SLACK). */
DW_INLINE void DW(correlate_rows_stride2)(float *out, const float *padded, const float *w,
                                          float first, int accumulate, ptrdiff_t Ho, ptrdiff_t Wo,
                                          ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                                          ptrdiff_t dh, ptrdiff_t dw)
{
    const vec start_value = DW(broadcast)(first);
    vec taps[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        taps[k] = DW(broadcast)(w[k]);
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        const float *src = padded + oh * sh * Wp;
        float *row = out + oh * Wo;
        for (ptrdiff_t start = 0; start < Wo; start += DW_LANES) {
            vec low, high;
            DW(correlate_tile)(&low, src + 2 * start, taps, start_value, 1, Wp, kh, kw, dh, dw);
            DW(correlate_tile)(&high, src + 2 * start + DW_LANES, taps, start_value, 1, Wp, kh, kw,
                               dh, dw);
            vec acc = DW(even_lanes)(low, high);
            ptrdiff_t n = Wo - start;
            if (n >= DW_LANES)
                DW(store)(row + start, accumulate ? DW(load)(row + start) + acc : acc);
            else
                DW(store_first)(row + start, n,
                                accumulate ? DW(load_first)(row + start, n) + acc : acc);
        }
    }
}

static DW_TARGET void DW(correlate_3x3)(float *out, const float *padded, const float *w, float first,
                                        int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    DW(correlate_rows)(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, 1, 1, 4);
}

static DW_TARGET void DW(correlate_any)(float *out, const float *padded, const float *w, float first,
                                        int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                        ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dw)
{
    DW(correlate_rows)(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw, 1);
}

static DW_TARGET void DW(correlate_3x3_stride2)(float *out, const float *padded, const float *w,
                                                float first, int accumulate, ptrdiff_t Ho,
                                                ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t sh)
{
    DW(correlate_rows_stride2)(out, padded, w, first, accumulate, Ho, Wo, Wp, 3, 3, sh, 1, 1);
}

static DW_TARGET void DW(correlate_any_stride2)(float *out, const float *padded, const float *w,
                                                float first, int accumulate, ptrdiff_t Ho,
                                                ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                                                ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t dh,
                                                ptrdiff_t dw)
{
    DW(correlate_rows_stride2)(out, padded, w, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh, dw);
}

/* out (Ho, Wo) = first + sum over taps (see depthwise_correlate_f32 in depthwise.h) */
static void DW(correlate)(float *out, const float *padded, const float *taps, float first,
                          int accumulate, ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                          ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw)
{
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (sw == 2 && three_by_three)
        DW(correlate_3x3_stride2)(out, padded, taps, first, accumulate, Ho, Wo, Wp, sh);
    else if (sw == 2)
        DW(correlate_any_stride2)(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, sh, dh, dw);
    else if (three_by_three)
        DW(correlate_3x3)(out, padded, taps, first, accumulate, Ho, Wo, Wp);
    else
        DW(correlate_any)(out, padded, taps, first, accumulate, Ho, Wo, Wp, kh, kw, dh, dw);
}

/* acc[k] += g * (the input values under tap k). In a short block (n <
   DW_LANES) the lanes from n on read past the row end: they are zeroed in
   both g (load_first) and v, so whatever they held (even inf or nan) adds
   nothing. */
DW_INLINE void DW(add_tap_products)(vec *acc, vec g, const float *src, ptrdiff_t n, ptrdiff_t Wp,
                                    ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sw, ptrdiff_t dh,
                                    ptrdiff_t dw)
{
#pragma GCC unroll 16
    for (ptrdiff_t b = 0; b < kh; b++)
#pragma GCC unroll 16
        for (ptrdiff_t c = 0; c < kw; c++) {
            const float *p = src + b * dh * Wp + c * dw;
            vec v = sw == 1 ? DW(load)(p) : DW(even_lanes)(DW(load)(p), DW(load)(p + DW_LANES));
            if (n < DW_LANES)          /* a constant in the full blocks: the test folds away */
                v = DW(keep_first)(v, n);
            acc[b * kw + c] += g * v;
        }
}

/* sums[k*DEPTHWISE_SUM_LANES + j] += gy[oh, ow] * padded at tap k, for the
   outputs ow = j (mod DW_LANES), j < DW_LANES (the other lanes of the 16 are
   left as they are). Row by row: each block of gy is loaded once and
   multiplied with the K shifted input blocks, K running sums held in
   registers. With stride sw = 2 along rows an input block is the even columns
   of twice as many (even_lanes). The sizes are constants where
   weight_grad_3x3 inlines this, so the tap loops unroll and the K sums stay
   in registers. */
DW_INLINE int DW(weight_grad_rows)(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                                   ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw,
                                   ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    const ptrdiff_t full = Wo - Wo % DW_LANES;
    vec finite = DW(broadcast)(0.0f);          /* flip: stays 0 while every gy is finite */
    vec acc[kh * kw];
    for (ptrdiff_t k = 0; k < kh * kw; k++)
        acc[k] = DW(broadcast)(0.0f);
    /* The full blocks of all rows in one loop, then the short last blocks:
       over a loop nest (rows, blocks) the compiler kept the K sums in memory
       between rows. */
    ptrdiff_t oh = 0, start = 0;
    for (ptrdiff_t block = 0; block < Ho * (full / DW_LANES); block++) {
        vec g = DW(load)(gy + oh * Wo + start);
        if (flip)
            finite += g * 0.0f;
        DW(add_tap_products)(acc, g, padded + oh * sh * Wp + sw * start, DW_LANES, Wp, kh, kw, sw,
                             dh, dw);
        start += DW_LANES;
        if (start == full) {
            start = 0;
            oh++;
        }
    }
    if (full < Wo)
        for (oh = 0; oh < Ho; oh++) {
            vec g = DW(load_first)(gy + oh * Wo + full, Wo - full);
            if (flip)
                finite += g * 0.0f;
            DW(add_tap_products)(acc, g, padded + oh * sh * Wp + sw * full, Wo - full, Wp, kh, kw,
                                 sw, dh, dw);
        }
    if (flip && DW(any_nan)(finite))
        return 0;                              /* a nan or inf in gy: nothing added */
    for (ptrdiff_t k = 0; k < kh * kw; k++) {
        float *dst = sums + (flip ? kh * kw - 1 - k : k) * DEPTHWISE_SUM_LANES;
        DW(store)(dst, DW(load)(dst) + acc[k]);
    }
    return 1;
}

static DW_TARGET int DW(weight_grad_3x3)(const float *gy, const float *padded, float *sums,
                                         ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    return DW(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 0);
}

static DW_TARGET int DW(weight_grad_3x3_flipped)(const float *gy, const float *padded, float *sums,
                                                 ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp)
{
    return DW(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, 1, 1, 1, 1, 1);
}

static DW_TARGET int DW(weight_grad_3x3_stride2)(const float *gy, const float *padded, float *sums,
                                                 ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp,
                                                 ptrdiff_t sh)
{
    return DW(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, 3, 3, sh, 2, 1, 1, 0);
}

static DW_TARGET int DW(weight_grad_any)(const float *gy, const float *padded, float *sums,
                                         ptrdiff_t Ho, ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh,
                                         ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t dh,
                                         ptrdiff_t dw, int flip)
{
    return DW(weight_grad_rows)(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

/* sums (K, DEPTHWISE_SUM_LANES) += the weight-gradient products (see depthwise_weight_grad_f32) */
static int DW(weight_grad)(const float *gy, const float *padded, float *sums, ptrdiff_t Ho,
                           ptrdiff_t Wo, ptrdiff_t Wp, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh,
                           ptrdiff_t sw, ptrdiff_t dh, ptrdiff_t dw, int flip)
{
    int three_by_three = kh == 3 && kw == 3 && dh == 1 && dw == 1;
    if (three_by_three && sw == 1 && sh == 1)
        return flip ? DW(weight_grad_3x3_flipped)(gy, padded, sums, Ho, Wo, Wp)
                    : DW(weight_grad_3x3)(gy, padded, sums, Ho, Wo, Wp);
    if (three_by_three && sw == 2 && !flip)
        return DW(weight_grad_3x3_stride2)(gy, padded, sums, Ho, Wo, Wp, sh);
    return DW(weight_grad_any)(gy, padded, sums, Ho, Wo, Wp, kh, kw, sh, sw, dh, dw, flip);
}

#undef vec
#undef lanes_mask
#undef DW_INLINE
