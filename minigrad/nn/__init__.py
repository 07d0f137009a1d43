"""minigrad.nn: layers, losses and the functional ops they wrap (as torch.nn).

- ``module.py``: Module (parameters, buffers, sub-modules, hooks, state_dict) and Parameter
- ``modules/``: the layers, one family per file (linear, conv, pooling, normalization, ...)
- ``functional.py``: the functional ops (``minigrad.nn.functional`` as ``torch.nn.functional``)
- ``init.py``: weight initialisation;  ``utils.py``: gradient clipping, weight norm, conv-bn fusion
"""
from minigrad.nn import (
    functional,  # noqa: F401
    init,  # noqa: F401
    parallel,  # noqa: F401
    utils,  # noqa: F401
)
from minigrad.nn.module import Module, Parameter  # noqa: F401
from minigrad.nn.modules import *  # noqa: F401,F403
from minigrad.nn.parallel import DataParallel  # noqa: F401

# --- nnmisc ---
# isort: split
from minigrad.nn.buffer import Buffer  # noqa: F401,E402

# --- nnutilsgaps ---
# isort: split
from minigrad.nn import grad, parameter  # noqa: F401,E402  (torch.nn.grad, torch.nn.parameter)
