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

#endif
