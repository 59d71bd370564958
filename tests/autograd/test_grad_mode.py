"""Grad modes (``minigrad/autograd/grad_mode.py``): context managers, decorators, nesting."""

from __future__ import annotations

import pytest

import minigrad


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    assert minigrad.is_grad_enabled()
    yield
    assert minigrad.is_grad_enabled(), "a test left grad mode off"


def leaf():
    return minigrad.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_context_manager():
    x = leaf()
    with minigrad.no_grad():
        assert not minigrad.is_grad_enabled()
        y = x * 2
    assert minigrad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf()
    with minigrad.no_grad():
        with minigrad.enable_grad():
            assert minigrad.is_grad_enabled()
            y = x * 2
        assert not minigrad.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_context_manager(mode):
    x = leaf()
    with minigrad.no_grad() if mode else minigrad.enable_grad():
        with minigrad.set_grad_enabled(mode):
            assert minigrad.is_grad_enabled() is mode
            y = x * 2
    assert y.requires_grad is mode


def test_set_grad_enabled_as_a_function_takes_effect_at_once():
    minigrad.set_grad_enabled(False)
    try:
        assert not minigrad.is_grad_enabled()
        assert not (leaf() * 2).requires_grad
    finally:
        minigrad.set_grad_enabled(True)
    assert minigrad.is_grad_enabled()


def test_nesting_restores_each_level():
    states = []
    with minigrad.no_grad():
        states.append(minigrad.is_grad_enabled())
        with minigrad.enable_grad():
            states.append(minigrad.is_grad_enabled())
            with minigrad.set_grad_enabled(False):
                states.append(minigrad.is_grad_enabled())
                with minigrad.no_grad():
                    states.append(minigrad.is_grad_enabled())
                states.append(minigrad.is_grad_enabled())
            states.append(minigrad.is_grad_enabled())
        states.append(minigrad.is_grad_enabled())
    states.append(minigrad.is_grad_enabled())
    assert states == [False, True, False, False, False, True, False, True]


@pytest.mark.parametrize(
    "make", [minigrad.no_grad, minigrad.enable_grad, lambda: minigrad.set_grad_enabled(False)]
)
def test_mode_is_restored_on_exception(make):
    with minigrad.no_grad():
        with pytest.raises(ValueError):
            with make():
                raise ValueError("boom")
        assert not minigrad.is_grad_enabled()
    with pytest.raises(ValueError):
        with make():
            raise ValueError("boom")
    assert minigrad.is_grad_enabled()


def test_decorators():
    @minigrad.no_grad()
    def off():
        return minigrad.is_grad_enabled()

    @minigrad.enable_grad()
    def on():
        return minigrad.is_grad_enabled()

    @minigrad.set_grad_enabled(False)
    def set_off():
        return minigrad.is_grad_enabled()

    assert minigrad.is_grad_enabled()  # decorating with set_grad_enabled changes nothing now
    assert off() is False and set_off() is False
    assert minigrad.is_grad_enabled()
    with minigrad.no_grad():
        assert on() is True
        assert not minigrad.is_grad_enabled()


def test_bare_decorators_without_parentheses():
    @minigrad.no_grad
    def off(x):
        return x * 2

    @minigrad.enable_grad
    def on(x):
        return x * 2

    assert off.__name__ == "off"
    assert not off(leaf()).requires_grad
    with minigrad.no_grad():
        assert on(leaf()).requires_grad


def test_decorator_restores_on_exception_and_keeps_metadata():
    @minigrad.no_grad()
    def fails():
        """Doc."""
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert minigrad.is_grad_enabled()
    assert fails.__name__ == "fails" and fails.__doc__ == "Doc."


def test_decorated_function_is_reentrant():
    @minigrad.no_grad()
    def recurse(n):
        assert not minigrad.is_grad_enabled()
        return 0 if n == 0 else 1 + recurse(n - 1)

    assert recurse(5) == 5


def test_autograd_namespace_exports_the_same_objects():
    from minigrad import autograd

    assert autograd.no_grad is minigrad.no_grad
    assert autograd.is_grad_enabled is minigrad.is_grad_enabled


def test_backward_runs_without_recording_unless_create_graph():
    x = leaf()
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    assert minigrad.is_grad_enabled()
