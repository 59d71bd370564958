"""NumPy versions of the heavy primitives that have no single NumPy call; backend/cuda.py
provides functions of the same names and signatures for CuPy.

The bodies are written against an array module ``xp`` and use only functions that NumPy
and CuPy share (no ``out=`` tricks, no ``np.errstate``, no ``np.vectorize``), so the same
code can be moved onto CuPy arrays unchanged.
"""

from __future__ import annotations

import itertools
import math

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


# -- convolution and pooling windows ------------------------------------------------------------
# Shared conventions (backend/cuda.py keeps the same names and signatures):
#   x             (N, C, *spatial), d = len(spatial) >= 1 spatial dimensions
#   kernel_size, stride, dilation   tuples of d ints
#   padding       tuple of d (before, after) pairs: asymmetric padding ('same', ceil_mode) is
#                 the caller's arithmetic, never the primitive's
#   out_d = (size_d + before_d + after_d - dilation_d * (kernel_d - 1) - 1) // stride_d + 1

__all__ += [  # noqa: PLE0605 - extended, not rewritten, by each family of primitives
    "im2col",
    "col2im",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
]


def _out_size(spatial, kernel_size, stride, padding, dilation) -> tuple:
    """Output spatial size of a sliding window (the formula in the comment above)."""
    return tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), d in zip(spatial, kernel_size, stride, padding, dilation)
    )


def _windows(x, kernel_size, stride, padding, dilation, pad_value=0.0):
    """A read-only strided view of shape (N, C, *out, *kernel) of the padded ``x``.

    ``view[n, c, o_1..o_d, k_1..k_d] = x_padded[n, c, o_1 s_1 + k_1 r_1, ...]``: no copy, no
    Python loop; the caller's reduction or reshape does the one pass over memory.
    """
    xp = numpy
    if any(lo or hi for lo, hi in padding):
        x = xp.pad(x, ((0, 0), (0, 0), *padding), mode="constant", constant_values=pad_value)
    out = _out_size(x.shape[2:], kernel_size, stride, ((0, 0),) * len(kernel_size), dilation)
    step = x.strides[2:]
    shape = x.shape[:2] + out + tuple(kernel_size)
    strides = (
        x.strides[:2]
        + tuple(t * s for t, s in zip(step, stride))
        + tuple(t * d for t, d in zip(step, dilation))
    )
    return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def im2col(x, kernel_size, stride, padding, dilation):
    r"""Unfold the sliding windows of ``x`` into the columns of one matrix (for one GEMM).

    Parameters
    ----------
    x : array of shape (N, C, *spatial)
    kernel_size, stride, dilation : tuple of d ints
    padding : tuple of d (before, after) pairs of zeros added around each spatial dimension

    Returns
    -------
    array of shape (C * prod(kernel_size), N * prod(out)), C-contiguous

    Math
    ----
    Row :math:`(c, k_1..k_d)` and column :math:`(n, o_1..o_d)` hold
    :math:`x^{pad}_{n, c, o_1 s_1 + k_1 r_1, \dots, o_d s_d + k_d r_d}`.  A convolution is then
    :math:`W_{(C_{out},\, C \prod k)} \cdot \mathrm{im2col}(x)`; the rows start with the channel,
    so the rows of group :math:`g` are one contiguous block.
    """
    d = len(kernel_size)
    view = _windows(x, kernel_size, stride, padding, dilation)  # (N, C, *out, *k)
    # (C, *k, N, *out): the one copy, by the reshape
    order = (1, *range(2 + d, 2 + 2 * d), 0, *range(2, 2 + d))
    rows = x.shape[1] * math.prod(kernel_size)
    return view.transpose(order).reshape(rows, -1)


