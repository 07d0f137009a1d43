# cython: language_level=3
"""Batch-norm kernels: per-channel statistics, normalisation, closed-form backward.

The input is viewed as (N, C, L): L is the product of the spatial sizes
(1 for an (N, C) input). Channel c owns the N rows x[n, c, :], each L
contiguous elements, C*L elements apart. The loops run in parallel over
channels and one thread does all the work of a channel, in a fixed order:

- forward (training): mean and biased variance of the channel, then
  y = (x - mean) * invstd * weight + bias while the channel is still in cache;
- backward: sum(g) and sum(g * (x - mean)) of the channel, then the closed form
      grad_x = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))
  (training; in eval mode the statistics are constants: grad_x = g * weight * invstd).

Statistics are accumulated in double, in blocks of about BLOCK elements:
each block's mean and sum of squared deviations come from two passes over
the (cache-resident) block, and the blocks are merged in block order with
Chan's formula. That is numerically stable (no E[x^2] - E[x]^2), and since
the block order never depends on the thread count, the results are
bitwise identical for any number of threads.

The same kernels normalise rows for layer, group and instance norm: view the
input as (1, rows, row_length).
"""
from cython.parallel cimport prange
from libc.math cimport sqrt

ctypedef fused floating:
    float
    double

# Elements per statistics block (fits in L1 with room to spare).
cdef Py_ssize_t BLOCK = 4096


# The three sums below keep eight partial sums each: one running sum would
# wait ~4 cycles per element on the previous addition, eight independent ones
# keep the adders busy (and let the compiler pair them into SIMD registers).
# They are combined in a fixed order, so the result never depends on threads.

cdef inline double sum_of(const floating* x, Py_ssize_t n) noexcept nogil:
    """sum(x[:n]) in double."""
    cdef double s[8]
    cdef Py_ssize_t i = 0, k
    for k in range(8):
        s[k] = 0
    while i + 8 <= n:
        for k in range(8):
            s[k] = s[k] + x[i + k]
        i = i + 8
    while i < n:
        s[0] = s[0] + x[i]
        i = i + 1
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


cdef inline double squared_deviations(const floating* x, Py_ssize_t n, double m) noexcept nogil:
    """sum((x[:n] - m)**2) in double."""
    cdef double s[8]
    cdef double d
    cdef Py_ssize_t i = 0, k
    for k in range(8):
        s[k] = 0
    while i + 8 <= n:
        for k in range(8):
            d = x[i + k] - m
            s[k] = s[k] + d * d
        i = i + 8
    while i < n:
        d = x[i] - m
        s[0] = s[0] + d * d
        i = i + 1
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


cdef inline void gradient_sums(const floating* g, const floating* x, Py_ssize_t n, double m,
                               double* sum_g, double* sum_g_centered) noexcept nogil:
    """sum_g += sum(g[:n]); sum_g_centered += sum(g[:n] * (x[:n] - m))."""
    cdef double a[8]
    cdef double b[8]
    cdef Py_ssize_t i = 0, k
    for k in range(8):
        a[k] = 0
        b[k] = 0
    while i + 8 <= n:
        for k in range(8):
            a[k] = a[k] + g[i + k]
            b[k] = b[k] + g[i + k] * (x[i + k] - m)
        i = i + 8
    while i < n:
        a[0] = a[0] + g[i]
        b[0] = b[0] + g[i] * (x[i] - m)
        i = i + 1
    sum_g[0] = sum_g[0] + (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])))
    sum_g_centered[0] = sum_g_centered[0] + (((b[0] + b[1]) + (b[2] + b[3]))
                                             + ((b[4] + b[5]) + (b[6] + b[7])))


cdef inline void merge(double* count, double* mean, double* m2,
                       double block_count, double block_mean, double block_m2) noexcept nogil:
    """Chan et al.: fold one block's (count, mean, M2) into the running ones."""
    cdef double total = count[0] + block_count
    cdef double delta = block_mean - mean[0]
    mean[0] = mean[0] + delta * (block_count / total)
    m2[0] = m2[0] + block_m2 + delta * delta * (count[0] * block_count / total)
    count[0] = total


cdef void channel_moments(const floating* x, Py_ssize_t rows, Py_ssize_t row_stride,
                          Py_ssize_t length, double* mean_out, double* var_out) noexcept nogil:
    """Mean and biased variance of rows x[n * row_stride : ... + length], n < rows."""
    cdef double count = 0, mean = 0, m2 = 0, block_mean, block_m2, total
    cdef Py_ssize_t rows_per_block, blocks, b, n, first, last, start, width
    if length <= BLOCK:
        # A block is several whole rows.
        rows_per_block = BLOCK // length
        blocks = (rows + rows_per_block - 1) // rows_per_block
        for b in range(blocks):
            first = b * rows_per_block
            last = min(first + rows_per_block, rows)
            total = 0
            for n in range(first, last):
                total = total + sum_of(x + n * row_stride, length)
            block_mean = total / ((last - first) * length)
            block_m2 = 0
            for n in range(first, last):
                block_m2 = block_m2 + squared_deviations(x + n * row_stride, length, block_mean)
            merge(&count, &mean, &m2, (last - first) * length, block_mean, block_m2)
    else:
        # A block is a piece of one row.
        blocks = (length + BLOCK - 1) // BLOCK
        for n in range(rows):
            for b in range(blocks):
                start = b * BLOCK
                width = min(BLOCK, length - start)
                block_mean = sum_of(x + n * row_stride + start, width) / width
                block_m2 = squared_deviations(x + n * row_stride + start, width, block_mean)
                merge(&count, &mean, &m2, width, block_mean, block_m2)
    mean_out[0] = mean
    var_out[0] = m2 / count


