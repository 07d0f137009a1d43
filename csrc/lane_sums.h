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
 * The same file holds batch norm's elementwise loops (normalise a row, the
 * gradient of a row, and the twins for a following ReLU: the forward clamps
 * at 0 in the same pass, the backward's sums mask the incoming gradient by
 * the saved ReLU output y > 0 as they read it), so that all of
 * its loops are compiled once per instruction-set path: for any CPU of the
 * architecture (SSE2 on x86-64, NEON on aarch64: 4 floats per instruction),
 * AVX2+FMA (8) and AVX-512 (16), each with its function target attribute.
 * The functions without a path suffix call the variant of the path chosen
 * now (minigrad_isa(), csrc/cpu_features.h). The order of a sum then
 * depends on the path, never on the number of threads.
 *
 * For each function there is a float and a double version (suffix _f, _d),
 * written once by the macro below.
 *
 * Reference: minigrad/reference/normalization.py (batch_norm_forward,
 * batch_norm_backward_from_statistics).
 */
#ifndef MINIGRAD_LANE_SUMS_H
#define MINIGRAD_LANE_SUMS_H

#include <stddef.h>
#include "cpu_features.h"

#if MINIGRAD_X86_64
#define LANE_SUMS_AVX512 __attribute__((target("avx512f")))
#define LANE_SUMS_AVX2 __attribute__((target("avx2,fma")))
#endif

#define LANE_SUMS_RUN 256

/*
 * Ask the memory system for the first `bytes` (at most 1 KiB) of the row that
 * will be summed next. A channel's rows are short (L elements) and far
 * apart (C*L), so the hardware prefetcher, which follows one stream within
 * a page, starts over at every row and the loop waits for memory; the hint
 * keeps batch norm's sums streaming. Only the row's start: the hardware
 * prefetcher follows from there, and hinting a whole row (up to 4 KiB, 64
 * prefetches) filled the core's miss buffers, so that the prefetches
 * themselves stalled. On a 2-core Xeon, measured in one process against the
 * 4 KiB build, the 1 KiB cap makes batch norm + ReLU 5-13% faster forward
 * and 8-13% backward on rows of 784 floats and more (rows of 196: the same).
 * A prefetch never faults, and is a no-op where the compiler lacks it.
 */
static inline void prefetch_row(const void* row, ptrdiff_t bytes) {
#if defined(__GNUC__)
    const char* p = (const char*)row;
    if (bytes > 1024)
        bytes = 1024;
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
    if (bytes > 1024)
        bytes = 1024;
    for (ptrdiff_t offset = 0; offset < bytes; offset += 64)
        __builtin_prefetch(p + offset, 1, 2);
#else
    (void)row;
    (void)bytes;
#endif
}

/* batch norm's output before the ReLU, one expression for the forward and the
 * backward that recomputes its mask: the same operations, contracted alike */
#define LANE_SUMS_NORMALIZED(X, HIGH, LOW, SCALE, SHIFT) ((((X) - (HIGH)) - (LOW)) * (SCALE) + (SHIFT))

/* The masked gradient's runs: m = g where KEEP (an expression of element start + i),
 * else 0, into masked[] (or a buffer), each run summed by gradient_sums while in L1 */
#define LANE_SUMS_MASKED_RUNS(T, SUFFIX, PATH, KEEP)                                        \
    T buffer[LANE_SUMS_RUN];                                                                \
    for (ptrdiff_t start = 0; start < n; start += LANE_SUMS_RUN) {                          \
        ptrdiff_t width = start + LANE_SUMS_RUN < n ? LANE_SUMS_RUN : n - start;            \
        T* run = masked ? masked + start : buffer;                                          \
        for (ptrdiff_t i = 0; i < width; i++) {                                             \
            T gradient = g[start + i];                                                      \
            run[i] = (KEEP) ? gradient : 0;                                                 \
        }                                                                                   \
        gradient_sums##SUFFIX##PATH(run, x + start, width, high, low, sum_g, sum_g_centred); \
    }

