"""minigrad.nn: layers, losses and the functional ops they wrap."""
from minigrad.nn import functional  # noqa: F401
