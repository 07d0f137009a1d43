"""Function transforms (torch.func): grad, vjp, jvp, jacrev, jacfwd, vmap, functional_call.

    grad(f)(x)              d f(x) / dx for a scalar f          (autograd.grad on fresh leaves)
    vjp(f, x)               (f(x), v -> v^T J)
    jvp(f, (x,), (t,))      (f(x), J t)                          (one backward pass per output element)
    jacrev(f)(x)            J, shape f(x).shape + x.shape        (one backward pass per output element)
    vmap(f)(xs)             stack([f(x) for x in xs])            (f runs once per batch element)

PyTorch implements these with functorch's wrapped tensors: vmap batches the
operations themselves, jacfwd uses forward-mode AD. minigrad runs ``func``
on ordinary Tensors: vmap calls it once per batch element and stacks the
results (the same values, and autograd flows through the stacking); jacfwd
and jvp, forward mode in PyTorch, give the same values computed by reverse mode.

Transforms nest (``grad(grad(f))``, ``jacrev(jacrev(f))``, ``hessian``,
``jacfwd(grad(f))``, ``vmap(grad(f))`` for per-example gradients) as they
compose with ordinary autograd: a transform differentiates with respect to
new tensors of its own, and records its backward passes
(``create_graph=True``) exactly when what it computes depends on a tensor
outside it that requires grad: an argument that requires grad (then the new
tensor is a view of it), a captured parameter, or the tensors of an outer
transform. Its results then stay in that graph, as functorch's levels do;
otherwise they are detached and the backward passes are not recorded.
"""
import functools

import numpy as np

from minigrad import autograd
from minigrad import random as _random
from minigrad.autograd_functional import jvp_by_double_vjp, one_hot, vector_jacobian
from minigrad.func.pytree import broadcast_prefix, flatten, tree_map, unflatten
from minigrad.tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state"]


# ---- argnums and differentiable copies of the arguments

