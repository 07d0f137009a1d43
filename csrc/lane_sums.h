/*
 * Vectorised sums for the normalisation kernels (csrc/batchnorm.pyx).
 *
 * A plain `s += x[i]` loop runs one addition at a time: each waits ~4 cycles
 * for the previous one, and a C compiler may not reorder floating-point
 * additions to use SIMD on its own (that would change the rounding).
 * `#pragma omp simd reduction(+:s)` gives it that permission for this one
 * loop: it keeps one partial sum per SIMD lane (4 floats with SSE2, more
 * with wider vectors) and adds the lanes at the end. The order is fixed
 * when the library is compiled, so a result never depends on the number of
 * threads. (Without OpenMP the pragma is ignored and the loop is serial.)
 *
 * float32 data is summed in float32, 4+ values per instruction instead of 2
 * doubles, but only over runs of LANE_SUMS_RUN elements: each run's total
 * then goes into a double. A lane thus adds up at most RUN / 4 values, which
 * keeps the float32 rounding error small; between runs, double precision.
 *
 * The values summed are measured from a centre given as two floats,
 * high + low (x - high - low is nearly exact when the centre is close to x),
 * so a large offset over a small spread (x = 1000 +- 0.01) loses no digits.
 *
 * The same file holds batch norm's two elementwise loops (normalise a row,
 * the gradient of a row), so that all of its loops can be compiled twice:
 * for any x86-64 (SSE2, 4 floats per instruction) and for CPUs with AVX2
 * (8 floats), the better one picked when the library loads (GCC's
 * target_clones; with other compilers or C libraries, only the first). The
 * order of a sum then depends on the CPU, never on the number of threads.
 *
 * For each function there is a float and a double version (suffix _f, _d),
 * written once by the macro below.
 */
#ifndef MINIGRAD_LANE_SUMS_H
#define MINIGRAD_LANE_SUMS_H

#include <stddef.h>
#include <limits.h>   /* defines __GLIBC__ where the C library is glibc */

/* Dispatch by ifunc: GCC and glibc on x86-64 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define LANE_SUMS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LANE_SUMS_CLONES
#endif

#define LANE_SUMS_RUN 256

/*
 * Ask the memory system for the first `bytes` (at most 4 KiB) of the row that
 * will be summed next. A channel's rows are short (L elements) and far
 * apart (C*L), so the hardware prefetcher, which follows one stream within
 * a page, starts over at every row and the loop waits for memory: measured
 * on batch norm's backward sums, 13 GB/s instead of ~50 without this hint.
 * A prefetch never faults, and is a no-op where the compiler lacks it.
 */
static inline void prefetch_row(const void* row, ptrdiff_t bytes) {
#if defined(__GNUC__)
    const char* p = (const char*)row;
    if (bytes > 4096)
        bytes = 4096;
    for (ptrdiff_t offset = 0; offset < bytes; offset += 64)
        __builtin_prefetch(p + offset, 0, 2);
#else
    (void)row;
    (void)bytes;
#endif
}

/* The same for a row that will be written: a store to memory that is not in
 * cache first reads the line, and waits for it just like a load. */
static inline void prefetch_row_for_writing(void* row, ptrdiff_t bytes) {
#if defined(__GNUC__)
    char* p = (char*)row;
    if (bytes > 4096)
        bytes = 4096;
    for (ptrdiff_t offset = 0; offset < bytes; offset += 64)
        __builtin_prefetch(p + offset, 1, 2);
#else
    (void)row;
    (void)bytes;
#endif
}

#define LANE_SUMS_DEFINE(T, SUFFIX)                                                        \
/* sum(x[:n] - centre) */                                                                   \
LANE_SUMS_CLONES static double centred_sum##SUFFIX(const T* x, ptrdiff_t n, T high, T low) {          \
    double total = 0;                                                                       \
    for (ptrdiff_t start = 0; start < n; start += LANE_SUMS_RUN) {                          \
        ptrdiff_t end = start + LANE_SUMS_RUN < n ? start + LANE_SUMS_RUN : n;              \
        T s = 0;                                                                            \
        _Pragma("omp simd reduction(+:s)")                                                  \
        for (ptrdiff_t i = start; i < end; i++)                                             \
            s += (x[i] - high) - low;                                                       \
        total += s;                                                                         \
    }                                                                                       \
    return total;                                                                           \
}                                                                                           \
                                                                                            \
/* sum((x[:n] - centre)**2) */                                                              \
LANE_SUMS_CLONES static double squared_deviations##SUFFIX(const T* x, ptrdiff_t n, T high, T low) {   \
    double total = 0;                                                                       \
    for (ptrdiff_t start = 0; start < n; start += LANE_SUMS_RUN) {                          \
        ptrdiff_t end = start + LANE_SUMS_RUN < n ? start + LANE_SUMS_RUN : n;              \
        T s = 0;                                                                            \
        _Pragma("omp simd reduction(+:s)")                                                  \
        for (ptrdiff_t i = start; i < end; i++) {                                           \
            T d = (x[i] - high) - low;                                                      \
            s += d * d;                                                                     \
        }                                                                                   \
        total += s;                                                                         \
    }                                                                                       \
    return total;                                                                           \
}                                                                                           \
                                                                                            \
/* sum_g += sum(g[:n]); sum_g_centred += sum(g[:n] * (x[:n] - centre)) */                   \
LANE_SUMS_CLONES static void gradient_sums##SUFFIX(const T* g, const T* x, ptrdiff_t n, T high, T low, \
                                         double* sum_g, double* sum_g_centred) {            \
    for (ptrdiff_t start = 0; start < n; start += LANE_SUMS_RUN) {                          \
        ptrdiff_t end = start + LANE_SUMS_RUN < n ? start + LANE_SUMS_RUN : n;              \
        T a = 0, b = 0;                                                                     \
        _Pragma("omp simd reduction(+:a, b)")                                               \
        for (ptrdiff_t i = start; i < end; i++) {                                           \
            a += g[i];                                                                      \
            b += g[i] * ((x[i] - high) - low);                                              \
        }                                                                                   \
        *sum_g += a;                                                                        \
        *sum_g_centred += b;                                                                \
    }                                                                                       \
}                                                                                           \
                                                                                            \
/* y[:n] = (x[:n] - centre) * scale + shift */                                              \
LANE_SUMS_CLONES static void normalize_row##SUFFIX(const T* x, T* y, ptrdiff_t n, T high,   \
                                                   T low, T scale, T shift) {               \
    for (ptrdiff_t i = 0; i < n; i++)                                                       \
        y[i] = ((x[i] - high) - low) * scale + shift;                                       \
}                                                                                           \
                                                                                            \
/* out[:n] = (g[:n] - mean_g) * gain - (x[:n] - centre) * gain_slope (batch norm's dx) */   \
LANE_SUMS_CLONES static void gradient_row##SUFFIX(const T* g, const T* x, T* out,           \
                                                  ptrdiff_t n, T mean_g, T gain, T high,    \
                                                  T low, T gain_slope) {                    \
    for (ptrdiff_t i = 0; i < n; i++)                                                       \
        out[i] = (g[i] - mean_g) * gain - ((x[i] - high) - low) * gain_slope;               \
}

LANE_SUMS_DEFINE(float, _f)
LANE_SUMS_DEFINE(double, _d)

#undef LANE_SUMS_DEFINE

#endif
