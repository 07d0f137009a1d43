"""``minigrad.utils.data.sampler``: PyTorch's path for ``minigrad.data.sampler``."""
from minigrad.data.sampler import (BatchSampler, RandomSampler, Sampler,  # noqa: F401
                                   SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)
