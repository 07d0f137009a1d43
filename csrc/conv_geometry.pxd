# The geometry of one convolution and the helpers every convolution kernel
# uses (csrc/conv.pyx and csrc/depthwise.pyx cimport them). Everything here is
# inline, so this .pxd has no module of its own.
from cython cimport floating


cdef struct Geometry:
    # sizes of one image: channels in and out, input and output spatial sizes
    Py_ssize_t C, M, D, H, W, Do, Ho, Wo
    # per spatial axis: kernel size, stride, padding before, dilation
    Py_ssize_t kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw
    Py_ssize_t K, S, P       # kd*kh*kw, D*H*W, Do*Ho*Wo


cdef inline Geometry make_geometry(const Py_ssize_t* input_shape, const Py_ssize_t* output_shape,
                                   const Py_ssize_t* kernel, tuple stride, tuple padding,
                                   tuple dilation):
    """input_shape (N, C, D, H, W), output_shape (N, M, Do, Ho, Wo), kernel (kd, kh, kw);
    stride, padding (before), dilation: 3-tuples."""
    cdef Geometry g
    g.C, g.D, g.H, g.W = input_shape[1], input_shape[2], input_shape[3], input_shape[4]
    g.M, g.Do, g.Ho, g.Wo = output_shape[1], output_shape[2], output_shape[3], output_shape[4]
    g.kd, g.kh, g.kw = kernel[0], kernel[1], kernel[2]
    g.sd, g.sh, g.sw = stride
    g.pd, g.ph, g.pw = padding
    g.dd, g.dh, g.dw = dilation
    g.K = g.kd * g.kh * g.kw
    g.S = g.D * g.H * g.W
    g.P = g.Do * g.Ho * g.Wo
    return g


cdef inline Geometry geometry_from_tuples(tuple input_shape, tuple output_shape, tuple kernel,
                                          tuple stride, tuple padding, tuple dilation):
    """make_geometry from Python tuples: shapes (N, C, D, H, W), (N, M, Do, Ho, Wo), kernel (kd, kh, kw)."""
    cdef Py_ssize_t in_shape[5]
    cdef Py_ssize_t out_shape[5]
    cdef Py_ssize_t kernel_size[3]
    cdef int i
    if len(input_shape) != 5 or len(output_shape) != 5 or len(kernel) != 3:
        raise ValueError(f"conv geometry: shapes (N, C, D, H, W) and a 3-d kernel expected, got "
                         f"{input_shape}, {output_shape}, {kernel}")
    for i in range(5):
        in_shape[i] = input_shape[i]
        out_shape[i] = output_shape[i]
    for i in range(3):
        kernel_size[i] = kernel[i]
    return make_geometry(in_shape, out_shape, kernel_size, stride, padding, dilation)


cdef inline tuple shape5(const Py_ssize_t* shape):
    """The shape of a 5-d memoryview as a tuple."""
    return (shape[0], shape[1], shape[2], shape[3], shape[4])


cdef inline void valid_range(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                             Py_ssize_t out_size, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Output positions o in [lo, hi) with 0 <= o*stride + offset < size."""
    cdef Py_ssize_t first = 0, last
    if offset < 0:
        first = (-offset + stride - 1) // stride
    if size - 1 - offset < 0:
        last = 0
    else:
        last = (size - 1 - offset) // stride + 1
    if last > out_size:
        last = out_size
    if first > last:
        first = last
    lo[0] = first
    hi[0] = last


cdef inline Py_ssize_t input_row(const Geometry* g, Py_ssize_t a, Py_ssize_t b,
                                 Py_ssize_t od, Py_ssize_t oh) noexcept nogil:
    """Offset of the input row that output row (od, oh) reads at tap (a, b), or -1 in the padding."""
    cdef Py_ssize_t id_ = od * g.sd - g.pd + a * g.dd
    cdef Py_ssize_t ih = oh * g.sh - g.ph + b * g.dh
    if id_ < 0 or id_ >= g.D or ih < 0 or ih >= g.H:
        return -1
    return (id_ * g.H + ih) * g.W


cdef inline void fill(floating* x, Py_ssize_t n, floating value) noexcept nogil:
    """x[i] = value"""
    cdef Py_ssize_t i
    for i in range(n):
        x[i] = value
