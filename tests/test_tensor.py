"""``Tensor`` (``minigrad/tensor.py``): every attribute and method in DESIGN's ``Tensor`` list,
Python operators and protocols, conversions, and a PyTorch-like ``repr``."""

from __future__ import annotations

import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import Tensor

f32, f64 = minigrad.float32, minigrad.float64


def small_arrays(dtype=np.float64, min_dims=0):
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=4),
        elements=st.floats(-5, 5, width=32) if np.dtype(dtype).kind == "f" else None,
    )


# -- autograd attributes -------------------------------------------------------------------
def test_autograd_attributes_of_leaves_and_results():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None and x.grad is None
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "MulBackward"
    c = minigrad.tensor([1.0])
    assert not c.requires_grad and c.is_leaf


def test_requires_grad_underscore_returns_self_and_setter():
    x = minigrad.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad


@pytest.mark.parametrize("dtype", [minigrad.int64, minigrad.int32, minigrad.bool])
def test_integer_tensors_cannot_require_grad(dtype):
    x = minigrad.zeros(2, dtype=dtype)
    with pytest.raises(RuntimeError, match="floating point"):
        x.requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1, 2], requires_grad=True)


def test_non_leaf_cannot_turn_off_requires_grad():
    y = minigrad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_retain_grad_on_leaf_is_a_no_op_and_raises_without_grad():
    x = minigrad.tensor([1.0], requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0]).retain_grad()


def test_backward_method_fills_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# -- array attributes ----------------------------------------------------------------------
@given(small_arrays())
def test_shape_attributes_match_numpy(a):
    t = minigrad.tensor(a)
    assert t.shape == a.shape and t.size() == a.shape
    assert t.ndim == a.ndim == t.dim()
    assert t.numel() == a.size
    assert t.dtype == f64 and t.device == "cpu"
    for d in range(-a.ndim, a.ndim):
        assert t.size(d) == a.shape[d]
    np.testing.assert_array_equal(t.T.numpy(), a.T)
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.tolist() == a.tolist()


def test_size_with_bad_dim_raises():
    with pytest.raises(IndexError):
        minigrad.zeros(2, 3).size(2)


def test_T_is_differentiable():
    x = minigrad.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    (x.T * minigrad.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 2.0, 3.0]])


def test_data_is_detached_and_shares_storage():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, Tensor) and not d.requires_grad and d.grad_fn is None
    d.mul_(3)  # not tracked: a change through .data is PyTorch's escape hatch
    np.testing.assert_array_equal(x.detach().numpy(), [3.0, 6.0])
    x.data = minigrad.tensor([7.0, 8.0])
    np.testing.assert_array_equal(x.detach().numpy(), [7.0, 8.0])
    assert x.requires_grad and x.is_leaf


def test_item():
    assert minigrad.tensor(2.5).item() == 2.5 and isinstance(minigrad.tensor(2.5).item(), float)
    assert minigrad.tensor([[3]]).item() == 3 and isinstance(minigrad.tensor([3]).item(), int)
    assert minigrad.tensor(True).item() is True
    with pytest.raises(RuntimeError, match="2 elements"):
        minigrad.tensor([1.0, 2.0]).item()


# -- numpy(), detach(), clone() --------------------------------------------------------------
def test_numpy_shares_memory_and_refuses_requires_grad():
    t = minigrad.tensor([1.0, 2.0])
    n = t.numpy()
    n[0] = 9.0
    assert t[0].item() == 9.0
    t.add_(1)
    assert n[1] == 3.0
    x = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy()[0] == 1.0
    np.testing.assert_array_equal(np.asarray(t), [10.0, 3.0])


def test_detach_shares_data_without_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y._data)
    assert d._version == y._version