def _add_windows(image, kernel_size, stride, dilation, out, values_at):
    """``image[n, c, o s + k r] += values_at(k)[n, c, o]`` for every kernel offset ``k``.

    The adjoint of ``_windows``: one strided slice-add per kernel offset (prod(kernel_size)
    iterations), each one vectorised over the batch, the channels and the output positions.
    """
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        region = tuple(
            slice(o * r, o * r + s * (n - 1) + 1, s)
            for o, r, s, n in zip(offset, dilation, stride, out)
        )
        image[(slice(None), slice(None)) + region] += values_at(offset)


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    r"""The adjoint of :func:`im2col`: add every column entry back where it was read from.

    Parameters
    ----------
    cols : array of shape (C * prod(kernel_size), N * prod(out))
    input_shape : tuple (N, C, *spatial) of the image to rebuild (before padding)
    kernel_size, stride, padding, dilation : as for :func:`im2col`

    Returns
    -------
    array of shape ``input_shape``: entries read by several windows get the sum of their
    columns; the padding's share is dropped.

    Math
    ----
    :math:`\langle \mathrm{col2im}(G), X \rangle = \langle G, \mathrm{im2col}(X) \rangle`
    for all :math:`X`, so :math:`\mathrm{col2im}(W^\top \bar Y)` is the input gradient of a
    convolution (a transposed convolution).
    """
    xp = numpy
    n, c, *spatial = input_shape
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    out = _out_size(padded, kernel_size, stride, ((0, 0),) * len(spatial), dilation)
    blocks = cols.reshape((c, *kernel_size, n, *out))
    image = xp.zeros((n, c, *padded), dtype=cols.dtype)
    # blocks[:, k] is (C, N, *out): swap to (N, C, *out) as a view
    _add_windows(image, kernel_size, stride, dilation, out,
                 lambda k: blocks[(slice(None), *k)].swapaxes(0, 1))
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    return image[(slice(None), slice(None)) + inner]


def _lowest(dtype):
    """The padding value that never wins a max: -inf, or the smallest integer."""
    if numpy.issubdtype(dtype, numpy.floating):
        return -numpy.inf
    return numpy.iinfo(dtype).min


def max_pool_forward(x, kernel_size, stride, padding, dilation):
    r"""Max over each (dilated) window; also the flat index of where each maximum came from.

    Parameters
    ----------
    x : array of shape (N, C, *spatial)
    kernel_size, stride, dilation : tuple of d ints
    padding : tuple of d (before, after) pairs; padded entries never win (they are -inf)

    Returns
    -------
    values : array (N, C, *out) of ``x``'s dtype
    indices : int64 array (N, C, *out): the flat index, into the (unpadded) spatial plane of
        channel ``c`` of sample ``n``, of the first maximum of each window (PyTorch's tie rule
        and layout; a NaN counts as the maximum, as in PyTorch).  A window with no value
        above -inf (possible with dilation and padding) gets -inf and, as in PyTorch, the
        flat index of its first position past the left padding (which may lie outside)
    """
    xp = numpy
    d = len(kernel_size)
    view = _windows(x, kernel_size, stride, padding, dilation, pad_value=_lowest(x.dtype))
    out = view.shape[2:2 + d]
    flat = view.reshape(view.shape[:2 + d] + (-1,))
    arg = xp.argmax(flat, axis=-1)  # the first maximum (or the first NaN)
    values = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    # window offset -> position in the input: o s + k r - before, per dimension
    offsets = xp.unravel_index(arg, tuple(kernel_size))
    index = xp.zeros(arg.shape, dtype=xp.int64)
    first = xp.zeros(out, dtype=xp.int64)
    for dim in range(d):
        o = xp.arange(out[dim]).reshape((-1,) + (1,) * (d - 1 - dim))
        start = o * stride[dim] - padding[dim][0]
        index = index * x.shape[2 + dim] + start + offsets[dim] * dilation[dim]
        # the window's first position that is not in the left padding
        skip = xp.maximum(-start + dilation[dim] - 1, 0) // dilation[dim]
        first = first * x.shape[2 + dim] + start + skip * dilation[dim]
    # A window with nothing above the lowest value (all padding, or only -inf inputs) has no
    # strict maximum: PyTorch then names the window's first non-padding position.
    index = xp.where(values == _lowest(x.dtype), first, index)
    return values, index


