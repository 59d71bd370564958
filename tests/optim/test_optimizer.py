"""Tests for minigrad/optim/optimizer.py: parameter groups, zero_grad, step(closure), in-place
updates, state_dict / load_state_dict, and convergence of every optimizer on quadratics."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.nn import Parameter
from minigrad.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

# Every optimizer with options that exercise all of its state buffers.
CONFIGS = {
    "SGD": (SGD, {"lr": 0.05}),
    "SGD-momentum": (SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    "SGD-nesterov": (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "RMSprop": (RMSprop, {"lr": 0.01}),
    "RMSprop-centered": (RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True,
                                   "weight_decay": 0.01}),
    "Adam": (Adam, {"lr": 0.01}),
    "Adam-amsgrad": (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    "AdamW": (AdamW, {"lr": 0.01}),
    "Adagrad": (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
}


def make_params(rng, dtype=minigrad.float64):
    return [Parameter(minigrad.tensor(rng.standard_normal(shape), dtype=dtype))
            for shape in [(3, 2), (2,), (1,)]]


def set_grads(params, rng):
    for p in params:
        p.grad = minigrad.tensor(rng.standard_normal(p.shape), dtype=p.dtype)


# -- construction and parameter groups ------------------------------------------------------

def test_param_groups_take_defaults_and_overrides():
    a, b = Parameter(minigrad.zeros(2)), Parameter(minigrad.zeros(3))
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert opt.param_groups[1]["params"][0] is b
    assert opt.defaults["lr"] == 0.1


def test_groups_use_their_own_learning_rate():
    a = Parameter(minigrad.tensor([1.0], dtype=minigrad.float64))
    b = Parameter(minigrad.tensor([1.0], dtype=minigrad.float64))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = minigrad.ones(1, dtype=minigrad.float64)
    b.grad = minigrad.ones(1, dtype=minigrad.float64)
    opt.step()
    assert a.item() == 0.9 and b.item() == 0.5


def test_add_param_group_adds_and_validates():
    a, b = Parameter(minigrad.zeros(2)), Parameter(minigrad.zeros(3))
    opt = Adam([a], lr=0.01)
    opt.add_param_group({"params": [b], "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["betas"] == (0.5, 0.9) and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match=r"Adam: invalid learning rate lr=-1"):
        opt.add_param_group({"params": [Parameter(minigrad.zeros(1))], "lr": -1})


def test_parameter_in_two_groups_is_an_error():
    a, b = Parameter(minigrad.zeros(2)), Parameter(minigrad.zeros(4, 5))
    with pytest.raises(ValueError, match=r"parameter 1 of param group 1 \(shape \(4, 5\).*"
                                         r"already appears in param group 0"):
        SGD([{"params": [a, b]}, {"params": [Parameter(minigrad.zeros(1)), b]}])
    opt = SGD([a, b])
    with pytest.raises(ValueError, match=r"parameter 0 of param group 1 \(shape \(2,\)"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 1


def test_parameter_listed_twice_is_an_error():
    a = Parameter(minigrad.zeros(3))
    with pytest.raises(ValueError, match=r"SGD: parameter 1 of param group 0 \(shape \(3,\), "
                                         r"dtype float32\) is listed twice"):
        SGD([a, a], lr=0.1)


def test_bad_params_arguments():
    with pytest.raises(ValueError, match=r"Adam: got an empty parameter list"):
        Adam([])
    with pytest.raises(TypeError, match=r"SGD: params should be an iterable.*single Tensor"):
        SGD(Parameter(minigrad.zeros(2)), lr=0.1)
    with pytest.raises(TypeError, match=r"ordered iterable, got a set"):
        SGD({Parameter(minigrad.zeros(2))}, lr=0.1)
    with pytest.raises(TypeError, match=r"parameter 0 of param group 0 is a list"):
        SGD([[1.0, 2.0]], lr=0.1)
    x = minigrad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf Tensor"):
        SGD([x * 2], lr=0.1)


# -- zero_grad, step, closure ---------------------------------------------------------------

def test_zero_grad_sets_to_none_or_zeros_in_place():
    model = nn.Linear(3, 2)
    opt = SGD(model.parameters(), lr=0.1)
    model(minigrad.randn(4, 3)).sum().backward()
    grad = model.weight.grad
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad is grad
    np.testing.assert_array_equal(grad.numpy(), np.zeros((2, 3)))
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_step_updates_in_place_and_records_no_graph():
    rng = np.random.default_rng(0)
    for cls, kwargs in CONFIGS.values():
        params = make_params(rng)
        arrays = [p._data for p in params]
        versions = [p._version for p in params]
        opt = cls(params, **kwargs)
        for _ in range(3):
            set_grads(params, rng)
            before = [a.copy() for a in arrays]
            opt.step()
            for p, a, b in zip(params, arrays, before):
                assert p._data is a  # same array object, changed in place
                assert not np.array_equal(a, b)
                assert p.grad_fn is None and p.is_leaf and p.requires_grad
        assert [p._version for p in params] == [v + 3 for v in versions]
        assert all(opt.param_groups[0]["params"][i] is p for i, p in enumerate(params))


def test_parameters_without_grad_are_skipped():
    rng = np.random.default_rng(1)
    for cls, kwargs in CONFIGS.values():
        a, b, c = make_params(rng)
        opt = cls([a, b, c], **kwargs)
        b_before = b.detach().numpy().copy()
        a.grad = minigrad.ones(*a.shape, dtype=a.dtype)
        c.grad = minigrad.ones(*c.shape, dtype=c.dtype)
        opt.step()
        np.testing.assert_array_equal(b.detach().numpy(), b_before)
        if cls is not Adagrad:  # Adagrad creates its state at construction, as PyTorch
            assert not opt.state.get(b)
            assert sorted(opt.state_dict()["state"]) in ([0, 2], [])


def test_step_with_closure_returns_loss_and_enables_grad():
    w = Parameter(minigrad.tensor([2.0, -1.0], dtype=minigrad.float64))
    opt = SGD([w], lr=0.25)
    calls = []

    def closure():
        calls.append(minigrad.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, -0.5])  # w - 0.25 * 2w
    assert opt.step() is None


def test_repr_lists_groups():
    opt = SGD([Parameter(minigrad.zeros(1))], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9" in text


# -- state_dict -----------------------------------------------------------------------------

def test_state_dict_layout_is_pytorchs():
    a, b = Parameter(minigrad.zeros(2)), Parameter(minigrad.zeros(3))
    c = Parameter(minigrad.zeros(1))
    opt = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = minigrad.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert sd["param_groups"] == [
        {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
         "maximize": False, "params": [0, 1]},
        {"lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
         "maximize": False, "params": [2]},
    ]
    assert sorted(sd["state"]) == [0, 2]
    assert list(sd["state"][0]) == ["momentum_buffer"]
    assert isinstance(sd["state"][0]["momentum_buffer"], minigrad.Tensor)


def clone_params(params):
    return [Parameter(minigrad.tensor(p.detach().numpy(), dtype=p.dtype)) for p in params]


def trajectory(opt, params, grads):
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = minigrad.tensor(g, dtype=p.dtype)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
@pytest.mark.parametrize("config", CONFIGS)
@settings(max_examples=5)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(1, 4))
def test_state_dict_round_trip_resumes_bit_identically(config, dtype, seed, split):
    cls, kwargs = CONFIGS[config]
    rng = np.random.default_rng(seed)
    params = make_params(rng, dtype)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(8)]
    reference_params = clone_params(params)
    reference = trajectory(cls(reference_params, **kwargs), reference_params, grads)

    opt = cls(params, **kwargs)
    trajectory(opt, params, grads[:split])
    saved = opt.state_dict()
    resumed_params = clone_params(params)
    resumed = cls(resumed_params, lr=123.0)  # hyper-parameters come from the state dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]
    del opt, params
    rest = trajectory(resumed, resumed_params, grads[split:])
    for step, (got, expected) in enumerate(zip(rest, reference[split:])):
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b, err_msg=f"{config}: step {split + step + 1}")


def test_load_state_dict_copies_tensors():
    a = Parameter(minigrad.tensor([1.0, 2.0], dtype=minigrad.float64))
    opt = Adam([a], lr=0.1)
    a.grad = minigrad.ones(2, dtype=minigrad.float64)
    opt.step()
    sd = opt.state_dict()
    b = Parameter(minigrad.tensor([1.0, 2.0], dtype=minigrad.float64))
    other = Adam([b])
    other.load_state_dict(sd)
    for key in ("step", "exp_avg", "exp_avg_sq"):
        assert other.state[b][key] is not sd["state"][0][key]
        assert other.state[b][key]._data is not sd["state"][0][key]._data
    exp_avg = other.state[b]["exp_avg"].numpy().copy()
    opt.step()  # moves opt's live buffers, which sd holds
    np.testing.assert_array_equal(other.state[b]["exp_avg"].numpy(), exp_avg)
    snapshot = copy.deepcopy(sd["param_groups"])
    other.param_groups[0]["lr"] = 0.5
    assert sd["param_groups"] == snapshot


def test_load_state_dict_casts_to_the_parameter_dtype():
    a = Parameter(minigrad.ones(3, dtype=minigrad.float64))
    opt = SGD([a], lr=0.1, momentum=0.9)
    a.grad = minigrad.ones(3, dtype=minigrad.float64)
    opt.step()
    b = Parameter(minigrad.ones(3))
    other = SGD([b], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    assert other.state[b]["momentum_buffer"].dtype == minigrad.float32


def stepped(cls, params, **kwargs):
    opt = cls(params, **kwargs)
    for p in params:
        p.grad = minigrad.ones(*p.shape)
    opt.step()
    return opt


def test_load_state_dict_from_another_optimizer_type_is_an_error():
    sgd = stepped(SGD, [Parameter(minigrad.zeros(2))], lr=0.1, momentum=0.9)
    adam = stepped(Adam, [Parameter(minigrad.zeros(2))])
    target = Adam([Parameter(minigrad.zeros(2))])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: loaded param group 0 lacks "
                                         r"\['betas', 'eps', 'amsgrad'\].*another optimizer type"):
        target.load_state_dict(sgd.state_dict())
    rms = RMSprop([Parameter(minigrad.zeros(2))])
    with pytest.raises(ValueError, match=r"RMSprop.load_state_dict: loaded param group 0 lacks"):
        rms.load_state_dict(adam.state_dict())
    # the hyper-parameters fit but the state does not
    sd = adam.state_dict()
    sd["param_groups"][0].update(alpha=0.9, momentum=0, centered=False)
    with pytest.raises(ValueError, match=r"state of parameter 0 holds \['exp_avg', "
                                         r"'exp_avg_sq'\], which RMSprop does not use"):
        rms.load_state_dict(sd)
    assert not rms.state and "betas" not in rms.param_groups[0]  # nothing half-loaded


def test_load_state_dict_with_wrong_shapes_or_sizes_is_an_error():
    source = stepped(Adam, [Parameter(minigrad.zeros(2, 3)), Parameter(minigrad.zeros(4))])
    wrong_shape = Adam([Parameter(minigrad.zeros(3, 2)), Parameter(minigrad.zeros(4))])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: state 'exp_avg' of parameter 0 "
                                         r"has shape \(2, 3\), but the parameter has shape "
                                         r"\(3, 2\)"):
        wrong_shape.load_state_dict(source.state_dict())
    assert not wrong_shape.state
    too_few = Adam([Parameter(minigrad.zeros(2, 3))])
    with pytest.raises(ValueError, match=r"loaded param group 0 has 2 parameters, this "
                                         r"optimizer's has 1"):
        too_few.load_state_dict(source.state_dict())
    two_groups = Adam([{"params": [Parameter(minigrad.zeros(2, 3))]},
                       {"params": [Parameter(minigrad.zeros(4))]}])
    with pytest.raises(ValueError, match=r"the loaded state has 1 parameter groups, this "
                                         r"optimizer has 2"):
        two_groups.load_state_dict(source.state_dict())
    with pytest.raises(ValueError, match=r"expected a dict with 'state' and 'param_groups'"):
        two_groups.load_state_dict({"state": {}})


# -- convergence ------------------------------------------------------------------------------

@st.composite
def quadratics(draw):
    """A positive-definite quadratic 1/2 θᵀAθ - bᵀθ (eigenvalues in [0.5, 4]), its minimiser
    and a starting point at distance 1 to 3 from it."""
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = rng.uniform(0.5, 4.0, n)
    a = (q * eigenvalues) @ q.T
    optimum = rng.standard_normal(n)
    b = a @ optimum
    direction = rng.standard_normal(n)
    start = optimum + draw(st.floats(1.0, 3.0)) * direction / np.linalg.norm(direction)
    return a, b, start


SENSIBLE = {
    # lr below 1 / L for (heavy-ball / Nesterov) SGD; small steps for the adaptive methods
    "SGD": st.builds(lambda lr, m, nesterov: (SGD, dict(lr=lr, momentum=m, nesterov=nesterov)),
                     st.floats(0.01, 0.2), st.floats(0.1, 0.9), st.booleans()),
    "RMSprop": st.builds(lambda lr, c: (RMSprop, dict(lr=lr, centered=c)),
                         st.floats(1e-3, 1e-2), st.booleans()),
    "Adam": st.builds(lambda lr, ams: (Adam, dict(lr=lr, amsgrad=ams)),
                      st.floats(1e-3, 0.05), st.booleans()),
    "AdamW": st.builds(lambda lr: (AdamW, dict(lr=lr, weight_decay=1e-3)),
                       st.floats(1e-3, 0.05)),
    "Adagrad": st.builds(lambda lr: (Adagrad, dict(lr=lr)), st.floats(0.05, 0.5)),
}


@pytest.mark.parametrize("name", SENSIBLE)
@settings(max_examples=8)
@given(data=st.data(), problem=quadratics())
def test_every_optimizer_lowers_a_quadratic_in_200_steps(name, data, problem):
    cls, kwargs = data.draw(SENSIBLE[name])
    a, b, start = problem
    a_t = minigrad.tensor(a, dtype=minigrad.float64)
    b_t = minigrad.tensor(b, dtype=minigrad.float64)
    theta = Parameter(minigrad.tensor(start, dtype=minigrad.float64))
    opt = cls([theta], **kwargs)

    def objective():
        return 0.5 * (theta * (a_t @ theta)).sum() - (b_t * theta).sum()

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    first = objective().item()
    for _ in range(200):
        opt.step(closure)
    last = objective().item()
    assert last < first, f"{cls.__name__}({kwargs}): loss {first} -> {last}"


def test_subclass_overriding_step_still_works():
    class Halve(Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            with minigrad.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.mul_(group["lr"])

    p = Parameter(minigrad.tensor([4.0]))
    Halve([p]).step()
    assert p.item() == 2.0
