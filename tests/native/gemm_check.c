/*
 * The own GEMM (csrc/gemm.h) on its own, for a CPU the tests cannot run on:
 * tests/test_cross_aarch64.py compiles this with an aarch64 cross-compiler
 * and runs it under qemu-user. It checks C = A @ B (and C += A @ B, and
 * transposed operands) against a double-precision triple loop on the edge
 * sizes of every block (MR, NR, KC, MC, NC), on the one path a non-x86 CPU
 * has (generic: GCC vector extensions, NEON on aarch64). Prints "ok" and
 * exits 0, or names the first wrong product and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "gemm.h"

static float uniform(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static int check(int m, int n, int k, int transpose_a, int transpose_b, int accumulate, float *pack)
{
    unsigned state = (unsigned)(m * 7919 + n * 104729 + k);
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c = malloc(sizeof(float) * m * n);
    for (int i = 0; i < m * k; i++)
        a[i] = uniform(&state);
    for (int i = 0; i < k * n; i++)
        b[i] = uniform(&state);
    for (int i = 0; i < m * n; i++)
        c[i] = uniform(&state);
    /* A (m, k) stored as a (m, k) or, transposed, as (k, m); B likewise */
    ptrdiff_t rsa = transpose_a ? 1 : k, csa = transpose_a ? m : 1;
    ptrdiff_t rsb = transpose_b ? 1 : n, csb = transpose_b ? k : 1;
    int bad = 0;
    double *expected = malloc(sizeof(double) * m * n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double total = accumulate ? c[i * n + j] : 0.0;
            for (int p = 0; p < k; p++)
                total += (double)a[i * rsa + p * csa] * b[p * rsb + j * csb];
            expected[i * n + j] = total;
        }
    minigrad_sgemm(m, n, k, a, rsa, csa, NULL, b, rsb, csb, accumulate, c, n, pack, 1);
    for (int i = 0; i < m * n && !bad; i++)
        if (fabs(c[i] - expected[i]) > 1e-4 * sqrt((double)k) + 1e-4 * fabs(expected[i]))
            bad = 1;
    if (bad)
        printf("wrong: m=%d n=%d k=%d transpose_a=%d transpose_b=%d accumulate=%d\n", m, n, k, transpose_a,
               transpose_b, accumulate);
    free(a), free(b), free(c), free(expected);
    return bad;
}

int main(void)
{
    static const int sizes[][3] = {{1, 1, 1}, {6, 8, 4}, {7, 5, 31}, {8, 256, 32}, {9, 257, 33},
                                   {13, 70, 17}, {64, 576, 100}, {145, 33, 9}, {130, 300, 65},
                                   {3, 600, 2100}};
    float *pack = malloc(sizeof(float) * MINIGRAD_GEMM_PACK_FLOATS);
    int failures = 0;
    if (!minigrad_gemm_available()) {
        printf("the own GEMM is not compiled in\n");
        return 1;
    }
    printf("path %d (0: generic), tile %d x %d\n", minigrad_isa(), minigrad_gemm_mr(), minigrad_gemm_nr());
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int layout = 0; layout < 8; layout++)
            failures += check(sizes[s][0], sizes[s][2], sizes[s][1], layout & 1, (layout >> 1) & 1,
                              (layout >> 2) & 1, pack);
    free(pack);
    printf(failures ? "%d wrong products\n" : "ok\n", failures);
    return failures != 0;
}