def _wrap_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _wrap_argnums(argnums, num_args):
    """argnums as non-negative positions (an int stays an int, a tuple a tuple)."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    argnums = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return argnums


class _OwnTensors:
    """The tensors a transform differentiates with respect to, made from its
    arguments: a detached leaf, or (for an argument that requires grad, with
    grad mode on) a view of it, so that the results stay connected to it."""

    def __init__(self):
        self.leaf_ids, self.view_nodes, self.alive = set(), set(), []

    def __call__(self, x):
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad and autograd.is_grad_enabled():
            with autograd.enable_grad():
                own = x.view_as(x)
            self.view_nodes.add(id(own.grad_fn))
        else:
            own = x.detach().requires_grad_(True)
            self.leaf_ids.add(id(own))
        self.alive.append(own)  # keeps the ids valid
        return own

    def outside(self, tensors):
        """Whether `tensors` depend on a tensor requiring grad other than these
        (so the transform must record its backward passes): a search of
        their graph that stops at the first such tensor."""
        if not autograd.is_grad_enabled():
            return False
        stack, seen = [], set()
        for t in tensors:
            if isinstance(t, Tensor) and t.requires_grad:
                if t.grad_fn is not None:
                    stack.append(t.grad_fn)
                elif id(t) not in self.leaf_ids:
                    return True
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if id(node) in self.view_nodes:
                return True
            for edge in node.__dict__.get("next_nodes", ()):
                if isinstance(edge, Tensor):
                    if id(edge) not in self.leaf_ids:
                        return True
                elif edge is not None and id(edge) not in seen:
                    stack.append(edge)
        return False


def _differentiable_args(args, argnums, own):
    """(args with own tensors at argnums, the differentiated part: one pytree or a tuple of them)."""
    args = list(args)
    positions = (argnums,) if isinstance(argnums, int) else argnums
    for position in positions:
        args[position] = tree_map(own, args[position])
    diff = args[argnums] if isinstance(argnums, int) else tuple(args[p] for p in argnums)
    return tuple(args), diff


def _result_tree(tree, keep_graph):
    """Outputs and aux as the transform returns them: detached from its graph,
    unless the transform records one (keep_graph)."""
    def unwrap(x):
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
        return x.detach() if x.requires_grad and not keep_graph else x
    return tree_map(unwrap, tree)


def _grads_or_zeros(outputs, cotangents, inputs, create_graph=False, retain_graph=True):
    """vector-Jacobian products as Tensors, zeros for an input nothing depends on
    (functorch's _autograd_grad)."""
    grads = vector_jacobian(outputs, inputs, cotangents, create_graph, retain_graph)
    return [Tensor._make(np.zeros_like(x.array), False, None) if g is None else g
            for g, x in zip(grads, inputs)]


# ---- grad

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (d func / d args[argnums], func(*args)); with has_aux
    func returns (output, aux) and this returns (grad, (output, aux)).

    func must return a 0-dim Tensor. argnums: an int, or a tuple of ints
    (the gradient is then a tuple); each argument there may be a pytree of Tensors.
    The gradient is differentiable where func depends on tensors outside that
    require grad (grad(grad(f)), an argument or parameter that requires grad).
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        own = _OwnTensors()
        positions = _wrap_argnums(argnums, len(args))
        args, diff_args = _differentiable_args(args, positions, own)
        with autograd.enable_grad():
            output = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            output, aux = output
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                               f"got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                               f"got tensor with {output.dim()} dims. Maybe you wanted to use the vjp "
                               f"or jacrev APIs instead?")
        flat_diff, spec = flatten(diff_args)
        record = own.outside([output] + (flatten(aux)[0] if has_aux else []))
        gradients = unflatten(_grads_or_zeros((output,), (None,), flat_diff, create_graph=record), spec)
        output = _result_tree(output, record)
        if has_aux:
            return gradients, (output, _result_tree(aux, record))
        return gradients, output
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning d func(*args) / d args[argnums] (func returns a 0-dim Tensor);
    with has_aux, (grad, aux). Nests: grad(grad(f)) is the second derivative."""
    value_and_grad = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradients, value = value_and_grad(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients
    return wrapper


# ---- vjp and the Jacobians

def _vjp_with_argnums(func, primals, argnums, has_aux, api="vjp"):
    """(output, vjp_fn, aux); vjp_fn(cotangents) gives the products for the
    differentiated primals (all of them when argnums is None)."""
    own = _OwnTensors()
    if argnums is None:
        primals = tree_map(own, tuple(primals))
        diff_primals = primals
    else:
        primals, diff_primals = _differentiable_args(primals, _wrap_argnums(argnums, len(primals)), own)
    with autograd.enable_grad():
        output = func(*primals)
    output, aux, flat_output, output_spec = _split_output(output, has_aux, "vjp(f, *primals)")
    for o in flat_output:
        if not o.is_floating_point():
            raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex "
                               f"Tensors, got Tensor with dtype {o.dtype}")
    flat_diff, diff_spec = flatten(diff_primals)
    # Record the backward passes when the outputs depend on tensors outside that require grad.
    outside = own.outside(flat_output + (flatten(aux)[0] if has_aux else []))
    if has_aux:
        aux = _result_tree(aux, outside)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        """The products v^T d output / d primals; create_graph (default: grad mode
        is on) records them where they depend on outside tensors or on the cotangents."""
        if create_graph is None:
            create_graph = autograd.is_grad_enabled()
        flat_cotangents, cotangents_spec = flatten(cotangents)
        if cotangents_spec != output_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure "
                               f"of outputs to the function. cotangents: {_pprint(cotangents_spec)}, "
                               f"primal output: {_pprint(output_spec)}")
        record = create_graph and (outside or any(isinstance(c, Tensor) and c.requires_grad
                                                  for c in flat_cotangents))
        return unflatten(_grads_or_zeros(flat_output, flat_cotangents, flat_diff, record, retain_graph),
                         diff_spec)

    vjp_fn.flat_output, vjp_fn.flat_diff, vjp_fn.diff_spec = flat_output, flat_diff, diff_spec
    vjp_fn.outside = outside
    return _result_tree(output, outside), vjp_fn, aux


def _pprint(spec):
    """PyTorch's treespec_pprint: the tree with * at the leaves."""
    class Star:
        def __repr__(self):
            return "*"
    return repr(unflatten([Star()] * spec.num_leaves, spec))


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) is the tuple of
    v^T d func / d primals[k], one per primal; cotangents have the output's structure."""
    output, vjp_fn, aux = _vjp_with_argnums(func, primals, None, has_aux)
    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)


_JVP = "jvp(f, primals, tangents)"


