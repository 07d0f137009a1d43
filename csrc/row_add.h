/*
 * col2im's inner loop, dst[i] += src[i], compiled for AVX-512, AVX2 and any
 * x86-64 (SSE2), the best picked when the library loads (GCC's
 * target_clones with glibc; elsewhere the plain loop). conv.pyx itself is
 * built for any x86-64, where this loop adds 4 floats per instruction; on a
 * 14x14 input gradient, col2im was a quarter of the time.
 * Each element is one addition, so every version gives the same result.
 */
#ifndef MINIGRAD_ROW_ADD_H
#define MINIGRAD_ROW_ADD_H

#include <stddef.h>
#include <limits.h>   /* defines __GLIBC__ where the C library is glibc */
#include "cpu_features.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define ROW_ADD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ROW_ADD_CLONES
#endif

ROW_ADD_CLONES
static void row_add_f(float *restrict dst, const float *restrict src, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] += src[i];
}

ROW_ADD_CLONES
static void row_add_d(double *restrict dst, const double *restrict src, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] += src[i];
}

/* dst[2*i] += src[i] (col2im of a stride-2 convolution, the transposed
   convolution's upsampling). With AVX-512, 16 values at a time: they are
   spread to the even lanes of two 16-float pieces of dst, dst[0..15] and
   dst[15..30] (overlapping, so that nothing past dst[2*(n-1)] is touched),
   and added; the odd lanes add zero. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

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
#endif

static void row_add_stride2_f(float *dst, const float *src, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__GNUC__) && defined(__x86_64__)
    if (n >= 16 && minigrad_cpu_has_avx512())
        i = row_add_stride2_avx512(dst, src, n);
#endif
    for (; i < n; i++)
        dst[2 * i] += src[i];
}

#endif
