r"""Loss functions with PyTorch's names, arguments, shapes and reductions.

Two Functions carry the losses that need care:

* ``SoftmaxCrossEntropy`` fuses log-softmax (by log-sum-exp) with the weighted negative
  log-likelihood of a *target distribution* :math:`q`, so no exponential can overflow and
  the backward is the short :math:`p \textstyle\sum_c q_c - q`.  Class-index targets,
  class weights, ``ignore_index`` and label smoothing are all folded into :math:`q` before
  the call, so one Function serves every form of ``cross_entropy``;
* ``BinaryCrossEntropy`` clamps its logarithms at -100 as PyTorch does, and gives a finite
  gradient at probabilities of exactly 0 or 1.

``NegLogLikelihood`` is the gather behind ``nll_loss``.  The regression losses (MSE, L1,
Huber, smooth L1) and ``binary_cross_entropy_with_logits`` are compositions of primitives
(the latter through softplus, which never overflows), so their gradients of every order
follow from the chain rule.

``reduction`` is ``'none'`` (the per-element loss), ``'sum'`` or ``'mean'``.  The deprecated
``size_average``/``reduce`` arguments are accepted where PyTorch still has them.
"""

from __future__ import annotations

import math
import warnings

import numpy

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.activation import log_softmax, softmax, softplus
from minigrad.ops.elementwise import abs, clamp, log, where
from minigrad.ops.shape import reshape, sum_to, unsqueeze
from minigrad.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


