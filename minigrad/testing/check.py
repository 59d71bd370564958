"""``check_op``: the whole contract of a differentiable op, checked in one call.

An op test then reads as a declaration: draw inputs with ``minigrad.testing.strategies``
and hand them, the op and a NumPy reference to ``check_op``.
"""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad.testing.gradcheck import gradcheck, gradgradcheck


def check_op(
    op, reference, *inputs, second_order=True, value_rtol=0.0, value_atol=0.0, **gradcheck_kwargs
):
    """Check ``op(*inputs)`` against ``reference`` and its gradients against finite differences.

    In order:

    1. each output equals ``reference(*arrays)`` (computed on copies of the inputs' arrays) in
       shape, dtype and value, within ``value_rtol``/``value_atol`` (exact by default);
    2. the op did not modify its inputs;
    3. ``backward`` fills each input's ``.grad`` with its shape, and the gradient does not share
       memory with the upstream gradient that was passed in;
    4. ``gradcheck`` (and ``gradgradcheck`` unless ``second_order=False``) pass; other keyword
       arguments (``eps``, ``atol``, ``rtol``) go to both, e.g. ``check_op(..., eps=1e-7)``.

    Inputs that take part in the gradient checks must be float64 tensors with
    ``requires_grad=True``.  Raises ``AssertionError`` (or ``GradcheckError``) on failure.

    Examples
    --------
    >>> import numpy as np, minigrad
    >>> from minigrad.testing import check_op
    >>> x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=minigrad.float64, requires_grad=True)
    >>> check_op(lambda t: t.exp().sum(0), lambda a: np.exp(a).sum(0), x, value_rtol=1e-12)
    """
    arrays = [x.detach().numpy().copy() for x in inputs]
    outputs, expected = op(*inputs), reference(*arrays)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(outputs) == len(expected), f"{len(outputs)} outputs, {len(expected)} expected"
    for out, ref in zip(outputs, expected):
        ref = np.asarray(ref)
        assert out.shape == ref.shape and out.dtype == ref.dtype, (out, ref)
        np.testing.assert_allclose(out.detach().numpy(), ref, rtol=value_rtol, atol=value_atol)
    for x, a in zip(inputs, arrays):
        np.testing.assert_array_equal(x.detach().numpy(), a, err_msg="the op changed its input")
    differentiable = [o for o in outputs if o.requires_grad]
    upstream = [minigrad.tensor(np.ones(o.shape), dtype=o.dtype) for o in differentiable]
    minigrad.autograd.backward(differentiable, upstream)
    for x in inputs:
        assert x.grad is not None and x.grad.shape == x.shape
        assert all(not np.shares_memory(x.grad.numpy(), g.numpy()) for g in upstream)
        x.grad = None
    assert gradcheck(op, inputs, **gradcheck_kwargs)
    if second_order:
        assert gradgradcheck(op, inputs, **gradcheck_kwargs)
