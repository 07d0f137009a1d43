"""Tools that work on whole modules or parameter lists (as torch.nn.utils).

- ``clip_grad_norm_`` / ``clip_grad_value_``: bound the gradients before a step
- ``parameters_to_vector`` / ``vector_to_parameters``: view all parameters as one vector
- ``weight_norm`` / ``remove_weight_norm``: reparametrise weight = g * v / ||v||
- ``fuse_conv_bn_eval``: fold a frozen batch norm into the convolution before it
- ``rnn``: padded and packed batches of sequences of different lengths
- ``parametrize`` / ``parametrizations``: a tensor computed from others (orthogonal,
  weight_norm, spectral_norm), with torch's ``parametrizations.weight.original`` keys
- ``spectral_norm`` / ``remove_spectral_norm``: the hook form (weight_orig, weight_u, weight_v)
- ``prune``: masks that zero chosen entries (weight_orig, weight_mask)
- ``stateless.functional_call``: call a module with other parameters and buffers
- ``clip_grad`` (``get_total_norm``, ``clip_grads_with_norm_``), ``fusion``
  (``fuse_linear_bn_eval``), ``init.skip_init``, ``memory_format``, ``convert_parameters``
"""
import copy
import importlib
import math
import types
import warnings

import numpy as np

from minigrad.autograd import no_grad
from minigrad.nn.module import Module, Parameter
from minigrad.ops.reduction import sum as _sum
from minigrad.ops.shape import cat
from minigrad.tensor import Tensor


def _parameter_list(parameters, name):
    if isinstance(parameters, Tensor):
        return [parameters]
    parameters = list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected Tensors (parameters), got {type(p).__name__}")
    return parameters


# ------------------------------------------------------------- gradient clipping
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm.

    The norm is taken over all gradients concatenated into one vector; if it
    exceeds max_norm every gradient is multiplied by max_norm / (norm + 1e-6).
    The direction of the update is kept, only its length is bounded (the
    usual cure for exploding gradients). Returns the norm before clipping.
    foreach is accepted for PyTorch scripts (there is one CPU path).
    """
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    parameters = _parameter_list(parameters, "clip_grad_norm_")
    grads = [p.grad.array for p in parameters if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                           f"is non-finite ({total}), so it cannot be clipped")
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g *= g.dtype.type(clip_coef)
    return Tensor(np.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    parameters = _parameter_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for p in parameters:
        if p.grad is not None:
            np.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)


# --------------------------------------------------------------- vector views
def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-d tensor (differentiable)."""
    parameters = _parameter_list(parameters, "parameters_to_vector")
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d `vec` into the parameters (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got {type(vec).__name__}")
    parameters = _parameter_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec must be 1-d with {total} elements (the "
                         f"parameters' total), got shape {tuple(vec.shape)}")
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.array[...] = vec.array[offset:offset + n].reshape(p.shape)
            offset += n


# ---------------------------------------------------------------- weight norm
def _norm_except_dim(v, dim):
    """||v|| over every dimension but `dim` (keepdim), or over all if dim is None."""
    squared = v * v
    if dim is None:
        return _sum(squared).sqrt()
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return _sum(squared, axes, keepdim=True).sqrt()


def weight_from_g_v(g, v, dim):
    """weight = g * v / ||v||: direction from v, length from g (per slice along dim)."""
    return v * (g / _norm_except_dim(v, dim))


class WeightNorm:
    """The forward pre-hook weight_norm installs: recomputes weight from g and v."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        return weight_from_g_v(getattr(module, self.name + "_g"), getattr(module, self.name + "_v"),
                               self.dim)

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrise module.<name> as g * v / ||v|| (Salimans & Kingma, 2016).

    The length g and direction v are trained separately, which decouples the
    scale of each output unit's weight vector from its direction. Parameters
    <name>_g (norm over all dims but `dim`, kept as size-1 dims; dim=None: one
    scalar for the whole tensor; so does dim=-1, as in torch) and <name>_v replace
    <name>, as in PyTorch. Deprecated there (a FutureWarning) for
    ``parametrizations.weight_norm``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"weight_norm: expected a Module, got {type(module).__name__}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter named {name!r}")
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same "
                               f"parameter {name!r}")
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    if dim == -1:   # as torch's norm_except_dim: -1 means the norm of the whole tensor
        dim = None
    if dim is not None:
        if not -weight.ndim <= dim < weight.ndim:
            raise ValueError(f"weight_norm: dim {dim} is out of range for {name} of shape "
                             f"{tuple(weight.shape)}")
        dim = dim % weight.ndim
    hook = WeightNorm(name, dim)
    with no_grad():
        g = _norm_except_dim(weight.detach(), dim).array.copy()
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(g))
    module.register_parameter(name + "_v", Parameter(weight.array.copy()))
    object.__setattr__(module, name, hook.compute_weight(module))
    handle = module.register_forward_pre_hook(hook)
    hook.handle = handle
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: <name> becomes a plain Parameter again (with the current value)."""
    for hook in list(module._forward_pre_hooks.values()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module).array.copy()
            hook.handle.remove()
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"weight_norm of {name!r} not found in {type(module).__name__}")


