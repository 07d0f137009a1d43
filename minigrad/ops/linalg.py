"""Matrix multiplication with NumPy's rules (1-d vectors, batched broadcasting),
the other products (mm, bmm, mv, dot, outer, einsum) and ``linear``, the
affine map y = x W^T + b of a fully connected layer.

For C = A @ B:  dL/dA = dL/dC @ B^T  and  dL/dB = A^T @ dL/dC, each summed
back over broadcast batch dimensions.
"""
import numpy as np

from minigrad.autograd import Function
from minigrad.kernels import gemm as gemm_kernels
from minigrad.kernels.blas import matmul as blas_matmul
from minigrad.ops._args import check_tensor
from minigrad.ops.elementwise import _constant, unbroadcast


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return blas_matmul(a, b)      # 2-d: tiles on minigrad's threads, the same sums on any count

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Treat vectors as matrices: a (k,) is a row (1, k), b (k,) a column (k, 1).
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Give grad the matching axes back (b's first: vector @ vector gives a 0-d grad).
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(blas_matmul(grad, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(blas_matmul(np.swapaxes(a2, -1, -2), grad), b2.shape).reshape(b.shape)
        return grad_a, grad_b

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors  # Tensors: the same formulas, recorded
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(1) if b.ndim == 1 else b
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        if a.ndim == 1:
            grad = grad.unsqueeze(-2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(matmul(grad, b2.transpose(-1, -2)), tuple(a2.shape)).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(matmul(a2.transpose(-1, -2), grad), tuple(b2.shape)).reshape(b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """a @ b for vectors, matrices and stacks of matrices."""
    a_shape, b_shape = np.shape(getattr(a, "array", a)), np.shape(getattr(b, "array", b))
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)}")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {tuple(a_shape)} and {tuple(b_shape)} are not aligned "
                         f"({inner_a} (last dim of the first) != {inner_b} (the second's "
                         f"{'only' if len(b_shape) == 1 else 'second-to-last'} dim))")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {tuple(a_shape)} and "
                         f"{tuple(b_shape)} cannot be broadcast together") from None


# ------------------------------------------------ the named products: mm, bmm, ...
def _shape_of(x):
    return tuple(np.shape(getattr(x, "array", x)))


def _require_dims(name, **operands):
    """Each operand's required number of dims, e.g. _require_dims('mm', input=(a, 2), mat2=(b, 2))."""
    for label, (x, ndim) in operands.items():
        if len(_shape_of(x)) != ndim:
            raise ValueError(f"{name}: {label} must be a {ndim}-D tensor, got shape {_shape_of(x)}")


def mm(input, mat2):
    """(n, m) @ (m, p) -> (n, p); no broadcasting."""
    _require_dims("mm", input=(input, 2), mat2=(mat2, 2))
    return matmul(input, mat2)


def bmm(input, mat2):
    """(b, n, m) @ (b, m, p) -> (b, n, p); the batch sizes must match."""
    _require_dims("bmm", input=(input, 3), mat2=(mat2, 3))
    if _shape_of(input)[0] != _shape_of(mat2)[0]:
        raise ValueError(f"bmm: batch sizes differ: {_shape_of(input)} and {_shape_of(mat2)}")
    return matmul(input, mat2)


def mv(input, vec):
    """(n, m) @ (m,) -> (n,)."""
    _require_dims("mv", input=(input, 2), vec=(vec, 1))
    return matmul(input, vec)


def dot(input, other):
    """The inner product of two 1-D tensors of the same length."""
    _require_dims("dot", input=(input, 1), other=(other, 1))
    if _shape_of(input) != _shape_of(other):
        raise ValueError(f"dot: 1D tensors expected to have the same size, got {_shape_of(input)} "
                         f"and {_shape_of(other)}")
    return matmul(input, other)


inner = dot
vdot = dot


def outer(input, vec2):
    """out[i, j] = input[i] * vec2[j]."""
    _require_dims("outer", input=(input, 1), vec2=(vec2, 1))
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


class Einsum(Function):
    """np.einsum with explicit output subscripts (see einsum() for how they are made explicit).

    The gradient of operand k is the einsum of grad with all the other
    operands, written out to operand k's subscripts. A subscript that only k
    has (summed away) is broadcast back; a repeated subscript (a diagonal,
    'ii') is written onto that diagonal.
    """

    @staticmethod
    def forward(ctx, inputs, output, *operands):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(",".join(inputs) + "->" + output, *operands))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        grads = [None, None]
        for k, subscripts in enumerate(ctx.inputs):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others, unique, reachable, sizes = _gradient_subscripts(ctx, k, operands[k].shape)
            partial = np.einsum(",".join([ctx.output] + others) + "->" + reachable, grad,
                                *[o for i, o in enumerate(operands) if i != k])
            # Subscripts only this operand has: d/dx of a sum over them is 1 everywhere.
            expanded = partial.reshape([sizes[c] if c in reachable else 1 for c in unique])
            expanded = np.broadcast_to(expanded, [sizes[c] for c in unique])
            if unique == subscripts:
                # (np.ascontiguousarray makes a 0-d array 1-d: reshape back)
                grads.append(np.ascontiguousarray(expanded).reshape(operands[k].shape))
            else:
                full = np.zeros(operands[k].shape, dtype=grad.dtype)
                np.einsum(subscripts + "->" + unique, full)[...] = expanded  # a writeable view
                grads.append(full)
        return tuple(grads)

    @staticmethod
    def backward_graph(ctx, grad):
        """backward with Tensor ops (Einsum, reshape, expand); a repeated subscript's
        diagonal is written by an einsum with identity matrices: 'ij' -> 'iIj' times
        delta_iI stands for 'iij'."""
        operands = ctx.saved_tensors
        grads = [None, None]
        for k, subscripts in enumerate(ctx.inputs):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others, unique, reachable, sizes = _gradient_subscripts(ctx, k, operands[k].shape)
            partial = Einsum.apply([ctx.output] + others, reachable, grad,
                                   *[o for i, o in enumerate(operands) if i != k])
            expanded = partial.reshape([sizes[c] if c in reachable else 1 for c in unique])
            expanded = expanded.expand(*[sizes[c] for c in unique])
            if unique == subscripts:
                grads.append(expanded)
                continue
            used = set("".join(ctx.inputs) + ctx.output)
            spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
            seen, letters, deltas, eyes = set(), [], [], []
            for c in subscripts:
                if c in seen:  # a repeat: a new letter tied to c by an identity matrix
                    fresh = next(spare)
                    letters.append(fresh)
                    deltas.append(c + fresh)
                    eyes.append(_constant(np.eye(sizes[c], dtype=grad.dtype)))
                else:
                    seen.add(c)
                    letters.append(c)
            grads.append(Einsum.apply([unique] + deltas, "".join(letters), expanded, *eyes))
        return tuple(grads)


