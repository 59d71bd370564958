"""Tests of minigrad/ops/linalg.py: MatMul (``matmul``, ``@``) with PyTorch's shape rules.

hypothesis draws operand shapes from matmul's gufunc signature ``(n?,k),(k,m?)->(n?,m?)``:
1-D operands (vector products) and broadcasting batch dimensions included.
``check_op`` compares the forward with ``numpy.matmul``, checks that the inputs are left
alone and that the gradients do not alias the upstream one, and checks first and second
derivatives against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.ops.linalg import MatMul
from minigrad.testing import check_op as _check_op
from minigrad.testing import strategies as mst

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
# minigrad.testing.strategies has no gufunc signatures: hypothesis draws these directly.
MATMUL_SHAPES = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, max_side=3
)


def check_op(op, reference, *inputs, **kwargs):
    """``minigrad.testing.check_op`` with this file's value tolerance."""
    return _check_op(op, reference, *inputs, value_rtol=1e-12, value_atol=1e-12, **kwargs)


@pytest.mark.parametrize("spelling", ["@", "matmul", "method"])
@given(data=st.data(), shapes=MATMUL_SHAPES)
def test_matmul(spelling, data, shapes):
    a_shape, b_shape = shapes.input_shapes
    a, b = data.draw(mst.tensors(a_shape)), data.draw(mst.tensors(b_shape))
    op = {
        "@": lambda x, y: x @ y,
        "matmul": mg.matmul,
        "method": lambda x, y: x.matmul(y),
    }[spelling]
    check_op(op, np.matmul, a, b)
    assert (a @ b).grad_fn.fn is MatMul


@pytest.mark.parametrize(
    "a_shape, b_shape, out_shape",
    [
        ((3,), (3,), ()),  # dot product: a scalar
        ((2, 3), (3,), (2,)),  # matrix @ vector
        ((3,), (3, 2), (2,)),  # vector @ matrix
        ((4, 2, 3), (3,), (4, 2)),  # batched matrix @ vector
        ((3,), (4, 3, 2), (4, 2)),  # vector @ batched matrix
        ((2, 1, 3, 4), (5, 4, 2), (2, 5, 3, 2)),  # batch dims broadcast
    ],
)
def test_matmul_shapes_follow_pytorch(a_shape, b_shape, out_shape):
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.normal(size=a_shape), requires_grad=True)
    b = mg.tensor(rng.normal(size=b_shape), requires_grad=True)
    assert (a @ b).shape == out_shape
    check_op(lambda x, y: x @ y, np.matmul, a, b)


def test_matmul_promotes_integers_with_floats():
    a = mg.tensor([[1, 2], [3, 4]])
    b = mg.tensor([0.5, 1.0], dtype=mg.float64, requires_grad=True)
    out = a @ b
    assert out.dtype == mg.float64 and out.tolist() == [2.5, 5.5]
    out.sum().backward()
    assert b.grad.tolist() == [4.0, 6.0]


# -- errors ----------------------------------------------------------------------------------------

ERRORS = {
    "inner sizes": (
        (2, 3),
        (2, 3),
        r"matmul: shapes \(2, 3\) and \(2, 3\) cannot be multiplied \(3 != 2",
    ),
    "vector sizes": ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied"),
    "matrix @ vector": ((2, 3), (2,), r"matmul: shapes \(2, 3\) and \(2,\)"),
    "batch dims": (
        (2, 3, 4),
        (3, 4, 5),
        r"matmul: batch dimensions of shapes \(2, 3, 4\) and \(3, 4, 5\) do not broadcast",
    ),
    "0-d": ((), (3,), r"matmul: both arguments need at least 1 dimension, got shapes \(\)"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_matmul_shape_mismatch_raises(case):
    a_shape, b_shape, pattern = ERRORS[case]
    with pytest.raises(RuntimeError, match=pattern):
        mg.ones(a_shape) @ mg.ones(b_shape)


def test_matmul_with_a_python_number_raises():
    with pytest.raises(TypeError, match="matmul: both operands must be tensors"):
        mg.matmul(mg.ones(2), 3.0)


# -- dtypes and devices ----------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=str)
@pytest.mark.parametrize("a_shape, b_shape", [((3,), (3,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_keeps_dtype_and_matches_cpu_on(a_shape, b_shape, dtype, device):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    x = mg.tensor(a, dtype=dtype, device=device, requires_grad=True)
    y = mg.tensor(b, dtype=dtype, device=device, requires_grad=True)
    out = x @ y
    assert out.dtype == dtype and out.device == device
    tolerance = {mg.float32: 1e-5, mg.float64: 1e-12}[dtype]
    np.testing.assert_allclose(out.detach().cpu().numpy(), a @ b, rtol=tolerance, atol=tolerance)
    out.sum().backward()
    x64, y64 = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    (x64 @ y64).sum().backward()
    for g, g64 in ((x.grad, x64.grad), (y.grad, y64.grad)):
        assert g.dtype == dtype and g.device == device
        np.testing.assert_allclose(g.cpu().numpy(), g64.numpy(), rtol=tolerance, atol=tolerance)