def max_pool_backward(grad, indices, input_shape):
    r"""Scatter-add ``grad`` to the input positions named by ``indices`` (max-pool's adjoint).

    Parameters
    ----------
    grad : array (N, C, *out), the gradient of the pooled values
    indices : int64 array (N, C, *out), as returned by :func:`max_pool_forward`
    input_shape : tuple (N, C, *spatial)

    Returns
    -------
    array of ``input_shape`` and ``grad``'s dtype: :math:`\bar x_{n,c,p} =
    \sum_{o:\, i_{n,c,o} = p} \bar y_{n,c,o}` (windows that overlap add up).
    """
    xp = numpy
    n, c = input_shape[:2]
    plane = math.prod(input_shape[2:])
    channel = xp.arange(n * c).reshape((n, c) + (1,) * (indices.ndim - 2))
    # a window that lies wholly in the padding names a position past the plane: it has
    # no input to send its gradient to
    inside = indices < plane
    target = (channel * plane + xp.where(inside, indices, 0)).ravel()
    weights = xp.where(inside, grad, 0).ravel()
    total = xp.bincount(target, weights=weights, minlength=n * c * plane)
    return total.astype(grad.dtype, copy=False).reshape(input_shape)


def avg_pool_forward(x, kernel_size, stride, padding, divisor):
    r"""Sum over each window, divided by ``divisor`` (zeros padded; dilation 1).

    Parameters
    ----------
    x : array (N, C, *spatial)
    kernel_size, stride : tuple of d ints
    padding : tuple of d (before, after) pairs of zeros
    divisor : array broadcastable to (*out): the per-window divisor (the caller applies
        count_include_pad / divisor_override / ceil_mode clipping)

    Returns
    -------
    array (N, C, *out): :math:`y_{n,c,o} = \frac{1}{D_o} \sum_k x^{pad}_{n,c,o s + k}`
    """
    d = len(kernel_size)
    view = _windows(x, kernel_size, stride, padding, (1,) * d)
    total = view.sum(axis=tuple(range(2 + d, 2 + 2 * d)))
    return (total / divisor).astype(x.dtype, copy=False)


def avg_pool_backward(grad, input_shape, kernel_size, stride, padding, divisor):
    r"""The adjoint of :func:`avg_pool_forward`: spread ``grad / divisor`` over each window.

    Returns an array of ``input_shape``:
    :math:`\bar x_{n,c,p} = \sum_{o, k:\, o s + k = p} \bar y_{n,c,o} / D_o`.
    """
    xp = numpy
    n, c, *spatial = input_shape
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    share = (grad / divisor).astype(grad.dtype, copy=False)
    image = xp.zeros((n, c, *padded), dtype=grad.dtype)
    _add_windows(image, kernel_size, stride, (1,) * len(spatial), grad.shape[2:],
                 lambda k: share)
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    return image[(slice(None), slice(None)) + inner]


# -- recurrent gate pointwise math (one fused step; the matmuls stay outside) ---------------
__all__ += ["lstm_gates_forward", "gru_gates_forward"]  # noqa: PLE0605


def _gate_sigmoid(xp, x):
    """Logistic function as ``(1 + tanh(x/2)) / 2``: one transcendental, no overflow."""
    return 0.5 * xp.tanh(0.5 * x) + 0.5


