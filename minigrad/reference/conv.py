"""Readable NumPy reference of the convolution kernels: the specification.

Arrays have three spatial axes (N, C, D, H, W), like the compiled kernels;
geometry is given per axis as 3-tuples (stride, padding before, dilation).
Output position o on an axis reads input position o*stride - pad + k*dilation
for kernel offset k; positions outside the input read zero.
"""
import itertools

import numpy as np


def im2col(x, output_size, kernel, stride, padding, dilation):
    """x (N, C, D, H, W) -> columns (N, C*K, P), row c*K + k = channel c at offset k."""
    N, C = x.shape[:2]
    K, P = int(np.prod(kernel)), int(np.prod(output_size))
    # Pad generously on both sides so every read lands inside the array.
    pads = [(p, max(0, (o - 1) * s + (k - 1) * d - p - n + 1))
            for n, o, k, s, p, d in zip(x.shape[2:], output_size, kernel, stride, padding, dilation)]
    padded = np.pad(x, [(0, 0), (0, 0)] + pads)
    columns = np.empty((N, C, K) + tuple(output_size), dtype=x.dtype)
    for k, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
        window = tuple(slice(a * d, a * d + (o - 1) * s + 1, s)
                       for a, d, o, s in zip(offset, dilation, output_size, stride))
        columns[:, :, k] = padded[(slice(None), slice(None)) + window]
    return columns.reshape(N, C * K, P)


def col2im(columns, input_shape, output_size, kernel, stride, padding, dilation):
    """The adjoint of im2col: add every column entry back where it was read from."""
    N, C = input_shape[:2]
    K = int(np.prod(kernel))
    pads = [(p, max(0, (o - 1) * s + (k - 1) * d - p - n + 1))
            for n, o, k, s, p, d in zip(input_shape[2:], output_size, kernel, stride, padding, dilation)]
    padded = np.zeros((N, C) + tuple(n + a + b for n, (a, b) in zip(input_shape[2:], pads)), dtype=columns.dtype)
    columns = columns.reshape((N, C, K) + tuple(output_size))
    for k, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
        window = tuple(slice(a * d, a * d + (o - 1) * s + 1, s)
                       for a, d, o, s in zip(offset, dilation, output_size, stride))
        padded[(slice(None), slice(None)) + window] += columns[:, :, k]
    inside = tuple(slice(a, a + n) for (a, _), n in zip(pads, input_shape[2:]))
    return padded[(slice(None), slice(None)) + inside]


