"""Tests of minigrad/ops/pooling.py (MaxPool, MaxPoolScatter, AvgPool, AvgPoolScatter;
max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d) and of the pooling primitives of
minigrad/backend/cpu.py.

Values and indices are checked against plain nested-loop float64 references written here,
with PyTorch's output-size rule (ceil_mode's last window must start inside the input or the
left padding); gradients against central finite differences.  Max-pool inputs are drawn
without ties (a permutation), so finite differences are valid; the tie rule (the first
maximum of the window wins) has its own test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.backend import cpu
from minigrad.ops.pooling import (
    AvgPool,
    AvgPoolScatter,
    MaxPool,
    MaxPoolScatter,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from minigrad.testing import gradcheck, gradgradcheck

MAX = {1: max_pool1d, 2: max_pool2d}
AVG = {1: avg_pool1d, 2: avg_pool2d}


def out_size(n, k, s, p, r, ceil_mode):
    """PyTorch's pooling output size."""
    span = n + 2 * p - r * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def reference_max_pool(x, k, s, p, r, ceil_mode):
    n, c, *spatial = x.shape
    out = [out_size(*a, ceil_mode) for a in zip(spatial, k, s, p, r)]
    values, indices = np.zeros((n, c, *out)), np.zeros((n, c, *out), dtype=np.int64)
    for b, ch in itertools.product(range(n), range(c)):
        for o in itertools.product(*map(range, out)):
            # no strict maximum (all padding): PyTorch names the first non-padding position
            first = [oi * si - pi + ri * max(0, -(-(pi - oi * si) // ri))
                     for oi, si, pi, ri in zip(o, s, p, r)]
            best, where = -np.inf, 0
            for q, m in zip(first, spatial):
                where = where * m + q
            for off in itertools.product(*map(range, k)):
                pos = [oi * si - pi + ki * ri for oi, si, pi, ki, ri in zip(o, s, p, off, r)]
                if all(0 <= q < m for q, m in zip(pos, spatial)):
                    v = x[(b, ch, *pos)]
                    if v > best:  # strictly greater: the first maximum wins
                        best, where = v, np.ravel_multi_index(pos, spatial)
            values[(b, ch, *o)], indices[(b, ch, *o)] = best, where
    return values, indices


def reference_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    n, c, *spatial = x.shape
    out = [out_size(*a, 1, ceil_mode) for a in zip(spatial, k, s, p)]
    y = np.zeros((n, c, *out))
    for b, ch in itertools.product(range(n), range(c)):
        for o in itertools.product(*map(range, out)):
            starts = [oi * si - pi for oi, si, pi in zip(o, s, p)]
            ends = [min(a + ki, m + pi) for a, ki, m, pi in zip(starts, k, spatial, p)]
            pool = math.prod(e - a for a, e in zip(starts, ends))
            lo = [max(a, 0) for a in starts]
            hi = [min(e, m) for e, m in zip(ends, spatial)]
            total = sum(x[(b, ch, *pos)]
                        for pos in itertools.product(*(range(a, e) for a, e in zip(lo, hi))))
            if divisor_override:
                divisor = divisor_override
            elif count_include_pad:
                divisor = pool
            else:
                divisor = math.prod(e - a for a, e in zip(lo, hi))
            y[(b, ch, *o)] = total / divisor
    return y


def reference_adaptive(x, sizes):
    n, c, *spatial = x.shape
    y = np.zeros((n, c, *sizes))
    for o in itertools.product(*map(range, sizes)):
        bins = [range((i * m) // q, -(-((i + 1) * m) // q)) for i, m, q in zip(o, spatial, sizes)]
        region = x[(slice(None), slice(None), *(slice(b.start, b.stop) for b in bins))]
        y[(slice(None), slice(None), *o)] = region.mean(axis=tuple(range(2, 2 + len(sizes))))
    return y


@st.composite
def pool_cases(draw, max_side=6, dilation=True):
    d = draw(st.sampled_from([1, 2]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    default_stride = draw(st.booleans())
    s = k if default_stride else tuple(draw(st.integers(1, 3)) for _ in range(d))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    r = tuple(draw(st.integers(1, 2)) for _ in range(d)) if dilation else (1,) * d
    ceil_mode = draw(st.booleans())
    lows = [max(1, ri * (ki - 1) + 1 - 2 * pi) for ki, pi, ri in zip(k, p, r)]
    spatial = tuple(draw(st.integers(low, max(low, max_side))) for low in lows)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # distinct values, at least 0.1 apart: no ties, so max-pool is differentiable there
    x = rng.permutation(math.prod(shape)).reshape(shape) * 0.1 - 1.0
    return d, x, (None if default_stride else s), k, s, p, r, ceil_mode


# -- max pooling ----------------------------------------------------------------------------------
@given(pool_cases())
def test_max_pool_values_and_indices_match_reference(case):
    d, x, stride, k, s, p, r, ceil_mode = case
    values, indices = MAX[d](mg.tensor(x, requires_grad=True), k, stride, p, r, ceil_mode,
                             return_indices=True)
    ref_values, ref_indices = reference_max_pool(x, k, s, p, r, ceil_mode)
    assert values.shape == ref_values.shape and indices.dtype == mg.int64
    np.testing.assert_array_equal(values.detach().numpy(), ref_values)
    np.testing.assert_array_equal(indices.numpy(), ref_indices)
    assert values.grad_fn.fn is MaxPool and not indices.requires_grad


@given(pool_cases(max_side=5))
def test_max_pool_gradcheck(case):
    d, x, stride, k, _, p, r, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    # a window wholly in the padding gives -inf, where finite differences mean nothing
    assume(np.isfinite(MAX[d](xt, k, stride, p, r, ceil_mode).detach().numpy()).all())
    assert gradcheck(lambda t: MAX[d](t, k, stride, p, r, ceil_mode), (xt,))


@settings(max_examples=10)
@given(pool_cases(max_side=4))
def test_max_pool_gradgradcheck(case):
    d, x, stride, k, _, p, r, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    # a window wholly in the padding gives -inf, where finite differences mean nothing
    assume(np.isfinite(MAX[d](xt, k, stride, p, r, ceil_mode).detach().numpy()).all())
    assert gradgradcheck(lambda t: MAX[d](t, k, stride, p, r, ceil_mode), (xt,))


def test_max_pool_backward_is_a_scatter_whose_backward_is_a_gather():
    x = mg.tensor(np.random.default_rng(0).permutation(32).reshape(1, 2, 4, 4) * 1.0,
                  requires_grad=True)
    y = max_pool2d(x, 3, stride=1)  # overlapping windows: some inputs win twice
    (gx,) = mg.autograd.grad(y.sum(), (x,))
    _, indices = max_pool2d(x, 3, stride=1, return_indices=True)
    counts = np.zeros(32)
    np.add.at(counts, (indices.numpy() + 16 * np.arange(2)[:, None, None]).ravel(), 1)
    np.testing.assert_array_equal(gx.detach().numpy().ravel(), counts)
    # with an upstream gradient that depends on x, the scatter is recorded in the graph
    (gx,) = mg.autograd.grad((y * y).sum(), (x,), create_graph=True)
    assert gx.grad_fn.fn is MaxPoolScatter
    g = mg.tensor(np.random.default_rng(1).standard_normal(y.shape), requires_grad=True)
    assert gradcheck(lambda t: MaxPoolScatter.apply(t, indices.numpy(), x.shape), (g,))
    assert gradgradcheck(lambda t: MaxPoolScatter.apply(t, indices.numpy(), x.shape), (g,))


def test_max_pool_ties_go_to_the_first_maximum_and_padding_never_wins():
    x = mg.full((1, 1, 4, 4), -5.0, dtype=mg.float64, requires_grad=True)
    values, indices = max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), -5.0)
    # the first in-input position of each window (row-major), never a padded one
    np.testing.assert_array_equal(indices.numpy()[0, 0], [[0, 1], [4, 5]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0],
                                  [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])


def test_max_pool_ceil_mode_drops_a_window_starting_in_the_right_padding():
    # n=5, k=2, s=2, p=1: ceil gives 4 windows, but the 4th starts at 6 - 1 = 5 >= n + p - 1
    x = mg.tensor(np.arange(5.0).reshape(1, 1, 5))
    assert max_pool1d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3)
    # n=6: the last (ceil) window starts inside the input and is kept
    x = mg.tensor(np.arange(6.0).reshape(1, 1, 6))
    y = max_pool1d(x, 4, 3, 0, ceil_mode=True)
    np.testing.assert_array_equal(y.numpy()[0, 0], [3.0, 5.0])


def test_max_pool_window_wholly_in_padding_gives_minus_inf_and_no_gradient():
    # dilation 2 with padding 1: the window of output 0 reads positions -1 and 1 of a 1-long input
    x = mg.tensor([[[3.0]]], dtype=mg.float64, requires_grad=True)
    values, indices = max_pool1d(x, 2, 1, 1, 2, return_indices=True)
    assert values.tolist() == [[[-np.inf]]] and indices.tolist() == [[[1]]]
    (gx,) = mg.autograd.grad(values.sum(), (x,))
    assert gx.tolist() == [[[0.0]]]
    g = mg.tensor([[[2.0]]], dtype=mg.float64, requires_grad=True)
    assert gradcheck(lambda t: MaxPoolScatter.apply(t, indices.numpy(), x.shape), (g,))
    assert gradgradcheck(lambda t: MaxPoolScatter.apply(t, indices.numpy(), x.shape), (g,))


def test_max_pool_unbatched_and_nan():
    x = np.arange(12.0).reshape(1, 3, 4)
    x[0, 0, 1] = np.nan
    y = max_pool2d(mg.tensor(x), 2)
    assert y.shape == (1, 1, 2)
    assert np.isnan(y.numpy()[0, 0, 0]) and y.numpy()[0, 0, 1] == 7.0
    assert max_pool1d(mg.tensor(np.arange(6.0).reshape(1, 6)), 3).tolist() == [[2.0, 5.0]]


# -- average pooling ------------------------------------------------------------------------------
@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, None, 1, 3, -2]))
def test_avg_pool_matches_reference(case, count_include_pad, divisor_override):
    d, x, stride, k, s, p, _, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    if d == 2:
        y = avg_pool2d(xt, k, stride, p, ceil_mode, count_include_pad, divisor_override)
    else:
        divisor_override = None
        y = avg_pool1d(xt, k, stride, p, ceil_mode, count_include_pad)
    expected = reference_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override)
    assert y.shape == expected.shape and y.grad_fn.fn is AvgPool
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)