# -- the Functions ---------------------------------------------------------------------------
class SoftmaxCrossEntropy(ArrayFunction):
    r"""Cross-entropy of ``softmax(x)`` against a target distribution ``q``, along ``dim``.

    Math
    ----
    With :math:`m = \max_c x_c` and :math:`\log p_c = x_c - m - \ln \sum_j e^{x_j - m}`
    (log-sum-exp: every exponent is at most 0),

    .. math::

        \ell = -\sum_c q_c \log p_c, \qquad
        \frac{\partial \ell}{\partial x_c} = p_c \sum_j q_j - q_c, \qquad
        \frac{\partial \ell}{\partial q_c} = -\log p_c .

    ``q`` need not sum to 1: class weights and label smoothing scale it.  A zero entry of
    ``q`` contributes exactly 0, even where :math:`\log p_c = -\infty`.  The backward uses
    ``softmax`` and ``log_softmax`` (Functions with their own backwards), so
    ``create_graph=True`` gives second derivatives.
    """

    @staticmethod
    def forward(ctx, x, q, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(x, q)
        return -(q * xp.where(q != 0, log_p, 0)).sum(axis=dim).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, q = ctx.saved_tensors
        g = unsqueeze(grad, ctx.dim)
        gx = gq = None
        if ctx.needs_input_grad[0]:
            gx = g * (softmax(x, ctx.dim) * q.sum(ctx.dim, keepdim=True) - q)
        if ctx.needs_input_grad[1]:
            gq = -g * log_softmax(x, ctx.dim)
        return gx, gq, None


class NegLogLikelihood(ArrayFunction):
    r"""Negative log-likelihood: :math:`\ell = -\sum_c q_c x_c` along ``dim``, for a constant
    ``q`` (the target's one-hot row times its class weight, zero for ignored targets).

    Math: :math:`\bar x_c = -\bar\ell\, q_c`.  Entries with :math:`q_c = 0` contribute 0 even
    where :math:`x_c = -\infty` (the log of a zero probability), as PyTorch's gather does.
    """

    @staticmethod
    def forward(ctx, x, q, dim):
        xp = get_array_module(x)
        ctx.dim, ctx.q = dim, q
        return -(q * xp.where(q != 0, x, 0)).sum(axis=dim).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return -unsqueeze(grad, ctx.dim) * Tensor._make(ctx.q), None, None


class BinaryCrossEntropy(ArrayFunction):
    r"""Binary cross-entropy of probabilities ``x`` against targets ``t``, elementwise.

    Math
    ----
    With :math:`L(u) = \max(\ln u, -100)` (PyTorch's clamp: no infinite loss at 0 or 1),

    .. math::

        \ell = -w\,\bigl(t\,L(x) + (1 - t)\,L(1 - x)\bigr), \qquad
        \frac{\partial \ell}{\partial x} = w\,\frac{x - t}{\max(x(1 - x), 10^{-12})},

    .. math::

        \frac{\partial \ell}{\partial t} = w\,\bigl(L(1 - x) - L(x)\bigr), \qquad
        \frac{\partial \ell}{\partial w} = \ell / w .

    The gradient in :math:`x` is PyTorch's: the unclamped derivative with its denominator
    kept away from 0, so it stays finite at :math:`x \in \{0, 1\}`.
    """

    @staticmethod
    def forward(ctx, x, t, w):
        xp = get_array_module(x)
        log_x, log_1mx = _clamped_log(xp, x), _clamped_log(xp, 1 - x)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, w = ctx.saved_tensors
        g = grad if w is None else grad * w
        gx = gt = gw = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / clamp(x * (1 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * (clamp(log(1 - x), min=-100.0) - clamp(log(x), min=-100.0))
        if ctx.needs_input_grad[2]:
            unweighted = -(t * clamp(log(x), min=-100.0) + (1 - t) * clamp(log(1 - x), min=-100.0))
            gw = sum_to(grad * unweighted, w.shape)
        return gx, gt, gw


def _clamped_log(xp, u):
    """``max(log(u), -100)`` for ``u`` in [0, 1], with no divide-by-zero warning at 0."""
    positive = u > 0
    return xp.where(positive, xp.maximum(xp.log(xp.where(positive, u, 1)), -100), -100)


# -- argument checks shared by the losses ----------------------------------------------------
def _reduction(size_average, reduce, reduction: str, op: str) -> str:
    """The reduction to use, honouring PyTorch's deprecated ``size_average``/``reduce``."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            f"{op}: size_average and reduce are deprecated, please use reduction='mean', "
            "'sum' or 'none' instead",
            UserWarning,
            stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
    return reduction


def _reduce(loss, reduction: str):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _tensor(value, name: str, op: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")
    return value


def _floating_input(input, op: str) -> Tensor:
    _tensor(input, "input", op)
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    return input


def _same_float(target, input, name: str, op: str) -> Tensor:
    """``target`` (a floating Tensor) cast to the input's dtype."""
    _tensor(target, name, op)
    if target.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: expected a floating point {name} (like the input, {input.dtype}), "
            f"got {target.dtype} (input shape {input.shape}, {name} shape {target.shape})"
        )
    return target if target.dtype == input.dtype else target.to(input.dtype)


def _elementwise_pair(input, target, op: str):
    """Input and target of a regression loss; differing shapes broadcast with a warning."""
    _floating_input(input, op)
    _tensor(target, "target", op)
    if target.shape != input.shape:
        try:
            numpy.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(
                f"{op}: the target shape {target.shape} does not match and cannot be "
                f"broadcast with the input shape {input.shape}"
            ) from None
        warnings.warn(
            f"{op}: using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}); this will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return input, target


def _class_dim(input, op: str) -> int:
    """Classes are along dim 0 of an unbatched (C,) input, else along dim 1."""
    if input.ndim == 0:
        raise ValueError(
            f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )
    return 0 if input.ndim == 1 else 1


def _class_weight(weight, input, dim: int, op: str):
    """The class weights as an array, or None; they must be a floating (C,) tensor."""
    if weight is None:
        return None
    _tensor(weight, "weight", op)
    classes = input.shape[dim]
    if weight.shape != (classes,) or weight.dtype.kind != "f":
        raise ValueError(
            f"{op}: expected weight to be a floating tensor of shape ({classes},) (one per "
            f"class of input {input.shape}), got shape {weight.shape} of {weight.dtype}"
        )
    return weight._data


def _index_target(input, target, dim: int, op: str):
    """Check a class-index target against the input: integer dtype, the input's shape
    without its class dimension."""
    _tensor(target, "target", op)
    expected = input.shape[:dim] + input.shape[dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} (class indices) or {input.shape} "
            f"(class probabilities) for input of shape {input.shape}, got {target.shape}"
        )
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected class-index target of an integer dtype (int64) for input "
            f"{input.shape} and target {target.shape}, got {target.dtype}"
        )
    return target._data


def _index_distribution(x, t, w, ignore_index: int, smoothing: float, dim: int, op: str,
                        shapes: tuple):
    r"""The target distribution :math:`q` of class-index targets, and its total weight.

    Row :math:`i` of :math:`q` is :math:`w_c\,((1-\varepsilon)[c = y_i] + \varepsilon / C)`,
    or 0 where :math:`y_i` is ``ignore_index``; the total weight
    :math:`\sum_{i \text{ not ignored}} w_{y_i}` is what ``reduction='mean'`` divides by.
    """
    xp = get_array_module(x)
    classes = x.shape[dim]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bool(bad.any()):
        value = int(t[bad].ravel()[0])
        raise IndexError(
            f"{op}: target {value} is out of bounds for {classes} classes (expected class "
            f"indices in [0, {classes - 1}] or ignore_index={ignore_index}; input shape "
            f"{shapes[0]}, target shape {shapes[1]})"
        )
    safe = xp.where(valid, t, 0)
    along = [1] * x.ndim
    along[dim] = classes
    one_hot = xp.expand_dims(safe, dim) == xp.arange(classes).reshape(along)
    q = one_hot.astype(x.dtype)
    if smoothing > 0:
        q = q * (1 - smoothing) + smoothing / classes
    if w is not None:
        q = q * w.astype(x.dtype).reshape(along)
        total = (w[safe] * valid).sum()
    else:
        total = valid.sum()
    q = q * xp.expand_dims(valid, dim)
    return q.astype(x.dtype, copy=False), float(total)


def _divide(loss_sum, count: float):
    """``loss_sum / count``; NaN for a count of 0 (as PyTorch's 0/0), with no warning."""
    return loss_sum * (1.0 / count) if count else loss_sum * math.nan


# -- cross-entropy and NLL -------------------------------------------------------------------
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    r"""Cross-entropy between the logits ``input`` and ``target``, as ``torch.nn.functional``.

    Parameters
    ----------
    input : Tensor
        Unnormalised logits of shape (C,), (N, C) or (N, C, d1, ...).
    target : Tensor
        Class indices (an integer tensor of shape (), (N,) or (N, d1, ...)), or class
        probabilities (a floating tensor of the input's shape).
    weight : Tensor, optional
        A rescaling weight per class, shape (C,).
    ignore_index : int
        A class-index target equal to it contributes nothing (not to the mean's divisor
        either).  Not supported with probability targets.
    reduction : {'none', 'mean', 'sum'}
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: :math:`(1-\varepsilon) y +
        \varepsilon / C`.

    Math
    ----
    With :math:`\log p = \mathrm{log\_softmax}(x)` along the class dimension and the target
    distribution

    .. math::

        q_{ic} = w_c\,\bigl((1-\varepsilon)\,[c = y_i] + \varepsilon / C\bigr)
        \quad\text{(indices; 0 if } y_i \text{ is ignored)}, \qquad
        q_{ic} = w_c\,\bigl((1-\varepsilon)\,t_{ic} + \varepsilon / C\bigr)
        \quad\text{(probabilities)},

    the loss of sample :math:`i` is :math:`\ell_i = -\sum_c q_{ic} \log p_{ic}` (one fused
    ``SoftmaxCrossEntropy``).  ``'mean'`` divides :math:`\sum_i \ell_i` by
    :math:`\sum_{i \text{ not ignored}} w_{y_i}` for indices (PyTorch's weighted mean, for the
    smoothing term too) and by the number of samples :math:`N d_1 \cdots` for probabilities.
    """
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    _floating_input(input, op)
    _tensor(target, "target", op)
    dim = _class_dim(input, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    classes = input.shape[dim]
    w = _class_weight(weight, input, dim, op)

    if target.ndim == input.ndim:  # class probabilities
        if target.shape != input.shape:
            raise ValueError(
                f"{op}: expected target of shape {input.shape} (class probabilities) or "
                f"{input.shape[:dim] + input.shape[dim + 1:]} (class indices) for input of "
                f"shape {input.shape}, got {target.shape}"
            )
        if target.dtype.kind != "f":
            raise RuntimeError(
                f"{op}: expected a floating point target for class probabilities (target "
                f"shape {target.shape} equals the input's), got {target.dtype}"
            )
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets")
        q = _same_float(target, input, "target", op)
        if label_smoothing > 0:
            q = q * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            along = [1] * input.ndim
            along[dim] = classes
            q = q * reshape(weight.to(input.dtype), tuple(along))
        loss = SoftmaxCrossEntropy.apply(input, q, dim)
        if reduction == "mean":
            return _divide(loss.sum(), input.numel() // classes if classes else 0)
        return _reduce(loss, reduction)

    t = _index_target(input, target, dim, op)
    q, total = _index_distribution(
        input._data, t, w, ignore_index, label_smoothing, dim, op, (input.shape, target.shape)
    )
    loss = SoftmaxCrossEntropy.apply(input, Tensor._make(q), dim)
    if reduction == "mean":
        return _divide(loss.sum(), total)
    return _reduce(loss, reduction)


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    r"""Negative log-likelihood of class-index targets, given log-probabilities ``input``.

    Math: :math:`\ell_i = -w_{y_i} x_{i, y_i}` (0 where :math:`y_i` is ``ignore_index``);
    ``'mean'`` divides :math:`\sum_i \ell_i` by :math:`\sum_{i \text{ not ignored}} w_{y_i}`.
    Shapes as ``cross_entropy`` with index targets: input (C,), (N, C) or (N, C, d1, ...).
    """
    op = "nll_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    _floating_input(input, op)
    dim = _class_dim(input, op)
    w = _class_weight(weight, input, dim, op)
    t = _index_target(input, target, dim, op)
    q, total = _index_distribution(
        input._data, t, w, ignore_index, 0.0, dim, op, (input.shape, target.shape)
    )
    loss = NegLogLikelihood.apply(input, q, dim)
    if reduction == "mean":
        return _divide(loss.sum(), total)
    return _reduce(loss, reduction)


# -- binary cross-entropy --------------------------------------------------------------------
def _binary_pair(input, target, op: str):
    _floating_input(input, op)
    _tensor(target, "target", op)
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: target size {target.shape} must be the same as input size {input.shape}"
        )
    return _same_float(target, input, "target", op)


def _broadcast_weight(weight, input, name: str, op: str):
    if weight is None:
        return None
    weight = _same_float(weight, input, name, op)
    try:
        fits = numpy.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{op}: {name} of shape {weight.shape} cannot be broadcast to the input shape "
            f"{input.shape}"
        )
    return weight


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
):
    r"""Binary cross-entropy between probabilities ``input`` (in [0, 1]) and ``target``.

    Math: :math:`\ell = -w\,(t \max(\ln x, -100) + (1-t) \max(\ln(1-x), -100))`; see
    ``BinaryCrossEntropy`` for the gradients.  ``weight`` broadcasts to the input's shape.
    """
    op = "binary_cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    target = _binary_pair(input, target, op)
    weight = _broadcast_weight(weight, input, "weight", op)
    x = input._data
    if bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError(
            f"{op}: all elements of input should be between 0 and 1 (input shape {input.shape})"
        )
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
):
    r"""Binary cross-entropy of ``sigmoid(input)`` against ``target``, computed stably.

    Math
    ----
    With :math:`-\ln \sigma(x) = \mathrm{softplus}(-x)` and
    :math:`-\ln(1 - \sigma(x)) = \mathrm{softplus}(x)`,

    .. math::

        \ell = w\,\bigl(p\,t\,\mathrm{softplus}(-x) + (1 - t)\,\mathrm{softplus}(x)\bigr),
        \qquad \frac{\partial \ell}{\partial x} = w\,\bigl((p t + 1 - t)\,\sigma(x) - p t\bigr),

    where softplus is :math:`\max(x, 0) + \ln(1 + e^{-|x|})` (never overflows, exact at
    :math:`\pm 10^4`) and the gradient follows by the chain rule.  ``pos_weight``
    :math:`p` weighs the positive term per class (it broadcasts along the last dimension);
    ``weight`` :math:`w` broadcasts to the input's shape.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(size_average, reduce, reduction, op)
    target = _binary_pair(input, target, op)
    weight = _broadcast_weight(weight, input, "weight", op)
    pos_weight = _broadcast_weight(pos_weight, input, "pos_weight", op)
    inf = float("inf")  # threshold: always the log1p branch of softplus, exact everywhere
    positive = target * softplus(-input, 1.0, inf)
    if pos_weight is not None:
        positive = positive * pos_weight
    loss = positive + (1 - target) * softplus(input, 1.0, inf)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- regression losses -----------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    r"""Mean squared error. Math: :math:`\ell = (x - y)^2`, :math:`\bar x = 2 (x - y)\,\bar\ell`."""
    op = "mse_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input, target = _elementwise_pair(input, target, op)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    r"""Mean absolute error. Math: :math:`\ell = |x - y|`,
    :math:`\bar x = \mathrm{sign}(x - y)\,\bar\ell` (0 at a tie, as PyTorch)."""
    op = "l1_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input, target = _elementwise_pair(input, target, op)
    return _reduce(abs(input - target), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    r"""Huber loss: quadratic near 0, linear beyond ``delta``.

    Math: with :math:`d = x - y`, :math:`\ell = \tfrac12 d^2` if :math:`|d| < \delta`, else
    :math:`\delta\,(|d| - \tfrac12 \delta)`; :math:`\bar x = \bar\ell\,d` or
    :math:`\bar\ell\,\delta\,\mathrm{sign}(d)`.
    """
    op = "huber_loss"
    reduction = _reduction(None, None, reduction, op)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    input, target = _elementwise_pair(input, target, op)
    d = input - target
    size = abs(d)
    return _reduce(where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta)), reduction)


def smooth_l1_loss(
    input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
):
    r"""Smooth L1 loss: Huber divided by ``beta``.

    Math: with :math:`d = x - y`, :math:`\ell = \tfrac12 d^2 / \beta` if :math:`|d| < \beta`,
    else :math:`|d| - \tfrac12 \beta`; ``beta=0`` is the L1 loss.
    """
    op = "smooth_l1_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    input, target = _elementwise_pair(input, target, op)
    d = input - target
    size = abs(d)
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size < beta, (0.5 / beta) * d * d, size - 0.5 * beta), reduction)
