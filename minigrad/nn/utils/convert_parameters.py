"""torch.nn.utils.convert_parameters's path: all parameters as one vector and back."""
from minigrad.nn.utils import parameters_to_vector, vector_to_parameters  # noqa: F401

__all__ = ["parameters_to_vector", "vector_to_parameters"]
