"""The README's main job: the digits example must learn."""

import pytest

pytest.importorskip("sklearn")

from minigrad.examples import train  # noqa: E402


def test_digits_example_learns():
    before, after, loss = train.train(epochs=5, quiet=True)
    assert before < 0.3  # an untrained network is near chance (10 classes)
    assert after > 0.9
    assert loss < 0.3


def test_digits_example_is_repeatable():
    assert train.train(epochs=1, quiet=True) == train.train(epochs=1, quiet=True)
