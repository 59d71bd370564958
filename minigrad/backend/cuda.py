"""CuPy backend.  CuPy is imported lazily: minigrad imports and runs without it.

Asking for CUDA where CuPy is missing, or where CuPy finds no GPU, raises an error that
says which of the two is the problem.
"""

from __future__ import annotations

import sys

_cupy = None
_import_error: Exception | None = None


def cupy_if_loaded():
    """CuPy if something already imported it (cheap: no import is attempted)."""
    return _cupy if _cupy is not None else sys.modules.get("cupy")


def _load():
    global _cupy, _import_error
    if _cupy is None and _import_error is None:
        try:
            import cupy

            _cupy = cupy
        except Exception as error:  # ImportError, or a broken CUDA install
            _import_error = error
    return _cupy


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    cupy = _load()
    if cupy is None:
        return 0
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


def require_cuda(index: int = 0):
    """Return CuPy, or raise a RuntimeError that says what is missing."""
    cupy = _load()
    if cupy is None:
        raise RuntimeError(
            "CUDA requested but CuPy is not installed (pip install 'minigrad[cuda]'); "
            f"importing cupy failed with: {_import_error}"
        )
    count = device_count()
    if count == 0:
        raise RuntimeError("CUDA requested but CuPy finds no NVIDIA GPU on this machine")
    if index >= count:
        raise RuntimeError(f"CUDA device {index} requested but only {count} GPU(s) are present")
    return cupy


def device_of(array):
    from minigrad.backend import device

    return device("cuda", array.device.id)


def to_numpy(array):
    return array.get()


def to_cuda(array, index: int):
    cupy = require_cuda(index)
    if isinstance(array, cupy.ndarray) and array.device.id == index:
        return array
    with cupy.cuda.Device(index):
        return cupy.asarray(array)


def synchronize() -> None:
    require_cuda().cuda.runtime.deviceSynchronize()


def erf(x):
    """Elementwise error function on the GPU (CuPy's special-function kernel)."""
    from cupyx.scipy.special import erf as cupy_erf

    return cupy_erf(x)


def scatter_add(out, key, values) -> None:
    """``out[key] += values``, adding repeated indices (cupyx's atomic scatter)."""
    import cupyx

    cupyx.scatter_add(out, key, values)
