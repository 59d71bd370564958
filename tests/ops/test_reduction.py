"""Tests of minigrad/ops/reduction.py: Sum, MaxAlong, MaxAll and the reductions built on them.

Each property test is a declaration: hypothesis draws a shape, the reduced dims and the
values; ``check_op`` compares the forward with a NumPy float64 reference, checks that the
inputs are left alone and that the gradient does not alias the upstream one, and checks
first and second derivatives against finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops.reduction import MaxAll, MaxAlong, Sum
from minigrad.testing import check_op as _check_op
from minigrad.testing import strategies as mst

SMALL = mst.shapes(min_dims=1, max_dims=3, max_side=3)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
TOLERANCE = {mg.float32: 1e-5, mg.float64: 1e-12}


def check_op(op, reference, *inputs, **kwargs):
    """``minigrad.testing.check_op`` with this file's value tolerance."""
    return _check_op(op, reference, *inputs, value_rtol=1e-10, value_atol=1e-12, **kwargs)


@st.composite
def dims(draw, ndim: int, allow_none: bool = True):
    """A reduction's ``dim``: None, an int, or a tuple of distinct dims; any may be negative."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    chosen = [d - ndim if draw(st.booleans()) else d for d in chosen]
    return chosen[0] if kind == "int" else tuple(chosen)


def np_axis(dim, ndim: int):
    """``dim`` as NumPy's ``axis`` (a tuple of non-negative axes, or None)."""
    if dim is None:
        return None
    return tuple(d % ndim for d in (dim if isinstance(dim, tuple) else (dim,)))


def reduced_count(shape, dim) -> int:
    axes = np_axis(dim, len(shape))
    return math.prod(shape if axes is None else [shape[a] for a in axes])


@st.composite
def distinct_tensors(draw, shape, offset: float = 0.0):
    """float64 tensors whose values are at least 0.25 apart (no ties, even after ± eps)."""
    shape = draw(shape) if isinstance(shape, st.SearchStrategy) else shape
    n = math.prod(shape)
    order = np.reshape(draw(st.permutations(range(n))), shape).astype(np.float64)
    jitter = draw(mst.arrays(shape, min_value=0.0, max_value=0.25))
    return mg.tensor(order - 3 + offset + jitter, dtype=mg.float64, requires_grad=True)


def tied_tensors(shape=SMALL):
    """float64 tensors of small integers: plenty of ties."""
    return mst.arrays(shape, dtype=np.int64, min_value=-2, max_value=2).map(
        lambda a: mg.tensor(a, dtype=mg.float64, requires_grad=True)
    )


# -- Sum, mean -------------------------------------------------------------------------------------


@given(data=st.data(), x=mst.tensors(SMALL), keepdim=st.booleans())
def test_sum(data, x, keepdim):
    dim = data.draw(dims(x.ndim))

    def reference(a):
        return np.sum(a, axis=np_axis(dim, a.ndim), keepdims=keepdim)

    check_op(lambda t: mg.sum(t, dim, keepdim), reference, x)
    assert x.sum(dim, keepdim=keepdim).grad_fn.fn is Sum


@given(data=st.data(), x=mst.tensors(SMALL), keepdim=st.booleans())
def test_mean(data, x, keepdim):
    dim = data.draw(dims(x.ndim))

    def reference(a):
        return np.mean(a, axis=np_axis(dim, a.ndim), keepdims=keepdim)

    check_op(lambda t: t.mean(dim, keepdim=keepdim), reference, x)


@pytest.mark.parametrize("op", [mg.sum, mg.mean])
def test_full_reduction_of_a_0d_tensor(op):
    x = mg.tensor(2.5, dtype=mg.float64, requires_grad=True)
    check_op(op, lambda a: a, x)
    check_op(lambda t: op(t, -1, keepdim=True), lambda a: a, x)


@pytest.mark.parametrize("dtype", [mg.bool, mg.uint8, mg.int32, mg.int64])
def test_sum_of_integers_is_int64(dtype):
    a = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    assert mg.tensor(a).sum().dtype == mg.int64
    np.testing.assert_array_equal(mg.tensor(a).sum(1).numpy(), a.sum(1, dtype=np.int64))
    assert mg.tensor(a).sum(dtype=mg.float64).dtype == mg.float64


def test_mean_of_an_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="mean: .*floating point.*int64"):
        mg.tensor([1, 2, 3]).mean()


# -- var, std --------------------------------------------------------------------------------------

