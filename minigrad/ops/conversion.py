"""Conversions: dtype casts, device transfers, copies.  Each passes the gradient back
unchanged except for undoing the conversion (a cast back, a transfer back)."""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import device_of, get_array_module
from minigrad.backend import to_device as move_array
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor


class ToDtype(ArrayFunction):
    r"""Math: :math:`y = \mathrm{cast}(x)`; :math:`\bar x = \mathrm{cast}^{-1}(\bar y)`."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return to_dtype(grad, ctx.input_dtype), None


class ToDevice(ArrayFunction):
    r"""Copy to another device; the gradient is copied back to the input's device."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.input_device = device_of(x)
        return move_array(x, device)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.input_device), None


class Clone(ArrayFunction):
    r"""A copy of the data: :math:`y = x`, :math:`\bar x = \bar y`."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class CopyFrom(ArrayFunction):
    r"""``x.copy_(src)`` out of place: ``src`` broadcast to ``x``'s shape and cast to its dtype.

    Math: :math:`y = \mathrm{broadcast}(s)`; :math:`\bar x = 0`,
    :math:`\bar s = \mathrm{sum\_to}(\bar y)`.
    """

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_shape = getattr(src, "shape", ())
        xp = get_array_module(x)
        return xp.array(xp.broadcast_to(xp.asarray(src, dtype=x.dtype), x.shape))

    @staticmethod
    def backward(ctx, grad):
        gx = full_like_value(grad, 0) if ctx.needs_input_grad[0] else None
        gs = sum_to(grad, ctx.src_shape) if ctx.needs_input_grad[1] else None
        return gx, gs


def to_dtype(input, dtype):
    return input if input.dtype == dtype else ToDtype.apply(input, dtype)


def to_device(input, device):
    return input if input.device == device else ToDevice.apply(input, device)


def clone(input):
    return Clone.apply(input)


def copy_from(input, src):
    if isinstance(src, Tensor) and src.device != input.device:
        src = to_device(src, input.device)
    return CopyFrom.apply(input, src)


def full_like_value(input, value):
    """A constant tensor of ``input``'s shape, dtype and device, filled with ``value``."""
    xp = get_array_module(input._data)
    return Tensor._make(xp.full(input.shape, value, dtype=input.dtype))