def _gradient_subscripts(ctx, k, shape):
    """For operand k of an einsum: the other operands' subscripts, its own without
    repeats, those of them the output or another operand has (the rest are summed
    over, so their gradient is 1), and each subscript's size."""
    subscripts = ctx.inputs[k]
    others = [s for i, s in enumerate(ctx.inputs) if i != k]
    available = set(ctx.output).union(*others) if others else set(ctx.output)
    unique = "".join(dict.fromkeys(subscripts))
    reachable = "".join(c for c in unique if c in available)
    return others, unique, reachable, dict(zip(subscripts, shape))


def _explicit_subscripts(equation, shapes):
    """Make '...' and an implicit output explicit: 'ij,jk' -> (['ij', 'jk'], 'ik')."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, got "
                         f"{len(shapes)}")
    used = set(equation) - set(".,->")
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
    ellipsis_letters = ""
    longest = 0
    for shape, subscripts in zip(shapes, inputs):
        if "..." in subscripts:
            longest = max(longest, len(shape) - (len(subscripts) - 3))
    ellipsis_letters = "".join(next(spare) for _ in range(longest))
    explicit = []
    for shape, subscripts in zip(shapes, inputs):
        if "..." in subscripts:
            covered = len(shape) - (len(subscripts) - 3)
            subscripts = subscripts.replace("...", ellipsis_letters[longest - covered:])
        if len(subscripts) != len(shape):
            raise ValueError(f"einsum: subscripts {subscripts!r} do not match an operand of shape "
                             f"{tuple(shape)}")
        explicit.append(subscripts)
    if arrow:
        output = output.replace("...", ellipsis_letters)
    else:  # implicit: the broadcast dims, then the subscripts used once, alphabetically
        counts = "".join(explicit)
        output = ellipsis_letters + "".join(sorted(c for c in set(counts)
                                                   if counts.count(c) == 1 and c not in ellipsis_letters))
    return explicit, output, ellipsis_letters


def _broadcast_ellipsis(operands, shapes, inputs, ellipsis_letters):
    """Expand size-1 dims under '...' to the largest size any operand has there."""
    sizes = {}
    for shape, subscripts in zip(shapes, inputs):
        for letter, n in zip(subscripts, shape):
            if letter in ellipsis_letters and n != 1:
                if sizes.setdefault(letter, n) != n:
                    raise ValueError(f"einsum: dims under '...' of sizes {sizes[letter]} and {n} "
                                     f"do not broadcast (shapes {shapes})")
    expanded = []
    for x, shape, subscripts in zip(operands, shapes, inputs):
        target = tuple(sizes.get(c, n) if c in ellipsis_letters else n for c, n in zip(subscripts, shape))
        expanded.append(x.expand(*target) if target != tuple(shape) else x)
    return tuple(expanded)


def einsum(equation, *operands):
    """Einstein summation: einsum('ij,jk->ik', a, b) == a @ b; '...' and implicit outputs work.

    Dims that '...' covers broadcast as in PyTorch: a size-1 dim there is
    expanded to the other operands' size (its gradient is summed back).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    shapes = [_shape_of(x) for x in operands]
    inputs, output, ellipsis_letters = _explicit_subscripts(equation, shapes)
    operands = _broadcast_ellipsis(operands, shapes, inputs, ellipsis_letters)
    try:
        return Einsum.apply(inputs, output, *operands)
    except ValueError as error:
        raise ValueError(f"einsum {equation!r} with shapes {shapes}: {error}") from None


