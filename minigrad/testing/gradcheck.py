"""Gradient checks: compare autograd's gradients with central finite differences.

``gradcheck`` builds, for every pair (floating-point output, input that requires grad),
two Jacobians and compares them entry by entry:

* the *numerical* Jacobian, by central differences: each input element is moved by
  ``±eps`` in place and ``(f(x + eps) - f(x - eps)) / (2 eps)`` is one column;
* the *analytical* Jacobian, by reverse mode: one ``autograd.grad`` call per output
  element, with a one-hot ``grad_outputs``, gives one row.

``gradgradcheck`` runs ``gradcheck`` on the function that computes the first-order
gradients with ``create_graph=True``, which checks the second derivatives.

Both follow ``torch.autograd.gradcheck`` and ``torch.autograd.gradgradcheck``: the same
arguments, defaults and tolerance rule ``|analytical - numerical| <= atol + rtol *
|numerical|``.  Finite differences in float32 are too coarse for these tolerances, so
inputs that require grad must be float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import minigrad
from minigrad.backend import get_array_module

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

# Fixed, so that fast_mode and gradgradcheck draw the same random vectors on every run.
_SEED = 0
# Jacobians with at most this many entries are printed in full in error messages.
_MAX_PRINTED_ENTRIES = 100


class GradcheckError(RuntimeError):
    """A gradient check failed: an analytical gradient disagrees with finite differences.

    Raised by :func:`gradcheck` and :func:`gradgradcheck` when ``raise_exception=True``.
    The message names the output and the input of the failing pair, the worst element and
    both values there.

    Examples
    --------
    >>> from minigrad.testing import GradcheckError
    >>> issubclass(GradcheckError, RuntimeError)
    True
    """


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    nondet_tol: float = 0.0,
) -> bool:
    """Check the gradients of ``func`` against central finite differences.

    Parameters
    ----------
    func : callable
        Called as ``func(*inputs)``; returns a Tensor or a tuple of values.  Outputs that
        are not floating-point Tensors are ignored.
    inputs : Tensor or tuple
        The arguments of ``func``.  Tensors with ``requires_grad=True`` are the ones
        differentiated; they must be float64.  Anything else (Tensors without grad,
        numbers, strings...) is passed through unchanged.
    eps : float, optional
        The finite-difference step.
    atol, rtol : float, optional
        An entry passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.
    raise_exception : bool, optional
        If True (the default) a failure raises :class:`GradcheckError`; if False it
        returns False.
    fast_mode : bool, optional
        If False (the default) compare the full Jacobians, which costs two calls of
        ``func`` per input element and one backward per output element.  If True compare
        only ``vᵀ J u`` for fixed random vectors ``u`` (over each input) and ``v`` (over
        each output): two calls of ``func`` per input and one backward per output,
        whatever their sizes.  Use it for large inputs; the full check is the one that
        points to the wrong element.
    nondet_tol : float, optional
        Every backward is run twice; the two results may differ by at most this much
        (0: backward must be deterministic).

    Returns
    -------
    bool
        True when every check passes (False on failure if ``raise_exception=False``).

    Raises
    ------
    GradcheckError
        On a mismatch (when ``raise_exception=True``); also when a gradient has the
        wrong shape or dtype, when backward is not reentrant, or when ``func`` changed
        its inputs in place.
    ValueError
        If no input requires grad, or an input that requires grad is not float64.

    Notes
    -----
    The inputs' arrays are perturbed in place while the numerical Jacobian is computed
    (with grad mode off), and restored exactly afterwards, also when ``func`` raises.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.testing import gradcheck
    >>> x = minigrad.tensor([1.0, -2.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    >>> y = minigrad.tensor([0.5, 4.0, -1.0], dtype=minigrad.float64, requires_grad=True)
    >>> gradcheck(lambda a, b: (a * b * b).sum(), (x, y))
    True

    Arguments that are not Tensors are passed through:

    >>> gradcheck(lambda a, power: a**power, (x, 3))
    True

    A wrong backward is reported with the failing element:

    >>> class BadSquare(minigrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, a):
    ...         ctx.save_for_backward(a)
    ...         return a * a
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (a,) = ctx.saved_tensors
    ...         return grad * a  # should be grad * 2 * a
    >>> gradcheck(BadSquare.apply, (x,), raise_exception=False)
    False
    """
    return _gradcheck(
        func,
        inputs,
        name="gradcheck",
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        fast_mode=fast_mode,
        nondet_tol=nondet_tol,
    )


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    nondet_tol: float = 0.0,
) -> bool:
    """Check the second derivatives of ``func`` against finite differences.

    This runs :func:`gradcheck` on the first-order gradient function

    ``(*inputs, *grad_outputs) -> autograd.grad(func(*inputs), differentiable inputs,
    grad_outputs, create_graph=True, allow_unused=True)``

    (the ``None`` results of unused inputs dropped), so both the dependence of the
    gradients on the inputs and on ``grad_outputs`` is checked.

    Parameters
    ----------
    func : callable
        As for :func:`gradcheck`.
    inputs : Tensor or tuple
        As for :func:`gradcheck`; Tensors that require grad must be float64.
    grad_outputs : Tensor or tuple of Tensors, optional
        One upstream gradient for each output of ``func`` that requires grad.  If None,
        random float64 ones in ``[-1, 1)`` (from a fixed seed) with ``requires_grad=True``
        are used.
    eps, atol, rtol, raise_exception, fast_mode, nondet_tol
        As for :func:`gradcheck`.

    Returns
    -------
    bool
        True when every check passes, also when there is nothing to check (no
        differentiable output, or no first-order gradient at all).

    Raises
    ------
    GradcheckError, ValueError
        As :func:`gradcheck`.  Input indices in messages count ``inputs`` first and then
        ``grad_outputs``, and output ``k`` is the gradient of the ``k``-th input that has
        one.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.testing import gradgradcheck
    >>> x = minigrad.tensor([1.0, -2.0], dtype=minigrad.float64, requires_grad=True)
    >>> gradgradcheck(lambda a: (a**3).sum(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    _differentiable_indices(inputs, "gradgradcheck")
    if grad_outputs is None:
        with minigrad.enable_grad():
            outputs = [o for o in _as_tuple(func(*inputs)) if _is_differentiable_output(o)]
        rng = np.random.default_rng(_SEED)
        grad_outputs = tuple(
            _tensor_like(rng.uniform(-1.0, 1.0, size=o.shape), o, requires_grad=True)
            for o in outputs
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    num_grad_outputs = len(grad_outputs)
    if num_grad_outputs == 0:
        return True

    def first_order_gradients(*args):
        # gradcheck evaluates this under no_grad for finite differences, but computing a
        # gradient needs the graph of func: record it in any case.
        with minigrad.enable_grad():
            func_inputs = args[: len(args) - num_grad_outputs]
            upstream = args[len(args) - num_grad_outputs :]
            outputs = [o for o in _as_tuple(func(*func_inputs)) if _is_differentiable_output(o)]
            wrt = [x for x in func_inputs if _is_tensor(x) and x.requires_grad]
            grads = minigrad.autograd.grad(
                outputs, wrt, grad_outputs=upstream, create_graph=True, allow_unused=True
            )
        return tuple(g for g in grads if g is not None)

    all_inputs = inputs + grad_outputs
    if not first_order_gradients(*all_inputs):
        return True
    return _gradcheck(
        first_order_gradients,
        all_inputs,
        name="gradgradcheck",
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        fast_mode=fast_mode,
        nondet_tol=nondet_tol,
    )


# -- the check itself -----------------------------------------------------------------------


def _gradcheck(func, inputs, *, name, eps, atol, rtol, raise_exception, fast_mode, nondet_tol):
    inputs = _as_tuple(inputs)
    diff_indices = _differentiable_indices(inputs, name)
    check = _Check(name, eps, atol, rtol, nondet_tol)
    try:
        outputs = check.reference_call(func, inputs)
        positions = [k for k, o in enumerate(outputs) if _is_float_tensor(o)]
        if fast_mode:
            check.fast(func, inputs, outputs, diff_indices, positions)
        else:
            check.full(func, inputs, outputs, diff_indices, positions)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


class _Check:
    """The settings of one gradcheck run and its steps; failures raise GradcheckError."""

    def __init__(self, name: str, eps: float, atol: float, rtol: float, nondet_tol: float):
        self.name, self.eps, self.atol, self.rtol = name, eps, atol, rtol
        self.nondet_tol = nondet_tol
        self.nondeterminism = 0.0  # the largest difference seen between repeated backwards

    def reference_call(self, func, inputs) -> tuple:
        """Call ``func`` with grad mode on and check that it left its inputs alone."""
        before = {i: _to_numpy(x) for i, x in enumerate(inputs) if _is_tensor(x)}
        with minigrad.enable_grad():  # the analytical gradients need the graph
            outputs = _as_tuple(func(*inputs))
        for i, array in before.items():
            if not np.array_equal(array, _to_numpy(inputs[i]), equal_nan=True):
                raise GradcheckError(
                    f"{self.name}: the function modified input {i} in place; gradients can "
                    "only be checked for functions that leave their inputs unchanged (clone "
                    "the input before changing it)"
                )
        return outputs

    # -- full Jacobians --------------------------------------------------------------------

    def full(self, func, inputs, outputs, diff_indices, positions):
        out_shapes = {k: tuple(outputs[k].shape) for k in positions}
        analytical = self.analytical_jacobians(inputs, outputs, diff_indices, positions)
        del outputs  # the graph is not needed any more: free it before perturbing the inputs
        numerical = self.numerical_jacobians(func, inputs, diff_indices, positions, out_shapes)
        for (k, i), a in analytical.items():
            n = numerical[k, i]
            with _quiet_float_errors():  # inf and NaN entries are reported, not warned about
                tolerance = self.atol + self.rtol * np.abs(n)
                bad = ~(np.abs(a - n) <= tolerance)  # written so that NaN counts as a mismatch
                if bad.any():
                    message = self.mismatch_message(
                        k, i, a, n, bad, tolerance, out_shapes[k], inputs[i]
                    )
                    raise GradcheckError(message)
        self.check_reentrant()

    def analytical_jacobians(self, inputs, outputs, diff_indices, positions) -> dict:
        """Row ``r`` of ``J[k, i]`` is the gradient of element ``r`` of output ``k``."""
        jacobians = {}
        for k in positions:
            out = outputs[k]
            size = out.numel()
            rows = {i: np.zeros((size, inputs[i].numel())) for i in diff_indices}
            # An output that does not require grad has a zero analytical Jacobian: the
            # comparison then fails if it does depend on the inputs (a lost graph).
            if out.requires_grad:
                for r in range(size):
                    one_hot = np.zeros(size, dtype=out.dtype)
                    one_hot[r] = 1
                    grad_output = _tensor_like(one_hot.reshape(out.shape), out)
                    grads = self.vjp(out, inputs, diff_indices, grad_output)
                    for i, g in zip(diff_indices, grads):
                        rows[i][r] = g.ravel()
            for i in diff_indices:
                jacobians[k, i] = rows[i]
        return jacobians

    def numerical_jacobians(self, func, inputs, diff_indices, positions, out_shapes) -> dict:
        """Column ``c`` of ``J[k, i]``: the central difference for element ``c`` of input ``i``."""
        jacobians = {
            (k, i): np.zeros((_size(out_shapes[k]), inputs[i].numel()))
            for k in positions
            for i in diff_indices
        }
        with minigrad.no_grad():
            for i in diff_indices:
                data = inputs[i]._data
                for c in range(data.size):
                    index = np.unravel_index(c, data.shape)
                    original = data[index].item()
                    try:
                        data[index] = original + self.eps
                        plus = _evaluate(func, inputs, positions)
                        data[index] = original - self.eps
                        minus = _evaluate(func, inputs, positions)
                    finally:
                        data[index] = original  # a float64 round-trips exactly
                    with _quiet_float_errors():
                        for k, p, m in zip(positions, plus, minus):
                            jacobians[k, i][:, c] = ((p - m) / (2 * self.eps)).ravel()
        return jacobians

    # -- random projections ----------------------------------------------------------------

    def fast(self, func, inputs, outputs, diff_indices, positions):
        rng = np.random.default_rng(_SEED)
        u = {i: rng.standard_normal(size=inputs[i].shape) for i in diff_indices}
        v = {k: rng.standard_normal(size=outputs[k].shape) for k in positions}

        analytical = {}
        for k in positions:
            out = outputs[k]
            if out.requires_grad:
                grad_output = _tensor_like(v[k].astype(out.dtype), out)
                grads = self.vjp(out, inputs, diff_indices, grad_output)
            else:
                grads = [np.zeros(inputs[i].shape) for i in diff_indices]
            with _quiet_float_errors():
                for i, g in zip(diff_indices, grads):
                    analytical[k, i] = float(np.sum(g * u[i]))
        del outputs

        numerical = {}
        with minigrad.no_grad():
            for i in diff_indices:
                data = inputs[i]._data
                direction = get_array_module(data).asarray(u[i], dtype=data.dtype)
                original = data.copy()
                try:
                    data[...] = original + self.eps * direction
                    plus = _evaluate(func, inputs, positions)
                    data[...] = original - self.eps * direction
                    minus = _evaluate(func, inputs, positions)
                finally:
                    data[...] = original
                with _quiet_float_errors():
                    for k, p, m in zip(positions, plus, minus):
                        numerical[k, i] = float(np.sum((p - m) / (2 * self.eps) * v[k]))

        for (k, i), a in analytical.items():
            n = numerical[k, i]
            tolerance = self.atol + self.rtol * abs(n)
            if not abs(a - n) <= tolerance:
                raise GradcheckError(
                    f"{self.name} (fast_mode): mismatch for output {k} with respect to input "
                    f"{i}: for fixed random vectors u over input {i} and v over output {k},\n"
                    f"    analytical vᵀJu = {a!r}\n"
                    f"    numerical  vᵀJu = {n!r}\n"
                    f"    |analytical - numerical| = {abs(a - n):.3e} > atol + rtol * "
                    f"|numerical| = {tolerance:.3e} (eps={self.eps}, atol={self.atol}, "
                    f"rtol={self.rtol}).\n"
                    "Run with fast_mode=False to find the wrong element."
                )
        self.check_reentrant()

    # -- shared steps ----------------------------------------------------------------------

    def vjp(self, output, inputs, diff_indices, grad_output) -> list[np.ndarray]:
        """The gradients of ``sum(output * grad_output)``, as NumPy arrays (zeros if unused).

        Backward runs twice, to measure how far it is from deterministic.
        """
        first = self._vjp_once(output, inputs, diff_indices, grad_output)
        second = self._vjp_once(output, inputs, diff_indices, grad_output)
        for a, b in zip(first, second):
            if a.size:
                same = (a == b) | (np.isnan(a) & np.isnan(b))  # inf == inf counts as equal
                with _quiet_float_errors():
                    diff = np.where(same, 0.0, np.abs(a - b))
                worst = float(np.nan_to_num(diff.max(), nan=np.inf))
                self.nondeterminism = max(self.nondeterminism, worst)
        return first

    def _vjp_once(self, output, inputs, diff_indices, grad_output) -> list[np.ndarray]:
        wrt = [inputs[i] for i in diff_indices]
        grads = minigrad.autograd.grad(
            (output,), wrt, grad_outputs=(grad_output,), retain_graph=True, allow_unused=True
        )
        result = []
        for i, x, g in zip(diff_indices, wrt, grads):
            if g is None:
                result.append(np.zeros(x.shape))
                continue
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError(
                    f"{self.name}: the gradient of input {i} has shape {tuple(g.shape)}, but the "
                    f"input has shape {tuple(x.shape)}"
                )
            if g.dtype != x.dtype:
                raise GradcheckError(
                    f"{self.name}: the gradient of input {i} has dtype {g.dtype}, but the input "
                    f"has dtype {x.dtype}"
                )
            result.append(_to_numpy(g))
        return result

    def check_reentrant(self):
        if not self.nondeterminism <= self.nondet_tol:
            raise GradcheckError(
                f"{self.name}: backward is not reentrant: running it twice with the same "
                f"inputs and grad_outputs gave results that differ by up to "
                f"{self.nondeterminism:.3e}, more than nondet_tol={self.nondet_tol}. If the "
                "nondeterminism is expected, pass a larger nondet_tol."
            )

    def mismatch_message(self, k, i, a, n, bad, tolerance, out_shape, x) -> str:
        excess = np.abs(a - n) - tolerance
        excess = np.where(np.isnan(excess), np.inf, excess)
        row, col = np.unravel_index(int(np.argmax(excess)), a.shape)
        out_index = tuple(int(j) for j in np.unravel_index(row, out_shape))
        in_index = tuple(int(j) for j in np.unravel_index(col, tuple(x.shape)))
        worst_a, worst_n, worst_tol = float(a[row, col]), float(n[row, col]), tolerance[row, col]
        difference = abs(worst_a - worst_n)
        lines = [
            f"{self.name}: Jacobian mismatch for output {k} with respect to input {i}.",
            (
                f"The worst entry is the derivative of output {k} at index {out_index} "
                f"with respect to input {i} at index {in_index}:"
            ),
            f"    analytical = {worst_a!r}",
            f"    numerical  = {worst_n!r}",
            (
                f"    |analytical - numerical| = {difference:.3e} > {worst_tol:.3e} = tolerance"
                if np.isfinite(difference) and np.isfinite(worst_tol)
                else "    (NaN or infinity: never within tolerance)"
            ),
            (
                f"{int(bad.sum())} of {bad.size} entries are out of tolerance, atol + rtol * "
                f"|numerical| (eps={self.eps}, atol={self.atol}, rtol={self.rtol})."
            ),
        ]
        if a.size <= _MAX_PRINTED_ENTRIES:
            lines += [
                (
                    f"Analytical Jacobian (row: element of output {k}, column: element of "
                    f"input {i}, both flattened):"
                ),
                _format_matrix(a),
                "Numerical Jacobian:",
                _format_matrix(n),
            ]
        else:
            lines.append(f"The Jacobians have {a.size} entries each and are not printed.")
        return "\n".join(lines)


# -- helpers --------------------------------------------------------------------------------


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_tensor(x) -> bool:
    return isinstance(x, minigrad.Tensor)


def _is_float_tensor(x) -> bool:
    return _is_tensor(x) and np.issubdtype(x.dtype, np.floating)


def _is_differentiable_output(x) -> bool:
    return _is_float_tensor(x) and x.requires_grad


def _differentiable_indices(inputs: Sequence, name: str) -> list[int]:
    """The positions of the inputs that require grad; they must be float64."""
    indices = []
    for i, x in enumerate(inputs):
        if _is_tensor(x) and x.requires_grad:
            if x.dtype != np.float64:
                raise ValueError(
                    f"{name}: input {i} requires grad but has dtype {x.dtype}; finite "
                    "differences need float64 inputs (create it with dtype=minigrad.float64, "
                    "or call .double())"
                )
            indices.append(i)
    if not indices:
        raise ValueError(
            f"{name}: expected at least one input Tensor with requires_grad=True, got none"
        )
    return indices


def _to_numpy(t) -> np.ndarray:
    """A NumPy copy of a Tensor's values (never sharing memory with it)."""
    return np.array(t.detach().cpu().numpy(), copy=True)


def _tensor_like(array: np.ndarray, like, *, requires_grad: bool = False):
    """A Tensor holding ``array`` on the device of ``like``."""
    t = minigrad.tensor(array, dtype=array.dtype)
    if like.device != "cpu":
        t = t.to(like.device)
    if requires_grad:
        t.requires_grad_()
    return t


def _evaluate(func, inputs, positions) -> list[np.ndarray]:
    """The float64 values of the outputs of ``func(*inputs)`` at ``positions``."""
    outputs = _as_tuple(func(*inputs))
    return [np.asarray(_to_numpy(outputs[k]), dtype=np.float64) for k in positions]


def _quiet_float_errors() -> np.errstate:
    """Silence NumPy's warnings about inf and NaN in gradcheck's own arithmetic."""
    return np.errstate(invalid="ignore", over="ignore", divide="ignore")


def _size(shape: tuple) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _format_matrix(m: np.ndarray) -> str:
    # + 0.0 turns -0.0 (from products with a zero gradient) into 0.0, which reads better.
    return np.array2string(
        m + 0.0, precision=6, max_line_width=100, threshold=_MAX_PRINTED_ENTRIES + 1
    )
