"""Tests for minigrad/optim/lr_scheduler.py: learning-rate sequences against their closed forms,
ReduceLROnPlateau on scripted metric sequences, state_dict round trips, bad arguments."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import SGD
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)


class StandInOptimizer:
    """What a scheduler uses of an Optimizer: ``param_groups``, dicts holding ``'lr'``."""

    def __init__(self, lrs):
        self.param_groups = [{"params": [], "lr": lr} for lr in lrs]

    def lrs(self):
        return [group["lr"] for group in self.param_groups]


base_lrs_st = st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=3)
gamma_st = st.floats(0.05, 1.5)


def run_schedule(scheduler, optimizer, n_steps):
    """The lrs at epochs 0..n_steps; checks get_last_lr() against the groups after each step."""
    history = [optimizer.lrs()]
    assert scheduler.get_last_lr() == optimizer.lrs()
    for _ in range(n_steps):
        scheduler.step()
        assert scheduler.get_last_lr() == optimizer.lrs()
        history.append(optimizer.lrs())
    return np.array(history)


# --- closed forms -------------------------------------------------------------------------------


@given(base_lrs=base_lrs_st, step_size=st.integers(1, 10), gamma=gamma_st,
       n_steps=st.integers(0, 40))
def test_steplr_matches_closed_form(base_lrs, step_size, gamma, n_steps):
    opt = StandInOptimizer(base_lrs)
    sched = StepLR(opt, step_size=step_size, gamma=gamma)
    history = run_schedule(sched, opt, n_steps)
    expected = [[b * gamma ** (t // step_size) for b in base_lrs] for t in range(n_steps + 1)]
    np.testing.assert_allclose(history, expected, rtol=1e-13)


@given(base_lrs=base_lrs_st, milestones=st.lists(st.integers(0, 30), max_size=5),
       gamma=gamma_st, n_steps=st.integers(0, 35))
def test_multisteplr_matches_closed_form(base_lrs, milestones, gamma, n_steps):
    opt = StandInOptimizer(base_lrs)
    sched = MultiStepLR(opt, milestones=milestones, gamma=gamma)
    history = run_schedule(sched, opt, n_steps)
    # A milestone 0 already applies at construction (its step lands on epoch 0), as in PyTorch.
    passed = [sum(1 for m in milestones if m <= t) for t in range(n_steps + 1)]
    expected = [[b * gamma**k for b in base_lrs] for k in passed]
    np.testing.assert_allclose(history, expected, rtol=1e-13)


@given(base_lrs=base_lrs_st, gamma=gamma_st, n_steps=st.integers(0, 50))
def test_exponentiallr_matches_closed_form(base_lrs, gamma, n_steps):
    opt = StandInOptimizer(base_lrs)
    history = run_schedule(ExponentialLR(opt, gamma=gamma), opt, n_steps)
    expected = [[b * gamma**t for b in base_lrs] for t in range(n_steps + 1)]
    # n_steps roundings of a product: relative error about n_steps * 1.1e-16.
    np.testing.assert_allclose(history, expected, rtol=1e-13)


@given(base_lrs=base_lrs_st, T_max=st.integers(1, 50), eta_min_fraction=st.floats(0.0, 0.99),
       periods=st.floats(0.0, 2.5))
def test_cosineannealinglr_matches_closed_form(base_lrs, T_max, eta_min_fraction, periods):
    eta_min = eta_min_fraction * min(base_lrs)
    n_steps = int(periods * T_max)
    opt = StandInOptimizer(base_lrs)
    sched = CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    history = run_schedule(sched, opt, n_steps)
    expected = [[eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
                 for b in base_lrs] for t in range(n_steps + 1)]
    # The recursion rounds once or twice per epoch; over <= 125 epochs of T_max <= 50 the drift
    # measured is below 3e-13 relative.
    np.testing.assert_allclose(history, expected, rtol=1e-11)
    if n_steps >= T_max:  # the bottom of the cosine is hit exactly: ratio (1 + cos(pi)) = 0
        assert history[T_max].tolist() == [eta_min] * len(base_lrs)


LAMBDAS = {
    "exp_decay": lambda t: 0.95**t,
    "inverse": lambda t: 1.0 / (t + 1),
    "warmup": lambda t: min(1.0, (t + 1) / 5),
    "constant": lambda t: 1.0,
}


@given(base_lrs=base_lrs_st, names=st.lists(st.sampled_from(sorted(LAMBDAS)), min_size=3,
                                            max_size=3),
       per_group=st.booleans(), n_steps=st.integers(0, 30))
def test_lambdalr_matches_closed_form(base_lrs, names, per_group, n_steps):
    fns = [LAMBDAS[n] for n in names[: len(base_lrs)]]
    if not per_group:
        fns = [fns[0]] * len(base_lrs)
    opt = StandInOptimizer(base_lrs)
    sched = LambdaLR(opt, lr_lambda=fns if per_group else fns[0])
    history = run_schedule(sched, opt, n_steps)
    expected = [[b * fn(t) for b, fn in zip(base_lrs, fns)] for t in range(n_steps + 1)]
    np.testing.assert_array_equal(history, expected)  # the rule itself is closed-form


@given(base_lrs=base_lrs_st, step_size=st.integers(1, 5), gamma1=st.floats(0.1, 0.9),
       gamma2=st.floats(0.8, 1.0), n_steps=st.integers(0, 20))
def test_chained_schedulers_multiply_their_factors(base_lrs, step_size, gamma1, gamma2, n_steps):
    # Why the rules are recursive: two schedulers on one optimizer compose.
    opt = StandInOptimizer(base_lrs)
    first = StepLR(opt, step_size=step_size, gamma=gamma1)
    second = ExponentialLR(opt, gamma=gamma2)
    for t in range(1, n_steps + 1):
        first.step()
        second.step()
        expected = [b * gamma1 ** (t // step_size) * gamma2**t for b in base_lrs]
        np.testing.assert_allclose(opt.lrs(), expected, rtol=1e-13)


def test_construction_sets_initial_lr_and_makes_the_first_step():
    opt = StandInOptimizer([0.1, 0.5])
    opt.param_groups[1]["initial_lr"] = 1.0  # kept, as PyTorch's setdefault does
    sched = StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert sched.base_lrs == [0.1, 1.0]
    assert sched.last_epoch == 0 and sched._step_count == 1
    assert sched.get_last_lr() == [0.1, 0.5]
    assert isinstance(sched, LRScheduler)


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = StandInOptimizer([0.1])
    with pytest.raises(KeyError, match=r"initial_lr.*param_groups\[0\]"):
        StepLR(opt, step_size=2, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 1.0
    # Resuming at epoch 7 (the constructor's step makes it 8): cosine takes its closed form.
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.0, last_epoch=7)
    assert sched.last_epoch == 8
    assert sched.get_last_lr() == pytest.approx([(1 + math.cos(math.pi * 8 / 10)) / 2], rel=1e-15)


def test_deprecated_step_epoch_jumps_with_the_closed_form():
    opt = StandInOptimizer([2.0])
    sched = StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7 and opt.lrs() == [2.0 * 0.5**2]


def test_external_lr_changes_are_followed_by_the_recursion():
    # The recursion scales whatever lr the group holds, so a manual change carries on...
    opt = StandInOptimizer([1.0])
    sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    sched.step()
    opt.param_groups[0]["lr"] = 0.1 + (opt.lrs()[0] - 0.1) / 2  # halve the distance to eta_min
    sched.step()
    closed = 0.1 + 0.9 * (1 + math.cos(math.pi * 2 / 4)) / 2
    assert opt.lrs()[0] == pytest.approx(0.1 + (closed - 0.1) / 2, rel=1e-14)
    sched.step()
    sched.step()
    assert opt.lrs() == [0.1]  # ...and the schedule still ends at eta_min


class LinearWarmup(LRScheduler):
    """A user-defined schedule, written as for PyTorch: only get_lr()."""

    def __init__(self, optimizer, warmup_epochs, last_epoch=-1):
        self.warmup_epochs = warmup_epochs
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        scale = min(1.0, (self.last_epoch + 1) / self.warmup_epochs)
        return [base_lr * scale for base_lr in self.base_lrs]


def test_user_defined_scheduler_subclass():
    from minigrad.optim.lr_scheduler import _LRScheduler

    assert _LRScheduler is LRScheduler  # PyTorch's old name
    opt = StandInOptimizer([0.4, 0.8])
    history = run_schedule(LinearWarmup(opt, warmup_epochs=4), opt, 5)
    scales = [1 / 4, 2 / 4, 3 / 4, 1.0, 1.0, 1.0]
    np.testing.assert_array_equal(history, [[0.4 * s, 0.8 * s] for s in scales])


def test_verbose_is_accepted_with_a_deprecation_warning():
    with pytest.warns(UserWarning, match="verbose"):
        StepLR(one_group(), step_size=2, verbose=True)
    with pytest.warns(UserWarning, match="verbose"):
        ReduceLROnPlateau(one_group(), "min", verbose=True)


def test_get_lr_outside_step_warns():
    sched = ExponentialLR(StandInOptimizer([1.0]), gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # inside step() there is no warning


# --- state_dict round trips ---------------------------------------------------------------------


class Warmup:
    """A callable object: LambdaLR saves and restores its __dict__."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, t):
        return min(1.0, (t + 1) / self.epochs)


