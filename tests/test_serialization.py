"""minigrad.save / minigrad.load: round trips, resuming training, atomic writes, corrupt files,
and refusing pickles."""

from __future__ import annotations

import io
import json
import os
import pickle
import tempfile
import zipfile
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import serialization

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]

# -- strategies ---------------------------------------------------------------------------
tensors = st.sampled_from(DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                     max_side=3))
).map(minigrad.tensor)
plain = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
)
# Letters-only str keys and int keys never flatten to the same safetensors name.
keys = st.one_of(st.text("abcxyz_", min_size=1, max_size=4), st.integers(0, 20))


def nested(leaves):
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.dictionaries(keys, children, max_size=4),
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(keys, children, max_size=3).map(OrderedDict),
        ),
        max_leaves=8,
    )


def assert_same(a, b, where="obj"):
    """``b`` is ``a`` rebuilt: same types, key order and key types, bit-identical tensors."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} came back as {type(b).__name__}"
    if isinstance(a, dict):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b], where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, minigrad.Tensor):
        assert b.dtype == a.dtype and b.shape == a.shape, where
        assert b.numpy().tobytes() == a.numpy().tobytes(), where
        assert not b.requires_grad and b.is_leaf and b.grad_fn is None, where
    elif isinstance(a, (np.ndarray, np.generic)):
        assert b.dtype == a.dtype and b.shape == a.shape, where
        assert b.tobytes() == a.tobytes(), where
    elif isinstance(a, float):
        assert repr(a) == repr(b), where  # bit-exact, nan and -0.0 included
    else:
        assert a == b, where


# -- round trips --------------------------------------------------------------------------
@given(obj=nested(st.one_of(tensors, plain)))
def test_round_trip_minigrad_format(obj):
    with tempfile.TemporaryDirectory() as folder:
        names = ["ckpt.pt", "ckpt.npz", "ckpt.mg"]
        for i, name in enumerate(names):
            path = os.path.join(folder, name)
            minigrad.save(obj, path)
            assert_same(obj, minigrad.load(path))
            assert sorted(os.listdir(folder)) == sorted(names[: i + 1])  # no temporary file


@given(obj=st.dictionaries(keys, nested(st.one_of(tensors, plain)), max_size=4))
def test_round_trip_safetensors(obj):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ckpt.safetensors")
        minigrad.save(obj, path)
        assert_same(obj, minigrad.load(path))
        assert os.listdir(folder) == ["ckpt.safetensors"]


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_key_types_order_and_special_values(tmp_path, suffix):
    obj = OrderedDict([
        ("z", minigrad.tensor(3.5, dtype=minigrad.float64)),  # 0-d
        (2, {"b": True, "a": None, 7: [1, 2.0, (3, "x")]}),
        (-1, float("nan")),
        ("inf", float("-inf")),
        ("neg0", -0.0),
        ("big", 2**80),
        ("ndarray", np.arange(6, dtype=np.int16).reshape(2, 3)),
        ("npscalar", np.float32(2.5)),
        ("dtype", minigrad.float16),
        ("device", minigrad.device("cpu")),
        ("empty", minigrad.zeros(0, 3)),
        ("flags", minigrad.tensor([True, False])),
    ])
    path = tmp_path / f"ckpt{suffix}"
    minigrad.save(obj, path)
    assert_same(obj, minigrad.load(path))


def test_int_and_str_keys_that_look_alike_stay_apart(tmp_path):
    obj = {1: minigrad.ones(2), "1": minigrad.zeros(2)}
    minigrad.save(obj, tmp_path / "ckpt.pt")
    assert_same(obj, minigrad.load(tmp_path / "ckpt.pt"))
    with pytest.raises(ValueError, match=r"both flatten to the tensor name '1'"):
        minigrad.save(obj, tmp_path / "ckpt.safetensors")
    assert not list(tmp_path.glob("*.safetensors*"))


def test_same_tensor_saved_twice_loads_as_one_tensor(tmp_path):
    t = minigrad.randn(3)
    minigrad.save({"a": t, "b": [t]}, tmp_path / "tied.pt")
    loaded = minigrad.load(tmp_path / "tied.pt")
    assert loaded["a"] is loaded["b"][0]


def test_file_objects_and_plain_npz(tmp_path):
    buffer = io.BytesIO()
    obj = {"w": minigrad.randn(2, 2), "step": 4}
    minigrad.save(obj, buffer)
    buffer.seek(0)
    assert_same(obj, minigrad.load(buffer))
    np.savez(tmp_path / "plain.npz", w=np.eye(2), b=np.arange(3))
    loaded = minigrad.load(tmp_path / "plain.npz")
    assert list(loaded) == ["w", "b"]
    np.testing.assert_array_equal(loaded["w"].numpy(), np.eye(2))


def test_loaded_tensors_are_fresh_leaves(tmp_path):
    layer = minigrad.nn.Linear(2, 3)
    y = (layer.weight * 2).sum()
    minigrad.save({"param": layer.weight, "out": y}, tmp_path / "ckpt.pt")
    loaded = minigrad.load(tmp_path / "ckpt.pt")
    for t in loaded.values():
        assert type(t) is minigrad.Tensor and t.is_leaf and not t.requires_grad
    np.testing.assert_array_equal(loaded["param"].numpy(), layer.weight.detach().numpy())
    loaded["param"].add_(1.0)  # a copy: the layer is untouched
    assert not np.array_equal(loaded["param"].numpy(), layer.weight.detach().numpy())


# -- models and optimizers ----------------------------------------------------------------
def make_model(seed):
    minigrad.manual_seed(seed)
    return minigrad.nn.Sequential(
        minigrad.nn.Linear(4, 8), minigrad.nn.ReLU(), minigrad.nn.Linear(8, 3)
    )


def train(model, optimizer, batches):
    for x, y in batches:
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
@pytest.mark.parametrize("make_optimizer", [
    lambda params: minigrad.optim.Adam(params, lr=0.01),
    lambda params: minigrad.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
], ids=["Adam", "SGD-momentum"])
def test_resumed_training_is_bit_identical(tmp_path, suffix, make_optimizer):
    rng = np.random.default_rng(0)
    batches = [(minigrad.tensor(rng.standard_normal((5, 4)).astype(np.float32)),
                minigrad.tensor(rng.standard_normal((5, 3)).astype(np.float32)))
               for _ in range(6)]

    model = make_model(0)
    optimizer = make_optimizer(model.parameters())
    train(model, optimizer, batches)

    interrupted = make_model(0)
    first_optimizer = make_optimizer(interrupted.parameters())
    train(interrupted, first_optimizer, batches[:3])
    path = tmp_path / f"ckpt{suffix}"
    minigrad.save({"model": interrupted.state_dict(), "optimizer": first_optimizer.state_dict(),
                   "epoch": 3}, path)

    resumed = make_model(1)  # different initial weights: everything must come from the file
    resumed_optimizer = make_optimizer(resumed.parameters())
    checkpoint = minigrad.load(path)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 3
    train(resumed, resumed_optimizer, batches[3:])

    for (name, p), q in zip(model.named_parameters(), resumed.parameters()):
        assert p.detach().numpy().tobytes() == q.detach().numpy().tobytes(), name


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_optimizer_state_dict_keeps_int_keys_and_0d_step(tmp_path, suffix):
    model = make_model(0)
    optimizer = minigrad.optim.Adam(model.parameters())
    train(model, optimizer, [(minigrad.randn(2, 4), minigrad.randn(2, 3))])
    minigrad.save(optimizer.state_dict(), tmp_path / f"adam{suffix}")
    loaded = minigrad.load(tmp_path / f"adam{suffix}")
    assert list(loaded["state"]) == [0, 1, 2, 3]
    assert loaded["state"][0]["step"].shape == ()
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert_same(optimizer.state_dict(), loaded)


def test_safetensors_uses_pytorch_names(tmp_path):
    model = make_model(0)
    path = tmp_path / "model.safetensors"
    minigrad.save(model.state_dict(), path)
    raw = safetensors.numpy.load_file(str(path))
    assert sorted(raw) == sorted(["0.weight", "0.bias", "2.weight", "2.bias"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(raw[name], value.numpy())
    loaded = minigrad.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())

    optimizer = minigrad.optim.Adam(model.parameters())
    train(model, optimizer, [(minigrad.randn(2, 4), minigrad.randn(2, 3))])
    minigrad.save({"optimizer": optimizer.state_dict()}, tmp_path / "opt.safetensors")
    raw = safetensors.numpy.load_file(str(tmp_path / "opt.safetensors"))
    assert "optimizer.state.0.exp_avg" in raw and "optimizer.state.3.step" in raw


def test_safetensors_written_elsewhere_loads_as_flat_dict(tmp_path):
    model = make_model(0)
    weights = {k: v.numpy() for k, v in make_model(5).state_dict().items()}
    safetensors.numpy.save_file(weights, str(tmp_path / "torch.safetensors"))  # no metadata
    model.load_state_dict(minigrad.load(tmp_path / "torch.safetensors"))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[name])


def test_map_location(tmp_path):
    minigrad.save({"w": minigrad.ones(2)}, tmp_path / "ckpt.pt")
    for where in ("cpu", minigrad.device("cpu"), {"cpu": "cpu"}, None):
        assert minigrad.load(tmp_path / "ckpt.pt", map_location=where)["w"].device == "cpu"
    with pytest.raises(TypeError, match="map_location"):
        minigrad.load(tmp_path / "ckpt.pt", map_location=3)
    if not minigrad.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            minigrad.load(tmp_path / "ckpt.pt", map_location="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not minigrad.cuda.is_available(), reason="needs a CUDA GPU")
def test_map_location_cuda_round_trip(tmp_path):
    obj = {"w": minigrad.randn(3, 2).cuda(), "step": minigrad.tensor(2.0).cuda()}
    for suffix in (".pt", ".safetensors"):
        minigrad.save(obj, tmp_path / f"gpu{suffix}")
        back = minigrad.load(tmp_path / f"gpu{suffix}")  # where it was saved from
        assert back["w"].device == obj["w"].device
        np.testing.assert_array_equal(back["w"].cpu().numpy(), obj["w"].cpu().numpy())
        assert minigrad.load(tmp_path / f"gpu{suffix}", map_location="cpu")["w"].device == "cpu"


# -- what can't be saved ------------------------------------------------------------------
def test_unsavable_objects_raise_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"can't save a set \(at obj\['a'\]\)"):
        minigrad.save({"a": {1, 2}}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="dtype object"):
        minigrad.save({"a": np.array([None, 1], dtype=object)}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="dict key"):
        minigrad.save({(1, 2): 3}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="holds a dict of tensors, got list"):
        minigrad.save([minigrad.ones(1)], tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="complex128, which safetensors can't store"):
        minigrad.save({"c": np.ones(2, np.complex128)}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="both flatten"):
        minigrad.save({"a.b": minigrad.ones(1), "a": {"b": minigrad.ones(1)}},
                      tmp_path / "x.safetensors")
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="cycle"):
        minigrad.save(loop, tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        minigrad.save({}, tmp_path / "missing" / "x.pt")
    assert list(tmp_path.iterdir()) == []


# -- atomic writes ------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
@pytest.mark.parametrize("failure", ["serialise", "fsync", "replace"])
def test_failed_write_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch, suffix, failure):
    path = tmp_path / f"ckpt{suffix}"
    minigrad.save({"w": minigrad.ones(3)}, path)
    old = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    if failure == "serialise":
        target = "_zip_bytes" if suffix == ".pt" else "_safetensors_bytes"
        monkeypatch.setattr(serialization, target, boom)
    else:
        monkeypatch.setattr(serialization.os, failure, boom)
    with pytest.raises(OSError, match="simulated"):
        minigrad.save({"w": minigrad.zeros(300)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    np.testing.assert_array_equal(minigrad.load(path)["w"].numpy(), np.ones(3, np.float32))


# -- corrupt files ------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_truncated_file_raises_clear_error(tmp_path, suffix):
    path = tmp_path / f"ckpt{suffix}"
    minigrad.save({"w": minigrad.randn(20, 20), "step": 3}, path)
    data = path.read_bytes()
    for cut in (0, 3, 12, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match=rf"ckpt\{suffix}.*truncated or corrupt"):
            minigrad.load(path)


def test_corrupted_bytes_raise_clear_error(tmp_path):
    path = tmp_path / "ckpt.pt"
    minigrad.save({"w": minigrad.zeros(100)}, path)
    data = bytearray(path.read_bytes())
    data[data.index(b"\x00" * 64) + 10] = 0xFF  # a byte inside the tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"ckpt\.pt.*truncated or corrupt.*CRC"):
        minigrad.load(path)


def test_manifest_that_lies_is_refused(tmp_path):
    path = tmp_path / "ckpt.pt"
    minigrad.save({"w": minigrad.zeros(2, 2)}, path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        npy = zf.read("tensors/0.npy")
    manifest["root"]["items"][0][1]["shape"] = [4]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("tensors/0.npy", npy)
    with pytest.raises(RuntimeError, match="manifest says"):
        minigrad.load(path)


# -- never pickle -------------------------------------------------------------------------
RAN = []


def _record(message):
    RAN.append(message)
    return message


class Payload:
    """Unpickling this calls _record: proof that code ran."""

    def __reduce__(self):
        return (_record, ("code ran while loading",))


def test_object_array_in_zip_is_refused(tmp_path):
    evil = np.array([Payload()], dtype=object)
    npy = io.BytesIO()
    np.save(npy, evil, allow_pickle=True)
    manifest = {"format": "minigrad-checkpoint", "version": 1, "root": {
        "t": "ndarray", "ref": "tensors/0.npy", "dtype": "|O", "shape": [1], "device": "cpu"}}
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("tensors/0.npy", npy.getvalue())
    np.savez(tmp_path / "evil.npz", x=evil, allow_pickle=True)
    for p in (path, tmp_path / "evil.npz"):
        with pytest.raises(RuntimeError, match="holds a pickle.*never unpickles"):
            minigrad.load(p)
    assert RAN == []


def test_pickle_files_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": Payload()}))
    with pytest.raises(RuntimeError, match=r"model\.pt' is a pickle file"):
        minigrad.load(path)
    torch_like = tmp_path / "torch.pt"  # torch.save's layout: a zip around a pickle
    with zipfile.ZipFile(torch_like, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": Payload()}))
        zf.writestr("archive/version", "3\n")
    with pytest.raises(RuntimeError, match="holds a pickle.*archive/data.pkl"):
        minigrad.load(torch_like)
    assert RAN == []
