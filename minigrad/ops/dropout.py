r"""Dropout: zero each element with probability ``p`` while training, and scale the rest.

Math
----
With a mask :math:`m_i \sim \mathrm{Bernoulli}(1 - p)` drawn from minigrad's seeded
generator (``backend.kernel("dropout_mask")``),

.. math::

    y = \frac{m \odot x}{1 - p}, \qquad \bar x = \frac{m \odot \bar y}{1 - p}

("inverted" dropout: the expected value of :math:`y` is :math:`x`, so nothing changes at
evaluation time, where dropout is the identity).  Backward multiplies by the same saved
mask, so the op is linear in :math:`x` and its higher derivatives are exact.
"""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module, kernel
from minigrad.tensor import Tensor


class Dropout(ArrayFunction):
    r"""Math: :math:`y = x \odot s`, :math:`\bar x = \bar y \odot s`, with the scaled mask
    :math:`s = m / (1 - p)` (all zeros when :math:`p = 1`)."""

    @staticmethod
    def forward(ctx, x, p, generator):
        xp = get_array_module(x)
        keep = kernel("dropout_mask", x)(x.shape, p, generator)
        if p >= 1:
            scale = xp.zeros(x.shape, dtype=x.dtype)
        else:
            scale = xp.asarray(keep, dtype=x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        ctx.scale = scale
        return x * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.scale), None, None


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None):
    r"""Randomly zero elements of ``input`` with probability ``p`` and scale the others by
    :math:`1/(1-p)` (see the module docstring); the identity when ``training`` is False or
    ``p`` is 0.

    ``generator`` (a minigrad extension) draws the mask from that ``minigrad.random.Generator``
    instead of the default one that ``minigrad.manual_seed`` seeds.  ``inplace=True`` writes
    the result into ``input`` (through ``Tensor.mul_``).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: expected input to be a Tensor, got {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: dropout probability has to be between 0 and 1, but got {p}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    if not training or p == 0:
        return input
    out = Dropout.apply(input, float(p), generator)
    if inplace:
        return input._inplace(lambda x, y: y, out, name="dropout_")
    return out
