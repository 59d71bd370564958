"""Tests for ``minigrad/nn/dropout.py``: ``Dropout`` in training and eval mode."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.ops.dropout import dropout


def test_train_mode_drops_and_scales_eval_mode_is_identity():
    layer = nn.Dropout(0.25)
    x = minigrad.ones(2000)
    minigrad.manual_seed(5)
    y = layer(x).numpy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(y, dropout(x, 0.25).numpy())
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert not np.array_equal(layer(x).numpy(), x.numpy())


def test_in_a_sequential_follows_train_and_eval():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = minigrad.randn(3, 4)
    model.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), model[0](x).detach().numpy())


def test_repr_and_errors():
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.1, inplace=True)) == "Dropout(p=0.1, inplace=True)"
    with pytest.raises(ValueError, match="Dropout: dropout probability has to be between 0 and 1"):
        nn.Dropout(1.2)
    assert list(nn.Dropout().state_dict()) == []
