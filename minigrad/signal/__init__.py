"""``minigrad.signal``: PyTorch's ``torch.signal`` (the window functions in ``signal.windows``)."""
from minigrad.signal import windows  # noqa: F401
