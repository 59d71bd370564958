"""Tests for ``minigrad/ops/dropout.py`` (the ``Dropout`` Function) and the
``dropout_mask`` primitive of ``backend/cpu.py``: the mask's statistics, exact scaling,
repeatability under a seed, gradients with the mask held fixed, and the edge cases
p = 0, p = 1 and training=False."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.backend import cpu
from minigrad.ops.dropout import Dropout, dropout
from minigrad.random import Generator
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mask_fraction_is_near_p_and_scaling_exact(p):
    minigrad.manual_seed(123)
    n = 40_000
    x = minigrad.ones(n, dtype=minigrad.float64)
    y = dropout(x, p).numpy()
    dropped = np.mean(y == 0)
    # 5 standard deviations of a binomial proportion
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)
    kept = y[y != 0]
    np.testing.assert_array_equal(kept, np.full(kept.shape, 1 / (1 - p)))


def test_same_seed_gives_same_mask_and_a_generator_can_be_passed():
    x = minigrad.ones(500)
    minigrad.manual_seed(7)
    a = dropout(x, 0.3).numpy()
    b = dropout(x, 0.3).numpy()
    minigrad.manual_seed(7)
    c = dropout(x, 0.3).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    g1, g2 = Generator().manual_seed(3), Generator().manual_seed(3)
    np.testing.assert_array_equal(dropout(x, 0.5, generator=g1).numpy(),
                                  dropout(x, 0.5, generator=g2).numpy())


def test_dropout_mask_primitive():
    g = Generator().manual_seed(0)
    mask = cpu.dropout_mask((3, 4), 0.25, g)
    assert mask.shape == (3, 4) and mask.dtype == bool
    assert cpu.dropout_mask((5,), 0.0, g).all()
    assert not cpu.dropout_mask((5,), 1.0, g).any()
    expected = Generator().manual_seed(0).numpy.random((3, 4)) >= 0.25
    np.testing.assert_array_equal(mask, expected)


@settings(max_examples=15)
@given(x=mst.tensors(mst.shapes(max_dims=3, max_side=3)), p=st.floats(0.0, 0.95),
       seed=st.integers(0, 2**31))
def test_gradients_with_the_mask_fixed(x, p, seed):
    """The seed is reset inside the function, so every call of gradcheck draws the same mask:
    the op is then linear, y = x * mask / (1 - p)."""

    def fn(a):
        minigrad.manual_seed(seed)
        return dropout(a, p)

    y = fn(x).detach().numpy()
    minigrad.manual_seed(seed)
    keep = cpu.dropout_mask(x.shape, p, None)
    np.testing.assert_allclose(y, np.where(keep, x.detach().numpy() / (1 - p), 0.0), rtol=1e-15)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_backward_uses_the_saved_mask():
    minigrad.manual_seed(0)
    x = minigrad.ones(1000, dtype=minigrad.float64, requires_grad=True)
    y = dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert y.grad_fn.name() == f"{Dropout.__name__}Backward"


def test_identity_when_not_training_or_p_zero_and_zeros_at_p_one():
    x = minigrad.randn(3, 4, requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    y = dropout(x, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), np.zeros((3, 4), np.float32))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4), np.float32))
    assert y.dtype == minigrad.float32


def test_inplace():
    minigrad.manual_seed(1)
    x = minigrad.ones(50)
    out = dropout(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_outside_unit_interval_raises(p):
    with pytest.raises(ValueError, match=f"dropout: dropout probability has to be between 0 and "
                                         f"1, but got {p}"):
        dropout(minigrad.ones(3), p)
