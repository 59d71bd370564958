r"""``minigrad.optim.lr_scheduler``: learning-rate schedules, as PyTorch runs them.

A scheduler owns no parameters.  It rewrites ``group['lr']`` in its optimizer's
``param_groups``; the optimizer reads that value on its next ``step()``.  The usual loop is ::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)   # calls optimizer.step() many times
        scheduler.step()                    # once per epoch, after the optimizer

Notation used in the docstrings: :math:`t` is the scheduler's epoch counter ``last_epoch``
(0 right after construction, +1 per ``step()``), :math:`\eta_t` the learning rate of a group
at epoch :math:`t` and :math:`\eta_0` its ``initial_lr`` (the ``lr`` it had when the scheduler
was built; ``base_lrs`` holds one per group).

Like PyTorch, the schedulers compute :math:`\eta_t` *recursively* from the group's current
``lr`` (``get_lr()``), not from :math:`\eta_0`.  Alone, the recursive and closed forms give
the same numbers up to rounding (each class documents both; the tests check one against the
other).  Recursion is what lets two schedulers on one optimizer compose: each multiplies in its own
factor.  ``LambdaLR`` is the exception, as in PyTorch: it always uses its closed form.
"""

from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
]


def _check_optimizer(optimizer, name: str) -> None:
    # Duck-typed on purpose: anything with PyTorch's ``param_groups`` layout can be scheduled.
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise TypeError(
            f"{name}: expected an Optimizer (an object whose param_groups is a list of dicts), "
            f"got {type(optimizer).__name__}"
        )
    for i, group in enumerate(groups):
        if "lr" not in group:
            raise KeyError(f"{name}: param_groups[{i}] has no 'lr'")


