# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A notebook tour: checkerboards, conv-BN fusion, dilated receptive fields
#
# This file is a notebook in jupytext's percent format: every `# %%` line
# starts a cell. Open it in Jupyter with `jupytext --to notebook
# examples/notebook_tour.py` (or JupyterLab's jupytext extension), or run it as
# a script: `python examples/notebook_tour.py` (a few seconds). It reuses the
# pieces of the longer examples (`checkerboard.py`, `conv_bn_fusion.py`,
# `receptive_field.py`) and minigrad's own tools; in a notebook the summary
# tables show as HTML and the autograd graph as a picture.

# %%
import argparse
import os
import sys

import numpy as np

import minigrad as mg
import minigrad.nn as nn

# The other examples' modules live beside this file (a script's folder is on
# sys.path already; a notebook runs wherever it was opened).
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import checkerboard  # noqa: E402
import conv_bn_fusion  # noqa: E402
import receptive_field  # noqa: E402
from _common import add_run_arguments, print_table, setup  # noqa: E402

parser = argparse.ArgumentParser(description="a notebook tour of three seed ideas")
add_run_arguments(parser, quick_help="(the tour is quick already)")
args, _ = parser.parse_known_args()   # known: a notebook kernel passes arguments of its own
setup(args)

# %% [markdown]
# ## 1. Checkerboard artifacts of transposed convolutions
#
# A transposed convolution with stride 2 paints a k x k stamp of the weights
# around every second output pixel. With k = 3 the stamps overlap unevenly:
# some output pixels get one contribution, their neighbours two or four. Even
# with every weight equal to 1 and a constant input, the output is a
# checkerboard. k = 4 (divisible by the stride) overlaps evenly; resizing then
# convolving, or a sub-pixel convolution (pixel shuffle), cannot produce the
# pattern at all. `period2_amplitude` measures the size of the pattern that
# flips sign from one pixel to the next.

# %%
def constant_weights(layer):
    """Every weight 1 and every bias 0: what remains is the layer's geometry."""
    with mg.no_grad():
        for name, parameter in layer.named_parameters():
            nn.init.constant_(parameter, 0.0 if name.endswith("bias") else 1.0)
    return layer


flat = mg.ones(1, 1, 8, 8)
rows = []
for kind in checkerboard.KINDS:
    upsample = constant_weights(checkerboard.upsampler(kind, channels=1))
    with mg.no_grad():
        output = upsample(flat).numpy()[:, :, 2:-2, 2:-2]       # (1, 1, 12, 12), no border effects
    rows.append((kind, f"{output.min():g}..{output.max():g}",
                 f"{checkerboard.period2_amplitude(output / output.max()):.3f}"))
print_table(["upsampler", "output values", "period-2 amplitude"], rows,
            title="a constant image, upsampled 2x by layers with all weights 1")

transposed = constant_weights(checkerboard.upsampler("transposed k=3", channels=1))
with mg.no_grad():
    print(transposed(flat).numpy()[0, 0, 2:8, 2:8])   # the uneven overlap, pixel by pixel

# %% [markdown]
# ## 2. Folding batch norm into the convolution before it
#
# In eval mode batch norm is `x * scale + shift` per channel, so it folds into
# the preceding convolution's weights and bias
# (`minigrad.nn.utils.fuse_conv_bn_eval`). The fused network computes the same
# function with a third of the layers gone; `summary` shows the difference.

# %%
network = conv_bn_fusion.make_network(width=8)
network.train()
with mg.no_grad():
    for _ in range(3):                     # running statistics away from their start (0 and 1)
        network(mg.randn(4, 3, 32, 32) * 2 + 0.5)
network.eval()
fused = conv_bn_fusion.fuse(network)
images = mg.randn(2, 3, 32, 32)
with mg.no_grad():
    difference = np.abs(fused(images).numpy() - network(images).numpy()).max()
print(f"{len(network)} layers -> {len(fused)} layers, largest output difference {difference:.2e}")

before = mg.utils.summary(network, (3, 32, 32), verbose=False)
after = mg.utils.summary(fused, (3, 32, 32), verbose=False)
print_table(["network", "layers", "parameters", "multiply-adds"],
            [(name, len(table), f"{table.totals['total_params']:,}",
              f"{table.totals['multiply_adds']:,}")
             for name, table in (("conv + BN", before), ("fused", after))])
after                                      # a notebook shows the table; a script ignores it

# %% [markdown]
# The fused network is a state_dict like any other: saved as safetensors it
# opens in PyTorch (`safetensors.torch.load_file`) with the same keys.

# %%
path = os.path.join(args.out, "fused_network.safetensors")
mg.save(fused.state_dict(), path)
restored = conv_bn_fusion.fuse(conv_bn_fusion.make_network(width=8).eval())
restored.load_state_dict(mg.load(path))
with mg.no_grad():
    same = np.array_equal(restored(images).numpy(), fused(images).numpy())
print(f"wrote {path}; reloaded network gives identical outputs: {same}")

# %% [markdown]
# ## 3. Receptive fields of dilated stacks
#
# A 3x3 kernel with dilation d spans 2d + 1 pixels, and stride-1 layers add
# their spans. `minigrad.utils.receptive_field` computes the field layer by
# layer from the geometry; back-propagating from the centre output pixel
# measures it: the input gradient is non-zero exactly on the pixels the output
# depends on. Dilations 2, 2, 2 span 13x13 but see only every other pixel.

# %%
size = 33
rows = []
for name, dilations in receptive_field.STACKS.items():
    stack = receptive_field.make_stack(dilations, channels=4)
    computed = mg.utils.receptive_field(stack, (1, size, size), verbose=False)[-1]["receptive_field"]
    gradient = receptive_field.gradient_map(dilations, size, channels=4, trials=1, seed=args.seed)
    seen = gradient > gradient.max() * 1e-9
    ys, xs = np.nonzero(seen)
    rows.append((name, f"{computed[0]}x{computed[1]}",
                 f"{ys.max() - ys.min() + 1}x{xs.max() - xs.min() + 1}", int(seen.sum())))
print_table(["stack", "receptive_field()", "measured by backprop", "pixels seen"], rows,
            title="receptive field of the centre output pixel")

# %% [markdown]
# The measurement is one backward pass through this graph (in a notebook,
# the picture; Graphviz draws it when installed, else its DOT text shows).

# %%
stack = receptive_field.make_stack([1, 2, 4], channels=4)
image = mg.randn(1, 1, size, size, requires_grad=True)
centre_output = stack(image)[0, :, size // 2, size // 2].sum()
graph = mg.viz.draw_graph(centre_output, params=dict(stack.named_parameters()))
print(f"autograd graph of the dilated stack: {graph.count(' -> ')} edges")
graph
