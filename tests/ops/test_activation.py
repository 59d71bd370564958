"""Property tests for ``minigrad/ops/activation.py``: ReLU, LeakyReLU, GELU, Softplus,
Softmax and LogSoftmax, declared as ``Case`` rows and run by the same three property
tests as the elementwise ops (``make_op_tests`` in ``test_elementwise.py``).

Below the table: numerical care at ±1e4 (DESIGN rule 6), PyTorch's conventions at the
kinks, the legacy default ``dim`` of softmax, and the error messages.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.ops import activation as act
from minigrad.testing import strategies as mst
from tests.ops.test_elementwise import ANY, Case, avoid_zero_in, make_op_tests

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
_erf = np.vectorize(math.erf, otypes=[float])
_TANH_C = math.sqrt(2 / math.pi)


def _slope(shapes):
    slope = st.floats(0.0, 0.5, allow_nan=False)
    return st.fixed_dictionaries({"negative_slope": slope})


def _beta_threshold(shapes):
    return st.fixed_dictionaries(
        {"beta": st.floats(0.5, 3.0), "threshold": st.floats(1.0, 20.0)}
    )


def _avoid_threshold(params: dict, drawn: list) -> tuple:
    # the switch to the linear branch jumps by ln(1 + e^-t) / beta (2e-9 at t = 20)
    return (params["threshold"] / params["beta"],)


def _dim(shapes):
    ndim = len(shapes[0])
    return st.integers(-ndim, ndim - 1).map(lambda d: {"dim": d})


def _softplus(x, beta, threshold):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _softmax(x, dim):
    # the textbook formula, without the max shift (|x| <= 10 cannot overflow)
    e = np.exp(x)
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax(x, dim):
    return x - np.log(np.exp(x).sum(axis=dim, keepdims=True))


CASES = [
    Case("ReLU", (act.ReLU,), act.relu, lambda x: np.maximum(x, 0.0), (ANY,), avoid_zero_in(0)),
    Case("LeakyReLU", (act.LeakyReLU,), act.leaky_relu,
         lambda x, negative_slope: np.where(x > 0, x, negative_slope * x), (ANY,),
         avoid_zero_in(0), params=_slope),
    # 1 + erf(x / sqrt 2) cancels for x << 0: both sides are exact only to an ulp of 1
    Case("GELU-none", (act.GELU,), act.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
         (ANY,), atol=1e-15),
    Case("GELU-tanh", (act.GELU,), lambda x: act.gelu(x, approximate="tanh"),
         lambda x: 0.5 * x * (1 + np.tanh(_TANH_C * (x + 0.044715 * x**3))), (ANY,), atol=1e-15),
    Case("Softplus", (act.Softplus,), act.softplus, _softplus, (ANY,), _avoid_threshold,
         params=_beta_threshold),
    Case("Softmax", (act.Softmax,), act.softmax, _softmax, (ANY,), params=_dim, min_dims=1),
    # log-softmax values near 0 carry an absolute error of an ulp of |x| (x - m - log s)
    Case("LogSoftmax", (act.LogSoftmax,), act.log_softmax, _log_softmax, (ANY,), params=_dim,
         min_dims=1, atol=1e-13),
]

test_forward, test_gradient, test_second_order = make_op_tests(CASES)


# -- numerical care (DESIGN rule 6) ---------------------------------------------------------------
EXTREMES = [-1e4, -800.0, 0.0, 800.0, 1e4]
STABLE = [
    # (id, op, expected values at EXTREMES, expected gradients of the sum)
    ("Softplus", act.softplus, [0.0, 0.0, math.log(2), 800.0, 1e4], [0.0, 0.0, 0.5, 1.0, 1.0]),
    ("Softplus: log1p branch at 1e4",
     lambda x: act.softplus(x, beta=1.0, threshold=1e5),
     [0.0, 0.0, math.log(2), 800.0, 1e4], [0.0, 0.0, 0.5, 1.0, 1.0]),
    ("Softplus: beta 2",
     lambda x: act.softplus(x, beta=2.0, threshold=1e5),
     [0.0, 0.0, math.log(2) / 2, 800.0, 1e4], [0.0, 0.0, 0.5, 1.0, 1.0]),
    ("GELU-none", act.gelu, [0.0, 0.0, 0.0, 800.0, 1e4], [0.0, 0.0, 0.5, 1.0, 1.0]),
    ("GELU-tanh", lambda x: act.gelu(x, approximate="tanh"), [0.0, 0.0, 0.0, 800.0, 1e4],
     [0.0, 0.0, 0.5, 1.0, 1.0]),
    ("ReLU", act.relu, [0.0, 0.0, 0.0, 800.0, 1e4], [0.0, 0.0, 0.0, 1.0, 1.0]),
    ("Softmax", lambda x: act.softmax(x, 0), [0.0, 0.0, 0.0, 0.0, 1.0], [0.0] * 5),
    ("LogSoftmax", lambda x: act.log_softmax(x, 0), [-2e4, -10800.0, -1e4, -9200.0, 0.0],
     [1.0, 1.0, 1.0, 1.0, -4.0]),
]


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "op, values, grads", [row[1:] for row in STABLE], ids=[row[0] for row in STABLE]
)
def test_exact_and_warning_free_at_extremes(op, values, grads, dtype):
    x = minigrad.tensor(EXTREMES, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no 0 * inf, no log(0)
        y = op(x)
        y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), values, rtol=1e-6, atol=0)
    np.testing.assert_allclose(x.grad.numpy(), grads, rtol=1e-6, atol=1e-30)


@given(data=st.data(), dtype=st.sampled_from([F64, F32]))
def test_softmax_is_a_distribution_for_any_logits(data, dtype):
    """Softmax (and exp of LogSoftmax) sums to 1 along dim, with no NaN, even at ±1e4."""
    shape = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = minigrad.tensor(data.draw(mst.arrays(shape, dtype, -1e4, 1e4), label="logits"))
    tolerance = 1e-12 if dtype == F64 else 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = act.softmax(x, dim).numpy()
        log_p = act.log_softmax(x, dim).numpy()
    assert p.dtype == dtype and log_p.dtype == dtype
    assert np.isfinite(log_p).all() and (log_p <= 0).all()
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=dim), 1.0, rtol=tolerance)
    np.testing.assert_allclose(np.exp(log_p.astype(F64)).sum(axis=dim), 1.0, rtol=tolerance)


# -- PyTorch's conventions -----------------------------------------------------------------------
KINKS = [
    # (id naming the Function, op, input values, expected gradient of the sum)
    ("ReLU: relu'(0) = 0", act.relu, [0.0, -1.0, 2.0], [0.0, 0.0, 1.0]),
    ("LeakyReLU: slope at 0, as PyTorch", lambda x: act.leaky_relu(x, 0.2), [0.0, -1.0, 2.0],
     [0.2, 0.2, 1.0]),
    ("Softplus: exactly 1 above the threshold", lambda x: act.softplus(x, 2.0, 4.0),
     [2.5, 2.0], [1.0, 1 / (1 + math.exp(-4.0))]),
]


@pytest.mark.parametrize(
    "op, values, expected", [row[1:] for row in KINKS], ids=[row[0] for row in KINKS]
)
def test_subgradients_follow_pytorch(op, values, expected):
    x = minigrad.tensor(values, dtype=minigrad.float64, requires_grad=True)
    op(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15)


@pytest.mark.parametrize("ndim, dim", [(1, 0), (2, 1), (3, 0), (4, 1)])
@pytest.mark.parametrize("op", [act.softmax, act.log_softmax], ids=["Softmax", "LogSoftmax"])
def test_softmax_default_dim_is_pytorch_legacy_choice(op, ndim, dim):
    x = minigrad.tensor(np.random.default_rng(0).normal(size=(2,) * ndim))
    np.testing.assert_array_equal(op(x).numpy(), op(x, dim).numpy())


def test_softmax_dtype_argument_casts_first():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float32)
    assert act.softmax(x, 0, dtype=minigrad.float64).dtype == F64
    assert act.log_softmax(x, 0, dtype=minigrad.float64).dtype == F64


def test_relu_keeps_integer_dtype():
    assert act.relu(minigrad.tensor([-1, 2])).tolist() == [0, 2]
    assert act.relu(minigrad.tensor([-1, 2])).dtype == minigrad.int64


@pytest.mark.parametrize("op", [act.softmax, act.log_softmax], ids=["Softmax", "LogSoftmax"])
def test_softmax_of_a_0d_tensor(op):
    """PyTorch accepts dim 0 (or -1) on a 0-d tensor: one class, probability 1."""
    x = minigrad.tensor(1.5, dtype=minigrad.float64, requires_grad=True)
    y = op(x, 0)
    assert y.shape == () and y.item() == (1.0 if op is act.softmax else 0.0)
    y.backward()
    assert x.grad.item() == 0.0


# -- errors ----------------------------------------------------------------------------------------
ERRORS = [
    ("GELU: bad approximate", lambda: act.gelu(minigrad.ones(2), approximate="erf"), ValueError,
     r"gelu: approximate must be 'none' or 'tanh', got 'erf'"),
    ("Softmax: dim out of range", lambda: act.softmax(minigrad.ones((2, 3)), 2), IndexError,
     r"softmax: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    *[
        (f"{name}: integer input", lambda f=f: f(minigrad.tensor([-1, 2])), RuntimeError,
         rf"{name}: expected a floating point input, got int64")
        for name, f in [("leaky_relu", act.leaky_relu), ("gelu", act.gelu),
                        ("softplus", act.softplus), ("softmax", lambda t: act.softmax(t, 0)),
                        ("log_softmax", lambda t: act.log_softmax(t, 0))]
    ],
    ("LogSoftmax: dim out of range", lambda: act.log_softmax(minigrad.ones(3), -2), IndexError,
     r"log_softmax: dimension out of range"),
]


@pytest.mark.parametrize(
    "call, exception, message", [row[1:] for row in ERRORS], ids=[row[0] for row in ERRORS]
)
def test_bad_input_raises_naming_the_op(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
