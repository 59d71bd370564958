"""Reductions: sum, mean, var/std, max/min, logsumexp, argmax/argmin.

``Sum`` and the extremum ops are primitives; ``mean``, ``var``, ``std``, ``min`` and
``logsumexp`` are compositions of primitives, so their gradients (of every order) follow
from the chain rule with no extra code.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.shape import _dim, broadcast_to, reshape
from minigrad.tensor import Tensor

# What max(x, dim) and min(x, dim) return, like torch.return_types.max.
values_indices = namedtuple("values_indices", ["values", "indices"])


def _dims(dim, ndim: int, op: str):
    """``dim`` as a sorted tuple of non-negative axes (None: all of them)."""
    if dim is None:
        return tuple(range(ndim))
    dims = [_dim(d, ndim, op) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: a dim appears multiple times in the list of dims {tuple(dim)}")
    return tuple(sorted(dims)) if ndim else ()  # a 0-d tensor accepts dim 0 / -1: no axis


def _kept_shape(shape, dims) -> tuple:
    """The shape after a reduction over ``dims`` with keepdim=True."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class Sum(ArrayFunction):
    r"""Math: :math:`y = \sum_{i \in \text{dims}} x_i`; :math:`\bar x = \bar y` broadcast back."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape = x.shape
        ctx.kept_shape = _kept_shape(x.shape, dims)
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim:  # put back the reduced dims as size 1 (a 0-d grad broadcasts as it is)
            grad = reshape(grad, ctx.kept_shape)
        return broadcast_to(grad, ctx.input_shape), None, None


def sum(input, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (an int, a tuple, or None for all).  Integers sum as int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input.dtype.kind in "biu":
        input = input.to(numpy.int64)
    return Sum.apply(input, _dims(dim, input.ndim, "sum"), keepdim)


def mean(input, dim=None, keepdim: bool = False, dtype=None):
    r"""Mean over ``dim``: :math:`\frac1n \sum x`."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean: could not infer output dtype; input dtype must be floating point, "
            f"got {input.dtype}"
        )
    dims = _dims(dim, input.ndim, "mean")
    count = int(numpy.prod([input.shape[d] for d in dims]))
    return Sum.apply(input, dims, keepdim) * (1.0 / count if count else float("nan"))


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    r"""Variance :math:`\frac{1}{n - c}\sum (x - \bar x)^2`; ``correction`` c defaults to 1.

    ``unbiased=False`` is ``correction=0``, as in PyTorch.
    """
    return _variance(input, dim, unbiased, keepdim, correction, "var")


def _variance(input, dim, unbiased, keepdim, correction, op: str):
    """``var``; ``op`` names the caller (var or std) in error messages."""
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: pass either unbiased or correction, not both")
    c = correction if correction is not None else (0 if unbiased is False else 1)
    dims = _dims(dim, input.ndim, op)
    count = int(numpy.prod([input.shape[d] for d in dims]))
    centred = input - mean(input, dims, keepdim=True)
    denominator = builtins.max(count - c, 0)
    scale = 1.0 / denominator if denominator else float("inf")
    return sum(centred * centred, dims, keepdim) * scale


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    r"""Standard deviation :math:`\sqrt{\mathrm{var}(x)}` (same arguments as ``var``)."""
    return _variance(input, dim, unbiased, keepdim, correction, "std").sqrt()


class MaxAlong(ArrayFunction):
    r"""``max(x, dim)``: the values and (first) indices of the maxima along ``dim``.

    Math: :math:`\bar x_i = \bar y` at the chosen index, 0 elsewhere.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        xp = get_array_module(x)
        indices = xp.expand_dims(x.argmax(axis=dim), dim)
        values = xp.take_along_axis(x, indices, axis=dim)
        chosen = xp.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1)) == indices
        ctx.chosen, ctx.dim, ctx.keepdim = chosen, dim, keepdim
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.dim)
        return grad * ctx.chosen, None, None


class MaxAll(ArrayFunction):
    r"""``max(x)`` over all elements; ties share the gradient evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        if x.size == 0:
            raise RuntimeError("max: the input is empty; specify a dim to reduce over")
        out = x.max()
        ties = x == out
        ctx.share = (ties / ties.sum()).astype(x.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share


def max(input, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """``max(x)`` (a 0-d tensor), ``max(x, dim)`` (values, indices) or ``max(x, other)``."""
    if isinstance(dim, Tensor):
        from minigrad.ops.elementwise import maximum

        return maximum(input, dim)
    if dim is None:
        return MaxAll.apply(input)
    if input.ndim == 0:  # as a 1-element vector, so that values is a new node as in PyTorch
        _dim(dim, 0, "max")
        return values_indices(*MaxAlong.apply(reshape(input, 1), 0, False))
    values, indices = MaxAlong.apply(input, _dim(dim, input.ndim, "max"), keepdim)
    return values_indices(values, indices)


def min(input, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """Like ``max``; computed as ``-max(-x)`` so it shares max's gradient rule."""
    if isinstance(dim, Tensor):
        from minigrad.ops.elementwise import minimum

        return minimum(input, dim)
    if input.numel() == 0 and dim is None:
        raise RuntimeError("min: the input is empty; specify a dim to reduce over")
    if dim is None:
        return -max(-input)
    _dim(dim, input.ndim, "min")  # so that a bad dim is reported as min's, not max's
    values, indices = max(-input, dim, keepdim)
    return values_indices(-values, indices)


def logsumexp(input, dim, keepdim: bool = False):
    r"""Math: :math:`\ln \sum_i e^{x_i} = m + \ln \sum_i e^{x_i - m}`, :math:`m = \max_i x_i`.

    The shift :math:`m` is a constant (detached): it cancels in the value and keeps every
    exponent at most 0.  Its gradient is softmax.
    """
    dims = _dims(dim, input.ndim, "logsumexp")
    xp = get_array_module(input._data)
    if input.numel() == 0:
        m = xp.zeros(_kept_shape(input.shape, dims), input.dtype)
    else:
        m = input._data.max(axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows: no shift, result -inf
    m = Tensor._make(m)
    out = m + (input - m).exp().sum(dims, keepdim=True).log()
    if keepdim:
        return out
    return reshape(out, tuple(s for i, s in enumerate(out.shape) if i not in dims))


def _arg_extremum(input, dim, keepdim, name):
    x = input._data
    xp = get_array_module(x)
    if x.size == 0:
        raise RuntimeError(f"{name}: expected a non-empty tensor, got shape {input.shape}")
    if dim is None:
        out = xp.asarray(getattr(x, name)())
        return Tensor._make(out.reshape((1,) * input.ndim) if keepdim else out)
    d = _dim(dim, input.ndim, name)
    out = xp.asarray(getattr(x, name)(axis=d) if input.ndim else 0)  # never a NumPy scalar
    return Tensor._make(xp.expand_dims(out, d) if keepdim and input.ndim else out)


def argmax(input, dim=None, keepdim: bool = False):
    """Index of the (first) maximum, over all elements (flattened) or along ``dim``."""
    return _arg_extremum(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim: bool = False):
    """Index of the (first) minimum, over all elements (flattened) or along ``dim``."""
    return _arg_extremum(input, dim, keepdim, "argmin")
