/*
 * Instantiates a GEMM kernel file once per instruction-set path (csrc/cpu_features.h),
 * with the path's register-tile shape. (csrc/simd_paths.h does the same for the
 * lane kernels of depthwise and pooling, on the vector helpers of csrc/simd_lanes.h;
 * the GEMM files declare their own vectors, sized for their tiles.)
 *
 *     #define SIMD_PATH_FILE "gemm_path.h"
 *     #include "gemm_paths.h"
 *
 * includes gemm_path.h three times, each time with these macros describing
 * the path, so the kernel is written once over the vector width:
 *
 *   SIMD_FN(name)   name_avx512, name_avx2 or name_generic: the path's copy of `name`
 *   SIMD_TARGET     the function attribute that lets the compiler use the path's instructions
 *   SIMD_LANES      floats per vector register: 16, 8, 4
 *   SIMD_FMA(a,b,c) a*b + c on vectors (one fused multiply-add where the path has one)
 *   GEMM_MR         rows of the GEMM's register tile (csrc/gemm.h)
 *   GEMM_NV         vector registers per row of the tile: the tile is GEMM_MR x GEMM_NV*SIMD_LANES
 *   GEMM_MC         rows of an A block (a multiple of GEMM_MR, at most GEMM_MC_MAX)
 *
 * The tiles are the BLIS shapes: AVX-512 8x32 (16 of 32 zmm registers),
 * AVX2 6x16 (12 of 16 ymm registers, the Haswell kernel's), generic 6x8
 * (12 of 16 xmm registers on x86-64; NEON has 32). The generic path uses no
 * intrinsics, so it compiles for any target GCC or Clang supports.
 */
#define SIMD_CONCAT_(name, path) name##_##path
#define SIMD_CONCAT(name, path) SIMD_CONCAT_(name, path)
#define SIMD_FN(name) SIMD_CONCAT(name, SIMD_PATH)

#if MINIGRAD_X86_64
#define SIMD_PATH avx512
#define SIMD_TARGET __attribute__((target("avx512f")))
#define SIMD_LANES 16
#define SIMD_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GEMM_MR 8
#define GEMM_NV 2
#define GEMM_MC 128
#include SIMD_PATH_FILE
#include "gemm_paths_end.h"

#define SIMD_PATH avx2
#define SIMD_TARGET __attribute__((target("avx2,fma")))
#define SIMD_LANES 8
#define SIMD_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_MC 144
#include SIMD_PATH_FILE
#include "gemm_paths_end.h"
#endif

#define SIMD_PATH generic
#define SIMD_TARGET
#define SIMD_LANES 4
#define SIMD_FMA(a, b, c) ((a) * (b) + (c))
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_MC 144
#include SIMD_PATH_FILE
#include "gemm_paths_end.h"

#undef SIMD_PATH_FILE
