"""Tests of minigrad/ops/conversion.py: ToDtype (``to(dtype)``, ``float()``, ``double()``),
ToDevice (``to(device)``), Clone (``clone()``) and CopyFrom (``copy_()``).

A conversion passes the gradient back unchanged except for undoing itself: the gradient
of ``x.float()`` arrives in ``x``'s dtype, that of ``x.to('cuda')`` on ``x``'s device.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops.conversion import Clone, CopyFrom, ToDevice, ToDtype
from minigrad.testing import check_op, gradcheck, gradgradcheck
from minigrad.testing import strategies as mst

SMALL = mst.shapes(max_dims=3, max_side=3)
FLOATS = [mg.float16, mg.float32, mg.float64]


# -- ToDtype ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["to", "float", "half"])
@given(x=mst.tensors(SMALL))
def test_to_a_narrower_float_and_back(spelling, x):
    narrow = {"to": lambda t: t.to(mg.float32), "float": lambda t: t.float()}.get(
        spelling, lambda t: t.half()
    )
    dtype = mg.float16 if spelling == "half" else mg.float32
    # Rounding to float32 (float16) is exact enough for finite differences of step 1e-2
    # (1e-1): the function is the identity up to that rounding.
    eps, atol = (1e-1, 1e-1) if dtype == mg.float16 else (1e-2, 1e-3)
    check_op(
        lambda t: narrow(t).double(),
        lambda a: a.astype(dtype).astype(np.float64),
        x,
        eps=eps,
        atol=atol,
    )
    assert narrow(x).grad_fn.fn is ToDtype and narrow(x).dtype == dtype


@pytest.mark.parametrize("source", FLOATS, ids=str)
@pytest.mark.parametrize("target", FLOATS, ids=str)
def test_the_gradient_comes_back_in_the_input_dtype(source, target):
    x = mg.tensor([1.5, -2.0, 4.0], dtype=source, requires_grad=True)
    y = x.to(target)
    assert y.dtype == target and (y is x) == (source == target)
    (y * mg.tensor([1.0, 2.0, 3.0], dtype=target)).sum().backward()
    assert x.grad.dtype == source
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_double_of_float32_and_its_second_derivative():
    x = mg.tensor([0.5, -1.0], dtype=mg.float32, requires_grad=True)
    (g,) = mg.autograd.grad((x.double() ** 3).sum(), x, create_graph=True)
    assert g.dtype == mg.float32 and g.tolist() == [0.75, 3.0]
    (gg,) = mg.autograd.grad(g.sum(), x)
    assert gg.dtype == mg.float32 and gg.tolist() == [3.0, -6.0]


@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.bool], ids=str)
def test_to_a_non_float_dtype_cuts_the_graph(dtype):
    x = mg.tensor([1.5, -2.0, 0.0], requires_grad=True)
    y = x.to(dtype)
    assert y.dtype == dtype and not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), np.array([1.5, -2.0, 0.0]).astype(dtype))
    assert x.long().tolist() == [1, -2, 0]


def test_to_with_copy_true_returns_a_new_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(mg.float32, copy=True)
    assert y is not x and not np.shares_memory(y.detach().numpy(), x.detach().numpy())


# -- ToDevice --------------------------------------------------------------------------------------


@given(x=mst.tensors(SMALL))
def test_to_device_function(x):
    check_op(lambda t: ToDevice.apply(t, mg.device("cpu")), lambda a: a, x)


def test_to_the_same_device_is_a_no_op():
    x = mg.tensor([1.0], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(mg.device("cpu")) is x


@pytest.mark.gpu
def test_to_cuda_and_back_returns_the_gradient_to_the_cpu():
    x = mg.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=mg.float64, requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and y.grad_fn.fn is ToDevice
    z = (y * y).sum().cpu()
    z.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    assert gradcheck(lambda t: (t.cuda() ** 2).cpu(), (x,))
    assert gradgradcheck(lambda t: (t.cuda() ** 2).cpu(), (x,))


# -- Clone -----------------------------------------------------------------------------------------


@given(x=mst.tensors(SMALL))
def test_clone(x):
    check_op(lambda t: t.clone(), lambda a: a.copy(), x)
    check_op(mg.clone, lambda a: a.copy(), x)
    y = x.clone()
    assert y.grad_fn.fn is Clone
    assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())


def test_clone_is_independent_of_its_source():
    x = mg.tensor([1.0, 2.0])
    y = x.clone()
    y[0] = 5.0
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [5.0, 2.0]


# -- CopyFrom: copy_ -------------------------------------------------------------------------------


def copy_into(x, src):
    """``x * 1`` (a non-leaf) overwritten by ``src``: the gradient reaches src, and x gets 0."""
    y = x * 1.0
    y.copy_(src)
    return y


@given(data=st.data(), shapes=mst.mutually_broadcastable_shapes(2, max_dims=3, max_side=3))
def test_copy_broadcasts_the_source(data, shapes):
    x = data.draw(mst.tensors(shapes.result_shape))
    src = data.draw(mst.tensors(shapes[0]))  # broadcasts to x's shape
    check_op(copy_into, lambda a, s: np.broadcast_to(s, a.shape).copy(), x, src)
    assert copy_into(x, src).grad_fn.fn is CopyFrom


def test_copy_gives_the_overwritten_tensor_a_zero_gradient():
    # PyTorch: copy_'s gradient for self is zeros, not None.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    src = mg.tensor([3.0], requires_grad=True)
    copy_into(x, src).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0] and src.grad.tolist() == [2.0]


def test_copy_casts_the_source_and_its_gradient():
    x = mg.zeros(2, 2, dtype=mg.float64)
    src = mg.tensor([1.5, 2.5], dtype=mg.float32, requires_grad=True)
    x.copy_(src)
    assert x.dtype == mg.float64 and x.tolist() == [[1.5, 2.5], [1.5, 2.5]]
    x.sum().backward()
    assert src.grad.dtype == mg.float32 and src.grad.tolist() == [2.0, 2.0]


def test_copy_of_a_number_and_into_an_integer_tensor():
    x = mg.zeros(3, dtype=mg.int64)
    x.copy_(mg.tensor([1.7, -2.2, 3.0]))
    assert x.dtype == mg.int64 and x.tolist() == [1, -2, 3]
    y = mg.ones(2, dtype=mg.float64)
    y.copy_(4.0)
    assert y.tolist() == [4.0, 4.0]


def test_copy_into_a_leaf_that_requires_grad_raises():
    x = mg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="copy_: a leaf tensor that requires grad"):
        x.copy_(mg.ones(2))
    with mg.no_grad():  # as parameter initialisation does
        x.copy_(mg.ones(2))
    assert x.tolist() == [1.0, 1.0] and x._version == 1 and x.is_leaf


def test_copy_from_a_source_that_does_not_broadcast_raises():
    with pytest.raises((RuntimeError, ValueError), match=r"\(3,\).*\(2,\)|\(2,\).*\(3,\)"):
        mg.zeros(2).copy_(mg.ones(3))
