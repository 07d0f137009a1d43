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
float16 = np.dtype(np.float16)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)

_DTYPE_NAMES = {"float32": float32, "float": float32, "float64": float64, "double": float64,
                "float16": float16, "half": float16,
                "int64": int64, "long": int64, "int32": int32, "int": int32,
                "int16": int16, "short": int16, "int8": int8, "uint8": uint8, "bool": bool_}


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


def _is_size(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


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

    def __init__(self, data=(), *sizes, dtype=None, requires_grad=False):
        if _is_size(data) and all(_is_size(n) for n in sizes):
            # PyTorch's legacy constructor: Tensor(3, 4) is an uninitialised float32 (3, 4).
            data = np.empty((int(data),) + tuple(int(n) for n in sizes), dtype=as_dtype(dtype) or float32)
        elif sizes:
            raise TypeError(f"Tensor(): give data or sizes (ints), got {(data,) + sizes!r}")
        elif dtype is None and not isinstance(data, (np.ndarray, Tensor)):
            data = _to_array(data, float32)  # Tensor([1, 2]) is float32, as in PyTorch
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

    # ------------------------------------------------------------------ in-place
    # Every in-place method computes its out-of-place result, writes it into
    # this tensor's memory and bumps the memory's version counter (views share
    # it). When autograd is recording and a gradient is involved, the tensor
    # is rebased onto the new graph node: ``x = a * 2; x += 1`` differentiates
    # as ``x = a * 2 + 1``. Backward raises if it needs a value that an
    # in-place operation has since overwritten (see Function.saved_tensors).
    @property
    def _version(self):
        """How many in-place operations have changed this tensor's memory."""
        return autograd.version_of(self.array)

    def _check_inplace(self):
        if self.requires_grad and self.grad_fn is None and autograd.is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation. (Wrap the update in minigrad.no_grad(), or clone() "
                               "the tensor first.)")

    def _inplace(self, name, compute, *others):
        """``self <- compute(self)`` in place; `others` are the other Tensor operands."""
        recording = autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others))
        if not recording:
            with autograd.no_grad():
                result = compute(self)
            self._write_inplace(name, result.array)
            return self
        self._check_inplace()
        if self.grad_fn is not None and self.array.base is not None and \
                type(self.grad_fn).__name__ in ("Reshape", "Permute", "Expand", "GetItem"):
            raise RuntimeError(
                f"{name}: in-place operation on a view (the output of "
                f"{self.grad_fn.name()}) of a tensor that is part of the autograd graph is not "
                f"supported: the tensor it views would not see the change in backward; "
                f"clone() the view first or use the out-of-place operation")
        # The old values as a separate node input: the new node may save them.
        old = Tensor._make(self.array.copy(), self.requires_grad, self.grad_fn)
        result = compute(old)
        self._write_inplace(name, result.array)
        self.grad_fn = result.grad_fn
        self.requires_grad = result.requires_grad
        return self

    def _write_inplace(self, name, values):
        if values.shape != self.array.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.array.shape)} doesn't match "
                               f"the broadcast shape {list(values.shape)}")
        if not np.can_cast(values.dtype, self.array.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {values.dtype} can't be cast to the desired "
                               f"output type {self.array.dtype}")
        if not self.array.flags.writeable:
            raise RuntimeError(f"{name}: the tensor's memory is read-only (an expand()ed or "
                               f"broadcast tensor); clone() it first")
        np.copyto(self.array, values, casting="unsafe")
        autograd.bump_version(self.array)

    def _overwrite(self, name, values):
        """Replace every element by `values` (fills): gradient zero for the old values."""
        values = np.broadcast_to(np.asarray(values, dtype=self.array.dtype), self.array.shape)
        keep_nothing = np.zeros(self.array.shape, dtype=bool)
        return self._inplace(name, lambda t: ops.elementwise.where(
            keep_nothing, t, Tensor._make(values, False, None)))

    def zero_(self):
        return self._overwrite("zero_", 0)

    def fill_(self, value):
        value = value.array if isinstance(value, Tensor) else value
        return self._overwrite("fill_", value)

    def copy_(self, source):
        """Copy `source` (broadcast to this shape, cast to this dtype); gradient flows to it."""
        if not isinstance(source, Tensor):
            return self._overwrite("copy_", np.asarray(source))

        def copied(t):
            return ops.shape.expand(ops.elementwise.cast(source, self.array.dtype), *t.shape)
        return self._inplace("copy_", copied, source)

    def add_(self, other, alpha=1):
        if alpha != 1:
            return self._inplace("add_", lambda t: t + other * alpha, other)
        return self._inplace("add_", lambda t: t + other, other)

    def sub_(self, other, alpha=1):
        if alpha != 1:
            return self._inplace("sub_", lambda t: t - other * alpha, other)
        return self._inplace("sub_", lambda t: t - other, other)

    def mul_(self, other):
        return self._inplace("mul_", lambda t: t * other, other)

    def div_(self, other):
        return self._inplace("div_", lambda t: t / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda t: t ** exponent, exponent)

    def neg_(self):
        return self._inplace("neg_", lambda t: -t)

    def abs_(self):
        return self._inplace("abs_", lambda t: t.abs())

    def exp_(self):
        return self._inplace("exp_", lambda t: t.exp())

    def log_(self):
        return self._inplace("log_", lambda t: t.log())

    def sqrt_(self):
        return self._inplace("sqrt_", lambda t: t.sqrt())

    def relu_(self):
        return self._inplace("relu_", lambda t: t.relu())

    def sigmoid_(self):
        return self._inplace("sigmoid_", lambda t: t.sigmoid())

    def tanh_(self):
        return self._inplace("tanh_", lambda t: t.tanh())

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda t: t.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self._inplace("clamp_min_", lambda t: t.clamp(min=min))

    def clamp_max_(self, max):
        return self._inplace("clamp_max_", lambda t: t.clamp(max=max))

    def masked_fill_(self, mask, value):
        """Set the elements where `mask` (bool, broadcast) is True to `value`."""
        mask = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype != bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                               f"dtype {mask.dtype}")
        return self._inplace("masked_fill_",
                             lambda t: ops.elementwise.where(mask, value, t), value)

    def addcmul_(self, tensor1, tensor2, value=1):
        """``self += value * tensor1 * tensor2``."""
        return self._inplace("addcmul_", lambda t: t + value * tensor1 * tensor2, tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        """``self += value * tensor1 / tensor2``."""
        return self._inplace("addcdiv_", lambda t: t + value * tensor1 / tensor2, tensor1, tensor2)

    def lerp_(self, end, weight):
        """``self += weight * (end - self)``."""
        return self._inplace("lerp_", lambda t: t + weight * (end - t), end, weight)

    def uniform_(self, a=0.0, b=1.0):
        from minigrad.random import generator
        return self._overwrite("uniform_", generator().uniform(a, b, size=self.array.shape))

    def normal_(self, mean=0.0, std=1.0):
        from minigrad.random import generator
        return self._overwrite("normal_", generator().normal(mean, std, size=self.array.shape))

    def share_memory_(self):
        """Move the values into anonymous shared memory (same values, same graph role).

        Processes forked afterwards (``minigrad.multiprocessing`` with the
        "fork" start method) see and make changes to the same memory, as
        PyTorch's Hogwild training expects. The old array is no longer used.
        """
        if not self.is_shared():
            import mmap
            buffer = mmap.mmap(-1, max(self.array.nbytes, 1))  # MAP_SHARED | MAP_ANONYMOUS
            shared = np.frombuffer(buffer, dtype=self.array.dtype,
                                   count=self.array.size).reshape(self.array.shape)
            shared[...] = self.array
            self.array = shared
        return self

    def is_shared(self):
        """Whether share_memory_() has moved the values into shared memory."""
        import mmap
        array = self.array
        while isinstance(array.base, np.ndarray):
            array = array.base
        owner = array.base.obj if isinstance(array.base, memoryview) else array.base
        return isinstance(owner, mmap.mmap)

    # Python's augmented assignment: `p -= lr * p.grad` changes p itself.
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, exponent):
        return self.pow_(exponent)

    def __iand__(self, other):
        return self._inplace("__iand__", lambda t: t & other, other)

    def __ior__(self, other):
        return self._inplace("__ior__", lambda t: t | other, other)

    # -------------------------------------------------------------- conversion
    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other): see _parse_to."""
        return _convert(self, *_parse_to(self, *args, **kwargs))

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

    # Bitwise on integer tensors, logical on bool tensors (ops/bitwise.py).
    def __invert__(self):
        return ops.bitwise.bitwise_not(self)

    def __and__(self, other):
        return ops.bitwise.bitwise_and(self, other)

    def __or__(self, other):
        return ops.bitwise.bitwise_or(self, other)

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

    def add(self, other, *, alpha=1):
        return ops.pointwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return ops.pointwise.sub(self, other, alpha=alpha)

    def div(self, other, *, rounding_mode=None):
        return ops.pointwise.div(self, other, rounding_mode=rounding_mode)

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
    # dim=/keepdim= or NumPy's axis=/keepdims= (ops.reduction.numpy_names).
    def sum(self, *args, **kwargs):
        return ops.reduction.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return ops.reduction.mean(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return ops.reduction.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return ops.reduction.std(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return ops.reduction.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return ops.reduction.min(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return ops.reduction.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return ops.reduction.argmin(self, *args, **kwargs)

    # ------------------------------------------------------------------- shapes
    def reshape(self, *shape):
        return ops.shape.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return _view_as_dtype(self, as_dtype(shape[0]))  # view(dtype): the same bits
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
        ops.shape.assign(self.array, index, value.array if isinstance(value, Tensor) else value)
        autograd.bump_version(self.array)

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

    divide = div
    subtract = sub

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


def _parse_to(tensor, *args, dtype=None, device=None, non_blocking=False, copy=False,
              memory_format=None):
    """PyTorch's overloads of Tensor.to -> (dtype or None, copy).

    to(dtype), to(device), to(device, dtype), to(other) (other's dtype and
    device), each with non_blocking= and copy=.
    """
    if len(args) > 2:
        raise TypeError(f"to() takes at most 2 positional arguments, got {len(args)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif _device.is_device(arg):
            device = arg
        elif isinstance(arg, bool):  # to(dtype, non_blocking): non_blocking means nothing on the CPU
            pass
        else:
            dtype = arg
    _device.check_device(device)
    return (None if dtype is None else as_dtype(dtype)), copy


def _convert(tensor, dtype, copy):
    if dtype is not None and dtype != tensor.array.dtype:
        return ops.elementwise.cast(tensor, dtype)
    return ops.elementwise.clone(tensor) if copy else tensor


def _view_as_dtype(tensor, dtype):
    """Tensor.view(dtype): the same bytes read as another dtype (the last dim rescales)."""
    if dtype == tensor.dtype:
        return ops.shape.reshape(tensor, tensor.shape)
    if tensor.requires_grad and autograd.is_grad_enabled():
        raise RuntimeError("view(dtype) reinterprets bits and has no gradient; detach() first")
    old, new = tensor.array.dtype.itemsize, dtype.itemsize
    if old != new and (tensor.ndim == 0 or (tensor.shape[-1] * old) % new != 0):
        raise RuntimeError(f"view(dtype): cannot view a tensor of shape {tuple(tensor.shape)} and "
                           f"dtype {tensor.dtype} as {dtype}: the last dim's size in bytes must be "
                           f"a multiple of {new}")
    return Tensor._make(np.ascontiguousarray(tensor.array).view(dtype), False, None)


from minigrad import creation, ops  # noqa: E402  (the ops import Tensor, so they come after it)
from minigrad import devices as _device  # noqa: E402  (the ops import Tensor, so they come after it)
