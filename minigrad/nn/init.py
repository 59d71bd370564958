r"""``minigrad.nn.init``: fill a weight in place with PyTorch's initialisation schemes.

Every function works under ``no_grad`` (so it may be applied to a ``Parameter``),
modifies its tensor in place and returns it.  Random draws come from minigrad's seeded
generator (``minigrad.manual_seed``) or from the ``generator=`` given.

Fans follow PyTorch: for a weight of shape ``(out, in, *kernel)``,

.. math::
    \text{fan\_in} = \text{in} \cdot \prod \text{kernel}, \qquad
    \text{fan\_out} = \text{out} \cdot \prod \text{kernel}.

The variance-preserving schemes pick a standard deviation from the fan and a ``gain``
(:func:`calculate_gain`): Xavier/Glorot uses both fans,
:math:`\sigma = g\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`; Kaiming/He one of them,
:math:`\sigma = g / \sqrt{\text{fan}}`.  A uniform distribution
:math:`U(-b, b)` with :math:`b = \sqrt{3}\,\sigma` has that standard deviation.
"""

from __future__ import annotations

import math
import numbers

import numpy

from minigrad.autograd import grad_mode
from minigrad.random import Generator, numpy_generator
from minigrad.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for a nonlinearity (the factor that keeps the variance of
    activations steady through layers).

    ============================  ===============================================
    nonlinearity                  gain
    ============================  ===============================================
    linear, conv*, sigmoid        :math:`1`
    tanh                          :math:`5/3`
    relu                          :math:`\sqrt 2`
    leaky_relu (slope ``param``)  :math:`\sqrt{2 / (1 + \text{slope}^2)}` (slope 0.01 if None)
    selu                          :math:`3/4`
    ============================  ===============================================
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)`` (PyTorch's rule)."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, "
            f"got shape {tensor.shape}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    """Write host ``values`` into ``tensor`` (any device, its own dtype) without recording."""
    with grad_mode.no_grad():
        tensor.copy_(Tensor._make(numpy.asarray(values)))
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    r"""Fill with draws from :math:`U(a, b)`."""
    with grad_mode.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    r"""Fill with draws from :math:`\mathcal N(\text{mean}, \text{std}^2)`."""
    with grad_mode.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    r"""Fill with draws from :math:`\mathcal N(\text{mean}, \text{std}^2)` conditioned on
    :math:`a \le x \le b` (``a`` and ``b`` are absolute bounds, as in PyTorch).

    Sampled by rejection: entries that fall outside ``[a, b]`` are drawn again, all at
    once, until none is left (a few rounds unless the interval holds little mass).
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng = numpy_generator(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    for _ in range(1000):
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    else:
        raise RuntimeError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds too little of N({mean}, {std}^2) "
            "to sample by rejection"
        )
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    with grad_mode.no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, also when not square)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {tensor.shape}")
    return _fill(tensor, numpy.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    r"""Glorot & Bengio (2010): :math:`U(-b, b)`,
    :math:`b = g\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    r"""Glorot & Bengio (2010): :math:`\mathcal N(0, \sigma^2)`,
    :math:`\sigma = g\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    r"""He et al. (2015): :math:`U(-b, b)`, :math:`b = g\sqrt{3 / \text{fan}}`, where ``fan``
    is ``fan_in`` or ``fan_out`` (``mode``) and ``g = calculate_gain(nonlinearity, a)``.

    ``a`` is the negative slope of the leaky ReLU that follows.  ``Linear`` and ``Conv``
    use ``a=sqrt(5)``, which gives :math:`b = 1/\sqrt{\text{fan\_in}}`.
    """
    if 0 in tensor.shape:
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    r"""He et al. (2015): :math:`\mathcal N(0, \sigma^2)`, :math:`\sigma = g/\sqrt{\text{fan}}`."""
    if 0 in tensor.shape:
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    r"""Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``.

    The tensor is viewed as a matrix ``(rows, numel / rows)``; a Gaussian matrix is
    factored :math:`A = QR` and :math:`Q\,\mathrm{diag}(\mathrm{sign}(R_{ii}))` (uniformly
    distributed over orthogonal matrices) fills it.  Rows are orthonormal when
    ``rows <= cols``, columns otherwise.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got {tensor.shape}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = numpy_generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = numpy.linalg.qr(flat)
    q = q * numpy.sign(numpy.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
