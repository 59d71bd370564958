"""Fetching dataset files: HTTPS download, checksum, atomic write, safe tar extraction.

Every file a dataset needs is named here with the URL it comes from and the checksum its
publisher lists for it, so a learner can read in one place what will be fetched. A download
streams into a temporary file in the destination folder, hashes it on the way, and is renamed
into place only when the byte count and checksum match; anything else (a dropped connection, a
wrong checksum, Ctrl-C) removes the temporary file, so a half-written file never looks like a
dataset. Offline, or on a mismatch, :func:`download_resources` raises a ``RuntimeError`` that
says which files to put where, so they can be copied in by hand.

The ``*_URL`` constants are the base URLs; tests point them at a server on ``127.0.0.1``.
Plain ``http://`` is accepted only for the loopback host: real downloads must use HTTPS.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

# Official files and the MD5s their publishers list (the same values torchvision checks).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_RESOURCES: tuple[tuple[str, str], ...] = (
    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
)

FASHION_MNIST_URL = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)
FASHION_MNIST_RESOURCES: tuple[tuple[str, str], ...] = (
    ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
)

# The binary version of CIFAR-10 (never the pickled "python version").
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/"
CIFAR10_RESOURCES: tuple[tuple[str, str], ...] = (
    ("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),
)

_CHUNK = 1 << 20
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def default_root() -> Path:
    """Where datasets live by default: ``$MINIGRAD_DATA``, else ``~/.cache/minigrad``."""
    env = os.environ.get("MINIGRAD_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/minigrad").expanduser()


def file_md5(path: str | os.PathLike) -> str:
    """Hex MD5 of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: str | os.PathLike, md5: str | None) -> bool:
    """True if ``path`` exists and (when ``md5`` is given) has that MD5."""
    path = Path(path)
    if not path.is_file():
        return False
    return md5 is None or file_md5(path) == md5.lower()


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise ValueError(f"download: refusing {url!r}: only https:// URLs are fetched")


def download_url(
    url: str, dest: str | os.PathLike, md5: str | None = None, timeout: float = 30.0
) -> Path:
    """Fetch ``url`` into the file ``dest``, atomically, and verify its MD5.

    The body is streamed into a temporary file in ``dest``'s folder and hashed as it arrives.
    Only when the byte count matches ``Content-Length`` (if the server sent one) and the MD5
    matches ``md5`` is it renamed onto ``dest`` with :func:`os.replace`; in every other case
    (network error, short transfer, checksum mismatch, interrupt) the temporary file is deleted
    and ``dest`` is left as it was.

    Raises
    ------
    ValueError
        If ``url`` is not HTTPS (plain HTTP is allowed for the loopback host only).
    RuntimeError
        On a network error, a truncated transfer or a checksum mismatch.
    """
    _check_url(url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "minigrad"})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    expected = int(length) if length is not None else None
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
            except (urllib.error.URLError, OSError, ValueError) as err:
                raise RuntimeError(f"download: fetching {url} failed: {err}") from err
            if expected is not None and received != expected:
                raise RuntimeError(
                    f"download: {url} was cut short: received {received} of {expected} bytes"
                )
            out.flush()
            os.fsync(out.fileno())
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise RuntimeError(
                f"download: checksum mismatch for {url}: expected MD5 {md5.lower()}, "
                f"got {digest.hexdigest()} ({received} bytes)"
            )
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a dataset cache is shared
        os.replace(tmp_name, dest)
    except BaseException:
        # Never leave a partial or unverified file behind, whatever stopped us.
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return dest


def missing_files_message(
    name: str, folder: Path, base_url: str, resources: Sequence[tuple[str, str]]
) -> str:
    """The instructions for placing a dataset's files by hand."""
    lines = [f"{name}: dataset files not found or not verified. Place these files in {folder}:"]
    for filename, md5 in resources:
        lines.append(f"  {folder / filename}  (from {base_url}{filename}, MD5 {md5})")
    lines.append("(download=True fetches them when online.)")
    return "\n".join(lines)


def download_resources(
    name: str,
    folder: str | os.PathLike,
    base_url: str,
    resources: Sequence[tuple[str, str]],
    timeout: float = 30.0,
) -> None:
    """Make sure every ``(filename, md5)`` of ``resources`` is in ``folder``, fetching what is not.

    Files already present with the right MD5 are kept. On any failure a ``RuntimeError`` says
    what went wrong and lists every file with its destination and URL.
    """
    folder = Path(folder)
    for filename, md5 in resources:
        dest = folder / filename
        if check_md5(dest, md5):
            continue
        try:
            download_url(base_url + filename, dest, md5=md5, timeout=timeout)
        except RuntimeError as err:
            raise RuntimeError(
                f"{err}\n{missing_files_message(name, folder, base_url, resources)}"
            ) from err


def _is_within(base: Path, target: Path) -> bool:
    try:
        target.relative_to(base)
    except ValueError:
        return False
    return True


def extract_tar_safely(archive: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Extract the regular files and folders of a tar archive into ``dest``.

    Every member is checked before anything is written: absolute names, ``..`` components,
    links and device files are refused with a ``ValueError`` naming the member, so an archive
    cannot write outside ``dest``. Returns the paths written.
    """
    dest = Path(dest).resolve()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                target = (dest / member.name).resolve()
                if (
                    Path(member.name).is_absolute()
                    or ".." in Path(member.name).parts
                    or not _is_within(dest, target)
                ):
                    raise ValueError(
                        f"extract: {archive}: member {member.name!r} would be written "
                        f"outside {dest}"
                    )
                if not (member.isfile() or member.isdir()):
                    raise ValueError(
                        f"extract: {archive}: member {member.name!r} is not a regular file "
                        "or folder (links and devices are refused)"
                    )
            written = []
            for member in members:
                target = dest / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
                written.append(target)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(f"extract: {archive} is not a readable tar archive: {err}") from err
    return written
