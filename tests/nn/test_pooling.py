"""Tests of minigrad/nn/pooling.py: the pooling layers' reprs, forwards (the functional ops
with the layer's arguments), no parameters, and errors naming the layer."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (lambda: nn.MaxPool2d(2),
         "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (lambda: nn.MaxPool2d((3, 2), stride=1, padding=1, ceil_mode=True),
         "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=1, ceil_mode=True)"),
        (lambda: nn.MaxPool1d(3, 2),
         "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (lambda: nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
        (lambda: nn.AvgPool2d(3, 2, 1), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
        (lambda: nn.AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
        (lambda: nn.AdaptiveAvgPool2d((None, 7)), "AdaptiveAvgPool2d(output_size=(None, 7))"),
        (lambda: nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)"),
        (lambda: nn.AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)"),
    ],
)
def test_repr_is_pytorchs(layer, text):
    module = layer()
    assert repr(module) == text
    assert list(module.parameters()) == [] and module.state_dict() == {}


def test_layers_call_the_functional_ops_with_their_arguments():
    x = mg.randn(2, 3, 7, 8, dtype=mg.float64)
    pairs = [
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
        (nn.MaxPool2d((2, 3), dilation=(2, 1)), F.max_pool2d(x, (2, 3), dilation=(2, 1))),
        (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
         F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
        (nn.AvgPool2d(2, divisor_override=3), F.avg_pool2d(x, 2, divisor_override=3)),
        (nn.AdaptiveAvgPool2d((3, None)), F.adaptive_avg_pool2d(x, (3, None))),
    ]
    for layer, expected in pairs:
        np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    x1 = x[:, :, 0]
    np.testing.assert_array_equal(nn.MaxPool1d(3, 2)(x1).numpy(), F.max_pool1d(x1, 3, 2).numpy())
    np.testing.assert_array_equal(nn.AvgPool1d(2)(x1).numpy(), F.avg_pool1d(x1, 2).numpy())
    np.testing.assert_array_equal(nn.AdaptiveAvgPool1d(3)(x1).numpy(),
                                  F.adaptive_avg_pool1d(x1, 3).numpy())


def test_max_pool_return_indices_and_gradient_flow():
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert values.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]
    values.sum().backward()
    assert x.grad.numpy().ravel().tolist() == [float(i in (5, 7, 13, 15)) for i in range(16)]


def test_a_small_cnn_runs_and_flattens():
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3),
    )
    out = model(mg.randn(5, 1, 10, 10))
    assert out.shape == (5, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: nn.MaxPool2d(2)(mg.randn(4, 4)), RuntimeError,
         r"MaxPool2d\(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False\): "
         r"expected a 3-D \(unbatched\) or 4-D \(batched\) input.*got shape \(4, 4\)"),
        (lambda: nn.MaxPool2d(3, padding=2)(mg.randn(1, 1, 5, 5)), ValueError,
         r"MaxPool2d\(kernel_size=3.*padding should be at most half of the kernel size"),
        (lambda: nn.AvgPool2d(4)(mg.randn(1, 1, 3, 3)), RuntimeError,
         r"AvgPool2d\(kernel_size=4, stride=4, padding=0\): output size \(0, 0\) is too small"),
        (lambda: nn.AdaptiveAvgPool2d((2, 0))(mg.randn(1, 1, 3, 3)), ValueError,
         r"AdaptiveAvgPool2d\(output_size=\(2, 0\)\): output_size must hold positive ints"),
        (lambda: nn.MaxPool1d(2)(mg.randn(1, 1, 2, 2)), RuntimeError,
         r"MaxPool1d\(.*expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    ],
)
def test_bad_input_raises_errors_naming_the_layer(call, error, match):
    with pytest.raises(error, match=match):
        call()
