"""Run a model once on zeros and record every layer call (used by summary and receptive_field).

A forward *pre*-hook on a module fires when its ``forward`` starts and a
forward hook when it ends, so recording the start gives the order in which
layers run (a container's own row comes before its children's) and the end
gives the output. Hooks are removed afterwards and every module's
``training`` flag is restored, even when the forward pass fails.
"""
import numpy as np

from minigrad import autograd


class LayerCall:
    """One call of one module: where it sits, what went in, what came out."""

    __slots__ = ("name", "module", "input_shapes", "output_shapes", "output_bytes", "depth")

    def __init__(self, name, module, input_shapes, depth):
        self.name = name
        self.module = module
        self.input_shapes = input_shapes
        self.output_shapes = []
        self.output_bytes = 0
        self.depth = depth

    @property
    def type(self):
        return type(self.module).__name__


def _tensors_in(value):
    """The Tensors in a module's input or output (a Tensor, or a tuple/list/dict of them)."""
    from minigrad.tensor import Tensor
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors_in(item)]
    return []


def has_children(module):
    return next(iter(module.children()), None) is not None


def has_own_parameters(module):
    return next(iter(module.parameters(recurse=False)), None) is not None


def normalize_input_size(input_size):
    """(3, 32, 32) -> [(3, 32, 32)];  [(3, 32, 32), (10,)] -> both (one per model input)."""
    if isinstance(input_size, (tuple, list)) and input_size and all(
            isinstance(s, (tuple, list)) for s in input_size):
        sizes = [tuple(s) for s in input_size]
    elif isinstance(input_size, (tuple, list)):
        sizes = [tuple(input_size)]
    elif isinstance(input_size, (int, np.integer)) and not isinstance(input_size, bool):
        sizes = [(int(input_size),)]
    else:
        raise TypeError(f"input_size must be a tuple of ints such as (3, 32, 32) (without the "
                        f"batch dimension) or a list of such tuples, got {input_size!r}")
    for size in sizes:
        for n in size:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"input_size {size} must contain positive ints (the batch "
                                 f"dimension is added for you), got {n!r}")
    return sizes


def trace_layers(model, input_size, dtype, batch_size, include):
    """Run `model` on zeros of shape (batch_size, *input_size); return one LayerCall per call.

    `include(module)` says which modules get a row. The pass runs in eval
    mode (batch norm uses its running statistics, dropout is off) and without
    recording a graph; the model's training flags are restored afterwards.
    """
    import minigrad
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not callable(getattr(model, "named_modules", None)):
        raise TypeError(f"model must be a minigrad.nn.Module, got {type(model).__name__}")
    sizes = normalize_input_size(input_size)
    inputs = [minigrad.zeros((int(batch_size),) + size, dtype=dtype) for size in sizes]

    calls, open_calls, handles = [], {}, []

    def pre_hook(module, args):
        name = names[id(module)]
        call = LayerCall(name, module, [tuple(t.shape) for t in _tensors_in(args)],
                         name.count(".") + 1 if name else 0)
        calls.append(call)
        open_calls.setdefault(id(module), []).append(call)

    def post_hook(module, args, output):
        call = open_calls[id(module)].pop()
        outputs = _tensors_in(output)
        call.output_shapes = [tuple(t.shape) for t in outputs]
        call.output_bytes = sum(t.array.nbytes for t in outputs)

    names = {}
    for name, module in model.named_modules():
        if id(module) in names or not include(module):
            continue
        names[id(module)] = name
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))

    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with autograd.no_grad():
            output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
    return calls, inputs, output
