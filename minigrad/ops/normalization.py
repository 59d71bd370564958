r"""Batch normalization and layer normalization.

Both normalise :math:`x` to zero mean and unit variance over some dimensions, then scale
and shift it:

.. math::

    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma \hat x + \beta,

with :math:`\mu` and :math:`\sigma^2` the mean and the *biased* variance
:math:`\frac1n \sum (x - \mu)^2` over every dimension but the channel one (batch norm) or
over the trailing ``normalized_shape`` (layer norm).  They are compositions of mean, sum,
sqrt and arithmetic, so their gradients, of every order, come from those primitives; the
familiar closed form of the first derivative

.. math::

    \bar x = \frac{1}{\sqrt{\sigma^2 + \epsilon}}\Bigl(\bar{\hat x} - \overline{\bar{\hat x}}
    - \hat x\,\overline{\bar{\hat x}\,\hat x}\Bigr), \qquad \bar{\hat x} = \gamma\,\bar y

(bars over expressions: means over the normalised dimensions) is what the chain rule
through them computes.
"""

from __future__ import annotations

from minigrad.autograd import grad_mode
from minigrad.ops.reduction import mean
from minigrad.ops.shape import reshape
from minigrad.tensor import Tensor


def _standardize(input, dims: tuple, eps: float):
    """:math:`(x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon}` over ``dims`` (biased variance);
    also returns the mean and biased variance (keepdim)."""
    mu = mean(input, dims, keepdim=True)
    centred = input - mu
    var = mean(centred * centred, dims, keepdim=True)
    return centred / (var + eps).sqrt(), mu, var


def _channel_param(param, name: str, channels: int, ndim: int, op: str):
    """A per-channel (C,) tensor shaped (1, C, 1, ...) to broadcast against the input."""
    if not isinstance(param, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(param).__name__}")
    if param.shape != (channels,):
        raise RuntimeError(
            f"{op}: expected {name} of shape ({channels},) (one per channel of the input), "
            f"got {param.shape}"
        )
    return reshape(param, (1, channels) + (1,) * (ndim - 2))


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    r"""Batch normalization over the channel dimension 1 of an (N, C) or (N, C, \*) input.

    In training, :math:`\mu` and :math:`\sigma^2` are the batch's (over N and the spatial
    dimensions, :math:`n` values per channel) and, when given, the running statistics are
    updated in place (no gradient):

    .. math::

        \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
        \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{n}{n - 1}\,\sigma^2

    (the *unbiased* variance, as PyTorch, while the output is normalised with the biased
    one).  Out of training the running statistics are used as :math:`\mu, \sigma^2`.
    """
    op = "batch_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got {input.shape}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    channels = input.shape[1]
    shaped = [
        None if p is None else _channel_param(p, name, channels, input.ndim, op)
        for p, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias"))
    ]
    r_mean, r_var, w, b = shaped
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input of "
                f"shape {input.shape}"
            )
        out, mu, var = _standardize(input, dims, eps)
        if running_mean is not None or running_var is not None:
            with grad_mode.no_grad():
                if running_mean is not None:
                    batch_mean = reshape(mu.detach(), (channels,)).to(running_mean.dtype)
                    running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
                if running_var is not None:
                    unbiased = reshape(var.detach(), (channels,)) * (count / (count - 1))
                    running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
    else:
        if r_mean is None or r_var is None:
            raise RuntimeError(
                f"{op}: running_mean and running_var must be given when training=False"
            )
        out = (input - r_mean.to(input.dtype)) / (r_var.to(input.dtype) + eps).sqrt()
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    r"""Layer normalization over the trailing ``normalized_shape`` dimensions.

    Math: :math:`y = \gamma\,(x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta` with
    :math:`\mu, \sigma^2` (biased) taken over the last ``len(normalized_shape)``
    dimensions of each sample; ``weight`` :math:`\gamma` and ``bias`` :math:`\beta` have
    the shape ``normalized_shape``.
    """
    op = "layer_norm"
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k :] != normalized_shape:
        raise RuntimeError(
            f"{op}: given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size {input.shape}"
        )
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    for p, name in ((weight, "weight"), (bias, "bias")):
        if p is not None and p.shape != normalized_shape:
            raise RuntimeError(
                f"{op}: expected {name} of shape {normalized_shape}, got {p.shape}"
            )
    dims = tuple(range(input.ndim - k, input.ndim))
    out, _, _ = _standardize(input, dims, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
