"""Spatial transformers: affine_grid and grid_sample.

affine_grid turns a batch of affine matrices theta into a sampling grid of
normalised coordinates in [-1, 1] (x across the width, y down the height,
z through the depth):

    grid[n, h, w] = theta[n] @ (x_w, y_h, 1)

grid_sample reads input at those coordinates. A normalised coordinate g is
first mapped to a pixel position (unnormalised):

    align_corners=True:  i = (g + 1) / 2 * (size - 1)     (-1 and 1 are the corner pixel centres)
    align_corners=False: i = ((g + 1) * size - 1) / 2      (-1 and 1 are the corner pixel edges)

then padding_mode says what a position outside the image reads: 'zeros'
(zero), 'border' (i clipped to [0, size - 1]) or 'reflection' (i mirrored
at the borders, then clipped). mode='bilinear' (trilinear on 5-D input)
mixes the 2 (or 2 x 2 x 2) neighbours with weights (1 - t) and t, where
t = i - floor(i); 'nearest' reads the pixel at round-half-even(i);
'bicubic' mixes 4 x 4 neighbours with the cubic convolution weights
(A = -0.75), the padding applied to each neighbour's integer position.

The forward pass is a gather of the neighbours, the input's gradient a
scatter-add of grad_output with the same weights (np.bincount), and the
grid's gradient the derivative of the weights with respect to t, times
di/dg (the unnormalisation's scale, times 0 where 'border' clipped and -1
where 'reflection' mirrored). 'nearest' gives the grid a zero gradient, as
in PyTorch. All of it follows PyTorch's CPU kernel (GridSampler.h).
"""
import itertools
import warnings

import numpy as np

from minigrad.autograd import Function
from minigrad.tensor import Tensor

_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")
_CUBIC_A = -0.75
_DEFAULT_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                    "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                    "See the documentation of grid_sample for details.")


# ---- affine_grid

def _linspace_from_neg_one(steps, align_corners, dtype):
    """(steps,) coordinates of the pixel centres in [-1, 1] (one pixel: 0)."""
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype=dtype)
    points = np.linspace(-1, 1, steps, dtype=dtype)
    if not align_corners:
        points = points * dtype.type((steps - 1) / steps)
    return points


def base_grid(spatial_sizes, align_corners, dtype):
    """(*spatial, d + 1) homogeneous coordinates (x, y[, z], 1) of every output point."""
    axes = [_linspace_from_neg_one(s, align_corners, dtype) for s in spatial_sizes]  # (D,) (H,) (W,)
    mesh = np.meshgrid(*axes, indexing="ij")                 # each (*spatial)
    coordinates = list(mesh[::-1]) + [np.ones(tuple(spatial_sizes), dtype=dtype)]   # x first: the width
    return np.stack(coordinates, axis=-1)


class AffineGrid(Function):
    """grid[n, p] = base[p] @ theta[n]^T; grad_theta[n] = grad_grid[n]^T @ base."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, theta, spatial_sizes, align_corners):
        base = base_grid(spatial_sizes, align_corners, theta.dtype)
        d = len(spatial_sizes)
        points = base.reshape(-1, d + 1)                     # (P, d + 1)
        ctx.points, ctx.theta_shape = points, theta.shape
        grid = np.matmul(points, np.swapaxes(theta, 1, 2))   # (P, d+1) @ (N, d+1, d) -> (N, P, d)
        return np.ascontiguousarray(grid.reshape((theta.shape[0],) + tuple(spatial_sizes) + (d,)))

    @staticmethod
    def backward(ctx, grad_grid):
        n, d = ctx.theta_shape[0], ctx.theta_shape[1]
        flat = grad_grid.reshape(n, ctx.points.shape[0], d)  # (N, P, d)
        return np.matmul(np.swapaxes(flat, 1, 2), ctx.points), None, None   # (N, d, P) @ (P, d+1)

    @staticmethod
    def backward_graph(ctx, grad_grid):
        # Linear in grad_grid; the base points are constants
        from minigrad.ops.elementwise import _constant
        from minigrad.ops.linalg import matmul
        n, d = ctx.theta_shape[0], ctx.theta_shape[1]
        flat = grad_grid.reshape(n, ctx.points.shape[0], d)                   # (N, P, d)
        return matmul(flat.transpose(1, 2), _constant(ctx.points)), None, None


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps theta (N, 2, 3) (or (N, 3, 4)).

    size is the output's (N, C, H, W) (or (N, C, D, H, W)); grid[n, h, w] =
    theta[n] @ (x_w, y_h, 1) with x, y the pixel centres in [-1, 1].
    align_corners=None means False (with PyTorch's warning).
    """
    if align_corners is None:
        warnings.warn(_DEFAULT_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid(): argument 'theta' must be a Tensor, not {type(theta).__name__}")
    if theta.dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, respectively. Got size {size}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", stacklevel=2)
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {theta.shape[2]}] but got: [{theta.shape[0]}, {theta.shape[2]}].")
    return AffineGrid.apply(theta, tuple(size[2:]), bool(align_corners))


