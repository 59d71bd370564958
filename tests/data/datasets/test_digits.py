"""Digits: scikit-learn's bundled 8 x 8 digits, seeded train/test split."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data.dataset import Dataset
from minigrad.data.datasets import Digits
from minigrad.data.datasets.digits import digits_split

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def reference():
    bunch = sklearn_datasets.load_digits()
    return bunch.images.astype(np.float64) / 16.0, bunch.target


def test_default_split_sizes_disjoint_and_complete():
    train, test = Digits(train=True), Digits(train=False)
    assert isinstance(train, Dataset)
    assert (len(train), len(test)) == (1438, 359)
    assert set(train.indices).isdisjoint(test.indices)
    assert sorted([*train.indices, *test.indices]) == list(range(1797))


@given(n=st.integers(2, 300), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**31))
def test_split_is_a_seeded_partition(n, fraction, seed):
    train, test = digits_split(n, fraction, seed)
    assert len(test) == round(n * fraction) and len(train) + len(test) == n
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    again_train, again_test = digits_split(n, fraction, seed)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(test, again_test)


def test_seed_changes_split_and_same_seed_repeats():
    a, b, c = Digits(train=False, seed=0), Digits(train=False, seed=0), Digits(train=False, seed=1)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    assert len(Digits(train=False, test_fraction=0.5)) == round(1797 * 0.5)


def test_items_values_and_types(reference):
    images, labels = reference
    ds = Digits(train=False)
    assert ds.data.shape == (359, 8, 8) and ds.data.dtype == np.float32
    assert ds.targets.dtype == np.int64
    for i in (0, 7, 358):
        image, target = ds[i]
        assert isinstance(image, minigrad.Tensor)
        assert image.shape == (1, 8, 8) and image.dtype == np.float32
        np.testing.assert_allclose(image.numpy()[0], images[ds.indices[i]], rtol=1e-6)
        assert type(target) is int and target == labels[ds.indices[i]]
    data = ds.data.numpy()
    assert data.min() == 0.0 and data.max() == 1.0


def test_transform_receives_8x8_array():
    seen = []

    def transform(image):
        seen.append((type(image), image.shape, image.dtype))
        return "done"

    ds = Digits(train=True, transform=transform, target_transform=lambda t: t * 10)
    image, target = ds[3]
    assert image == "done" and seen == [(np.ndarray, (8, 8), np.float32)]
    assert target == int(ds.targets.numpy()[3]) * 10


def test_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction must be in"):
        Digits(test_fraction=1.0)


def test_missing_sklearn_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sklearn.datasets", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"pip install 'minigrad\[examples\]'"):
        Digits()


def test_dataloader_batches():
    from minigrad.data import DataLoader

    ds = Digits(train=False)
    images, targets = next(iter(DataLoader(ds, batch_size=16)))
    assert tuple(images.shape) == (16, 1, 8, 8) and tuple(targets.shape) == (16,)
    np.testing.assert_array_equal(images.numpy()[:, 0], ds.data.numpy()[:16])
    np.testing.assert_array_equal(targets.numpy(), ds.targets.numpy()[:16])
