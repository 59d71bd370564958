"""Datasets: what a ``DataLoader`` reads from, with PyTorch's ``torch.utils.data`` API.

A *map-style* dataset (``Dataset``) answers ``dataset[i]`` and ``len(dataset)``; an
*iterable-style* dataset (``IterableDataset``) is a stream read with ``iter(dataset)``.
``TensorDataset`` wraps tensors sharing a first dimension, ``Subset`` and ``random_split``
pick samples, ``ConcatDataset``/``ChainDataset`` join datasets end to end.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Sequence

from minigrad.random import Generator, numpy_generator
from minigrad.tensor import Tensor

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``.

    ``a + b`` concatenates two datasets into a ``ConcatDataset``.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``.

    A ``DataLoader`` reads it in order; it cannot be shuffled or sampled by index.
    ``a + b`` chains two streams into a ``ChainDataset``.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dimension.

    ``TensorDataset(x, y)[i] == (x[i], y[i])``; every tensor must have the same first
    dimension.
    """

    def __init__(self, *tensors: Tensor):
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: expected Tensors, got {type(t).__name__} at position {k}"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {k} is 0-dimensional; expected a first dimension"
                )
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                "TensorDataset: size mismatch between tensors: expected the same first "
                f"dimension, got sizes {sizes} (shapes {[tuple(t.shape) for t in tensors]})"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        if isinstance(index, int):  # the DataLoader's case: a plain view, no autograd node
            return tuple(
                t[index] if t.requires_grad else Tensor._make(t.detach()._data[index])
                for t in self.tensors
            )
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Map-style datasets one after another: indices run through the first, then the next."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(
                    "ConcatDataset: does not support IterableDataset; use ChainDataset"
                )
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(
                    f"ConcatDataset: index {index} is out of range for length {n}"
                )
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset: only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _lengths_from_fractions(fractions: Sequence[float], n: int) -> list[int]:
    """PyTorch's rule: floor(n * f) each, then the remainder one by one from the first."""
    for i, frac in enumerate(fractions):
        if not 0 <= frac <= 1:
            raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: {frac}")
    lengths = [math.floor(n * frac) for frac in fractions]
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"random_split: length of split at index {i} is 0; "
                "this might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``\\ s of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (each split gets ``floor(len * fraction)`` and the leftover samples go one each to the
    splits in order, as in PyTorch).  The permutation comes from ``generator`` (default:
    minigrad's global generator, so ``minigrad.manual_seed`` makes it repeatable).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths should not be empty")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= n:
        lengths = _lengths_from_fractions(lengths, n)
    if any(not isinstance(x, int) or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative ints or fractions summing to 1, "
            f"got {lengths}"
        )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths {sum(lengths)} does not equal the length "
            f"of the input dataset {n} (lengths {lengths})"
        )
    permutation = numpy_generator(generator).permutation(n).tolist()
    splits, offset = [], 0
    for length in lengths:
        splits.append(Subset(dataset, permutation[offset : offset + length]))
        offset += length
    return splits