SCHEDULERS = {
    "StepLR": lambda opt: StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda opt: MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda opt: ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    "LambdaLR": lambda opt: LambdaLR(opt, [lambda t: 0.9**t, Warmup(4)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@given(split=st.integers(0, 20))
def test_state_dict_round_trip_mid_schedule_continues_identically(name, split):
    make, base_lrs, total = SCHEDULERS[name], [0.5, 2.0], 20
    opt = StandInOptimizer(base_lrs)
    sched = make(opt)
    uninterrupted = run_schedule(sched, opt, total)

    opt = StandInOptimizer(base_lrs)
    sched = make(opt)
    run_schedule(sched, opt, split)
    saved_groups = copy.deepcopy(opt.param_groups)  # what the optimizer's state_dict keeps
    saved = pickle.loads(pickle.dumps(sched.state_dict()))  # also proves it is picklable
    assert "optimizer" not in saved

    # As a training script resumes: build optimizer and scheduler, then load both states.
    opt = StandInOptimizer(base_lrs)
    sched = make(opt)
    opt.param_groups = saved_groups
    sched.load_state_dict(saved)
    resumed = run_schedule(sched, opt, total - split)
    np.testing.assert_array_equal(resumed, uninterrupted[split:])


def test_lambdalr_state_dict_keeps_callable_objects_and_skips_functions():
    warmup = Warmup(4)
    sched = LambdaLR(StandInOptimizer([1.0, 1.0]), [lambda t: 1.0, warmup])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"epochs": 4}]
    warmup.epochs = 100
    sched.load_state_dict(state)
    assert warmup.epochs == 4
    assert state["lr_lambdas"] == [None, {"epochs": 4}]  # the caller's dict is left intact


# --- ReduceLROnPlateau --------------------------------------------------------------------------


def plateau_lrs(metrics, lr=1.0, **kwargs):
    opt = StandInOptimizer([lr])
    sched = ReduceLROnPlateau(opt, **kwargs)
    assert sched.get_last_lr() == [lr]
    lrs = []
    for m in metrics:
        sched.step(m)
        assert sched.get_last_lr() == opt.lrs()
        lrs.append(opt.lrs()[0])
    return lrs


@pytest.mark.parametrize(("kwargs", "metrics", "expected"), [
    # patience=2: the 3rd epoch without improvement reduces (count 3 > patience), then recounts.
    (dict(patience=2), [5, 5, 5, 5, 5, 5, 5],
     [1, 1, 1, 0.1, 0.1, 0.1, 0.01]),
    # An improvement resets the count.
    (dict(patience=1), [5, 6, 4, 6, 6, 6],
     [1, 1, 1, 1, 0.1, 0.1]),
    # patience=0 with cooldown=2: reduce, ignore two epochs, reduce again.
    (dict(patience=0, cooldown=2, factor=0.5), [5] * 8,
     [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]),
    # rel threshold 0.1: from best 10, only values below 9 count as better.
    (dict(patience=0, threshold=0.1), [10, 9.5, 9.5],
     [1, 0.1, 0.01]),
    # abs threshold 0.1: from best 10, values below 9.9 count as better.
    (dict(patience=0, threshold=0.1, threshold_mode="abs"), [10, 9.5, 9.45, 9.35],
     [1, 1, 0.1, 0.1]),
    # min_lr floors the learning rate; at the floor nothing changes.
    (dict(patience=0, factor=0.5, min_lr=0.3), [5] * 5,
     [1, 0.5, 0.3, 0.3, 0.3]),
    # mode='max': rising metrics are improvements, falling ones are not.
    (dict(mode="max", patience=1), [1, 2, 3, 2, 1, 0],
     [1, 1, 1, 1, 0.1, 0.1]),
    (dict(mode="max", patience=0, threshold=0.5, threshold_mode="rel"), [1, 1.4, 1.6],
     [1, 0.1, 0.1]),
])
def test_reduce_lr_on_plateau_scripted(kwargs, metrics, expected):
    np.testing.assert_allclose(plateau_lrs(metrics, **kwargs), expected, rtol=1e-15)


def test_reduce_lr_on_plateau_skips_changes_below_eps():
    # 1e-8 * 0.1 would change the lr by 9e-9 <= eps = 1e-8: left alone, as in PyTorch.
    assert plateau_lrs([1, 1, 1], lr=1e-8, patience=0) == [1e-8] * 3
    assert plateau_lrs([1, 1], lr=1e-8, patience=0, eps=1e-9) == [1e-8, pytest.approx(1e-9)]


def test_reduce_lr_on_plateau_per_group_min_lr_and_tensor_like_metrics():
    opt = StandInOptimizer([1.0, 1.0])
    sched = ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[0.5, 0.0])
    for m in [np.float64(3.0), np.array(3.0), minigrad.tensor(3.0)]:  # a loss tensor works too
        sched.step(m)
    assert opt.lrs() == [0.5, 1.0 * 0.1 * 0.1]  # group 0 floored at its min_lr


