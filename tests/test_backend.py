"""``minigrad/backend/__init__.py``: devices, the array-module switch, CUDA availability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.backend import device, device_of, get_array_module, to_device


def test_cpu_device_equals_its_string():
    d = minigrad.device("cpu")
    assert d == "cpu" and d == minigrad.device("cpu") and d.type == "cpu" and d.index is None
    assert str(d) == "cpu" and repr(d) == "device(type='cpu')"
    assert d != "cuda" and d != minigrad.device("cuda")
    assert minigrad.tensor([1.0]).device == "cpu"
    assert minigrad.device("cpu:0") == "cpu"


@given(st.integers(0, 64))
def test_cuda_index_parsing(i):
    d = minigrad.device(f"cuda:{i}")
    assert d.type == "cuda" and d.index == i
    assert str(d) == f"cuda:{i}" and repr(d) == f"device(type='cuda', index={i})"
    assert d == minigrad.device("cuda", i) == f"cuda:{i}"
    assert hash(d) == hash(minigrad.device("cuda", i))


def test_cuda_without_index_is_device_zero():
    assert minigrad.device("cuda") == "cuda:0"
    assert minigrad.device("cuda").index is None
    assert minigrad.device("cuda:1") != "cuda"
    assert minigrad.device(minigrad.device("cuda:1")) == "cuda:1"


@pytest.mark.parametrize(
    "text",
    ["gpu", "", "CUDA", "cuda:x", "cuda:-1", "cuda:", "cuda:0:1", "cpu:1", "tpu:0"],
    ids=repr,  # an id of plain "gpu" would read as the gpu marker in conftest's keyword check
)
def test_bad_device_strings_raise_value_error(text):
    with pytest.raises(ValueError, match="device"):
        minigrad.device(text)


def test_bad_device_arguments():
    with pytest.raises(ValueError, match="twice"):
        minigrad.device("cuda:0", 1)
    with pytest.raises(TypeError):
        minigrad.device(0)
    assert minigrad.device("cpu") != 3
    assert (minigrad.device("cpu") == "nonsense") is False


def test_get_array_module_returns_numpy_for_numpy():
    assert get_array_module(np.zeros(2)) is np
    assert get_array_module(np.zeros(2), 3.0, None) is np
    assert get_array_module() is np


def test_device_of_and_to_device_on_cpu():
    a = np.ones(3)
    assert device_of(a) == "cpu"
    assert to_device(a, device("cpu")) is a


def test_cuda_is_available_is_a_bool_and_does_not_raise():
    available = minigrad.cuda.is_available()
    assert isinstance(available, bool)
    assert minigrad.cuda.device_count() >= (1 if available else 0)
    if not available:
        assert minigrad.cuda.device_count() == 0


def test_cuda_transfer_error_says_what_is_missing():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA requested"):
        to_device(np.ones(2), device("cuda"))
