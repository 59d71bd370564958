"""NumPy versions of the heavy primitives that have no single NumPy call; backend/cuda.py
provides functions of the same names and signatures for CuPy.

The bodies are written against an array module ``xp`` and use only functions that NumPy
and CuPy share (no ``out=`` tricks, no ``np.errstate``, no ``np.vectorize``), so the same
code can be moved onto CuPy arrays unchanged.
"""

from __future__ import annotations

import numpy

__all__ = ["erf", "scatter_add"]

# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969), 631-637; double-precision coefficient sets as published in
# Cody's SPECFUN routine CALERF (netlib specfun/erf).  Each tuple is listed from the
# highest power down, ready for Horner's rule; the denominators are monic.

# erf(x) = x * A(x^2) / B(x^2) for |x| <= 0.5
_ERF_A = (
    1.85777706184603153e-1,
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
)
_ERF_B = (
    1.0,
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
)

# erfc(y) = exp(-y^2) * C(y) / D(y) for 0.5 < y <= 4
_ERFC_C = (
    2.15311535474403846e-8,
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_ERFC_D = (
    1.0,
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)

# erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - z * P(z) / Q(z)), z = 1/y^2, for y > 4
_ERFC_P = (
    1.63153871373020978e-2,
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_ERFC_Q = (
    1.0,
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)

_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1
# Cody's paper fits erf on |x| <= 0.5 and erfc from 0.46875 up, so any switch point in
# between is within both fits; CALERF switches at 0.46875, this module at 0.5.
_SMALL = 0.5  # upper end of the erf range
_MIDDLE = 4.0  # upper end of the first erfc range
# erfc(6) ~ 2.2e-17 is below half an ulp of 1 (2^-54), so erf(x) rounds to exactly +-1 for
# |x| >= 6.  Clamping the asymptotic branch's argument at 8 keeps exp/divisions finite and
# quiet for huge or infinite inputs without changing any rounded result.
_CLAMP = 8.0

_FLOAT_DTYPES = (numpy.float16, numpy.float32, numpy.float64)


def _horner(coefficients, t):
    """Evaluate the polynomial with ``coefficients`` (highest power first) at ``t``."""
    result = coefficients[0] * t + coefficients[1]
    for c in coefficients[2:]:
        result = result * t + c
    return result


def _exp_minus_square(xp, y):
    """``exp(-y*y)`` with the rounding error of ``y*y`` kept out of the exponent.

    ``y`` is split as ``y = h + (y - h)`` with ``h = trunc(16 y) / 16``; ``h*h`` is exact and
    ``y*y - h*h = (y - h)(y + h)`` is small, so both exponentials see accurate arguments
    (Cody's device in CALERF).
    """
    head = xp.trunc(16.0 * y) / 16.0
    tail = (y - head) * (y + head)
    return xp.exp(-head * head) * xp.exp(-tail)


def erf(x):
    r"""Gauss error function, elementwise, for a floating NumPy array (float16/32/64).

    Uses W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969), evaluated
    on all elements at once with masks, with no per-element Python and no SciPy.

    Parameters
    ----------
    x : numpy.ndarray
        Array of dtype float16, float32 or float64, any shape (0-d and empty included).

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and dtype as ``x``.  float16/float32 inputs are
        computed in float64 and rounded once at the end; float64 results are within a
        few ulp of the exact value.  ``erf(+-inf) = +-1``, ``erf(nan) = nan`` and
        ``erf(-0.0) = -0.0``.

    Raises
    ------
    TypeError
        If ``x`` is not of a float16, float32 or float64 dtype.

    Math
    ----
    .. math::

        \operatorname{erf}(x) = \frac{2}{\sqrt{\pi}} \int_0^x e^{-t^2}\,dt,
        \qquad \operatorname{erf}(-x) = -\operatorname{erf}(x),
        \qquad \operatorname{erfc}(x) = 1 - \operatorname{erf}(x).

    The approximation has three ranges, with :math:`y = |x|`.  For :math:`|x| \le 0.5`,
    with rational functions of degree (4, 4) in :math:`x^2`:

    .. math::

        \operatorname{erf}(x) \approx x \, \frac{A(x^2)}{B(x^2)}.

    For :math:`0.5 < y \le 4`, with a rational function of degree (8, 8) in :math:`y`:

    .. math::

        \operatorname{erfc}(y) \approx e^{-y^2} \, \frac{C(y)}{D(y)}.

    For :math:`y > 4`, with :math:`z = 1/y^2` and a rational function of degree (5, 5):

    .. math::

        \operatorname{erfc}(y) \approx \frac{e^{-y^2}}{y}
        \left( \frac{1}{\sqrt{\pi}} - z \, \frac{P(z)}{Q(z)} \right),

    which follows the asymptotic series
    :math:`\operatorname{erfc}(y) \sim \frac{e^{-y^2}}{y\sqrt{\pi}}
    \left(1 - \frac{1}{2y^2} + \dots\right)`.

    In the last two ranges :math:`\operatorname{erf}(x) = \operatorname{sign}(x)\,
    (1 - \operatorname{erfc}(y))`, and :math:`e^{-y^2}` is formed as
    :math:`e^{-h^2} e^{-(y-h)(y+h)}` with :math:`h = \lfloor 16y \rfloor / 16`, so that the
    rounding error of :math:`y^2` does not enter the exponent.
    """
    xp = numpy
    x = xp.asarray(x)
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"erf: expected a float16, float32 or float64 array, got {x.dtype}")
    dtype = x.dtype
    x = x.astype(xp.float64)  # a copy for float64 too: the input is never touched
    y = xp.abs(x)

    small = y <= _SMALL
    middle = (y > _SMALL) & (y <= _MIDDLE)
    large = y > _MIDDLE

    # Each branch runs on every element, so its argument is replaced by a harmless value
    # outside its own range: no overflow, division by zero or invalid operation can occur.
    xs = xp.where(small, x, 0.0)  # keeps -0.0 as it is
    ts = xs * xs
    erf_small = xs * (_horner(_ERF_A, ts) / _horner(_ERF_B, ts))

    ym = xp.where(middle, y, 1.0)
    erfc_middle = _exp_minus_square(xp, ym) * (_horner(_ERFC_C, ym) / _horner(_ERFC_D, ym))

    yl = xp.where(large, xp.minimum(y, _CLAMP), 2.0 * _MIDDLE)
    z = 1.0 / (yl * yl)
    tail = z * (_horner(_ERFC_P, z) / _horner(_ERFC_Q, z))
    erfc_large = _exp_minus_square(xp, yl) / yl * (_ONE_OVER_SQRT_PI - tail)

    erfc_y = xp.where(middle, erfc_middle, erfc_large)
    # One rounding: CALERF's ``(0.5 - erfc) + 0.5`` rounds twice and, for erfc just above
    # 2^-54 (y near 5.9), lands on a tie that goes to 1.0 instead of 1 - 2^-53.
    erf_y = 1.0 - erfc_y
    result = xp.where(small, erf_small, xp.where(x < 0.0, -erf_y, erf_y))
    result = xp.where(xp.isnan(x), x, result)
    return result.astype(dtype, copy=False)


def scatter_add(out, key, values) -> None:
    """``out[key] += values`` in place, adding (not overwriting) where an index repeats.

    Plain ``out[key] += values`` keeps only one of the repeated writes; ``numpy.add.at``
    performs every addition, which is what the gradient of indexing needs.
    """
    numpy.add.at(out, key, values)
