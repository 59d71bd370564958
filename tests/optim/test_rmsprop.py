"""Tests for minigrad/optim/rmsprop.py: RMSprop against a float64 reference of PyTorch's rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import RMSprop
from tests.optim.steps import run_optimizer

STEPS = 6


def reference_rmsprop(theta, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                      momentum=0.0, centered=False, maximize=False):
    """RMSprop as PyTorch documents it, step by step in float64; every iterate."""
    theta = theta.copy()
    v = np.zeros_like(theta)
    g_avg = np.zeros_like(theta)
    b = np.zeros_like(theta)
    out = []
    for grad in grads:
        g = -grad if maximize else grad.copy()
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(theta.copy())
    return out


OPTIONS = {
    "plain": {},
    "momentum": {"momentum"},
    "centered": {"centered"},
    "weight_decay": {"weight_decay"},
    "maximize": {"maximize"},
    "everything": {"momentum", "centered", "weight_decay", "maximize"},
}


@pytest.mark.parametrize("option", OPTIONS)
@settings(max_examples=10)
@given(
    shape=st.sampled_from([(3,), (2, 3), (1,), (4, 1, 2)]),
    seed=st.integers(0, 2**32 - 1),
    lr=st.floats(1e-4, 0.1),
    alpha=st.floats(0.5, 0.999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]),
    momentum=st.floats(0.1, 0.99),
    weight_decay=st.floats(1e-3, 0.5),
)
def test_rmsprop_matches_reference(option, shape, seed, lr, alpha, eps, momentum, weight_decay):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    chosen = OPTIONS[option]
    kwargs = {"lr": lr, "alpha": alpha, "eps": eps}
    if "momentum" in chosen:
        kwargs["momentum"] = momentum
    if "weight_decay" in chosen:
        kwargs["weight_decay"] = weight_decay
    for flag in ("centered", "maximize"):
        if flag in chosen:
            kwargs[flag] = True
    got, _, _ = run_optimizer(lambda ps: RMSprop(ps, **kwargs), theta, grads)
    expected = reference_rmsprop(theta, grads, **kwargs)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {step + 1}")


def test_rmsprop_defaults_and_state_keys():
    theta = np.array([1.0, -1.0])
    grads = [np.array([0.5, 2.0])] * 3
    _, opt, p = run_optimizer(lambda ps: RMSprop(ps), theta, grads)
    group = opt.param_groups[0]
    assert (group["lr"], group["alpha"], group["eps"]) == (0.01, 0.99, 1e-8)
    assert (group["weight_decay"], group["momentum"], group["centered"]) == (0, 0, False)
    assert list(opt.state[p]) == ["step", "square_avg"]
    assert opt.state[p]["step"].item() == 3.0
    _, opt, p = run_optimizer(lambda ps: RMSprop(ps, momentum=0.5, centered=True), theta, grads)
    assert set(opt.state[p]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -1e-3}, r"RMSprop: invalid learning rate lr=-0\.001"),
        ({"eps": -1.0}, r"RMSprop: invalid epsilon value eps=-1\.0"),
        ({"momentum": -0.1}, r"RMSprop: invalid momentum=-0\.1"),
        ({"weight_decay": -0.1}, r"RMSprop: invalid weight_decay=-0\.1"),
        ({"alpha": -0.5}, r"RMSprop: invalid alpha=-0\.5"),
    ],
)
def test_rmsprop_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RMSprop([Parameter(minigrad.zeros(2))], **kwargs)
