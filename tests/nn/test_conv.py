"""Tests of minigrad/nn/conv.py: Conv1d and Conv2d (arguments, parameters, PyTorch's
initialisation and repr, forward through the functional op, padding modes, errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (lambda: nn.Conv2d(1, 32, 3), "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"),
        (lambda: nn.Conv2d(4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False,
                           padding_mode="reflect"),
         "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
         "groups=2, bias=False, padding_mode=reflect)"),
        (lambda: nn.Conv2d(3, 6, 3, padding="same"),
         "Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1), padding=same)"),
        (lambda: nn.Conv1d(16, 33, 3, stride=2), "Conv1d(16, 33, kernel_size=(3,), stride=(2,))"),
    ],
)
def test_repr_is_pytorchs(layer, text):
    assert repr(layer()) == text


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4),
       st.booleans())
def test_parameters_shapes_names_and_default_initialisation(groups, per_in, per_out, k, bias):
    mg.manual_seed(0)
    conv = nn.Conv2d(groups * per_in, groups * per_out, (k, k + 1), groups=groups, bias=bias)
    names = [name for name, _ in conv.named_parameters()]
    assert names == (["weight", "bias"] if bias else ["weight"])
    assert list(conv.state_dict()) == names
    assert conv.weight.shape == (groups * per_out, per_in, k, k + 1)
    assert conv.weight.dtype == mg.float32 and conv.weight.requires_grad
    # kaiming_uniform_(a=sqrt(5)) and the bias: both U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bound = 1 / math.sqrt(per_in * k * (k + 1))
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    if bias:
        assert conv.bias.shape == (groups * per_out,)
        assert np.abs(conv.bias.detach().numpy()).max() <= bound
    else:
        assert conv.bias is None


def test_initialisation_fills_the_interval():
    mg.manual_seed(1)
    w = nn.Conv2d(8, 64, 3).weight.detach().numpy()
    bound = 1 / math.sqrt(8 * 9)
    assert w.min() < -0.95 * bound and w.max() > 0.95 * bound
    assert abs(w.mean()) < 0.05 * bound  # uniform: mean 0, std bound / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_forward_is_the_functional_conv_with_the_layers_parameters():
    mg.manual_seed(2)
    conv = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
                     dtype=mg.float64)
    x = mg.randn(2, 4, 7, 6, dtype=mg.float64)
    y = conv(x)
    expected = F.conv2d(x, conv.weight, conv.bias, (2, 1), (1, 0), (1, 2), 2)
    np.testing.assert_array_equal(y.detach().numpy(), expected.detach().numpy())
    y.sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad.shape == (6,)
    np.testing.assert_allclose(conv.bias.grad.numpy(), np.full(6, 2 * 4 * 4))  # N * H_out * W_out


def test_conv1d_same_padding_and_unbatched_input():
    conv = nn.Conv1d(3, 5, 4, padding="same", dilation=2)
    assert conv(mg.randn(2, 3, 9)).shape == (2, 5, 9)
    assert conv(mg.randn(3, 9)).shape == (5, 9)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_the_input_then_convolve(mode):
    mg.manual_seed(3)
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=mg.float64)
    x = mg.randn(1, 2, 5, 6, dtype=mg.float64)
    padded = F.pad(x, (2, 2, 1, 1), mode=mode)
    expected = F.conv2d(padded, conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).detach().numpy(), expected.detach().numpy(), rtol=1e-13)


def test_module_to_float64_and_conv_trains():
    mg.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3))
    model.to(mg.float64)
    x = mg.randn(2, 1, 6, 6, dtype=mg.float64)
    target = mg.randn(2, 1, 4, 4, dtype=mg.float64)
    losses = []
    for _ in range(20):
        loss = ((model(x) - target) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: nn.Conv2d(3, 6, 3)(mg.randn(8, 1, 28, 28)), RuntimeError,
         r"Conv2d\(3, 6, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input of shape "
         r"\(N, C_in=3, H, W\).*got \(8, 1, 28, 28\)"),
        (lambda: nn.Conv2d(3, 6, 3)(mg.randn(28, 28)), RuntimeError,
         r"Conv2d\(3, 6.*expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
        (lambda: nn.Conv2d(3, 6, 3, padding_mode="reflect", padding=1)(mg.randn(8, 1, 28, 28)),
         RuntimeError, r"Conv2d\(3, 6.*expected input of shape \(N, C_in=3, H, W\), got "
         r"\(8, 1, 28, 28\)"),
        (lambda: nn.Conv1d(2, 2, 5)(mg.randn(1, 2, 3)), RuntimeError,
         r"Conv1d\(2, 2, kernel_size=\(5,\), stride=\(1,\)\): kernel size \(5,\) .* larger "
         r"than the padded input \(3,\)"),
        (lambda: nn.Conv2d(3, 6, 3, groups=2), ValueError,
         r"Conv2d: in_channels=3 must be divisible by groups=2"),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError,
         r"Conv2d: out_channels=6 must be divisible by groups=4"),
        (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, r"Conv2d: groups must be an int >= 1"),
        (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError,
         r"Conv2d: padding='same' is not supported for strided convolutions"),
        (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError,
         r"Conv2d: padding_mode must be one of"),
        (lambda: nn.Conv2d(4, 4, (3, 3, 3)), ValueError,
         r"Conv2d: expected kernel_size to be an int or 2 ints"),
    ],
)
def test_bad_input_raises_errors_naming_the_layer(call, error, match):
    with pytest.raises(error, match=match):
        call()
