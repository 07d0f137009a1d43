"""What PyTorch asks of a tensor that minigrad answers by construction.

minigrad tensors are real (no complex dtypes), dense and strided (no sparse,
quantized, meta, MKL-DNN or nested layouts) and live in ordinary CPU memory.
So, exactly as PyTorch does for a real tensor:

    conj(x) = resolve_conj(x) = resolve_neg(x) = conj_physical(x) = real(x) = x
    is_complex(x) = is_conj(x) = is_neg(x) = False
    imag(x)       raises RuntimeError (a real tensor has no imaginary part)

plus ``output_nr`` (which output of its grad_fn a tensor is), ``new_empty_strided``
and ``as_strided_`` (the tensor becomes a strided view of its own memory).
"""
import numpy as np

from minigrad import autograd
from minigrad.tensor import Tensor


def _require_tensor(function, value, argument="input", position=1):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


# ------------------------------------------------------ complex views of a real tensor
def is_complex(input):
    """False: minigrad has no complex dtypes."""
    _require_tensor("is_complex", input)
    return False


def is_conj(input):
    """False: a real tensor is never a lazily conjugated view."""
    _require_tensor("is_conj", input)
    return False


def is_neg(input):
    """False: a real tensor is never a lazily negated view."""
    _require_tensor("is_neg", input)
    return False


def conj(input):
    """conj(x) = x for a real x: the same tensor, as PyTorch returns it."""
    _require_tensor("conj", input)
    return input


def resolve_conj(input):
    """x itself: there is no conjugate bit to materialise."""
    _require_tensor("resolve_conj", input)
    return input


def resolve_neg(input):
    """x itself: there is no negative bit to materialise."""
    _require_tensor("resolve_neg", input)
    return input


def conj_physical(input):
    """conj(x) computed into memory; for a real x it is x itself (as PyTorch)."""
    _require_tensor("conj_physical", input)
    return input


def conj_physical_(input):
    """In-place conj_physical: the values stay, the version goes up; a leaf that
    requires grad refuses, as for any in-place operation in PyTorch."""
    _require_tensor("conj_physical_", input)
    return input._inplace("conj_physical_", lambda t: t)


def real(input):
    """The real part: x itself for a real x (a view of the same memory in PyTorch)."""
    _require_tensor("real", input)
    return input


def imag(input):
    """The imaginary part: PyTorch refuses it for a real tensor."""
    _require_tensor("imag", input)
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def set_real(tensor, value):
    """``x.real = v`` for a real x writes v into x (copy_, broadcast and cast)."""
    tensor.copy_(value)


def set_imag(tensor, value):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


# ------------------------------------------------------------------ graph and memory
def output_nr(tensor):
    """Which output of its grad_fn `tensor` is: 0 for a leaf or a one-output op, k for the
    k-th output of an op with several (the pieces of split, values/indices of max)."""
    return getattr(tensor.grad_fn, "index", 0) if isinstance(tensor.grad_fn, autograd._OutputOf) else 0


def get_device(input):
    """-1: PyTorch's device index of a CPU tensor."""
    _require_tensor("get_device", input)
    return -1


def is_inference(input):
    """False: minigrad's inference_mode is no_grad and makes ordinary tensors."""
    _require_tensor("is_inference", input)
    return input.is_inference()


def pin_memory(tensor, device=None):
    """Page-locked memory serves copies to an accelerator; without one PyTorch refuses."""
    raise RuntimeError("Cannot access accelerator device when none is available.")


def new_empty_strided(tensor, size, stride, *, dtype=None, device=None, requires_grad=False,
                      layout=None, pin_memory=False):
    """An uninitialised tensor of `size` with stride() == `stride`, in tensor's dtype by default."""
    from minigrad.ops.torch_misc import empty_strided
    return empty_strided(size, stride, dtype=dtype or tensor.dtype, device=device,
                         requires_grad=requires_grad, pin_memory=pin_memory)


def as_strided_(input, size, stride, storage_offset=None):
    """In place, `input` becomes the view out[i_0, ..., i_k] = storage[offset + sum_j i_j stride[j]].

    As in minigrad.as_strided, the storage is input.flatten(): for a contiguous input
    that is its own memory, so the result shares it (writes show through); for a
    non-contiguous one it is a fresh row-major copy. The gradient is as_strided's.
    """
    from minigrad.ops.torch_misc import _int_tuple, _storage_positions, as_strided
    _require_tensor("as_strided_", input)
    size = _int_tuple("as_strided_", "size", size)
    stride = _int_tuple("as_strided_", "stride", stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    _storage_positions(size, stride, offset, input.array.size, input.array.itemsize)  # checks the bounds
    storage = input.array.reshape(-1)  # (numel,): a view when input is contiguous
    if input.array.size == 0 or 0 in size:
        view = np.empty(size, dtype=input.array.dtype)
    else:
        view = np.lib.stride_tricks.as_strided(storage[offset:], size,
                                               tuple(s * storage.itemsize for s in stride))
    if autograd.is_grad_enabled() and input.requires_grad:
        input._check_inplace()  # a leaf that requires grad refuses, as in PyTorch
        old = Tensor._make(input.array, True, input.grad_fn)  # the node's input: same memory and graph role
        input.grad_fn = as_strided(old, size, stride, offset).grad_fn
    input.array = view
    autograd.bump_version(view)
    return input