# ------------------------------------------------------------------- linear
class Linear(Function):
    """y = x @ W^T + b for x of shape (*, in), W (out, in), b (out,)."""

    fresh_gradients = True  # backward returns newly allocated gradients

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        rows = x.reshape(-1, x.shape[-1])                 # (*, in) as (rows, in)
        out = gemm_kernels.matmul(rows, weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:                              # (rows, in) @ (in, out) -> (*, out)
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        grad_2d = grad.reshape(-1, grad.shape[-1])        # (rows, out)
        if ctx.needs_input_grad[0]:                       # (rows, out) @ (out, in) -> (*, in)
            grad_x = gemm_kernels.matmul(grad_2d, weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = gemm_kernels.matmul(grad_2d.T, x.reshape(-1, x.shape[-1]))  # (out, rows) @ (rows, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_2d.sum(axis=0)
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad):
        x, weight = ctx.saved_tensors  # Tensors: the same formulas, recorded
        grad_x = grad_w = grad_b = None
        grad_2d = grad.reshape(-1, grad.shape[-1])
        if ctx.needs_input_grad[0]:
            grad_x = matmul(grad_2d, weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = matmul(grad_2d.transpose(0, 1), x.reshape(-1, x.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_2d.sum(axis=0)
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias (PyTorch's F.linear).

    input (*, in_features), weight (out_features, in_features), bias (out_features,).
    """
    check_tensor(input, "input", "linear")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: expected input with last dimension {weight.shape[1]} "
                         f"(in_features), got input of shape {tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    return Linear.apply(input, weight, bias)
