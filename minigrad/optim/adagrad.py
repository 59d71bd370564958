r"""``Adagrad``: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's rule and defaults.

    Math, in the documents' notation (:math:`\alpha` ``lr``, :math:`\eta` ``lr_decay``,
    :math:`\epsilon` ``eps``, :math:`\lambda` ``weight_decay``, :math:`t` the step number
    starting at 1, :math:`s_0` = ``initial_accumulator_value``):

    .. math::

        g_t &\leftarrow \pm\nabla_\theta J(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        \tilde\alpha_t &= \frac{\alpha}{1 + (t - 1)\,\eta} \\
        s_t &= s_{t-1} + g_t^2 \\
        \theta_t &= \theta_{t-1} - \tilde\alpha_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    The documents do not cover Adagrad; it is RMSprop's ancestor (RMSprop replaces the sum
    :math:`s_t` by a running average, so the steps do not shrink forever).

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-2
    lr_decay : float, default 0
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
    eps : float, default 1e-10
    maximize : bool, default False

    State per parameter (created at construction, as PyTorch does): ``step``, ``sum``.
    """

    _state_keys = ("step", "sum")

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate lr", group["lr"], "lr >= 0")
        self._check(group["lr_decay"] >= 0, "lr_decay", group["lr_decay"], "lr_decay >= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"],
                    "weight_decay >= 0")
        self._check(group["initial_accumulator_value"] >= 0, "initial_accumulator_value",
                    group["initial_accumulator_value"], "initial_accumulator_value >= 0")
        self._check(group["eps"] >= 0, "epsilon value eps", group["eps"], "eps >= 0")

    def add_param_group(self, param_group: dict) -> None:
        """As :meth:`Optimizer.add_param_group`, then create the new parameters' state."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p]["step"] = self._new_step()
            self.state[p]["sum"] = self._zeros_like(p, group["initial_accumulator_value"])

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        step = self._increment(state["step"])
        self._kernel("adagrad_update", param)(
            param._data, grad._data, state["sum"]._data, step, group["lr"], group["lr_decay"],
            group["weight_decay"], group["eps"], group["maximize"],
        )
