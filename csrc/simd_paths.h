/*
 * Compiles the header named by SIMD_BODY once per instruction-set path, on
 * the vectors of csrc/simd_lanes.h (the GEMM, which also needs its tile shape
 * per path, has its own csrc/gemm_paths.h):
 *
 *   x86-64:  SIMD(name) = name_avx512 (16 floats, target "avx512f"),
 *            name_avx2 (8 floats, target "avx2,fma"), name_generic (4 floats, SSE2)
 *   others:  name_generic only (4 floats: NEON on aarch64)
 *
 * Usage (GCC or Clang):  #define SIMD_BODY "depthwise_lanes.h"
 *                        #include "simd_paths.h"
 * then call the variant minigrad_isa() names (csrc/cpu_features.h). Each
 * variant carries its function target attribute, so the module itself still
 * runs on any CPU of the architecture.
 */
#include <stddef.h>
#include "cpu_features.h"

#if MINIGRAD_X86_64
#include <immintrin.h>

#define SIMD_LANES 16
#define SIMD_TARGET __attribute__((target("avx512f")))
#define SIMD(name) name##_avx512
#define SIMD_EVEN_INDICES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define SIMD_EVEN_ODD_INDICES 0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31
#define SIMD_ZIP_LOW_INDICES 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define SIMD_ZIP_HIGH_INDICES 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#include "simd_lanes.h"
#include SIMD_BODY
#include "simd_paths_end.h"

#define SIMD_LANES 8
#define SIMD_TARGET __attribute__((target("avx2,fma")))
#define SIMD(name) name##_avx2
#define SIMD_EVEN_INDICES 0, 2, 4, 6, 8, 10, 12, 14
#define SIMD_EVEN_ODD_INDICES 0, 2, 4, 6, 9, 11, 13, 15
#define SIMD_ZIP_LOW_INDICES 0, 8, 1, 9, 2, 10, 3, 11
#define SIMD_ZIP_HIGH_INDICES 4, 12, 5, 13, 6, 14, 7, 15
#include "simd_lanes.h"
#include SIMD_BODY
#include "simd_paths_end.h"
#endif

#define SIMD_LANES 4
#define SIMD_TARGET
#define SIMD(name) name##_generic
#define SIMD_EVEN_INDICES 0, 2, 4, 6
#define SIMD_EVEN_ODD_INDICES 0, 2, 5, 7
#define SIMD_ZIP_LOW_INDICES 0, 4, 1, 5
#define SIMD_ZIP_HIGH_INDICES 2, 6, 3, 7
#include "simd_lanes.h"
#include SIMD_BODY
#include "simd_paths_end.h"

#undef SIMD_BODY
