"""Checkpoints: ``save(obj, path)`` and ``load(path, map_location=None)``, never pickle.

Two formats, both readable without running any code from the file:

- **safetensors** (``path`` ends in ``.safetensors``): the tensors of a nested dict, named by
  joining the keys with dots exactly as PyTorch names ``state_dict`` entries (``'0.weight'``,
  ``'state.0.exp_avg'``), so a model's weights move between minigrad and PyTorch. Everything
  else (plain numbers, strings, key types and order, lists) goes into the file's metadata as
  JSON under the key ``'minigrad'``; a file without it (written by PyTorch) loads as a flat
  dict of tensors.
- **minigrad's own format** (any other extension: ``.pt``, ``.npz``, ``.mg``): a zip of
  ``.npy`` files (``numpy.save(allow_pickle=False)``) plus ``manifest.json``, a JSON tree that
  describes the nesting (dicts with ``str``/``int``/... keys in order, lists, tuples), the
  plain values and which ``.npy`` holds each tensor.

The format is recognised on load from the file's first bytes, not its name. A pickle file
(e.g. one written by ``torch.save``) is refused: unpickling can run arbitrary code.

Writes go to a temporary file in the target's folder, are flushed to disk and then renamed
over ``path`` with ``os.replace``, so ``path`` holds either the old or the new checkpoint,
never half of one.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy

from minigrad.backend import device as Device
from minigrad.tensor import Tensor

__all__ = ["save", "load"]

_MANIFEST = "manifest.json"
_FORMAT = "minigrad-checkpoint"
_VERSION = 1
_METADATA_KEY = "minigrad"
# The dtypes a safetensors file can hold (safetensors.numpy maps these and no others).
_SAFETENSORS_KINDS = "biuf"


# -- the JSON tree ------------------------------------------------------------------------
#
# Every value becomes a node {"t": type, ...}:
#   {"t": "dict", "cls": "dict" | "OrderedDict", "items": [[key_node, value_node], ...]}
#   {"t": "list" | "tuple", "items": [node, ...]}
#   {"t": "tensor" | "ndarray" | "npscalar", "ref": str, "dtype": str, "shape": [...],
#    "device": str}   (ref: the .npy member in a zip, the tensor name in a safetensors file)
#   {"t": "none"}, {"t": "bool" | "int" | "str", "v": ...}, {"t": "float", "v": repr},
#   {"t": "dtype" | "device", "v": str}


class _Encoder:
    """Walks ``obj`` into a JSON tree; ``add_array(owner, array, path)`` stores an array and
    returns its reference."""

    def __init__(self, add_array, where: str):
        self.add_array = add_array
        self.where = where
        self.active: set[int] = set()  # containers on the current path, to refuse cycles

    def encode(self, obj, path: tuple):
        if isinstance(obj, Tensor):
            array = obj.detach().cpu().numpy()
            return self._array_node("tensor", obj, array, path, str(obj.device))
        if isinstance(obj, numpy.ndarray):
            return self._array_node("ndarray", obj, obj, path, "cpu")
        if isinstance(obj, numpy.generic):  # before float/int: numpy.float64 is a float
            return self._array_node("npscalar", obj, numpy.asarray(obj), path, "cpu")
        if obj is None or isinstance(obj, (bool, int, float, str, numpy.dtype, Device)):
            return _encode_plain(obj)
        if isinstance(obj, (Mapping, list, tuple)):
            if id(obj) in self.active:
                raise ValueError(f"{self.where}: the object contains itself at {_show(path)}; "
                                 "a checkpoint can't hold a cycle")
            self.active.add(id(obj))
            try:
                if isinstance(obj, Mapping):
                    items = []
                    for key, value in obj.items():
                        key_node = self._key(key, path)
                        items.append([key_node, self.encode(value, path + (key,))])
                    cls = "OrderedDict" if isinstance(obj, OrderedDict) else "dict"
                    return {"t": "dict", "cls": cls, "items": items}
                kind = "list" if isinstance(obj, list) else "tuple"
                return {"t": kind,
                        "items": [self.encode(v, path + (i,)) for i, v in enumerate(obj)]}
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"{self.where}: can't save a {type(obj).__name__} (at {_show(path)}); "
                        "a checkpoint holds tensors, NumPy arrays, dicts, lists, tuples, "
                        "numbers, strings, bools and None")

    def _key(self, key, path):
        if key is None or isinstance(key, (bool, int, float, str)) and not isinstance(
            key, numpy.generic
        ):
            return _encode_plain(key)
        raise TypeError(f"{self.where}: dict key {key!r} of type {type(key).__name__} (at "
                        f"{_show(path)}) can't be saved; keys must be str, int, float, bool "
                        "or None")

    def _array_node(self, kind, obj, array, path, device):
        if array.dtype.hasobject:
            raise TypeError(f"{self.where}: can't save an array of dtype object (at "
                            f"{_show(path)}); it could only be stored by pickling")
        ref = self.add_array(obj, array, path)
        return {"t": kind, "ref": ref, "dtype": array.dtype.str,
                "shape": list(array.shape), "device": device}


def _encode_plain(obj):
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, float):
        # repr round-trips every float exactly, nan and inf included (JSON has neither).
        return {"t": "float", "v": repr(float(obj))}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, numpy.dtype):
        return {"t": "dtype", "v": obj.str}
    return {"t": "device", "v": str(obj)}


def _show(path: tuple) -> str:
    return "obj" + "".join(f"[{k!r}]" for k in path)


class _Decoder:
    """Rebuilds the object from a JSON tree; ``get_array(ref)`` returns a stored array."""

    def __init__(self, get_array, map_location):
        self.get_array = get_array
        self.map_location = map_location
        self.tensors: dict[str, Tensor] = {}  # one Tensor per stored array: keeps sharing

    def decode(self, node):
        t = node["t"]
        if t == "dict":
            pairs = [(self.decode(k), self.decode(v)) for k, v in node["items"]]
            return OrderedDict(pairs) if node["cls"] == "OrderedDict" else dict(pairs)
        if t == "list":
            return [self.decode(v) for v in node["items"]]
        if t == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if t in ("tensor", "ndarray", "npscalar"):
            return self._array(node)
        if t == "none":
            return None
        if t == "bool":
            return bool(node["v"])
        if t == "int":
            return int(node["v"])
        if t == "float":
            return float(node["v"])
        if t == "str":
            return str(node["v"])
        if t == "dtype":
            return numpy.dtype(node["v"])
        if t == "device":
            return Device(node["v"])
        raise ValueError(f"unknown node type {t!r}")

    def _array(self, node):
        ref = node["ref"]
        array = self.get_array(ref)
        if array.dtype != numpy.dtype(node["dtype"]) or list(array.shape) != node["shape"]:
            raise ValueError(f"the array {ref!r} has dtype {array.dtype} and shape "
                             f"{array.shape}, the manifest says {node['dtype']} and "
                             f"{tuple(node['shape'])}")
        if node["t"] == "ndarray":
            return array.copy()
        if node["t"] == "npscalar":
            return array[()]
        if ref not in self.tensors:
            tensor = Tensor._make(array.copy(order="C"))
            target = _target_device(node["device"], self.map_location)
            self.tensors[ref] = tensor if target == "cpu" else tensor.to(target)
        return self.tensors[ref]


def _target_device(saved: str, map_location):
    """Where a tensor saved on ``saved`` goes, as PyTorch's ``map_location`` says."""
    if map_location is None:
        return Device(saved)
    if isinstance(map_location, Mapping):
        return Device(map_location.get(saved, saved))
    if isinstance(map_location, (str, Device)):
        return Device(map_location)
    raise TypeError("load: map_location must be None, a device, a device string or a dict "
                    f"from saved to target device, got {type(map_location).__name__}")


