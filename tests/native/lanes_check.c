/*
 * The vector operations of csrc/simd_lanes.h on their own, on every path of
 * this CPU and, through tests/test_cross_aarch64.py, on aarch64's generic path
 * under qemu: the partial loads and stores of a short block (AVX2's
 * store_first is three plain stores, not vmaskmovps, which AMD's cores run as
 * microcode), keep_first, the stride-2 load_even, zip and any_nan, each
 * against what its comment promises, for every block length n.
 * A partial store must write lanes [0, n) and not one float around them.
 *
 * The checks are in lanes_check_body.h, which csrc/simd_paths.h compiles once
 * per path (check_lanes_avx512 / _avx2 / _generic on that path's vectors).
 * Prints "ok" and exits 0, or names the first wrong operation and exits 1.
 */
#include <math.h>
#include <stdio.h>

#define SIMD_BODY "../tests/native/lanes_check_body.h"   /* from csrc/, where simd_paths.h is */
#include "simd_paths.h"

int main(void)
{
    const int best = minigrad_cpu_best_isa();
    printf("paths 0 .. %d (0: generic)\n", best);
    for (int isa = 0; isa <= best; isa++) {
        const char *wrong;
#if MINIGRAD_X86_64
        wrong = isa == 2 ? check_lanes_avx512() : isa == 1 ? check_lanes_avx2() : check_lanes_generic();
#else
        wrong = check_lanes_generic();
#endif
        if (wrong) {
            printf("wrong on path %d: %s\n", isa, wrong);
            return 1;
        }
    }
    printf("ok\n");
    return 0;
}
