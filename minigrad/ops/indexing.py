"""Indexing: ``x[key]`` and ``x[key] = value``, with basic and advanced keys.

``x[key]`` gathers; its gradient is the matching scatter, which *adds* where an index
repeats (``x[[0, 0]]`` sends both gradients to ``x[0]``).  The scatter's own gradient
is the gather again, so the pair supports derivatives of every order.
"""

from __future__ import annotations

import numpy

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module, kernel, to_device
from minigrad.ops.shape import reshape, sum_to
from minigrad.tensor import Tensor


def normalize_key(key, like, op: str = "getitem"):
    """Turn a user's key into one the array module accepts: Tensors and lists become
    arrays on ``like``'s device; ints, slices, None and Ellipsis stay as they are."""
    if not isinstance(key, tuple):
        key = (key,)
    device = Tensor._make(like).device
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
        elif isinstance(k, (list, range)):
            k = numpy.asarray(k)
            if k.dtype.kind == "f" or (k.size == 0 and k.dtype.kind != "b"):
                k = k.astype(numpy.int64)
        if hasattr(k, "dtype") and hasattr(k, "shape"):
            if k.dtype.kind not in "biu":
                raise IndexError(
                    f"{op}: tensors used as indices must be integer or bool, got {k.dtype}"
                )
            k = to_device(k, device)
        out.append(k)
    return tuple(out)


def _is_basic(key) -> bool:
    """True when the key has no arrays: every position is read at most once."""
    return not any(hasattr(k, "shape") for k in key)


class GetItem(ArrayFunction):
    r"""Math: :math:`y = x[k]`; :math:`\bar x = \mathrm{scatter\_add}(0, k, \bar y)`."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.input_shape, ctx.key = x.shape, key
        try:
            return x[key]
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor of shape {tuple(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, ctx.input_shape, ctx.key), None


class ScatterAdd(ArrayFunction):
    r"""Math: :math:`y = 0` of ``shape``, then :math:`y[k] \mathrel{+}= g`;
    :math:`\bar g = \bar y[k]`."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = get_array_module(g).zeros(shape, dtype=g.dtype)
        if _is_basic(key):
            out[key] = g
        else:
            kernel("scatter_add", out)(out, key, g)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.key), None, None


class IndexPut(ArrayFunction):
    r"""``x[k] = v`` out of place: :math:`y = x` with :math:`y[k] = v`.

    Math: :math:`\bar x = \bar y` with zeros at :math:`k`; :math:`\bar v = \bar y[k]` summed to
    :math:`v`'s shape.
    """

    @staticmethod
    def forward(ctx, x, key, value):
        xp = get_array_module(x)
        out = x.copy()
        try:
            out[key] = value
        except (IndexError, ValueError) as error:
            raise type(error)(
                f"setitem: {error} (tensor of shape {tuple(x.shape)}, value of shape "
                f"{tuple(getattr(value, 'shape', ()))})"
            ) from None
        kept = xp.ones(x.shape, dtype=bool)
        kept[key] = False
        ctx.kept, ctx.key, ctx.value_shape = kept, key, getattr(value, "shape", ())
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = grad * ctx.kept if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = GetItem.apply(grad, ctx.key)
            # the value may have more (leading, size-1) dims than the region it fills
            extra = len(ctx.value_shape) - gv.ndim
            if extra > 0:
                gv = reshape(gv, (1,) * extra + gv.shape)
            gv = sum_to(gv, ctx.value_shape)
        return gx, None, gv


def getitem(input, key):
    """``input[key]`` with ints, slices, None, Ellipsis, integer arrays and bool masks."""
    return GetItem.apply(input, normalize_key(key, input._data))


def index_put(input, key, value):
    """A copy of ``input`` with ``input[key] = value`` (what ``x[key] = value`` records)."""
    from minigrad.ops.elementwise import promote

    key = normalize_key(key, input._data, "setitem")
    _, value = promote(input, value, "setitem")
    if isinstance(value, Tensor):
        if value.dtype != input.dtype:
            value = value.to(input.dtype)
        if value.device != input.device:
            value = value.to(input.device)
    return IndexPut.apply(input, key, value)
