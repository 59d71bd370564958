"""Tests for ``minigrad/nn/loss.py``: each loss module calls its functional form with its
options, holds class weights as buffers (PyTorch's ``state_dict`` layout, moved by
``to()``) and prints as PyTorch does."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.ops import loss as F


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = minigrad.tensor(rng.normal(size=(5, 3)))
    return rng, x


def _same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-14)


def test_cross_entropy_and_nll_modules_match_functional():
    rng, x = _data()
    t = minigrad.tensor([0, 2, 1, 2, 0])
    w = minigrad.tensor([0.5, 1.0, 2.0], dtype=minigrad.float64)
    module = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.2, reduction="sum")
    _same(module(x, t), F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.2,
                                       reduction="sum"))
    assert module.ignore_index == 1 and module.label_smoothing == 0.2
    probabilities = minigrad.tensor(rng.dirichlet(np.ones(3), 5))
    _same(nn.CrossEntropyLoss()(x, probabilities), F.cross_entropy(x, probabilities))
    log_p = x.log_softmax(1)
    _same(nn.NLLLoss(weight=w, reduction="none")(log_p, t),
          F.nll_loss(log_p, t, w, reduction="none"))


def test_elementwise_loss_modules_match_functional():
    rng, x = _data()
    y = minigrad.tensor(rng.normal(size=(5, 3)))
    p = minigrad.tensor(rng.uniform(0.05, 0.95, (5, 3)))
    target = minigrad.tensor(rng.uniform(0, 1, (5, 3)))
    w = minigrad.tensor(rng.uniform(0.5, 2, 3))
    pos = minigrad.tensor(rng.uniform(0.5, 2, 3))
    _same(nn.MSELoss()(x, y), F.mse_loss(x, y))
    _same(nn.L1Loss(reduction="sum")(x, y), F.l1_loss(x, y, reduction="sum"))
    _same(nn.HuberLoss(delta=0.5)(x, y), F.huber_loss(x, y, delta=0.5))
    _same(nn.SmoothL1Loss(beta=0.3, reduction="none")(x, y),
          F.smooth_l1_loss(x, y, reduction="none", beta=0.3))
    _same(nn.BCELoss(weight=w)(p, target), F.binary_cross_entropy(p, target, w))
    _same(nn.BCEWithLogitsLoss(weight=w, pos_weight=pos)(x, target),
          F.binary_cross_entropy_with_logits(x, target, w, pos_weight=pos))


def test_weights_are_buffers():
    w = minigrad.tensor([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(weight=w)
    assert list(loss.state_dict()) == ["weight"] and loss.weight is w
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    assert list(bce.state_dict()) == ["weight", "pos_weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.BCELoss(weight=w).state_dict()) == ["weight"]
    loss.to(minigrad.float64)
    assert loss.weight.dtype == minigrad.float64
    assert list(loss.parameters()) == []


@pytest.mark.parametrize("module, text", [
    (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
    (nn.NLLLoss(), "NLLLoss()"),
    (nn.MSELoss(), "MSELoss()"),
    (nn.L1Loss(), "L1Loss()"),
    (nn.BCELoss(), "BCELoss()"),
    (nn.BCEWithLogitsLoss(), "BCEWithLogitsLoss()"),
    (nn.HuberLoss(), "HuberLoss()"),
    (nn.SmoothL1Loss(), "SmoothL1Loss()"),
])
def test_repr_as_pytorch(module, text):
    assert repr(module) == text


def test_options_and_errors():
    assert nn.MSELoss().reduction == "mean"
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="reduction must be"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(IndexError, match="cross_entropy: target 5 is out of bounds for 3"):
        nn.CrossEntropyLoss()(minigrad.zeros(2, 3), minigrad.tensor([0, 5]))


def test_training_step_reduces_the_loss():
    """A tiny end-to-end use: the gradient of CrossEntropyLoss moves logits the right way."""
    rng = np.random.default_rng(0)
    logits = minigrad.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = minigrad.tensor([0, 1, 2, 1])
    criterion = nn.CrossEntropyLoss()
    before = criterion(logits, t)
    before.backward()
    with minigrad.no_grad():
        stepped = logits - 0.5 * logits.grad
    assert criterion(stepped, t).item() < before.item()
