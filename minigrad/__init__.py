"""minigrad: a small, readable deep-learning engine.

    Tensor (minigrad/tensor.py)          an array that records operations
      -> Function (minigrad/autograd.py,  forward and backward of each op,
         minigrad/ops/)                   the backward walk of the graph
      -> minigrad/kernels/                the one typed boundary to compiled code
      -> minigrad/_C (csrc/*.pyx)         OpenMP-parallel Cython kernels
"""
__version__ = "0.1.0"

# malloc first: it keeps freed memory mapped between steps (minigrad/allocator.py).
from minigrad import allocator  # noqa: F401

# autograd first: tensor.py and the ops build on its Function.
from minigrad.autograd import (Function, enable_grad, gradcheck, is_grad_enabled,  # noqa: F401
                               no_grad, set_grad_enabled)
from minigrad.tensor import Size, Tensor, bool_, float32, float64, int32, int64, uint8  # noqa: F401
from minigrad.creation import (arange, empty, eye, from_numpy, full, full_like, linspace,  # noqa: F401
                               ones, ones_like, rand, randint, randn, randperm, tensor, zeros,
                               zeros_like)
from minigrad.ops.elementwise import abs, clamp, exp, log, maximum, minimum, sqrt, where  # noqa: F401
from minigrad.ops.activation import relu, sigmoid, tanh  # noqa: F401
from minigrad.ops.linalg import matmul  # noqa: F401
from minigrad.ops.reduction import amax, amin, argmax, argmin, max, mean, min, sum, var  # noqa: F401
from minigrad.ops.shape import (cat, expand, flatten, permute, reshape, squeeze, stack,  # noqa: F401
                                transpose, unsqueeze)
from minigrad.random import get_rng_state, initial_seed, manual_seed, set_rng_state  # noqa: F401
from minigrad.kernels.threads import get_num_threads, set_num_threads  # noqa: F401
from minigrad.config import show_config  # noqa: F401
from minigrad.reference import reference_kernels_enabled, use_reference_kernels  # noqa: F401
from minigrad.serialization import load, save  # noqa: F401
# Subpackages, in the order they build on each other.
from minigrad import nn  # noqa: F401  (layers build on everything above)
from minigrad import data, optim  # noqa: F401
from minigrad import profiler, utils, viz  # noqa: F401  (tools for looking inside models)
from minigrad import autograd, backends, multiprocessing  # noqa: F401  (PyTorch's module paths)

inference_mode = autograd.inference_mode  # PyTorch's evaluation-time no_grad

# PyTorch's dtype aliases.
float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64
bool = bool_  # noqa: A001

# The rest of PyTorch's top-level API (docs/06-pytorch-names.md lists the mapping).
from minigrad.tensor import float16, int8, int16  # noqa: E402, F401
from minigrad.devices import device  # noqa: E402, F401
from minigrad.random import Generator  # noqa: E402, F401
from minigrad.creation import (as_tensor, bernoulli, empty_like, logspace, multinomial,  # noqa: E402, F401
                               normal, rand_like, randint_like, randn_like)
from minigrad.ops.pointwise import (acos, acosh, add, allclose, arccos, arccosh, arcsin,  # noqa: E402, F401
                                    arcsinh, arctan, arctan2, arctanh, asin, asinh, atan, atan2,
                                    atanh, ceil, copysign, cos, cosh, div, divide, equal, erf, erfc,
                                    erfinv, exp2, expm1, fix, float_power, floor, floor_divide, fmod,
                                    frac, hypot, isclose, isfinite, isinf, isnan, isneginf, isposinf,
                                    isreal, lerp, log1p, log2, log10, mul, multiply, nan_to_num,
                                    reciprocal, remainder, round, rsqrt, sign, sin, sinh, square,
                                    sub, subtract, tan, tril, triu, true_divide, trunc)
from minigrad.ops.bitwise import (bitwise_and, bitwise_left_shift, bitwise_not,  # noqa: E402, F401
                                  bitwise_or, bitwise_right_shift, bitwise_xor, logical_and,
                                  logical_not, logical_or, logical_xor)
