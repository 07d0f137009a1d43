/*
 * Whether this CPU runs AVX-512F instructions, asked at run time: the library
 * is built for any x86-64 (no -march), and the AVX-512 kernels (csrc/gemm.h,
 * csrc/depthwise.h, csrc/row_add.h) run only where this says yes.
 */
#ifndef MINIGRAD_CPU_FEATURES_H
#define MINIGRAD_CPU_FEATURES_H

static inline int minigrad_cpu_has_avx512(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(_M_X64))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#endif
