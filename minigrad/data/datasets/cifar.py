"""CIFAR-10 from its official *binary* version (never the pickled one).

``cifar-10-binary.tar.gz`` holds ``cifar-10-batches-bin/data_batch_{1..5}.bin`` (10,000 images
each) and ``test_batch.bin``. Each file is a run of 3,073-byte records: one label byte (0-9),
then the 32 x 32 image as 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major.
Parsing is a reshape; no file is ever unpickled, so a downloaded file cannot run code.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from minigrad.data.datasets import download as _download
from minigrad.data.datasets.vision import VisionDataset

_SIDE = 32
_RECORD = 1 + 3 * _SIDE * _SIDE
_FOLDER = "cifar-10-batches-bin"
_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_TEST_FILES = ("test_batch.bin",)


def read_cifar_batch(path: str | os.PathLike) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Parse one CIFAR-10 binary batch file.

    Returns
    -------
    images:
        uint8 array of shape ``(N, 32, 32, 3)`` (HWC).
    labels:
        int64 array of shape ``(N,)``.

    Raises
    ------
    ValueError
        Naming the file if it is empty, its size is not a whole number of 3,073-byte records
        (truncated), or a label byte is not in 0..9.
    """
    path = Path(path)
    raw = numpy.fromfile(path, dtype=numpy.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(
            f"CIFAR10: {path} is truncated or corrupt: {raw.size} bytes is not a whole, "
            f"non-zero number of {_RECORD}-byte records (1 label + 3072 pixel bytes)"
        )
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(numpy.int64)
    bad = numpy.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(
            f"CIFAR10: {path} is corrupt: record {int(bad[0])} has label byte "
            f"{int(labels[bad[0]])}, expected 0..9"
        )
    # Planes are stored channel-first (CHW); datasets hand out HWC like torchvision's .data.
    images = records[:, 1:].reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return numpy.ascontiguousarray(images), labels


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32 x 32, in 10 classes.

    Parameters
    ----------
    root:
        Folder holding ``cifar-10-batches-bin/`` (or ``cifar-10-binary.tar.gz`` to extract);
        ``None`` means ``$MINIGRAD_DATA`` or ``~/.cache/minigrad``.
    train:
        The five training batches if True, the test batch otherwise.
    transform, target_transform:
        Callables applied to the image (a ``(32, 32, 3)`` uint8 NumPy array, HWC) and to the
        target (an ``int``); ``transforms.ToTensor()`` turns the image into a ``(3, 32, 32)``
        float tensor in [0, 1].
    download:
        Fetch ``cifar-10-binary.tar.gz`` (checksum verified) and extract it if needed.

    Attributes
    ----------
    data:
        uint8 NumPy array of shape ``(N, 32, 32, 3)``.
    targets:
        list of ``int``.
    """

    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = Path(root).expanduser() if root is not None else _download.default_root()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        elif not self._batches_present() and (self.root / self._archive_name()).is_file():
            # The archive was placed by hand: extract it (checked first, like a download).
            self._extract()
        if not self._batches_present():
            raise RuntimeError(
                _download.missing_files_message(
                    "CIFAR10", self.root, _download.CIFAR10_URL, _download.CIFAR10_RESOURCES
                )
                + f"\n(it is extracted to {self.batch_folder})"
            )
        parts = [read_cifar_batch(self.batch_folder / name) for name in self._batch_names()]
        # The official batches are equal in size (10,000 records), so a batch that lost whole
        # records shows up as the odd one out even though each record parses.
        counts = [len(labels) for _, labels in parts]
        for name, count in zip(self._batch_names(), counts):
            if count != max(counts):
                raise ValueError(
                    f"CIFAR10: {self.batch_folder / name} is truncated: it holds {count} "
                    f"records, the other training batches hold {max(counts)}"
                )
        self.data = numpy.concatenate([images for images, _ in parts])
        self.targets = [int(t) for t in numpy.concatenate([labels for _, labels in parts])]

    @property
    def batch_folder(self) -> Path:
        return self.root / _FOLDER

    def _batch_names(self) -> tuple[str, ...]:
        return _TRAIN_FILES if self.train else _TEST_FILES

    @staticmethod
    def _archive_name() -> str:
        return _download.CIFAR10_RESOURCES[0][0]

    def _batches_present(self) -> bool:
        return all((self.batch_folder / name).is_file() for name in self._batch_names())

    def _extract(self) -> None:
        archive = self.root / self._archive_name()
        md5 = _download.CIFAR10_RESOURCES[0][1]
        if not _download.check_md5(archive, md5):
            raise RuntimeError(
                f"CIFAR10: {archive} does not have the published MD5 {md5}; delete it and "
                "download again"
            )
        # Extract beside the final folder, then move the batches in: never a half folder.
        with tempfile.TemporaryDirectory(prefix=".cifar-extract-", dir=self.root) as tmp:
            _download.extract_tar_safely(archive, tmp)
            extracted = Path(tmp) / _FOLDER
            if not extracted.is_dir():
                raise RuntimeError(f"CIFAR10: {archive} has no {_FOLDER}/ folder")
            self.batch_folder.mkdir(parents=True, exist_ok=True)
            for item in extracted.iterdir():
                os.replace(item, self.batch_folder / item.name)

    def download(self) -> None:
        """Fetch and extract the binary archive into ``root`` unless the batches are there."""
        if self._batches_present():
            return
        _download.download_resources(
            "CIFAR10", self.root, _download.CIFAR10_URL, _download.CIFAR10_RESOURCES
        )
        self._extract()

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._transformed(self.data[index], self.targets[index])
