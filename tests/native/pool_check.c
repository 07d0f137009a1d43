/*
 * The float32 pooling rows (csrc/pool_rows.h) on their own, for a CPU the
 * tests cannot run on: tests/test_cross_aarch64.py compiles this with an
 * aarch64 cross-compiler and runs it under qemu-user (the generic path: GCC
 * vector extensions, NEON there), and natively on every path of this CPU.
 *
 * For 2-d pooling configurations (kernel, stride, padding, ceil_mode,
 * count_include_pad, on planes wide enough for whole vector blocks and
 * narrower than one) it builds PyTorch's window tables as
 * minigrad/kernels/pooling.py does, runs avg_pool_plane_f32 and
 * avg_pool_backward_plane_f32, and checks them against double-precision
 * loops over the windows. Every path must also give the first path's bytes.
 * Max pooling of whole planes (max_pool_plane_f32: no padding, floor mode) is
 * checked against a scalar loop on integer data (ties: the first maximum wins).
 * Prints "ok" and exits 0, or names the first wrong case and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pool_rows.h"

typedef struct {
    int64_t begin[64], count[64];
    double scale[64];
    int out;
} table;

/* PyTorch's avg_pool windows along one dimension (minigrad/kernels/pooling.py, avg_windows) */
static void windows(int in, int k, int s, int p, int ceil_mode, int include_pad, table *t)
{
    int span = in + 2 * p - k;
    int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)     /* the last window must start inside */
        out--;
    t->out = out;
    for (int o = 0; o < out; o++) {
        int start = o * s - p, stop = start + k;
        int padded_stop = stop < in + p ? stop : in + p;
        int lo = start > 0 ? start : 0, hi = stop < in ? stop : in;
        t->begin[o] = lo;
        t->count[o] = hi - lo;
        t->scale[o] = 1.0 / (include_pad ? padded_stop - start : hi - lo);
    }
}