def _split_output(output, has_aux, api):
    """f's output split as (output, aux, output's flat list of Tensors, its tree spec),
    with torch.func's errors."""
    aux = None
    if has_aux:
        if not (isinstance(output, tuple) and len(output) == 2):
            raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) "
                               f"if has_aux is True")
        output, aux = output
    flat_output, output_spec = flatten(output)
    if (len(flat_output) == 1 and flat_output[0] is None) or len(flat_output) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output "
                           f"(got output = {flat_output})")
    for o in flat_output:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, "
                               f"got unsupported type {type(o)}")
    return output, aux, flat_output, output_spec


def _only_tensors(values, argname):
    if len(values) == 0:
        raise RuntimeError(f"{_JVP}: Expected {argname} to contain at least one Tensor.")
    for value in values:
        if not isinstance(value, Tensor):
            raise RuntimeError(f"{_JVP}: Expected {argname} to only contain Tensors, got {type(value)}")


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents[, aux]): PyTorch's forward-mode Jacobian-vector product.

    (J t)[i] = sum_j J[i, j] t[j]. minigrad has no forward mode: each output
    element's row of J comes from one backward pass (exact values, the same as
    PyTorch's); when the result must be differentiable (primals or tangents that
    require grad, an outer transform), the double-backward trick instead (see
    autograd_functional). primals: a tuple of pytrees of Tensors; tangents: the same structure.
    strict: an output independent of the primals raises instead of getting zeros.
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_primals, primals_spec = flatten(primals)
    flat_tangents, tangents_spec = flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For "
                           f"example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
                           f"with structure {primals_spec} and tangents with structure {tangents_spec}")
    _only_tensors(flat_primals, "primals")
    _only_tensors(flat_tangents, "tangents")
    for primal, tangent in zip(flat_primals, flat_tangents):
        if tangent.shape != primal.shape:
            raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the "
                               f"original Tensor, this is not supported. Tensor is of size {list(primal.shape)} "
                               f"while the given forward gradient is of size {list(tangent.shape)}.")
    own = _OwnTensors()
    leaves = [own(p) for p in flat_primals]
    with autograd.enable_grad():
        output = func(*unflatten(leaves, primals_spec))
    output, aux, flat_output, output_spec = _split_output(output, has_aux, _JVP)
    outside = own.outside(flat_output + (flatten(aux)[0] if has_aux else []))
    if has_aux:
        aux = _result_tree(aux, outside)
    differentiable = [out for out in flat_output if out.requires_grad and out.is_floating_point()]
    if outside or (autograd.is_grad_enabled() and any(t_.requires_grad for t_ in flat_tangents)):
        # recorded: the double-backward trick, differentiable in the primals and the tangents
        _, products = jvp_by_double_vjp(tuple(differentiable), tuple(leaves), tuple(flat_tangents), True)
        by_output = dict(zip([id(out) for out in differentiable], products))
    else:
        by_output = {id(out): _jvp_from_rows(out, leaves, flat_tangents) for out in differentiable}
    tangents_out = []
    for out in flat_output:
        product = by_output.get(id(out))
        if product is None:
            if strict:
                raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of "
                                   "the inputs. This is not allowed with strict=True.")
            product = Tensor._make(np.zeros_like(out.array), False, None)
        tangents_out.append(product)
    result = (_result_tree(output, outside), unflatten(tangents_out, output_spec))
    return result + (aux,) if has_aux else result


def _jvp_from_rows(out, leaves, tangents):
    """J t for one output from its rows of J (one backward pass each, not recorded);
    None when no row depends on the primals."""
    rows = [vector_jacobian((out,), leaves, (one_hot(out, j),)) for j in range(out.numel())]
    if not any(g is not None for row in rows for g in row):
        return None
    dtype = np.result_type(out.array.dtype, *[t_.array.dtype for t_ in tangents])
    flat = np.zeros(out.numel(), dtype=dtype)  # (J t) flattened
    for j, row in enumerate(rows):
        flat[j] = sum(np.sum(g.array * t_.array) for g, t_ in zip(row, tangents) if g is not None)
    return Tensor._make(flat.reshape(out.array.shape), False, None)


