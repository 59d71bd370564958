"""Anomaly detection (``minigrad/autograd/anomaly.py``): name the op whose backward gave NaN."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import autograd

# the NaN/inf these tests provoke make NumPy warn; the errors are what is tested
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_detect_anomaly_names_the_op_and_shows_the_forward_stack():
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        y = minigrad.sqrt(x) * 0  # d sqrt / dx at 0 is inf; times 0 gives NaN
        with pytest.raises(RuntimeError, match="SqrtBackward") as info:
            y.sum().backward()
    message = str(info.value)
    assert "nan" in message
    assert "test_anomaly.py" in message and "minigrad.sqrt(x) * 0" in message
    assert not autograd.is_anomaly_enabled()


def test_inf_is_reported_too():
    x = minigrad.tensor([0.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.log()
        with pytest.raises(RuntimeError, match=r"LogBackward.*inf"):
            y.sum().backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (minigrad.sqrt(x) * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.0


def test_forward_outside_anomaly_mode_still_reported():
    x = minigrad.tensor([0.0], requires_grad=True)
    y = minigrad.sqrt(x) * 0
    with autograd.detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward") as info:
        y.sum().backward()
    assert "before anomaly detection was on" in str(info.value)


def test_finite_gradients_pass_in_anomaly_mode():
    x = minigrad.tensor([1.0, 4.0], requires_grad=True)
    with autograd.detect_anomaly():
        minigrad.sqrt(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])


def test_set_detect_anomaly_restores_on_exception():
    with pytest.raises(ValueError):
        with autograd.set_detect_anomaly(True):
            assert autograd.is_anomaly_enabled()
            raise ValueError
    assert not autograd.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True), autograd.set_detect_anomaly(False):
        assert not autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()