def conv(x, weight, bias, output_size, stride, padding, dilation, groups):
    """y (N, M, *output_size) = weight (M, C/G, *kernel) applied to x (N, C, D, H, W)."""
    N, C = x.shape[:2]
    M = weight.shape[0]
    kernel = weight.shape[2:]
    columns = im2col(x, output_size, kernel, stride, padding, dilation)   # (N, C*K, P)
    columns = columns.reshape(N, groups, -1, columns.shape[-1])           # (N, G, C/G*K, P)
    w = weight.reshape(groups, M // groups, -1)                           # (G, M/G, C/G*K)
    y = np.einsum("gmk,ngkp->ngmp", w, columns).reshape((N, M) + tuple(output_size))
    if bias is not None:
        y = y + bias.reshape(1, M, 1, 1, 1)
    return y


def conv_input_grad(grad_out, weight, input_shape, stride, padding, dilation, groups):
    """dL/dx (input_shape) of conv for dL/dy = grad_out (N, M, *out): col2im(W^T @ dL/dy), group by group."""
    N, M = grad_out.shape[:2]
    Cg = weight.shape[1]
    kernel = weight.shape[2:]
    P = int(np.prod(grad_out.shape[2:]))
    w = weight.reshape(groups, M // groups, -1)                           # (G, M/G, C/G*K)
    gy = grad_out.reshape(N, groups, M // groups, P)                      # (N, G, M/G, P)
    columns = np.einsum("gmk,ngmp->ngkp", w, gy)                          # W^T @ dY: (N, G, C/G*K, P)
    columns = columns.reshape(N, groups * Cg * int(np.prod(kernel)), P)   # (N, C*K, P)
    return col2im(columns, input_shape, grad_out.shape[2:], kernel, stride, padding, dilation)


def conv_weight_grad(x, grad_out, kernel, stride, padding, dilation, groups):
    """dL/dW (M, C/G, *kernel) of conv: dL/dy @ columns^T, summed over the images, group by group."""
    N, C = x.shape[:2]
    M = grad_out.shape[1]
    columns = im2col(x, grad_out.shape[2:], kernel, stride, padding, dilation)   # (N, C*K, P)
    columns = columns.reshape(N, groups, -1, columns.shape[-1])                   # (N, G, C/G*K, P)
    gy = grad_out.reshape(N, groups, M // groups, -1)                             # (N, G, M/G, P)
    grad_w = np.einsum("ngmp,ngkp->gmk", gy, columns)                             # (G, M/G, C/G*K)
    return grad_w.reshape((M, C // groups) + tuple(kernel))


def conv_transpose(x, weight, bias, output_size, stride, padding, dilation, groups):
    """The adjoint of conv: x (N, Cin, *in) with weight (Cin, Cout/G, *kernel) -> (N, Cout, *output_size).

    Seen as a convolution from the output to x, this is that convolution's input gradient."""
    out_channels = weight.shape[1] * groups
    y = conv_input_grad(x, weight, (x.shape[0], out_channels) + tuple(output_size), stride, padding, dilation,
                        groups)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1, 1)
    return y


def pack_columns(x, output_size, kernel, stride, padding, dilation, rows, columns, transposed=False, nr=32):
    """The implicit GEMM's packed block (csrc/im2col_pack.h): block [rows, columns]
    of B = im2col(x) (C*K, P) of one image x (1, C, D, H, W), or of B =
    im2col(x)^T (P, C*K), packed as the GEMM packs a stored B
    (panels nr columns wide: the path's NR)."""
    from minigrad.reference.gemm import pack_b
    B = im2col(x, output_size, kernel, stride, padding, dilation)[0]     # (C*K, P)
    if transposed:
        B = B.T                                                           # (P, C*K)
    return pack_b(B[rows, columns], nr)


# Winograd F(2x2, 3x3) (csrc/winograd.h): y (2x2) = A^T [sum over c of (G g G^T) * (B^T d B)] A
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


def winograd_conv(x, weight, bias, output_size, padding):
    """conv of x (N, C, 1, H, W) with weight (M, C, 1, 3, 3), stride 1, by
    Winograd F(2x2, 3x3): the outputs in 2x2 tiles, each from the 4x4 patch
    d of the padded input under it (tiles 2 apart),

        y_tile = A^T [ sum over c of U[m, c] * V[c] ] A,
        U = G g G^T (4x4 per filter), V = B^T d B (4x4 per patch),

    16 multiplies per tile and channel pair where the direct sum takes 36.
    output_size (1, Ho, Wo); padding (0, ph, pw) before (zeros after as needed)."""
    N, C, _, H, W = x.shape
    M = weight.shape[0]
    _, Ho, Wo = output_size
    th, tw = -(-Ho // 2), -(-Wo // 2)
    ph, pw = padding[1], padding[2]
    padded = np.zeros((N, C, 2 * th + 2, 2 * tw + 2), dtype=np.float64)
    rows, cols = min(H, 2 * th + 2 - ph), min(W, 2 * tw + 2 - pw)
    padded[:, :, ph:ph + rows, pw:pw + cols] = x[:, :, 0, :rows, :cols]
    U = np.einsum("ai,mcij,bj->mcab", WINOGRAD_G, weight[:, :, 0], WINOGRAD_G)        # (M, C, 4, 4)
    # patches (N, C, th, tw, 4, 4): d[.., i, j, r, s] = padded[.., 2i + r, 2j + s]
    patches = np.lib.stride_tricks.sliding_window_view(padded, (4, 4), axis=(2, 3))[:, :, ::2, ::2]
    V = np.einsum("ar,ncijrs,bs->ncijab", WINOGRAD_BT, patches, WINOGRAD_BT)            # (N, C, th, tw, 4, 4)
    products = np.einsum("mcab,ncijab->nmijab", U, V)                                    # (N, M, th, tw, 4, 4)
    tiles = np.einsum("ya,nmijab,xb->nmijyx", WINOGRAD_AT, products, WINOGRAD_AT)        # (N, M, th, tw, 2, 2)
    y = tiles.transpose(0, 1, 2, 4, 3, 5).reshape(N, M, 2 * th, 2 * tw)[:, :, :Ho, :Wo]
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y[:, :, None]