def _jacobian(func, args, argnums, has_aux, api):
    """The Jacobian pytree shared by jacrev and jacfwd: for each output leaf, the
    argnums structure of blocks shaped output.shape + primal.shape (recorded, so
    differentiable, when func depends on tensors outside that require grad)."""
    import minigrad
    output, vjp_fn, aux = _vjp_with_argnums(func, args, argnums, has_aux, api)
    flat_output, flat_diff, record = vjp_fn.flat_output, vjp_fn.flat_diff, vjp_fn.outside
    jacobians = []
    for out in flat_output:
        blocks = [[] for _ in flat_diff]
        for j in range(out.numel()):  # row j: one-hot cotangent on this output, zeros on the others
            row = _grads_or_zeros((out,), (one_hot(out, j),), flat_diff, create_graph=record)
            for block, g in zip(blocks, row):
                block.append(g)
        per_primal = []
        for block, primal in zip(blocks, flat_diff):
            shape = out.array.shape + primal.array.shape
            if not block:
                per_primal.append(Tensor._make(np.zeros(shape, primal.array.dtype), False, None))
            elif record:  # (out.numel(), *primal.shape) -> (*out.shape, *primal.shape)
                per_primal.append(minigrad.stack(block).reshape(shape))
            else:
                per_primal.append(Tensor._make(np.stack([g.array for g in block]).reshape(shape), False, None))
        jacobians.append(unflatten(per_primal, vjp_fn.diff_spec))
    jacobian = unflatten(jacobians, flatten(output)[1])
    return (jacobian, aux) if has_aux else jacobian


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of func with respect to args[argnums] by
    reverse mode: one backward pass per output element (chunk_size, which PyTorch
    uses to bound vmap's memory, changes nothing here)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        return _jacobian(func, args, argnums, has_aux, "jacrev")
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """PyTorch's forward-mode Jacobian; minigrad has no forward mode, so this is the
    same Jacobian computed by reverse mode (jacrev). func runs once: randomness='error'
    (the default) raises if func draws random numbers, as PyTorch's vmap over the
    tangents does; 'same' and 'different' let it draw once."""
    _check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args):
        state = _random.get_rng_state()
        result = _jacobian(func, args, argnums, has_aux, "jacfwd")
        if randomness == "error" and _random.get_rng_state() != state:
            _random.set_rng_state(state)
            raise RuntimeError(_RANDOM_ERROR)
        return result
    return wrapper


def hessian(func, argnums=0):
    """A function returning the Hessian of a scalar func with respect to args[argnums]:
    jacfwd(jacrev(func, argnums), argnums), as in PyTorch (both by reverse mode here),
    shape primal.shape + primal.shape."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the "
                 "'same' or 'different' randomness flags on vmap or perform the randomness operation out of vmap")


def _check_randomness(randomness):
    if randomness not in ["error", "different", "same"]:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")


def _name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


def _batched_inputs(func, in_dims, args):
    """(batch size, one in_dim per leaf of args, the leaves, their spec), checked as PyTorch does."""
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         f"trying to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, spec = flatten(args)
    flat_dims = broadcast_prefix(in_dims, spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    for i, (arg, dim) in enumerate(zip(flat_args, flat_dims)):
        if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                             f"but in_dim must be either an integer dimension or None.")
        if isinstance(dim, int) and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                             f"but the input is of type {type(arg)}. We cannot vmap over non-Tensor "
                             f"arguments, please use None as the respective in_dim")
        if dim is not None and not -arg.dim() <= dim < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for some "
                             f"input, but that input is a Tensor of dimensionality {arg.dim()} so expected "
                             f"in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}.")
        if dim is not None and dim < 0:
            flat_dims[i] = dim % arg.dim()
    sizes = [arg.shape[dim] for arg, dim in zip(flat_args, flat_dims) if dim is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                         f"sizes {sizes} for the mapped dimension")
    return sizes[0], flat_dims, flat_args, spec


def _check_out_dims(func, out_dims):
    for dim in ([out_dims] if isinstance(out_dims, int) else flatten(out_dims)[0]):
        if dim is not None and not isinstance(dim, int):
            raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None "
                             f"or a python collection of ints representing where in the outputs the vmapped "
                             f"dimension should appear.")


def _element(arg, dim, index):
    """Batch element `index` of an argument (the argument itself when dim is None);
    index None: a zero element, to learn the output's shape when the batch is empty."""
    if dim is None:
        return arg
    if index is None:
        shape = arg.shape[:dim] + arg.shape[dim + 1:]
        return Tensor._make(np.zeros(shape, dtype=arg.array.dtype), False, None)
    return arg.select(dim, index)


