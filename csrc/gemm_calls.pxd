# The own GEMM (csrc/gemm.h) as the Cython kernels call it, and `matmul`,
# which sends one row-major product to it or to scipy's BLAS. csrc/gemm.pyx
# (the GEMM's Python entry points) and csrc/conv.pyx (the im2col and
# implicit GEMMs) cimport these; everything is inline or extern, so this
# .pxd has no module of its own.
from cython cimport floating
from libc.stddef cimport ptrdiff_t
from scipy.linalg.cython_blas cimport dgemm, sgemm


cdef extern from "gemm.h" nogil:
    const int MINIGRAD_GEMM_PACK_FLOATS
    int minigrad_gemm_available()
    int minigrad_gemm_mr()
    int minigrad_gemm_nr()
    ptrdiff_t minigrad_gemm_packed_a_size(int m, int k)
    int minigrad_fma_loop_flops()
    float minigrad_fma_loop(long rounds, float seed)
    void minigrad_gemm_pack_a(int m, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                              float* packed)
    void minigrad_sgemm(int m, int n, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                        const float* prepacked_a, const float* b, ptrdiff_t rsb, ptrdiff_t csb,
                        int accumulate, float* c, ptrdiff_t ldc, float* pack, int threads)
    ctypedef struct gemm_b_source:
        void (*pack)(const gemm_b_source* source, int p0, int kc, int j0, int nc,
                     float* packed) noexcept nogil
        const float* b
        ptrdiff_t rsb, csb
        const void* context
    void minigrad_sgemm_source(int m, int n, int k, const float* a, ptrdiff_t rsa, ptrdiff_t csa,
                               const float* prepacked_a, const gemm_b_source* b, int accumulate,
                               float* c, ptrdiff_t ldc, float* pack, int threads)


cdef inline void matmul(bint transpose_a, bint transpose_b, int m, int n, int k,
                        const floating* a, int lda, const floating* b, int ldb,
                        floating beta, floating* c, int ldc, const float* packed_a, float* pack,
                        int gemm_threads) noexcept nogil:
    """Row-major C (m, n) = op(A) @ op(B) + beta * C; beta is 0 (overwrite C) or 1 (add to C).

    pack: the own GEMM's scratch for `gemm_threads` threads (float32), or
    NULL for scipy's BLAS; packed_a: op(A) packed already (pack_weights), or NULL."""
    cdef char ta = b'T' if transpose_a else b'N'
    cdef char tb = b'T' if transpose_b else b'N'
    cdef floating one = 1
    if floating is float:
        if pack != NULL:
            # row-major, a transposed operand is just other strides: A[i][p] = a[i*rsa + p*csa]
            minigrad_sgemm(m, n, k, a, 1 if transpose_a else lda, lda if transpose_a else 1,
                           packed_a, b, 1 if transpose_b else ldb, ldb if transpose_b else 1,
                           beta != 0, c, ldc, pack, gemm_threads)
            return
        # BLAS is column-major; a row-major matrix is its transpose there, so
        # C = A @ B is computed as C^T = B^T @ A^T: swap the operands.
        sgemm(&tb, &ta, &n, &m, &k, &one, <float*>b, &ldb, <float*>a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &one, <double*>b, &ldb, <double*>a, &lda, &beta, c, &ldc)


cdef inline void pack_weights(const float* w, int groups, int Mg, int Kcg, bint transpose,
                              float* packed) noexcept nogil:
    """Pack each group's weight matrix w_g (Mg, Cg*K), or its transpose, for the
    own GEMM: done once per call, then shared (read-only) by every thread."""
    cdef int grp
    cdef ptrdiff_t size = minigrad_gemm_packed_a_size(Kcg, Mg) if transpose else \
        minigrad_gemm_packed_a_size(Mg, Kcg)
    for grp in range(groups):
        if transpose:       # w_g^T (Cg*K, Mg): A[i][p] = w_g[p][i]
            minigrad_gemm_pack_a(Kcg, Mg, w + grp * Mg * Kcg, 1, Kcg, packed + grp * size)
        else:
            minigrad_gemm_pack_a(Mg, Kcg, w + grp * Mg * Kcg, Kcg, 1, packed + grp * size)
