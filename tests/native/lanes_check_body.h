/*
 * One path's checks for tests/native/lanes_check.c: compiled once per path by
 * csrc/simd_paths.h, which sets SIMD_LANES, SIMD_TARGET and SIMD().
 */

/* NULL if every operation keeps its promise, else the name of the first that does not */
static SIMD_TARGET const char *SIMD(check_lanes)(void)
{
    enum { L = SIMD_LANES, GUARD = -7 };
    float source[4 * L], around[3 * L];
    for (int i = 0; i < 4 * L; i++)
        source[i] = (float)(i + 1);
    const vec v = SIMD(load)(source), w = SIMD(load)(source + L);
    for (int n = 1; n < L; n++) {
        for (int i = 0; i < 3 * L; i++)
            around[i] = GUARD;
        SIMD(store_first)(around + L, n, v);              /* lanes [0, n), nothing else */
        for (int i = 0; i < 3 * L; i++) {
            const int inside = i >= L && i < L + n;
            if (around[i] != (inside ? source[i - L] : GUARD))
                return "store_first";
        }
        const vec first = SIMD(load_first)(source, n), kept = SIMD(keep_first)(v, n);
        for (int i = 0; i < L; i++) {
            if (first[i] != (i < n ? source[i] : 0.0f))
                return "load_first";
            if (kept[i] != (i < n ? source[i] : 0.0f))
                return "keep_first";
        }
    }
    const vec even = SIMD(load_even)(source + 1);           /* source[1], source[3], .. */
    vec low, high;
    SIMD(zip)(v, w, &low, &high);
    for (int i = 0; i < L; i++) {
        if (even[i] != source[1 + 2 * i])
            return "load_even";
        const vec *half = i < L / 2 ? &low : &high;       /* v0 w0 v1 w1 .. */
        const int k = i % (L / 2);
        if ((*half)[2 * k] != v[i] || (*half)[2 * k + 1] != w[i])
            return "zip";
    }
    for (int i = 0; i < L; i++) {
        vec one_nan = v;
        one_nan[i] = NAN;
        if (!SIMD(any_nan)(one_nan))
            return "any_nan (a nan missed)";
    }
    if (SIMD(any_nan)(v))
        return "any_nan (none there)";
    return NULL;
}
