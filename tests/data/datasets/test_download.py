"""Downloads against a local HTTP server on 127.0.0.1: checksums, atomic writes, no partial file."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from minigrad.data.datasets import CIFAR10, MNIST, FashionMNIST
from minigrad.data.datasets import download as dl
from tests.data.datasets.test_cifar import batch_files, cifar_archive
from tests.data.datasets.test_mnist import idx_bytes, make_split


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; paths under ``/cut/`` promise more bytes than they send."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        files, cut = self.server.files, False
        path = self.path
        if path.startswith("/cut/"):
            cut, path = True, path[len("/cut") :]
        self.server.requests.append(self.path)
        body = files.get(path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        if cut:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests = {}, []
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert dl.default_root() == tmp_path
    monkeypatch.delenv("MINIGRAD_DATA")
    assert dl.default_root() == Path.home() / ".cache" / "minigrad"


def test_published_checksums_are_listed():
    assert dict(dl.MNIST_RESOURCES)["train-images-idx3-ubyte.gz"] == (
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    )
    assert dict(dl.FASHION_MNIST_RESOURCES)["t10k-labels-idx1-ubyte.gz"] == (
        "bb300cfdad3c16e7a12a480ee83cd310"
    )
    assert dl.CIFAR10_RESOURCES == (("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),)
    for url in (dl.MNIST_URL, dl.FASHION_MNIST_URL, dl.CIFAR10_URL):
        assert url.startswith("https://") and url.endswith("/")


def test_download_url_checksum_pass(server, tmp_path):
    body = b"minigrad " * 1000
    server.files["/f.bin"] = body
    out = dl.download_url(server.url + "f.bin", tmp_path / "f.bin", md5=md5(body))
    assert out.read_bytes() == body
    assert leftovers(tmp_path) == ["f.bin"]


def test_download_url_checksum_fail_leaves_nothing(server, tmp_path):
    server.files["/f.bin"] = b"tampered"
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        dl.download_url(server.url + "f.bin", tmp_path / "f.bin", md5=md5(b"original"))
    assert leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_nothing(server, tmp_path):
    body = bytes(range(256)) * 64
    server.files["/f.bin"] = body
    with pytest.raises(RuntimeError, match=r"cut short: received 8192 of 16384 bytes"):
        dl.download_url(server.url + "cut/f.bin", tmp_path / "f.bin", md5=md5(body))
    assert leftovers(tmp_path) == []


def test_interrupt_during_write_leaves_nothing(server, tmp_path, monkeypatch):
    server.files["/f.bin"] = b"abc"

    def ctrl_c(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(dl.os, "fsync", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        dl.download_url(server.url + "f.bin", tmp_path / "f.bin", md5=md5(b"abc"))
    assert leftovers(tmp_path) == []


def test_existing_file_is_kept_when_download_fails(server, tmp_path):
    (tmp_path / "f.bin").write_bytes(b"old")
    server.files["/f.bin"] = b"new"
    with pytest.raises(RuntimeError):
        dl.download_url(server.url + "f.bin", tmp_path / "f.bin", md5=md5(b"other"))
    assert leftovers(tmp_path) == ["f.bin"] and (tmp_path / "f.bin").read_bytes() == b"old"


def test_plain_http_only_for_loopback(tmp_path):
    with pytest.raises(ValueError, match="only https"):
        dl.download_url("http://example.com/f.bin", tmp_path / "f.bin")
    with pytest.raises(ValueError, match="only https"):
        dl.download_url("file:///etc/passwd", tmp_path / "f.bin")
    assert leftovers(tmp_path) == []


def test_offline_error_lists_files_places_and_urls(tmp_path):
    # Nothing listens on the port of a server that was just closed.
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.server_close()
    resources = (("a.gz", md5(b"a")), ("b.gz", md5(b"b")))
    with pytest.raises(RuntimeError) as info:
        dl.download_resources("Thing", tmp_path / "raw", url, resources, timeout=5)
    message = str(info.value)
    for name, digest in resources:
        assert str(tmp_path / "raw" / name) in message
        assert url + name in message and digest in message
    assert leftovers(tmp_path / "raw") == []


def _serve_mnist(server, monkeypatch, url_attr, resources_attr, seed=0, corrupt=None):
    rng = np.random.default_rng(seed)
    splits = {"train": make_split(rng, 3), "t10k": make_split(rng, 2)}
    resources = []
    for prefix, (images, labels) in splits.items():
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            body = gzip.compress(idx_bytes(array))
            resources.append((name, md5(body)))
            server.files["/" + name] = body if name != corrupt else body[::-1]
    monkeypatch.setattr(dl, url_attr, server.url)
    monkeypatch.setattr(dl, resources_attr, tuple(resources))
    return splits


@pytest.mark.parametrize(
    "cls, folder, url_attr, resources_attr",
    [
        (MNIST, "MNIST", "MNIST_URL", "MNIST_RESOURCES"),
        (FashionMNIST, "FashionMNIST", "FASHION_MNIST_URL", "FASHION_MNIST_RESOURCES"),
    ],
)
def test_mnist_download_then_load(
    server, tmp_path, monkeypatch, cls, folder, url_attr, resources_attr
):
    splits = _serve_mnist(server, monkeypatch, url_attr, resources_attr)
    ds = cls(tmp_path, train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), splits["t10k"][0])
    expected = sorted(name for name, _ in getattr(dl, resources_attr))
    assert leftovers(tmp_path / folder / "raw") == expected
    # Present and verified: a second call fetches nothing.
    before = len(server.requests)
    train = cls(tmp_path, train=True, download=True)
    assert len(server.requests) == before
    np.testing.assert_array_equal(train.targets.numpy(), splits["train"][1])


def test_mnist_download_checksum_mismatch_raises_with_instructions(server, tmp_path, monkeypatch):
    _serve_mnist(
        server, monkeypatch, "MNIST_URL", "MNIST_RESOURCES", corrupt="train-labels-idx1-ubyte.gz"
    )
    with pytest.raises(RuntimeError, match="checksum mismatch") as info:
        MNIST(tmp_path, download=True)
    assert str(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz") in str(info.value)
    assert "train-labels-idx1-ubyte.gz" not in leftovers(tmp_path / "MNIST" / "raw")
    assert not [n for n in leftovers(tmp_path / "MNIST" / "raw") if n.endswith(".part")]


def test_cifar_download_extract_and_load(server, tmp_path, monkeypatch):
    files = batch_files()
    archive = cifar_archive(files)
    server.files["/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setattr(dl, "CIFAR10_URL", server.url)
    monkeypatch.setattr(dl, "CIFAR10_RESOURCES", (("cifar-10-binary.tar.gz", md5(archive)),))
    ds = CIFAR10(tmp_path, train=True, download=True)
    assert len(ds) == 10
    np.testing.assert_array_equal(ds.data[:2], files["data_batch_1.bin"][0])
    assert leftovers(tmp_path) == ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"]
    test = CIFAR10(tmp_path, train=False, download=True)
    assert len(server.requests) == 1
    np.testing.assert_array_equal(test.data, files["test_batch.bin"][0])


def test_cifar_interrupted_download_leaves_nothing(server, tmp_path, monkeypatch):
    archive = cifar_archive(batch_files())
    server.files["/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setattr(dl, "CIFAR10_URL", server.url + "cut/")
    monkeypatch.setattr(dl, "CIFAR10_RESOURCES", (("cifar-10-binary.tar.gz", md5(archive)),))
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz"):
        CIFAR10(tmp_path, download=True)
    assert leftovers(tmp_path) == []
