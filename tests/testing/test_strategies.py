"""Tests of minigrad.testing.strategies: each strategy draws what it promises."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

import minigrad
from minigrad.autograd import Function
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst


def assert_away_from(array: np.ndarray, points, margin: float) -> None:
    values = np.asarray(array, dtype=np.float64)
    for p in points:
        assert np.all(np.abs(values - p) >= margin), (p, values)


# -- shapes ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(mst.shapes())
def test_shapes_default_bounds(shape):
    assert isinstance(shape, tuple)
    assert 0 <= len(shape) <= 4
    assert all(isinstance(n, int) and 1 <= n <= 5 for n in shape)


@settings(deadline=None)
@given(mst.shapes(min_dims=2, max_dims=3, min_side=2, max_side=3))
def test_shapes_custom_bounds(shape):
    assert 2 <= len(shape) <= 3
    assert all(2 <= n <= 3 for n in shape)


@settings(deadline=None)
@given(mst.broadcastable_shapes((3, 1, 4)))
def test_broadcastable_shapes(shape):
    assert len(shape) <= 4
    np.broadcast_shapes((3, 1, 4), shape)  # raises if they do not broadcast


@settings(deadline=None)
@given(mst.mutually_broadcastable_shapes())
def test_mutually_broadcastable_shapes_pairs(shapes):
    assert isinstance(shapes, tuple) and len(shapes) == 2
    a, b = shapes
    assert (np.zeros(a) + np.zeros(b)).shape == shapes.result_shape
    for s in shapes:
        assert len(s) <= 4 and all(1 <= n <= 5 for n in s)


@settings(deadline=None)
@given(mst.mutually_broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=2, max_side=3))
def test_mutually_broadcastable_shapes_three(shapes):
    assert len(shapes) == 3
    assert all(1 <= len(s) <= 2 for s in shapes)
    assert np.broadcast_shapes(*shapes) == shapes.result_shape


def test_broadcast_shapes_value():
    shapes = mst.BroadcastShapes([(3, 1), (4,)])
    assert shapes == ((3, 1), (4,))
    assert shapes.result_shape == (3, 4)
    assert pickle.loads(pickle.dumps(shapes)).result_shape == (3, 4)


# -- arrays ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(mst.arrays(mst.shapes()))
def test_arrays_defaults(array):
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float64
    assert np.all(np.isfinite(array))
    assert np.all((array >= -10) & (array <= 10))


@settings(deadline=None)
@given(mst.arrays((2, 3), min_value=-1, max_value=2, avoid=(0.0, 1.0), margin=0.01))
def test_arrays_range_and_avoid(array):
    assert array.shape == (2, 3)
    assert np.all((array >= -1) & (array <= 2))
    assert_away_from(array, (0.0, 1.0), 0.01)


@settings(deadline=None)
@given(mst.arrays(4, dtype=minigrad.float32, min_value=-0.1, max_value=0.3, avoid=(0.0,)))
def test_arrays_float32_with_unrepresentable_bounds(array):
    assert array.shape == (4,)
    assert array.dtype == np.float32
    assert np.all((array >= -0.1) & (array <= 0.3))
    assert_away_from(array, (0.0,), 1e-3)


@settings(deadline=None)
@given(mst.arrays(5, min_value=-1, max_value=1, avoid=(-1.0, 0.0, 0.0015, 1.0)))
def test_arrays_avoid_at_bounds_and_close_points(array):
    # Points at the bounds and points closer than 2 * margin are still avoided.
    assert np.all((array >= -1) & (array <= 1))
    assert_away_from(array, (-1.0, 0.0, 0.0015, 1.0), 1e-3)


@settings(deadline=None)
@given(mst.arrays(3, dtype=np.int64, min_value=-3, max_value=3, avoid=(0,), margin=1))
def test_arrays_integers(array):
    assert array.dtype == np.int64
    assert np.all((array >= -3) & (array <= 3) & (array != 0))


@settings(deadline=None)
@given(mst.arrays(6, min_value=-0.0005, max_value=0.002, avoid=(0.0,)))
def test_arrays_moves_values_to_the_edge_in_range(array):
    # [-0.0005, 0.001) is too close to 0 and -0.001 is out of range: 0.001 is the edge used.
    assert np.all((array >= 1e-3) & (array <= 0.002))


def test_arrays_rejects_a_fully_avoided_range():
    with pytest.raises(InvalidArgument, match="margin"):
        mst.arrays(3, min_value=-1e-4, max_value=1e-4, avoid=(0.0,))


# -- tensors --------------------------------------------------------------------------------


@settings(deadline=None)
@given(mst.tensors())
def test_tensors_defaults(t):
    assert isinstance(t, minigrad.Tensor)
    assert t.dtype == minigrad.float64
    assert t.requires_grad
    assert 0 <= len(t.shape) <= 4
    values = t.detach().numpy()
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 10)


@settings(deadline=None)
@given(mst.tensors((2, 2), dtype=minigrad.float32, requires_grad=False, avoid=(0.5,)))
def test_tensors_dtype_and_requires_grad(t):
    assert t.shape == (2, 2)
    assert t.dtype == minigrad.float32
    assert not t.requires_grad
    assert_away_from(t.detach().numpy(), (0.5,), 1e-3)


@settings(deadline=None)
@given(mst.tensors(mst.shapes(max_dims=1), min_value=1, max_value=2))
def test_tensors_shape_strategy(t):
    assert len(t.shape) <= 1
    assert np.all((t.detach().numpy() >= 1) & (t.detach().numpy() <= 2))


def test_tensors_with_integer_dtype_cannot_require_grad():
    with pytest.raises(InvalidArgument, match="requires_grad"):
        mst.tensors((2,), dtype=np.int64)


# -- the example from the module docstring --------------------------------------------------


class SoftAbs(Function):
    # y = sqrt(x**2 + 1), a smooth |x|;  dy/dx = x / y
    @staticmethod
    def forward(ctx, x):
        y = (x * x + 1) ** 0.5
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * x / y


@settings(deadline=None, max_examples=10)
@given(x=mst.tensors(mst.shapes(max_dims=2, max_side=3)))
def test_docstring_example_soft_abs(x):
    assert gradcheck(SoftAbs.apply, (x,))
    assert gradgradcheck(SoftAbs.apply, (x,))
