"""Tools for looking inside models.

- ``minigrad.utils.data``: PyTorch's path for ``minigrad.data`` (DataLoader, samplers, ...).
- ``summary(model, input_size)``: per-layer output shapes, parameters,
  multiply-adds and memory.
- ``receptive_field(model, input_size)``: how many input pixels each layer
  sees, and the output-size formulas ``conv_output_size``,
  ``pool_output_size`` and ``conv_transpose_output_size``.
"""
from minigrad.utils import data  # noqa: F401,E402  (torch.utils.data's path)
from minigrad.utils.receptive_field import (  # noqa: F401
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
    receptive_field,
    receptive_field_step,
)
from minigrad.utils.summary import LayerTable, multiply_adds, summary  # noqa: F401

# --- testingutils ---
# PyTorch's torch.utils.<name> submodules, loaded with the package as in PyTorch:
TORCH_UTILS_SUBMODULES = ("benchmark", "checkpoint", "hooks")
from minigrad.utils import benchmark, checkpoint, hooks  # noqa: E402, F401
# --- end testingutils ---
