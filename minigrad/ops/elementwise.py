"""Elementwise operations with NumPy broadcasting.

Broadcasting copies an input along new or size-1 axes, so in backward the
gradient is summed back over exactly those axes (``unbroadcast``).

Double backward: each op's ``backward_graph`` is its backward written with
Tensor operations (recorded, so differentiable again; see minigrad/autograd.py).
Most backwards here use only ``*``, ``/``, ``.sum`` and ``.reshape``, which
Tensor has too, so they serve as both (``backward_graph = backward``).
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops.promotion import floating, promote
from minigrad.tensor import Tensor


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    size_one = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if size_one:
        grad = grad.sum(axis=size_one, keepdims=True)
    return grad.reshape(shape)


def _shape(x):
    return x.shape if isinstance(x, Tensor) else np.shape(x)


def _constant(array):
    """An array that a double backward treats as a constant (a mask, a sign)."""
    return Tensor._make(np.asarray(array), False, None)


def _as_tensor(value):
    """A saved value as a Tensor (a saved Python number becomes a constant)."""
    return value if isinstance(value, Tensor) else _constant(value)


def _binary(function, name, a, b, true_division=False):
    """Apply a broadcasting binary Function; turn NumPy's error into ours."""
    if not (type(a) is Tensor and type(b) is Tensor and a.array.dtype is b.array.dtype
            and (not true_division or a.array.dtype.kind == "f")):
        a, b = promote(a, b, true_division)
    try:
        return function.apply(a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(f"{name}: shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be "
                         f"broadcast together") from None


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)

    backward_graph = backward


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_b = unbroadcast(-grad, b_shape) if ctx.needs_input_grad[1] else None
        return unbroadcast(grad, a_shape), grad_b

    backward_graph = backward


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a is b and ctx.next_nodes[0] is ctx.next_nodes[1] and ctx.needs_input_grad[0]:
            # x * x: both gradients are grad * x and go to the same place; their sum
            # 2 * (grad * x) is exact, and one product instead of two plus their sum.
            return unbroadcast(2 * (grad * a), np.shape(a)), None
        grad_a = unbroadcast(grad * b, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

    backward_graph = backward


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        # d(a/b)/db = -a / b^2
        grad_b = unbroadcast(-grad * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

    backward_graph = backward


class Pow(Function):
    @staticmethod
    def forward(ctx, base, exponent):
        with np.errstate(divide="ignore"):  # 0 ** negative is inf, as in PyTorch
            out = np.power(base, exponent)
        ctx.save_for_backward(base, exponent, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        base, exponent, out = ctx.saved_tensors
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            # d(b^e)/db = e * b^(e-1); 0 where e == 0 (also at b == 0, as in PyTorch)
            with np.errstate(divide="ignore", invalid="ignore"):
                local = np.where(exponent == 0, 0, exponent * np.power(base, exponent - 1))
            grad_base = unbroadcast((grad * local).astype(grad.dtype, copy=False), np.shape(base))
        if ctx.needs_input_grad[1]:
            # d(b^e)/de = b^e * log(b). At b == 0 PyTorch takes it as 0 for e >= 0 (the
            # limit) and keeps inf * -inf = -inf for e < 0.
            with np.errstate(divide="ignore", invalid="ignore"):
                local = np.where((base == 0) & (exponent >= 0), 0, out * np.log(base))
            grad_exponent = unbroadcast(grad * local, np.shape(exponent))
        return grad_base, grad_exponent

    @staticmethod
    def backward_graph(ctx, grad):
        base, exponent, out = ctx.saved_tensors
        base, exponent = _as_tensor(base), _as_tensor(exponent)
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                local = where(_constant(exponent.array == 0), 0., exponent * base ** (exponent - 1))
            grad_base = unbroadcast(grad * local, np.shape(base))
        if ctx.needs_input_grad[1]:
            zero_base = _constant((base.array == 0) & (exponent.array >= 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                # log(b) is only taken where it is used (where() also differentiates the other branch)
                safe_base = where(zero_base, 1., base)
                local = where(zero_base, 0., out * log(safe_base))
            grad_exponent = unbroadcast(grad * local, np.shape(exponent))
        return grad_base, grad_exponent


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad

    backward_graph = backward


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out

    backward_graph = backward


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a

    backward_graph = backward


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad / (2 * out)

    backward_graph = backward


class Abs(Function):
    """|x|; the gradient at 0 is taken as 0 (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * np.sign(a)

    @staticmethod
    def backward_graph(ctx, grad):
        a, = ctx.saved_tensors
        return grad * _constant(np.sign(a.array))


class Clamp(Function):
    """Clip to [min, max]; gradient 1 inside the closed interval, 0 outside (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.bounds = (low, high)
        return np.clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        return grad * inside, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        a, = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a.array >= low
        if high is not None:
            inside &= a.array <= high
        return grad * _constant(inside.astype(grad.dtype)), None, None


class Maximum(Function):
    """Elementwise max; where a == b the gradient is split evenly (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        grad_a = unbroadcast(grad * share_a, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * (1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = [_as_tensor(v).array for v in ctx.saved_tensors]
        share_a = ((a > b) + 0.5 * (a == b)).astype(grad.dtype)
        grad_a = unbroadcast(grad * _constant(share_a), np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * _constant(1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Minimum(Function):
    """Elementwise min; where a == b the gradient is split evenly (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        grad_a = unbroadcast(grad * share_a, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * (1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = [_as_tensor(v).array for v in ctx.saved_tensors]
        share_a = ((a < b) + 0.5 * (a == b)).astype(grad.dtype)
        grad_a = unbroadcast(grad * _constant(share_a), np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * _constant(1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        condition = np.asarray(condition, dtype=bool)
        ctx.save_for_backward(condition)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(np.where(condition, grad, 0), a_shape) if ctx.needs_input_grad[1] else None
        grad_b = unbroadcast(np.where(condition, 0, grad), b_shape) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b

    @staticmethod
    def backward_graph(ctx, grad):
        condition = _constant(ctx.saved_tensors[0].array)
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(where(condition, grad, 0.), a_shape) if ctx.needs_input_grad[1] else None
        grad_b = unbroadcast(where(condition, 0., grad), b_shape) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype, copy=False), None

    @staticmethod
    def backward_graph(ctx, grad):
        return cast(grad, ctx.input_dtype), None


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return np.array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_graph = backward


def add(a, b):
    return _binary(Add, "add", a, b)


def sub(a, b):
    return _binary(Sub, "sub", a, b)


def mul(a, b):
    return _binary(Mul, "mul", a, b)


def div(a, b):
    return _binary(Div, "div", a, b, true_division=True)


def pow(base, exponent):
    return _binary(Pow, "pow", base, exponent)


def maximum(a, b):
    return _binary(Maximum, "maximum", a, b)


def minimum(a, b):
    return _binary(Minimum, "minimum", a, b)


def neg(a):
    return Neg.apply(a)


def exp(a):
    return Exp.apply(floating(a))


def log(a):
    return Log.apply(floating(a))


def sqrt(a):
    return Sqrt.apply(floating(a))


def abs(a):
    return Abs.apply(a)


def clamp(a, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(a, min, max)


def where(condition, a=None, b=None):
    """Elements of `a` where `condition` holds, else of `b` (all broadcast).

    where(condition) alone is nonzero(condition, as_tuple=True), as in PyTorch.
    """
    if a is None and b is None:
        from minigrad.ops.indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: give both x and y, or neither (where(condition) is nonzero)")
    a, b = promote(a, b)
    try:
        return Where.apply(condition, a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(f"where: condition {tuple(_shape(condition))}, x {tuple(_shape(a))} and "
                         f"y {tuple(_shape(b))} cannot be broadcast together") from None


def cast(a, dtype):
    if a.dtype == dtype:
        return a
    if a.requires_grad and dtype.kind != "f":
        return Tensor._make(a.array.astype(dtype), False, None)
    return Cast.apply(a, dtype)


def clone(a):
    return Clone.apply(a)


def compare(numpy_function, a, b):
    """A comparison: a bool tensor, no gradient."""
    a_data = a.array if isinstance(a, Tensor) else a
    b_data = b.array if isinstance(b, Tensor) else b
    try:
        return Tensor._make(np.asarray(numpy_function(a_data, b_data)), False, None)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(f"{numpy_function.__name__}: shapes {tuple(_shape(a))} and "
                         f"{tuple(_shape(b))} cannot be broadcast together") from None


def in_float32(function, *args, integers=False, **kwargs):
    """Run `function` on float16 (or, with integers=True, integer) tensor arguments in a wider
    float and cast the result back, as PyTorch's CPU kernels do for half precision.

    float16 goes through float32 (a differentiable cast); integers go through float64, where
    every int32 is exact, and come back truncated (integer average pooling rounds toward 0).
    """
    narrow = next((a.dtype for a in args if isinstance(a, Tensor)), None)
    if narrow == np.float16:
        wide = np.float32
    elif integers and narrow is not None and narrow.kind in "iu":
        wide = np.float64
    else:
        return function(*args, **kwargs)
    args = [cast(a, np.dtype(wide)) if isinstance(a, Tensor) and a.dtype == narrow else a for a in args]
    result = function(*args, **kwargs)
    if isinstance(result, tuple):  # (output, indices)
        return (cast(result[0], narrow),) + result[1:]
    return cast(result, narrow)