@given(pool_cases(max_side=5, dilation=False), st.booleans())
def test_avg_pool_gradcheck(case, count_include_pad):
    d, x, stride, k, _, p, _, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: AVG[d](t, k, stride, p, ceil_mode, count_include_pad), (xt,))


@settings(max_examples=10)
@given(pool_cases(max_side=4, dilation=False), st.booleans())
def test_avg_pool_gradgradcheck_goes_through_its_scatter(case, count_include_pad):
    d, x, stride, k, _, p, _, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    y = AVG[d](xt, k, stride, p, ceil_mode)
    (gx,) = mg.autograd.grad((y * y).sum(), (xt,), create_graph=True)
    assert gx.grad_fn.fn is AvgPoolScatter
    assert gradgradcheck(lambda t: AVG[d](t, k, stride, p, ceil_mode, count_include_pad), (xt,))


def test_avg_pool_unbatched_and_float32():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    y = avg_pool2d(mg.tensor(x), 2)
    assert y.dtype == mg.float32
    np.testing.assert_array_equal(y.numpy(), [[[2.5, 4.5], [10.5, 12.5]]])


# -- adaptive average pooling ---------------------------------------------------------------------
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.integers(1, 7),
       st.booleans(), st.integers(0, 2**16))
def test_adaptive_avg_pool_matches_pytorch_bins(h, w, oh, ow, keep_width, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    xt = mg.tensor(x, requires_grad=True)
    size = (oh, None) if keep_width else (oh, ow)
    y = adaptive_avg_pool2d(xt, size)
    expected = reference_adaptive(x, (oh, w if keep_width else ow))
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    y1 = adaptive_avg_pool1d(mg.tensor(x[:, :, 0]), ow)
    np.testing.assert_allclose(y1.numpy(), reference_adaptive(x[:, :, 0], (ow,)), rtol=1e-12)
    small = mg.tensor(x[:1, :1], requires_grad=True)
    assert gradcheck(lambda t: adaptive_avg_pool2d(t, size), (small,))


def test_adaptive_avg_pool_int_size_and_unbatched():
    x = mg.tensor(np.arange(25.0).reshape(1, 5, 5))
    y = adaptive_avg_pool2d(x, 1)
    assert y.shape == (1, 1, 1) and y.item() == pytest.approx(12.0, rel=1e-14)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: max_pool2d(mg.randn(1, 1, 5, 5), 3, padding=2), ValueError,
         r"max_pool2d: padding should be at most half of the kernel size"),
        (lambda: max_pool2d(mg.randn(1, 1, 2, 2), 3), RuntimeError,
         r"max_pool2d: output size \(0, 0\) is too small for input of shape \(1, 1, 2, 2\)"),
        (lambda: max_pool2d(mg.randn(5, 5), 2), RuntimeError,
         r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
        (lambda: max_pool1d(mg.randn(1, 1, 5), 0), ValueError,
         r"max_pool1d: kernel_size must be positive"),
        (lambda: avg_pool2d(mg.randn(1, 1, 5, 5), (2, 2, 2)), ValueError,
         r"avg_pool2d: expected kernel_size to be an int or 2 ints"),
        (lambda: avg_pool2d(mg.randn(1, 1, 5, 5), 2, divisor_override=0), ValueError,
         r"avg_pool2d: divisor_override must be a non-zero int"),
        (lambda: avg_pool2d(mg.ones(1, 1, 4, 4, dtype=mg.int64), 2), RuntimeError,
         r"avg_pool2d: expected a floating-point input"),
        (lambda: adaptive_avg_pool2d(mg.randn(1, 1, 5, 5), (2, 0)), ValueError,
         r"adaptive_avg_pool2d: output_size must hold positive ints or None"),
        (lambda: adaptive_avg_pool2d(mg.randn(1, 1, 5, 5), (1, 2, 3)), ValueError,
         r"adaptive_avg_pool2d: expected output_size to be an int or 2 values"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the primitives -------------------------------------------------------------------------------
@given(pool_cases(dilation=False))
def test_avg_pool_backward_is_the_adjoint_of_avg_pool_forward(case):
    _, x, _, k, s, p, _, _ = case
    pads = tuple((pi, pi + 2) for pi in p)  # any (before, after) pairs
    divisor = np.float64(3.0)
    y = cpu.avg_pool_forward(x, k, s, pads, divisor)
    g = np.random.default_rng(0).standard_normal(y.shape)
    back = cpu.avg_pool_backward(g, x.shape, k, s, pads, divisor)
    np.testing.assert_allclose(np.sum(back * x), np.sum(g * y), rtol=1e-10, atol=1e-10)


def test_max_pool_backward_adds_up_overlapping_windows():
    indices = np.array([[[0, 0, 2]]])
    grad = np.array([[[1.0, 2.0, 4.0]]])
    np.testing.assert_array_equal(cpu.max_pool_backward(grad, indices, (1, 1, 3)),
                                  [[[3.0, 0.0, 4.0]]])
    values, index = cpu.max_pool_forward(np.array([[[1, 7, 3]]], dtype=np.int32), (2,), (1,),
                                         ((1, 1),), (1,))
    assert values.tolist() == [[[1, 7, 7, 3]]] and index.tolist() == [[[0, 1, 1, 2]]]
