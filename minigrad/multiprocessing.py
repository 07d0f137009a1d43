"""``minigrad.multiprocessing``: the standard library's multiprocessing, as torch.multiprocessing.

Tensors are shared between processes the way PyTorch's Hogwild example
expects only with the "fork" start method (Linux's default): call
``model.share_memory()`` (or ``tensor.share_memory_()``) first, which moves
the arrays into anonymous shared memory that forked children write into
directly. With "spawn", arguments are pickled, so each child trains its own
copy. Everything else is ``multiprocessing`` itself.
"""
from multiprocessing import *  # noqa: F401,F403
from multiprocessing import Process, get_context, get_start_method, set_start_method  # noqa: F401
