"""The backward engine (``minigrad/autograd/engine.py``) and ``autograd.grad``.

Gradients are compared with analytic results computed in float64 NumPy; graph release is
checked with weak references; misuse raises RuntimeError with a message that says what
went wrong (DESIGN rules 2 and 5).
"""

from __future__ import annotations

import gc
import sys
import weakref

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import autograd

f64 = minigrad.float64


def leaf(values, dtype=f64):
    return minigrad.tensor(values, dtype=dtype, requires_grad=True)


def finite_arrays(shape=None, min_value=-3.0, max_value=3.0):
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4) if shape is None else shape
    return hnp.arrays(np.float64, shapes, elements=st.floats(min_value, max_value))


# -- gradients of graphs with shared sub-expressions -------------------------------------------
@given(finite_arrays())
def test_diamond_graph_sums_both_paths(x0):
    # x -> a = x*x, b = exp(x) -> a*b: d/dx = 2x e^x + x^2 e^x
    x = leaf(x0)
    a = x * x
    b = x.exp()
    (a * b).sum().backward()
    expected = (2 * x0 + x0**2) * np.exp(x0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert x.grad.dtype == f64 and x.grad.shape == x.shape


@given(finite_arrays(), st.integers(1, 12))
def test_tensor_used_many_times_gets_the_sum(x0, k):
    # y = sum_i (i+1) * x, each use a separate edge into the same leaf
    x = leaf(x0)
    total = x * 1.0
    for i in range(1, k):
        total = total + x * float(i + 1)
    total.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(x0.shape, k * (k + 1) / 2), rtol=1e-12)


def test_same_tensor_on_both_sides_of_an_op():
    x = leaf([1.5, -2.0])
    (x * x * x).sum().backward()  # d/dx x^3 = 3x^2
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.5, -2.0]) ** 2)


@given(
    hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    st.data(),
)
def test_broadcast_gradients_are_summed_to_the_input_shape(shapes, data):
    a0 = data.draw(finite_arrays(shapes.input_shapes[0]))
    b0 = data.draw(finite_arrays(shapes.input_shapes[1]))
    g0 = data.draw(finite_arrays(shapes.result_shape))
    a, b = leaf(a0), leaf(b0)
    (a * b).backward(gradient=minigrad.tensor(g0))

    def sum_to(v, shape):
        while v.ndim > len(shape):
            v = v.sum(axis=0)
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and v.shape[i] != 1)
        return v.sum(axis=axes, keepdims=True) if axes else v

    np.testing.assert_allclose(a.grad.numpy(), sum_to(g0 * b0, a0.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), sum_to(g0 * a0, b0.shape), rtol=1e-12, atol=1e-12)


# -- the engine is iterative -------------------------------------------------------------------
def test_ten_thousand_op_chain_has_no_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # far below the depth of the graph
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-10)


def test_ten_thousand_tanh_chain_value():
    x0 = 0.5
    x = leaf(x0)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    y.backward()
    expected, v = 1.0, x0
    for _ in range(10_000):
        v = np.tanh(v)
        expected *= 1 - v * v
    assert x.grad.item() == pytest.approx(expected, rel=1e-9)


# -- the graph is released after backward -------------------------------------------------------
def test_intermediates_saved_for_backward_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    a = x * 2  # an intermediate that Mul(a, a) saves
    ref = weakref.ref(a)
    loss = (a * a).sum()
    del a
    gc.collect()
    assert ref() is not None, "backward still needs a"
    loss.backward()
    gc.collect()
    assert ref() is None, "the saved intermediate outlived backward() (graph not released)"
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0]))


def test_saved_output_is_held_without_a_reference_cycle():
    # exp and tanh save their output; the node must not keep that output alive
    x = leaf([0.1, 0.2])
    gc.disable()
    try:
        for op in (lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid()):
            y = op(x)
            ref = weakref.ref(y)
            loss = y.sum()
            del y
            assert ref() is None, "the output was kept alive by its own grad_fn (a cycle)"
            loss.backward()  # the output is rebuilt from the saved array
    finally:
        gc.enable()
    s = 1 / (1 + np.exp(-np.array([0.1, 0.2])))
    expected = np.exp([0.1, 0.2]) + (1 - np.tanh([0.1, 0.2]) ** 2) + s * (1 - s)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_saved_zero_dim_output_works_with_retain_graph():
    # NumPy returns a scalar (not an array) for exp of a 0-d array: the saved output must
    # still be recognised as the node's output
    a = leaf(1.0)
    y = a.exp() * a
    y.backward(retain_graph=True)
    y.backward()
    assert a.grad.item() == pytest.approx(2 * 2 * np.e)


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time") as info:
        y.backward()
    assert "retain_graph=True" in str(info.value)