from minigrad.ops.reduction import (all, any, cummax, cummin, cumprod, cumsum,  # noqa: E402, F401
                                    logcumsumexp, logsumexp, median, mode, norm, prod, std, std_mean,
                                    var_mean)
from minigrad.ops.shape import (chunk, flip, fliplr, flipud, moveaxis, movedim, narrow,  # noqa: E402, F401
                                repeat_interleave, roll, split, swapaxes, swapdims, t, tile, unbind)
from minigrad.ops.indexing import (argsort, argwhere, gather, index_select, masked_fill,  # noqa: E402, F401
                                   nonzero, scatter, scatter_add, scatter_reduce, sort, take,
                                   take_along_dim, topk)
from minigrad.ops.linalg import bmm, dot, einsum, ger, inner, mm, mv, outer  # noqa: E402, F401
from minigrad.ops.activation import log_softmax, softmax  # noqa: E402, F401
from minigrad.ops.pointwise_activations import celu, logit, selu, threshold  # noqa: E402, F401
from minigrad import accelerator, cuda, linalg  # noqa: E402, F401
clip = clamp
concat = concatenate = cat
half = float16
short = int16
int = int32  # noqa: A001  (torch.int is int32)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


# --- shapefns ---
from minigrad.ops.construction import (atleast_1d, atleast_2d, atleast_3d, block_diag,  # noqa: E402, F401
                                       broadcast_shapes, broadcast_tensors, broadcast_to, cartesian_prod,
                                       column_stack, combinations, diag, diag_embed, diagflat, diagonal,
                                       dsplit, dstack, hsplit, hstack, index_add, index_copy, index_fill,
                                       kron, masked_select, meshgrid, rot90, row_stack, select,
                                       tensor_split, tensordot, trace, tril_indices, triu_indices,
                                       unflatten, unravel_index, vander, vsplit, vstack)
from minigrad.settings import (are_deterministic_algorithms_enabled, can_cast, finfo,  # noqa: E402, F401
                               get_default_dtype, iinfo, is_deterministic_algorithms_warn_only_enabled,
                               promote_types, result_type, set_default_dtype, set_printoptions,
                               use_deterministic_algorithms)
from minigrad.random import seed  # noqa: E402, F401
# --- mathfns ---
from minigrad.ops.fused_linalg import (addbmm, addcdiv, addcmul, addmm, addmv, addr,  # noqa: E402, F401
                                       baddbmm, cross)
from minigrad.ops.norm_ops import cdist, dist, renorm  # noqa: E402, F401
from minigrad.ops.special_math import (digamma, fmax, fmin, frexp, gcd, heaviside, i0,  # noqa: E402, F401
                                       lcm, ldexp, lgamma, logaddexp, logaddexp2, mvlgamma,
                                       nextafter, polygamma, signbit, sinc, xlogy)
from minigrad.ops.special_math import gammainc as igamma, gammaincc as igammac  # noqa: E402, F401
from minigrad import special  # noqa: E402, F401
# --- end mathfns ---
# --- statfns ---
from minigrad.ops.statistics import (aminmax, bincount, bucketize, corrcoef,  # noqa: E402, F401
                                     count_nonzero, cov, cumulative_trapezoid, diff, gradient, histc,
                                     histogram, kthvalue, msort, nanmean, nanmedian, nanquantile,
                                     nansum, poisson, quantile, searchsorted, trapezoid, trapz, unique,
                                     unique_consecutive)
# --- linalg ---
# torch's top-level linear algebra (minigrad/ops/linalg_decompositions.py; torch.linalg is minigrad.linalg).
from minigrad.ops.linalg_decompositions import (chain_matmul, cholesky_inverse, cholesky_solve,  # noqa: E402, F401
                                                det, inverse, logdet, matrix_exp, matrix_power,
                                                pinverse, slogdet)
from minigrad.ops.linalg_decompositions import torch_cholesky as cholesky  # noqa: E402, F401
from minigrad.ops.linalg_decompositions import torch_qr as qr  # noqa: E402, F401
from minigrad.ops.linalg_decompositions import torch_svd as svd  # noqa: E402, F401
# --- inplace ---
# PyTorch's other names and small utilities (minigrad/ops/aliases.py); inner there also takes N-d tensors.
from minigrad.ops.aliases import (absolute, asarray, clamp_max, clamp_min, clone, deg2rad,  # noqa: E402, F401, F811
                                  detach, eq, ge, greater, greater_equal, gt, inner, is_nonzero,
                                  is_same_size, is_signed, le, less, less_equal, lt, ne, neg,
                                  negative, not_equal, positive, pow, rad2deg, range, ravel, rsub,
                                  scalar_tensor, sgn, split_with_sizes, typename, vdot)
