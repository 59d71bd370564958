"""Tests for minigrad/optim/sgd.py: SGD against a float64 reference of PyTorch's published rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import SGD
from tests.optim.steps import run_optimizer

STEPS = 6


def reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False, maximize=False):
    """The published SGD-with-momentum rule, step by step in float64; every iterate."""
    theta = theta.copy()
    v = None
    out = []
    for grad in grads:
        g = -grad if maximize else grad.copy()
        g = g + weight_decay * theta
        if momentum != 0:
            v = g.copy() if v is None else momentum * v + (1 - dampening) * g
            g = g + momentum * v if nesterov else v
        theta = theta - lr * g
        out.append(theta.copy())
    return out


OPTIONS = {
    "plain": {},
    "momentum": {"momentum"},
    "dampening": {"momentum", "dampening"},
    "nesterov": {"momentum", "nesterov"},
    "weight_decay": {"weight_decay"},
    "maximize": {"maximize"},
    "everything": {"momentum", "nesterov", "weight_decay", "maximize"},
    "momentum_dampening_decay": {"momentum", "dampening", "weight_decay"},
}


@pytest.mark.parametrize("option", OPTIONS)
@settings(max_examples=10)
@given(
    shape=st.sampled_from([(3,), (2, 3), (1,), (4, 1, 2)]),
    seed=st.integers(0, 2**32 - 1),
    lr=st.floats(1e-3, 0.5),
    momentum=st.floats(0.1, 0.99),
    dampening=st.floats(0.05, 0.9),
    weight_decay=st.floats(1e-3, 0.5),
)
def test_sgd_matches_reference(option, shape, seed, lr, momentum, dampening, weight_decay):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    chosen = OPTIONS[option]
    kwargs = {"lr": lr}
    if "momentum" in chosen:
        kwargs["momentum"] = momentum
    if "dampening" in chosen:
        kwargs["dampening"] = dampening
    if "weight_decay" in chosen:
        kwargs["weight_decay"] = weight_decay
    if "nesterov" in chosen:
        kwargs["nesterov"] = True
    if "maximize" in chosen:
        kwargs["maximize"] = True
    got, _, _ = run_optimizer(lambda ps: SGD(ps, **kwargs), theta, grads)
    expected = reference_sgd(theta, grads, **kwargs)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {step + 1}")


def test_sgd_first_momentum_step_sets_buffer_to_gradient():
    p = Parameter(minigrad.tensor([1.0, -2.0], dtype=minigrad.float64))
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = minigrad.tensor([0.5, 0.25], dtype=minigrad.float64)
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [0.5, 0.25])
    np.testing.assert_array_equal(p.detach().numpy(), [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.25])


def test_sgd_defaults_and_state_keys():
    p = Parameter(minigrad.zeros(2))
    opt = SGD([p])
    group = opt.param_groups[0]
    assert group["lr"] == 1e-3
    assert (group["momentum"], group["dampening"], group["weight_decay"]) == (0, 0, 0)
    assert group["nesterov"] is False and group["maximize"] is False
    p.grad = minigrad.ones(2)
    opt.step()
    assert opt.state_dict()["state"] == {}  # no buffer without momentum
    opt = SGD([p], momentum=0.5)
    opt.step()
    assert list(opt.state[p]) == ["momentum_buffer"]


def test_sgd_float32_stays_float32():
    p = Parameter(minigrad.ones(3))
    opt = SGD([p], lr=0.5, momentum=0.9, weight_decay=0.1, nesterov=True)
    p.grad = minigrad.ones(3)
    opt.step()
    assert p.dtype == minigrad.float32
    assert opt.state[p]["momentum_buffer"].dtype == minigrad.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -0.1}, r"SGD: invalid learning rate lr=-0\.1"),
        ({"momentum": -0.5}, r"SGD: invalid momentum=-0\.5"),
        ({"weight_decay": -1.0}, r"SGD: invalid weight_decay=-1\.0"),
        ({"nesterov": True}, r"nesterov=True requires momentum > 0 and dampening = 0.*momentum=0"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1},
         r"nesterov=True requires .*dampening=0\.1"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD([Parameter(minigrad.zeros(2))], **kwargs)