def test_retain_graph_allows_second_backward_and_accumulates():
    x0 = np.array([0.5, -1.0])
    x = leaf(x0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    expected = np.exp(x0) * (1 + x0)
    np.testing.assert_allclose(first, expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-12)


def test_gradient_accumulates_across_two_graphs():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * np.array([1.0, 2.0]))


# -- what is (not) recorded --------------------------------------------------------------------
def test_no_grad_records_no_graph():
    x = leaf([1.0])
    with minigrad.no_grad():
        y = x * 2 + 1
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0, 2.0]).sum().backward()


# -- the root gradient -------------------------------------------------------------------------
def test_non_scalar_without_gradient_names_the_shape():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


@given(finite_arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), st.data())
def test_backward_with_gradient_on_non_scalar(x0, data):
    g0 = data.draw(finite_arrays(x0.shape))
    x = leaf(x0)
    (x * x).backward(gradient=minigrad.tensor(g0))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x0 * g0, rtol=1e-12, atol=1e-12)


def test_backward_gradient_of_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(gradient=minigrad.ones(3, dtype=f64))


def test_backward_accepts_a_numpy_gradient():
    x = leaf([1.0, 2.0])
    (x * 2).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


# -- .grad of leaves ---------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_grads_of_two_leaves_never_alias(create_graph):
    # Add's backward hands the same tensor to both inputs
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=create_graph)
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad._data, b.grad._data)
    with minigrad.no_grad():
        a.grad.mul_(5)
    np.testing.assert_allclose(
        b.grad.numpy() if not create_graph else b.grad.detach().numpy(), [1.0, 1.0]
    )


def test_grad_does_not_alias_the_root_gradient():
    x = leaf([1.0, 2.0])
    g = minigrad.tensor([1.0, 1.0], dtype=f64)
    (x + 0).backward(gradient=g)
    with minigrad.no_grad():
        x.grad.add_(1)
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])


def test_backward_inputs_accumulates_only_into_those():
    a, b = leaf(2.0), leaf(3.0)
    c = a * b
    c.backward(inputs=[a], retain_graph=True)
    assert a.grad.item() == 3.0 and b.grad is None
    c.backward(inputs=[b])
    assert a.grad.item() == 3.0 and b.grad.item() == 2.0


def test_backward_inputs_may_be_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))
    assert x.grad is None


# -- retain_grad and hooks ---------------------------------------------------------------------
def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    y = h * 2
    (y * y).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * 2 * 2 * 3 * np.array([1.0, 2.0]))
    assert y.grad is None  # not retained


def test_retain_grad_on_non_leaf_used_twice_gets_the_sum():
    x = leaf(2.0)
    h = x * 1
    h.retain_grad()
    (h * 3 + h * h).backward()
    assert h.grad.item() == pytest.approx(3 + 2 * 2.0)


def test_leaf_hook_fires_once_with_summed_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x + x * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * np.array([1.0, 2.0]) + 3)
    np.testing.assert_allclose(x.grad.numpy(), seen[0])


def test_hook_can_replace_the_gradient_and_be_removed():
    x = leaf([1.0, 2.0])
    handle = x.register_hook(lambda g: g * 10)
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_non_leaf_hook_replaces_the_gradient_that_flows_on():
    x = leaf([1.0, 2.0])
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 0 + 5)
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 2 * np.array([1.0, 2.0]))  # hooks see the true grad
    np.testing.assert_allclose(h.grad.numpy(), [5.0, 5.0])  # retain_grad sees the hooked one
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])  # and so does the rest of the graph


def test_removed_non_leaf_hook_does_not_fire():
    x = leaf([1.0])
    h = x * 2
    calls = []
    handle = h.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()  # a second remove is harmless
    h.sum().backward()
    assert calls == []


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0]).register_hook(lambda g: g)


# -- autograd.grad -----------------------------------------------------------------------------
def test_grad_does_not_touch_dot_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    (g,) = autograd.grad((h * h).sum(), x)
    np.testing.assert_allclose(g.numpy(), 8 * np.array([1.0, 2.0]))
    assert x.grad is None


