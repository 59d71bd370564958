r"""``Linear`` (the affine layer :math:`y = xW^\top + b`), ``Identity``, ``Flatten`` and
``Unflatten``."""

from __future__ import annotations

import math

from minigrad import creation, dtypes
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.linalg import linear
from minigrad.ops.shape import flatten, reshape

__all__ = ["Flatten", "Identity", "Linear", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged (a placeholder; any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""The affine layer :math:`y = x W^\top + b` applied to the last dimension.

    Parameters: ``weight`` of shape ``(out_features, in_features)`` and ``bias`` of shape
    ``(out_features,)`` (absent when ``bias=False``), both initialised as PyTorch does:
    ``kaiming_uniform_(weight, a=sqrt(5))``, which is :math:`U(-1/\sqrt{\text{in}},
    1/\sqrt{\text{in}})`, and the bias from the same interval.

    Shapes: input :math:`(*, \text{in\_features})`, output :math:`(*, \text{out\_features})`.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(
            creation.empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight and bias again with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self!r}: expected input of shape (*, in_features={self.in_features}), "
                f"got {input.shape}"
            )
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size`` (the inverse of ``Flatten``)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        dim = self.dim + input.ndim if self.dim < 0 else self.dim
        if not 0 <= dim < input.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for input of shape "
                             f"{input.shape}")
        if math.prod(self.unflattened_size) != input.shape[dim]:
            raise RuntimeError(
                f"Unflatten: unflattened_size {self.unflattened_size} does not multiply to "
                f"{input.shape[dim]}, the size of dim {self.dim} of input {input.shape}"
            )
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        return reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
