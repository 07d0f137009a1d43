"""Optimizers and learning-rate schedules (PyTorch's torch.optim API and update rules)."""
from minigrad.optim import lr_scheduler  # noqa: F401
from minigrad.optim.adadelta import Adadelta
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam
from minigrad.optim.adamw import AdamW
from minigrad.optim.lbfgs import LBFGS
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS",
           "lr_scheduler"]
# --- optimgaps ---
from minigrad.optim import swa_utils  # noqa: E402,F401
from minigrad.optim.adafactor import Adafactor  # noqa: E402
from minigrad.optim.adamax import Adamax  # noqa: E402
from minigrad.optim.asgd import ASGD  # noqa: E402
from minigrad.optim.nadam import NAdam  # noqa: E402
from minigrad.optim.radam import RAdam  # noqa: E402
from minigrad.optim.rprop import Rprop  # noqa: E402
from minigrad.optim.sparse_adam import SparseAdam  # noqa: E402

__all__ += ["ASGD", "Adamax", "NAdam", "RAdam", "Rprop", "Adafactor", "SparseAdam", "swa_utils"]
# --- gaps7 ---
from minigrad.optim.muon import Muon  # noqa: E402

__all__ += ["Muon"]
