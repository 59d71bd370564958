r"""``SGD``: stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), PyTorch's rule and defaults.

    Math, in the documents' notation (:math:`\theta` the parameters, :math:`\alpha` the
    learning rate ``lr``, :math:`\beta` the ``momentum``, :math:`\tau` the ``dampening``,
    :math:`\lambda` the ``weight_decay``, :math:`g_t` the gradient at step :math:`t`):

    .. math::

        g_t &\leftarrow \pm\nabla_\theta J(\theta_{t-1}) + \lambda\,\theta_{t-1}
              \qquad (- \text{ when } \texttt{maximize}) \\
        v_t &= \begin{cases} g_t & t = 1 \\ \beta\, v_{t-1} + (1 - \tau)\, g_t & t > 1
              \end{cases} \\
        g_t &\leftarrow \begin{cases} g_t + \beta\, v_t & \texttt{nesterov} \\
              v_t & \text{otherwise} \end{cases}
              \qquad (\text{only when } \beta \ne 0) \\
        \theta_t &= \theta_{t-1} - \alpha\, g_t

    With ``momentum=0`` this is the documents' gradient descent
    :math:`\theta := \theta - \alpha\nabla J(\theta)`: *plain (batch) gradient descent is
    SGD on the full batch*, and the documents' SGD :math:`\theta := \theta - \alpha\nabla
    J(\theta, i)` is the same update with the gradient of one sample or mini-batch; which
    one you get depends only on what you call ``backward()`` on.

    Where the documents differ: their momentum update
    :math:`v := \beta v - \alpha\nabla J(\theta) + \alpha\nabla J(\theta - \beta v)`,
    :math:`\theta := \theta - \alpha v` is garbled (it mixes Nesterov's look-ahead gradient
    into the velocity and applies :math:`\alpha` twice).  We implement the standard
    heavy-ball momentum as PyTorch does (Sutskever et al., 2013): the buffer accumulates
    gradients, the learning rate is applied once, the first step sets :math:`v_1 = g_1`,
    and ``nesterov=True`` gives PyTorch's Nesterov form :math:`g_t + \beta v_t`.

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
    weight_decay : float, default 0
        L2 penalty: adds :math:`\lambda\theta` to the gradient, the same update as adding
        ``weight_decay / 2 * nn.utils.l2_penalty(params)`` to the loss.
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Ascend the objective instead of descending.

    State per parameter: ``momentum_buffer`` (when ``momentum != 0``).
    """

    _state_keys = ("momentum_buffer",)

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate lr", group["lr"], "lr >= 0")
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], "momentum >= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"],
                    "weight_decay >= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        first_step = False
        if momentum != 0 and state.get("momentum_buffer") is None:
            state["momentum_buffer"] = self._zeros_like(param)
            first_step = True
        buf = state["momentum_buffer"]._data if momentum != 0 else None
        self._kernel("sgd_update", param)(
            param._data, grad._data, buf, group["lr"], momentum, group["dampening"],
            group["weight_decay"], group["nesterov"], group["maximize"], first_step,
        )
