"""Activation layers: each is a ``Module`` around its op in ``minigrad/ops`` (math there).

``inplace=True`` is accepted for compatibility with PyTorch code and shown in the repr,
but the result is computed out of place: minigrad's autograd records no in-place ops on
non-leaf tensors, and the values are the same.
"""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.activation import gelu, leaky_relu, log_softmax, relu, softmax, softplus
from minigrad.ops.elementwise import sigmoid, tanh

__all__ = ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Softplus", "Tanh"]


class ReLU(Module):
    """:math:`\\max(x, 0)` elementwise (``minigrad.ops.activation.ReLU``)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """:math:`x` for :math:`x > 0`, else ``negative_slope`` :math:`\\cdot x`."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """:math:`1 / (1 + e^{-x})` elementwise (stable for large :math:`|x|`)."""

    def forward(self, input):
        return sigmoid(input)


class Tanh(Module):
    """:math:`\\tanh x` elementwise."""

    def forward(self, input):
        return tanh(input)


class GELU(Module):
    """:math:`x\\,\\Phi(x)`, exact (``approximate='none'``) or with the tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """:math:`\\frac1\\beta \\ln(1 + e^{\\beta x})`, linear where :math:`\\beta x` > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's legacy choice of dim when it is None)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log of softmax along ``dim``, computed with log-sum-exp."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
