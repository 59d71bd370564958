"""Image transforms with torchvision's API: ``Compose([ToTensor(), Normalize(m, s)])``.

Images are NumPy arrays ``(H, W, C)`` or ``(H, W)`` before ``ToTensor`` and tensors
``(..., C, H, W)`` after it.  Random transforms draw from minigrad's generator (inside a
``DataLoader``: the generator of the batch being read, see ``minigrad.data.dataloader``),
so ``minigrad.manual_seed`` makes them repeatable.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy

from minigrad.creation import from_numpy, tensor
from minigrad.data.dataloader import sample_generator
from minigrad.dtypes import get_default_dtype
from minigrad.ops import pad as pad_tensor
from minigrad.tensor import Tensor

__all__ = [
    "Compose",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "ToTensor",
]


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """An ``(H, W, C)`` or ``(H, W)`` image array to a ``(C, H, W)`` tensor.

    ``uint8`` images are scaled to floats in [0, 1] (``x / 255``, default float dtype,
    float32); other dtypes keep their values and dtype.  Anything with the array
    interface (a PIL image) is read with ``numpy.asarray``.
    """

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor) or not (
            isinstance(pic, numpy.ndarray) or hasattr(pic, "__array_interface__")
        ):
            raise TypeError(
                f"ToTensor: expected an image as a numpy.ndarray (H, W[, C]), got "
                f"{type(pic).__name__}"
            )
        array = numpy.asarray(pic)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(
                f"ToTensor: expected an image of shape (H, W) or (H, W, C), got {array.shape}"
            )
        chw = numpy.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == numpy.uint8:
            return from_numpy((chw / 255.0).astype(get_default_dtype()))
        return from_numpy(chw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """Per channel ``(x - mean[c]) / std[c]`` on a float tensor ``(..., C, H, W)``."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = list(mean) if isinstance(mean, Sequence) else [mean]
        self.std = list(std) if isinstance(std, Sequence) else [std]
        self.inplace = inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std contains a zero, leading to division by zero: "
                             f"{self.std}")

    def __call__(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"Normalize: expected a Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"Normalize: expected a float tensor, got dtype {x.dtype}")
        if x.ndim < 3:
            raise ValueError(
                f"Normalize: expected a tensor of shape (..., C, H, W), got {tuple(x.shape)}"
            )
        channels = x.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {len(values)} values for an input with "
                    f"{channels} channels (shape {tuple(x.shape)})"
                )
        mean = tensor(self.mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        std = tensor(self.std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        out = (x - mean) / std
        if self.inplace:
            return x.copy_(out)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{name}: expected an int or a (h, w) sequence for size, got {size!r}")


_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


class RandomCrop:
    """A random ``size`` window of an image tensor ``(..., H, W)``, after optional padding.

    Parameters
    ----------
    size : int or (h, w) of the crop
    padding : int (all sides), (left/right, top/bottom) or (left, top, right, bottom),
        added before cropping
    pad_if_needed : pad an image smaller than ``size`` up to it
    fill : value for ``padding_mode='constant'``
    padding_mode : 'constant', 'edge' or 'reflect'
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant"):
        self.size = _pair(size, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode should be one of {list(_PAD_MODES)}, "
                f"got {padding_mode!r}"
            )
        if padding is not None:
            if isinstance(padding, numbers.Integral):
                padding = (int(padding),) * 4
            elif isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
                padding = tuple(int(p) for p in padding)
                padding = {1: padding * 4, 2: padding * 2, 4: padding}[len(padding)]
            else:
                raise ValueError(
                    f"RandomCrop: padding should be an int or a sequence of 1, 2 or 4 ints, "
                    f"got {padding!r}"
                )
        self.padding = padding  # (left, top, right, bottom)
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _pad(self, img: Tensor, left: int, top: int, right: int, bottom: int) -> Tensor:
        return pad_tensor(img, (left, right, top, bottom), mode=_PAD_MODES[self.padding_mode],
                          value=self.fill)

    def __call__(self, img: Tensor) -> Tensor:
        if not isinstance(img, Tensor) or img.ndim < 2:
            raise TypeError(
                "RandomCrop: expected an image tensor of shape (..., H, W), got "
                f"{type(img).__name__}{tuple(img.shape) if isinstance(img, Tensor) else ''}"
            )
        if self.padding is not None:
            img = self._pad(img, *self.padding)
        th, tw = self.size
        h, w = img.shape[-2:]
        if self.pad_if_needed and (h < th or w < tw):
            dh, dw = max(th - h, 0), max(tw - w, 0)
            img = self._pad(img, dw, dh, dw, dh)
            h, w = img.shape[-2:]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) "
                f"input image size {(h, w)}"
            )
        rng = sample_generator()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return img[..., i : i + th, j : j + tw]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror an image tensor ``(..., H, W)`` left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p should be in [0, 1], got {p}")
        self.p = p

    def __call__(self, img):
        if sample_generator().random() < self.p:
            return img[..., ::-1]
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Lambda:
    """A user function as a transform: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
