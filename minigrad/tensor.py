"""The Tensor: a NumPy array plus what autograd needs to differentiate it.

A Tensor holds
- ``array``: the ``np.ndarray`` (float32 by default); ``tensor.data`` is, as
  in PyTorch, the same values as a Tensor cut from the graph (shared memory),
- ``requires_grad``: whether gradients should flow to it,
- ``grad_fn``: the graph node (a Function instance) that produced it, or
  None for a leaf (a parameter, an input),
- ``grad``: for leaves, the accumulated gradient (a Tensor) after backward.

Every method below is a thin call into ``minigrad.ops``, where each
operation's forward and backward live together.
"""
import numpy as np

from minigrad import autograd

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_DTYPE_NAMES = {"float32": float32, "float": float32, "float64": float64, "double": float64,
                "int64": int64, "long": int64, "int32": int32, "int": int32,
                "uint8": uint8, "bool": bool_}


def as_dtype(dtype):
    """minigrad.float32, np.float32, 'float32' -> np.dtype('float32')."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; use minigrad.float32, float64, int64, ...") from None


def _to_array(data, dtype=None):
    """Convert Python data to an array with PyTorch's dtype rules (copies)."""
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.ndarray):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        array = np.array(data, dtype=dtype)
        if dtype is None:
            # Python floats become float32 (PyTorch's default dtype), ints int64.
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            elif array.dtype.kind in "iu":
                array = array.astype(np.int64)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of mixed types")
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it."""

    __slots__ = ("array", "grad", "requires_grad", "grad_fn", "__weakref__")

    # NumPy defers to us: `ndarray + tensor` and `np.float64(2) * tensor` call
    # Tensor.__radd__ / __rmul__ (and give a Tensor) instead of looping over elements.
    __array_ufunc__ = None

    def __array__(self, dtype=None, copy=None):
        """np.asarray(tensor), as numpy() (an error for tensors that require grad)."""
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __init__(self, data, dtype=None, requires_grad=False):
        self.array = data if (isinstance(data, np.ndarray) and dtype is None) else _to_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad, grad_fn):
        """Fast internal constructor: wrap an array without checks or copies."""
        tensor = cls.__new__(cls)
        tensor.array = data if isinstance(data, np.ndarray) else np.asarray(data)
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor.grad_fn = grad_fn
        return tensor

    # ------------------------------------------------------------------ basics
    @property
    def shape(self):
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def dim(self):
        return self.array.ndim

    def size(self, dim=None):
        if dim is None:
            return self.array.shape
        return self.array.shape[dim]

    def numel(self):
        return self.array.size

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def numpy(self):
        """The underlying array (shared memory, like torch's .numpy())."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad; use tensor.detach().numpy()")
        return self.array

    def tolist(self):
        return self.array.tolist()

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python "
                             f"scalar, got shape {tuple(self.shape)}")
        return self.array.item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {tuple(self.shape)} is ambiguous")
        return bool(self.array.item())

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.array, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.array.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=minigrad.{self.array.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
        autograd.backward(self, gradient, retain_graph)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {self.array.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def data(self):
        """PyTorch's ``tensor.data``: the same values as a Tensor outside the graph
        (shared memory: ``p.data.mul_(0.5)`` changes ``p``). Use ``.array`` for the
        ndarray itself."""
        return Tensor._make(self.array, False, None)

    @data.setter
    def data(self, value):
        """``p.data = t`` swaps the values behind ``p`` (any shape), keeping its graph role."""
        self.array = value.array if isinstance(value, Tensor) else np.asarray(value)

    def detach(self):
        """The same data, cut from the graph (shares memory)."""
        return Tensor._make(self.array, False, None)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        raise RuntimeError("retain_grad is not supported: minigrad keeps .grad on leaves only")

    # ------------------------------------------------------- in-place (no grad)
    def _check_inplace(self):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("a leaf tensor that requires grad is being used in an in-place "
                               "operation; wrap it in minigrad.no_grad()")

    def zero_(self):
        self._check_inplace()
        self.array[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace()
        self.array[...] = value
        return self

    def copy_(self, source):
        self._check_inplace()
        source = source.array if isinstance(source, Tensor) else np.asarray(source)
        np.copyto(self.array, np.broadcast_to(source, self.array.shape), casting="unsafe")
        return self

    def add_(self, other, alpha=1):
        self._check_inplace()
        other = other.array if isinstance(other, Tensor) else other
        if alpha != 1:
            other = other * alpha
        np.add(self.array, other, out=self.array, casting="unsafe")
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, -alpha)

    def mul_(self, other):
        self._check_inplace()
        other = other.array if isinstance(other, Tensor) else other
        np.multiply(self.array, other, out=self.array, casting="unsafe")
        return self

    def div_(self, other):
        self._check_inplace()
        other = other.array if isinstance(other, Tensor) else other
        np.divide(self.array, other, out=self.array, casting="unsafe")
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace()
        np.clip(self.array, min, max, out=self.array)
        return self

    def uniform_(self, a=0.0, b=1.0):
        from minigrad.random import generator
        self._check_inplace()
        self.array[...] = generator().uniform(a, b, size=self.array.shape)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from minigrad.random import generator
        self._check_inplace()
        self.array[...] = generator().normal(mean, std, size=self.array.shape)
        return self

    # -------------------------------------------------------------- conversion
    def to(self, dtype):
        return ops.elementwise.cast(self, as_dtype(dtype))

    def type(self, dtype):
        return self.to(dtype)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def bool(self):
        return self.to(bool_)

    def clone(self):
        return ops.elementwise.clone(self)

    def contiguous(self):
        if self.array.flags.c_contiguous:
            return self
        return ops.elementwise.clone(self)

    # ---------------------------------------------------------------- operators
    def __add__(self, other):
        return ops.elementwise.add(self, other)

    def __radd__(self, other):
        return ops.elementwise.add(other, self)

    def __sub__(self, other):
        return ops.elementwise.sub(self, other)

    def __rsub__(self, other):
        return ops.elementwise.sub(other, self)

    def __mul__(self, other):
        return ops.elementwise.mul(self, other)

    def __rmul__(self, other):
        return ops.elementwise.mul(other, self)

    def __truediv__(self, other):
        return ops.elementwise.div(self, other)

    def __rtruediv__(self, other):
        return ops.elementwise.div(other, self)

    def __pow__(self, exponent):
        return ops.elementwise.pow(self, exponent)

    def __rpow__(self, base):
        return ops.elementwise.pow(base, self)

    def __matmul__(self, other):
        return ops.linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.linalg.matmul(other, self)

    def __neg__(self):
        return ops.elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.elementwise.abs(self)

    # Comparisons give bool tensors and carry no gradient.
    def __eq__(self, other):
        return ops.elementwise.compare(np.equal, self, other)

    def __ne__(self, other):
        return ops.elementwise.compare(np.not_equal, self, other)

    def __lt__(self, other):
        return ops.elementwise.compare(np.less, self, other)

    def __le__(self, other):
        return ops.elementwise.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return ops.elementwise.compare(np.greater, self, other)

    def __ge__(self, other):
        return ops.elementwise.compare(np.greater_equal, self, other)

    def __invert__(self):
        if self.array.dtype != bool_:
            raise TypeError(f"~ is defined for bool tensors, got {self.array.dtype}")
        return Tensor._make(~self.array, False, None)

    def __and__(self, other):
        return ops.elementwise.compare(np.logical_and, self, other)

    def __or__(self, other):
        return ops.elementwise.compare(np.logical_or, self, other)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    # ---------------------------------------------------------- unary functions
    def exp(self):
        return ops.elementwise.exp(self)

    def log(self):
        return ops.elementwise.log(self)

    def sqrt(self):
        return ops.elementwise.sqrt(self)

    def abs(self):
        return ops.elementwise.abs(self)

    def tanh(self):
        return ops.elementwise.tanh(self)

    def sigmoid(self):
        return ops.elementwise.sigmoid(self)

    def relu(self):
        return ops.elementwise.relu(self)

    def clamp(self, min=None, max=None):
        return ops.elementwise.clamp(self, min, max)

    clip = clamp

    def add(self, other):
        return self + other

    def sub(self, other):
        return self - other

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    def maximum(self, other):
        return ops.elementwise.maximum(self, other)

    def minimum(self, other):
        return ops.elementwise.minimum(self, other)

    def matmul(self, other):
        return ops.linalg.matmul(self, other)

    # --------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False):
        return ops.reduction.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.reduction.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.reduction.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.reduction.var(self, dim, unbiased, keepdim, correction=correction).sqrt()

    def max(self, dim=None, keepdim=False):
        return ops.reduction.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.reduction.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return ops.reduction.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.reduction.argmin(self, dim, keepdim)

    # ------------------------------------------------------------------- shapes
    def reshape(self, *shape):
        return ops.shape.reshape(self, *shape)

    def view(self, *shape):
        return ops.shape.reshape(self, *shape)

    def view_as(self, other):
        return ops.shape.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return ops.shape.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.shape.permute(self, *dims)

    def unsqueeze(self, dim):
        return ops.shape.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return ops.shape.squeeze(self, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.shape.flatten(self, start_dim, end_dim)

    def expand(self, *sizes):
        return ops.shape.expand(self, *sizes)

    def expand_as(self, other):
        return ops.shape.expand(self, *other.shape)

    def __getitem__(self, index):
        return ops.shape.getitem(self, index)

    def __setitem__(self, index, value):
        self._check_inplace()
        if self.grad_fn is not None and autograd.is_grad_enabled():
            raise RuntimeError("in-place assignment into a tensor that is part of a graph is not supported")
        index = ops.shape.index_to_numpy(index)
        self.array[index] = value.array if isinstance(value, Tensor) else value


from minigrad import ops  # noqa: E402  (the ops import Tensor, so they come after it)