def reference_plateau(metrics, lr, mode, factor, patience, threshold, threshold_mode, cooldown,
                      min_lr, eps):
    """Plain-Python ReduceLROnPlateau, straight from the documented rule."""
    sign = 1.0 if mode == "min" else -1.0
    best, bad, cool, lrs = None, 0, 0, []
    for a in metrics:
        if best is None:
            improved = True
        elif threshold_mode == "rel":
            improved = sign * a < sign * best * (1 - sign * threshold)
        else:
            improved = sign * a < sign * best - threshold
        if improved:
            best, bad = a, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        lrs.append(lr)
    return lrs


@given(metrics=st.lists(st.integers(0, 6).map(float), max_size=30),
       mode=st.sampled_from(["min", "max"]), factor=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
       patience=st.integers(0, 3), threshold=st.sampled_from([0.0, 0.1, 0.3, 0.9]),
       threshold_mode=st.sampled_from(["rel", "abs"]), cooldown=st.integers(0, 3),
       min_lr=st.sampled_from([0.0, 0.05]), split=st.integers(0, 30))
def test_reduce_lr_on_plateau_matches_reference(metrics, mode, factor, patience, threshold,
                                                threshold_mode, cooldown, min_lr, split):
    kwargs = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                  threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr)
    expected = reference_plateau(metrics, 1.0, eps=1e-8, **kwargs)
    assert plateau_lrs(metrics, **kwargs) == expected

    # Interrupted at `split` and resumed from state_dict: the same learning rates.
    split = min(split, len(metrics))
    opt = StandInOptimizer([1.0])
    sched = ReduceLROnPlateau(opt, **kwargs)
    for m in metrics[:split]:
        sched.step(m)
    saved, saved_groups = pickle.loads(pickle.dumps(sched.state_dict())), opt.lrs()
    assert "optimizer" not in saved
    opt = StandInOptimizer(saved_groups)
    sched = ReduceLROnPlateau(opt)  # default arguments: all of them come back from the state
    sched.load_state_dict(saved)
    resumed = []
    for m in metrics[split:]:
        sched.step(m)
        resumed.append(opt.lrs()[0])
    assert resumed == expected[split:]


