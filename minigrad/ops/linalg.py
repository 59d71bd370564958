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