#define LANE_SUMS_DEFINE(T, SUFFIX, PATH, TARGET)                                                        \
/* sum(x[:n] - centre) */                                                                   \
TARGET static double centred_sum##SUFFIX##PATH(const T* x, ptrdiff_t n, T high, T low) {          \
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
TARGET static double squared_deviations##SUFFIX##PATH(const T* x, ptrdiff_t n, T high, T low) {   \
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
TARGET static void gradient_sums##SUFFIX##PATH(const T* g, const T* x, ptrdiff_t n, T high, T low, \
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
TARGET static void normalize_row##SUFFIX##PATH(const T* x, T* y, ptrdiff_t n, T high,   \
                                                   T low, T scale, T shift) {               \
    for (ptrdiff_t i = 0; i < n; i++)                                                       \
        y[i] = ((x[i] - high) - low) * scale + shift;                                       \
}                                                                                           \
                                                                                            \
/* out[:n] = (g[:n] - mean_g) * gain - (x[:n] - centre) * gain_slope (batch norm's dx) */   \
TARGET static void gradient_row##SUFFIX##PATH(const T* g, const T* x, T* out,           \
                                                  ptrdiff_t n, T mean_g, T gain, T high,    \
                                                  T low, T gain_slope) {                    \
    for (ptrdiff_t i = 0; i < n; i++)                                                       \
        out[i] = (g[i] - mean_g) * gain - ((x[i] - high) - low) * gain_slope;               \
}                                                                                           \
                                                                                            \
/* batch norm + ReLU: y[:n] = max((x[:n] - centre) * scale + shift, 0), NaN kept as in relu */ \
TARGET static void normalize_relu_row##SUFFIX##PATH(const T* x, T* y, ptrdiff_t n, T high, \
                                                    T low, T scale, T shift) {              \
    for (ptrdiff_t i = 0; i < n; i++) {                                                     \
        T v = LANE_SUMS_NORMALIZED(x[i], high, low, scale, shift);                          \
        y[i] = v < 0 ? 0 : v;                                                               \
    }                                                                                       \
}                                                                                           \
                                                                                            \
/* gradient_sums of the gradient through the ReLU, m = g where its output y > 0 (else 0),   \
 * m also written to masked[:n] (NULL: to a buffer only). Each run of m is summed by        \
 * gradient_sums itself while it is in L1, so the sums are those of the ReLU's backward     \
 * followed by batch norm's, bit for bit, on any path (a loop of its own vectorised         \
 * differently on SSE2 and changed the order of the sums). g is loaded whether or not       \
 * y > 0: a load under the condition compiles to a branch, mispredicted half the time on    \
 * real activations. */                                                                     \
TARGET static void masked_gradient_sums##SUFFIX##PATH(const T* g, const T* y, const T* x,  \
                                                      T* masked, ptrdiff_t n, T high, T low, \
                                                      double* sum_g, double* sum_g_centred) { \
    LANE_SUMS_MASKED_RUNS(T, SUFFIX, PATH, y[start + i] > 0)                                \
}                                                                                           \
                                                                                            \
/* the same, its ReLU's mask recomputed from x instead of read from y: m = g where          \
 * (x - centre) * scale + shift > 0 (the very expression normalize_relu_row computed, by    \
 * the same compiled code: y > 0 exactly there), else 0 */                                 \
TARGET static void affine_masked_gradient_sums##SUFFIX##PATH(const T* g, const T* x,       \
                                                             T* masked, ptrdiff_t n, T high, \
                                                             T low, T scale, T shift,       \
                                                             double* sum_g,                 \
                                                             double* sum_g_centred) {       \
    LANE_SUMS_MASKED_RUNS(T, SUFFIX, PATH,                                                  \
                          LANE_SUMS_NORMALIZED(x[start + i], high, low, scale, shift) > 0)  \
}

#define LANE_SUMS_DEFINE_PATHS(T, SUFFIX)                                                  \
    LANE_SUMS_DEFINE(T, SUFFIX, _generic, )                                                 \
    LANE_SUMS_DEFINE_X86(T, SUFFIX)

#if MINIGRAD_X86_64
#define LANE_SUMS_DEFINE_X86(T, SUFFIX)                                                    \
    LANE_SUMS_DEFINE(T, SUFFIX, _avx2, LANE_SUMS_AVX2)                                      \
    LANE_SUMS_DEFINE(T, SUFFIX, _avx512, LANE_SUMS_AVX512)
