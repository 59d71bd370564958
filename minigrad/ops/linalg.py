"""Matrix products."""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.shape import reshape, sum_to, transpose, unsqueeze


class MatMul(ArrayFunction):
    r"""Matrix product with PyTorch's (and NumPy's) rules for 1-D and batched inputs.

    Math (2-D): :math:`Z = XY`, :math:`\bar X = \bar Z Y^\top`, :math:`\bar Y = X^\top \bar Z`.
    A 1-D first operand is a row vector and a 1-D second operand a column vector (the
    added dimension is removed from the result); leading batch dimensions broadcast,
    so their gradients are summed back with ``sum_to``.
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return get_array_module(x, y).matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        # Work with matrices: 1-D operands get their implied dimension back.
        x2 = unsqueeze(x, 0) if x.ndim == 1 else x
        y2 = unsqueeze(y, -1) if y.ndim == 1 else y
        g2 = grad
        if x.ndim == 1:
            g2 = unsqueeze(g2, -2 if y.ndim > 1 else 0)
        if y.ndim == 1:
            g2 = unsqueeze(g2, -1)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = reshape(sum_to(g2 @ transpose(y2, -1, -2), x2.shape), x.shape)
        if ctx.needs_input_grad[1]:
            gy = reshape(sum_to(transpose(x2, -1, -2) @ g2, y2.shape), y.shape)
        return gx, gy


def matmul(input, other):
    """``input @ other`` (vector, matrix and batched products)."""
    from minigrad.ops.elementwise import promote
    from minigrad.tensor import Tensor

    a, b = promote(input, other, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors, not Python numbers")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
            f"({k_a} != {k_b} in the contracted dimension)"
        )
    try:
        get_array_module(a._data).broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of shapes {a.shape} and {b.shape} do not broadcast"
        ) from None
    return MatMul.apply(a, b)


def linear(input, weight, bias=None):
    r"""The affine map of a ``Linear`` layer: :math:`y = x W^\top + b`.

    Shapes: ``input`` :math:`(*, \text{in})`, ``weight`` :math:`(\text{out}, \text{in})`,
    ``bias`` :math:`(\text{out},)` or None; the result is :math:`(*, \text{out})`.

    Math (rows of :math:`x` stacked into :math:`X`, one row per leading index):

    .. math::
        Y = X W^\top + \mathbf 1 b^\top, \qquad
        \bar X = \bar Y W, \quad \bar W = \bar Y^\top X, \quad \bar b = \mathbf 1^\top \bar Y.

    A composition, not a ``Function``: the gradients above are exactly those of
    ``MatMul``, ``transpose`` and ``Add``.  Leading dimensions are folded into one, so
    the weight gradient is a single matrix product however many there are.
    """
    from minigrad.tensor import Tensor

    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"linear: expected {name} to be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(
            f"linear: expected weight of shape (out_features, in_features), got {weight.shape}"
        )
    out_features, in_features = weight.shape
    if input.ndim == 0 or input.shape[-1] != in_features:
        raise RuntimeError(
            f"linear: expected input of shape (*, in_features={in_features}), "
            f"got {input.shape} (weight shape {weight.shape})"
        )
    if bias is not None and bias.shape != (out_features,):
        raise RuntimeError(
            f"linear: expected bias of shape (out_features={out_features},), got {bias.shape}"
        )
    lead = input.shape[:-1]
    x = reshape(input, (-1, in_features)) if input.ndim != 2 else input
    y = matmul(x, transpose(weight, 0, 1))
    if bias is not None:
        y = y + bias
    return reshape(y, (*lead, out_features)) if input.ndim != 2 else y
