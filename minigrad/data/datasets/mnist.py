"""MNIST and Fashion-MNIST from their official IDX files.

The IDX format (LeCun et al.) is a big-endian header followed by raw values: two zero bytes,
a type byte (``0x08`` = unsigned byte), the number of dimensions, then one 32-bit size per
dimension. Images are ``idx3`` (``N x 28 x 28``, magic ``0x00000803``) and labels ``idx1``
(``N``, magic ``0x00000801``). Files may be stored gzipped (``.gz``, as published) or not.

Files live in ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``), as torchvision lays them out.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from minigrad.creation import from_numpy
from minigrad.data.datasets import download as _download
from minigrad.data.datasets.vision import VisionDataset

_IDX_TYPES = {0x08: numpy.dtype("uint8")}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_maybe_gzipped(path: Path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"IDX file {path}: corrupt or truncated gzip data: {err}") from err


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> numpy.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy array of its declared shape.

    Parameters
    ----------
    path:
        The file; gzip compression is detected from its first bytes, not its name.
    ndim:
        If given, the number of dimensions the header must declare (3 for images, 1 for
        labels).

    Raises
    ------
    ValueError
        Naming the file and what is wrong: bad magic number, unsupported type, unexpected
        number of dimensions, or a data section shorter or longer than the header declares.
    """
    path = Path(path)
    raw = _read_maybe_gzipped(path)
    if len(raw) < 4:
        raise ValueError(f"IDX file {path}: truncated header ({len(raw)} bytes, expected >= 4)")
    zero, type_code, dims = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in _IDX_TYPES:
        raise ValueError(
            f"IDX file {path}: bad magic number 0x{raw[:4].hex()}; expected 0x000008NN "
            "(unsigned-byte IDX)"
        )
    if ndim is not None and dims != ndim:
        raise ValueError(
            f"IDX file {path}: header declares {dims} dimensions, expected {ndim} "
            f"(magic 0x{raw[:4].hex()}, expected 0x{0x800 + ndim:08x})"
        )
    header_len = 4 + 4 * dims
    if len(raw) < header_len:
        raise ValueError(
            f"IDX file {path}: truncated header ({len(raw)} bytes, expected {header_len})"
        )
    shape = tuple(int(s) for s in numpy.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"IDX file {path}: {what}: header declares shape {shape} ({expected} data bytes), "
            f"found {actual} data bytes"
        )
    return numpy.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape).copy()


def _find_idx(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28.

    Parameters
    ----------
    root:
        Folder holding ``MNIST/raw/``; ``None`` means ``$MINIGRAD_DATA`` or
        ``~/.cache/minigrad``.
    train:
        The training files (``train-*``) if True, the test files (``t10k-*``) otherwise.
    transform, target_transform:
        Callables applied to the image (an ``(28, 28)`` uint8 NumPy array) and to the target
        (an ``int``); ``transforms.ToTensor()`` turns the image into a ``(1, 28, 28)`` float
        tensor in [0, 1].
    download:
        Fetch the official gzipped files (checksums verified) if they are not present.

    Attributes
    ----------
    data:
        uint8 tensor of shape ``(N, 28, 28)``.
    targets:
        int64 tensor of shape ``(N,)``.
    """

    folder_name = "MNIST"
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    @staticmethod
    def _source() -> tuple[str, tuple[tuple[str, str], ...]]:
        # Looked up at call time, so tests can point the module constants at a local server.
        return _download.MNIST_URL, _download.MNIST_RESOURCES

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
        images, labels = self._load()
        self.data = from_numpy(images)
        self.targets = from_numpy(labels.astype(numpy.int64))

    @property
    def raw_folder(self) -> Path:
        return self.root / self.folder_name / "raw"

    def _file_names(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _load(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        name = type(self).__name__
        image_name, label_name = self._file_names()
        image_path = _find_idx(self.raw_folder, image_name)
        label_path = _find_idx(self.raw_folder, label_name)
        if image_path is None or label_path is None:
            base_url, resources = self._source()
            raise RuntimeError(
                _download.missing_files_message(name, self.raw_folder, base_url, resources)
                + "\nThe files may also be placed gunzipped (without .gz)."
            )
        images = read_idx(image_path, ndim=3)
        labels = read_idx(label_path, ndim=1)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{name}: {image_path} holds {images.shape[0]} images but {label_path} holds "
                f"{labels.shape[0]} labels"
            )
        if labels.size and int(labels.max()) >= len(self.classes):
            raise ValueError(
                f"{name}: {label_path} holds label {int(labels.max())}; expected labels in "
                f"0..{len(self.classes) - 1}"
            )
        return images, labels

    def download(self) -> None:
        """Fetch the four official ``.gz`` files into ``raw_folder`` unless already there."""
        image_name, label_name = self._file_names()
        if (
            _find_idx(self.raw_folder, image_name) is not None
            and _find_idx(self.raw_folder, label_name) is not None
        ):
            return
        base_url, resources = self._source()
        _download.download_resources(type(self).__name__, self.raw_folder, base_url, resources)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = self.data.numpy()[index]
        target = int(self.targets.numpy()[index])
        return self._transformed(image, target)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 grey clothing images in 10 classes, MNIST's file format.

    Same parameters and attributes as :class:`MNIST`; files live in ``root/FashionMNIST/raw/``.
    """

    folder_name = "FashionMNIST"
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]

    @staticmethod
    def _source() -> tuple[str, tuple[tuple[str, str], ...]]:
        return _download.FASHION_MNIST_URL, _download.FASHION_MNIST_RESOURCES
