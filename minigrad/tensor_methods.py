"""The rest of PyTorch's Tensor API, a base class of Tensor (minigrad/tensor.py).

minigrad/tensor.py holds what a Tensor is (its array, autograd, in-place
writes, conversion, operators and the most used math); this class holds the
long tail of PyTorch's method names: devices, dtypes, new_* constructors,
bitwise and pointwise math, reductions and scans, shape and movement,
indexing, linear algebra.
"""
from minigrad import devices as _device
from minigrad.dtypes import float16, int8, int16, int32, uint8


class TensorMethods:
    """Methods Tensor inherits; it holds no data of its own (Tensor declares the slots)."""

    __slots__ = ()

    # --- the rest of PyTorch's Tensor API
    # Each method is a one-line call into minigrad.ops (pointwise, bitwise,
    # reduction, shape, indexing, linalg), where forward and backward live.

    # devices (minigrad/device.py): everything lives on the CPU
    @property
    def device(self):
        return _device.CPU

    @property
    def is_cuda(self):
        return False

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _device.check_device("cuda" if device is None else device)
        return self  # reached only for device='cpu'

    # dtypes
    def int(self):
        return self.to(int32)

    def half(self):
        return self.to(float16)

    def short(self):
        return self.to(int16)

    def char(self):
        return self.to(int8)

    def byte(self):
        return self.to(uint8)

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def element_size(self):
        return self.array.itemsize

    @property
    def itemsize(self):
        return self.array.itemsize

    @property
    def nbytes(self):
        return self.array.nbytes

    def type_as(self, other):
        return self.to(other.dtype)

    # new tensors with this one's dtype (and device)
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return creation.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.empty(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device,
                             requires_grad=requires_grad)

    # Python protocols
    def __index__(self):
        """A 0-d (or one-element) integer tensor used as an index: lst[t], range(t)."""
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index, got dtype {self.array.dtype} and shape {tuple(self.shape)}")
        return int(self.array.item())

    def __format__(self, format_spec):
        """f"{loss:.4f}" formats a 0-d tensor's value; other tensors accept only "" (as in PyTorch)."""
        if self.array.ndim == 0:
            return format(self.array.item(), format_spec)
        if format_spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    # bitwise (ops/bitwise.py)
    def __rand__(self, other):
        return ops.bitwise.bitwise_and(other, self)

    def __ror__(self, other):
        return ops.bitwise.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise.bitwise_xor(other, self)

    def __lshift__(self, other):
        return ops.bitwise.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return ops.bitwise.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return ops.bitwise.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return ops.bitwise.bitwise_right_shift(other, self)

    def bitwise_and(self, other):
        return ops.bitwise.bitwise_and(self, other)

    def bitwise_or(self, other):
        return ops.bitwise.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return ops.bitwise.bitwise_xor(self, other)

    def bitwise_not(self):
        return ops.bitwise.bitwise_not(self)

    def bitwise_left_shift(self, other):
        return ops.bitwise.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return ops.bitwise.bitwise_right_shift(self, other)

    def logical_and(self, other):
        return ops.bitwise.logical_and(self, other)

    def logical_or(self, other):
        return ops.bitwise.logical_or(self, other)

    def logical_xor(self, other):
        return ops.bitwise.logical_xor(self, other)

    def logical_not(self):
        return ops.bitwise.logical_not(self)

    # arithmetic
    def __floordiv__(self, other):
        return ops.pointwise.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.pointwise.floor_divide(other, self)

    def __mod__(self, other):
        return ops.pointwise.remainder(self, other)

    def __rmod__(self, other):
        return ops.pointwise.remainder(other, self)

    def mul(self, other):
        return self * other

    multiply = mul

    def true_divide(self, other):
        return self / other


    def floor_divide(self, other):
        return ops.pointwise.floor_divide(self, other)

    def fmod(self, other):
        return ops.pointwise.fmod(self, other)

    def remainder(self, other):
        return ops.pointwise.remainder(self, other)

    def atan2(self, other):
        return ops.pointwise.atan2(self, other)

    arctan2 = atan2

    def hypot(self, other):
        return ops.pointwise.hypot(self, other)

    def copysign(self, other):
        return ops.pointwise.copysign(self, other)

    def lerp(self, end, weight):
        return ops.pointwise.lerp(self, end, weight)

    def float_power(self, exponent):
        return ops.pointwise.float_power(self, exponent)

    def round(self, decimals=0):
        return ops.pointwise.round(self, decimals=decimals)

    def __round__(self, ndigits=None):
        return round(self.item(), ndigits) if self.array.size == 1 else ops.pointwise.round(self)

    def sin(self): return ops.pointwise.sin(self)  # noqa: E704  (one line per function)
    def cos(self): return ops.pointwise.cos(self)  # noqa: E704
    def tan(self): return ops.pointwise.tan(self)  # noqa: E704
    def asin(self): return ops.pointwise.asin(self)  # noqa: E704
    def acos(self): return ops.pointwise.acos(self)  # noqa: E704
    def atan(self): return ops.pointwise.atan(self)  # noqa: E704
    def sinh(self): return ops.pointwise.sinh(self)  # noqa: E704
    def cosh(self): return ops.pointwise.cosh(self)  # noqa: E704
    def asinh(self): return ops.pointwise.asinh(self)  # noqa: E704
    def acosh(self): return ops.pointwise.acosh(self)  # noqa: E704
    def atanh(self): return ops.pointwise.atanh(self)  # noqa: E704
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    def log1p(self): return ops.pointwise.log1p(self)  # noqa: E704
    def expm1(self): return ops.pointwise.expm1(self)  # noqa: E704
    def log2(self): return ops.pointwise.log2(self)  # noqa: E704
    def log10(self): return ops.pointwise.log10(self)  # noqa: E704
    def exp2(self): return ops.pointwise.exp2(self)  # noqa: E704
    def rsqrt(self): return ops.pointwise.rsqrt(self)  # noqa: E704
    def reciprocal(self): return ops.pointwise.reciprocal(self)  # noqa: E704
    def erf(self): return ops.pointwise.erf(self)  # noqa: E704
    def erfc(self): return ops.pointwise.erfc(self)  # noqa: E704
    def erfinv(self): return ops.pointwise.erfinv(self)  # noqa: E704
    def square(self): return ops.pointwise.square(self)  # noqa: E704
    def frac(self): return ops.pointwise.frac(self)  # noqa: E704
    def sign(self): return ops.pointwise.sign(self)  # noqa: E704
    def floor(self): return ops.pointwise.floor(self)  # noqa: E704
    def ceil(self): return ops.pointwise.ceil(self)  # noqa: E704
    def trunc(self): return ops.pointwise.trunc(self)  # noqa: E704
    fix = trunc
    def isnan(self): return ops.pointwise.isnan(self)  # noqa: E704
    def isinf(self): return ops.pointwise.isinf(self)  # noqa: E704
    def isfinite(self): return ops.pointwise.isfinite(self)  # noqa: E704
    def isposinf(self): return ops.pointwise.isposinf(self)  # noqa: E704
    def isneginf(self): return ops.pointwise.isneginf(self)  # noqa: E704

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return ops.pointwise.nan_to_num(self, nan, posinf, neginf)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.pointwise.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.pointwise.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return ops.pointwise.equal(self, other)

    def tril(self, diagonal=0):
        return ops.pointwise.tril(self, diagonal)

    def triu(self, diagonal=0):
        return ops.pointwise.triu(self, diagonal)

    def softmax(self, dim, dtype=None):
        return ops.activation.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return ops.activation.log_softmax(self, dim, dtype)

    def logit(self, eps=None):
        return ops.pointwise_activations.logit(self, eps)

    def clamp_min(self, min):
        return ops.elementwise.clamp(self, min, None)

    def clamp_max(self, max):
        return ops.elementwise.clamp(self, None, max)

    def where(self, condition, other):
        """x.where(condition, y) == minigrad.where(condition, x, y)."""
        return ops.elementwise.where(condition, self, other)

    # reductions and scans (dim=/keepdim= or axis=/keepdims=)
    def amax(self, *args, **kwargs):
        return ops.reduction.amax(self, *args, **kwargs)

    def amin(self, *args, **kwargs):
        return ops.reduction.amin(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return ops.reduction.prod(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return ops.reduction.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return ops.reduction.any(self, *args, **kwargs)

    def logsumexp(self, *args, **kwargs):
        return ops.reduction.logsumexp(self, *args, **kwargs)

    def median(self, *args, **kwargs):
        return ops.reduction.median(self, *args, **kwargs)

    def mode(self, *args, **kwargs):
        return ops.reduction.mode(self, *args, **kwargs)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return ops.reduction.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim, *, dtype=None):
        return ops.reduction.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return ops.reduction.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return ops.reduction.cummax(self, dim)

    def cummin(self, dim):
        return ops.reduction.cummin(self, dim)

    def logcumsumexp(self, dim):
        return ops.reduction.logcumsumexp(self, dim)

    # shape and movement
    def repeat(self, *sizes):
        return ops.shape.repeat(self, *sizes)

    def tile(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):  # tile((2, 3)) or tile(2, 3)
            dims = dims[0]
        return ops.shape.tile(self, dims)

    def repeat_interleave(self, repeats, dim=None):
        return ops.shape.repeat_interleave(self, repeats, dim)

    def flip(self, *dims):
        return ops.shape.flip(self, dims[0] if len(dims) == 1 else dims)

    def fliplr(self):
        return ops.shape.fliplr(self)

    def flipud(self):
        return ops.shape.flipud(self)

    def roll(self, shifts, dims=None):
        return ops.shape.roll(self, shifts, dims)

    def narrow(self, dim, start, length):
        return ops.shape.narrow(self, dim, start, length)

    def t(self):
        return ops.shape.t(self)

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def movedim(self, source, destination):
        return ops.shape.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return ops.shape.swapaxes(self, axis0, axis1)

    swapdims = swapaxes

    def chunk(self, chunks, dim=0):
        return ops.shape.chunk(self, chunks, dim)

    def split(self, split_size, dim=0):
        return ops.shape.split(self, split_size, dim)

    def unbind(self, dim=0):
        return ops.shape.unbind(self, dim)

    def reshape_as(self, other):
        return ops.shape.reshape(self, other.shape)

    def unflatten(self, dim, sizes):
        axis = dim % self.ndim
        return ops.shape.reshape(self, self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    # indexing (ops/indexing.py)
    def index_select(self, dim, index):
        return ops.indexing.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return ops.indexing.masked_fill(self, mask, value)

    def gather(self, dim, index):
        return ops.indexing.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return ops.indexing.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return ops.indexing.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return ops.indexing.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def take(self, index):
        return ops.indexing.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return ops.indexing.take_along_dim(self, indices, dim)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.indexing.topk(self, k, dim, largest, sorted)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.indexing.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.indexing.argsort(self, dim, descending, stable)

    def nonzero(self, *, as_tuple=False):
        return ops.indexing.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return ops.indexing.nonzero(self)

    # linear algebra (ops/linalg.py)
    def mm(self, mat2):
        return ops.linalg.mm(self, mat2)

    def bmm(self, mat2):
        return ops.linalg.bmm(self, mat2)

    def mv(self, vec):
        return ops.linalg.mv(self, vec)

    def dot(self, other):
        return ops.linalg.dot(self, other)

    def outer(self, other):
        return ops.linalg.outer(self, other)

    # --- linalg ---
    # decompositions (ops/linalg_decompositions.py)
    def det(self):
        return _decompositions().det(self)

    def logdet(self):
        return _decompositions().logdet(self)

    def slogdet(self):
        return _decompositions().slogdet(self)

    def inverse(self):
        return _decompositions().inverse(self)

    def matrix_power(self, n):
        return _decompositions().matrix_power(self, n)

    def matrix_exp(self):
        return _decompositions().matrix_exp(self)

    def cholesky(self, upper=False):
        return _decompositions().torch_cholesky(self, upper)

    def cholesky_solve(self, input2, upper=False):
        return _decompositions().cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        return _decompositions().cholesky_inverse(self, upper)

    def pinverse(self, rcond=1e-15):
        return _decompositions().pinverse(self, rcond)

    def svd(self, some=True, compute_uv=True):
        return _decompositions().torch_svd(self, some, compute_uv)

    def qr(self, some=True):
        return _decompositions().torch_qr(self, some)


def _import_ops():
    """Bind minigrad.ops and minigrad.creation here; minigrad/tensor.py calls this once Tensor exists.

    Both import Tensor, which is built on this class, so they can only load after it.
    """
    global creation, ops
    from minigrad import creation, ops


# --- linalg ---
def _decompositions():
    """minigrad.ops.linalg_decompositions, imported on first use (it imports Tensor)."""
    from minigrad.ops import linalg_decompositions
    return linalg_decompositions