# -- save ---------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write ``obj`` (nested dicts, lists and tuples of tensors, NumPy arrays and plain
    values: numbers, bools, strings, None) to ``path``.

    ``path`` ending in ``.safetensors`` writes a safetensors file (``obj`` must be a dict;
    its tensors are named as PyTorch names them); any other path writes minigrad's zip of
    ``.npy`` files. ``path`` may also be a binary file object (minigrad's format).

    The write is atomic: the data goes to a temporary file in the same folder, is flushed to
    disk and renamed over ``path``; on any error ``path`` is left as it was.

    Examples
    --------
    >>> import os, tempfile, minigrad
    >>> model = minigrad.nn.Linear(2, 1)
    >>> opt = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> folder = tempfile.TemporaryDirectory()
    >>> minigrad.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3},
    ...               os.path.join(folder.name, "checkpoint.pt"))
    >>> minigrad.save(model.state_dict(), os.path.join(folder.name, "model.safetensors"))
    >>> sorted(os.listdir(folder.name))
    ['checkpoint.pt', 'model.safetensors']
    >>> folder.cleanup()
    """
    if hasattr(path, "write"):
        path.write(_zip_bytes(obj))
        return
    path = os.fspath(path)
    if str(path).endswith(".safetensors"):
        data = _safetensors_bytes(obj)
    else:
        data = _zip_bytes(obj)
    _atomic_write(path, data)


def _zip_bytes(obj) -> bytes:
    arrays: list[numpy.ndarray] = []
    refs: dict[int, str] = {}

    def add_array(owner, array, path):
        if isinstance(owner, Tensor) and id(owner) in refs:  # the same tensor twice: store once
            return refs[id(owner)]
        ref = f"tensors/{len(arrays)}.npy"
        arrays.append(array)
        if isinstance(owner, Tensor):
            refs[id(owner)] = ref
        return ref

    root = _Encoder(add_array, "save").encode(obj, ())
    manifest = {"format": _FORMAT, "version": _VERSION, "root": root}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest))
        for i, array in enumerate(arrays):
            with zf.open(f"tensors/{i}.npy", "w", force_zip64=array.nbytes > 1 << 30) as f:
                numpy.save(f, array, allow_pickle=False)
    return buffer.getvalue()


def _flat_name(path: tuple) -> str:
    return ".".join(str(k) for k in path)


def _safetensors_bytes(obj) -> bytes:
    import safetensors.numpy

    where = "save (.safetensors)"
    if not isinstance(obj, Mapping):
        raise TypeError(f"{where}: a safetensors file holds a dict of tensors, got "
                        f"{type(obj).__name__}; save it inside a dict or use minigrad's own "
                        "format (any other extension, e.g. .pt)")
    tensors: dict[str, numpy.ndarray] = {}
    paths: dict[str, tuple] = {}

    def add_array(owner, array, path):
        name = _flat_name(path)
        if name in paths:
            raise ValueError(f"{where}: {_show(paths[name])} and {_show(path)} both flatten to "
                             f"the tensor name {name!r}; rename a key or use minigrad's own "
                             "format (any other extension, e.g. .pt)")
        if array.dtype.kind not in _SAFETENSORS_KINDS or array.dtype.itemsize > 8:
            raise TypeError(f"{where}: {_show(path)} has dtype {array.dtype}, which safetensors "
                            "can't store; use minigrad's own format (e.g. .pt)")
        paths[name] = path
        tensors[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return name

    root = _Encoder(add_array, where).encode(obj, ())
    manifest = {"format": _FORMAT, "version": _VERSION, "root": root}
    # "format": "pt" is what PyTorch-side loaders (transformers) look for.
    metadata = {"format": "pt", _METADATA_KEY: json.dumps(manifest)}
    return safetensors.numpy.save(tensors, metadata=metadata)


def _atomic_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: can't write {path!r}: the folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes the file 0600; give it the usual mode
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable (POSIX; not possible on Windows)
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# -- load ---------------------------------------------------------------------------------
class _CorruptError(Exception):
    """Internal: the file is not what it claims to be."""


def load(path, map_location=None):
    """Read a checkpoint written by :func:`save` (or a safetensors / ``numpy.savez`` file).

    Tensors come back as fresh leaves (``requires_grad=False``) on the device they were
    saved from, or where ``map_location`` says: ``'cpu'``, ``'cuda'``, a ``device`` or a dict
    ``{saved_device: target_device}``. Dicts keep their key order and key types.

    Raises ``RuntimeError`` naming the file when it is truncated or corrupt, is not a
    checkpoint, or holds a pickle (minigrad never unpickles: it could run arbitrary code).

    Examples
    --------
    >>> import os, tempfile, minigrad
    >>> model = minigrad.nn.Linear(2, 1)
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "checkpoint.pt")
    >>> minigrad.save({"model": model.state_dict(), "epoch": 3}, path)
    >>> checkpoint = minigrad.load(path, map_location="cpu")
    >>> checkpoint["epoch"], list(checkpoint["model"])
    (3, ['weight', 'bias'])
    >>> result = model.load_state_dict(checkpoint["model"])
    >>> folder.cleanup()
    """
    if map_location is not None:
        _target_device("cpu", map_location)  # check its type before reading anything
    if hasattr(path, "read"):
        name = getattr(path, "name", "<file object>")
        data = path.read()
    else:
        name = os.fspath(path)
        with open(name, "rb") as f:
            data = f.read()
    try:
        if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
            return _load_zip(name, data, map_location)
        if len(data) >= 9 and data[8:9] == b"{":
            return _load_safetensors(name, data, map_location)
    except _CorruptError as e:
        raise RuntimeError(f"load: {name!r} is truncated or corrupt: {e}") from None
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise RuntimeError(f"load: {name!r} is a pickle file; minigrad never unpickles "
                           "(loading a pickle can run arbitrary code). Save it as safetensors "
                           "in PyTorch instead: safetensors.torch.save_file(model.state_dict(), "
                           "'model.safetensors')")
    if not data:
        raise RuntimeError(f"load: {name!r} is empty (truncated or corrupt)")
    raise RuntimeError(f"load: {name!r} is not a checkpoint minigrad can read (neither "
                       "minigrad's zip format nor safetensors); it may be truncated or corrupt")


def _refuse_pickle(name, member):
    raise RuntimeError(f"load: {name!r} holds a pickle ({member!r}); minigrad never unpickles "
                       "(loading a pickle can run arbitrary code). If it was written by "
                       "torch.save, save it as safetensors in PyTorch instead: "
                       "safetensors.torch.save_file(model.state_dict(), 'model.safetensors')")


def _load_zip(name, data, map_location):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise _CorruptError(f"not a readable zip file ({e})") from None
    with zf:
        names = zf.namelist()

        def read_array(member):
            try:
                raw = zf.read(member)
            except KeyError:
                raise _CorruptError(f"the member {member!r} is missing") from None
            except (zipfile.BadZipFile, OSError, ValueError, EOFError,
                    zipfile.LargeZipFile) as e:
                raise _CorruptError(f"can't read {member!r} ({e})") from None
            try:
                array = numpy.load(io.BytesIO(raw), allow_pickle=False)
            except ValueError as e:
                if "allow_pickle" in str(e) or "Object arrays" in str(e):
                    _refuse_pickle(name, member)
                raise _CorruptError(f"{member!r} is not a valid .npy file ({e})") from None
            except (OSError, EOFError) as e:
                raise _CorruptError(f"{member!r} is not a valid .npy file ({e})") from None
            if not isinstance(array, numpy.ndarray):
                raise _CorruptError(f"{member!r} is not a .npy array")
            return array

        if _MANIFEST not in names:
            if any(n.endswith(".pkl") for n in names):
                _refuse_pickle(name, next(n for n in names if n.endswith(".pkl")))
            if names and all(n.endswith(".npy") for n in names):  # a plain numpy.savez file
                result = OrderedDict()
                for member in names:
                    array = read_array(member)
                    result[member[:-4]] = _placed(Tensor._make(array.copy()), map_location)
                return result
            raise _CorruptError(f"the zip has no {_MANIFEST}")
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise _CorruptError(f"can't read {_MANIFEST} ({e})") from None
        return _decode_manifest(manifest, read_array, map_location)


def _placed(tensor, map_location):
    target = _target_device("cpu", map_location)
    return tensor if target == "cpu" else tensor.to(target)


def _decode_manifest(manifest, get_array, map_location):
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise _CorruptError("its manifest is not a minigrad checkpoint manifest")
    if manifest.get("version") != _VERSION:
        raise _CorruptError(f"manifest version {manifest.get('version')!r} is not supported "
                       f"(this minigrad reads version {_VERSION})")
    try:
        return _Decoder(get_array, map_location).decode(manifest["root"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise _CorruptError(f"malformed manifest ({type(e).__name__}: {e})") from None


def _load_safetensors(name, data, map_location):
    import safetensors.numpy

    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise _CorruptError(f"the safetensors header says {header_len} bytes, the file has "
                       f"{len(data) - 8} after the length")
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
        tensors = safetensors.numpy.load(data)
    except Exception as e:  # SafetensorError, JSON/Unicode errors: all mean a bad file
        raise _CorruptError(f"not a valid safetensors file ({type(e).__name__}: {e})") from None
    metadata = (header.get("__metadata__") or {}) if isinstance(header, dict) else {}
    if _METADATA_KEY not in metadata:  # written by someone else (PyTorch): a flat dict
        order = sorted(tensors, key=lambda k: header[k]["data_offsets"][0])
        return OrderedDict((k, _placed(Tensor._make(tensors[k]), map_location)) for k in order)

    def get_array(ref):
        if ref not in tensors:
            raise _CorruptError(f"the metadata names a tensor {ref!r} the file does not hold")
        return tensors[ref]

    try:
        manifest = json.loads(metadata[_METADATA_KEY])
    except ValueError as e:
        raise _CorruptError(f"its minigrad metadata is not JSON ({e})") from None
    return _decode_manifest(manifest, get_array, map_location)