CORRECTIONS = st.sampled_from(
    [({}, 1), ({"unbiased": True}, 1), ({"unbiased": False}, 0)]
    + [({"correction": c}, c) for c in (0, 1, 2)]
)


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), keepdim=st.booleans(), correction=CORRECTIONS)
def test_var_std(name, data, keepdim, correction):
    kwargs, ddof = correction
    x = data.draw(distinct_tensors(mst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=3)))
    dim = data.draw(dims(x.ndim))
    assume(reduced_count(x.shape, dim) > ddof)
    np_op = getattr(np, name)

    def reference(a):
        return np_op(a, axis=np_axis(dim, a.ndim), ddof=ddof, keepdims=keepdim)

    check_op(lambda t: getattr(t, name)(dim, keepdim=keepdim, **kwargs), reference, x)


def test_var_positional_unbiased_and_keepdim():
    x = mg.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], dtype=mg.float64)
    np.testing.assert_allclose(
        mg.var(x, 1, False, True).numpy(), np.var(x.numpy(), 1, ddof=0, keepdims=True)
    )


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_of_a_single_element_give_nan_not_an_error(name):
    # PyTorch: n - correction = 0 degrees of freedom gives nan (0 / 0), with no exception.
    x = mg.tensor([[1.0], [2.0]], dtype=mg.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        out = getattr(x, name)(1, correction=1)
    assert out.shape == (2,) and np.all(np.isnan(out.detach().numpy()))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_refuse_unbiased_with_correction(name):
    with pytest.raises(ValueError, match=f"{name}: .*either unbiased or correction"):
        getattr(mg, name)(mg.ones(3), unbiased=True, correction=1)


# -- MaxAll, MaxAlong, min -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_full_max_min(name, data):
    x = data.draw(distinct_tensors(SMALL))
    check_op(getattr(mg, name), getattr(np, name), x)
    if name == "max":
        assert mg.max(x).grad_fn.fn is MaxAll


@pytest.mark.parametrize("name", ["max", "min"])
@given(x=tied_tensors())
def test_full_max_min_split_the_gradient_evenly_among_ties(name, x):
    getattr(x, name)().backward()
    a = x.detach().numpy()
    ties = a == getattr(np, name)(a)
    np.testing.assert_allclose(x.grad.numpy(), ties / ties.sum())


def test_full_max_gradient_of_a_tie_pytorch_example():
    x = mg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_along_dim(name, data, keepdim):
    x = data.draw(distinct_tensors(SMALL))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    np_op, np_arg = getattr(np, name), getattr(np, f"arg{name}")

    def reference(a):
        indices = np_arg(a, axis=dim)
        return np_op(a, axis=dim, keepdims=keepdim), (
            np.expand_dims(indices, dim) if keepdim else indices
        )

    check_op(lambda t: tuple(getattr(mg, name)(t, dim, keepdim)), reference, x)
    result = getattr(x, name)(dim=dim, keepdim=keepdim)
    assert result.values is result[0] and result.indices is result[1]
    assert not result.indices.requires_grad
    assert name == "min" or result.values.grad_fn.fn is MaxAlong


@pytest.mark.parametrize("name", ["max", "min"])
@given(x=tied_tensors(), data=st.data())
def test_max_min_along_dim_send_the_gradient_to_the_returned_index(name, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    values, indices = getattr(x, name)(dim, keepdim=True)
    values.sum().backward()
    expected = np.zeros(x.shape)
    np.put_along_axis(expected, indices.numpy(), 1.0, axis=dim)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    first = getattr(np, f"arg{name}")(x.detach().numpy(), axis=dim)  # PyTorch: the first one
    np.testing.assert_array_equal(indices.numpy(), np.expand_dims(first, dim))


def test_max_along_the_dim_of_a_0d_tensor():
    x = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)
    values, indices = mg.max(x, 0)
    assert values is not x and values.grad_fn is not None
    assert indices.shape == () and indices.item() == 0
    check_op(lambda t: mg.max(t, -1).values, lambda a: a, x)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), shapes=mst.mutually_broadcastable_shapes(2, max_dims=3, max_side=3))
def test_max_min_of_two_tensors_is_elementwise(name, data, shapes):
    # The two tensors' values are never closer than 0.25, so there is no tie to split.
    x = data.draw(distinct_tensors(shapes[0]))
    y = data.draw(distinct_tensors(shapes[1], offset=0.5))
    check_op(getattr(mg, name), getattr(np, f"{name}imum"), x, y)


# -- logsumexp -------------------------------------------------------------------------------------


