"""``Embedding``: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim``
(the op and its gradient: ``minigrad/ops/embedding.py``)."""

from __future__ import annotations

from minigrad import creation, dtypes
from minigrad.autograd import grad_mode
from minigrad.nn.module import Module, Parameter
from minigrad.ops.embedding import check_indices, embedding

__all__ = ["Embedding"]


class Embedding(Module):
    r"""Maps integer indices of any shape to rows of ``weight`` (num_embeddings,
    embedding_dim): output shape ``input.shape + (embedding_dim,)``.

    ``weight`` is initialised from :math:`\mathcal N(0, 1)` as in PyTorch, with the row at
    ``padding_idx`` (if given; it may be negative) set to zeros; that row receives no
    gradient.  ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not implemented.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative int, got {value!r}")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError(
                "Embedding: max_norm, scale_grad_by_freq and sparse are not supported"
            )
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = dtypes.get_default_dtype() if dtype is None else dtype
            self.weight = Parameter(
                creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device),
                requires_grad=not _freeze,
            )
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                    f"(num_embeddings={num_embeddings}, embedding_dim={embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        with grad_mode.no_grad():
            self.weight.normal_(0.0, 1.0)
            if self.padding_idx is not None:
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: expected a 2-D embeddings tensor, got shape "
                f"{embeddings.shape}"
            )
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        if input.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding: expected an integer (index) input, got {input.dtype} of shape "
                f"{input.shape}"
            )
        check_indices(input, self.num_embeddings, f"Embedding({self.extra_repr()})")
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
