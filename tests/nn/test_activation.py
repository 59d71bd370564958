"""Tests for minigrad/nn/activation.py: each layer is its functional op, with PyTorch's repr.

The ops themselves (values against NumPy, gradients) are tested in tests/ops/test_activation.py;
here each module must give exactly the op's output and gradient, for drawn inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.testing import gradcheck
from minigrad.testing import strategies as mst

CASES = [
    (nn.ReLU(), F.relu, "ReLU()"),
    (nn.ReLU(inplace=True), F.relu, "ReLU(inplace=True)"),
    (nn.LeakyReLU(), lambda x: F.leaky_relu(x, 0.01), "LeakyReLU(negative_slope=0.01)"),
    (nn.LeakyReLU(0.2, inplace=True), lambda x: F.leaky_relu(x, 0.2),
     "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.Sigmoid(), F.sigmoid, "Sigmoid()"),
    (nn.Tanh(), F.tanh, "Tanh()"),
    (nn.GELU(), F.gelu, "GELU(approximate='none')"),
    (nn.GELU(approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"),
     "GELU(approximate='tanh')"),
    (nn.Softplus(), F.softplus, "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Softplus(beta=2.0, threshold=5.0), lambda x: F.softplus(x, 2.0, 5.0),
     "Softplus(beta=2.0, threshold=5.0)"),
    (nn.Softmax(dim=1), lambda x: F.softmax(x, 1), "Softmax(dim=1)"),
    (nn.Softmax(dim=-1), lambda x: F.softmax(x, -1), "Softmax(dim=-1)"),
    (nn.LogSoftmax(dim=1), lambda x: F.log_softmax(x, 1), "LogSoftmax(dim=1)"),
    (nn.LogSoftmax(dim=0), lambda x: F.log_softmax(x, 0), "LogSoftmax(dim=0)"),
]
IDS = [expected for _, _, expected in CASES]


@pytest.mark.parametrize("module, functional, expected", CASES, ids=IDS)
def test_repr(module, functional, expected):
    assert repr(module) == expected


@pytest.mark.parametrize("module, functional, expected", CASES, ids=IDS)
@given(data=st.data(), shape=mst.shapes(min_dims=2, max_dims=3, max_side=3))
def test_module_is_its_functional_op(module, functional, expected, data, shape):
    # kinks stay out of finite differences: relu's at 0, Softplus(beta=2, threshold=5)'s at 2.5
    x = data.draw(mst.tensors(shape, avoid=(0.0, 2.5)))
    y = module(x)
    ref = functional(x)
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    assert y.grad_fn.fn is ref.grad_fn.fn
    upstream = data.draw(mst.tensors(shape, requires_grad=False))
    (gy,) = minigrad.autograd.grad(y, x, upstream)
    (gref,) = minigrad.autograd.grad(ref, x, upstream)
    np.testing.assert_array_equal(gy.numpy(), gref.numpy())
    assert gradcheck(module, (x,))


def test_no_parameters_and_train_eval_do_not_matter():
    for module, _, _ in CASES:
        assert list(module.parameters()) == [] and module.state_dict() == {}
    x = minigrad.randn(3, 4)
    act = nn.Softmax(dim=1)
    np.testing.assert_array_equal(act.eval()(x).numpy(), act.train()(x).numpy())


def test_softmax_default_dim_follows_pytorch_legacy_rule():
    x = minigrad.randn(2, 3)
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    np.testing.assert_array_equal(nn.Softmax()(x).numpy(), F.softmax(x, 1).numpy())
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy().sum(1), np.ones(2), rtol=1e-6)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
