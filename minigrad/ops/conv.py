r"""Convolution (1-D and 2-D, any stride, padding, dilation and groups) as im2col + one GEMM.

Three Functions close the family under differentiation, so gradients of any order work:

* :class:`Conv`: :math:`Y = W \cdot \mathrm{im2col}(X) + b`;
* :class:`ConvInputGrad`: the transposed convolution :math:`\mathrm{col2im}(W^\top G)`,
  which is the input gradient of ``Conv``;
* :class:`ConvWeightGrad`: :math:`G \cdot \mathrm{im2col}(X)^\top`, the weight gradient.

Each of the three is bilinear, and the backward of each is made of the other two (and of
itself).  The window bookkeeping (``im2col``/``col2im``) lives in ``backend/cpu.py`` and
``backend/cuda.py`` under the same names, reached through ``backend.kernel``.

Shapes follow PyTorch: input (N, C_in, *spatial) or unbatched (C_in, *spatial), weight
(C_out, C_in / groups, *kernel), bias (C_out,), output (N, C_out, *out) with
:math:`\mathrm{out} = \lfloor (n + p_{lo} + p_{hi} - r (k - 1) - 1) / s \rfloor + 1`.
"""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module, kernel
from minigrad.ops.reduction import sum
from minigrad.ops.shape import squeeze, unsqueeze
from minigrad.tensor import Tensor

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


# -- array-level helpers (shared by the three Functions) ------------------------------------------
def _out_size(spatial, kernel_size, stride, padding, dilation) -> tuple:
    return tuple(
        (n + lo + hi - r * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), r in zip(spatial, kernel_size, stride, padding, dilation)
    )


