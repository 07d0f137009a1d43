/*
 * Vectors of SIMD_LANES floats and the few operations on them that the
 * kernels' explicit-vector loops need (GCC/Clang vector extensions: `+`, `*`,
 * `<` work lane by lane, so the rest reads like scalar code). Included by
 * csrc/simd_paths.h once per instruction-set path, with
 *
 *   SIMD_LANES   floats per vector (16 AVX-512, 8 AVX2, 4 SSE2/NEON)
 *   SIMD_TARGET  the function attribute that compiles for that path (or nothing)
 *   SIMD(name)   name with the path's suffix (load_avx2, ...)
 *
 * A few operations use AVX-512 intrinsics where the vector extensions have
 * no single-instruction form (masked loads and stores).
 */

#define SIMD_INLINE static inline __attribute__((always_inline)) SIMD_TARGET

typedef float SIMD(vec) __attribute__((vector_size(SIMD_LANES * sizeof(float))));
typedef int SIMD(lanes_mask) __attribute__((vector_size(SIMD_LANES * sizeof(int))));
#define vec SIMD(vec)
#define lanes_mask SIMD(lanes_mask)

SIMD_INLINE vec SIMD(load)(const float *p)
{
#if SIMD_LANES == 16
    return _mm512_loadu_ps(p);
#else
    vec v;
    __builtin_memcpy(&v, p, sizeof v);     /* one unaligned vector load */
    return v;
#endif
}

SIMD_INLINE void SIMD(store)(float *p, vec v)
{
#if SIMD_LANES == 16
    _mm512_storeu_ps(p, v);
#else
    __builtin_memcpy(p, &v, sizeof v);
#endif
}

SIMD_INLINE vec SIMD(broadcast)(float x)
{
    vec v;
    for (int i = 0; i < SIMD_LANES; i++)
        v[i] = x;
    return v;
}

/* A short block: lanes [0, n) of SIMD_LANES, 0 < n < SIMD_LANES. These loads and
   stores touch only those lanes (no read past the end of an array). */
SIMD_INLINE vec SIMD(load_first)(const float *p, ptrdiff_t n)     /* zeros in the other lanes */
{
#if SIMD_LANES == 16
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
    vec v = SIMD(broadcast)(0.0f);
    for (ptrdiff_t i = 0; i < n; i++)
        v[i] = p[i];
    return v;
#endif
}

SIMD_INLINE void SIMD(store_first)(float *p, ptrdiff_t n, vec v)
{
#if SIMD_LANES == 16
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
#else
    for (ptrdiff_t i = 0; i < n; i++)
        p[i] = v[i];
#endif
}

/* v with the lanes from n on set to zero (n = SIMD_LANES: v itself) */
SIMD_INLINE vec SIMD(keep_first)(vec v, ptrdiff_t n)
{
    lanes_mask keep;
    for (int i = 0; i < SIMD_LANES; i++)
        keep[i] = i < n ? -1 : 0;
    return (vec)((lanes_mask)v & keep);
}

/* The even lanes of a, then those of b: a0 a2 .. b0 b2 .. (one or two shuffles). */
SIMD_INLINE vec SIMD(even_lanes)(vec a, vec b)
{
#if SIMD_LANES == 16
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
#elif defined(__clang__)
    return __builtin_shufflevector(a, b, SIMD_EVEN_INDICES);
#else
    return __builtin_shuffle(a, b, (lanes_mask){SIMD_EVEN_INDICES});
#endif
}

/* p[0], p[2], .., p[2*(SIMD_LANES-1)]: every other float, reading nothing past
   the last one (the even lanes of p[0 ..], then the odd lanes of p[SIMD_LANES-1 ..]) */
SIMD_INLINE vec SIMD(load_even)(const float *p)
{
    vec a = SIMD(load)(p), b = SIMD(load)(p + SIMD_LANES - 1);
#if SIMD_LANES == 16
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(a, pick, b);
#elif defined(__clang__)
    return __builtin_shufflevector(a, b, SIMD_EVEN_ODD_INDICES);
#else
    return __builtin_shuffle(a, b, (lanes_mask){SIMD_EVEN_ODD_INDICES});
#endif
}

/* whether any lane of m is nonzero */
SIMD_INLINE int SIMD(any_lane)(lanes_mask m)
{
    int any = 0;
    for (int i = 0; i < SIMD_LANES; i++)
        any |= m[i];
    return any != 0;
}

/* whether any lane of v is nan (inf * 0 and nan * 0 are nan) */
SIMD_INLINE int SIMD(any_nan)(vec v)
{
    return SIMD(any_lane)(v != v);
}
