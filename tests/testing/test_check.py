"""check_op passes a correct op and catches each kind of defect it promises to catch."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import GradcheckError, check_op


def x64():
    return mg.tensor([[0.5, -1.0], [2.0, 1.5]], dtype=mg.float64, requires_grad=True)


def test_a_correct_op_passes():
    check_op(lambda t: t.tanh(), np.tanh, x64(), value_rtol=1e-15)


def test_a_wrong_value_fails():
    with pytest.raises(AssertionError):
        check_op(lambda t: t.tanh(), np.sin, x64())


def test_a_wrong_dtype_fails():
    with pytest.raises(AssertionError):
        check_op(lambda t: t.float(), lambda a: a, x64())


def test_an_op_that_changes_its_input_fails():
    def changes_input(t):
        out = t * 2
        with mg.no_grad():
            t.add_(1)
        return out

    with pytest.raises(AssertionError, match="changed its input"):
        check_op(changes_input, lambda a: a * 2, x64())


class WrongGradient(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be 2 x grad


def test_a_wrong_gradient_fails():
    with pytest.raises(GradcheckError):
        check_op(WrongGradient.apply, lambda a: a * a, x64())
