"""Lazy layers: the input size is read from the first batch (as torch.nn's Lazy* modules).

``LazyLinear(10)`` holds its weight as an ``UninitializedParameter`` (no shape
yet). The first call runs ``initialize_parameters(input)`` from a forward
pre-hook: it reads in_features (or in_channels, num_features) from the input,
``materialize``s every uninitialized parameter and buffer in place, initialises
them as the ordinary layer does, and then turns the module into that layer
(``module.__class__ = cls_to_become``: a LazyLinear becomes a Linear).

Materialising keeps each Parameter object (only its array and class change),
so an optimizer built before the first forward trains the materialised
weights, as in PyTorch (which neither warns nor raises there). Optimizers that
allocate their state at construction (Adagrad's accumulator) must be built
after the first forward: PyTorch raises there, and so does minigrad at the
first step (the accumulator has no shape). ``load_state_dict`` before the
first forward materialises the parameters with the checkpoint's shapes.

Differences from PyTorch: minigrad has no ``__torch_function__``, so an
operation on an uninitialized parameter is not intercepted (its ``shape``,
``size()``, ``ndim`` and ``numel()`` raise as PyTorch's ``shape`` does); and an
unbatched (C, *spatial) input to a LazyInstanceNorm takes C from dimension 0
(PyTorch reads dimension 1 and then fails).
"""
import numpy as np

from minigrad.autograd import no_grad
from minigrad.devices import check_device
from minigrad.nn.module import Module, Parameter
from minigrad.nn.modules._utils import is_int
from minigrad.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from minigrad.nn.modules.linear import Linear
from minigrad.nn.modules.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from minigrad.tensor import Tensor, as_dtype

_NO_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
             "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
             "`forward` to initialize the parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: a dtype but no shape yet.

    The array is an empty placeholder that carries the dtype (so module.double()
    before the first forward still decides the materialised dtype).
    """

    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor an (uninitialised) array of `shape`; it becomes a cls_to_become in place."""
        check_device(device)
        dtype = self.array.dtype if dtype is None else as_dtype(dtype)
        self.array = np.empty(tuple(int(n) for n in shape), dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_NO_SHAPE)

    @property
    def ndim(self):
        raise RuntimeError(_NO_SHAPE)

    def size(self, dim=None):
        raise RuntimeError(_NO_SHAPE)

    def dim(self):
        raise RuntimeError(_NO_SHAPE)

    def numel(self):
        raise RuntimeError(_NO_SHAPE)

    def __len__(self):
        raise RuntimeError(_NO_SHAPE)

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad, None, self.array.dtype))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, None, self.array.dtype)
        return memo[id(self)]


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet; ``materialize(shape)`` makes it a Parameter."""

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        check_device(device)
        super().__init__(np.empty(0, dtype=np.float32 if dtype is None else as_dtype(dtype)), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` makes it a Tensor."""

    __slots__ = ()      # the layout of Tensor, so that its class can become Tensor
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        check_device(device)
        super().__init__(np.empty(0, dtype=np.float32 if dtype is None else as_dtype(dtype)),
                         requires_grad=requires_grad)


def is_lazy(value):
    return isinstance(value, UninitializedTensorMixin)


class LazyModuleMixin:
    """A module whose parameters are materialised by the first forward (see the module docstring).

    Subclasses define ``cls_to_become`` and ``initialize_parameters(input)``.
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters)

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module (not its children) has no shape yet."""
        return any(is_lazy(value) for value in list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        # each lazy layer below overrides this (as subclasses of torch's LazyModuleMixin do);
        # a user's own lazy module that forgets to gets PyTorch's error
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _sizes_from_parameters(self):
        """After load_state_dict materialised a parameter: its size attribute (in_features, ...) from it."""

    @staticmethod
    def _infer_parameters(module, args):
        """Forward pre-hook: materialise from the first input, then become cls_to_become."""
        module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """As Module.state_dict, except that uninitialized entries are given as they are (as PyTorch)."""
        destination = Module.state_dict(self, destination, prefix, keep_vars)
        for registry in (self._parameters, self._buffers):
            for name, value in registry.items():
                if is_lazy(value) and prefix + name in destination:
                    destination[prefix + name] = value
        return destination

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys, error_messages):
        # An uninitialized entry takes the checkpoint's shape before the values are copied in.
        for registry in (self._parameters, self._buffers):
            for name, value in registry.items():
                key = prefix + name
                if is_lazy(value) and key in state_dict and not is_lazy(state_dict[key]):
                    loaded = state_dict[key]
                    shape = loaded.array.shape if isinstance(loaded, Tensor) else np.shape(loaded)
                    with no_grad():
                        value.materialize(shape)
                    self._sizes_from_parameters()
        super()._load_from_state_dict(state_dict, prefix, missing_keys, unexpected_keys, error_messages)


def _check_tensor(layer, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer}: expected a Tensor input, got {type(input).__name__}")


# ---------------------------------------------------------------------------
# LazyLinear
# ---------------------------------------------------------------------------

class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is input.shape[-1] of the first batch."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        if not is_int(out_features) or out_features < 0:
            raise ValueError(f"LazyLinear: out_features must be a non-negative integer, got {out_features!r}")
        super().__init__(0, 0, False, device=device, dtype=dtype)
        dtype = self.weight.dtype
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = int(out_features)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def _sizes_from_parameters(self):
        if not is_lazy(self.weight):
            self.in_features = self.weight.array.shape[1]      # weight (out_features, in_features)

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            _check_tensor("LazyLinear", input)
            if input.ndim == 0:
                raise IndexError("LazyLinear: expected an input with at least 1 dimension (the last holds "
                                 "in_features), got a 0-d input")
            with no_grad():
                self.in_features = int(input.shape[-1])
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


