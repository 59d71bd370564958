"""Data types.  minigrad's dtypes *are* NumPy dtype objects (CuPy uses the same ones).

``minigrad.float32 == numpy.dtype('float32')``; PyTorch's aliases (``float``, ``double``,
``half``, ``long``, ``int``) name the same objects.  New floating tensors default to
float32, as in PyTorch.
"""

from __future__ import annotations

import builtins

import numpy

float16 = half = numpy.dtype("float16")
float32 = float = numpy.dtype("float32")  # noqa: A001 - PyTorch's name
float64 = double = numpy.dtype("float64")
int8 = numpy.dtype("int8")
uint8 = numpy.dtype("uint8")
int16 = short = numpy.dtype("int16")
int32 = int = numpy.dtype("int32")  # noqa: A001 - PyTorch's name
int64 = long = numpy.dtype("int64")
bool = numpy.dtype("bool")  # noqa: A001 - PyTorch's name

_default_float = float32


def get_default_dtype() -> numpy.dtype:
    """The dtype of new floating tensors (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the dtype of new floating tensors; only float16/32/64 are accepted."""
    global _default_float
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_float = d


def as_dtype(dtype) -> numpy.dtype:
    """Resolve ``dtype`` (a NumPy dtype, Python type such as ``float``, or a name) to a dtype."""
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as minigrad.float32, got {dtype!r}") from None


def is_floating_point(dtype) -> builtins.bool:
    return numpy.dtype(dtype).kind == "f"
