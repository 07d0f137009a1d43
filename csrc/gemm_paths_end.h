/* Forgets one path's description after csrc/gemm_paths.h included its file. */
#undef SIMD_PATH
#undef SIMD_TARGET
#undef SIMD_LANES
#undef SIMD_FMA
#undef GEMM_MR
#undef GEMM_NV
#undef GEMM_MC