def test_grad_unused_input_raises_unless_allow_unused():
    x, unused = leaf(2.0), leaf(1.0)
    with pytest.raises(RuntimeError, match="input 1.*allow_unused"):
        autograd.grad(x * 2, [x, unused])
    gx, gu = autograd.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_materialize_grads_gives_zeros_for_unused():
    x, unused = leaf(2.0), leaf([1.0, 1.0])
    _, gu = autograd.grad(x * 2, [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(gu.numpy(), [0.0, 0.0])


@given(finite_arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), st.data())
def test_grad_multiple_outputs_with_grad_outputs(x0, data):
    v1 = data.draw(finite_arrays(x0.shape))
    v2 = data.draw(finite_arrays(x0.shape))
    x = leaf(x0)
    (g,) = autograd.grad([x * 2, x * x], x, grad_outputs=[minigrad.tensor(v1), minigrad.tensor(v2)])
    np.testing.assert_allclose(g.numpy(), 2 * v1 + 2 * x0 * v2, rtol=1e-12, atol=1e-12)


def test_grad_non_scalar_without_grad_outputs_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        autograd.grad(x * 2, x)


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * 3 * np.array([1.0, 2.0]))


def test_grad_input_that_does_not_require_grad_raises():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(x * 2, minigrad.tensor(1.0))


def test_grad_frees_the_graph_unless_retain_graph():
    x = leaf(1.5)
    y = x.exp()
    autograd.grad(y, x, retain_graph=True)
    (g,) = autograd.grad(y, x)
    assert g.item() == pytest.approx(np.exp(1.5))
    with pytest.raises(RuntimeError, match="second time"):
        autograd.grad(y, x)


@given(st.floats(-2.0, 2.0))
def test_third_derivative_of_x_to_the_4(x0):
    x = leaf(x0)
    (d1,) = autograd.grad(x**4, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert d1.item() == pytest.approx(4 * x0**3, abs=1e-12)
    assert d2.item() == pytest.approx(12 * x0**2, abs=1e-12)
    assert d3.item() == pytest.approx(24 * x0, abs=1e-12)
    assert d1.requires_grad and not d3.requires_grad
    assert x.grad is None


@given(st.floats(-3.0, 3.0))
def test_derivatives_of_sin_cycle(x0):
    x = leaf(x0)
    g = x.sin()
    expected = [np.cos(x0), -np.sin(x0), -np.cos(x0), np.sin(x0)]
    for want in expected:
        (g,) = autograd.grad(g, x, create_graph=True)
        assert g.item() == pytest.approx(want, abs=1e-12)


def test_backward_with_create_graph_leaves_grad_that_requires_grad():
    x = leaf(3.0)
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    assert x.grad.item() == 27.0
    (g2,) = autograd.grad(x.grad, x)
    assert g2.item() == 18.0


def test_mixed_partial_derivative():
    # f = x^2 y^3: d2f/dxdy = 6 x y^2
    x, y = leaf(1.5), leaf(-2.0)
    (fx,) = autograd.grad(x * x * y * y * y, x, create_graph=True)
    (fxy,) = autograd.grad(fx, y)
    assert fxy.item() == pytest.approx(6 * 1.5 * 4.0)


# -- the version counter (DESIGN rule 5) -------------------------------------------------------
def test_in_place_change_of_a_saved_output_raises():
    w = leaf([1.0, 2.0])
    y = w.exp()  # Exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="ExpBackward") as info:
        y.sum().backward()
    message = str(info.value)
    assert "in-place" in message and "version 1" in message and "version 0" in message


def test_in_place_change_of_a_saved_input_raises():
    w = leaf([1.0, 2.0])
    a = w * 1
    z = a * a  # Mul saves a
    a.mul_(2)
    with pytest.raises(RuntimeError, match=r"MulBackward.*version 1.*version 0"):
        z.sum().backward()


def test_in_place_under_no_grad_on_a_saved_tensor_is_also_caught():
    w = leaf([1.0, 2.0])
    a = w * 1
    z = a * a
    with minigrad.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match="MulBackward"):
        z.sum().backward()


def test_in_place_through_detach_is_caught():
    w = leaf([1.0, 2.0])
    y = w.exp()
    y.detach().zero_()  # detach shares data and version counter
    with pytest.raises(RuntimeError, match="ExpBackward"):
        y.sum().backward()


def test_in_place_through_a_view_bumps_the_base_version():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = w.exp()
    for view in (lambda t: t[0], lambda t: t.T, lambda t: t.reshape(4)):
        before = y._version
        with minigrad.no_grad():
            view(y).mul_(1.0)
        assert y._version == before + 1
    with pytest.raises(RuntimeError, match="ExpBackward"):
        y.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 5.0
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])


