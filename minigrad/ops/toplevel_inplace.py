"""PyTorch's top-level in-place functions: ``torch.sin_(x)`` is ``x.sin_()``.

Each function calls the tensor's in-place method (minigrad/inplace_methods.py,
minigrad/tensor.py), so the version counter, the graph rebasing of a non-leaf
and the error for a leaf that requires grad are those of the method. The few
that have no Tensor method in PyTorch (the activations, the dropouts,
embedding_renorm_) write through ``Tensor._inplace`` themselves.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops.torch_misc import _require_tensor


def _method(name, input, *args, **kwargs):
    _require_tensor(name, input)
    return getattr(input, name)(*args, **kwargs)


# ------------------------------------------------------------- one-argument math
def abs_(input): return _method("abs_", input)  # noqa: E704  (one line per function)
def acos_(input): return _method("acos_", input)  # noqa: E704
def acosh_(input): return _method("acosh_", input)  # noqa: E704
def asin_(input): return _method("asin_", input)  # noqa: E704
def asinh_(input): return _method("asinh_", input)  # noqa: E704
def atan_(input): return _method("atan_", input)  # noqa: E704
def atanh_(input): return _method("atanh_", input)  # noqa: E704
def arccos_(input): return _method("arccos_", input)  # noqa: E704
def arccosh_(input): return _method("arccosh_", input)  # noqa: E704
def arcsin_(input): return _method("arcsin_", input)  # noqa: E704
def arcsinh_(input): return _method("arcsinh_", input)  # noqa: E704
def arctan_(input): return _method("arctan_", input)  # noqa: E704
def arctanh_(input): return _method("arctanh_", input)  # noqa: E704
def ceil_(input): return _method("ceil_", input)  # noqa: E704
def cos_(input): return _method("cos_", input)  # noqa: E704
def cosh_(input): return _method("cosh_", input)  # noqa: E704
def deg2rad_(input): return _method("deg2rad_", input)  # noqa: E704
def rad2deg_(input): return _method("rad2deg_", input)  # noqa: E704
def erf_(input): return _method("erf_", input)  # noqa: E704
def erfc_(input): return _method("erfc_", input)  # noqa: E704
def exp_(input): return _method("exp_", input)  # noqa: E704
def exp2_(input): return _method("exp2_", input)  # noqa: E704
def expm1_(input): return _method("expm1_", input)  # noqa: E704
def fix_(input): return _method("fix_", input)  # noqa: E704
def floor_(input): return _method("floor_", input)  # noqa: E704
def frac_(input): return _method("frac_", input)  # noqa: E704
def i0_(input): return _method("i0_", input)  # noqa: E704
def log_(input): return _method("log_", input)  # noqa: E704
def log10_(input): return _method("log10_", input)  # noqa: E704
def log1p_(input): return _method("log1p_", input)  # noqa: E704
def log2_(input): return _method("log2_", input)  # noqa: E704
def neg_(input): return _method("neg_", input)  # noqa: E704
def negative_(input): return _method("negative_", input)  # noqa: E704
def reciprocal_(input): return _method("reciprocal_", input)  # noqa: E704
def relu_(input): return _method("relu_", input)  # noqa: E704
def rsqrt_(input): return _method("rsqrt_", input)  # noqa: E704
def sigmoid_(input): return _method("sigmoid_", input)  # noqa: E704
def sin_(input): return _method("sin_", input)  # noqa: E704
def sinc_(input): return _method("sinc_", input)  # noqa: E704
def sinh_(input): return _method("sinh_", input)  # noqa: E704
def sqrt_(input): return _method("sqrt_", input)  # noqa: E704
def square_(input): return _method("square_", input)  # noqa: E704
def tan_(input): return _method("tan_", input)  # noqa: E704
def tanh_(input): return _method("tanh_", input)  # noqa: E704
def trunc_(input): return _method("trunc_", input)  # noqa: E704
def zero_(input): return _method("zero_", input)  # noqa: E704
def detach_(input): return _method("detach_", input)  # noqa: E704


# ------------------------------------------------------------- with arguments
def clamp_(input, min=None, max=None): return _method("clamp_", input, min, max)  # noqa: E704, A002
def clip_(input, min=None, max=None): return _method("clamp_", input, min, max)  # noqa: E704, A002
def clamp_min_(input, min): return _method("clamp_min_", input, min)  # noqa: E704, A002
def clamp_max_(input, max): return _method("clamp_max_", input, max)  # noqa: E704, A002
def gcd_(input, other): return _method("gcd_", input, other)  # noqa: E704
def lcm_(input, other): return _method("lcm_", input, other)  # noqa: E704
def ldexp_(input, other): return _method("ldexp_", input, other)  # noqa: E704
def xlogy_(input, other): return _method("xlogy_", input, other)  # noqa: E704
def logit_(input, eps=None): return _method("logit_", input, eps)  # noqa: E704
def round_(input, *, decimals=0): return _method("round_", input, decimals=decimals)  # noqa: E704
def fill_(input, value): return _method("fill_", input, value)  # noqa: E704
def index_put_(input, indices, values, accumulate=False): return _method("index_put_", input, indices, values, accumulate)  # noqa: E704, E501
def addmv_(input, mat, vec, *, beta=1, alpha=1): return _method("addmv_", input, mat, vec, beta=beta, alpha=alpha)  # noqa: E704, E501
def as_strided_(input, size, stride, storage_offset=None): return _method("as_strided_", input, size, stride, storage_offset)  # noqa: E704, E501
def resize_as_(input, the_template, *, memory_format=None): return _method("resize_as_", input, the_template, memory_format)  # noqa: E704, E501
def conj_physical_(input): return _method("conj_physical_", input)  # noqa: E704


def nan_to_num_(input, nan=0.0, posinf=None, neginf=None):
    return _method("nan_to_num_", input, 0.0 if nan is None else nan, posinf, neginf)


def fill(input, value):
    """A new tensor of input's shape and dtype holding `value` (out of place; gradient 0 to input)."""
    _require_tensor("fill", input)
    return input.clone().fill_(value)