# --- bad arguments ------------------------------------------------------------------------------


def one_group():
    return StandInOptimizer([0.1])


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: StepLR(one_group(), step_size=-1), ValueError, "StepLR: step_size must be a positive"),
    (lambda: StepLR(one_group(), step_size=0), ValueError, "step_size"),
    (lambda: StepLR(one_group(), step_size=2.5), ValueError, "step_size"),
    (lambda: StepLR(one_group(), step_size=2, gamma="x"), TypeError, "gamma"),
    (lambda: StepLR(object(), step_size=2), TypeError, "StepLR: expected an Optimizer"),
    (lambda: StepLR(one_group(), step_size=2, last_epoch=-2), ValueError, "last_epoch"),
    (lambda: MultiStepLR(one_group(), milestones=[3, -1]), ValueError, "milestones"),
    (lambda: ExponentialLR(one_group(), gamma=float("nan")), ValueError, "gamma"),
    (lambda: CosineAnnealingLR(one_group(), T_max=0), ValueError, "T_max"),
    (lambda: LambdaLR(one_group(), [lambda t: 1.0] * 2), ValueError, "expected 1 lr_lambdas"),
    (lambda: LambdaLR(one_group(), 3.0), TypeError, "callable"),
    (lambda: ReduceLROnPlateau(one_group(), factor=1.0), ValueError, "factor"),
    (lambda: ReduceLROnPlateau(one_group(), factor=-0.1), ValueError, "factor"),
    (lambda: ReduceLROnPlateau(one_group(), mode="avg"), ValueError, "mode must be"),
    (lambda: ReduceLROnPlateau(one_group(), threshold_mode="pct"), ValueError, "threshold_mode"),
    (lambda: ReduceLROnPlateau(one_group(), patience=-1), ValueError, "patience"),
    (lambda: ReduceLROnPlateau(one_group(), cooldown=-1), ValueError, "cooldown"),
    (lambda: ReduceLROnPlateau(one_group(), min_lr=[0.0, 0.0]), ValueError, "min_lrs"),
])
def test_bad_arguments_raise_errors_naming_them(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_reduce_lr_on_plateau_has_no_get_lr():
    with pytest.raises(NotImplementedError, match="get_last_lr"):
        ReduceLROnPlateau(one_group()).get_lr()


# --- with the real optimizer --------------------------------------------------------------------


def linear_problem(theta0, slope):
    """A parameter and the loss slope . theta, whose gradient is ``slope`` at every step."""
    param = Parameter(minigrad.tensor(theta0, dtype=minigrad.float64))
    slope_t = minigrad.tensor(slope, dtype=minigrad.float64)
    return param, lambda: (param * slope_t).sum()


@given(theta0=st.lists(st.floats(-3, 3), min_size=1, max_size=4), T_max=st.integers(1, 8),
       lr=st.floats(1e-3, 1.0))
def test_sgd_follows_the_schedule(theta0, T_max, lr):
    slope = np.linspace(-1.0, 1.0, len(theta0))
    param, loss_fn = linear_problem(theta0, slope)
    opt = SGD([param], lr=lr)
    sched = CosineAnnealingLR(opt, T_max=T_max)
    expected = np.array(theta0, dtype=np.float64)
    for t in range(2 * T_max):
        scheduled = (1 + math.cos(math.pi * t / T_max)) / 2 * lr
        assert opt.param_groups[0]["lr"] == pytest.approx(scheduled, rel=1e-12, abs=1e-300)
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        opt.zero_grad()
        loss_fn().backward()
        opt.step()  # theta <- theta - eta_t * slope, with this epoch's learning rate
        expected -= opt.param_groups[0]["lr"] * slope
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-13, atol=1e-15)
        sched.step()


