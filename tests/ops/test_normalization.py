"""Tests for ``minigrad/ops/normalization.py``: ``batch_norm`` and ``layer_norm``.

Both are compositions of primitives (no Function of their own), so the tests check the
values against NumPy float64 references, the running statistics (unbiased variance) after
several steps, and first and second derivatives with ``gradcheck``/``gradgradcheck`` over
drawn shapes, with and without the affine parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.ops.normalization import batch_norm, layer_norm
from minigrad.testing import gradcheck, gradgradcheck


def t64(a, requires_grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def ref_batch_norm_train(x, w, b, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


@st.composite
def batch_cases(draw, max_elements=24):
    n = draw(st.integers(2, 4))
    c = draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = (n, c) + spatial
    while np.prod(shape) > max_elements:
        shape = (shape[0] - 1,) + shape[1:] if shape[0] > 2 else shape[:-1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=shape) * rng.uniform(0.5, 3) + rng.uniform(-2, 2)
    affine = draw(st.booleans())
    w = rng.uniform(0.5, 2.0, c) if affine else None
    b = rng.normal(size=c) if affine else None
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    return x, w, b, eps


@given(case=batch_cases())
def test_batch_norm_training_values(case):
    x, w, b, eps = case
    out = batch_norm(t64(x), None, None, None if w is None else t64(w),
                     None if b is None else t64(b), training=True, eps=eps)
    np.testing.assert_allclose(out.numpy(), ref_batch_norm_train(x, w, b, eps), rtol=1e-10,
                               atol=1e-12)


@settings(max_examples=10)
@given(case=batch_cases(max_elements=12))
def test_batch_norm_training_gradients(case):
    x, w, b, eps = case
    inputs = [t64(x, True)] + [t64(p, True) for p in (w, b) if p is not None]

    def fn(a, *params):
        return batch_norm(a, None, None, *params, training=True, eps=eps)

    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


@settings(max_examples=10)
@given(case=batch_cases(max_elements=12))
def test_batch_norm_eval_uses_running_stats(case):
    x, w, b, eps = case
    c = x.shape[1]
    rng = np.random.default_rng(1)
    rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, c)
    shape = (1, c) + (1,) * (x.ndim - 2)
    expected = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    if w is not None:
        expected = expected * w.reshape(shape) + b.reshape(shape)
    params = [t64(p, True) for p in (w, b) if p is not None]
    out = batch_norm(t64(x), t64(rm), t64(rv), *[p.detach() for p in params], eps=eps)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)

    def fn(a, *ps):
        return batch_norm(a, t64(rm), t64(rv), *ps, training=False, eps=eps)

    assert gradcheck(fn, (t64(x, True), *params))


@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 5), (3, 2, 2, 3)])
def test_running_stats_after_several_steps(shape):
    """Running mean/var follow (1 - m) r + m s with the *unbiased* batch variance."""
    rng = np.random.default_rng(0)
    c = shape[1]
    rm, rv = minigrad.zeros(c, dtype=minigrad.float64), minigrad.ones(c, dtype=minigrad.float64)
    ref_m, ref_v = np.zeros(c), np.ones(c)
    axes = (0,) + tuple(range(2, len(shape)))
    momentum = 0.3
    for _ in range(4):
        x = rng.normal(size=shape) * 2 + 1
        batch_norm(t64(x, True), rm, rv, training=True, momentum=momentum)
        ref_m = (1 - momentum) * ref_m + momentum * x.mean(axis=axes)
        ref_v = (1 - momentum) * ref_v + momentum * x.var(axis=axes, ddof=1)
    assert not rm.requires_grad and not rv.requires_grad
    np.testing.assert_allclose(rm.numpy(), ref_m, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), ref_v, rtol=1e-12)


def test_running_stats_keep_their_dtype_and_identity():
    rm, rv = minigrad.zeros(2), minigrad.ones(2)
    data = rm._data
    batch_norm(t64(np.arange(8.0).reshape(4, 2)), rm, rv, training=True)
    assert rm.dtype == minigrad.float32 and rm._data is data
    np.testing.assert_allclose(rm.numpy(), [0.3, 0.4], rtol=1e-6)


# -- layer norm ---------------------------------------------------------------------------------
@st.composite
def layer_cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k:]
    if np.prod(normalized) == 1:  # variance 0: the gradient is all 0, fine but uninformative
        shape = shape[:-1] + (2,)
        normalized = shape[len(shape) - k:]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=shape) * 2
    affine = draw(st.sampled_from(["none", "weight", "both"]))
    w = rng.uniform(0.5, 2, normalized) if affine != "none" else None
    b = rng.normal(size=normalized) if affine == "both" else None
    return x, normalized, w, b, draw(st.sampled_from([1e-5, 0.1]))


@given(case=layer_cases())
def test_layer_norm_values(case):
    x, normalized, w, b, eps = case
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    expected = (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    if w is not None:
        expected = expected * w
    if b is not None:
        expected = expected + b
    out = layer_norm(t64(x), normalized, None if w is None else t64(w),
                     None if b is None else t64(b), eps)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=10)
@given(case=layer_cases())
def test_layer_norm_gradients(case):
    x, normalized, w, b, eps = case
    inputs = [t64(x, True)] + [t64(p, True) for p in (w, b) if p is not None]
    names = [n for n, p in (("weight", w), ("bias", b)) if p is not None]

    def fn(a, *params):
        return layer_norm(a, normalized, eps=eps, **dict(zip(names, params)))

    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


# -- errors -------------------------------------------------------------------------------------
def test_errors():
    x = minigrad.zeros(4, 3)
    with pytest.raises(RuntimeError, match=r"batch_norm: expected running_mean of shape \(3,\)"):
        batch_norm(x, minigrad.zeros(2), minigrad.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(minigrad.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean and running_var must be given"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C\)"):
        batch_norm(minigrad.zeros(3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"layer_norm: given normalized_shape=\[2\], "
                                           r"expected input with shape \[\*, 2\].*\(4, 3\)"):
        layer_norm(x, (2,))
    with pytest.raises(RuntimeError, match=r"layer_norm: expected weight of shape \(3,\)"):
        layer_norm(x, 3, weight=minigrad.ones(4))
