r"""``Conv1d`` and ``Conv2d``: the convolution layers (their op is ``minigrad/ops/conv.py``)."""

from __future__ import annotations

import math

from minigrad import creation, dtypes
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.conv import _convnd, batched, conv_padding, ntuple, positive, spatial_names
from minigrad.ops.shape import pad

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, initialisation, repr, forward."""

    _dims: int

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name, d = type(self).__name__, self._dims
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            least = 1 if arg == "groups" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}: {arg} must be an int >= {least}, got {value!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} must be divisible by "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels={out_channels} must be divisible by "
                             f"groups={groups}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = positive(ntuple(kernel_size, d, "kernel_size", name), "kernel_size",
                                    name)
        self.stride = positive(ntuple(stride, d, "stride", name), "stride", name)
        self.dilation = positive(ntuple(dilation, d, "dilation", name), "dilation", name)
        # validates the string forms ('same' needs stride 1) and negative sizes
        conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)
        self.padding = padding if isinstance(padding, str) else ntuple(padding, d, "padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        self.output_padding = (0,) * d
        self.transposed = False
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""PyTorch's default: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. :math:`U(\pm
        1/\sqrt{\text{fan\_in}})` with :math:`\text{fan\_in} = C_{in}/\text{groups} \cdot
        \prod k`, and the bias from the same interval."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = math.prod(self.weight.shape[1:])
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if isinstance(self.padding, str) or self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def forward(self, input):
        padding = self.padding
        if self.padding_mode != "zeros":
            x, _ = batched(input, self._dims, repr(self), f"C_in={self.in_channels}")
            if x.shape[1] != self.in_channels:
                raise RuntimeError(
                    f"{self!r}: expected input of shape (N, C_in={self.in_channels}, "
                    f"{spatial_names(self._dims)}), got {input.shape}"
                )
            # pad explicitly in the chosen mode, then convolve without padding (as PyTorch)
            pairs = conv_padding(padding, self.kernel_size, self.stride, self.dilation,
                                 repr(self))
            input = pad(input, [w for pair in reversed(pairs) for w in pair],
                        mode=self.padding_mode)
            padding = 0
        return _convnd(input, self.weight, self.bias, self.stride, padding, self.dilation,
                       self.groups, self._dims, repr(self))


class Conv1d(_ConvNd):
    r"""1-D convolution layer, as ``torch.nn.Conv1d``.

    Parameters: ``weight`` (out_channels, in_channels / groups, kernel_size) and ``bias``
    (out_channels,), initialised as PyTorch does.  Shapes: (N, C_in, L) or (C_in, L) to
    (N, C_out, L_out), :math:`L_{out} = \lfloor (L + 2p - r (k - 1) - 1) / s \rfloor + 1`.
    """

    _dims = 1


class Conv2d(_ConvNd):
    r"""2-D convolution layer, as ``torch.nn.Conv2d``.

    Parameters: ``weight`` (out_channels, in_channels / groups, kH, kW) and ``bias``
    (out_channels,), initialised with ``kaiming_uniform_(a=sqrt(5))`` (bound
    :math:`1/\sqrt{\text{fan\_in}}`) and :math:`U(\pm 1/\sqrt{\text{fan\_in}})`.
    Shapes: (N, C_in, H, W) or (C_in, H, W) to (N, C_out, H_out, W_out) with
    :math:`H_{out} = \lfloor (H + 2p_0 - r_0 (k_0 - 1) - 1) / s_0 \rfloor + 1` (likewise W).
    ``padding`` may be 'same' (stride 1) or 'valid'; ``padding_mode`` 'zeros', 'reflect',
    'replicate' or 'circular'.

    Examples
    --------
    >>> from minigrad import nn
    >>> nn.Conv2d(1, 32, 3)
    Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
    """

    _dims = 2