def _grad_matrix(g, groups):
    """(N, C_out, *out) -> (groups, C_out / groups, N * prod(out)), the GEMM layout."""
    xp = get_array_module(g)
    return xp.moveaxis(g, 1, 0).reshape(groups, g.shape[1] // groups, -1)


def _gemm(a, b):
    """Stacked matrix product over the groups; one plain 2-D GEMM when there is one group
    (NumPy's 2-D path is the faster BLAS call)."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return get_array_module(a).matmul(a, b)


def _conv_forward(x, w, stride, padding, dilation, groups):
    xp = get_array_module(x)
    c_out, kernel_size = w.shape[0], tuple(w.shape[2:])
    cols = kernel("im2col", x)(x, kernel_size, stride, padding, dilation)
    y = _gemm(w.reshape(groups, c_out // groups, -1), cols.reshape(groups, -1, cols.shape[1]))
    out = _out_size(x.shape[2:], kernel_size, stride, padding, dilation)
    y = y.reshape((c_out, x.shape[0]) + out)
    return xp.ascontiguousarray(xp.moveaxis(y, 0, 1)), cols


def _conv_input_grad(g, w, input_shape, stride, padding, dilation, groups):
    w3 = w.reshape(groups, w.shape[0] // groups, -1)
    cols = _gemm(w3.transpose(0, 2, 1), _grad_matrix(g, groups))  # (groups, K, N L)
    cols = cols.reshape(-1, cols.shape[-1])
    return kernel("col2im", g)(cols, input_shape, tuple(w.shape[2:]), stride, padding, dilation)


def _conv_weight_grad(g, x, weight_shape, stride, padding, dilation, groups, cols=None):
    xp = get_array_module(g)
    if cols is None:
        cols = kernel("im2col", x)(x, tuple(weight_shape[2:]), stride, padding, dilation)
    cols = cols.reshape(groups, -1, cols.shape[1])
    # computed as (cols G^T)^T: NumPy's stacked matmul reaches BLAS for this operand order,
    # while G @ cols^T (a transposed second operand of this shape) falls off it (~20x slower)
    gw_t = _gemm(cols, _grad_matrix(g, groups).transpose(0, 2, 1))  # (groups, K, C_out/g)
    return xp.ascontiguousarray(gw_t.transpose(0, 2, 1)).reshape(weight_shape)


# -- the Functions --------------------------------------------------------------------------------
class Conv(ArrayFunction):
    r"""N-d cross-correlation (PyTorch's "convolution") by im2col and one (grouped) GEMM.

    Math, for group :math:`g` with its block of rows of :math:`\mathrm{im2col}`:

    .. math::

        Y_g = W_g \, \mathrm{im2col}(X)_g + b, \qquad
        \bar X = \mathrm{col2im}(W^\top \bar Y) \;(\text{ConvInputGrad}), \qquad
        \bar W_g = \bar Y_g \, \mathrm{im2col}(X)_g^\top \;(\text{ConvWeightGrad}), \qquad
        \bar b = \textstyle\sum_{n, o} \bar Y_{n, :, o}.
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        y, cols = _conv_forward(x, w, stride, padding, dilation, groups)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
        ctx.params = (stride, padding, dilation, groups)
        # the columns are reused by the weight gradient (one im2col saved per step)
        ctx.cols = cols if ctx.needs_input_grad[1] else None
        ctx.save_for_backward(x, w)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        cols, ctx.cols = ctx.cols, None
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = ConvInputGrad.apply(grad, w, x.shape, *ctx.params)
        if ctx.needs_input_grad[1]:
            gw = ConvWeightGrad.apply(grad, x, w.shape, *ctx.params, cols)
        if ctx.needs_input_grad[2]:
            gb = sum(grad, (0, *range(2, grad.ndim)))
        return gx, gw, gb, None, None, None, None


class ConvInputGrad(ArrayFunction):
    r"""Transposed convolution: the input gradient of :class:`Conv` as an op of its own.

    Math: :math:`Z = \mathrm{col2im}(W^\top G)`, defined by
    :math:`\langle Z, V \rangle = \langle G, \mathrm{conv}(V, W) \rangle` for all :math:`V`, so

    .. math::

        \bar G = \mathrm{conv}(\bar Z, W) \;(\text{Conv}), \qquad
        \bar W = \mathrm{ConvWeightGrad}(G, \bar Z).
    """

    @staticmethod
    def forward(ctx, g, w, input_shape, stride, padding, dilation, groups):
        ctx.params = (stride, padding, dilation, groups)
        ctx.save_for_backward(g, w)
        return _conv_input_grad(g, w, input_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        gg = gw = None
        if ctx.needs_input_grad[0]:
            gg = Conv.apply(grad, w, None, *ctx.params)
        if ctx.needs_input_grad[1]:
            gw = ConvWeightGrad.apply(g, grad, w.shape, *ctx.params, None)
        return gg, gw, None, None, None, None, None


class ConvWeightGrad(ArrayFunction):
    r"""The weight gradient of :class:`Conv` as an op of its own.

    Math: :math:`Z_g = G_g \, \mathrm{im2col}(X)_g^\top`, defined by
    :math:`\langle Z, U \rangle = \langle G, \mathrm{conv}(X, U) \rangle` for all :math:`U`, so

    .. math::

        \bar G = \mathrm{conv}(X, \bar Z) \;(\text{Conv}), \qquad
        \bar X = \mathrm{ConvInputGrad}(G, \bar Z).

    ``cols`` is :math:`\mathrm{im2col}(X)` when the forward already computed it, else None.
    """

    @staticmethod
    def forward(ctx, g, x, weight_shape, stride, padding, dilation, groups, cols):
        ctx.params = (stride, padding, dilation, groups)
        ctx.save_for_backward(g, x)
        return _conv_weight_grad(g, x, weight_shape, stride, padding, dilation, groups, cols)

    @staticmethod
    def backward(ctx, grad):
        g, x = ctx.saved_tensors
        gg = gx = None
        if ctx.needs_input_grad[0]:
            gg = Conv.apply(x, grad, None, *ctx.params)
        if ctx.needs_input_grad[1]:
            gx = ConvInputGrad.apply(g, grad, x.shape, *ctx.params)
        return gg, gx, None, None, None, None, None, None


# -- argument handling shared with pooling --------------------------------------------------------
def ntuple(value, d: int, name: str, op: str) -> tuple:
    """``value`` (an int or a sequence of d ints) as a tuple of d Python ints."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = tuple(value) * d
        if len(value) != d or not all(isinstance(v, int) for v in value):
            raise ValueError(f"{op}: expected {name} to be an int or {d} ints, got {value!r}")
        return tuple(int(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: expected {name} to be an int or {d} ints, got {value!r}")
    return (int(value),) * d


def spatial_names(d: int) -> str:
    """'H, W' for 2-D... as the messages spell shapes."""
    return _SPATIAL.get(d, ", ".join(f"d{i}" for i in range(d)))


def conv_padding(padding, kernel_size, stride, dilation, op: str) -> tuple:
    """PyTorch's padding argument (int, ints, 'same', 'valid') as (before, after) pairs.

    'same' pads :math:`r (k - 1)` in total, the odd element after (on the right), as PyTorch.
    """
    d = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
            total = [r * (k - 1) for k, r in zip(kernel_size, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'same' or 'valid'")
    pads = ntuple(padding, d, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)


def positive(values: tuple, name: str, op: str) -> tuple:
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")
    return values


def batched(input, d: int, op: str, what: str):
    """Accept (N, C, *spatial) or unbatched (C, *spatial); return the batched input and
    whether a batch dimension was added."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim == d + 1:
        return unsqueeze(input, 0), True
    if input.ndim != d + 2:
        raise RuntimeError(
            f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input of shape "
            f"(N, {what}, {spatial_names(d)}), got shape {input.shape}"
        )
    return input, False


def _convnd(input, weight, bias, stride, padding, dilation, groups, d: int, op: str):
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected weight to be a Tensor, got {type(weight).__name__}")
    letters = spatial_names(d)
    if weight.ndim != d + 2:
        raise RuntimeError(
            f"{op}: expected a {d + 2}-D weight of shape (C_out, C_in / groups, {letters}), "
            f"got shape {weight.shape}"
        )
    x, added = batched(input, d, op, f"C_in={weight.shape[1] * groups}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c_out, c_in_group, *kernel_size = weight.shape
    if c_out % groups:
        raise RuntimeError(
            f"{op}: the weight's C_out={c_out} (shape {weight.shape}) is not divisible by "
            f"groups={groups}"
        )
    if x.shape[1] != c_in_group * groups:
        raise RuntimeError(
            f"{op}: expected input of shape (N, C_in={c_in_group * groups}, {letters}) for "
            f"weight of shape {weight.shape} and groups={groups}, got {input.shape}"
        )
    if x.dtype.kind != "f" or weight.dtype != x.dtype:
        raise RuntimeError(
            f"{op}: expected floating-point input and weight of the same dtype, got "
            f"{x.dtype} and {weight.dtype}"
        )
    if bias is not None:
        if not isinstance(bias, Tensor) or bias.shape != (c_out,) or bias.dtype != x.dtype:
            raise RuntimeError(
                f"{op}: expected bias of shape ({c_out},) and dtype {x.dtype}, got "
                f"{getattr(bias, 'shape', bias)} of {getattr(bias, 'dtype', type(bias))}"
            )
    stride = positive(ntuple(stride, d, "stride", op), "stride", op)
    dilation = positive(ntuple(dilation, d, "dilation", op), "dilation", op)
    pads = conv_padding(padding, tuple(kernel_size), stride, dilation, op)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    extent = tuple(r * (k - 1) + 1 for k, r in zip(kernel_size, dilation))
    if any(e > p for e, p in zip(extent, padded)):
        raise RuntimeError(
            f"{op}: kernel size {tuple(kernel_size)} (dilated extent {extent}) is larger than "
            f"the padded input {padded} (input of shape {input.shape}, padding {padding!r})"
        )
    y = Conv.apply(x, weight, bias, stride, pads, dilation, groups)
    return squeeze(y, 0) if added else y


# -- the functions users call ---------------------------------------------------------------------
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""1-D convolution over (N, C_in, L) or (C_in, L), as ``torch.nn.functional.conv1d``.

    Math: :math:`y_{n, o, l} = b_o + \sum_{c \in \mathrm{group}(o)} \sum_k
    w_{o, c, k}\, x^{pad}_{n, c, l s + k r}`; ``padding`` is an int, a 1-tuple, 'valid' or
    'same' (stride 1 only).
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution over (N, C_in, H, W) or (C_in, H, W), as ``torch.nn.functional.conv2d``.

    Math: :math:`y_{n, o, i, j} = b_o + \sum_{c \in \mathrm{group}(o)} \sum_{p, q}
    w_{o, c, p, q}\, x^{pad}_{n, c, i s_0 + p r_0, j s_1 + q r_1}`, computed as
    :math:`W \cdot \mathrm{im2col}(X)` per group.  ``padding`` is an int, a pair, 'valid' or
    'same' (stride 1 only; an odd total puts the extra zero on the right/bottom, as PyTorch).
    ``groups == C_in`` is a depthwise convolution.
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


__all__ = ["Conv", "ConvInputGrad", "ConvWeightGrad", "conv1d", "conv2d"]