def test_in_place_under_no_grad_works_and_bumps_version():
    w = leaf([1.0, 2.0])
    before = w._version
    data = w._data
    with minigrad.no_grad():
        w.add_(1)
        w.mul_(2)
    assert w._version == before + 2
    assert w._data is data  # really in place
    np.testing.assert_array_equal(w.detach().numpy(), [4.0, 6.0])
    assert w.requires_grad and w.is_leaf


@given(finite_arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
def test_iadd_on_non_leaf_records_the_right_gradient(w0):
    w = leaf(w0)
    a = w * 1
    a += 1
    a *= 3
    (a * a).sum().backward()  # d/dw (3(w+1))^2 = 18 (w+1)
    np.testing.assert_allclose(w.grad.numpy(), 18 * (w0 + 1), rtol=1e-12, atol=1e-12)


def test_setitem_records_gradients_for_target_and_value():
    w = leaf([1.0, 2.0, 3.0])
    v = leaf(5.0)
    a = w * 1
    a[1] = v * 2
    (a * a).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 0.0, 6.0])  # the overwritten slot gets 0
    assert v.grad.item() == pytest.approx(2 * 10.0 * 2)


def test_setitem_with_a_mask():
    w = leaf([1.0, -2.0, 3.0])
    a = w * 1
    a[a < 0] = 0.0
    a.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 0.0, 1.0])


def test_in_place_on_a_view_of_a_tensor_requiring_grad_raises():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    a = w * 1
    for view in (lambda t: t.view(4), lambda t: t.T, lambda t: t[0], lambda t: t[:, 1]):
        with pytest.raises(RuntimeError, match="view"):
            view(a).add_(1)
    np.testing.assert_array_equal(a.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_leaf_saved_for_backward_then_stepped_under_no_grad_raises():
    # the classic mistake: an optimizer step between forward and backward
    w = leaf([1.0, 2.0])
    z = (w * w).sum()
    with minigrad.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match=r"MulBackward.*version 1.*version 0"):
        z.backward()


@pytest.mark.parametrize(
    "name, modify",
    [
        ("add_", lambda t: t.add_(1)),
        ("mul_", lambda t: t.mul_(2)),
        ("zero_", lambda t: t.zero_()),
        ("fill_", lambda t: t.fill_(2.0)),
        ("copy_", lambda t: t.copy_(minigrad.zeros(2, dtype=f64))),
        ("clamp_", lambda t: t.clamp_(0, 1)),
        ("uniform_", lambda t: t.uniform_()),
        ("__setitem__", lambda t: t.__setitem__(0, 1.0)),
    ],
)
def test_in_place_error_on_leaf_names_the_method(name, modify):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=rf"^{name}: a leaf tensor that requires grad"):
        modify(w)


def test_in_place_into_a_plain_tensor_from_one_requiring_grad_records():
    w = leaf([1.0, 2.0])
    buf = minigrad.zeros(2, dtype=f64)
    buf.add_(w)
    assert buf.requires_grad and not buf.is_leaf
    buf2 = minigrad.zeros(3, dtype=f64)
    buf2[1:] = w * 3
    ((buf * buf).sum() + buf2.sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([1.0, 2.0]) + 3)


def test_zero_and_fill_keep_a_non_leaf_in_the_graph():
    w = leaf([1.0, 2.0])
    v = leaf(3.0)
    a = w * 1
    a.zero_()
    assert a.requires_grad and a.grad_fn is not None
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0])
    b = w * 1
    b.fill_(v)
    (a * 2 + b * b + w).sum().backward()  # a and b no longer depend on w
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0])
    assert v.grad.item() == pytest.approx(2 * 2 * 3.0)


def test_backward_on_a_scalar_leaf_and_grad_of_a_tensor_by_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0
    (g,) = autograd.grad(x, x)
    assert g.item() == 1.0


def test_grad_with_the_same_input_twice():
    x = leaf(2.0)
    g1, g2 = autograd.grad(x * x, [x, x])
    assert g1.item() == g2.item() == 4.0


def test_grad_with_outputs_that_depend_on_each_other():
    x = leaf(2.0)
    y1 = x * 3
    y2 = y1 * y1
    (g,) = autograd.grad([y2, y1], x)  # d/dx (9x^2 + 3x)
    assert g.item() == pytest.approx(18 * 2.0 + 3)
