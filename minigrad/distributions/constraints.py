"""Constraints: which values a parameter or a sample may take (torch.distributions.constraints).

A constraint's ``check(value)`` returns a bool Tensor of shape
``value.shape[:value.ndim - event_dim]``: True where an event satisfies it.
Distributions use them to validate their parameters (``arg_constraints``)
and the values given to ``log_prob`` (``support``). The checks only read
values, so they run on the NumPy arrays and never enter the autograd graph.
"""
import numpy as np

from minigrad.tensor import Tensor

__all__ = [
    "Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property", "greater_than",
    "greater_than_eq", "independent", "integer_interval", "interval", "half_open_interval", "is_dependent",
    "less_than", "lower_cholesky", "lower_triangular", "multinomial", "nonnegative",
    "nonnegative_integer", "one_hot", "positive", "positive_semidefinite", "positive_definite",
    "positive_integer", "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval",
]


def _values(x):
    """The NumPy values of a Tensor or a number."""
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _result(mask):
    return Tensor(np.asarray(mask, dtype=bool))


class Constraint:
    """A region of valid values. ``event_dim`` dims on the right form one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """A bool Tensor of ``sample_shape + batch_shape``: whether each event is valid."""
        raise NotImplementedError

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """Placeholder for a parameter whose support depends on other parameters; cannot be checked."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim
        super().__init__()

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """True for a constraint that cannot be checked (it depends on other parameters)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A @property on an instance (``Uniform(0, 1).support``), a dependent constraint on the class."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its ``reinterpreted_batch_ndims`` rightmost batch dims made event dims."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        if not isinstance(reinterpreted_batch_ndims, int):
            raise AssertionError("reinterpreted_batch_ndims must be an int, got "
                                 f"{type(reinterpreted_batch_ndims).__name__}")
        if reinterpreted_batch_ndims < 0:
            raise AssertionError(f"reinterpreted_batch_ndims must be >= 0, got {reinterpreted_batch_ndims}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value).array
        if result.ndim < self.reinterpreted_batch_ndims:
            expected = self.base_constraint.event_dim + self.reinterpreted_batch_ndims
            raise ValueError(f"Expected value.dim() >= {expected} but got {_values(value).ndim}")
        # (..., reinterpreted dims) -> (..., -1): valid only if every entry is
        result = result.reshape(result.shape[:result.ndim - self.reinterpreted_batch_ndims] + (-1,))
        return _result(result.all(-1))

    def __repr__(self):
        return (f"{self.__class__.__name__[1:]}({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _Boolean(Constraint):
    """{0, 1}."""

    is_discrete = True

    def check(self, value):
        v = _values(value)
        return _result((v == 0) | (v == 1))


class _OneHot(Constraint):
    """One-hot vectors: entries in {0, 1} summing to 1 along the last dim."""

    is_discrete = True
    event_dim = 1

    def check(self, value):
        v = _values(value)
        return _result(((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1))


class _IntegerInterval(Constraint):
    """Integers in [lower_bound, upper_bound]."""

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        v = _values(value)
        return _result((v % 1 == 0) & (_values(self.lower_bound) <= v) & (v <= _values(self.upper_bound)))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers in [lower_bound, inf)."""

    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        v = _values(value)
        return _result((v % 1 == 0) & (v >= _values(self.lower_bound)))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """The extended real line [-inf, inf]; only nan fails."""

    def check(self, value):
        v = _values(value)
        return _result(v == v)


class _GreaterThan(Constraint):
    """(lower_bound, inf]."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        return _result(_values(self.lower_bound) < _values(value))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """[lower_bound, inf)."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        return _result(_values(self.lower_bound) <= _values(value))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """[-inf, upper_bound)."""

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        return _result(_values(value) < _values(self.upper_bound))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """[lower_bound, upper_bound]."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        v = _values(value)
        return _result((_values(self.lower_bound) <= v) & (v <= _values(self.upper_bound)))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """[lower_bound, upper_bound)."""

    def check(self, value):
        v = _values(value)
        return _result((_values(self.lower_bound) <= v) & (v < _values(self.upper_bound)))


class _Simplex(Constraint):
    """The unit simplex in the last dim: x >= 0 and |sum(x) - 1| < 1e-6."""

    event_dim = 1

    def check(self, value):
        v = _values(value)
        return _result((v >= 0).all(-1) & (np.abs(v.sum(-1) - 1) < 1e-6))


