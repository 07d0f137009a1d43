"""``minigrad.testing``: PyTorch's ``torch.testing``.

- ``assert_close(actual, expected)``: tensors, NumPy arrays, Python numbers
  and nested sequences/mappings of them are equal up to a tolerance chosen
  by dtype (see ``comparison.py``), with PyTorch's error messages.
- ``make_tensor(*shape, dtype=, device=)``: a random tensor for tests, with
  PyTorch's default value ranges per dtype (see ``creation.py``).
- ``assert_allclose``: the deprecated older form (a FutureWarning, as in PyTorch).
"""
from minigrad.testing.comparison import assert_allclose, assert_close  # noqa: F401
from minigrad.testing.creation import make_tensor  # noqa: F401

__all__ = ["assert_allclose", "assert_close", "make_tensor"]
