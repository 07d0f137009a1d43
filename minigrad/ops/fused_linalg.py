"""Fused multiply-adds of linear algebra: addmm, addbmm, baddbmm, addmv, addr,
the pointwise addcmul and addcdiv, and the cross product.

Each product-plus-add is one Function:

    out = beta * input + alpha * product(a, b)

where the product is an einsum (``ij,jk->ik`` for addmm), so one backward
serves all five: for out = einsum("A,B->O", a, b)

    d/da = alpha * einsum("O,B->A", grad, b),  d/db = alpha * einsum("A,O->B", a, grad),
    d/dinput = beta * grad, summed back over the dims `input` was broadcast along.

With beta = 0 the input is ignored (nan and inf in it do not propagate), as in PyTorch.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.ops import elementwise
from minigrad.ops.elementwise import unbroadcast
from minigrad.tensor import Tensor

# kind: the einsum of the product, "a_subscripts,b_subscripts->out_subscripts"
PRODUCTS = {
    "addmm": "ij,jk->ik",
    "baddbmm": "bij,bjk->bik",
    "addbmm": "bij,bjk->ik",       # the batch of products summed
    "addmv": "ij,j->i",
    "addr": "i,j->ij",
}

_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}


def torch_dtype_name(dtype):
    """PyTorch's name for a dtype in error messages: Float, Double, Long, ..."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


class AddProduct(Function):
    """beta * input + alpha * einsum(PRODUCTS[kind], a, b)."""

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha, kind):
        spec = PRODUCTS[kind]
        product = np.einsum(spec, a, b, optimize=True)
        if alpha != 1:
            product = alpha * product
        if beta == 0:
            out = product
        elif beta == 1:
            out = input + product
        else:
            out = beta * input + product
        ctx.save_for_backward(a, b)
        ctx.spec, ctx.beta, ctx.alpha, ctx.input_shape = spec, beta, alpha, np.shape(input)
        return np.ascontiguousarray(out).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        inputs, out = ctx.spec.split("->")
        a_subscripts, b_subscripts = inputs.split(",")
        grad_input = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_input = unbroadcast(ctx.beta * grad, ctx.input_shape).astype(grad.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            grad_a = ctx.alpha * np.einsum(f"{out},{b_subscripts}->{a_subscripts}", grad, b,
                                           optimize=True)
        if ctx.needs_input_grad[2]:
            grad_b = ctx.alpha * np.einsum(f"{a_subscripts},{out}->{b_subscripts}", a, grad,
                                           optimize=True)
        return grad_input, grad_a, grad_b, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        from minigrad.ops.linalg import Einsum
        a, b = ctx.saved_tensors
        inputs, out = ctx.spec.split("->")
        a_subscripts, b_subscripts = inputs.split(",")
        grad_input = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_input = unbroadcast(ctx.beta * grad, ctx.input_shape)
        if ctx.needs_input_grad[1]:
            grad_a = ctx.alpha * Einsum.apply([out, b_subscripts], a_subscripts, grad, b)
        if ctx.needs_input_grad[2]:
            grad_b = ctx.alpha * Einsum.apply([a_subscripts, out], b_subscripts, a, grad)
        return grad_input, grad_a, grad_b, None, None, None


# One subclass per op, so that graphs and the profiler name each (grad_fn.name() is
# "AddmmBackward0", as in PyTorch); forward and backward are AddProduct's.
class Addmm(AddProduct):
    pass


class Baddbmm(AddProduct):
    pass


class Addbmm(AddProduct):
    pass


class Addmv(AddProduct):
    pass


class Addr(AddProduct):
    pass


def _tensor(x, name, function):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _check_expandable(input, target, function):
    """PyTorch's error when `input` does not broadcast to the output's shape `target`."""
    shape = tuple(input.shape)
    if len(shape) > len(target):
        raise RuntimeError(f"{function}: expand({list(shape)}, size={list(target)}): the number of "
                           f"sizes provided ({len(target)}) must be greater or equal to the number "
                           f"of dimensions in the tensor ({len(shape)})")
    for i in range(1, len(shape) + 1):
        if shape[-i] not in (1, target[-i]):
            raise RuntimeError(f"{function}: The expanded size of the tensor ({target[-i]}) must "
                               f"match the existing size ({shape[-i]}) at non-singleton dimension "
                               f"{len(target) - i}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(shape)}")


def _same_dtype(function, message, *tensors):
    if len({t.dtype for t in tensors}) > 1:
        names = [torch_dtype_name(t.dtype) for t in tensors]
        raise RuntimeError(f"{function}: {message}, but got " + (
            f"{names[0]} and {names[1]}" if len(names) == 2 else ", ".join(names[:-1]) + f", and {names[-1]}"))


def _check_scalars(function, dtype, beta, alpha):
    if np.dtype(dtype).kind in "biu":
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"{function}: For integral input tensors, argument {name} must "
                                   f"not be a floating point number, got {value}.")