def test_sgd_and_scheduler_resume_bit_identically():
    theta0, slope, total, split = [1.0, -2.0, 0.5], np.array([0.3, -0.7, 1.1]), 12, 5

    def train(param, loss_fn, opt, sched, epochs):
        for _ in range(epochs):
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
            sched.step()

    def make(param):
        opt = SGD([param], lr=0.1, momentum=0.9)
        return opt, MultiStepLR(opt, milestones=[3, 7], gamma=0.5)

    param, loss_fn = linear_problem(theta0, slope)
    opt, sched = make(param)
    train(param, loss_fn, opt, sched, total)
    uninterrupted = (param.detach().numpy().copy(), opt.param_groups[0]["lr"])

    param, loss_fn = linear_problem(theta0, slope)
    opt, sched = make(param)
    train(param, loss_fn, opt, sched, split)
    opt_state, sched_state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    theta_split = param.detach().numpy().copy()

    param, loss_fn = linear_problem(theta_split, slope)
    opt, sched = make(param)
    opt.load_state_dict(opt_state)
    sched.load_state_dict(sched_state)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    train(param, loss_fn, opt, sched, total - split)
    np.testing.assert_array_equal(param.detach().numpy(), uninterrupted[0])
    assert opt.param_groups[0]["lr"] == uninterrupted[1] == 0.1 * 0.5**2
