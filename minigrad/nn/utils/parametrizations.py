"""Ready-made parametrizations (torch.nn.utils.parametrizations): orthogonal, weight_norm, spectral_norm.

Each registers a Module with ``parametrize.register_parametrization``, so the
trained tensors live in ``module.parametrizations.<name>`` (``original``, or
``original0``/``original1`` for weight_norm's g and v) and the weight is
recomputed from them at every access.
"""
from enum import Enum, auto

import numpy as np

import minigrad.nn.functional as F
from minigrad.autograd import no_grad
from minigrad.nn.module import Module
from minigrad.nn.utils import parametrize
from minigrad.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _tensor(array):
    return Tensor(np.ascontiguousarray(array))


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _is_orthogonal(Q):
    """Q^T Q = I within 10 n eps (Q tall, (..., n, k))."""
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * np.finfo(Q.array.dtype).eps
    gram = np.swapaxes(Q.array, -1, -2) @ Q.array
    return bool(np.allclose(gram, np.eye(k, dtype=Q.array.dtype), rtol=1e-5, atol=eps))


def _make_orthogonal(A):
    """The Q of A = QR (A tall) with diag(R) >= 0: the reflectors of geqrf, signs of R's diagonal folded in."""
    from minigrad.linalg import householder_product
    from minigrad.ops.linalg_misc import geqrf
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    signs = np.sign(np.diagonal(X.array, axis1=-2, axis2=-1))[..., None, :]   # (..., 1, k)
    return _tensor(Q.array * signs)


class _Orthogonal(Module):
    """X -> an orthogonal matrix (or one with orthonormal columns/rows), by one of three maps.

    matrix_exp / cayley: A = tril(X) - tril(X)^T is skew-symmetric, Q = exp(A) or
    (I - A/2)^{-1} (I + A/2); householder: Q = H_1 ... H_k from the reflectors
    below X's diagonal. With use_trivialization, Q is multiplied onto a buffer
    ``base`` (set by right_inverse), so training moves around the current point.
    """

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        from minigrad import cat, eye, zeros
        from minigrad.linalg import householder_product, matrix_exp, solve
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # Here n >= k: X is a tall matrix.
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:   # embed in a square matrix: (..., n, k) -> (..., n, n)
                padding = zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)
                X = cat([X, padding], dim=-1)
            A = X - X.mT   # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:   # Cayley retraction (I - A/2)^{-1} (I + A/2)
                identity = eye(n, dtype=A.dtype)
                Q = solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # X's diagonal holds the signs (+1/-1) of the columns; not differentiated.
            signs = np.trunc(np.diagonal(X.array, axis1=-2, axis2=-1)).astype(X.array.dtype)
            Q = Q * _tensor(signs[..., None, :])
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        from minigrad import cat, randn
        from minigrad.ops.linalg_misc import geqrf
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations when "
                                              "use_trivialization=False.")
                # Householder: the reflectors of Q's QR, R's diagonal signs on the diagonal.
                A, tau = geqrf(Q)
                A = A.array.copy()
                diagonal = np.sign(np.diagonal(A, axis1=-2, axis2=-1))
                diagonal = np.where(tau.array == 0.0, -diagonal, diagonal)
                index = np.arange(k)
                A[..., index, index] = diagonal
                A = _tensor(A)
                return A.mT if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else _tensor(Q.array.copy())
            else:   # complete Q to a full n x n orthogonal matrix
                N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            # -I, so that householder(zeros) == eye
            neg_identity = np.zeros(Q_init.shape, dtype=Q_init.array.dtype)
            index = np.arange(min(Q_init.shape[-2], Q_init.shape[-1]))
            neg_identity[..., index, index] = -1.0
            return _tensor(neg_identity)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Make module.<name> orthogonal (or semi-orthogonal): Q^T Q = I (tall) or Q Q^T = I (wide).

    orthogonal_map: "matrix_exp" (default for square), "cayley" or "householder"
    (default otherwise). The weight keeps its value if it is already orthogonal.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Received: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


def _norm_except_dim(v, dim):
    """||v||_2 over every dimension but dim (kept as size 1); dim=-1: over all, a 0-d tensor."""
    if dim == -1:
        return (v * v).sum().sqrt()
    dim = dim % v.ndim
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(dim=axes, keepdim=True).sqrt()


class _WeightNorm(Module):
    """(g, v) -> g * v / ||v|| (norm over all dims but dim; dim=None or -1: over all)."""

    def __init__(self, dim=0):
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        weight_g = _norm_except_dim(weight, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module, name="weight", dim=0):
    """weight = g * v / ||v|| with g in parametrizations.<name>.original0, v in original1.

    dim=None (or -1, as torch's norm_except_dim) takes the norm over the whole tensor.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W -> W / sigma(W), sigma the largest singular value, estimated by power iteration.

    W is viewed as a matrix (dim first, the rest flattened); buffers _u (rows)
    and _v (columns) hold the singular-vector estimates, updated by
    n_power_iterations steps u = normalize(W v), v = normalize(W^T u) at every
    forward in training mode; sigma = u^T W v (differentiated through W only).
    """

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            from minigrad.random import generator
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            dtype = weight.array.dtype
            u = _tensor(generator().normal(0.0, 1.0, size=h).astype(dtype))
            v = _tensor(generator().normal(0.0, 1.0, size=w).astype(dtype))
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:   # dim to the front
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)   # (size(dim), everything else)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            W = weight_mat.detach()
            for _ in range(n_power_iterations):
                # in place, as torch's out=: the buffers keep their identity
                np.copyto(self._u.array, F.normalize(W.mv(self._v), dim=0, eps=self.eps).array)
                np.copyto(self._v.array, F.normalize(W.mT.mv(self._u), dim=0, eps=self.eps).array)

    def forward(self, weight):
        if weight.ndim == 1:   # exact: a vector's spectral norm is its length
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its spectral norm (largest singular value), as Miyato et al. 2018.

    dim (default 0, 1 for ConvTranspose) is the output dimension kept as the
    rows of the matrix. Buffers: parametrizations.<name>.0._u and ._v.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from minigrad.nn import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
