"""Tests for ``minigrad/nn/sparse.py``: ``Embedding``'s initialisation, padding row,
gradient, state_dict, repr and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn


def test_init_is_standard_normal_with_the_padding_row_zeroed():
    minigrad.manual_seed(0)
    layer = nn.Embedding(1000, 20, padding_idx=3)
    w = layer.weight.detach().numpy()
    assert w.shape == (1000, 20) and w.dtype == np.float32
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02
    assert layer.weight.requires_grad and layer.weight.is_leaf


def test_forward_gathers_and_gradient_skips_padding():
    layer = nn.Embedding(5, 2, padding_idx=-1)
    assert layer.padding_idx == 4
    idx = minigrad.tensor([[0, 4, 0], [2, 4, 1]])
    out = layer(idx)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out.detach().numpy(), layer.weight.detach().numpy()[idx.numpy()])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(),
                                  [[2, 2], [1, 1], [1, 1], [0, 0], [0, 0]])


def test_state_dict_repr_and_from_pretrained():
    layer = nn.Embedding(10, 3)
    assert list(layer.state_dict()) == ["weight"]
    assert repr(layer) == "Embedding(10, 3)"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    table = minigrad.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(minigrad.tensor([2])).numpy(), [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_errors_name_the_layer():
    layer = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"Embedding\(4, 2\): index 7 is out of range for "
                                         r"num_embeddings=4"):
        layer(minigrad.tensor([1, 7]))
    with pytest.raises(TypeError, match="Embedding: expected an integer"):
        layer(minigrad.tensor([1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx must be within"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(NotImplementedError):
        nn.Embedding(4, 2, max_norm=1.0)
