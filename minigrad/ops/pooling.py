r"""Pooling: max (with PyTorch's argmax indices), average, and adaptive average.

* :class:`MaxPool` keeps the flat index of each window's maximum; its gradient is
  :class:`MaxPoolScatter` (a scatter-add by those indices), whose gradient is a gather.
* :class:`AvgPool` sums each window and divides; its gradient :class:`AvgPoolScatter`
  spreads the gradient back over the windows, and the two are each other's adjoints.
* ``adaptive_avg_pool1d/2d`` average PyTorch's bins :math:`[\lfloor i n / m \rfloor,
  \lceil (i + 1) n / m \rceil)` as products with constant averaging matrices, so their
  gradients come from ``matmul``.

The window work lives in ``backend/cpu.py`` / ``backend/cuda.py`` (``max_pool_forward``,
``max_pool_backward``, ``avg_pool_forward``, ``avg_pool_backward``).
"""

from __future__ import annotations

import math

import numpy

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module, kernel
from minigrad.ops.conv import batched, ntuple, positive
from minigrad.ops.indexing import GetItem
from minigrad.ops.linalg import matmul
from minigrad.ops.shape import reshape, squeeze, transpose
from minigrad.tensor import Tensor


# -- max pooling ----------------------------------------------------------------------------------
class MaxPool(ArrayFunction):
    r"""Max over each (dilated, padded with :math:`-\infty`) window, and where it came from.

    Math: :math:`y_{n,c,o} = \max_k x^{pad}_{n,c,o s + k r}`, :math:`i_{n,c,o}` = the flat
    input position of the first maximum; :math:`\bar x_{n,c,p} = \sum_{o:\, i_{n,c,o} = p}
    \bar y_{n,c,o}` (:class:`MaxPoolScatter`).  Outputs (values, indices); the indices
    carry no gradient.
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation):
        values, indices = kernel("max_pool_forward", x)(x, kernel_size, stride, padding, dilation)
        ctx.input_shape, ctx.indices = x.shape, indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return MaxPoolScatter.apply(grad, ctx.indices, ctx.input_shape), None, None, None, None


class MaxPoolScatter(ArrayFunction):
    r"""Scatter-add of a pooled gradient to the saved argmax positions (max-pool's backward).

    Math: :math:`z_{n,c,p} = \sum_{o:\, i_{n,c,o} = p} g_{n,c,o}`; it is linear in
    :math:`g`, so :math:`\bar g_{n,c,o} = \bar z_{n,c,i_{n,c,o}}` (a gather).
    """

    @staticmethod
    def forward(ctx, g, indices, input_shape):
        xp = get_array_module(g)
        n, c = input_shape[:2]
        plane = math.prod(input_shape[2:])
        channel = xp.arange(n * c).reshape((n, c) + (1,) * (indices.ndim - 2))
        # windows wholly in the padding point past the plane and send nothing anywhere
        inside = indices < plane
        ctx.outside = None if inside.all() else Tensor._make(inside.astype(g.dtype))
        ctx.flat = channel * plane + xp.where(inside, indices, 0)  # in the flattened input
        return kernel("max_pool_backward", g)(g, indices, input_shape)

    @staticmethod
    def backward(ctx, grad):
        gathered = GetItem.apply(reshape(grad, (-1,)), (ctx.flat,))
        if ctx.outside is not None:
            gathered = gathered * ctx.outside
        return gathered, None, None


def _pool_size(n, k, s, p, r, ceil_mode) -> int:
    """PyTorch's pooling output size, ceil_mode's "last window starts inside" rule included."""
    span = n + 2 * p - r * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, d, op):
    """Check the arguments; return the batched input, the tuples, (before, after) padding
    pairs (the after side grown for ceil_mode's partial windows), the output size, and
    whether a batch dimension was added."""
    x, added = batched(input, d, op, "C")
    k = positive(ntuple(kernel_size, d, "kernel_size", op), "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else ntuple(stride, d, "stride", op)
    s = positive(s, "stride", op)
    p = ntuple(padding, d, "padding", op)
    r = positive(ntuple(dilation, d, "dilation", op), "dilation", op)
    if any(pi < 0 or 2 * pi > ki for pi, ki in zip(p, k)):
        raise ValueError(
            f"{op}: padding should be at most half of the kernel size, got padding={p} for "
            f"kernel_size={k}"
        )
    spatial = x.shape[2:]
    out = tuple(_pool_size(*a, ceil_mode) for a in zip(spatial, k, s, p, r))
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: output size {out} is too small for input of shape {input.shape} "
            f"(kernel_size={k}, stride={s}, padding={p}, dilation={r})"
        )
    # grow the right padding so that the last (ceil_mode) window fits; padded values never win
    # a max and add nothing to a sum
    pads = tuple(
        (pi, pi + max(0, (o - 1) * si + ri * (ki - 1) + 1 - (n + 2 * pi)))
        for n, ki, si, pi, ri, o in zip(spatial, k, s, p, r, out)
    )
    return x, k, s, pads, r, out, added


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d, op):
    x, k, s, pads, r, _, added = _pool_args(
        input, kernel_size, stride, padding, dilation, ceil_mode, d, op
    )
    values, indices = MaxPool.apply(x, k, s, pads, r)
    if added:
        values, indices = squeeze(values, 0), squeeze(indices, 0)
    return (values, indices) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""1-D max pooling over (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``.

    Math: :math:`y_{n,c,l} = \max_k x^{pad}_{n,c,l s + k r}` (padding is :math:`-\infty`);
    the gradient goes to the first maximum of each window.  With ``return_indices`` also
    returns the flat input position of each maximum.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""2-D max pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.max_pool2d``.

    Math: :math:`y_{n,c,i,j} = \max_{p,q} x^{pad}_{n,c,i s_0 + p r_0, j s_1 + q r_1}`
    (padding is :math:`-\infty`, at most half the kernel).  ``stride`` defaults to
    ``kernel_size``; ``ceil_mode`` keeps a last partial window when it starts inside the
    input or the left padding.  With ``return_indices`` also returns, for each output, the
    flat index :math:`h W + w` of its maximum in the input plane (the first one on ties).
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


# -- average pooling ------------------------------------------------------------------------------
class AvgPool(ArrayFunction):
    r"""Window sums divided by a per-window divisor :math:`D_o`.

    Math: :math:`y_{n,c,o} = \frac{1}{D_o} \sum_k x^{pad}_{n,c,o s + k}`, linear in :math:`x`,
    so :math:`\bar x_{n,c,p} = \sum_{o,k:\, o s + k = p} \bar y_{n,c,o} / D_o`
    (:class:`AvgPoolScatter`).
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, divisor):
        xp = get_array_module(x)
        divisor = xp.asarray(divisor, dtype=x.dtype)
        ctx.params = (x.shape, kernel_size, stride, padding, divisor)
        return kernel("avg_pool_forward", x)(x, kernel_size, stride, padding, divisor)

    @staticmethod
    def backward(ctx, grad):
        return AvgPoolScatter.apply(grad, *ctx.params), None, None, None, None


class AvgPoolScatter(ArrayFunction):
    r"""The adjoint of :class:`AvgPool` (its backward): spread :math:`g_o / D_o` over window
    :math:`o`.  It is linear, and its adjoint is :class:`AvgPool` again:
    :math:`\bar g = \mathrm{AvgPool}(\bar z)`."""

    @staticmethod
    def forward(ctx, g, input_shape, kernel_size, stride, padding, divisor):
        ctx.params = (kernel_size, stride, padding, divisor)
        return kernel("avg_pool_backward", g)(g, input_shape, kernel_size, stride, padding,
                                               divisor)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool.apply(grad, *ctx.params), None, None, None, None, None


def _avg_divisor(spatial, k, s, p, out, count_include_pad, divisor_override):
    """The divisor of every output window, PyTorch's way, as a float64 array of shape out."""
    if divisor_override is not None:
        return numpy.asarray(float(divisor_override))
    divisor = numpy.ones(())
    for n, ki, si, pi, oi in zip(spatial, k, s, p, out):
        start = numpy.arange(oi) * si - pi
        end = numpy.minimum(start + ki, n + pi)  # the ceil_mode overhang never counts
        size = end - start if count_include_pad else (
            numpy.minimum(end, n) - numpy.maximum(start, 0))
        divisor = numpy.multiply.outer(divisor, size.astype(numpy.float64))
    return divisor


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, d, op):
    if divisor_override is not None and (
        isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
        or divisor_override == 0
    ):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    x, k, s, pads, _, out, added = _pool_args(input, kernel_size, stride, padding, 1, ceil_mode,
                                              d, op)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype}")
    divisor = _avg_divisor(x.shape[2:], k, s, [lo for lo, _ in pads], out, count_include_pad,
                           divisor_override)
    y = AvgPool.apply(x, k, s, pads, divisor)
    return squeeze(y, 0) if added else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    r"""1-D average pooling over (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``.

    Math: :math:`y_{n,c,l} = \frac1{D_l} \sum_k x^{pad}_{n,c,l s + k}` (see ``avg_pool2d``
    for the divisor).
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    r"""2-D average pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.avg_pool2d``.

    Math: :math:`y_{n,c,i,j} = \frac{1}{D_{ij}} \sum_{p,q} x^{pad}_{n,c,i s_0 + p, j s_1 + q}`.
    :math:`D_{ij}` is ``divisor_override`` if given; else the window's size clipped to the
    padded input (``count_include_pad=True``: zero padding counts, ceil_mode's overhang does
    not) or to the input itself (``count_include_pad=False``).
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


