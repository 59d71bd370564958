"""Functions that create tensors: from data, filled with a value, ranges, random draws.

Each takes PyTorch's keywords ``dtype``, ``device`` and ``requires_grad``; sizes may be
given as ``zeros(2, 3)`` or ``zeros((2, 3))``.  Random draws come from ``minigrad.random``.
"""

from __future__ import annotations

import numpy

from minigrad import dtypes
from minigrad.backend import CPU, device, to_device
from minigrad.ops.shape import _shape_arg
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor, _to_array


def _finish(array, dtype, device_, requires_grad) -> Tensor:
    """Cast host-made ``array``, move it to its device and wrap it."""
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype), copy=False)
    if device_ is not None and device(device_) != CPU:
        array = to_device(array, device(device_))
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats -> float32, ints -> int64)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an array (or Tensor) when no conversion is needed."""
    if isinstance(data, Tensor) and dtype in (None, data.dtype) and device in (None, data.device):
        return data
    return Tensor._make(_to_array(data, dtype, device, copy=False))


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def _filled(size, value, dtype, device_, requires_grad) -> Tensor:
    shape = _shape_arg(size)
    if dtype is None:
        dtype = dtypes.get_default_dtype() if isinstance(value, float) else dtypes.as_dtype(
            type(value)
        )
    return _finish(numpy.full(shape, value, dtype=dtypes.as_dtype(dtype)), None, device_,
                   requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 0.0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 1.0, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uninitialised in PyTorch; zero-filled here (NumPy's ``empty`` would leak old memory)."""
    return _filled(size, 0.0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype is inferred from the value)."""
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype, device,
                   requires_grad)


def _like(input: Tensor, value, dtype, device_, requires_grad) -> Tensor:
    return _filled(input.shape, value, dtype or input.dtype, device_ or input.device,
                   requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, 0, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, 1, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, 0, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(input, fill_value, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False):
    """Values from ``start`` (default 0) up to but excluding ``end``, spaced by ``step``."""
    if end is None:
        start, end = 0, start
    values = numpy.arange(start, end, step)
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if floating else dtypes.int64
    return _finish(values, dtype, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    values = numpy.linspace(start, end, steps)
    return _finish(values, dtype or dtypes.get_default_dtype(), device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False):
    """The identity matrix (``n`` x ``m``)."""
    return _finish(numpy.eye(n, m), dtype or dtypes.get_default_dtype(), device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """Uniform draws from [0, 1)."""
    values = numpy_generator(generator).random(_shape_arg(size))
    return _finish(values, dtype or dtypes.get_default_dtype(), device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """Standard normal draws."""
    values = numpy_generator(generator).standard_normal(_shape_arg(size))
    return _finish(values, dtype or dtypes.get_default_dtype(), device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False):
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` starts at 0)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    values = numpy_generator(generator).integers(low, high, tuple(size))
    return _finish(values, dtype or dtypes.int64, device, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """A random permutation of 0..n-1."""
    values = numpy_generator(generator).permutation(n)
    return _finish(values, dtype or dtypes.int64, device, requires_grad)


def rand_like(input, generator=None, dtype=None, device=None, requires_grad: bool = False):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, generator=None, dtype=None, device=None, requires_grad: bool = False):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)
