/* Ends one path of csrc/simd_paths.h: the next one redefines these. */
#undef SIMD_LANES
#undef SIMD_TARGET
#undef SIMD
#undef SIMD_EVEN_INDICES
#undef SIMD_EVEN_ODD_INDICES
#undef SIMD_ZIP_LOW_INDICES
#undef SIMD_ZIP_HIGH_INDICES
#undef SIMD_INLINE
#undef vec
#undef lanes_mask