def _check_positive_int(value, arg: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _check_number(value, arg: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {arg} must be a real number, got {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name}: {arg} must not be NaN")
    return value


def _warn_verbose(verbose, name: str) -> None:
    # Accepted so that PyTorch code passing verbose=True runs; PyTorch deprecated it too.
    if verbose != "deprecated":
        warnings.warn(f"{name}: the verbose parameter is deprecated (as in PyTorch) and ignored; "
                      "print get_last_lr() to see the learning rate", UserWarning, stacklevel=3)


class LRScheduler:
    r"""Base class of the epoch-driven schedulers.

    Parameters
    ----------
    optimizer:
        The optimizer whose ``param_groups[i]['lr']`` this scheduler sets.
    last_epoch:
        Index of the last epoch done.  ``-1`` (default) starts a fresh schedule: each group
        gets ``initial_lr = lr`` (kept if already there) and :math:`\eta_0` is read from it.
        Any other value resumes a schedule, and every group must already carry ``initial_lr``
        (restored with the optimizer's ``state_dict``), else ``KeyError``.
    verbose:
        Deprecated in PyTorch; accepted with a warning and ignored.

    The constructor makes one ``step()`` itself, as PyTorch's does: ``last_epoch`` goes from
    :math:`-1` to :math:`0` and the groups get :math:`\eta_0` (for most schedules the
    learning rate they already had).

    Subclasses implement ``get_lr()`` (the recursive rule: new learning rates from the
    groups' current ones) and, where it exists, ``_get_closed_form_lr()`` (the same rule as a
    function of :math:`t` and :math:`\eta_0`, used by the deprecated ``step(epoch)``).
    """

    def __init__(self, optimizer, last_epoch: int = -1, verbose="deprecated") -> None:
        name = type(self).__name__
        _check_optimizer(optimizer, name)
        _warn_verbose(verbose, name)
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming an optimizer (last_epoch={last_epoch}); load the optimizer's "
                        "state_dict first or pass last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._get_lr_called_within_step = False
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates for epoch ``last_epoch``, one per group (called by ``step()``)."""
        raise NotImplementedError(f"{type(self).__name__}: get_lr() is not implemented")

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler set last, one per param group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new learning rates into the optimizer.

        ``epoch`` (deprecated, as in PyTorch) jumps to that epoch instead, using the closed
        form where the scheduler has one.
        """
        self._step_count += 1
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                warnings.warn(
                    f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch; call step() "
                    "once per epoch instead",
                    UserWarning,
                    stacklevel=2,
                )
                self.last_epoch = epoch
                if hasattr(self, "_get_closed_form_lr"):
                    values = self._get_closed_form_lr()
                else:
                    values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )

    def state_dict(self) -> dict:
        """Everything the scheduler holds except the optimizer (it has its own state_dict)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned; the schedule continues from there."""
        self.__dict__.update(state_dict)


# PyTorch's old name, still used by code that subclasses it.
_LRScheduler = LRScheduler


class LambdaLR(LRScheduler):
    r"""Each group's learning rate is its initial one times a function of the epoch.

    Math:

    .. math::
        \eta_t = \eta_0 \cdot \lambda(t)

    ``lr_lambda`` is one function of the integer epoch, used for every group, or a list with
    one function per group.  This rule is closed-form only (no recursion).

    ``state_dict()`` cannot hold functions: a plain function or lambda is stored as ``None``
    and must be passed again to the constructor; a callable *object* is stored as a copy of
    its ``__dict__`` and restored into the object by ``load_state_dict()`` (PyTorch's rule).
    """

    def __init__(self, optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable],
                 last_epoch: int = -1,
                 verbose="deprecated") -> None:
        _check_optimizer(optimizer, "LambdaLR")
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(
                    f"LambdaLR: expected {n_groups} lr_lambdas (one per param group), "
                    f"got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        for i, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda[{i}] must be callable, got "
                                f"{type(fn).__name__}")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        t = self.last_epoch
        return [base_lr * fn(t) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        lambdas_state = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, fn_state in zip(self.lr_lambdas, lambdas_state):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Math (closed form, and the recursion ``get_lr()`` runs):

    .. math::
        \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}, \qquad
        \eta_t = \begin{cases} \gamma\, \eta_{t-1} & t > 0,\ t \bmod s = 0 \\
                               \eta_{t-1} & \text{otherwise} \end{cases}

    with :math:`s` = ``step_size`` (a positive integer).
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1,
                 verbose="deprecated") -> None:
        self.step_size = _check_positive_int(step_size, "step_size", "StepLR")
        self.gamma = _check_number(gamma, "gamma", "StepLR")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``.

    Math:

    .. math::
        \eta_t = \eta_0 \, \gamma^{\#\{m \in M \,:\, m \le t\}}, \qquad
        \eta_t = \eta_{t-1} \, \gamma^{\#\{m \in M \,:\, m = t\}}

    :math:`M` is the multiset of milestones: a milestone listed twice multiplies by
    :math:`\gamma^2` (PyTorch keeps them in a ``Counter`` too).  Milestones are non-negative
    integers; their order does not matter.
    """

    def __init__(self, optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1,
                 verbose="deprecated") -> None:
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int) or m < 0:
                raise ValueError(
                    f"MultiStepLR: milestones must be non-negative integers, got {milestones!r}"
                )
        self.milestones = Counter(milestones)
        self.gamma = _check_number(gamma, "gamma", "MultiStepLR")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in groups]
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        passed = bisect_right(milestones, self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch.

    Math:

    .. math::
        \eta_t = \eta_0 \, \gamma^{t}, \qquad \eta_t = \gamma\, \eta_{t-1} \quad (t > 0)
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1,
                 verbose="deprecated") -> None:
        self.gamma = _check_number(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate from :math:`\eta_0` to ``eta_min`` along half a cosine.

    Math: the closed form (SGDR, Loshchilov & Hutter 2017, without restarts), with
    :math:`T` = ``T_max`` and :math:`\eta_{min}` = ``eta_min``,

    .. math::
        \eta_t = \eta_{min} + \tfrac12 (\eta_0 - \eta_{min})
                 \Big(1 + \cos\frac{\pi t}{T}\Big),

    and the recursion ``get_lr()`` runs, as PyTorch does,

    .. math::
        \eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})
                 \frac{1 + \cos(\pi t / T)}{1 + \cos(\pi (t-1) / T)}

    except at :math:`t - 1 - T \equiv 0 \pmod{2T}`, where the denominator is 0 and
    :math:`\eta_t = \eta_{t-1} + \tfrac12 (\eta_0 - \eta_{min})(1 - \cos(\pi / T))`.

    For :math:`t \le T` the recursion reproduces the closed form exactly (up to rounding)
    when nothing else changes the learning rate: :math:`\eta_T = \eta_{min}`.  Past
    :math:`T` neither form stops or restarts: both follow the cosine back up to
    :math:`\eta_0` at :math:`2T` (period :math:`2T`), as PyTorch does; stop stepping at
    ``T_max`` to stay at ``eta_min``.  If something else also changes the learning rate
    (another scheduler, user code), the recursion follows that change and the closed form
    no longer describes the sequence.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1,
                 verbose="deprecated") -> None:
        if _check_number(T_max, "T_max", "CosineAnnealingLR") <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = _check_number(eta_min, "eta_min", "CosineAnnealingLR")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        groups = self.optimizer.param_groups
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            # Built with last_epoch >= 0 (resuming): nothing to recurse from, use the closed form.
            return self._get_closed_form_lr()
        if (t - 1 - T) % (2 * T) == 0:
            rise = (1 - math.cos(math.pi / T)) / 2
            return [group["lr"] + (base_lr - eta_min) * rise
                    for base_lr, group in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + (group["lr"] - eta_min) * ratio for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rate by ``factor`` when a metric has stopped improving.

    Call ``step(metrics)`` once per epoch with the monitored value (validation loss, accuracy
    ...).  Unlike the other schedulers it makes no step on construction and has no
    ``get_lr()``.

    Math: with :math:`b` the best value so far (``best``, starting at :math:`+\infty` for
    ``mode='min'``, :math:`-\infty` for ``'max'``) and :math:`\tau` = ``threshold``, a value
    :math:`a` is an improvement when

    ============  ==========================  ==========================
    mode          threshold_mode='rel'        threshold_mode='abs'
    ============  ==========================  ==========================
    ``'min'``     :math:`a < b (1 - \tau)`    :math:`a < b - \tau`
    ``'max'``     :math:`a > b (1 + \tau)`    :math:`a > b + \tau`
    ============  ==========================  ==========================

    An improvement sets :math:`b = a` and the bad-epoch count to 0; anything else adds 1.
    During the ``cooldown`` epochs after a reduction bad epochs are not counted.  When the
    count exceeds ``patience``, each group's learning rate becomes

    .. math::
        \eta \leftarrow \max(\eta \cdot \text{factor},\ \eta_{min,i})

    (skipped when it would change :math:`\eta` by at most ``eps``), the cooldown starts and
    the count goes back to 0.  ``min_lr`` is one number or a list with one per group.
    ``'rel'`` thresholds follow PyTorch literally, also for negative :math:`b`.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8,
                 verbose="deprecated") -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(optimizer, name)
        _warn_verbose(verbose, name)
        factor = _check_number(factor, "factor", name)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"{name}: factor should be in [0, 1), got {factor!r}")
        for arg, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {arg} must be a non-negative integer, got {value!r}")
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"{name}: expected {n_groups} min_lrs (one per param group), "
                                 f"got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = [_check_number(m, "min_lr", name) for m in min_lr]
        else:
            self.default_min_lr = _check_number(min_lr, "min_lr", name)
            self.min_lrs = [min_lr] * n_groups
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.threshold = _check_number(threshold, "threshold", name)
        self.eps = _check_number(eps, "eps", name)
        self.mode = mode
        self.threshold_mode = threshold_mode
        self._init_is_better(mode, threshold_mode)
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._reset()

    def _init_is_better(self, mode: str, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric value ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold

    def step(self, metrics, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric value and reduce the learning rates if it has plateaued."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated, as in PyTorch",
                          UserWarning, stacklevel=2)
        self.last_epoch = epoch

        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1

        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count

        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but "
                    f"min_lr was given for {len(self.min_lrs)}"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def get_lr(self) -> list[float]:
        raise NotImplementedError(
            "ReduceLROnPlateau: the learning rate depends on the metrics passed to step(); "
            "use get_last_lr()"
        )

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold_mode)
