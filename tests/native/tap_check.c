/*
 * The broadcast-tap kernels (csrc/tap_broadcast.h) on their own, for a CPU
 * the tests cannot run on: tests/test_cross_aarch64.py compiles this with an
 * aarch64 cross-compiler and runs it under qemu-user (the generic path: GCC
 * vector extensions, NEON there), and natively on every path of this CPU.
 *
 * For a few geometries (rows and channels off every block size, stride,
 * dilation, 3-d):
 * - the weight gradient: it pads one image, transposes its output gradient
 *   with tap_transpose, runs tap_broadcast_f32 twice (the second call
 *   adding), and checks the sums against double-precision loops over im2col;
 * - the forward: tap_pack_panels, tap_forward_f32 and tap_untranspose (with a
 *   bias, in two parts of the output rows, on both layouts of out_t), checked
 *   the same way.
 * Prints "ok" and exits 0, or names the first wrong case and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap_broadcast.h"

typedef struct { int C, M, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw; } conv_case;

static int out_size(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

/* 0 if right; every sum is compared with the double loop, twice over (accumulate) */
static int check(const conv_case *c)
{
    const int Do = out_size(c->D, c->kd, c->sd, c->pd, c->dd), Ho = out_size(c->H, c->kh, c->sh, c->ph, c->dh),
              Wo = out_size(c->W, c->kw, c->sw, c->pw, c->dw), P = Do * Ho * Wo, K = c->kd * c->kh * c->kw;
    const int Dp = c->D + 2 * c->pd, Hp = c->H + 2 * c->ph, Wp = c->W + 2 * c->pw;
    const ptrdiff_t lanes = tap_broadcast_lanes(), pitch = (c->M + lanes - 1) / lanes * lanes;
    float *x = malloc(sizeof(float) * c->C * c->D * c->H * c->W), *gy = malloc(sizeof(float) * c->M * P);
    float *padded = calloc((size_t)c->C * Dp * Hp * Wp, sizeof(float));
    float *dyt = malloc(sizeof(float) * P * pitch), *sums = malloc(sizeof(float) * c->C * K * pitch);
    for (int i = 0; i < c->C * c->D * c->H * c->W; i++)
        x[i] = (float)((i * 7919 % 97) - 48) / 32.0f;
    for (int i = 0; i < c->M * P; i++)
        gy[i] = (float)((i * 104729 % 89) - 44) / 16.0f;
    for (int ch = 0; ch < c->C; ch++)
        for (int d = 0; d < c->D; d++)
            for (int h = 0; h < c->H; h++)
                for (int w = 0; w < c->W; w++)
                    padded[((ch * Dp + d + c->pd) * Hp + h + c->ph) * Wp + w + c->pw] =
                        x[((ch * c->D + d) * c->H + h) * c->W + w];
    tap_geometry t = {c->C, Dp, Hp, Wp, c->kd, c->kh, c->kw, c->dd, c->dh, c->dw, Do, Ho, Wo,
                      (ptrdiff_t)c->sd * Hp * Wp, (ptrdiff_t)c->sh * Wp, c->sw};
    tap_transpose(gy, c->M, P, dyt, pitch);
    tap_broadcast_f32(padded, &t, dyt, pitch, 1, 0, sums, 0);
    tap_broadcast_f32(padded, &t, dyt, pitch, 1, 0, sums, 1);              /* adds the same again */
    int wrong = 0;
    for (int m = 0; m < c->M && !wrong; m++)
        for (int r = 0; r < c->C * K && !wrong; r++) {
            const int e = r % c->kw, b = r / c->kw % c->kh, a = r / (c->kw * c->kh) % c->kd, ch = r / K;
            double exact = 0, size = 0;
            for (int od = 0; od < Do; od++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Wo; ow++) {
                        const int id = od * c->sd + a * c->dd, ih = oh * c->sh + b * c->dh, iw = ow * c->sw + e * c->dw;
                        const double v = padded[((ch * Dp + id) * Hp + ih) * Wp + iw] * (double)gy[m * P + (od * Ho + oh) * Wo + ow];
                        exact += v;
                        size += fabs(v);
                    }
            if (fabs(sums[r * pitch + m] - 2 * exact) > 1e-5 * (1 + 2 * size))
                wrong = 1;
        }
    for (int p = 0; p < P && !wrong; p++)                              /* the channels past M are zeros */
        for (ptrdiff_t m = c->M; m < pitch; m++)
            if (dyt[p * pitch + m] != 0.0f)
                wrong = 1;
    free(x), free(gy), free(padded), free(dyt), free(sums);
    return wrong;
}

/* 0 if right: the forward (tap_pack_panels, tap_forward_f32, tap_untranspose
   with a bias) against double loops over im2col, on both layouts of out_t */
