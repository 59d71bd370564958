"""Datasets (``minigrad/data/dataset.py``): TensorDataset, Subset, ConcatDataset,
ChainDataset and ``random_split`` (sizes, fractions, seeding, disjointness)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return iter(self.values)


def test_tensor_dataset_indexes_every_tensor():
    x = minigrad.tensor(np.arange(12.0).reshape(4, 3))
    y = minigrad.tensor([10, 11, 12, 13])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), [6.0, 7.0, 8.0])
    assert yi.item() == 12


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"size mismatch.*\[4, 3\]"):
        TensorDataset(minigrad.zeros(4, 2), minigrad.zeros(3))


def test_tensor_dataset_rejects_non_tensors():
    with pytest.raises(TypeError, match="TensorDataset"):
        TensorDataset(np.zeros(3))


def test_subset_and_concat():
    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [49, 4, 25]
    cat = ConcatDataset([Squares(3), Squares(2), Squares(4)])
    assert len(cat) == 9
    assert [cat[i] for i in range(9)] == [0, 1, 4, 0, 1, 0, 1, 4, 9]
    assert cat[-1] == 9 and cat[-9] == 0
    with pytest.raises(IndexError):
        cat[9]
    with pytest.raises(IndexError):
        cat[-10]
    both = Squares(2) + Squares(1)
    assert isinstance(both, ConcatDataset) and len(both) == 3


def test_concat_rejects_empty_and_streams():
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Stream([1])])


def test_chain_dataset():
    chained = Stream([1, 2]) + Stream([3])
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [1, 2, 3] and len(ChainDataset([[1, 2], [3]])) == 3


@given(n=st.integers(0, 60), data=st.data())
def test_random_split_int_lengths_partition(n, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    bounds = [0, *cuts, n]
    lengths = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
    splits = random_split(Squares(n), lengths, generator=minigrad.Generator().manual_seed(3))
    assert [len(s) for s in splits] == lengths
    indices = [i for s in splits for i in s.indices]
    assert sorted(indices) == list(range(n))  # disjoint and covering


@pytest.mark.filterwarnings("ignore:random_split. length of split")  # tiny n: empty splits
@given(n=st.integers(1, 200), fractions=st.sampled_from(
    [[0.5, 0.5], [0.3, 0.7], [0.1, 0.2, 0.7], [0.25, 0.25, 0.25, 0.25], [1.0]]
))
def test_random_split_fractions_follow_pytorch_rounding(n, fractions):
    splits = random_split(Squares(n), fractions, generator=minigrad.Generator().manual_seed(0))
    expected = [int(np.floor(n * f)) for f in fractions]
    for i in range(n - sum(expected)):
        expected[i % len(expected)] += 1
    assert [len(s) for s in splits] == expected
    assert sorted(i for s in splits for i in s.indices) == list(range(n))


def test_random_split_fraction_example():
    # PyTorch: 10 samples split [0.3, 0.3, 0.4] -> floors [3, 3, 4], nothing left over;
    # 11 samples split [0.5, 0.5] -> [5, 5] + 1 to the first -> [6, 5]
    assert [len(s) for s in random_split(Squares(11), [0.5, 0.5])] == [6, 5]
    assert [len(s) for s in random_split(Squares(10), [0.3, 0.3, 0.4])] == [3, 3, 4]


@given(seed=st.integers(0, 2**32))
def test_random_split_is_seeded(seed):
    minigrad.manual_seed(seed)
    a = [s.indices for s in random_split(Squares(30), [10, 20])]
    minigrad.manual_seed(seed)
    b = [s.indices for s in random_split(Squares(30), [10, 20])]
    c = [s.indices for s in random_split(Squares(30), [10, 20],
                                         generator=minigrad.Generator().manual_seed(seed))]
    d = [s.indices for s in random_split(Squares(30), [10, 20],
                                         generator=minigrad.Generator().manual_seed(seed))]
    assert a == b and c == d


def test_random_split_different_seeds_differ():
    a = random_split(Squares(50), [25, 25], generator=minigrad.Generator().manual_seed(1))
    b = random_split(Squares(50), [25, 25], generator=minigrad.Generator().manual_seed(2))
    assert a[0].indices != b[0].indices


def test_random_split_errors():
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(Squares(10), [3, 4])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(Squares(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        random_split(Squares(1), [0.5, 0.5])