# ------------------------------------------------------------ conv-bn fusion
def _fuse_conv_bn_arrays(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False,
                         groups=1):
    """Fused (weight, bias) arrays: BN(conv(x)) = conv'(x) in evaluation mode.

    Eval batch norm is affine per channel: y = (z - mean) * s + beta with
    s = gamma / sqrt(var + eps). With z = W x + b this is
    (s W) x + (b - mean) * s + beta: scale each output channel's filter by s
    and fold the shift into the bias. One layer less at inference.
    """
    dtype = conv_w.dtype
    if conv_b is None:
        conv_b = np.zeros(bn_rm.shape, dtype=dtype)
    if bn_w is None:
        bn_w = np.ones(bn_rm.shape, dtype=dtype)
    if bn_b is None:
        bn_b = np.zeros(bn_rm.shape, dtype=dtype)
    scale = bn_w.astype(np.float64) / np.sqrt(bn_rv.astype(np.float64) + bn_eps)   # (C_out,)
    if transpose:
        # Transposed conv weight (C_in, C_out/G, *k): output channel g*C_out/G + j is
        # column j of group g's rows. View as (G, C_in/G, C_out/G, *k) and scale column j.
        grouped = conv_w.reshape((groups, -1) + conv_w.shape[1:])
        scale_shape = (groups, 1, conv_w.shape[1]) + (1,) * (conv_w.ndim - 2)
        fused_w = (grouped * scale.reshape(scale_shape)).reshape(conv_w.shape).astype(dtype)
    else:
        # Conv weight (C_out, C_in/G, *k): scale filter o by s_o.
        fused_w = (conv_w * scale.reshape((-1,) + (1,) * (conv_w.ndim - 1))).astype(dtype)
    fused_b = ((conv_b - bn_rm) * scale + bn_b).astype(dtype)
    return fused_w, fused_b


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of `conv` whose output equals bn(conv(x)) with both in evaluation mode."""
    if conv.training or bn.training:
        raise ValueError("fuse_conv_bn_eval: fusion is only valid in evaluation mode; call "
                         ".eval() on both the convolution and the batch norm first")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fuse_conv_bn_eval: the batch norm must track running statistics "
                         "(track_running_stats=True)")
    if transpose:
        out_channels = conv.weight.shape[1] * getattr(conv, "groups", 1)
    else:
        out_channels = conv.weight.shape[0]
    if out_channels != bn.num_features:
        raise ValueError(f"fuse_conv_bn_eval: conv has {out_channels} output channels but the batch "
                         f"norm has num_features={bn.num_features}")
    fused = copy.deepcopy(conv)
    weight, bias = _fuse_conv_bn_arrays(
        conv.weight.array, None if conv.bias is None else conv.bias.array,
        bn.running_mean.array, bn.running_var.array, bn.eps,
        None if bn.weight is None else bn.weight.array, None if bn.bias is None else bn.bias.array,
        transpose, getattr(conv, "groups", 1))
    fused.weight = Parameter(weight, conv.weight.requires_grad)
    fused.bias = Parameter(bias, conv.weight.requires_grad)
    return fused


from minigrad.nn.utils import rnn  # noqa: E402,F401  (torch.nn.utils.rnn: packed sequences)

# --- nnutilsgaps ---
# torch.nn.utils's submodules and the names they export. weight_norm and spectral_norm are
# both a module path (minigrad.nn.utils.weight_norm) and, here, the function.
importlib.import_module("minigrad.nn.utils.weight_norm")
from minigrad.nn.utils import (  # noqa: E402,F401
    clip_grad,
    convert_parameters,
    fusion,
    init,
    memory_format,
    parametrizations,
    parametrize,
    prune,
    stateless,
)
from minigrad.nn.utils.clip_grad import (  # noqa: E402,F401
    clip_grad_norm,
    clip_grads_with_norm_,
    get_total_norm,
)
from minigrad.nn.utils.fusion import (  # noqa: E402,F401
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from minigrad.nn.utils.init import skip_init  # noqa: E402,F401
from minigrad.nn.utils.memory_format import (  # noqa: E402,F401
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
)
from minigrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402,F401
from minigrad.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: E402,F401,F811
