"""Activation functions and (log-)softmax.

Each is one Function with its math in the docstring; their backwards are written with
minigrad ops, so second derivatives (``create_graph=True``) come for free.
"""

from __future__ import annotations

import math

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.elementwise import erf, exp, sigmoid, where
from minigrad.ops.reduction import sum
from minigrad.ops.shape import _dim
from minigrad.tensor import Tensor


class ReLU(ArrayFunction):
    r"""Math: :math:`y = \max(x, 0)`, :math:`\bar x = \bar y\,[x > 0]`
    (so relu'(0) = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.positive = x > 0
        return get_array_module(x).maximum(x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.positive


class LeakyReLU(ArrayFunction):
    r"""Math: :math:`y = x` if :math:`x > 0` else :math:`a x`;
    :math:`\bar x = \bar y` or :math:`a \bar y` (the slope at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.positive = positive = x > 0
        ctx.negative_slope = negative_slope
        out = get_array_module(x).where(positive, x, x * negative_slope)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return where(Tensor._make(ctx.positive), grad, grad * ctx.negative_slope), None


class GELU(ArrayFunction):
    r"""Gaussian error linear unit.

    Math (``approximate='none'``): :math:`y = x\,\Phi(x)` with
    :math:`\Phi(x) = \tfrac12\,(1 + \mathrm{erf}(x/\sqrt2))`, and
    :math:`\bar x = \bar y\,(\Phi(x) + x\,\varphi(x))`, :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`.

    Math (``approximate='tanh'``): :math:`y = \tfrac12 x (1 + \tanh u)`,
    :math:`u = \sqrt{2/\pi}\,(x + 0.044715 x^3)`, and
    :math:`\bar x = \bar y\,(\tfrac12 (1 + \tanh u) + \tfrac12 x (1 - \tanh^2 u)\, u')`,
    :math:`u' = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715 x^2)`.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        from minigrad.backend import kernel

        xp = get_array_module(x)
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return (0.5 * x * (1 + xp.tanh(u))).astype(x.dtype, copy=False)
        return (0.5 * x * (1 + kernel("erf", x)(x / math.sqrt(2)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            c = math.sqrt(2 / math.pi)
            t = (c * (x + 0.044715 * x * x * x)).tanh()
            du = c * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du), None
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
        pdf = exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf), None


class Softplus(ArrayFunction):
    r"""Math: :math:`y = \tfrac1\beta \ln(1 + e^{\beta x})`, or :math:`x` where :math:`\beta x > t`;
    :math:`\bar x = \bar y\,\sigma(\beta x)` (or :math:`\bar y` above the threshold).

    Computed as :math:`\max(\beta x, 0) + \ln(1 + e^{-|\beta x|})`, which never overflows.
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        bx = x * beta
        ctx.beta = beta
        ctx.linear = bx > threshold
        ctx.save_for_backward(x)
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(ctx.linear, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return where(Tensor._make(ctx.linear), grad, grad * sigmoid(x * ctx.beta)), None, None


class Softmax(ArrayFunction):
    r"""Math: :math:`y_i = e^{x_i - m} / \sum_j e^{x_j - m}`
    (:math:`m = \max_j x_j`, for stability);
    :math:`\bar x = y \odot (\bar y - \sum_j \bar y_j y_j)`."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - sum(grad * y, ctx.dim, keepdim=True)), None


class LogSoftmax(ArrayFunction):
    r"""Math: :math:`y_i = x_i - m - \ln \sum_j e^{x_j - m}` (log-sum-exp, stable);
    :math:`\bar x = \bar y - e^{y} \sum_j \bar y_j`."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - exp(y) * sum(grad, ctx.dim, keepdim=True), None


def relu(input):
    return ReLU.apply(input)


def _floating(input, op: str):
    """PyTorch implements these only for floating point (relu also takes integers)."""
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    return input


def leaky_relu(input, negative_slope: float = 0.01):
    return LeakyReLU.apply(_floating(input, "leaky_relu"), negative_slope)


def gelu(input, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_floating(input, "gelu"), approximate)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    return Softplus.apply(_floating(input, "softplus"), beta, threshold)


def _softmax_dim(input, dim, op):
    if dim is None:  # PyTorch's legacy choice for an unspecified dim
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return _dim(dim, input.ndim, op)


def softmax(input, dim=None, dtype=None):
    """Softmax along ``dim``: non-negative values that sum to 1."""
    if dtype is not None:
        input = input.to(dtype)
    _floating(input, "softmax")
    return Softmax.apply(input, _softmax_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """Logarithm of softmax along ``dim``, computed stably (never log of 0)."""
    if dtype is not None:
        input = input.to(dtype)
    _floating(input, "log_softmax")
    return LogSoftmax.apply(input, _softmax_dim(input, dim, "log_softmax"))