# ---- grid_sample: coordinates

def unnormalize(coordinate, size, align_corners):
    """(pixel position, d position / d coordinate) of normalised coordinates in [-1, 1]."""
    if align_corners:
        scale = (size - 1) / 2
        return (coordinate + 1) * coordinate.dtype.type(scale), scale
    scale = size / 2
    return ((coordinate + 1) * coordinate.dtype.type(size) - 1) / 2, scale


def _clip(position, size):
    """Clip to [0, size - 1]; the derivative is 0 where clipped (also at the ends, as PyTorch)."""
    inside = (position > 0) & (position < size - 1)
    clipped = np.clip(np.where(np.isnan(position), 0, position), 0, size - 1)   # NaN reads pixel 0
    return clipped.astype(position.dtype), inside.astype(position.dtype)


def _reflect(position, twice_low, twice_high):
    """Mirror into [twice_low / 2, twice_high / 2]; the derivative is +-1."""
    if twice_low == twice_high:
        return np.zeros_like(position), np.zeros_like(position)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    offset = position - position.dtype.type(low)
    sign = np.where(offset < 0, -1, 1).astype(position.dtype)
    offset = np.abs(offset)
    extra = np.fmod(offset, position.dtype.type(span))
    even = np.floor(offset / position.dtype.type(span)) % 2 == 0
    reflected = np.where(even, extra + low, span - extra + low).astype(position.dtype)
    return reflected, np.where(even, sign, -sign)


def apply_padding(position, size, padding_mode, align_corners):
    """(position, d new / d old) after the padding mode's clipping or mirroring."""
    if padding_mode == "border":
        return _clip(position, size)
    if padding_mode == "reflection":
        if align_corners:
            position, grad = _reflect(position, 0, 2 * (size - 1))
        else:
            position, grad = _reflect(position, -1, 2 * size - 1)
        position, clip_grad = _clip(position, size)
        return position, grad * clip_grad
    return position, np.ones_like(position)


def source_positions(grid, spatial_sizes, padding_mode, align_corners, pad=True):
    """Per spatial axis (in input order D, H, W): (position (N, Q), d position / d grid (N, Q)).

    grid's last axis is (x, y[, z]): component d - 1 - a belongs to spatial axis a.
    """
    d = len(spatial_sizes)
    flat = grid.reshape(grid.shape[0], int(np.prod(grid.shape[1:-1])), d)   # (N, Q, d)
    result = []
    for axis, size in enumerate(spatial_sizes):
        position, scale = unnormalize(flat[..., d - 1 - axis], size, align_corners)
        grad = np.full_like(position, scale)
        if pad:
            position, padding_grad = apply_padding(position, size, padding_mode, align_corners)
            grad = grad * padding_grad
        result.append((position, grad))
    return result


def cubic_weights(t):
    """The 4 cubic convolution weights (A = -0.75) of taps at -1, 0, 1, 2 and their derivatives in t.

    W(x) = (A + 2)|x|^3 - (A + 3)|x|^2 + 1 for |x| <= 1, A|x|^3 - 5A|x|^2 + 8A|x| - 4A for 1 < |x| < 2.
    """
    a = _CUBIC_A

    def near(x):         # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def near_grad(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x):          # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    def far_grad(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    grads = [far_grad(t + 1), near_grad(t), -near_grad(1 - t), -far_grad(2 - t)]
    return weights, grads


