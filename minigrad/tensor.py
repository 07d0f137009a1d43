"""The Tensor: a NumPy array plus what autograd needs to differentiate it.

A Tensor holds
- ``array``: the ``np.ndarray`` (float32 by default); ``tensor.data`` is, as
  in PyTorch, the same values as a Tensor cut from the graph (shared memory),
- ``requires_grad``: whether gradients should flow to it,
- ``grad_fn``: the graph node (a Function instance) that produced it, or
  None for a leaf (a parameter, an input),
- ``grad``: for leaves, the accumulated gradient (a Tensor) after backward.

Every method below is a thin call into ``minigrad.ops``, where each
operation's forward and backward live together. The long tail of PyTorch's
method names (bitwise, pointwise math, scans, indexing, new_*, ...) sits in
the base class ``TensorMethods`` (minigrad/tensor_methods.py); the dtypes and
``as_dtype`` in minigrad/dtypes.py.
"""
import numpy as np

from minigrad import autograd
from minigrad.dtypes import (  # noqa: F401  (minigrad.tensor.float16, ... stay importable)
    as_dtype,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from minigrad.settings import format_array, get_default_dtype
from minigrad.tensor_methods import TensorMethods, _import_ops


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
            # Python floats become the default dtype (float32 unless changed), ints int64.
            if array.dtype == np.float64:
                array = array.astype(get_default_dtype())
            elif array.dtype.kind in "iu":
                array = array.astype(np.int64)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of mixed types")
    return array


def _is_size(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Size(tuple):
    """A tensor's shape (torch.Size): a tuple of ints that prints as ``minigrad.Size([2, 3])``."""

    def __repr__(self):
        return f"minigrad.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        count = 1
        for n in self:
            count *= n
        return count


def _output_now_in(node, array):
    """After an in-place op, `node`'s output values live in `array` (the tensor's own
    memory, or the copy of the old values the in-place op reads): a double backward
    must recognise `array`, saved by a later op, as that node's output (autograd's
    _saved_as_tensors), besides the array the node computed and may have saved."""
    if node is not None and "_output_id" in node.__dict__:
        node._output_alias_id = id(array)


class Tensor(TensorMethods):
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
            data = np.empty((int(data),) + tuple(int(n) for n in sizes), dtype=as_dtype(dtype) or get_default_dtype())
        elif sizes:
            raise TypeError(f"Tensor(): give data or sizes (ints), got {(data,) + sizes!r}")
        elif dtype is None and not isinstance(data, (np.ndarray, Tensor)):
            data = _to_array(data, get_default_dtype())  # Tensor([1, 2]) is float32, as in PyTorch
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
        return Size(self.array.shape)

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
            return Size(self.array.shape)
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
        body = format_array(self.array, prefix="tensor(")  # minigrad.set_printoptions
        extras = []
        if self.array.dtype not in (get_default_dtype(), int64, bool_):
            extras.append(f"dtype=minigrad.{self.array.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")  # PyTorch's spelling: AddBackward0
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into every leaf's ``.grad``
        (create_graph=True: a ``.grad`` that can be differentiated again;
        inputs: only into these tensors)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

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
        """A non-leaf keeps its gradient in ``.grad`` after backward (minigrad/autograd_hooks.py)."""
        autograd._hooks.retain_grad(self)

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
        if self.grad_fn is not None and type(self.grad_fn).__name__ in ("BackwardHookFunction", "_OutputOf"):
            from minigrad.nn.module_hooks import check_inplace  # a module input/output seen by backward hooks
            check_inplace(self)

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
        _output_now_in(self.grad_fn, old.array)
        result = compute(old)
        self._write_inplace(name, result.array)
        _output_now_in(result.grad_fn, self.array)
        self.grad_fn = result.grad_fn
        self.requires_grad = result.requires_grad
        return self

    def _write_inplace(self, name, values):
        if values.shape != self.array.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.array.shape)} doesn't match "
                               f"the broadcast shape {list(values.shape)}")
        if not np.can_cast(values.dtype, self.array.dtype, "same_kind"):
            from minigrad.ops.aliases import scalar_type_name  # PyTorch's spelling: Float, Long
            raise RuntimeError(f"{name}: result type {scalar_type_name(values.dtype)} can't be cast to "
                               f"the desired output type {scalar_type_name(self.array.dtype)}")
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

    def type(self, dtype=None, non_blocking=False):
        """Without dtype: the type name ('minigrad.FloatTensor'); else converted to dtype
        (a dtype, a legacy type such as minigrad.LongTensor, or its name)."""
        from minigrad.tensor_types import type_of
        return type_of(self, dtype)

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
        return ops.activation.tanh(self)

    def sigmoid(self):
        return ops.activation.sigmoid(self)

    def relu(self):
        return ops.activation.relu(self)

    def clamp(self, min=None, max=None):
        return ops.elementwise.clamp(self, min, max)

    clip = clamp

    def add(self, other, *, alpha=1):
        return ops.pointwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return ops.pointwise.sub(self, other, alpha=alpha)

    subtract = sub

    def div(self, other, *, rounding_mode=None):
        return ops.pointwise.div(self, other, rounding_mode=rounding_mode)

    divide = div

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


from minigrad import devices as _device  # noqa: E402  (the ops import Tensor, so they come after it)
from minigrad import ops  # noqa: E402  (the ops import Tensor, so they come after it)

_import_ops()
