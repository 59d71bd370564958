"""The 8 x 8 handwritten digits bundled with scikit-learn: a real dataset with no download.

1,797 grey images of the digits 0-9 (UCI "Optical Recognition of Handwritten Digits"), pixel
values 0-16. scikit-learn ships them inside its wheel, so this dataset works offline; it is
the default for ``python -m minigrad.examples.train``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy

from minigrad.creation import from_numpy
from minigrad.data.datasets.vision import VisionDataset

NUM_IMAGES = 1797


def _load_digits() -> tuple[numpy.ndarray, numpy.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "Digits needs scikit-learn, which bundles the images: "
            "pip install 'minigrad[examples]' (or pip install scikit-learn)"
        ) from err
    bunch = load_digits()
    images = (numpy.asarray(bunch.images, dtype=numpy.float32) / 16.0).astype(numpy.float32)
    labels = numpy.asarray(bunch.target, dtype=numpy.int64)
    return images, labels


def digits_split(n: int, test_fraction: float, seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Sorted train and test indices of a seeded random split of ``range(n)``.

    The permutation comes from ``numpy.random.default_rng(seed)``, so it is the same on every
    machine and NumPy version that keeps PCG64; ``round(n * test_fraction)`` indices go to test.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"Digits: test_fraction must be in (0, 1), got {test_fraction}")
    order = numpy.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return numpy.sort(order[n_test:]), numpy.sort(order[:n_test])


class Digits(VisionDataset):
    """scikit-learn's 8 x 8 digits as ``(1, 8, 8)`` float32 images in [0, 1], split train/test.

    Parameters
    ----------
    root:
        Unused (the images come with scikit-learn); accepted so every dataset is called alike.
    train:
        The training part of the split if True, the test part otherwise.
    transform:
        If ``None``, an image is returned as a float32 tensor of shape ``(1, 8, 8)``; otherwise
        ``transform`` receives the ``(8, 8)`` float32 NumPy array and its result is returned.
    target_transform:
        Applied to the target, an ``int`` in 0..9.
    test_fraction:
        Share of the 1,797 images held out for test (0.2 gives 359 test, 1,438 train).
    seed:
        Seed of the split: the same seed gives the same split; the two parts are disjoint and
        together hold every image once.

    Attributes
    ----------
    data:
        float32 tensor of shape ``(N, 8, 8)``, pixel / 16.
    targets:
        int64 tensor of shape ``(N,)``.
    indices:
        Positions of this part's images in scikit-learn's order.
    """

    classes = [str(i) for i in range(10)]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.test_fraction = test_fraction
        self.seed = seed
        images, labels = _load_digits()
        train_idx, test_idx = digits_split(len(images), test_fraction, seed)
        self.indices = train_idx if train else test_idx
        self.data = from_numpy(numpy.ascontiguousarray(images[self.indices]))
        self.targets = from_numpy(numpy.ascontiguousarray(labels[self.indices]))

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = self.data.numpy()[index]
        target = int(self.targets.numpy()[index])
        if self.transform is None:  # the default: a (1, 8, 8) tensor, ready for a CNN
            image = from_numpy(image[None].copy())
        return self._transformed(image, target)

    def _repr_lines(self) -> list[str]:
        split = "Train" if self.train else "Test"
        return [f"Split: {split} (test_fraction={self.test_fraction}, seed={self.seed})"]
