"""DataLoader, samplers and collation (``minigrad/data/dataloader.py``): every sample once
per epoch, seeded shuffling that changes between epochs, drop_last, nested collation, worker
threads giving the very batches of ``num_workers=0``, and worker errors reaching the caller."""

from __future__ import annotations

import math
import threading
import traceback
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
)
from minigrad.data import transforms as T


def index_dataset(n):
    return TensorDataset(minigrad.arange(n), minigrad.tensor(np.arange(n) * 10.0))


def batches_as_lists(loader):
    return [b[0].tolist() for b in loader]


class Noisy(Dataset):
    """Samples through random transforms: tests that workers reproduce them."""

    def __init__(self, n):
        self.images = np.random.default_rng(0).integers(0, 256, (n, 6, 6, 3), dtype=np.uint8)
        self.transform = T.Compose([
            T.ToTensor(), T.RandomCrop(4, padding=1), T.RandomHorizontalFlip(),
        ])

    def __getitem__(self, i):
        return self.transform(self.images[i]), i

    def __len__(self):
        return len(self.images)


class Stream(IterableDataset):
    def __init__(self, n, sized=True):
        self.n = n
        self.sized = sized

    def __iter__(self):
        for i in range(self.n):
            yield np.float32(i)

    def __len__(self):
        if not self.sized:
            raise TypeError("Stream has no length")
        return self.n


