"""``minigrad.utils.data.sampler``: PyTorch's path for ``minigrad.data.sampler``."""
from minigrad.data.sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
