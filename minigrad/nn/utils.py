r"""``minigrad.nn.utils``: gradient clipping, flat parameter vectors and weight penalties.

The clipping functions modify ``.grad`` in place (between ``backward()`` and the
optimizer's ``step()``) and record nothing.  The penalties are ordinary differentiable
expressions to add to a loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from minigrad import ops
from minigrad.autograd import grad_mode
from minigrad.creation import tensor as _tensor
from minigrad.tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "l1_penalty",
    "l2_penalty",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _as_list(parameters, op: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected an iterable of Tensors, element {i} is "
                            f"{type(p).__name__}")
    return params


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    r"""Scale the gradients of ``parameters`` so that their joint norm is at most ``max_norm``.

    Math: with :math:`g` all the gradients concatenated into one vector,

    .. math::
        \|g\|_p = \Big(\sum_i |g_i|^p\Big)^{1/p} \quad (\|g\|_\infty = \max_i |g_i|), \qquad
        g \leftarrow g \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Big).

    Returns the total norm before clipping, as a 0-d tensor.  ``error_if_nonfinite``
    raises if that norm is NaN or infinite (otherwise the gradients become NaN, as in
    PyTorch).  ``foreach`` is accepted for compatibility and ignored.
    """
    grads = [p.grad for p in _as_list(parameters, "clip_grad_norm_") if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return _tensor(0.0)
    with grad_mode.no_grad():
        if norm_type == math.inf:
            norms = [g.abs().max() for g in grads if g.numel()]
            total = ops.stack(norms).max() if norms else _tensor(0.0, dtype=grads[0].dtype)
        else:
            per_grad = [(g.abs() ** norm_type).sum() for g in grads]
            total = ops.stack(per_grad).sum() ** (1.0 / norm_type)
        if error_if_nonfinite and not bool(total.isfinite()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach=None) -> None:
    r"""Clamp every gradient element into :math:`[-\text{clip\_value}, \text{clip\_value}]`."""
    clip_value = float(clip_value)
    with grad_mode.no_grad():
        for p in _as_list(parameters, "clip_grad_value_"):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise RuntimeError(
            f"parameters_to_vector: found parameters on several devices: {sorted(devices)}"
        )
    return ops.cat([ops.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's ``.data`` the next slice of the 1-D ``vec`` (shared memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got {type(vec)}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vec, got shape {vec.shape}")
    params = _as_list(parameters, "vector_to_parameters")
    needed = sum(p.numel() for p in params)
    if needed != vec.numel():
        raise ValueError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters "
            f"hold {needed}"
        )
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec.detach()[start:start + n].reshape(p.shape)
        start += n


def l1_penalty(params: Tensor | Iterable[Tensor]) -> Tensor:
    r"""The L1 penalty :math:`\sum_j |\theta_j|` over all ``params`` (differentiable).

    For the L1-regularised loss of the documents this project follows,
    :math:`J(\theta) + \frac{\lambda}{2m}\sum_j |\theta_j|`, write
    ``loss + lam / (2 * m) * l1_penalty(model.parameters())``.  Its gradient is
    :math:`\mathrm{sign}(\theta)` (0 at 0, as PyTorch's ``abs``).
    """
    terms = [p.abs().sum() for p in _as_list(params, "l1_penalty")]
    return ops.stack(terms).sum() if terms else _tensor(0.0)


def l2_penalty(params: Tensor | Iterable[Tensor]) -> Tensor:
    r"""The L2 penalty :math:`\sum_j \theta_j^2` over all ``params`` (differentiable).

    For the L2-regularised (weight-decay) loss of the documents this project follows,
    :math:`J(\theta) + \frac{\lambda}{2m}\sum_j \theta_j^2`, write
    ``loss + lam / (2 * m) * l2_penalty(model.parameters())``; its gradient adds
    :math:`\frac{\lambda}{m}\theta`.
    """
    terms = [(p * p).sum() for p in _as_list(params, "l2_penalty")]
    return ops.stack(terms).sum() if terms else _tensor(0.0)
