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
#define vec SIMD(vec)
#define lanes_mask SIMD(lanes_mask)

/* One translation unit may compile several bodies (csrc/conv.pyx: the
   broadcast taps and Winograd): the vectors and their operations once per
   path (each path has its own lane count). */
#if (SIMD_LANES == 16 && !defined(MINIGRAD_SIMD_LANES_16)) || (SIMD_LANES == 8 && !defined(MINIGRAD_SIMD_LANES_8)) \
    || (SIMD_LANES == 4 && !defined(MINIGRAD_SIMD_LANES_4))
#if SIMD_LANES == 16
#define MINIGRAD_SIMD_LANES_16
#elif SIMD_LANES == 8
#define MINIGRAD_SIMD_LANES_8
#else
#define MINIGRAD_SIMD_LANES_4
#endif

typedef float SIMD(vec) __attribute__((vector_size(SIMD_LANES * sizeof(float))));
typedef int SIMD(lanes_mask) __attribute__((vector_size(SIMD_LANES * sizeof(int))));

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

#if SIMD_LANES == 8
/* AVX2's lane mask for lanes [0, n): all ones there, zeros elsewhere. */
SIMD_INLINE __m256i SIMD(first_lanes)(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

/* A short block: lanes [0, n) of SIMD_LANES, 0 < n < SIMD_LANES. These loads and
   stores touch only those lanes (no read past the end of an array). */
SIMD_INLINE vec SIMD(load_first)(const float *p, ptrdiff_t n)     /* zeros in the other lanes */
{
#if SIMD_LANES == 16
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#elif SIMD_LANES == 8
    return _mm256_maskload_ps(p, SIMD(first_lanes)(n));
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
#elif SIMD_LANES == 8
    /* Not vmaskmovps: AMD's Zen cores run its store form as microcode (on a Zen 4,
       measured: 5.0 ns a store, against 0.8 ns for a full store or an AVX-512 masked
       one); a half, a pair and a single float take ~1.4 ns on any x86 */
    if (n >= SIMD_LANES) {
        SIMD(store)(p, v);
        return;
    }
    __m128 part = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(p, part);
        part = _mm256_extractf128_ps(v, 1);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)p, part);
        part = _mm_movehl_ps(part, part);
        p += 2;
        n -= 2;
    }
    if (n >= 1)
        _mm_store_ss(p, part);
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

/* Half as many doubles as a vector holds floats (the same register size). */
typedef double SIMD(dvec) __attribute__((vector_size(SIMD_LANES / 2 * sizeof(double))));

/* v in double: *low = its first SIMD_LANES/2 lanes, *high = the rest. */
SIMD_INLINE void SIMD(widen)(vec v, SIMD(dvec) *low, SIMD(dvec) *high)
{
#if SIMD_LANES == 16
    *low = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    *high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
#elif SIMD_LANES == 8
    *low = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    *high = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
#else
    for (int i = 0; i < SIMD_LANES / 2; i++) {
        (*low)[i] = v[i];
        (*high)[i] = v[i + SIMD_LANES / 2];
    }
#endif
}

/* Lanes [0, n) of SIMD_LANES/2 doubles from p, zeros in the others (n <= 0:
   all zeros); nothing is read past p[n-1]. */
SIMD_INLINE SIMD(dvec) SIMD(load_first_doubles)(const double *p, ptrdiff_t n)
{
    SIMD(dvec) v;
    if (n >= SIMD_LANES / 2) {
        __builtin_memcpy(&v, p, sizeof v);
        return v;
    }
#if SIMD_LANES == 16
    return n > 0 ? _mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1), p) : _mm512_setzero_pd();
#elif SIMD_LANES == 8
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n),
                                                    _mm256_setr_epi64x(0, 1, 2, 3)));
#else
    for (int i = 0; i < SIMD_LANES / 2; i++)
        v[i] = i < n ? p[i] : 0.0;
    return v;
#endif
}

/* The floats nearest to low's lanes, then high's (widen's inverse, rounding once). */
SIMD_INLINE vec SIMD(narrow)(SIMD(dvec) low, SIMD(dvec) high)
{
#if SIMD_LANES == 16
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(low))),
        _mm256_castps_pd(_mm512_cvtpd_ps(high)), 1));
#elif SIMD_LANES == 8
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(low)),
                                _mm256_cvtpd_ps(high), 1);
#else
    vec v;
    for (int i = 0; i < SIMD_LANES / 2; i++) {
        v[i] = (float)low[i];
        v[i + SIMD_LANES / 2] = (float)high[i];
    }
    return v;
#endif
}

/* a0 b0 a1 b1 .. (the first halves of a and b, interleaved): *low = the
   first SIMD_LANES of them, *high = the rest (two shuffles). */
SIMD_INLINE void SIMD(zip)(vec a, vec b, vec *low, vec *high)
{
#if SIMD_LANES == 16
    *low = _mm512_permutex2var_ps(a, (__m512i)(lanes_mask){SIMD_ZIP_LOW_INDICES}, b);
    *high = _mm512_permutex2var_ps(a, (__m512i)(lanes_mask){SIMD_ZIP_HIGH_INDICES}, b);
#elif defined(__clang__)
    *low = __builtin_shufflevector(a, b, SIMD_ZIP_LOW_INDICES);
    *high = __builtin_shufflevector(a, b, SIMD_ZIP_HIGH_INDICES);
#else
    *low = __builtin_shuffle(a, b, (lanes_mask){SIMD_ZIP_LOW_INDICES});
    *high = __builtin_shuffle(a, b, (lanes_mask){SIMD_ZIP_HIGH_INDICES});
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

#endif  /* the vectors of this path, once */
