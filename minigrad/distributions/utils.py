"""Helpers shared by the distributions (torch.distributions.utils)."""
import numbers
from functools import update_wrapper

import numpy as np

import minigrad
from minigrad import random
from minigrad.autograd import enable_grad
from minigrad.tensor import Size, Tensor

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant
EMPTY_SHAPE = Size()  # the default sample_shape (a Size is an immutable tuple, safe as a default)

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values):
    """Broadcast Tensors and numbers to one shape; numbers take the dtype of the first Tensor
    (the default dtype when there is none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), minigrad.get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else minigrad.tensor(v, dtype=dtype) for v in values]
    return tuple(minigrad.broadcast_tensors(*tensors))


def draw(shape, dtype, sampler):
    """A constant Tensor of ``shape`` drawn by ``sampler(generator, shape)`` from minigrad's generator."""
    return Tensor(np.asarray(sampler(random.generator(), tuple(shape)), dtype=dtype))


def standard_normal(shape, dtype):
    """N(0, 1) noise of ``shape``."""
    return draw(shape, dtype, lambda g, s: g.standard_normal(s))


def uniform_open(shape, dtype):
    """U(0, 1) noise of ``shape``, with 0 moved to the smallest positive number (PyTorch's rand
    never returns 1; 0 would make log(u) infinite)."""
    tiny = np.finfo(dtype).tiny
    return draw(shape, dtype, lambda g, s: np.maximum(g.random(s), tiny))


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dims of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)   # (..., prod(last dim dims))


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for a binary event, else softmax over the last dim."""
    if is_binary:
        return minigrad.sigmoid(logits)
    return minigrad.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp probabilities to [eps, 1 - eps], eps = finfo(dtype).eps."""
    eps = minigrad.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log(p) - log(1 - p) for a binary event, else log(p) (p clamped away from 0 and 1)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return minigrad.log(clamped) - minigrad.log1p(-clamped)
    return minigrad.log(clamped)


class lazy_property:
    """A property computed on first access, then stored on the instance
    (``Bernoulli(probs=p).logits`` is computed once, from probs)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """A lazy_property that also looks like a property (for introspection)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag):
    arange = np.arange(n)
    return arange[None, :] < arange[:, None] + (diag + 1)          # (n, n) bool


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries of a (batched) D x D matrix, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., Tensor(_tril_mask(n, diag))]


def vec_to_tril_matrix(vec, diag=0):
    """The (batched) D x D lower-triangular matrix holding ``vec`` row by row."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > np.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mask = _tril_mask(n, diag).reshape(-1)
    positions = np.flatnonzero(mask)                                  # where vec's entries go
    flat = minigrad.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype)
    index = Tensor(np.broadcast_to(positions, tuple(vec.shape[:-1]) + (len(positions),)).copy())
    return flat.scatter(-1, index, vec).reshape(tuple(vec.shape[:-1]) + (n, n))


def as_size(shape):
    """A minigrad.Size from a Size, tuple, list or int."""
    if isinstance(shape, Size):
        return shape
    if isinstance(shape, (int, np.integer)):
        return Size((int(shape),))
    return Size(tuple(shape))
