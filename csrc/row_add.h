/*
 * col2im's inner loops, dst[i] += src[i] and dst[2*i] += src[i], for each
 * instruction-set path (csrc/cpu_features.h): the path minigrad_isa() names
 * at the call. conv.pyx itself is built for any x86-64, where the plain loop
 * adds 4 floats per instruction; on a 14x14 input gradient, col2im was a
 * quarter of the time.
 * Each element is one addition, so every path gives the same result.
 */
#ifndef MINIGRAD_ROW_ADD_H
#define MINIGRAD_ROW_ADD_H

#include <stddef.h>
#include "cpu_features.h"

/* dst[i] += src[i], one copy of the loop per path (the compiler vectorises each
   for its target). */
#define ROW_ADD_LOOP(type)                          \
    for (ptrdiff_t i = 0; i < n; i++)               \
        dst[i] += src[i];

#if MINIGRAD_X86_64
#include <immintrin.h>

__attribute__((target("avx512f")))
static void row_add_f_avx512(float *restrict dst, const float *restrict src, ptrdiff_t n)
{
    ROW_ADD_LOOP(float)
}

__attribute__((target("avx2,fma")))
static void row_add_f_avx2(float *restrict dst, const float *restrict src, ptrdiff_t n)
{
    ROW_ADD_LOOP(float)
}

__attribute__((target("avx512f")))
static void row_add_d_avx512(double *restrict dst, const double *restrict src, ptrdiff_t n)
{
    ROW_ADD_LOOP(double)
}

__attribute__((target("avx2,fma")))
static void row_add_d_avx2(double *restrict dst, const double *restrict src, ptrdiff_t n)
{
    ROW_ADD_LOOP(double)
}
#endif

static void row_add_f(float *restrict dst, const float *restrict src, ptrdiff_t n)
{
#if MINIGRAD_X86_64
    switch (minigrad_isa()) {
    case MINIGRAD_ISA_AVX512:
        row_add_f_avx512(dst, src, n);
        return;
    case MINIGRAD_ISA_AVX2:
        row_add_f_avx2(dst, src, n);
        return;
    }
#endif
    ROW_ADD_LOOP(float)
}

static void row_add_d(double *restrict dst, const double *restrict src, ptrdiff_t n)
{
#if MINIGRAD_X86_64
    switch (minigrad_isa()) {
    case MINIGRAD_ISA_AVX512:
        row_add_d_avx512(dst, src, n);
        return;
    case MINIGRAD_ISA_AVX2:
        row_add_d_avx2(dst, src, n);
        return;
    }
#endif
    ROW_ADD_LOOP(double)
}

/* dst[2*i] += src[i] (col2im of a stride-2 convolution, the transposed
   convolution's upsampling). The vector paths spread a vector of values to
   the even lanes of two vector-sized pieces of dst, dst[0..L-1] and
   dst[L-1..2L-2] (overlapping, so that nothing past dst[2*(n-1)] is
   touched), and add; the odd lanes add zero. Each returns how many it did. */
#if MINIGRAD_X86_64
__attribute__((target("avx512f")))
static ptrdiff_t row_add_stride2_avx512(float *dst, const float *src, ptrdiff_t n)
{
    const __m512i low = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i high = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    ptrdiff_t done = 0;
    for (; n - done >= 16; done += 16, src += 16, dst += 32) {
        __m512 values = _mm512_loadu_ps(src);
        /* lanes 0, 2, .., 14 of the first piece; lanes 1, 3, .., 15 of the second */
        __m512 first = _mm512_add_ps(_mm512_loadu_ps(dst),
                                     _mm512_maskz_permutexvar_ps(0x5555, low, values));
        __m512 second = _mm512_add_ps(_mm512_loadu_ps(dst + 15),
                                      _mm512_maskz_permutexvar_ps(0xAAAA, high, values));
        _mm512_storeu_ps(dst, first);
        _mm512_storeu_ps(dst + 15, second);
    }
    return done;
}

__attribute__((target("avx2,fma")))
static ptrdiff_t row_add_stride2_avx2(float *dst, const float *src, ptrdiff_t n)
{
    const __m256i low = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256i high = _mm256_setr_epi32(4, 4, 4, 5, 5, 6, 6, 7);     /* lanes 1, 3, 5, 7: 4..7 */
    const __m256 zero = _mm256_setzero_ps();
    ptrdiff_t done = 0;
    for (; n - done >= 8; done += 8, src += 8, dst += 16) {
        __m256 values = _mm256_loadu_ps(src);
        /* lanes 0, 2, 4, 6 of the first piece; lanes 1, 3, 5, 7 of the second */
        __m256 even = _mm256_blend_ps(_mm256_permutevar8x32_ps(values, low), zero, 0xAA);
        __m256 odd = _mm256_blend_ps(_mm256_permutevar8x32_ps(values, high), zero, 0x55);
        __m256 first = _mm256_add_ps(_mm256_loadu_ps(dst), even);
        __m256 second = _mm256_add_ps(_mm256_loadu_ps(dst + 7), odd);
        _mm256_storeu_ps(dst, first);
        _mm256_storeu_ps(dst + 7, second);
    }
    return done;
}
#endif

static void row_add_stride2_f(float *dst, const float *src, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if MINIGRAD_X86_64
    if (minigrad_isa() == MINIGRAD_ISA_AVX512)
        i = row_add_stride2_avx512(dst, src, n);
    else if (minigrad_isa() == MINIGRAD_ISA_AVX2)
        i = row_add_stride2_avx2(dst, src, n);
#endif
    for (; i < n; i++)
        dst[2 * i] += src[i];
}

#undef ROW_ADD_LOOP
#endif
