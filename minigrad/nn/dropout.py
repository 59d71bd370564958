"""``Dropout``: zero elements with probability ``p`` in training mode, identity in eval
mode (the op and its math: ``minigrad/ops/dropout.py``)."""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.dropout import dropout

__all__ = ["Dropout"]


class Dropout(Module):
    r"""During training, zero each element with probability ``p`` and scale the others by
    :math:`1/(1-p)`; in eval mode return the input unchanged.  The mask comes from
    minigrad's seeded generator (``minigrad.manual_seed``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
