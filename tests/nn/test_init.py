"""Tests for minigrad/nn/init.py: gains, fans, and the distribution each scheme draws from.

Moments are compared with 5 standard errors computed from the sample size n:
for a normal, SE(mean) = sigma / sqrt(n) and SE(std) ~ sigma / sqrt(2 n); for U(-b, b),
SE(mean) = b / sqrt(3 n) and SE(std) ~ b / sqrt(15 n) (delta method, fourth moment b^4 / 5).
Every test seeds the generator, so a pass is repeatable.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad.nn import Parameter, init

Z = 5.0  # standard errors allowed


def values(t):
    return t.detach().numpy().astype(np.float64).ravel()


def assert_uniform(t, bound):
    v = values(t)
    n = v.size
    assert np.all(np.abs(v) <= bound * (1 + 1e-6))
    assert np.abs(v).max() > bound * (1 - 20 / n)  # the interval is filled to its ends
    assert abs(v.mean()) < Z * bound / math.sqrt(3 * n)
    assert abs(v.std() - bound / math.sqrt(3)) < Z * bound / math.sqrt(15 * n)


def assert_normal(t, mean, std):
    v = values(t)
    n = v.size
    assert abs(v.mean() - mean) < Z * std / math.sqrt(n)
    assert abs(v.std() - std) < Z * std / math.sqrt(2 * n)


@pytest.fixture(autouse=True)
def seeded():
    minigrad.manual_seed(1234)


def test_calculate_gain():
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid"]:
        assert init.calculate_gain(name) == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape, fans", [
    ((3, 4), (4, 3)),
    ((8, 3, 5), (15, 40)),
    ((8, 3, 5, 5), (75, 200)),
    ((2, 6, 1, 3, 3), (54, 18)),
])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(minigrad.empty(*shape)) == fans


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions, got shape \\(5,\\)"):
        init.xavier_uniform_(minigrad.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(minigrad.empty(3, 3), mode="fan_avg")


def test_in_place_on_a_parameter_under_no_grad():
    p = Parameter(minigrad.zeros(200, 100))
    version = p._version
    assert init.uniform_(p, -0.5, 0.5) is p
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert p._version > version
    assert_uniform(p, 0.5)


def test_uniform_and_normal():
    t = init.uniform_(minigrad.empty(100_000), 2.0, 4.0)
    v = values(t)
    assert v.min() >= 2.0 and v.max() <= 4.0
    assert_uniform(minigrad.tensor(v - 3.0), 1.0)
    assert_normal(init.normal_(minigrad.empty(300, 300), 1.5, 0.2), 1.5, 0.2)
    d = init.normal_(minigrad.empty(400, 250, dtype=minigrad.float64))
    assert d.dtype == minigrad.float64
    assert_normal(d, 0.0, 1.0)


def test_constants_and_eye():
    t = minigrad.empty(2, 3)
    assert init.constant_(t, 0.25) is t
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 0.25))
    np.testing.assert_array_equal(init.zeros_(t).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones_(Parameter(t)).detach().numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(init.eye_(minigrad.empty(3, 4)).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions"):
        init.eye_(minigrad.empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(300, 500), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(shape, gain):
    w = minigrad.empty(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    assert_uniform(init.xavier_uniform_(w, gain=gain), math.sqrt(3) * std)
    assert_normal(init.xavier_normal_(w, gain=gain), 0.0, std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_IN"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", 0.1),
                                             ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    w = minigrad.empty(96, 48, 3, 3)
    fan = 48 * 9 if mode.lower() == "fan_in" else 96 * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    out = init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity)
    assert out is w
    assert_uniform(w, math.sqrt(3) * std)
    assert_normal(init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity), 0.0, std)


def test_kaiming_uniform_sqrt5_is_pytorch_linear_default():
    w = init.kaiming_uniform_(minigrad.empty(200, 300), a=math.sqrt(5))
    assert_uniform(w, 1 / math.sqrt(300))


def test_kaiming_on_empty_tensor_is_a_no_op():
    w = minigrad.empty(0, 3)
    assert init.kaiming_uniform_(w) is w and init.kaiming_normal_(w) is w


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 2, 2), (2, 12)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(minigrad.empty(*shape, dtype=minigrad.float64), gain=gain)
    m = w.numpy().reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more"):
        init.orthogonal_(minigrad.empty(4))


def test_orthogonal_is_random_and_seeded():
    a = init.orthogonal_(minigrad.empty(4, 4)).numpy().copy()
    b = init.orthogonal_(minigrad.empty(4, 4)).numpy().copy()
    assert not np.allclose(a, b)
    minigrad.manual_seed(7)
    c = init.orthogonal_(minigrad.empty(4, 4)).numpy().copy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(init.orthogonal_(minigrad.empty(4, 4)).numpy(), c)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 0.0, 3.0)])
def test_trunc_normal(mean, std, a, b):
    t = init.trunc_normal_(minigrad.empty(300, 300), mean, std, a, b)
    v = values(t)
    assert v.min() >= a and v.max() <= b
    # moments of N(mean, std^2) truncated to [a, b]
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    mu = mean + std * (pdf(alpha) - pdf(beta)) / mass
    var = std**2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass
                    - ((pdf(alpha) - pdf(beta)) / mass) ** 2)
    n = v.size
    assert abs(v.mean() - mu) < Z * math.sqrt(var / n)
    # the truncated distribution's kurtosis is below a normal's, so the normal SE is an upper bound
    assert abs(v.std() - math.sqrt(var)) < Z * math.sqrt(var / (2 * n))
    with pytest.raises(ValueError, match="expected a < b"):
        init.trunc_normal_(minigrad.empty(2), a=1.0, b=1.0)


SCHEMES = {
    "uniform_": lambda t, g: init.uniform_(t, -1, 1, generator=g),
    "normal_": lambda t, g: init.normal_(t, 0, 1, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_determinism_with_manual_seed_and_generator(name):
    scheme = SCHEMES[name]
    minigrad.manual_seed(42)
    first = scheme(minigrad.empty(5, 6), None).numpy().copy()
    minigrad.manual_seed(42)
    np.testing.assert_array_equal(scheme(minigrad.empty(5, 6), None).numpy(), first)
    # an explicit generator is independent of the default one's state
    draws = []
    for _ in range(2):
        gen = minigrad.Generator().manual_seed(9)
        minigrad.randn(3)  # advance the default generator in between
        draws.append(scheme(minigrad.empty(5, 6), gen).numpy().copy())
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], first)