class _Multinomial(Constraint):
    """Nonnegative integer counts with sum(x) <= upper_bound (PyTorch's weaker check)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        v = _values(x)
        return _result((v >= 0).all(-1) & (v.sum(-1) <= _values(self.upper_bound)))


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""

    event_dim = 2

    def check(self, value):
        v = _values(value)
        return _result((np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1))


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal (Cholesky factors)."""

    event_dim = 2

    def check(self, value):
        v = _values(value)
        lower_triangular = (np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1)
        positive_diagonal = (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)
        return _result(lower_triangular & positive_diagonal)


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower Cholesky with unit-length rows."""

    event_dim = 2

    def check(self, value):
        v = _values(value)
        tol = np.finfo(v.dtype).eps * v.shape[-1] * 10  # 10 is PyTorch's fudge factor
        unit_row_norm = (np.abs(np.linalg.norm(v, axis=-1) - 1.0) <= tol).all(-1)
        return _result(_LowerCholesky().check(value).array & unit_row_norm)


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def check(self, value):
        v = _values(value)
        return _result(np.full(v.shape[:-2], v.shape[-2] == v.shape[-1], dtype=bool))


class _Symmetric(_Square):
    """Symmetric square matrices (to atol 1e-6)."""

    def check(self, value):
        square = super().check(value)
        if not square.array.all():
            return square
        v = _values(value)
        return _result(np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6).all(-2).all(-1))


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with eigenvalues >= 0."""

    def check(self, value):
        symmetric = super().check(value)
        if not symmetric.array.all():
            return symmetric
        return _result((np.linalg.eigvalsh(_values(value)) >= 0).all(-1))


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices with a Cholesky factor (eigenvalues > 0)."""

    def check(self, value):
        symmetric = super().check(value)
        if not symmetric.array.all():
            return symmetric
        v = _values(value)
        matrices = v.reshape((-1,) + v.shape[-2:])              # (batch, n, n)
        ok = np.empty(len(matrices), dtype=bool)
        for i, matrix in enumerate(matrices):
            try:
                np.linalg.cholesky(matrix)
                ok[i] = True
            except np.linalg.LinAlgError:
                ok[i] = False
        return _result(ok.reshape(v.shape[:-2]))


class _Cat(Constraint):
    """Constraints ``cseq`` applied to consecutive slices of ``lengths`` along ``dim`` (as in torch.cat)."""

    def __init__(self, cseq, dim=0, lengths=None):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq ({len(self.cseq)})")
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        v = _values(value)
        if not -v.ndim <= self.dim < v.ndim:
            raise AssertionError(f"dim {self.dim} out of range for value with {v.ndim} dimensions")
        checks, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            piece = np.take(v, np.arange(start, start + length), axis=self.dim)
            checks.append(constraint.check(Tensor(piece)).array)
            start += length
        return _result(np.concatenate(checks, self.dim))


class _Stack(Constraint):
    """Constraints ``cseq`` applied to the slices along ``dim`` (as in torch.stack)."""

    def __init__(self, cseq, dim=0):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        if self.dim + dim < 0:
            dim += 1
        return dim

    def check(self, value):
        v = _values(value)
        if not -v.ndim <= self.dim < v.ndim:
            raise AssertionError(f"dim {self.dim} out of range for value with {v.ndim} dimensions")
        pieces = [np.take(v, i, axis=self.dim) for i in range(v.shape[self.dim])]
        return _result(np.stack([c.check(Tensor(p)).array for p, c in zip(pieces, self.cseq)], self.dim))


class MixtureSameFamilyConstraint(Constraint):
    """The support of a MixtureSameFamily: a value valid for the component distributions."""

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        self.base_constraint = base_constraint
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        v = _values(value)
        if v.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {v.ndim}")
        unsqueezed = np.expand_dims(v, -1 - self.event_dim)     # broadcast against the component dim
        result = self.base_constraint.check(Tensor(unsqueezed)).array
        keep = v.ndim - self.event_dim
        return _result(result.reshape(result.shape[:keep] + (-1,)).all(-1))

    def __repr__(self):
        return f"{self.__class__.__name__}({self.base_constraint!r})"


# Public interface.
dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
