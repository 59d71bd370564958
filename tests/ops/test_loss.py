"""Tests for ``minigrad/ops/loss.py``: the Functions ``SoftmaxCrossEntropy``,
``NegLogLikelihood`` and ``BinaryCrossEntropy`` and the composed losses.

Values are checked against NumPy float64 references written here from the documented
formulas (PyTorch's weighted mean, its label-smoothing rule); gradients with ``gradcheck``
and ``gradgradcheck`` in float64 over drawn shapes, classes, reductions, weights,
``ignore_index`` and label smoothing.  Then stability at logits of ±1e4, BCE's clamp, and
the error messages.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.ops import loss as L
from minigrad.testing import gradcheck, gradgradcheck

F64 = minigrad.float64
REDUCTIONS = ["none", "mean", "sum"]


def t64(a, requires_grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _reduce(per, reduction, divisor=None):
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    with np.errstate(invalid="ignore"):  # 0/0 when every target is ignored, as PyTorch
        return per.sum() / (per.size if divisor is None else divisor)


# -- NumPy references ---------------------------------------------------------------------------
def _classes_last(x):
    """(C,) -> (1, C); (N, C, d...) -> (N*d..., C): one row per sample."""
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def ref_cross_entropy(x, target, weight, ignore_index, reduction, smoothing):
    """PyTorch's cross_entropy, written sample by sample from its definition."""
    rows = _classes_last(x)
    classes = rows.shape[1]
    w = np.ones(classes) if weight is None else weight
    log_p = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
    out_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if target.shape == x.shape:  # probabilities
        probs = _classes_last(target) * (1 - smoothing) + smoothing / classes
        per = -(probs * w * log_p).sum(axis=1)
        return _reduce(per.reshape(out_shape), reduction, divisor=per.size)
    labels = target.reshape(-1)
    per, total = np.zeros(len(labels)), 0.0
    for i, y in enumerate(labels):
        if y == ignore_index:
            continue
        nll = -w[y] * log_p[i, y]
        smooth = -(w * log_p[i]).sum() / classes
        per[i] = (1 - smoothing) * nll + smoothing * smooth
        total += w[y]
    return _reduce(per.reshape(out_shape), reduction, divisor=total)


def ref_nll(x, target, weight, ignore_index, reduction):
    rows = _classes_last(x)
    w = np.ones(rows.shape[1]) if weight is None else weight
    labels = target.reshape(-1)
    per, total = np.zeros(len(labels)), 0.0
    for i, y in enumerate(labels):
        if y != ignore_index:
            per[i], total = -w[y] * rows[i, y], total + w[y]
    out_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    return _reduce(per.reshape(out_shape), reduction, divisor=total)


def ref_bce(x, t, w):
    out = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return out if w is None else out * w


def ref_bce_logits(x, t, w, pos_weight):
    p = 1.0 if pos_weight is None else pos_weight
    sig = 1 / (1 + np.exp(-x))
    out = -(p * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    return out if w is None else out * w


# -- hypothesis: cross-entropy and NLL ----------------------------------------------------------
@st.composite
def classification_cases(draw, probabilities=None):
    """Input, target and options of one cross-entropy call (small: full Jacobians)."""
    classes = draw(st.integers(2, 4))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    if layout == "unbatched":
        shape = (classes,)
    elif layout == "batched":
        shape = (draw(st.integers(1, 4)), classes)
    else:
        shape = (draw(st.integers(1, 2)), classes, draw(st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(-5, 5, shape)
    if probabilities is None:
        probabilities = draw(st.booleans())
    weight = rng.uniform(0.2, 2.0, classes) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.35, 1.0]))
    reduction = draw(st.sampled_from(REDUCTIONS))
    if probabilities:
        target = rng.dirichlet(np.ones(classes), size=shape[:1] + shape[2:] if len(shape) > 1
                               else ())
        target = np.moveaxis(target, -1, 1) if len(shape) > 1 else target
        ignore_index = -100
    else:
        target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
        target = rng.integers(0, classes, target_shape)
        ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
        if ignore_index >= 0:
            # keep at least one target that counts, so the mean is defined
            target.reshape(-1)[0] = (ignore_index + 1) % classes
    return x, target, weight, ignore_index, reduction, smoothing


def _call_cross_entropy(case, requires_grad=False, target_grad=False):
    x, target, weight, ignore_index, reduction, smoothing = case
    xt = t64(x, requires_grad)
    tt = (t64(target, target_grad) if target.dtype.kind == "f"
          else minigrad.tensor(target, dtype=minigrad.int64))
    wt = None if weight is None else t64(weight)
    fn = lambda a, b: L.cross_entropy(  # noqa: E731
        a, b, weight=wt, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=smoothing)
    return fn, xt, tt