def test_clone_copies_and_keeps_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c._data, x._data)
    (c * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    plain = minigrad.tensor([1.0])
    pc = plain.clone()
    pc.add_(1)
    assert plain.item() == 1.0


# -- dtype and device conversions -------------------------------------------------------------
def test_to_dtype_and_shortcuts():
    t = minigrad.tensor([1.5, -2.5])
    assert t.to(f64).dtype == f64
    assert t.to(dtype=f64).dtype == f64
    assert t.double().dtype == f64 and t.float().dtype == f32
    assert t.long().dtype == minigrad.int64
    np.testing.assert_array_equal(t.long().numpy(), [1, -2])  # truncation, as PyTorch
    assert t.to(f32) is t and t.float() is t  # no conversion needed: the same tensor
    assert t.to("cpu") is t and t.cpu() is t
    assert t.to(minigrad.device("cpu"), f64).dtype == f64
    other = minigrad.tensor([1], dtype=minigrad.int32)
    assert t.to(other).dtype == minigrad.int32


def test_to_is_differentiable_and_grad_has_input_dtype():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * minigrad.tensor([3.0, 4.0], dtype=f64)
    y.sum().backward()
    assert x.grad.dtype == f32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_long_of_a_requires_grad_tensor_does_not_require_grad():
    x = minigrad.tensor([1.7], requires_grad=True)
    assert not x.long().requires_grad


def test_cuda_without_gpu_raises_and_says_what_is_missing():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    try:
        import cupy  # noqa: F401

        missing = "no NVIDIA GPU"
    except Exception:
        missing = "CuPy is not installed"
    t = minigrad.tensor([1.0])
    for move in (lambda: t.cuda(), lambda: t.cuda(0), lambda: t.to("cuda"), lambda: t.to("cuda:0")):
        with pytest.raises(RuntimeError, match=missing):
            move()
    with pytest.raises(RuntimeError, match=missing):
        minigrad.tensor([1.0], device="cuda")


# -- in-place helpers --------------------------------------------------------------------------
def test_zero_fills_in_place():
    t = minigrad.tensor([1.0, 2.0])
    data = t._data
    assert t.zero_() is t
    assert t._data is data and t.tolist() == [0.0, 0.0] and t._version == 1


def test_grad_zero_in_place_between_steps():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_in_place_result_must_fit_shape_and_dtype():
    t = minigrad.zeros(2)
    with pytest.raises(RuntimeError, match=r"shape"):
        t.add_(minigrad.ones(3, 2))
    i = minigrad.zeros(2, dtype=minigrad.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)


def test_setitem_without_grad():
    t = minigrad.zeros(2, 3)
    t[0, 1] = 5.0
    t[1] = minigrad.tensor([1.0, 2.0, 3.0])
    t[:, 0] = 7
    np.testing.assert_array_equal(t.numpy(), [[7.0, 5.0, 0.0], [7.0, 2.0, 3.0]])


# -- Python operators --------------------------------------------------------------------------
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.__name__)
@given(a=small_arrays(min_dims=1), scalar=st.floats(0.5, 3.0))
def test_operators_with_scalars_on_both_sides(op, a, scalar):
    base = np.abs(a) + 0.5  # positive, for pow and division
    t = minigrad.tensor(base)
    np.testing.assert_allclose(op(t, scalar).numpy(), op(base, scalar), rtol=1e-12)
    reflected = op(scalar, t)
    assert isinstance(reflected, Tensor)
    np.testing.assert_allclose(reflected.numpy(), op(scalar, base), rtol=1e-12)


def test_reflected_operators_have_gradients():
    x = minigrad.tensor([2.0, 4.0], dtype=f64, requires_grad=True)
    (2 - x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, -1.0])
    x.grad = None
    (2 / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -2 / np.array([2.0, 4.0]) ** 2)
    x.grad = None
    (2**x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log(2) * 2 ** np.array([2.0, 4.0]))


def test_numpy_array_on_the_left_gives_a_tensor():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    for result in (np.array([3.0, 4.0]) * x, np.array([3.0, 4.0]) + x, np.array([1.0]) - x):
        assert isinstance(result, Tensor) and result.requires_grad
    y = np.array([3.0, 4.0]) * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_matmul_neg_pos_abs_operators():
    a = minigrad.tensor([[1.0, -2.0], [3.0, 4.0]])
    b = minigrad.tensor([[1.0], [1.0]])
    np.testing.assert_array_equal((a @ b).numpy(), [[-1.0], [7.0]])
    np.testing.assert_array_equal((-a).numpy(), -a.numpy())
    assert (+a) is a
    np.testing.assert_array_equal(abs(a).numpy(), np.abs(a.numpy()))


