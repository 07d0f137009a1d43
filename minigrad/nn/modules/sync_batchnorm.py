"""SyncBatchNorm: batch norm whose statistics would be shared across processes (torch.nn).

In PyTorch, with torch.distributed initialised, each process computes its
local sums over (N, *spatial), all-reduces them, and normalises with the
global mean and variance. Without a process group (one process) it falls
back to plain batch norm; minigrad has no distributed package, so that
one-process case is the only one: y = (x - mean) / sqrt(var + eps) * weight + bias
over every axis but the channel axis 1, with BatchNorm's running statistics.
``process_group`` is kept as an attribute, as in PyTorch, and otherwise unused.
"""
from minigrad.nn.modules.normalization import _BatchNorm
from minigrad.tensor import Tensor


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) of any number of trailing dimensions (at least 2-D input)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"SyncBatchNorm: expected a Tensor input, got {type(input).__name__}")
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected input with {self.num_features} features "
                             f"(dimension 1), got input of shape {tuple(input.shape)}")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm*d in `module` (itself included) by a SyncBatchNorm.

        As PyTorch: the new layer holds the same Parameter and buffer objects
        (no copies) and the same training flag. Returns the converted module.
        """
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
