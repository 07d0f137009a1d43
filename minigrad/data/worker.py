"""Which loader worker is running this code (torch.utils.data.get_worker_info).

minigrad's DataLoader workers are threads (NumPy releases the GIL in its
copies), so the information is thread-local: ``get_worker_info()`` is None in
the main thread and a ``WorkerInfo`` inside a worker. An IterableDataset uses
it to give each worker its own share of the stream:

    def __iter__(self):
        info = get_worker_info()
        if info is None: return iter(range(self.start, self.end))
        return iter(range(self.start + info.id, self.end, info.num_workers))
"""
import threading

__all__ = ["WorkerInfo", "get_worker_info"]

_local = threading.local()


class WorkerInfo:
    """id (0..num_workers-1), num_workers, seed (base seed + id) and the worker's dataset copy."""

    __initialized = False

    def __init__(self, **kwargs):
        for name, value in kwargs.items():
            setattr(self, name, value)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, name, value):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(name, value)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


def get_worker_info():
    """The WorkerInfo of the loader worker running this code, or None in the main process."""
    return getattr(_local, "info", None)


def _set_worker_info(info):
    _local.info = info
