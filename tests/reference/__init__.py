"""Readable NumPy reference implementations: the specification the kernels are tested against."""
