"""Seeding (``minigrad/random.py``): ``manual_seed`` makes draws repeatable; a ``Generator``
passed explicitly is independent of the global one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.random import numpy_generator

seeds = st.integers(0, 2**63 - 1)


def draws(generator=None):
    """One of every random creation function, as arrays."""
    return [
        minigrad.rand(3, generator=generator).numpy(),
        minigrad.randn(2, 2, generator=generator).numpy(),
        minigrad.randint(0, 100, (4,), generator=generator).numpy(),
        minigrad.randperm(6, generator=generator).numpy(),
    ]


def assert_same(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@given(seeds)
def test_same_seed_same_numbers(seed):
    minigrad.manual_seed(seed)
    first = draws()
    minigrad.manual_seed(seed)
    assert_same(first, draws())


@given(seeds, seeds)
def test_different_seeds_differ(s1, s2):
    if s1 == s2:
        return
    minigrad.manual_seed(s1)
    a = minigrad.rand(16).numpy()
    minigrad.manual_seed(s2)
    b = minigrad.rand(16).numpy()
    assert not np.array_equal(a, b)


def test_consecutive_draws_differ():
    minigrad.manual_seed(0)
    assert not np.array_equal(minigrad.rand(8).numpy(), minigrad.rand(8).numpy())


@given(seeds, seeds)
def test_explicit_generator_is_independent_of_the_global_one(global_seed, gen_seed):
    # the same generator draws give the same numbers whatever the global stream does
    g = minigrad.Generator().manual_seed(gen_seed)
    minigrad.manual_seed(global_seed)
    from_g = draws(g)
    from_global = draws()

    g = minigrad.Generator().manual_seed(gen_seed)
    minigrad.manual_seed(global_seed)
    minigrad.rand(100)  # advance the global stream first
    assert_same(from_g, draws(g))
    # and drawing from g did not advance the global stream
    minigrad.manual_seed(global_seed)
    assert_same(from_global, draws())


def test_in_place_random_fill_uses_the_seed():
    minigrad.manual_seed(3)
    a = minigrad.zeros(5).uniform_(-1, 1).numpy().copy()
    b = minigrad.zeros(5).normal_(2.0, 0.5).numpy().copy()
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(minigrad.zeros(5).uniform_(-1, 1).numpy(), a)
    np.testing.assert_array_equal(minigrad.zeros(5).normal_(2.0, 0.5).numpy(), b)
    assert a.min() >= -1 and a.max() < 1


def test_manual_seed_returns_the_default_generator_and_initial_seed():
    g = minigrad.manual_seed(42)
    assert g is minigrad.random.default_generator
    assert minigrad.initial_seed() == 42 and g.initial_seed() == 42


def test_generator_state_round_trip():
    g = minigrad.Generator().manual_seed(7)
    state = g.get_state()
    a = minigrad.rand(4, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(minigrad.rand(4, generator=g).numpy(), a)


def test_generator_seed_gives_a_fresh_seed():
    g = minigrad.Generator()
    s = g.seed()
    assert g.initial_seed() == s
    assert isinstance(s, int) and 0 <= s < 2**63


def test_numpy_generator_defaults_to_the_global_one():
    minigrad.manual_seed(5)
    a = numpy_generator().random(3)
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(minigrad.rand(3, dtype=minigrad.float64).numpy(), a)


def test_bad_seed_raises():
    with pytest.raises(TypeError, match="int"):
        minigrad.manual_seed(1.5)


def test_cuda_manual_seed_seeds_the_shared_generator():
    minigrad.cuda.manual_seed(11)
    a = minigrad.rand(3).numpy()
    minigrad.manual_seed(11)
    np.testing.assert_array_equal(minigrad.rand(3).numpy(), a)
