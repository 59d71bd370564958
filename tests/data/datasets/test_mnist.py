"""MNIST / FashionMNIST: IDX parsing on small files written here in the official format."""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data.dataset import Dataset
from minigrad.data.datasets import MNIST, FashionMNIST
from minigrad.data.datasets.mnist import read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: 0x0000, type 0x08, ndim, big-endian sizes, then the data."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_split(rng, n: int, h: int = 28, w: int = 28) -> tuple[np.ndarray, np.ndarray]:
    images = rng.integers(0, 256, size=(n, h, w), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_mnist(
    root: Path,
    folder: str = "MNIST",
    train: bool = True,
    n: int = 3,
    gz: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    images, labels = make_split(np.random.default_rng(seed), n)
    prefix = "train" if train else "t10k"
    raw = root / folder / "raw"
    write_idx(raw / f"{prefix}-images-idx3-ubyte", images, gz)
    write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, gz)
    return images, labels


@given(n=st.integers(0, 4), h=st.integers(1, 6), w=st.integers(1, 6), gz=st.booleans())
def test_read_idx_round_trip(n, h, w, gz):
    images = np.arange(n * h * w, dtype=np.uint8).reshape(n, h, w)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_idx(Path(tmp) / "images-idx3-ubyte", images, gz)
        out = read_idx(path, ndim=3)
    assert out.dtype == np.uint8 and out.shape == (n, h, w)
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls, folder", [(MNIST, "MNIST"), (FashionMNIST, "FashionMNIST")])
@pytest.mark.parametrize("train", [True, False])
def test_dataset_items(tmp_path, cls, folder, gz, train):
    images, labels = write_mnist(tmp_path, folder, train=train, n=3, gz=gz)
    ds = cls(tmp_path, train=train)
    assert isinstance(ds, Dataset)
    assert len(ds) == 3
    assert isinstance(ds.data, minigrad.Tensor) and ds.data.shape == (3, 28, 28)
    assert ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    for i in range(3):
        image, target = ds[i]
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        assert image.shape == (28, 28)
        np.testing.assert_array_equal(image, images[i])
        assert type(target) is int and target == labels[i]


def test_transforms_are_applied(tmp_path):
    images, labels = write_mnist(tmp_path, n=3)
    ds = MNIST(
        tmp_path,
        transform=lambda im: im.astype(np.float64).sum(),
        target_transform=lambda t: t + 100,
    )
    image, target = ds[1]
    assert image == images[1].astype(np.float64).sum()
    assert target == int(labels[1]) + 100


def test_to_tensor_gives_chw_float(tmp_path):
    transforms = pytest.importorskip("minigrad.data.transforms")
    images, _ = write_mnist(tmp_path, n=3)
    image, _ = MNIST(tmp_path, transform=transforms.ToTensor())[2]
    assert tuple(image.shape) == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], images[2] / 255.0, rtol=1e-6)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(RuntimeError) as info:
        FashionMNIST(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte.gz" in message and "https://" in message


def _corrupt(tmp_path, name: str, data: bytes, gz: bool = False):
    write_mnist(tmp_path, n=3)
    path = tmp_path / "MNIST" / "raw" / name
    if gz:
        path.unlink()
        path = path.with_name(name + ".gz")
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda good: good[:-5], "truncated"),
        (lambda good: good + b"\x00", "trailing bytes"),
        (lambda good: good[:10], "truncated header"),
        (lambda good: b"\x00\x01" + good[2:], "bad magic number"),
        (lambda good: good[:2] + b"\x0d" + good[3:], "bad magic number"),  # float32 type
        (lambda good: good[:3] + b"\x02" + good[4:], "2 dimensions, expected 3"),
        (lambda good: b"", "truncated header"),
    ],
)
def test_corrupt_image_file_names_file_and_problem(tmp_path, make, needle):
    good = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    path = _corrupt(tmp_path, "train-images-idx3-ubyte", make(good))
    with pytest.raises(ValueError, match=needle) as info:
        MNIST(tmp_path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    path = _corrupt(tmp_path, "train-images-idx3-ubyte", good[: len(good) // 2], gz=True)
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as info:
        MNIST(tmp_path)
    assert str(path) in str(info.value)


def test_image_and_label_counts_must_agree(tmp_path):
    _corrupt(tmp_path, "train-labels-idx1-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        MNIST(tmp_path)


def test_label_out_of_range(tmp_path):
    _corrupt(tmp_path, "train-labels-idx1-ubyte", idx_bytes(np.array([1, 12, 3], np.uint8)))
    with pytest.raises(ValueError, match="label 12"):
        MNIST(tmp_path)


def test_labels_file_must_be_one_dimensional(tmp_path):
    _corrupt(tmp_path, "train-labels-idx1-ubyte", idx_bytes(np.zeros((3, 1), np.uint8)))
    with pytest.raises(ValueError, match="2 dimensions, expected 1"):
        MNIST(tmp_path)
