"""L1/L2 regularisation with the optimizers: ``nn.utils.l2_penalty`` in the loss gives the same
update as ``weight_decay``, and L1's subgradient step moves each weight by exactly
lr·λ·sign(θ)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.nn import Parameter
from minigrad.nn.utils import l1_penalty, l2_penalty
from minigrad.optim import SGD, Adam


def make_model(seed):
    minigrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def train(model, opt, x, y, lam_in_loss, steps=5):
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        if lam_in_loss:
            loss = loss + lam_in_loss / 2 * l2_penalty(model.parameters())
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("cls, extra", [
    (SGD, {}),
    (SGD, {"momentum": 0.9}),
    (SGD, {"momentum": 0.9, "nesterov": True}),
    (Adam, {}),  # Adam's weight_decay is the coupled L2 term too (AdamW's is not)
])
@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), lam=st.floats(1e-3, 0.5), lr=st.floats(1e-3, 0.2))
def test_l2_penalty_in_the_loss_equals_weight_decay(cls, extra, seed, lam, lr):
    rng = np.random.default_rng(seed)
    x = minigrad.tensor(rng.standard_normal((6, 3)), dtype=minigrad.float64)
    y = minigrad.tensor(rng.standard_normal((6, 2)), dtype=minigrad.float64)
    penalised = make_model(seed)
    decayed = make_model(seed)
    got = train(penalised, cls(penalised.parameters(), lr=lr, **extra), x, y, lam)
    expected = train(decayed, cls(decayed.parameters(), lr=lr, weight_decay=lam, **extra),
                     x, y, 0.0)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(
    lam=st.floats(0.1, 1.0),
    lr=st.floats(0.01, 0.5),
    fractions=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=12),
)
def test_l1_step_moves_weights_by_lr_lambda_sign(lam, lr, fractions):
    # weights on the scale of one step lr·λ, zeros and exact step sizes included
    theta0 = np.array(fractions) * lr * lam
    theta0[::5] = 0.0
    w = Parameter(minigrad.tensor(theta0, dtype=minigrad.float64))
    opt = SGD([w], lr=lr)
    opt.zero_grad()
    (lam * l1_penalty([w])).backward()
    opt.step()
    theta1 = w.detach().numpy()
    np.testing.assert_array_equal(theta1, theta0 - lr * lam * np.sign(theta0))
    # the sign changes the formula predicts: weights smaller than one step cross zero,
    # weights of exactly one step land on zero, zeros stay at zero (abs'(0) = 0)
    step = lr * lam
    expected_sign = np.where(np.abs(theta0) > step, np.sign(theta0),
                             np.where(np.abs(theta0) == step, 0.0, -np.sign(theta0)))
    np.testing.assert_array_equal(np.sign(theta1), expected_sign)


def test_l1_penalty_keeps_pulling_toward_zero_with_a_data_term():
    # the documents' L1 loss: J + λ/(2m)·Σ|θ|; its gradient adds λ/(2m)·sign(θ)
    rng = np.random.default_rng(0)
    m = 8
    x = minigrad.tensor(rng.standard_normal((m, 3)), dtype=minigrad.float64)
    y = minigrad.tensor(rng.standard_normal((m, 1)), dtype=minigrad.float64)
    w = Parameter(minigrad.tensor(rng.standard_normal((3, 1)), dtype=minigrad.float64))
    lam, lr = 0.4, 0.1
    opt = SGD([w], lr=lr)
    opt.zero_grad()
    data_term = ((x @ w - y) ** 2).sum() / (2 * m)
    data_term.backward()
    data_grad = w.grad.numpy().copy()
    before = w.detach().numpy().copy()
    opt.zero_grad()
    (((x @ w - y) ** 2).sum() / (2 * m) + lam / (2 * m) * l1_penalty([w])).backward()
    opt.step()
    expected = before - lr * (data_grad + lam / (2 * m) * np.sign(before))
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