def batch_norm_forward(const floating[:, :, ::1] input, floating[:, :, ::1] output,
                       double[::1] mean, double[::1] var, const double[::1] weight,
                       const double[::1] bias, double eps, bint training, int num_threads):
    """output = (input - mean) / sqrt(var + eps) * weight + bias, per channel.

    training: mean and var (biased) are computed from the batch and written
    to `mean` and `var`; otherwise they are read from them (running stats).
    """
    cdef Py_ssize_t N = input.shape[0], C = input.shape[1], L = input.shape[2]
    cdef Py_ssize_t c, n, i
    cdef const floating* x = &input[0, 0, 0]
    cdef floating* y = &output[0, 0, 0]
    cdef double* mean_ptr = &mean[0]
    cdef double* var_ptr = &var[0]
    cdef const floating* row_in
    cdef floating* row_out
    cdef floating centre_high, centre_low, scale, shift
    for c in prange(C, nogil=True, schedule="static", num_threads=num_threads):
        if training:
            channel_moments(x + c * L, N, C * L, L, mean_ptr + c, var_ptr + c)
        # The mean travels as two floats, high + low: x - high is (nearly) exact,
        # so a large mean over a small spread does not lose the digits that
        # matter, and the loop still runs in the input's precision (4-8 floats
        # per SIMD instruction instead of 2 doubles).
        centre_high = <floating>mean_ptr[c]
        centre_low = <floating>(mean_ptr[c] - centre_high)
        scale = <floating>(weight[c] / sqrt(var_ptr[c] + eps))
        shift = <floating>bias[c]
        for n in range(N):
            row_in = x + (n * C + c) * L
            row_out = y + (n * C + c) * L
            for i in range(L):
                row_out[i] = ((row_in[i] - centre_high) - centre_low) * scale + shift


def batch_norm_backward(const floating[:, :, ::1] grad_output, const floating[:, :, ::1] input,
                        const double[::1] mean, const double[::1] invstd, const double[::1] weight,
                        floating[:, :, ::1] grad_input, double[::1] grad_weight, double[::1] grad_bias,
                        bint training, bint compute_grad_input, int num_threads):
    """Closed-form batch-norm backward, one channel per thread.

    grad_bias[c] = sum(g), grad_weight[c] = sum(g * xhat) with xhat = (x - mean) * invstd;
    grad_input (when compute_grad_input) as in the module docstring.
    """
    cdef Py_ssize_t N = input.shape[0], C = input.shape[1], L = input.shape[2]
    cdef Py_ssize_t c, n, i, first, last, rows_per_block
    cdef const floating* g = &grad_output[0, 0, 0]
    cdef const floating* x = &input[0, 0, 0]
    cdef floating* gx = &grad_input[0, 0, 0] if compute_grad_input else NULL
    cdef double* grad_weight_ptr = &grad_weight[0]
    cdef double* grad_bias_ptr = &grad_bias[0]
    cdef double sum_g, sum_g_centered, block_g, block_g_centered, count
    cdef const floating* g_row
    cdef const floating* x_row
    cdef floating* out_row
    cdef double centre, gain, mean_g, slope
    count = <double>N * L
    rows_per_block = max(1, BLOCK // L)
    for c in prange(C, nogil=True, schedule="static", num_threads=num_threads):
        # Sums in blocks of rows, each block summed in double, blocks added in order.
        sum_g = 0
        sum_g_centered = 0
        first = 0
        while first < N:
            last = min(first + rows_per_block, N)
            block_g = 0
            block_g_centered = 0
            for n in range(first, last):
                gradient_sums(g + (n * C + c) * L, x + (n * C + c) * L, L, mean[c],
                              &block_g, &block_g_centered)
            sum_g = sum_g + block_g
            sum_g_centered = sum_g_centered + block_g_centered
            first = last
        grad_bias_ptr[c] = sum_g
        grad_weight_ptr[c] = sum_g_centered * invstd[c]
        if compute_grad_input:
            centre = mean[c]
            gain = weight[c] * invstd[c]
            if training:
                mean_g = sum_g / count
                slope = invstd[c] * invstd[c] * sum_g_centered / count
            else:
                mean_g = 0
                slope = 0
            for n in range(N):
                g_row = g + (n * C + c) * L
                x_row = x + (n * C + c) * L
                out_row = gx + (n * C + c) * L
                for i in range(L):
                    out_row[i] = <floating>(gain * (g_row[i] - mean_g - (x_row[i] - centre) * slope))
