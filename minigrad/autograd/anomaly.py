"""Anomaly detection: find the op whose backward produced NaN or infinity.

Inside ``detect_anomaly()`` every op records the stack of the code that created it, and
the engine checks each gradient a backward returns; the first non-finite one raises a
RuntimeError naming the op and showing where its forward was called.
"""

from __future__ import annotations

_enabled = False


def is_anomaly_enabled() -> bool:
    return _enabled


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off (context manager; takes effect at once)."""

    def __init__(self, mode: bool):
        global _enabled
        self._previous, _enabled = _enabled, bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._previous
        return False


class detect_anomaly(set_detect_anomaly):  # noqa: N801 - PyTorch's name
    """Context manager that turns anomaly detection on.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([0.0], requires_grad=True)
    >>> with minigrad.autograd.detect_anomaly():
    ...     y = minigrad.sqrt(x) * 0
    ...     y.sum().backward()  # doctest: +SKIP
    RuntimeError: Function 'SqrtBackward' returned nan values in its 0th output ...
    """

    def __init__(self):
        super().__init__(True)
