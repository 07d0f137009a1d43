"""minigrad: a small, readable deep-learning engine.

    Tensor (minigrad/tensor.py)          an array that records operations
      -> Function (minigrad/autograd.py,  forward and backward of each op,
         minigrad/ops/)                   the backward walk of the graph
      -> minigrad/kernels/                the one typed boundary to compiled code
      -> minigrad/_C (csrc/*.pyx)         OpenMP-parallel Cython kernels
"""
__version__ = "0.1.0"

# autograd first: tensor.py and the ops build on its Function.
from minigrad.autograd import (Function, enable_grad, gradcheck, is_grad_enabled,  # noqa: F401
                               no_grad, set_grad_enabled)
from minigrad.tensor import Tensor, bool_, float32, float64, int32, int64, uint8  # noqa: F401
from minigrad.creation import (arange, empty, eye, from_numpy, full, full_like, linspace,  # noqa: F401
                               ones, ones_like, rand, randint, randn, randperm, tensor, zeros,
                               zeros_like)
from minigrad.ops.elementwise import (abs, clamp, exp, log, maximum, minimum, relu,  # noqa: F401
                                      sigmoid, sqrt, tanh, where)
from minigrad.ops.linalg import matmul  # noqa: F401
from minigrad.ops.reduction import amax, amin, argmax, argmin, max, mean, min, sum, var  # noqa: F401
from minigrad.ops.shape import (cat, expand, flatten, permute, reshape, squeeze, stack,  # noqa: F401
                                transpose, unsqueeze)
from minigrad.random import get_rng_state, initial_seed, manual_seed, set_rng_state  # noqa: F401
from minigrad.kernels.threads import get_num_threads, set_num_threads  # noqa: F401
from minigrad.config import show_config  # noqa: F401
from minigrad.serialization import load, save  # noqa: F401
# Subpackages, in the order they build on each other.
from minigrad import nn  # noqa: F401  (layers build on everything above)
from minigrad import data, optim  # noqa: F401
from minigrad import profiler, utils, viz  # noqa: F401  (tools for looking inside models)
from minigrad import autograd, backends, multiprocessing  # noqa: F401  (PyTorch's module paths)

# PyTorch's dtype aliases.
float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64
bool = bool_  # noqa: A001