static int check_forward(const conv_case *c)
{
    const int Do = out_size(c->D, c->kd, c->sd, c->pd, c->dd), Ho = out_size(c->H, c->kh, c->sh, c->ph, c->dh),
              Wo = out_size(c->W, c->kw, c->sw, c->pw, c->dw), P = Do * Ho * Wo, K = c->kd * c->kh * c->kw;
    const int Dp = c->D + 2 * c->pd, Hp = c->H + 2 * c->ph, Wp = c->W + 2 * c->pw, rows = c->C * K;
    const ptrdiff_t lanes = tap_broadcast_lanes(), pitch = (c->M + lanes - 1) / lanes * lanes;
    const ptrdiff_t volume = (ptrdiff_t)c->C * Dp * Hp * Wp;
    float *padded = calloc(volume + TAP_MAX_POSITIONS * c->sw, sizeof(float));   /* zeros past the end */
    float *w = malloc(sizeof(float) * c->M * rows), *bias = malloc(sizeof(float) * c->M);
    float *panels = malloc(sizeof(float) * rows * pitch), *out = malloc(sizeof(float) * c->M * P);
    float *out_t = malloc(sizeof(float) * Do * Ho * Wp * pitch);
    ptrdiff_t *offset = malloc(sizeof(ptrdiff_t) * rows);
    for (int ch = 0; ch < c->C; ch++)
        for (int d = 0; d < c->D; d++)
            for (int h = 0; h < c->H; h++)
                for (int x = 0; x < c->W; x++)
                    padded[((ch * Dp + d + c->pd) * Hp + h + c->ph) * Wp + x + c->pw] =
                        (float)((((ch * c->D + d) * c->H + h) * c->W + x) * 7919 % 97 - 48) / 32.0f;
    for (int i = 0; i < c->M * rows; i++)
        w[i] = (float)((i * 104729 % 89) - 44) / 64.0f;
    for (int m = 0; m < c->M; m++)
        bias[m] = (float)(m % 5) - 2.0f;
    tap_geometry t = {c->C, Dp, Hp, Wp, c->kd, c->kh, c->kw, c->dd, c->dh, c->dw, Do, Ho, Wo,
                      (ptrdiff_t)c->sd * Hp * Wp, (ptrdiff_t)c->sh * Wp, c->sw};
    for (int r = 0; r < rows; r++)
        offset[r] = tap_row_offset(&t, r);
    tap_pack_panels(w, c->M, rows, lanes, pitch, panels);
    int wrong = 0;
    for (int layout = 0; layout < 2 && !wrong; layout++) {
        const ptrdiff_t row_pitch = layout ? Wp : Wo;          /* Wp: rows may be walked as one line */
        const ptrdiff_t half = Ho / 2;                          /* in two parts of the output rows */
        tap_forward_f32(padded, &t, panels, offset, pitch, row_pitch, half, Ho, out_t);
        tap_untranspose(out_t, pitch, row_pitch, &t, c->M, bias, half, Ho, out);
        if (half > 0) {
            tap_forward_f32(padded, &t, panels, offset, pitch, row_pitch, 0, half, out_t);
            tap_untranspose(out_t, pitch, row_pitch, &t, c->M, bias, 0, half, out);
        }
        for (int m = 0; m < c->M && !wrong; m++)
            for (int od = 0; od < Do; od++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Wo; ow++) {
                        double exact = bias[m], size = fabs(bias[m]);
                        for (int r = 0; r < rows; r++) {
                            const double v = padded[od * t.step_d + oh * t.step_h + ow * c->sw + offset[r]]
                                             * (double)w[m * rows + r];
                            exact += v;
                            size += fabs(v);
                        }
                        if (fabs(out[m * P + (od * Ho + oh) * Wo + ow] - exact) > 1e-5 * (1 + size))
                            wrong = 1;
                    }
    }
    free(padded), free(w), free(bias), free(panels), free(out), free(out_t), free(offset);
    return wrong;
}

int main(void)
{
    static const conv_case cases[] = {
        {5, 7, 1, 9, 9, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},     /* rows and channels off every block */
        {24, 24, 1, 12, 12, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},
        {3, 50, 1, 11, 11, 1, 3, 3, 1, 2, 2, 0, 1, 1, 1, 1, 1},  /* strided, channels past 3 vectors */
        {8, 33, 1, 10, 10, 1, 5, 5, 1, 1, 1, 0, 2, 2, 1, 2, 2},  /* dilated */
        {1, 1, 1, 5, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1},
        {3, 9, 5, 5, 5, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},     /* 3-d */
        {4, 96, 1, 7, 7, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},
        {2, 40, 1, 60, 60, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},  /* several tiles of output rows */
        {3, 8, 1, 14, 14, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},   /* forward: rows walked as one line */
        {3, 16, 1, 20, 20, 1, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1},
        {6, 64, 1, 9, 11, 1, 3, 3, 1, 1, 3, 0, 1, 0, 1, 1, 1},   /* forward: a stride of 3, 2 + 2 vectors */
    };
    const int best = minigrad_cpu_best_isa();
    if (!minigrad_tap_broadcast_available()) {
        printf("broadcast taps not compiled\n");
        return 1;
    }
    printf("paths 0 .. %d (0: generic)\n", best);
    for (int isa = 0; isa <= best; isa++) {
        minigrad_set_isa(isa);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            if (check(&cases[k]) || check_forward(&cases[k])) {
                printf("wrong on path %d: case %zu\n", isa, k);
                return 1;
            }
    }
    printf("ok\n");
    return 0;
}