def _stack_outputs(func, outputs, out_dims, empty):
    """The per-element outputs stacked at out_dims (outputs: one pytree per batch element)."""
    import minigrad
    name = _name(func)
    flat_first, spec = flatten(outputs[0])

    def incompatible():
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
                         f"the structure of `outputs`. out_dims has structure {flatten(out_dims)[1]} but outputs "
                         f"has structure {spec}.")

    if isinstance(outputs[0], Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            flat_dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat_dims = list(out_dims)
        else:
            incompatible()
    else:
        flat_dims = broadcast_prefix(out_dims, spec)
        if flat_dims is None:
            incompatible()
    columns = list(zip(*[flatten(o)[0] for o in outputs]))  # columns[k]: leaf k of every element
    stacked = []
    for column, dim in zip(columns, flat_dims):
        first = column[0]
        if dim is None:
            # PyTorch refuses an output that depends on the batch; a loop sees that as values that differ.
            if isinstance(first, Tensor) and not empty and any(
                    not isinstance(x, Tensor) or x.shape != first.shape or not np.array_equal(x.array, first.array)
                    for x in column[1:]):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            stacked.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(first)}. "
                             f"Did you mean to set out_dims= to None for output?")
        ndim = first.dim() + 1
        if not -ndim <= dim < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                             f"but got {dim})")
        if empty:  # a batch of size 0: the probe's output with a 0-long batch dimension
            position = dim % ndim
            shape = first.shape[:position] + (0,) + first.shape[position:]
            stacked.append(Tensor._make(np.zeros(shape, dtype=first.array.dtype), False, None))
        else:
            stacked.append(minigrad.stack(list(column), dim=dim))
    return unflatten(stacked, spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """vmap(func)(xs) = stack([func(x) for x in xs]): func mapped over dimension in_dims
    of its arguments, the results stacked at out_dims.

    in_dims: an int (every argument), or a tuple with one entry per argument, each an
    int, None (not mapped: passed whole to every call) or a nested structure matching
    that argument's tuples, lists and dicts; out_dims likewise for func's outputs.
    minigrad calls func once per batch element (PyTorch batches the operations;
    the values are the same, and gradients flow through). randomness: 'different'
    lets each element draw its own random numbers, 'same' replays the generator's
    state so every element draws the same ones, 'error' (the default) raises
    PyTorch's error when func draws from minigrad's global generator. An output
    with out_dim None must not depend on the batch: here that is checked on the
    values (equal for every element), where PyTorch checks the dependence itself.
    chunk_size bounds PyTorch's memory and changes nothing here.
    """
    _check_randomness(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(func, out_dims)
        batch_size, flat_dims, flat_args, spec = _batched_inputs(func, in_dims, args)
        state = _random.get_rng_state()
        outputs = []
        for index in range(batch_size) if batch_size > 0 else [None]:
            if randomness == "same":
                _random.set_rng_state(state)
            element_args = unflatten([_element(a, d, index) for a, d in zip(flat_args, flat_dims)], spec)
            outputs.append(func(*element_args, **kwargs))
            if randomness == "error" and _random.get_rng_state() != state:
                _random.set_rng_state(state)
                raise RuntimeError(_RANDOM_ERROR)
        return _stack_outputs(func, outputs, out_dims, empty=batch_size == 0)
    return wrapped


# ---- modules as functions

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the given tensors in place of its parameters and
    buffers (nn.utils.stateless.functional_call without the deprecation warning);
    parameter_and_buffer_dicts: one {name: Tensor} dict, or a list/tuple of dicts
    with no name in two of them."""
    from minigrad.nn.utils.stateless import _functional_call
    if isinstance(parameter_and_buffer_dicts, dict):
        parameters_and_buffers = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for key in d:
                counts[key] = counts.get(key, 0) + 1
        repeated = [key for key, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        parameters_and_buffers = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
                         f"but got {type(parameter_and_buffer_dicts)}")
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each name's tensors of every model stacked on a new dim 0
    (shape (len(models), *shape)), for vmap over an ensemble with functional_call.
    Stacked parameters are new leaves that require grad."""
    import minigrad
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors, name):
        requires = [t.requires_grad for t in tensors]
        if any(requires) and not all(requires):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = minigrad.stack([t.detach() for t in tensors])
        return result.requires_grad_(True) if all(requires) else result

    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: stacked([p[k] for p in all_params], k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: stacked([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
