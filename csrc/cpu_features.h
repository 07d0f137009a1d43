/*
 * Which instruction-set path the kernels take: asked of the CPU at run time,
 * and lowered on request. The library is built for any x86-64 (no -march);
 * each fast kernel is compiled once per path (function target attributes) and
 * picks its variant with minigrad_isa() at every call.
 *
 *   MINIGRAD_ISA_GENERIC  portable C / GCC vector extensions at the baseline
 *                         of the build target (SSE2 on x86-64, NEON on aarch64)
 *   MINIGRAD_ISA_AVX2     AVX2 + FMA (256-bit, most laptops since 2013)
 *   MINIGRAD_ISA_AVX512   AVX-512F (512-bit)
 *
 * The choice lives in one variable per extension module (each csrc/<name>.pyx is
 * its own translation unit): minigrad/kernels/cpu.py sets it in every module
 * (MINIGRAD_CPU=avx512|avx2|generic, or minigrad.kernels.cpu.set_cpu_path).
 * Change it between kernel calls, not during one.
 */
#ifndef MINIGRAD_CPU_FEATURES_H
#define MINIGRAD_CPU_FEATURES_H

#define MINIGRAD_ISA_GENERIC 0
#define MINIGRAD_ISA_AVX2 1
#define MINIGRAD_ISA_AVX512 2

#if defined(__GNUC__) && (defined(__x86_64__) || defined(_M_X64))
#define MINIGRAD_X86_64 1
#else
#define MINIGRAD_X86_64 0
#endif

/* The best path this CPU runs. */
static inline int minigrad_cpu_best_isa(void)
{
#if MINIGRAD_X86_64
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return MINIGRAD_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return MINIGRAD_ISA_AVX2;
#endif
    return MINIGRAD_ISA_GENERIC;
}

static int minigrad_isa_chosen = -1; /* -1: not asked yet */

/* The path the kernels of this module take now. */
static inline int minigrad_isa(void)
{
    if (minigrad_isa_chosen < 0)
        minigrad_isa_chosen = minigrad_cpu_best_isa();
    return minigrad_isa_chosen;
}

/* Take path `isa` from now on; 0 on success, -1 if this CPU cannot run it. */
static inline int minigrad_set_isa(int isa)
{
    if (isa < MINIGRAD_ISA_GENERIC || isa > minigrad_cpu_best_isa())
        return -1;
    minigrad_isa_chosen = isa;
    return 0;
}

/* Kept for the kernels that test for AVX-512 alone; it follows the chosen path. */
static inline int minigrad_cpu_has_avx512(void)
{
    return minigrad_isa() >= MINIGRAD_ISA_AVX512;
}

#endif