# ------------------------------------------------- activations (no Tensor method in PyTorch)
def selu_(input):
    from minigrad.ops.activation import selu_ as selu_inplace
    _require_tensor("selu_", input)
    return selu_inplace(input)


def celu_(input, alpha=1.0):
    from minigrad.ops.activation import celu_ as celu_inplace
    _require_tensor("celu_", input)
    return celu_inplace(input, alpha)


def threshold_(input, threshold, value):
    from minigrad.ops.activation import threshold_ as threshold_inplace
    _require_tensor("threshold_", input)
    return threshold_inplace(input, threshold, value)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place randomized leaky ReLU: x where x > 0, r x elsewhere with r ~ U(lower, upper)
    per element in training (drawn from `generator`), r = (lower + upper) / 2 in evaluation."""
    from minigrad.ops.activation import rrelu_ as rrelu_inplace
    from minigrad.ops.dropout import MaskMultiply
    from minigrad.random import numpy_generator
    _require_tensor("rrelu_", input)
    if generator is None or not training:
        return rrelu_inplace(input, lower, upper, training)
    if not (isinstance(lower, (int, float)) and isinstance(upper, (int, float))) or lower > upper:
        raise ValueError(f"rrelu: expected lower <= upper (two numbers), got lower={lower!r}, upper={upper!r}")
    slopes = numpy_generator(generator).uniform(lower, upper, input.shape)
    factor = np.where(input.array > 0, 1.0, slopes).astype(input.dtype)  # the gradient is the same factor
    return input._inplace("rrelu_", lambda t: MaskMultiply.apply(t, factor))


# ---------------------------------------------------------------------- dropouts
def _dropout_inplace(name, function, input, p, train):
    _require_tensor(name, input)
    return input._inplace(name, lambda t: function(t, p, train))


def dropout_(input, p, train):
    from minigrad.ops.torch_level import dropout
    return _dropout_inplace("dropout_", dropout, input, p, train)


def alpha_dropout_(input, p, train):
    from minigrad.ops.torch_level import alpha_dropout
    return _dropout_inplace("alpha_dropout_", alpha_dropout, input, p, train)


def feature_dropout_(input, p, train):
    from minigrad.ops.torch_level import feature_dropout
    return _dropout_inplace("feature_dropout_", feature_dropout, input, p, train)


def feature_alpha_dropout_(input, p, train):
    from minigrad.ops.torch_level import feature_alpha_dropout
    return _dropout_inplace("feature_alpha_dropout_", feature_alpha_dropout, input, p, train)


# ---------------------------------------------------------------- embedding_renorm_
class EmbeddingRenorm(Function):
    """Rows r of the weight read by `indices` with ||w_r||_p > max_norm become
    w_r * max_norm / (||w_r||_p + 1e-7); the others stay. PyTorch has no derivative."""

    @staticmethod
    def forward(ctx, weight, rows, max_norm, norm_type):
        out = weight.copy()
        norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
        too_long = norms > max_norm
        out[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None].astype(weight.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'embedding_renorm' is not implemented.")


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Cap, in place, the p-norm (p = norm_type) of the rows of input (num_embeddings, dim) that
    `indices` names at max_norm, as F.embedding does with max_norm; returns input."""
    _require_tensor("embedding_renorm_", input)
    _require_tensor("embedding_renorm_", indices, "indices", 2)
    if input.ndim != 2:
        raise RuntimeError(f"embedding_renorm_: expected self to be a 2-D tensor, but got {input.ndim}-D")
    if indices.array.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_renorm_: expected indices to be an integer tensor, got {indices.dtype}")
    rows = np.unique(indices.array.reshape(-1))
    if rows.size and (rows[0] < 0 or rows[-1] >= input.shape[0]):
        bad = rows[0] if rows[0] < 0 else rows[-1]
        raise IndexError(f"embedding_renorm_: index {bad} is out of bounds for {input.shape[0]} rows")
    return input._inplace("embedding_renorm_",
                          lambda t: EmbeddingRenorm.apply(t, rows, float(max_norm), float(norm_type)))