# -- adaptive average pooling ---------------------------------------------------------------------
def _averaging_matrix(n: int, m: int, like) -> Tensor:
    r"""(m, n) matrix :math:`A_{ij} = 1 / |B_i|` for :math:`j \in B_i = [\lfloor i n / m \rfloor,
    \lceil (i + 1) n / m \rceil)`, else 0: PyTorch's adaptive bins."""
    i = numpy.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)
    j = numpy.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    matrix = inside / (end - start)[:, None]
    xp = get_array_module(like._data)
    return Tensor._make(xp.asarray(matrix, dtype=like.dtype))


def _adaptive_avg_pool(input, output_size, d, op):
    x, added = batched(input, d, op, "C")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype}")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * d
    if len(sizes) == 1:
        sizes = tuple(sizes) * d
    if len(sizes) != d:
        raise ValueError(f"{op}: expected output_size to be an int or {d} values, got "
                         f"{output_size!r}")
    sizes = tuple(n if m is None else m for m, n in zip(sizes, x.shape[2:]))
    if any(isinstance(m, bool) or not isinstance(m, int) or m <= 0 for m in sizes):
        raise ValueError(f"{op}: output_size must hold positive ints or None, got "
                         f"{output_size!r}")
    if any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(f"{op}: expected non-empty spatial dimensions, got {input.shape}")
    y = x
    # the last spatial dim: y @ A^T; the one before: A @ y (matmul broadcasts the batch)
    y = matmul(y, transpose(_averaging_matrix(x.shape[-1], sizes[-1], x), 0, 1))
    if d == 2:
        y = matmul(_averaging_matrix(x.shape[-2], sizes[-2], x), y)
    return squeeze(y, 0) if added else y


