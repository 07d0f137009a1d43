"""Devices (``minigrad.device``): minigrad computes on the CPU and accepts device arguments.

``minigrad.device("cpu")``, ``"cpu:0"`` and device objects work wherever
PyTorch takes a device (``tensor.to(device)``, ``zeros(3, device=...)``,
``module.to(device)``). A CUDA (or other accelerator) device can be
*described*, as in PyTorch, but putting a tensor on it raises a clear error:
the usual ``device = "cuda" if minigrad.cuda.is_available() else "cpu"``
line picks the CPU.
"""

# The device types PyTorch's parser knows (any other string is an error there too).
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class device:
    """A device description: ``device("cpu")``, ``device("cuda", 1)``, ``device("cpu:0")``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(device, index): give the index in the string or as index, not both")
            type, index = type.type, type.index
        elif isinstance(type, str):
            name, _, number = type.partition(":")
            if name not in DEVICE_TYPES:
                raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                                   f"of device string: {type}")
            if number:
                if index is not None or not number.isdigit():
                    raise RuntimeError(f"Invalid device string: {type!r}")
                index = int(number)
            type = name
        else:
            raise TypeError(f"device() expects a string like 'cpu' or a device, got {type!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must be a non-negative int, got {index!r}")
        self.type, self.index = type, index

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def check_device(where, name="device"):
    """None, 'cpu', 'cpu:0' or a cpu device pass; anything else is a clear error.

    Returns the minigrad.device (CPU when `where` is None).
    """
    if where is None:
        return CPU
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"{name}={where}: an integer device means a CUDA device, and minigrad "
                           f"runs on the CPU only; use 'cpu'")
    if not isinstance(where, (str, device)):
        raise TypeError(f"{name} must be a string like 'cpu' or a minigrad.device, got {where!r}")
    parsed = device(where)
    if parsed.type != "cpu":
        raise RuntimeError(f"{name}={str(parsed)!r}: minigrad runs on the CPU only (there is no "
                           f"{parsed.type} backend); use 'cpu', or pick the device with "
                           f"'cuda' if minigrad.cuda.is_available() else 'cpu'")
    if parsed.index not in (None, 0):
        raise RuntimeError(f"{name}={str(parsed)!r}: there is one CPU device, 'cpu' (or 'cpu:0')")
    return parsed


def is_device(value):
    """Whether `value` names a device (for .to(...)'s overloads)."""
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in DEVICE_TYPES
    return False
