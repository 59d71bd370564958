"""Tests for ``minigrad/nn/normalization.py``: BatchNorm1d/2d (parameters, buffers, running
statistics, momentum=None, eval mode, rank and channel checks) and LayerNorm."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (6, 3, 4)),
                                        (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_running_statistics_and_eval_mode(cls, shape):
    rng = np.random.default_rng(0)
    layer = cls(3, momentum=0.2)
    axes = (0,) + tuple(range(2, len(shape)))
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(size=shape) * 3 + 2
        y = layer(minigrad.tensor(x, dtype=minigrad.float32))
        # training mode: normalised by the batch's (biased) statistics
        bshape = (1, 3) + (1,) * (len(shape) - 2)
        expected = (x - x.mean(axis=axes).reshape(bshape)) / np.sqrt(
            x.var(axis=axes).reshape(bshape) + 1e-5)
        np.testing.assert_allclose(_np(y), expected, rtol=1e-4, atol=1e-5)
        mean = 0.8 * mean + 0.2 * x.mean(axis=axes)
        var = 0.8 * var + 0.2 * x.var(axis=axes, ddof=1)
    np.testing.assert_allclose(_np(layer.running_mean), mean, rtol=1e-5)
    np.testing.assert_allclose(_np(layer.running_var), var, rtol=1e-5)
    assert layer.num_batches_tracked.dtype == minigrad.int64
    assert layer.num_batches_tracked.item() == 3
    layer.eval()
    x = rng.normal(size=shape)
    y = layer(minigrad.tensor(x, dtype=minigrad.float32))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5)
    np.testing.assert_allclose(_np(y), expected, rtol=1e-4, atol=1e-5)
    assert layer.num_batches_tracked.item() == 3  # eval does not count


def test_momentum_none_is_a_cumulative_average():
    rng = np.random.default_rng(1)
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [rng.normal(size=(5, 2)) + i for i in range(4)]
    for x in batches:
        layer(minigrad.tensor(x))
    np.testing.assert_allclose(_np(layer.running_mean), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5)
    np.testing.assert_allclose(_np(layer.running_var),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)


def test_parameters_buffers_and_state_dict_layout():
    layer = nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    np.testing.assert_array_equal(_np(layer.weight), np.ones(4))
    np.testing.assert_array_equal(_np(layer.bias), np.zeros(4))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    plain = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == [] and list(plain.parameters()) == []
    x = minigrad.randn(6, 4)
    plain.eval()  # no running statistics: batch statistics even in eval mode
    np.testing.assert_allclose(_np(plain(x)).mean(0), np.zeros(4), atol=1e-5)
    layer.to(minigrad.float64)
    assert layer.running_mean.dtype == minigrad.float64
    assert layer.num_batches_tracked.dtype == minigrad.int64


def test_gradients_flow_to_weight_and_bias():
    layer = nn.BatchNorm1d(3).to(minigrad.float64)
    x = minigrad.randn(5, 3, dtype=minigrad.float64, requires_grad=True)
    (layer(x) * minigrad.arange(3, dtype=minigrad.float64)).sum().backward()
    np.testing.assert_allclose(_np(layer.bias.grad), [0.0, 5.0, 10.0], rtol=1e-12)
    np.testing.assert_allclose(_np(layer.weight.grad), np.zeros(3), atol=1e-12)
    assert x.grad.shape == (5, 3)


def test_reprs():
    assert repr(nn.BatchNorm2d(16)) == (
        "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)")
    assert repr(nn.BatchNorm1d(3, momentum=None, affine=False)) == (
        "BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, track_running_stats=True)")
    assert repr(nn.LayerNorm(10)) == "LayerNorm((10,), eps=1e-05, elementwise_affine=True)"
    assert repr(nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False)) == (
        "LayerNorm((2, 3), eps=0.001, elementwise_affine=False)")


def test_rank_and_channel_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(N, C, H, W\), got "
                                         r"3D input of shape \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(minigrad.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="BatchNorm1d: expected 2D or 3D input"):
        nn.BatchNorm1d(3)(minigrad.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input with 16 channels "
                                         r"\(N, C=16, H, W\), got \(8, 3, 28, 28\)"):
        nn.BatchNorm2d(16)(minigrad.zeros(8, 3, 28, 28))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(minigrad.zeros(1, 3))
    with pytest.raises(RuntimeError, match=r"LayerNorm: expected input of shape \(\*, 4\)"):
        nn.LayerNorm(4)(minigrad.zeros(2, 3))


def test_layer_norm_module():
    layer = nn.LayerNorm((2, 3))
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2, 3)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert nn.LayerNorm(3, bias=False).bias is None
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    y = _np(layer(minigrad.tensor(x)))
    mu = x.mean(axis=(1, 2), keepdims=True)
    sd = np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, (x - mu) / sd, rtol=1e-5, atol=1e-6)
