/* OpenMP functions with serial stand-ins, so that the kernels still build
 * (serially) when the compiler has no OpenMP. Cython's `cimport openmp`
 * would emit an unguarded #include <omp.h>, which breaks that fallback. */
#ifndef MINIGRAD_OMP_COMPAT_H
#define MINIGRAD_OMP_COMPAT_H

#ifdef _OPENMP
#include <omp.h>
#define MINIGRAD_OPENMP 1
#else
#define MINIGRAD_OPENMP 0
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_procs(void) { return 1; }
static inline int omp_in_parallel(void) { return 0; }
#endif

#endif
