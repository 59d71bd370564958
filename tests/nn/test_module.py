"""Tests for minigrad/nn/module.py: Parameter, Module registration, state_dict, containers."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential


class Affine(Module):
    """A tiny layer written only with the Module API (independent of nn.Linear)."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = Parameter(minigrad.randn(n_out, n_in))
        if bias:
            self.bias = Parameter(minigrad.zeros(n_out))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return f"n_in={self.n_in}, n_out={self.n_out}"


class Act(Module):
    def forward(self, x):
        return x.relu()


class WithBuffers(Module):
    def __init__(self):
        super().__init__()
        self.scale = Parameter(minigrad.ones(3))
        self.register_buffer("running", minigrad.zeros(3))
        self.register_buffer("count", minigrad.tensor(0))
        self.register_buffer("scratch", minigrad.zeros(2), persistent=False)
        self.inner = Affine(3, 2)

    def forward(self, x):
        return self.inner(x * self.scale)


class Net(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Affine(4, 3)
        self.block = WithBuffers()
        self.head = Sequential(Act(), Affine(2, 1, bias=False))

    def forward(self, x):
        return self.head(self.block(self.fc1(x)))


# -- Parameter ----------------------------------------------------------------------
def test_parameter_shares_data_is_leaf_and_requires_grad():
    t = minigrad.zeros(3)
    p = Parameter(t)
    assert isinstance(p, minigrad.Tensor) and p.is_leaf and p.requires_grad
    t.numpy()[0] = 5.0
    assert p.detach().numpy()[0] == 5.0
    assert not Parameter(minigrad.zeros(2), requires_grad=False).requires_grad


def test_parameter_repr():
    p = Parameter(minigrad.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_parameter_deepcopy_is_independent():
    p = Parameter(minigrad.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert isinstance(q, Parameter) and q.requires_grad and q is not p
    with minigrad.no_grad():
        q.mul_(3.0)
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])


def test_parameter_rejects_integer_dtype():
    with pytest.raises(RuntimeError, match="floating point"):
        Parameter(minigrad.tensor([1, 2]))


# -- registration ---------------------------------------------------------------------
def test_attribute_registration_routes_by_type():
    m = WithBuffers()
    assert list(m._parameters) == ["scale"]
    assert list(m._buffers) == ["running", "count", "scratch"]
    assert list(m._modules) == ["inner"]
    assert m.scale is m._parameters["scale"] and m.running is m._buffers["running"]
    m.plain = 3
    assert "plain" in m.__dict__ and m.plain == 3


def test_assigning_tensor_to_parameter_slot_raises():
    m = Affine(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = minigrad.zeros(2, 2)
    m.weight = None
    assert m._parameters["weight"] is None
    assert [n for n, _ in m.named_parameters()] == ["bias"]


def test_buffer_reassignment_and_type_check():
    m = WithBuffers()
    new = minigrad.ones(3)
    m.running = new
    assert m._buffers["running"] is new
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = 3.0


def test_register_errors():
    m = Affine(2, 2)
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", minigrad.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("n_in", minigrad.zeros(1))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("p", minigrad.zeros(1))
    with pytest.raises(TypeError, match="is not a Module"):
        m.add_module("x", 3)
    x = Parameter(minigrad.ones(2))
    assert Parameter(x * 2).is_leaf  # wrapping cuts the graph, as in PyTorch


def test_uninitialised_module_errors():
    class Bad(Module):
        def __init__(self):
            self.w = Parameter(minigrad.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\)"):
        Bad()


def test_getattr_and_delattr():
    m = WithBuffers()
    with pytest.raises(AttributeError, match="'WithBuffers' object has no attribute 'nope'"):
        m.nope  # noqa: B018
    del m.running
    del m.inner
    del m.scale
    assert not m._parameters and "running" not in m._buffers and not m._modules


def test_reassign_kind_moves_between_registries():
    m = WithBuffers()
    m.scratch2 = Affine(1, 1)
    m.scratch2 = Parameter(minigrad.zeros(1))  # module slot replaced by a parameter
    assert "scratch2" in m._parameters and "scratch2" not in m._modules


# -- iteration -----------------------------------------------------------------------
def test_named_parameters_buffers_modules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight", "fc1.bias", "block.scale", "block.inner.weight", "block.inner.bias",
        "head.1.weight",
    ]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.fc1.weight"
    assert [n for n, _ in net.named_buffers()] == [
        "block.running", "block.count", "block.scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "block", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "", "fc1", "block", "block.inner", "head", "head.0", "head.1"]
    assert len(list(net.modules())) == 7
    assert list(net.block.parameters(recurse=False)) == [net.block.scale]
    assert len(list(net.parameters())) == 6
    assert len(list(net.buffers())) == 3


def test_shared_parameters_and_modules_yielded_once():
    shared = Affine(2, 2)
    seq = Sequential(shared, Act(), shared)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.children())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    a = Affine(2, 2)
    b = Affine(2, 2)
    b.weight = a.weight  # tied weights
    tied = Sequential(a, b)
    names = [n for n, _ in tied.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    # state_dict keeps both names, as PyTorch's does
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


# -- state_dict -----------------------------------------------------------------------
def test_state_dict_order_and_detached():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [
        "fc1.weight", "fc1.bias",
        "block.scale", "block.running", "block.count",  # own params, then persistent buffers
        "block.inner.weight", "block.inner.bias",
        "head.1.weight",
    ]
    assert isinstance(sd, OrderedDict)
    assert all(not v.requires_grad and not isinstance(v, Parameter) for v in sd.values())
    # values share storage with the model (as PyTorch's state_dict does)
    with minigrad.no_grad():
        net.fc1.bias.fill_(7.0)
    np.testing.assert_array_equal(sd["fc1.bias"].numpy(), [7.0, 7.0, 7.0])
    kept = net.state_dict(keep_vars=True)
    assert kept["fc1.weight"] is net.fc1.weight


def test_state_dict_round_trip():
    minigrad.manual_seed(0)
    a, b = Net(), Net()
    with minigrad.no_grad():
        a.block.running.fill_(2.5)
        a.block.count.fill_(4)
    sd = {k: v.clone() for k, v in a.state_dict().items()}
    weight = b.fc1.weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert b.fc1.weight is weight  # copied in place
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    x = minigrad.randn(5, 4)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.fc1.weight.requires_grad and b.fc1.weight.is_leaf


def test_load_state_dict_strict_errors_name_every_key():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    del sd["block.running"]
    sd["extra.weight"] = minigrad.zeros(1)
    sd["head.1.weight"] = minigrad.zeros(5, 5)
    before = net.fc1.weight.detach().clone().numpy()
    sd["fc1.weight"] = minigrad.zeros(3, 4)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc1.bias", "block.running".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for head.1.weight: copying a param with shape (5, 5) from "
            "checkpoint, the shape in current model is (1, 2).") in msg
    # nothing is written half: the valid fc1.weight was not copied either
    np.testing.assert_array_equal(net.fc1.weight.detach().numpy(), before)


def test_load_state_dict_non_strict():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["bogus"] = minigrad.zeros(1)
    sd["fc1.weight"] = minigrad.ones(3, 4)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc1.bias"]
    assert result.unexpected_keys == ["bogus"]
    assert result == (["fc1.bias"], ["bogus"])
    np.testing.assert_array_equal(net.fc1.weight.detach().numpy(), np.ones((3, 4)))
    # shape mismatches raise even when strict=False
    sd["fc1.weight"] = minigrad.ones(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        net.load_state_dict(sd, strict=False)


def test_non_persistent_buffer_is_unexpected_in_checkpoint():
    m = WithBuffers()
    sd = m.state_dict()
    assert "scratch" not in sd
    sd["scratch"] = minigrad.zeros(2)
    with pytest.raises(RuntimeError, match='Unexpected key.*"scratch"'):
        m.load_state_dict(sd)


def test_load_state_dict_casts_dtype_and_accepts_arrays():
    m = Affine(2, 1)
    sd = {"weight": np.array([[1.0, 2.0]], dtype=np.float64), "bias": minigrad.tensor([0.5])}
    m.load_state_dict(sd)
    assert m.weight.dtype == minigrad.float32
    np.testing.assert_array_equal(m.weight.detach().numpy(), [[1.0, 2.0]])


# -- modes, grads, conversions ------------------------------------------------------------
def test_train_eval_recursive():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head[0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(minigrad.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is not None
    assert not np.any(net.fc1.weight.grad.numpy()) and not np.any(grad.numpy())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


def test_to_float64_keeps_parameter_identity():
    net = Net()
    net(minigrad.randn(2, 4)).sum().backward()
    params = list(net.parameters())
    assert net.to(minigrad.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == minigrad.float64 and p.requires_grad and p.is_leaf for p in params)
    assert all(p.grad.dtype == minigrad.float64 for p in params)
    assert net.block.running.dtype == minigrad.float64
    assert net.block.count.dtype == minigrad.int64  # integer buffers keep their dtype
    out = net(minigrad.randn(2, 4, dtype=minigrad.float64))
    assert out.dtype == minigrad.float64
    net.float()
    assert all(p.dtype == minigrad.float32 for p in params)
    net.double()
    assert all(p.dtype == minigrad.float64 for p in params)
    assert net.to(minigrad.zeros(1)) is net  # to(tensor) takes its dtype
    assert all(p.dtype == minigrad.float32 for p in params)
    assert net.to("cpu") is net and net.cpu() is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(minigrad.int64)


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Affine", "Affine", "WithBuffers", "Act", "Affine", "Sequential", "Net"]


def test_forward_hooks():
    m = Affine(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(minigrad.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.ones((1, 2)))
    assert calls == [(1, 2)]
    h1.remove()
    h2.remove()
    out = m(minigrad.ones(1, 2))
    assert calls == [(1, 2)]
    expected = np.ones((1, 2)) @ m.weight.detach().numpy().T
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)


def test_missing_forward():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing.*"forward"'):
        Module()(1)


# -- repr -----------------------------------------------------------------------------
def test_repr_nested_like_pytorch():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Affine(n_in=4, n_out=3)\n"
        "  (block): WithBuffers(\n"
        "    (inner): Affine(n_in=3, n_out=2)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Act()\n"
        "    (1): Affine(n_in=2, n_out=1)\n"
        "  )\n"
        ")"
    )
    assert repr(Act()) == "Act()"
    assert repr(Sequential()) == "Sequential()"


def test_repr_multiline_extra_repr():
    class Two(Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Two()) == "Two(\n  a=1\n  b=2\n)"


def test_module_list_repr_groups_repeats():
    ml = ModuleList([Act(), Act(), Act(), Affine(1, 1)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Act()\n"
        "  (3): Affine(n_in=1, n_out=1)\n"
        ")"
    )
    assert repr(ModuleList()) == "ModuleList()"


# -- containers -----------------------------------------------------------------------
def test_sequential_forward_indexing_and_editing():
    a, b, c = Affine(2, 3), Act(), Affine(3, 1)
    seq = Sequential(a, b, c)
    x = minigrad.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c and seq[-3] is a
    sub = seq[1:]
    assert isinstance(sub, Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # a slice keeps the names, as in PyTorch
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    d = Act()
    seq.append(d)
    assert seq[3] is d and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq) == [a, c, d] and list(seq._modules) == ["0", "1", "2"]
    seq.insert(1, b)
    assert list(seq) == [a, b, c, d]
    seq.insert(-1, Act())
    assert len(seq) == 5 and seq[3] is not d and seq[4] is d
    seq.extend([Act()])
    assert len(seq) == 6
    del seq[-2:]
    assert len(seq) == 4
    seq[0] = Affine(2, 3)
    assert seq[0] is not a
    assert seq.pop(1) is b and len(seq) == 3


def test_sequential_ordered_dict_form():
    seq = Sequential(OrderedDict([("fc", Affine(2, 2)), ("act", Act())]))
    assert [n for n, _ in seq.named_children()] == ["fc", "act"]
    assert seq.fc is seq[0]
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list():
    ml = ModuleList([Affine(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    first = ml[0]
    assert ml[-3] is first
    sl = ml[1:]
    assert isinstance(sl, ModuleList) and len(sl) == 2 and sl[0] is ml[1]
    ml.append(Act())
    ml.extend([Act(), Act()])
    assert len(ml) == 6
    ml.insert(0, Act())
    assert isinstance(ml[0], Act) and ml[1] is first
    assert list(ml._modules) == [str(i) for i in range(7)]
    del ml[0]
    assert ml[0] is first and list(ml._modules) == [str(i) for i in range(6)]
    ml += [Act()]
    assert len(ml) == 7
    assert [type(m).__name__ for m in ml][:3] == ["Affine"] * 3
    with pytest.raises(TypeError, match="iterable of modules"):
        ml.extend(Act())
    with pytest.raises(IndexError):
        ml[10]
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]


def test_module_dict():
    md = ModuleDict({"a": Affine(1, 2), "b": Act()})
    assert list(md) == ["a", "b"] and len(md) == 2 and "a" in md
    md["c"] = Affine(2, 2)
    assert list(md.keys()) == ["a", "b", "c"]
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "c.weight", "c.bias"]
    md.update([("d", Act())])
    assert isinstance(md.pop("d"), Act) and "d" not in md
    del md["b"]
    assert list(md.values())[0] is md["a"]
    with pytest.raises(ValueError, match="pair"):
        md.update([Act()])
    md.clear()
    assert len(md) == 0


def test_get_submodule():
    net = Net()
    assert net.get_submodule("block.inner") is net.block.inner
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        net.get_submodule("block.nope")


def test_deepcopy_module():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    x = minigrad.randn(2, 4)
    np.testing.assert_allclose(clone(x).detach().numpy(), net(x).detach().numpy())


@pytest.mark.gpu
def test_cuda_and_back_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    expected = net(minigrad.ones(2, 4)).detach().numpy()
    assert net.cuda() is net
    assert all(a is b for a, b in zip(net.parameters(), params))
    assert all(p.device.type == "cuda" and p.is_leaf and p.requires_grad for p in params)
    assert net.block.running.device.type == "cuda" and net.block.count.device.type == "cuda"
    out = net(minigrad.ones(2, 4, device="cuda"))
    out.sum().backward()
    assert all(p.grad.device.type == "cuda" for p in params)
    other = Net()
    other.load_state_dict(net.state_dict())  # a CUDA checkpoint into a CPU model
    np.testing.assert_allclose(other(minigrad.ones(2, 4)).detach().numpy(), expected, rtol=1e-5)
    assert net.to("cpu") is net and all(p.device.type == "cpu" for p in params)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-5)
