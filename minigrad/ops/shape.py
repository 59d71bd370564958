"""Shape ops: reshape/view, permute/transpose, broadcasting, cat/stack/split, pad.

None of these changes a value; each moves values around, so each backward moves the
gradient back: reshape's backward reshapes, permute's permutes by the inverse, and
broadcasting's backward sums (``sum_to``, the one place where broadcasting is undone).
"""

from __future__ import annotations

import builtins
import math

import numpy

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(builtins.int(s) for s in shape)


def _dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative ``dim`` for a tensor of ``ndim`` dimensions."""
    if not -builtins.max(ndim, 1) <= dim < builtins.max(ndim, 1):
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of "
            f"[{-builtins.max(ndim, 1)}, {builtins.max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % builtins.max(ndim, 1)


# -- reshape ---------------------------------------------------------------------------------
class Reshape(ArrayFunction):
    r"""Same values in a new shape: :math:`y = \mathrm{reshape}(x)`, so
    :math:`\bar x = \mathrm{reshape}(\bar y)`."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of size {x.size} "
                f"(shape {tuple(x.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape), None


def reshape(input, *shape):
    """Return ``input`` with the given shape (one entry may be -1); a view when possible."""
    shape = _shape_arg(shape)
    if shape == input.shape:
        return input
    return Reshape.apply(input, shape)


def view(input, *shape):
    """Like ``reshape`` but never copies: raises if the data cannot be viewed that way."""
    out = reshape(input, *shape)
    xp = get_array_module(input._data)
    if out is not input and not xp.may_share_memory(out._data, input._data) and input.numel():
        raise RuntimeError(
            f"view: size {list(_shape_arg(shape))} is not compatible with the input's memory "
            f"layout (shape {input.shape}, non-contiguous); use .reshape(...) instead"
        )
    return out


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = _dim(start_dim, input.ndim, "flatten"), _dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (all of them, or those in ``dim``)."""
    shape = input.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_dim(d, input.ndim, "squeeze") for d in dims}
        dims = {d for d in dims if shape and shape[d] == 1}
    return reshape(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input, dim: int):
    """Insert a dimension of size 1 at ``dim``."""
    d = _dim(dim, input.ndim + 1, "unsqueeze")
    shape = input.shape
    return reshape(input, shape[:d] + (1,) + shape[d:])


# -- permute ---------------------------------------------------------------------------------
class Permute(ArrayFunction):
    r"""Reorder dimensions: :math:`y_{i_{p(0)} \ldots} = x_{i_0 \ldots}`; backward permutes
    by :math:`p^{-1}`."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return permute(grad, tuple(numpy.argsort(ctx.dims))), None


def permute(input, *dims):
    """Reorder the dimensions of ``input``."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute: number of dims ({len(dims)}) does not match the input's ({input.ndim}), "
            f"input shape {input.shape}"
        )
    dims = tuple(_dim(d, input.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, dims)


def transpose(input, dim0: int, dim1: int):
    """Swap two dimensions."""
    dims = list(range(input.ndim))
    d0, d1 = _dim(dim0, input.ndim, "transpose"), _dim(dim1, input.ndim, "transpose")
    if dims:  # a 0-d tensor accepts dims 0 and -1 and stays as it is, as in PyTorch
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


# -- broadcasting ------------------------------------------------------------------------------
class BroadcastTo(ArrayFunction):
    r"""Repeat along broadcast dimensions; backward sums them back:
    :math:`\bar x = \mathrm{sum\_to}(\bar y)`."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        xp = get_array_module(x)
        try:
            return xp.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: the shape {tuple(x.shape)} cannot be broadcast to {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.input_shape), None


