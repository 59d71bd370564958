"""Tests of minigrad.testing.gradcheck and gradgradcheck."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.autograd import Function
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck
from minigrad.testing import strategies as mst


def f64(values, requires_grad=True):
    return minigrad.tensor(values, dtype=minigrad.float64, requires_grad=requires_grad)


@pytest.fixture
def x():
    return f64([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]])


@pytest.fixture
def y():
    return f64([[0.5, 4.0, -1.0], [2.0, -0.75, 1.25]])


class WrongSquare(Function):
    """x * x with the factor 2 missing from its backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class DetachedSquare(Function):
    """x * x whose backward is right, but built from a detached x: no second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x.detach()


def numbers_after(label: str, message: str) -> float:
    match = re.search(rf"{label}\s*=\s*(\S+)", message)
    assert match is not None, message
    return float(match.group(1))


# -- passing checks -------------------------------------------------------------------------


def test_product(x, y):
    assert gradcheck(lambda a, b: a * b, (x, y)) is True


def test_sum_of_squares(x):
    assert gradcheck(lambda a: (a**2).sum(), (x,))


def test_single_tensor_input(x):
    assert gradcheck(lambda a: a * a, x)


def test_tuple_outputs(x, y):
    assert gradcheck(lambda a, b: (a * b, a + b, (a * a).sum()), (x, y))


def test_non_tensor_arguments(x):
    assert gradcheck(lambda a, k, mode: a * k if mode == "scale" else a, (x, 3.0, "scale"))


def test_unused_input(x, y):
    assert gradcheck(lambda a, b: a * 2, (x, y))


def test_input_without_grad_is_not_differentiated(x):
    constant = f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=False)
    assert gradcheck(lambda a, c: a * c, (x, constant))


def test_float32_input_without_grad_is_allowed(x):
    constant = minigrad.tensor([2.0, 3.0, 4.0], dtype=minigrad.float32)
    assert gradcheck(lambda a, c: a * c.double(), (x, constant))


def test_non_float_outputs_are_ignored(x):
    def func(a):
        return a * 3, minigrad.tensor([1, 2, 3]), "label"

    assert gradcheck(func, (x,))


def test_constant_output_passes(x):
    assert gradcheck(lambda a: (a * 2, f64([1.0, 2.0], requires_grad=False)), (x,))


def test_scalar_input_and_output():
    s = f64(1.5)
    assert gradcheck(lambda a: a * a * a, (s,))


def test_correct_custom_function(x):
    class Square(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 2 * a

    assert gradcheck(Square.apply, (x,))
    assert gradcheck(Square.apply, (x,), fast_mode=True)


def test_works_inside_no_grad(x):
    with minigrad.no_grad():
        assert gradcheck(lambda a: a * a, (x,))
        assert gradgradcheck(lambda a: a * a * a, (x,))
        assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)
        assert not gradgradcheck(DetachedSquare.apply, (x,), raise_exception=False)


def test_fast_mode_passes(x, y):
    assert gradcheck(lambda a, b: (a * b * b, (a**3).sum()), (x, y), fast_mode=True)


def test_inputs_are_restored_exactly(x, y):
    before = [x.detach().numpy().copy(), y.detach().numpy().copy()]
    gradcheck(lambda a, b: a * b, (x, y))
    gradcheck(lambda a, b: a * b, (x, y), fast_mode=True)
    assert np.array_equal(x.detach().numpy(), before[0])
    assert np.array_equal(y.detach().numpy(), before[1])


def test_inputs_are_restored_when_func_raises(x):
    before = x.detach().numpy().copy()
    calls = []

    def flaky(a):
        calls.append(None)
        if len(calls) == 3:  # during the finite differences
            raise ArithmeticError("boom")
        return a * 2

    with pytest.raises(ArithmeticError):
        gradcheck(flaky, (x,))
    assert np.array_equal(x.detach().numpy(), before)


# -- failing checks -------------------------------------------------------------------------


def test_wrong_backward_is_reported():
    a = f64([1.0, 2.0])
    b = f64([3.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda p, q: p.sum() + WrongSquare.apply(q), (a, b))
    message = str(info.value)
    assert "output 0" in message
    assert "input 1" in message
    assert "input 0" not in message
    assert "at index (0,)" in message
    assert numbers_after("analytical", message) == pytest.approx(3.0)
    assert numbers_after("numerical", message) == pytest.approx(6.0, rel=1e-6)
    assert "Analytical Jacobian" in message and "Numerical Jacobian" in message


def test_worst_element_is_named(x):
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, (x,))
    message = str(info.value)
    # d(x*x)/dx is 2x, the wrong backward gives x: the worst entry is where |x| is largest.
    assert "output 0 at index (1, 0)" in message
    assert "input 0 at index (1, 0)" in message
    assert numbers_after("analytical", message) == pytest.approx(3.0)
    assert numbers_after("numerical", message) == pytest.approx(6.0, rel=1e-6)
    assert "6 of 36 entries" in message


def test_large_jacobians_are_not_printed():
    big = f64(np.linspace(1.0, 2.0, 11))
    with pytest.raises(GradcheckError, match="not printed"):
        gradcheck(WrongSquare.apply, (big,))


def test_gradient_of_wrong_dtype_is_reported():
    a = f64([1.0, 2.0])
    a.register_hook(lambda g: g.float())
    with pytest.raises(GradcheckError, match="input 0 has dtype float32"):
        gradcheck(lambda t: t * 2, (a,))


def test_gradient_of_wrong_shape_is_reported():
    a = f64([1.0, 2.0])
    a.register_hook(lambda g: g.sum())
    with pytest.raises(GradcheckError, match=r"input 0 has shape \(\)"):
        gradcheck(lambda t: t * 2, (a,))


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(GradcheckError, RuntimeError)


def test_raise_exception_false_returns_false(x):
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_fast_mode_catches_wrong_backward(x):
    with pytest.raises(GradcheckError, match="fast_mode") as info:
        gradcheck(WrongSquare.apply, (x,), fast_mode=True)
    assert "input 0" in str(info.value)
    assert gradcheck(WrongSquare.apply, (x,), fast_mode=True, raise_exception=False) is False


def test_lost_graph_is_caught(x):
    # The output does not require grad, yet it depends on x.
    with pytest.raises(GradcheckError, match="output 0 with respect to input 0"):
        gradcheck(lambda a: a.detach() * 2, (x,))


def test_float32_input_raises(x):
    single = minigrad.tensor([1.0, 2.0], dtype=minigrad.float32, requires_grad=True)
    with pytest.raises(ValueError, match=r"input 1 .*float32.*float64"):
        gradcheck(lambda a, b: a.sum() + b.sum(), (x, single))


def test_no_input_requiring_grad_raises():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda a: a * 2, (f64([1.0], requires_grad=False),))


def test_mutating_function_is_caught(x):
    def mutate(a):
        a.detach().numpy()[...] += 1.0
        return a * 2

    with pytest.raises(GradcheckError, match="modified input 0 in place"):
        gradcheck(mutate, (x,))


def test_nondeterministic_backward():
    rng = np.random.default_rng(1)

    class Noisy(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            noise = minigrad.tensor(rng.uniform(-1e-12, 1e-12, size=a.shape))
            return grad * 2 * a + noise

    a = f64([1.0, 2.0])
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (a,))
    assert gradcheck(Noisy.apply, (a,), nondet_tol=1e-10)


# -- second order ---------------------------------------------------------------------------


def test_gradgradcheck_cube_sum(x):
    assert gradgradcheck(lambda a: (a**3).sum(), (x,)) is True


def test_gradgradcheck_product(x, y):
    assert gradgradcheck(lambda a, b: a * b * b, (x, y))
    assert gradgradcheck(lambda a, b: a * b * b, (x, y), fast_mode=True)


def test_gradgradcheck_with_given_grad_outputs(x, y):
    upstream = f64(np.full((2, 3), 0.5))
    assert gradgradcheck(lambda a, b: a * b * b, (x, y), upstream)


def test_gradgradcheck_detached_backward_fails(x):
    # First order is right...
    assert gradcheck(DetachedSquare.apply, (x,))
    # ...but the second derivative through the detached x is lost.
    with pytest.raises(GradcheckError, match="input 0") as info:
        gradgradcheck(DetachedSquare.apply, (x,))
    assert "gradgradcheck" in str(info.value)
    assert gradgradcheck(DetachedSquare.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(DetachedSquare.apply, (x,), fast_mode=True, raise_exception=False) is False


def test_gradgradcheck_nothing_to_check(x):
    w = f64([2.0])  # the output depends on w only, which is not an input
    assert gradgradcheck(lambda a: w * 2, (x,))


def test_gradgradcheck_float32_raises():
    single = minigrad.tensor([1.0], dtype=minigrad.float32, requires_grad=True)
    with pytest.raises(ValueError, match="input 0"):
        gradgradcheck(lambda a: a * a, (single,))


# -- with the strategies --------------------------------------------------------------------


@settings(deadline=None, max_examples=15)
@given(data=st.data(), shapes=mst.mutually_broadcastable_shapes(max_dims=3, max_side=3))
def test_broadcasting_product_property(data, shapes):
    a = data.draw(mst.tensors(shapes[0]))
    b = data.draw(mst.tensors(shapes[1]))
    assert gradcheck(lambda p, q: p * q, (a, b))


@settings(deadline=None, max_examples=15)
@given(t=mst.tensors(mst.shapes(max_dims=2, max_side=3), avoid=(0.0,)))
def test_abs_away_from_its_kink_property(t):
    assert gradcheck(lambda a: a.abs(), (t,))
    assert gradcheck(lambda a: a.abs(), (t,), fast_mode=True)
