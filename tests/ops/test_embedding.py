"""Tests for ``minigrad/ops/embedding.py``: the ``EmbeddingLookup`` Function gathers rows,
its gradient scatter-adds over repeated indices and skips ``padding_idx``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.ops.embedding import EmbeddingLookup, embedding
from minigrad.testing import gradcheck, gradgradcheck


@st.composite
def embedding_cases(draw):
    num = draw(st.integers(1, 5))
    dim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    indices = rng.integers(0, num, shape)
    padding = draw(st.one_of(st.none(), st.integers(-num, num - 1)))
    return rng.normal(size=(num, dim)), indices, padding


@given(case=embedding_cases())
def test_values_and_gradient_against_numpy(case):
    w, idx, padding = case
    weight = minigrad.tensor(w, requires_grad=True)
    out = embedding(minigrad.tensor(idx), weight, padding_idx=padding)
    np.testing.assert_array_equal(out.detach().numpy(), w[idx])
    rng = np.random.default_rng(0)
    g = rng.normal(size=out.shape)
    out.backward(minigrad.tensor(g))
    expected = np.zeros_like(w)
    for pos in np.ndindex(idx.shape):  # a plain loop: every occurrence adds its row
        expected[idx[pos]] += g[pos]
    if padding is not None:
        expected[padding % w.shape[0]] = 0.0
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-14)


@settings(max_examples=15)
@given(case=embedding_cases())
def test_gradcheck(case):
    """Without padding_idx: its row's zero gradient is a convention, not the derivative
    (the forward still reads that row), so finite differences cannot check it; the exact
    test above does."""
    w, idx, _ = case
    i = minigrad.tensor(idx)
    fn = lambda a: embedding(i, a) ** 2  # noqa: E731
    weight = minigrad.tensor(w, requires_grad=True)
    assert gradcheck(fn, (weight,))
    assert gradgradcheck(fn, (weight,))


def test_repeated_indices_accumulate_and_padding_gets_nothing():
    weight = minigrad.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = embedding(minigrad.tensor([[1, 1, 0], [1, 3, 0]]), weight, padding_idx=0)
    assert out.grad_fn.name() == f"{EmbeddingLookup.__name__}Backward"
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[0, 0, 0], [3, 3, 3], [0, 0, 0],
                                                        [1, 1, 1]])


def test_errors():
    w = minigrad.zeros(4, 2)
    with pytest.raises(IndexError, match=r"embedding: index 4 is out of range for "
                                         r"num_embeddings=4"):
        embedding(minigrad.tensor([0, 4]), w)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        embedding(minigrad.tensor([-1]), w)
    with pytest.raises(TypeError, match="embedding: expected input of an integer dtype"):
        embedding(minigrad.tensor([0.0]), w)
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        embedding(minigrad.tensor([0]), w, padding_idx=4)
    with pytest.raises(NotImplementedError, match="max_norm"):
        embedding(minigrad.tensor([0]), w, max_norm=1.0)