# ---------------------------------------------------------------------------
# Lazy convolutions
# ---------------------------------------------------------------------------

class _LazyConvMixin(LazyModuleMixin):
    """in_channels from the first batch: dimension 1 of (N, C, *spatial), 0 of (C, *spatial)."""

    def _make_lazy(self, out_channels, bias):
        dtype = self.weight.dtype
        self.in_channels = 0
        self.out_channels = out_channels
        self.weight = UninitializedParameter(dtype=dtype)
        self.register_parameter("bias", UninitializedParameter(dtype=dtype) if bias else None)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _sizes_from_parameters(self):
        if not is_lazy(self.weight):       # weight (C_in, C_out/G, *k) transposed, else (C_out, C_in/G, *k)
            shape = self.weight.array.shape
            self.in_channels = shape[0] if self.transposed else shape[1] * self.groups

    def _get_in_channels(self, input):
        _check_tensor(type(self).__name__, input)
        unbatched, batched = self._dims + 1, self._dims + 2
        if input.ndim not in (unbatched, batched):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {batched}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {list(input.shape)}")
        return int(input.shape[1] if input.ndim == batched else input.shape[0])

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            in_channels = self._get_in_channels(input)
            if in_channels % self.groups != 0:
                raise ValueError(f"in_channels must be divisible by groups: {type(self).__name__} got "
                                 f"in_channels={in_channels} and groups={self.groups}")
            with no_grad():
                self.in_channels = in_channels
                if self.transposed:
                    shape = (in_channels, self.out_channels // self.groups) + self.kernel_size
                else:
                    shape = (self.out_channels, in_channels // self.groups) + self.kernel_size
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


class _LazyConv(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        # a placeholder in_channels (= groups, so the checks pass) until the first batch
        super().__init__(groups, out_channels, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self._make_lazy(out_channels, bias)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(groups, out_channels, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device=device, dtype=dtype)
        self._make_lazy(out_channels, bias)


class LazyConv1d(_LazyConv, Conv1d):
    """Conv1d whose in_channels comes from the first batch."""
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """Conv2d whose in_channels comes from the first batch."""
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """Conv3d whose in_channels comes from the first batch."""
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """ConvTranspose1d whose in_channels comes from the first batch."""
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """ConvTranspose2d whose in_channels comes from the first batch."""
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """ConvTranspose3d whose in_channels comes from the first batch."""
    cls_to_become = ConvTranspose3d


# ---------------------------------------------------------------------------
# Lazy normalisation
# ---------------------------------------------------------------------------

class _LazyNormMixin(LazyModuleMixin):
    """num_features from the first batch (dimension 1; dimension 0 of an unbatched instance-norm input)."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 *, bias=True):
        # placeholder num_features=1 without parameters or statistics, replaced below
        super().__init__(1, eps, momentum, False, False, device, dtype, bias=bias)
        dtype = np.dtype(np.float32) if dtype is None else as_dtype(dtype)
        self.num_features, self.affine, self.track_running_stats = 0, affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = Tensor(np.array(0, dtype=np.int64))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _sizes_from_parameters(self):
        for value in (self.weight, self.bias, self.running_mean, self.running_var):
            if value is not None and not is_lazy(value):
                self.num_features = value.array.shape[0]

    def _get_num_features(self, input):
        _check_tensor(type(self).__name__, input)
        if input.ndim not in self._lazy_ndims:
            expected = " or ".join(f"{d}-d" for d in self._lazy_ndims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input, got {input.ndim}-d input of "
                             f"shape {tuple(input.shape)}")
        return int(input.shape[self._channel_axis(input)])

    def initialize_parameters(self, input, *args, **kwargs):
        # without affine parameters or running statistics nothing is materialised, but
        # num_features is still read (PyTorch leaves it 0: its batch_norm never checks it)
        if self.has_uninitialized_params() or self.num_features == 0:
            num_features = self._get_num_features(input)
            with no_grad():
                self.num_features = num_features
                for value in (self.weight, self.bias, self.running_mean, self.running_var):
                    if is_lazy(value):
                        value.materialize((num_features,))
                self.reset_parameters()


class _LazyBatchNorm(_LazyNormMixin):
    @property
    def _lazy_ndims(self):
        return self._ndims          # batch norm: always batched

    def _channel_axis(self, input):
        return 1


class _LazyInstanceNorm(_LazyNormMixin):
    @property
    def _lazy_ndims(self):
        return (self._dims + 1, self._dims + 2)

    def _channel_axis(self, input):
        return 1 if input.ndim == self._dims + 2 else 0       # (N, C, *spatial) or unbatched (C, *spatial)


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """BatchNorm1d whose num_features comes from the first batch."""
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """BatchNorm2d whose num_features comes from the first batch."""
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """BatchNorm3d whose num_features comes from the first batch."""
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """InstanceNorm1d whose num_features comes from the first batch (defaults as PyTorch's: affine and
    track_running_stats True)."""
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """InstanceNorm2d whose num_features comes from the first batch."""
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """InstanceNorm3d whose num_features comes from the first batch."""
    cls_to_become = InstanceNorm3d
