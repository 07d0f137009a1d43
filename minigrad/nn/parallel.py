"""``minigrad.nn.parallel``: PyTorch's multi-device wrappers, for scripts that use them.

minigrad has one device, the CPU, whose cores every op already uses
(``minigrad.set_num_threads``). ``DataParallel`` therefore runs the wrapped
module as it is; it keeps PyTorch's ``.module`` attribute and the
``module.`` prefix in state_dict keys, so checkpoints look the same.
``DistributedDataParallel`` (many processes or machines) is not available.
"""
from minigrad.nn.module import Module


class DataParallel(Module):
    """Runs `module` on the CPU; ``device_ids`` may be None or name only the CPU."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if device_ids not in (None, [], ["cpu"], ("cpu",)):
            raise ValueError(f"DataParallel: minigrad runs on the CPU only, got "
                             f"device_ids={device_ids!r}")
        self.module = module
        self.device_ids, self.output_device, self.dim = [], output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Not available: minigrad has no process groups or collective communication."""

    def __init__(self, module, *args, **kwargs):
        raise RuntimeError("DistributedDataParallel is not supported by minigrad (no "
                           "torch.distributed); train in one process, or use "
                           "nn.DataParallel, which runs the module as it is")
