"""Tests for minigrad/nn/utils.py: gradient clipping, parameter vectors, L1/L2 penalties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
from minigrad.nn import Parameter
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst


def params_with_grads(grads, dtype=minigrad.float64):
    params = []
    for g in grads:
        p = Parameter(minigrad.zeros(*g.shape, dtype=dtype))
        p.grad = minigrad.tensor(g, dtype=dtype)
        params.append(p)
    return params


def reference_clip(grads, max_norm, norm_type):
    """NumPy: the joint norm of all gradients and the clipped gradients."""
    flat = np.concatenate([g.ravel() for g in grads])
    if norm_type == math.inf:
        total = np.abs(flat).max()
    else:
        total = (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    return total, [g * coef for g in grads]


@given(
    data=st.data(),
    shapes=st.lists(mst.shapes(min_dims=1, max_dims=3, max_side=4), min_size=1, max_size=3),
    max_norm=st.floats(0.1, 50.0),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_clip_grad_norm_matches_numpy(data, shapes, max_norm, norm_type):
    grads = [data.draw(mst.arrays(s)) for s in shapes]
    params = params_with_grads(grads)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    expected_total, expected = reference_clip(grads, max_norm, norm_type)
    assert isinstance(total, minigrad.Tensor) and total.ndim == 0
    np.testing.assert_allclose(total.item(), expected_total, rtol=1e-12)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-12, atol=1e-300)


def test_clip_grad_norm_scales_in_place_and_skips_missing_grads():
    a, b = params_with_grads([np.array([3.0, 0.0]), np.array([[4.0]])], dtype=minigrad.float32)
    c = Parameter(minigrad.zeros(2))  # no grad: ignored
    grad_a = a.grad
    total = nn.utils.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    assert total.dtype == minigrad.float32
    assert a.grad is grad_a  # in place
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [[0.8]], rtol=1e-5)
    assert c.grad is None
    # below the threshold nothing changes
    total = nn.utils.clip_grad_norm_(iter([a, b]), max_norm=10.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    # a single tensor is accepted, and no grads at all gives a zero norm
    assert nn.utils.clip_grad_norm_(a, 100.0).item() == pytest.approx(0.6, rel=1e-5)
    assert nn.utils.clip_grad_norm_([c], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    (p,) = params_with_grads([np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, np.inf])  # untouched when it raises
    with np.errstate(invalid="ignore"):  # inf * 0: the gradients become NaN, as in PyTorch
        total = nn.utils.clip_grad_norm_([p], 1.0)
    assert math.isinf(total.item())
    assert np.isnan(p.grad.numpy()[1])


def test_clip_grad_norm_on_a_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    (model(minigrad.randn(8, 3)) * 100).sum().backward()
    grads = [p.grad.numpy().astype(np.float64).copy() for p in model.parameters()]
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    expected_total, expected = reference_clip(grads, 0.5, 2.0)
    assert total.item() == pytest.approx(expected_total, rel=1e-5)
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-4, atol=1e-7)
    joint = math.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum()
                          for p in model.parameters()))
    assert joint == pytest.approx(0.5, rel=1e-4)


def test_clip_grad_value():
    a, b = params_with_grads([np.array([-3.0, 0.5, 2.0]), np.array([[0.1, -0.2]])])
    c = Parameter(minigrad.zeros(1))
    assert nn.utils.clip_grad_value_([a, b, c], 1.0) is None
    np.testing.assert_array_equal(a.grad.numpy(), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [[0.1, -0.2]])
    assert c.grad is None


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1, bias=False))
    params = list(model.parameters())
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (6 + 2 + 2,)
    np.testing.assert_array_equal(
        vec.detach().numpy(),
        np.concatenate([p.detach().numpy().ravel() for p in params]))
    vec.sum().backward()  # differentiable, like PyTorch's
    assert all(np.array_equal(p.grad.numpy(), np.ones(p.shape)) for p in params)

    new = minigrad.arange(10, dtype=minigrad.float32)
    nn.utils.vector_to_parameters(new, model.parameters())
    assert all(a is b for a, b in zip(model.parameters(), params))  # identity kept
    np.testing.assert_array_equal(params[0].detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(params[1].detach().numpy(), [6.0, 7.0])
    np.testing.assert_array_equal(params[2].detach().numpy(), [[8.0, 9.0]])
    assert all(p.requires_grad and p.is_leaf for p in params)
    with pytest.raises(ValueError, match="vec has 9 elements but the parameters hold 10"):
        nn.utils.vector_to_parameters(minigrad.zeros(9), model.parameters())
    with pytest.raises(ValueError, match="expected a 1-D vec"):
        nn.utils.vector_to_parameters(minigrad.zeros(2, 5), model.parameters())
    with pytest.raises(TypeError, match="expected vec to be a Tensor"):
        nn.utils.vector_to_parameters([0.0] * 10, model.parameters())


@given(data=st.data(), shapes=st.lists(mst.shapes(min_dims=1, max_dims=2, max_side=3),
                                       min_size=1, max_size=3))
def test_penalties_values_and_gradients(data, shapes):
    ps = [data.draw(mst.tensors(s, avoid=(0.0,))) for s in shapes]  # |x| has a kink at 0
    arrays = [p.detach().numpy() for p in ps]
    l1 = nn.utils.l1_penalty(ps)
    l2 = nn.utils.l2_penalty(iter(ps))
    np.testing.assert_allclose(l1.item(), sum(np.abs(a).sum() for a in arrays), rtol=1e-12)
    np.testing.assert_allclose(l2.item(), sum((a * a).sum() for a in arrays), rtol=1e-12)
    assert gradcheck(lambda *t: nn.utils.l1_penalty(t), tuple(ps))
    assert gradcheck(lambda *t: nn.utils.l2_penalty(t), tuple(ps))
    assert gradgradcheck(lambda *t: nn.utils.l2_penalty(t), tuple(ps))


def test_regularised_loss_gradient():
    """J + lam/(2m) * sum(theta^2) adds lam/m * theta to the gradient (L2), lam/(2m) sign (L1)."""
    model = nn.Linear(3, 1, dtype=minigrad.float64)
    x = minigrad.randn(5, 3, dtype=minigrad.float64)
    lam, m = 0.3, 5
    data_loss = lambda: ((model(x) - 1.0) ** 2).mean()  # noqa: E731
    data_loss().backward()
    base = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    (data_loss() + lam / (2 * m) * nn.utils.l2_penalty(model.parameters())).backward()
    for p, g in zip(model.parameters(), base):
        np.testing.assert_allclose(p.grad.numpy(), g + lam / m * p.detach().numpy(), rtol=1e-12)
    model.zero_grad()
    (data_loss() + lam / (2 * m) * nn.utils.l1_penalty(model.parameters())).backward()
    for p, g in zip(model.parameters(), base):
        np.testing.assert_allclose(p.grad.numpy(),
                                   g + lam / (2 * m) * np.sign(p.detach().numpy()), rtol=1e-12)


def test_penalty_of_nothing_is_zero_and_type_errors():
    assert nn.utils.l1_penalty([]).item() == 0.0
    assert nn.utils.l2_penalty([]).item() == 0.0
    with pytest.raises(TypeError, match="l2_penalty: expected an iterable of Tensors, element 1"):
        nn.utils.l2_penalty([minigrad.zeros(1), 3.0])


def test_importable_as_module():
    import minigrad.nn.utils as utils

    assert utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