def _size(shape):
    return "x".join(str(n) for n in shape)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2): (n, m) @ (m, p), input broadcast to (n, p)."""
    input, mat1, mat2 = (_tensor(x, n, "addmm") for x, n in ((input, "input"), (mat1, "mat1"),
                                                              (mat2, "mat2")))
    for name, matrix in (("mat1", mat1), ("mat2", mat2)):
        if matrix.ndim != 2:
            raise RuntimeError(f"addmm: {name} must be a matrix, got {matrix.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({_size(mat1.shape)} and {_size(mat2.shape)})")
    _same_dtype("addmm", "mat1 and mat2 must have the same dtype", mat1, mat2)
    _same_dtype("addmm", "self and mat2 must have the same dtype", input, mat2)
    _check_expandable(input, (mat1.shape[0], mat2.shape[1]), "addmm")
    return Addmm.apply(input, mat1, mat2, beta, alpha, "addmm")


def _check_batches(function, batch1, batch2):
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch.ndim != 3:
            raise RuntimeError(f"{function}: {name} must be a 3D tensor, got {batch.ndim}-D")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2): (b, n, m) @ (b, m, p), input broadcast to (b, n, p)."""
    input, batch1, batch2 = (_tensor(x, n, "baddbmm") for x, n in (
        (input, "input"), (batch1, "batch1"), (batch2, "batch2")))
    _check_batches("baddbmm", batch1, batch2)
    expected = [batch1.shape[0], batch1.shape[2]]
    if list(batch2.shape[:2]) != expected:
        raise RuntimeError(f"baddbmm: Expected size for first two dimensions of batch2 tensor to "
                           f"be: {expected} but got: {list(batch2.shape[:2])}.")
    _same_dtype("baddbmm", "input, batch1 and batch2 must have the same dtype", input, batch1, batch2)
    _check_expandable(input, (batch1.shape[0], batch1.shape[1], batch2.shape[2]), "baddbmm")
    return Baddbmm.apply(input, batch1, batch2, beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]: input broadcast to (n, p)."""
    input, batch1, batch2 = (_tensor(x, n, "addbmm") for x, n in (
        (input, "input"), (batch1, "batch1"), (batch2, "batch2")))
    _check_batches("addbmm", batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"addbmm: batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"addbmm: Incompatible matrix sizes for bmm ({_size(batch1.shape[1:])} "
                           f"and {_size(batch2.shape[1:])})")
    _same_dtype("addbmm", "input, batch1 and batch2 must have the same dtype", input, batch1, batch2)
    _check_expandable(input, (batch1.shape[1], batch2.shape[2]), "addbmm")
    return Addbmm.apply(input, batch1, batch2, beta, alpha, "addbmm")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec): (n, m) @ (m,), input broadcast to (n,)."""
    input, mat, vec = (_tensor(x, n, "addmv") for x, n in ((input, "input"), (mat, "mat"),
                                                            (vec, "vec")))
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected, got {input.ndim}, "
                           f"{mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0] or input.ndim == 1 and input.shape[0] not in (1, mat.shape[0]):
        raise RuntimeError(f"addmv: size mismatch, got input ({_size(input.shape)}), mat "
                           f"({_size(mat.shape)}), vec ({_size(vec.shape)})")
    _same_dtype("addmv", "addmv input tensors must have the same dtype", input, mat, vec)
    return Addmv.apply(input, mat, vec, beta, alpha, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2): input broadcast to (n, m); dtypes promote."""
    input, vec1, vec2 = (_tensor(x, n, "addr") for x, n in ((input, "input"), (vec1, "vec1"),
                                                             (vec2, "vec2")))
    for name, vector in (("vec1", vec1), ("vec2", vec2)):
        if vector.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {vector.ndim}-D")
    _check_expandable(input, (vec1.shape[0], vec2.shape[0]), "addr")
    # PyTorch's promotion: integers meeting floats take the float dtype (NumPy's would be float64)
    floats = [t.dtype for t in (input, vec1, vec2) if t.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.result_type(input.array, vec1.array, vec2.array)
    _check_scalars("addr", dtype, beta, alpha)
    if dtype == np.bool_:  # PyTorch: the logical (input and beta) or (vec1 and vec2 and alpha)
        out = (input.array & bool(beta)) | (np.outer(vec1.array, vec2.array) & bool(alpha))
        return Tensor._make(np.ascontiguousarray(np.broadcast_to(out, (vec1.shape[0], vec2.shape[0]))),
                            False, None)
    input, vec1, vec2 = (elementwise.cast(x, dtype) for x in (input, vec1, vec2))
    return Addr.apply(input, vec1, vec2, beta, alpha, "addr")


# ------------------------------------------------------------ pointwise fused ops
def _broadcast_three(function, *tensors):
    shapes = [tuple(np.shape(getattr(t, "array", t))) for t in tensors]
    shape = ()
    for other in shapes:
        for i in range(1, min(len(shape), len(other)) + 1):
            if shape[-i] != other[-i] and 1 not in (shape[-i], other[-i]):
                larger = max(len(shape), len(other))
                raise RuntimeError(f"{function}: The size of tensor a ({shape[-i]}) must match the "
                                   f"size of tensor b ({other[-i]}) at non-singleton dimension "
                                   f"{larger - i}")
        shape = np.broadcast_shapes(shape, other)


def _integral(x):
    return isinstance(x, Tensor) and x.dtype.kind in "biu"


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (all three broadcast)."""
    _broadcast_three("addcmul", input, tensor1, tensor2)
    product = tensor1 * tensor2
    if value == 1:
        return input + product
    if _integral(input) and _integral(product) and isinstance(value, float):
        value = int(value)  # PyTorch casts value to the integer dtype (toward zero)
    return input + value * product


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (all three broadcast; true division)."""
    if _integral(tensor1) and _integral(tensor2):
        raise RuntimeError("addcdiv: Integer division with addcdiv is no longer supported, and in "
                           "a future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as (input + "
                           "value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
                           "inputs and as (input + value * tensor1 / tensor2) for float inputs. "
                           "The future addcdiv behavior is just the latter implementation: "
                           "(input + value * tensor1 / tensor2), for all dtypes.")
    _broadcast_three("addcdiv", input, tensor1, tensor2)
    quotient = tensor1 / tensor2
    return input + quotient if value == 1 else input + value * quotient


# ------------------------------------------------------------------ cross product
class Cross(Function):
    """a x b along `axis` (length 3): d/da = b x grad, d/db = grad x a."""

    @staticmethod
    def forward(ctx, a, b, axis):
        ctx.save_for_backward(a, b)
        ctx.axis = axis
        return np.cross(a, b, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        axis = ctx.axis
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(np.cross(b, grad, axis=axis), a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(np.cross(grad, a, axis=axis), b.shape)
        return grad_a, grad_b, None

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(Cross.apply(b, grad, ctx.axis), tuple(a.shape))
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(Cross.apply(grad, a, ctx.axis), tuple(b.shape))
        return grad_a, grad_b, None


def linalg_cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product of 3-vectors along dim (batch dims broadcast)."""
    input, other = _tensor(input, "input", "linalg.cross"), _tensor(other, "other", "linalg.cross")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"{input.ndim} and {other.ndim}")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, "
                         f"{input.ndim - 1}], but got {dim})")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"linalg.cross: expected scalar type {torch_dtype_name(input.dtype)} "
                           f"but found {torch_dtype_name(other.dtype)}")
    _broadcast_three("linalg.cross", input, other)
    return Cross.apply(input, other, dim % input.ndim)


def cross(input, other, dim=None):
    """torch.cross: linalg.cross along dim; dim=None takes the first dim of size 3 (PyTorch
    warns that this default will change to -1, as does minigrad)."""
    if dim is None:
        import warnings
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape)) \
            if input.ndim == other.ndim else tuple(input.shape)
        sizes_three = [i for i, n in enumerate(shape) if n == 3]
        if not sizes_three:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {tuple(input.shape)}")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
                      "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value "
                      "of dim will change to agree with that of linalg.cross in a future release.",
                      UserWarning, stacklevel=2)
        dim = sizes_three[0]
    return linalg_cross(input, other, dim=dim)