@given(data=st.data(), x=mst.tensors(SMALL), keepdim=st.booleans())
def test_logsumexp(data, x, keepdim):
    dim = data.draw(dims(x.ndim, allow_none=False))

    def reference(a):
        axis = np_axis(dim, a.ndim)
        m = np.max(a, axis=axis, keepdims=True)
        out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
        return out if keepdim else np.squeeze(out, axis)

    check_op(lambda t: mg.logsumexp(t, dim, keepdim), reference, x)


def test_logsumexp_is_stable_for_large_and_infinite_values():
    x = mg.tensor([[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, -np.inf]], dtype=mg.float64)
    with np.errstate(divide="ignore"):  # log(0) for the row of -inf
        out = x.logsumexp(1).numpy()
    np.testing.assert_allclose(out[:2], [1000 + np.log(2), -1000 + np.log(2)])
    assert out[2] == -np.inf


# -- argmax, argmin --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), keepdim=st.booleans())
def test_argmax_argmin_pick_the_first_extremum(name, data, keepdim):
    a = data.draw(mst.arrays(SMALL, dtype=np.int64, min_value=-2, max_value=2)).astype(float)
    dim = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    out = getattr(mg, name)(mg.tensor(a), dim=dim, keepdim=keepdim)
    expected = getattr(np, name)(a, axis=dim, keepdims=keepdim)
    assert out.dtype == mg.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), expected)


# -- errors ----------------------------------------------------------------------------------------

REDUCTIONS = {
    "sum": lambda x, d: x.sum(d),
    "mean": lambda x, d: x.mean(d),
    "var": lambda x, d: x.var(d),
    "std": lambda x, d: x.std(d),
    "max": lambda x, d: x.max(d),
    "min": lambda x, d: x.min(d),
    "logsumexp": lambda x, d: x.logsumexp(d),
    "argmax": lambda x, d: x.argmax(d),
    "argmin": lambda x, d: x.argmin(d),
}


MULTI_DIM = ["sum", "mean", "var", "std", "logsumexp"]  # the others take one dim


@pytest.mark.parametrize(
    "name, dim",
    [(name, d) for name in REDUCTIONS for d in (2, -3)] + [(name, (0, 2)) for name in MULTI_DIM],
)
def test_dim_out_of_range_raises(name, dim):
    with pytest.raises(IndexError, match=rf"{name}: dimension out of range .*\[-2, 1\]"):
        REDUCTIONS[name](mg.ones(2, 3), dim)


@pytest.mark.parametrize("name", MULTI_DIM)
def test_repeated_dim_raises(name):
    with pytest.raises(RuntimeError, match=rf"{name}: .*multiple times.*\(1, -1\)"):
        REDUCTIONS[name](mg.ones(2, 3), (1, -1))


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_extremum_of_an_empty_tensor_raises(name):
    with pytest.raises(RuntimeError, match=rf"{name}: .*empty"):
        getattr(mg, name)(mg.zeros(0))


# -- dtypes and devices ----------------------------------------------------------------------------

CASES = {
    "sum": (lambda x: x.sum((0, 2), keepdim=True), lambda a: a.sum((0, 2), keepdims=True)),
    "mean": (lambda x: x.mean(-1), lambda a: a.mean(-1)),
    "var": (lambda x: x.var(1, correction=0), lambda a: a.var(1)),
    "std": (lambda x: x.std(), lambda a: a.std(ddof=1)),
    "max": (lambda x: x.max(), np.max),
    "max_dim": (lambda x: x.max(1).values, lambda a: a.max(1)),
    "min_dim": (lambda x: x.min(0, keepdim=True)[0], lambda a: a.min(0, keepdims=True)),
    "logsumexp": (
        lambda x: x.logsumexp(2),
        lambda a: np.log(np.exp(a).sum(2)),
    ),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=str)
@pytest.mark.parametrize("case", CASES)
def test_reductions_keep_dtype_and_match_cpu_on(case, dtype, device):
    op, reference = CASES[case]
    a = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) / 7.0  # no ties
    x = mg.tensor(a, dtype=dtype, device=device, requires_grad=True)
    out = op(x)
    assert out.dtype == dtype and out.device == device
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(out.detach().cpu().numpy(), reference(a), rtol=tolerance)
    out.sum().backward()
    x64 = mg.tensor(a, dtype=mg.float64, requires_grad=True)
    op(x64).sum().backward()
    assert x.grad.dtype == dtype and x.grad.device == device
    np.testing.assert_allclose(x.grad.cpu().numpy(), x64.grad.numpy(), rtol=tolerance, atol=1e-6)