def sampling_taps(grid, spatial_sizes, mode, padding_mode, align_corners):
    """The neighbours each output point reads: a list of (index (N, Q), valid (N, Q),
    weight (N, Q), d weight / d grid (N, Q, d) or None), index into the flattened spatial input."""
    d = len(spatial_sizes)
    dtype = grid.dtype
    strides = [int(np.prod(spatial_sizes[a + 1:])) for a in range(d)]

    def flat_index(integer_positions):
        index = np.zeros(integer_positions[0].shape, dtype=np.int64)
        valid = np.ones(integer_positions[0].shape, dtype=bool)
        for position, size, stride in zip(integer_positions, spatial_sizes, strides):
            inside = (position >= 0) & (position < size)       # False for NaN
            valid &= inside
            index += np.where(inside, position, 0).astype(np.int64) * stride
        return np.where(valid, index, 0), valid

    if mode == "nearest":
        axes = source_positions(grid, spatial_sizes, padding_mode, align_corners)
        index, valid = flat_index([np.rint(position) for position, _ in axes])
        return [(index, valid, np.ones(index.shape, dtype=dtype), None)]

    if mode == "bilinear":
        axes = source_positions(grid, spatial_sizes, padding_mode, align_corners)
        floors = [np.floor(position) for position, _ in axes]
        fractions = [position - floor for (position, _), floor in zip(axes, floors)]
        per_axis = [([1 - t, t], [-np.ones_like(t), np.ones_like(t)]) for t in fractions]
        offsets = [(0, 1)] * d
    else:   # bicubic: taps at floor - 1 .. floor + 2, the padding applied to each tap
        axes = source_positions(grid, spatial_sizes, padding_mode, align_corners, pad=False)
        floors = [np.floor(position) for position, _ in axes]
        per_axis = [cubic_weights(position - floor) for (position, _), floor in zip(axes, floors)]
        offsets = [(-1, 0, 1, 2)] * d

    taps = []
    for choice in itertools.product(*[range(len(o)) for o in offsets]):
        positions = [floor + offsets[a][c] for a, (floor, c) in enumerate(zip(floors, choice))]
        if mode == "bicubic":
            positions = [apply_padding(p, size, padding_mode, align_corners)[0]
                         for p, size in zip(positions, spatial_sizes)]
        index, valid = flat_index(positions)
        factors = [per_axis[a][0][c] for a, c in enumerate(choice)]
        weight = np.prod(factors, axis=0) if d > 1 else factors[0]
        weight_grad = np.empty(weight.shape + (d,), dtype=dtype)   # (N, Q, d): grid component order
        for a, c in enumerate(choice):
            others = [factors[b] for b in range(d) if b != a]
            partial = per_axis[a][1][c] * (np.prod(others, axis=0) if others else 1)
            weight_grad[..., d - 1 - a] = partial * axes[a][1]
        taps.append((index, valid, weight.astype(dtype), weight_grad))
    return taps


def tap_weights_graph(grid, spatial_sizes, mode, padding_mode, align_corners):
    """sampling_taps' (weight (N, Q), d weight / d grid (N, Q, d)) as Tensor functions of the
    Tensor grid, in the same tap order, for a double backward.

    Each padded position is rebuilt as value + slope * (g - g0): its value (array) and its
    slope d position / d g (the unnormalisation's scale, times 0 where clipped and +-1 where
    mirrored) as constants, exact to every order since the padding is piecewise linear. The
    floors (and so the tap indices) are constants; t = position - floor, and the weights are
    the same polynomials in t as in sampling_taps."""
    from minigrad.ops.elementwise import _constant
    from minigrad.ops.shape import stack
    d = len(spatial_sizes)
    flat = grid.reshape(grid.shape[0], -1, d)                       # (N, Q, d)
    with np.errstate(invalid="ignore"):
        axes = source_positions(grid.array, spatial_sizes, padding_mode, align_corners,
                                pad=mode != "bicubic")
    fractions, slopes = [], []
    for axis, (position, slope) in enumerate(axes):
        coordinate = flat[..., d - 1 - axis]                            # (N, Q)
        moved = (coordinate - _constant(coordinate.array)) * _constant(slope)   # 0, slope in g
        floor = np.floor(position)
        fractions.append(moved + _constant(position - floor))          # t = position - floor
        slopes.append(_constant(slope))
    if mode == "bilinear":
        per_axis = [([1 - t, t], [-1.0, 1.0]) for t in fractions]
        count = 2
    else:   # bicubic
        per_axis = [cubic_weights(t) for t in fractions]
        count = 4
    weights, weight_grads = [], []
    for choice in itertools.product(range(count), repeat=d):
        factors = [per_axis[a][0][c] for a, c in enumerate(choice)]
        weight = factors[0]
        for factor in factors[1:]:
            weight = weight * factor
        components = [None] * d                                         # grid component order
        for a, c in enumerate(choice):
            partial = per_axis[a][1][c] * slopes[a]
            for b in range(d):
                if b != a:
                    partial = partial * factors[b]
            components[d - 1 - a] = partial
        weights.append(weight)
        weight_grads.append(stack(components, -1))                      # (N, Q, d)
    return weights, weight_grads


