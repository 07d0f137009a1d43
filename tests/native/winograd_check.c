/*
 * The Winograd F(2x2, 3x3) transforms (csrc/winograd.h) on their own, for a
 * CPU the tests cannot run on: tests/test_cross_aarch64.py compiles this with
 * an aarch64 cross-compiler and runs it under qemu-user (the generic path: GCC
 * vector extensions, NEON there), and natively on every path of this CPU.
 *
 * For a few geometries (tiles off every vector, odd sizes, uneven padding):
 * winograd_filters, winograd_input on a padded image, the 16 products as
 * plain loops in double (the kernel's GEMMs), winograd_output with a bias;
 * checked against a direct convolution in double.
 * Prints "ok" and exits 0, or names the first wrong case and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "winograd.h"

typedef struct { int C, M, H, W, ph, pw, Ho, Wo; } wino_case;

static int check(const wino_case *c)
{
    const int th = (c->Ho + 1) / 2, tw = (c->Wo + 1) / 2, T = th * tw, Hp = 2 * th + 2, Wp = 2 * tw + 2;
    float *x = malloc(sizeof(float) * c->C * c->H * c->W), *w = malloc(sizeof(float) * c->M * c->C * 9);
    float *padded = calloc((size_t)c->C * Hp * Wp + WINOGRAD_SLACK, sizeof(float));
    float *U = malloc(sizeof(float) * 16 * c->M * c->C), *V = malloc(sizeof(float) * (16 * c->C * T + WINOGRAD_SLACK));
    float *Mx = calloc((size_t)16 * c->M * T + WINOGRAD_SLACK, sizeof(float));
    float *out = malloc(sizeof(float) * c->M * c->Ho * c->Wo), *bias = malloc(sizeof(float) * c->M);
    for (int i = 0; i < c->C * c->H * c->W; i++)
        x[i] = (float)((i * 7919 % 97) - 48) / 32.0f;
    for (int i = 0; i < c->M * c->C * 9; i++)
        w[i] = (float)((i * 104729 % 89) - 44) / 64.0f;
    for (int m = 0; m < c->M; m++)
        bias[m] = (float)(m % 5) - 2.0f;
    for (int ch = 0; ch < c->C; ch++)
        for (int h = 0; h < c->H && h + c->ph < Hp; h++)
            for (int q = 0; q < c->W && q + c->pw < Wp; q++)
                padded[(ch * Hp + h + c->ph) * Wp + q + c->pw] = x[(ch * c->H + h) * c->W + q];
    winograd_filters(w, c->M, c->C, U);
    winograd_input(padded, c->C, (ptrdiff_t)Hp * Wp, Wp, tw, th, V, T, 0);
    for (int xi = 0; xi < 16; xi++)
        for (int m = 0; m < c->M; m++)
            for (int t = 0; t < T; t++) {
                double total = 0;
                for (int ch = 0; ch < c->C; ch++)
                    total += (double)U[(xi * c->M + m) * c->C + ch] * V[(xi * c->C + ch) * T + t];
                Mx[(xi * c->M + m) * T + t] = (float)total;
            }
    winograd_output(Mx, c->M, T, tw, 0, th, 0, bias, out, c->Ho, c->Wo);
    int wrong = 0;
    for (int m = 0; m < c->M && !wrong; m++)
        for (int oh = 0; oh < c->Ho && !wrong; oh++)
            for (int ow = 0; ow < c->Wo; ow++) {
                double exact = bias[m], size = fabs(bias[m]);
                for (int ch = 0; ch < c->C; ch++)
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++) {
                            const int ih = oh + a - c->ph, iw = ow + b - c->pw;
                            if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W)
                                continue;
                            const double v = (double)w[(m * c->C + ch) * 9 + a * 3 + b] * x[(ch * c->H + ih) * c->W + iw];
                            exact += v;
                            size += fabs(v);
                        }
                if (fabs(out[(m * c->Ho + oh) * c->Wo + ow] - exact) > 1e-5 * (1 + 4 * size))
                    wrong = 1;
            }
    free(x), free(w), free(padded), free(U), free(V), free(Mx), free(out), free(bias);
    return wrong;
}

int main(void)
{
    static const wino_case cases[] = {
        {3, 5, 9, 9, 1, 1, 9, 9},          /* odd: the last tiles half outside */
        {24, 24, 28, 28, 1, 1, 28, 28},    /* 14 tiles a row: one vector and a part */
        {4, 3, 6, 40, 0, 0, 4, 38},        /* 19 tiles a row, no padding */
        {2, 7, 8, 8, 2, 1, 10, 8},         /* padding 2 */
        {5, 4, 8, 8, 1, 1, 7, 8},          /* less padding after than before */
        {1, 1, 1, 1, 1, 1, 1, 1},
    };
    const int best = minigrad_cpu_best_isa();
    if (!minigrad_winograd_available()) {
        printf("winograd not compiled\n");
        return 1;
    }
    printf("paths 0 .. %d (0: generic)\n", best);
    for (int isa = 0; isa <= best; isa++) {
        minigrad_set_isa(isa);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            if (check(&cases[k])) {
                printf("wrong on path %d: case %zu\n", isa, k);
                return 1;
            }
    }
    printf("ok\n");
    return 0;
}