/* the variant of the chosen path: NAME##_generic, _avx2 or _avx512 (ARGS in parentheses) */
#define LANE_SUMS_CALL(NAME, ARGS)                                                         \
    (minigrad_isa() == MINIGRAD_ISA_AVX512 ? NAME##_avx512 ARGS                            \
     : minigrad_isa() == MINIGRAD_ISA_AVX2 ? NAME##_avx2 ARGS : NAME##_generic ARGS)
#else
#define LANE_SUMS_DEFINE_X86(T, SUFFIX)
#define LANE_SUMS_CALL(NAME, ARGS) NAME##_generic ARGS
#endif

LANE_SUMS_DEFINE_PATHS(float, _f)
LANE_SUMS_DEFINE_PATHS(double, _d)

/* What batchnorm.pyx calls: the chosen path's variant. */
#define LANE_SUMS_DISPATCH(T, SUFFIX)                                                      \
static inline double centred_sum##SUFFIX(const T* x, ptrdiff_t n, T high, T low) {         \
    return LANE_SUMS_CALL(centred_sum##SUFFIX, (x, n, high, low));                          \
}                                                                                           \
static inline double squared_deviations##SUFFIX(const T* x, ptrdiff_t n, T high, T low) {  \
    return LANE_SUMS_CALL(squared_deviations##SUFFIX, (x, n, high, low));                   \
}                                                                                           \
static inline void gradient_sums##SUFFIX(const T* g, const T* x, ptrdiff_t n, T high, T low, \
                                         double* sum_g, double* sum_g_centred) {            \
    LANE_SUMS_CALL(gradient_sums##SUFFIX, (g, x, n, high, low, sum_g, sum_g_centred));      \
}                                                                                           \
static inline void normalize_row##SUFFIX(const T* x, T* y, ptrdiff_t n, T high, T low,     \
                                         T scale, T shift) {                                \
    LANE_SUMS_CALL(normalize_row##SUFFIX, (x, y, n, high, low, scale, shift));              \
}                                                                                           \
static inline void gradient_row##SUFFIX(const T* g, const T* x, T* out, ptrdiff_t n,       \
                                        T mean_g, T gain, T high, T low, T gain_slope) {    \
    LANE_SUMS_CALL(gradient_row##SUFFIX, (g, x, out, n, mean_g, gain, high, low, gain_slope)); \
}                                                                                           \
static inline void normalize_relu_row##SUFFIX(const T* x, T* y, ptrdiff_t n, T high, T low, \
                                              T scale, T shift) {                           \
    LANE_SUMS_CALL(normalize_relu_row##SUFFIX, (x, y, n, high, low, scale, shift));         \
}                                                                                           \
static inline void masked_gradient_sums##SUFFIX(const T* g, const T* y, const T* x,        \
                                                T* masked, ptrdiff_t n, T high, T low,      \
                                                double* sum_g, double* sum_g_centred) {     \
    LANE_SUMS_CALL(masked_gradient_sums##SUFFIX, (g, y, x, masked, n, high, low, sum_g,     \
                                                  sum_g_centred));                          \
}                                                                                           \
static inline void affine_masked_gradient_sums##SUFFIX(const T* g, const T* x, T* masked,  \
                                                       ptrdiff_t n, T high, T low, T scale, \
                                                       T shift, double* sum_g,              \
                                                       double* sum_g_centred) {             \
    LANE_SUMS_CALL(affine_masked_gradient_sums##SUFFIX, (g, x, masked, n, high, low, scale, \
                                                         shift, sum_g, sum_g_centred));     \
}

LANE_SUMS_DISPATCH(float, _f)
LANE_SUMS_DISPATCH(double, _d)

#undef LANE_SUMS_DEFINE
#undef LANE_SUMS_DEFINE_PATHS
#undef LANE_SUMS_DEFINE_X86
#undef LANE_SUMS_DISPATCH
#undef LANE_SUMS_NORMALIZED
#undef LANE_SUMS_MASKED_RUNS

#endif