@given(case=classification_cases())
def test_cross_entropy_matches_reference(case):
    fn, x, t = _call_cross_entropy(case)
    out = fn(x, t)
    expected = ref_cross_entropy(*case[:2], case[2], case[3], case[4], case[5])
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(case=classification_cases())
def test_cross_entropy_gradients(case):
    """``SoftmaxCrossEntropy``: first and second order, in the logits and, for probability
    targets, in the target too."""
    soft = case[1].dtype.kind == "f"
    fn, x, t = _call_cross_entropy(case, requires_grad=True, target_grad=soft)
    inputs = (x, t)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@given(case=classification_cases(probabilities=False))
def test_nll_loss_matches_reference(case):
    x, target, weight, ignore_index, reduction, _ = case
    log_p = x - np.log(np.exp(x).sum(axis=0 if x.ndim == 1 else 1, keepdims=True))
    wt = None if weight is None else t64(weight)
    out = L.nll_loss(t64(log_p), minigrad.tensor(target), weight=wt, ignore_index=ignore_index,
                     reduction=reduction)
    expected = ref_nll(log_p, target, weight, ignore_index, reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=10)
@given(case=classification_cases(probabilities=False))
def test_nll_loss_gradients(case):
    """``NegLogLikelihood``: gradcheck and gradgradcheck."""
    x, target, weight, ignore_index, reduction, _ = case
    wt = None if weight is None else t64(weight)
    tt = minigrad.tensor(target)
    fn = lambda a: L.nll_loss(a, tt, wt, ignore_index=ignore_index,  # noqa: E731
                              reduction=reduction)
    xt = t64(x, True)
    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))


def test_cross_entropy_equals_nll_of_log_softmax():
    rng = np.random.default_rng(0)
    x = t64(rng.normal(size=(5, 4)))
    t = minigrad.tensor([0, 3, 1, 1, 2])
    a = L.cross_entropy(x, t)
    b = L.nll_loss(x.log_softmax(1), t)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)