@given(
    n=st.integers(1, 40),  # RandomSampler refuses an empty dataset, as in PyTorch
    batch_size=st.integers(1, 12),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_every_sample_exactly_once_per_epoch(n, batch_size, drop_last, shuffle, seed):
    minigrad.manual_seed(seed)
    loader = DataLoader(index_dataset(n), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len
    for _ in range(2):
        batches = batches_as_lists(loader)
        assert len(batches) == expected_len
        seen = [i for b in batches for i in b]
        assert len(seen) == len(set(seen))  # no sample twice
        if drop_last:
            assert all(len(b) == batch_size for b in batches)
            assert len(seen) == expected_len * batch_size
        else:
            assert sorted(seen) == list(range(n))  # every sample
            assert all(len(b) == batch_size for b in batches[:-1])
        if not shuffle:
            assert seen == list(range(len(seen)))


def test_second_field_follows_the_first():
    loader = DataLoader(index_dataset(10), batch_size=4, shuffle=True)
    for idx, value in loader:
        np.testing.assert_array_equal(value.numpy(), idx.numpy() * 10.0)
        assert idx.dtype == np.int64 and value.dtype == np.float64


def test_shuffle_differs_between_epochs_and_is_seeded():
    minigrad.manual_seed(123)
    loader = DataLoader(index_dataset(50), batch_size=7, shuffle=True)
    first = [batches_as_lists(loader) for _ in range(3)]
    assert first[0] != first[1] != first[2]
    minigrad.manual_seed(123)
    again = [batches_as_lists(loader) for _ in range(3)]
    assert first == again
    minigrad.manual_seed(124)
    assert batches_as_lists(loader) != first[0]


def test_loader_generator_is_independent_of_global_seed():
    def run(global_seed):
        minigrad.manual_seed(global_seed)
        gen = minigrad.Generator().manual_seed(7)
        loader = DataLoader(index_dataset(30), batch_size=5, shuffle=True, generator=gen)
        return [batches_as_lists(loader) for _ in range(2)]

    a, b = run(0), run(1)
    assert a == b and a[0] != a[1]


def test_drop_last_len_and_batches():
    loader = DataLoader(index_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and batches_as_lists(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    loader = DataLoader(index_dataset(10), batch_size=4)
    assert len(loader) == 3 and batches_as_lists(loader)[-1] == [8, 9]


def test_collate_nested_structures():
    sample = lambda k: (  # noqa: E731
        {"t": minigrad.full((2, 3), float(k)), "a": np.full(4, k, dtype=np.float32),
         "f": 0.5 * k, "i": k, "s": f"s{k}"},
        [np.int32(k), (k, 2.0 * k)],
    )
    batch = default_collate([sample(1), sample(2), sample(3)])
    assert isinstance(batch, list) and len(batch) == 2  # tuples become lists, as PyTorch
    d, rest = batch
    assert d["t"].shape == (3, 2, 3) and d["t"].dtype == np.float32
    np.testing.assert_array_equal(d["t"].numpy()[:, 0, 0], [1, 2, 3])
    assert d["a"].shape == (3, 4) and d["a"].dtype == np.float32
    np.testing.assert_array_equal(d["a"].numpy()[:, 0], [1, 2, 3])
    assert d["f"].dtype == np.float64 and d["f"].tolist() == [0.5, 1.0, 1.5]
    assert d["i"].dtype == np.int64 and d["i"].tolist() == [1, 2, 3]
    assert d["s"] == ["s1", "s2", "s3"]
    assert rest[0].dtype == np.int32 and rest[0].tolist() == [1, 2, 3]
    assert rest[1][0].tolist() == [1, 2, 3] and rest[1][1].tolist() == [2.0, 4.0, 6.0]


def test_collate_keeps_mapping_and_namedtuple_types():
    Point = namedtuple("Point", "x y")
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point) and out.x.tolist() == [1, 3] and out.y.tolist() == [2.0, 4.0]
    out = default_collate([OrderedDict(b=1, a=2), OrderedDict(b=3, a=4)])
    assert isinstance(out, OrderedDict) and list(out) == ["b", "a"]
    assert default_collate([True, False]).dtype == np.bool_


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="numpy array of dtype"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_and_batch_size_none():
    out = default_convert((np.arange(3), {"k": np.float32(2)}, "s"))
    assert out[0].tolist() == [0, 1, 2] and out[1]["k"].item() == 2.0 and out[2] == "s"
    loader = DataLoader([np.arange(2) + i for i in range(3)], batch_size=None)
    assert len(loader) == 3 and [b.tolist() for b in loader] == [[0, 1], [1, 2], [2, 3]]


@given(
    n=st.integers(1, 30),
    batch_size=st.integers(1, 8),
    num_workers=st.integers(1, 3),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_workers_give_the_same_batches(n, batch_size, num_workers, drop_last, seed):
    def epochs(workers):
        minigrad.manual_seed(seed)
        loader = DataLoader(index_dataset(n), batch_size=batch_size, shuffle=True,
                            drop_last=drop_last, num_workers=workers)
        return [batches_as_lists(loader) for _ in range(2)]

    assert epochs(num_workers) == epochs(0)


@pytest.mark.parametrize("persistent", [False, True])
def test_workers_reproduce_random_transforms(persistent):
    def epochs(workers):
        minigrad.manual_seed(5)
        loader = DataLoader(Noisy(20), batch_size=3, shuffle=True, num_workers=workers,
                            persistent_workers=persistent and workers > 0)
        return [[(x.numpy().copy(), i.tolist()) for x, i in loader] for _ in range(2)]

    serial, threaded = epochs(0), epochs(3)
    for epoch_a, epoch_b in zip(serial, threaded):
        assert len(epoch_a) == len(epoch_b) == 7
        for (xa, ia), (xb, ib) in zip(epoch_a, epoch_b):
            assert ia == ib
            np.testing.assert_array_equal(xa, xb)
    # the random transforms really are random: two epochs differ for the same sample
    first = {i: x for x, idx in serial[0] for i, x in zip(idx, x)}
    second = {i: x for x, idx in serial[1] for i, x in zip(idx, x)}
    assert any(not np.array_equal(first[i], second[i]) for i in range(20))


def test_workers_run_in_background_threads():
    names, ids = set(), set()

    def collate(samples):
        names.add(threading.current_thread().name)
        ids.add(get_worker_info().id)
        return default_collate(samples)

    seen = []
    loader = DataLoader(index_dataset(12), batch_size=2, num_workers=2, collate_fn=collate,
                        worker_init_fn=seen.append)
    assert batches_as_lists(loader) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert all(name.startswith("minigrad-DataLoader-worker") for name in names)
    assert ids <= {0, 1} and sorted(seen) == sorted(set(seen)) and set(seen) <= {0, 1}
    assert get_worker_info() is None


class Broken(Dataset):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is broken")
        return i

    def __len__(self):
        return 10


@pytest.mark.parametrize("num_workers", [0, 2])
def test_worker_error_propagates_with_traceback(num_workers):
    loader = DataLoader(Broken(), batch_size=2, num_workers=num_workers)
    it = iter(loader)
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(KeyError, match="sample 5 is broken") as info:
        next(it)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(f.name == "__getitem__" and f.filename == __file__ for f in frames)


def test_early_break_does_not_hang():
    loader = DataLoader(index_dataset(100), batch_size=2, num_workers=2)
    for k, _ in enumerate(loader):
        if k == 3:
            break
    assert batches_as_lists(loader)[:2] == [[0, 1], [2, 3]]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterable_dataset(num_workers):
    loader = DataLoader(Stream(7), batch_size=3, num_workers=num_workers)
    assert len(loader) == 3
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    loader = DataLoader(Stream(7, sized=False), batch_size=3, drop_last=True,
                        num_workers=num_workers)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError):
        len(loader)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    gen = minigrad.Generator().manual_seed(0)
    sampler = RandomSampler(range(10), generator=gen)
    a, b = list(sampler), list(sampler)
    assert sorted(a) == sorted(b) == list(range(10)) and a != b
    assert len(list(RandomSampler(range(4), num_samples=10))) == 10
    assert sorted(list(RandomSampler(range(4), num_samples=8))) == sorted(list(range(4)) * 2)
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([3, 5, 9])) == [3, 5, 9]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    loader = DataLoader(index_dataset(6), batch_sampler=[[5, 0], [2]])
    assert len(loader) == 2 and batches_as_lists(loader) == [[5, 0], [2]]
    loader = DataLoader(index_dataset(6), sampler=[4, 1, 3], batch_size=2)
    assert batches_as_lists(loader) == [[4, 1], [3]]


def test_argument_errors():
    ds = index_dataset(4)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)


def test_pin_memory_is_accepted_on_cpu():
    loader = DataLoader(index_dataset(4), batch_size=2, pin_memory=True)
    assert [b[0].device.type for b in loader] == ["cpu", "cpu"]


def test_utils_data_alias():
    import minigrad.utils.data
    from minigrad.utils.data import DataLoader as Alias

    assert minigrad.utils.data is minigrad.data and Alias is DataLoader


def test_empty_dataset():
    loader = DataLoader(index_dataset(0), batch_size=3)
    assert len(loader) == 0 and list(loader) == []
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        DataLoader(index_dataset(0), shuffle=True)


def test_collate_stacks_tensors_and_keeps_autograd():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([a, minigrad.tensor([3.0, 4.0])])
    assert batch.shape == (2, 2) and batch.grad_fn is not None
    batch.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    plain = default_collate([minigrad.zeros(2, 3), minigrad.ones(2, 3)])
    assert plain.grad_fn is None and plain.numpy()[:, 0, 0].tolist() == [0.0, 1.0]
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\), \(3,\)"):
        default_collate([minigrad.zeros(2), minigrad.zeros(3)])
