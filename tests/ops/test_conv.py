"""Tests of minigrad/ops/conv.py (Conv, ConvInputGrad, ConvWeightGrad; conv1d, conv2d) and of
the im2col/col2im primitives of minigrad/backend/cpu.py.

Values are checked against a plain nested-loop float64 reference written here; gradients
(first and second order) against central finite differences, on tiny drawn sizes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.backend import cpu
from minigrad.ops.conv import Conv, ConvInputGrad, ConvWeightGrad, conv1d, conv2d
from minigrad.testing import gradcheck, gradgradcheck

CONV = {1: conv1d, 2: conv2d}


def reference_conv(x, w, b, stride, padding, dilation, groups):
    """Direct definition, one output element at a time. ``padding``: (before, after) pairs."""
    n, c_in, *spatial = x.shape
    c_out, c_group, *kernel = w.shape
    d = len(spatial)
    xp = np.pad(x, [(0, 0), (0, 0), *padding])
    out = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
           for i in range(d)]
    y = np.zeros((n, c_out, *out))
    per_group = c_out // groups
    for s in range(n):
        for o in range(c_out):
            g = o // per_group
            for pos in itertools.product(*map(range, out)):
                acc = 0.0 if b is None else b[o]
                for c in range(c_group):
                    for k in itertools.product(*map(range, kernel)):
                        at = tuple(p * st_ + kk * r
                                   for p, st_, kk, r in zip(pos, stride, k, dilation))
                        acc += w[(o, c) + k] * xp[(s, g * c_group + c) + at]
                y[(s, o) + pos] = acc
    return y


@st.composite
def conv_cases(draw, max_side=5, dims=(1, 2)):
    """A small convolution problem: shapes and hyper-parameters, every combination legal."""
    d = draw(st.sampled_from(dims))
    groups = draw(st.integers(1, 3))
    depthwise = draw(st.booleans())
    c_group = 1 if depthwise else draw(st.integers(1, 2))
    c_out = groups * (draw(st.integers(1, 2)))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    stride = (1,) * d if kind == "same" else tuple(draw(st.integers(1, 3)) for _ in range(d))
    if kind == "int":
        p = draw(st.integers(0, 2))
        padding, pairs = p, ((p, p),) * d
    elif kind == "tuple":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
        pairs = tuple((p, p) for p in padding)
    elif kind == "valid":
        padding, pairs = "valid", ((0, 0),) * d
    else:  # PyTorch: total r (k - 1), the odd one on the right
        padding = "same"
        pairs = tuple((r * (k - 1) // 2, r * (k - 1) - r * (k - 1) // 2)
                      for k, r in zip(kernel, dilation))
    spatial = tuple(
        draw(st.integers(max(1, r * (k - 1) + 1 - lo - hi), max(max_side, r * (k - 1) + 1)))
        for k, r, (lo, hi) in zip(kernel, dilation, pairs)
    )
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * c_group, *spatial))
    w = rng.standard_normal((c_out, c_group, *kernel))
    b = rng.standard_normal(c_out) if bias else None
    return d, x, w, b, stride, padding, pairs, dilation, groups


def tensors(*arrays):
    return [None if a is None else mg.tensor(a, requires_grad=True) for a in arrays]


@given(conv_cases())
def test_conv_matches_nested_loop_reference(case):
    d, x, w, b, stride, padding, pairs, dilation, groups = case
    xt, wt, bt = tensors(x, w, b)
    y = CONV[d](xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = reference_conv(x, w, b, stride, pairs, dilation, groups)
    assert y.shape == expected.shape and y.dtype == mg.float64
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert y.grad_fn.fn is Conv
    # inputs untouched
    np.testing.assert_array_equal(xt.detach().numpy(), x)


@given(conv_cases(max_side=4))
def test_conv_gradcheck(case):
    d, x, w, b, stride, padding, _, dilation, groups = case
    inputs = [t for t in tensors(x, w, b) if t is not None]

    def f(*args):
        bias = args[2] if len(args) == 3 else None
        return CONV[d](args[0], args[1], bias, stride, padding, dilation, groups)

    assert gradcheck(f, inputs)


@settings(max_examples=8)
@given(conv_cases(max_side=3))
def test_conv_gradgradcheck(case):
    d, x, w, b, stride, padding, _, dilation, groups = case
    inputs = [t for t in tensors(x[:1], w, b) if t is not None]

    def f(*args):
        bias = args[2] if len(args) == 3 else None
        return CONV[d](args[0], args[1], bias, stride, padding, dilation, groups)

    assert gradgradcheck(f, inputs)


def test_gradient_functions_are_their_own_differentiable_ops():
    rng = np.random.default_rng(0)
    x, w = tensors(rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3)))
    y = conv2d(x, w, stride=2, padding=1)
    (gx, gw) = mg.autograd.grad((y * y).sum(), (x, w), create_graph=True)
    # d(y^2)/dy = 2y goes through the transposed conv and the weight-gradient op
    names = set()
    stack = [gx.grad_fn, gw.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or not hasattr(node, "fn"):
            continue
        names.add(node.fn)
        stack.extend(e[0] for e in node.next_functions if e is not None)
    assert ConvInputGrad in names and ConvWeightGrad in names
    # ConvInputGrad and ConvWeightGrad on their own, both arguments differentiable
    g = mg.tensor(rng.standard_normal(y.shape), requires_grad=True)
    params = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)

    def input_grad(g_, w_):
        return ConvInputGrad.apply(g_, w_, x.shape, *params)

    def weight_grad(g_, x_):
        return ConvWeightGrad.apply(g_, x_, w.shape, *params, None)

    assert gradcheck(input_grad, (g, w)) and gradcheck(weight_grad, (g, x))


def test_backward_twice_with_retained_graph_gives_the_same_gradient():
    rng = np.random.default_rng(1)
    x, w, b = tensors(rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)),
                      rng.standard_normal(4))
    y = conv2d(x, w, b, padding=1).sum()
    y.backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    y.backward()  # the cached columns were used once: now they are recomputed
    for t, g in zip((x, w, b), first):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-13)


def test_same_padding_puts_the_odd_zero_on_the_right():
    x = np.arange(5.0).reshape(1, 1, 5)
    w = np.ones((1, 1, 4))
    y = conv1d(mg.tensor(x), mg.tensor(w), padding="same")
    # total padding 3: one zero on the left, two on the right
    np.testing.assert_array_equal(y.numpy()[0, 0], [0 + 1 + 2, 0 + 1 + 2 + 3, 1 + 2 + 3 + 4,
                                                    2 + 3 + 4, 3 + 4])


def test_depthwise_convolution_convolves_each_channel_alone():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((3, 1, 3, 3))
    y = conv2d(mg.tensor(x), mg.tensor(w), padding=1, groups=3).numpy()
    for c in range(3):
        alone = conv2d(mg.tensor(x[:, c:c + 1]), mg.tensor(w[c:c + 1]), padding=1).numpy()
        np.testing.assert_allclose(y[:, c:c + 1], alone, rtol=1e-13)


def test_unbatched_input_and_float32():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 2)).astype(np.float32)
    y = conv2d(mg.tensor(x), mg.tensor(w))
    assert y.shape == (4, 4, 4) and y.dtype == mg.float32
    expected = reference_conv(x[None].astype(np.float64), w.astype(np.float64), None,
                              (1, 1), ((0, 0), (0, 0)), (1, 1), 1)[0]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert conv1d(mg.tensor(x[:, :, 0]), mg.tensor(w[:, :, :, 0])).shape == (4, 4)


def test_output_can_be_viewed_after_the_convolution():
    y = conv2d(mg.randn(2, 3, 5, 5), mg.randn(4, 3, 3, 3))
    assert y.view(2, -1).shape == (2, 36)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conv2d(mg.randn(8, 1, 28, 28), mg.randn(4, 3, 3, 3)), RuntimeError,
         r"conv2d: expected input of shape \(N, C_in=3, H, W\).*got \(8, 1, 28, 28\)"),
        (lambda: conv2d(mg.randn(28, 28), mg.randn(4, 1, 3, 3)), RuntimeError,
         r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input.*\(28, 28\)"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(4, 1, 3)), RuntimeError,
         r"conv2d: expected a 4-D weight of shape \(C_out, C_in / groups, H, W\)"),
        (lambda: conv2d(mg.randn(1, 4, 5, 5), mg.randn(3, 2, 3, 3), groups=2), RuntimeError,
         r"conv2d: the weight's C_out=3 .* not divisible by groups=2"),
        (lambda: conv2d(mg.randn(1, 1, 3, 3), mg.randn(1, 1, 5, 5), padding=0), RuntimeError,
         r"conv2d: kernel size \(5, 5\) .* larger than the padded input \(3, 3\)"),
        (lambda: conv1d(mg.randn(1, 1, 3), mg.randn(1, 1, 3), dilation=2, padding=0),
         RuntimeError, r"conv1d: kernel size \(3,\) \(dilated extent \(5,\)\)"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3), stride=2, padding="same"),
         ValueError, r"conv2d: padding='same' is not supported for strided convolutions"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3), padding="full"),
         ValueError, r"conv2d: invalid padding string 'full'"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3), padding=-1),
         ValueError, r"conv2d: padding must be non-negative"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3), stride=0),
         ValueError, r"conv2d: stride must be positive"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3), stride=(1, 2, 3)),
         ValueError, r"conv2d: expected stride to be an int or 2 ints"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(2, 1, 3, 3), mg.randn(3)),
         RuntimeError, r"conv2d: expected bias of shape \(2,\)"),
        (lambda: conv2d(mg.randn(1, 1, 5, 5), mg.randn(1, 1, 3, 3, dtype=mg.float64)),
         RuntimeError, r"conv2d: expected floating-point input and weight of the same dtype"),
        (lambda: conv2d(mg.randn(1, 2, 5, 5), mg.randn(2, 1, 3, 3), groups=0),
         ValueError, r"conv2d: groups must be a positive int"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the primitives ---------------------------------------------------------------------------
@given(conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    d, x, w, _, stride, _, pairs, dilation, _ = case
    kernel = w.shape[2:]
    cols = cpu.im2col(x, kernel, stride, pairs, dilation)
    rng = np.random.default_rng(0)
    g = rng.standard_normal(cols.shape)
    image = cpu.col2im(g, x.shape, kernel, stride, pairs, dilation)
    assert image.shape == x.shape
    np.testing.assert_allclose(np.sum(image * x), np.sum(g * cols), rtol=1e-10, atol=1e-10)


def test_im2col_layout_matches_its_definition():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4, 5))
    kernel, stride, pads, dilation = (2, 3), (2, 1), ((1, 0), (0, 2)), (1, 2)
    cols = cpu.im2col(x, kernel, stride, pads, dilation)
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    out = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
           for i in range(2)]
    assert cols.shape == (3 * 6, 2 * out[0] * out[1]) and cols.flags.c_contiguous
    for c, p, q, n, i, j in itertools.product(range(3), range(2), range(3), range(2),
                                              range(out[0]), range(out[1])):
        row = (c * 2 + p) * 3 + q
        col = (n * out[0] + i) * out[1] + j
        assert cols[row, col] == xp[n, c, i * 2 + p, j + q * 2]