@pytest.mark.parametrize(
    "op",
    [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge],
    ids=lambda o: o.__name__,
)
@given(a=small_arrays(), b=st.floats(-5, 5, width=32))
def test_comparisons_return_bool_tensors_without_grad(op, a, b):
    t = minigrad.tensor(a, requires_grad=True)
    r = op(t, b)
    assert isinstance(r, Tensor) and r.dtype == minigrad.bool
    assert not r.requires_grad and r.grad_fn is None
    np.testing.assert_array_equal(r.numpy(), op(a, b))
    r2 = op(t, minigrad.tensor(a))
    np.testing.assert_array_equal(r2.numpy(), op(a, a))


def test_logical_operators_on_bool_tensors():
    a, b = minigrad.tensor([True, False, True]), minigrad.tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, True]
    assert (~a).tolist() == [False, True, False]


def test_tensor_is_hashable_by_identity():
    a, b = minigrad.tensor([1.0]), minigrad.tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


# -- Python protocols ------------------------------------------------------------------------
def test_len_and_iter():
    t = minigrad.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, Tensor) for r in rows)
    assert rows[2].tolist() == [5, 6]
    with pytest.raises(TypeError, match="0-d"):
        len(minigrad.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(minigrad.tensor(1.0))


def test_iteration_keeps_gradients():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * float(i) for i, v in enumerate(x))
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 2.0])


def test_bool():
    assert bool(minigrad.tensor([1.0])) and not bool(minigrad.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(minigrad.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if minigrad.tensor([1, 0]) > 0:
            pass


def test_float_int_index():
    assert float(minigrad.tensor([2.5])) == 2.5
    assert int(minigrad.tensor(3.9)) == 3
    assert [10, 20, 30][minigrad.tensor(1)] == 20
    assert list(range(5))[minigrad.tensor(1) : minigrad.tensor(3)] == [1, 2]
    with pytest.raises(TypeError):
        [1, 2][minigrad.tensor(1.0)]
    with pytest.raises(TypeError):
        operator.index(minigrad.tensor([1, 2]))


# -- repr ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: minigrad.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
        (lambda: minigrad.tensor([0.1, 0.2]), "tensor([0.1000, 0.2000])"),
        (lambda: minigrad.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: minigrad.tensor([1, 20]), "tensor([ 1, 20])"),
        (lambda: minigrad.tensor([-1.0, 2.5]), "tensor([-1.0000,  2.5000])"),
        (lambda: minigrad.tensor(3.0), "tensor(3.)"),
        (lambda: minigrad.tensor(3), "tensor(3)"),
        (lambda: minigrad.tensor([True, False]), "tensor([ True, False])"),
        (
            lambda: minigrad.tensor([1.0, 2.0], dtype=f64),
            "tensor([1., 2.], dtype=minigrad.float64)",
        ),
        (
            lambda: minigrad.tensor([1, 2], dtype=minigrad.int32),
            "tensor([1, 2], dtype=minigrad.int32)",
        ),
        (lambda: minigrad.tensor([1.0], requires_grad=True), "tensor([1.], requires_grad=True)"),
        (
            lambda: minigrad.tensor([1.0], dtype=f64, requires_grad=True),
            "tensor([1.], dtype=minigrad.float64, requires_grad=True)",
        ),
        (
            lambda: minigrad.tensor([1.0, 2.0], requires_grad=True) * 2,
            "tensor([2., 4.], grad_fn=<MulBackward>)",
        ),
        (
            lambda: minigrad.tensor([[1.0, 2.0], [3.0, 4.0]]),
            "tensor([[1., 2.],\n        [3., 4.]])",
        ),
        (lambda: minigrad.tensor(1e-5), "tensor(1.0000e-05)"),
        (lambda: minigrad.tensor([1.0, 10000.0]), "tensor([1.0000e+00, 1.0000e+04])"),
        (lambda: minigrad.tensor([0.001, 10.5]), "tensor([1.0000e-03, 1.0500e+01])"),
        (lambda: minigrad.tensor([1.0, 1000.0]), "tensor([   1., 1000.])"),
        (lambda: minigrad.tensor([True, True]), "tensor([True, True])"),
        (lambda: minigrad.tensor([float("nan"), 1.0]), "tensor([nan, 1.])"),
        (lambda: minigrad.tensor([float("inf"), 0.5]), "tensor([   inf, 0.5000])"),
        (lambda: minigrad.zeros(0), "tensor([])"),
        (lambda: minigrad.zeros(0, dtype=minigrad.int64), "tensor([], dtype=minigrad.int64)"),
        (lambda: minigrad.zeros(0, 3), "tensor([], size=(0, 3))"),
    ],
)
def test_repr_like_pytorch(make, text):
    assert repr(make()) == text


