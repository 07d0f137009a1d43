"""torch.nn.utils.weight_norm's path: the hook form of weight normalisation (see nn.utils)."""
from minigrad.nn.utils import WeightNorm, remove_weight_norm, weight_norm  # noqa: F401

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]