static float uniform(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* forward and backward of one configuration on the current path; outputs in y, gx */
static int check(int H, int W, int k, int s, int p, int ceil_mode, int include_pad, float *y, float *gx,
                 int *out_size)
{
    table th, tw;
    windows(H, k, s, p, ceil_mode, include_pad, &th);
    windows(W, k, s, p, ceil_mode, include_pad, &tw);
    int64_t begin_d[1] = {0}, count_d[1] = {1};
    double scale_d[1] = {1.0};
    /* the interior along W: whole windows, stride s apart */
    ptrdiff_t first_whole = -1, end = 0;
    for (int o = 0; o < tw.out; o++)
        if (tw.count[o] == k) {
            if (first_whole < 0)
                first_whole = o;
            end = o + 1;
        }
    ptrdiff_t begin = first_whole < 0 ? 0 : first_whole;
    if (first_whole < 0)
        end = 0;
    avg_windows win = {begin_d, count_d, th.begin, th.count, tw.begin, tw.count, scale_d, th.scale,
                       tw.scale, 1, th.out, tw.out, H, W,
                       end > begin ? tw.begin[begin] - begin * s : 0, k, s, begin, end, 0.0};
    unsigned state = (unsigned)(H * 131 + W * 17 + k * 5 + s * 3 + p);
    float *x = malloc(sizeof(float) * H * W), *g = malloc(sizeof(float) * th.out * tw.out);
    float *column = malloc(sizeof(float) * (W + 64));
    int64_t rows[64];
    unsigned char written[64];
    for (int i = 0; i < H * W; i++)
        x[i] = uniform(&state);
    for (int i = 0; i < th.out * tw.out; i++)
        g[i] = uniform(&state);
    avg_pool_plane_f32(x, y, &win, rows);
    avg_pool_backward_plane_f32(g, gx, &win, H, rows, column, written);
    int bad = 0;
    double *expected_gx = calloc((size_t)H * W, sizeof(double));
    for (int oh = 0; oh < th.out; oh++)
        for (int ow = 0; ow < tw.out; ow++) {
            double sum = 0, scale = th.scale[oh] * tw.scale[ow];
            for (int h = th.begin[oh]; h < th.begin[oh] + th.count[oh]; h++)
                for (int w = tw.begin[ow]; w < tw.begin[ow] + tw.count[ow]; w++) {
                    sum += x[h * W + w];
                    expected_gx[h * W + w] += g[oh * tw.out + ow] * scale;
                }
            if (fabs(y[oh * tw.out + ow] - sum * scale) > 1e-6 * (1 + fabs(sum * scale)))
                bad = 1;
        }
    for (int i = 0; i < H * W; i++)
        if (fabs(gx[i] - expected_gx[i]) > 1e-5 * (1 + fabs(expected_gx[i])))
            bad = 1;
    if (bad)
        printf("wrong on path %d: H=%d W=%d kernel=%d stride=%d padding=%d ceil=%d include_pad=%d\n",
               minigrad_isa(), H, W, k, s, p, ceil_mode, include_pad);
    *out_size = th.out * tw.out;
    free(x), free(g), free(column), free(expected_gx);
    return bad;
}

/* max_pool_plane_f32 on one H x W plane of small integers (many ties) against a scalar
   loop over the windows: the maximum and the position of its first tap */
static int check_max_plane(int H, int W, int k, int s, int d)
{
    int out_h = (H - d * (k - 1) - 1) / s + 1, out_w = (W - d * (k - 1) - 1) / s + 1;
    float *x = malloc(sizeof(float) * H * W), *y = malloc(sizeof(float) * out_h * out_w);
    int64_t *index = malloc(sizeof(int64_t) * out_h * out_w), taps[64];
    unsigned state = (unsigned)(H * 7 + W * 131 + k * 5 + s * 3 + d);
    int bad = 0;
    for (int i = 0; i < H * W; i++)
        x[i] = (float)(int)(uniform(&state) * 3.5f);
    for (int jh = 0; jh < k; jh++)
        for (int jw = 0; jw < k; jw++)
            taps[jh * k + jw] = jh * d * W + jw * d;
    if (max_pool_plane_f32(x, 0, taps, k * k, 1, out_h, out_w, 0, s * W, s, y, index))
        bad = 1;        /* no nan here */
    for (int oh = 0; oh < out_h; oh++)
        for (int ow = 0; ow < out_w; ow++) {
            int64_t best = oh * s * W + ow * s;
            for (int t = 1; t < k * k; t++)
                if (x[best] < x[oh * s * W + ow * s + taps[t]])
                    best = oh * s * W + ow * s + taps[t];
            if (index[oh * out_w + ow] != best || y[oh * out_w + ow] != x[best])
                bad = 1;
        }
    if (bad)
        printf("max pool wrong on path %d: H=%d W=%d kernel=%d stride=%d dilation=%d\n",
               minigrad_isa(), H, W, k, s, d);
    free(x), free(y), free(index);
    return bad;
}

int main(void)
{
    static const int cases[][5] = {{2, 2, 0, 0, 1}, {3, 2, 1, 1, 0}, {2, 1, 0, 0, 1}, {3, 1, 1, 0, 0},
                                   {2, 2, 1, 1, 1}, {3, 3, 1, 0, 1}, {1, 2, 0, 0, 1}, {4, 2, 2, 1, 1}};
    static const int widths[] = {5, 9, 28, 37, 41};
    int failures = 0, best = minigrad_cpu_best_isa();
    if (!minigrad_pool_rows_available()) {
        printf("the vector pooling rows are not compiled in\n");
        return 1;
    }
    printf("paths 0 .. %d (0: generic)\n", best);
    float *y[3], *gx[3];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            int H = 7, W = widths[w], out = 0;
            for (int isa = 0; isa <= best; isa++) {
                y[isa] = malloc(sizeof(float) * 64 * 64);
                gx[isa] = malloc(sizeof(float) * H * W);
                minigrad_set_isa(isa);
                failures += check(H, W, cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4],
                                  y[isa], gx[isa], &out);
                if (isa > 0 && (memcmp(y[isa], y[0], sizeof(float) * out) != 0 ||
                                memcmp(gx[isa], gx[0], sizeof(float) * H * W) != 0)) {
                    printf("path %d differs from path 0: case %zu, W=%d\n", isa, c, W);
                    failures++;
                }
            }
            for (int isa = 0; isa <= best; isa++)
                free(y[isa]), free(gx[isa]);
        }
    static const int max_cases[][3] = {{2, 2, 1}, {3, 2, 1}, {2, 1, 1}, {3, 3, 1}, {3, 2, 2}, {2, 1, 2}};
    static const int max_widths[] = {5, 7, 14, 19, 28, 37, 70};
    for (size_t c = 0; c < sizeof max_cases / sizeof max_cases[0]; c++)
        for (size_t w = 0; w < sizeof max_widths / sizeof max_widths[0]; w++)
            for (int isa = 0; isa <= best; isa++) {
                minigrad_set_isa(isa);
                failures += check_max_plane(9, max_widths[w], max_cases[c][0], max_cases[c][1], max_cases[c][2]);
            }
    printf(failures ? "%d wrong cases\n" : "ok\n", failures);
    return failures != 0;
}
