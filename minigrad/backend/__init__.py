"""The one array-module switch.

Ops never import NumPy or CuPy to compute: they ask ``get_array_module(array)`` for
the module that owns the data (the ``xp`` idiom) and call the same API on it.  This
file also holds ``device`` (where a tensor lives) and moves arrays between devices.
"""

from __future__ import annotations

import numpy

from minigrad.backend import cuda as _cuda


def get_array_module(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    cupy = _cuda.cupy_if_loaded()
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor's data lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 1)``.

    Compares equal to its string form, so ``x.device == 'cpu'`` works.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        name, colon, number = type.partition(":")
        if colon:
            if index is not None:
                raise ValueError(f"device: index given twice in device({type!r}, {index})")
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(number)
        if name not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda[:index]', got {type!r}")
        if name == "cpu" and index not in (None, 0):
            raise ValueError(f"device: the CPU has no index {index}")
        self.type = name
        self.index = None if name == "cpu" else index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def kernel(name: str, array):
    """The backend's function ``name`` for where ``array`` lives (the one dispatch point).

    ``backend/cpu.py`` and ``backend/cuda.py`` define the heavy primitives under the same
    names and signatures: ``kernel("erf", x)(x)`` runs the NumPy or the CUDA version.
    """
    from minigrad.backend import cpu

    module = cpu if isinstance(array, numpy.ndarray) else _cuda
    try:
        return getattr(module, name)
    except AttributeError:
        raise NotImplementedError(f"{name}: no {module.__name__} implementation") from None


def device_of(array) -> device:
    """The device that holds ``array``."""
    if isinstance(array, numpy.ndarray):
        return CPU
    return _cuda.device_of(array)


def to_device(array, target: device):
    """Return ``array`` on ``target`` (the same object when it is already there)."""
    if target.type == "cpu":
        if isinstance(array, numpy.ndarray):
            return array
        return _cuda.to_numpy(array)
    return _cuda.to_cuda(array, target.index or 0)
