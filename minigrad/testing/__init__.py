"""Tools for testing gradients: ``gradcheck``, ``gradgradcheck`` and hypothesis strategies.

``check_op`` checks an op's values, inputs and gradients in one call.
``gradcheck`` and ``gradgradcheck`` follow ``torch.autograd.gradcheck`` and
``torch.autograd.gradgradcheck``.  ``strategies`` (imported on first use, since it needs
the ``hypothesis`` package) draws shapes, broadcastable shapes, arrays and tensors for
property-based tests; its docstring has a complete example test.

Examples
--------
>>> import minigrad
>>> from minigrad.testing import gradcheck
>>> x = minigrad.tensor([0.5, -1.5], dtype=minigrad.float64, requires_grad=True)
>>> gradcheck(lambda t: (t * t).sum(), (x,))
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from minigrad.testing.check import check_op
from minigrad.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

if TYPE_CHECKING:
    from minigrad.testing import strategies

__all__ = ["GradcheckError", "check_op", "gradcheck", "gradgradcheck", "strategies"]


def __getattr__(name: str):
    # Loaded lazily so that gradcheck works where hypothesis is not installed.
    if name == "strategies":
        return importlib.import_module("minigrad.testing.strategies")
    raise AttributeError(f"module 'minigrad.testing' has no attribute {name!r}")