def test_repr_follows_the_default_dtype():
    minigrad.set_default_dtype(f64)
    try:
        assert repr(minigrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
        assert repr(minigrad.tensor([1.0], dtype=f32)) == "tensor([1.], dtype=minigrad.float32)"
    finally:
        minigrad.set_default_dtype(f32)


def test_repr_summarises_large_tensors():
    text = repr(minigrad.arange(5000))
    assert "..." in text and text.startswith("tensor([   0,    1,    2,") and "4999])" in text


def test_numpy_scalars_are_wrapped_as_0d_arrays():
    # NumPy returns scalars, not 0-d arrays, for many 0-d results (x > 0, exp(x)); a tensor
    # must still hold an array so that device checks and repr work
    t = Tensor._make(np.float32(2.0) > 1)
    assert isinstance(t._data, np.ndarray) and t.shape == () and t.device == "cpu"
    assert repr(t) == "tensor(True)"
    x = minigrad.tensor(0.5, requires_grad=True)
    y = minigrad.where(x > 0, x * 2, x)
    y.backward()
    assert x.grad.item() == 2.0


# -- the op methods DESIGN lists are there and agree with NumPy ---------------------------------
_X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
METHODS = {
    "sum": (lambda t: t.sum(), lambda a: a.sum()),
    "mean": (lambda t: t.mean(dim=1), lambda a: a.mean(axis=1)),
    "var": (lambda t: t.var(), lambda a: a.var(ddof=1)),
    "std": (lambda t: t.std(), lambda a: a.std(ddof=1)),
    "max": (lambda t: t.max(), lambda a: a.max()),
    "min": (lambda t: t.min(), lambda a: a.min()),
    "argmax": (lambda t: t.argmax(), lambda a: a.argmax()),
    "exp": (lambda t: t.exp(), np.exp),
    "log": (lambda t: t.abs().log(), lambda a: np.log(np.abs(a))),
    "pow": (lambda t: t.pow(2), lambda a: a**2),
    "sqrt": (lambda t: t.abs().sqrt(), lambda a: np.sqrt(np.abs(a))),
    "abs": (lambda t: t.abs(), np.abs),
    "clamp": (lambda t: t.clamp(-0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0)),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0)),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "softmax": (
        lambda t: t.softmax(dim=1),
        lambda a: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True),
    ),
    "log_softmax": (
        lambda t: t.log_softmax(dim=1),
        lambda a: a - np.log(np.exp(a).sum(axis=1, keepdims=True)),
    ),
    "reshape": (lambda t: t.reshape(3, 2), lambda a: a.reshape(3, 2)),
    "view": (lambda t: t.view(-1), lambda a: a.reshape(-1)),
    "transpose": (lambda t: t.transpose(0, 1), lambda a: a.T),
    "permute": (lambda t: t.permute(1, 0), lambda a: a.T),
    "flatten": (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    "squeeze": (lambda t: t.unsqueeze(0).squeeze(0), lambda a: a),
    "expand": (lambda t: t[:1].expand(4, 3), lambda a: np.broadcast_to(a[:1], (4, 3))),
    "matmul": (lambda t: t.matmul(t.T), lambda a: a @ a.T),
    "getitem": (lambda t: t[1, [0, 2]], lambda a: a[1, [0, 2]]),
    "mask": (lambda t: t[t > 0], lambda a: a[a > 0]),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_design_tensor_methods(name):
    method, reference = METHODS[name]
    x = minigrad.tensor(_X, requires_grad=True)
    out = method(x)
    np.testing.assert_allclose(out.detach().numpy(), reference(_X), rtol=1e-6, atol=1e-12)
    if out.dtype.kind == "f":
        out.sum().backward()
        assert x.grad is not None and x.grad.shape == x.shape
