"""Tests for minigrad/optim/adagrad.py: Adagrad against a float64 reference of PyTorch's rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import Adagrad
from tests.optim.steps import run_optimizer

STEPS = 6


def reference_adagrad(theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    """Adagrad (Duchi et al.) as PyTorch documents it, step by step in float64."""
    theta = theta.copy()
    s = np.full_like(theta, initial_accumulator_value)
    out = []
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad.copy()
        g = g + weight_decay * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2
        theta = theta - lr_t * g / (np.sqrt(s) + eps)
        out.append(theta.copy())
    return out


OPTIONS = {
    "plain": {},
    "lr_decay": {"lr_decay"},
    "weight_decay": {"weight_decay"},
    "initial_accumulator_value": {"initial_accumulator_value"},
    "maximize": {"maximize"},
    "everything": {"lr_decay", "weight_decay", "initial_accumulator_value", "maximize"},
}


@pytest.mark.parametrize("option", OPTIONS)
@settings(max_examples=10)
@given(
    shape=st.sampled_from([(3,), (2, 3), (1,), (4, 1, 2)]),
    seed=st.integers(0, 2**32 - 1),
    lr=st.floats(1e-3, 0.5),
    lr_decay=st.floats(1e-3, 1.0),
    weight_decay=st.floats(1e-3, 0.5),
    initial_accumulator_value=st.floats(1e-3, 1.0),
    eps=st.sampled_from([1e-10, 1e-6, 1e-3]),
)
def test_adagrad_matches_reference(option, shape, seed, lr, lr_decay, weight_decay,
                                   initial_accumulator_value, eps):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    chosen = OPTIONS[option]
    kwargs = {"lr": lr, "eps": eps}
    drawn = {"lr_decay": lr_decay, "weight_decay": weight_decay,
             "initial_accumulator_value": initial_accumulator_value}
    kwargs.update({k: v for k, v in drawn.items() if k in chosen})
    if "maximize" in chosen:
        kwargs["maximize"] = True
    got, _, _ = run_optimizer(lambda ps: Adagrad(ps, **kwargs), theta, grads)
    expected = reference_adagrad(theta, grads, **kwargs)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {step + 1}")


def test_adagrad_state_exists_before_the_first_step():
    p = Parameter(minigrad.zeros(2, 3))
    opt = Adagrad([p], initial_accumulator_value=0.25)
    assert list(opt.state[p]) == ["step", "sum"]
    assert opt.state[p]["step"].item() == 0.0
    np.testing.assert_array_equal(opt.state[p]["sum"].numpy(), np.full((2, 3), 0.25))
    q = Parameter(minigrad.zeros(4))
    opt.add_param_group({"params": [q], "initial_accumulator_value": 1.0})
    np.testing.assert_array_equal(opt.state[q]["sum"].numpy(), np.ones(4))
    group = opt.param_groups[0]
    assert (group["lr"], group["lr_decay"], group["eps"]) == (1e-2, 0, 1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -0.5}, r"Adagrad: invalid learning rate lr=-0\.5"),
        ({"lr_decay": -1.0}, r"Adagrad: invalid lr_decay=-1\.0"),
        ({"weight_decay": -1.0}, r"Adagrad: invalid weight_decay=-1\.0"),
        ({"initial_accumulator_value": -1.0}, r"Adagrad: invalid initial_accumulator_value=-1"),
        ({"eps": -1.0}, r"Adagrad: invalid epsilon value eps=-1\.0"),
    ],
)
def test_adagrad_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adagrad([Parameter(minigrad.zeros(2))], **kwargs)
