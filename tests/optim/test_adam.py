"""Tests for minigrad/optim/adam.py: Adam and AdamW against float64 references of the
published algorithm (with bias correction)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import Adam, AdamW
from tests.optim.steps import run_optimizer

STEPS = 6


def reference_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, maximize=False, decoupled=False):
    """Adam (Kingma & Ba) / AdamW (Loshchilov & Hutter), step by step in float64."""
    beta1, beta2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    v_max = np.zeros_like(theta)
    out = []
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad.copy()
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        m_hat = m / (1 - beta1**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta.copy())
    return out


OPTIONS = {
    "plain": {},
    "weight_decay": {"weight_decay"},
    "amsgrad": {"amsgrad"},
    "maximize": {"maximize"},
    "everything": {"weight_decay", "amsgrad", "maximize"},
}


@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
@pytest.mark.parametrize("option", OPTIONS)
@settings(max_examples=10)
@given(
    shape=st.sampled_from([(3,), (2, 3), (1,), (4, 1, 2)]),
    seed=st.integers(0, 2**32 - 1),
    lr=st.floats(1e-4, 0.1),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]),
    weight_decay=st.floats(1e-3, 0.5),
)
def test_adam_matches_reference(decoupled, option, shape, seed, lr, beta1, beta2, eps,
                                weight_decay):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    chosen = OPTIONS[option]
    kwargs = {"lr": lr, "betas": (beta1, beta2), "eps": eps,
              "weight_decay": weight_decay if "weight_decay" in chosen else 0.0}
    for flag in ("amsgrad", "maximize"):
        if flag in chosen:
            kwargs[flag] = True
    cls = AdamW if decoupled else Adam
    got, _, _ = run_optimizer(lambda ps: cls(ps, **kwargs), theta, grads)
    expected = reference_adam(theta, grads, decoupled=decoupled, **kwargs)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {step + 1}")


def test_adam_first_step_is_lr_times_sign():
    # With bias correction the first step is lr * g / (|g| + eps') whatever the betas: the
    # documents' uncorrected Adam would move by lr * (1 - beta1) / sqrt(1 - beta2) instead.
    p = Parameter(minigrad.tensor([1.0, -1.0, 3.0], dtype=minigrad.float64))
    opt = Adam([p], lr=0.1, eps=0.0)
    p.grad = minigrad.tensor([2.0, -0.5, 1e-3], dtype=minigrad.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -0.9, 2.9], rtol=1e-14)


def test_adam_defaults_and_state_keys():
    theta = np.array([1.0, -1.0])
    grads = [np.array([0.5, 2.0])] * 2
    _, opt, p = run_optimizer(lambda ps: Adam(ps), theta, grads)
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"]) == (1e-3, (0.9, 0.999), 1e-8)
    assert (group["weight_decay"], group["amsgrad"], group["maximize"]) == (0, False, False)
    assert list(opt.state[p]) == ["step", "exp_avg", "exp_avg_sq"]
    assert opt.state[p]["step"].item() == 2.0 and opt.state[p]["step"].dtype == minigrad.float32
    _, opt, p = run_optimizer(lambda ps: Adam(ps, amsgrad=True), theta, grads)
    assert list(opt.state[p]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert AdamW([Parameter(minigrad.zeros(1))]).param_groups[0]["weight_decay"] == 1e-2


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -0.01}, r"invalid learning rate lr=-0\.01"),
        ({"eps": -1e-8}, r"invalid epsilon value eps=-1e-08"),
        ({"betas": (1.0, 0.999)}, r"invalid beta parameter at index 0: betas=\(1\.0, 0\.999\)"),
        ({"betas": (-0.1, 0.999)}, r"invalid beta parameter at index 0.*0 <= betas\[0\] < 1"),
        ({"betas": (0.9, 1.5)}, r"invalid beta parameter at index 1: betas=\(0\.9, 1\.5\)"),
        ({"weight_decay": -0.1}, r"invalid weight_decay=-0\.1"),
    ],
)
def test_adam_rejects_bad_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=cls.__name__ + ": " + match):
        cls([Parameter(minigrad.zeros(2))], **kwargs)
