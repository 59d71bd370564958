"""Tests of minigrad/ops/indexing.py: GetItem (``x[key]``), its gradient ScatterAdd, and
IndexPut (``x[key] = value``).

Each property test is a declaration: hypothesis draws a shape, a key (basic, integer
arrays, boolean masks) and values; ``check_op`` compares the forward with NumPy's
indexing, checks that the inputs are left alone and that the gradient does not alias the
upstream one, and checks first and second derivatives against finite differences.
Repeated indices must add their gradients (``x[[0, 0]]`` sends both to ``x[0]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.ops.indexing import GetItem, IndexPut, ScatterAdd
from minigrad.testing import check_op
from minigrad.testing import strategies as mst

SMALL = mst.shapes(min_dims=1, max_dims=3, max_side=3)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


# An index array may be given as a list, a NumPy array or a minigrad Tensor.
AS_INDEX = {
    "list": lambda a: a.tolist(),
    "numpy": lambda a: a,
    "tensor": mg.tensor,
}


@st.composite
def integer_array_keys(draw, shape, wrap):
    """Integer index arrays (negative and repeated entries) for the first 1..ndim dims,
    broadcast together, sometimes followed by a slice."""
    count = draw(st.integers(1, len(shape)))
    index_shape = draw(mst.shapes(min_dims=1, max_dims=2, max_side=3))
    key = tuple(
        wrap(draw(mst.arrays(index_shape, dtype=np.int64, min_value=-n, max_value=n - 1)))
        for n in shape[:count]
    )
    if count < len(shape) and draw(st.booleans()):
        key += (slice(None, None, draw(st.sampled_from([1, -1, 2]))),)
    return key


def numpy_key(key):
    """The key with Tensors and lists replaced by NumPy arrays (for the reference)."""
    key = key if isinstance(key, tuple) else (key,)
    return tuple(
        k.numpy() if isinstance(k, mg.Tensor) else np.asarray(k) if isinstance(k, list) else k
        for k in key
    )


# -- GetItem, ScatterAdd ---------------------------------------------------------------------------


@given(data=st.data(), x=mst.tensors(mst.shapes(max_dims=3, max_side=3)))
def test_basic_indexing(data, x):
    # ints (negative too), slices with any step, None and Ellipsis, in any combination
    key = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    check_op(lambda t: t[key], lambda a: a[key], x)
    assert x[key].grad_fn.fn is GetItem


@pytest.mark.parametrize("wrap", AS_INDEX)
@given(data=st.data(), x=mst.tensors(SMALL))
def test_integer_array_indexing_accumulates_repeated_indices(wrap, data, x):
    key = data.draw(integer_array_keys(x.shape, AS_INDEX[wrap]))
    check_op(lambda t: t[key], lambda a: a[numpy_key(key)], x)
    # The gradient of a gather is a scatter that adds: count how often each element is read.
    x[key].sum().backward()
    counts = np.zeros(x.shape)
    np.add.at(counts, numpy_key(key), 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), counts)


def test_repeated_index_gradient_adds_up():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0], [1.0, 1.0]])


@pytest.mark.parametrize("wrap", AS_INDEX)
@given(data=st.data(), x=mst.tensors(SMALL))
def test_boolean_mask_indexing(wrap, data, x):
    leading = data.draw(st.integers(1, x.ndim))
    mask = data.draw(mst.arrays(x.shape[:leading], dtype=bool))
    key = AS_INDEX[wrap](mask)
    check_op(lambda t: t[key], lambda a: a[mask], x)


COMBINED_KEYS = {
    "reversed slice, repeated list": (slice(None, None, -1), [0, 2, 2]),
    "None, Ellipsis, list": (None, Ellipsis, [1, 0, 1]),
    "lists split by a slice": ([1, 0], slice(1, None), [3, -1]),
    "int, mask, step": (1, np.array([True, False, True]), slice(None, None, 2)),
    "2-D tensor, None, int": (mg.tensor([[0, 1], [1, 1]]), None, -1),
    "Ellipsis, bool tensor": (Ellipsis, mg.tensor([True, False, True, True])),
    "broadcast arrays": (slice(None), [[0], [2]], [1, 3]),
    "negative int and list": (-1, [-1, 0, -1]),
}


@pytest.mark.parametrize("name", COMBINED_KEYS)
@given(x=mst.tensors((2, 3, 4)))
def test_combined_keys(name, x):
    key = COMBINED_KEYS[name]
    check_op(lambda t: t[key], lambda a: a[numpy_key(key)], x)


@given(data=st.data(), x=mst.tensors(SMALL))
def test_scatter_add_adds_at_repeated_indices(data, x):
    key = data.draw(integer_array_keys(x.shape, AS_INDEX["numpy"]))
    g = data.draw(mst.tensors(x.detach().numpy()[key].shape))

    def reference(a):
        out = np.zeros(x.shape)
        np.add.at(out, key, a)
        return out

    check_op(lambda t: ScatterAdd.apply(t, x.shape, key), reference, g)


# -- IndexPut: x[key] = value ----------------------------------------------------------------------


def put(x, key, value):
    """``x[key] = value`` on a copy (a non-leaf), so that gradients reach x and value."""
    y = x * 1.0
    y[key] = value
    return y


def put_reference(key):
    def reference(a, v=None):
        a = a.copy()
        a[numpy_key(key)] = v
        return a

    return reference


@st.composite
def value_shapes(draw, region):
    """A shape that broadcasts to ``region``: some sides 1, some leading dims left out."""
    shape = tuple(1 if draw(st.booleans()) else n for n in region)
    return shape[draw(st.integers(0, len(shape))) :]


@given(data=st.data(), x=mst.tensors(mst.shapes(max_dims=3, max_side=3)))
def test_setitem_basic_key(data, x):
    key = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    region = x.detach().numpy()[key].shape
    v = data.draw(mst.tensors(data.draw(value_shapes(region))))
    check_op(lambda t, u: put(t, key, u), put_reference(key), x, v)
    assert put(x, key, v).grad_fn.fn is IndexPut


@given(data=st.data(), x=mst.tensors(SMALL))
def test_setitem_integer_array_key(data, x):
    # distinct positions: with repeats, which write wins is unspecified (as in PyTorch)
    rows = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, unique=True))
    key = (mg.tensor(rows), slice(None))[: x.ndim]
    region = x.detach().numpy()[numpy_key(key)].shape
    v = data.draw(mst.tensors(data.draw(value_shapes(region))))
    check_op(lambda t, u: put(t, key, u), put_reference(key), x, v)


@given(data=st.data(), x=mst.tensors(SMALL))
def test_setitem_boolean_mask(data, x):
    mask = data.draw(mst.arrays(x.shape, dtype=bool))
    v = data.draw(mst.tensors(data.draw(st.sampled_from([(), (1,), (int(mask.sum()),)]))))
    check_op(lambda t, u: put(t, mask, u), put_reference(mask), x, v)


@given(x=mst.tensors(SMALL), value=st.floats(-5, 5))
def test_setitem_python_number(x, value):
    check_op(lambda t: put(t, 0, value), lambda a: put_reference(0)(a, value), x)


def test_setitem_value_with_extra_leading_dims():
    x = mg.zeros(2, 3, dtype=mg.float64, requires_grad=True)
    v = mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64, requires_grad=True)
    check_op(lambda t, u: put(t, 0, u), lambda a, b: np.stack([b[0], a[1]]), x, v)


def test_setitem_sends_gradients_to_the_tensor_and_the_value():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    v = mg.tensor([10.0, 20.0], requires_grad=True)
    y = x * 2.0
    y[:, 1] = v
    assert not y.is_leaf and y._version == 1
    (y * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0, 6.0], [8.0, 0.0, 12.0]])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 5.0])


def test_setitem_into_a_tensor_without_grad_records_the_value():
    y = mg.zeros(3)
    v = mg.tensor([2.0], requires_grad=True)
    y[1:] = v
    assert y.grad_fn.fn is IndexPut
    y.sum().backward()
    assert y.tolist() == [0.0, 2.0, 2.0] and v.grad.tolist() == [2.0]


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        x[0] = 2.0


def test_setitem_casts_the_value_to_the_tensor_dtype():
    x = mg.tensor([1, 2, 3])
    x[0] = 7.9
    x[1:] = mg.tensor([5.5, 6.5], dtype=mg.float64)
    assert x.dtype == mg.int64 and x.tolist() == [7, 5, 6]


# -- errors ----------------------------------------------------------------------------------------

ERRORS = {
    "out of range": (lambda x: x[5], r"getitem: index 5 is out of bounds.*\(2, 3\)"),
    "negative out of range": (lambda x: x[:, -4], r"getitem: index -4 .*\(2, 3\)"),
    "too many": (lambda x: x[0, 1, 2], r"getitem: too many indices.*\(2, 3\)"),
    "float index": (lambda x: x[mg.tensor([0.5])], "getitem: .*integer or bool, got float32"),
    "mask shape": (lambda x: x[np.array([True, False, True])], r"getitem: boolean .*\(2, 3\)"),
    "setitem range": (
        lambda x: x.__setitem__(2, 1.0),
        r"setitem: index 2 is out of bounds.*\(2, 3\)",
    ),
    "setitem float index": (
        lambda x: x.__setitem__(mg.tensor([1.0]), 1.0),
        "setitem: .*integer or bool, got float32",
    ),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_keys_raise_index_error(case):
    call, pattern = ERRORS[case]
    with pytest.raises(IndexError, match=pattern):
        call(mg.ones(2, 3))


def test_setitem_with_a_value_of_the_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"setitem: .*\(4,\).*tensor of shape \(2, 3\)"):
        mg.ones(2, 3)[0] = mg.ones(4)


# -- devices ---------------------------------------------------------------------------------------

CASES = {
    "basic": lambda x: x[None, 1, ..., ::-2],
    "repeated": lambda x: x[[0, 0, 1], :, [3, 3, -1]],
    "mask": lambda x: x[x.detach() > 10.0],
    "setitem": lambda x: put(x, (slice(None), [2, 0]), x[:, :1] * 3.0),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES)
def test_indexing_matches_cpu_on(case, device):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = mg.tensor(a, device=device, requires_grad=True)
    cpu = mg.tensor(a, requires_grad=True)
    out, expected = CASES[case](x), CASES[case](cpu)
    assert out.device == device
    np.testing.assert_array_equal(out.detach().cpu().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), cpu.grad.numpy())
