"""Weight averaging (PyTorch's ``torch.optim.swa_utils``): SWA, EMA, SWALR and update_bn.

Stochastic Weight Averaging (Izmailov et al., 2018) keeps the running mean
of the weights visited late in training; an exponential moving average
(EMA) keeps ``decay * average + (1 - decay) * weights``. Typical loop::

    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn(loader, swa_model)    # the averaged weights need their own BN statistics

The averaging functions work on minigrad Tensors: ``avg_fn(averaged, current,
n_averaged)`` returns the new average of one tensor; ``multi_avg_fn(averaged_list,
current_list, n_averaged)`` updates a list of tensors of one dtype in place.
"""
import copy
import itertools
import math

import numpy as np

from minigrad.autograd import no_grad
from minigrad.nn.module import Module
from minigrad.nn.modules.normalization import _BatchNorm
from minigrad.optim.lr_scheduler import LRScheduler, _check_optimizer, _per_group
from minigrad.tensor import Tensor


def _check_decay(decay):
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] "
                         f"range.")


def _array(tensor):
    return tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)


def get_ema_multi_avg_fn(decay=0.999):
    """In place, for each pair: ``ema <- ema + (1 - decay) * (current - ema)``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        for ema, current in zip(ema_param_list, current_param_list):
            ema, current = _array(ema), _array(current)
            if ema.dtype.kind in "fc":
                ema += (1 - decay) * (current - ema)      # a lerp towards current
            else:   # integer buffers: computed in floating point, truncated back
                np.copyto(ema, ema * decay + current * (1 - decay), casting="unsafe")
    return ema_update


def get_swa_multi_avg_fn():
    """In place, for each pair: ``avg <- avg + (current - avg) / (n_averaged + 1)`` (the mean)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        weight = 1.0 / (float(_array(num_averaged)) + 1)
        for averaged, current in zip(averaged_param_list, current_param_list):
            averaged, current = _array(averaged), _array(current)
            if averaged.dtype.kind in "fc":
                averaged += weight * (current - averaged)
            else:
                np.copyto(averaged, averaged + weight * (current - averaged), casting="unsafe")
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``decay * ema + (1 - decay) * current``, returned as a new Tensor."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """``averaged + (current - averaged) / (n_averaged + 1)``, returned as a new Tensor."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (float(_array(num_averaged)) + 1)
    return swa_update


class AveragedModel(Module):
    r"""A copy of `model` whose parameters are the average of the ones it was shown.

    ``update_parameters(model)`` first copies the weights (``n_averaged == 0``),
    then folds them in with ``avg_fn`` / ``multi_avg_fn`` (default: the equal
    weight mean, SWA; ``get_ema_multi_avg_fn(decay)`` gives an EMA). With
    ``use_buffers=True`` the buffers (BatchNorm running statistics) are
    averaged too; otherwise they are copied from `model` at each update.
    ``state_dict()`` keys are ``'n_averaged'`` and ``'module.<name>'``, as in
    PyTorch. `device` is passed to ``Module.to``.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel expects a Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold `model`'s current parameters (and buffers if use_buffers) into the average."""
        if self.use_buffers:
            averaged = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            current = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averaged, current = list(self.parameters()), list(model.parameters())
        pairs = list(zip(averaged, current))   # like PyTorch: stops at the shorter list
        n_averaged = int(self.n_averaged.array)
        with no_grad():
            if n_averaged == 0:
                for p_averaged, p_model in pairs:
                    np.copyto(p_averaged.array, p_model.array, casting="unsafe")
            elif self.avg_fn is not None:
                for p_averaged, p_model in pairs:
                    new = self.avg_fn(p_averaged.detach(), p_model.detach(), self.n_averaged)
                    np.copyto(p_averaged.array, _array(new), casting="unsafe")
            else:
                # One call per dtype (PyTorch groups by device and dtype), in first-seen order.
                by_dtype = {}
                for p_averaged, p_model in pairs:
                    lists = by_dtype.setdefault(p_averaged.array.dtype, ([], []))
                    lists[0].append(p_averaged.detach())
                    lists[1].append(p_model.detach())
                multi_avg_fn = self.multi_avg_fn or get_swa_multi_avg_fn()
                for averaged_list, current_list in by_dtype.values():
                    multi_avg_fn(averaged_list, current_list, self.n_averaged)
            if not self.use_buffers:
                # Buffers that are not averaged follow the source model.
                own, theirs = list(self.module.buffers()), list(model.buffers())
                if len(own) != len(theirs):
                    raise ValueError(f"the averaged model has {len(own)} buffers, the model "
                                     f"passed to update_parameters has {len(theirs)}")
                for b_swa, b_model in zip(own, theirs):
                    np.copyto(b_swa.array, b_model.array, casting="unsafe")
        self.n_averaged.array[...] = n_averaged + 1


def update_bn(loader, model, device=None):
    """Recompute the BatchNorm running statistics of `model` with one pass over `loader`.

    Each BatchNorm's statistics are reset and, with ``momentum=None``, become
    the equal-weight average over the batches; momenta and the train/eval mode
    are restored afterwards. A batch that is a list or tuple gives its first
    element as the input. Runs without building a graph.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's lr to ``swa_lr`` over `anneal_epochs` epochs, then hold it.

    At step t (``t = min(1, step / max(1, anneal_epochs))``), with
    ``alpha(t) = t`` ('linear') or ``(1 - cos(pi t)) / 2`` ('cos')::

        lr_t = swa_lr * alpha(t) + lr_start * (1 - alpha(t))

    written recursively as PyTorch does: ``lr_start`` is recovered from the
    current lr and the previous alpha, so other changes to the lr carry over.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        _check_optimizer(optimizer)
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for group_swa_lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = group_swa_lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        self._set_anneal_func(anneal_strategy)
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs!r}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        step = self._step_count - 1    # 0 at the constructor's step
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, prev_lrs)]

    def state_dict(self):
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]
