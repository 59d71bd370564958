"""Tests for minigrad/nn/linear.py (Linear, Identity, Flatten, Unflatten) and the ``linear`` op
(minigrad/ops/linalg.py), re-exported as ``minigrad.nn.functional.linear``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.ops.linalg import MatMul
from minigrad.testing import check_op
from minigrad.testing import strategies as mst


def linear_reference(x, w, b=None):
    """y[..., o] = sum_i x[..., i] w[o, i] + b[o], by explicit loops over the features."""
    out = np.zeros(x.shape[:-1] + (w.shape[0],), dtype=np.float64)
    for o in range(w.shape[0]):
        for i in range(w.shape[1]):
            out[..., o] += x[..., i] * w[o, i]
        if b is not None:
            out[..., o] += b[o]
    return out


@given(
    data=st.data(),
    lead=mst.shapes(min_dims=0, max_dims=3, max_side=3),
    in_features=st.integers(1, 4),
    out_features=st.integers(1, 4),
    bias=st.booleans(),
)
def test_linear_op_values_and_gradients(data, lead, in_features, out_features, bias):
    x = data.draw(mst.tensors(lead + (in_features,)))
    w = data.draw(mst.tensors((out_features, in_features)))
    inputs = (x, w)
    if bias:
        inputs += (data.draw(mst.tensors((out_features,))),)
    # check_op: values vs the loop reference, inputs unchanged, gradcheck and gradgradcheck
    check_op(F.linear, linear_reference, *inputs, value_rtol=1e-12, value_atol=1e-12)


def test_linear_op_is_matmul_of_folded_rows():
    x = minigrad.randn(2, 3, 4, requires_grad=True)
    w = minigrad.randn(5, 4, requires_grad=True)
    y = F.linear(x, w)
    assert y.shape == (2, 3, 5)
    matmul_node = y.grad_fn.next_functions[0][0]  # y is the reshape back of one 2-D MatMul
    assert matmul_node.fn is MatMul
    assert matmul_node._output_meta[0][0] == (6, 5)
    assert F.linear is minigrad.ops.linear


def test_linear_op_errors_name_shapes():
    with pytest.raises(RuntimeError, match=r"linear: expected input of shape \(\*, in_features=4"
                                           r"\), got \(2, 3\) \(weight shape \(5, 4\)\)"):
        F.linear(minigrad.randn(2, 3), minigrad.randn(5, 4))
    with pytest.raises(RuntimeError,
                       match=r"expected bias of shape \(out_features=5,\), got \(4,\)"):
        F.linear(minigrad.randn(2, 4), minigrad.randn(5, 4), minigrad.randn(4))
    with pytest.raises(RuntimeError, match=r"expected weight of shape \(out_features"):
        F.linear(minigrad.randn(2, 4), minigrad.randn(4))


def test_linear_layer_parameters_and_init():
    minigrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert layer.weight.dtype == minigrad.float32
    bound = 1 / math.sqrt(400)
    w = layer.weight.detach().numpy()
    b = layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-b, b) has std b/sqrt(3); over n draws the sample std has standard error
    # b * sqrt(1 / (15 n)) (delta method, fourth moment b^4/5) and the mean b / sqrt(3 n)
    n = w.size
    assert abs(w.std() - bound / math.sqrt(3)) < 5 * bound * math.sqrt(1 / (15 * n))
    assert abs(w.mean()) < 5 * bound / math.sqrt(3 * n)
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used


def test_linear_layer_forward_matches_numpy_and_backward():
    layer = nn.Linear(3, 2)
    x = minigrad.randn(4, 5, 3)
    y = layer(x)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), x.numpy() @ w.T + b, rtol=1e-5, atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(),
                               np.ones((20, 2)).T @ x.numpy().reshape(20, 3), rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.numpy(), [20.0, 20.0])


def test_linear_without_bias_device_dtype():
    layer = nn.Linear(3, 2, bias=False, dtype=minigrad.float64, device="cpu")
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.dtype == minigrad.float64
    x = minigrad.randn(2, 3, dtype=minigrad.float64)
    np.testing.assert_allclose(layer(x).detach().numpy(),
                               x.numpy() @ layer.weight.detach().numpy().T)
    assert list(layer.state_dict()) == ["weight"]


def test_linear_reset_parameters_is_seeded():
    minigrad.manual_seed(3)
    a = nn.Linear(4, 3)
    minigrad.manual_seed(3)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


def test_linear_layer_error_names_layer():
    layer = nn.Linear(4, 2)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=2, bias=True\): "
                                           r"expected input of shape \(\*, in_features=4\), "
                                           r"got \(8, 3\)"):
        layer(minigrad.randn(8, 3))
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)


def test_reprs():
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.Identity()) == "Identity()"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        ")"
    )


def test_nested_model_repr_like_pytorch():
    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(), nn.Linear(8, 2))
            self.out = nn.LogSoftmax(dim=1)

        def forward(self, x):
            return self.out(self.body(self.flatten(x)))

    assert repr(MLP()) == (
        "MLP(\n"
        "  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "    (1): LeakyReLU(negative_slope=0.01)\n"
        "    (2): Linear(in_features=8, out_features=2, bias=True)\n"
        "  )\n"
        "  (out): LogSoftmax(dim=1)\n"
        ")"
    )
    assert MLP()(minigrad.randn(3, 2, 2)).shape == (3, 2)


def test_identity_flatten_unflatten():
    x = minigrad.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    y = nn.Unflatten(1, (3, 20))(nn.Flatten()(x))
    assert y.shape == (2, 3, 20)
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(2, 3, 20))
    assert nn.Unflatten(-1, (5, 1))(x).shape == (2, 3, 4, 5, 1)
    with pytest.raises(RuntimeError, match=r"Unflatten: unflattened_size \(2, 2\) does not "
                                           r"multiply to 5, the size of dim -1 of input"):
        nn.Unflatten(-1, (2, 2))(x)
    with pytest.raises(IndexError, match="Unflatten: dim 4 is out of range"):
        nn.Unflatten(4, (1,))(x)


@pytest.mark.gpu
def test_linear_on_cuda_matches_cpu():
    minigrad.manual_seed(0)
    layer = nn.Linear(5, 3, device="cuda")
    assert layer.weight.device.type == "cuda" and layer.bias.device.type == "cuda"
    x = minigrad.randn(4, 2, 5)
    y = layer(x.cuda())
    w, b = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    np.testing.assert_allclose(y.detach().cpu().numpy(), x.numpy() @ w.T + b, rtol=1e-5,
                               atol=1e-6)
    y.sum().backward()
    assert layer.weight.grad.device.type == "cuda"
    np.testing.assert_allclose(layer.weight.grad.cpu().numpy(),
                               np.ones((8, 3)).T @ x.numpy().reshape(8, 5), rtol=1e-5)
