"""Creation functions (``minigrad/creation.py``): PyTorch's dtype inference, size forms,
``requires_grad``, memory sharing."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad

f32, f64, i64 = minigrad.float32, minigrad.float64, minigrad.int64


# -- tensor(): dtype inference ------------------------------------------------------------
@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.0, f32),
        ([1.0, 2.0], f32),
        ([1, 2.5], f32),  # mixed: float wins
        (3, i64),
        ([[1, 2], [3, 4]], i64),
        (True, minigrad.bool),
        ([True, False], minigrad.bool),
        (np.array([1, 2], dtype=np.int32), minigrad.int32),  # arrays keep their dtype
        (np.array([1.0], dtype=np.float64), f64),
        (np.float64(2.0), f64),
        (np.float32(2.0), f32),
    ],
)
def test_tensor_infers_dtype_like_pytorch(data, dtype):
    t = minigrad.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=6))
def test_python_ints_become_int64(values):
    t = minigrad.tensor(values)
    assert t.dtype == i64 and t.tolist() == values


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6))
def test_python_floats_become_float32(values):
    t = minigrad.tensor(values)
    assert t.dtype == f32
    np.testing.assert_array_equal(t.numpy(), np.asarray(values, dtype=np.float32))


def test_tensor_follows_set_default_dtype():
    minigrad.set_default_dtype(f64)
    try:
        assert minigrad.tensor([1.0]).dtype == f64
        assert minigrad.zeros(2).dtype == f64
        assert minigrad.arange(0.0, 1.0, 0.5).dtype == f64
        assert minigrad.tensor([1]).dtype == i64
    finally:
        minigrad.set_default_dtype(f32)
    with pytest.raises(TypeError):
        minigrad.set_default_dtype(i64)


def test_tensor_explicit_dtype_and_requires_grad():
    t = minigrad.tensor([1, 2], dtype=f64, requires_grad=True)
    assert t.dtype == f64 and t.requires_grad and t.is_leaf
    assert minigrad.tensor([1.7], dtype=i64).tolist() == [1]
    assert minigrad.tensor([1], dtype=float).dtype == f32  # Python's float means the default
    assert minigrad.tensor([1.0], dtype="float64").dtype == f64


def test_tensor_copies_its_data():
    a = np.zeros(3)
    t = minigrad.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    src = minigrad.tensor([1.0, 2.0])
    copy = minigrad.tensor(src)
    src.add_(1)
    assert copy.tolist() == [1.0, 2.0]


def test_tensor_rejects_uninferrable_data():
    with pytest.raises(TypeError):
        minigrad.tensor(["a", "b"])


# -- as_tensor / from_numpy -----------------------------------------------------------------
def test_from_numpy_shares_memory_both_ways():
    a = np.arange(4.0)
    t = minigrad.from_numpy(a)
    assert t.dtype == f64
    a[0] = 9.0
    assert t[0].item() == 9.0
    t.mul_(2)
    assert a[1] == 2.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        minigrad.from_numpy([1.0, 2.0])


def test_as_tensor_shares_when_it_can():
    a = np.zeros(3)
    t = minigrad.as_tensor(a)
    a[1] = 7.0
    assert t[1].item() == 7.0
    converted = minigrad.as_tensor(a, dtype=f32)
    a[2] = 3.0
    assert converted.dtype == f32 and converted[2].item() == 0.0
    x = minigrad.tensor([1.0])
    assert minigrad.as_tensor(x) is x
    assert minigrad.as_tensor([1, 2]).dtype == i64


# -- filled tensors: size forms and dtypes --------------------------------------------------
@pytest.mark.parametrize(
    "fn, value", [(minigrad.zeros, 0.0), (minigrad.ones, 1.0), (minigrad.empty, None)]
)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_size_as_varargs_tuple_or_list(fn, value, shape):
    for t in (fn(*shape), fn(tuple(shape)), fn(list(shape))):
        assert t.shape == tuple(shape) and t.dtype == f32 and not t.requires_grad
        if value is not None:
            assert np.all(t.numpy() == value)


def test_filled_with_dtype_and_requires_grad():
    t = minigrad.ones(2, 3, dtype=f64, requires_grad=True)
    assert t.dtype == f64 and t.requires_grad and t.is_leaf
    assert minigrad.zeros(2, dtype=i64).tolist() == [0, 0]
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.zeros(2, dtype=i64, requires_grad=True)


@pytest.mark.parametrize("value, dtype", [(3, i64), (3.0, f32), (True, minigrad.bool), (-1.5, f32)])
def test_full_infers_dtype_from_value(value, dtype):
    t = minigrad.full((2, 3), value)
    assert t.shape == (2, 3) and t.dtype == dtype
    assert np.all(t.numpy() == value)
    assert minigrad.full([2], value, dtype=f64).dtype == f64
    assert minigrad.full(4, value).shape == (4,)


@given(
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4)),
    st.sampled_from([None, f64, i64]),
)
def test_like_functions_copy_shape_and_dtype(a, dtype):
    src = minigrad.tensor(a)
    for fn, value in ((minigrad.zeros_like, 0), (minigrad.ones_like, 1)):
        t = fn(src) if dtype is None else fn(src, dtype=dtype)
        assert t.shape == src.shape and t.dtype == (dtype or src.dtype)
        assert np.all(t.numpy() == value)
    assert minigrad.zeros_like(minigrad.tensor([1, 2])).dtype == i64
    g = minigrad.ones_like(src, requires_grad=True)
    assert g.requires_grad


# -- ranges ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, dtype, expected",
    [
        ((5,), i64, [0, 1, 2, 3, 4]),
        ((2, 5), i64, [2, 3, 4]),
        ((0, 10, 3), i64, [0, 3, 6, 9]),
        ((5.0,), f32, [0, 1, 2, 3, 4]),
        ((0, 1, 0.25), f32, [0, 0.25, 0.5, 0.75]),
        ((1, 2.0), f32, [1.0]),
        ((5, 0, -2), i64, [5, 3, 1]),
    ],
)
def test_arange(args, dtype, expected):
    t = minigrad.arange(*args)
    assert t.dtype == dtype
    np.testing.assert_allclose(t.numpy(), expected)


def test_arange_keywords():
    t = minigrad.arange(1, 4, dtype=f64, requires_grad=True)
    assert t.dtype == f64 and t.requires_grad and t.tolist() == [1.0, 2.0, 3.0]
    assert minigrad.arange(start=0, end=3).tolist() == [0, 1, 2]


@given(st.floats(-10, 10), st.floats(-10, 10), st.integers(1, 20))
def test_linspace(start, end, steps):
    t = minigrad.linspace(start, end, steps)
    assert t.dtype == f32 and t.shape == (steps,)
    np.testing.assert_allclose(t.numpy(), np.linspace(start, end, steps), rtol=1e-5, atol=1e-5)
    assert t[0].item() == pytest.approx(start, abs=1e-5)
    if steps > 1:
        assert t[-1].item() == pytest.approx(end, abs=1e-5)


def test_eye():
    np.testing.assert_array_equal(minigrad.eye(3).numpy(), np.eye(3))
    e = minigrad.eye(2, 3, dtype=f64)
    assert e.dtype == f64 and e.shape == (2, 3)
    np.testing.assert_array_equal(e.numpy(), np.eye(2, 3))
    assert minigrad.eye(2).dtype == f32


# -- random creation ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [minigrad.rand, minigrad.randn])
def test_rand_and_randn_shapes_and_dtypes(fn):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3) and t.dtype == f32
    assert fn(4, dtype=f64).dtype == f64
    assert fn(2, requires_grad=True).requires_grad


def test_rand_is_in_unit_interval_and_randn_is_standard():
    minigrad.manual_seed(0)
    u = minigrad.rand(10_000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = minigrad.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


@given(st.integers(-5, 5), st.integers(1, 10), hnp.array_shapes(max_dims=2, max_side=5))
def test_randint_bounds_and_forms(low, span, shape):
    t = minigrad.randint(low, low + span, shape)
    assert t.dtype == i64 and t.shape == tuple(shape)
    assert t.numel() == 0 or (t.numpy().min() >= low and t.numpy().max() < low + span)
    t0 = minigrad.randint(span, shape)  # randint(high, size)
    assert t0.numel() == 0 or (t0.numpy().min() >= 0 and t0.numpy().max() < span)
    assert minigrad.randint(0, 5, size=(3,), dtype=minigrad.int32).dtype == minigrad.int32


@given(st.integers(0, 50))
def test_randperm_is_a_permutation(n):
    t = minigrad.randperm(n)
    assert t.dtype == i64
    assert sorted(t.tolist()) == list(range(n))