def lstm_gates_forward(gx, gh, c):
    r"""Pointwise part of one LSTM step, from the two gate pre-activation blocks.

    Math (PyTorch's gate order i, f, g, o along the last axis of ``gx + gh``):

    .. math::

        i = \sigma(a_i),\; f = \sigma(a_f),\; g = \tanh(a_g),\; o = \sigma(a_o),\qquad
        c' = f \odot c + i \odot g, \qquad h' = o \odot \tanh(c').

    ``gx`` and ``gh`` (..., 4H) are the input and hidden projections (biases included);
    ``c`` (..., H) the previous cell state.  Returns ``(h', c', acts)`` where ``acts``
    (..., 4H) holds the activated gates ``[i, f, g, o]`` that backward reuses.  The body
    uses only functions NumPy and CuPy share.
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(gx)
    hidden = c.shape[-1]
    a = gx + gh
    acts = _gate_sigmoid(xp, a)  # i, f, o (g is overwritten below)
    acts[..., 2 * hidden : 3 * hidden] = xp.tanh(a[..., 2 * hidden : 3 * hidden])
    i = acts[..., :hidden]
    f = acts[..., hidden : 2 * hidden]
    g = acts[..., 2 * hidden : 3 * hidden]
    o = acts[..., 3 * hidden :]
    c_new = f * c + i * g
    h_new = o * xp.tanh(c_new)
    return h_new.astype(gx.dtype, copy=False), c_new.astype(gx.dtype, copy=False), acts


def gru_gates_forward(gx, gh, h):
    r"""Pointwise part of one GRU step, from the input and hidden projections.

    Math (PyTorch's gate order r, z, n; ``r`` multiplies the hidden term of ``n``):

    .. math::

        r = \sigma(x_r + h_r),\; z = \sigma(x_z + h_z),\;
        n = \tanh(x_n + r \odot h_n),\qquad h' = (1 - z) \odot n + z \odot h.

    ``gx`` = W_ih x + b_ih and ``gh`` = W_hh h + b_hh, both (..., 3H); ``h`` (..., H).
    Returns ``(h', acts)`` with ``acts`` (..., 3H) = ``[r, z, n]``.
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(gx)
    hidden = h.shape[-1]
    rz = _gate_sigmoid(xp, gx[..., : 2 * hidden] + gh[..., : 2 * hidden])
    r = rz[..., :hidden]
    z = rz[..., hidden:]
    n = xp.tanh(gx[..., 2 * hidden :] + r * gh[..., 2 * hidden :])
    h_new = n + z * (h - n)
    acts = xp.concatenate([rz, n], axis=-1)
    return h_new.astype(gx.dtype, copy=False), acts


# -- dropout -------------------------------------------------------------------------------------
__all__ += ["dropout_mask"]  # noqa: PLE0605


def dropout_mask(shape, p: float, generator=None):
    """A bool array of ``shape``, True where an element is kept (probability ``1 - p``).

    Drawn from minigrad's seeded ``generator`` (the default one if None): uniforms
    :math:`u \\in [0, 1)` and keep :math:`u \\ge p`, so ``p=0`` keeps all and ``p=1`` none.
    """
    from minigrad.random import numpy_generator

    return numpy_generator(generator).random(tuple(shape)) >= p


# -- optimizer updates ---------------------------------------------------------------------------
# One fused, in-place update per optimizer (minigrad/optim calls them through
# ``backend.kernel``).  Every array argument is modified in place except ``grad``, which is
# only read; the single scratch array ``work`` holds the one temporary the formula needs.
__all__ += ["sgd_update", "rmsprop_update", "adam_update", "adagrad_update"]  # noqa: PLE0605


def _axpy(xp, y, a, x, work):
    """``y += a * x`` in place, with ``work`` (``x``'s shape, may be ``x`` itself) holding a·x."""
    xp.multiply(x, a, out=work)
    xp.add(y, work, out=y)


def _signed_decayed_grad(xp, param, grad, weight_decay, maximize):
    r"""The gradient the update follows, :math:`\pm g + \lambda\theta` (PyTorch's order).

    Returns ``grad`` itself when there is nothing to add or negate (callers never write into
    the result), else a new array.
    """
    if weight_decay == 0:
        return xp.negative(grad) if maximize else grad
    g = xp.multiply(param, weight_decay)
    if maximize:
        xp.subtract(g, grad, out=g)
    else:
        xp.add(g, grad, out=g)
    return g


def sgd_update(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
               maximize, first_step):
    r"""SGD with momentum, in place (PyTorch's rule; the math is in ``minigrad.optim.SGD``).

    ``momentum_buffer`` (``param``'s shape) is ignored when ``momentum == 0`` and may be
    None then; on the ``first_step`` it is set to the gradient.
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(param)
    work = xp.empty_like(param)
    d_p = _signed_decayed_grad(xp, param, grad, weight_decay, maximize)
    if momentum != 0:
        buf = momentum_buffer
        if first_step:
            xp.copyto(buf, d_p)
        else:
            xp.multiply(buf, momentum, out=buf)
            _axpy(xp, buf, 1 - dampening, d_p, work)
        if nesterov:
            xp.multiply(buf, momentum, out=work)
            xp.add(d_p, work, out=work)
            d_p = work
        else:
            d_p = buf
    _axpy(xp, param, -lr, d_p, work)


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    r"""RMSprop, in place (PyTorch's rule; the math is in ``minigrad.optim.RMSprop``).

    ``grad_avg`` is used only when ``centered``, ``momentum_buffer`` only when
    ``momentum > 0``; either may be None otherwise.
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(param)
    work = xp.empty_like(param)
    g = _signed_decayed_grad(xp, param, grad, weight_decay, maximize)
    xp.multiply(square_avg, alpha, out=square_avg)
    xp.multiply(g, g, out=work)
    _axpy(xp, square_avg, 1 - alpha, work, work)
    if centered:
        xp.multiply(grad_avg, alpha, out=grad_avg)
        _axpy(xp, grad_avg, 1 - alpha, g, work)
        xp.multiply(grad_avg, grad_avg, out=work)
        xp.subtract(square_avg, work, out=work)
        xp.sqrt(work, out=work)
    else:
        xp.sqrt(square_avg, out=work)
    xp.add(work, eps, out=work)
    xp.divide(g, work, out=work)
    if momentum > 0:
        xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
        xp.add(momentum_buffer, work, out=momentum_buffer)
        _axpy(xp, param, -lr, momentum_buffer, work)
    else:
        _axpy(xp, param, -lr, work, work)


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, amsgrad, maximize, decoupled_weight_decay):
    r"""Adam / AdamW, in place (PyTorch's rule; the math is in ``minigrad.optim.Adam``).

    ``step`` is the step number after this update's increment (1 on the first update);
    ``max_exp_avg_sq`` is used only with ``amsgrad`` and may be None otherwise.  With
    ``decoupled_weight_decay`` (AdamW) the decay shrinks ``param`` directly instead of
    entering the gradient.
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(param)
    if decoupled_weight_decay:
        xp.multiply(param, 1 - lr * weight_decay, out=param)
        g = _signed_decayed_grad(xp, param, grad, 0, maximize)
    else:
        g = _signed_decayed_grad(xp, param, grad, weight_decay, maximize)
    work = xp.empty_like(param)
    xp.multiply(exp_avg, beta1, out=exp_avg)
    _axpy(xp, exp_avg, 1 - beta1, g, work)
    xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    xp.multiply(g, g, out=work)
    _axpy(xp, exp_avg_sq, 1 - beta2, work, work)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        xp.sqrt(max_exp_avg_sq, out=work)
    else:
        xp.sqrt(exp_avg_sq, out=work)
    xp.divide(work, math.sqrt(bias_correction2), out=work)
    xp.add(work, eps, out=work)
    xp.divide(exp_avg, work, out=work)
    _axpy(xp, param, -step_size, work, work)


def adagrad_update(param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize):
    r"""Adagrad, in place (PyTorch's rule; the math is in ``minigrad.optim.Adagrad``).

    ``step`` is the step number after this update's increment (1 on the first update).
    """
    from minigrad.backend import get_array_module

    xp = get_array_module(param)
    work = xp.empty_like(param)
    g = _signed_decayed_grad(xp, param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    xp.multiply(g, g, out=work)
    xp.add(state_sum, work, out=state_sum)
    xp.sqrt(state_sum, out=work)
    xp.add(work, eps, out=work)
    xp.divide(g, work, out=work)
    _axpy(xp, param, -clr, work, work)
