r"""``RMSprop``: gradient steps scaled by a running root-mean-square of the gradients."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), PyTorch's rule and defaults.

    Math, in the documents' notation (:math:`\alpha` the learning rate ``lr``,
    :math:`\beta_2` the smoothing constant — PyTorch's ``alpha`` —, :math:`\epsilon`
    ``eps``, :math:`\lambda` ``weight_decay``, :math:`\mu` ``momentum``):

    .. math::

        g_t &\leftarrow \pm\nabla_\theta J(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \bar g_t &= \beta_2 \bar g_{t-1} + (1 - \beta_2)\, g_t,
            \qquad \tilde v_t = v_t - \bar g_t^2 \quad (\texttt{centered}),
            \qquad \tilde v_t = v_t \text{ otherwise} \\
        b_t &= \mu\, b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \qquad
        \theta_t = \theta_{t-1} - \alpha\, b_t \quad (\mu > 0) \\
        \theta_t &= \theta_{t-1} - \alpha\, \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}
            \quad (\mu = 0)

    with :math:`v_0 = \bar g_0 = b_0 = 0`.

    Where the documents differ: their RMSprop (:math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)
    g_t^2`, :math:`\theta_t = \theta_{t-1} - \alpha\, g_t / (\sqrt{v_t} + \epsilon)`) is
    the plain case above, with :math:`\epsilon` outside the square root as here.  The
    ``centered`` variant (Graves, 2013), momentum and weight decay are PyTorch's additions;
    note PyTorch calls :math:`\beta_2` ``alpha`` and the learning rate ``lr``.

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 0.01
    alpha : float, default 0.99
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    maximize : bool, default False

    State per parameter: ``step``, ``square_avg``, and ``momentum_buffer`` (when
    ``momentum > 0``) and ``grad_avg`` (when ``centered``).
    """

    _state_keys = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate lr", group["lr"], "lr >= 0")
        self._check(group["eps"] >= 0, "epsilon value eps", group["eps"], "eps >= 0")
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], "momentum >= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"],
                    "weight_decay >= 0")
        self._check(group["alpha"] >= 0, "alpha", group["alpha"], "alpha >= 0")

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = self._new_step()
            state["square_avg"] = self._zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = self._zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = self._zeros_like(param)
        self._increment(state["step"])
        grad_avg = state["grad_avg"]._data if group["centered"] else None
        buf = state["momentum_buffer"]._data if group["momentum"] > 0 else None
        self._kernel("rmsprop_update", param)(
            param._data, grad._data, state["square_avg"]._data, grad_avg, buf, group["lr"],
            group["alpha"], group["eps"], group["weight_decay"], group["momentum"],
            group["centered"], group["maximize"],
        )
