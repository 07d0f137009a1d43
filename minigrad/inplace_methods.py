"""PyTorch's in-place Tensor methods ``x.name_(...)``, defined from three tables.

Each in-place method is its out-of-place twin written back into the tensor's
memory (``x.sin_()`` is ``x <- x.sin()``), through ``Tensor._inplace`` in
minigrad/tensor.py: the version counter goes up, a leaf that requires grad
refuses (outside ``no_grad``), the result is cast back to the tensor's dtype
where PyTorch allows it (an int tensor refuses a float result: "result type
Float can't be cast to the desired output type Long"), and a non-leaf is
rebased onto the new graph node, so gradients flow through the change.

- ``POINTWISE``: the twin's gradient rule applies (``sin_`` differentiates as ``sin``).
- ``ZERO_GRADIENT``: comparisons and logical ops write 0/1 in the tensor's
  dtype; the gradient to the old values is zero (PyTorch's ``EqBackward``).
- ``RESTRIDE``: shape changes (``t_ transpose_ squeeze_ unsqueeze_ ...``)
  give the tensor a new view of the same memory; no value changes, but the
  version still goes up, as in PyTorch.

``define_methods(TensorMethods)`` (called at the end of minigrad/tensor_methods.py)
adds every name that the class does not define already.
"""
import numpy as np

from minigrad import autograd

# x.name_(*args, **kwargs) == x.copy_(x.name(*args, **kwargs)), gradient of x.name.
POINTWISE = (
    # trigonometric and hyperbolic
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
    "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan",
    "deg2rad", "rad2deg",
    # exponentials, logarithms, powers
    "erf", "erfc", "exp2", "expm1", "log10", "log1p", "log2", "rsqrt", "reciprocal",
    "square", "logit", "nan_to_num",
    # signs and rounding (gradient 0)
    "sign", "sgn", "ceil", "floor", "round", "trunc", "fix", "frac", "negative", "absolute",
    # binary
    "atan2", "arctan2", "fmod", "remainder", "multiply", "divide", "subtract",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift",
    # triangles, scatters
    "tril", "triu", "scatter", "scatter_add", "scatter_reduce",
)

# x.name_(other) writes x.name(other) (bool) as 0/1 in x's dtype; zero gradient.
ZERO_GRADIENT = (
    "eq", "ne", "lt", "le", "gt", "ge",
    "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
)

# x.name_(*args) makes x the view x.name(*args) of its own memory.
RESTRIDE = ("t", "transpose", "swapaxes", "swapdims", "squeeze", "unsqueeze")


def _tensor_operands(args, kwargs):
    """The Tensor arguments: a gradient may flow to them (src of scatter_, other of fmod_)."""
    from minigrad.tensor import Tensor
    return [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]


def pointwise_inplace(name):
    def method(self, *args, **kwargs):
        return self._inplace(name + "_", lambda t: getattr(t, name)(*args, **kwargs),
                             *_tensor_operands(args, kwargs))
    method.__doc__ = f"In-place {name}: self <- self.{name}(...), cast to self's dtype."
    return method


def zero_gradient_inplace(name):
    def method(self, *args, **kwargs):
        keep_nothing = np.zeros(self.array.shape, dtype=bool)  # where(): every value is new

        def compute(t):
            from minigrad.ops.elementwise import where
            values = getattr(t.detach(), name)(*args, **kwargs)  # bool, no gradient
            return where(keep_nothing, t, values.to(t.dtype))
        return self._inplace(name + "_", compute, *_tensor_operands(args, kwargs))
    method.__doc__ = f"In-place {name}: self <- self.{name}(...) as 0/1 in self's dtype; gradient 0."
    return method


def restride_inplace(name):
    def method(self, *args, **kwargs):
        if autograd.is_grad_enabled() and self.requires_grad:
            self._check_inplace()  # a leaf that requires grad refuses, as in PyTorch
            # The node's input: the same memory and graph role, as a separate Tensor
            # (self becomes the output, so it cannot be its own input).
            old = type(self)._make(self.array, True, self.grad_fn)
            result = getattr(old, name)(*args, **kwargs)
            self.grad_fn = result.grad_fn
        else:
            with autograd.no_grad():
                result = getattr(self, name)(*args, **kwargs)
        self.array = result.array  # a view: the memory (and its version counter) is the same
        autograd.bump_version(self.array)
        return self
    method.__doc__ = f"In-place {name}: self becomes self.{name}(...), a view of the same memory."
    return method


def t_(self):
    """In-place t: transpose a matrix; 0-d and 1-d tensors stay as they are."""
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return restride_inplace("t")(self)


def _scan_inplace(name):
    def method(self, dim, *, dtype=None):
        from minigrad.dtypes import as_dtype
        if dtype is not None and as_dtype(dtype) != self.dtype:
            raise RuntimeError(f"{name}_: Bad in-place call: input tensor dtype {self.dtype} and "
                               f"output tensor dtype {as_dtype(dtype)} should match")
        return self._inplace(name + "_", lambda t: getattr(t, name)(dim))
    method.__doc__ = f"In-place {name} along dim: self <- self.{name}(dim)."
    return method


def round_(self, *, decimals=0):
    """In-place round half to even at `decimals` places: self <- self.round(decimals=decimals)."""
    return self._inplace("round_", lambda t: t.round(decimals=decimals))


SPECIAL = {"t_": t_, "round_": round_, "cumsum_": _scan_inplace("cumsum"), "cumprod_": _scan_inplace("cumprod")}


def define_methods(cls):
    """Add the in-place methods of the tables to `cls` (names it defines itself are kept)."""
    methods = dict(SPECIAL)
    for factory, names in ((pointwise_inplace, POINTWISE), (zero_gradient_inplace, ZERO_GRADIENT),
                           (restride_inplace, RESTRIDE)):
        for name in names:
            methods.setdefault(name + "_", factory(name))
    for name, method in methods.items():
        if not hasattr(cls, name):
            method.__name__ = method.__qualname__ = name
            setattr(cls, name, method)
