# The few OpenMP functions minigrad uses, guarded by omp_compat.h.
cdef extern from "omp_compat.h" nogil:
    int MINIGRAD_OPENMP          # 1 when compiled with OpenMP, else 0
    int omp_get_max_threads()
    int omp_get_num_threads()
    int omp_get_thread_num()
    int omp_get_num_procs()
    int omp_in_parallel()