class SumTo(ArrayFunction):
    r"""Sum a broadcast array back down to ``shape``; backward broadcasts again."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
        )
        out = x.sum(axis=axes, keepdims=True) if axes else x
        return out.reshape(shape) if lead else out

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.input_shape), None


def broadcast_to(input, shape):
    """``input`` broadcast to ``shape`` (a read-only view)."""
    shape = tuple(shape)
    return input if input.shape == shape else BroadcastTo.apply(input, shape)


def expand(input, *sizes):
    """Broadcast to ``sizes``; -1 keeps a dimension's size, as in PyTorch."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the number of "
            f"dimensions ({input.ndim}) of the input of shape {input.shape}"
        )
    shape = tuple(
        input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    return broadcast_to(input, shape)


def sum_to(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting added or stretched to get ``shape``.

    The single place where minigrad undoes broadcasting: every op that broadcast its
    inputs calls it in backward.
    """
    shape = tuple(shape)
    return grad if grad.shape == shape else SumTo.apply(grad, shape)


# -- cat / stack / split -------------------------------------------------------------------------
class Cat(ArrayFunction):
    r"""Join tensors along ``dim``; backward cuts the gradient into the same pieces."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None, *split(grad, ctx.sizes, ctx.dim))


def cat(tensors, dim: int = 0):
    """Concatenate a sequence of tensors along ``dim`` (shapes must match elsewhere)."""
    from minigrad.ops.elementwise import promote_tensors

    tensors = promote_tensors(list(tensors), "cat")
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                "use stack or unsqueeze it first"
            )
    d = _dim(dim, first.ndim, "cat")

    def others(shape):  # every size but dimension d's
        return shape[:d] + shape[d + 1 :]

    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or others(t.shape) != others(first.shape):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}; tensor 0 has shape "
                f"{first.shape} but tensor {i} has shape {t.shape}"
            )
    return Cat.apply(d, *tensors)


def stack(tensors, dim: int = 0):
    """Join tensors of equal shape along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at "
                f"entry 0 and {t.shape} at entry {i}"
            )
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


class Split(ArrayFunction):
    r"""Cut along ``dim`` into pieces (views); backward joins the pieces' gradients."""

    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = numpy.cumsum(sizes)[:-1].tolist()
        return tuple(get_array_module(x).split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


def split(tensor, split_size_or_sections, dim: int = 0):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    d = _dim(dim, tensor.ndim, "split")
    length = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, numpy.integer)):
        size = builtins.int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else [])
        sizes = sizes or [0]
    else:
        sizes = [builtins.int(s) for s in split_size_or_sections]
        if sum(sizes) != length or builtins.min(sizes, default=0) < 0:
            raise RuntimeError(
                f"split: split sizes {sizes} must be non-negative and sum to the size of "
                f"dimension {d} ({length}) of the input of shape {tensor.shape}"
            )
    return Split.apply(tensor, tuple(sizes), d)


def chunk(input, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small), as PyTorch."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: expected chunks > 0, got {chunks}")
    length = input.shape[_dim(dim, input.ndim, "chunk")]
    return split(input, builtins.max(1, -(-length // chunks)), dim)


# -- pad ---------------------------------------------------------------------------------------
class ConstantPad(ArrayFunction):
    r"""Surround with ``value``; backward keeps the gradient of the inner (original) region."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return get_array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner], None, None


def pad(input, pad, mode: str = "constant", value: float = 0.0):
    """Pad the last ``len(pad) // 2`` dimensions, as ``torch.nn.functional.pad``.

    ``pad = (left, right, top, bottom, ...)`` starts from the last dimension.  Negative
    widths crop.  Modes: 'constant', 'reflect', 'replicate', 'circular'.  The last three
    are gathers (``x[..., index]`` with a source index per output position), so their
    gradient is the scatter-add of indexing.
    """
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: padding length must be even and at most 2 * ndim ({2 * input.ndim}), "
            f"got {len(pad)} for input of shape {input.shape}"
        )
    modes = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    if mode != "constant" and mode not in modes:
        raise ValueError(f"pad: unknown mode {mode!r}; expected 'constant', {', '.join(modes)}")
    n = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - n) + [
        (builtins.int(pad[2 * i]), builtins.int(pad[2 * i + 1])) for i in reversed(range(n))
    ]
    # Negative widths crop first (a plain slice); what remains is non-negative padding.
    crop = tuple(
        slice(-builtins.min(lo, 0), s + builtins.min(hi, 0))
        for (lo, hi), s in zip(widths, input.shape)
    )
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        input = input[crop]
    widths = tuple((builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths)
    if mode == "constant":
        return ConstantPad.apply(input, widths, value) if any(map(any, widths)) else input
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            size = input.shape[d]
            if mode == "reflect" and (lo >= size or hi >= size):
                raise ValueError(
                    f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {size} "
                    f"of dimension {d} of the input of shape {input.shape}"
                )
            source = numpy.pad(numpy.arange(size), (lo, hi), mode=modes[mode])
            out = out[(slice(None),) * d + (source,)]
    return out
