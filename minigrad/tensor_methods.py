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

    # --- shapefns ---
    # broadcasting, splitting, diagonals and row writes (ops/construction.py)
    def broadcast_to(self, size):
        return ops.construction.broadcast_to(self, size)

    def tensor_split(self, indices_or_sections, dim=0):
        return ops.construction.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections):
        return ops.construction.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return ops.construction.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return ops.construction.dsplit(self, indices_or_sections)

    def select(self, dim, index):
        return ops.construction.select(self, dim, index)

    def diag(self, diagonal=0):
        return ops.construction.diag(self, diagonal)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return ops.construction.diag_embed(self, offset, dim1, dim2)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return ops.construction.diagonal(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return ops.construction.diagflat(self, offset)

    def trace(self):
        return ops.construction.trace(self)

    def rot90(self, k=1, dims=(0, 1)):
        return ops.construction.rot90(self, k, dims)

    def kron(self, other):
        return ops.construction.kron(self, other)

    def masked_select(self, mask):
        return ops.construction.masked_select(self, mask)

    def index_add(self, dim, index, source, *, alpha=1):
        return ops.construction.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return ops.construction.index_copy(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return ops.construction.index_fill(self, dim, index, value)

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._inplace("index_add_", lambda t: ops.construction.index_add(t, dim, index, source,
                                                                                alpha=alpha), source)

    def index_copy_(self, dim, index, source):
        return self._inplace("index_copy_", lambda t: ops.construction.index_copy(t, dim, index, source),
                             source)

    def index_fill_(self, dim, index, value):
        return self._inplace("index_fill_", lambda t: ops.construction.index_fill(t, dim, index, value),
                             value)
    # --- mathfns ---
    # fused multiply-adds and products (ops/fused_linalg.py)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return ops.fused_linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return ops.fused_linalg.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return ops.fused_linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return ops.fused_linalg.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return ops.fused_linalg.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return ops.fused_linalg.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return ops.fused_linalg.addcdiv(self, tensor1, tensor2, value=value)

    def cross(self, other, dim=None):
        return ops.fused_linalg.cross(self, other, dim)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return self._inplace("addmm_", lambda t: ops.fused_linalg.addmm(
            t, mat1, mat2, beta=beta, alpha=alpha), mat1, mat2)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace("addbmm_", lambda t: ops.fused_linalg.addbmm(
            t, batch1, batch2, beta=beta, alpha=alpha), batch1, batch2)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace("baddbmm_", lambda t: ops.fused_linalg.baddbmm(
            t, batch1, batch2, beta=beta, alpha=alpha), batch1, batch2)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return self._inplace("addmv_", lambda t: ops.fused_linalg.addmv(
            t, mat, vec, beta=beta, alpha=alpha), mat, vec)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return self._inplace("addr_", lambda t: ops.fused_linalg.addr(
            t, vec1, vec2, beta=beta, alpha=alpha), vec1, vec2)

    # norms (ops/norm_ops.py)
    def dist(self, other, p=2):
        return ops.norm_ops.dist(self, other, p)

    def renorm(self, p, dim, maxnorm):
        return ops.norm_ops.renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return self._inplace("renorm_", lambda t: ops.norm_ops.renorm(t, p, dim, maxnorm))

    # special functions and the rest of the binary math (ops/special_math.py)
    def lgamma(self): return ops.special_math.lgamma(self)  # noqa: E704  (one line per function)
    def digamma(self): return ops.special_math.digamma(self)  # noqa: E704
    def i0(self): return ops.special_math.i0(self)  # noqa: E704
    def sinc(self): return ops.special_math.sinc(self)  # noqa: E704
    def signbit(self): return ops.special_math.signbit(self)  # noqa: E704
    def frexp(self): return ops.special_math.frexp(self)  # noqa: E704
    def lgamma_(self): return self._inplace("lgamma_", ops.special_math.lgamma)  # noqa: E704
    def digamma_(self): return self._inplace("digamma_", ops.special_math.digamma)  # noqa: E704
    def i0_(self): return self._inplace("i0_", ops.special_math.i0)  # noqa: E704
    def sinc_(self): return self._inplace("sinc_", ops.special_math.sinc)  # noqa: E704
    def erfinv_(self): return self._inplace("erfinv_", ops.pointwise.erfinv)  # noqa: E704

    def polygamma(self, n):
        return ops.special_math.polygamma(n, self)

    def polygamma_(self, n):
        return self._inplace("polygamma_", lambda t: ops.special_math.polygamma(n, t))

    def mvlgamma(self, p):
        return ops.special_math.mvlgamma(self, p)

    def mvlgamma_(self, p):
        return self._inplace("mvlgamma_", lambda t: ops.special_math.mvlgamma(t, p))

    def xlogy(self, other): return ops.special_math.xlogy(self, other)  # noqa: E704
    def logaddexp(self, other): return ops.special_math.logaddexp(self, other)  # noqa: E704
    def logaddexp2(self, other): return ops.special_math.logaddexp2(self, other)  # noqa: E704
    def ldexp(self, other): return ops.special_math.ldexp(self, other)  # noqa: E704
    def nextafter(self, other): return ops.special_math.nextafter(self, other)  # noqa: E704
    def gcd(self, other): return ops.special_math.gcd(self, other)  # noqa: E704
    def lcm(self, other): return ops.special_math.lcm(self, other)  # noqa: E704
    def fmax(self, other): return ops.special_math.fmax(self, other)  # noqa: E704
    def fmin(self, other): return ops.special_math.fmin(self, other)  # noqa: E704
    def igamma(self, other): return ops.special_math.gammainc(self, other)  # noqa: E704
    def igammac(self, other): return ops.special_math.gammaincc(self, other)  # noqa: E704
    def heaviside(self, values): return ops.special_math.heaviside(self, values)  # noqa: E704

    def _binary_inplace(self, name, function, other):
        return self._inplace(name, lambda t: function(t, other), other)

    def xlogy_(self, other): return self._binary_inplace("xlogy_", ops.special_math.xlogy, other)  # noqa: E704
    def ldexp_(self, other): return self._binary_inplace("ldexp_", ops.special_math.ldexp, other)  # noqa: E704
    def nextafter_(self, other): return self._binary_inplace("nextafter_", ops.special_math.nextafter, other)  # noqa: E704, E501
    def gcd_(self, other): return self._binary_inplace("gcd_", ops.special_math.gcd, other)  # noqa: E704
    def lcm_(self, other): return self._binary_inplace("lcm_", ops.special_math.lcm, other)  # noqa: E704
    def igamma_(self, other): return self._binary_inplace("igamma_", ops.special_math.gammainc, other)  # noqa: E704
    def igammac_(self, other): return self._binary_inplace("igammac_", ops.special_math.gammaincc, other)  # noqa: E704, E501
    def heaviside_(self, values): return self._binary_inplace("heaviside_", ops.special_math.heaviside, values)  # noqa: E704, E501
    def hypot_(self, other): return self._binary_inplace("hypot_", ops.pointwise.hypot, other)  # noqa: E704
    def copysign_(self, other): return self._binary_inplace("copysign_", ops.pointwise.copysign, other)  # noqa: E704, E501
    def true_divide_(self, other): return self._binary_inplace("true_divide_", ops.pointwise.true_divide, other)  # noqa: E704, E501
    def floor_divide_(self, other): return self._binary_inplace("floor_divide_", ops.pointwise.floor_divide, other)  # noqa: E704, E501

    def float_power_(self, exponent):
        """self ** exponent in float64: self must already be float64 (as in PyTorch)."""
        if self.array.dtype.name != "float64":
            raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                               f"operation's result requires dtype float64")
        return self._binary_inplace("float_power_", ops.pointwise.float_power, exponent)
    # --- end mathfns ---
    # --- statfns ---
    # statistics and counting (ops/statistics.py)
    def nansum(self, *args, **kwargs):
        return ops.statistics.nansum(self, *args, **kwargs)

    def nanmean(self, *args, **kwargs):
        return ops.statistics.nanmean(self, *args, **kwargs)

    def nanmedian(self, *args, **kwargs):
        return ops.statistics.nanmedian(self, *args, **kwargs)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return ops.statistics.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return ops.statistics.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return ops.statistics.kthvalue(self, k, dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        return ops.statistics.aminmax(self, dim=dim, keepdim=keepdim)

    def count_nonzero(self, dim=None):
        return ops.statistics.count_nonzero(self, dim)

    def msort(self):
        return ops.statistics.msort(self)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return ops.statistics.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return ops.statistics.corrcoef(self)

    def histc(self, bins=100, min=0, max=0):
        return ops.statistics.histc(self, bins, min, max)

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        return ops.statistics.histogram(self, bins, range=range, weight=weight, density=density)

    def bincount(self, weights=None, minlength=0):
        return ops.statistics.bincount(self, weights, minlength)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return ops.statistics.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return ops.statistics.unique_consecutive(self, return_inverse, return_counts, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return ops.statistics.diff(self, n, dim, prepend, append)
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
    # --- inplace ---
    # PyTorch's other names and small utilities (ops/aliases.py); the in-place
    # methods x.sin_(), x.eq_(), x.t_(), ... come from the tables of minigrad/inplace_methods.py.
    def greater(self, other): return self.gt(other)  # noqa: E704  (one line per alias)
    def greater_equal(self, other): return self.ge(other)  # noqa: E704
    def less(self, other): return self.lt(other)  # noqa: E704
    def less_equal(self, other): return self.le(other)  # noqa: E704
    def not_equal(self, other): return self.ne(other)  # noqa: E704
    def negative(self): return ops.aliases.negative(self)  # noqa: E704
    def positive(self): return ops.aliases.positive(self)  # noqa: E704
    def absolute(self): return ops.aliases.absolute(self)  # noqa: E704
    def sgn(self): return ops.aliases.sgn(self)  # noqa: E704
    def deg2rad(self): return ops.aliases.deg2rad(self)  # noqa: E704
    def rad2deg(self): return ops.aliases.rad2deg(self)  # noqa: E704
    def ravel(self): return ops.aliases.ravel(self)  # noqa: E704
    def vdot(self, other): return ops.aliases.vdot(self, other)  # noqa: E704
    def inner(self, other): return ops.aliases.inner(self, other)  # noqa: E704
    def ger(self, vec2): return ops.linalg.outer(self, vec2)  # noqa: E704
    def ndimension(self): return self.dim()  # noqa: E704
    def nelement(self): return self.numel()  # noqa: E704
    def is_signed(self): return ops.aliases.is_signed(self)  # noqa: E704
    def is_nonzero(self): return ops.aliases.is_nonzero(self)  # noqa: E704
    def is_same_size(self, other): return ops.aliases.is_same_size(self, other)  # noqa: E704

    def split_with_sizes(self, split_sizes, dim=0):
        return ops.aliases.split_with_sizes(self, split_sizes, dim)

    @property
    def mH(self):
        """The conjugate transpose of the last two dims (real tensors: mT)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        """The conjugate transpose of a matrix (real tensors: t())."""
        if self.ndim == 0:
            import warnings
            warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                          UserWarning, stacklevel=2)
            return self
        if self.ndim != 2:
            hint = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor.{hint}")
        return self.transpose(0, 1)
    # --- end inplace ---

    # --- torchlevel ---
    def hardshrink(self, lambd=0.5):
        return ops.pointwise_activations.hardshrink(self, lambd)

    def prelu(self, weight):
        return ops.activation.prelu(self, weight)

    def stft(self, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
             normalized=False, onesided=None, return_complex=None):
        from minigrad.ops import spectral
        return spectral.stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                             onesided, return_complex)

    def istft(self, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
              onesided=None, length=None, return_complex=False):
        from minigrad.ops import spectral
        return spectral.istft(self, n_fft, hop_length, win_length, window, center, normalized, onesided,
                              length, return_complex)

    def is_inference(self):
        """False: minigrad has no inference tensors (inference_mode is no_grad, and what it
        makes is an ordinary tensor that later graphs may use)."""
        return False
    # --- end torchlevel ---
    # --- hooks ---
    # autograd hooks (minigrad/autograd_hooks.py)
    def register_hook(self, hook):
        return _autograd_hooks().register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        return _autograd_hooks().register_post_accumulate_grad_hook(self, hook)

    @property
    def retains_grad(self):
        return _autograd_hooks().retains_grad(self)

    # memory layout (ops/layout.py)
    def is_contiguous(self, memory_format=None):
        layout = _ops_module("layout")
        return layout.is_contiguous(self, layout.contiguous_format if memory_format is None else memory_format)

    def stride(self, dim=None):
        return _ops_module("layout").stride(self, dim)

    def storage_offset(self):
        return _ops_module("layout").storage_offset(self)

    def data_ptr(self):
        return _ops_module("layout").data_ptr(self)

    @property
    def is_cpu(self):
        return True

    @property
    def layout(self):
        return _ops_module("layout").strided

    def get_device(self):
        return -1  # PyTorch's answer for a CPU tensor

    # legacy shape methods (ops/layout.py)
    def unfold(self, dimension, size, step):
        return _ops_module("layout").unfold(self, dimension, size, step)

    def sum_to_size(self, *size):
        return _ops_module("layout").sum_to_size(self, *size)

    def new(self, *args, device=None):
        return _ops_module("layout").new(self, *args, device=device)

    def resize_(self, *sizes, memory_format=None):
        layout = _ops_module("layout")
        return layout.resize_(self, *sizes, memory_format=memory_format or layout.contiguous_format)

    def resize_as_(self, the_template, memory_format=None):
        layout = _ops_module("layout")
        return layout.resize_as_(self, the_template, memory_format=memory_format or layout.contiguous_format)

    def fill_diagonal_(self, fill_value, wrap=False):
        return _ops_module("layout").fill_diagonal_(self, fill_value, wrap)

    # random in-place fills (ops/random_fills.py)
    def random_(self, *args, generator=None, **kwargs):
        return _ops_module("random_fills").random_(self, *args, generator=generator, **kwargs)

    def exponential_(self, lambd=1.0, *, generator=None):
        return _ops_module("random_fills").exponential_(self, lambd, generator=generator)

    def geometric_(self, p, *, generator=None):
        return _ops_module("random_fills").geometric_(self, p, generator=generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        return _ops_module("random_fills").cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        return _ops_module("random_fills").log_normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        return _ops_module("random_fills").bernoulli_(self, p, generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        return creation.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return creation.multinomial(self, num_samples, replacement, generator=generator)

    # indexed writes (ops/scatter_writes.py)
    def index_put(self, indices, values, accumulate=False):
        return _ops_module("scatter_writes").index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        writes = _ops_module("scatter_writes")
        return self._inplace("index_put_", lambda t: writes.index_put(t, indices, values, accumulate), values)

    def put(self, index, source, accumulate=False):
        return _ops_module("scatter_writes").put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        writes = _ops_module("scatter_writes")
        return self._inplace("put_", lambda t: writes.put(t, index, source, accumulate), source)

    def masked_scatter(self, mask, source):
        return _ops_module("scatter_writes").masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        writes = _ops_module("scatter_writes")
        return self._inplace("masked_scatter_", lambda t: writes.masked_scatter(t, mask, source), source)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _ops_module("scatter_writes").index_reduce(self, dim, index, source, reduce,
                                                          include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        writes = _ops_module("scatter_writes")
        return self._inplace("index_reduce_", lambda t: writes.index_reduce(
            t, dim, index, source, reduce, include_self=include_self), source)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _ops_module("scatter_writes").diagonal_scatter(self, src, offset, dim1, dim2)

    def select_scatter(self, src, dim, index):
        return _ops_module("scatter_writes").select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ops_module("scatter_writes").slice_scatter(self, src, dim, start, end, step)


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


# --- inplace ---
from minigrad.inplace_methods import define_methods  # noqa: E402  (the tables need the class)

define_methods(TensorMethods)
# --- end inplace ---
# --- hooks ---
def _autograd_hooks():
    from minigrad import autograd_hooks
    return autograd_hooks


def _ops_module(name):
    """minigrad.ops.<name>, imported on first use (it imports Tensor)."""
    import importlib
    return importlib.import_module(f"minigrad.ops.{name}")
# --- torchmisc ---
def _define_torch_misc_methods(cls):
    """Tensor methods of minigrad/ops/torch_misc.py (strided views, unsafe splits, callable maps)."""
    def misc():
        return _ops_module("torch_misc")

    def as_strided(self, size, stride, storage_offset=None):
        return misc().as_strided(self, size, stride, storage_offset)

    def narrow_copy(self, dim, start, length):
        return misc().narrow_copy(self, dim, start, length)

    def unsafe_split(self, split_size, dim=0):
        return misc().unsafe_split(self, split_size, dim)

    def unsafe_chunk(self, chunks, dim=0):
        return misc().unsafe_chunk(self, chunks, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return misc().unsafe_split_with_sizes(self, split_sizes, dim)

    def nonzero_static(self, *, size, fill_value=-1):
        return misc().nonzero_static(self, size=size, fill_value=fill_value)

    def apply_(self, callable):
        return misc().apply_(self, callable)

    def map_(self, tensor, callable):
        return misc().map_(self, tensor, callable)

    def map2_(self, x, y, callable):
        return misc().map2_(self, x, y, callable)

    def linalg_misc():
        return _ops_module("linalg_misc")

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return linalg_misc().triangular_solve(self, A, upper, transpose, unitriangular)

    def geqrf(self):
        return linalg_misc().geqrf(self)

    def orgqr(self, input2):
        return linalg_misc().orgqr(self, input2)

    def ormqr(self, input2, input3, left=True, transpose=False):
        return linalg_misc().ormqr(self, input2, input3, left, transpose)

    for method in (as_strided, narrow_copy, unsafe_split, unsafe_chunk, unsafe_split_with_sizes,
                   nonzero_static, apply_, map_, map2_, triangular_solve, geqrf, orgqr, ormqr):
        setattr(cls, method.__name__, method)


_define_torch_misc_methods(TensorMethods)
# --- end torchmisc ---
# --- toplevelgaps ---
def _define_real_tensor_methods(cls):
    """The answers of a real, dense CPU tensor (minigrad/ops/tensor_attributes.py), as PyTorch's."""
    def attributes():
        return _ops_module("tensor_attributes")

    def is_complex(self): return False  # noqa: E704  (one line per answer)
    def is_conj(self): return False  # noqa: E704
    def is_neg(self): return False  # noqa: E704
    def conj(self): return self  # noqa: E704
    def conj_physical(self): return self  # noqa: E704
    def resolve_conj(self): return self  # noqa: E704
    def resolve_neg(self): return self  # noqa: E704
    def is_pinned(self, device=None): return False  # noqa: E704

    def conj_physical_(self):
        return attributes().conj_physical_(self)

    def isreal(self):
        return ops.pointwise.isreal(self)

    def pin_memory(self, device=None):
        return attributes().pin_memory(self, device)

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                          pin_memory=False):
        return attributes().new_empty_strided(self, size, stride, dtype=dtype, device=device,
                                              requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)

    def as_strided_(self, size, stride, storage_offset=None):
        return attributes().as_strided_(self, size, stride, storage_offset)

    for method in (is_complex, is_conj, is_neg, conj, conj_physical, resolve_conj, resolve_neg, is_pinned,
                   conj_physical_, isreal, pin_memory, new_empty_strided, as_strided_):
        setattr(cls, method.__name__, method)
    cls.real = property(lambda self: attributes().real(self), lambda self, v: attributes().set_real(self, v),
                        doc="The real part: the tensor itself (minigrad has no complex dtypes).")
    cls.imag = property(lambda self: attributes().imag(self), lambda self, v: attributes().set_imag(self, v),
                        doc="The imaginary part: PyTorch refuses it for a real tensor (RuntimeError).")
    cls.output_nr = property(lambda self: attributes().output_nr(self),
                             doc="Which output of its grad_fn this tensor is (0 for a leaf).")
    for flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested"):
        setattr(cls, flag, property(lambda self: False, doc="False: minigrad tensors are dense, strided, "
                                                            "real, in ordinary CPU memory."))


_define_real_tensor_methods(TensorMethods)
# --- end toplevelgaps ---
# --- gaps7 ---
def _define_legacy_tensor_methods(cls):
    """resize, resize_as, set_, angle, adjoint (minigrad/ops/legacy_tensor.py)."""
    def legacy():
        return _ops_module("legacy_tensor")

    def resize(self, *sizes):
        return legacy().resize(self, *sizes)

    def resize_as(self, tensor):
        return legacy().resize_as(self, tensor)

    def set_(self, source=None, storage_offset=0, size=None, stride=None):
        return legacy().set_(self, source, storage_offset, size, stride)

    def angle(self):
        return legacy().angle(self)

    def adjoint(self):
        return legacy().adjoint(self)

    for method in (resize, resize_as, set_, angle, adjoint):
        setattr(cls, method.__name__, method)


_define_legacy_tensor_methods(TensorMethods)
# --- end gaps7 ---
