"""The public, PyTorch-style ``autograd.Function`` (``minigrad/autograd/function.py``)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import autograd
from minigrad.autograd import Function

f64 = minigrad.float64


def leaf(values):
    return minigrad.tensor(values, dtype=f64, requires_grad=True)


class ScaledMul(Function):
    """forward(ctx, x, y, alpha) = alpha * x * y, with a non-tensor argument."""

    seen = {}

    @staticmethod
    def forward(ctx, x, y, alpha):
        ScaledMul.seen = {
            "types": (type(x), type(y), type(alpha)),
            "grad_enabled": minigrad.is_grad_enabled(),
            "needs_input_grad": ctx.needs_input_grad,
        }
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return x * y * alpha

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        ScaledMul.seen["backward_needs"] = ctx.needs_input_grad
        gx = grad * y * ctx.alpha if ctx.needs_input_grad[0] else None
        gy = grad * x * ctx.alpha if ctx.needs_input_grad[1] else None
        return gx, gy, None


@given(
    # no subnormals: their products round differently with the order of multiplication
    hnp.arrays(
        np.float64,
        hnp.array_shapes(max_dims=2, max_side=4),
        elements=st.floats(-3, 3, allow_subnormal=False),
    ),
    st.floats(-2, 2, allow_subnormal=False),
)
def test_forward_gets_tensors_and_backward_uses_saved_tensors(x0, alpha):
    x, y = leaf(x0), leaf(x0[::-1].copy())
    out = ScaledMul.apply(x, y, alpha)
    types = ScaledMul.seen["types"]
    assert types[0] is minigrad.Tensor and types[1] is minigrad.Tensor and types[2] is float
    assert ScaledMul.seen["grad_enabled"] is False  # forward runs without recording
    assert out.grad_fn is not None and out.grad_fn.name() == "ScaledMulBackward"
    np.testing.assert_allclose(out.detach().numpy(), alpha * x0 * x0[::-1])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), alpha * x0[::-1], atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), alpha * x0, atol=1e-12)


def test_needs_input_grad_in_forward_and_backward():
    x, y = leaf([1.0, 2.0]), minigrad.tensor([3.0, 4.0], dtype=f64)
    ScaledMul.apply(x, y, 2.0).sum().backward()
    assert ScaledMul.seen["needs_input_grad"] == (True, False, False)
    assert ScaledMul.seen["backward_needs"] == (True, False, False)
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])
    assert y.grad is None


def test_needs_input_grad_is_all_false_when_nothing_is_recorded():
    x = leaf([1.0])
    with minigrad.no_grad():
        out = ScaledMul.apply(x, x, 1.0)
    assert ScaledMul.seen["needs_input_grad"] == (False, False, False)
    assert out.grad_fn is None and not out.requires_grad


def test_saved_output_is_rebuilt_and_version_checked():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    x = leaf([0.5, 1.0])
    Exp.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))

    y = Exp.apply(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"ExpBackward.*in-place"):
        y.sum().backward()


def test_saved_tensors_after_backward_raise():
    x = leaf([1.0])
    out = ScaledMul.apply(x, x, 1.0)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.grad_fn.saved_tensors


def test_mark_non_differentiable_and_multiple_outputs():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.detach().numpy(), kind="stable")
            idx = minigrad.tensor(order)
            values = x[idx]
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.n = x.shape[0]
            return values, idx

        @staticmethod
        def backward(ctx, grad_values, grad_idx):
            (idx,) = ctx.saved_tensors
            assert grad_idx is None or not grad_idx.detach().numpy().any()
            out = minigrad.zeros(ctx.n, dtype=grad_values.dtype)
            out[idx] = grad_values
            return out

    x = leaf([3.0, 1.0, 2.0])
    values, idx = SortWithIndex.apply(x)
    assert not idx.requires_grad and idx.grad_fn is None
    assert values.requires_grad and values.grad_fn is not None
    np.testing.assert_array_equal(idx.numpy(), [1, 2, 0])
    (values * minigrad.tensor([1.0, 10.0, 100.0], dtype=f64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


class Split2(Function):
    """Two outputs: 2x and 3x; records what backward received."""

    received = None
    materialize = True

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(Split2.materialize)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        Split2.received = (g1, g2)
        total = None
        for g, k in ((g1, 2), (g2, 3)):
            if g is not None:
                total = g * k if total is None else total + g * k
        return total


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(materialize):
    Split2.materialize = materialize
    x = leaf([1.0, 2.0])
    a, b = Split2.apply(x)
    a.sum().backward()  # b gets no gradient
    g1, g2 = Split2.received
    np.testing.assert_allclose(g1.numpy(), [1.0, 1.0])
    if materialize:
        np.testing.assert_array_equal(g2.numpy(), [0.0, 0.0])
    else:
        assert g2 is None
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_both_outputs_contribute():
    Split2.materialize = True
    x = leaf([1.0, 2.0])
    a, b = Split2.apply(x)
    (a + b * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + 3 * 2 * 3 * np.array([1.0, 2.0]))


def test_wrong_number_of_gradients_raises():
    class TwoInputsOneGrad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"TwoInputsOneGradBackward.*1 gradients.*expected 2"):
        TwoInputsOneGrad.apply(x, x).sum().backward()


def test_wrong_gradient_shape_names_function_and_shapes():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad  # shape () instead of x's (2, 3)

    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"BadShapeBackward.*\(\).*\(2, 3\)"):
        BadShape.apply(x).backward()


def test_non_tensor_gradient_raises_type_error():
    class ReturnsArray(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.detach().numpy()

    x = leaf([1.0])
    with pytest.raises(TypeError, match="ReturnsArrayBackward"):
        ReturnsArray.apply(x).sum().backward()


class Cube(Function):
    """y = x^3, backward written with ops so it is differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


