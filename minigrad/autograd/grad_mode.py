"""Grad modes: switch the recording of the graph off and on.

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers and as
decorators, exactly as in PyTorch.  The flag is a module-level boolean that
``Function.apply`` reads once per op.
"""

from __future__ import annotations

import functools

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Return True when new operations are recorded for backward."""
    return _grad_enabled


def _set(mode: bool) -> bool:
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    return previous


class _GradMode:
    """Base of the three context managers; subclasses say which mode they enter."""

    mode: bool = True

    def __enter__(self):
        self._previous = _set(self.mode)
        return self

    def __exit__(self, *exc):
        _set(self._previous)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._ctor_args()):
                return func(*args, **kwargs)

        return wrapper

    def _ctor_args(self) -> tuple:
        return ()


class _NoParamGradMode(_GradMode):
    """Also usable as a bare decorator, ``@no_grad`` without parentheses (as PyTorch)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamGradMode):  # noqa: N801 - PyTorch's name
    """Do not record operations: results have ``requires_grad=False``.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.ones(2, requires_grad=True)
    >>> with minigrad.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_NoParamGradMode):  # noqa: N801 - PyTorch's name
    """Record operations again inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Set recording on or off; takes effect at once, like PyTorch (and restores on exit)."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = _set(self.mode)

    def __enter__(self):
        return self

    def _ctor_args(self) -> tuple:
        return (self.mode,)

    def __call__(self, func):
        _set(self._previous)  # used as a decorator: do not change the mode now
        return super().__call__(func)