# --- end inplace ---
# --- torchlevel ---
# The functional ops under torch's top-level names (minigrad/ops/torch_level.py), window functions,
# histogramdd, binomial, lu_unpack, and the CPU-meaningful runtime switches.
from minigrad.ops.torch_level import (adaptive_avg_pool1d, adaptive_max_pool1d, alpha_dropout,  # noqa: E402, F401
                                      avg_pool1d, batch_norm, bilinear, binary_cross_entropy_with_logits,
                                      channel_shuffle, constant_pad_nd, conv1d, conv2d, conv3d,
                                      conv_transpose1d, conv_transpose2d, conv_transpose3d,
                                      cosine_embedding_loss, cosine_similarity, ctc_loss, dropout, embedding,
                                      embedding_bag, feature_alpha_dropout, feature_dropout, group_norm,
                                      hardshrink, hinge_embedding_loss, instance_norm, kl_div, layer_norm,
                                      margin_ranking_loss, max_pool1d, max_pool1d_with_indices, max_pool2d,
                                      max_pool3d, pairwise_distance, pdist, pixel_shuffle, pixel_unshuffle,
                                      poisson_nll_loss, prelu, rms_norm, rrelu, triplet_margin_loss)
from minigrad.ops.windows import (bartlett_window, blackman_window, hamming_window,  # noqa: E402, F401
                                  hann_window, kaiser_window)
from minigrad.ops.histogramdd_binomial_lu import binomial, histogramdd, lu_unpack  # noqa: E402, F401
from minigrad.ops.spectral import istft, stft  # noqa: E402, F401
from minigrad.runtime_settings import (get_default_device, get_deterministic_debug_mode,  # noqa: E402, F401
                                       get_float32_matmul_precision, get_num_interop_threads,
                                       is_inference_mode_enabled, is_warn_always_enabled,
                                       set_default_device, set_deterministic_debug_mode,
                                       set_float32_matmul_precision, set_flush_denormal,
                                       set_num_interop_threads, set_warn_always)
# --- end torchlevel ---
# --- hooks ---
from minigrad.autograd_hooks import (is_anomaly_check_nan_enabled, is_anomaly_enabled,  # noqa: E402, F401
                                     set_anomaly_enabled)
from minigrad.ops.layout import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402, F401
                                 layout, memory_format, preserve_format, strided)
from minigrad.ops.scatter_writes import (diagonal_scatter, index_put, index_reduce, isin,  # noqa: E402, F401
                                         masked_scatter, put, select_scatter, slice_scatter)
# --- end hooks ---
# --- torchmisc ---
# Strided views, the *_copy ops, unsafe splits, nonzero_static (minigrad/ops/torch_misc.py).
from minigrad.ops.torch_misc import (alias_copy, as_strided, detach_copy, diagonal_copy,  # noqa: E402, F401
                                     empty_strided, expand_copy, frombuffer, narrow_copy, nonzero_static,
                                     permute_copy, select_copy, slice_copy, split_copy,
                                     split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy,
                                     unbind_copy, unfold_copy, unsafe_chunk, unsafe_split,
                                     unsafe_split_with_sizes, unsqueeze_copy, view_copy)
# The older linear-algebra names (minigrad/ops/linalg_misc.py).
from minigrad.ops.linalg_misc import (frobenius_norm, geqrf, nuclear_norm, orgqr, ormqr,  # noqa: E402, F401
                                      pca_lowrank, svd_lowrank, triangular_solve)
# --- end torchmisc ---
# --- toplevelgaps ---
# Constants, minigrad.dtype and the legacy tensor types (minigrad/tensor_types.py), the answers for a
# real tensor (minigrad/ops/tensor_attributes.py), the top-level in-place functions
# (minigrad/ops/toplevel_inplace.py), compile (minigrad/eager_compile.py) and minigrad.cpu.
import math as _math  # noqa: E402

pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None
from minigrad.tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,  # noqa: E402, F401
                                   FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor, dtype,
                                   set_default_tensor_type)
from minigrad.ops.tensor_attributes import (conj, conj_physical, get_device, imag, is_complex,  # noqa: E402, F401
                                            is_conj, is_inference, is_neg, real, resolve_conj, resolve_neg)
from minigrad.ops.toplevel_inplace import (abs_, acos_, acosh_, addmv_, alpha_dropout_, arccos_,  # noqa: E402, F401
                                           arccosh_, arcsin_, arcsinh_, arctan_, arctanh_, as_strided_,
                                           asin_, asinh_, atan_, atanh_, ceil_, celu_, clamp_, clamp_max_,
                                           clamp_min_, clip_, conj_physical_, cos_, cosh_, deg2rad_,
                                           detach_, dropout_, embedding_renorm_, erf_, erfc_, exp2_, exp_,
                                           expm1_, feature_alpha_dropout_, feature_dropout_, fill, fill_,
                                           fix_, floor_, frac_, gcd_, i0_, index_put_, lcm_, ldexp_, log10_,
                                           log1p_, log2_, log_, logit_, nan_to_num_, neg_, negative_,
                                           rad2deg_, reciprocal_, relu_, resize_as_, round_, rrelu_, rsqrt_,
                                           selu_, sigmoid_, sin_, sinc_, sinh_, sqrt_, square_, tan_, tanh_,
                                           threshold_, trunc_, xlogy_, zero_)
from minigrad.eager_compile import compile  # noqa: E402, F401, A004
from minigrad import cpu  # noqa: E402, F401
# --- end toplevelgaps ---
# --- distributions ---
from minigrad import distributions  # noqa: E402, F401  (torch.distributions: minigrad/distributions/)
# --- end distributions ---
# --- testingutils ---
from minigrad import signal, testing  # noqa: E402, F401  (torch.signal.windows, torch.testing)
# --- end testingutils ---
# --- funcgaps ---
# torch.autograd.functional (jacobian vjp jvp) and torch.func (grad vjp jacrev jacfwd vmap ...).
import sys as _sys  # noqa: E402
from minigrad import autograd_functional as _autograd_functional  # noqa: E402
autograd.functional = _autograd_functional
_sys.modules["minigrad.autograd.functional"] = _autograd_functional
from minigrad import func  # noqa: E402, F401
# --- end funcgaps ---

# --- hookgaps ---
# torch.autograd.graph: saved_tensors_hooks, save_on_cpu, register_multi_grad_hook, ...
from minigrad import autograd_graph as _autograd_graph  # noqa: E402
autograd.graph = _autograd_graph
_sys.modules["minigrad.autograd.graph"] = _autograd_graph

# --- gaps7 ---
# torch.vmap, torch.autograd.grad_mode / anomaly_mode / variable, the multithreading flag, the build
# flags has_openmp ... and is_storage (minigrad/autograd_modes.py).
from minigrad import autograd_modes as _autograd_modes  # noqa: E402
from minigrad.func import vmap  # noqa: E402, F401
_autograd_modes.install()
_build_flags = _autograd_modes.build_flags()
has_openmp, has_lapack = _build_flags["has_openmp"], _build_flags["has_lapack"]
has_mkl, has_spectral = _build_flags["has_mkl"], _build_flags["has_spectral"]
is_storage = _autograd_modes.is_storage
from minigrad.ops.conv_tbc import conv_tbc  # noqa: E402, F401
native_channel_shuffle = channel_shuffle  # noqa: F821
from minigrad.ops.legacy_tensor import adjoint, angle  # noqa: E402, F401
# --- end gaps7 ---

# --- fwdad ---
# torch.autograd.forward_ad: dual_level, make_dual, unpack_dual (tangents read off the reverse graph).
from minigrad import autograd_forward_ad as _autograd_forward_ad  # noqa: E402
autograd.forward_ad = _autograd_forward_ad
_sys.modules["minigrad.autograd.forward_ad"] = _autograd_forward_ad
# --- end fwdad ---