def adaptive_avg_pool1d(input, output_size):
    r"""Average over PyTorch's adaptive bins of (N, C, L) or (C, L) into ``output_size``.

    Math: :math:`y_{n,c,i} = \frac{1}{e_i - b_i} \sum_{l = b_i}^{e_i - 1} x_{n,c,l}`,
    :math:`b_i = \lfloor i L / m \rfloor`, :math:`e_i = \lceil (i + 1) L / m \rceil`; as the
    product :math:`x A^\top` with a constant averaging matrix, the gradient is
    :math:`\bar y A`.
    """
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    r"""Average over PyTorch's adaptive bins of (N, C, H, W) or (C, H, W) into ``output_size``.

    ``output_size`` is an int, a pair, or a pair with None (keep that input size).

    Math: :math:`y_{n,c,i,j} = \frac{1}{|B_i||B'_j|} \sum_{h \in B_i} \sum_{w \in B'_j}
    x_{n,c,h,w}` with bins :math:`B_i = [\lfloor i H / m \rfloor, \lceil (i + 1) H / m \rceil)`,
    computed as :math:`A_H\, x\, A_W^\top`, so :math:`\bar x = A_H^\top \bar y A_W`.
    """
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


__all__ = [
    "AvgPool",
    "AvgPoolScatter",
    "MaxPool",
    "MaxPoolScatter",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]
