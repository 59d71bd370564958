r"""``Adam`` and ``AdamW``: adaptive moment estimation, with coupled or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with bias correction, PyTorch's rule and defaults.

    Math, in the documents' notation (:math:`\alpha` ``lr``, :math:`\beta_1, \beta_2`
    ``betas``, :math:`\epsilon` ``eps``, :math:`\lambda` ``weight_decay``, :math:`t` the
    step number starting at 1, :math:`m_0 = v_0 = 0`):

    .. math::

        g_t &\leftarrow \pm\nabla_\theta J(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \quad (\texttt{amsgrad}), \qquad
            \hat v_t = v_t \text{ otherwise} \\
        \theta_t &= \theta_{t-1} - \frac{\alpha}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    The last line is :math:`\theta_t = \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t'}
    + \epsilon)` with the bias-corrected moments :math:`\hat m_t = m_t / (1 - \beta_1^t)`,
    :math:`\hat v_t' = \hat v_t / (1 - \beta_2^t)`, computed in PyTorch's order.

    Where the documents differ: their Adam, :math:`\theta_t = \theta_{t-1} - \alpha\, m_t
    / (\sqrt{v_t} + \epsilon)`, has no bias correction.  Because :math:`m_0 = v_0 = 0`,
    the raw moments are biased towards zero in the first steps (:math:`m_1 = (1-\beta_1)
    g_1`), so their first steps are too small by a factor of about
    :math:`(1-\beta_1)/\sqrt{1-\beta_2} \approx 3` (with the defaults) or wildly uneven;
    dividing by :math:`1 - \beta^t` removes that bias, as the published algorithm does.

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
        Coupled L2 penalty (added to the gradient); see :class:`AdamW` for decoupled decay.
    amsgrad : bool, default False
        Use the running maximum of :math:`v_t` (Reddi et al., 2018).
    maximize : bool, default False

    State per parameter: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`),
    and ``max_exp_avg_sq`` (with ``amsgrad``).
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate lr", group["lr"], "lr >= 0")
        self._check(group["eps"] >= 0, "epsilon value eps", group["eps"], "eps >= 0")
        betas = group["betas"]
        self._check(len(betas) == 2, "betas", betas, "a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            self._check(0.0 <= beta < 1.0, f"beta parameter at index {i}: betas", betas,
                        f"0 <= betas[{i}] < 1")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"],
                    "weight_decay >= 0")

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = self._new_step()
            state["exp_avg"] = self._zeros_like(param)
            state["exp_avg_sq"] = self._zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._zeros_like(param)
        step = self._increment(state["step"])
        beta1, beta2 = group["betas"]
        max_exp_avg_sq = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        self._kernel("adam_update", param)(
            param._data, grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
            max_exp_avg_sq, step, group["lr"], beta1, beta2, group["eps"],
            group["weight_decay"], group["amsgrad"], group["maximize"],
            self._decoupled_weight_decay,
        )


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's rule.

    Math: as :class:`Adam` with :math:`\lambda = 0` in the gradient, after first shrinking
    the parameters directly,

    .. math::

        \theta_{t-1} \leftarrow \theta_{t-1}\,(1 - \alpha\lambda), \qquad
        g_t = \pm\nabla_\theta J(\theta_{t-1}), \qquad \dots \qquad
        \theta_t = \theta_{t-1} - \frac{\alpha}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    so the decay is not rescaled by :math:`1/\sqrt{v}` as an L2 term in the gradient
    would be.  The documents have no AdamW; their L2 regularisation corresponds to
    :class:`Adam`'s coupled ``weight_decay``.  Default ``weight_decay=1e-2``, as PyTorch.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