class GridSample(Function):
    """output[n, c, q] = sum over taps of weight[n, q] * input[n, c, index[n, q]] (valid taps only)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        ctx.dtype = input.dtype
        # for backward_graph only (a double backward rebuilds the taps' weights from the grid and
        # gathers from the input); no copy: the caller's tensors hold these arrays anyway
        ctx.save_for_backward(input, grid)
        if input.dtype == np.float16:                         # float16 is computed in float32
            input, grid = input.astype(np.float32), grid.astype(np.float32)
        n, c = input.shape[:2]
        spatial_sizes = input.shape[2:]
        with np.errstate(invalid="ignore"):                   # inf or NaN in the grid reads 0 or NaN
            taps = sampling_taps(grid, spatial_sizes, mode, padding_mode, align_corners)
        flat_input = input.reshape(n, c, int(np.prod(spatial_sizes)))   # (N, C, P)
        batch = np.arange(n)[:, None, None]
        channel = np.arange(c)[None, :, None]
        output = np.zeros((n, c, taps[0][0].shape[1]), dtype=input.dtype)   # (N, C, Q)
        values = []
        for index, valid, weight, _ in taps:
            value = flat_input[batch, channel, index[:, None, :]] * valid[:, None, :]   # (N, C, Q)
            output += weight[:, None, :] * value
            values.append(value)
        ctx.taps, ctx.values, ctx.input_shape, ctx.grid_shape = taps, values, input.shape, grid.shape
        ctx.mode, ctx.padding_mode, ctx.align_corners = mode, padding_mode, align_corners
        return output.reshape((n, c) + tuple(grid.shape[1:-1])).astype(ctx.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        n, c = ctx.input_shape[:2]
        points = int(np.prod(ctx.input_shape[2:]))
        grad = grad_output.reshape(n, c, ctx.taps[0][0].shape[1])   # (N, C, Q)
        if grad.dtype == np.float16:
            grad = grad.astype(np.float32)
        grad_input = grad_grid = None
        if ctx.needs_input_grad[0]:
            # flat position of (n, c, index) in the (N * C * P) input
            base = (np.arange(n)[:, None, None] * c + np.arange(c)[None, :, None]) * points
            total = np.zeros(n * c * points, dtype=np.float64)
            for index, valid, weight, _ in ctx.taps:
                contribution = grad * (weight * valid)[:, None, :]
                total += np.bincount((base + index[:, None, :]).ravel(), contribution.ravel(),
                                     minlength=n * c * points)
            grad_input = total.astype(ctx.dtype).reshape(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            grad_grid = np.zeros((n, grad.shape[2], ctx.grid_shape[-1]), dtype=grad.dtype)
            if ctx.mode != "nearest":
                for (_, _, _, weight_grad), value in zip(ctx.taps, ctx.values):
                    along = (grad * value).sum(axis=1)        # (N, Q): sum over channels
                    grad_grid += along[..., None] * weight_grad
            grad_grid = grad_grid.reshape(ctx.grid_shape).astype(ctx.dtype, copy=False)
        return grad_input, grad_grid, None, None, None

    @staticmethod
    def backward_graph(ctx, grad_output):
        """The same gradients as Tensor functions of (input, grid, grad_output):
        grad_input = scatter-add of grad * weight(grid) at the taps' indices (constants),
        grad_grid = sum over taps of (sum_c grad * input[tap]) * d weight / d grid (grid)."""
        from minigrad.ops.elementwise import _constant
        from minigrad.ops.shape import GetItem, ScatterIntoZeros, stack
        input, grid = ctx.saved_tensors
        if ctx.dtype == np.float16:                           # computed in float32, as forward
            input, grid, grad_output = input.float(), grid.float(), grad_output.float()
        n, c = ctx.input_shape[:2]
        q = ctx.taps[0][0].shape[1]
        count = len(ctx.taps)
        grad = grad_output.reshape(n, c, 1, q)                              # (N, C, 1, Q)
        if ctx.needs_input_grad[1] and ctx.mode != "nearest":
            weights, weight_grads = tap_weights_graph(grid, ctx.input_shape[2:], ctx.mode,
                                                      ctx.padding_mode, ctx.align_corners)
        else:                                                 # no gradient reaches the grid
            weights = [_constant(weight) for _, _, weight, _ in ctx.taps]
            weight_grads = [None if g is None else _constant(g) for _, _, _, g in ctx.taps]
        valid = _constant(np.stack([v for _, v, _, _ in ctx.taps], 1).astype(grad.dtype))  # (N, T, Q)
        index = np.concatenate([i for i, _, _, _ in ctx.taps], 1)          # (N, T * Q), tap-major
        # where tap t of point q reads input[n, :, index] in the (N, C, P) input
        where = (np.arange(n)[:, None, None], np.arange(c)[None, :, None], index[:, None, :])
        points = int(np.prod(ctx.input_shape[2:]))
        grad_input = grad_grid = None
        if ctx.needs_input_grad[0]:
            spread = grad * (stack(weights, 1) * valid).unsqueeze(1)       # (N, C, T, Q)
            grad_input = ScatterIntoZeros.apply(spread.reshape(n, c, count * q), (n, c, points), where)
            grad_input = grad_input.reshape(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            if ctx.mode == "nearest":
                grad_grid = _constant(np.zeros(ctx.grid_shape, dtype=grad.dtype))
            else:
                values = GetItem.apply(input.reshape(n, c, points), where)   # (N, C, T * Q)
                values = values.reshape(n, c, count, q) * valid.unsqueeze(1)  # (N, C, T, Q)
                along = (grad * values).sum(axis=1)                        # (N, T, Q): over channels
                grad_grid = (along.unsqueeze(-1) * stack(weight_grads, 1)).sum(axis=1)   # (N, Q, d)
                grad_grid = grad_grid.reshape(ctx.grid_shape)
        if ctx.dtype == np.float16:
            grad_input = None if grad_input is None else grad_input.half()
            grad_grid = None if grad_grid is None else grad_grid.half()
        return grad_input, grad_grid, None, None, None


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo) (5-D: (N, D, H, W, 3)).

    grid holds normalised (x, y[, z]) in [-1, 1]; mode 'bilinear' (trilinear
    on 5-D), 'nearest' or 'bicubic' (4-D only); padding_mode 'zeros',
    'border' or 'reflection'. align_corners=None means False (with PyTorch's warning).
    float16 is computed in float32 and returned as float16.
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', "
                         f"or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT_WARNING, stacklevel=2)
        align_corners = False
    for name, value in (("input", input), ("grid", grid)):
        if not isinstance(value, Tensor):
            raise TypeError(f"grid_sample(): argument '{name}' must be a Tensor, not {type(value).__name__}")
    in_shape, grid_shape = list(input.shape), list(grid.shape)
    if input.ndim != grid.ndim or input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of "
                           f"dimensions, but got input with sizes {in_shape} and grid with sizes {grid_shape}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got "
                           f"input with sizes {in_shape} and grid with sizes {grid_shape}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, "
                           f"but got grid with sizes {grid_shape}")
    for axis in range(2, input.ndim):
        if input.shape[axis] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but "
                               f"input has sizes {in_shape} with dimension {axis} being empty")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype not in (np.float16, np.float32, np.float64):
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.ndim == 4 else "grid_sampler_3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for {input.dtype} input: expected '
                                  f"float16, float32 or float64")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input "
                           f"has {input.dtype} and grid has {grid.dtype}")
    return GridSample.apply(input, grid, mode, padding_mode, bool(align_corners))
