"""Image transforms for data augmentation (torchvision.transforms-style).

Every transform works on one sample (``transform(image)``) and, where it
can, on a whole stacked batch at once (``transform.batch(images)``, leading
dimension N), which is what the DataLoader's fast path uses: a random crop
of 256 images is then one fancy-indexing gather instead of 256 Python calls.
Random transforms draw each image's parameters independently from
``minigrad.random.generator()``.

Layouts: ToTensor takes a uint8 array ``(H, W)`` or ``(H, W, C)`` and returns
a float32 Tensor ``(C, H, W)`` in [0, 1]; the other transforms take
``(..., H, W)`` arrays or Tensors and return the same kind.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigrad.random import generator
from minigrad.tensor import Tensor


def supports_batch(transform):
    """Whether `transform` can be applied to a stacked batch with ``transform.batch``."""
    return callable(getattr(transform, "batch", None))


def _unwrap(image):
    """(array, was_tensor) for a Tensor or array input."""
    if isinstance(image, Tensor):
        return image.array, True
    if isinstance(image, np.ndarray):
        return image, False
    raise TypeError(f"expected a Tensor or np.ndarray image, got {type(image).__name__}")


def _wrap(array, as_tensor):
    return Tensor._make(array, False, None) if as_tensor else array


def _pair(name, value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 \
            and all(isinstance(v, numbers.Integral) for v in value):
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    @property
    def batch(self):
        if not all(supports_batch(t) for t in self.transforms):
            raise AttributeError("batch")  # some step works on single images only

        def apply(images):
            for transform in self.transforms:
                images = transform.batch(images)
            return images
        return apply

    def __repr__(self):
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class Lambda:
    """Wrap a function of one image as a transform."""

    def __init__(self, function):
        if not callable(function):
            raise TypeError(f"Lambda expects a callable, got {type(function).__name__}")
        self.function = function

    def __call__(self, image):
        return self.function(image)


class ToTensor:
    """uint8 ``(H, W)`` or ``(H, W, C)`` -> float32 Tensor ``(C, H, W)`` scaled to [0, 1].

    Float arrays are only moved to channel-first (not rescaled), as torchvision does.
    """

    @staticmethod
    def _convert(array, channel_axis_from):
        array = np.asarray(array)
        scale = array.dtype == np.uint8
        array = array.astype(np.float32)
        if scale:
            array *= np.float32(1 / 255)
        return Tensor._make(np.ascontiguousarray(channel_axis_from(array)), False, None)

    def __call__(self, image):
        array = image.array if isinstance(image, Tensor) else np.asarray(image)
        if array.ndim == 2:  # (H, W) -> (1, H, W)
            return self._convert(array, lambda a: a[None])
        if array.ndim == 3:  # (H, W, C) -> (C, H, W)
            return self._convert(array, lambda a: np.moveaxis(a, -1, 0))
        raise ValueError(f"ToTensor expects an (H, W) or (H, W, C) image, got shape {array.shape}")

    def batch(self, images):
        array = images.array if isinstance(images, Tensor) else np.asarray(images)
        if array.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
            return self._convert(array, lambda a: a[:, None])
        if array.ndim == 4:  # (N, H, W, C) -> (N, C, H, W)
            return self._convert(array, lambda a: np.moveaxis(a, -1, 1))
        raise ValueError(f"ToTensor.batch expects (N, H, W) or (N, H, W, C) images, "
                         f"got shape {array.shape}")

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(image - mean[c]) / std[c]`` for each channel c of ``(..., C, H, W)`` images."""

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"mean and std must be numbers or sequences, got {mean!r}, {std!r}")
        if np.any(self.std == 0):
            raise ValueError(f"std evaluated to zero after conversion to float64, leading to "
                             f"division by zero: std={std!r}")

    def __call__(self, image):
        array, as_tensor = _unwrap(image)
        if array.ndim < 3:
            raise ValueError(f"Normalize expects (..., C, H, W) images, got shape {array.shape}")
        channels = array.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {len(values)} {name} values for an image with "
                                 f"{channels} channels")
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
        mean = self.mean.astype(dtype)[:, None, None]  # (C, 1, 1) broadcasts over H, W
        std = self.std.astype(dtype)[:, None, None]
        return _wrap((array - mean) / std, as_tensor)

    batch = __call__  # already vectorised over any leading dimensions

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability p."""

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, image):
        array, as_tensor = _unwrap(image)
        if generator().random() < self.p:
            array = array[..., ::-1].copy()
        return _wrap(array, as_tensor)

    def batch(self, images):
        array, as_tensor = _unwrap(images)
        flip = generator().random(array.shape[0]) < self.p  # (N,) one draw per image
        out = array.copy()
        out[flip] = array[flip][..., ::-1]
        return _wrap(out, as_tensor)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


def _crop_windows(padded, tops, lefts, height, width):
    """Crop image n of (N, ..., Hp, Wp) at (tops[n], lefts[n]) to (N, ..., height, width)."""
    n = padded.shape[0]
    flat = padded.reshape(n, -1, *padded.shape[-2:])  # (N, M, Hp, Wp)
    windows = sliding_window_view(flat, (height, width), axis=(-2, -1))
    # windows: (N, M, Hp-height+1, Wp-width+1, height, width), a view (no copy);
    # the advanced indices pick one window per image -> (N, M, height, width).
    crops = windows[np.arange(n), :, tops, lefts]
    return crops.reshape(*padded.shape[:-2], height, width)


def _pad(array, padding, fill, padding_mode):
    """Pad the last two axes; padding is (left, top, right, bottom)."""
    left, top, right, bottom = padding
    if not any(padding):
        return array
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=fill)
    return np.pad(array, widths, mode=padding_mode)


class RandomCrop:
    """Crop a random ``size`` window, after padding the borders by ``padding``.

    ``padding`` is an int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom); ``padding_mode`` is 'constant' (with ``fill``),
    'edge', 'reflect' or 'symmetric'. The classic CIFAR augmentation is
    ``RandomCrop(32, padding=4)``.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair("size", size)
        if padding is None:
            padding = (0, 0, 0, 0)
        elif isinstance(padding, numbers.Integral):
            padding = (int(padding),) * 4
        elif isinstance(padding, (tuple, list)) and len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        elif not (isinstance(padding, (tuple, list)) and len(padding) == 4):
            raise ValueError(f"padding must be an int or a sequence of 2 or 4 ints, got {padding!r}")
        if any(not isinstance(p, numbers.Integral) or p < 0 for p in padding):
            raise ValueError(f"padding must be non-negative ints, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"padding_mode must be 'constant', 'edge', 'reflect' or 'symmetric', "
                             f"got {padding_mode!r}")
        self.padding = tuple(int(p) for p in padding)
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _padded(self, array):
        array = _pad(array, self.padding, self.fill, self.padding_mode)
        height, width = self.size
        if self.pad_if_needed:
            extra_w = max(0, width - array.shape[-1])
            extra_h = max(0, height - array.shape[-2])
            array = _pad(array, (extra_w, extra_h, extra_w, extra_h), self.fill,
                         self.padding_mode)
        if array.shape[-2] < height or array.shape[-1] < width:
            raise ValueError(f"RandomCrop: required crop size {self.size} is larger than the "
                             f"(padded) image size {array.shape[-2:]}")
        return array

    def __call__(self, image):
        array, as_tensor = _unwrap(image)
        padded = self._padded(array)
        height, width = self.size
        top = generator().integers(0, padded.shape[-2] - height + 1)
        left = generator().integers(0, padded.shape[-1] - width + 1)
        return _wrap(padded[..., top:top + height, left:left + width].copy(), as_tensor)

    def batch(self, images):
        array, as_tensor = _unwrap(images)
        padded = self._padded(array)
        height, width = self.size
        n = array.shape[0]
        tops = generator().integers(0, padded.shape[-2] - height + 1, size=n)
        lefts = generator().integers(0, padded.shape[-1] - width + 1, size=n)
        return _wrap(_crop_windows(padded, tops, lefts, height, width), as_tensor)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomTranslate:
    """Shift the image by a random whole number of pixels, filling the border with ``fill``.

    ``translate=(a, b)``: horizontal shift drawn uniformly in [-a * W, a * W],
    vertical in [-b * H, b * H], rounded to pixels; this is torchvision's
    ``RandomAffine(degrees=0, translate=(a, b))`` without interpolation.
    """

    def __init__(self, translate, fill=0):
        if not (isinstance(translate, (tuple, list)) and len(translate) == 2
                and all(0 <= t <= 1 for t in translate)):
            raise ValueError(f"translate should be a pair of fractions in [0, 1], got {translate!r}")
        self.translate = tuple(float(t) for t in translate)
        self.fill = fill

    def _shifts(self, array, count):
        height, width = array.shape[-2:]
        max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
        dx = np.rint(generator().uniform(-max_dx, max_dx, size=count)).astype(np.int64)
        dy = np.rint(generator().uniform(-max_dy, max_dy, size=count)).astype(np.int64)
        return dx, dy, int(np.floor(max_dx)) + 1, int(np.floor(max_dy)) + 1

    def batch(self, images):
        array, as_tensor = _unwrap(images)
        dx, dy, pad_x, pad_y = self._shifts(array, array.shape[0])
        dx, dy = np.clip(dx, -pad_x, pad_x), np.clip(dy, -pad_y, pad_y)
        padded = _pad(array, (pad_x, pad_y, pad_x, pad_y), self.fill, "constant")
        # Output pixel (y, x) shows input pixel (y - dy, x - dx), which sits at
        # (y - dy + pad_y, x - dx + pad_x) in the padded image.
        out = _crop_windows(padded, pad_y - dy, pad_x - dx, *array.shape[-2:])
        return _wrap(out, as_tensor)

    def __call__(self, image):
        array, as_tensor = _unwrap(image)
        return _wrap(self.batch(array[None])[0], as_tensor)

    def __repr__(self):
        return f"RandomTranslate(translate={self.translate}, fill={self.fill})"
