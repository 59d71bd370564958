"""CIFAR10: binary batch parsing, safe archive extraction, on small files written here."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.data.dataset import Dataset
from minigrad.data.datasets import CIFAR10
from minigrad.data.datasets import download as dl
from minigrad.data.datasets.cifar import read_cifar_batch
from minigrad.data.datasets.download import extract_tar_safely

TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def cifar_records(images_hwc: np.ndarray, labels: np.ndarray) -> bytes:
    """Official binary layout, written record by record: label byte, then R, G, B planes."""
    out = bytearray()
    for image, label in zip(images_hwc, labels):
        out.append(int(label))
        for channel in range(3):
            for row in range(32):
                for col in range(32):
                    out.append(int(image[row, col, channel]))
    return bytes(out)


def make_batch(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def batch_files(n_per_batch: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray, bytes]]:
    files = {}
    for seed, name in enumerate([*TRAIN_FILES, "test_batch.bin"]):
        images, labels = make_batch(seed, n_per_batch)
        files[name] = (images, labels, cifar_records(images, labels))
    return files


def write_batches(root: Path, files) -> Path:
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, _, data) in files.items():
        (folder / name).write_bytes(data)
    return folder


def cifar_archive(files, extra_members=()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        directory = tarfile.TarInfo("cifar-10-batches-bin")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        for name, (_, _, data) in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra_members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


@given(n=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_read_batch_matches_record_by_record_reference(n, seed):
    images, labels = make_batch(seed, n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data_batch_1.bin"
        path.write_bytes(cifar_records(images, labels))
        out_images, out_labels = read_cifar_batch(path)
    assert out_images.dtype == np.uint8 and out_images.shape == (n, 32, 32, 3)
    assert out_images.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(out_images, images)
    np.testing.assert_array_equal(out_labels, labels.astype(np.int64))


@pytest.mark.parametrize("train", [True, False])
def test_dataset_items(tmp_path, train):
    files = batch_files()
    write_batches(tmp_path, files)
    ds = CIFAR10(tmp_path, train=train)
    names = TRAIN_FILES if train else ["test_batch.bin"]
    images = np.concatenate([files[name][0] for name in names])
    labels = np.concatenate([files[name][1] for name in names])
    assert isinstance(ds, Dataset)
    assert len(ds) == len(labels) == 2 * len(names)
    assert isinstance(ds.data, np.ndarray) and ds.data.shape == (len(labels), 32, 32, 3)
    assert ds.targets == [int(t) for t in labels]
    for i in range(len(ds)):
        image, target = ds[i]
        assert image.dtype == np.uint8 and image.shape == (32, 32, 3)
        np.testing.assert_array_equal(image, images[i])
        assert type(target) is int and target == labels[i]


def test_transforms_and_to_tensor(tmp_path):
    write_batches(tmp_path, batch_files())
    ds = CIFAR10(tmp_path, train=False, target_transform=lambda t: -t)
    assert ds[0][1] == -ds.targets[0]
    transforms = pytest.importorskip("minigrad.data.transforms")
    ds = CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    image, _ = ds[1]
    assert tuple(image.shape) == (3, 32, 32)
    np.testing.assert_allclose(image.numpy(), ds.data[1].transpose(2, 0, 1) / 255.0, rtol=1e-6)


@pytest.mark.parametrize("cut", [1, 3073, 3074 + 100])
def test_truncated_batch_is_a_clear_error(tmp_path, cut):
    files = batch_files()
    folder = write_batches(tmp_path, files)
    path = folder / "data_batch_3.bin"
    path.write_bytes(files["data_batch_3.bin"][2][:-cut])
    needle = "holds 1 records, the other training batches hold 2" if cut == 3073 else "corrupt"
    with pytest.raises(ValueError, match=needle) as info:
        CIFAR10(tmp_path)
    assert str(path) in str(info.value)


def test_empty_batch_and_bad_label(tmp_path):
    files = batch_files()
    folder = write_batches(tmp_path, files)
    (folder / "test_batch.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="test_batch.bin is truncated"):
        CIFAR10(tmp_path, train=False)
    data = bytearray(files["test_batch.bin"][2])
    data[3073] = 10  # label byte of record 1
    (folder / "test_batch.bin").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="record 1 has label byte 10"):
        CIFAR10(tmp_path, train=False)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(RuntimeError) as info:
        CIFAR10(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "cifar-10-binary.tar.gz") in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in message
    assert "c32a1d4ab5d03f1284b67883e8d87530" in message


def test_archive_placed_by_hand_is_verified_and_extracted(tmp_path, monkeypatch):
    import hashlib

    files = batch_files()
    archive = cifar_archive(files)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(archive)
    # The real MD5 does not match this small archive: refused, nothing extracted.
    with pytest.raises(RuntimeError, match="published MD5"):
        CIFAR10(tmp_path)
    assert not (tmp_path / "cifar-10-batches-bin").exists()
    md5 = hashlib.md5(archive).hexdigest()
    monkeypatch.setattr(dl, "CIFAR10_RESOURCES", (("cifar-10-binary.tar.gz", md5),))
    ds = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data, files["test_batch.bin"][0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cifar-10-batches-bin",
        "cifar-10-binary.tar.gz",
    ]


def _member(name, kind=tarfile.REGTYPE, data=b"x", linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize(
    "member, needle",
    [
        (_member("../evil.bin"), "outside"),
        (_member("cifar-10-batches-bin/../../evil.bin"), "outside"),
        (_member("/tmp/evil.bin"), "outside"),
        (
            _member("cifar-10-batches-bin/link", tarfile.SYMTYPE, linkname="/etc/passwd"),
            "not a regular file",
        ),
        (
            _member("cifar-10-batches-bin/hard", tarfile.LNKTYPE, linkname="../../x"),
            "not a regular file",
        ),
    ],
)
def test_unsafe_archive_members_are_refused(tmp_path, member, needle):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(cifar_archive(batch_files(1), [member]))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ValueError, match=needle):
        extract_tar_safely(archive, dest)
    # Checked before anything is written.
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "evil.bin").exists()


def test_corrupt_archive_is_a_clear_error(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(cifar_archive(batch_files(1))[:200])
    with pytest.raises(ValueError, match="not a readable tar archive"):
        extract_tar_safely(archive, tmp_path)