@given(st.floats(-3.0, 3.0))
def test_custom_function_under_create_graph(x0):
    x = leaf(x0)
    y = Cube.apply(x)
    (d1,) = autograd.grad(y, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert d1.item() == pytest.approx(3 * x0**2, abs=1e-12)
    assert d2.item() == pytest.approx(6 * x0, abs=1e-12)
    assert d3.item() == pytest.approx(6.0)


def test_custom_function_passes_gradcheck():
    from minigrad.testing import gradcheck, gradgradcheck

    x = leaf([[0.3, -1.2], [2.0, 0.7]])
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_custom_function_without_grad_records_nothing():
    out = Cube.apply(minigrad.tensor([2.0]))
    assert out.grad_fn is None and not out.requires_grad
    assert out.item() == 8.0


def test_custom_function_returning_an_integer_tensor_is_not_differentiable():
    class Round(Function):
        @staticmethod
        def forward(ctx, x):
            return minigrad.tensor(np.round(x.detach().numpy()).astype(np.int64))

        @staticmethod
        def backward(ctx, grad):
            return grad

    out = Round.apply(leaf([1.4, 2.6]))
    assert out.dtype == minigrad.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [1, 3])


def test_array_function_forward_gets_arrays():
    class Double(autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            assert isinstance(x, np.ndarray)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = leaf([1.0, 2.0])
    Double.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_saved_non_differentiable_output_is_rebuilt_without_grad():
    class MaxAndMask(Function):
        seen = []

        @staticmethod
        def forward(ctx, x):
            mask = x == x.max()
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(mask)
            return x.max(), mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            (mask,) = ctx.saved_tensors
            MaxAndMask.seen.append((mask.requires_grad, mask.grad_fn))
            return mask.to(grad.dtype) * grad

    x = leaf([1.0, 3.0, 2.0])
    m, mask = MaxAndMask.apply(x)
    assert not mask.requires_grad
    (g,) = autograd.grad(m * m, x, create_graph=True)  # 2 m * mask
    (g2,) = autograd.grad(g.sum(), x)
    assert MaxAndMask.seen[0] == (False, None)
    np.testing.assert_allclose(g.detach().numpy(), [0.0, 6.0, 0.0])
    np.testing.assert_allclose(g2.numpy(), [0.0, 2.0, 0.0])
