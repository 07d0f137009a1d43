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

Batch norm followed by a ReLU (every conv-BN-ReLU block) runs fused: the
forward clamps at 0 as it writes y, and the backward reads the ReLU's
gradient, g where y > 0, as it reads g, so the ReLU costs no pass of its own.

Statistics are accumulated in double (float32 data in float32 over runs of
256 elements, see csrc/lane_sums.h), in blocks of about BLOCK elements:
each block's mean and sum of squared deviations come from two passes over
the (cache-resident) block, and the blocks are merged in block order with
Chan's formula. That is numerically stable (no E[x^2] - E[x]^2), and since
the block order never depends on the thread count, the results are
bitwise identical for any number of threads.

The same kernels normalise rows for layer, group and instance norm: view the
input as (1, rows, row_length).

Reference: minigrad/reference/normalization.py (batch_norm_forward,
batch_norm_backward_from_statistics), which the kernel boundary
minigrad/kernels/batchnorm.py runs instead under minigrad.use_reference_kernels().
"""
from cython.parallel cimport prange
from libc.math cimport sqrt

ctypedef fused floating:
    float
    double

# Elements per statistics block (fits in L1 with room to spare).
cdef Py_ssize_t BLOCK = 4096


# The sums over a row: vectorised loops in csrc/lane_sums.h (float32 data is
# summed in float32 over short runs, each run's total added to a double; the
# order is fixed at compile time, so results never depend on the threads).
cdef extern from "lane_sums.h" nogil:
    void prefetch_row(const void* row, Py_ssize_t bytes)
    void prefetch_row_for_writing(void* row, Py_ssize_t bytes)
    double centred_sum_f(const float* x, Py_ssize_t n, float high, float low)
    double centred_sum_d(const double* x, Py_ssize_t n, double high, double low)
    double squared_deviations_f(const float* x, Py_ssize_t n, float high, float low)
    double squared_deviations_d(const double* x, Py_ssize_t n, double high, double low)
    void gradient_sums_f(const float* g, const float* x, Py_ssize_t n, float high, float low,
                         double* sum_g, double* sum_g_centered)
    void gradient_sums_d(const double* g, const double* x, Py_ssize_t n, double high, double low,
                         double* sum_g, double* sum_g_centered)
    void normalize_row_f(const float* x, float* y, Py_ssize_t n, float high, float low,
                         float scale, float shift)
    void normalize_row_d(const double* x, double* y, Py_ssize_t n, double high, double low,
                         double scale, double shift)
    void gradient_row_f(const float* g, const float* x, float* out, Py_ssize_t n, float mean_g,
                        float gain, float high, float low, float gain_slope)
    void gradient_row_d(const double* g, const double* x, double* out, Py_ssize_t n,
                        double mean_g, double gain, double high, double low, double gain_slope)
    void normalize_relu_row_f(const float* x, float* y, Py_ssize_t n, float high, float low,
                              float scale, float shift)
    void normalize_relu_row_d(const double* x, double* y, Py_ssize_t n, double high, double low,
                              double scale, double shift)
    void masked_gradient_sums_f(const float* g, const float* y, const float* x, float* masked,
                                Py_ssize_t n, float high, float low, double* sum_g,
                                double* sum_g_centered)
    void masked_gradient_sums_d(const double* g, const double* y, const double* x, double* masked,
                                Py_ssize_t n, double high, double low, double* sum_g,
                                double* sum_g_centered)
    void affine_masked_gradient_sums_f(const float* g, const float* x, float* masked, Py_ssize_t n,
                                       float high, float low, float scale, float shift,
                                       double* sum_g, double* sum_g_centered)
    void affine_masked_gradient_sums_d(const double* g, const double* x, double* masked, Py_ssize_t n,
                                       double high, double low, double scale, double shift,
                                       double* sum_g, double* sum_g_centered)


# A centre c travels as two values high + low of the data's type, high = c
# rounded and low = c - high: then x - high - low is (nearly) exact, so a
# large mean over a small spread keeps its digits in float32 arithmetic.

cdef inline double centred_sum(const floating* x, Py_ssize_t n, floating high,
                               floating low) noexcept nogil:
    """sum(x[:n] - centre) in double."""
    if floating is float:
        return centred_sum_f(x, n, high, low)
    else:
        return centred_sum_d(x, n, high, low)


cdef inline double squared_deviations(const floating* x, Py_ssize_t n, floating high,
                                      floating low) noexcept nogil:
    """sum((x[:n] - centre)**2) in double."""
    if floating is float:
        return squared_deviations_f(x, n, high, low)
    else:
        return squared_deviations_d(x, n, high, low)


cdef inline void gradient_sums(const floating* g, const floating* x, Py_ssize_t n,
                               floating high, floating low,
                               double* sum_g, double* sum_g_centered) noexcept nogil:
    """sum_g += sum(g[:n]); sum_g_centered += sum(g[:n] * (x[:n] - centre))."""
    if floating is float:
        gradient_sums_f(g, x, n, high, low, sum_g, sum_g_centered)
    else:
        gradient_sums_d(g, x, n, high, low, sum_g, sum_g_centered)


cdef inline void normalize_row(const floating* x, floating* y, Py_ssize_t n, floating high,
                               floating low, floating scale, floating shift) noexcept nogil:
    """y[:n] = (x[:n] - centre) * scale + shift."""
    if floating is float:
        normalize_row_f(x, y, n, high, low, scale, shift)
    else:
        normalize_row_d(x, y, n, high, low, scale, shift)


cdef inline void gradient_row(const floating* g, const floating* x, floating* out, Py_ssize_t n,
                              floating mean_g, floating gain, floating high, floating low,
                              floating gain_slope) noexcept nogil:
    """out[:n] = (g[:n] - mean_g) * gain - (x[:n] - centre) * gain_slope."""
    if floating is float:
        gradient_row_f(g, x, out, n, mean_g, gain, high, low, gain_slope)
    else:
        gradient_row_d(g, x, out, n, mean_g, gain, high, low, gain_slope)


cdef inline void normalize_relu_row(const floating* x, floating* y, Py_ssize_t n, floating high,
                                    floating low, floating scale, floating shift) noexcept nogil:
    """y[:n] = max((x[:n] - centre) * scale + shift, 0), NaN kept."""
    if floating is float:
        normalize_relu_row_f(x, y, n, high, low, scale, shift)
    else:
        normalize_relu_row_d(x, y, n, high, low, scale, shift)


cdef inline void masked_gradient_sums(const floating* g, const floating* y, const floating* x,
                                      floating* masked, Py_ssize_t n, floating high, floating low,
                                      double* sum_g, double* sum_g_centered) noexcept nogil:
    """gradient_sums of m = g where y > 0, else 0 (the gradient through a ReLU with output y);
    m is also written to masked[:n] unless masked is NULL."""
    if floating is float:
        masked_gradient_sums_f(g, y, x, masked, n, high, low, sum_g, sum_g_centered)
    else:
        masked_gradient_sums_d(g, y, x, masked, n, high, low, sum_g, sum_g_centered)


cdef inline void affine_masked_gradient_sums(const floating* g, const floating* x, floating* masked,
                                             Py_ssize_t n, floating high, floating low, floating scale,
                                             floating shift, double* sum_g,
                                             double* sum_g_centered) noexcept nogil:
    """masked_gradient_sums with the ReLU's mask recomputed from x: m = g where
    (x - centre) * scale + shift > 0 (normalize_relu_row's own expression), else 0."""
    if floating is float:
        affine_masked_gradient_sums_f(g, x, masked, n, high, low, scale, shift, sum_g, sum_g_centered)
    else:
        affine_masked_gradient_sums_d(g, x, masked, n, high, low, scale, shift, sum_g, sum_g_centered)


cdef inline void merge(double* count, double* mean, double* m2,
                       double block_count, double block_mean, double block_m2) noexcept nogil:
    """Chan et al.: fold one block's (count, mean, M2) into the running ones."""
    cdef double total = count[0] + block_count
    cdef double delta = block_mean - mean[0]
    mean[0] = mean[0] + delta * (block_count / total)
    m2[0] = m2[0] + block_m2 + delta * delta * (count[0] * block_count / total)
    count[0] = total


cdef inline void block_moments(const floating* x, Py_ssize_t rows, Py_ssize_t row_stride,
                               Py_ssize_t length, bint more_rows, double* mean_out,
                               double* m2_out) noexcept nogil:
    """Mean and sum of squared deviations of one (cache-resident) block of rows, in two passes.

    The first pass sums x - shift, shift = the block's first value: the sum
    then depends on the spread of the values, not on their offset. It reads
    from memory, so it prefetches the next row (the next block's first one
    too when more_rows); the second pass finds the block in cache.
    """
    cdef floating shift = x[0], high, low
    cdef double total = 0, mean, m2 = 0
    cdef Py_ssize_t n
    for n in range(rows):
        if n + 1 < rows or more_rows:
            prefetch_row(x + (n + 1) * row_stride, length * sizeof(floating))
        total = total + centred_sum(x + n * row_stride, length, shift, <floating>0)
    mean = shift + total / (<double>rows * length)
    high = <floating>mean
    low = <floating>(mean - high)
    for n in range(rows):
        m2 = m2 + squared_deviations(x + n * row_stride, length, high, low)
    mean_out[0] = mean
    m2_out[0] = m2


cdef void channel_moments(const floating* x, Py_ssize_t rows, Py_ssize_t row_stride,
                          Py_ssize_t length, double* mean_out, double* var_out) noexcept nogil:
    """Mean and biased variance of rows x[n * row_stride : ... + length], n < rows."""
    cdef double count = 0, mean = 0, m2 = 0, block_mean, block_m2
    cdef Py_ssize_t rows_per_block, blocks, b, n, first, last, start, width
    if length <= BLOCK:
        # A block is several whole rows.
        rows_per_block = BLOCK // length
        blocks = (rows + rows_per_block - 1) // rows_per_block
        for b in range(blocks):
            first = b * rows_per_block
            last = min(first + rows_per_block, rows)
            block_moments(x + first * row_stride, last - first, row_stride, length,
                          last < rows, &block_mean, &block_m2)
            merge(&count, &mean, &m2, (last - first) * length, block_mean, block_m2)
    else:
        # A block is a piece of one row.
        blocks = (length + BLOCK - 1) // BLOCK
        for n in range(rows):
            for b in range(blocks):
                start = b * BLOCK
                width = min(BLOCK, length - start)
                block_moments(x + n * row_stride + start, 1, 0, width, False, &block_mean,
                              &block_m2)
                merge(&count, &mean, &m2, width, block_mean, block_m2)
    mean_out[0] = mean
    var_out[0] = m2 / count


def batch_norm_forward(const floating[:, :, ::1] input, floating[:, :, ::1] output,
                       double[::1] mean, double[::1] var, const double[::1] weight,
                       const double[::1] bias, double eps, bint training, int num_threads,
                       bint relu=False):
    """output = (input - mean) / sqrt(var + eps) * weight + bias, per channel.

    training: mean and var (biased) are computed from the batch and written
    to `mean` and `var`; otherwise they are read from them (running stats).
    relu: output = max(that, 0) instead (NaN kept), in the same pass: batch
    norm followed by a ReLU without a second pass over memory.
    """
    cdef Py_ssize_t N = input.shape[0], C = input.shape[1], L = input.shape[2]
    cdef Py_ssize_t c, n
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
            if n + 1 < N:
                prefetch_row_for_writing(row_out + C * L, L * sizeof(floating))
            if relu:
                normalize_relu_row(row_in, row_out, L, centre_high, centre_low, scale, shift)
            else:
                normalize_row(row_in, row_out, L, centre_high, centre_low, scale, shift)


cdef void channel_backward(const floating* g, const floating* relu_output, const floating* x,
                           floating* gx, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, Py_ssize_t c,
                           double mean, double invstd, double weight, bint training,
                           double* grad_weight, double* grad_bias, bint relu_from_x,
                           floating relu_scale, floating relu_shift) noexcept nogil:
    """The backward of channel c, in two passes over it (see batch_norm_backward).

    relu_output NULL: g is the gradient of the batch-norm output. Otherwise
    batch norm was followed by a ReLU whose output this is, and g is the
    gradient of that output: the first pass masks it, m = g where
    relu_output > 0, else 0, sums m while it is in cache and keeps it in gx;
    the second turns gx into grad_input in place. gx NULL: no grad_input.
    relu_from_x: the same, the mask recomputed from x with the forward's
    relu_scale and relu_shift (relu_output NULL: one stream less).
    """
    cdef Py_ssize_t n, first, last
    cdef Py_ssize_t rows_per_block = max(1, BLOCK // L)
    cdef Py_ssize_t offset
    cdef double sum_g = 0, sum_g_centered = 0, block_g, block_g_centered
    cdef double count = <double>N * L, gain, mean_g, slope
    # The mean as two floats, high + low, as in the forward.
    cdef floating centre_high = <floating>mean
    cdef floating centre_low = <floating>(mean - centre_high)
    cdef floating gain_in, mean_g_in, gain_slope_in
    cdef const floating* gradient
    # Sums in blocks of rows, each block summed in double, blocks added in order.
    first = 0
    while first < N:
        last = min(first + rows_per_block, N)
        block_g = 0
        block_g_centered = 0
        for n in range(first, last):
            offset = (n * C + c) * L
            if n + 1 < N:  # rows are short and far apart: fetch the next ones early
                prefetch_row(g + offset + C * L, L * sizeof(floating))
                prefetch_row(x + offset + C * L, L * sizeof(floating))
                if relu_output != NULL:
                    prefetch_row(relu_output + offset + C * L, L * sizeof(floating))
            if relu_from_x:
                affine_masked_gradient_sums(g + offset, x + offset, gx + offset if gx != NULL else NULL,
                                            L, centre_high, centre_low, relu_scale, relu_shift,
                                            &block_g, &block_g_centered)
            elif relu_output != NULL:
                masked_gradient_sums(g + offset, relu_output + offset, x + offset,
                                     gx + offset if gx != NULL else NULL, L, centre_high,
                                     centre_low, &block_g, &block_g_centered)
            else:
                gradient_sums(g + offset, x + offset, L, centre_high, centre_low, &block_g,
                              &block_g_centered)
        sum_g = sum_g + block_g
        sum_g_centered = sum_g_centered + block_g_centered
        first = last
    grad_bias[0] = sum_g
    grad_weight[0] = sum_g_centered * invstd
    if gx == NULL:
        return
    gain = weight * invstd
    if training:
        mean_g = sum_g / count
        slope = invstd * invstd * sum_g_centered / count
    else:
        mean_g = 0
        slope = 0
    # gain * (g - mean_g - (x - centre) * slope), the constants rounded
    # once to the input's precision so that the loop runs in it.
    gain_in = <floating>gain
    mean_g_in = <floating>mean_g
    gain_slope_in = <floating>(gain * slope)
    # after a ReLU, gx holds its gradient m from the first pass: updated in place
    gradient = gx if relu_output != NULL or relu_from_x else g
    for n in range(N):
        offset = (n * C + c) * L
        if n + 1 < N:
            prefetch_row_for_writing(gx + offset + C * L, L * sizeof(floating))
        # gx = (g - mean_g) * gain - (x - centre) * gain * slope
        gradient_row(gradient + offset, x + offset, gx + offset, L, mean_g_in, gain_in, centre_high,
                     centre_low, gain_slope_in)


def batch_norm_backward(const floating[:, :, ::1] grad_output, const floating[:, :, ::1] input,
                        const double[::1] mean, const double[::1] invstd, const double[::1] weight,
                        floating[:, :, ::1] grad_input, double[::1] grad_weight, double[::1] grad_bias,
                        bint training, bint compute_grad_input, int num_threads):
    """Closed-form batch-norm backward, one channel per thread, two passes over it.

    grad_bias[c] = sum(g), grad_weight[c] = sum(g * xhat) with xhat = (x - mean) * invstd;
    grad_input (when compute_grad_input) as in the module docstring.
    """
    cdef Py_ssize_t N = input.shape[0], C = input.shape[1], L = input.shape[2], c
    cdef const floating* g = &grad_output[0, 0, 0]
    cdef const floating* x = &input[0, 0, 0]
    cdef floating* gx = &grad_input[0, 0, 0] if compute_grad_input else NULL
    cdef double* grad_weight_ptr = &grad_weight[0]
    cdef double* grad_bias_ptr = &grad_bias[0]
    for c in prange(C, nogil=True, schedule="static", num_threads=num_threads):
        channel_backward(g, <const floating*>NULL, x, gx, N, C, L, c, mean[c], invstd[c], weight[c],
                         training, grad_weight_ptr + c, grad_bias_ptr + c, False, 0, 0)


def batch_norm_relu_backward(const floating[:, :, ::1] grad_output,
                             const floating[:, :, ::1] relu_output,
                             const floating[:, :, ::1] input, const double[::1] mean,
                             const double[::1] invstd, const double[::1] weight,
                             floating[:, :, ::1] grad_input, double[::1] grad_weight,
                             double[::1] grad_bias, bint training, bint compute_grad_input,
                             int num_threads, const floating[::1] relu_scale=None,
                             const floating[::1] relu_shift=None):
    """batch_norm_backward of relu(batch_norm(input)): grad_output is the gradient of the
    ReLU's output relu_output (what batch_norm_forward(relu=True) wrote), masked to
    relu_output > 0 on the fly. The results equal the ReLU backward followed by
    batch_norm_backward bit for bit, without the masked gradient in memory.

    relu_scale, relu_shift (C values each: the scale and shift batch_norm_forward
    normalised channel c with, in the input's precision): the mask recomputed from the
    input instead, by the expression the forward computed, so the same mask and every
    result the same, bit for bit; relu_output is then not read (one array fewer).
    """
    cdef Py_ssize_t N = input.shape[0], C = input.shape[1], L = input.shape[2], c
    cdef const floating* g = &grad_output[0, 0, 0]
    cdef const floating* y = &relu_output[0, 0, 0]
    cdef const floating* x = &input[0, 0, 0]
    cdef floating* gx = &grad_input[0, 0, 0] if compute_grad_input else NULL
    cdef double* grad_weight_ptr = &grad_weight[0]
    cdef double* grad_bias_ptr = &grad_bias[0]
    cdef bint from_x = relu_scale is not None
    if from_x and (relu_shift is None or relu_scale.shape[0] != C or relu_shift.shape[0] != C):
        raise ValueError(f"batch_norm_relu_backward: relu_scale and relu_shift need {C} values each")
    if from_x:
        y = NULL          # never read, not even prefetched
    for c in prange(C, nogil=True, schedule="static", num_threads=num_threads):
        channel_backward(g, y, x, gx, N, C, L, c, mean[c], invstd[c], weight[c], training,
                         grad_weight_ptr + c, grad_bias_ptr + c, from_x,
                         relu_scale[c] if from_x else 0, relu_shift[c] if from_x else 0)


include "cpu_path.pxi"  # best_isa, current_isa, set_isa: the instruction-set path of this module


def kernel_paths():
    """{kernel: path} for this module's kernels under the current choice: every
    row loop of csrc/lane_sums.h takes the chosen path."""
    return {"batch_norm": current_path_name()}
