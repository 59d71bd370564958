r"""Embedding: look up rows of a weight matrix by integer index.

Math
----
For indices :math:`k` of any shape and a weight :math:`W` of shape
(num_embeddings, embedding_dim),

.. math::

    y[\ldots, :] = W[k_{\ldots}, :], \qquad
    \bar W_r = \sum_{\ldots : k_{\ldots} = r} \bar y[\ldots, :] \quad (r \ne \text{padding\_idx}),
    \qquad \bar W_{\text{padding\_idx}} = 0 .

The gradient is a scatter that *adds* over repeated indices (``ScatterAdd`` from
``ops/indexing.py``, whose own backward is the gather again), and the row at
``padding_idx`` receives nothing, so a padding vector stays as it was initialised.
"""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.indexing import ScatterAdd
from minigrad.tensor import Tensor


class EmbeddingLookup(ArrayFunction):
    r"""Math: :math:`y = W[k]`; :math:`\bar W = \mathrm{scatter\_add}(0, k, \bar y)` with the
    padding row's contributions dropped."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        xp = get_array_module(weight)
        ctx.weight_shape, ctx.indices = weight.shape, indices
        ctx.keep = None
        if padding_idx is not None:
            ctx.keep = xp.expand_dims(indices != padding_idx, -1).astype(weight.dtype)
        return xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        if ctx.keep is not None:
            grad = grad * Tensor._make(ctx.keep)
        return ScatterAdd.apply(grad, ctx.weight_shape, (ctx.indices,)), None, None


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer indices ``input``;
    the result has shape ``input.shape + (embedding_dim,)``.

    ``padding_idx`` (may be negative) names a row that gets no gradient.  ``max_norm``,
    ``scale_grad_by_freq`` and ``sparse`` are PyTorch options minigrad does not implement;
    they raise ``NotImplementedError`` when set.
    """
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            f"{op}: max_norm, scale_grad_by_freq and sparse gradients are not supported"
        )
    for value, name in ((input, "input"), (weight, "weight")):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: expected weight of shape (num_embeddings, embedding_dim), got {weight.shape}"
        )
    if input.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: expected input of an integer dtype (indices), got {input.dtype} "
            f"of shape {input.shape}"
        )
    num = weight.shape[0]
    check_indices(input, num, op)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(
                f"{op}: padding_idx must be within num_embeddings ({num}), got {padding_idx}"
            )
        padding_idx = padding_idx % num
    return EmbeddingLookup.apply(weight, input._data, padding_idx)


def check_indices(input, num_embeddings: int, name: str) -> None:
    """Raise an IndexError naming ``name`` if an index is outside [0, num_embeddings)."""
    k = input._data
    if k.size == 0:
        return
    low, high = int(k.min()), int(k.max())
    if low < 0 or high >= num_embeddings:
        bad = low if low < 0 else high
        raise IndexError(
            f"{name}: index {bad} is out of range for num_embeddings={num_embeddings} "
            f"(expected indices in [0, {num_embeddings - 1}], input shape {input.shape})"
        )
