# Row operations of im2col and col2im (csrc/conv.pyx cimports them): each
# works on one output row of Wo entries and the input row it reads (every
# stride-th element), or on a run of such rows. Everything is inline, so
# this .pxd has no module of its own.
from cython cimport floating
from libc.stddef cimport ptrdiff_t
from libc.string cimport memcpy

from conv_geometry cimport Geometry


# The row operations' arguments are plain locals, so the compiler can
# vectorise the stride-1 loops (a struct field read inside the loop could
# alias the stores and would block that).

cdef inline void copy_row(floating* dst, const floating* src, Py_ssize_t n,
                          Py_ssize_t stride) noexcept nogil:
    """dst[i] = src[i*stride]"""
    cdef Py_ssize_t i
    if stride == 1:
        memcpy(dst, src, n * sizeof(floating))
    elif stride == 2:      # a constant stride the compiler vectorises (even elements)
        for i in range(n):
            dst[i] = src[2 * i]
    else:
        for i in range(n):
            dst[i] = src[i * stride]


cdef extern from "row_add.h" nogil:
    void row_add_f(float* dst, const float* src, ptrdiff_t n)
    void row_add_d(double* dst, const double* src, ptrdiff_t n)
    void row_add_stride2_f(float* dst, const float* src, ptrdiff_t n)


cdef inline void add_row(floating* dst, const floating* src, Py_ssize_t n,
                         Py_ssize_t stride) noexcept nogil:
    """dst[i*stride] += src[i]"""
    cdef Py_ssize_t i
    if stride == 1:            # vectorised for this CPU (csrc/row_add.h)
        if floating is float:
            row_add_f(dst, src, n)
        else:
            row_add_d(dst, src, n)
    elif stride == 2:
        if floating is float:
            row_add_stride2_f(dst, src, n)
        else:
            for i in range(n):
                dst[2 * i] = dst[2 * i] + src[i]
    else:
        for i in range(n):
            dst[i * stride] = dst[i * stride] + src[i]


# Runs of output rows: where consecutive output rows read consecutive input
# rows, im2col and col2im copy or add them as one long row.

cdef inline Py_ssize_t rows_in_run(const Geometry* g, bint rows_match, Py_ssize_t b, Py_ssize_t oh,
                                   Py_ssize_t rows_left) noexcept nogil:
    """How many output rows from row oh on (at tap b, at most rows_left, within
    one output plane) read consecutive input rows of the image: with stride 1
    along H and whole rows (rows_match), until the plane or the image ends; else 1."""
    cdef Py_ssize_t run = rows_left
    if not rows_match or g.sh != 1:
        return 1
    run = min(run, g.Ho - oh)
    return min(run, g.H - (oh - g.ph + b * g.dh))


cdef inline void next_output_rows(const Geometry* g, Py_ssize_t run, Py_ssize_t* od,
                                  Py_ssize_t* oh) noexcept nogil:
    """(od, oh) moves on by `run` output rows (a run never crosses an output plane)."""
    oh[0] = oh[0] + run
    if oh[0] == g.Ho:
        oh[0] = 0
        od[0] = od[0] + 1


cdef inline void zero_padding_columns(floating* row, Py_ssize_t run, Py_ssize_t Wo, Py_ssize_t lo,
                                      Py_ssize_t hi) noexcept nogil:
    """In `run` output rows of Wo entries, zero the columns outside [lo, hi): those
    that read the padding (a run's one long copy or add gets them wrong)."""
    cdef Py_ssize_t j, ow
    for j in range(run):
        for ow in range(lo):
            row[j * Wo + ow] = 0
        for ow in range(hi, Wo):
            row[j * Wo + ow] = 0