def test_weighted_mean_with_ignore_index_and_smoothing_by_hand():
    """One case computed by hand: PyTorch divides both the NLL and the smoothing term by
    the summed weights of the targets that are not ignored."""
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0]])
    t = np.array([1, 2, 0])
    w = np.array([0.5, 2.0, 1.0])
    eps = 0.2
    lp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    # sample 2 (target 0) is ignored
    loss0 = (1 - eps) * -2.0 * lp[0, 1] + eps / 3 * -(w * lp[0]).sum()
    loss1 = (1 - eps) * -1.0 * lp[1, 2] + eps / 3 * -(w * lp[1]).sum()
    expected = (loss0 + loss1) / (2.0 + 1.0)
    out = L.cross_entropy(t64(x), minigrad.tensor(t), weight=t64(w), ignore_index=0,
                          label_smoothing=eps)
    np.testing.assert_allclose(out.item(), expected, rtol=1e-13)
    # ... and the unreduced rows
    out = L.cross_entropy(t64(x), minigrad.tensor(t), weight=t64(w), ignore_index=0,
                          label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(out.numpy(), [loss0, loss1, 0.0], rtol=1e-13)


def test_probability_targets_mean_divides_by_samples_not_weights():
    x = np.array([[1.0, 2.0], [0.5, -0.5]])
    p = np.array([[0.25, 0.75], [1.0, 0.0]])
    w = np.array([3.0, 0.5])
    lp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    expected = -(w * p * lp).sum() / 2
    out = L.cross_entropy(t64(x), t64(p), weight=t64(w))
    np.testing.assert_allclose(out.item(), expected, rtol=1e-13)


def test_all_targets_ignored_gives_nan_mean_like_pytorch():
    out = L.cross_entropy(t64([[1.0, 2.0]]), minigrad.tensor([1]), ignore_index=1)
    assert np.isnan(out.item())
    assert L.cross_entropy(t64([[1.0, 2.0]]), minigrad.tensor([1]), ignore_index=1,
                           reduction="sum").item() == 0.0


# -- numerical care ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_cross_entropy_finite_at_extreme_logits(dtype):
    x = minigrad.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype, requires_grad=True)
    t = minigrad.tensor([1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = L.cross_entropy(x, t, reduction="sum", label_smoothing=0.1)
        loss.backward()
    # sample 0: -log p_1 = 2e4; sample 1: -log p_2 = 0; smoothing: eps/3 * sum_c -log p_c
    expected = 0.9 * 2e4 + 0.1 / 3 * (0 + 2e4 + 1e4) + 0.1 / 3 * (2e4 + 2e4 + 0)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    assert np.all(np.isfinite(x.grad.numpy()))
    # softmax - q: [1, 0, 0] - [.1/3, .9 + .1/3, .1/3] for sample 0
    np.testing.assert_allclose(x.grad.numpy()[0], [1 - 0.1 / 3, -0.9 - 0.1 / 3, -0.1 / 3],
                               rtol=1e-6)


def test_nll_ignores_minus_inf_outside_the_target():
    x = minigrad.tensor([[0.0, -np.inf], [-np.inf, -1.0]], dtype=F64, requires_grad=True)
    out = L.nll_loss(x, minigrad.tensor([0, 1]))
    assert out.item() == 0.5
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[-0.5, 0.0], [0.0, -0.5]])


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = minigrad.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64, requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = L.binary_cross_entropy(x, t, reduction="none")
        out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    # PyTorch's gradient: (x - t) / max(x (1 - x), 1e-12): finite at 0 and 1
    np.testing.assert_array_equal(x.grad.numpy(), [-1e12, 1e12, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_bce_with_logits_stable_at_extremes(dtype):
    x = minigrad.tensor([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype, requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = L.binary_cross_entropy_with_logits(x, t, reduction="none")
        out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), [0.0, 0.0, 1e4, 1e4, np.log(2)],
                               rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0, -0.5], rtol=1e-6)


# -- hypothesis: binary and regression losses ---------------------------------------------------
@st.composite
def elementwise_cases(draw, low=-3.0, high=3.0):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(low, high, shape)
    t = rng.uniform(low, high, shape)
    return x, t, draw(st.sampled_from(REDUCTIONS)), rng


@settings(max_examples=12)
@given(case=elementwise_cases(0.02, 0.98), weighted=st.booleans())
def test_binary_cross_entropy_values_and_gradients(case, weighted):
    """``BinaryCrossEntropy``: values, then gradients in input, target and weight."""
    x, t, reduction, rng = case
    w = rng.uniform(0.5, 2.0, x.shape[-1:] if x.ndim else ()) if weighted else None
    wt = None if w is None else t64(w, True)
    out = L.binary_cross_entropy(t64(x), t64(t), weight=None if w is None else t64(w),
                                 reduction=reduction)
    np.testing.assert_allclose(out.numpy(), _reduce(ref_bce(x, t, w), reduction), rtol=1e-12)
    inputs = (t64(x, True), t64(t, True)) + ((wt,) if weighted else ())
    fn = lambda a, b, *c: L.binary_cross_entropy(  # noqa: E731
        a, b, weight=c[0] if c else None, reduction=reduction)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@settings(max_examples=12)
@given(case=elementwise_cases(), weighted=st.booleans(), positive=st.booleans())
def test_bce_with_logits_values_and_gradients(case, weighted, positive):
    x, t, reduction, rng = case
    t = (t + 3) / 6  # targets in [0, 1]
    side = x.shape[-1:] if x.ndim else ()
    w = rng.uniform(0.5, 2.0, side) if weighted else None
    p = rng.uniform(0.5, 3.0, side) if positive else None
    extra = tuple(t64(a, True) for a in (w, p) if a is not None)

    def fn(a, b, *rest):
        rest = list(rest)
        return L.binary_cross_entropy_with_logits(
            a, b, weight=rest.pop(0) if weighted else None, reduction=reduction,
            pos_weight=rest.pop(0) if positive else None)

    out = fn(t64(x), t64(t), *(e.detach() for e in extra))
    expected = _reduce(ref_bce_logits(x, t, w, p), reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    inputs = (t64(x, True), t64(t, True)) + extra
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def _huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


REGRESSION = [
    ("mse_loss", lambda x, t, r, k: L.mse_loss(x, t, reduction=r), lambda d, k: d * d),
    ("l1_loss", lambda x, t, r, k: L.l1_loss(x, t, reduction=r), lambda d, k: np.abs(d)),
    ("huber_loss", lambda x, t, r, k: L.huber_loss(x, t, reduction=r, delta=k),
     lambda d, k: _huber(d, k)),
    ("smooth_l1_loss", lambda x, t, r, k: L.smooth_l1_loss(x, t, reduction=r, beta=k),
     lambda d, k: _huber(d, k) / k),
    ("smooth_l1_loss-beta0", lambda x, t, r, k: L.smooth_l1_loss(x, t, reduction=r, beta=0.0),
     lambda d, k: np.abs(d)),
]


@pytest.mark.parametrize("op, ref", [r[1:] for r in REGRESSION], ids=[r[0] for r in REGRESSION])
@settings(max_examples=15)
@given(case=elementwise_cases(), knob=st.floats(0.3, 2.0))
def test_regression_losses(op, ref, case, knob):
    x, t, reduction, _ = case
    d = x - t
    # keep |d| away from the kinks at 0 and at delta/beta (finite differences cross them)
    d = np.where(np.abs(d) < 1e-3, 1e-3 + d, d)
    d = np.where(np.abs(np.abs(d) - knob) < 1e-3, d * 1.01, d)
    x = t + d
    out = op(t64(x), t64(t), reduction, knob)
    np.testing.assert_allclose(out.numpy(), _reduce(ref(d, knob), reduction), rtol=1e-12,
                               atol=1e-15)
    inputs = (t64(x, True), t64(t, True))
    fn = lambda a, b: op(a, b, reduction, knob)  # noqa: E731
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_regression_loss_broadcasts_with_a_warning_like_pytorch():
    x, t = t64(np.ones((3, 2))), t64(np.zeros((2,)))
    with pytest.warns(UserWarning, match="mse_loss: using a target size"):
        out = L.mse_loss(x, t)
    assert out.item() == 1.0
    with pytest.raises(ValueError, match=r"l1_loss: the target shape \(4,\) .* \(3, 2\)"):
        L.l1_loss(x, t64(np.zeros(4)))


def test_deprecated_size_average_and_reduce():
    x, t = t64([1.0, 3.0]), t64([0.0, 0.0])
    with pytest.warns(UserWarning, match="deprecated"):
        assert L.mse_loss(x, t, size_average=False).item() == 10.0
    with pytest.warns(UserWarning, match="deprecated"):
        assert L.mse_loss(x, t, reduce=False).shape == (2,)


# -- errors ------------------------------------------------------------------------------------
def test_cross_entropy_target_out_of_range_names_value_and_classes():
    x = t64(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds for 3 "
                                         r"classes.*input shape \(2, 3\), target shape \(2,\)"):
        L.cross_entropy(x, minigrad.tensor([0, 3]))
    with pytest.raises(IndexError, match="nll_loss: target -1 is out of bounds"):
        L.nll_loss(x, minigrad.tensor([-1, 0]))
    # an ignored target may be anything
    assert np.isfinite(L.cross_entropy(x, minigrad.tensor([0, -100])).item())


@pytest.mark.parametrize("target, error, message", [
    (minigrad.tensor([0, 1, 2]), ValueError, r"cross_entropy: expected target of shape \(2,\)"),
    (minigrad.tensor([0.0, 1.0]), RuntimeError, "integer dtype.*got float32"),
    (minigrad.tensor([[0, 1, 0], [1, 0, 0]]), RuntimeError,
     "floating point target for class probabilities"),
    (minigrad.zeros(2, 4), ValueError, r"expected target of shape \(2, 3\)"),
])
def test_cross_entropy_target_errors(target, error, message):
    with pytest.raises(error, match=message):
        L.cross_entropy(minigrad.zeros(2, 3), target)


def test_other_argument_errors():
    x = minigrad.zeros(2, 3)
    with pytest.raises(ValueError, match="reduction must be"):
        L.cross_entropy(x, minigrad.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between"):
        L.cross_entropy(x, minigrad.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight .* shape \(3,\)"):
        L.cross_entropy(x, minigrad.tensor([0, 1]), weight=minigrad.ones(2))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        L.cross_entropy(x, minigrad.zeros(2, 3), ignore_index=1)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target size \(3,\) must be "
                                         r"the same as input size \(2, 3\)"):
        L.binary_cross_entropy(x, minigrad.zeros(3))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        L.binary_cross_entropy(minigrad.tensor([1.5]), minigrad.tensor([1.0]))
    with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits: expected a "
                                           "floating point target"):
        L.binary_cross_entropy_with_logits(x, minigrad.zeros(2, 3, dtype=minigrad.int64))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) cannot be broadcast"):
        L.binary_cross_entropy_with_logits(x, x, pos_weight=minigrad.ones(2))
    with pytest.raises(RuntimeError, match="nll_loss: expected a floating point input"):
        L.nll_loss(minigrad.zeros(2, 3, dtype=minigrad.int64), minigrad.tensor([0, 1]))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        L.huber_loss(x, x, delta=0.0)
